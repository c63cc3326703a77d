//! Deciding a person's team from their Keycloak groups, at every sign-in
//! and every directory sync, with the policy for people no mapping covers.

use super::team_mapping::{TeamAssignment, TeamDecision, decide};
use crate::store::{Store, StoreError};

pub const DEFAULT_TEAM_ID: &str = "default";
const UNMAPPED_POLICY_SETTING: &str = "unmapped_users";

/// What happens to someone whose groups no mapping covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmappedPolicy {
    /// They join the `default` team.
    DefaultTeam,
    /// They are refused.
    Refuse,
}

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("none of your Keycloak groups gives you a team here")]
    NotInAnyTeam,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn unmapped_policy(store: &Store) -> Result<UnmappedPolicy, StoreError> {
    Ok(
        match store.setting(UNMAPPED_POLICY_SETTING).await?.as_deref() {
            Some("refuse") => UnmappedPolicy::Refuse,
            _ => UnmappedPolicy::DefaultTeam,
        },
    )
}

pub async fn set_unmapped_policy(store: &Store, policy: UnmappedPolicy) -> Result<(), StoreError> {
    let value = match policy {
        UnmappedPolicy::DefaultTeam => "default_team",
        UnmappedPolicy::Refuse => "refuse",
    };
    store.put_setting(UNMAPPED_POLICY_SETTING, value).await?;
    store.bump_access_revision().await
}

/// The team for someone in `groups` (`None`: the claim was absent).
///
/// Keycloak's group mapper leaves the claim out for a person in no group,
/// so an absent claim counts as no groups here; a missing mapper shows up
/// as everyone being unmapped, and the log says so.
pub async fn assignment_for(
    store: &Store,
    groups: Option<&[String]>,
) -> Result<TeamAssignment, TeamError> {
    let mappings = store.group_mappings().await?;
    let default = TeamAssignment {
        team_id: DEFAULT_TEAM_ID.into(),
        source: "default".into(),
        choices: Vec::new(),
    };
    if mappings.is_empty() {
        return Ok(default);
    }
    let groups = groups.unwrap_or_else(|| {
        tracing::warn!(
            "no groups claim while teams are mapped from groups: the person is in no group, or \
             the client lacks a Group Membership mapper"
        );
        &[]
    });
    match decide(&mappings, groups) {
        TeamDecision::Mapped { team_id, choices } => Ok(TeamAssignment {
            team_id,
            source: "mapping".into(),
            choices,
        }),
        TeamDecision::Unmapped => match unmapped_policy(store).await? {
            UnmappedPolicy::DefaultTeam => Ok(default),
            UnmappedPolicy::Refuse => Err(TeamError::NotInAnyTeam),
        },
    }
}

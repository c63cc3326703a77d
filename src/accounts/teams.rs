//! Deciding a person's team from their Keycloak groups, at every sign-in
//! and every directory sync, with the policy for people no mapping covers.

use super::team_mapping::{GroupMapping, TeamAssignment, TeamDecision, decide};
use crate::crypto::random_alphanumeric;
use crate::keycloak::SignedInIdentity;
use crate::store::{NewUser, Store, StoreError};

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

/// The mapping table and the unmapped policy, read once and applied to
/// many people (a directory sync) or one (a sign-in).
pub struct TeamRules {
    mappings: Vec<GroupMapping>,
    policy: UnmappedPolicy,
}

impl TeamRules {
    pub fn new(mappings: Vec<GroupMapping>, policy: UnmappedPolicy) -> Self {
        Self { mappings, policy }
    }

    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        Ok(Self {
            mappings: store.group_mappings().await?,
            policy: unmapped_policy(store).await?,
        })
    }

    /// The team for someone in `groups` (`None`: the claim was absent).
    ///
    /// Keycloak's group mapper leaves the claim out for a person in no
    /// group, so an absent claim counts as no groups here; a missing mapper
    /// shows up as everyone being unmapped, and the log says so.
    pub fn assign(&self, groups: Option<&[String]>) -> Result<TeamAssignment, TeamError> {
        let default = TeamAssignment {
            team_id: DEFAULT_TEAM_ID.into(),
            source: "default".into(),
            choices: Vec::new(),
        };
        if self.mappings.is_empty() {
            return Ok(default);
        }
        let groups = groups.unwrap_or_else(|| {
            tracing::warn!(
                "no groups claim while teams are mapped from groups: the person is in no group, \
                 or the client lacks a Group Membership mapper"
            );
            &[]
        });
        match decide(&self.mappings, groups) {
            TeamDecision::Mapped { team_id, choices } => Ok(TeamAssignment {
                team_id,
                source: "mapping".into(),
                choices,
            }),
            TeamDecision::Unmapped => match self.policy {
                UnmappedPolicy::DefaultTeam => Ok(default),
                UnmappedPolicy::Refuse => Err(TeamError::NotInAnyTeam),
            },
        }
    }
}

/// The team for someone in `groups`, with the rules as stored now.
pub async fn assignment_for(
    store: &Store,
    groups: Option<&[String]>,
) -> Result<TeamAssignment, TeamError> {
    TeamRules::load(store).await?.assign(groups)
}

/// The account record for someone Keycloak just vouched for, team included; the store keeps the
/// existing id when (issuer, subject) is already known.
pub async fn account_for(store: &Store, identity: &SignedInIdentity) -> Result<NewUser, TeamError> {
    Ok(NewUser {
        id: random_alphanumeric(16).to_ascii_lowercase(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        username: identity.username.clone(),
        email: identity.email.clone(),
        display_name: identity.display_name.clone(),
        team: assignment_for(store, identity.groups.as_deref()).await?,
        group_paths: identity.groups.clone(),
    })
}

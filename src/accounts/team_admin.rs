//! What an administrator changes about teams: their rules (models, rate
//! limits) and which Keycloak groups lead to them. The console and
//! `/admin/api` both come here, so both check the same things.

use super::team_mapping::{GroupMapping, normalize_group_path};
use super::teams::{self, UnmappedPolicy};
use crate::app::AppState;
use crate::store::{StoreError, TeamRecord, TeamRules};

const MAX_NAME: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TeamAdminError {
    #[error("a team name is 1 to {MAX_NAME} characters, without slashes")]
    BadName,
    #[error("rate limits cannot be negative")]
    NegativeLimit,
    #[error("model names cannot be empty")]
    EmptyModel,
    #[error("the default {kind} model \"{model}\" is not among the team's allowed models")]
    DefaultNotAllowed { kind: &'static str, model: String },
    #[error("group_path must name a group, e.g. /engineering/backend")]
    BadGroupPath,
    #[error("no team named \"{0}\"; create it first")]
    NoSuchTeam(String),
    #[error("no mapping for group \"{0}\"")]
    NoSuchMapping(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates the team `name` or replaces its rules; in force at once.
pub async fn save_team(
    app: &AppState,
    name: &str,
    rules: TeamRules,
) -> Result<TeamRecord, TeamAdminError> {
    let name = name.trim();
    check_team(name, &rules)?;
    let team = app.store.put_team(name, &rules).await?;
    app.gateway.changed().await?;
    tracing::info!(team = %name, "team rules saved");
    Ok(team)
}

fn check_team(name: &str, rules: &TeamRules) -> Result<(), TeamAdminError> {
    if name.is_empty() || name.chars().count() > MAX_NAME || name.contains('/') {
        return Err(TeamAdminError::BadName);
    }
    if rules.requests_per_minute.is_some_and(|v| v < 0)
        || rules.tokens_per_minute.is_some_and(|v| v < 0)
    {
        return Err(TeamAdminError::NegativeLimit);
    }
    let Some(allowed) = &rules.allowed_models else {
        return Ok(());
    };
    if allowed.iter().any(|m| m.trim().is_empty()) {
        return Err(TeamAdminError::EmptyModel);
    }
    let defaults = [
        ("completion", &rules.default_completion_model),
        ("chat", &rules.default_chat_model),
    ];
    for (kind, model) in defaults {
        if let Some(model) = model
            && !allowed.contains(model)
        {
            return Err(TeamAdminError::DefaultNotAllowed {
                kind,
                model: model.clone(),
            });
        }
    }
    Ok(())
}

/// Maps the Keycloak group `group_path` to `team`; applies from the next
/// sign-in or directory sync on.
pub async fn save_mapping(
    app: &AppState,
    group_path: &str,
    team: &str,
    priority: i64,
) -> Result<GroupMapping, TeamAdminError> {
    let mapping = GroupMapping {
        group_path: normalize_group_path(group_path).ok_or(TeamAdminError::BadGroupPath)?,
        team_id: team.trim().to_owned(),
        priority,
    };
    if !app.store.put_group_mapping(&mapping).await? {
        return Err(TeamAdminError::NoSuchTeam(mapping.team_id));
    }
    app.store.bump_access_revision().await?;
    tracing::info!(group_path = %mapping.group_path, team = %mapping.team_id, priority, "group mapping saved");
    Ok(mapping)
}

pub async fn remove_mapping(app: &AppState, group_path: &str) -> Result<(), TeamAdminError> {
    let path = normalize_group_path(group_path).unwrap_or_default();
    if !app.store.delete_group_mapping(&path).await? {
        return Err(TeamAdminError::NoSuchMapping(path));
    }
    app.store.bump_access_revision().await?;
    tracing::info!(group_path = %path, "group mapping removed");
    Ok(())
}

pub async fn set_unmapped_policy(
    app: &AppState,
    policy: UnmappedPolicy,
) -> Result<(), TeamAdminError> {
    teams::set_unmapped_policy(&app.store, policy).await?;
    tracing::info!(?policy, "policy for people without a mapped team saved");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allowed: Option<&[&str]>, chat: Option<&str>) -> TeamRules {
        TeamRules {
            allowed_models: allowed.map(|a| a.iter().map(|m| (*m).to_owned()).collect()),
            default_chat_model: chat.map(str::to_owned),
            ..TeamRules::default()
        }
    }

    #[test]
    fn names_and_limits_are_checked() {
        assert!(check_team("backend", &TeamRules::default()).is_ok());
        for bad in ["", "a/b", &"x".repeat(65)] {
            assert!(matches!(
                check_team(bad, &TeamRules::default()),
                Err(TeamAdminError::BadName)
            ));
        }
        let negative = TeamRules {
            tokens_per_minute: Some(-1),
            ..TeamRules::default()
        };
        assert!(matches!(
            check_team("t", &negative),
            Err(TeamAdminError::NegativeLimit)
        ));
    }

    #[test]
    fn defaults_must_be_allowed_models() {
        assert!(check_team("t", &rules(Some(&["a", "b"]), Some("b"))).is_ok());
        assert!(check_team("t", &rules(None, Some("anything"))).is_ok());
        assert!(matches!(
            check_team("t", &rules(Some(&["a"]), Some("b"))),
            Err(TeamAdminError::DefaultNotAllowed { kind: "chat", .. })
        ));
        assert!(matches!(
            check_team("t", &rules(Some(&["a", " "]), None)),
            Err(TeamAdminError::EmptyModel)
        ));
    }
}

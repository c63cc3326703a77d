//! What an administrator does to one person: choose their team or hand it
//! back to the group mapping, revoke or rotate their key, shut them out or
//! let them back in. The console and `/admin/api` both come here, and each
//! change is in force on the gateway's very next request.

use super::teams::{TeamError, TeamRules};
use crate::app::AppState;
use crate::store::{StoreError, UserRecord, now_millis};

/// The latest expiry an administrator may give a key: ten years ahead.
const MAX_KEY_VALIDITY_MS: i64 = 10 * 365 * 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum UserAdminError {
    #[error("no team named \"{0}\"")]
    NoSuchTeam(String),
    #[error("no group mapping gives this person a team, and people without one are refused")]
    Unmapped,
    #[error("{0}")]
    BadExpiry(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Puts `user` in `team` by an administrator's choice, which outlasts
/// sign-ins and directory syncs until handed back to the mapping.
pub async fn choose_team(
    app: &AppState,
    user: &UserRecord,
    team: &str,
) -> Result<(), UserAdminError> {
    let team = team.trim();
    if !app.store.set_user_team(&user.id, team, "admin").await? {
        return Err(UserAdminError::NoSuchTeam(team.to_owned()));
    }
    app.gateway.changed().await?;
    tracing::info!(user_id = %user.id, team = %team, "team chosen by an administrator");
    Ok(())
}

/// Ends an administrator's choice: the user's team comes from their
/// Keycloak groups (as last seen) and the mapping again, at once.
pub async fn follow_mapping(app: &AppState, user: &UserRecord) -> Result<(), UserAdminError> {
    let rules = TeamRules::load(&app.store).await?;
    let assignment = rules
        .assign(Some(&user.group_paths))
        .map_err(|err| match err {
            TeamError::NotInAnyTeam => UserAdminError::Unmapped,
            TeamError::Store(err) => UserAdminError::Store(err),
        })?;
    app.store.assign_team(&user.id, &assignment).await?;
    app.gateway.changed().await?;
    tracing::info!(user_id = %user.id, team = %assignment.team_id, "team handed back to the group mapping");
    Ok(())
}

/// Revokes every key of `user`; returns how many were usable.
pub async fn revoke_key(app: &AppState, user: &UserRecord) -> Result<u64, UserAdminError> {
    let revoked = app.store.revoke_keys(&user.id).await?;
    app.gateway.changed().await?;
    tracing::info!(user_id = %user.id, revoked, "plugin keys revoked by an administrator");
    Ok(revoked)
}

/// Replaces the key of `user` with a new one that only its owner will see;
/// it expires at `expires_at` (unix milliseconds) or, when `None`, after
/// the server's key lifetime. Returns the new key's public id and expiry.
pub async fn rotate_key(
    app: &AppState,
    user: &UserRecord,
    expires_at: Option<i64>,
) -> Result<RotatedKey, UserAdminError> {
    let issued = match expires_at {
        Some(at) => {
            check_expiry(at, now_millis())?;
            app.keys.issue_until(Some(at))
        }
        None => app.keys.issue(),
    };
    app.store.rotate_key(&user.id, &issued.record).await?;
    app.gateway.changed().await?;
    tracing::info!(user_id = %user.id, key_id = %issued.record.id, "plugin key rotated by an administrator");
    Ok(RotatedKey {
        id: issued.record.id,
        expires_at: issued.record.expires_at,
    })
}

/// The public facts of a key just issued by rotation.
pub struct RotatedKey {
    pub id: String,
    /// Unix milliseconds; `None`: it does not expire.
    pub expires_at: Option<i64>,
}

/// Shuts `user` out (keys refused, sessions ended) or lets them back in.
pub async fn set_disabled(
    app: &AppState,
    user: &UserRecord,
    disabled: bool,
) -> Result<(), UserAdminError> {
    app.store
        .set_user_disabled(&user.id, disabled, "admin")
        .await?;
    app.gateway.changed().await?;
    tracing::info!(user_id = %user.id, disabled, "user access changed by an administrator");
    Ok(())
}

fn check_expiry(at: i64, now: i64) -> Result<(), UserAdminError> {
    if at <= now {
        return Err(UserAdminError::BadExpiry(
            "the key's expiry must be in the future",
        ));
    }
    if at - now > MAX_KEY_VALIDITY_MS {
        return Err(UserAdminError::BadExpiry(
            "the key's expiry must be within ten years",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_must_be_ahead_and_within_ten_years() {
        let now = 1_000_000;
        assert!(check_expiry(now + 1, now).is_ok());
        assert!(check_expiry(now, now).is_err());
        assert!(check_expiry(now - 5, now).is_err());
        assert!(check_expiry(now + MAX_KEY_VALIDITY_MS, now).is_ok());
        assert!(check_expiry(now + MAX_KEY_VALIDITY_MS + 1, now).is_err());
    }
}

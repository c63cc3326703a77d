//! Why reading Keycloak's directory failed: one variant per cause an administrator can act on,
//! a stable code for each, and the fix in the words of Keycloak's admin console. Neither the
//! messages nor the fixes ever contain a token or the client secret.

use crate::keycloak::SettingsError;

/// A failed read of Keycloak's directory. `Display` is for logs; [`DirectoryError::fix`] says
/// what to change.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("Keycloak settings are incomplete: {0}")]
    Settings(#[from] SettingsError),
    #[error("Keycloak at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Keycloak has no realm {realm:?} at {url}")]
    RealmNotFound { realm: String, url: String },
    #[error("Keycloak rejected the credentials of client {client_id:?} ({description})")]
    InvalidClient {
        client_id: String,
        description: String,
    },
    #[error("client {client_id:?} may not use a service account ({description})")]
    ServiceAccountDisabled {
        client_id: String,
        description: String,
    },
    #[error("the service account of client {client_id:?} may not read users (HTTP 403 for {path})")]
    MissingViewUsers { client_id: String, path: String },
    #[error("Keycloak refused the token request with HTTP {status} for {path}: {detail}")]
    TokenRefused {
        client_id: String,
        status: u16,
        path: String,
        detail: String,
    },
    #[error("Keycloak answered HTTP {status} for {path}")]
    KeycloakStatus { status: u16, path: String },
    #[error("Keycloak's answer for {path} is unusable: {detail}")]
    MalformedAnswer { path: String, detail: String },
    #[error("the directory is too large: more than {limit} {what}")]
    TooLarge { what: &'static str, limit: usize },
    #[error("the directory changed while it was read ({path})")]
    Changed { path: String },
}

impl DirectoryError {
    /// A stable identifier for the kind of failure, for the console, logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Settings(_) => "settings_invalid",
            Self::Unreachable { .. } => "keycloak_unreachable",
            Self::RealmNotFound { .. } => "realm_not_found",
            Self::InvalidClient { .. } => "invalid_client",
            Self::ServiceAccountDisabled { .. } => "service_account_disabled",
            Self::MissingViewUsers { .. } => "missing_view_users",
            Self::TokenRefused { .. } | Self::KeycloakStatus { .. } => "keycloak_error",
            Self::MalformedAnswer { .. } => "malformed_answer",
            Self::TooLarge { .. } => "directory_too_large",
            Self::Changed { .. } => "directory_changed",
        }
    }

    /// What to change, and where, for this failure to go away.
    pub fn fix(&self) -> String {
        match self {
            Self::Settings(e) => format!("In gatehouse: Settings > Auth: {e}."),
            Self::Unreachable { url, .. } => format!(
                "Check that Keycloak is running and that gatehouse can reach it at {url}; if \
                 the address is wrong, correct the Server URL in gatehouse's Settings > Auth."
            ),
            Self::RealmNotFound { realm, .. } => format!(
                "Keycloak has no realm \"{realm}\" at this Server URL. In gatehouse: Settings > \
                 Auth: enter the realm name exactly as Keycloak shows it in its realm list, and a \
                 Server URL that stops before /realms/ (some installations serve under /auth)."
            ),
            Self::InvalidClient { client_id, .. } => format!(
                "In Keycloak: Clients > {client_id} > Credentials: copy the Client Secret into \
                 gatehouse's Settings > Auth, and check that the Client ID there is exactly \
                 \"{client_id}\" and that Client authentication is On in the client's Settings."
            ),
            Self::ServiceAccountDisabled { client_id, .. } => format!(
                "In Keycloak: Clients > {client_id} > Settings > Capability config: turn on \
                 Client authentication and Service accounts roles, and Save. Then Clients > \
                 {client_id} > Service accounts roles > Assign role > Filter by clients > \
                 realm-management view-users."
            ),
            Self::MissingViewUsers { client_id, .. } => format!(
                "In Keycloak: Clients > {client_id} > Service accounts roles > Assign role > \
                 Filter by clients > realm-management view-users. If it is assigned already, \
                 turn on Clients > {client_id} > Client scopes > {client_id}-dedicated > Scope > \
                 Full scope allowed, so that the role reaches the service account's token."
            ),
            Self::TokenRefused {
                client_id, detail, ..
            } => format!(
                "Keycloak refused to issue a service-account token ({detail}). In Keycloak: \
                 Clients > {client_id} > Settings > Capability config: Client authentication \
                 and Service accounts roles must be On; Keycloak's server log names the reason."
            ),
            Self::KeycloakStatus { status, path } => status_fix(*status, path),
            Self::MalformedAnswer { .. } => "Check that the Server URL in gatehouse's Settings > \
                 Auth points at Keycloak itself rather than at a proxy's or portal's page, and \
                 that Keycloak is a current release (gatehouse is tested with Keycloak 26)."
                .to_owned(),
            Self::TooLarge { what, limit } => format!(
                "gatehouse reads at most {limit} {what} from one realm. Check that the realm \
                 in Settings > Auth is the one your people sign in to."
            ),
            Self::Changed { .. } => "Users or groups were changed in Keycloak while gatehouse \
                 read them. Run the directory sync again when the changes are done."
                .to_owned(),
        }
    }
}

fn status_fix(status: u16, path: &str) -> String {
    match status {
        401 => format!(
            "Keycloak did not accept the service account's token for {path}. Check that \
             gatehouse reaches Keycloak at the address Keycloak calls itself (its hostname \
             setting), and look for the refusal in Keycloak's server log."
        ),
        404 => format!(
            "Keycloak has no {path}. Check that the Server URL in gatehouse's Settings > Auth \
             is Keycloak's base address (some installations serve under /auth)."
        ),
        500.. => format!(
            "Keycloak failed while answering {path} (HTTP {status}). Try again later; if it \
             keeps failing, look in Keycloak's server log."
        ),
        _ => format!(
            "Keycloak answered HTTP {status} for {path}. Look for the reason in Keycloak's \
             server log; a proxy in front of Keycloak may also block the admin API (/admin/)."
        ),
    }
}

/// Keeps text that Keycloak sent short and on one line before it reaches a log or a page.
pub(super) fn tidy(text: &str) -> String {
    const LIMIT: usize = 200;
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    match flat.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &flat[..cut]),
        None => flat.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_name_the_console_path() {
        let missing = DirectoryError::MissingViewUsers {
            client_id: "refact_client".into(),
            path: "/admin/realms/gatehouse/users".into(),
        };
        assert_eq!(missing.code(), "missing_view_users");
        assert!(missing.fix().starts_with(
            "In Keycloak: Clients > refact_client > Service accounts roles > Assign role > \
             Filter by clients > realm-management view-users."
        ));

        let disabled = DirectoryError::ServiceAccountDisabled {
            client_id: "refact_client".into(),
            description: "Client not enabled to retrieve service account".into(),
        };
        assert_eq!(disabled.code(), "service_account_disabled");
        assert!(disabled.fix().contains("Service accounts roles, and Save"));

        let status = DirectoryError::KeycloakStatus {
            status: 500,
            path: "/admin/realms/r/groups".into(),
        };
        assert_eq!(status.code(), "keycloak_error");
        assert!(status.fix().contains("HTTP 500"));
    }

    #[test]
    fn remote_text_is_tidied() {
        assert_eq!(tidy(" a\r\nb "), "a  b");
        assert_eq!(tidy(&"é".repeat(300)).chars().count(), 203);
    }
}

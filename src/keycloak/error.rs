//! What can go wrong while signing in with Keycloak, with a stable code per kind of failure and a
//! message for the person who sees the error page. Neither ever contains a secret or a token.

use super::settings::SettingsError;

/// Why a sign-in, logout or connection step against Keycloak failed.
///
/// `Display` is for logs; [`KeycloakError::user_message`] is for pages.
#[derive(Debug, thiserror::Error)]
pub enum KeycloakError {
    #[error("Keycloak sign-in is not enabled")]
    NotEnabled,
    #[error("Keycloak settings are invalid: {0}")]
    Settings(#[from] SettingsError),
    #[error("callback URL {uri:?} is not an absolute http(s) URL")]
    InvalidRedirectUri { uri: String },
    #[error("Keycloak at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("realm {realm:?} not found at {url} (HTTP 404)")]
    RealmNotFound { realm: String, url: String },
    #[error("{url} answered HTTP {status} instead of Keycloak's configuration")]
    DiscoveryStatus { url: String, status: u16 },
    #[error("{url} redirects to {location}")]
    Redirected { url: String, location: String },
    #[error("unexpected answer from {url}: {detail}")]
    UnexpectedResponse { url: String, detail: String },
    #[error("Keycloak calls itself {advertised} but gatehouse is configured for {configured}")]
    IssuerMismatch {
        advertised: String,
        configured: String,
    },
    #[error("Keycloak does not advertise a {endpoint}")]
    MissingEndpoint { endpoint: &'static str },
    #[error("Keycloak rejected the client credentials ({description})")]
    InvalidClient { description: String },
    #[error("Keycloak rejected the authorization code ({description})")]
    CodeRejected { description: String },
    #[error("Keycloak refused the token request: {error} ({description})")]
    TokenRequestRefused { error: String, description: String },
    #[error("ID token rejected: {0}")]
    IdTokenInvalid(#[from] IdTokenProblem),
}

/// Which check an ID token failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenProblem {
    #[error("the token response has no ID token")]
    Missing,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("signed with a key that is not in Keycloak's key set")]
    UnknownSigningKey,
    #[error("signature algorithm not accepted: {0}")]
    Algorithm(String),
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("wrong issuer: {0}")]
    Issuer(String),
    #[error("wrong audience: {0}")]
    Audience(String),
    #[error("authorized party (azp) is {found:?}, not this client")]
    AuthorizedParty { found: Option<String> },
    #[error("expired: {0}")]
    Expired(String),
    #[error("issued {seconds} s in the future")]
    IssuedInFuture { seconds: u64 },
    #[error("nonce: {0}")]
    Nonce(String),
    #[error("{0}")]
    Other(String),
}

impl KeycloakError {
    /// A stable identifier for the kind of failure, shown on error pages and used by tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotEnabled => "keycloak_disabled",
            Self::InvalidRedirectUri { .. } => "gatehouse_misconfigured",
            Self::Unreachable { .. } => "keycloak_unreachable",
            Self::Settings(_)
            | Self::RealmNotFound { .. }
            | Self::DiscoveryStatus { .. }
            | Self::Redirected { .. }
            | Self::UnexpectedResponse { .. }
            | Self::IssuerMismatch { .. }
            | Self::MissingEndpoint { .. }
            | Self::TokenRequestRefused { .. } => "keycloak_misconfigured",
            Self::InvalidClient { .. } => "invalid_client",
            Self::CodeRejected { .. } => "code_rejected",
            Self::IdTokenInvalid(_) => "id_token_invalid",
        }
    }

    /// What happened and what to do about it, in plain words for an HTML page (the caller
    /// escapes it). Contains URLs and Keycloak's own error text, never secrets or tokens.
    pub fn user_message(&self) -> String {
        match self {
            Self::NotEnabled => "Sign-in with Keycloak is switched off. An administrator can \
                 switch it on in Settings > Auth."
                .to_owned(),
            Self::Settings(e) => format!(
                "The Keycloak settings are incomplete: {e}. An administrator should fix them \
                 in Settings > Auth."
            ),
            Self::InvalidRedirectUri { uri } => format!(
                "gatehouse's own public URL is misconfigured: the sign-in callback {uri} is not \
                 an absolute http(s) address. An administrator should check the public URL."
            ),
            Self::Unreachable { url, reason } => format!(
                "gatehouse could not reach Keycloak at {url} ({reason}). Try again in a \
                 minute; if it keeps failing, an administrator should check that Keycloak is \
                 running and that the Server URL in Settings > Auth is right."
            ),
            Self::RealmNotFound { realm, url } => format!(
                "Keycloak has no realm \"{realm}\" at {url}. An administrator should check \
                 the Realm and the Server URL in Settings > Auth (some installations serve \
                 Keycloak under a path such as /auth)."
            ),
            Self::DiscoveryStatus { url, status } => format!(
                "{url} answered HTTP {status} instead of Keycloak's OpenID configuration. An \
                 administrator should check the Server URL and Realm in Settings > Auth."
            ),
            Self::Redirected { url, location } => format!(
                "{url} redirects to {location}. gatehouse does not follow redirects to \
                 Keycloak; an administrator should enter the address Keycloak really serves \
                 as the Server URL in Settings > Auth."
            ),
            Self::UnexpectedResponse { url, detail } => format!(
                "Keycloak's answer from {url} could not be understood ({detail}). An \
                 administrator should check that the Server URL points at Keycloak."
            ),
            Self::IssuerMismatch {
                advertised,
                configured,
            } => format!(
                "Keycloak calls itself {advertised} but gatehouse is configured for \
                 {configured}: set Keycloak's hostname or fix the Server URL in Settings > Auth."
            ),
            Self::MissingEndpoint { endpoint } => format!(
                "Keycloak does not advertise a {endpoint}. An administrator should check \
                 the Keycloak version and the Server URL."
            ),
            Self::InvalidClient { .. } => "Keycloak rejected gatehouse's client credentials; \
                 an administrator should check Client ID and Client Secret in Settings > Auth."
                .to_owned(),
            Self::CodeRejected { description } => format!(
                "Keycloak did not accept this sign-in ({description}). It may have been \
                 used already or taken too long. Please start the sign-in again."
            ),
            Self::TokenRequestRefused { error, description } => format!(
                "Keycloak refused to complete the sign-in: {error} ({description}). An \
                 administrator should check the client's settings in Keycloak (Standard \
                 flow enabled, client authentication on, valid redirect URIs)."
            ),
            Self::IdTokenInvalid(problem) => format!(
                "Keycloak's answer failed a security check: the ID token {}. Please start \
                 the sign-in again; if it keeps failing, an administrator should check the \
                 Keycloak settings.",
                problem.plain_words()
            ),
        }
    }
}

impl IdTokenProblem {
    fn plain_words(&self) -> String {
        match self {
            Self::Missing => "was missing (is the openid scope allowed for the client?)".into(),
            Self::Malformed(_) => "could not be read".into(),
            Self::UnknownSigningKey => "was signed with a key Keycloak does not publish".into(),
            Self::Algorithm(alg) => format!(
                "was signed with an algorithm gatehouse does not accept ({alg}); use RS256 \
                 for the client's ID token signature"
            ),
            Self::BadSignature(_) => "had an invalid signature".into(),
            Self::Issuer(detail) => format!("came from another issuer ({detail})"),
            Self::Audience(_) => "was issued for another application (audience)".into(),
            Self::AuthorizedParty { .. } => {
                "was issued for another application (authorized party)".into()
            }
            Self::Expired(_) => {
                "had expired; check that the clocks of gatehouse and Keycloak agree".into()
            }
            Self::IssuedInFuture { seconds } => format!(
                "was issued {seconds} s in the future; check that the clocks of gatehouse \
                 and Keycloak agree"
            ),
            Self::Nonce(_) => "belonged to a different sign-in attempt (nonce)".into(),
            Self::Other(detail) => format!("was rejected ({detail})"),
        }
    }
}

/// Keeps text that Keycloak sent us short and on one line before it reaches a page or a log.
pub(super) fn tidy_remote_text(text: &str) -> String {
    const LIMIT: usize = 200;
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    match trimmed.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_contract() {
        let unreachable = KeycloakError::Unreachable {
            url: "http://kc".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(unreachable.code(), "keycloak_unreachable");
        assert!(unreachable.user_message().contains("http://kc"));

        let realm = KeycloakError::RealmNotFound {
            realm: "acme".into(),
            url: "http://kc/realms/acme/.well-known/openid-configuration".into(),
        };
        assert_eq!(realm.code(), "keycloak_misconfigured");
        assert!(realm.user_message().contains("realm \"acme\""));

        let mismatch = KeycloakError::IssuerMismatch {
            advertised: "http://a/realms/x".into(),
            configured: "http://b/realms/x".into(),
        };
        assert_eq!(mismatch.code(), "keycloak_misconfigured");
        assert!(mismatch.user_message().starts_with(
            "Keycloak calls itself http://a/realms/x but gatehouse is configured for \
             http://b/realms/x: set Keycloak's hostname or fix the Server URL"
        ));

        let client = KeycloakError::InvalidClient {
            description: "Invalid client credentials".into(),
        };
        assert_eq!(client.code(), "invalid_client");
        assert!(
            client
                .user_message()
                .contains("Client ID and Client Secret")
        );

        let audience = KeycloakError::from(IdTokenProblem::Audience("x".into()));
        assert_eq!(audience.code(), "id_token_invalid");
        assert!(
            audience
                .user_message()
                .contains("another application (audience)")
        );
    }

    #[test]
    fn remote_text_is_tidied() {
        assert_eq!(tidy_remote_text(" a\nb "), "a b");
        let long = "x".repeat(500);
        assert_eq!(tidy_remote_text(&long).len(), 203);
    }
}

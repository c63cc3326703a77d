//! Exchanges an authorization code (with its PKCE verifier) for tokens at Keycloak's token
//! endpoint, and names the reason when Keycloak refuses. The tokens are handed on as text and
//! the access token is never decoded.

use openidconnect::core::{CoreClient, CoreErrorResponseType};
use openidconnect::{
    AuthorizationCode, EndpointNotSet, EndpointSet, OAuth2TokenResponse, PkceCodeVerifier,
    RequestTokenError, StandardErrorResponse, TokenResponse,
};

use super::discovery::unreachable;
use super::error::{IdTokenProblem, KeycloakError, tidy_remote_text};
use super::http::{KeycloakHttp, StatusRecorder, TransportError};

/// An openidconnect client with the authorization and token endpoints set.
pub(super) type OidcClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

type TokenError = RequestTokenError<TransportError, StandardErrorResponse<CoreErrorResponseType>>;

/// What the token endpoint gave back. Both are secrets: never log them.
pub(super) struct Tokens {
    pub id_token: String,
    pub access_token: String,
}

pub(super) async fn exchange_code(
    http: &KeycloakHttp,
    client: &OidcClient,
    code: &str,
    pkce_verifier: &str,
) -> Result<Tokens, KeycloakError> {
    let recorder = StatusRecorder::new(http);
    let answer = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .request_async(&recorder)
        .await;

    let response = answer
        .map_err(|error| token_error(error, recorder.last_status(), client.token_uri().as_str()))?;
    let id_token = response
        .id_token()
        .ok_or(KeycloakError::IdTokenInvalid(IdTokenProblem::Missing))?
        .to_string();
    Ok(Tokens {
        id_token,
        access_token: response.access_token().secret().clone(),
    })
}

fn token_error(error: TokenError, status: Option<u16>, url: &str) -> KeycloakError {
    match error {
        RequestTokenError::ServerResponse(refusal) => refused(
            status,
            Some(refusal.error().as_ref()),
            refusal.error_description().map(String::as_str),
        ),
        RequestTokenError::Request(transport) => unreachable(transport),
        RequestTokenError::Parse(parse_error, _) if status == Some(200) => {
            let path = parse_error.path().to_string();
            if path.starts_with("id_token") {
                KeycloakError::IdTokenInvalid(IdTokenProblem::Malformed(
                    parse_error.inner().to_string(),
                ))
            } else {
                KeycloakError::UnexpectedResponse {
                    url: url.to_owned(),
                    detail: format!("unreadable token response at {path}"),
                }
            }
        }
        RequestTokenError::Parse(..) => refused(status, None, None),
        RequestTokenError::Other(detail) if status == Some(200) => {
            KeycloakError::UnexpectedResponse {
                url: url.to_owned(),
                detail: tidy_remote_text(&detail),
            }
        }
        RequestTokenError::Other(detail) => refused(status, None, Some(&detail)),
    }
}

/// Maps a refusal from the token endpoint (`error` and `error_description` of its JSON body,
/// and the HTTP status) to the error shown to the person signing in.
pub(super) fn refused(
    status: Option<u16>,
    error: Option<&str>,
    description: Option<&str>,
) -> KeycloakError {
    let status_text = status.map_or_else(|| "no status".to_owned(), |s| format!("HTTP {s}"));
    let description = description.map_or_else(|| status_text.clone(), tidy_remote_text);
    match error {
        Some("invalid_client") => KeycloakError::InvalidClient { description },
        Some("invalid_grant") => KeycloakError::CodeRejected { description },
        // 401 means the client itself was not authenticated (RFC 6749 5.2), whatever the name.
        _ if status == Some(401) => KeycloakError::InvalidClient { description },
        Some(error) => KeycloakError::TokenRequestRefused {
            error: tidy_remote_text(error),
            description,
        },
        None => KeycloakError::TokenRequestRefused {
            error: status_text,
            description,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds a JSON error body through the same parsing openidconnect applies.
    fn from_body(status: u16, body: &str) -> KeycloakError {
        let parsed: StandardErrorResponse<CoreErrorResponseType> =
            serde_json::from_str(body).expect("error body parses");
        token_error(
            RequestTokenError::ServerResponse(parsed),
            Some(status),
            "http://kc/token",
        )
    }

    #[test]
    fn wrong_secret_is_invalid_client() {
        let e = from_body(
            401,
            r#"{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}"#,
        );
        assert_eq!(e.code(), "invalid_client");
        let e = from_body(
            401,
            r#"{"error":"unauthorized_client","error_description":"Invalid client secret"}"#,
        );
        assert_eq!(e.code(), "invalid_client");
    }

    #[test]
    fn spent_code_is_code_rejected() {
        let e = from_body(
            400,
            r#"{"error":"invalid_grant","error_description":"Code not valid"}"#,
        );
        assert_eq!(e.code(), "code_rejected");
        assert!(e.user_message().contains("Code not valid"));
    }

    #[test]
    fn other_refusals_are_misconfiguration_with_keycloak_text() {
        let e = from_body(
            400,
            r#"{"error":"unauthorized_client","error_description":"Client not allowed to exchange code"}"#,
        );
        assert_eq!(e.code(), "keycloak_misconfigured");
        assert!(
            e.user_message()
                .contains("Client not allowed to exchange code")
        );
    }

    #[test]
    fn empty_or_unreadable_refusals() {
        let e = token_error(RequestTokenError::Other("empty".into()), Some(401), "u");
        assert_eq!(e.code(), "invalid_client");
        let e = token_error(RequestTokenError::Other("empty".into()), Some(500), "u");
        assert_eq!(e.code(), "keycloak_misconfigured");
        assert!(e.user_message().contains("HTTP 500"));
    }

    #[test]
    fn transport_failure_is_unreachable() {
        let transport = TransportError {
            url: "http://kc/token".into(),
            reason: "timed out".into(),
        };
        let e = token_error(
            RequestTokenError::Request(transport),
            None,
            "http://kc/token",
        );
        assert_eq!(e.code(), "keycloak_unreachable");
        assert!(e.user_message().contains("http://kc/token"));
    }
}

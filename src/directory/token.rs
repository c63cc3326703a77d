//! The service account's access token: a client-credentials request to the realm's token
//! endpoint, with the secret in the form body (never in a URL or a log), and the refusals it
//! can meet named by cause.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderValue};
use serde::Deserialize;

use super::endpoints::Endpoints;
use super::error::{DirectoryError, tidy};
use super::transport::{self, shown_path, shown_url};
use crate::keycloak::KeycloakSettings;

/// A token fresh from Keycloak. Its `Debug` output leaves the token out.
pub(super) struct IssuedToken {
    pub token: String,
    pub lifetime: Duration,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct Refusal {
    error: Option<String>,
    error_description: Option<String>,
}

/// Asks Keycloak for a client-credentials token.
pub(super) async fn request(
    client: &reqwest::Client,
    settings: &KeycloakSettings,
    endpoints: &Endpoints,
) -> Result<IssuedToken, DirectoryError> {
    let url = endpoints.token();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", settings.client_id.trim()),
        ("client_secret", settings.client_secret.expose()),
    ];
    let request = client
        .post(url.clone())
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .form(&form)
        .build()
        .map_err(|_| DirectoryError::Unreachable {
            url: shown_url(&url),
            reason: "the token request could not be built".to_owned(),
        })?;

    let answer = transport::send(client, request).await?;
    let path = shown_path(&url);
    if answer.status != StatusCode::OK {
        return Err(refused(
            answer.status.as_u16(),
            &answer.body,
            settings.client_id.trim(),
            endpoints.realm(),
            &path,
            &shown_url(&url),
        ));
    }
    parse_token(&answer.body, &path)
}

/// Reads and checks a 200 answer of the token endpoint.
fn parse_token(body: &[u8], path: &str) -> Result<IssuedToken, DirectoryError> {
    let malformed = |detail: String| DirectoryError::MalformedAnswer {
        path: path.to_owned(),
        detail,
    };
    let answer: TokenAnswer = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not a token response: {e}")))?;
    if !answer.token_type.eq_ignore_ascii_case("bearer") {
        return Err(malformed(format!(
            "token_type is {:?}, not Bearer",
            tidy(&answer.token_type)
        )));
    }
    // It goes into an Authorization header: visible ASCII only.
    let token = answer.access_token;
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(
            "access_token is empty or not printable".to_owned(),
        ));
    }
    if answer.expires_in == 0 {
        return Err(malformed("expires_in is 0".to_owned()));
    }
    Ok(IssuedToken {
        token,
        lifetime: Duration::from_secs(answer.expires_in),
    })
}

/// Names the cause of a refused token request. Keycloak 26 answers a wrong secret with 401
/// `unauthorized_client` "Invalid client or Invalid client credentials", an unknown client
/// with 401 `invalid_client`, and a client without service accounts with `unauthorized_client`
/// "Client not enabled to retrieve service account" (or "Public client not allowed ...").
fn refused(
    status: u16,
    body: &[u8],
    client_id: &str,
    realm: &str,
    path: &str,
    url: &str,
) -> DirectoryError {
    let refusal: Option<Refusal> = serde_json::from_slice(body).ok();
    let error = refusal
        .as_ref()
        .and_then(|r| r.error.as_deref())
        .unwrap_or("");
    let description = refusal
        .as_ref()
        .and_then(|r| r.error_description.as_deref())
        .map(tidy)
        .unwrap_or_else(|| format!("HTTP {status}"));

    if description.to_ascii_lowercase().contains("service account") {
        return DirectoryError::ServiceAccountDisabled {
            client_id: client_id.to_owned(),
            description,
        };
    }
    if error == "invalid_client" || status == 401 {
        return DirectoryError::InvalidClient {
            client_id: client_id.to_owned(),
            description,
        };
    }
    // Keycloak says "Realm does not exist"; anything else at this path (a wrong prefix such
    // as /auth) also means the realm is not where the settings say.
    if status == 404 {
        return DirectoryError::RealmNotFound {
            realm: realm.to_owned(),
            url: url.to_owned(),
        };
    }
    let detail = if error.is_empty() {
        description
    } else {
        format!("{}: {description}", tidy(error))
    };
    DirectoryError::TokenRefused {
        client_id: client_id.to_owned(),
        status,
        path: path.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/realms/gatehouse/protocol/openid-connect/token";

    fn refusal(status: u16, body: &str) -> DirectoryError {
        refused(
            status,
            body.as_bytes(),
            "refact_client",
            "gatehouse",
            PATH,
            "http://kc",
        )
    }

    #[test]
    fn reads_a_keycloak_token_answer() {
        let body = br#"{"access_token":"eyJ.a.b","expires_in":300,"refresh_expires_in":0,
            "token_type":"Bearer","not-before-policy":0,"scope":"email profile"}"#;
        let issued = parse_token(body, PATH).expect("valid answer");
        assert_eq!(issued.token, "eyJ.a.b");
        assert_eq!(issued.lifetime, Duration::from_secs(300));
    }

    #[test]
    fn refuses_odd_token_answers() {
        let check = |body: &str| parse_token(body.as_bytes(), PATH).expect_err("must fail");
        let err = check(r#"{"access_token":"a","expires_in":300,"token_type":"mac"}"#);
        assert_eq!(err.code(), "malformed_answer");
        check(r#"{"access_token":"","expires_in":300,"token_type":"Bearer"}"#);
        check(r#"{"access_token":"a b","expires_in":300,"token_type":"Bearer"}"#);
        check(r#"{"access_token":"a","expires_in":-1,"token_type":"Bearer"}"#);
        check(r#"{"access_token":"a","token_type":"Bearer"}"#);
        let err = check("<html>login</html>");
        assert!(!err.to_string().contains("login"), "{err}");
    }

    #[test]
    fn wrong_secret_and_unknown_client_are_invalid_client() {
        let wrong_secret = refusal(
            401,
            r#"{"error":"unauthorized_client","error_description":"Invalid client or Invalid client credentials"}"#,
        );
        assert_eq!(wrong_secret.code(), "invalid_client");
        let unknown = refusal(
            401,
            r#"{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}"#,
        );
        assert_eq!(unknown.code(), "invalid_client");
        assert_eq!(refusal(401, "").code(), "invalid_client");
    }

    #[test]
    fn service_accounts_off_is_named() {
        let off = refusal(
            400,
            r#"{"error":"unauthorized_client","error_description":"Client not enabled to retrieve service account"}"#,
        );
        assert_eq!(off.code(), "service_account_disabled");
        let public = refusal(
            401,
            r#"{"error":"unauthorized_client","error_description":"Public client not allowed to retrieve service account"}"#,
        );
        assert_eq!(public.code(), "service_account_disabled");
    }

    #[test]
    fn other_refusals_keep_status_and_path() {
        let realm = refusal(404, r#"{"error":"Realm does not exist"}"#);
        assert_eq!(realm.code(), "realm_not_found");
        assert_eq!(refusal(404, "Not Found").code(), "realm_not_found");
        let other = refusal(500, "oops");
        assert_eq!(other.code(), "keycloak_error");
        assert_eq!(
            other.to_string(),
            format!("Keycloak refused the token request with HTTP 500 for {PATH}: HTTP 500")
        );
        let named = refusal(
            400,
            r#"{"error":"invalid_request","error_description":"x"}"#,
        );
        assert!(named.to_string().ends_with("invalid_request: x"), "{named}");
    }
}

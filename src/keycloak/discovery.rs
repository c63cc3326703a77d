//! Reads Keycloak's OpenID configuration and key set and says precisely what is wrong when the
//! answer is not what a Keycloak realm serves. Only the fields gatehouse uses are read.

use openidconnect::HttpResponse;
use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::http::{StatusCode, header};
use serde::Deserialize;
use url::Url;

use super::error::{KeycloakError, tidy_remote_text};
use super::http::{KeycloakHttp, TransportError};

/// The parts of `.well-known/openid-configuration` gatehouse relies on.
#[derive(Debug, Clone)]
pub(super) struct ProviderConfig {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    pub userinfo_endpoint: Option<Url>,
    pub end_session_endpoint: Option<Url>,
    /// Whether the token endpoint accepts the secret in the form body.
    pub accepts_client_secret_post: bool,
}

#[derive(Deserialize)]
struct RawConfig {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

pub(super) fn discovery_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/openid-configuration")
}

/// Fetches the realm's configuration and checks that it is the realm the settings name.
pub(super) async fn fetch_config(
    http: &KeycloakHttp,
    issuer: &str,
    realm: &str,
) -> Result<ProviderConfig, KeycloakError> {
    let url = discovery_url(issuer);
    let response = http
        .get(&url, "application/json", None)
        .await
        .map_err(unreachable)?;
    check_status(&response, &url, Some(realm))?;
    parse_config(response.body(), &url, issuer)
}

/// Fetches the realm's public signing keys.
pub(super) async fn fetch_jwks(
    http: &KeycloakHttp,
    jwks_uri: &Url,
) -> Result<CoreJsonWebKeySet, KeycloakError> {
    let url = jwks_uri.as_str();
    let response = http
        .get(url, "application/json", None)
        .await
        .map_err(unreachable)?;
    check_status(&response, url, None)?;
    serde_json::from_slice(response.body()).map_err(|e| KeycloakError::UnexpectedResponse {
        url: url.to_owned(),
        detail: format!("the key set is not valid JSON Web Keys: {e}"),
    })
}

pub(super) fn unreachable(error: TransportError) -> KeycloakError {
    KeycloakError::Unreachable {
        url: error.url,
        reason: error.reason,
    }
}

/// Turns a non-200 answer into the error that names its likely cause. `realm` is given for
/// discovery, where a 404 means the realm (or the path prefix) is wrong.
fn check_status(
    response: &HttpResponse,
    url: &str,
    realm: Option<&str>,
) -> Result<(), KeycloakError> {
    let status = response.status();
    if status == StatusCode::OK {
        return Ok(());
    }
    if status.is_redirection() {
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| "an unnamed place".to_owned(), tidy_remote_text);
        return Err(KeycloakError::Redirected {
            url: url.to_owned(),
            location,
        });
    }
    // A proxy in front of a stopped or starting Keycloak answers 502-504.
    if matches!(status.as_u16(), 502..=504) {
        return Err(KeycloakError::Unreachable {
            url: url.to_owned(),
            reason: format!("HTTP {} from a proxy", status.as_u16()),
        });
    }
    match (status, realm) {
        (StatusCode::NOT_FOUND, Some(realm)) => Err(KeycloakError::RealmNotFound {
            realm: realm.to_owned(),
            url: url.to_owned(),
        }),
        _ => Err(KeycloakError::DiscoveryStatus {
            url: url.to_owned(),
            status: status.as_u16(),
        }),
    }
}

fn parse_config(body: &[u8], url: &str, issuer: &str) -> Result<ProviderConfig, KeycloakError> {
    let malformed = |detail: String| KeycloakError::UnexpectedResponse {
        url: url.to_owned(),
        detail,
    };
    let raw: RawConfig = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not an OpenID configuration: {e}")))?;

    if raw.issuer != issuer {
        return Err(KeycloakError::IssuerMismatch {
            advertised: tidy_remote_text(&raw.issuer),
            configured: issuer.to_owned(),
        });
    }

    let endpoint = |name: &str, value: &str| -> Result<Url, KeycloakError> {
        match Url::parse(value) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed),
            _ => Err(malformed(format!(
                "{name} {:?} is not an http(s) URL",
                tidy_remote_text(value)
            ))),
        }
    };
    let optional = |name: &str, value: Option<&String>| -> Result<Option<Url>, KeycloakError> {
        value.map(|v| endpoint(name, v)).transpose()
    };

    Ok(ProviderConfig {
        authorization_endpoint: endpoint("authorization_endpoint", &raw.authorization_endpoint)?,
        token_endpoint: endpoint("token_endpoint", &raw.token_endpoint)?,
        jwks_uri: endpoint("jwks_uri", &raw.jwks_uri)?,
        userinfo_endpoint: optional("userinfo_endpoint", raw.userinfo_endpoint.as_ref())?,
        end_session_endpoint: optional("end_session_endpoint", raw.end_session_endpoint.as_ref())?,
        accepts_client_secret_post: raw
            .token_endpoint_auth_methods_supported
            .iter()
            .any(|m| m == "client_secret_post"),
        issuer: raw.issuer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::http;

    const ISSUER: &str = "http://127.0.0.1:18080/realms/gatehouse";

    fn config_json(issuer: &str) -> String {
        let base = format!("{issuer}/protocol/openid-connect");
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{base}/auth"),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/certs"),
            "userinfo_endpoint": format!("{base}/userinfo"),
            "end_session_endpoint": format!("{base}/logout"),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "response_types_supported": ["code"],
        })
        .to_string()
    }

    fn response(status: u16, location: Option<&str>) -> HttpResponse {
        let mut builder = http::Response::builder().status(status);
        if let Some(location) = location {
            builder = builder.header(header::LOCATION, location);
        }
        builder.body(Vec::new()).expect("valid response")
    }

    #[test]
    fn reads_keycloak_configuration() {
        let config = parse_config(config_json(ISSUER).as_bytes(), "u", ISSUER).expect("parses");
        assert_eq!(config.issuer, ISSUER);
        assert_eq!(
            config.token_endpoint.path(),
            "/realms/gatehouse/protocol/openid-connect/token"
        );
        assert!(config.accepts_client_secret_post);
        assert!(config.end_session_endpoint.is_some());
    }

    #[test]
    fn issuer_mismatch_names_both() {
        let other = "http://localhost:18080/realms/gatehouse";
        let err = parse_config(config_json(other).as_bytes(), "u", ISSUER).expect_err("must fail");
        assert_eq!(err.code(), "keycloak_misconfigured");
        assert!(err.user_message().contains(other), "{}", err.user_message());
        assert!(err.user_message().contains(ISSUER));
    }

    #[test]
    fn garbage_is_misconfiguration() {
        let err = parse_config(b"<html>hello</html>", "u", ISSUER).expect_err("must fail");
        assert!(matches!(err, KeycloakError::UnexpectedResponse { .. }));
        assert_eq!(err.code(), "keycloak_misconfigured");
    }

    #[test]
    fn statuses_name_their_cause() {
        let url = discovery_url(ISSUER);
        assert!(check_status(&response(200, None), &url, Some("gatehouse")).is_ok());

        let not_found =
            check_status(&response(404, None), &url, Some("gatehouse")).expect_err("must fail");
        assert!(matches!(not_found, KeycloakError::RealmNotFound { .. }));
        assert!(not_found.user_message().contains("no realm \"gatehouse\""));

        let moved =
            check_status(&response(301, Some("https://kc/")), &url, None).expect_err("must fail");
        assert!(matches!(moved, KeycloakError::Redirected { .. }));

        let proxy = check_status(&response(503, None), &url, None).expect_err("must fail");
        assert_eq!(proxy.code(), "keycloak_unreachable");

        let teapot = check_status(&response(418, None), &url, None).expect_err("must fail");
        assert_eq!(teapot.code(), "keycloak_misconfigured");
    }
}

//! Asks Keycloak's userinfo endpoint for the claims the ID token lacked (usually `groups`). The
//! access token is sent as a bearer token and never decoded. Limitation: only plain JSON
//! userinfo is read; a signed (application/jwt) answer is skipped.

use openidconnect::http::{StatusCode, header};
use serde::Deserialize;
use url::Url;

use super::error::tidy_remote_text;
use super::http::KeycloakHttp;
use super::identity::{Profile, display_name, groups_from_claim, non_blank};

#[derive(Deserialize)]
struct UserinfoClaims {
    sub: String,
    preferred_username: Option<String>,
    email: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    groups: Option<serde_json::Value>,
}

/// Fetches userinfo for the person whose ID token named `expected_subject`. The error is a
/// reason for a log line: a userinfo failure never fails the sign-in.
pub(super) async fn fetch_profile(
    http: &KeycloakHttp,
    endpoint: &Url,
    access_token: &str,
    expected_subject: &str,
) -> Result<Profile, String> {
    let response = http
        .get(endpoint.as_str(), "application/json", Some(access_token))
        .await
        .map_err(|e| e.reason)?;
    if response.status() != StatusCode::OK {
        return Err(format!("HTTP {}", response.status().as_u16()));
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if content_type
        .to_ascii_lowercase()
        .starts_with("application/jwt")
    {
        return Err("userinfo is signed (application/jwt); only JSON userinfo is read".to_owned());
    }
    parse_profile(response.body(), expected_subject)
}

fn parse_profile(body: &[u8], expected_subject: &str) -> Result<Profile, String> {
    let claims: UserinfoClaims = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not a userinfo document: {}",
            tidy_remote_text(&e.to_string())
        )
    })?;

    // Claims about someone else must not be merged (OpenID Connect Core 5.3.2).
    if claims.sub != expected_subject {
        return Err("userinfo names a different subject than the ID token".to_owned());
    }
    Ok(Profile {
        subject: claims.sub,
        username: non_blank(claims.preferred_username.as_deref()),
        email: non_blank(claims.email.as_deref()),
        display_name: display_name(
            claims.name.as_deref(),
            claims.given_name.as_deref(),
            claims.family_name.as_deref(),
        ),
        groups: groups_from_claim(claims.groups.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_groups_and_profile() {
        let body = br#"{"sub":"s1","preferred_username":"alice","name":"Alice L",
            "email":"alice@example.com","groups":["/devs"],"email_verified":true}"#;
        let profile = parse_profile(body, "s1").expect("parses");
        assert_eq!(profile.groups, Some(vec!["/devs".to_owned()]));
        assert_eq!(profile.display_name.as_deref(), Some("Alice L"));
    }

    #[test]
    fn absent_groups_stay_absent() {
        let profile = parse_profile(br#"{"sub":"s1"}"#, "s1").expect("parses");
        assert_eq!(profile.groups, None);
    }

    #[test]
    fn another_subject_is_refused() {
        assert!(parse_profile(br#"{"sub":"mallory","groups":[]}"#, "s1").is_err());
    }
}

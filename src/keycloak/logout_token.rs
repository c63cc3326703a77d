//! Back-channel logout: checks a logout token that Keycloak posts when a
//! session ends on its side (OpenID Connect Back-Channel Logout 1.0).
//!
//! Checked: signature against the realm's keys (asymmetric algorithms
//! only), `typ` if present, `iss`, `aud`, `iat` (not in the future, not
//! older than ten minutes), the back-channel logout event, no `nonce`, and
//! `sid` or `sub`. Limitation: `jti` values are not remembered, so a token
//! could be replayed within its ten minutes; replaying it only ends
//! sessions that the first delivery already ended.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use serde_json::Value;
use tracing::{info, warn};

use super::Keycloak;
use super::error::{IdTokenProblem, KeycloakError};
use super::id_token::{ACCEPTED_ALGORITHMS, LEEWAY};
use super::settings::KeycloakSettings;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const MAX_AGE: Duration = Duration::from_secs(600);

/// Which sessions Keycloak says have ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutNotice {
    pub issuer: String,
    /// Keycloak's session id (`sid`), as in the ID token.
    pub session_id: Option<String>,
    /// The user (`sub`): all of their sessions when no `sid` is given.
    pub subject: Option<String>,
}

impl Keycloak {
    /// Verifies a logout token for the configured client.
    pub async fn verify_logout_token(
        &self,
        settings: &KeycloakSettings,
        raw: &str,
    ) -> Result<LogoutNotice, KeycloakError> {
        let config = self.provider_config(settings).await?;
        let client_id = settings.client_id.trim();
        let keys = self.signing_keys(&config, false).await?;
        let result = match check(raw, &keys, &config.issuer, client_id, SystemTime::now()) {
            Err(IdTokenProblem::UnknownSigningKey) if self.may_refresh_keys(&config) => {
                let keys = self.signing_keys(&config, true).await?;
                check(raw, &keys, &config.issuer, client_id, SystemTime::now())
            }
            other => other,
        };
        let notice =
            result.inspect_err(|problem| warn!(problem = %problem, "logout token rejected"))?;
        info!(sid = ?notice.session_id, subject = ?notice.subject, "Keycloak ended a session");
        Ok(notice)
    }
}

fn part(encoded: &str) -> Result<Value, IdTokenProblem> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| IdTokenProblem::Malformed("a part is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| IdTokenProblem::Malformed("a part is not JSON".into()))
}

/// Checks `raw` at time `now`; pure, so tests can sign their own tokens.
pub(super) fn check(
    raw: &str,
    keys: &CoreJsonWebKeySet,
    issuer: &str,
    client_id: &str,
    now: SystemTime,
) -> Result<LogoutNotice, IdTokenProblem> {
    let mut parts = raw.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenProblem::Malformed("not a signed JWT".into()));
    };
    let head = part(header)?;
    let claims = part(payload)?;

    if let Some(typ) = head["typ"].as_str()
        && !typ.eq_ignore_ascii_case("logout+jwt")
        && !typ.eq_ignore_ascii_case("JWT")
    {
        return Err(IdTokenProblem::Malformed(format!(
            "typ {typ} is not logout+jwt"
        )));
    }
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(head["alg"].clone())
        .map_err(|_| IdTokenProblem::Algorithm(head["alg"].to_string()))?;
    if !ACCEPTED_ALGORITHMS.contains(&alg) {
        return Err(IdTokenProblem::Algorithm(head["alg"].to_string()));
    }
    let kid = head["kid"].as_str();
    let key = keys
        .keys()
        .iter()
        .find(|key| kid.is_none() || key.key_id().map(|id| id.as_str()) == kid)
        .ok_or(IdTokenProblem::UnknownSigningKey)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| IdTokenProblem::Malformed("the signature is not base64url".into()))?;
    let signed = &raw.trim()[..header.len() + 1 + payload.len()];
    key.verify_signature(&alg, signed.as_bytes(), &signature)
        .map_err(|e| IdTokenProblem::BadSignature(e.to_string()))?;

    if claims["iss"].as_str() != Some(issuer) {
        return Err(IdTokenProblem::Issuer(format!(
            "{} is not {issuer}",
            claims["iss"]
        )));
    }
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == client_id,
        Value::Array(auds) => auds.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(IdTokenProblem::Audience(format!(
            "{} does not include {client_id}",
            claims["aud"]
        )));
    }
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let iat = claims["iat"]
        .as_u64()
        .ok_or_else(|| IdTokenProblem::Malformed("no iat".into()))?;
    if iat > now_secs + LEEWAY.as_secs() {
        return Err(IdTokenProblem::IssuedInFuture {
            seconds: iat - now_secs,
        });
    }
    if now_secs > iat + MAX_AGE.as_secs() + LEEWAY.as_secs() {
        return Err(IdTokenProblem::Expired(format!(
            "issued {} s ago",
            now_secs - iat
        )));
    }
    if !claims["events"][EVENT].is_object() {
        return Err(IdTokenProblem::Malformed(
            "no back-channel logout event".into(),
        ));
    }
    if !claims["nonce"].is_null() {
        return Err(IdTokenProblem::Malformed(
            "a logout token must not carry a nonce".into(),
        ));
    }
    let session_id = claims["sid"].as_str().map(str::to_owned);
    let subject = claims["sub"].as_str().map(str::to_owned);
    if session_id.is_none() && subject.is_none() {
        return Err(IdTokenProblem::Malformed("neither sid nor sub".into()));
    }
    Ok(LogoutNotice {
        issuer: issuer.to_owned(),
        session_id,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use openidconnect::core::CoreRsaPrivateSigningKey;
    use openidconnect::{JsonWebKeyId, PrivateSigningKey};
    use serde_json::json;

    use super::*;

    const KEY_PEM: &str = include_str!("testdata/id_token_signing_key.pem");
    const ISSUER: &str = "http://kc/realms/gatehouse";

    fn key() -> CoreRsaPrivateSigningKey {
        CoreRsaPrivateSigningKey::from_pem(KEY_PEM, Some(JsonWebKeyId::new("k1".into()))).unwrap()
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_900_000_000)
    }

    fn token(claims: Value) -> String {
        let header = json!({"alg": "RS256", "typ": "logout+jwt", "kid": "k1"});
        let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", encode(&header), encode(&claims));
        let signature = key()
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "aud": "refact_client", "iat": 1_900_000_000u64, "jti": "j1",
               "sid": "s1", "sub": "u1", "events": {EVENT: {}}})
    }

    fn run(raw: &str) -> Result<LogoutNotice, IdTokenProblem> {
        let keys = CoreJsonWebKeySet::new(vec![key().as_verification_key()]);
        check(raw, &keys, ISSUER, "refact_client", now())
    }

    #[test]
    fn a_valid_logout_token_names_the_session_and_user() {
        let notice = run(&token(claims())).unwrap();
        assert_eq!(notice.session_id.as_deref(), Some("s1"));
        assert_eq!(notice.subject.as_deref(), Some("u1"));
    }

    #[test]
    fn each_required_property_is_checked() {
        let mut cases = Vec::new();
        for (field, value) in [
            ("iss", json!("http://evil/realms/gatehouse")),
            ("aud", json!("other_client")),
            ("iat", json!(1_900_000_000u64 + 3600)),
            ("iat", json!(1_900_000_000u64 - 3600)),
            ("events", json!({})),
            ("nonce", json!("n")),
        ] {
            let mut c = claims();
            c[field] = value;
            cases.push(token(c));
        }
        let mut anonymous = claims();
        anonymous
            .as_object_mut()
            .unwrap()
            .retain(|k, _| k != "sid" && k != "sub");
        cases.push(token(anonymous));
        for raw in cases {
            assert!(run(&raw).is_err(), "accepted {raw}");
        }
    }

    #[test]
    fn tampered_or_malformed_tokens_fail() {
        let raw = token(claims());
        let (head, rest) = raw.split_once('.').unwrap();
        let (_, signature) = rest.rsplit_once('.').unwrap();
        let mut other = claims();
        other["sub"] = json!("someone-else");
        let forged = format!(
            "{head}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(other.to_string())
        );
        assert!(matches!(run(&forged), Err(IdTokenProblem::BadSignature(_))));
        for junk in ["", "a.b", "a.b.c", "x.y.z.w"] {
            assert!(run(junk).is_err());
        }
    }
}

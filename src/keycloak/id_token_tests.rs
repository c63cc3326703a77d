//! Tests for ID-token checks, with tokens signed by a throwaway RSA key kept in `testdata/`
//! (generated for these tests only; it protects nothing).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{IdTokenClaims, JsonWebKeyId, PrivateSigningKey};
use serde_json::{Value, json};

use super::*;

const KEY_PEM: &str = include_str!("testdata/id_token_signing_key.pem");
const ISSUER: &str = "http://127.0.0.1:18080/realms/gatehouse";
const CLIENT: &str = "refact_client";
const NONCE: &str = "n-0S6_WzA2Mj";

fn signing_key(kid: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(KEY_PEM, Some(JsonWebKeyId::new(kid.to_owned())))
        .expect("test key parses")
}

fn key_set(kid: &str) -> CoreJsonWebKeySet {
    CoreJsonWebKeySet::new(vec![signing_key(kid).as_verification_key()])
}

fn now() -> SystemTime {
    // A fixed moment keeps the tests independent of the clock.
    UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn unix(offset: i64) -> i64 {
    let base = now()
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_secs();
    i64::try_from(base).expect("fits") + offset
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT,
        "azp": CLIENT,
        "sub": "0b5c4e0e-2f6a-4c39-9d53-1a3c7e2d9f10",
        "exp": unix(300),
        "iat": unix(0),
        "nonce": NONCE,
        "sid": "d8b1c7a2-session",
        "preferred_username": "alice",
        "email": "alice@example.com",
        "given_name": "Alice",
        "family_name": "Liddell",
        "groups": ["/engineering"],
    })
}

fn sign(claims: Value, kid: &str) -> String {
    let claims: IdTokenClaims<KeycloakClaims, CoreGenderClaim> =
        serde_json::from_value(claims).expect("claims deserialize");
    KeycloakIdToken::new(
        claims,
        &signing_key(kid),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .expect("token signs")
    .to_string()
}

fn check(claims: Value) -> Result<VerifiedIdToken, IdTokenProblem> {
    let expected = Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: Some(NONCE),
    };
    verify(&sign(claims, "k1"), &key_set("k1"), &expected, now())
}

fn with(field: &str, value: Value) -> Value {
    let mut c = claims();
    c[field] = value;
    c
}

fn without(field: &str) -> Value {
    let mut c = claims();
    c.as_object_mut().expect("object").remove(field);
    c
}

#[test]
fn a_good_token_gives_the_profile() {
    let verified = check(claims()).expect("valid token");
    assert_eq!(
        verified.profile.subject,
        "0b5c4e0e-2f6a-4c39-9d53-1a3c7e2d9f10"
    );
    assert_eq!(verified.profile.username.as_deref(), Some("alice"));
    assert_eq!(
        verified.profile.display_name.as_deref(),
        Some("Alice Liddell")
    );
    assert_eq!(
        verified.profile.groups,
        Some(vec!["/engineering".to_owned()])
    );
    assert_eq!(verified.session_id.as_deref(), Some("d8b1c7a2-session"));
}

#[test]
fn missing_groups_claim_stays_none() {
    let verified = check(without("groups")).expect("valid token");
    assert_eq!(verified.profile.groups, None);
}

#[test]
fn wrong_issuer_is_rejected() {
    let err = check(with(
        "iss",
        json!("http://localhost:18080/realms/gatehouse"),
    ));
    assert!(matches!(err, Err(IdTokenProblem::Issuer(_))), "{err:?}");
}

#[test]
fn other_audience_is_rejected() {
    let err = check(with("aud", json!("another-app")));
    assert!(matches!(err, Err(IdTokenProblem::Audience(_))), "{err:?}");
}

#[test]
fn extra_audience_needs_azp_of_this_client() {
    let two = json!([CLIENT, "account"]);
    assert!(check(with("aud", two.clone())).is_ok());

    let mut foreign_azp = with("aud", two.clone());
    foreign_azp["azp"] = json!("another-app");
    let err = check(foreign_azp);
    assert!(
        matches!(err, Err(IdTokenProblem::AuthorizedParty { .. })),
        "{err:?}"
    );

    let mut no_azp = with("aud", two);
    no_azp.as_object_mut().expect("object").remove("azp");
    let err = check(no_azp);
    assert!(
        matches!(err, Err(IdTokenProblem::AuthorizedParty { found: None })),
        "{err:?}"
    );
}

#[test]
fn foreign_azp_with_single_audience_is_rejected() {
    let err = check(with("azp", json!("another-app")));
    assert!(
        matches!(err, Err(IdTokenProblem::AuthorizedParty { .. })),
        "{err:?}"
    );
}

#[test]
fn expiry_has_leeway() {
    assert!(check(with("exp", json!(unix(-30)))).is_ok());
    let err = check(with("exp", json!(unix(-90))));
    assert!(matches!(err, Err(IdTokenProblem::Expired(_))), "{err:?}");
}

#[test]
fn issue_time_in_the_future_has_leeway() {
    assert!(check(with("iat", json!(unix(30)))).is_ok());
    let err = check(with("iat", json!(unix(120))));
    assert!(
        matches!(err, Err(IdTokenProblem::IssuedInFuture { seconds: 120 })),
        "{err:?}"
    );
}

#[test]
fn nonce_must_match() {
    let err = check(with("nonce", json!("replayed")));
    assert!(matches!(err, Err(IdTokenProblem::Nonce(_))), "{err:?}");
    let err = check(without("nonce"));
    assert!(matches!(err, Err(IdTokenProblem::Nonce(_))), "{err:?}");
}

#[test]
fn unknown_key_is_reported_as_such() {
    let expected = Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: Some(NONCE),
    };
    let err = verify(&sign(claims(), "rotated"), &key_set("k1"), &expected, now());
    assert!(
        matches!(err, Err(IdTokenProblem::UnknownSigningKey)),
        "{err:?}"
    );
}

#[test]
fn tampered_payload_fails_the_signature() {
    let token = sign(claims(), "k1");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let other = sign(with("sub", json!("mallory")), "k1");
    parts[1] = other.split('.').nth(1).expect("payload").to_owned();
    let expected = Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: Some(NONCE),
    };
    let err = verify(&parts.join("."), &key_set("k1"), &expected, now());
    assert!(
        matches!(err, Err(IdTokenProblem::BadSignature(_))),
        "{err:?}"
    );
}

#[test]
fn symmetric_and_unsigned_tokens_are_refused() {
    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let expected = Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: Some(NONCE),
    };
    for alg in ["HS256", "none"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        let token = format!("{}.{}.c2ln", b64(&header), b64(&claims()));
        let err = verify(&token, &key_set("k1"), &expected, now());
        assert!(
            matches!(
                err,
                Err(IdTokenProblem::Algorithm(_)) | Err(IdTokenProblem::Malformed(_))
            ),
            "{alg}: {err:?}"
        );
    }
}

#[test]
fn garbage_is_malformed() {
    let expected = Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: Some(NONCE),
    };
    let err = verify("not-a-jwt", &key_set("k1"), &expected, now());
    assert!(matches!(err, Err(IdTokenProblem::Malformed(_))), "{err:?}");
}

//! Checks an ID token from Keycloak: signature against the realm's published keys (asymmetric
//! algorithms only), issuer, audience, authorized party, expiry and issue time with 60 s leeway,
//! and nonce. Limitation: encrypted (JWE) ID tokens are not supported.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use openidconnect::core::{
    CoreGenderClaim, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, IdToken, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use serde::{Deserialize, Serialize};

use super::error::IdTokenProblem;
use super::identity::{Profile, display_name, groups_from_claim, non_blank};

/// Clock difference tolerated between gatehouse and Keycloak.
pub(super) const LEEWAY: Duration = Duration::from_secs(60);

pub(super) const ACCEPTED_ALGORITHMS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// Claims Keycloak adds beyond the standard ones.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(super) struct KeycloakClaims {
    /// Kept loose: a list, or one text when the mapper is not multivalued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl AdditionalClaims for KeycloakClaims {}

pub(super) type KeycloakIdToken = IdToken<
    KeycloakClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// What the ID token must match.
pub(super) struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The nonce sent with the authorization request; `None` for the
    /// password grant, whose ID tokens carry none.
    pub nonce: Option<&'a str>,
}

/// The facts a verified ID token establishes.
#[derive(Debug)]
pub(super) struct VerifiedIdToken {
    pub profile: Profile,
    pub session_id: Option<String>,
}

/// Verifies `raw` at time `now` against the realm's key set.
pub(super) fn verify(
    raw: &str,
    keys: &CoreJsonWebKeySet,
    expected: &Expected<'_>,
    now: SystemTime,
) -> Result<VerifiedIdToken, IdTokenProblem> {
    let token =
        KeycloakIdToken::from_str(raw).map_err(|e| IdTokenProblem::Malformed(e.to_string()))?;
    let issuer = IssuerUrl::new(expected.issuer.to_owned())
        .map_err(|e| IdTokenProblem::Other(format!("configured issuer is not a URL: {e}")))?;

    // The verifier takes the key set by value; the cached one is shared.
    let keys = CoreJsonWebKeySet::new(keys.keys().clone());
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(expected.client_id.to_owned()),
        issuer,
        keys,
    )
    .set_allowed_algs(ACCEPTED_ALGORITHMS)
    // Further audiences are allowed only with azp naming this client, checked below.
    .set_other_audience_verifier_fn(|_| true)
    .set_time_fn(move || (now - LEEWAY).into());

    let claims = match expected.nonce {
        Some(nonce) => token.claims(&verifier, &Nonce::new(nonce.to_owned())),
        None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(problem)?;

    let azp = claims.authorized_party().map(|azp| azp.as_str());
    match azp {
        Some(azp) if azp == expected.client_id => {}
        None if claims.audiences().len() == 1 => {}
        _ => {
            return Err(IdTokenProblem::AuthorizedParty {
                found: azp.map(str::to_owned),
            });
        }
    }

    let issued_at: SystemTime = claims.issue_time().into();
    if let Ok(ahead) = issued_at.duration_since(now)
        && ahead > LEEWAY
    {
        return Err(IdTokenProblem::IssuedInFuture {
            seconds: ahead.as_secs(),
        });
    }

    let extra = claims.additional_claims();
    let profile = Profile {
        subject: claims.subject().to_string(),
        username: non_blank(claims.preferred_username().map(|u| u.as_str())),
        email: non_blank(claims.email().map(|e| e.as_str())),
        display_name: display_name(
            claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
            claims
                .given_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
            claims
                .family_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
        ),
        groups: groups_from_claim(extra.groups.as_ref()),
    };
    Ok(VerifiedIdToken {
        profile,
        session_id: extra.sid.clone(),
    })
}

fn problem(error: ClaimsVerificationError) -> IdTokenProblem {
    use SignatureVerificationError as Sig;
    match error {
        ClaimsVerificationError::SignatureVerification(sig) => match sig {
            Sig::NoMatchingKey => IdTokenProblem::UnknownSigningKey,
            Sig::DisallowedAlg(alg) | Sig::UnsupportedAlg(alg) => IdTokenProblem::Algorithm(alg),
            Sig::NoSignature => IdTokenProblem::Algorithm("unsigned (none)".to_owned()),
            other => IdTokenProblem::BadSignature(other.to_string()),
        },
        ClaimsVerificationError::InvalidIssuer(detail) => IdTokenProblem::Issuer(detail),
        ClaimsVerificationError::InvalidAudience(detail) => IdTokenProblem::Audience(detail),
        ClaimsVerificationError::Expired(detail) => IdTokenProblem::Expired(detail),
        ClaimsVerificationError::InvalidNonce(detail) => IdTokenProblem::Nonce(detail),
        ClaimsVerificationError::Unsupported(detail) => IdTokenProblem::Malformed(detail),
        other => IdTokenProblem::Other(other.to_string()),
    }
}

#[cfg(test)]
#[path = "id_token_tests.rs"]
mod tests;

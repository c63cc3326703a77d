//! Plugin API Keys: `gk_<public id>_<secret>`. The public id may be logged
//! and shown to administrators; the whole key is stored only as a digest
//! (for lookup) and sealed (so that its owner can see it again). Keys may
//! carry an expiry: the server's key lifetime, or a date an administrator
//! sets when rotating one.

use std::sync::Arc;
use std::time::Duration;

use crate::crypto::{SecretBox, SecretBoxError, TokenDigest, random_alphanumeric};
use crate::store::{NewPluginKey, now_millis};

pub const PREFIX: &str = "gk_";
const ID_LENGTH: usize = 12;
/// 40 characters of [A-Za-z0-9]: about 238 bits.
const SECRET_LENGTH: usize = 40;
const SEAL_PURPOSE: &str = "plugin_key";

/// A freshly generated key: the plain text exists only here and in the
/// owner's browser.
pub struct IssuedKey {
    pub record: NewPluginKey,
}

/// Issues keys under the server's key lifetime (`None`: keys do not expire).
#[derive(Clone)]
pub struct KeyIssuer {
    secrets: Arc<SecretBox>,
    lifetime: Option<Duration>,
}

impl KeyIssuer {
    pub fn new(secrets: Arc<SecretBox>, lifetime: Option<Duration>) -> Self {
        Self { secrets, lifetime }
    }

    /// A key that expires after the server's key lifetime, if one is set.
    pub fn issue(&self) -> IssuedKey {
        let expires_at = self
            .lifetime
            .map(|lifetime| now_millis().saturating_add(millis(lifetime)));
        self.issue_until(expires_at)
    }

    /// A key that expires at `expires_at` (unix milliseconds), or never.
    pub fn issue_until(&self, expires_at: Option<i64>) -> IssuedKey {
        issue(&self.secrets, expires_at)
    }

    /// The plain key from its sealed form, for its owner's page.
    pub fn reveal(&self, sealed: &str) -> Result<String, SecretBoxError> {
        reveal(&self.secrets, sealed)
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Generates a key and the record that stores it.
fn issue(secrets: &SecretBox, expires_at: Option<i64>) -> IssuedKey {
    let id = random_alphanumeric(ID_LENGTH).to_ascii_lowercase();
    let key = format!("{PREFIX}{id}_{}", random_alphanumeric(SECRET_LENGTH));
    let record = NewPluginKey {
        id,
        secret_digest: TokenDigest::of(&key).as_str().to_owned(),
        sealed_secret: secrets.seal(SEAL_PURPOSE, &key),
        expires_at,
    };
    IssuedKey { record }
}

fn reveal(secrets: &SecretBox, sealed: &str) -> Result<String, SecretBoxError> {
    secrets.open(SEAL_PURPOSE, sealed)
}

/// The public id of a well-formed key, for logs; `None` if malformed.
pub fn public_id(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let well_formed = id.len() == ID_LENGTH
        && secret.len() == SECRET_LENGTH
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(lifetime: Option<Duration>) -> KeyIssuer {
        let secrets =
            SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
        KeyIssuer::new(Arc::new(secrets), lifetime)
    }

    #[test]
    fn issued_key_round_trips_and_parses() {
        let keys = issuer(None);
        let issued = keys.issue();
        let key = keys.reveal(&issued.record.sealed_secret).unwrap();
        assert!(key.starts_with("gk_"));
        assert_eq!(key.len(), 3 + 12 + 1 + 40);
        assert_eq!(public_id(&key), Some(issued.record.id.as_str()));
        assert!(TokenDigest::from_stored(issued.record.secret_digest).matches(&key));
    }

    #[test]
    fn keys_expire_after_the_server_lifetime_or_at_a_given_time() {
        assert_eq!(issuer(None).issue().record.expires_at, None);

        let before = now_millis();
        let expires = issuer(Some(Duration::from_secs(86_400)))
            .issue()
            .record
            .expires_at
            .unwrap();
        assert!((before + 86_400_000..=now_millis() + 86_400_000).contains(&expires));

        let chosen = issuer(Some(Duration::from_secs(60))).issue_until(Some(42));
        assert_eq!(chosen.record.expires_at, Some(42));
    }

    #[test]
    fn malformed_keys_have_no_public_id() {
        for junk in ["", "gk_", "gk_abc", "sk-123", "gk_abcdefghijkl_short"] {
            assert_eq!(public_id(junk), None);
        }
    }
}

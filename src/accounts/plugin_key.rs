//! Plugin API Keys: `gk_<public id>_<secret>`. The public id may be logged
//! and shown to administrators; the whole key is stored only as a digest
//! (for lookup) and sealed (so that its owner can see it again).

use crate::crypto::{SecretBox, SecretBoxError, TokenDigest, random_alphanumeric};
use crate::store::NewPluginKey;

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

/// Generates a key and the record that stores it.
pub fn issue(secrets: &SecretBox) -> IssuedKey {
    let id = random_alphanumeric(ID_LENGTH).to_ascii_lowercase();
    let key = format!("{PREFIX}{id}_{}", random_alphanumeric(SECRET_LENGTH));
    let record = NewPluginKey {
        id,
        secret_digest: TokenDigest::of(&key).as_str().to_owned(),
        sealed_secret: secrets.seal(SEAL_PURPOSE, &key),
        expires_at: None,
    };
    IssuedKey { record }
}

/// The plain key from its sealed form, for its owner's page.
pub fn reveal(secrets: &SecretBox, sealed: &str) -> Result<String, SecretBoxError> {
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

    #[test]
    fn issued_key_round_trips_and_parses() {
        let secrets =
            SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
        let issued = issue(&secrets);
        let key = reveal(&secrets, &issued.record.sealed_secret).unwrap();
        assert!(key.starts_with("gk_"));
        assert_eq!(key.len(), 3 + 12 + 1 + 40);
        assert_eq!(public_id(&key), Some(issued.record.id.as_str()));
        assert!(TokenDigest::from_stored(issued.record.secret_digest).matches(&key));
    }

    #[test]
    fn malformed_keys_have_no_public_id() {
        for junk in ["", "gk_", "gk_abc", "sk-123", "gk_abcdefghijkl_short"] {
            assert_eq!(public_id(junk), None);
        }
    }
}

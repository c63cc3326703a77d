//! Authenticated encryption of secrets kept at rest (the Keycloak client
//! secret, plugin keys, ID tokens kept for logout), with ChaCha20-Poly1305.
//!
//! Each sealed value is bound to a purpose string, so a ciphertext copied
//! from one column into another does not decrypt. The key lives in the data
//! dir (`secret.key`) or comes from `GATEHOUSE_SECRET_KEY`; replicas must
//! share it.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use super::random_bytes;

const VERSION_PREFIX: &str = "v1:";
const KEY_FILE: &str = "secret.key";

#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("the encryption key must be 32 bytes of base64, e.g. from `openssl rand -base64 32`")]
    BadKey,
    #[error("reading or writing the encryption key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "a stored secret could not be decrypted: the encryption key differs from the one it was sealed with"
    )]
    Undecryptable,
}

/// Seals and opens secrets with the server's key.
pub struct SecretBox {
    key: LessSafeKey,
}

impl SecretBox {
    pub fn from_base64(encoded: &str) -> Result<Self, SecretBoxError> {
        let bytes = B64
            .decode(encoded.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, SecretBoxError> {
        if bytes.len() != 32 {
            return Err(SecretBoxError::BadKey);
        }
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// Loads `secret.key` from the data dir, creating it (mode 0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretBoxError> {
        let path = data_dir.join(KEY_FILE);
        let io_error = |source| SecretBoxError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(contents) => Self::from_base64(&contents),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let encoded = B64.encode(random_bytes::<32>());
                write_private_file(&path, &encoded).map_err(io_error)?;
                tracing::info!(path = %path.display(), "created a new encryption key for secrets at rest");
                Self::from_base64(&encoded)
            }
            Err(err) => Err(io_error(err)),
        }
    }

    /// Encrypts `plaintext` for `purpose`; the result is text safe to store.
    pub fn seal(&self, purpose: &str, plaintext: &str) -> String {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut buffer = plaintext.as_bytes().to_vec();
        let nonce = Nonce::assume_unique_for_key(nonce_bytes);
        #[allow(clippy::expect_used)]
        self.key
            .seal_in_place_append_tag(nonce, Aad::from(purpose.as_bytes()), &mut buffer)
            .expect("ChaCha20-Poly1305 sealing cannot fail for inputs under 256 GiB");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buffer);
        format!("{VERSION_PREFIX}{}", B64.encode(out))
    }

    /// Decrypts a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<String, SecretBoxError> {
        let encoded = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(SecretBoxError::Undecryptable)?;
        let bytes = B64
            .decode(encoded)
            .map_err(|_| SecretBoxError::Undecryptable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretBoxError::Undecryptable);
        }
        let (nonce_bytes, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce_bytes)
            .map_err(|_| SecretBoxError::Undecryptable)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buffer)
            .map_err(|_| SecretBoxError::Undecryptable)?;
        String::from_utf8(plaintext.to_vec()).map_err(|_| SecretBoxError::Undecryptable)
    }
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_box() -> SecretBox {
        SecretBox::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn seal_then_open_round_trips() {
        let sealed = test_box().seal("client_secret", "s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(test_box().open("client_secret", &sealed).unwrap(), "s3cret");
    }

    #[test]
    fn another_purpose_does_not_open() {
        let sealed = test_box().seal("client_secret", "s3cret");
        assert!(test_box().open("plugin_key", &sealed).is_err());
    }

    #[test]
    fn another_key_does_not_open() {
        let sealed = test_box().seal("p", "s3cret");
        let other = SecretBox::from_bytes(&[8u8; 32]).unwrap();
        assert!(matches!(
            other.open("p", &sealed),
            Err(SecretBoxError::Undecryptable)
        ));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for junk in ["", "v1:", "v1:!!!", "v1:AAAA", "plain"] {
            assert!(test_box().open("p", junk).is_err());
        }
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir =
            std::env::temp_dir().join(format!("gh-key-{}", super::super::random_alphanumeric(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let sealed = SecretBox::load_or_create(&dir).unwrap().seal("p", "x");
        assert_eq!(
            SecretBox::load_or_create(&dir)
                .unwrap()
                .open("p", &sealed)
                .unwrap(),
            "x"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

//! SHA-256 digests of high-entropy secrets (plugin keys, session ids, the
//! admin token) and constant-time comparison.
//!
//! The secrets hashed here are random with at least 190 bits of entropy, so
//! a fast hash is enough; a password hash would only add latency.

use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

/// Hex SHA-256 of a secret: what the database stores and looks up.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenDigest(String);

impl TokenDigest {
    pub fn of(secret: &str) -> Self {
        let hash = digest(&SHA256, secret.as_bytes());
        Self(hex(hash.as_ref()))
    }

    /// Wraps a digest read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `secret` hashes to this digest, compared in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        constant_time_eq(Self::of(secret).0.as_bytes(), self.0.as_bytes())
    }
}

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenDigest({}…)", &self.0[..self.0.len().min(8)])
    }
}

/// Compares two byte strings without revealing where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_hex_sha256() {
        assert_eq!(
            TokenDigest::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn matches_only_the_same_secret() {
        let stored = TokenDigest::of("gk_secret");
        assert!(stored.matches("gk_secret"));
        assert!(!stored.matches("gk_secreT"));
        assert!(!stored.matches(""));
    }

    #[test]
    fn constant_time_eq_handles_lengths() {
        assert!(constant_time_eq(b"ab", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}

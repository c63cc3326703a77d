//! Random values from the operating system's generator.

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `N` random bytes. Panics only if the operating system has no entropy
/// source, in which case nothing secure can run at all.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    #[allow(clippy::expect_used)]
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random number generator failed");
    bytes
}

/// 32 random bytes as unpadded base64url: session ids, login binding values.
pub fn random_url_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// `len` characters from `[A-Za-z0-9]`, without modulo bias.
pub fn random_alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<64>() {
            // 62 * 4 = 248: rejecting 248..=255 keeps every character equally likely.
            if byte < 248 && out.len() < len {
                out.push(char::from(ALPHANUMERIC[usize::from(byte % 62)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_has_requested_length_and_alphabet() {
        let value = random_alphanumeric(40);
        assert_eq!(value.len(), 40);
        assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(value, random_alphanumeric(40));
    }

    #[test]
    fn url_token_is_43_chars() {
        assert_eq!(random_url_token().len(), 43);
    }
}

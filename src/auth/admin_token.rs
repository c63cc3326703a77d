//! The admin token: checked for strength, kept only as a digest, compared in
//! constant time. Without `GATEHOUSE_ADMIN_TOKEN` a strong one is generated
//! on first start and shown once on the console.

use crate::crypto::{TokenDigest, random_alphanumeric};
use crate::store::{Store, StoreError};

const SETTING: &str = "admin_token_digest";
const MIN_LENGTH: usize = 24;
const MIN_DISTINCT_CHARS: usize = 8;
const WELL_KNOWN: &[&str] = &[
    "12345",
    "123456",
    "admin",
    "administrator",
    "changeme",
    "change-me",
    "default",
    "letmein",
    "password",
    "secret",
    "token",
    "admin-token",
    "gatehouse",
    "refact",
    "test",
    "qwerty",
];

#[derive(Debug, thiserror::Error)]
pub enum AdminTokenError {
    #[error(
        "GATEHOUSE_ADMIN_TOKEN is too weak: {0}. Use at least {MIN_LENGTH} random characters, \
         e.g. `openssl rand -base64 33`, or unset it to have gatehouse generate one"
    )]
    Weak(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The digest of the admin token in force.
#[derive(Debug, Clone)]
pub struct AdminToken {
    digest: TokenDigest,
}

/// How the admin token came to be, so start-up can say so once.
pub enum Established {
    FromEnvironment(AdminToken),
    Stored(AdminToken),
    /// Freshly generated: the plain token, to be shown once, and its digest.
    Generated(String, AdminToken),
}

impl AdminToken {
    /// Decides the admin token at start: the configured one (if strong), the
    /// stored digest, or a newly generated token.
    pub async fn establish(
        store: &Store,
        configured: Option<&str>,
    ) -> Result<Established, AdminTokenError> {
        if let Some(token) = configured {
            check_strength(token).map_err(AdminTokenError::Weak)?;
            let token = Self {
                digest: TokenDigest::of(token),
            };
            store.put_setting(SETTING, token.digest.as_str()).await?;
            return Ok(Established::FromEnvironment(token));
        }
        if let Some(stored) = store.setting(SETTING).await? {
            return Ok(Established::Stored(Self {
                digest: TokenDigest::from_stored(stored),
            }));
        }
        let plain = format!("gha_{}", random_alphanumeric(40));
        let token = Self {
            digest: TokenDigest::of(&plain),
        };
        store.put_setting(SETTING, token.digest.as_str()).await?;
        Ok(Established::Generated(plain, token))
    }

    /// Whether `presented` is the admin token, in constant time.
    pub fn verify(&self, presented: &str) -> bool {
        self.digest.matches(presented)
    }
}

/// Refuses short tokens, well-known defaults and low-variety strings.
pub fn check_strength(token: &str) -> Result<(), &'static str> {
    let lowered = token.to_ascii_lowercase();
    if WELL_KNOWN.iter().any(|weak| lowered == *weak) {
        return Err("it is a well-known default");
    }
    if token.chars().count() < MIN_LENGTH {
        return Err("it is shorter than 24 characters");
    }
    let mut distinct: Vec<char> = token.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err("it repeats too few different characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[test]
    fn weak_tokens_are_refused_with_a_reason() {
        assert_eq!(check_strength("12345"), Err("it is a well-known default"));
        assert_eq!(
            check_strength("short-token"),
            Err("it is shorter than 24 characters")
        );
        assert!(check_strength(&"ab".repeat(20)).is_err());
        assert!(check_strength("Zq8vN2pL7xR4tY9wK3mB6cD1fG5hJ0").is_ok());
    }

    #[tokio::test]
    async fn generated_token_is_kept_as_digest_and_reused() {
        let store = temp_store().await;
        let Established::Generated(plain, token) =
            AdminToken::establish(&store, None).await.unwrap()
        else {
            panic!("expected a generated token");
        };
        assert!(plain.starts_with("gha_") && plain.len() == 44);
        assert!(token.verify(&plain));
        assert_ne!(
            store.setting(SETTING).await.unwrap().as_deref(),
            Some(plain.as_str())
        );

        let Established::Stored(again) = AdminToken::establish(&store, None).await.unwrap() else {
            panic!("expected the stored token");
        };
        assert!(again.verify(&plain));
        assert!(!again.verify("gha_wrong"));
    }
}

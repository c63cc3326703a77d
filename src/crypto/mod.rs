//! Cryptographic building blocks: random tokens, digests with constant-time
//! comparison, and authenticated encryption of secrets at rest.

mod digest;
mod random;
mod secret_box;

pub use digest::{TokenDigest, constant_time_eq};
pub use random::{random_alphanumeric, random_bytes, random_url_token};
pub use secret_box::{SecretBox, SecretBoxError};

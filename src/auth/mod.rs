//! Who is making a request: the admin token, browser sessions and their
//! cookies, cross-site request checks, and sign-in throttling.

pub mod admin_token;
pub mod cookies;
pub mod cross_site;
pub mod extract;
pub mod sessions;
pub mod throttle;

pub use admin_token::{AdminToken, AdminTokenError};
pub use sessions::Sessions;
pub use throttle::{AttemptThrottle, LoginThrottle};

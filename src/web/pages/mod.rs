//! Server-rendered pages for people: sign-in, their account, and the
//! administrator's console.

pub mod admin_console;
pub mod admin_directory;
pub mod admin_login;
pub mod admin_models;
pub mod admin_teams;
pub mod admin_usage;
pub mod admin_users;
pub mod backchannel_logout;
pub mod keycloak_auth;
pub mod login;
pub mod me;

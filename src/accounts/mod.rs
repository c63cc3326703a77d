//! People and their access: Plugin API Keys, Keycloak sign-in, and what a
//! signed-in user sees about themselves.

pub mod password_login;
pub mod plugin_key;
pub mod profile;
pub mod signin;
pub mod team_admin;
pub mod team_mapping;
pub mod teams;
pub mod user_admin;

//! `/admin/api`: the administrator's operations as JSON, authorized with
//! `Authorization: Bearer <admin token>`.

pub mod directory;
pub mod gateway_admin;
pub mod group_mappings;
pub mod keycloak_check;
pub mod password_login;
pub mod settings;
pub mod usage;

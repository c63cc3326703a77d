//! gatehouse: a self-hosted access server for AI coding assistants.
//!
//! People sign in through Keycloak and receive a Plugin API Key; an
//! administrator configures Keycloak with the admin token. The binary in
//! `main.rs` only parses the command line and calls into [`cli`].

pub mod accounts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod dates;
pub mod directory;
pub mod directory_sync;
pub mod gateway;
pub mod keycloak;
pub mod keycloak_check;
pub mod metrics;
pub mod remote;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod web;

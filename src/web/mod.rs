//! HTTP handlers: pages for people, JSON under `/admin/api` for programs,
//! health checks, and the static assets the pages use.

pub mod admin_errors;
pub mod api;
pub mod assets;
pub mod error;
pub mod health;
pub mod pages;

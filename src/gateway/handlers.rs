//! The OpenAI-compatible endpoints: `/v1/models` and the three inference
//! calls, each behind the key check.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::Gateway;
use super::access::{Caller, presented_key};
use super::error::GatewayError;
use super::forward::forward;
use crate::app::AppState;

/// The caller behind the request's key.
pub async fn caller(gateway: &Gateway, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    let key = presented_key(headers)?;
    gateway.access.authorize(&gateway.store, key).await
}

/// The models `caller`'s team may use, with their specs.
pub fn visible_models(
    gateway: &Gateway,
    caller: &Caller,
) -> Vec<(super::models::ModelSpec, Vec<String>)> {
    gateway
        .upstreams
        .catalog()
        .into_values()
        .filter(|(spec, _)| {
            caller
                .team
                .allowed_models
                .as_ref()
                .is_none_or(|allowed| allowed.contains(&spec.name))
        })
        .collect()
}

pub async fn list_models(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, GatewayError> {
    let caller = caller(&app.gateway, &headers).await?;
    let data: Vec<_> = visible_models(&app.gateway, &caller)
        .into_iter()
        .map(|(spec, upstreams)| {
            json!({"id": spec.name, "object": "model", "created": 0, "owned_by": upstreams.join(",")})
        })
        .collect();
    Ok(Json(json!({"object": "list", "data": data})))
}

pub async fn completions(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    proxy(&app.gateway, &headers, body, "completions").await
}

pub async fn chat_completions(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    proxy(&app.gateway, &headers, body, "chat/completions").await
}

pub async fn embeddings(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    proxy(&app.gateway, &headers, body, "embeddings").await
}

async fn proxy(
    gateway: &Gateway,
    headers: &HeaderMap,
    body: Body,
    endpoint: &'static str,
) -> Result<Response, GatewayError> {
    let caller = caller(gateway, headers).await?;
    let bytes = axum::body::to_bytes(body, gateway.body_limit)
        .await
        .map_err(|_| GatewayError::BodyTooLarge(gateway.body_limit))?;
    forward(gateway, caller, endpoint, bytes).await
}

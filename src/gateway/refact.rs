//! Refact's IDE engine protocol: capabilities built from the models the
//! key's team may use, tokenizers, and telemetry.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::GatewayError;
use super::handlers::{caller, visible_models};
use super::models::ModelSpec;
use crate::app::AppState;

const FAKE_TOKENIZER: &str = "fake://none";
const TELEMETRY_LIMIT: usize = 1024 * 1024;

/// `GET /refact-caps` and `/coding_assistant_caps.json`.
pub async fn caps(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let caller = caller(&app.gateway, &headers).await?;
    let models: Vec<ModelSpec> = visible_models(&app.gateway, &caller)
        .into_iter()
        .map(|(s, _)| s)
        .collect();

    let completion: Vec<&ModelSpec> = models.iter().filter(|m| m.fim.is_some()).collect();
    let chat: Vec<&ModelSpec> = models.iter().filter(|m| m.chat).collect();
    let embedding: Vec<&ModelSpec> = models.iter().filter(|m| m.embedding).collect();
    let team = &caller.team;

    let mut tokenizers = Map::new();
    for model in &models {
        let url = if model.tokenizer.is_some() {
            format!("/tokenizer/{}", model.name)
        } else {
            FAKE_TOKENIZER.to_owned()
        };
        tokenizers.insert(model.name.clone(), Value::String(url));
    }

    Ok(Json(json!({
        "cloud_name": "gatehouse",
        "completion": {
            "endpoint": "/v1/completions",
            "models": completion.iter().map(|m| (m.name.clone(), completion_record(m))).collect::<Map<_, _>>(),
            "default_model": default_of(&completion, team.default_completion_model.as_deref()),
        },
        "chat": {
            "endpoint": "/v1/chat/completions",
            "models": chat.iter().map(|m| (m.name.clone(), chat_record(m))).collect::<Map<_, _>>(),
            "default_model": default_of(&chat, team.default_chat_model.as_deref()),
        },
        "embedding": {
            "endpoint": "/v1/embeddings",
            "models": embedding.iter().map(|m| (m.name.clone(), json!({"n_ctx": m.n_ctx}))).collect::<Map<_, _>>(),
            "default_model": default_of(&embedding, None),
        },
        "telemetry_endpoints": {
            "telemetry_basic_endpoint": "/stats/telemetry-basic",
            "telemetry_basic_retrieve_my_own_endpoint": "/stats/rh-stats",
        },
        "tokenizer_endpoints": tokenizers,
        "caps_version": app.gateway.caps_version(),
    })))
}

fn default_of(models: &[&ModelSpec], preferred: Option<&str>) -> String {
    match preferred {
        Some(name) if models.iter().any(|m| m.name == name) => name.to_owned(),
        _ => models.first().map(|m| m.name.clone()).unwrap_or_default(),
    }
}

fn completion_record(model: &ModelSpec) -> Value {
    let fim = model.fim.as_ref();
    json!({
        "n_ctx": model.n_ctx,
        "supports_scratchpads": {
            "FIM-PSM": {
                "fim_prefix": fim.map(|f| f.prefix.as_str()),
                "fim_suffix": fim.map(|f| f.suffix.as_str()),
                "fim_middle": fim.map(|f| f.middle.as_str()),
                "eot": fim.map(|f| f.eot.as_str()),
                "extra_stop_tokens": [],
                "context_format": "",
                "rag_ratio": 0.0,
            }
        },
    })
}

fn chat_record(model: &ModelSpec) -> Value {
    json!({
        "n_ctx": model.n_ctx,
        "supports_scratchpads": {"PASSTHROUGH": {}},
        "supports_tools": true,
        "supports_agent": true,
    })
}

/// `GET /tokenizer/{model}`: Refact's engine sends no key here, so only
/// tokenizer files an administrator configured are served.
pub async fn tokenizer(
    State(app): State<AppState>,
    Path(model): Path<String>,
) -> Result<Response, GatewayError> {
    let catalog = app.gateway.upstreams.catalog();
    let path = catalog
        .get(&model)
        .and_then(|(spec, _)| spec.tokenizer.clone())
        .ok_or_else(|| {
            GatewayError::ModelUnknown(format!("no tokenizer is configured for \"{model}\""))
        })?;
    let bytes = tokio::fs::read(&path).await.map_err(|err| {
        tracing::error!(model = %model, path = %path.display(), error = %err, "tokenizer file unreadable");
        GatewayError::Internal
    })?;
    Ok(([(CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// `POST /stats/telemetry-basic`: stores the engine's records for the user.
pub async fn telemetry_basic(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, GatewayError> {
    let caller = caller(&app.gateway, &headers).await?;
    let body = axum::body::to_bytes(body, TELEMETRY_LIMIT)
        .await
        .map_err(|_| GatewayError::BodyTooLarge(TELEMETRY_LIMIT))?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|err| GatewayError::BadRequest(format!("telemetry is not valid JSON: {err}")))?;
    let teletype = value["teletype"]
        .as_str()
        .unwrap_or("unknown")
        .chars()
        .take(64)
        .collect::<String>();
    app.gateway
        .store
        .insert_telemetry(&caller.user_id, &teletype, &value.to_string())
        .await?;
    Ok(Json(json!({"retcode": "OK"})))
}

/// `GET /stats/rh-stats`: the user's own telemetry as NDJSON.
pub async fn own_stats(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, GatewayError> {
    let caller = caller(&app.gateway, &headers).await?;
    let records = app.gateway.store.own_telemetry(&caller.user_id).await?;
    let data: Vec<Value> = records
        .into_iter()
        .map(|(at, teletype, payload)| {
            let payload = serde_json::from_str::<Value>(&payload).unwrap_or(Value::Null);
            json!({"ts": at / 1000, "teletype": teletype, "payload": payload})
        })
        .collect();
    let line = json!({"retcode": "OK", "data": data}).to_string() + "\n";
    Ok(([(CONTENT_TYPE, "application/x-ndjson")], line).into_response())
}

//! Passing one inference request to an upstream and its answer back.
//!
//! The request body goes on byte for byte; only the `Authorization` header
//! is replaced by the upstream's own key. The answer streams back chunk by
//! chunk as it arrives, never buffered or re-encoded; when the client goes
//! away the answer stream is dropped, which closes the upstream request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde::Deserialize;

use super::Gateway;
use super::access::Caller;
use super::error::GatewayError;
use super::upstreams::Upstream;
use super::usage::{AnswerMeta, UsageTap};
use crate::metrics::metrics;

/// The fields gatehouse reads from a request; everything else is opaque.
#[derive(Deserialize)]
struct RequestPeek<'a> {
    #[serde(borrow, default)]
    model: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    stream: Option<bool>,
}

/// Forwards `body` to `/v1/{endpoint}` of an upstream serving its model.
pub async fn forward(
    gateway: &Gateway,
    caller: Caller,
    endpoint: &'static str,
    body: Bytes,
) -> Result<Response, GatewayError> {
    let started = Instant::now();
    let peek: RequestPeek = serde_json::from_slice(&body).map_err(|err| {
        GatewayError::BadRequest(format!("the request body is not valid JSON: {err}"))
    })?;
    let model = peek
        .model
        .map(|m| m.into_owned())
        .filter(|m| !m.is_empty())
        .ok_or_else(|| GatewayError::BadRequest("the request names no \"model\"".to_owned()))?;
    let streamed = peek.stream.unwrap_or(false);

    if let Some(allowed) = &caller.team.allowed_models
        && !allowed.contains(&model)
    {
        return Err(GatewayError::ModelForbidden(model));
    }
    let candidates = gateway.upstreams.candidates(&model);
    if candidates.is_empty() {
        return Err(GatewayError::ModelUnknown(format!(
            "no upstream serves the model \"{model}\"; GET /v1/models lists the models you can use"
        )));
    }
    gateway.limits.admit(&caller.team)?;

    let mut last_error = None;
    for upstream in candidates {
        match send(gateway, &upstream, endpoint, body.clone()).await {
            Ok(answer) => {
                upstream.set_healthy(true);
                return Ok(relay(
                    gateway, caller, &upstream, endpoint, &model, streamed, started, answer,
                ));
            }
            Err(SendError::Unreachable(reason)) => {
                tracing::warn!(upstream = %upstream.name, model = %model, reason = %reason, "upstream unreachable; trying the next");
                upstream.set_healthy(false);
                metrics().upstream_error(&upstream.name, "unreachable");
                last_error = Some(GatewayError::UpstreamUnavailable(format!(
                    "upstream \"{}\" for model \"{model}\" is unreachable: {reason}",
                    upstream.name
                )));
            }
            Err(SendError::Timeout) => {
                tracing::warn!(upstream = %upstream.name, model = %model, "upstream did not answer in time");
                metrics().upstream_error(&upstream.name, "timeout");
                return Err(GatewayError::UpstreamTimeout(format!(
                    "upstream \"{}\" did not answer within {} s for model \"{model}\"",
                    upstream.name,
                    gateway.timeouts.first_byte.as_secs()
                )));
            }
        }
    }
    Err(last_error.unwrap_or(GatewayError::Internal))
}

enum SendError {
    Unreachable(String),
    Timeout,
}

async fn send(
    gateway: &Gateway,
    upstream: &Upstream,
    endpoint: &str,
    body: Bytes,
) -> Result<reqwest::Response, SendError> {
    let url = upstream.inference_url(endpoint).ok_or_else(|| {
        SendError::Unreachable(format!("{} is not a valid URL", upstream.base_url))
    })?;
    let mut request = gateway
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(key) = &upstream.api_key {
        request = request.bearer_auth(key);
    }
    match tokio::time::timeout(gateway.timeouts.first_byte, request.send()).await {
        Err(_) => Err(SendError::Timeout),
        Ok(Err(err)) if err.is_timeout() => Err(SendError::Timeout),
        Ok(Err(err)) => Err(SendError::Unreachable(describe(&err))),
        Ok(Ok(answer)) => Ok(answer),
    }
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_connect() {
        "connection refused or failed".to_owned()
    } else {
        err.to_string()
    }
}

/// Streams the upstream's answer to the client, recording usage on the way.
#[allow(clippy::too_many_arguments)]
fn relay(
    gateway: &Gateway,
    caller: Caller,
    upstream: &Upstream,
    endpoint: &str,
    model: &str,
    streamed: bool,
    started: Instant,
    answer: reqwest::Response,
) -> Response {
    let status = answer.status();
    let content_type = answer.headers().get(CONTENT_TYPE).cloned();
    let is_event_stream = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let tap = UsageTap::new(
        gateway.usage.clone(),
        Arc::clone(&gateway.limits),
        caller,
        AnswerMeta {
            endpoint,
            model,
            upstream: &upstream.name,
            status: status.as_u16(),
            streamed: streamed || is_event_stream,
            started,
        },
    );
    let body = Body::from_stream(observed(
        answer,
        tap,
        gateway.timeouts.idle,
        upstream.name.clone(),
    ));

    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        content_type.unwrap_or_else(|| HeaderValue::from_static("application/json")),
    );
    if is_event_stream {
        headers.insert("cache-control", HeaderValue::from_static("no-cache"));
        // Tell reverse proxies such as nginx not to buffer the stream.
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    response
}

/// The upstream's body as a stream, each chunk shown to the usage tap, and
/// cut off when the upstream stays silent longer than `idle`.
fn observed(
    answer: reqwest::Response,
    tap: UsageTap,
    idle: Duration,
    upstream: String,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    struct Relay<S> {
        chunks: S,
        tap: UsageTap,
        upstream: String,
        ended: bool,
    }
    let state = Relay {
        chunks: answer.bytes_stream(),
        tap,
        upstream,
        ended: false,
    };
    futures_util::stream::unfold(state, move |mut relay| async move {
        if relay.ended {
            return None;
        }
        match tokio::time::timeout(idle, relay.chunks.next()).await {
            Ok(Some(Ok(bytes))) => {
                relay.tap.observe(&bytes);
                Some((Ok(bytes), relay))
            }
            Ok(None) => None,
            Ok(Some(Err(err))) => {
                tracing::warn!(upstream = %relay.upstream, error = %err, "upstream answer broke off");
                relay.tap.fail(502);
                metrics().upstream_error(&relay.upstream, "broken_stream");
                relay.ended = true;
                Some((Err(std::io::Error::other(err)), relay))
            }
            Err(_) => {
                tracing::warn!(upstream = %relay.upstream, "upstream went silent; answer cut off");
                relay.tap.fail(504);
                metrics().upstream_error(&relay.upstream, "idle_timeout");
                relay.ended = true;
                let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream idle");
                Some((Err(err), relay))
            }
        }
    })
}

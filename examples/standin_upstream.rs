//! A stand-in for an OpenAI-compatible inference server, for gatehouse's
//! tests and benchmark (gatehouse does no inference itself).
//!
//! Run: `cargo run --example standin_upstream -- --listen 127.0.0.1:9100 --models m1,m2`
//!
//! Answers are deterministic. A request may steer the stand-in with an extra
//! body field, which gatehouse passes on untouched:
//! `"standin": {"chunks": 5, "chunk_delay_ms": 100, "first_byte_delay_ms": 0, "status": 200}`.
//! `GET /standin/last-request` shows the last inference request's headers
//! and body, so tests can see exactly what gatehouse forwarded;
//! `GET /standin/streams` counts streamed answers started, finished and
//! dropped before their end (the reader went away).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use serde_json::{Value, json};

#[derive(Clone)]
struct Standin {
    models: Arc<Vec<String>>,
    last_request: Arc<Mutex<Value>>,
    streams: Arc<StreamCounts>,
}

#[derive(Default)]
struct StreamCounts {
    started: AtomicU64,
    finished: AtomicU64,
    dropped: AtomicU64,
}

/// Travels with one streamed answer; counts it as finished or dropped.
struct StreamWatch {
    counts: Arc<StreamCounts>,
    finished: bool,
}

impl Drop for StreamWatch {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.counts.finished
        } else {
            &self.counts.dropped
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Steering {
    chunks: u64,
    chunk_delay_ms: u64,
    first_byte_delay_ms: u64,
    status: u16,
}

fn steering(body: &Value) -> Steering {
    let s = &body["standin"];
    Steering {
        chunks: s["chunks"].as_u64().unwrap_or(3),
        chunk_delay_ms: s["chunk_delay_ms"].as_u64().unwrap_or(0),
        first_byte_delay_ms: s["first_byte_delay_ms"].as_u64().unwrap_or(0),
        status: s["status"]
            .as_u64()
            .and_then(|v| u16::try_from(v).ok())
            .unwrap_or(200),
    }
}

fn main() {
    let mut listen = "127.0.0.1:9100".to_owned();
    let mut models = vec!["standin-model".to_owned()];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().unwrap_or(listen),
            "--models" => {
                models = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::to_owned)
                    .collect();
            }
            other => {
                eprintln!("unknown argument {other}; use --listen ADDR --models a,b");
                std::process::exit(2);
            }
        }
    }
    let threads = std::env::var("STANDIN_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let state = Standin {
            models: Arc::new(models),
            last_request: Arc::default(),
            streams: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/models", get(list_models))
            .route("/v1/completions", post(completions))
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .route("/standin/last-request", get(last_request))
            .route("/standin/streams", get(stream_counts))
            .with_state(state);
        // Like real inference servers, send each streamed chunk at once.
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .expect("bind")
            .tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
        eprintln!("stand-in upstream listening on {listen}");
        axum::serve(listener, app).await.expect("serve");
    });
}

async fn list_models(State(s): State<Standin>) -> Json<Value> {
    let data: Vec<Value> = s
        .models
        .iter()
        .map(|m| json!({"id": m, "object": "model"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

async fn last_request(State(s): State<Standin>) -> Json<Value> {
    Json(
        s.last_request
            .lock()
            .map(|v| v.clone())
            .unwrap_or(Value::Null),
    )
}

async fn stream_counts(State(s): State<Standin>) -> Json<Value> {
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
    Json(json!({
        "started": count(&s.streams.started),
        "finished": count(&s.streams.finished),
        "dropped": count(&s.streams.dropped),
    }))
}

fn remember(s: &Standin, headers: &HeaderMap, body: &Value) {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    if let Ok(mut last) = s.last_request.lock() {
        *last = json!({"headers": headers, "body": body});
    }
}

async fn completions(State(s): State<Standin>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&s, &headers, &body, false).await
}

async fn chat(State(s): State<Standin>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&s, &headers, &body, true).await
}

async fn answer(s: &Standin, headers: &HeaderMap, raw: &[u8], chat: bool) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(raw) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "bad JSON"}})),
        )
            .into_response();
    };
    remember(s, headers, &body);
    let steer = steering(&body);
    if steer.first_byte_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(steer.first_byte_delay_ms)).await;
    }
    if steer.status != 200 {
        let status =
            StatusCode::from_u16(steer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (
            status,
            Json(json!({"error": {"message": "stand-in failure"}})),
        )
            .into_response();
    }
    let model = body["model"].as_str().unwrap_or("standin-model").to_owned();
    let words: Vec<String> = (0..steer.chunks).map(|i| format!("tok{i} ")).collect();
    let usage = json!({"prompt_tokens": 7, "completion_tokens": steer.chunks, "total_tokens": 7 + steer.chunks});

    if body["stream"].as_bool() != Some(true) {
        let text: String = words.concat();
        let choice = if chat {
            json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
        } else {
            json!({"index": 0, "text": text, "finish_reason": "stop"})
        };
        let object = if chat {
            "chat.completion"
        } else {
            "text_completion"
        };
        return Json(
            json!({"id": "standin-1", "object": object, "created": 0, "model": model,
                           "choices": [choice], "usage": usage}),
        )
        .into_response();
    }

    let include_usage = body["stream_options"]["include_usage"].as_bool() == Some(true);
    let delay = Duration::from_millis(steer.chunk_delay_ms);
    s.streams.started.fetch_add(1, Ordering::Relaxed);
    let watch = StreamWatch {
        counts: Arc::clone(&s.streams),
        finished: false,
    };
    let stream = async_chunks(words, model, chat, include_usage, usage, delay, watch);
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn async_chunks(
    words: Vec<String>,
    model: String,
    chat: bool,
    include_usage: bool,
    usage: Value,
    delay: Duration,
    watch: StreamWatch,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    let total = words.len();
    futures_util::stream::unfold((0usize, watch), move |(i, mut watch)| {
        let (words, model, usage) = (words.clone(), model.clone(), usage.clone());
        async move {
            if i > total + 1 {
                return None;
            }
            if i > 0 && i < total {
                tokio::time::sleep(delay).await;
            }
            let event = if i < total {
                let choice = if chat {
                    json!({"index": 0, "delta": {"content": words[i]}, "finish_reason": null})
                } else {
                    json!({"index": 0, "text": words[i], "finish_reason": null})
                };
                let object = if chat {
                    "chat.completion.chunk"
                } else {
                    "text_completion"
                };
                format!(
                    "data: {}\n\n",
                    json!({"id": "standin-1", "object": object, "created": 0,
                                                "model": model, "choices": [choice]})
                )
            } else if i == total {
                if include_usage {
                    format!(
                        "data: {}\n\n",
                        json!({"id": "standin-1", "object": "chat.completion.chunk",
                                                    "created": 0, "model": model, "choices": [],
                                                    "usage": usage})
                    )
                } else {
                    String::new()
                }
            } else {
                watch.finished = true;
                "data: [DONE]\n\n".to_owned()
            };
            Some((Ok(Bytes::from(event)), (i + 1, watch)))
        }
    })
}

async fn embeddings(State(s): State<Standin>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "bad JSON"}})),
        )
            .into_response();
    };
    remember(&s, &headers, &body);
    let inputs = match &body["input"] {
        Value::Array(items) => items.len(),
        _ => 1,
    };
    let data: Vec<Value> = (0..inputs)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}))
        .collect();
    Json(
        json!({"object": "list", "data": data, "model": body["model"],
                "usage": {"prompt_tokens": inputs, "total_tokens": inputs}}),
    )
    .into_response()
}

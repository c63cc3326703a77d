//! Usage recording off the request path: each finished request sends one
//! record into a channel; a background task writes them in batches.
//!
//! Token counts come from the upstream's own `usage` object: the JSON body
//! of a plain answer, or the usage chunk of a stream (OpenAI's
//! `stream_options.include_usage`). Requests whose upstream reports no
//! usage are recorded with zero tokens.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::access::Caller;
use super::limits::RateLimits;
use crate::store::{Store, UsageRecord, now_millis};

const BATCH: usize = 500;
const FLUSH_EVERY: Duration = Duration::from_secs(1);
const QUEUE: usize = 50_000;
/// Plain answers larger than this are passed on without reading their usage.
const MAX_BODY_FOR_USAGE: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct UsageRecorder {
    sender: mpsc::Sender<UsageRecord>,
}

impl UsageRecorder {
    /// Starts the writer task; it ends after the last recorder is dropped
    /// and everything queued is written.
    pub fn start(store: Store) -> (Self, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        (
            Self { sender },
            tokio::spawn(write_batches(store, receiver)),
        )
    }

    pub fn record(&self, record: UsageRecord) {
        if self.sender.try_send(record).is_err() {
            crate::metrics::metrics().usage_dropped();
            tracing::warn!("usage queue full; a usage record was dropped");
        }
    }
}

async fn write_batches(store: Store, mut receiver: mpsc::Receiver<UsageRecord>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let received =
            tokio::time::timeout(FLUSH_EVERY, receiver.recv_many(&mut batch, BATCH)).await;
        let closed = matches!(received, Ok(0));
        if !batch.is_empty() {
            if let Err(err) = store.insert_usage(&batch).await {
                tracing::error!(error = %err, records = batch.len(), "could not write usage records");
            }
            batch.clear();
        }
        if closed {
            return;
        }
    }
}

/// What is known about an answer when its headers arrive.
pub struct AnswerMeta<'a> {
    pub endpoint: &'a str,
    pub model: &'a str,
    pub upstream: &'a str,
    pub status: u16,
    pub streamed: bool,
    pub started: Instant,
}

/// Watches the bytes of one answer as they pass and records its usage when
/// the answer ends, however it ends (finished, failed, or the client left).
pub struct UsageTap {
    recorder: UsageRecorder,
    limits: Arc<RateLimits>,
    caller: Caller,
    record: UsageRecord,
    started: Instant,
    streamed: bool,
    line: Vec<u8>,
    body: Vec<u8>,
    done: bool,
}

impl UsageTap {
    pub fn new(
        recorder: UsageRecorder,
        limits: Arc<RateLimits>,
        caller: Caller,
        answer: AnswerMeta<'_>,
    ) -> Self {
        let record = UsageRecord {
            at: now_millis(),
            user_id: caller.user_id.clone(),
            team_id: caller.team.id.clone(),
            key_id: caller.key_id.clone(),
            endpoint: answer.endpoint.to_owned(),
            model: answer.model.to_owned(),
            upstream: answer.upstream.to_owned(),
            status: i64::from(answer.status),
            streamed: answer.streamed,
            prompt_tokens: 0,
            completion_tokens: 0,
            latency_ms: 0,
        };
        Self {
            recorder,
            limits,
            caller,
            record,
            started: answer.started,
            streamed: answer.streamed,
            line: Vec::new(),
            body: Vec::new(),
            done: false,
        }
    }

    pub fn observe(&mut self, chunk: &[u8]) {
        if self.streamed {
            self.observe_stream(chunk);
        } else if self.body.len() + chunk.len() <= MAX_BODY_FOR_USAGE {
            self.body.extend_from_slice(chunk);
        }
    }

    /// Reads `data:` lines of a server-sent event stream for a usage object.
    fn observe_stream(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            let line = std::mem::take(&mut self.line);
            self.read_usage_line(&line);
            rest = &rest[end + 1..];
        }
        if self.line.len() + rest.len() <= MAX_BODY_FOR_USAGE {
            self.line.extend_from_slice(rest);
        }
    }

    fn read_usage_line(&mut self, line: &[u8]) {
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        if !contains(data, b"\"usage\"") {
            return;
        }
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data.trim_ascii()) {
            self.take_usage(&value);
        }
    }

    fn take_usage(&mut self, value: &serde_json::Value) {
        let usage = &value["usage"];
        if let Some(prompt) = usage["prompt_tokens"].as_i64() {
            self.record.prompt_tokens = prompt;
        }
        if let Some(completion) = usage["completion_tokens"].as_i64() {
            self.record.completion_tokens = completion;
        }
    }

    /// Marks the answer as cut off (upstream failure or timeout).
    pub fn fail(&mut self, status: u16) {
        self.record.status = i64::from(status);
    }

    fn finish(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if !self.streamed
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&self.body)
        {
            self.take_usage(&value);
        }
        self.record.latency_ms =
            i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let tokens = self.record.prompt_tokens + self.record.completion_tokens;
        self.limits.charge_tokens(&self.caller.team, tokens);
        self.recorder.record(self.record.clone());
    }
}

impl Drop for UsageTap {
    fn drop(&mut self) {
        self.finish();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

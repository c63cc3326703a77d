//! Usage recording off the request path: each finished request sends one
//! record into a channel; a background task writes them in batches.
//!
//! Token counts come from the upstream's own `usage` object: the JSON body
//! of a plain answer, or the usage chunk of a stream (OpenAI's
//! `stream_options.include_usage`). Requests whose upstream reports no
//! usage are recorded with zero tokens.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::FutureExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::access::Caller;
use super::limits::RateLimits;
use crate::store::{Store, UsageRecord, now_millis};

/// How long the writer gathers records before it writes them: one
/// transaction per interval however busy the gateway is, instead of one per
/// handful of records (which kept SQLite's thread busy on every request).
const GATHER_FOR: Duration = Duration::from_millis(250);
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
    let mut batch = Vec::new();
    loop {
        // Wait for the first record, let more arrive, then take them all.
        if receiver.recv_many(&mut batch, QUEUE).await == 0 {
            return;
        }
        tokio::time::sleep(GATHER_FOR).await;
        // The queue holds at most QUEUE records: one call takes all of them.
        let _ = receiver.recv_many(&mut batch, QUEUE).now_or_never();

        if let Err(err) = store.insert_usage(&batch).await {
            tracing::error!(error = %err, records = batch.len(), "could not write usage records");
        }
        batch.clear();
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
    /// A plain answer's chunks, kept (not copied) until it ends.
    body: Vec<Bytes>,
    body_len: usize,
    done: bool,
}

/// The part of an answer gatehouse reads; serde skips everything else
/// without building it.
#[derive(Deserialize)]
struct UsagePeek {
    #[serde(default)]
    usage: Option<TokenCounts>,
}

#[derive(Deserialize)]
struct TokenCounts {
    #[serde(default)]
    prompt_tokens: Option<i64>,
    #[serde(default)]
    completion_tokens: Option<i64>,
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
            body_len: 0,
            done: false,
        }
    }

    pub fn observe(&mut self, chunk: &Bytes) {
        if self.streamed {
            self.observe_stream(chunk);
        } else if self.body_len + chunk.len() <= MAX_BODY_FOR_USAGE {
            self.body_len += chunk.len();
            self.body.push(chunk.clone());
        }
    }

    /// Reads `data:` lines of a server-sent event stream for a usage object.
    /// Lines within one chunk are read in place; only a line split across
    /// chunks is gathered in `line`.
    fn observe_stream(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            if self.line.is_empty() {
                self.read_usage_line(&rest[..end]);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..end]);
                self.read_usage_line(&line);
                line.clear();
                self.line = line;
            }
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
        self.take_usage(data.trim_ascii());
    }

    fn take_usage(&mut self, json: &[u8]) {
        let Ok(UsagePeek { usage: Some(usage) }) = serde_json::from_slice(json) else {
            return;
        };
        if let Some(prompt) = usage.prompt_tokens {
            self.record.prompt_tokens = prompt;
        }
        if let Some(completion) = usage.completion_tokens {
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
        if !self.streamed {
            let body = std::mem::take(&mut self.body);
            match body.as_slice() {
                [] => {}
                [whole] => self.take_usage(whole),
                parts => self.take_usage(&parts.concat()),
            }
        }
        self.record.latency_ms =
            i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let tokens = self.record.prompt_tokens + self.record.completion_tokens;
        self.limits.charge_tokens(&self.caller.team, tokens);
        self.recorder.record(std::mem::take(&mut self.record));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TeamRecord;

    fn tap(streamed: bool) -> (UsageTap, mpsc::Receiver<UsageRecord>) {
        let (sender, receiver) = mpsc::channel(4);
        let team = TeamRecord {
            id: "t1".to_owned(),
            name: "default".to_owned(),
            allowed_models: None,
            default_completion_model: None,
            default_chat_model: None,
            requests_per_minute: None,
            tokens_per_minute: None,
            updated_at: 0,
        };
        let caller = Caller {
            key_id: "k1".to_owned(),
            user_id: "u1".to_owned(),
            username: "alice".to_owned(),
            team: Arc::new(team),
        };
        let meta = AnswerMeta {
            endpoint: "chat/completions",
            model: "m",
            upstream: "up",
            status: 200,
            streamed,
            started: Instant::now(),
        };
        let tap = UsageTap::new(
            UsageRecorder { sender },
            Arc::new(RateLimits::default()),
            caller,
            meta,
        );
        (tap, receiver)
    }

    fn recorded(tap: UsageTap, mut receiver: mpsc::Receiver<UsageRecord>) -> UsageRecord {
        drop(tap);
        receiver.try_recv().expect("one record per answer")
    }

    #[test]
    fn plain_answer_split_over_chunks_gives_its_token_counts() {
        let (mut tap, receiver) = tap(false);
        tap.observe(&Bytes::from_static(
            br#"{"id":"x","choices":[{"text":"hi"}],"usa"#,
        ));
        tap.observe(&Bytes::from_static(
            br#"ge":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
        ));
        let record = recorded(tap, receiver);
        assert_eq!((record.prompt_tokens, record.completion_tokens), (7, 3));
        assert_eq!(
            (record.user_id.as_str(), record.team_id.as_str()),
            ("u1", "t1")
        );
    }

    #[test]
    fn stream_usage_chunk_split_across_reads_is_found() {
        let (mut tap, receiver) = tap(true);
        tap.observe(&Bytes::from_static(
            b"data: {\"choices\":[{\"delta\":{}}]}\n\n",
        ));
        tap.observe(&Bytes::from_static(
            b"data: {\"choices\":[],\"usage\":{\"prompt_",
        ));
        tap.observe(&Bytes::from_static(
            b"tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n",
        ));
        let record = recorded(tap, receiver);
        assert_eq!((record.prompt_tokens, record.completion_tokens), (5, 2));
    }

    #[test]
    fn answers_without_usage_or_not_json_count_zero_tokens() {
        for body in [
            &b"{\"choices\":[]}"[..],
            b"not json",
            b"{\"usage\":null}",
            b"",
        ] {
            let (mut tap, receiver) = tap(false);
            tap.observe(&Bytes::copy_from_slice(body));
            let record = recorded(tap, receiver);
            assert_eq!((record.prompt_tokens, record.completion_tokens), (0, 0));
        }
    }

    #[test]
    fn a_failed_answer_keeps_the_failure_status() {
        let (mut tap, receiver) = tap(true);
        tap.fail(504);
        assert_eq!(recorded(tap, receiver).status, 504);
    }
}

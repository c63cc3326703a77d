//! Prometheus metrics, kept in process and rendered in the text format at
//! `/metrics`: requests and their latency by matched route, upstream
//! errors, and key-check cache hits.
//!
//! Labels come only from matched routes, upstream names and fixed words,
//! never from raw URIs or keys, so their number stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    /// Counts by route, then status: looked up by `&str`, so a request to a
    /// route seen before allocates nothing here.
    requests: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    upstream_errors: Mutex<BTreeMap<(String, &'static str), u64>>,
    key_cache_hits: AtomicU64,
    key_cache_misses: AtomicU64,
    keys_refused: AtomicU64,
    usage_dropped: AtomicU64,
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    pub fn observe_request(&self, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            let by_status = match requests.get_mut(route) {
                Some(by_status) => by_status,
                None => requests.entry(route.to_owned()).or_default(),
            };
            *by_status.entry(status).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let histogram = match latency.get_mut(route) {
                Some(histogram) => histogram,
                None => latency.entry(route.to_owned()).or_default(),
            };
            if histogram.counts.is_empty() {
                histogram.counts = vec![0; BUCKETS.len()];
            }
            let seconds = elapsed.as_secs_f64();
            if let Some(index) = BUCKETS.iter().position(|bound| seconds <= *bound) {
                histogram.counts[index] += 1;
            }
            histogram.sum += seconds;
            histogram.total += 1;
        }
    }

    pub fn upstream_error(&self, upstream: &str, kind: &'static str) {
        if let Ok(mut errors) = self.upstream_errors.lock() {
            *errors.entry((upstream.to_owned(), kind)).or_default() += 1;
        }
    }

    pub fn key_check(&self, cached: bool) {
        let counter = if cached {
            &self.key_cache_hits
        } else {
            &self.key_cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn key_refused(&self) {
        self.keys_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn usage_dropped(&self) {
        self.usage_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP gatehouse_http_requests_total HTTP requests by matched route and status.\n",
        );
        out.push_str("# TYPE gatehouse_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for (route, by_status) in requests.iter() {
                let route = escape(route);
                for (status, count) in by_status {
                    let _ = writeln!(
                        out,
                        "gatehouse_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                    );
                }
            }
        }
        out.push_str(
            "# HELP gatehouse_http_request_duration_seconds Time to the response headers.\n",
        );
        out.push_str("# TYPE gatehouse_http_request_duration_seconds histogram\n");
        if let Ok(latency) = self.latency.lock() {
            for (route, histogram) in latency.iter() {
                let route = escape(route);
                let mut cumulative = 0;
                for (bound, count) in BUCKETS.iter().zip(&histogram.counts) {
                    cumulative += count;
                    let _ = writeln!(
                        out,
                        "gatehouse_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "gatehouse_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     gatehouse_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     gatehouse_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    histogram.total, histogram.sum, histogram.total
                );
            }
        }
        out.push_str(
            "# HELP gatehouse_upstream_errors_total Failed upstream calls by upstream and kind.\n",
        );
        out.push_str("# TYPE gatehouse_upstream_errors_total counter\n");
        if let Ok(errors) = self.upstream_errors.lock() {
            for ((upstream, kind), count) in errors.iter() {
                let _ = writeln!(
                    out,
                    "gatehouse_upstream_errors_total{{upstream=\"{}\",kind=\"{kind}\"}} {count}",
                    escape(upstream)
                );
            }
        }
        let counters = [
            (
                "gatehouse_key_checks_total{cache=\"hit\"}",
                &self.key_cache_hits,
                "Key checks served from memory or the database.",
            ),
            (
                "gatehouse_key_checks_total{cache=\"miss\"}",
                &self.key_cache_misses,
                "",
            ),
            (
                "gatehouse_keys_refused_total",
                &self.keys_refused,
                "Requests refused for a missing or invalid key.",
            ),
            (
                "gatehouse_usage_records_dropped_total",
                &self.usage_dropped,
                "Usage records lost to a full queue.",
            ),
        ];
        for (name, counter, help) in counters {
            let family = name.split('{').next().unwrap_or(name);
            if !help.is_empty() {
                let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} counter");
            }
            let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.observe_request("/v1/models", 200, Duration::from_millis(3));
        metrics.observe_request("/v1/models", 200, Duration::from_millis(30));
        metrics.upstream_error("vllm", "unreachable");
        metrics.key_check(true);
        let text = metrics.render();
        assert!(
            text.contains("gatehouse_http_requests_total{route=\"/v1/models\",status=\"200\"} 2")
        );
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(
            text.contains(
                "gatehouse_upstream_errors_total{upstream=\"vllm\",kind=\"unreachable\"} 1"
            )
        );
        assert!(text.contains("gatehouse_key_checks_total{cache=\"hit\"} 1"));
    }
}

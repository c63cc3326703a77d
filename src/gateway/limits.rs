//! Per-team rate limits: requests per minute and tokens per minute, as
//! token buckets that refill continuously. Changing a team's limit starts
//! its budget afresh at the new size; other changes leave it as it is.
//!
//! Limitation: buckets live in this process, so with N replicas a team can
//! use up to N times its limit. The README says so.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::error::GatewayError;
use crate::store::TeamRecord;

struct Bucket {
    level: f64,
    /// The limit this bucket was filled for.
    per_minute: f64,
    updated: Instant,
}

impl Bucket {
    fn full(per_minute: f64) -> Self {
        Self {
            level: per_minute,
            per_minute,
            updated: Instant::now(),
        }
    }

    fn refill(&mut self, per_minute: f64) {
        let elapsed = self.updated.elapsed().as_secs_f64();
        self.level = (self.level + elapsed * per_minute / 60.0).min(per_minute);
        self.updated = Instant::now();
    }

    /// Seconds until the level reaches 1 again.
    fn wait_seconds(&self, per_minute: f64) -> u64 {
        let missing = 1.0 - self.level;
        ((missing * 60.0 / per_minute).ceil() as u64).max(1)
    }
}

/// One bucket per team, for one kind of budget.
#[derive(Default)]
struct TeamBuckets(Mutex<HashMap<String, Bucket>>);

impl TeamBuckets {
    /// Runs `step` on the team's bucket, refilled up to now; `None` if the lock is poisoned.
    fn with<R>(
        &self,
        team_id: &str,
        per_minute: f64,
        step: impl FnOnce(&mut Bucket) -> R,
    ) -> Option<R> {
        let mut buckets = self.0.lock().ok()?;
        match buckets.get_mut(team_id) {
            Some(bucket) if bucket.per_minute == per_minute => {}
            Some(bucket) => *bucket = Bucket::full(per_minute),
            None => {
                buckets.insert(team_id.to_owned(), Bucket::full(per_minute));
            }
        }
        let bucket = buckets.get_mut(team_id)?;
        bucket.refill(per_minute);
        Some(step(bucket))
    }
}

#[derive(Default)]
pub struct RateLimits {
    requests: TeamBuckets,
    tokens: TeamBuckets,
}

impl RateLimits {
    /// Admits one request of `team`, or says how long to wait.
    pub fn admit(&self, team: &TeamRecord) -> Result<(), GatewayError> {
        if let Some(limit) = team.tokens_per_minute.filter(|l| *l > 0) {
            let per_minute = limit as f64;
            let wait = self
                .tokens
                .with(&team.id, per_minute, |bucket| {
                    (bucket.level < 1.0).then(|| bucket.wait_seconds(per_minute))
                })
                .ok_or(GatewayError::Internal)?;
            if let Some(retry_after_seconds) = wait {
                return Err(GatewayError::RateLimited {
                    message: format!(
                        "team \"{}\" used its {limit} tokens per minute; try again shortly",
                        team.name
                    ),
                    retry_after_seconds,
                });
            }
        }

        if let Some(limit) = team.requests_per_minute.filter(|l| *l > 0) {
            let per_minute = limit as f64;
            let wait = self
                .requests
                .with(&team.id, per_minute, |bucket| {
                    if bucket.level < 1.0 {
                        return Some(bucket.wait_seconds(per_minute));
                    }
                    bucket.level -= 1.0;
                    None
                })
                .ok_or(GatewayError::Internal)?;
            if let Some(retry_after_seconds) = wait {
                return Err(GatewayError::RateLimited {
                    message: format!(
                        "team \"{}\" reached its limit of {limit} requests per minute",
                        team.name
                    ),
                    retry_after_seconds,
                });
            }
        }
        Ok(())
    }

    /// Charges tokens a finished request used against the team's budget.
    pub fn charge_tokens(&self, team: &TeamRecord, tokens: i64) {
        if let Some(limit) = team.tokens_per_minute.filter(|l| *l > 0) {
            self.tokens.with(&team.id, limit as f64, |bucket| {
                bucket.level -= tokens as f64
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(rpm: Option<i64>, tpm: Option<i64>) -> TeamRecord {
        TeamRecord {
            id: "t".into(),
            name: "t".into(),
            allowed_models: None,
            default_completion_model: None,
            default_chat_model: None,
            requests_per_minute: rpm,
            tokens_per_minute: tpm,
            updated_at: 0,
        }
    }

    #[test]
    fn requests_beyond_the_limit_wait() {
        let limits = RateLimits::default();
        let team = team(Some(2), None);
        assert!(limits.admit(&team).is_ok());
        assert!(limits.admit(&team).is_ok());
        let Err(GatewayError::RateLimited {
            retry_after_seconds,
            ..
        }) = limits.admit(&team)
        else {
            panic!("third request admitted");
        };
        assert!((1..=30).contains(&retry_after_seconds));
    }

    #[test]
    fn tokens_are_charged_after_the_fact() {
        let limits = RateLimits::default();
        let team = team(None, Some(100));
        assert!(limits.admit(&team).is_ok());
        limits.charge_tokens(&team, 150);
        assert!(limits.admit(&team).is_err());
        assert!(limits.admit(&self::team(None, None)).is_ok());
    }

    #[test]
    fn a_changed_limit_starts_afresh_and_an_unchanged_one_does_not() {
        let limits = RateLimits::default();
        assert!(limits.admit(&team(Some(1), None)).is_ok());
        assert!(limits.admit(&team(Some(1), None)).is_err());
        assert!(limits.admit(&team(Some(2), None)).is_ok());
        assert!(limits.admit(&team(Some(2), None)).is_ok());
        assert!(limits.admit(&team(Some(2), None)).is_err());
    }
}

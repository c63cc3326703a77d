//! Throttling of failed sign-in attempts per client address, so the admin
//! token cannot be guessed by brute force.
//!
//! Limitation: counts are kept in memory, per replica; N replicas allow N
//! times the attempts. With tokens of 190+ bits this still makes guessing
//! hopeless.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_TRACKED_ADDRESSES: usize = 10_000;

/// Allows `max_failures` failed attempts per key (a client address, a user
/// name) within `window`.
pub struct AttemptThrottle<K = IpAddr> {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Hash + Eq + Clone> AttemptThrottle<K> {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when the address has failed too often.
    pub fn check(&self, address: &K) -> Result<(), u64> {
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match failures.get(address) {
            Some(&(count, since)) if count >= self.max_failures => {
                let elapsed = since.elapsed();
                if elapsed < self.window {
                    Err((self.window - elapsed).as_secs().max(1))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, address: &K) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() >= MAX_TRACKED_ADDRESSES {
            let window = self.window;
            failures.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = failures
            .entry(address.clone())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn record_success(&self, address: &K) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(address);
    }
}

/// Throttles of password sign-in: per user name and per client address.
pub struct LoginThrottle {
    pub by_name: AttemptThrottle<String>,
    pub by_address: AttemptThrottle<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            by_name: AttemptThrottle::new(5, Duration::from_secs(900)),
            by_address: AttemptThrottle::new(20, Duration::from_secs(900)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_and_success_resets() {
        let throttle: AttemptThrottle = AttemptThrottle::new(3, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(throttle.check(&ip).is_ok());
            throttle.record_failure(&ip);
        }
        let wait = throttle.check(&ip).unwrap_err();
        assert!(wait > 0 && wait <= 60);
        assert!(throttle.check(&"10.0.0.2".parse().unwrap()).is_ok());
        throttle.record_success(&ip);
        assert!(throttle.check(&ip).is_ok());
    }
}

//! Rate limits for the unauthenticated app API: fixed one-minute windows per key
//! (client IP, or service + user), answered with 429 and `Retry-After`.
//!
//! Counters live in this instance's memory: with several instances behind a load
//! balancer each enforces its own share, which bounds online guessing together
//! with the enrollment's five-guess limit kept in the database.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::StatusCode;
use softtoken_protocol::problem::codes;

use crate::error::ApiError;

const WINDOW_MS: i64 = 60_000;
/// Above this many tracked keys, expired windows are swept out.
const SWEEP_AT: usize = 100_000;

/// Requests per minute per key.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per key per minute (0: unlimited).
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key` at `now_ms`; 429 with the seconds to wait when over.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), ApiError> {
        if self.per_minute == 0 {
            return Ok(());
        }
        // A poisoned lock only means another request panicked mid-update; the counts
        // are still usable.
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now_ms - *start < WINDOW_MS);
        }
        let entry = windows.entry(key.to_string()).or_insert((now_ms, 0));
        if now_ms - entry.0 >= WINDOW_MS {
            *entry = (now_ms, 0);
        }
        if entry.1 >= self.per_minute {
            let wait_ms = WINDOW_MS - (now_ms - entry.0);
            let retry_after = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                format!("too many requests: try again in {retry_after} s"),
            )
            .with_retry_after(retry_after));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let limiter = RateLimiter::new(2);
        assert!(limiter.check("a", 0).is_ok());
        assert!(limiter.check("a", 10).is_ok());
        let err = limiter.check("a", 20_000).unwrap_err();
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(err.retry_after, Some(40));
        assert!(limiter.check("b", 20_000).is_ok());
        assert!(limiter.check("a", 60_000).is_ok());
        assert!(RateLimiter::new(0).check("a", 0).is_ok());
    }
}

//! Rate limits for the unauthenticated app API: requests per key (client address, or
//! service + user) in fixed one-minute windows, answered with 429 and `Retry-After`.
//!
//! The windows are aligned to the clock, so a whole window's counts are dropped at once
//! when the next begins: the cost per request stays constant however many keys a minute
//! brings (no sweep of the map), and the map holds at most one minute's keys, never more
//! than [`MAX_KEYS`]. Counters live in this instance's memory: with several instances
//! behind a load balancer each enforces its own share, which bounds online guessing
//! together with the enrollment's five-guess limit kept in the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::http::StatusCode;
use softtoken_protocol::problem::codes;

use crate::error::ApiError;

const WINDOW_MS: i64 = 60_000;

/// Keys one window may hold unless told otherwise. A flood of made-up keys beyond it is
/// refused (and logged) rather than allowed to grow the map.
pub const MAX_KEYS: usize = 1_000_000;

/// Requests per minute per key.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    max_keys: usize,
    state: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// Which window (`now / WINDOW_MS`) the counts are of.
    index: i64,
    counts: HashMap<String, u32>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per key per minute (0: unlimited).
    pub fn new(per_minute: u32) -> Self {
        Self::with_max_keys(per_minute, MAX_KEYS)
    }

    /// A limiter holding at most `max_keys` keys a window.
    pub fn with_max_keys(per_minute: u32, max_keys: usize) -> Self {
        RateLimiter {
            per_minute,
            max_keys,
            state: Mutex::new(Window::default()),
        }
    }

    /// Counts one request for `key` at `now_ms`; 429 with the seconds to wait when over.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), ApiError> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let index = now_ms.div_euclid(WINDOW_MS);
        // A poisoned lock only means another request panicked mid-update; the counts
        // are still usable.
        let mut window = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if window.index != index {
            window.index = index;
            window.counts.clear();
        }
        let full = window.counts.len() >= self.max_keys;
        let count = match window.counts.get_mut(key) {
            Some(count) => count,
            None if full => {
                tracing::warn!(
                    keys = self.max_keys,
                    "rate limiter full: refusing new clients until the minute ends"
                );
                return Err(limited(index, now_ms));
            }
            None => window.counts.entry(key.to_owned()).or_insert(0),
        };
        if *count >= self.per_minute {
            return Err(limited(index, now_ms));
        }
        *count += 1;
        Ok(())
    }

    /// Keys counted in the current window (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .counts
            .len()
    }
}

fn limited(index: i64, now_ms: i64) -> ApiError {
    let wait_ms = (index + 1) * WINDOW_MS - now_ms;
    let retry_after = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        codes::RATE_LIMITED,
        format!("too many requests: try again in {retry_after} s"),
    )
    .with_retry_after(retry_after)
}

/// The rate-limit key of a client address: the address itself, or for IPv6 its /64, the
/// block one subscriber is given (counting each of its addresses apart would let one
/// client have 2^64 buckets).
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
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

    #[test]
    fn a_new_window_drops_the_last_ones_keys() {
        let limiter = RateLimiter::new(5);
        for i in 0..1000 {
            limiter.check(&format!("client-{i}"), 59_000).unwrap();
        }
        assert_eq!(limiter.keys(), 1000);
        limiter.check("late", 60_001).unwrap();
        assert_eq!(limiter.keys(), 1);
    }

    #[test]
    fn a_full_window_refuses_new_keys_but_not_known_ones() {
        let limiter = RateLimiter::with_max_keys(5, 2);
        limiter.check("a", 0).unwrap();
        limiter.check("b", 0).unwrap();
        assert!(limiter.check("c", 0).is_err());
        assert!(limiter.check("a", 0).is_ok());
        assert!(limiter.check("c", 60_000).is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        assert_eq!(client_key("203.0.113.5".parse().unwrap()), "203.0.113.5");
    }
}

//! The retry policy: which answers are worth another attempt, and how long to wait before it.
//!
//! Plain data and arithmetic; the HTTP layer (`http.rs`) applies it to every request.

use std::time::Duration;

/// When and how often a request is tried again.
///
/// A request is retried when it failed before any answer (connection refused or reset, a pooled
/// connection the server had closed) or got 408, 429, 499, 500, 502, 503, 504 or 522, and only
/// when it is safe to send again: GET and HEAD, PUT and DELETE of manifests and tags (their
/// bodies are in memory). Streamed uploads are never replayed, and the closing `PUT` of an upload
/// is never replayed blindly: after a lost answer the registry is asked whether the blob is there.
///
/// Waits follow exponential backoff with full jitter (a random wait between zero and
/// `initial_backoff * 2^n`, capped at `max_backoff`); a `Retry-After` from the registry replaces
/// the computed wait when it is within `max_retry_after`, and ends the retries when it is longer.
/// All waits of one request together stay within `max_total_wait`. A cancel or a call deadline
/// (see [`Client::with_cancel`](crate::Client::with_cancel)) ends the waiting at once.
///
/// ```
/// use std::time::Duration;
/// let patient = dockreg::RetryPolicy::default()
///     .max_attempts(6)
///     .max_total_wait(Duration::from_secs(120));
/// let client = dockreg::Client::builder().retry(patient).build()?;
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_total_wait: Duration,
    pub(crate) max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_total_wait: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// Most attempts a policy may ask for, so that no setting makes a call run without end.
pub const MAX_ATTEMPTS: u32 = 20;

impl RetryPolicy {
    /// No retries: every request is sent once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts per request, the first included (1 to [`MAX_ATTEMPTS`]; values outside are
    /// clamped). Default: 4.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.clamp(1, MAX_ATTEMPTS);
        self
    }

    /// Upper bound of the first wait; each later one doubles it. Default: 250 ms.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Longest single computed wait. Default: 8 s.
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Longest time spent waiting between the attempts of one request, all waits together.
    /// Default: 30 s.
    pub fn max_total_wait(mut self, d: Duration) -> Self {
        self.max_total_wait = d;
        self
    }

    /// Longest `Retry-After` honoured; a registry asking for a longer wait gets its error
    /// returned at once (with [`RegistryError::retry_after`](crate::RegistryError::retry_after)
    /// set). Default: 30 s.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// The wait before attempt `attempt + 1` (after `attempt` failures), or `None` when no
    /// further attempt may be made. `waited` is what the earlier waits of this request took.
    pub(crate) fn next_wait(
        &self,
        attempt: u32,
        waited: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = match retry_after {
            Some(d) if d > self.max_retry_after => return None,
            Some(d) => d,
            None => {
                let exp = attempt.saturating_sub(1).min(30);
                let ceiling = self
                    .initial_backoff
                    .saturating_mul(1u32 << exp)
                    .min(self.max_backoff);
                jitter(ceiling)
            }
        };
        (waited + wait <= self.max_total_wait).then_some(wait)
    }
}

/// True for the statuses that say "try again later".
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 499 | 500 | 502 | 503 | 504 | 522)
}

/// A uniformly random duration in `[0, ceiling]` (full jitter). Randomness comes from the
/// standard library's per-process hash keys plus a counter: good enough to spread retries,
/// and no extra crate.
fn jitter(ceiling: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(h.finish() % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::default();
        assert!(p.next_wait(1, Duration::ZERO, None).is_some());
        assert!(p.next_wait(3, Duration::ZERO, None).is_some());
        assert!(p.next_wait(4, Duration::ZERO, None).is_none());
        assert!(
            RetryPolicy::none()
                .next_wait(1, Duration::ZERO, None)
                .is_none()
        );
        assert_eq!(
            RetryPolicy::default().max_attempts(1000).max_attempts,
            MAX_ATTEMPTS
        );
        assert_eq!(RetryPolicy::default().max_attempts(0).max_attempts, 1);
    }

    #[test]
    fn waits_grow_and_stay_under_the_cap() {
        let p = RetryPolicy::default();
        for attempt in 1..4 {
            let ceiling = Duration::from_millis(250) * (1 << (attempt - 1));
            for _ in 0..100 {
                let w = p.next_wait(attempt, Duration::ZERO, None).unwrap();
                assert!(w <= ceiling, "{w:?} > {ceiling:?}");
            }
        }
        let big = RetryPolicy::default().max_attempts(20);
        for _ in 0..100 {
            assert!(big.next_wait(19, Duration::ZERO, None).unwrap() <= Duration::from_secs(8));
        }
    }

    #[test]
    fn jitter_spreads() {
        let waits: std::collections::BTreeSet<_> =
            (0..50).map(|_| jitter(Duration::from_secs(1))).collect();
        assert!(waits.len() > 40);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.next_wait(1, Duration::ZERO, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            p.next_wait(1, Duration::ZERO, Some(Duration::from_secs(31))),
            None
        );
        assert_eq!(
            p.next_wait(1, Duration::from_secs(29), Some(Duration::from_secs(2))),
            None
        );
    }

    #[test]
    fn statuses() {
        for s in [408, 429, 499, 500, 502, 503, 504, 522] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 405, 501, 505] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}

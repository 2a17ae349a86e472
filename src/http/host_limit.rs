//! One limit per host on requests in flight, shared by every thread and clone of a client.
//!
//! A request holds a permit of its target's host (`host:port`) from the moment it is sent until
//! its answer's headers are in: that is the time a registry spends on it. Bodies read after
//! that (a manifest, a streamed layer) hold none, so code that keeps a response open while it
//! sends another request to the same host can never wait on itself.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, PoisonError};

use crate::cancel::{CANCEL_POLL, CallContext};
use crate::error::Result;

/// Requests in flight per host, at most `limit` each.
pub(crate) struct HostLimits {
    limit: usize,
    in_flight: Mutex<HashMap<String, usize>>,
    freed: Condvar,
}

impl HostLimits {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            in_flight: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        }
    }

    /// Waits for a permit of `host`, giving up (with the call's error) when the call is
    /// cancelled or its deadline passes while it waits.
    pub(crate) fn acquire<'a>(
        &'a self,
        host: &str,
        call: &CallContext,
        method: &str,
        url: &str,
    ) -> Result<Permit<'a>> {
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            let n = map.entry(host.to_string()).or_insert(0);
            if *n < self.limit {
                *n += 1;
                return Ok(Permit {
                    limits: self,
                    host: host.to_string(),
                });
            }
            drop(map);
            call.check(method, url)?;
            let mut step = CANCEL_POLL;
            if let Some(r) = call.remaining() {
                step = step.min(r);
            }
            map = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // A permit freed between the check above and this wait is seen on the next turn
            // at the latest (the wait is sliced).
            map = self
                .freed
                .wait_timeout(map, step)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// A request in flight to one host; dropping it lets the next one go.
pub(crate) struct Permit<'a> {
    limits: &'a HostLimits,
    host: String,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut map = self
            .limits
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.host);
            }
        }
        drop(map);
        self.limits.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::CancelToken;
    use crate::error::Error;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    #[test]
    fn never_more_than_the_limit_per_host() {
        let limits = HostLimits::new(3);
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let other = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for i in 0..12 {
                let (limits, now, peak, other) = (&limits, &now, &peak, &other);
                s.spawn(move || {
                    let host = if i % 4 == 3 { "b:1" } else { "a:1" };
                    let call = CallContext::default();
                    let _p = limits.acquire(host, &call, "GET", "http://x/").unwrap();
                    if host == "a:1" {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    } else {
                        other.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(other.load(Ordering::SeqCst), 3);
        assert!(limits.in_flight.lock().unwrap().is_empty());
    }

    #[test]
    fn a_waiting_request_sees_its_cancel() {
        let limits = HostLimits::new(1);
        let quiet = CallContext::default();
        let _held = limits.acquire("a:1", &quiet, "GET", "http://x/").unwrap();
        let token = CancelToken::new();
        let call = CallContext {
            cancel: Some(token.clone()),
            deadline: None,
        };
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            token.cancel();
        });
        let started = Instant::now();
        let r = limits.acquire("a:1", &call, "GET", "http://x/");
        t.join().unwrap();
        assert!(matches!(r, Err(Error::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

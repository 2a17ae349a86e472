//! One limit per host on requests in flight, shared by every thread and clone of a client.
//!
//! A request holds a permit of its target's origin (`scheme://host:port`) from the moment it is
//! sent until its answer's headers are in: that is the time a registry spends on it. Bodies
//! read after that (a manifest, a streamed layer) hold none, so code that keeps a response open
//! while it sends another request to the same host can never wait on itself. An upload holds
//! its permit while its body is produced, and the body's reader or progress callback may send
//! requests of its own from the same thread: a thread that already holds a permit of a host
//! goes through without waiting (see [`HostLimits::acquire`]), so it cannot wait on itself
//! either.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::cancel::{CANCEL_POLL, CallContext};
use crate::error::{Error, Result, TransportErrorKind};

thread_local! {
    /// The (limits, host) pairs whose permits this thread holds, to let its nested requests
    /// through. The limits are told apart by address: one `HostLimits` per client.
    static HELD: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
}

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

    fn id(&self) -> usize {
        self as *const Self as usize
    }

    /// Waits for a permit of `host`, giving up (with the call's error) when the call is
    /// cancelled or its deadline passes while it waits, and with a timeout error after
    /// `max_wait` (the metadata timeout for metadata requests; `None`: transfers wait as long
    /// as the call allows). A thread that already holds a permit of `host` (a request sent
    /// from an upload's reader or progress callback) gets one at once, not counted.
    pub(crate) fn acquire<'a>(
        &'a self,
        host: &str,
        call: &CallContext,
        method: &str,
        url: &str,
        max_wait: Option<Duration>,
    ) -> Result<Permit<'a>> {
        let nested = HELD.with(|held| {
            held.borrow()
                .iter()
                .any(|(id, h)| *id == self.id() && h == host)
        });
        if nested {
            return Ok(Permit {
                limits: self,
                host: host.to_string(),
                counted: false,
            });
        }
        let started = Instant::now();
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            let n = map.entry(host.to_string()).or_insert(0);
            if *n < self.limit {
                *n += 1;
                HELD.with(|held| held.borrow_mut().push((self.id(), host.to_string())));
                return Ok(Permit {
                    limits: self,
                    host: host.to_string(),
                    counted: true,
                });
            }
            drop(map);
            call.check(method, url)?;
            let mut step = CANCEL_POLL;
            if let Some(r) = call.remaining() {
                step = step.min(r);
            }
            if let Some(max) = max_wait {
                let left = max.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(Error::Transport {
                        method: method.to_string(),
                        url: crate::url::without_query(url).to_string(),
                        kind: TransportErrorKind::Timeout,
                        message: format!(
                            "waited {} ms for one of the {} requests in flight to this host \
                             to end (max_concurrency)",
                            max.as_millis(),
                            self.limit
                        ),
                        attempts: 1,
                    });
                }
                step = step.min(left);
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
    /// False for a nested request of a thread that already holds a permit of the host.
    counted: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let id = self.limits.id();
        HELD.with(|held| {
            let mut held = held.borrow_mut();
            if let Some(i) = held
                .iter()
                .rposition(|(h_id, h)| *h_id == id && *h == self.host)
            {
                held.swap_remove(i);
            }
        });
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
        // Every waiter looks: one Condvar serves all hosts, and a waiter of another host
        // woken alone would go back to sleep while this host's waiter slept on.
        self.limits.freed.notify_all();
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
                    let _p = limits
                        .acquire(host, &call, "GET", "http://x/", None)
                        .unwrap();
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
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (taken, is_taken) = std::sync::mpsc::channel();
        let limits = &limits;
        std::thread::scope(|s| {
            s.spawn(move || {
                let quiet = CallContext::default();
                let _held = limits
                    .acquire("a:1", &quiet, "GET", "http://x/", None)
                    .unwrap();
                taken.send(()).unwrap();
                let _ = wait.recv();
            });
            is_taken.recv().unwrap();
            let token = CancelToken::new();
            let call = CallContext {
                cancel: Some(token.clone()),
                deadline: None,
            };
            let t = s.spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                token.cancel();
            });
            let started = Instant::now();
            let r = limits.acquire("a:1", &call, "GET", "http://x/", None);
            t.join().unwrap();
            assert!(matches!(r, Err(Error::Cancelled)));
            assert!(started.elapsed() < Duration::from_secs(2));
            // A metadata request gives up after its own bound, with a timeout that says why.
            let started = Instant::now();
            let quiet = CallContext::default();
            let r = limits.acquire(
                "a:1",
                &quiet,
                "GET",
                "http://x/",
                Some(Duration::from_millis(150)),
            );
            let waited = started.elapsed();
            match r {
                Err(Error::Transport { kind, message, .. }) => {
                    assert_eq!(kind, TransportErrorKind::Timeout);
                    assert!(message.contains("max_concurrency"), "{message}");
                }
                other => panic!("expected a timeout, got {:?}", other.map(|_| ())),
            }
            assert!(waited >= Duration::from_millis(150) && waited < Duration::from_secs(2));
            drop(release);
        });
    }

    /// A request sent from the thread that holds the host's only permit (an upload's reader
    /// calling the registry) goes through at once instead of waiting on itself, and is not
    /// counted: the permit count is back to zero when the outer one ends.
    #[test]
    fn a_nested_request_on_the_holding_thread_goes_through() {
        let limits = HostLimits::new(1);
        let call = CallContext::default();
        let outer = limits
            .acquire("a:1", &call, "PUT", "http://x/", None)
            .unwrap();
        let started = Instant::now();
        let inner = limits
            .acquire(
                "a:1",
                &call,
                "HEAD",
                "http://x/",
                Some(Duration::from_secs(5)),
            )
            .unwrap();
        assert!(started.elapsed() < Duration::from_millis(50));
        assert!(!inner.counted);
        drop(inner);
        assert_eq!(limits.in_flight.lock().unwrap().get("a:1"), Some(&1));
        drop(outer);
        assert!(limits.in_flight.lock().unwrap().is_empty());
        // Another host is still limited on its own.
        let b = limits
            .acquire("b:1", &call, "GET", "http://y/", None)
            .unwrap();
        assert!(b.counted);
    }
}

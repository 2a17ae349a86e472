//! Cancellation and per-call deadlines: what a caller can put around any operation.
//!
//! A [`CancelToken`] is a shared flag. A client made with [`Client::with_cancel`] or
//! [`Client::with_deadline`] carries a `CallContext`; the HTTP layer checks it before each
//! request and between backoff sleeps, and a thread-local copy of the token lets the socket
//! layer notice a cancel while it is blocked waiting for bytes (see `http::watch`).
//!
//! [`Client::with_cancel`]: crate::Client::with_cancel
//! [`Client::with_deadline`]: crate::Client::with_deadline

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, TransportErrorKind};

/// A cheap, cloneable cancel switch: [`cancel`](Self::cancel) it from any thread and every
/// operation of every client carrying it ends promptly with [`Error::Cancelled`].
///
/// "Promptly" means within about [`CANCEL_POLL`] while waiting for a registry's answer or body
/// bytes, at the next request or chunk otherwise. A write blocked on a registry that stopped
/// reading ends at the client's stall timeout.
///
/// ```no_run
/// let token = dockreg::CancelToken::new();
/// let client = dockreg::Client::new()?.with_cancel(&token);
/// let stopper = token.clone();
/// std::thread::spawn(move || { std::thread::sleep(std::time::Duration::from_secs(5)); stopper.cancel(); });
/// let repo: dockreg::Reference = "registry.example.com/big/repo".parse()?;
/// match client.list_tags(&repo) {
///     Err(dockreg::Error::Cancelled) => eprintln!("gave up after 5 s"),
///     other => println!("{:?}", other?.len()),
/// }
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

/// How often a blocked read looks at its cancel token.
pub const CANCEL_POLL: Duration = Duration::from_millis(100);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every operation carrying this token (and every clone of it). It cannot be undone.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// True once [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CancelToken")
            .field(&self.is_cancelled())
            .finish()
    }
}

/// What a caller put around its calls: a cancel token and a deadline, both optional.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallContext {
    pub cancel: Option<CancelToken>,
    pub deadline: Option<Instant>,
}

impl CallContext {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }

    /// Time left before the deadline (`None`: no deadline).
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// `Err` when the call must stop now: cancelled, or its deadline passed.
    pub(crate) fn check(&self, method: &str, url: &str) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Cancelled);
        }
        if self.remaining().is_some_and(|r| r.is_zero()) {
            return Err(self.deadline_error(method, url));
        }
        Ok(())
    }

    pub(crate) fn deadline_error(&self, method: &str, url: &str) -> Error {
        Error::Transport {
            method: method.to_string(),
            url: crate::url::without_query(url).to_string(),
            kind: TransportErrorKind::Timeout,
            message: "the call's deadline passed".into(),
            attempts: 1,
        }
    }

    /// Sleeps `d`, waking early (with `Err`) when cancelled; never sleeps past the deadline.
    pub(crate) fn sleep(&self, d: Duration, method: &str, url: &str) -> Result<()> {
        let Some(end) = Instant::now().checked_add(d) else {
            // Too long to be a point in time: sleep until the deadline, or cancelled.
            return self.sleep(Duration::from_secs(365 * 24 * 3600), method, url);
        };
        loop {
            self.check(method, url)?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            let mut step = (end - now).min(CANCEL_POLL);
            if let Some(r) = self.remaining() {
                step = step.min(r);
            }
            std::thread::sleep(step);
        }
    }

    /// Makes this context's token visible to the socket layer of this thread until the guard
    /// is dropped (nested uses restore the outer one).
    pub(crate) fn enter(&self) -> Entered {
        let previous = CURRENT.with(|c| c.replace(self.cancel.clone()));
        Entered { previous }
    }
}

thread_local! {
    /// The cancel token of the call running on this thread, for `http::watch`.
    static CURRENT: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// True when the call running on this thread has a cancel token (so waits must be sliced).
pub(crate) fn current_is_watched() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// True when the call running on this thread was cancelled.
pub(crate) fn current_is_cancelled() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(CancelToken::is_cancelled))
}

/// Restores the previous thread-local token when dropped.
pub(crate) struct Entered {
    previous: Option<CancelToken>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_ends_early_on_cancel() {
        let token = CancelToken::new();
        let ctx = CallContext {
            cancel: Some(token.clone()),
            deadline: None,
        };
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            token.cancel();
        });
        let started = Instant::now();
        let r = ctx.sleep(Duration::from_secs(10), "GET", "http://x/");
        t.join().unwrap();
        assert!(matches!(r, Err(Error::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn sleep_stops_at_the_deadline() {
        let ctx = CallContext {
            cancel: None,
            deadline: Some(Instant::now() + Duration::from_millis(50)),
        };
        let started = Instant::now();
        let r = ctx.sleep(Duration::from_secs(10), "GET", "http://x/");
        assert!(matches!(
            r,
            Err(Error::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            })
        ));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn entering_restores_the_outer_token() {
        let outer = CallContext {
            cancel: Some(CancelToken::new()),
            deadline: None,
        };
        assert!(!current_is_watched());
        {
            let _a = outer.enter();
            assert!(current_is_watched());
            {
                let _b = CallContext::default().enter();
                assert!(!current_is_watched());
            }
            assert!(current_is_watched());
        }
        assert!(!current_is_watched());
    }
}

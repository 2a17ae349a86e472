//! A connector that makes blocked reads notice a cancel.
//!
//! ureq blocks in the socket while it waits for an answer or body bytes. When the call running
//! on this thread carries a cancel token (`cancel::CallContext::enter`), the wait is cut into
//! slices of [`CANCEL_POLL`] and the token is looked at between them. The original timeout
//! (stall or deadline) is still measured across the slices, so slicing never stretches it.
//! Calls without a token pass straight through.

use std::time::Instant;

use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

use crate::cancel::{self, CANCEL_POLL};

/// The last link of the connector chain: wraps whatever transport the chain made.
#[derive(Debug)]
pub(crate) struct Watch;

impl Connector<Box<dyn Transport>> for Watch {
    type Out = Watched;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(Watched))
    }
}

/// A transport whose input waits can be cancelled.
#[derive(Debug)]
pub(crate) struct Watched(Box<dyn Transport>);

/// The error a cancelled wait gives ureq; the HTTP layer turns it into `Error::Cancelled`.
fn cancelled() -> ureq::Error {
    ureq::Error::Io(std::io::Error::other("cancelled"))
}

impl Transport for Watched {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if cancel::current_is_cancelled() {
            return Err(cancelled());
        }
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if !cancel::current_is_watched() {
            return self.0.await_input(timeout);
        }
        // The real limit of this wait, applied here once instead of per slice.
        let limit = timeout.for_read();
        let end = match limit.after {
            UreqDuration::Exact(d) => Instant::now().checked_add(d),
            UreqDuration::NotHappening => None,
        };
        loop {
            if cancel::current_is_cancelled() {
                return Err(cancelled());
            }
            let left = end.map(|e| e.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(ureq::Error::Timeout(limit.reason));
            }
            let slice = left.map_or(CANCEL_POLL, |l| l.min(CANCEL_POLL));
            let sliced = NextTimeout {
                after: UreqDuration::Exact(slice),
                reason: limit.reason,
                per_read: None,
                per_write: timeout.per_write,
            };
            match self.0.await_input(sliced) {
                Err(ureq::Error::Timeout(_)) => continue,
                other => return other,
            }
        }
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

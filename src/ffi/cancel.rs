//! Cancellation and deadlines from C: a cancel handle any thread (or a signal handler) can
//! trigger, and a client handle whose calls carry it.

use std::time::{Duration, Instant};

use super::boundary::{self, call};
use super::client::dockreg_client;
use super::error::FfiError;
use super::status::dockreg_status;
use crate::cancel::CancelToken;
use crate::error::Error;

/// A cancel switch. Made by `dockreg_cancel_new`, freed by `dockreg_cancel_free`; triggered with
/// `dockreg_cancel_trigger` from any thread; given to clients with `dockreg_client_with_cancel`.
///
/// Methods: `dockreg_cancel_new`, `dockreg_cancel_trigger`, `dockreg_cancel_is_triggered`,
/// `dockreg_cancel_free`, `dockreg_client_with_cancel`.
#[allow(non_camel_case_types)]
pub struct dockreg_cancel {
    token: CancelToken,
}

/// Creates a cancel handle, not triggered.
///
/// - `out`: must not be NULL; on success receives the handle, which the caller frees with
///   `dockreg_cancel_free` (after every client made with it is no longer used, or before:
///   clients keep their own reference to the switch).
///
/// Errors: `DOCKREG_ERR_NULL_ARGUMENT`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_cancel_new(out: *mut *mut dockreg_cancel) -> dockreg_status {
    call("dockreg_cancel_new", || {
        // SAFETY: `out` is NULL or writable, as documented above.
        let out = unsafe { boundary::out_arg(out, "out")? };
        out.put(Box::into_raw(Box::new(dockreg_cancel {
            token: CancelToken::new(),
        })));
        Ok(())
    })
}

/// Triggers the switch: every call of every client made with it ends soon with
/// `DOCKREG_ERR_CANCELLED` (within about 100 ms while waiting for a registry; a write blocked on
/// a registry that stopped reading ends at the stall timeout). It cannot be undone.
///
/// `cancel` may be NULL (nothing happens). It only sets an atomic flag: safe from any thread
/// and from a signal handler (e.g. SIGINT). Does not touch the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_cancel_trigger(cancel: *const dockreg_cancel) {
    // SAFETY: NULL or a live handle from dockreg_cancel_new, as documented above.
    if let Some(c) = unsafe { cancel.as_ref() } {
        c.token.cancel();
    }
}

/// 1 when the switch was triggered, 0 when not (or `cancel` is NULL). Does not touch the last
/// error. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_cancel_is_triggered(cancel: *const dockreg_cancel) -> i32 {
    // SAFETY: NULL or a live handle from dockreg_cancel_new, as documented above.
    match unsafe { cancel.as_ref() } {
        Some(c) => i32::from(c.token.is_cancelled()),
        None => 0,
    }
}

/// Frees a cancel handle; NULL is allowed. Clients made with it keep working (and keep its
/// state).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_cancel_free(cancel: *mut dockreg_cancel) {
    if cancel.is_null() {
        return;
    }
    // SAFETY: by this function's contract `cancel` came from dockreg_cancel_new and is freed
    // once; dropping the handle only drops a reference count.
    drop(unsafe { Box::from_raw(cancel) });
}

/// Makes a client handle that shares `client`'s connections and token cache, whose every call
/// can be cancelled with `cancel` and ends by `timeout_ms` from now.
///
/// - `client`: must not be NULL.
/// - `cancel`: NULL for none, or a handle from `dockreg_cancel_new`.
/// - `timeout_ms`: 0 for no deadline; otherwise every call through the new handle fails with
///   `DOCKREG_ERR_TIMEOUT` once that many milliseconds have passed since this call (requests,
///   retries, waits and blob transfers included).
/// - `out`: must not be NULL; on success receives the new handle, freed with
///   `dockreg_client_free` (independently of `client`).
///
/// The new handle keeps `client`'s own cancel, deadline and per-call timeout: a deadline is
/// only ever shortened. Errors: `DOCKREG_ERR_NULL_ARGUMENT`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_with_cancel(
    client: *const dockreg_client,
    cancel: *const dockreg_cancel,
    timeout_ms: u64,
    out: *mut *mut dockreg_client,
) -> dockreg_status {
    call("dockreg_client_with_cancel", || {
        // SAFETY: pointers as documented above.
        let (client, out) = unsafe { (handle_arg(client)?, boundary::out_arg(out, "out")?) };
        let mut derived = dockreg_client {
            client: client.client.clone(),
            per_call_timeout: client.per_call_timeout,
            deadline: client.deadline,
        };
        // SAFETY: NULL or a live handle from dockreg_cancel_new, as documented above.
        if let Some(c) = unsafe { cancel.as_ref() } {
            derived.client = derived.client.with_cancel(&c.token);
        }
        if timeout_ms > 0 {
            let now = Instant::now();
            let mine = now
                .checked_add(Duration::from_millis(timeout_ms))
                .unwrap_or(now + FAR);
            let deadline = derived.deadline.map_or(mine, |d| d.min(mine));
            derived.client = derived.client.with_deadline(deadline);
            derived.deadline = Some(deadline);
        }
        out.put(Box::into_raw(Box::new(derived)));
        Ok(())
    })
}

/// Far enough to mean "never" when a timeout would overflow the clock.
const FAR: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The handle itself (not a per-call view of it).
///
/// # Safety
/// `p` is NULL or a live handle from `dockreg_client_new`.
unsafe fn handle_arg<'a>(p: *const dockreg_client) -> Result<&'a dockreg_client, FfiError> {
    // SAFETY: NULL or a live handle, by this function's contract; shared access only.
    unsafe { p.as_ref() }.ok_or(FfiError::Null("client"))
}

/// Makes a client handle that shares `client`'s connections and token cache, whose every call
/// gets its own deadline: `timeout_ms` from the moment that call starts. A call still running
/// then ends with `DOCKREG_ERR_TIMEOUT` (requests, retries, waits and blob transfers included).
///
/// - `client`: must not be NULL. Its cancel handle and fixed deadline (from
///   `dockreg_client_with_cancel`) still apply: whichever ends first wins.
/// - `timeout_ms`: at least 1 (0 is `DOCKREG_ERR_INVALID_ARGUMENT`).
/// - `out`: must not be NULL; on success receives the new handle, freed with
///   `dockreg_client_free` (independently of `client`).
///
/// Compare `dockreg_client_with_cancel`, whose `timeout_ms` is one deadline for all calls,
/// counted from when the handle is made. Errors: `DOCKREG_ERR_NULL_ARGUMENT`,
/// `DOCKREG_ERR_INVALID_ARGUMENT`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_with_timeout(
    client: *const dockreg_client,
    timeout_ms: u64,
    out: *mut *mut dockreg_client,
) -> dockreg_status {
    call("dockreg_client_with_timeout", || {
        // SAFETY: pointers as documented above.
        let (client, out) = unsafe { (handle_arg(client)?, boundary::out_arg(out, "out")?) };
        if timeout_ms == 0 {
            return Err(Error::InvalidInput(
                "timeout_ms must be at least 1 (a handle without a per-call deadline is the \
                 client itself)"
                    .into(),
            )
            .into());
        }
        out.put(Box::into_raw(Box::new(dockreg_client {
            client: client.client.clone(),
            per_call_timeout: Some(Duration::from_millis(timeout_ms)),
            deadline: client.deadline,
        })));
        Ok(())
    })
}

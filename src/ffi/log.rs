//! The library's log lines delivered to a C callback: a `log::Log` backend installed by
//! `dockreg_set_log_callback`.
//!
//! Only records of dockreg's own modules (target `dockreg` or `dockreg::...`) are passed on:
//! those are written never to hold credentials, which the lines of the HTTP and TLS crates
//! underneath do not promise.

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::sync::{OnceLock, RwLock};

use super::boundary::call;
use super::error::{FfiError, c_string};
use super::status::dockreg_status;
use crate::error::Error;

/// How much dockreg logs, most severe first. The values are fixed.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::enum_variant_names)]
pub enum dockreg_log_level {
    /// Nothing (turns the callback off).
    DOCKREG_LOG_OFF = 0,
    /// Failures.
    DOCKREG_LOG_ERROR = 1,
    /// Problems dockreg worked around (a retry, a fallback).
    DOCKREG_LOG_WARN = 2,
    /// Notable events.
    DOCKREG_LOG_INFO = 3,
    /// Requests and answers (method, URL, status), retries, token fetches.
    DOCKREG_LOG_DEBUG = 4,
    /// Finer detail.
    DOCKREG_LOG_TRACE = 5,
}

/// Receives one log line: its `level` (`DOCKREG_LOG_ERROR` to `DOCKREG_LOG_TRACE`), `target`
/// (the dockreg module, e.g. `"dockreg::http"`) and `message` (one line, UTF-8, without a
/// trailing newline). Both strings are NUL-terminated and valid only during the call: copy them
/// to keep them. Lines never contain credentials (passwords, tokens, Authorization headers).
///
/// Threads: called on whatever thread is doing the work, often several at once (one client
/// may be shared by threads, and some calls fan out over worker threads): the callback must
/// be thread-safe. It must return normally (a C++ callback must not throw; a Python one must
/// catch its exceptions). Lines may come while dockreg holds a lock of the client (a token
/// fetch, the TLS probe, a slot of the per-host limit), so the callback must not call any
/// function that takes a `dockreg_client` (`DOCKREG_ERR_INVALID_ARGUMENT`, as it could wait on
/// itself) nor `dockreg_set_log_callback` (the same); functions without a client (freeing,
/// parsing references, versions, status names) are allowed.
#[allow(non_camel_case_types)]
pub type dockreg_log_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        level: dockreg_log_level,
        target: *const c_char,
        message: *const c_char,
    ),
>;

/// The callback installed, its context, and the most detailed level it wants.
#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, dockreg_log_level, *const c_char, *const c_char),
    userdata: *mut c_void,
    level: log::Level,
}

// SAFETY: the userdata pointer is only handed back to the caller's callback, which the caller
// declared callable from any thread (see dockreg_set_log_callback).
unsafe impl Send for Sink {}
// SAFETY: as above; the pointer is never dereferenced by dockreg.
unsafe impl Sync for Sink {}

/// Held for reading while a line is delivered, so that once `dockreg_set_log_callback`
/// returns the old callback is no longer running nor called.
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Whether dockreg's logger is the process's (`log` takes one logger per process, once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

thread_local! {
    /// True while this thread runs the callback: nested lines are dropped, and the callback
    /// cannot replace itself (it would wait on the lock it holds).
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// True while this thread runs the log callback.
pub(crate) fn in_log_callback() -> bool {
    IN_CALLBACK.with(Cell::get)
}

struct CLogger;

static LOGGER: CLogger = CLogger;

fn ours(target: &str) -> bool {
    target == "dockreg" || target.starts_with("dockreg::")
}

impl log::Log for CLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        ours(metadata.target())
            && !IN_CALLBACK.with(Cell::get)
            && SINK
                .read()
                .ok()
                .and_then(|s| s.map(|s| metadata.level() <= s.level))
                .unwrap_or(false)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !ours(record.target()) || IN_CALLBACK.with(Cell::get) {
            return;
        }
        let Ok(guard) = SINK.read() else { return };
        let Some(sink) = *guard else { return };
        if record.level() > sink.level {
            return;
        }
        let message = c_string(record.args().to_string().replace(['\r', '\n'], " "));
        let target = c_string(record.target().to_string());
        IN_CALLBACK.with(|c| c.set(true));
        // SAFETY: the callback and userdata were given by the caller for exactly this, to be
        // called from any thread until replaced; both strings live until it returns.
        unsafe {
            (sink.callback)(
                sink.userdata,
                level_of(record.level()),
                target.as_ptr(),
                message.as_ptr(),
            );
        }
        IN_CALLBACK.with(|c| c.set(false));
        drop(guard);
    }

    fn flush(&self) {}
}

fn level_of(l: log::Level) -> dockreg_log_level {
    match l {
        log::Level::Error => dockreg_log_level::DOCKREG_LOG_ERROR,
        log::Level::Warn => dockreg_log_level::DOCKREG_LOG_WARN,
        log::Level::Info => dockreg_log_level::DOCKREG_LOG_INFO,
        log::Level::Debug => dockreg_log_level::DOCKREG_LOG_DEBUG,
        log::Level::Trace => dockreg_log_level::DOCKREG_LOG_TRACE,
    }
}

fn level_from(n: i32) -> Option<Option<log::Level>> {
    Some(match n {
        0 => None,
        1 => Some(log::Level::Error),
        2 => Some(log::Level::Warn),
        3 => Some(log::Level::Info),
        4 => Some(log::Level::Debug),
        5 => Some(log::Level::Trace),
        _ => return None,
    })
}

/// Sends dockreg's log lines up to `level` to `callback`, for the whole process, replacing the
/// callback set before; `callback` NULL or `level` `DOCKREG_LOG_OFF` turns logging off.
///
/// - `callback`: called as described at `dockreg_log_callback`, from any thread.
/// - `userdata`: passed to `callback` as is; may be NULL. It must stay valid until logging is
///   turned off or another callback is set.
/// - `level`: a `dockreg_log_level` value: lines of this level and more severe are delivered
///   (`DOCKREG_LOG_DEBUG` for requests, retries and token fetches).
///
/// Once this returns, the previous callback is neither running nor called again, so its
/// userdata may be freed. Set it early, before other threads use dockreg. dockreg installs
/// itself as the process's `log` logger on the first call with a callback; in a Rust program
/// that already installed another logger this fails with `DOCKREG_ERR_UNSUPPORTED` (the
/// lines go to that logger).
///
/// Errors: `DOCKREG_ERR_INVALID_ARGUMENT` (a level outside 0-5, or a call from inside the log
/// callback), `DOCKREG_ERR_UNSUPPORTED`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_set_log_callback(
    callback: dockreg_log_callback,
    userdata: *mut c_void,
    level: i32,
) -> dockreg_status {
    call("dockreg_set_log_callback", || {
        let Some(level) = level_from(level) else {
            return Err(Error::InvalidInput(format!(
                "level {level} is not a dockreg_log_level (0 to 5)"
            ))
            .into());
        };
        if IN_CALLBACK.with(Cell::get) {
            return Err(Error::InvalidInput(
                "dockreg_set_log_callback cannot be called from the log callback".into(),
            )
            .into());
        }
        let sink = match (callback, level) {
            (Some(callback), Some(level)) => Some(Sink {
                callback,
                userdata,
                level,
            }),
            _ => None,
        };
        if sink.is_some() && !*INSTALLED.get_or_init(|| log::set_logger(&LOGGER).is_ok()) {
            return Err(FfiError::Lib(Error::Unsupported {
                operation: "dockreg_set_log_callback".into(),
                registry: "this process".into(),
                reason: "another `log` logger is installed; dockreg's lines go to it".into(),
                source: None,
            }));
        }
        // A poisoned lock only means a callback panicked across it, which C cannot do.
        let mut guard = SINK.write().unwrap_or_else(|p| p.into_inner());
        *guard = sink;
        if *INSTALLED.get().unwrap_or(&false) {
            log::set_max_level(sink.map_or(log::LevelFilter::Off, |s| s.level.to_level_filter()));
        }
        Ok(())
    })
}

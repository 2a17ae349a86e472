//! Failures at the C boundary and the thread-local last error.
//!
//! Each thread has at most one last error: set when a call fails, cleared when the next call
//! that returns a status starts. The getters return pointers into it, so they stay valid until
//! that next call on the same thread (and are never shared between threads).

use std::cell::RefCell;
use std::ffi::{CString, c_char};

use serde_json::{Value, json};

use super::status::{self, dockreg_status};
use crate::error::Error;

/// Why a call failed: misuse caught at the boundary, or an error of the library.
#[derive(Debug)]
pub(crate) enum FfiError {
    /// A pointer argument that must not be NULL was NULL (the argument's name).
    Null(&'static str),
    /// A string argument was not UTF-8 (the argument's name).
    Utf8(&'static str),
    /// A JSON argument did not parse (the argument's name and the parser's message).
    Json(&'static str, String),
    /// A client option was unknown, mistyped or out of range.
    Option(String),
    /// A write callback failed.
    Callback(String),
    /// A read callback failed.
    ReadCallback(String),
    /// A panic inside dockreg, with its message.
    Panic(String),
    /// An error of the library.
    Lib(Error),
}

impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        Self::Lib(e)
    }
}

impl FfiError {
    /// The status this failure is reported with.
    pub(crate) fn status(&self) -> dockreg_status {
        match self {
            Self::Null(_) => dockreg_status::DOCKREG_ERR_NULL_ARGUMENT,
            Self::Utf8(_) => dockreg_status::DOCKREG_ERR_INVALID_UTF8,
            Self::Json(..) => dockreg_status::DOCKREG_ERR_INVALID_JSON,
            Self::Option(_) => dockreg_status::DOCKREG_ERR_INVALID_OPTION,
            Self::Callback(_) => dockreg_status::DOCKREG_ERR_CALLBACK,
            Self::ReadCallback(_) => dockreg_status::DOCKREG_ERR_READ_CALLBACK,
            Self::Panic(_) => dockreg_status::DOCKREG_ERR_PANIC,
            Self::Lib(e) => status::classify(e).0,
        }
    }

    /// The one-line message, prefixed with the function's name for misuse.
    pub(crate) fn message(&self, function: &str) -> String {
        match self {
            Self::Null(arg) => format!("{function}: argument `{arg}` is NULL"),
            Self::Utf8(arg) => format!("{function}: argument `{arg}` is not valid UTF-8"),
            Self::Json(arg, msg) => format!("{function}: argument `{arg}` is not JSON: {msg}"),
            Self::Option(msg) => format!("{function}: invalid option: {msg}"),
            Self::Callback(msg) | Self::ReadCallback(msg) => format!("{function}: {msg}"),
            Self::Panic(msg) => format!("{function}: internal error (panic): {msg}"),
            Self::Lib(e) => e.to_string(),
        }
    }

    /// The JSON document of `dockreg_last_error_json`.
    pub(crate) fn to_json(&self, function: &str, message: &str) -> Value {
        let status = self.status();
        let mut doc = json!({
            "status": status as i32,
            "status_name": status.name(),
            "function": function,
            "message": message,
            "http_status": null,
            "method": null,
            "url": null,
            "errors": [],
        });
        if let Self::Lib(e) = self {
            doc["url"] = json!(status::classify(e).1);
            if let Error::Transport { method, .. } = e {
                doc["method"] = json!(method);
            }
            if let Some(r) = e.registry_error() {
                doc["http_status"] = json!(r.status);
                doc["method"] = json!(r.method);
                doc["errors"] = json!(r.errors);
                if let Some(body) = &r.body {
                    doc["body"] = json!(body);
                }
                if let Some(after) = r.retry_after {
                    doc["retry_after_seconds"] = json!(after.as_secs());
                }
            }
        }
        doc
    }
}

/// A failure as C reads it.
struct LastError {
    message: CString,
    json: CString,
}

thread_local! {
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// Forgets this thread's last error (at the start of every call that returns a status).
pub(crate) fn clear() {
    // Dropping the old strings here (not in the getters) keeps their pointers valid until now.
    let _ = LAST.try_with(|l| l.borrow_mut().take());
}

/// Records `e` as this thread's last error.
pub(crate) fn set(function: &str, e: &FfiError) {
    let message = e.message(function);
    let json = e.to_json(function, &message).to_string();
    let last = LastError {
        message: c_string(message),
        json: c_string(json),
    };
    let _ = LAST.try_with(|l| *l.borrow_mut() = Some(last));
}

/// A C string of `s`; an interior NUL (never in our JSON, rare in messages) is cut there.
pub(crate) fn c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let at = e.nul_position();
        let mut bytes = e.into_vec();
        bytes.truncate(at);
        CString::new(bytes).unwrap_or_default()
    })
}

/// This thread's last error message, or NULL.
pub(crate) fn message_ptr() -> *const c_char {
    LAST.try_with(|l| {
        l.borrow()
            .as_ref()
            .map_or(std::ptr::null(), |e| e.message.as_ptr())
    })
    .unwrap_or(std::ptr::null())
}

/// This thread's last error JSON, or NULL.
pub(crate) fn json_ptr() -> *const c_char {
    LAST.try_with(|l| {
        l.borrow()
            .as_ref()
            .map_or(std::ptr::null(), |e| e.json.as_ptr())
    })
    .unwrap_or(std::ptr::null())
}

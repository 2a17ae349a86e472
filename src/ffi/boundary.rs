//! The one helper every export runs its body in, and the argument checks it offers.
//!
//! [`call`] clears the thread's last error, runs the body under `catch_unwind`, and turns a
//! failure into a status plus a new last error. The argument helpers check NULL and UTF-8
//! and parse JSON; bodies check every argument before doing any work, and write out-params
//! last, so an out-param is written only when the call succeeds.

use std::borrow::Cow;
use std::ffi::{CStr, c_char};
use std::panic::{self, AssertUnwindSafe};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::client::dockreg_client;
use super::error::{self, FfiError};
use super::option_errors;
use super::status::dockreg_status;
use crate::client::Client;
use crate::error::Error;
use crate::reference::Reference;

/// What argument checks and bodies return.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

/// Runs the body of the export `function` and returns its status. The last error is cleared on
/// entry and on success at exit, and set on failure at exit: it always describes this call,
/// whatever callbacks did in between.
pub(crate) fn call(
    function: &'static str,
    body: impl FnOnce() -> Result<(), FfiError>,
) -> dockreg_status {
    error::clear();
    // Unwind safety: after a panic the body's locals are gone; the client's shared state
    // (connection pool, token cache) tolerates a panic while it was in use.
    let failure = match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            // Cleared at exit too: a callback may have called dockreg re-entrantly on this
            // thread, and a failure of that inner call must not outlive this success.
            error::clear();
            return dockreg_status::DOCKREG_OK;
        }
        Ok(Err(e)) => e,
        Err(payload) => FfiError::Panic(panic_message(payload.as_ref())),
    };
    let status = failure.status();
    // Building the message allocates; should even that panic, the status still gets out.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| error::set(function, &failure)));
    status
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// A string argument as `&str`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and unchanged for `'a`.
pub(crate) unsafe fn str_arg<'a>(
    p: *const c_char,
    name: &'static str,
) -> Result<&'a str, FfiError> {
    // SAFETY: forwarded from this function's contract.
    let bytes = unsafe { bytes_arg(p, name)? };
    std::str::from_utf8(bytes).map_err(|_| FfiError::Utf8(name))
}

/// A string argument as bytes (file paths, which need not be UTF-8 on Unix).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn bytes_arg<'a>(
    p: *const c_char,
    name: &'static str,
) -> Result<&'a [u8], FfiError> {
    if p.is_null() {
        return Err(FfiError::Null(name));
    }
    // SAFETY: not NULL, and by the caller's contract a NUL-terminated string valid for 'a.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A byte buffer argument (`ptr`, `len`); NULL is refused even when `len` is 0.
///
/// # Safety
/// `p` is NULL or valid for reads of `len` bytes that stay unchanged for `'a`.
pub(crate) unsafe fn buf_arg<'a>(
    p: *const u8,
    len: usize,
    name: &'static str,
) -> Result<&'a [u8], FfiError> {
    if p.is_null() {
        return Err(FfiError::Null(name));
    }
    // SAFETY: not NULL, and by the caller's contract valid for `len` bytes for 'a.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// The client behind a handle, with this call's deadline when the handle gives each call one
/// (`dockreg_client_with_timeout`).
///
/// # Safety
/// `p` is NULL or a handle from `dockreg_client_new` that is not freed during `'a`.
pub(crate) unsafe fn client_arg<'a>(p: *const dockreg_client) -> Result<Cow<'a, Client>, FfiError> {
    if p.is_null() {
        return Err(FfiError::Null("client"));
    }
    if super::log::in_log_callback() {
        // The line may have been logged under a lock this call would need again.
        return Err(FfiError::Lib(crate::Error::InvalidInput(
            "client functions cannot be called from the log callback".into(),
        )));
    }
    // SAFETY: not NULL, and by the caller's contract a live handle; shared access only.
    let handle = unsafe { &*p };
    Ok(handle.for_call())
}

/// An out-param, checked now and written (by [`Out::put`]) only when the call succeeds.
pub(crate) struct Out<'a, T>(&'a mut *mut T);

/// Checks an out-param.
///
/// # Safety
/// `p` is NULL or valid for a write of one pointer during `'a`.
pub(crate) unsafe fn out_arg<'a, T>(
    p: *mut *mut T,
    name: &'static str,
) -> Result<Out<'a, T>, FfiError> {
    if p.is_null() {
        return Err(FfiError::Null(name));
    }
    // SAFETY: not NULL, and by the caller's contract writable (it may be uninitialised, and
    // is never read).
    Ok(Out(unsafe { &mut *p }))
}

impl<T> Out<'_, T> {
    /// Writes the result; the last step of a successful call.
    pub(crate) fn put(self, value: *mut T) {
        *self.0 = value;
    }
}

impl Out<'_, c_char> {
    /// Writes `value` as a JSON string allocated for `dockreg_string_free`.
    pub(crate) fn put_json(self, value: &impl Serialize) -> Result<(), FfiError> {
        let text = serde_json::to_string(value)
            .map_err(|e| FfiError::Lib(Error::InvalidInput(format!("cannot encode JSON: {e}"))))?;
        self.put(alloc_string(text));
        Ok(())
    }

    /// Writes `text`, already JSON, allocated for `dockreg_string_free`.
    pub(crate) fn put_text(self, text: String) {
        self.put(alloc_string(text));
    }
}

/// Parses a JSON argument: bad syntax is `INVALID_JSON`, a bad shape `INVALID_OPTION` (named
/// by its path, never showing the value: see [`super::option_errors`]).
pub(crate) fn json_arg<T: DeserializeOwned>(text: &str, name: &'static str) -> Result<T, FfiError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FfiError::Json(name, e.to_string()))?;
    option_errors::from_value(value)
}

/// Parses an options argument: `None` (a NULL pointer) gives the defaults; otherwise it must be
/// a JSON object whose keys `T` knows (`T` denies unknown fields, so the message names the key).
pub(crate) fn options_arg<T: DeserializeOwned + Default>(
    text: Option<&str>,
    name: &'static str,
) -> Result<T, FfiError> {
    let Some(text) = text else {
        return Ok(T::default());
    };
    // Checked as an object first: serde would also take `[]` for a struct. The value itself is
    // never shown: it may hold credentials.
    let value: serde_json::Value = json_arg(text, name)?;
    if !value.is_object() {
        return Err(FfiError::Option(format!(
            "{name} must be a JSON object, not {}",
            option_errors::kind(&value)
        )));
    }
    option_errors::from_value(value)
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    p: *const c_char,
    name: &'static str,
) -> Result<Option<&'a str>, FfiError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { str_arg(p, name) }.map(Some)
}

/// Parses an image reference argument.
pub(crate) fn reference_arg(text: &str) -> Result<Reference, FfiError> {
    Ok(text.parse::<Reference>()?)
}

/// Bytes before a string handed to C: its length, so that `dockreg_string_free` frees exactly
/// what was allocated even if the caller wrote into the string (`strtok`).
const HEADER: usize = std::mem::size_of::<usize>();

/// Hands `text` to C as a NUL-terminated string owned by the caller, freed by
/// [`free_string`]. A NUL inside `text` (never in JSON) ends the C string there.
pub(crate) fn alloc_string(text: String) -> *mut c_char {
    let len = text.len();
    let mut buf = Vec::with_capacity(HEADER + len + 1);
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(text.as_bytes());
    buf.push(0);
    let base = Box::into_raw(buf.into_boxed_slice()).cast::<u8>();
    // SAFETY: the allocation is HEADER + len + 1 bytes long, so HEADER is inside it.
    unsafe { base.add(HEADER) }.cast::<c_char>()
}

/// Frees a string from [`alloc_string`]; NULL is ignored.
///
/// # Safety
/// `p` is NULL or came from [`alloc_string`] and was not freed yet.
pub(crate) unsafe fn free_string(p: *mut c_char) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is HEADER bytes into an allocation made by alloc_string, whose first HEADER
    // bytes hold the text's length; the whole allocation is HEADER + len + 1 bytes of a
    // Box<[u8]>, rebuilt here with exactly that length.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let len = usize::from_ne_bytes(std::ptr::read_unaligned(base.cast::<[u8; HEADER]>()));
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
            base,
            HEADER + len + 1,
        )));
    }
}

/// `fields` (a JSON object) with `document` added under `key` byte for byte as received,
/// so that the embedded document is exactly what the registry sent, whitespace around it
/// included (a JSON parser skips it; a trailing newline is part of the digested bytes).
///
/// The bytes are spliced in rather than held in a `serde_json::value::RawValue`, which trims
/// the whitespace around a value and so would drop such a newline.
pub(crate) fn with_document(
    fields: serde_json::Value,
    key: &str,
    document: &[u8],
    url: &str,
) -> Result<String, FfiError> {
    let bad = |why: String| FfiError::Lib(Error::invalid_response(url, why));
    serde_json::from_slice::<serde::de::IgnoredAny>(document)
        .map_err(|e| bad(format!("the document is not JSON: {e}")))?;
    let document = std::str::from_utf8(document).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let mut text = fields.to_string();
    if text.pop() != Some('}') {
        return Err(bad("internal: fields are not an object".into()));
    }
    if text.len() > 1 {
        text.push(',');
    }
    text.push_str(&serde_json::Value::from(key).to_string());
    text.push(':');
    text.push_str(document);
    text.push('}');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::dockreg_last_error_json;
    use crate::ffi::dockreg_last_error_message;
    use crate::ffi::status::dockreg_status::*;

    fn last_message() -> Option<String> {
        let p = dockreg_last_error_message();
        // SAFETY: a pointer from dockreg_last_error_message is NULL or a live C string.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    #[test]
    fn a_panic_becomes_the_panic_status() {
        let mut out: *mut c_char = std::ptr::null_mut();
        let out_ptr: *mut *mut c_char = &mut out;
        let status = call("dockreg_test_panic", || {
            // SAFETY: out_ptr points at a local pointer.
            let out = unsafe { out_arg(out_ptr, "out_json")? };
            if out_ptr as usize != 0 {
                panic!("boom {}", 42);
            }
            out.put_text("{}".into());
            Ok(())
        });
        assert_eq!(status, DOCKREG_ERR_PANIC);
        assert!(out.is_null(), "out-param written despite the panic");
        let msg = last_message().unwrap();
        assert!(
            msg.contains("dockreg_test_panic") && msg.contains("boom 42"),
            "{msg}"
        );
        let p = dockreg_last_error_json();
        // SAFETY: as above.
        let json = unsafe { CStr::from_ptr(p) }.to_str().unwrap();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["status"], 99);
        assert_eq!(v["status_name"], "DOCKREG_ERR_PANIC");

        // A panic with a non-string payload, then a success clears the error.
        let status = call("dockreg_test_panic", || std::panic::panic_any(7u8));
        assert_eq!(status, DOCKREG_ERR_PANIC);
        assert!(last_message().unwrap().contains("unknown panic payload"));
        assert_eq!(call("dockreg_test_ok", || Ok(())), DOCKREG_OK);
        assert_eq!(last_message(), None);
        assert!(dockreg_last_error_json().is_null());
    }

    #[test]
    fn null_and_utf8_checks() {
        // SAFETY: NULL and a valid C string literal.
        unsafe {
            assert!(matches!(
                str_arg(std::ptr::null(), "x"),
                Err(FfiError::Null("x"))
            ));
            assert!(matches!(
                str_arg(c"\xff".as_ptr(), "x"),
                Err(FfiError::Utf8("x"))
            ));
            assert_eq!(bytes_arg(c"\xff".as_ptr(), "x").unwrap(), b"\xff");
            assert_eq!(str_arg(c"abc".as_ptr(), "x").unwrap(), "abc");
            assert!(matches!(
                buf_arg(std::ptr::null(), 0, "b"),
                Err(FfiError::Null("b"))
            ));
            assert!(matches!(
                out_arg::<c_char>(std::ptr::null_mut(), "o"),
                Err(FfiError::Null("o"))
            ));
            assert!(matches!(
                client_arg(std::ptr::null()),
                Err(FfiError::Null("client"))
            ));
        }
    }

    #[test]
    fn json_errors_are_classified() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct O {
            a: Option<u32>,
        }
        assert!(matches!(
            json_arg::<O>("{", "o"),
            Err(FfiError::Json("o", _))
        ));
        assert!(matches!(
            json_arg::<O>("{} x", "o"),
            Err(FfiError::Json("o", _))
        ));
        match json_arg::<O>(r#"{"b":1}"#, "o") {
            Err(FfiError::Option(m)) => assert!(m.contains("`b`"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            json_arg::<O>(r#"{"a":-1}"#, "o"),
            Err(FfiError::Option(_))
        ));
        assert!(json_arg::<O>(r#"{"a":1}"#, "o").is_ok());
    }

    #[test]
    fn strings_round_trip_even_when_written_into() {
        for text in ["", "{}", "a longer string with ünïcode"] {
            let p = alloc_string(text.to_string());
            // SAFETY: p is a live string from alloc_string, written within its length, then
            // freed once.
            unsafe {
                assert_eq!(CStr::from_ptr(p).to_str().unwrap(), text);
                if !text.is_empty() {
                    *p = 0; // what strtok would do
                }
                free_string(p);
                free_string(std::ptr::null_mut());
            }
        }
    }

    #[test]
    fn documents_are_embedded_byte_for_byte() {
        let doc = br#"{ "b" : [1, 2],  "a":"x" }"#;
        let text = with_document(serde_json::json!({"digest": "d"}), "manifest", doc, "u").unwrap();
        assert_eq!(
            text,
            r#"{"digest":"d","manifest":{ "b" : [1, 2],  "a":"x" }}"#
        );
        let text = with_document(serde_json::json!({}), "m", b" 1\n", "u").unwrap();
        assert_eq!(text, "{\"m\": 1\n}");
        assert!(with_document(serde_json::json!({}), "m", b"{", "u").is_err());
        assert!(with_document(serde_json::json!({}), "m", b"{} {}", "u").is_err());
    }
}

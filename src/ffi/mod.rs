//! The C ABI: every operation of the [`Client`](crate::Client) callable from C, C++ and any
//! language that can load a shared library, declared in `include/dockreg.h` (generated from
//! this module by cbindgen).
//!
//! The rules, which the header repeats for C readers:
//!
//! - Every fallible function returns a [`dockreg_status`]; `DOCKREG_OK` (0) is success.
//!   Results come back through out-params, written only on success.
//! - Strings given to dockreg are NUL-terminated UTF-8 and only borrowed for the call. Strings
//!   returned through `char **out_json` are JSON documents owned by the caller, freed with
//!   [`dockreg_string_free`] (never `free()`).
//! - A failure leaves a message and a JSON description in a per-thread last error
//!   ([`dockreg_last_error_message`], [`dockreg_last_error_json`]), valid until the next call
//!   that returns a status on the same thread; such a call clears it on entry, and again when
//!   it succeeds (a callback may have called dockreg meanwhile).
//! - A [`dockreg_client`] may be used by many threads at once.
//! - No call unwinds into C: a Rust panic becomes `DOCKREG_ERR_PANIC`.
//!
//! This is the only module with `unsafe` code. The exports are `unsafe extern "C" fn` because
//! their pointer arguments must be valid as documented; each function's doc states which may be
//! NULL. Every export runs its body in `boundary::call`.
// The exports' safety contract is stated once above and per argument in each doc comment, in
// words for C readers, rather than in a `# Safety` section on each.
#![allow(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

// In the order the header shows them (cbindgen follows declaration order; rustfmt keeps
// groups separated by comments apart).
mod status;

mod boundary;
mod error;
mod option_errors;

mod version;

// The client and its operations, then blobs, uploads, whole images, then functions without a
// client.
mod client;

mod bulk;

mod cancel;

mod bytes;

mod blobs;

mod uploads;

mod images;

mod reference;

mod log;

use std::ffi::{CStr, c_char};

pub use blobs::{
    dockreg_client_get_blob, dockreg_client_get_blob_to_file, dockreg_client_head_blob,
    dockreg_progress_callback, dockreg_write_callback,
};
pub use bulk::dockreg_client_get_digests;
pub use bytes::{
    dockreg_bytes, dockreg_bytes_data, dockreg_bytes_digest, dockreg_bytes_free, dockreg_bytes_len,
    dockreg_bytes_media_type, dockreg_client_get_blob_bytes, dockreg_client_get_manifest_bytes,
};
pub use cancel::{
    dockreg_cancel, dockreg_cancel_free, dockreg_cancel_is_triggered, dockreg_cancel_new,
    dockreg_cancel_trigger, dockreg_client_with_cancel, dockreg_client_with_timeout,
};
pub use client::{
    dockreg_client, dockreg_client_free, dockreg_client_get_config, dockreg_client_get_digest,
    dockreg_client_get_image_config, dockreg_client_get_manifest, dockreg_client_get_raw_manifest,
    dockreg_client_head_manifest, dockreg_client_list_instances, dockreg_client_list_repositories,
    dockreg_client_list_tags, dockreg_client_new, dockreg_client_put_manifest,
    dockreg_client_set_tag,
};
pub use images::{
    dockreg_client_copy_image, dockreg_client_delete_manifest, dockreg_client_delete_tag,
    dockreg_client_list_platforms, dockreg_client_list_referrers, dockreg_client_push_referrer,
};
pub use log::{dockreg_log_callback, dockreg_log_level, dockreg_set_log_callback};
pub use reference::{dockreg_reference_parse, dockreg_split_image};
pub use status::dockreg_status;
pub use uploads::{
    dockreg_client_delete_blob, dockreg_client_mount_blob, dockreg_client_push_blob,
    dockreg_client_push_blob_from_file, dockreg_read_callback,
};
pub use version::{
    DOCKREG_VERSION_MAJOR, DOCKREG_VERSION_MINOR, DOCKREG_VERSION_NUMBER, DOCKREG_VERSION_PATCH,
    dockreg_version_number,
};

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the crate version holds a NUL"),
    };

/// The version of the dockreg library loaded at run time, e.g. `"0.2.0"` (compare the
/// header's `DOCKREG_VERSION`).
///
/// The string is static: never free it. Does not touch the last error. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn dockreg_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The name of a status value, e.g. `"DOCKREG_ERR_NOT_FOUND"` for 40, or
/// `"DOCKREG_ERR_UNKNOWN"` for a value this version does not know.
///
/// The string is static: never free it. Does not touch the last error. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn dockreg_status_name(status: i32) -> *const c_char {
    match dockreg_status::from_i32(status) {
        Some(s) => s.c_name().as_ptr(),
        None => c"DOCKREG_ERR_UNKNOWN".as_ptr(),
    }
}

/// A one-line English description of why the last call on this thread failed, or NULL when
/// it succeeded (or no call was made yet).
///
/// The string belongs to dockreg: do not free it. It stays valid until the next call on this
/// thread of a function that returns a `dockreg_status` (which clears the last error on entry,
/// and sets it on failure or clears it again on success when it returns, so that calls made
/// by its callbacks never show through); the free functions, the `dockreg_bytes` accessors,
/// `dockreg_version`, `dockreg_version_number`, `dockreg_status_name` and the two last-error
/// functions leave it alone. Each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn dockreg_last_error_message() -> *const c_char {
    error::message_ptr()
}

/// The last error of this thread as a JSON object, or NULL when the last call succeeded (or
/// no call was made yet). Ownership and lifetime as `dockreg_last_error_message`.
///
/// ```json
/// {
///   "status": 40,                          // the dockreg_status value
///   "status_name": "DOCKREG_ERR_NOT_FOUND",
///   "function": "dockreg_client_get_manifest",
///   "message": "not found: GET http://... answered 404: MANIFEST_UNKNOWN (manifest unknown)",
///   "http_status": 404,                    // null when there was no HTTP answer
///   "method": "GET",                       // null when no request was sent
///   "url": "http://127.0.0.1:5000/v2/app/manifests/1.0",  // null when none applies
///   "errors": [                            // the registry's error entries, codes as sent
///     {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {...}}
///   ],
///   "body": "...",                         // only when the error body was not JSON
///   "retry_after_seconds": 30              // only when the registry sent Retry-After
/// }
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn dockreg_last_error_json() -> *const c_char {
    error::json_ptr()
}

/// Frees a string that dockreg returned through an out-param. NULL is ignored.
///
/// Each string is freed exactly once, with this function only (never `free()`). The caller
/// may have written into it (e.g. with `strtok`). Does not touch the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_string_free(string: *mut c_char) {
    // SAFETY: by this function's contract `string` is NULL or a live string from dockreg,
    // all of which come from boundary::alloc_string.
    unsafe { boundary::free_string(string) }
}

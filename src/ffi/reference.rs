//! Image references without a client: parsing and splitting.

use std::ffi::c_char;

use serde_json::json;

use super::boundary::{self, call};
use super::status::dockreg_status;

/// Parses and normalises an image reference such as `"ubuntu:22.04"` or
/// `"127.0.0.1:5000/app@sha256:..."`, without any network access.
///
/// - `image`: NUL-terminated UTF-8; must not be NULL.
/// - `out_json`: must not be NULL; on success receives a JSON object the caller frees with
///   `dockreg_string_free`:
///   `{"registry": "docker.io", "repository": "library/ubuntu", "tag": "22.04", "digest": null}`
///   (`tag` and `digest` are null when absent; Docker Hub names are normalised as `docker pull`
///   does).
///
/// Errors: `DOCKREG_ERR_NULL_ARGUMENT`, `DOCKREG_ERR_INVALID_UTF8`,
/// `DOCKREG_ERR_INVALID_REFERENCE`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_reference_parse(
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_reference_parse", || {
        // SAFETY: the caller passes a string or NULL and a writable pointer or NULL, as
        // documented; the helpers reject NULL.
        let (image, out) = unsafe {
            (
                boundary::str_arg(image, "image")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let r = boundary::reference_arg(image)?;
        out.put_json(&r)
    })
}

/// Splits an image reference into registry, repository and tag-or-digest, normalised like
/// `dockreg_reference_parse`, without any network access.
///
/// - `image`: NUL-terminated UTF-8; must not be NULL.
/// - `out_json`: must not be NULL; on success receives, for the caller to free with
///   `dockreg_string_free`:
///   `{"registry": "docker.io", "repository": "library/ubuntu", "reference": "22.04"}`
///   where `reference` is the digest when there is one, else the tag, else `""`.
///
/// Errors: `DOCKREG_ERR_NULL_ARGUMENT`, `DOCKREG_ERR_INVALID_UTF8`,
/// `DOCKREG_ERR_INVALID_REFERENCE`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_split_image(
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_split_image", || {
        // SAFETY: as in dockreg_reference_parse.
        let (image, out) = unsafe {
            (
                boundary::str_arg(image, "image")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let (registry, repository, reference) = crate::reference::split_image(image)?;
        out.put_json(&json!({
            "registry": registry,
            "repository": repository,
            "reference": reference,
        }))
    })
}

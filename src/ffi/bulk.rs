//! Bulk operations: many references in one call, each with its own result.

use std::ffi::c_char;

use serde_json::{Value, json};

use super::boundary::{self, call};
use super::client::dockreg_client;
use super::error::FfiError;
use super::status::dockreg_status;
use crate::error::Result;
use crate::reference::Reference;

const GET_DIGESTS: &str = "dockreg_client_get_digests";

/// The digest of every image in a list, resolved in parallel (up to the client's
/// `max_concurrency` requests in flight per registry, 16 by default), each with its own result.
///
/// - `client`: must not be NULL.
/// - `images_json`: must not be NULL; a JSON array of image references, e.g.
///   `["registry:5000/app:1.0", "registry:5000/app:2.0"]`.
/// - `out_json`: must not be NULL; on success receives, for `dockreg_string_free`, an array
///   with one object per input, in the input's order:
///   ```json
///   [
///     {"digest": "sha256:..."},
///     {"error": {"status": 40, "status_name": "DOCKREG_ERR_NOT_FOUND", "message": "...",
///                "http_status": 404, "method": "HEAD", "url": "...", "errors": [...]}}
///   ]
///   ```
///   An `error` object has the fields of `dockreg_last_error_json`. A reference that does not
///   parse, is not found, or fails in any other way gets its `error` in place; the others are
///   unaffected, except that a failure that would hit every image of a registry (transport,
///   rate limit, a 5xx answer) is given to that registry's images not yet started,
///   without sending their requests.
///
/// The call fails as a whole (and `out_json` is not written) only for misuse (1-4),
/// `DOCKREG_ERR_INVALID_JSON` (not JSON) or `DOCKREG_ERR_INVALID_OPTION` (not an array of
/// strings). Cancel and deadline of the client (`dockreg_client_with_cancel`) reach every
/// request. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_digests(
    client: *const dockreg_client,
    images_json: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call(GET_DIGESTS, || {
        // SAFETY: pointers as documented above: `client` NULL or live, `images_json` NULL or
        // a C string, `out_json` NULL or writable, for the duration of the call.
        let (client, images, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(images_json, "images_json")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let texts: Vec<String> = boundary::json_arg(images, "images_json")?;
        let parsed: Vec<Result<Reference>> = texts.iter().map(|t| t.parse()).collect();
        let valid: Vec<Reference> = parsed
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .cloned()
            .collect();
        let mut digests = client.get_digests(&valid).into_iter();
        let entries: Vec<Value> = parsed
            .into_iter()
            .map(|r| {
                match r.and_then(|_| {
                    // One digest result per valid reference, in order.
                    digests.next().unwrap_or(Err(crate::Error::Cancelled))
                }) {
                    Ok(d) => json!({ "digest": d }),
                    Err(e) => {
                        let e = FfiError::Lib(e);
                        let message = e.message(GET_DIGESTS);
                        json!({ "error": e.to_json(GET_DIGESTS, &message) })
                    }
                }
            })
            .collect();
        out.put_json(&entries)
    })
}

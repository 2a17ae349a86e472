//! Exact bytes: manifests and small blobs (configs) as byte buffers with their length, media
//! type and digest, for callers that push them back or hash them, where JSON would not do.

use std::ffi::{CString, c_char};

use super::boundary::{self, call};
use super::client::dockreg_client;
use super::error::{FfiError, c_string};
use super::status::dockreg_status;
use crate::error::Error;

/// The largest config dockreg reads into memory (as the library's `get_config` does).
pub(crate) const MAX_CONFIG_SIZE: u64 = 16 * 1024 * 1024;

/// The most `dockreg_client_get_blob_bytes` may be asked to hold in memory.
const MAX_BLOB_BYTES: u64 = 64 * 1024 * 1024;

/// A byte buffer returned by dockreg: exact bytes with their length, digest and (for a
/// manifest) media type. Made by `dockreg_client_get_manifest_bytes` and
/// `dockreg_client_get_blob_bytes`; freed with `dockreg_bytes_free`. The accessors' pointers
/// stay valid until then; the buffer never changes. It may be read from any thread.
///
/// Methods: `dockreg_bytes_data`, `dockreg_bytes_len`, `dockreg_bytes_digest`,
/// `dockreg_bytes_media_type`, `dockreg_bytes_free`.
#[allow(non_camel_case_types)]
pub struct dockreg_bytes {
    data: Box<[u8]>,
    digest: CString,
    media_type: Option<CString>,
}

impl dockreg_bytes {
    fn boxed(data: Vec<u8>, digest: String, media_type: Option<String>) -> *mut dockreg_bytes {
        Box::into_raw(Box::new(dockreg_bytes {
            data: data.into_boxed_slice(),
            digest: c_string(digest),
            media_type: media_type.map(c_string),
        }))
    }
}

/// Fetches the manifest `image` names exactly as the registry serves it (an index stays an
/// index), as bytes: what its digest is computed over, to push back with
/// `dockreg_client_put_manifest` (same bytes, same digest) or to hash.
///
/// - `client`, `image`: must not be NULL.
/// - `out`: must not be NULL; on success receives a buffer for `dockreg_bytes_free` with the
///   bytes, the digest (checked against the reference's digest and `Docker-Content-Digest`)
///   and the media type.
///
/// Errors as `dockreg_client_get_raw_manifest`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_manifest_bytes(
    client: *const dockreg_client,
    image: *const c_char,
    out: *mut *mut dockreg_bytes,
) -> dockreg_status {
    call("dockreg_client_get_manifest_bytes", || {
        // SAFETY: pointers as documented above.
        let (client, image, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(image, "image")?,
                boundary::out_arg(out, "out")?,
            )
        };
        let raw = client.get_raw_manifest(&boundary::reference_arg(image)?)?;
        out.put(dockreg_bytes::boxed(
            raw.bytes,
            raw.digest.to_string(),
            Some(raw.media_type),
        ));
        Ok(())
    })
}

/// Reads a small blob (an image config, a signature, an SBOM) into memory, verified against
/// its digest. For layers, stream with `dockreg_client_get_blob` instead.
///
/// - `client`, `repository` (its tag or digest is ignored), `digest` (`"sha256:..."`): must
///   not be NULL.
/// - `max_size`: the most bytes accepted; 0 for 16 MiB (the config limit). At most 64 MiB
///   (else `DOCKREG_ERR_INVALID_ARGUMENT`). A larger blob is `DOCKREG_ERR_TOO_LARGE`.
/// - `out`: must not be NULL; on success receives a buffer for `dockreg_bytes_free` with the
///   bytes and the digest; its media type is NULL (a blob has none of its own).
///
/// Errors: misuse (1-4), `DOCKREG_ERR_INVALID_REFERENCE`, `DOCKREG_ERR_INVALID_DIGEST`,
/// `DOCKREG_ERR_INVALID_ARGUMENT`, transport (20-24), auth (30-32), registry (40-44),
/// `DOCKREG_ERR_DIGEST_MISMATCH`, `DOCKREG_ERR_TOO_LARGE`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_blob_bytes(
    client: *const dockreg_client,
    repository: *const c_char,
    digest: *const c_char,
    max_size: u64,
    out: *mut *mut dockreg_bytes,
) -> dockreg_status {
    call("dockreg_client_get_blob_bytes", || {
        // SAFETY: pointers as documented above.
        let ((client, repository, digest), out) = unsafe {
            (
                super::blobs::blob_args(client, repository, digest)?,
                boundary::out_arg(out, "out")?,
            )
        };
        let (repository, digest) = super::blobs::parse(repository, digest)?;
        let limit = match max_size {
            0 => MAX_CONFIG_SIZE,
            n if n > MAX_BLOB_BYTES => {
                return Err(FfiError::Lib(Error::InvalidInput(format!(
                    "max_size {n} is over {MAX_BLOB_BYTES} bytes: stream large blobs with \
                     dockreg_client_get_blob"
                ))));
            }
            n => n,
        };
        let bytes = client.get_blob_bytes(&repository, &digest, limit)?;
        out.put(dockreg_bytes::boxed(bytes, digest.to_string(), None));
        Ok(())
    })
}

/// The first byte of the buffer (never NULL, even for 0 bytes); `dockreg_bytes_len` bytes can
/// be read from it. NULL only when `bytes` is NULL. Not NUL-terminated. Does not touch the
/// last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_bytes_data(bytes: *const dockreg_bytes) -> *const u8 {
    // SAFETY: NULL or a live buffer from dockreg, as documented above.
    match unsafe { bytes.as_ref() } {
        Some(b) => b.data.as_ptr(),
        None => std::ptr::null(),
    }
}

/// The number of bytes in the buffer; 0 when `bytes` is NULL. Does not touch the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_bytes_len(bytes: *const dockreg_bytes) -> usize {
    // SAFETY: NULL or a live buffer from dockreg, as documented above.
    unsafe { bytes.as_ref() }.map_or(0, |b| b.data.len())
}

/// The digest of the bytes (`"sha256:..."`), a NUL-terminated string owned by the buffer;
/// NULL when `bytes` is NULL. Does not touch the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_bytes_digest(bytes: *const dockreg_bytes) -> *const c_char {
    // SAFETY: NULL or a live buffer from dockreg, as documented above.
    unsafe { bytes.as_ref() }.map_or(std::ptr::null(), |b| b.digest.as_ptr())
}

/// The media type of a manifest (e.g. `"application/vnd.oci.image.index.v1+json"`), a
/// NUL-terminated string owned by the buffer; NULL for a blob or when `bytes` is NULL. Does not
/// touch the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_bytes_media_type(bytes: *const dockreg_bytes) -> *const c_char {
    // SAFETY: NULL or a live buffer from dockreg, as documented above.
    unsafe { bytes.as_ref() }
        .and_then(|b| b.media_type.as_ref())
        .map_or(std::ptr::null(), |m| m.as_ptr())
}

/// Frees a buffer from dockreg; NULL is ignored. Each buffer is freed exactly once, with this
/// function only. Does not touch the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_bytes_free(bytes: *mut dockreg_bytes) {
    if bytes.is_null() {
        return;
    }
    // SAFETY: by this function's contract `bytes` came from dockreg_bytes::boxed (a Box) and
    // is freed once.
    drop(unsafe { Box::from_raw(bytes) });
}

//! Blobs: HEAD, and downloads to a file or through a write callback, with progress.
//!
//! (Uploads, mounts and deletes are in `uploads.rs`.)

use std::borrow::Cow;
use std::ffi::{c_char, c_int, c_void};
use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use super::boundary::{self, FfiResult, call};
use super::client::dockreg_client;
use super::error::FfiError;
use super::status::dockreg_status;
use crate::client::{Client, DownloadOptions};
use crate::digest::Digest;
use crate::error::Error;
use crate::reference::Reference;

/// Receives the next `len` bytes of a blob (`len` > 0) and returns how many it consumed.
/// Anything other than `len` stops the transfer with `DOCKREG_ERR_CALLBACK`.
///
/// `ctx` is the pointer given with the callback. Called on the thread that made the call. It
/// may call dockreg functions (see the header's notes on re-entrancy) and must return normally
/// (no C++ exception, no longjmp).
#[allow(non_camel_case_types)]
pub type dockreg_write_callback =
    Option<unsafe extern "C" fn(ctx: *mut c_void, buf: *const u8, len: usize) -> usize>;

/// Told how far a transfer got: `done` bytes of `total` (0 while the size is unknown: a
/// download learns it from the registry's first answer, an upload from the size given or the
/// file). Return 0 to go on; any other value stops the transfer with `DOCKREG_ERR_CANCELLED`
/// (an upload session is then cancelled; nothing is committed).
///
/// `ctx` is the pointer given with the callback. Called on the thread that made the call, once
/// with `done` = 0 before any request, then after each chunk. `done` may go back when a broken
/// upload resumes from what the registry holds. An upload skipped (the blob exists) or mounted
/// (with its size given) reports the blob's size as done. It may call dockreg functions and
/// must return normally (no C++ exception, no longjmp).
#[allow(non_camel_case_types)]
pub type dockreg_progress_callback =
    Option<unsafe extern "C" fn(ctx: *mut c_void, done: u64, total: u64) -> c_int>;

/// The common arguments of blob calls.
///
/// # Safety
/// As documented on the exports.
pub(super) unsafe fn blob_args<'a>(
    client: *const dockreg_client,
    repository: *const c_char,
    digest: *const c_char,
) -> FfiResult<(Cow<'a, Client>, &'a str, &'a str)> {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        Ok((
            boundary::client_arg(client)?,
            boundary::str_arg(repository, "repository")?,
            boundary::str_arg(digest, "digest")?,
        ))
    }
}

pub(super) fn parse(repository: &str, digest: &str) -> FfiResult<(Reference, Digest)> {
    Ok((boundary::reference_arg(repository)?, digest.parse()?))
}

/// Whether the repository `repository` names has the blob `digest`, and its size.
///
/// - `client`, `repository`, `digest` (`"sha256:..."`), `out_json`: must not be NULL.
///
/// On success `out_json` receives `{"digest": "sha256:...", "exists": true, "size": 1234}`;
/// a blob that is not there is a success with `"exists": false, "size": null`. Errors: misuse
/// (1-4), `DOCKREG_ERR_INVALID_REFERENCE`, `DOCKREG_ERR_INVALID_DIGEST`, transport (20-24),
/// auth (30-32), registry (41-44). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_head_blob(
    client: *const dockreg_client,
    repository: *const c_char,
    digest: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_head_blob", || {
        // SAFETY: pointers as documented above.
        let ((client, repository, digest), out) = unsafe {
            (
                blob_args(client, repository, digest)?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let (repository, digest) = parse(repository, digest)?;
        let size = client.head_blob(&repository, &digest)?;
        out.put_json(&json!({ "digest": digest, "exists": size.is_some(), "size": size }))
    })
}

/// A C progress callback as the client's progress closure, remembering the last report.
pub(super) struct CProgress {
    callback: dockreg_progress_callback,
    ctx: *mut c_void,
    /// The last `(done, total)` reported by the client.
    pub(super) last: Option<(u64, Option<u64>)>,
}

impl CProgress {
    pub(super) fn new(callback: dockreg_progress_callback, ctx: *mut c_void) -> Self {
        Self {
            callback,
            ctx,
            last: None,
        }
    }

    /// The first report (`done` = 0) before anything is transferred; `Err(Cancelled)` when the
    /// callback asks to stop.
    pub(super) fn start(&mut self, total: Option<u64>) -> Result<(), Error> {
        if self.report(0, total) {
            Ok(())
        } else {
            Err(Error::Cancelled)
        }
    }

    /// Reports `done` of `total`; false when the callback asks to stop.
    pub(super) fn report(&mut self, done: u64, total: Option<u64>) -> bool {
        self.last = Some((done, total));
        let Some(f) = self.callback else { return true };
        // SAFETY: the caller gave this callback and context for the duration of the call, and
        // the client calls progress on the calling thread.
        unsafe { f(self.ctx, done, total.unwrap_or(0)) == 0 }
    }
}

/// A C write callback as a `Write`.
struct CallbackWriter {
    callback: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> usize,
    ctx: *mut c_void,
    failure: Option<String>,
}

impl Write for CallbackWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: the caller gave this callback and context for the duration of the call; buf
        // is valid for buf.len() bytes while the callback runs.
        let n = unsafe { (self.callback)(self.ctx, buf.as_ptr(), buf.len()) };
        if n != buf.len() {
            let msg = format!("the write callback consumed {n} of {} bytes", buf.len());
            self.failure = Some(msg.clone());
            return Err(std::io::Error::other(msg));
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Downloads a blob through a write callback, verifying it against its digest as it streams.
/// A connection that breaks mid-blob is resumed where it stopped (`Range`, up to 3 times in a
/// row), so `write_cb` only ever receives the next bytes.
///
/// - `client`, `repository` (its tag or digest is ignored), `digest` (`"sha256:..."`),
///   `write_cb`, `out_json`: must not be NULL.
/// - `write_ctx`: passed to `write_cb` as is; may be NULL.
/// - `progress_cb`: NULL, or called as described at `dockreg_progress_callback` (the first
///   call has `total` 0; the size is known from the first answer on); `progress_ctx` is passed
///   to it as is.
///
/// On success `out_json` receives `{"digest": "sha256:...", "size": 1234}`. The bytes reach
/// `write_cb` before the digest can be checked: on `DOCKREG_ERR_DIGEST_MISMATCH` (or any other
/// failure) discard what was received. Errors: misuse (1-4), `DOCKREG_ERR_INVALID_REFERENCE`,
/// `DOCKREG_ERR_INVALID_DIGEST`, transport (20-24), auth (30-32), registry (40-44),
/// `DOCKREG_ERR_DIGEST_MISMATCH`, `DOCKREG_ERR_CANCELLED`, `DOCKREG_ERR_CALLBACK`.
/// Thread-safe (the callbacks run on the calling thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_blob(
    client: *const dockreg_client,
    repository: *const c_char,
    digest: *const c_char,
    write_cb: dockreg_write_callback,
    write_ctx: *mut c_void,
    progress_cb: dockreg_progress_callback,
    progress_ctx: *mut c_void,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_get_blob", || {
        // SAFETY: pointers as documented above.
        let ((client, repository, digest), out) = unsafe {
            (
                blob_args(client, repository, digest)?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let callback = write_cb.ok_or(FfiError::Null("write_cb"))?;
        let (repository, digest) = parse(repository, digest)?;
        let mut writer = CallbackWriter {
            callback,
            ctx: write_ctx,
            failure: None,
        };
        let mut progress = CProgress::new(progress_cb, progress_ctx);
        progress.start(None)?;
        let mut report = |done, total| progress.report(done, total);
        let mut options = DownloadOptions::new();
        if progress_cb.is_some() {
            options = options.progress(&mut report);
        }
        let result = client.get_blob_with(&repository, &digest, &mut writer, options);
        let size = match (result, writer.failure) {
            (Ok(n), _) => n,
            (Err(_), Some(msg)) => return Err(FfiError::Callback(msg)),
            (Err(e), None) => return Err(e.into()),
        };
        out.put_json(&json!({ "digest": digest, "size": size }))
    })
}

#[cfg(unix)]
pub(super) fn path_from_bytes(bytes: &[u8]) -> FfiResult<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

#[cfg(not(unix))]
pub(super) fn path_from_bytes(bytes: &[u8]) -> FfiResult<PathBuf> {
    let s = std::str::from_utf8(bytes).map_err(|_| FfiError::Utf8("path"))?;
    Ok(PathBuf::from(s))
}

/// Downloads a blob to a file, verifying it against its digest. The bytes go to a temporary
/// file in the same directory, renamed to `path` only once complete and verified: on any
/// failure nothing is left behind and an existing file at `path` is untouched; on success it is
/// replaced. A connection that breaks mid-blob is resumed where it stopped (`Range`).
///
/// - `client`, `repository` (its tag or digest is ignored), `digest` (`"sha256:..."`), `path`,
///   `out_json`: must not be NULL. `path` is taken as bytes (on Unix it need not be UTF-8).
/// - `progress_cb`, `progress_ctx`: as for `dockreg_client_get_blob`; may be NULL.
///
/// On success `out_json` receives `{"digest": "sha256:...", "size": 1234}`. Errors as
/// `dockreg_client_get_blob` (without `DOCKREG_ERR_CALLBACK`), plus `DOCKREG_ERR_FILE_IO` and
/// `DOCKREG_ERR_INVALID_ARGUMENT` (an empty path, or one that names no file).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_blob_to_file(
    client: *const dockreg_client,
    repository: *const c_char,
    digest: *const c_char,
    path: *const c_char,
    progress_cb: dockreg_progress_callback,
    progress_ctx: *mut c_void,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_get_blob_to_file", || {
        // SAFETY: pointers as documented above.
        let ((client, repository, digest), path, out) = unsafe {
            (
                blob_args(client, repository, digest)?,
                boundary::bytes_arg(path, "path")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let (repository, digest) = parse(repository, digest)?;
        if path.is_empty() {
            return Err(Error::InvalidInput("path is empty".into()).into());
        }
        let dest = path_from_bytes(path)?;
        let mut progress = CProgress::new(progress_cb, progress_ctx);
        progress.start(None)?;
        let mut report = |done, total| progress.report(done, total);
        let mut options = DownloadOptions::new();
        if progress_cb.is_some() {
            options = options.progress(&mut report);
        }
        let size = client.download_blob(&repository, &digest, &dest, options)?;
        out.put_json(&json!({ "digest": digest, "size": size }))
    })
}

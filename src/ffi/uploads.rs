//! Blob uploads from a file or through a read callback, cross-repository mounts, deletes.

use std::ffi::{c_char, c_void};
use std::io::Read;

use serde::Deserialize;
use serde_json::json;

use super::blobs::{CProgress, blob_args, dockreg_progress_callback, parse, path_from_bytes};
use super::boundary::{self, FfiResult, call};
use super::client::dockreg_client;
use super::error::FfiError;
use super::status::dockreg_status;
use crate::client::UploadOptions;
use crate::digest::Digest;
use crate::error::Error;
use crate::reference::Reference;

/// Fills `buf` with up to `cap` (> 0) next bytes of a blob and returns how many it wrote: 0 at
/// the end of the blob, `SIZE_MAX` (from `<stdint.h>`) when reading failed, which stops the
/// upload with `DOCKREG_ERR_READ_CALLBACK`. Returning more than `cap` is treated as a failure.
///
/// `ctx` is the pointer given with the callback. Called on the thread that made the call. It
/// is not called again after it returned 0 or `SIZE_MAX`. A failure (`SIZE_MAX`) ends the
/// upload and commits nothing, whatever was read before: a C++ callback catches its exceptions
/// and returns `SIZE_MAX` (an exception must not cross into dockreg), a Python one likewise
/// (ctypes would otherwise return an unspecified value that may read as the end of the data).
/// It may call dockreg functions.
#[allow(non_camel_case_types)]
pub type dockreg_read_callback =
    Option<unsafe extern "C" fn(ctx: *mut c_void, buf: *mut u8, cap: usize) -> usize>;

/// The options JSON of the blob uploads; mirrors [`UploadOptions`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PushOptions {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    chunk_size: Option<u64>,
    #[serde(default)]
    mount_from: Option<String>,
    #[serde(default)]
    skip_existing: Option<bool>,
    #[serde(default)]
    resume_attempts: Option<u32>,
}

fn option_error(key: &str, why: impl std::fmt::Display) -> FfiError {
    FfiError::Option(format!("{key}: {why}"))
}

impl PushOptions {
    /// The Rust options (without progress), checked against the target repository.
    fn build<'a>(&self, repository: &Reference) -> FfiResult<UploadOptions<'a>> {
        let mut o = UploadOptions::new();
        if let Some(d) = &self.digest {
            let d: Digest = d.parse().map_err(|e| option_error("digest", e))?;
            o = o.digest(d);
        }
        if let Some(n) = self.size {
            o = o.size(n);
        }
        if let Some(n) = self.chunk_size {
            if n == 0 {
                return Err(option_error("chunk_size", "must be at least 1"));
            }
            o = o.chunk_size(n);
        }
        if let Some(from) = &self.mount_from {
            if self.digest.is_none() {
                return Err(option_error("mount_from", "needs \"digest\""));
            }
            check_repository(repository, from).map_err(|e| option_error("mount_from", e))?;
            o = o.mount_from(from);
        }
        if let Some(skip) = self.skip_existing {
            o = o.skip_existing(skip);
        }
        if let Some(n) = self.resume_attempts {
            o = o.resume_attempts(n);
        }
        Ok(o)
    }
}

/// Checks that `name` is a repository path (`team/app`, no host) on `repository`'s registry.
fn check_repository(repository: &Reference, name: &str) -> Result<(), Error> {
    Reference::new(repository.registry(), name, None, None).map(drop)
}

/// A C read callback as a `Read`, counting what it gave.
struct CallbackReader {
    callback: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> usize,
    ctx: *mut c_void,
    /// Bytes delivered so far.
    read: u64,
    /// The callback returned 0.
    ended: bool,
    /// Why the callback failed; it is not called again then.
    failure: Option<String>,
}

impl Read for CallbackReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(msg) = &self.failure {
            return Err(std::io::Error::other(msg.clone()));
        }
        if buf.is_empty() || self.ended {
            return Ok(0);
        }
        // SAFETY: the caller gave this callback and context for the duration of the call; buf
        // is valid for writes of buf.len() bytes while the callback runs.
        let n = unsafe { (self.callback)(self.ctx, buf.as_mut_ptr(), buf.len()) };
        let msg = if n == usize::MAX {
            "the read callback reported a failure (SIZE_MAX)".to_string()
        } else if n > buf.len() {
            format!(
                "the read callback returned {n} for a buffer of {} bytes",
                buf.len()
            )
        } else {
            self.ended = n == 0;
            self.read += n as u64;
            return Ok(n);
        };
        self.failure = Some(msg.clone());
        Err(std::io::Error::other(msg))
    }
}

/// Parses the common upload arguments: the options JSON (NULL: defaults) into Rust options.
fn push_options(text: Option<&str>) -> FfiResult<PushOptions> {
    boundary::options_arg(text, "options_json")
}

/// Uploads a blob read through a callback into the repository `repository` names, with
/// constant memory: one request streaming the bytes when `size` is given, else chunks of 8 MiB
/// (or `chunk_size`) each held in memory so that a broken request can be sent again.
///
/// - `client`, `repository` (e.g. `"registry:5000/app"`; a tag or digest is ignored),
///   `read_cb`, `out_json`: must not be NULL.
/// - `read_ctx`: passed to `read_cb` as is; may be NULL.
/// - `options_json`: NULL or `"{}"` for the defaults, or an object with any of these keys (any
///   other key is `DOCKREG_ERR_INVALID_OPTION` naming it):
///   ```json
///   {
///     "digest": "sha256:...",  // when known: the upload is skipped if the repository has the
///                              // blob, and the registry checks it; default: computed
///     "size": 1234,            // bytes the source yields, exactly; default: unknown
///     "chunk_size": 5242880,   // upload in PATCH chunks of this many bytes (at least the
///                              // registry's minimum); default: one request when size is known
///     "mount_from": "team/base", // a repository of the same registry to mount the blob from
///                              // first (needs "digest"); default: none
///     "skip_existing": true,   // HEAD first and skip when present (needs "digest"); default true
///     "resume_attempts": 5     // times a broken upload asks the registry where it stands and
///                              // continues; default 5
///   }
///   ```
/// - `progress_cb`: NULL, or called as described at `dockreg_progress_callback` (`total` is the
///   size given, else 0); `progress_ctx` is passed to it as is.
///
/// On success `out_json` receives `{"digest": "sha256:...", "size": 1234}` (`size` is null
/// only when the upload was skipped or mounted and no size was given).
///
/// Errors: misuse (1-4), `DOCKREG_ERR_INVALID_REFERENCE`, `DOCKREG_ERR_INVALID_ARGUMENT` (the
/// source ended before `size`, or could not go back to resume), transport (20-24), auth
/// (30-32), registry (40-45), `DOCKREG_ERR_DIGEST_MISMATCH`, `DOCKREG_ERR_CANCELLED`,
/// `DOCKREG_ERR_READ_CALLBACK`. A blob is only committed by a request whose digest the
/// registry checked: after a failure, nothing broken is left. Thread-safe (the callbacks run
/// on the calling thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_push_blob(
    client: *const dockreg_client,
    repository: *const c_char,
    read_cb: dockreg_read_callback,
    read_ctx: *mut c_void,
    options_json: *const c_char,
    progress_cb: dockreg_progress_callback,
    progress_ctx: *mut c_void,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_push_blob", || {
        // SAFETY: pointers as documented above; NULL options mean the defaults.
        let (client, repository, options, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(repository, "repository")?,
                boundary::opt_str_arg(options_json, "options_json")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let callback = read_cb.ok_or(FfiError::Null("read_cb"))?;
        let repository = boundary::reference_arg(repository)?;
        let options = push_options(options)?;
        let given_size = options.size;
        let options = options.build(&repository)?;
        let mut reader = CallbackReader {
            callback,
            ctx: read_ctx,
            read: 0,
            ended: false,
            failure: None,
        };
        let mut progress = CProgress::new(progress_cb, progress_ctx);
        progress.start(given_size)?;
        let mut report = |done, total| progress.report(done, total);
        let result = client.push_blob(&repository, &mut reader, options.progress(&mut report));
        let digest = match (result, reader.failure) {
            (Ok(d), _) => d,
            (Err(_), Some(msg)) => return Err(FfiError::ReadCallback(msg)),
            (Err(e), None) => return Err(e.into()),
        };
        let size = given_size
            .or(reader.ended.then_some(reader.read))
            .or(progress.last.and_then(|(_, total)| total));
        out.put_json(&json!({ "digest": digest, "size": size }))
    })
}

/// Uploads a file as a blob into the repository `repository` names. Its size is known, so the
/// bytes go in one streamed request (or in `chunk_size` chunks), and a broken upload can always
/// resume from what the registry holds, or start again when the registry lost the session.
///
/// - `client`, `repository` (a tag or digest is ignored), `path`, `out_json`: must not be
///   NULL. `path` is taken as bytes (on Unix it need not be UTF-8).
/// - `options_json`: NULL or an object as for `dockreg_client_push_blob` (`size`, when given,
///   must be the file's, else `DOCKREG_ERR_INVALID_OPTION`).
/// - `progress_cb`, `progress_ctx`: as for `dockreg_client_push_blob`; `total` is the file's
///   size.
///
/// On success `out_json` receives `{"digest": "sha256:...", "size": 1234}`. Errors as
/// `dockreg_client_push_blob` (without `DOCKREG_ERR_READ_CALLBACK`), plus
/// `DOCKREG_ERR_FILE_IO` (the file cannot be opened or read). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_push_blob_from_file(
    client: *const dockreg_client,
    repository: *const c_char,
    path: *const c_char,
    options_json: *const c_char,
    progress_cb: dockreg_progress_callback,
    progress_ctx: *mut c_void,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_push_blob_from_file", || {
        // SAFETY: pointers as documented above; NULL options mean the defaults.
        let (client, repository, path, options, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(repository, "repository")?,
                boundary::bytes_arg(path, "path")?,
                boundary::opt_str_arg(options_json, "options_json")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let repository = boundary::reference_arg(repository)?;
        let options = push_options(options)?;
        let upload = options.build(&repository)?;
        if path.is_empty() {
            return Err(Error::InvalidInput("path is empty".into()).into());
        }
        let path = path_from_bytes(path)?;
        let file_size = std::fs::metadata(&path)
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?
            .len();
        if options.size.is_some_and(|n| n != file_size) {
            return Err(option_error(
                "size",
                format!(
                    "the file has {file_size} bytes, not {}",
                    options.size.unwrap_or(0)
                ),
            ));
        }
        let size = file_size;
        let options = upload.size(size);
        let mut progress = CProgress::new(progress_cb, progress_ctx);
        progress.start(Some(size))?;
        let mut report = |done, total| progress.report(done, total);
        let digest = client.push_blob_file(&repository, &path, options.progress(&mut report))?;
        out.put_json(&json!({ "digest": digest, "size": size }))
    })
}

/// Mounts the blob `digest` from the repository `from` of the same registry into the
/// repository `repository` names, without transferring it.
///
/// - `client`, `repository` (e.g. `"registry:5000/app"`; a tag or digest is ignored), `digest`,
///   `from` (a repository path on the same registry, without the host: `"team/base"`),
///   `out_json`: must not be NULL.
///
/// On success `out_json` receives `{"digest": "sha256:...", "mounted": true}`; `"mounted":
/// false` when the registry did not mount (the source lacks the blob, or the registry does not
/// mount across repositories): then upload it instead. Errors: misuse (1-4),
/// `DOCKREG_ERR_INVALID_REFERENCE` (also a bad `from`), `DOCKREG_ERR_INVALID_DIGEST`,
/// transport (20-24), auth (30-32), registry (40-44). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_mount_blob(
    client: *const dockreg_client,
    repository: *const c_char,
    digest: *const c_char,
    from: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_mount_blob", || {
        // SAFETY: pointers as documented above.
        let ((client, repository, digest), from, out) = unsafe {
            (
                blob_args(client, repository, digest)?,
                boundary::str_arg(from, "from")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let (repository, digest) = parse(repository, digest)?;
        check_repository(&repository, from)?;
        let mounted = client.mount_blob(&repository, &digest, from)?;
        out.put_json(&json!({ "digest": digest, "mounted": mounted }))
    })
}

/// Deletes the blob `digest` from the repository `repository` names. Manifests that use it
/// may still be served; the registry must allow deletes.
///
/// - `client`, `repository` (a tag or digest is ignored), `digest`: must not be NULL.
///
/// Returns `DOCKREG_OK` once the registry accepted the delete; there is no output. Errors:
/// misuse (1-2), `DOCKREG_ERR_INVALID_REFERENCE`, `DOCKREG_ERR_INVALID_DIGEST`, transport
/// (20-24), auth (30-32), registry (40-44; `DOCKREG_ERR_NOT_FOUND` for a blob that is not
/// there, `DOCKREG_ERR_REGISTRY` (405) where deletes are disabled). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_delete_blob(
    client: *const dockreg_client,
    repository: *const c_char,
    digest: *const c_char,
) -> dockreg_status {
    call("dockreg_client_delete_blob", || {
        // SAFETY: pointers as documented above.
        let (client, repository, digest) = unsafe { blob_args(client, repository, digest)? };
        let (repository, digest) = parse(repository, digest)?;
        Ok(client.delete_blob(&repository, &digest)?)
    })
}

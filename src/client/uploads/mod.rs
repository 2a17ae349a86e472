//! Blob uploads: monolithic, chunked and streamed, resumable; cross-repository mounts; deletes.
//!
//! # How a blob goes up
//! Every upload opens a session (`POST /blobs/uploads/`, 202 with a `Location`) and ends with a
//! `PUT <location>?digest=<digest>` (201). What happens in between depends on what is known:
//!
//! - **digest and size known** (the usual case for files already hashed, and for copies): the
//!   bytes go in the closing PUT itself, streamed with a `Content-Length`: a HEAD (skipped when
//!   the repository has the blob), the POST and the PUT, one pass over the data.
//! - **digest unknown, size known** (a fresh stream): the bytes go in one `PATCH` with
//!   `Content-Range: 0-(size-1)`, hashed on their way out, and the closing PUT carries only the
//!   digest. Still one pass over the data and constant memory. The alternative, hashing first and
//!   then uploading monolithically, reads a file twice and cannot work for a pipe at all.
//! - **size unknown, or a chunk size asked for**: `PATCH`es of at most the chunk size (never
//!   below the registry's `OCI-Chunk-Min-Length`), each with its `Content-Range`, then the PUT.
//!
//! Every answer's `Location` replaces the previous one (distribution signs the upload state into
//! it). A `PATCH` answered 201 (ECR) counts as accepted.
//!
//! # Resuming
//! When a request fails on the way (connection lost, 5xx, 416), the session's status is asked
//! (`GET <location>`, whose `Range` says what the registry committed) a few times with a growing
//! pause, and the upload continues from there. Continuing needs the bytes after that offset
//! again: a seekable source seeks back; a plain reader keeps its current chunk in memory when
//! uploading in chunks (so a lost chunk can be sent again), and cannot go back otherwise. When the
//! registry lost the session, a seekable source starts a new one from the beginning; a blob is
//! only ever committed by a PUT whose digest the registry checked, so nothing broken is left
//! behind.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::auth::Scope;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::reference::Repository;
use crate::transport::{Body, Method, Request, Response};
use crate::url;

use super::Client;

mod engine;

use engine::{Source, Upload};

/// Chunk size for streams of unknown length (each chunk is held in memory so it can be resent).
pub const DEFAULT_STREAM_CHUNK: u64 = 8 * 1024 * 1024;
/// Buffer size for reading a source.
const READ_BUF: usize = 256 * 1024;

/// A progress callback: called with the bytes done and the total (when known); returning `false`
/// stops the transfer with [`Error::Cancelled`].
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>) -> bool;

/// How to upload a blob ([`Client::push_blob`]).
///
/// ```no_run
/// # let client = dockreg::Client::new()?;
/// # let repo: dockreg::Reference = "127.0.0.1:5000/app".parse()?;
/// let data = vec![7u8; 10_000];
/// let mut shown = |done: u64, total: Option<u64>| { eprintln!("{done}/{total:?}"); true };
/// let options = dockreg::UploadOptions::new()
///     .size(data.len() as u64)
///     .chunk_size(4096)
///     .progress(&mut shown);
/// let digest = client.push_blob(&repo, &mut data.as_slice(), options)?;
/// # Ok::<(), dockreg::Error>(())
/// ```
#[must_use]
pub struct UploadOptions<'a> {
    digest: Option<Digest>,
    size: Option<u64>,
    chunk_size: Option<u64>,
    mount_from: Option<Repository>,
    skip_existing: bool,
    resume_attempts: u32,
    progress: Option<Progress<'a>>,
}

impl Default for UploadOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for UploadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("chunk_size", &self.chunk_size)
            .field("mount_from", &self.mount_from)
            .field("skip_existing", &self.skip_existing)
            .field("resume_attempts", &self.resume_attempts)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl<'a> UploadOptions<'a> {
    /// Defaults: digest and size unknown, no chunking, skip existing blobs, 5 resume attempts.
    pub fn new() -> Self {
        Self {
            digest: None,
            size: None,
            chunk_size: None,
            mount_from: None,
            skip_existing: true,
            resume_attempts: 5,
            progress: None,
        }
    }

    /// The blob's digest, when known: the upload is skipped when the repository has it, and the
    /// bytes go up in one PUT. The registry checks it. Default: unknown (computed while sending).
    pub fn digest(mut self, digest: Digest) -> Self {
        self.digest = Some(digest);
        self
    }

    /// The blob's size in bytes, when known; the source must yield exactly that many. Default:
    /// unknown (sent in chunks of [`DEFAULT_STREAM_CHUNK`] held in memory).
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Upload in `PATCH` chunks of this many bytes (raised to the registry's
    /// `OCI-Chunk-Min-Length`). Default: no chunking when the size is known.
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = Some(bytes.max(1));
        self
    }

    /// Try a cross-repository mount from this repository first (needs the digest): one `POST
    /// ?mount=&from=` that, when the registry mounts (201), replaces the upload. It must be on
    /// the registry the blob goes to, else the upload fails with [`Error::InvalidInput`] before
    /// any request. A [`Reference`](crate::Reference) may be given: its tag and digest are not
    /// used. Default: none.
    pub fn mount_from(mut self, repository: &impl AsRef<Repository>) -> Self {
        self.mount_from = Some(repository.as_ref().clone());
        self
    }

    /// Whether to HEAD the blob first and skip the upload when it exists (needs the digest).
    /// Default: true.
    pub fn skip_existing(mut self, skip: bool) -> Self {
        self.skip_existing = skip;
        self
    }

    /// How many times a failed upload asks the registry where it stands and continues. Default: 5.
    pub fn resume_attempts(mut self, attempts: u32) -> Self {
        self.resume_attempts = attempts;
        self
    }

    /// A progress callback (bytes sent, total when known); `false` cancels. Default: none.
    pub fn progress(mut self, progress: Progress<'a>) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// An open upload session.
pub(crate) struct Session {
    /// The latest `Location`, absolute.
    pub location: String,
    /// `OCI-Chunk-Min-Length`, when sent.
    pub min_chunk: Option<u64>,
}

/// What a mount attempt gave.
pub(crate) enum Mounted {
    /// 201: the blob is in the target repository.
    Done,
    /// 202: a fresh upload session to use instead.
    Session(Session),
}

/// `Read + Seek` as one object-safe trait.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

impl Client {
    /// Uploads a blob read from `source` into `repository` and returns its digest.
    ///
    /// Memory stays constant (a read buffer, or one chunk for streams of unknown size). The
    /// requests depend on what is known:
    ///
    /// - digest and size: `HEAD` (skipped when present), `POST`, one `PUT ?digest=` streaming the
    ///   bytes with a `Content-Length`;
    /// - size only (the default for a fresh stream): `POST`, one `PATCH` streaming the bytes while
    ///   they are hashed, `PUT ?digest=` with no body: a single pass over the data, where hashing
    ///   first would read a file twice and cannot work for a pipe;
    /// - no size, or [`UploadOptions::chunk_size`]: `PATCH`es with `Content-Range` (at least the
    ///   registry's `OCI-Chunk-Min-Length`), then the `PUT`.
    ///
    /// Each answer's `Location` replaces the last. When a request fails (connection lost, 5xx,
    /// 416), the upload's status (`GET`, `Range`) says where to continue. A plain reader can go
    /// back only within the chunk it holds in memory; a seekable source
    /// ([`Client::push_blob_seekable`], [`Client::push_blob_file`]) can always continue, or start a
    /// new session when the registry lost the old one (starting again from the first byte). A
    /// blob is committed only by a `PUT` whose digest the registry checked.
    ///
    /// A [`Reference`](crate::Reference) may be given for the repository: its tag and digest
    /// are not used.
    ///
    /// # Errors
    /// [`Error::Io`] when the source fails; [`Error::InvalidInput`] when it yields more or
    /// fewer bytes than [`UploadOptions::size`], or [`UploadOptions::mount_from`] is on another
    /// registry; [`Error::DigestMismatch`] when the bytes do not match
    /// [`UploadOptions::digest`]; [`Error::Cancelled`] from the progress callback; transport,
    /// authentication and registry errors once the resume attempts are spent.
    pub fn push_blob(
        &self,
        repository: &impl AsRef<Repository>,
        source: &mut dyn Read,
        options: UploadOptions<'_>,
    ) -> Result<Digest> {
        let repository = repository.as_ref();
        self.upload(repository, Source::Plain(source), options)
    }

    /// Like [`Client::push_blob`] for a seekable source, uploaded from its start: the size is
    /// taken from the source's length when not given, and a failed upload can always resume
    /// (or start again when the registry lost the session). Requests and errors as
    /// [`Client::push_blob`].
    pub fn push_blob_seekable(
        &self,
        repository: &impl AsRef<Repository>,
        source: &mut dyn ReadSeek,
        mut options: UploadOptions<'_>,
    ) -> Result<Digest> {
        let repository = repository.as_ref();
        let io_err = |e| Error::Io {
            path: "<blob source>".into(),
            source: e,
        };
        if options.size.is_none() {
            let end = source.seek(SeekFrom::End(0)).map_err(io_err)?;
            options.size = Some(end);
        }
        source.seek(SeekFrom::Start(0)).map_err(io_err)?;
        self.upload(repository, Source::Seekable(source), options)
    }

    /// Uploads a file as a blob (its size known, resumable); returns its digest. Requests as
    /// [`Client::push_blob`].
    ///
    /// # Errors
    /// [`Error::Io`] naming the file when it cannot be opened or read; as
    /// [`Client::push_blob`].
    pub fn push_blob_file(
        &self,
        repository: &impl AsRef<Repository>,
        path: &Path,
        options: UploadOptions<'_>,
    ) -> Result<Digest> {
        let repository = repository.as_ref();
        let io_err = |e| Error::Io {
            path: path.display().to_string(),
            source: e,
        };
        let mut file = std::fs::File::open(path).map_err(io_err)?;
        let size = file.metadata().map_err(io_err)?.len();
        let options = if options.size.is_none() {
            options.size(size)
        } else {
            options
        };
        self.push_blob_seekable(repository, &mut file, options)
    }

    /// Uploads bytes held in memory (digest computed first) and returns the digest. Requests: a
    /// HEAD, and only when the repository lacks the blob a POST and one PUT with the bytes.
    ///
    /// # Errors
    /// Transport, authentication and registry errors (as [`Client::push_blob`]).
    pub fn push_blob_bytes(
        &self,
        repository: &impl AsRef<Repository>,
        bytes: &[u8],
    ) -> Result<Digest> {
        let repository = repository.as_ref();
        let options = UploadOptions::new()
            .digest(Digest::sha256_of(bytes))
            .size(bytes.len() as u64);
        self.push_blob_seekable(repository, &mut io::Cursor::new(bytes), options)
    }

    /// Mounts blob `digest` from repository `from` of the same registry into `repository`.
    /// True when mounted (201); **false** when the registry answered with an upload session
    /// instead (202: the source lacks the blob, or the registry does not mount): that session
    /// is cancelled and nothing is uploaded, so the caller pushes the blob itself
    /// ([`UploadOptions::mount_from`] does both in one call). [`Reference`](crate::Reference)s
    /// may be given for either repository: their tags and digests are not used.
    ///
    /// Requests: one POST (`?mount=&from=`), plus a best-effort DELETE of the session on 202.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `from` is on another registry (before any request);
    /// [`Error::Unauthorized`] or [`Error::Denied`] without push on `repository` or pull on
    /// `from`; transport and registry errors.
    pub fn mount_blob(
        &self,
        repository: &impl AsRef<Repository>,
        digest: &Digest,
        from: &impl AsRef<Repository>,
    ) -> Result<bool> {
        let (repository, from) = (repository.as_ref(), from.as_ref());
        check_same_registry(repository, from)?;
        match self.open_session(repository, Some((digest, from)))? {
            Mounted::Done => Ok(true),
            Mounted::Session(s) => {
                self.cancel_session(repository, &s);
                Ok(false)
            }
        }
    }

    /// Deletes blob `digest` from a repository (202). Manifests using it may still be served.
    /// One DELETE. A [`Reference`](crate::Reference) may be given for the repository: its tag
    /// and digest are not used.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Denied`] or [`Error::Unauthorized`] without the `delete`
    /// permission; 405 ([`Error::Registry`]) where deletes are switched off; transport errors.
    pub fn delete_blob(&self, repository: &impl AsRef<Repository>, digest: &Digest) -> Result<()> {
        let repository = repository.as_ref();
        let req = Request::new(
            Method::Delete,
            self.blob_url(repository, digest),
            repository.registry(),
            Scope::delete(repository.path()),
        );
        let resp = self.transport().send(req)?;
        resp.drain();
        Ok(())
    }

    fn upload(
        &self,
        repository: &Repository,
        src: Source<'_>,
        options: UploadOptions<'_>,
    ) -> Result<Digest> {
        self.upload_in(repository, src, options, None)
    }

    /// Uploads into a session already open (the 202 of a mount attempt); no HEAD, no mount.
    pub(crate) fn push_blob_in_session(
        &self,
        repository: &(impl AsRef<Repository> + ?Sized),
        source: &mut dyn Read,
        options: UploadOptions<'_>,
        session: Session,
    ) -> Result<Digest> {
        self.upload_in(
            repository.as_ref(),
            Source::Plain(source),
            options,
            Some(session),
        )
    }

    fn upload_in(
        &self,
        repository: &Repository,
        src: Source<'_>,
        options: UploadOptions<'_>,
        session: Option<Session>,
    ) -> Result<Digest> {
        let UploadOptions {
            digest,
            size,
            chunk_size,
            mount_from,
            skip_existing,
            resume_attempts,
            mut progress,
        } = options;
        if let Some(d) = &digest {
            d.hasher()?;
            if skip_existing && session.is_none() {
                if let Some(found) =
                    self.head_blob_for(repository, d, Scope::push(repository.path()))?
                {
                    if size.is_none_or(|s| s == found) {
                        if let Some(p) = progress.as_mut() {
                            p(found, Some(found));
                        }
                        return Ok(d.clone());
                    }
                }
            }
        }
        if let Some(from) = &mount_from {
            check_same_registry(repository, from)?;
        }
        let mount = match (&digest, &mount_from) {
            (Some(d), Some(from)) => Some((d, from)),
            _ => None,
        };
        let opened = match session {
            Some(s) => Mounted::Session(s),
            None => self.open_session(repository, mount)?,
        };
        let session = match opened {
            Mounted::Done => {
                if let (Some(p), Some(s)) = (progress.as_mut(), size) {
                    p(s, Some(s));
                }
                return digest.ok_or_else(|| {
                    Error::invalid_response(
                        &self.repo_base(repository),
                        "an upload POST answered 201 without a mount",
                    )
                });
            }
            Mounted::Session(s) => s,
        };
        let hasher = match &digest {
            Some(d) => d.hasher()?,
            None => Hasher::sha256(),
        };
        let mut up = Upload {
            client: self,
            repo: repository,
            src,
            size,
            digest,
            checkpoint: (0, hasher.clone()),
            hasher,
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
            chunk_size,
            resume_attempts,
            progress,
            done: 0,
        };
        up.run(session)
    }

    /// `POST /blobs/uploads/` (with `?mount=&from=` when asked).
    pub(crate) fn open_session(
        &self,
        repository: &(impl AsRef<Repository> + ?Sized),
        mount: Option<(&Digest, &Repository)>,
    ) -> Result<Mounted> {
        let repository = repository.as_ref();
        let mut target = format!("{}/blobs/uploads/", self.repo_base(repository));
        let mut scope = Scope::push(repository.path());
        if let Some((digest, from)) = mount {
            target = url::with_query(&target, "mount", digest.as_str());
            target = url::with_query(&target, "from", from.path());
            scope = scope.and_pull(from.path());
        }
        let req =
            Request::new(Method::Post, target, repository.registry(), scope).body(Body::Bytes(&[]));
        let resp = self.transport().send(req)?;
        if resp.status == 201 {
            resp.drain();
            return Ok(Mounted::Done);
        }
        Ok(Mounted::Session(Session {
            location: location(&resp)?,
            min_chunk: min_chunk(&resp)?,
        }))
    }

    /// Best effort: the registry forgets stale sessions on its own anyway.
    pub(crate) fn cancel_session(
        &self,
        repository: &(impl AsRef<Repository> + ?Sized),
        session: &Session,
    ) {
        let repository = repository.as_ref();
        let req = Request::new(
            Method::Delete,
            session.location.clone(),
            repository.registry(),
            Scope::push(repository.path()),
        );
        if let Ok(resp) = self.transport().send(req) {
            resp.drain();
        }
    }

    /// `GET <location>`: the committed size, from `Range: 0-<last>`. `known` is what the client
    /// last saw confirmed, to read distribution's `0-0` (sent for both 0 and 1 byte).
    fn session_status(
        &self,
        repository: &Repository,
        session: &mut Session,
        known: u64,
    ) -> Result<u64> {
        let req = Request::new(
            Method::Get,
            session.location.clone(),
            repository.registry(),
            Scope::push(repository.path()),
        );
        let resp = self.transport().send(req)?;
        if resp.header("location").is_some() {
            session.location = location(&resp)?;
        }
        let range = resp.header("range").map(str::to_string);
        let url = url::without_query(&resp.url).to_string();
        resp.drain();
        match range {
            None => Ok(0),
            Some(r) => match parse_range_end(&r) {
                Some(0) => Ok(known.min(1)),
                Some(end) if end < u64::MAX => Ok(end + 1),
                _ => Err(Error::invalid_response(
                    &url,
                    format!("upload status with a bad Range {r:?}"),
                )),
            },
        }
    }
}

/// A mount names its source by path only, so the source must be on the target's registry.
fn check_same_registry(target: &Repository, from: &Repository) -> Result<()> {
    if target.registry() != from.registry() {
        return Err(Error::InvalidInput(format!(
            "cannot mount into {target} from {from}: a mount works within one registry"
        )));
    }
    Ok(())
}

/// Largest `OCI-Chunk-Min-Length` honoured: chunks are held in memory, so a registry asking for
/// more would break the constant-memory promise (or, unchecked, abort the process).
const MAX_MIN_CHUNK: u64 = 256 * 1024 * 1024;

/// `OCI-Chunk-Min-Length`, when sent and sane.
fn min_chunk(resp: &Response) -> Result<Option<u64>> {
    let Some(v) = resp.header("oci-chunk-min-length") else {
        return Ok(None);
    };
    match v.parse::<u64>() {
        Ok(n) if n <= MAX_MIN_CHUNK => Ok(Some(n)),
        _ => Err(Error::invalid_response(
            url::without_query(&resp.url),
            format!("OCI-Chunk-Min-Length {v:?} is not a size up to {MAX_MIN_CHUNK} bytes"),
        )),
    }
}

/// The absolute `Location` of an upload answer.
fn location(resp: &Response) -> Result<String> {
    let Some(loc) = resp.header("location") else {
        return Err(Error::invalid_response(
            url::without_query(&resp.url),
            "upload answer without Location",
        ));
    };
    url::resolve(&resp.url, loc)
}

/// The last byte of `0-N` or `bytes=0-N`.
fn parse_range_end(value: &str) -> Option<u64> {
    let v = value.trim();
    let v = v.strip_prefix("bytes=").unwrap_or(v);
    let (start, end) = v.split_once('-')?;
    start.trim().parse::<u64>().ok()?;
    end.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range_end("0-0"), Some(0));
        assert_eq!(parse_range_end("0-1023"), Some(1023));
        assert_eq!(parse_range_end("bytes=0-9"), Some(9));
        assert_eq!(parse_range_end("garbage"), None);
        assert_eq!(parse_range_end("0-"), None);
    }
}

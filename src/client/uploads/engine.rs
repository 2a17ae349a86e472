//! The upload engine: one upload from its open session to the closing PUT, with the source's
//! position, the running hash and the resumption after a failure.

use std::io::{self, Read, Seek, SeekFrom};
use std::time::Duration;

use crate::auth::Scope;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result, TransportErrorKind};
use crate::reference::Repository;
use crate::transport::{Body, Method, Request, Response};
use crate::url;

use super::{DEFAULT_STREAM_CHUNK, Mounted, Progress, READ_BUF, ReadSeek, Session, location};
use crate::client::Client;

/// Most bytes reserved up front for a chunk; the buffer grows past it only as data arrives.
const MAX_RESERVE: usize = 16 * 1024 * 1024;

/// Where the bytes come from, and whether they can be read again.
pub(super) enum Source<'s> {
    Plain(&'s mut dyn Read),
    Seekable(&'s mut dyn ReadSeek),
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let r = match self {
                Self::Plain(r) => r.read(buf),
                Self::Seekable(r) => r.read(buf),
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

impl Source<'_> {
    fn seekable(&self) -> bool {
        matches!(self, Self::Seekable(_))
    }
}

/// Why a step of an upload failed.
enum Step {
    /// Worth asking the registry where the upload stands.
    Resumable(Error),
    /// Not worth retrying.
    Fatal(Error),
}

impl From<Error> for Step {
    fn from(e: Error) -> Self {
        if resumable(&e) {
            Step::Resumable(e)
        } else {
            Step::Fatal(e)
        }
    }
}

fn resumable(e: &Error) -> bool {
    match e {
        Error::Transport { kind, .. } => matches!(
            kind,
            TransportErrorKind::Io | TransportErrorKind::Connect | TransportErrorKind::Timeout
        ),
        // 401: a token that expired during a long upload; the status request renews it.
        other => other
            .http_status()
            .is_some_and(|s| s == 401 || s == 408 || s == 416 || s >= 500),
    }
}

/// The request may have reached the registry but its answer did not come back: a broken
/// connection, a timeout, or a gateway's 5xx.
fn answer_lost(e: &Error) -> bool {
    match e {
        Error::Transport { kind, .. } => {
            matches!(kind, TransportErrorKind::Io | TransportErrorKind::Timeout)
        }
        other => other
            .http_status()
            .is_some_and(|s| matches!(s, 500 | 502 | 503 | 504 | 522)),
    }
}

/// A session is gone when its status answers 404 or 400 BLOB_UPLOAD_INVALID / _UNKNOWN.
fn session_lost(e: &Error) -> bool {
    e.is_not_found()
        || e.registry_error().is_some_and(|r| {
            r.status == 400
                && (r.has_code("BLOB_UPLOAD_INVALID") || r.has_code("BLOB_UPLOAD_UNKNOWN"))
        })
}

/// Bytes of the source for one request, hashed and reported as they are read.
struct Feed<'f, 'p> {
    src: &'f mut dyn Read,
    left: u64,
    hasher: Option<&'f mut Hasher>,
    done: &'f mut u64,
    total: Option<u64>,
    progress: &'f mut Option<Progress<'p>>,
    failure: &'f mut Option<Error>,
}

impl Read for Feed<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let read = loop {
            match self.src.read(&mut buf[..want]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = match read {
            Ok(0) => {
                *self.failure = Some(Error::InvalidInput(format!(
                    "the blob source ended {} bytes before the size given",
                    self.left
                )));
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "source ended"));
            }
            Ok(n) => n,
            Err(e) => {
                *self.failure = Some(Error::Io {
                    path: "<blob source>".into(),
                    source: io::Error::new(e.kind(), e.to_string()),
                });
                return Err(e);
            }
        };
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.left -= n as u64;
        *self.done += n as u64;
        if let Some(p) = self.progress.as_mut() {
            if !p(*self.done, self.total) {
                *self.failure = Some(Error::Cancelled);
                return Err(io::Error::other("cancelled by the caller"));
            }
        }
        Ok(n)
    }
}

/// One upload in progress.
pub(super) struct Upload<'c, 's, 'p> {
    pub(super) client: &'c Client,
    pub(super) repo: &'c Repository,
    pub(super) src: Source<'s>,
    pub(super) size: Option<u64>,
    /// The digest asked for; when `None`, `hasher` computes it.
    pub(super) digest: Option<Digest>,
    pub(super) hasher: Hasher,
    /// `hasher` covers source bytes `[0, pos)`; the source is at `pos`.
    pub(super) pos: u64,
    /// The hasher as it was at `checkpoint.0`, the start of the chunk being sent.
    pub(super) checkpoint: (u64, Hasher),
    /// The current chunk, for plain sources uploading in chunks: starts at `buf_start`.
    pub(super) buf: Vec<u8>,
    pub(super) buf_start: u64,
    pub(super) chunk_size: Option<u64>,
    pub(super) resume_attempts: u32,
    pub(super) progress: Option<Progress<'p>>,
    /// Bytes reported to the progress callback.
    pub(super) done: u64,
}

impl Upload<'_, '_, '_> {
    pub(super) fn run(&mut self, mut session: Session) -> Result<Digest> {
        let mut restarts = 0;
        loop {
            let result = self.send_all(&mut session);
            match result {
                Ok(d) => return Ok(d),
                Err(Step::Resumable(e)) | Err(Step::Fatal(e)) if matches!(e, Error::Cancelled) => {
                    self.client.cancel_session(self.repo, &session);
                    return Err(e);
                }
                Err(Step::Resumable(e)) => {
                    // The session is lost: start again from the beginning when the source can.
                    if !self.src.seekable() || restarts >= self.resume_attempts {
                        self.client.cancel_session(self.repo, &session);
                        return Err(e);
                    }
                    restarts += 1;
                    self.rewind(0).map_err(|_| e)?;
                    session = match self.client.open_session(self.repo, None)? {
                        Mounted::Session(s) => s,
                        Mounted::Done => {
                            return Err(Error::invalid_response(
                                &self.client.repo_base(self.repo),
                                "an upload POST answered 201 without a mount",
                            ));
                        }
                    };
                }
                Err(Step::Fatal(e)) => {
                    self.client.cancel_session(self.repo, &session);
                    return Err(e);
                }
            }
        }
    }

    /// Sends everything from the start of the session; `Step::Resumable` out of here means the
    /// session itself is gone.
    fn send_all(&mut self, session: &mut Session) -> Result<Digest, Step> {
        let mut committed = 0u64;
        let monolithic = self.digest.is_some() && self.size.is_some() && self.chunk_size.is_none();
        let mut attempts = 0u32;
        let mut first = true;
        loop {
            let step = if monolithic && first {
                self.put_rest(session, committed)
            } else {
                self.patch_next(session, committed)
            };
            first = false;
            match step {
                Ok(Some(d)) => return Ok(d),
                Ok(None) => {
                    committed = self.pos_committed();
                    attempts = 0;
                }
                Err(Step::Fatal(e)) => return Err(Step::Fatal(e)),
                Err(Step::Resumable(e)) => {
                    if attempts >= self.resume_attempts {
                        return Err(Step::Fatal(e));
                    }
                    attempts += 1;
                    match self.recover(session, committed, attempts) {
                        Ok(c) => {
                            self.rewind(c).map_err(|_| Step::Fatal(e))?;
                            committed = c;
                        }
                        Err(lost) if session_lost(&lost) => return Err(Step::Resumable(e)),
                        Err(other) => return Err(Step::Fatal(other)),
                    }
                }
            }
        }
    }

    /// After a successful PATCH the source position is what the registry holds.
    fn pos_committed(&self) -> u64 {
        if self.buf.is_empty() {
            self.pos
        } else {
            self.buf_start + self.buf.len() as u64
        }
    }

    /// Asks where the session stands, pausing longer each attempt (the registry may restart).
    fn recover(&mut self, session: &mut Session, known: u64, attempt: u32) -> Result<u64> {
        let mut i = 0u32;
        loop {
            let pause = 100u64 << (attempt + i).min(6);
            std::thread::sleep(Duration::from_millis(pause));
            match self.client.session_status(self.repo, session, known) {
                Ok(c) => return Ok(c),
                Err(e) if resumable(&e) && i < 3 => i += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Moves the source (and the hash) back to `offset`; fails when the source cannot.
    fn rewind(&mut self, offset: u64) -> Result<()> {
        let cannot = || {
            Error::InvalidInput(format!(
                "the upload must continue at byte {offset} but the blob source cannot go back \
                 there (use a seekable source to resume)"
            ))
        };
        if !self.buf.is_empty() {
            let end = self.buf_start + self.buf.len() as u64;
            if offset < self.buf_start || offset > end {
                return Err(cannot());
            }
            // The chunk was hashed when it was read: only what is resent changes.
            self.done = offset;
            return Ok(());
        }
        let Source::Seekable(r) = &mut self.src else {
            if offset == self.pos {
                return Ok(());
            }
            return Err(cannot());
        };
        if self.digest.is_none() {
            let (from, h) = if offset >= self.checkpoint.0 {
                (self.checkpoint.0, self.checkpoint.1.clone())
            } else {
                (0, Hasher::sha256())
            };
            self.hasher = h;
            r.seek(SeekFrom::Start(from)).map_err(|e| Error::Io {
                path: "<blob source>".into(),
                source: e,
            })?;
            let mut left = offset - from;
            let mut buf = vec![0u8; READ_BUF];
            while left > 0 {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = r.read(&mut buf[..want]).map_err(|e| Error::Io {
                    path: "<blob source>".into(),
                    source: e,
                })?;
                if n == 0 {
                    return Err(cannot());
                }
                self.hasher.update(&buf[..n]);
                left -= n as u64;
            }
        } else {
            r.seek(SeekFrom::Start(offset)).map_err(|e| Error::Io {
                path: "<blob source>".into(),
                source: e,
            })?;
        }
        self.pos = offset;
        self.checkpoint = (offset, self.hasher.clone());
        self.done = offset;
        Ok(())
    }

    /// The closing PUT with the rest of the blob (digest and size known); `Some` when done.
    fn put_rest(&mut self, session: &mut Session, committed: u64) -> Result<Option<Digest>, Step> {
        // Only taken with a known digest (see `send_all`): without one there is nothing to PUT.
        let Some(digest) = self.digest.clone() else {
            return Err(Step::Fatal(Error::InvalidInput(
                "a monolithic upload needs the blob's digest".into(),
            )));
        };
        let size = self.size.unwrap_or(0);
        let len = size.saturating_sub(committed);
        let target = url::with_query(&session.location, "digest", digest.as_str());
        let mut failure = None;
        let result = {
            let mut feed = Feed {
                src: &mut self.src,
                left: len,
                hasher: None,
                done: &mut self.done,
                total: self.size,
                progress: &mut self.progress,
                failure: &mut failure,
            };
            let req = Request::new(
                Method::Put,
                target,
                self.repo.registry(),
                Scope::push(self.repo.path()),
            )
            .header("content-type", "application/octet-stream")
            .body(Body::Stream(&mut feed, Some(len)));
            self.client.transport().send(req)
        };
        if let Some(f) = failure {
            return Err(Step::Fatal(f));
        }
        self.pos = committed + len;
        let resp = match result {
            Ok(resp) => resp,
            // The whole body went out and the answer was lost: the blob may be committed.
            Err(e) if answer_lost(&e) && self.committed(&digest) == Some(true) => {
                return Ok(Some(digest));
            }
            Err(e) => return Err(e.into()),
        };
        self.finish(resp, &digest).map(Some).map_err(Step::Fatal)
    }

    /// The next PATCH from `committed`, or the closing PUT when everything is sent.
    fn patch_next(
        &mut self,
        session: &mut Session,
        committed: u64,
    ) -> Result<Option<Digest>, Step> {
        let buffered = !self.src.seekable() && (self.chunk_size.is_some() || self.size.is_none());
        let chunk = self
            .chunk_size
            .or(if self.size.is_none() {
                Some(DEFAULT_STREAM_CHUNK)
            } else {
                None
            })
            .map(|c| c.max(session.min_chunk.unwrap_or(0)));
        // What goes in this PATCH: [committed, end).
        let (len, from_buffer) = if buffered {
            let buf_end = self.buf_start + self.buf.len() as u64;
            if self.buf.is_empty() || committed >= buf_end {
                self.fill_buffer(chunk.unwrap_or(DEFAULT_STREAM_CHUNK), committed)
                    .map_err(Step::Fatal)?;
            }
            let buf_end = self.buf_start + self.buf.len() as u64;
            (buf_end - committed, true)
        } else {
            let rest = self.size.map(|s| s.saturating_sub(committed));
            let len = match (chunk, rest) {
                (Some(c), Some(r)) => c.min(r),
                (None, Some(r)) => r,
                (Some(c), None) => c,
                (None, None) => DEFAULT_STREAM_CHUNK,
            };
            (len, false)
        };
        if len == 0 {
            return self.close(session).map(Some);
        }
        self.checkpoint = if from_buffer {
            (committed, self.hasher.clone())
        } else {
            (self.pos, self.hasher.clone())
        };
        let mut failure = None;
        let mut slice: &[u8];
        let result = {
            let src: &mut dyn Read = if from_buffer {
                let start = usize::try_from(committed - self.buf_start).unwrap_or(0);
                slice = &self.buf[start..];
                &mut slice
            } else {
                &mut self.src
            };
            let mut feed = Feed {
                src,
                left: len,
                hasher: if from_buffer || self.digest.is_some() {
                    None
                } else {
                    Some(&mut self.hasher)
                },
                done: &mut self.done,
                total: self.size,
                progress: &mut self.progress,
                failure: &mut failure,
            };
            let req = Request::new(
                Method::Patch,
                session.location.clone(),
                self.repo.registry(),
                Scope::push(self.repo.path()),
            )
            .header("content-type", "application/octet-stream")
            .header(
                "content-range",
                format!("{}-{}", committed, committed + len - 1),
            )
            .body(Body::Stream(&mut feed, Some(len)));
            self.client.transport().send(req)
        };
        if !from_buffer {
            self.pos = committed + len;
        }
        if let Some(f) = failure {
            return Err(Step::Fatal(f));
        }
        let resp = result?;
        if resp.header("location").is_some() {
            session.location = location(&resp).map_err(Step::Fatal)?;
        }
        resp.drain();
        if self.size.is_some_and(|s| committed + len >= s) && !buffered {
            return self.close(session).map(Some);
        }
        Ok(None)
    }

    /// Reads the next chunk of a plain source into memory (hashing it), starting at `at`.
    fn fill_buffer(&mut self, chunk: u64, at: u64) -> Result<()> {
        let want = match self.size {
            Some(s) => chunk.min(s.saturating_sub(at)),
            None => chunk,
        };
        let want = usize::try_from(want).unwrap_or(usize::MAX);
        self.buf.clear();
        self.buf_start = at;
        // Grow as bytes arrive rather than trusting a registry-sized chunk up front.
        self.buf.reserve(want.min(MAX_RESERVE));
        let mut tmp = vec![0u8; READ_BUF.min(want.max(1))];
        while self.buf.len() < want {
            let n = (want - self.buf.len()).min(tmp.len());
            let got = self.src.read(&mut tmp[..n]).map_err(|e| Error::Io {
                path: "<blob source>".into(),
                source: e,
            })?;
            if got == 0 {
                if let Some(s) = self.size {
                    return Err(Error::InvalidInput(format!(
                        "the blob source ended at byte {} of the {s} given",
                        at + self.buf.len() as u64
                    )));
                }
                break;
            }
            if self.digest.is_none() {
                self.hasher.update(&tmp[..got]);
            }
            self.buf.extend_from_slice(&tmp[..got]);
        }
        self.pos = at + self.buf.len() as u64;
        if self.buf.is_empty() {
            // End of the stream: an empty buffer means "nothing more to send".
            self.buf_start = at;
        }
        Ok(())
    }

    /// The closing PUT `?digest=` with no body.
    fn close(&mut self, session: &mut Session) -> Result<Digest, Step> {
        let digest = match &self.digest {
            Some(d) => d.clone(),
            None => {
                // With a size and no digest nothing else would notice a longer source: its
                // prefix would be committed under the prefix's digest.
                if let Some(size) = self.size {
                    let mut probe = [0u8; 1];
                    if self.src.read(&mut probe).is_ok_and(|n| n > 0) {
                        return Err(Step::Fatal(Error::InvalidInput(format!(
                            "the blob source yields more than the {size} bytes given"
                        ))));
                    }
                }
                self.hasher.clone().finish()
            }
        };
        let target = url::with_query(&session.location, "digest", digest.as_str());
        // Not idempotent on the registry (a second PUT of a committed session fails), so it is
        // never replayed: when its answer is lost, the registry is asked whether the blob is
        // there.
        let req = Request::new(
            Method::Put,
            target,
            self.repo.registry(),
            Scope::push(self.repo.path()),
        )
        .header("content-type", "application/octet-stream")
        .body(Body::Bytes(&[]))
        .no_replay();
        let resp = match self.client.transport().send(req) {
            Ok(resp) => resp,
            Err(e) if answer_lost(&e) => {
                return match self.committed(&digest) {
                    Some(true) => {
                        self.report_done();
                        Ok(digest)
                    }
                    _ => Err(Step::from(e)),
                };
            }
            Err(e) => return Err(e.into()),
        };
        self.report_done();
        self.finish(resp, &digest).map_err(Step::Fatal)
    }

    /// Tells the progress callback that every byte is in.
    fn report_done(&mut self) {
        if let Some(s) = self.size {
            if let Some(p) = self.progress.as_mut() {
                p(s, Some(s));
            }
        }
    }

    /// Whether the registry has the blob now, with the size it should have (`None`: could not
    /// ask). Used after the closing PUT lost its answer.
    fn committed(&self, digest: &Digest) -> Option<bool> {
        let scope = Scope::push(self.repo.path());
        match self.client.head_blob_for(self.repo, digest, scope) {
            Ok(Some(n)) => Some(self.size.is_none_or(|s| s == n)),
            Ok(None) => Some(false),
            Err(_) => None,
        }
    }

    /// Checks the 201 of the closing PUT.
    fn finish(&self, resp: Response, digest: &Digest) -> Result<Digest> {
        let url = url::without_query(&resp.url).to_string();
        let announced = resp.header("docker-content-digest").map(str::to_string);
        resp.drain();
        if let Some(a) = announced {
            if let Ok(a) = a.parse::<Digest>() {
                if a.algorithm() == digest.algorithm() && &a != digest {
                    return Err(Error::DigestMismatch {
                        url,
                        expected: digest.to_string(),
                        actual: a.to_string(),
                    });
                }
            }
        }
        Ok(digest.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TransportErrorKind;

    #[test]
    fn what_resumes() {
        let io = Error::Transport {
            method: "PATCH".into(),
            url: "u".into(),
            kind: TransportErrorKind::Io,
            message: "reset".into(),
            attempts: 1,
        };
        assert!(resumable(&io));
        assert!(!resumable(&Error::Cancelled));
        assert!(!resumable(&Error::InvalidInput("x".into())));
    }
}

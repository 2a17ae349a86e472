//! A blob as a verifying `Read` ([`Client::open_blob`]): the digest and size are checked when
//! the body ends, so a bad blob ends in an error and never in a clean end of file.

use std::io::{self, Read};

use crate::auth::Scope;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::reference::Repository;
use crate::transport::{Method, Request};

use super::Client;

/// A blob being read from a registry, verified as it is read ([`Client::open_blob`]).
///
/// It reads the body of one `GET` as it arrives (constant memory), hashing every byte. When
/// the body ends it compares the bytes read with the blob's size and digest: only when both
/// match does `read` return `Ok(0)`. Otherwise — the body is shorter or longer than its size,
/// or does not hash to its digest — `read` returns an [`io::Error`] of kind
/// [`InvalidData`](io::ErrorKind::InvalidData) (or `UnexpectedEof` for a short body), and keeps
/// returning it. So a consumer such as a decompressor or a tar reader never sees a truncated or
/// altered blob end normally; it may have consumed the bad bytes before the error, so anything
/// it produced must be discarded on error.
///
/// The [`dockreg::Error`](crate::Error) behind the first I/O error (a [`DigestMismatch`], a
/// transport failure, a cancel, which is of kind `Other`) is inside it: `err.get_ref()` and
/// `downcast_ref::<dockreg::Error>()`; later reads repeat its kind and message.
///
/// A broken connection is not resumed (use [`Client::get_blob_with`] for that); the client's
/// stall timeout (60 s without a byte by default), cancel token and deadline apply while
/// reading.
///
/// [`DigestMismatch`]: crate::Error::DigestMismatch
pub struct BlobReader {
    inner: Box<dyn Read + Send>,
    hasher: Hasher,
    digest: Digest,
    size: Option<u64>,
    read: u64,
    url: String,
    state: State,
}

/// Where the reader stands.
enum State {
    Reading,
    /// Every byte read and verified: `read` gives `Ok(0)` from now on.
    Verified,
    /// The blob failed its checks: every `read` gives this error again.
    Failed(io::ErrorKind, String),
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("read", &self.read)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl BlobReader {
    /// A verifying reader over `inner`, the body of the blob `digest` (`size` bytes when known)
    /// fetched from `url` (kept for error messages, without its query).
    pub(crate) fn new(
        inner: Box<dyn Read + Send>,
        digest: &Digest,
        size: Option<u64>,
        url: &str,
    ) -> Result<Self> {
        Ok(Self {
            inner,
            hasher: digest.hasher()?,
            digest: digest.clone(),
            size,
            read: 0,
            url: crate::url::without_query(url).to_string(),
            state: State::Reading,
        })
    }

    /// The digest the blob must have.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The blob's size in bytes, from the registry's `Content-Length` (or its HEAD), when known.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Records a failure so that every later read repeats it, and returns it.
    fn fail(&mut self, kind: io::ErrorKind, e: Error) -> io::Error {
        self.state = State::Failed(kind, e.to_string());
        io::Error::new(kind, e)
    }

    /// The checks at the end of the body.
    fn finish(&mut self) -> io::Result<usize> {
        if let Some(size) = self.size {
            if self.read < size {
                let e = Error::invalid_response(
                    &self.url,
                    format!("blob body ended at byte {} of {size}", self.read),
                );
                return Err(self.fail(io::ErrorKind::UnexpectedEof, e));
            }
        }
        let hasher = std::mem::replace(&mut self.hasher, Hasher::sha256());
        match hasher.finish_and_check(&self.digest, &self.url) {
            Ok(()) => {
                self.state = State::Verified;
                Ok(0)
            }
            Err(e) => Err(self.fail(io::ErrorKind::InvalidData, e)),
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.state {
            State::Verified => return Ok(0),
            State::Failed(kind, message) => return Err(io::Error::new(*kind, message.clone())),
            State::Reading => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) if crate::http::is_cancelled_io(&e) => {
                // Not `Interrupted`: readers such as `read_to_end` and `io::copy` retry that
                // kind, and a failed reader repeats its error, so they would spin for ever.
                return Err(self.fail(io::ErrorKind::Other, Error::Cancelled));
            }
            Err(e) => {
                let kind = e.kind();
                let err = Error::Transport {
                    method: "GET".into(),
                    url: self.url.clone(),
                    kind: crate::error::TransportErrorKind::Io,
                    message: e.to_string(),
                    attempts: 1,
                };
                return Err(self.fail(kind, err));
            }
        };
        if n == 0 {
            return self.finish();
        }
        if let Some(size) = self.size {
            if self.read + n as u64 > size {
                let e = Error::invalid_response(
                    &self.url,
                    format!("blob is longer than its {size} bytes"),
                );
                return Err(self.fail(io::ErrorKind::InvalidData, e));
            }
        }
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

impl Client {
    /// Opens blob `digest` of a repository for reading: a [`BlobReader`] that yields its bytes
    /// as they arrive and fails at the end, instead of returning end of file, when they do not
    /// match the digest or the size. Hand it to a decompressor or an unpacker (as oci-client's
    /// `pull_blob_stream` or ggcr's `Layer.Compressed()`); memory stays constant.
    ///
    /// A [`Reference`](crate::Reference) may be given for the repository: its tag and digest
    /// are not used.
    ///
    /// Requests: one GET (redirects to storage followed without credentials); a HEAD too when
    /// the GET's answer has no `Content-Length`, so that the size is always checked. The GET is
    /// retried under the client's retry policy until its answer starts; a body that breaks off
    /// later is an error of the reader, not resumed.
    ///
    /// ```no_run
    /// use std::io::Read;
    /// let client = dockreg::Client::new()?;
    /// let repo: dockreg::Repository = "127.0.0.1:5000/app".parse()?;
    /// let digest: dockreg::Digest =
    ///     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?;
    /// let mut blob = client.open_blob(&repo, &digest)?;
    /// let mut bytes = Vec::new();
    /// blob.read_to_end(&mut bytes).expect("a verified blob"); // Err on a bad blob, never Ok
    /// # Ok::<(), dockreg::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidDigest`] for a digest algorithm that cannot be verified; [`Error::NotFound`]
    /// when the repository lacks the blob; transport, authentication and registry errors of the
    /// GET; [`Error::InvalidResponse`] when the registry's sizes disagree. Errors while reading
    /// come from [`Read::read`] as described on [`BlobReader`].
    pub fn open_blob(
        &self,
        repository: &impl AsRef<Repository>,
        digest: &Digest,
    ) -> Result<BlobReader> {
        let repository = repository.as_ref();
        // Checked before any request: an algorithm we cannot hash could never be verified.
        digest.hasher()?;
        let url = self.blob_url(repository, digest);
        let req = Request::new(
            Method::Get,
            url,
            repository.registry(),
            Scope::pull(repository.path()),
        )
        .transfer();
        let resp = self.transport().send(req)?;
        let here = crate::url::without_query(&resp.url).to_string();
        let size = match resp.content_length() {
            Some(n) => n,
            // Without a size a truncated body could look complete until the hash is checked;
            // the registry's HEAD says how long the blob is.
            None => self.head_blob(repository, digest)?.ok_or_else(|| {
                Error::invalid_response(&here, "blob served by GET but unknown to HEAD")
            })?,
        };
        BlobReader::new(Box::new(resp.into_reader()), digest, Some(size), &here)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(body: &[u8], digest: &Digest, size: Option<u64>) -> BlobReader {
        BlobReader::new(
            Box::new(io::Cursor::new(body.to_vec())),
            digest,
            size,
            "http://r/v2/a/blobs/x?sig=secret",
        )
        .unwrap()
    }

    #[test]
    fn good_blob_reads_to_a_clean_end() {
        let d = Digest::sha256_of(b"hello blob");
        let mut r = reader(b"hello blob", &d, Some(10));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello blob");
        assert_eq!(r.bytes_read(), 10);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0, "stays at end of file");
    }

    #[test]
    fn wrong_bytes_fail_at_the_end_and_keep_failing() {
        let d = Digest::sha256_of(b"hello blob");
        let mut r = reader(b"hellO blob", &d, Some(10));
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let inner = e.get_ref().and_then(|e| e.downcast_ref::<Error>());
        assert!(matches!(inner, Some(Error::DigestMismatch { .. })), "{e:?}");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(
            r.read(&mut [0u8; 4]).is_err(),
            "a failed blob never ends cleanly"
        );
    }

    #[test]
    fn short_and_long_bodies_fail() {
        let d = Digest::sha256_of(b"hello blob");
        let e = reader(b"hello", &d, Some(10))
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        let e = reader(b"hello blob!", &d, Some(10))
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
    }
}

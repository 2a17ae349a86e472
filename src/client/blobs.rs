//! Blob reads: HEAD, small blobs into memory (configs), any blob streamed into a writer.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::auth::Scope;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageConfig;
use crate::reference::{Reference, Repository};
use crate::transport::{Method, Request};

use super::Client;
use super::uploads::Progress;

/// Largest config blob read into memory.
const MAX_CONFIG_SIZE: u64 = 16 * 1024 * 1024;
/// Buffer for streaming blob bodies.
const CHUNK: usize = 256 * 1024;

impl Client {
    pub(crate) fn blob_url(
        &self,
        repository: &(impl AsRef<Repository> + ?Sized),
        digest: &Digest,
    ) -> String {
        format!("{}/blobs/{digest}", self.repo_base(repository))
    }

    /// Size of a blob when the repository has it, `None` when it does not (404), like every
    /// `head_*` method. One HEAD. A [`Reference`] may be given for the repository: its tag
    /// and digest are not used.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] for an answer without `Content-Length`; any non-2xx answer
    /// other than 404, transport and authentication errors.
    pub fn head_blob(
        &self,
        repository: &impl AsRef<Repository>,
        digest: &Digest,
    ) -> Result<Option<u64>> {
        let repository = repository.as_ref();
        self.head_blob_for(repository, digest, Scope::pull(repository.path()))
    }

    /// [`Client::head_blob`] under the scope of the operation it belongs to: a HEAD before an
    /// upload asks with the push scope, so the upload reuses its token instead of fetching a
    /// second one (tokens are cached per scope).
    pub(crate) fn head_blob_for(
        &self,
        repository: &(impl AsRef<Repository> + ?Sized),
        digest: &Digest,
        scope: Scope,
    ) -> Result<Option<u64>> {
        let repository = repository.as_ref();
        let url = self.blob_url(repository, digest);
        let req = Request::new(Method::Head, url, repository.registry(), scope);
        match self.transport().send(req) {
            Ok(resp) => match resp.content_length() {
                Some(n) => Ok(Some(n)),
                None => Err(Error::invalid_response(
                    &resp.url,
                    "blob HEAD answered without Content-Length",
                )),
            },
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A blob read into memory, verified against its digest; fails past `limit` bytes. Up to
    /// the manifest size limit it is bounded like a metadata request (the request timeout);
    /// a larger limit makes it a transfer, bounded by the stall timeout. One GET (retried as a
    /// whole when its body breaks off). A [`Reference`] may be given for the repository: its
    /// tag and digest are not used.
    ///
    /// # Errors
    /// [`Error::TooLarge`] past `limit`; [`Error::DigestMismatch`]; [`Error::NotFound`];
    /// [`Error::InvalidDigest`] for an algorithm dockreg cannot verify; transport,
    /// authentication and registry errors.
    pub fn get_blob_bytes(
        &self,
        repository: &impl AsRef<Repository>,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>> {
        let repository = repository.as_ref();
        let url = self.blob_url(repository, digest);
        let mut req = Request::new(
            Method::Get,
            url,
            repository.registry(),
            Scope::pull(repository.path()),
        );
        if limit > self.config().max_manifest_size {
            req = req.transfer();
        }
        let (resp, bytes) = self.transport().fetch(req, limit)?;
        digest.verify(&bytes, &resp.url)?;
        Ok(bytes)
    }

    /// Streams a blob into `out`, hashing as it goes; returns the bytes written. On a digest
    /// mismatch the error comes after the bytes were written: callers writing a file must
    /// discard it then ([`Client::download_blob`] does). [`Client::get_blob_with`] with default
    /// options; to read a blob instead, see [`Client::open_blob`].
    ///
    /// # Errors
    /// As [`Client::get_blob_with`].
    pub fn get_blob(
        &self,
        repository: &impl AsRef<Repository>,
        digest: &Digest,
        out: &mut dyn Write,
    ) -> Result<u64> {
        self.get_blob_with(repository, digest, out, DownloadOptions::new())
    }

    /// Streams a blob into `out` with options: a progress callback, the expected size, and
    /// resumption of a broken download.
    ///
    /// When the connection breaks mid-body, the blob is asked again from the byte reached with
    /// `Range: bytes=N-`; a `206` continues, a `200` (no range support) is read again from the
    /// start with the first `N` bytes skipped, so `out` is only ever appended to. The digest is
    /// checked over everything written; redirects to storage hosts are followed without
    /// Authorization. When neither the options nor the answer give the size, a HEAD asks for
    /// it, so an endless body cannot fill the output.
    ///
    /// Requests: one GET, one more per resumption (at most `resume_attempts` in a row), and a
    /// HEAD when the size is unknown. A [`Reference`] may be given for the repository: its tag
    /// and digest are not used.
    ///
    /// # Errors
    /// [`Error::DigestMismatch`] (after the bytes were written); [`Error::InvalidResponse`]
    /// for a body longer or shorter than its size or a bad `Content-Range`; [`Error::Io`]
    /// when `out` fails; [`Error::Cancelled`] when the progress callback returns `false`;
    /// [`Error::NotFound`], transport, authentication and registry errors.
    pub fn get_blob_with(
        &self,
        repository: &impl AsRef<Repository>,
        digest: &Digest,
        out: &mut dyn Write,
        mut options: DownloadOptions<'_>,
    ) -> Result<u64> {
        let repository = repository.as_ref();
        let mut hasher = digest.hasher()?;
        let url = self.blob_url(repository, digest);
        let mut written = 0u64;
        let mut total = options.size;
        let mut failures = 0u32;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let mut req = Request::new(
                Method::Get,
                url.clone(),
                repository.registry(),
                Scope::pull(repository.path()),
            )
            .transfer();
            if written > 0 {
                req = req.header("range", format!("bytes={written}-"));
            }
            let resp = match self.transport().send(req) {
                Ok(r) => r,
                Err(e) if written > 0 && failures < options.resume_attempts && retryable(&e) => {
                    failures += 1;
                    pause(failures);
                    continue;
                }
                Err(e) => return Err(e),
            };
            // Without the query: a signed storage URL carries its signature there.
            let here = crate::url::without_query(&resp.url).to_string();
            // Bytes of this body to drop: what was already written, when the server ignored Range.
            let mut skip = 0u64;
            if resp.status == 206 {
                let (start, full) =
                    content_range(resp.header("content-range")).ok_or_else(|| {
                        Error::invalid_response(&here, "206 without a usable Content-Range")
                    })?;
                if start != written {
                    return Err(Error::invalid_response(
                        &here,
                        format!("asked for bytes from {written}, got them from {start}"),
                    ));
                }
                if let Some(f) = full {
                    total = total.or(Some(f));
                }
            } else {
                skip = written;
                if let Some(n) = resp.content_length() {
                    if let Some(t) = total {
                        if n != t {
                            return Err(Error::invalid_response(
                                &here,
                                format!("blob is {n} bytes, expected {t}"),
                            ));
                        }
                    }
                    total = Some(n);
                }
            }
            if total.is_none() {
                // Without a size, an endless body would be written until the disk is full:
                // the registry's HEAD says how long the blob is.
                match self.head_blob(repository, digest)? {
                    Some(n) => total = Some(n),
                    None => {
                        return Err(Error::invalid_response(
                            &here,
                            "blob served by GET but unknown to HEAD",
                        ));
                    }
                }
            }
            let mut reader = resp.into_reader();
            let mut broken = None;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        broken = Some(e);
                        break;
                    }
                };
                let mut chunk = &buf[..n];
                if skip > 0 {
                    let drop = chunk.len().min(usize::try_from(skip).unwrap_or(usize::MAX));
                    chunk = &chunk[drop..];
                    skip -= drop as u64;
                    if chunk.is_empty() {
                        continue;
                    }
                }
                if total.is_some_and(|t| written + chunk.len() as u64 > t) {
                    return Err(Error::invalid_response(
                        &here,
                        format!("blob is longer than its {} bytes", total.unwrap_or(0)),
                    ));
                }
                hasher.update(chunk);
                out.write_all(chunk).map_err(|e| Error::Io {
                    path: "<output>".into(),
                    source: e,
                })?;
                written += chunk.len() as u64;
                failures = 0;
                if let Some(p) = options.progress.as_mut() {
                    if !p(written, total) {
                        return Err(Error::Cancelled);
                    }
                }
            }
            let short = total.is_some_and(|t| written < t);
            let complete = total.is_some_and(|t| written == t);
            match broken {
                Some(e) if crate::http::is_cancelled_io(&e) => return Err(Error::Cancelled),
                None if !short => break,
                // Every byte is in; the digest check below decides.
                Some(_) if complete => break,
                _ if failures < options.resume_attempts => {
                    failures += 1;
                    pause(failures);
                }
                Some(e) => {
                    return Err(Error::Transport {
                        method: "GET".into(),
                        url: here,
                        kind: crate::error::TransportErrorKind::Io,
                        message: e.to_string(),
                        attempts: failures + 1,
                    });
                }
                None => {
                    return Err(Error::invalid_response(
                        &here,
                        format!("body ended at byte {written} of {}", total.unwrap_or(0)),
                    ));
                }
            }
        }
        hasher.finish_and_check(digest, &url)?;
        Ok(written)
    }

    /// Downloads a blob to `path`: written to a temporary file in the same directory, checked
    /// against the digest, then renamed into place. On any failure the temporary file is
    /// removed, so `path` is either absent (or untouched) or complete and verified. Requests as
    /// [`Client::get_blob_with`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `path` names no file; [`Error::Io`] for the local file
    /// (creating, writing, syncing, renaming); as [`Client::get_blob_with`].
    pub fn download_blob(
        &self,
        repository: &impl AsRef<Repository>,
        digest: &Digest,
        path: &Path,
        options: DownloadOptions<'_>,
    ) -> Result<u64> {
        let repository = repository.as_ref();
        let io_err = |p: &Path, e| Error::Io {
            path: p.display().to_string(),
            source: e,
        };
        let name = path.file_name().ok_or_else(|| {
            Error::InvalidInput(format!("{} does not name a file", path.display()))
        })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(
            ".{}.{}-{n}.dockreg-partial",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io_err(&tmp, e))?;
        let mut out = std::io::BufWriter::with_capacity(CHUNK, file);
        let result = self
            .get_blob_with(repository, digest, &mut out, options)
            .and_then(|n| {
                out.flush().map_err(|e| io_err(&tmp, e))?;
                // On disk before the rename, so a crash cannot leave a complete-looking name
                // over incomplete content.
                out.get_ref().sync_all().map_err(|e| io_err(&tmp, e))?;
                Ok(n)
            });
        drop(out);
        let result = result.and_then(|n| {
            std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))?;
            Ok(n)
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// The image config blob `config_digest` of a repository (the seed's `Client.GetConfig`),
    /// verified against its digest and read up to 16 MiB. One GET. A [`Reference`] may be
    /// given for the repository: its tag and digest are not used.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] when the blob is not an image config; as
    /// [`Client::get_blob_bytes`].
    pub fn get_config(
        &self,
        repository: &impl AsRef<Repository>,
        config_digest: &Digest,
    ) -> Result<ImageConfig> {
        let repository = repository.as_ref();
        let bytes = self.get_blob_bytes(repository, config_digest, MAX_CONFIG_SIZE)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::invalid_response(
                &self.blob_url(repository, config_digest),
                format!("image config does not parse: {e}"),
            )
        })
    }

    /// The config of the image `image` names, for the client's platform (the seed's
    /// package-level `GetConfig`: manifest, then config). Requests: as
    /// [`Client::get_manifest`], plus one GET of the config.
    ///
    /// # Errors
    /// As [`Client::get_manifest`] and [`Client::get_config`].
    pub fn get_image_config(&self, image: &Reference) -> Result<ImageConfig> {
        let m = self.get_manifest(image)?;
        self.get_config(image, &m.manifest.config.digest)
    }

    /// The config of the image `image` names for `platform`: [`Client::get_manifest_for`],
    /// then [`Client::get_config`]. Requests: as `get_manifest_for`, plus one GET of the
    /// config.
    ///
    /// # Errors
    /// As [`Client::get_manifest_for`] and [`Client::get_config`].
    pub fn get_image_config_for(
        &self,
        image: &Reference,
        platform: &crate::platform::Platform,
    ) -> Result<ImageConfig> {
        let m = self.get_manifest_for(image, platform)?;
        self.get_config(image, &m.manifest.config.digest)
    }
}

/// How to download a blob ([`Client::get_blob_with`], [`Client::download_blob`]).
#[must_use]
pub struct DownloadOptions<'a> {
    size: Option<u64>,
    resume_attempts: u32,
    progress: Option<Progress<'a>>,
}

impl Default for DownloadOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for DownloadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("size", &self.size)
            .field("resume_attempts", &self.resume_attempts)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl<'a> DownloadOptions<'a> {
    /// Defaults: size unknown, 3 resume attempts, no progress callback.
    pub fn new() -> Self {
        Self {
            size: None,
            resume_attempts: 3,
            progress: None,
        }
    }

    /// The size the blob must have (from its descriptor). Default: whatever the server sends.
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// How many times in a row a broken download is resumed. Default: 3.
    pub fn resume_attempts(mut self, attempts: u32) -> Self {
        self.resume_attempts = attempts;
        self
    }

    /// A progress callback (bytes written, total when known); `false` cancels. Default: none.
    pub fn progress(mut self, progress: Progress<'a>) -> Self {
        self.progress = Some(progress);
        self
    }
}

fn retryable(e: &Error) -> bool {
    match e {
        Error::Transport { kind, .. } => !matches!(
            kind,
            crate::error::TransportErrorKind::Tls | crate::error::TransportErrorKind::Redirect
        ),
        other => other.http_status().is_some_and(|s| s >= 500),
    }
}

fn pause(failures: u32) {
    std::thread::sleep(Duration::from_millis(100 << failures.min(5)));
}

/// `bytes START-END/TOTAL` -> (START, TOTAL when not `*`).
fn content_range(value: Option<&str>) -> Option<(u64, Option<u64>)> {
    let v = value?.trim().strip_prefix("bytes")?.trim();
    let (range, full) = v.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, full.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            content_range(Some("bytes 10-99/100")),
            Some((10, Some(100)))
        );
        assert_eq!(content_range(Some("bytes 0-9/*")), Some((0, None)));
        assert_eq!(content_range(Some("10-99")), None);
        assert_eq!(content_range(None), None);
    }
}

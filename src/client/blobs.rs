//! Blob reads: HEAD, small blobs into memory (configs), any blob streamed into a writer.

use std::io::{Read, Write};

use crate::auth::Scope;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageConfig;
use crate::reference::Reference;
use crate::transport::{Method, Request};

use super::Client;

/// Largest config blob read into memory.
const MAX_CONFIG_SIZE: u64 = 16 * 1024 * 1024;
/// Buffer for streaming blob bodies.
const CHUNK: usize = 256 * 1024;

impl Client {
    pub(crate) fn blob_url(&self, repository: &Reference, digest: &Digest) -> String {
        format!("{}/blobs/{digest}", self.repo_base(repository))
    }

    /// Size of a blob when the repository has it, `None` when it does not (404).
    pub fn head_blob(&self, repository: &Reference, digest: &Digest) -> Result<Option<u64>> {
        let url = self.blob_url(repository, digest);
        let req = Request::new(
            Method::Head,
            url,
            repository.registry(),
            Scope::pull(repository.repository()),
        );
        match self.transport().send(req) {
            Ok(resp) => Ok(Some(resp.content_length().unwrap_or(0))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A blob read into memory, verified against its digest; fails past `limit` bytes.
    pub fn get_blob_bytes(
        &self,
        repository: &Reference,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>> {
        let url = self.blob_url(repository, digest);
        let req = Request::new(
            Method::Get,
            url,
            repository.registry(),
            Scope::pull(repository.repository()),
        );
        let resp = self.transport().send(req)?;
        let url = resp.url.clone();
        let bytes = resp.read_limited(limit)?;
        digest.verify(&bytes, &url)?;
        Ok(bytes)
    }

    /// Streams a blob into `out`, hashing as it goes; returns the bytes written. On a digest
    /// mismatch the error comes after the bytes were written: callers writing a file must
    /// discard it then (the CLI and the C ABI write to a temporary name and rename on success).
    pub fn get_blob(
        &self,
        repository: &Reference,
        digest: &Digest,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let mut hasher = digest.hasher()?;
        let url = self.blob_url(repository, digest);
        let req = Request::new(
            Method::Get,
            url,
            repository.registry(),
            Scope::pull(repository.repository()),
        );
        let resp = self.transport().send(req)?;
        let url = resp.url.clone();
        let mut reader = resp.into_reader();
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::Transport {
                        method: "GET".into(),
                        url: url.clone(),
                        kind: crate::error::TransportErrorKind::Io,
                        message: e.to_string(),
                    });
                }
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| Error::Io {
                path: "<output>".into(),
                source: e,
            })?;
            total += n as u64;
        }
        hasher.finish_and_check(digest, &url)?;
        Ok(total)
    }

    /// The image config blob `config_digest` of a repository (the seed's `Client.GetConfig`).
    pub fn get_config(
        &self,
        repository: &Reference,
        config_digest: &Digest,
    ) -> Result<ImageConfig> {
        let bytes = self.get_blob_bytes(repository, config_digest, MAX_CONFIG_SIZE)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::invalid_response(
                &self.blob_url(repository, config_digest),
                format!("image config does not parse: {e}"),
            )
        })
    }

    /// The config of the image `image` names, for the client's platform (the seed's
    /// package-level `GetConfig`: manifest, then config).
    pub fn get_image_config(&self, image: &Reference) -> Result<ImageConfig> {
        let m = self.get_manifest(image)?;
        self.get_config(image, &m.manifest.config.digest)
    }
}

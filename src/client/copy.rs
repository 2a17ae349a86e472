//! Copies: an image, a single manifest or a whole index with its children, within a registry
//! (cross-repository mounts) or between registries (blob by blob, streamed).
//!
//! Manifests are copied as the exact bytes served, so every digest stays the same. Blobs the
//! destination has are skipped (HEAD), and so is a whole child manifest the destination has by
//! digest. Between registries each blob is piped: the source's GET body is the upload's source,
//! read through a fixed buffer, so no layer is ever held in memory.

use std::collections::HashSet;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::{CopyReport, SkipReason, Skipped};
use crate::manifest::{Descriptor, ImageManifest, Manifest, RawManifest};
use crate::media_type;
use crate::platform::Platform;
use crate::reference::{Reference, Repository};
use crate::transport::{Method, Request};

use super::Client;
use super::instances::entry_fault;
use super::uploads::{Mounted, UploadOptions};
use crate::auth::Scope;

/// Attempts per blob when a transfer breaks (a streamed source cannot rewind: the blob starts
/// again).
const BLOB_ATTEMPTS: u32 = 3;

/// What to copy ([`Client::copy_image`]).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CopyOptions {
    platform: Option<Platform>,
}

impl CopyOptions {
    /// Defaults: the manifest as named, an index with all its children.
    pub fn new() -> Self {
        Self::default()
    }

    /// Copy only the image for this platform out of an index (a single manifest). Default:
    /// everything.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }
}

/// One copy in progress: what has been done already, so a digest is handled once.
struct Copier<'a> {
    client: &'a Client,
    src: &'a Reference,
    dst: &'a Reference,
    same_registry: bool,
    blobs_done: HashSet<Digest>,
    manifests_done: HashSet<Digest>,
}

impl Client {
    /// Copies the manifest `src` names (with everything it references) to `dst` and returns the
    /// digest written.
    ///
    /// `dst` gives the destination repository and tag; without a tag, `src`'s tag is used, and
    /// without either the manifest is pushed by digest. When `dst` carries a digest it must be
    /// the one copied. Within one registry blobs are mounted; between registries they are
    /// streamed from one to the other.
    ///
    /// Indexes inside indexes are copied down to the client's index depth limit (4 levels by
    /// default); deeper nesting is [`Error::InvalidResponse`] naming the limit, found before
    /// anything of the too-deep index is written. With [`CopyOptions::platform`], nested
    /// indexes are followed to the platform's image the same way.
    ///
    /// ```no_run
    /// # let client = dockreg::Client::new()?;
    /// let src: dockreg::Reference = "127.0.0.1:5000/app:1.0".parse()?;
    /// let dst: dockreg::Reference = "127.0.0.1:5001/mirror/app:1.0".parse()?;
    /// let digest = client.copy_image(&src, &dst, dockreg::CopyOptions::new())?;
    /// # Ok::<(), dockreg::Error>(())
    /// ```
    pub fn copy_image(
        &self,
        src: &Reference,
        dst: &Reference,
        options: CopyOptions,
    ) -> Result<Digest> {
        let mut c = Copier::new(self, src, dst);
        let mut raw = self.get_raw_manifest(src)?;
        if let Some(platform) = &options.platform {
            let image = self.resolve_platform(src, raw, platform)?;
            raw = RawManifest {
                digest: image.digest,
                media_type: image.media_type,
                bytes: image.bytes,
            };
        }
        let target = match (dst.tag(), dst.digest(), src.tag()) {
            (Some(t), _, _) => Some(t.to_string()),
            (None, Some(_), _) => None,
            (None, None, Some(t)) if options.platform.is_none() => Some(t.to_string()),
            _ => None,
        };
        if let Some(want) = dst.digest() {
            if want != &raw.digest {
                return Err(Error::InvalidInput(format!(
                    "{dst} names digest {want} but {src} is {}",
                    raw.digest
                )));
            }
        }
        c.copy_manifest(&raw, target.as_deref())
    }

    /// Copies every tag of repository `src` to repository `dst` (tags and digests of the
    /// references are ignored), in the source's order, and reports what was copied and what
    /// was skipped.
    ///
    /// One odd tag does not stop the others: a name the registry lists that is not a valid tag,
    /// a tag gone since the listing, a manifest that is ambiguous, of an unsupported type, too
    /// large or nested too deep, content that does not match its digest, or a manifest the
    /// destination refuses (a 4xx answer) is skipped and listed in [`CopyReport::skipped`]
    /// with the error. Failures that would hit every tag (transport, authentication, 5xx
    /// answers after retries) end the copy with that error. Artifacts (Helm charts, ORAS
    /// artifacts, signatures) are copied like images: a copy never reads a config.
    ///
    /// ```no_run
    /// # let client = dockreg::Client::new()?;
    /// let src: dockreg::Reference = "127.0.0.1:5000/app".parse()?;
    /// let dst: dockreg::Reference = "127.0.0.1:5001/mirror/app".parse()?;
    /// let report = client.copy_all_tags(&src, &dst)?;
    /// for s in &report.skipped {
    ///     eprintln!("skipped {}: {}", s.tag, s.reason);
    /// }
    /// # Ok::<(), dockreg::Error>(())
    /// ```
    pub fn copy_all_tags(
        &self,
        src: &impl AsRef<Repository>,
        dst: &impl AsRef<Repository>,
    ) -> Result<CopyReport> {
        let (src, dst) = (&src.as_ref().reference(), &dst.as_ref().reference());
        let mut c = Copier::new(self, src, dst);
        let mut report = CopyReport::default();
        for tag in self.list_tags(src)? {
            let Ok(source) = src.with_tag(&tag) else {
                report.skipped.push(Skipped {
                    tag,
                    digest: None,
                    reason: SkipReason::InvalidTag,
                });
                continue;
            };
            let raw = match self.get_raw_manifest(&source) {
                Ok(raw) => raw,
                Err(e) if entry_fault(&e) => {
                    report.skipped.push(Skipped {
                        tag,
                        digest: None,
                        reason: SkipReason::Error(std::sync::Arc::new(e)),
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            match c.copy_manifest(&raw, Some(&tag)) {
                Ok(d) => report.copied.push((tag, d)),
                Err(e) if entry_fault(&e) => report.skipped.push(Skipped {
                    tag,
                    digest: Some(raw.digest),
                    reason: SkipReason::Error(std::sync::Arc::new(e)),
                }),
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}

/// `registry/repository@digest` with no tag.
fn by_digest(r: &Reference, digest: Digest) -> Result<Reference> {
    Reference::new(r.registry(), r.path(), None, Some(digest))
}

impl<'a> Copier<'a> {
    fn new(client: &'a Client, src: &'a Reference, dst: &'a Reference) -> Self {
        Self {
            client,
            src,
            dst,
            same_registry: src.registry() == dst.registry(),
            blobs_done: HashSet::new(),
            manifests_done: HashSet::new(),
        }
    }

    /// Copies what `raw` references, then `raw` itself under `tag` (or its digest). What the
    /// destination already has is only tagged.
    fn copy_manifest(&mut self, raw: &RawManifest, tag: Option<&str>) -> Result<Digest> {
        if raw.media_type.is_empty() {
            return Err(Error::invalid_response(
                &self.client.manifest_url(self.src, raw.digest.as_str()),
                "no recognisable manifest media type",
            ));
        }
        if self.manifests_done.contains(&raw.digest) || self.dst_has_manifest(&raw.digest)? {
            if tag.is_none() {
                return Ok(raw.digest.clone());
            }
        } else {
            self.copy_contents(raw)?;
        }
        self.put(raw, tag)
    }

    /// Copies the blobs and child manifests `raw` references, each child index's contents
    /// before that index (children the destination has are skipped after one HEAD each, before
    /// they are fetched).
    ///
    /// Indexes inside indexes are walked with a stack of their own, never by recursion: however
    /// deep a registry nests them, the walk stops at the client's index depth limit with an
    /// error, and the thread's stack is not at risk.
    fn copy_contents(&mut self, raw: &RawManifest) -> Result<()> {
        /// An index being copied: its children not yet handled follow `next`.
        struct Level {
            /// The index itself, PUT once its children are done (`None` for `raw`: the
            /// caller PUTs it).
            raw: Option<RawManifest>,
            children: Vec<Descriptor>,
            next: usize,
        }
        let index = match self.client.parse_served_manifest(raw, self.src)? {
            Manifest::Image(m) => return self.copy_image_blobs(&m),
            Manifest::Index(index) => index,
        };
        let url = self.client.manifest_url(self.src, raw.digest.as_str());
        self.client.check_index_depth(1, &url)?;
        let mut stack = vec![Level {
            raw: None,
            children: index.manifests,
            next: 0,
        }];
        while let Some(level) = stack.last_mut() {
            let Some(child) = level.children.get(level.next).cloned() else {
                if let Some(done) = stack.pop().and_then(|l| l.raw) {
                    self.put(&done, None)?;
                }
                continue;
            };
            level.next += 1;
            if !is_manifest(&child.media_type) {
                self.copy_blob(&child)?;
                continue;
            }
            if self.manifests_done.contains(&child.digest)
                || self.dst_has_manifest(&child.digest)?
            {
                continue;
            }
            let child_raw = self
                .client
                .get_raw_manifest(&by_digest(self.src, child.digest.clone())?)?;
            crate::manifest::check_entry_kind(&child, &child_raw.media_type).map_err(|m| {
                let url = self.client.manifest_url(self.src, child.digest.as_str());
                Error::invalid_response(&url, m)
            })?;
            match self.client.parse_served_manifest(&child_raw, self.src)? {
                Manifest::Image(m) => {
                    self.copy_image_blobs(&m)?;
                    self.put(&child_raw, None)?;
                }
                Manifest::Index(index) => {
                    let url = self
                        .client
                        .manifest_url(self.src, child_raw.digest.as_str());
                    self.client.check_index_depth(stack.len() + 1, &url)?;
                    stack.push(Level {
                        raw: Some(child_raw),
                        children: index.manifests,
                        next: 0,
                    });
                }
            }
        }
        Ok(())
    }

    /// The config and layers of an image (foreign layers stay where they are).
    fn copy_image_blobs(&mut self, m: &ImageManifest) -> Result<()> {
        self.copy_blob(&m.config)?;
        for layer in &m.layers {
            if !layer.urls.is_empty() && layer.media_type.contains("foreign") {
                continue; // a foreign layer lives elsewhere by design
            }
            self.copy_blob(layer)?;
        }
        Ok(())
    }

    /// PUTs `raw` byte-exact under `tag` (or its digest).
    fn put(&mut self, raw: &RawManifest, tag: Option<&str>) -> Result<Digest> {
        let target = match tag {
            Some(t) => self.dst.with_tag(t)?,
            None => by_digest(self.dst, raw.digest.clone())?,
        };
        let written = self
            .client
            .put_manifest(&target, &raw.bytes, &raw.media_type)?;
        self.manifests_done.insert(written.clone());
        Ok(written)
    }

    fn dst_has_manifest(&self, digest: &Digest) -> Result<bool> {
        let req = Request::new(
            Method::Head,
            format!("{}/manifests/{digest}", self.client.repo_base(self.dst)),
            self.dst.registry(),
            // The copy's PUTs need push: one token serves every request to the destination.
            Scope::push(self.dst.path()),
        )
        .header("accept", media_type::MANIFEST_ACCEPT);
        match self.client.transport().send(req) {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            // No pull right on the destination, or a registry that mishandles HEAD: copy.
            Err(e) if e.registry_error().is_some() => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn copy_blob(&mut self, desc: &Descriptor) -> Result<()> {
        if self.blobs_done.contains(&desc.digest) {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.copy_blob_once(desc) {
                Ok(()) => break,
                Err(e) if attempt < BLOB_ATTEMPTS && transient(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        self.blobs_done.insert(desc.digest.clone());
        Ok(())
    }

    fn copy_blob_once(&self, desc: &Descriptor) -> Result<()> {
        let c = self.client;
        if c.head_blob_for(self.dst, &desc.digest, Scope::push(self.dst.path()))?
            .is_some()
        {
            return Ok(());
        }
        let mount = self
            .same_registry
            .then(|| (&desc.digest, self.src.repository()));
        let session = match c.open_session(self.dst, mount)? {
            Mounted::Done => return Ok(()),
            Mounted::Session(s) => s,
        };
        let req = Request::new(
            Method::Get,
            c.blob_url(self.src, &desc.digest),
            self.src.registry(),
            Scope::pull(self.src.path()),
        )
        .transfer();
        let resp = match c.transport().send(req) {
            Ok(r) => r,
            Err(e) => {
                c.cancel_session(self.dst, &session);
                return Err(e);
            }
        };
        let size = resp.content_length().unwrap_or(desc.size);
        if size != desc.size {
            c.cancel_session(self.dst, &session);
            return Err(Error::invalid_response(
                &resp.url,
                format!("blob is {size} bytes, its descriptor says {}", desc.size),
            ));
        }
        let mut body = resp.into_reader();
        let options = UploadOptions::new()
            .digest(desc.digest.clone())
            .size(desc.size)
            .skip_existing(false)
            .resume_attempts(0);
        c.push_blob_in_session(self.dst, &mut body, options, session)?;
        Ok(())
    }
}

fn is_manifest(media_type: &str) -> bool {
    media_type::is_index(media_type) || media_type::is_image_manifest(media_type)
}

fn transient(e: &Error) -> bool {
    matches!(e, Error::Transport { .. }) || e.http_status().is_some_and(|s| s >= 500)
}

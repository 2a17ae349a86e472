//! Copies: an image, a single manifest or a whole index with its children, within a registry
//! (cross-repository mounts) or between registries (blob by blob, streamed).
//!
//! Manifests are copied as the exact bytes served, so every digest stays the same. Blobs the
//! destination has are skipped (HEAD), and so is a whole child manifest the destination has by
//! digest. Between registries each blob is piped: the source's GET body is the upload's source,
//! read through a fixed buffer, so no layer is ever held in memory.
//!
//! The independent parts run in parallel, up to the client's `max_concurrency` at once (the
//! per-host limit of the HTTP layer bounds the requests): the child manifests of an index are
//! looked at together, then every blob of the whole tree is copied, each once, then the
//! manifests are written from the deepest level up. `copy_all_tags` copies tags in parallel,
//! sharing what is done (and what is in progress) between them, so a blob two tags share is
//! read once.

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex, PoisonError};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::{CopyReport, SkipReason, Skipped};
use crate::manifest::{Descriptor, ImageManifest, Manifest, RawManifest};
use crate::media_type;
use crate::platform::Platform;
use crate::reference::{Reference, Repository};
use crate::transport::{Method, Request};

use super::instances::entry_fault;
use super::uploads::{Mounted, UploadOptions};
use super::{Client, fanout};
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

/// One copy in progress: the shared record of what is done, and how wide to fan out.
struct Copier<'a> {
    client: &'a Client,
    src: &'a Reference,
    dst: &'a Reference,
    same_registry: bool,
    done: &'a Done,
    /// Threads for the parts of one manifest (1 inside `copy_all_tags`' parallel tags, when
    /// the tags already use the width).
    width: usize,
}

/// What a copy (or the parallel tags of `copy_all_tags`) has done and is doing, so each digest
/// is handled once even when two threads meet it at the same time.
#[derive(Default)]
struct Done {
    /// Blobs copied (`true`) or being copied by some thread (`false`).
    blobs: Mutex<HashMap<Digest, bool>>,
    blob_done: Condvar,
    manifests: Mutex<HashSet<Digest>>,
}

/// A blob claimed by one worker; dropping it ends the claim (see [`Done::finish_blob`]).
struct Claim<'a> {
    done: &'a Done,
    digest: &'a Digest,
    copied: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.done.finish_blob(self.digest, self.copied);
    }
}

impl Done {
    /// True when the caller must copy `digest`; false when it is copied already. Waits while
    /// another thread copies it (if that one fails, the caller gets the blob to copy).
    fn claim_blob(&self, digest: &Digest, client: &Client) -> Result<bool> {
        let mut blobs = self.blobs.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match blobs.get(digest) {
                None => {
                    blobs.insert(digest.clone(), false);
                    return Ok(true);
                }
                Some(true) => return Ok(false),
                Some(false) => {
                    client.call.check("GET", digest.as_str())?;
                    blobs = self
                        .blob_done
                        .wait_timeout(blobs, crate::cancel::CANCEL_POLL)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    /// Ends the claim on `digest`: copied, or given up (another thread may claim it again).
    fn finish_blob(&self, digest: &Digest, copied: bool) {
        let mut blobs = self.blobs.lock().unwrap_or_else(PoisonError::into_inner);
        if copied {
            blobs.insert(digest.clone(), true);
        } else {
            blobs.remove(digest);
        }
        drop(blobs);
        self.blob_done.notify_all();
    }

    fn has_manifest(&self, digest: &Digest) -> bool {
        self.manifests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(digest)
    }

    fn add_manifest(&self, digest: Digest) {
        self.manifests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest);
    }
}

/// What `copy_all_tags` did with one tag.
enum TagOutcome {
    Copied(String, Digest),
    Skipped(Skipped),
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
        let done = Done::default();
        let c = Copier::new(self, src, dst, &done, self.config().max_concurrency);
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
    /// Tags are copied in parallel (up to
    /// [`ClientBuilder::max_concurrency`](crate::ClientBuilder::max_concurrency) at once), a
    /// blob or manifest that several tags share once.
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
        let tags = self.list_tags(src)?;
        let width = self.config().max_concurrency;
        let parallel_tags = tags.len().clamp(1, width);
        let done = Done::default();
        // The width is shared: many tags, one thread each; few tags, the rest inside each.
        let c = Copier::new(self, src, dst, &done, (width / parallel_tags).max(1));
        let outcomes = fanout::map(&tags, parallel_tags, |tag| c.copy_tag(tag))?;
        let mut report = CopyReport::default();
        for outcome in outcomes {
            match outcome {
                TagOutcome::Copied(tag, digest) => report.copied.push((tag, digest)),
                TagOutcome::Skipped(s) => report.skipped.push(s),
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
    fn new(
        client: &'a Client,
        src: &'a Reference,
        dst: &'a Reference,
        done: &'a Done,
        width: usize,
    ) -> Self {
        Self {
            client,
            src,
            dst,
            same_registry: src.registry() == dst.registry(),
            done,
            width,
        }
    }

    /// One tag of `copy_all_tags`: copied, skipped for a fault of its own, or `Err` for a
    /// failure that would hit every tag.
    fn copy_tag(&self, tag: &str) -> Result<TagOutcome> {
        let skipped = |digest, reason| {
            Ok(TagOutcome::Skipped(Skipped {
                tag: tag.to_string(),
                digest,
                reason,
            }))
        };
        let Ok(source) = self.src.with_tag(tag) else {
            return skipped(None, SkipReason::InvalidTag);
        };
        let raw = match self.client.get_raw_manifest(&source) {
            Ok(raw) => raw,
            Err(e) if entry_fault(&e) => {
                return skipped(None, SkipReason::Error(std::sync::Arc::new(e)));
            }
            Err(e) => return Err(e),
        };
        match self.copy_manifest(&raw, Some(tag)) {
            Ok(d) => Ok(TagOutcome::Copied(tag.to_string(), d)),
            Err(e) if entry_fault(&e) => {
                skipped(Some(raw.digest), SkipReason::Error(std::sync::Arc::new(e)))
            }
            Err(e) => Err(e),
        }
    }

    /// Copies what `raw` references, then `raw` itself under `tag` (or its digest). What the
    /// destination already has is only tagged.
    fn copy_manifest(&self, raw: &RawManifest, tag: Option<&str>) -> Result<Digest> {
        if raw.media_type.is_empty() {
            return Err(Error::invalid_response(
                &self.client.manifest_url(self.src, raw.digest.as_str()),
                "no recognisable manifest media type",
            ));
        }
        if self.done.has_manifest(&raw.digest) || self.dst_has_manifest(&raw.digest)? {
            if tag.is_none() {
                return Ok(raw.digest.clone());
            }
        } else {
            self.copy_contents(raw)?;
        }
        self.put(raw, tag)
    }

    /// Copies the blobs and child manifests `raw` references: first the child manifests the
    /// destination lacks are found, level by level (one HEAD each on the destination, then a
    /// GET of those it lacks, in parallel); then every blob of the tree is copied, each once;
    /// then the child manifests are PUT from the deepest level up, so every manifest finds
    /// its children. Nothing is written before the whole tree has been read, so an index
    /// nested past the client's depth limit fails the copy with nothing written.
    ///
    /// The walk is a loop over levels, never recursion: however deep a registry nests
    /// indexes, the thread's stack is not at risk.
    fn copy_contents(&self, raw: &RawManifest) -> Result<()> {
        let index = match self.client.parse_served_manifest(raw, self.src)? {
            Manifest::Image(m) => return self.copy_blobs(&image_blobs(&m)),
            Manifest::Index(index) => index,
        };
        let url = self.client.manifest_url(self.src, raw.digest.as_str());
        self.client.check_index_depth(1, &url)?;
        let mut seen: HashSet<Digest> = HashSet::new();
        let mut blobs: Vec<Descriptor> = Vec::new();
        // Manifests to PUT, by level (children of `raw` first).
        let mut levels: Vec<Vec<RawManifest>> = Vec::new();
        let mut frontier = index.manifests;
        let mut depth = 1;
        while !frontier.is_empty() {
            let mut children = Vec::new();
            for child in frontier {
                if !is_manifest(&child.media_type) {
                    blobs.push(child);
                } else if seen.insert(child.digest.clone())
                    && !self.done.has_manifest(&child.digest)
                {
                    children.push(child);
                }
            }
            let fetched = fanout::map(&children, self.width, |c| self.fetch_child(c))?;
            let mut next = Vec::new();
            let mut level = Vec::new();
            for (child_raw, parsed) in fetched.into_iter().flatten() {
                match parsed {
                    Manifest::Image(m) => blobs.extend(image_blobs(&m)),
                    Manifest::Index(index) => {
                        let url = self
                            .client
                            .manifest_url(self.src, child_raw.digest.as_str());
                        self.client.check_index_depth(depth + 1, &url)?;
                        next.extend(index.manifests);
                    }
                }
                level.push(child_raw);
            }
            levels.push(level);
            frontier = next;
            depth += 1;
        }
        self.copy_blobs(&blobs)?;
        for level in levels.iter().rev() {
            fanout::map(level, self.width, |m| self.put(m, None))?;
        }
        Ok(())
    }

    /// A child manifest the destination lacks, read and checked; `None` when the destination
    /// has it (it is then left alone, with everything under it).
    fn fetch_child(&self, child: &Descriptor) -> Result<Option<(RawManifest, Manifest)>> {
        if self.dst_has_manifest(&child.digest)? {
            return Ok(None);
        }
        let child_raw = self
            .client
            .get_raw_manifest(&by_digest(self.src, child.digest.clone())?)?;
        crate::manifest::check_entry_kind(child, &child_raw.media_type).map_err(|m| {
            let url = self.client.manifest_url(self.src, child.digest.as_str());
            Error::invalid_response(&url, m)
        })?;
        let parsed = self.client.parse_served_manifest(&child_raw, self.src)?;
        Ok(Some((child_raw, parsed)))
    }

    /// Copies `blobs` in parallel, each distinct digest once.
    fn copy_blobs(&self, blobs: &[Descriptor]) -> Result<()> {
        let mut seen = HashSet::new();
        let distinct: Vec<&Descriptor> = blobs
            .iter()
            .filter(|d| seen.insert(d.digest.clone()))
            .collect();
        fanout::map(&distinct, self.width, |d| self.copy_blob(d))?;
        Ok(())
    }

    /// PUTs `raw` byte-exact under `tag` (or its digest).
    fn put(&self, raw: &RawManifest, tag: Option<&str>) -> Result<Digest> {
        let target = match tag {
            Some(t) => self.dst.with_tag(t)?,
            None => by_digest(self.dst, raw.digest.clone())?,
        };
        let written = self
            .client
            .put_manifest(&target, &raw.bytes, &raw.media_type)?;
        self.done.add_manifest(written.clone());
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

    fn copy_blob(&self, desc: &Descriptor) -> Result<()> {
        if !self.done.claim_blob(&desc.digest, self.client)? {
            return Ok(());
        }
        // Ends the claim however this returns, a panic included, so that no other worker
        // waits for ever on a blob nobody copies.
        let mut claim = Claim {
            done: self.done,
            digest: &desc.digest,
            copied: false,
        };
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            match self.copy_blob_once(desc) {
                Ok(()) => break Ok(()),
                Err(e) if attempt < BLOB_ATTEMPTS && transient(&e) => continue,
                Err(e) => break Err(e),
            }
        };
        claim.copied = result.is_ok();
        result
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
            let e = Error::invalid_response(
                &resp.url,
                format!("blob is {size} bytes, its descriptor says {}", desc.size),
            );
            drop(resp);
            c.cancel_session(self.dst, &session);
            return Err(e);
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

/// The config and layers of an image (foreign layers stay where they are, by design).
fn image_blobs(m: &ImageManifest) -> Vec<Descriptor> {
    std::iter::once(&m.config)
        .chain(
            m.layers
                .iter()
                .filter(|l| l.urls.is_empty() || !l.media_type.contains("foreign")),
        )
        .cloned()
        .collect()
}

fn is_manifest(media_type: &str) -> bool {
    media_type::is_index(media_type) || media_type::is_image_manifest(media_type)
}

fn transient(e: &Error) -> bool {
    matches!(e, Error::Transport { .. }) || e.http_status().is_some_and(|s| s >= 500)
}

//! Manifest operations: get (raw and platform-resolved), head, digest, put, delete, set tag.

use crate::auth::Scope;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{self, ImageManifest, Manifest, RawManifest};
use crate::media_type::{self, MANIFEST_ACCEPT};
use crate::platform::Platform;
use crate::reference::Reference;
use crate::transport::{Body, Method, Request, Response};

use super::Client;

/// An image manifest picked for a platform, with what it was resolved from
/// ([`Client::get_manifest`], [`Client::get_manifest_for`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResolvedManifest {
    /// Digest of this image manifest (the platform's image when resolved from an index).
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its bytes as served (in JSON: an array of numbers; the exact bytes are what the digest
    /// covers).
    pub bytes: Vec<u8>,
    /// The parsed manifest.
    pub manifest: ImageManifest,
    /// Digest of the index it was picked from, when the reference named an index (the outer
    /// one, when indexes were nested).
    pub index_digest: Option<Digest>,
}

/// What a HEAD of a manifest tells ([`Client::head_manifest`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ManifestHead {
    /// `Docker-Content-Digest`, when sent.
    pub digest: Option<Digest>,
    /// `Content-Type`, when sent.
    pub media_type: Option<String>,
    /// `Content-Length`, when sent.
    pub size: Option<u64>,
}

impl Client {
    pub(crate) fn manifest_url(&self, r: &Reference, reference: &str) -> String {
        format!("{}/manifests/{reference}", self.repo_base(r))
    }

    /// Fetches the manifest `image` names, exactly as the registry serves it (an index stays an
    /// index). Its digest is computed from the bytes and checked against the digest in `image`
    /// and against `Docker-Content-Digest`. One GET (an absent tag and digest mean `latest`).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the registry has no such manifest; [`Error::DigestMismatch`]
    /// when the bytes do not hash to the digest asked for or announced; [`Error::TooLarge`]
    /// past the client's manifest size limit (4 MiB by default); [`Error::InvalidResponse`]
    /// for an ambiguous manifest; transport, authentication and other registry errors.
    pub fn get_raw_manifest(&self, image: &Reference) -> Result<RawManifest> {
        let url = self.manifest_url(image, image.manifest_reference());
        let req = Request::new(
            Method::Get,
            url,
            image.registry(),
            Scope::pull(image.path()),
        )
        .header("accept", MANIFEST_ACCEPT);
        let (resp, bytes) = self
            .transport()
            .fetch(req, self.config().max_manifest_size)?;
        let url = crate::url::without_query(&resp.url).to_string();
        let header_digest = header_digest(&resp)?;
        let content_type = resp.header("content-type").map(str::to_string);
        let digest = match (image.digest(), &header_digest) {
            (Some(asked), _) => {
                asked.verify(&bytes, &url)?;
                asked.clone()
            }
            (None, Some(announced)) => {
                announced.verify(&bytes, &url)?;
                announced.clone()
            }
            (None, None) => Digest::sha256_of(&bytes),
        };
        if let (Some(asked), Some(announced)) = (image.digest(), &header_digest) {
            if asked.algorithm() == announced.algorithm() && asked != announced {
                return Err(Error::DigestMismatch {
                    url,
                    expected: asked.to_string(),
                    actual: announced.to_string(),
                });
            }
        }
        let media_type = manifest::served_media_type(&bytes, content_type.as_deref())
            .map_err(|message| Error::invalid_response(&url, message))?
            .or(content_type.map(|c| media_type::essence(&c).to_string()))
            .unwrap_or_default();
        Ok(RawManifest {
            digest,
            media_type,
            bytes,
        })
    }

    /// Fetches the image manifest for `image` and the client's platform
    /// ([`ClientBuilder::platform`](crate::ClientBuilder::platform), linux/amd64 by default):
    /// [`Client::get_manifest_for`] with that platform (the seed's `GetManifest`).
    ///
    /// Its [`digest`](ResolvedManifest::digest) is the platform's image manifest; when `image`
    /// names an index, the index's digest is in
    /// [`index_digest`](ResolvedManifest::index_digest) (and is what [`Client::get_digest`]
    /// returns).
    ///
    /// # Errors
    /// As [`Client::get_manifest_for`].
    pub fn get_manifest(&self, image: &Reference) -> Result<ResolvedManifest> {
        self.get_manifest_for(image, &self.config().platform)
    }

    /// Fetches the image manifest for `image` and `platform`: when `image` names an index, the
    /// entry for `platform` (containerd's matching: exact, then compatible variants) is
    /// fetched and returned; an image manifest is returned as it is, whatever its platform.
    /// An entry that is itself an index is followed the same way, up to the client's index
    /// nesting limit (4 by default).
    ///
    /// Requests: one GET for an image, one more per index level.
    ///
    /// ```no_run
    /// let client = dockreg::Client::new()?;
    /// let image: dockreg::Reference = "127.0.0.1:5000/app:1.0".parse()?;
    /// for platform in ["linux/amd64", "linux/arm64"] {
    ///     let m = client.get_manifest_for(&image, &platform.parse()?)?;
    ///     println!("{platform}: {} in index {:?}", m.digest, m.index_digest);
    /// }
    /// # Ok::<(), dockreg::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::PlatformNotFound`] when an index has no entry for `platform`;
    /// [`Error::InvalidResponse`] for nesting past the limit (naming it) or an entry whose
    /// declared kind differs from what is served; otherwise as [`Client::get_raw_manifest`].
    pub fn get_manifest_for(
        &self,
        image: &Reference,
        platform: &Platform,
    ) -> Result<ResolvedManifest> {
        let raw = self.get_raw_manifest(image)?;
        self.resolve_platform(image, raw, platform)
    }

    /// The digest of the image manifest for `platform` that `image` leads to: for an index,
    /// the digest of its entry for `platform` (what `docker pull --platform` runs and what
    /// [`Client::get_manifest_for`] returns in [`ResolvedManifest::digest`]); for an image
    /// manifest, its own digest. Compare [`Client::get_digest`], which returns the digest of
    /// what the reference names (the index itself).
    ///
    /// Requests: one GET of the manifest; one more per nested index level. The platform's
    /// image manifest itself is not fetched: the index entry gives its digest.
    ///
    /// # Errors
    /// As [`Client::get_manifest_for`].
    pub fn get_platform_digest(&self, image: &Reference, platform: &Platform) -> Result<Digest> {
        let mut raw = self.get_raw_manifest(image)?;
        let mut url = self.manifest_url(image, image.manifest_reference());
        let mut depth = 0;
        loop {
            let index = match parse_served(&raw, &url)? {
                Manifest::Image(_) => return Ok(raw.digest),
                Manifest::Index(index) => index,
            };
            depth += 1;
            self.check_index_depth(depth, &url)?;
            let entry = index.select_or_error(platform, &image.to_string())?;
            if !media_type::is_index(&entry.media_type) {
                return Ok(entry.digest.clone());
            }
            raw = self.get_raw_manifest(&image.with_digest(entry.digest.clone()))?;
            url = self.manifest_url(image, entry.digest.as_str());
            manifest::check_entry_kind(entry, &raw.media_type)
                .map_err(|message| Error::invalid_response(&url, message))?;
        }
    }

    /// The image manifest for `platform` reached from `raw` (served for `image`): `raw` itself
    /// when it is an image, else the platform's entry of each index in turn.
    pub(crate) fn resolve_platform(
        &self,
        image: &Reference,
        raw: RawManifest,
        platform: &Platform,
    ) -> Result<ResolvedManifest> {
        let top = raw.digest.clone();
        let mut raw = raw;
        let mut depth = 0;
        let mut url = self.manifest_url(image, image.manifest_reference());
        loop {
            let index = match parse_served(&raw, &url)? {
                Manifest::Image(m) => {
                    return Ok(ResolvedManifest {
                        index_digest: (depth > 0).then_some(top),
                        digest: raw.digest,
                        media_type: raw.media_type,
                        bytes: raw.bytes,
                        manifest: m,
                    });
                }
                Manifest::Index(index) => index,
            };
            depth += 1;
            self.check_index_depth(depth, &url)?;
            let entry = index.select_or_error(platform, &image.to_string())?;
            raw = self.get_raw_manifest(&image.with_digest(entry.digest.clone()))?;
            url = self.manifest_url(image, entry.digest.as_str());
            manifest::check_entry_kind(entry, &raw.media_type)
                .map_err(|message| Error::invalid_response(&url, message))?;
        }
    }

    /// Refuses to follow an index at nesting level `depth` (1 for the indexes a reference
    /// names) beyond the client's `max_index_depth`.
    pub(crate) fn check_index_depth(&self, depth: usize, url: &str) -> Result<()> {
        let limit = self.config().max_index_depth;
        if depth > limit {
            return Err(Error::invalid_response(
                url,
                format!("indexes are nested more than {limit} levels deep (the index depth limit)"),
            ));
        }
        Ok(())
    }

    /// HEAD of the manifest `image` names: its digest, media type and size, without the body.
    /// One request.
    ///
    /// Like every `head_*` method it asks whether something exists: `Ok(None)` when the
    /// registry answers 404 (no such tag, digest or repository), an error for any other
    /// failure. The `get_*` methods, which fetch content, give [`Error::NotFound`] instead.
    ///
    /// # Errors
    /// Transport and authentication failures, non-2xx answers other than 404
    /// ([`Error::Unauthorized`], [`Error::Denied`], [`Error::Registry`], ...), and
    /// [`Error::InvalidResponse`] for a malformed `Docker-Content-Digest`.
    pub fn head_manifest(&self, image: &Reference) -> Result<Option<ManifestHead>> {
        match self.head_manifest_found(image) {
            Ok(head) => Ok(Some(head)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// [`Client::head_manifest`] with a 404 as [`Error::NotFound`] (the C API's convention).
    pub(crate) fn head_manifest_found(&self, image: &Reference) -> Result<ManifestHead> {
        let url = self.manifest_url(image, image.manifest_reference());
        let req = Request::new(
            Method::Head,
            url,
            image.registry(),
            Scope::pull(image.path()),
        )
        .header("accept", MANIFEST_ACCEPT);
        let resp = self.transport().send(req)?;
        Ok(ManifestHead {
            digest: header_digest(&resp)?,
            media_type: resp
                .header("content-type")
                .map(|c| media_type::essence(c).to_string()),
            size: resp.content_length(),
        })
    }

    /// The digest of the manifest `image` names, exactly: for a multi-platform image, the
    /// **index's** digest (as `docker` and `skopeo inspect` report it, and as the seed's
    /// `GetDigest` did), not the digest of any platform's image. For the image of one platform
    /// use [`Client::get_platform_digest`].
    ///
    /// Requests: one HEAD, which Docker Hub does not count as a pull; a GET and a hash too when
    /// the registry sends no `Docker-Content-Digest`.
    ///
    /// When the HEAD fails with 404 or an unexpected status, the GET is tried too: a HEAD answer
    /// has no body, so only the GET's error carries the registry's error codes (and some
    /// registries mishandle HEAD). Not after 401, 403 or 429: the GET would fail the same way,
    /// after another token request, or count as a pull while the registry asks us to wait.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such manifest (with the registry's error codes from
    /// the GET); [`Error::DigestMismatch`] when `image` carries a digest the registry
    /// contradicts; transport, authentication and registry errors.
    pub fn get_digest(&self, image: &Reference) -> Result<Digest> {
        let head = match self.head_manifest_found(image) {
            Ok(head) => head,
            Err(e @ (Error::Unauthorized(_) | Error::Denied(_) | Error::TooManyRequests(_))) => {
                return Err(e);
            }
            Err(e) if e.registry_error().is_some() => {
                return Ok(self.get_raw_manifest(image)?.digest);
            }
            Err(e) => return Err(e),
        };
        match head.digest {
            Some(d) => {
                if let Some(asked) = image.digest() {
                    if asked.algorithm() == d.algorithm() && asked != &d {
                        let url = self.manifest_url(image, image.manifest_reference());
                        return Err(Error::DigestMismatch {
                            url,
                            expected: asked.to_string(),
                            actual: d.to_string(),
                        });
                    }
                }
                Ok(d)
            }
            None => Ok(self.get_raw_manifest(image)?.digest),
        }
    }

    /// Uploads manifest bytes under `image`'s tag (or digest) with their media type, and returns
    /// their digest (sha256 of the bytes, or the digest `image` carries, which they must
    /// match). The registry's `Docker-Content-Digest` must agree with it. One PUT; the blobs
    /// and child manifests it references must already be in the repository.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty media type; [`Error::DigestMismatch`] when the bytes
    /// do not match `image`'s digest or the registry announces another; registry errors (such
    /// as 400 `MANIFEST_BLOB_UNKNOWN` or `MANIFEST_INVALID`), transport and authentication
    /// errors.
    pub fn put_manifest(
        &self,
        image: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest> {
        self.put_manifest_subject(image, bytes, media_type)
            .map(|(d, _)| d)
    }

    /// [`Client::put_manifest`], also returning the `OCI-Subject` header of the answer (a
    /// registry with the referrers API sends it for a manifest with a `subject`).
    pub(crate) fn put_manifest_subject(
        &self,
        image: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<(Digest, Option<String>)> {
        if media_type.is_empty() {
            return Err(Error::InvalidInput("a manifest needs a media type".into()));
        }
        let digest = match image.digest() {
            Some(d) => {
                d.verify(bytes, "the manifest to upload")?;
                d.clone()
            }
            None => Digest::sha256_of(bytes),
        };
        let reference = image.tag().unwrap_or(digest.as_str()).to_string();
        let url = self.manifest_url(image, &reference);
        let req = Request::new(
            Method::Put,
            url,
            image.registry(),
            Scope::push(image.path()),
        )
        .header("content-type", media_type)
        .body(Body::Bytes(bytes));
        let resp = self.transport().send(req)?;
        let url = crate::url::without_query(&resp.url).to_string();
        if let Some(announced) = header_digest(&resp)? {
            if announced.algorithm() == digest.algorithm() && announced != digest {
                return Err(Error::DigestMismatch {
                    url,
                    expected: digest.to_string(),
                    actual: announced.to_string(),
                });
            }
        }
        let subject = resp.header("oci-subject").map(str::to_string);
        resp.drain();
        Ok((digest, subject))
    }

    /// Points `new_tag` at the manifest `image` names: the bytes are uploaded exactly as
    /// received, with the media type they were served with (the seed's `SetTag`), so the
    /// digest (returned) does not change. Two requests: a GET and a PUT.
    ///
    /// # Errors
    /// [`Error::InvalidReference`] for an invalid tag (before any request); as
    /// [`Client::get_raw_manifest`] and [`Client::put_manifest`].
    pub fn set_tag(&self, image: &Reference, new_tag: &str) -> Result<Digest> {
        let target = image.with_tag(new_tag)?;
        let raw = self.get_raw_manifest(image)?;
        if raw.media_type.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{image} has no recognisable manifest media type"
            )));
        }
        self.put_manifest(&target, &raw.bytes, &raw.media_type)
    }
}

impl Client {
    /// Deletes the manifest `image` names by digest (202), and with it every tag pointing at it.
    /// `image` must carry a digest: to remove one tag only, use [`Client::delete_tag`]. One
    /// DELETE.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `image` has no digest (before any request);
    /// [`Error::NotFound`]; [`Error::Denied`] or [`Error::Unauthorized`] without the `delete`
    /// permission; 405 ([`Error::Registry`]) where deletes are switched off; transport errors.
    pub fn delete_manifest(&self, image: &Reference) -> Result<()> {
        let Some(digest) = image.digest() else {
            return Err(Error::InvalidInput(format!(
                "deleting a manifest needs a digest ({image} has none); \
                 to remove a tag only, delete the tag"
            )));
        };
        let req = Request::new(
            Method::Delete,
            self.manifest_url(image, digest.as_str()),
            image.registry(),
            Scope::delete(image.path()),
        );
        let resp = self.transport().send(req)?;
        resp.drain();
        Ok(())
    }

    /// Deletes the tag `image` names, leaving the manifest and its other tags in place
    /// (`DELETE /manifests/<tag>`, OCI 1.1).
    ///
    /// One DELETE. Registries that cannot delete a tag on its own (distribution 2.x answers 400
    /// `DIGEST_INVALID`, others `UNSUPPORTED` or 405) give [`Error::Unsupported`]: the manifest is
    /// never deleted by digest instead, since that would remove every other tag on it too.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `image` has no tag or also has a digest (before any
    /// request); [`Error::Unsupported`] as above; [`Error::NotFound`]; permission, transport
    /// and other registry errors.
    pub fn delete_tag(&self, image: &Reference) -> Result<()> {
        let Some(tag) = image.tag() else {
            return Err(Error::InvalidInput(format!("{image} has no tag to delete")));
        };
        if image.digest().is_some() {
            return Err(Error::InvalidInput(format!(
                "{image} names a digest too: give the tag alone to delete the tag"
            )));
        }
        let req = Request::new(
            Method::Delete,
            self.manifest_url(image, tag),
            image.registry(),
            Scope::delete(image.path()),
        );
        match self.transport().send(req) {
            Ok(resp) => {
                resp.drain();
                Ok(())
            }
            Err(e) if tag_delete_unsupported(&e) => Err(Error::Unsupported {
                operation: format!("deleting the tag {image}"),
                registry: image.registry().to_string(),
                reason: "the registry deletes manifests by digest only, which would remove \
                         every tag on that manifest; retag or delete by digest deliberately"
                    .into(),
                source: Some(Box::new(e)),
            }),
            Err(e) => Err(e),
        }
    }

    /// The platforms of an image: of each entry of an index (attestation entries left out), or
    /// the one of a single image (from its config). Requests: one GET for an index; a GET of
    /// the manifest and one of its config for a single image.
    ///
    /// # Errors
    /// As [`Client::get_raw_manifest`] and, for a single image, [`Client::get_config`].
    pub fn list_platforms(&self, image: &Reference) -> Result<Vec<Platform>> {
        let raw = self.get_raw_manifest(image)?;
        match self.parse_served_manifest(&raw, image)? {
            Manifest::Index(index) => Ok(index
                .manifests
                .iter()
                .filter(|d| {
                    !d.annotations.as_ref().is_some_and(|a| {
                        a.get("vnd.docker.reference.type").map(String::as_str)
                            == Some("attestation-manifest")
                    })
                })
                .filter_map(|d| d.platform.clone())
                .collect()),
            Manifest::Image(m) => {
                let config = self.get_config(image, &m.config.digest)?;
                let mut p = Platform::new(&config.os, &config.architecture);
                p.variant = config.variant.clone();
                p.os_version = config.os_version.clone();
                Ok(vec![p])
            }
        }
    }
}

/// Answers meaning "this registry cannot delete a tag on its own".
fn tag_delete_unsupported(e: &Error) -> bool {
    let Some(r) = e.registry_error() else {
        return false;
    };
    r.status == 405
        || (r.status == 400 && (r.has_code("DIGEST_INVALID") || r.has_code("UNSUPPORTED")))
}

/// Parses a manifest the registry served from `url`: bytes that do not parse are the
/// registry's fault (an invalid response), not the caller's.
impl Client {
    /// Parses a manifest the registry served for `image`: a document that does not parse is
    /// the registry's fault ([`Error::InvalidResponse`]), not the caller's.
    pub(crate) fn parse_served_manifest(
        &self,
        raw: &RawManifest,
        image: &Reference,
    ) -> Result<Manifest> {
        parse_served(raw, &self.manifest_url(image, raw.digest.as_str()))
    }
}

pub(crate) fn parse_served(raw: &RawManifest, url: &str) -> Result<Manifest> {
    raw.parse().map_err(|e| match e {
        Error::InvalidInput(message) => Error::invalid_response(url, message),
        other => other,
    })
}

/// `Docker-Content-Digest`, parsed; a malformed one is an invalid response.
fn header_digest(resp: &Response) -> Result<Option<Digest>> {
    match resp.header("docker-content-digest") {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|e| {
            Error::invalid_response(&resp.url, format!("bad Docker-Content-Digest: {e}"))
        }),
    }
}

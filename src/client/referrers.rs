//! Referrers (OCI 1.1): manifests whose `subject` is a given manifest (signatures, SBOMs,
//! attestations).
//!
//! The referrers API (`GET /v2/<name>/referrers/<digest>`) is used where the registry has it.
//! A registry without it answers 404 (distribution 2.8: a plain-text `404 page not found`); then
//! the spec's fallback applies: an index tagged `<alg>-<hex>` of the subject digest lists the
//! referrers, and whoever pushes a referrer keeps that index up to date.

use crate::auth::Scope;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, ImageIndex, Manifest, parse_manifest};
use crate::media_type;
use crate::reference::Reference;
use crate::transport::{Method, Request};
use crate::url;

use super::Client;
use super::listing::{next_link, too_many_entries};

/// Pages of a referrers listing followed at most.
const MAX_PAGES: usize = 1000;

impl Client {
    /// The referrers of the manifest `image` names (a tag is resolved to its digest first),
    /// optionally only those of `artifact_type`. Uses the referrers API, or the `sha256-<hex>`
    /// tag where the registry has no API.
    ///
    /// Each page of the API's answer is read up to the client's page size limit (4 MiB by
    /// default; more is [`Error::TooLarge`]); more entries
    /// over all pages than the client's listing entry limit (1,000,000 by default) is
    /// [`Error::InvalidResponse`] naming the limit.
    ///
    /// Requests: a HEAD to resolve a tag ([`Client::get_digest`]); one GET per page of
    /// `/referrers/<digest>`; where that API is missing (404), one GET of the fallback tag.
    ///
    /// # Errors
    /// Those above; [`Error::InvalidResponse`] for a page that is not an index; as
    /// [`Client::get_digest`] for the subject; transport, authentication and registry errors.
    /// A subject with no referrers gives an empty list, not an error.
    pub fn list_referrers(
        &self,
        image: &Reference,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        let subject = match image.digest() {
            Some(d) => d.clone(),
            None => self.get_digest(image)?,
        };
        let mut target = format!("{}/referrers/{subject}", self.repo_base(image));
        if let Some(t) = artifact_type {
            target = url::with_query(&target, "artifactType", t);
        }
        let home = url::origin(&target);
        let mut out = Vec::new();
        let mut filtered_by_server = true;
        let mut next = Some(target);
        let mut pages = 0;
        let max_entries = self.config().max_listing_entries;
        while let Some(t) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(Error::invalid_response(&t, "too many pages of referrers"));
            }
            let req = Request::new(Method::Get, t, image.registry(), Scope::pull(image.path()))
                .header("accept", media_type::OCI_INDEX);
            let resp = match self.transport().send(req) {
                Ok(r) => r,
                Err(e) if e.is_not_found() && pages == 1 => {
                    return self.referrers_from_tag(image, &subject, artifact_type);
                }
                Err(e) => return Err(e),
            };
            let here = resp.url.clone();
            filtered_by_server &= resp
                .header("oci-filters-applied")
                .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            if let Some(n) = next_link(&resp.headers_all("link")) {
                let resolved = url::resolve(&here, &n)?;
                if url::origin(&resolved) != home {
                    return Err(Error::invalid_response(
                        &here,
                        "next page of referrers is on another host",
                    ));
                }
                next = Some(resolved);
            }
            // A listing, not a manifest: only its `manifests` are used, and it has no digest
            // that another client could read as something else.
            let index: ImageIndex = resp.read_json(self.config().max_page_bytes)?;
            if index.manifests.len() > max_entries.saturating_sub(out.len()) {
                return Err(too_many_entries(&here, max_entries));
            }
            out.extend(index.manifests);
        }
        if let (Some(t), false) = (artifact_type, filtered_by_server) {
            out.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok(out)
    }

    /// The referrers listed by the fallback tag `<alg>-<hex>`; none when the tag is absent.
    fn referrers_from_tag(
        &self,
        image: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        let Some(index) = self.fallback_index(image, subject)? else {
            return Ok(Vec::new());
        };
        Ok(index
            .manifests
            .into_iter()
            .filter(|d| artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t)))
            .collect())
    }

    fn fallback_index(&self, image: &Reference, subject: &Digest) -> Result<Option<ImageIndex>> {
        let tag_ref = image.with_tag(&fallback_tag(subject))?;
        let tag_ref = Reference::new(tag_ref.registry(), tag_ref.path(), tag_ref.tag(), None)?;
        match self.get_raw_manifest(&tag_ref) {
            Ok(raw) => match self.parse_served_manifest(&raw, &tag_ref)? {
                Manifest::Index(i) => Ok(Some(i)),
                Manifest::Image(_) => Err(Error::invalid_response(
                    &self.manifest_url(&tag_ref, raw.digest.as_str()),
                    format!("{tag_ref} is an image, not a referrers index"),
                )),
            },
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Pushes a manifest that has a `subject` (an artifact: signature, SBOM, ...) into
    /// `repository` (by its tag when `repository` has one, else by digest) and returns its
    /// digest. When the registry does not confirm the subject (no `OCI-Subject` header: no
    /// referrers API), the fallback index tagged `<alg>-<hex>` of the subject gets an entry for
    /// it (read, extended, written back; concurrent pushers can race, as the spec notes).
    ///
    /// Requests: one PUT; without the referrers API, also a GET of the fallback index and a
    /// PUT of it (skipped when it already lists this manifest).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the manifest does not parse or has no `subject`; as
    /// [`Client::put_manifest`].
    pub fn push_referrer(
        &self,
        repository: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest> {
        let (subject, artifact_type, annotations) = match parse_manifest(bytes, media_type)? {
            Manifest::Image(m) => (
                m.subject,
                m.artifact_type.or(Some(m.config.media_type)),
                m.annotations,
            ),
            Manifest::Index(i) => (i.subject, i.artifact_type, i.annotations),
        };
        let Some(subject) = subject else {
            return Err(Error::InvalidInput(
                "a referrer manifest needs a subject".into(),
            ));
        };
        let target = match repository.tag() {
            Some(_) => Reference::new(
                repository.registry(),
                repository.path(),
                repository.tag(),
                None,
            )?,
            None => Reference::new(
                repository.registry(),
                repository.path(),
                None,
                Some(Digest::sha256_of(bytes)),
            )?,
        };
        let (digest, confirmed) = self.put_manifest_subject(&target, bytes, media_type)?;
        if confirmed.is_some() {
            return Ok(digest);
        }
        let mut index = self
            .fallback_index(repository, &subject.digest)?
            .unwrap_or(ImageIndex {
                schema_version: 2,
                media_type: Some(media_type::OCI_INDEX.to_string()),
                artifact_type: None,
                manifests: Vec::new(),
                subject: None,
                annotations: None,
            });
        if index.manifests.iter().any(|d| d.digest == digest) {
            return Ok(digest);
        }
        let mut entry = Descriptor::new(media_type, digest.clone(), bytes.len() as u64);
        entry.artifact_type = artifact_type;
        entry.annotations = annotations;
        index.manifests.push(entry);
        index.media_type = Some(media_type::OCI_INDEX.to_string());
        let index_bytes = serde_json::to_vec(&index)
            .map_err(|e| Error::InvalidInput(format!("referrers index does not serialise: {e}")))?;
        let tag_ref = Reference::new(
            repository.registry(),
            repository.path(),
            Some(&fallback_tag(&subject.digest)),
            None,
        )?;
        self.put_manifest(&tag_ref, &index_bytes, media_type::OCI_INDEX)?;
        Ok(digest)
    }
}

/// The referrers tag schema: `<alg>-<hex>` (truncated to a tag's 128 characters).
pub(crate) fn fallback_tag(subject: &Digest) -> String {
    let mut t = format!("{}-{}", subject.algorithm(), subject.hex());
    t.truncate(128);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_tags() {
        let d = Digest::sha256_of(b"");
        assert_eq!(
            fallback_tag(&d),
            "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

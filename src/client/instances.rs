//! Image instances of a repository: GCR's `manifest` map, or built from the tags elsewhere.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageInstance;
use crate::manifest::Manifest;
use crate::reference::Reference;

use super::listing::GcrManifest;
use super::manifests::parse_served;
use super::{Client, fanout};

impl Client {
    /// Every image of a repository keyed by manifest digest, with its tags, size and times (the
    /// seed's `ListInstances`).
    ///
    /// GCR and Artifact Registry list these with the tags, in one listing. Elsewhere they are
    /// built from the tags: one HEAD per tag, then per distinct digest the manifest and config
    /// (size = config + layers, created from the config; uploaded unknown). For an index the
    /// client's platform's image gives size and time. Those requests are independent, so up to
    /// eight are in flight at once (one client, shared pool). A tag deleted between the listing
    /// and its HEAD is left out.
    pub fn list_instances(
        &self,
        repository: &Reference,
    ) -> Result<BTreeMap<Digest, ImageInstance>> {
        let pages = self.tag_pages(repository)?;
        let mut gcr: Option<BTreeMap<String, GcrManifest>> = None;
        let mut tags = Vec::new();
        for page in pages {
            if let Some(m) = page.manifest {
                gcr.get_or_insert_with(BTreeMap::new).extend(m);
            }
            tags.extend(page.tags.unwrap_or_default());
        }
        match gcr {
            Some(map) => from_gcr(&format!("{}/tags/list", self.repo_base(repository)), map),
            None => self.instances_from_tags(repository, tags),
        }
    }

    fn instances_from_tags(
        &self,
        repository: &Reference,
        tags: Vec<String>,
    ) -> Result<BTreeMap<Digest, ImageInstance>> {
        // A tag deleted since the listing has no instance any more: it is left out, not an error.
        let digests = fanout::map(&tags, |tag| {
            match self.get_digest(&repository.with_tag(tag)?) {
                Ok(d) => Ok(Some(d)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        let mut by_digest: BTreeMap<Digest, Vec<String>> = BTreeMap::new();
        for (tag, digest) in tags.into_iter().zip(digests) {
            if let Some(d) = digest {
                by_digest.entry(d).or_default().push(tag);
            }
        }
        let by_digest: Vec<(Digest, Vec<String>)> = by_digest.into_iter().collect();
        let details = fanout::map(&by_digest, |(digest, _)| {
            self.size_and_created(&repository.with_digest(digest.clone()))
        })?;
        let mut out = BTreeMap::new();
        for ((digest, mut tags), (size_bytes, created)) in by_digest.into_iter().zip(details) {
            tags.sort();
            out.insert(
                digest.clone(),
                ImageInstance {
                    digest,
                    size_bytes,
                    tags,
                    created,
                    uploaded: None,
                },
            );
        }
        Ok(out)
    }

    /// Config plus layer sizes, and the config's creation time, of the image `image` names.
    fn size_and_created(&self, image: &Reference) -> Result<(u64, Option<OffsetDateTime>)> {
        let raw = self.get_raw_manifest(image)?;
        let url = self.manifest_url(image, image.manifest_reference());
        let manifest = match parse_served(&raw, &url)? {
            Manifest::Image(m) => m,
            Manifest::Index(index) => match index.select(&self.config().platform) {
                Some(entry) => match parse_served(
                    &self.get_raw_manifest(&image.with_digest(entry.digest.clone()))?,
                    &self.manifest_url(image, entry.digest.as_str()),
                )? {
                    Manifest::Image(m) => m,
                    Manifest::Index(_) => {
                        return Ok((
                            index
                                .manifests
                                .iter()
                                .fold(0, |n, d| n.saturating_add(d.size)),
                            None,
                        ));
                    }
                },
                None => {
                    return Ok((
                        index
                            .manifests
                            .iter()
                            .fold(0, |n, d| n.saturating_add(d.size)),
                        None,
                    ));
                }
            },
        };
        let config = self.get_config(image, &manifest.config.digest)?;
        Ok((manifest.total_size(), config.created))
    }
}

/// Instances from GCR's `manifest` map, listed at `url`.
fn from_gcr(
    url: &str,
    map: BTreeMap<String, GcrManifest>,
) -> Result<BTreeMap<Digest, ImageInstance>> {
    let mut out = BTreeMap::new();
    for (key, m) in map {
        let bad = |what: &str| {
            Error::invalid_response(url, format!("GCR manifest entry {key:?}: {what}"))
        };
        let digest: Digest = key.parse().map_err(|_| bad("key is not a digest"))?;
        let size_bytes = number(m.image_size_bytes.as_ref())
            .ok_or_else(|| bad("imageSizeBytes is not a number"))?
            .unwrap_or(0);
        let created = millis(
            number(m.time_created_ms.as_ref())
                .ok_or_else(|| bad("timeCreatedMs is not a number"))?,
        );
        let uploaded = millis(
            number(m.time_uploaded_ms.as_ref())
                .ok_or_else(|| bad("timeUploadedMs is not a number"))?,
        );
        let mut tags = m.tag.unwrap_or_default();
        tags.sort();
        out.insert(
            digest.clone(),
            ImageInstance {
                digest,
                size_bytes,
                tags,
                created,
                uploaded,
            },
        );
    }
    Ok(out)
}

/// A number sent as a JSON number or a string of digits: `Some(None)` when absent or empty,
/// `None` when it is something else.
fn number(v: Option<&serde_json::Value>) -> Option<Option<u64>> {
    match v {
        None | Some(serde_json::Value::Null) => Some(None),
        Some(serde_json::Value::Number(n)) => n.as_u64().map(Some),
        Some(serde_json::Value::String(s)) if s.is_empty() => Some(None),
        Some(serde_json::Value::String(s)) => s.parse().ok().map(Some),
        Some(_) => None,
    }
}

/// Milliseconds since the epoch; 0 (GCR's "unknown") and out-of-range values are `None`.
fn millis(ms: Option<u64>) -> Option<OffsetDateTime> {
    let ms = i128::from(ms.filter(|&m| m > 0)?);
    OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcr_numbers() {
        assert_eq!(number(Some(&serde_json::json!("123"))), Some(Some(123)));
        assert_eq!(number(Some(&serde_json::json!(7))), Some(Some(7)));
        assert_eq!(number(Some(&serde_json::json!(""))), Some(None));
        assert_eq!(number(None), Some(None));
        assert_eq!(number(Some(&serde_json::json!("12a"))), None);
        assert_eq!(number(Some(&serde_json::json!(-1))), None);
        assert_eq!(millis(Some(0)), None);
        assert_eq!(
            millis(Some(1_500_000_000_123)).unwrap().unix_timestamp(),
            1_500_000_000
        );
        assert_eq!(millis(Some(u64::MAX)), None);
    }
}

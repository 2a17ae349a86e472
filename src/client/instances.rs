//! Image instances of a repository: GCR's `manifest` map, or built from the tags elsewhere.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::{ImageInstance, InstancesReport, SkipReason, Skipped};
use crate::manifest::Manifest;
use crate::reference::{Reference, Repository};

use super::listing::GcrManifest;
use super::manifests::parse_served;
use super::{Client, fanout};

impl Client {
    /// Every image of a repository keyed by manifest digest, with its tags, size and times (the
    /// seed's `ListInstances`): [`Client::list_instances_report`] without the report of the tags
    /// passed over.
    pub fn list_instances(
        &self,
        repository: &impl AsRef<Repository>,
    ) -> Result<BTreeMap<Digest, ImageInstance>> {
        Ok(self.list_instances_report(repository)?.instances)
    }

    /// Every image of a repository keyed by manifest digest, with its tags, size and times, and
    /// the tags passed over on the way.
    ///
    /// GCR and Artifact Registry list these with the tags, in one listing. Elsewhere they are
    /// built from the tags: one HEAD per tag, then per distinct digest the manifest and config
    /// (size = config + layers, created from the config; uploaded unknown). For an index the
    /// client's platform's image gives size and time (an index without it: the sum of its
    /// entries, created unknown). Those requests are independent, so up to
    /// [`ClientBuilder::max_concurrency`](crate::ClientBuilder::max_concurrency) of them are in
    /// flight at once (16 by default; one client, shared pool), and an image is read as soon as
    /// its first tag is resolved, while the other HEADs go on.
    ///
    /// One odd entry does not fail the repository; it is reported in
    /// [`InstancesReport::skipped`]:
    /// - a name that is not a valid tag, a tag gone since the listing, a manifest that is
    ///   ambiguous, unsupported, too large, nested too deep or not matching its digest: left out;
    /// - an artifact (Helm chart, ORAS artifact, signature: its `artifactType`, or a config that
    ///   is not a Docker or OCI image config): listed from its manifest (size, tags; created
    ///   unknown), its config not fetched;
    /// - an image whose config cannot be read as an image config: listed the same way.
    ///
    /// Failures that would hit every tag (transport, authentication, 5xx answers) fail the
    /// call.
    pub fn list_instances_report(
        &self,
        repository: &impl AsRef<Repository>,
    ) -> Result<InstancesReport> {
        let repository = &repository.as_ref().reference();
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
            Some(map) => Ok(InstancesReport {
                instances: from_gcr(&format!("{}/tags/list", self.repo_base(repository)), map)?,
                skipped: Vec::new(),
            }),
            None => self.instances_from_tags(repository, tags),
        }
    }

    fn instances_from_tags(
        &self,
        repository: &Reference,
        tags: Vec<String>,
    ) -> Result<InstancesReport> {
        // Skipped tags with their position in the listing, to report them in its order.
        let mut skipped: Vec<(usize, Skipped)> = Vec::new();
        let mut valid: Vec<(usize, String, Reference)> = Vec::new();
        for (i, tag) in tags.into_iter().enumerate() {
            match repository.with_tag(&tag) {
                Ok(r) => valid.push((i, tag, r)),
                Err(_) => skipped.push((i, skip(tag, None, SkipReason::InvalidTag))),
            }
        }
        // One pass: the worker that first meets a digest describes it at once, so the reads
        // of the images overlap the HEADs still running instead of following them all.
        let described: Mutex<HashMap<Digest, Option<EntryDetail>>> = Mutex::default();
        let digests = fanout::map(&valid, self.config().max_concurrency, |(_, _, r)| {
            let digest = entry(self.get_digest(r))?;
            if let Ok(d) = &digest {
                let first = match lock(&described).entry(d.clone()) {
                    Entry::Vacant(v) => v.insert(None).is_none(),
                    Entry::Occupied(_) => false,
                };
                if first {
                    let detail = entry(self.describe(&repository.with_digest(d.clone())))?;
                    lock(&described).insert(d.clone(), Some(detail));
                }
            }
            Ok(digest)
        })?;
        let mut described = described.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut by_digest: BTreeMap<Digest, Vec<(usize, String)>> = BTreeMap::new();
        for ((i, tag, _), digest) in valid.into_iter().zip(digests) {
            match digest {
                Ok(d) => by_digest.entry(d).or_default().push((i, tag)),
                Err(e) => skipped.push((i, skip(tag, None, SkipReason::Error(e)))),
            }
        }
        let details: Vec<EntryDetail> = by_digest
            .keys()
            .map(|d| {
                // Every digest met was described by its first worker (or the call failed).
                described.remove(d).flatten().unwrap_or_else(|| {
                    Err(Arc::new(Error::invalid_response(
                        &self.manifest_url(repository, d.as_str()),
                        "internal: image not described",
                    )))
                })
            })
            .collect();
        let mut out = BTreeMap::new();
        for ((digest, tags), detail) in by_digest.into_iter().zip(details) {
            let detail = match detail {
                Ok(d) => d,
                Err(e) => {
                    for (i, tag) in tags {
                        let reason = SkipReason::Error(e.clone());
                        skipped.push((i, skip(tag, Some(digest.clone()), reason)));
                    }
                    continue;
                }
            };
            if let Some(reason) = &detail.partial {
                for (i, tag) in &tags {
                    let s = skip(tag.clone(), Some(digest.clone()), reason.clone());
                    skipped.push((*i, s));
                }
            }
            let mut tags: Vec<String> = tags.into_iter().map(|(_, t)| t).collect();
            tags.sort();
            out.insert(
                digest.clone(),
                ImageInstance {
                    digest,
                    size_bytes: detail.size_bytes,
                    tags,
                    created: detail.created,
                    uploaded: None,
                },
            );
        }
        skipped.sort_by_key(|(i, _)| *i);
        Ok(InstancesReport {
            instances: out,
            skipped: skipped.into_iter().map(|(_, s)| s).collect(),
        })
    }

    /// Size and creation time of the image `image` names (for an index, of the client's
    /// platform's image), and what could not be read about it.
    fn describe(&self, image: &Reference) -> Result<Detail> {
        let raw = self.get_raw_manifest(image)?;
        let url = self.manifest_url(image, image.manifest_reference());
        let manifest = match parse_served(&raw, &url)? {
            Manifest::Image(m) => m,
            Manifest::Index(index) => {
                let entries = index
                    .manifests
                    .iter()
                    .fold(0u64, |n, d| n.saturating_add(d.size));
                match self.resolve_platform(image, raw, &self.config().platform) {
                    Ok(resolved) => resolved.manifest,
                    Err(Error::PlatformNotFound { .. }) => {
                        return Ok(Detail {
                            size_bytes: entries,
                            created: None,
                            partial: None,
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let size_bytes = manifest.total_size();
        if let Some(t) = manifest.artifact_type() {
            return Ok(Detail {
                size_bytes,
                created: None,
                partial: Some(SkipReason::Artifact {
                    artifact_type: t.to_string(),
                }),
            });
        }
        match self.get_config(image, &manifest.config.digest) {
            Ok(config) => Ok(Detail {
                size_bytes,
                created: config.created,
                partial: None,
            }),
            Err(e) if entry_fault(&e) => Ok(Detail {
                size_bytes,
                created: None,
                partial: Some(SkipReason::BadConfig(Arc::new(e))),
            }),
            Err(e) => Err(e),
        }
    }
}

/// [`Client::describe`]'s answer for one image, or its own fault.
type EntryDetail = std::result::Result<Detail, Arc<Error>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What [`Client::describe`] learnt of one manifest.
struct Detail {
    size_bytes: u64,
    created: Option<OffsetDateTime>,
    /// Why the instance is known from its manifest alone, when it is.
    partial: Option<SkipReason>,
}

fn skip(tag: String, digest: Option<Digest>, reason: SkipReason) -> Skipped {
    Skipped {
        tag,
        digest,
        reason,
    }
}

/// A result for one entry of a repository: `Ok(Err(_))` when the error is that entry's alone
/// (it is reported and the others go on), `Err` when it would hit every entry.
fn entry<T>(r: Result<T>) -> Result<std::result::Result<T, Arc<Error>>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) if entry_fault(&e) => Ok(Err(Arc::new(e))),
        Err(e) => Err(e),
    }
}

/// True for errors about one entry of a repository (its manifest, its content, the
/// destination's refusal of it) rather than about the registry or the connection: a tag gone
/// since the listing, a response that breaks the protocol, content too large or not matching
/// its digest, another 4xx answer. Transport, authentication, rate limits, 5xx answers, local
/// I/O and cancellation would hit every entry, so they end the whole operation.
pub(crate) fn entry_fault(e: &Error) -> bool {
    match e {
        Error::NotFound(_)
        | Error::InvalidResponse { .. }
        | Error::TooLarge { .. }
        | Error::DigestMismatch { .. }
        | Error::PlatformNotFound { .. }
        | Error::InvalidDigest { .. }
        | Error::InvalidReference { .. } => true,
        Error::Registry(r) => (400..500).contains(&r.status),
        _ => false,
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

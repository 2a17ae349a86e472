//! Manifests: descriptors, image manifests (Docker v2 and OCI), indexes and manifest lists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::media_type;
use crate::platform::Platform;

/// A reference to content by digest: the seed's `MediaConfig`, plus the OCI fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    #[serde(default)]
    pub media_type: String,
    /// Digest of the referenced content.
    pub digest: Digest,
    /// Size of the referenced content in bytes.
    pub size: u64,
    /// Other places the content may be fetched from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Platform of the referenced image (entries of an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Type of an artifact when the descriptor points at one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The content itself, base64, when embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl Descriptor {
    /// A descriptor with only the required fields.
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Self {
        Self {
            media_type: media_type.to_string(),
            digest,
            size,
            urls: Vec::new(),
            annotations: None,
            platform: None,
            artifact_type: None,
            data: None,
        }
    }
}

/// A single-image manifest: Docker v2 schema 2 or OCI image manifest (the seed's `Manifest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// Media type written in the document (optional in OCI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Type of an artifact (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// Layer blobs, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ImageManifest {
    /// Config size plus the sizes of all layers.
    pub fn total_size(&self) -> u64 {
        self.layers
            .iter()
            .fold(self.config.size, |n, l| n.saturating_add(l.size))
    }
}

/// An OCI image index or a Docker manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// Media type written in the document (optional in OCI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Type of an artifact (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests it lists, usually one per platform.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ImageIndex {
    /// The entry that best fits `platform` (see [`Platform::select`]).
    pub fn select(&self, platform: &Platform) -> Option<&Descriptor> {
        let i = platform.select(self.manifests.iter().map(|d| d.platform.as_ref()))?;
        self.manifests.get(i)
    }

    /// The entry for `platform`, or [`Error::PlatformNotFound`] naming `reference` and the
    /// platforms the index does list.
    pub fn select_or_error(&self, platform: &Platform, reference: &str) -> Result<&Descriptor> {
        self.select(platform).ok_or_else(|| {
            let available: Vec<String> = self.platforms().iter().map(|p| p.to_string()).collect();
            Error::PlatformNotFound {
                reference: reference.to_string(),
                platform: platform.to_string(),
                available: available.join(", "),
            }
        })
    }

    /// Platforms of the entries that have one.
    pub fn platforms(&self) -> Vec<&Platform> {
        self.manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .collect()
    }
}

/// A parsed manifest of either kind.
// Parsed manifests are short-lived values, not kept in bulk: boxing the image variant would
// only make matching on them clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// A single image.
    Image(ImageManifest),
    /// An index or manifest list.
    Index(ImageIndex),
}

/// A manifest exactly as the registry served it: bytes, media type and digest.
///
/// The bytes are what the digest is computed over; re-serialising a parsed manifest would change
/// them, so pushes and re-tags use these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    /// Digest of `bytes` (checked on receipt).
    pub digest: Digest,
    /// Media type from `Content-Type`, or from the document when the header was generic.
    pub media_type: String,
    /// The body as received.
    pub bytes: Vec<u8>,
}

/// Just the field that tells the kind, for documents whose `Content-Type` is generic.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    config: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    schema_version: Option<u32>,
}

impl RawManifest {
    /// Parses the bytes as an image manifest or an index, by media type (or by shape when the
    /// media type is not a manifest type).
    pub fn parse(&self) -> Result<Manifest> {
        parse_manifest(&self.bytes, &self.media_type)
    }

    /// True when this is an index or manifest list.
    pub fn is_index(&self) -> bool {
        media_type::is_index(&self.media_type)
    }
}

/// Works out the media type of manifest bytes: the header when it names a manifest type, else
/// the document's own `mediaType`, else its shape.
pub(crate) fn detect_media_type(bytes: &[u8], header: Option<&str>) -> Option<String> {
    if let Some(h) = header {
        let e = media_type::essence(h);
        if media_type::is_index(e) || media_type::is_image_manifest(e) {
            return Some(e.to_string());
        }
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    if let Some(t) = probe.media_type {
        return Some(t);
    }
    if probe.schema_version == Some(1) {
        return None;
    }
    if probe.manifests.is_some() {
        Some(media_type::OCI_INDEX.to_string())
    } else if probe.config.is_some() {
        Some(media_type::OCI_MANIFEST.to_string())
    } else {
        None
    }
}

/// Parses manifest bytes of the given media type.
pub fn parse_manifest(bytes: &[u8], media_type: &str) -> Result<Manifest> {
    let bad = |e: serde_json::Error| {
        Error::InvalidInput(format!(
            "manifest of type {media_type:?} does not parse: {e}"
        ))
    };
    if media_type::is_index(media_type) {
        return serde_json::from_slice(bytes)
            .map(Manifest::Index)
            .map_err(bad);
    }
    if media_type::is_image_manifest(media_type) {
        return serde_json::from_slice(bytes)
            .map(Manifest::Image)
            .map_err(bad);
    }
    match detect_media_type(bytes, None) {
        Some(t) if media_type::is_index(&t) => serde_json::from_slice(bytes)
            .map(Manifest::Index)
            .map_err(bad),
        Some(t) if media_type::is_image_manifest(&t) => serde_json::from_slice(bytes)
            .map(Manifest::Image)
            .map_err(bad),
        _ => Err(Error::InvalidInput(format!(
            "unsupported manifest media type {media_type:?} (schema 1 and unknown types are not supported)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_docker_v2_manifest_with_unknown_fields() {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":7,"digest":"{D}"}},
            "layers":[{{"mediaType":"{}","size":10,"digest":"{D}","x-unknown":1}}],"extra":true}}"#,
            media_type::DOCKER_MANIFEST,
            media_type::DOCKER_CONFIG,
            media_type::DOCKER_LAYER_GZIP
        );
        let Manifest::Image(m) =
            parse_manifest(json.as_bytes(), media_type::DOCKER_MANIFEST).unwrap()
        else {
            panic!("not an image")
        };
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.total_size(), 17);
    }

    #[test]
    fn detects_index_by_shape() {
        let json = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","size":1,"digest":"{D}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#,
            media_type::OCI_MANIFEST
        );
        assert_eq!(
            detect_media_type(json.as_bytes(), Some("application/json")).as_deref(),
            Some(media_type::OCI_INDEX)
        );
        let Manifest::Index(i) = parse_manifest(json.as_bytes(), "application/json").unwrap()
        else {
            panic!("not an index")
        };
        let want: Platform = "linux/arm64".parse().unwrap();
        assert_eq!(i.select(&want).map(|d| d.size), Some(1));
    }

    #[test]
    fn rejects_schema1_and_garbage() {
        assert!(
            parse_manifest(br#"{"schemaVersion":1,"fsLayers":[]}"#, "application/json").is_err()
        );
        assert!(parse_manifest(b"not json", media_type::OCI_MANIFEST).is_err());
        assert!(
            parse_manifest(
                br#"{"schemaVersion":2,"config":{"digest":"bad","size":1}}"#,
                media_type::OCI_MANIFEST
            )
            .is_err()
        );
    }
}

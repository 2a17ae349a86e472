//! Manifests: descriptors, image manifests (Docker v2 and OCI), indexes and manifest lists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::media_type;
use crate::platform::Platform;

/// A reference to content by digest: the seed's `MediaConfig`, plus the OCI fields. Its JSON is
/// the OCI descriptor's.
///
/// ```
/// let d = dockreg::Descriptor::new(dockreg::media_type::OCI_EMPTY, dockreg::Digest::sha256_of(b"{}"), 2);
/// let json = serde_json::to_string(&d).unwrap();
/// assert!(json.starts_with(r#"{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:"#));
/// assert_eq!(serde_json::from_str::<dockreg::Descriptor>(&json).unwrap(), d);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
/// Its JSON is the manifest document's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// An OCI image manifest (`schemaVersion` 2, `mediaType` set) of `config` and `layers`,
    /// with no artifact type, subject or annotations (set the fields to add them).
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Self {
        Self {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_string()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: None,
        }
    }

    /// Config size plus the sizes of all layers.
    pub fn total_size(&self) -> u64 {
        self.layers
            .iter()
            .fold(self.config.size, |n, l| n.saturating_add(l.size))
    }

    /// What kind of artifact this is, when it is not a container image: its `artifactType`, or
    /// else the media type of its config when that is not an image config (Helm charts, ORAS
    /// artifacts, cosign signatures, the OCI empty config `{}`). `None` for an image, whose
    /// config is a Docker or OCI image config.
    pub fn artifact_type(&self) -> Option<&str> {
        if let Some(t) = self.artifact_type.as_deref() {
            return Some(t);
        }
        let config = media_type::essence(&self.config.media_type);
        (!config.eq_ignore_ascii_case(media_type::OCI_CONFIG)
            && !config.eq_ignore_ascii_case(media_type::DOCKER_CONFIG))
        .then_some(self.config.media_type.as_str())
    }
}

/// An OCI image index or a Docker manifest list. Its JSON is the index document's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// An OCI image index (`schemaVersion` 2, `mediaType` set) listing `manifests`, with no
    /// artifact type, subject or annotations (set the fields to add them).
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        Self {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_string()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: None,
        }
    }

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
///
/// Serialized as the document itself; deserialized by its shape (a document with `manifests`
/// is an index), with the same checks against ambiguous documents as a manifest read from a
/// registry.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Manifest {
    /// A single image.
    Image(ImageManifest),
    /// An index or manifest list.
    Index(ImageIndex),
}

/// A manifest exactly as the registry served it: bytes, media type and digest.
///
/// The bytes are what the digest is computed over; re-serialising a parsed manifest would change
/// them, so pushes and re-tags use these. In JSON (`digest`, `mediaType`, `bytes`) the bytes are
/// an array of numbers, kept exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RawManifest {
    /// Digest of `bytes` (checked on receipt).
    pub digest: Digest,
    /// Media type from `Content-Type`, or from the document when the header was generic.
    pub media_type: String,
    /// The body as received.
    pub bytes: Vec<u8>,
}

/// The top-level fields of a manifest document that tell its kind, read without parsing the
/// rest (values other than `mediaType` are skipped, not kept).
///
/// Keys are matched the way Go's `encoding/json` matches them (ignoring letter case, with
/// Unicode's `ſ` and `K` folding to `s` and `k`): registries and most other clients are written in
/// Go, so a key that Go would read as `layers` counts as `layers` here, even though serde would
/// not read it.
#[derive(Default, Debug)]
struct Shape {
    /// `mediaType`, when it is a string.
    media_type: Option<String>,
    /// A non-null `manifests`.
    manifests: bool,
    /// A non-null `config`.
    config: bool,
    /// A non-null `layers`.
    layers: bool,
    schema_version: Option<u64>,
    /// The first of the fields above that appears twice.
    duplicate: Option<&'static str>,
}

/// The fields [`Shape`] looks at, with the name used in messages.
const SHAPE_FIELDS: [&str; 5] = [
    "mediaType",
    "manifests",
    "config",
    "layers",
    "schemaVersion",
];

/// True when `key` names `field` for Go's `encoding/json` (simple Unicode case folding; among
/// the letters of [`SHAPE_FIELDS`] only `s` and `k` have non-ASCII forms).
fn go_key_matches(key: &str, field: &str) -> bool {
    let fold = |c: char| match c {
        '\u{17F}' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    key.chars()
        .map(fold)
        .eq(field.chars().map(|c| c.to_ascii_lowercase()))
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Shape, A::Error> {
                use serde::de::IgnoredAny;
                let mut shape = Shape::default();
                let mut seen = [false; SHAPE_FIELDS.len()];
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let Some(i) = SHAPE_FIELDS.iter().position(|f| go_key_matches(&key, f)) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    if std::mem::replace(&mut seen[i], true) {
                        shape.duplicate.get_or_insert(SHAPE_FIELDS[i]);
                    }
                    match i {
                        0 => {
                            let v: Option<serde_json::Value> = map.next_value()?;
                            shape.media_type = v.and_then(|v| v.as_str().map(str::to_string));
                        }
                        4 => {
                            let v: Option<serde_json::Value> = map.next_value()?;
                            shape.schema_version = v.and_then(|v| v.as_u64());
                        }
                        _ => {
                            let present = map.next_value::<Option<IgnoredAny>>()?.is_some();
                            match i {
                                1 => shape.manifests |= present,
                                2 => shape.config |= present,
                                _ => shape.layers |= present,
                            }
                        }
                    }
                }
                Ok(shape)
            }
        }
        d.deserialize_map(V)
    }
}

impl Shape {
    /// The shape of `bytes`; `None` when they are not a JSON object.
    fn of(bytes: &[u8]) -> Option<Shape> {
        serde_json::from_slice(bytes).ok()
    }

    /// Names of the image-manifest fields present, for messages.
    fn image_fields(&self) -> &'static str {
        match (self.layers, self.config) {
            (true, true) => "\"layers\" and \"config\"",
            (true, false) => "\"layers\"",
            _ => "\"config\"",
        }
    }
}

/// Refuses a manifest whose kind is ambiguous, so that it cannot be read as an index by one
/// client and as an image by another under the same digest (the class of CVE-2021-41190; the
/// rules follow the OCI image-spec 1.0.2 guidance and containers/image):
///
/// - a document with `manifests` and also `layers` or `config`;
/// - a declared media type (`declared`, from `Content-Type` or the caller, or the document's own
///   `mediaType`) of an index while the document has `layers` or `config`, or of an image
///   manifest while it has `manifests`;
/// - a `mediaType` field that disagrees with `declared`, when both are manifest types;
/// - any of these fields twice (a JSON parser may keep either value).
///
/// Bytes that are not a JSON object pass: whatever parses them next refuses them.
fn check_unambiguous(bytes: &[u8], declared: Option<&str>) -> Result<(), String> {
    let Some(shape) = Shape::of(bytes) else {
        return Ok(());
    };
    if let Some(field) = shape.duplicate {
        return Err(format!(
            "ambiguous manifest: the field {field:?} appears more than once"
        ));
    }
    let image_fields = shape.layers || shape.config;
    if shape.manifests && image_fields {
        return Err(format!(
            "ambiguous manifest: it has \"manifests\" (an index) and {} (an image)",
            shape.image_fields()
        ));
    }
    let is_manifest_type = |t: &str| media_type::is_index(t) || media_type::is_image_manifest(t);
    let declared = declared
        .map(media_type::essence)
        .filter(|t| is_manifest_type(t));
    let own = shape.media_type.as_deref().filter(|t| is_manifest_type(t));
    for (t, whose) in [(declared, "declared"), (own, "its mediaType field")] {
        let Some(t) = t else { continue };
        if media_type::is_index(t) && image_fields {
            return Err(format!(
                "ambiguous manifest: {whose} says {t} (an index) but it has {}",
                shape.image_fields()
            ));
        }
        if media_type::is_image_manifest(t) && shape.manifests {
            return Err(format!(
                "ambiguous manifest: {whose} says {t} (an image manifest) but it has \"manifests\""
            ));
        }
    }
    if let (Some(d), Some(o)) = (declared, own) {
        if !d.eq_ignore_ascii_case(media_type::essence(o)) {
            return Err(format!(
                "ambiguous manifest: declared as {d} but its mediaType field says {o}"
            ));
        }
    }
    Ok(())
}

impl RawManifest {
    /// Manifest bytes with their media type, and their sha256 digest computed here: to push
    /// with [`Client::put_manifest`](crate::Client::put_manifest) or to parse.
    ///
    /// ```
    /// let raw = dockreg::RawManifest::new(
    ///     br#"{"schemaVersion":2,"manifests":[]}"#.to_vec(),
    ///     dockreg::media_type::OCI_INDEX,
    /// );
    /// assert!(raw.is_index());
    /// assert!(matches!(raw.parse()?, dockreg::Manifest::Index(_)));
    /// # Ok::<(), dockreg::Error>(())
    /// ```
    pub fn new(bytes: Vec<u8>, media_type: &str) -> Self {
        Self {
            digest: Digest::sha256_of(&bytes),
            media_type: media_type.to_string(),
            bytes,
        }
    }

    /// Parses the bytes as an image manifest or an index, by media type (or by shape when the
    /// media type is not a manifest type). No request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the bytes do not parse as that kind of manifest, are
    /// ambiguous (the CVE-2021-41190 class: `manifests` next to `layers` or `config`, a
    /// `mediaType` field that disagrees with the media type), or the type is not a manifest
    /// type dockreg reads (schema 1 is not).
    pub fn parse(&self) -> Result<Manifest> {
        parse_manifest(&self.bytes, &self.media_type)
    }

    /// True when this is an index or manifest list.
    pub fn is_index(&self) -> bool {
        media_type::is_index(&self.media_type)
    }
}

/// Refuses a child manifest served with media type `served` whose kind (index or image) is
/// not the one its entry `entry` in the parent index declares: following an entry that says
/// "image" must not lead into another index, nor the other way round.
pub(crate) fn check_entry_kind(
    entry: &Descriptor,
    served: &str,
) -> std::result::Result<(), String> {
    let declared = entry.media_type.as_str();
    let kind = |t: &str| {
        if media_type::is_index(t) {
            Some("an index")
        } else if media_type::is_image_manifest(t) {
            Some("an image manifest")
        } else {
            None
        }
    };
    match (kind(declared), kind(served)) {
        (Some(want), Some(got)) if want != got => Err(format!(
            "ambiguous manifest: the index entry declares {declared} ({want}) but {served} \
             ({got}) was served"
        )),
        _ => Ok(()),
    }
}

/// Works out the media type of manifest bytes served with `Content-Type` `header`: the header
/// when it names a manifest type, else the document's own `mediaType`, else its shape; after
/// refusing an ambiguous document (see [`check_unambiguous`]: an error message then).
pub(crate) fn served_media_type(
    bytes: &[u8],
    header: Option<&str>,
) -> std::result::Result<Option<String>, String> {
    check_unambiguous(bytes, header)?;
    Ok(detect_media_type(bytes, header))
}

/// [`served_media_type`] without the checks (they are made by every caller).
pub(crate) fn detect_media_type(bytes: &[u8], header: Option<&str>) -> Option<String> {
    if let Some(h) = header {
        let e = media_type::essence(h);
        if media_type::is_index(e) || media_type::is_image_manifest(e) {
            return Some(e.to_string());
        }
    }
    let shape = Shape::of(bytes)?;
    if let Some(t) = shape.media_type {
        return Some(t);
    }
    if shape.schema_version == Some(1) {
        return None;
    }
    if shape.manifests {
        Some(media_type::OCI_INDEX.to_string())
    } else if shape.config {
        Some(media_type::OCI_MANIFEST.to_string())
    } else {
        None
    }
}

/// Parses manifest bytes of the given media type.
///
/// An ambiguous document is refused ([`Error::InvalidInput`]) whatever the media type: one with
/// `manifests` and `layers` or `config`, one whose media type (given, or its own `mediaType`)
/// names an index while it has `layers` or `config` (or an image manifest while it has
/// `manifests`), and one whose `mediaType` field disagrees with `media_type`. Every manifest the
/// client reads goes through here, so no path can take an index for an image or back.
pub(crate) fn parse_manifest(bytes: &[u8], media_type: &str) -> Result<Manifest> {
    check_unambiguous(bytes, Some(media_type)).map_err(Error::InvalidInput)?;
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

impl<'de> Deserialize<'de> for Manifest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let bytes = serde_json::to_vec(&value).map_err(serde::de::Error::custom)?;
        let kind = detect_media_type(&bytes, None).unwrap_or_default();
        parse_manifest(&bytes, &kind).map_err(serde::de::Error::custom)
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
    fn image_json(extra: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,{extra}"config":{{"mediaType":"{}","size":7,"digest":"{D}"}},"layers":[]}}"#,
            media_type::OCI_CONFIG
        )
    }

    fn index_json(extra: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,{extra}"manifests":[{{"mediaType":"{}","size":1,"digest":"{D}"}}]}}"#,
            media_type::OCI_MANIFEST
        )
    }

    /// The error message of parsing `json` as `media_type`, which must be a refusal.
    fn refused(json: &str, media_type: &str) -> String {
        match parse_manifest(json.as_bytes(), media_type) {
            Err(Error::InvalidInput(m)) => {
                assert!(m.contains("ambiguous manifest"), "{m}");
                m
            }
            other => panic!("{media_type} {json}: want a refusal, got {other:?}"),
        }
    }

    #[test]
    fn index_type_with_image_fields_is_refused() {
        // Declared by the caller (Content-Type) as an index, with layers and config.
        let m = refused(&image_json(""), media_type::OCI_INDEX);
        assert!(
            m.contains("an index") && m.contains("\"layers\" and \"config\""),
            "{m}"
        );
        refused(&image_json(""), media_type::DOCKER_MANIFEST_LIST);
        // Declared in the document itself, served as generic JSON.
        let own = image_json(&format!(r#""mediaType":"{}","#, media_type::OCI_INDEX));
        let m = refused(&own, "application/json");
        assert!(m.contains("its mediaType field"), "{m}");
        // Only `layers` is enough (the typed parse would ignore it in an index).
        let layers_only = index_json(r#""layers":[],"#).replace(r#""manifests""#, r#""x""#);
        refused(&layers_only, media_type::OCI_INDEX);
    }

    #[test]
    fn manifests_with_layers_or_config_is_refused_whatever_the_type() {
        let both = index_json(&format!(
            r#""config":{{"mediaType":"{}","size":7,"digest":"{D}"}},"#,
            media_type::OCI_CONFIG
        ));
        for t in [
            media_type::OCI_MANIFEST,
            media_type::OCI_INDEX,
            "application/json",
        ] {
            let m = refused(&both, t);
            assert!(m.contains("\"manifests\""), "{m}");
        }
        refused(&index_json(r#""layers":[],"#), "application/json");
        // An image manifest type with manifests.
        let m = refused(&index_json(""), media_type::OCI_MANIFEST);
        assert!(m.contains("an image manifest"), "{m}");
        // `null` is absent, as Go reads it.
        assert!(
            parse_manifest(
                index_json(r#""layers":null,"#).as_bytes(),
                media_type::OCI_INDEX
            )
            .is_ok()
        );
    }

    #[test]
    fn media_type_field_disagreeing_with_the_declared_type_is_refused() {
        let docker = image_json(&format!(
            r#""mediaType":"{}","#,
            media_type::DOCKER_MANIFEST
        ));
        let m = refused(&docker, media_type::OCI_MANIFEST);
        assert!(
            m.contains(media_type::OCI_MANIFEST) && m.contains(media_type::DOCKER_MANIFEST),
            "{m}"
        );
        let list = index_json(&format!(
            r#""mediaType":"{}","#,
            media_type::DOCKER_MANIFEST_LIST
        ));
        refused(&list, media_type::OCI_INDEX);
        // Agreeing types, parameters and letter case aside, are fine.
        assert!(parse_manifest(docker.as_bytes(), media_type::DOCKER_MANIFEST).is_ok());
        assert!(
            parse_manifest(
                docker.as_bytes(),
                "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8"
            )
            .is_ok()
        );
        // A non-manifest mediaType (an artifact's) is not compared.
        let artifact = image_json(r#""mediaType":"application/vnd.example+json","#);
        assert!(parse_manifest(artifact.as_bytes(), media_type::OCI_MANIFEST).is_ok());
    }

    #[test]
    fn keys_are_matched_as_go_matches_them() {
        // Go's encoding/json would read these keys as `layers`; serde would not.
        for key in ["Layers", "LAYERS", "layer\u{17f}"] {
            let json = index_json(&format!(r#""{key}":[],"#));
            refused(&json, media_type::OCI_INDEX);
        }
        let cased = image_json(&format!(r#""MediaType":"{}","#, media_type::OCI_INDEX));
        refused(&cased, media_type::OCI_MANIFEST);
        // The same field twice: parsers disagree on which value wins.
        let twice = image_json(&format!(
            r#""mediaType":"{}","mediaType":"{}","#,
            media_type::OCI_MANIFEST,
            media_type::OCI_INDEX
        ));
        let m = refused(&twice, media_type::OCI_MANIFEST);
        assert!(m.contains("more than once"), "{m}");
        let twice_cased = image_json(r#""Config":{},"#);
        refused(&twice_cased, media_type::OCI_MANIFEST);
    }

    #[test]
    fn served_media_type_checks_before_detecting() {
        let img = image_json("");
        assert_eq!(
            served_media_type(img.as_bytes(), Some("application/json"))
                .unwrap()
                .as_deref(),
            Some(media_type::OCI_MANIFEST)
        );
        assert!(served_media_type(img.as_bytes(), Some(media_type::OCI_INDEX)).is_err());
        // Not JSON: nothing to check, nothing detected; the parse refuses it later.
        assert_eq!(
            served_media_type(b"\xff\x00", Some("text/plain")).unwrap(),
            None
        );
        assert_eq!(
            served_media_type(b"[1,2]", Some(media_type::OCI_MANIFEST))
                .unwrap()
                .as_deref(),
            Some(media_type::OCI_MANIFEST)
        );
    }

    #[test]
    fn artifacts_are_told_from_images() {
        let Manifest::Image(img) =
            parse_manifest(image_json("").as_bytes(), media_type::OCI_MANIFEST).unwrap()
        else {
            panic!("not an image")
        };
        assert_eq!(img.artifact_type(), None);
        let helm = image_json("").replace(
            media_type::OCI_CONFIG,
            "application/vnd.cncf.helm.config.v1+json",
        );
        let Manifest::Image(helm) =
            parse_manifest(helm.as_bytes(), media_type::OCI_MANIFEST).unwrap()
        else {
            panic!("not an image")
        };
        assert_eq!(
            helm.artifact_type(),
            Some("application/vnd.cncf.helm.config.v1+json")
        );
        let typed = image_json(r#""artifactType":"application/vnd.example.sbom","#);
        let Manifest::Image(typed) =
            parse_manifest(typed.as_bytes(), media_type::OCI_MANIFEST).unwrap()
        else {
            panic!("not an image")
        };
        assert_eq!(typed.artifact_type(), Some("application/vnd.example.sbom"));
    }

    #[test]
    fn entry_kind_must_match_what_is_served() {
        let d: Digest = D.parse().unwrap();
        let image_entry = Descriptor::new(media_type::OCI_MANIFEST, d.clone(), 1);
        assert!(check_entry_kind(&image_entry, media_type::OCI_INDEX).is_err());
        assert!(check_entry_kind(&image_entry, media_type::DOCKER_MANIFEST).is_ok());
        let index_entry = Descriptor::new(media_type::DOCKER_MANIFEST_LIST, d.clone(), 1);
        assert!(check_entry_kind(&index_entry, media_type::OCI_MANIFEST).is_err());
        assert!(check_entry_kind(&index_entry, media_type::OCI_INDEX).is_ok());
        // An entry without a manifest media type tells nothing to check.
        let untyped = Descriptor::new("", d, 1);
        assert!(check_entry_kind(&untyped, media_type::OCI_INDEX).is_ok());
    }
}

//! The image config blob, image instances (one manifest with its tags, size and times), and
//! the reports of operations over every tag of a repository (what was done, what was skipped).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::error::Error;

/// The configuration blob of an image (Docker and OCI): the seed's `ImageConfig` plus the OCI
/// fields. Unknown fields are ignored; `null` lists and a malformed `created` read as empty.
/// Its JSON keys are the config document's (Docker's and OCI's).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageConfig {
    /// CPU architecture.
    #[serde(default, deserialize_with = "null_default")]
    pub architecture: String,
    /// Author of the image.
    #[serde(default, deserialize_with = "null_default")]
    pub author: String,
    /// Execution parameters.
    #[serde(default, deserialize_with = "null_default")]
    pub config: ContainerConfig,
    /// ID of the container the image was committed from (Docker).
    #[serde(default, deserialize_with = "null_default")]
    pub container: String,
    /// When the image was created.
    #[serde(
        default,
        deserialize_with = "lenient_time",
        serialize_with = "ser_time"
    )]
    pub created: Option<OffsetDateTime>,
    /// Docker version that built the image.
    #[serde(default, deserialize_with = "null_default")]
    pub docker_version: String,
    /// Build history, base first.
    #[serde(default, deserialize_with = "null_default")]
    pub history: Vec<History>,
    /// Operating system.
    #[serde(default, deserialize_with = "null_default")]
    pub os: String,
    /// Operating system version (Windows).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features.
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Layer content addresses.
    #[serde(default, deserialize_with = "null_default")]
    pub rootfs: RootFs,
}

/// Execution parameters of an image (`config` in the image config).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerConfig {
    /// Attach standard error (Docker).
    #[serde(rename = "AttachStderr", default, deserialize_with = "null_default")]
    pub attach_stderr: bool,
    /// Attach standard output (Docker).
    #[serde(rename = "AttachStdout", default, deserialize_with = "null_default")]
    pub attach_stdout: bool,
    /// Default arguments.
    #[serde(rename = "Cmd", default, deserialize_with = "null_default")]
    pub cmd: Vec<String>,
    /// Entrypoint.
    #[serde(rename = "Entrypoint", default, deserialize_with = "null_default")]
    pub entrypoint: Vec<String>,
    /// Environment, `NAME=value`.
    #[serde(rename = "Env", default, deserialize_with = "null_default")]
    pub env: Vec<String>,
    /// Host name (Docker).
    #[serde(rename = "Hostname", default, deserialize_with = "null_default")]
    pub hostname: String,
    /// Image the container was made from (Docker).
    #[serde(rename = "Image", default, deserialize_with = "null_default")]
    pub image: String,
    /// User to run as.
    #[serde(rename = "User", default, deserialize_with = "null_default")]
    pub user: String,
    /// Working directory.
    #[serde(rename = "WorkingDir", default, deserialize_with = "null_default")]
    pub working_dir: String,
    /// Ports to expose, keys like `80/tcp`.
    #[serde(
        rename = "ExposedPorts",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    /// Volumes, keys are paths.
    #[serde(
        rename = "Volumes",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub volumes: BTreeMap<String, serde_json::Value>,
    /// Labels.
    #[serde(
        rename = "Labels",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Signal that stops the container.
    #[serde(
        rename = "StopSignal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_signal: Option<String>,
    /// Whether the command is already escaped (Windows).
    #[serde(
        rename = "ArgsEscaped",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub args_escaped: bool,
}

/// One step of an image's build history.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct History {
    /// Author of the step.
    #[serde(default, deserialize_with = "null_default")]
    pub author: String,
    /// When the step ran.
    #[serde(
        default,
        deserialize_with = "lenient_time",
        serialize_with = "ser_time"
    )]
    pub created: Option<OffsetDateTime>,
    /// The command of the step.
    #[serde(default, deserialize_with = "null_default")]
    pub created_by: String,
    /// Comment.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub comment: String,
    /// True when the step made no layer.
    #[serde(default, deserialize_with = "null_default")]
    pub empty_layer: bool,
}

/// Layer content addresses of an image.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RootFs {
    /// Digests of the uncompressed layers.
    #[serde(default, deserialize_with = "null_default")]
    pub diff_ids: Vec<String>,
    /// Always `layers`.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub kind: String,
}

fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads an RFC 3339 time; anything else (missing, null, malformed) is `None`, because one odd
/// timestamp must not make a whole config unreadable.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(|v| v.as_str()).and_then(|s| {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    }))
}

fn ser_time<S: serde::Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => match t.format(&time::format_description::well_known::Rfc3339) {
            Ok(text) => s.serialize_str(&text),
            Err(_) => s.serialize_none(),
        },
        None => s.serialize_none(),
    }
}

/// One image in a repository: a manifest digest with its tags, size and times (the seed's
/// `ImageInstance`). Ordered by created, then uploaded, then size, then digest, as the seed's
/// `ImageInstanceSlice`; unknown times sort first.
///
/// # JSON
/// dockreg's own types use camelCase keys: `digest`, `imageSizeBytes` (GCR's name, kept by
/// the C API), `tags`, `created`, `uploaded`, times as RFC 3339 strings or `null` when unknown.
/// The seed wrote other keys (`tag`, `timeCreatedMs`, `timeUploadedMs`, times as Go's
/// `time.Time`, the zero time when unknown): [`ImageInstance::seed_json`] writes those, and
/// deserializing reads either form.
///
/// ```
/// use dockreg::{Digest, ImageInstance};
/// let mut i = ImageInstance::new(Digest::sha256_of(b"m"), 1234);
/// i.tags = vec!["1.0".into()];
/// let ours = serde_json::to_value(&i).unwrap();
/// assert_eq!(ours["imageSizeBytes"], 1234);
/// assert_eq!(ours["tags"][0], "1.0");
/// assert!(ours["created"].is_null());
/// let seed = serde_json::to_value(i.seed_json()).unwrap();
/// assert_eq!(seed["tag"][0], "1.0");
/// assert_eq!(seed["timeCreatedMs"], "0001-01-01T00:00:00Z");
/// // Both forms read back to the same instance.
/// assert_eq!(serde_json::from_value::<ImageInstance>(ours).unwrap(), i);
/// assert_eq!(serde_json::from_value::<ImageInstance>(seed).unwrap(), i);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ImageInstance {
    /// Manifest digest.
    pub digest: Digest,
    /// Size in bytes (config plus layers, or as the registry reports it).
    #[serde(rename = "imageSizeBytes")]
    pub size_bytes: u64,
    /// Tags pointing at this digest, sorted.
    #[serde(default, alias = "tag", deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// When the image was created, if known.
    #[serde(
        default,
        alias = "timeCreatedMs",
        serialize_with = "ser_time",
        deserialize_with = "instance_time"
    )]
    pub created: Option<OffsetDateTime>,
    /// When the image was uploaded, if the registry says.
    #[serde(
        default,
        alias = "timeUploadedMs",
        serialize_with = "ser_time",
        deserialize_with = "instance_time"
    )]
    pub uploaded: Option<OffsetDateTime>,
}

impl ImageInstance {
    /// An instance of manifest `digest` of `size_bytes` bytes, with no tags and unknown times
    /// (set the fields to fill them in).
    pub fn new(digest: Digest, size_bytes: u64) -> Self {
        Self {
            digest,
            size_bytes,
            tags: Vec::new(),
            created: None,
            uploaded: None,
        }
    }

    /// A view of this instance that serializes with the seed's JSON keys: `digest`,
    /// `imageSizeBytes`, `tag`, `timeCreatedMs`, `timeUploadedMs`, times written as Go writes a
    /// `time.Time` (RFC 3339; `0001-01-01T00:00:00Z` when unknown).
    pub fn seed_json(&self) -> SeedImageInstance<'_> {
        SeedImageInstance(self)
    }
}

/// An [`ImageInstance`] serialized with the seed's JSON keys ([`ImageInstance::seed_json`]).
#[derive(Debug, Clone, Copy)]
pub struct SeedImageInstance<'a>(&'a ImageInstance);

impl Serialize for SeedImageInstance<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            digest: &'a Digest,
            image_size_bytes: u64,
            tag: &'a [String],
            time_created_ms: String,
            time_uploaded_ms: String,
        }
        let go_time = |t: &Option<OffsetDateTime>| {
            t.and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| GO_ZERO_TIME.to_string())
        };
        Wire {
            digest: &self.0.digest,
            image_size_bytes: self.0.size_bytes,
            tag: &self.0.tags,
            time_created_ms: go_time(&self.0.created),
            time_uploaded_ms: go_time(&self.0.uploaded),
        }
        .serialize(s)
    }
}

/// Go's zero `time.Time` as JSON: the seed's "unknown".
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// An instance time: RFC 3339, or null; Go's zero time (the seed's "unknown") is `None`.
fn instance_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let v = Option::<String>::deserialize(d)?;
    match v.as_deref() {
        None | Some(GO_ZERO_TIME) => Ok(None),
        Some(s) => OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

impl Ord for ImageInstance {
    fn cmp(&self, other: &Self) -> Ordering {
        self.created
            .cmp(&other.created)
            .then(self.uploaded.cmp(&other.uploaded))
            .then(self.size_bytes.cmp(&other.size_bytes))
            .then_with(|| self.digest.cmp(&other.digest))
            .then_with(|| self.tags.cmp(&other.tags))
    }
}

impl PartialOrd for ImageInstance {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The images of a repository, and the tags passed over on the way
/// ([`Client::list_instances_report`](crate::Client::list_instances_report)).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct InstancesReport {
    /// Every image keyed by manifest digest, as [`Client::list_instances`] returns them
    /// (artifacts included, with what their manifest tells).
    ///
    /// [`Client::list_instances`]: crate::Client::list_instances
    pub instances: BTreeMap<Digest, ImageInstance>,
    /// Tags passed over, in the registry's tag order: wholly ([`SkipReason::InvalidTag`],
    /// [`SkipReason::Error`]: not in `instances`) or in part ([`SkipReason::Artifact`],
    /// [`SkipReason::BadConfig`]: in `instances` from their manifest alone, creation time
    /// unknown). [`SkipReason::is_listed`] tells which.
    pub skipped: Vec<Skipped>,
}

/// What [`Client::copy_all_tags`](crate::Client::copy_all_tags) did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct CopyReport {
    /// Each tag copied with the digest written, in the source's order.
    pub copied: Vec<(String, Digest)>,
    /// Tags not copied, with the reason, in the source's order.
    pub skipped: Vec<Skipped>,
}

/// A tag that an operation over a whole repository passed over, and why.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Skipped {
    /// The tag, exactly as the registry listed it (it may be empty or not a valid tag).
    pub tag: String,
    /// The manifest digest the tag pointed at, when that much was learnt.
    pub digest: Option<Digest>,
    /// Why it was passed over.
    pub reason: SkipReason,
}

/// Why a tag was passed over ([`Skipped`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SkipReason {
    /// The registry listed a name that is not a tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`,
    /// e.g. an empty string); nothing more was asked about it.
    InvalidTag,
    /// The manifest is an artifact (a Helm chart, an ORAS artifact, a signature), not an image:
    /// its config was not read as an image config. Listings still list the instance from its
    /// manifest alone (size; creation time unknown).
    Artifact {
        /// The manifest's `artifactType`, else its config's media type.
        artifact_type: String,
    },
    /// The manifest is an image's, but its config could not be read as an image config (it
    /// does not parse, is too large, is missing or does not match its digest; the error says
    /// which). Listings still list the instance from its manifest alone.
    BadConfig(Arc<Error>),
    /// What the registry answered for this tag could not be used: the tag is gone since the
    /// listing ([`Error::NotFound`]), the manifest is ambiguous, of an unsupported type, nested
    /// too deep ([`Error::InvalidResponse`]), too large ([`Error::TooLarge`]), does not match
    /// its digest ([`Error::DigestMismatch`]), or the destination of a copy refused it. Several
    /// tags of one manifest share the error.
    Error(Arc<Error>),
}

impl SkipReason {
    /// A short name of the reason: `invalid_tag`, `artifact`, `bad_config` or `error` (as in
    /// the C API's JSON).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidTag => "invalid_tag",
            Self::Artifact { .. } => "artifact",
            Self::BadConfig(_) => "bad_config",
            Self::Error(_) => "error",
        }
    }

    /// True when a listing still lists the tag's instance (from its manifest alone):
    /// [`SkipReason::Artifact`] and [`SkipReason::BadConfig`].
    pub fn is_listed(&self) -> bool {
        matches!(self, Self::Artifact { .. } | Self::BadConfig(_))
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidTag => f.write_str("not a valid tag"),
            Self::Artifact { artifact_type } => write!(
                f,
                "an artifact of type {artifact_type}, not an image: its config was not read"
            ),
            Self::BadConfig(e) => write!(f, "the image config could not be read: {e}"),
            Self::Error(e) => e.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_docker_config_with_nulls_and_unknown_fields() {
        let json = r#"{"architecture":"amd64","config":{"Cmd":null,"Env":["A=1"],"Entrypoint":null,
            "Labels":null,"Hostname":"","Unknown":3},"container":"abc","created":"2023-04-05T06:07:08.123456789Z",
            "docker_version":"20.10","history":[{"created":"not a time","created_by":"/bin/sh","empty_layer":true}],
            "os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"newfield":{"x":1}}"#;
        let c: ImageConfig = serde_json::from_str(json).unwrap();
        assert_eq!(c.architecture, "amd64");
        assert!(c.config.cmd.is_empty());
        assert_eq!(c.config.env, vec!["A=1"]);
        assert_eq!(c.created.unwrap().year(), 2023);
        assert_eq!(c.history[0].created, None);
        assert!(c.history[0].empty_layer);
        assert_eq!(c.rootfs.kind, "layers");
    }

    #[test]
    fn decodes_oci_config_fields() {
        let json = r#"{"architecture":"arm64","variant":"v8","os":"linux","os.version":"1","config":{
            "ExposedPorts":{"80/tcp":{}},"WorkingDir":"/app","Labels":{"a":"b"},"StopSignal":"SIGTERM"},
            "rootfs":{"type":"layers","diff_ids":[]}}"#;
        let c: ImageConfig = serde_json::from_str(json).unwrap();
        assert_eq!(c.variant.as_deref(), Some("v8"));
        assert_eq!(c.os_version.as_deref(), Some("1"));
        assert!(c.config.exposed_ports.contains_key("80/tcp"));
        assert_eq!(c.config.labels["a"], "b");
        assert_eq!(c.config.stop_signal.as_deref(), Some("SIGTERM"));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["config"]["WorkingDir"], "/app");
    }

    #[test]
    fn instances_order_like_the_seed() {
        let t = |s: i64| Some(OffsetDateTime::from_unix_timestamp(s).unwrap());
        let inst = |created, uploaded, size, hex: u8| ImageInstance {
            digest: Digest::sha256_of(&[hex]),
            size_bytes: size,
            tags: vec![],
            created,
            uploaded,
        };
        let a = inst(t(1), t(5), 10, 1);
        let b = inst(t(2), t(1), 1, 2);
        let c = inst(t(2), t(3), 1, 3);
        let d = inst(t(2), t(3), 2, 4);
        let unknown = inst(None, None, 99, 5);
        let mut v = vec![d.clone(), c.clone(), unknown.clone(), b.clone(), a.clone()];
        v.sort();
        assert_eq!(v, vec![unknown, a, b, c, d]);
        let e = inst(t(2), t(3), 2, 6);
        let f = inst(t(2), t(3), 2, 7);
        assert_eq!(e.cmp(&f), e.digest.cmp(&f.digest));
    }
}

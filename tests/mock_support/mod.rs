//! Helpers shared by the mockito test files (`mock_client.rs`, `mock_listing.rs`): clients that
//! read no credential files, references on a mock server, and image content whose digests and
//! sizes are known.

#![allow(dead_code)] // each test file uses a different subset

use dockreg::media_type;
use dockreg::{Client, ClientBuilder, Digest, DockerConfigSource, Error, Reference};
use mockito::{Matcher, ServerGuard};

/// A builder that reads no Docker or podman credential files, so the tests are hermetic.
pub fn builder() -> ClientBuilder {
    Client::builder().docker_config(DockerConfigSource::None)
}

/// A client with default options (and no credential files).
pub fn client() -> Client {
    builder().build().unwrap()
}

/// `<server host:port>/<rest>` parsed as a reference.
pub fn reference(server: &ServerGuard, rest: &str) -> Reference {
    format!("{}/{rest}", server.host_with_port())
        .parse()
        .unwrap()
}

/// sha256 of `bytes`.
pub fn sha(bytes: &[u8]) -> Digest {
    Digest::sha256_of(bytes)
}

/// `/v2/<repo>/manifests/<reference>`.
pub fn manifest_path(repo: &str, reference: &str) -> String {
    format!("/v2/{repo}/manifests/{reference}")
}

/// `/v2/<repo>/blobs/<digest>`.
pub fn blob_path(repo: &str, digest: &Digest) -> String {
    format!("/v2/{repo}/blobs/{digest}")
}

/// Escapes the regex metacharacters of a literal (media types have `.` and `+`).
pub fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Matches an `Accept` header naming each of the four manifest media types.
pub fn accepts_all_manifest_types() -> Matcher {
    Matcher::AllOf(
        [
            media_type::OCI_INDEX,
            media_type::OCI_MANIFEST,
            media_type::DOCKER_MANIFEST_LIST,
            media_type::DOCKER_MANIFEST,
        ]
        .iter()
        .map(|t| Matcher::Regex(format!("(^|[ ,]){}($|[ ,;])", regex_literal(t))))
        .collect(),
    )
}

/// The registry's error document with one entry.
pub fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({"errors": [{"code": code, "message": message, "detail": {"x": 1}}]})
        .to_string()
}

/// A single-platform image: config blob, layers (declared sizes only: layers are never fetched
/// by the operations under test) and manifest bytes with deliberate whitespace.
#[derive(Clone, Debug)]
pub struct TestImage {
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub layer_sizes: Vec<u64>,
    pub media_type: &'static str,
    pub manifest: Vec<u8>,
    pub digest: Digest,
}

impl TestImage {
    /// An OCI image for `arch` created at `created` (RFC 3339).
    pub fn oci(arch: &str, created: &str) -> Self {
        Self::build(media_type::OCI_MANIFEST, arch, created, &[1000, 2345])
    }

    /// A Docker v2 image.
    pub fn docker(arch: &str, created: &str) -> Self {
        Self::build(media_type::DOCKER_MANIFEST, arch, created, &[4096])
    }

    pub fn build(media_type: &'static str, arch: &str, created: &str, layers: &[u64]) -> Self {
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": arch,
            "os": "linux",
            "created": created,
            "config": {"Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": []},
        }))
        .unwrap();
        let config_digest = sha(&config);
        let (config_type, layer_type) = if media_type == media_type::OCI_MANIFEST {
            (media_type::OCI_CONFIG, media_type::OCI_LAYER_GZIP)
        } else {
            (media_type::DOCKER_CONFIG, media_type::DOCKER_LAYER_GZIP)
        };
        let layer_json: Vec<serde_json::Value> = layers
            .iter()
            .enumerate()
            .map(|(i, size)| {
                serde_json::json!({
                    "mediaType": layer_type,
                    "digest": sha(format!("{arch}-layer-{i}").as_bytes()),
                    "size": size,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
            "layers": layer_json,
        });
        // Pretty-printed with a trailing newline and tab: the bytes must be kept exactly.
        let mut manifest = serde_json::to_vec_pretty(&doc).unwrap();
        manifest.extend_from_slice(b"\n\t\n");
        let digest = sha(&manifest);
        Self {
            config,
            config_digest,
            layer_sizes: layers.to_vec(),
            media_type,
            manifest,
            digest,
        }
    }

    /// Config size plus declared layer sizes.
    pub fn total_size(&self) -> u64 {
        self.config.len() as u64 + self.layer_sizes.iter().sum::<u64>()
    }
}

/// An index (OCI index or Docker manifest list) of `entries` with their platform strings
/// (`os/arch[/variant]`).
pub fn index(media_type: &str, entries: &[(&TestImage, &str)]) -> Vec<u8> {
    let manifests: Vec<serde_json::Value> = entries
        .iter()
        .map(|(img, platform)| {
            let parts: Vec<&str> = platform.split('/').collect();
            let mut p = serde_json::json!({"os": parts[0], "architecture": parts[1]});
            if let Some(v) = parts.get(2) {
                p["variant"] = serde_json::json!(v);
            }
            serde_json::json!({
                "mediaType": img.media_type,
                "digest": img.digest,
                "size": img.manifest.len(),
                "platform": p,
            })
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": manifests,
    }))
    .unwrap();
    bytes.push(b'\n');
    bytes
}

/// Serves `img`'s manifest at `/manifests/<reference>` for GET, with its media type and digest.
pub fn serve_manifest(
    server: &mut ServerGuard,
    repo: &str,
    reference: &str,
    bytes: &[u8],
    content_type: &str,
) -> mockito::Mock {
    server
        .mock("GET", manifest_path(repo, reference).as_str())
        .match_header("accept", accepts_all_manifest_types())
        .with_status(200)
        .with_header("content-type", content_type)
        .with_header("docker-content-digest", sha(bytes).as_str())
        .with_body(bytes)
        .create()
}

/// Serves a blob at `/blobs/<digest>`.
pub fn serve_blob(server: &mut ServerGuard, repo: &str, bytes: &[u8]) -> mockito::Mock {
    server
        .mock("GET", blob_path(repo, &sha(bytes)).as_str())
        .with_status(200)
        .with_header("content-type", "application/octet-stream")
        .with_header("docker-content-digest", sha(bytes).as_str())
        .with_body(bytes)
        .create()
}

/// Panics unless neither the Display nor the Debug of `err` contains `secret`.
pub fn assert_no_secret(err: &Error, secret: &str) {
    let display = err.to_string();
    let debug = format!("{err:?}");
    assert!(!display.contains(secret), "secret in Display: {display}");
    assert!(!debug.contains(secret), "secret in Debug: {debug}");
}

//! Helpers shared by the `auth_*` tests: a tiny image, raw pushes with an Authorization
//! header, credential helper scripts, and the secret check on errors.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::common::layout::{gzip_stored, tar_one_file};
use crate::common::raw::{absolute_url, raw_request, sha256_digest};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A one-layer OCI image: (config, layer, manifest) bytes.
pub fn small_image(label: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let tar = tar_one_file("hello.txt", label.as_bytes());
    let layer = gzip_stored(&tar);
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": {"Labels": {"label": label}},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&tar)]},
    })
    .to_string()
    .into_bytes();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256_digest(&config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": sha256_digest(&layer),
            "size": layer.len(),
        }],
    })
    .to_string()
    .into_bytes();
    (config, layer, manifest)
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// POST then PUT `?digest=` with an Authorization header; panics unless 201.
pub fn push_blob(base: &str, repo: &str, bytes: &[u8], authorization: &str) -> String {
    let digest = sha256_digest(bytes);
    let r = raw_request(
        "POST",
        &format!("{base}/v2/{repo}/blobs/uploads/"),
        &[("Authorization", authorization)],
        Some(&[]),
    )
    .expect_status(202, "POST upload");
    let loc = absolute_url(base, r.header("location").expect("Location"));
    let sep = if loc.contains('?') { '&' } else { '?' };
    raw_request(
        "PUT",
        &format!("{loc}{sep}digest={digest}"),
        &[
            ("Content-Type", "application/octet-stream"),
            ("Authorization", authorization),
        ],
        Some(bytes),
    )
    .expect_status(201, "PUT upload");
    digest
}

/// Pushes the config and layer of an image (not the manifest) with raw HTTP.
pub fn push_image_blobs(base: &str, repo: &str, image: &(Vec<u8>, Vec<u8>, Vec<u8>), auth: &str) {
    push_blob(base, repo, &image.0, auth);
    push_blob(base, repo, &image.1, auth);
}

/// PUT a manifest with raw HTTP; panics unless 201.
pub fn put_manifest(base: &str, repo: &str, tag: &str, manifest: &[u8], auth: &str) {
    raw_request(
        "PUT",
        &format!("{base}/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", OCI_MANIFEST), ("Authorization", auth)],
        Some(manifest),
    )
    .expect_status(201, "PUT manifest");
}

/// Writes an executable `docker-credential-<name>` shell script into `dir`.
pub fn write_helper(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(format!("docker-credential-{name}"));
    // Write to a temporary name then rename: executing a file still open for writing by
    // another thread's fork fails with ETXTBSY.
    let tmp = dir.join(format!(".tmp-{name}"));
    std::fs::write(&tmp, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// A helper that answers `user`/`secret` and appends each server URL it was asked about
/// (one per line) to `log`.
pub fn answering_helper(dir: &Path, name: &str, user: &str, secret: &str, log: &Path) -> PathBuf {
    write_helper(
        dir,
        name,
        &format!(
            r#"[ "$1" = get ] || exit 3
url=$(cat)
printf '%s\n' "$url" >> '{log}'
printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{secret}"}}' "$url""#,
            log = log.display()
        ),
    )
}

/// Panics when the error's Display or Debug text holds any of the secrets.
pub fn assert_no_secret(e: &dockreg::Error, secrets: &[&str]) {
    let texts = [e.to_string(), format!("{e:?}")];
    for t in &texts {
        for s in secrets {
            assert!(!t.contains(s), "secret {s:?} appears in the error: {t}");
        }
        // Base64 of anything with a secret would be a leak too.
        assert!(
            !t.contains("Basic "),
            "a Basic header appears in the error: {t}"
        );
        assert!(
            !t.contains("Bearer ey"),
            "a bearer token appears in the error: {t}"
        );
    }
}

//! `demo-image IMAGE` (hidden, for scripts/demo.sh): builds a small image index for
//! linux/amd64 and linux/arm64 with the library, and pushes it under IMAGE's tag.

use dockreg::media_type::{OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR, OCI_MANIFEST};
use dockreg::{Digest, Platform, Reference};
use serde_json::json;

use super::Ctx;
use super::tar;
use crate::exit::Outcome;

const PLATFORMS: [&str; 2] = ["linux/amd64", "linux/arm64"];

pub fn demo_image(ctx: &mut Ctx, image: &Reference) -> Outcome {
    let mut entries = Vec::new();
    let mut children = serde_json::Map::new();
    for name in PLATFORMS {
        let platform: Platform = name.parse()?;
        let (digest, size) = push_platform_image(ctx, image, &platform)?;
        entries.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": digest,
            "size": size,
            "platform": {"os": platform.os, "architecture": platform.architecture},
        }));
        children.insert(name.to_string(), json!(digest));
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": entries,
    }))?;
    let digest = ctx.client.put_manifest(image, &index, OCI_INDEX)?;
    ctx.out.json(&json!({
        "image": image.to_string(),
        "digest": digest,
        "platforms": children,
    }))
}

/// One image: a layer with `/hello.txt` naming the platform, its config and manifest, pushed by
/// digest. Returns the manifest's digest and size.
fn push_platform_image(
    ctx: &Ctx,
    image: &Reference,
    platform: &Platform,
) -> Outcome<(Digest, usize)> {
    let mut layer = Vec::new();
    let greeting = format!("hello from {platform}, pushed by dockreg\n");
    tar::write_file(&mut layer, "hello.txt", greeting.as_bytes())?;
    tar::finish(&mut layer)?;
    let layer_digest = ctx.client.push_blob_bytes(image, &layer)?;
    let config = serde_json::to_vec(&json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "created": "2026-01-02T03:04:05Z",
        "config": {"Cmd": ["cat", "/hello.txt"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": "2026-01-02T03:04:05Z", "created_by": "dockreg demo-image"}],
    }))?;
    let config_digest = ctx.client.push_blob_bytes(image, &config)?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer_digest, "size": layer.len()}],
    }))?;
    let digest = Digest::sha256_of(&manifest);
    ctx.client
        .put_manifest(&image.with_digest(digest.clone()), &manifest, OCI_MANIFEST)?;
    Ok((digest, manifest.len()))
}

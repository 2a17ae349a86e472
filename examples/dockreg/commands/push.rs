//! `push DIR IMAGE`: an OCI image layout pushed as it is, or a plain directory packed as a
//! one-layer image for the platform (`--platform`, default linux/amd64).

use std::path::Path;

use dockreg::media_type::{OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
use dockreg::{Digest, Platform, Reference, UploadOptions};
use serde_json::{Value, json};

use super::Ctx;
use super::blob::short;
use super::layout::{self, MAX_DEPTH, References};
use super::tar;
use crate::exit::{Failure, Outcome};
use crate::progress;

pub fn push(ctx: &mut Ctx, dir: &Path, image: &Reference) -> Outcome {
    let digest = if layout::is_layout(dir) {
        push_layout(ctx, dir, image)?
    } else if dir.is_dir() {
        let platform = ctx.platform.clone().unwrap_or_else(Platform::linux_amd64);
        push_plain(ctx, dir, image, &platform)?
    } else {
        return Err(Failure::Usage(format!(
            "{} is not a directory",
            dir.display()
        )));
    };
    ctx.out
        .json(&json!({"image": image.to_string(), "digest": digest}))
}

/// The layout's image named like IMAGE's tag, or its only image.
fn push_layout(ctx: &Ctx, dir: &Path, image: &Reference) -> Outcome<Digest> {
    let entries = layout::read_index(dir)?;
    let named = image
        .tag()
        .and_then(|t| entries.iter().find(|e| layout::ref_name(e) == Some(t)));
    let entry: &Value = match (named, entries.as_slice()) {
        (Some(e), _) => e,
        (None, [only]) => only,
        (None, _) => {
            let names: Vec<&str> = entries.iter().filter_map(layout::ref_name).collect();
            return Err(Failure::Usage(format!(
                "{} holds {} images ({}): tag IMAGE with one of those names",
                dir.display(),
                entries.len(),
                names.join(", ")
            )));
        }
    };
    let digest: Digest = entry["digest"].as_str().unwrap_or_default().parse()?;
    let media_type = entry["mediaType"].as_str().unwrap_or(OCI_MANIFEST);
    push_manifest(ctx, dir, image, &digest, media_type, 0)
}

/// Pushes what a manifest of the layout references, then the manifest (under IMAGE's tag at
/// the top, else by digest).
fn push_manifest(
    ctx: &Ctx,
    dir: &Path,
    image: &Reference,
    digest: &Digest,
    media_type: &str,
    depth: usize,
) -> Outcome<Digest> {
    let path = layout::blob_path(dir, digest);
    let bytes =
        std::fs::read(&path).map_err(|e| Failure::message(format!("{}: {e}", path.display())))?;
    digest.verify(&bytes, &path.display().to_string())?;
    let refs = References::of(&bytes, &path.display().to_string())?;
    if refs.is_index() {
        if depth >= MAX_DEPTH {
            return Err(Failure::message(format!(
                "{}: indexes nested more than {MAX_DEPTH} levels deep",
                dir.display()
            )));
        }
        for child in &refs.manifests {
            push_manifest(ctx, dir, image, &child.digest, &child.media_type, depth + 1)?;
        }
    } else {
        for d in refs.blobs() {
            let bar = ctx.bars.bytes(&short(d.digest.as_str()), Some(d.size));
            let mut moved = progress::callback(&bar);
            ctx.client.push_blob_file(
                image,
                &layout::blob_path(dir, &d.digest),
                UploadOptions::new()
                    .digest(d.digest.clone())
                    .size(d.size)
                    .progress(&mut moved),
            )?;
            bar.finish_and_clear();
        }
    }
    let target = match image.tag() {
        Some(tag) if depth == 0 => image.with_tag(tag)?,
        _ => image.with_digest(digest.clone()),
    };
    Ok(ctx.client.put_manifest(&target, &bytes, media_type)?)
}

/// Packs `dir` into a temporary tar next to nothing else, pushes it (the library hashes it on
/// the way), then an OCI config and manifest for `platform`.
fn push_plain(ctx: &Ctx, dir: &Path, image: &Reference, platform: &Platform) -> Outcome<Digest> {
    let tmp = std::env::temp_dir().join(format!("dockreg-layer-{}.tar", std::process::id()));
    let result = (|| -> Outcome<Digest> {
        let file = std::fs::File::create(&tmp)
            .map_err(|e| Failure::message(format!("{}: {e}", tmp.display())))?;
        let mut w = std::io::BufWriter::new(file);
        tar::write_tar(&mut w, dir).map_err(Failure::Error)?;
        std::io::Write::flush(&mut w)?;
        drop(w);
        let size = std::fs::metadata(&tmp)?.len();
        let bar = ctx.bars.bytes("layer", Some(size));
        let mut moved = progress::callback(&bar);
        let layer =
            ctx.client
                .push_blob_file(image, &tmp, UploadOptions::new().progress(&mut moved))?;
        bar.finish_and_clear();
        let mut config = json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "created": "1970-01-01T00:00:00Z",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer]},
        });
        if let Some(v) = &platform.variant {
            config["variant"] = json!(v);
        }
        let config = serde_json::to_vec(&config)?;
        let config_digest = ctx.client.push_blob_bytes(image, &config)?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer, "size": size}],
        }))?;
        Ok(ctx.client.put_manifest(image, &manifest, OCI_MANIFEST)?)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

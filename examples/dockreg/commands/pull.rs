//! `pull IMAGE DIR`: an image (an index with every platform, or `--platform`'s image) written
//! into an OCI image layout that skopeo, crane, podman and containerd read.

use std::path::Path;

use dockreg::{Descriptor, Digest, DownloadOptions, Reference};
use serde_json::json;

use super::Ctx;
use super::blob::short;
use super::layout::{self, MAX_DEPTH, REF_NAME, References};
use crate::exit::{Failure, Outcome};
use crate::progress;

/// What a pull wrote.
#[derive(Default)]
struct Tally {
    blobs: u64,
    bytes: u64,
    present: u64,
}

pub fn pull(ctx: &mut Ctx, image: &Reference, dir: &Path, ref_name: Option<&str>) -> Outcome {
    layout::create(dir)?;
    let top = ctx.target(image)?;
    let mut tally = Tally::default();
    save_manifest(ctx, image, dir, &top.digest, &top.bytes, 0, &mut tally)?;

    // index.json: the new entry replaces one of the same name (or, unnamed, of the same digest).
    let name = ref_name.or(image.tag());
    let mut entry = json!({
        "mediaType": top.media_type,
        "digest": top.digest,
        "size": top.bytes.len(),
    });
    if let Some(n) = name {
        entry["annotations"] = json!({ REF_NAME: n });
    }
    let mut entries = layout::read_index(dir)?;
    entries.retain(|e| match name {
        Some(n) => layout::ref_name(e) != Some(n),
        None => layout::ref_name(e).is_some() || e["digest"] != json!(top.digest),
    });
    entries.push(entry);
    layout::write_index(dir, entries)?;

    ctx.out.json(&json!({
        "image": image.to_string(),
        "digest": top.digest,
        "path": dir.display().to_string(),
        "refName": name,
        "blobs": tally.blobs,
        "bytes": tally.bytes,
        "alreadyPresent": tally.present,
    }))
}

/// Writes a manifest's bytes (already checked against `digest` by the library) and, first,
/// everything it references, so the layout is complete whenever a manifest is in it.
fn save_manifest(
    ctx: &Ctx,
    image: &Reference,
    dir: &Path,
    digest: &Digest,
    bytes: &[u8],
    depth: usize,
    tally: &mut Tally,
) -> Outcome {
    let refs = References::of(bytes, &format!("{image}@{digest}"))?;
    if refs.is_index() {
        if depth >= MAX_DEPTH {
            return Err(Failure::message(format!(
                "{image}: indexes nested more than {MAX_DEPTH} levels deep"
            )));
        }
        for child in &refs.manifests {
            let raw = ctx
                .client
                .get_raw_manifest(&image.with_digest(child.digest.clone()))?;
            save_manifest(ctx, image, dir, &raw.digest, &raw.bytes, depth + 1, tally)?;
        }
    } else {
        for blob in refs.blobs() {
            save_blob(ctx, image, dir, blob, tally)?;
        }
    }
    write_blob_file(dir, digest, bytes)
}

/// Downloads one blob, verified, unless the layout has it (a file there was verified when it
/// was written, since files appear only once their digest matched).
fn save_blob(
    ctx: &Ctx,
    image: &Reference,
    dir: &Path,
    blob: &Descriptor,
    tally: &mut Tally,
) -> Outcome {
    let path = layout::blob_path(dir, &blob.digest);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == blob.size) {
        tally.present += 1;
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::message(format!("{}: {e}", parent.display())))?;
    }
    let bar = ctx
        .bars
        .bytes(&short(blob.digest.as_str()), Some(blob.size));
    let mut moved = progress::callback(&bar);
    let size = ctx.client.download_blob(
        image,
        &blob.digest,
        &path,
        DownloadOptions::new().size(blob.size).progress(&mut moved),
    )?;
    bar.finish_and_clear();
    tally.blobs += 1;
    tally.bytes += size;
    Ok(())
}

fn write_blob_file(dir: &Path, digest: &Digest, bytes: &[u8]) -> Outcome {
    let path = layout::blob_path(dir, digest);
    let io = |e: std::io::Error| Failure::message(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(&path, bytes).map_err(io)
}

//! `blob put|get|delete`: one blob, with a progress bar on a terminal.

use std::path::Path;

use dockreg::{DownloadOptions, Reference, UploadOptions};
use serde_json::json;

use super::Ctx;
use crate::exit::{Failure, Outcome};
use crate::progress;

pub fn put(ctx: &mut Ctx, repo: &Reference, file: &Path) -> Outcome {
    let size = std::fs::metadata(file)
        .map_err(|e| Failure::message(format!("{}: {e}", file.display())))?
        .len();
    let bar = ctx.bars.bytes(&file_label(file), Some(size));
    let mut moved = progress::callback(&bar);
    let digest =
        ctx.client
            .push_blob_file(repo, file, UploadOptions::new().progress(&mut moved))?;
    bar.finish_and_clear();
    ctx.out
        .json(&json!({"repository": repo.name(), "digest": digest, "size": size}))
}

/// `blob` is `REPO@DIGEST` (clap checked the digest is there).
pub fn get(ctx: &mut Ctx, blob: &Reference, file: &Path) -> Outcome {
    let Some(digest) = blob.digest().cloned() else {
        return Err(Failure::Usage(format!("{blob}: expected REPO@DIGEST")));
    };
    let bar = ctx.bars.bytes(&short(digest.as_str()), None);
    let mut moved = progress::callback(&bar);
    let size = ctx.client.download_blob(
        blob,
        &digest,
        file,
        DownloadOptions::new().progress(&mut moved),
    )?;
    bar.finish_and_clear();
    ctx.out.json(&json!({"digest": digest, "size": size,
                         "path": file.display().to_string()}))
}

pub fn delete(ctx: &mut Ctx, blob: &Reference) -> Outcome {
    let Some(digest) = blob.digest().cloned() else {
        return Err(Failure::Usage(format!("{blob}: expected REPO@DIGEST")));
    };
    ctx.client.delete_blob(blob, &digest)?;
    ctx.out.json(&json!({"deleted": digest}))
}

fn file_label(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

/// `sha256:0123456789ab` for bar labels.
pub fn short(digest: &str) -> String {
    digest.chars().take(19).collect()
}

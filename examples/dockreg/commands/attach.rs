//! `attach --artifact-type TYPE IMAGE FILE`: FILE as an OCI artifact whose subject is IMAGE's
//! manifest (a referrer), as `oras attach` makes them.

use std::path::Path;

use dockreg::media_type::{OCI_EMPTY, OCI_MANIFEST};
use dockreg::{Reference, UploadOptions};
use serde_json::json;

use super::{Ctx, repository_of};
use crate::exit::{Failure, Outcome};
use crate::progress;

pub fn attach(
    ctx: &mut Ctx,
    image: &Reference,
    artifact_type: &str,
    media_type: Option<&str>,
    file: &Path,
) -> Outcome {
    let subject = ctx.target(image)?;
    let size = std::fs::metadata(file)
        .map_err(|e| Failure::message(format!("{}: {e}", file.display())))?
        .len();
    let title = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bar = ctx.bars.bytes(&title, Some(size));
    let mut moved = progress::callback(&bar);
    let layer =
        ctx.client
            .push_blob_file(image, file, UploadOptions::new().progress(&mut moved))?;
    bar.finish_and_clear();
    // The empty descriptor the image spec asks artifacts without a config to use.
    let empty = ctx.client.push_blob_bytes(image, b"{}")?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": OCI_EMPTY, "digest": empty, "size": 2},
        "layers": [{
            "mediaType": media_type.unwrap_or(artifact_type),
            "digest": layer,
            "size": size,
            "annotations": {"org.opencontainers.image.title": title},
        }],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.bytes.len(),
        },
    }))?;
    let digest = ctx
        .client
        .push_referrer(&repository_of(image)?, &manifest, OCI_MANIFEST)?;
    ctx.out.json(&json!({
        "image": image.to_string(),
        "subject": subject.digest,
        "artifactType": artifact_type,
        "digest": digest,
    }))
}

//! Reading one image: digest, manifest, config, platforms, referrers.

use dockreg::Reference;
use serde_json::json;

use super::Ctx;
use crate::exit::{Failure, Outcome, library_code};

/// Largest config blob read (as the library's own config reads).
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// One document per image, in order: `{"image", "digest"}`. Several images are resolved at
/// once (`get_digests`, up to `--jobs` requests in flight per registry). An image that fails is
/// told on stderr (naming it) and the others still go; the exit status is then the first
/// failure's.
pub fn digest(ctx: &mut Ctx, images: &[Reference]) -> Outcome {
    let digests = match &ctx.platform {
        // The platform's image out of an index (what `get_manifest` returns): one GET each.
        Some(platform) => images
            .iter()
            .map(|image| ctx.client.get_platform_digest(image, platform))
            .collect(),
        // What the tag points at: an index's own digest, as docker and skopeo print it.
        None => ctx.client.get_digests(images),
    };
    let mut first_failure = None;
    for (image, digest) in images.iter().zip(digests) {
        match digest {
            Ok(d) => ctx
                .out
                .json(&json!({"image": image.to_string(), "digest": d}))?,
            Err(e) => {
                match images.len() {
                    1 => eprintln!("dockreg: {e}"),
                    _ => eprintln!("dockreg: {image}: {e}"),
                }
                first_failure.get_or_insert(library_code(&e));
            }
        }
    }
    match first_failure {
        Some(code) => Err(Failure::Reported(code)),
        None => Ok(()),
    }
}

pub fn manifest(ctx: &mut Ctx, image: &Reference, raw: bool) -> Outcome {
    let target = ctx.target(image)?;
    if raw {
        ctx.out.raw(&target.bytes)
    } else {
        ctx.out.json_text(&target.bytes)
    }
}

/// The config blob of the image for the client's platform (an index is resolved), as the
/// registry stores it: every key kept.
pub fn config(ctx: &mut Ctx, image: &Reference, raw: bool) -> Outcome {
    let m = ctx.client.get_manifest(image)?;
    let bytes = ctx
        .client
        .get_blob_bytes(image, &m.manifest.config.digest, MAX_CONFIG_BYTES)?;
    if raw {
        ctx.out.raw(&bytes)
    } else {
        ctx.out.json_text(&bytes)
    }
}

pub fn platforms(ctx: &mut Ctx, image: &Reference) -> Outcome {
    let platforms: Vec<String> = ctx
        .client
        .list_platforms(image)?
        .iter()
        .map(|p| p.to_string())
        .collect();
    ctx.out
        .json(&json!({"image": image.to_string(), "platforms": platforms}))
}

pub fn referrers(ctx: &mut Ctx, image: &Reference, artifact_type: Option<&str>) -> Outcome {
    let subject = match ctx.platform {
        Some(_) => image.with_digest(ctx.target(image)?.digest),
        None => image.clone(),
    };
    let referrers = ctx.client.list_referrers(&subject, artifact_type)?;
    ctx.out
        .json(&json!({"image": subject.to_string(), "referrers": referrers}))
}

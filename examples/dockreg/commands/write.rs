//! Changing what a repository's names point at: tag, delete.

use dockreg::Reference;
use serde_json::json;

use super::Ctx;
use crate::exit::{Failure, Outcome};

/// Points `new_tag` at the manifest `image` names (with `--platform`: at the platform's image
/// out of an index), with the same bytes and media type.
pub fn tag(ctx: &mut Ctx, image: &Reference, new_tag: &str) -> Outcome {
    let tagged = image.with_tag(new_tag)?;
    let digest = match ctx.platform {
        Some(_) => {
            let target = ctx.target(image)?;
            ctx.client
                .put_manifest(&tagged, &target.bytes, &target.media_type)?
        }
        None => ctx.client.set_tag(image, new_tag)?,
    };
    ctx.out
        .json(&json!({"image": tagged.to_string(), "digest": digest}))
}

/// `IMAGE@DIGEST` deletes the manifest (and every tag on it); `IMAGE:TAG` deletes that tag
/// only, or fails where the registry cannot (never by deleting the digest behind it).
pub fn delete(ctx: &mut Ctx, image: &Reference) -> Outcome {
    ctx.refuse_platform("delete removes exactly what IMAGE names: give the manifest's digest")?;
    if image.digest().is_some() {
        ctx.client.delete_manifest(image)?;
    } else if image.tag().is_some() {
        ctx.client.delete_tag(image)?;
    } else {
        return Err(Failure::Usage(
            "delete: IMAGE needs :TAG (that tag) or @DIGEST (the manifest)".into(),
        ));
    }
    ctx.out.json(&json!({"deleted": image.to_string()}))
}

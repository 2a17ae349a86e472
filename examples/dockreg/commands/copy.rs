//! `copy SRC DST` (`cp`): an image, one platform's image, or every tag of a repository.

use dockreg::{CopyOptions, Reference};
use serde_json::json;

use super::Ctx;
use super::list::skipped_json;
use crate::exit::Outcome;

/// The library copies blob by blob without a progress callback, so a terminal gets a spinner
/// with the time spent.
pub fn copy(ctx: &mut Ctx, src: &Reference, dst: &Reference, all_tags: bool) -> Outcome {
    if all_tags {
        ctx.refuse_platform("copy --all-tags copies whole indexes, every platform")?;
        let spinner = ctx
            .bars
            .spinner(&format!("copying every tag of {}", src.name()));
        let report = ctx.client.copy_all_tags(src, dst);
        spinner.finish_and_clear();
        let report = report?;
        let copied: Vec<_> = report
            .copied
            .iter()
            .map(|(tag, digest)| json!({"tag": tag, "digest": digest}))
            .collect();
        return ctx.out.json(&json!({"name": dst.name(), "copied": copied,
                                    "skipped": skipped_json(&report.skipped)}));
    }
    let mut options = CopyOptions::new();
    if let Some(p) = &ctx.platform {
        options = options.platform(p.clone());
    }
    let spinner = ctx.bars.spinner(&format!("copying {src}"));
    let digest = ctx.client.copy_image(src, dst, options);
    spinner.finish_and_clear();
    ctx.out
        .json(&json!({"image": dst.to_string(), "digest": digest?}))
}

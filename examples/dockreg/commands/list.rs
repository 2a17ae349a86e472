//! Listings of a repository or a registry: tags, catalog, instances.

use dockreg::Reference;
use serde_json::{Value, json};

use super::Ctx;
use crate::exit::Outcome;

pub fn tags(ctx: &mut Ctx, repo: &Reference) -> Outcome {
    let tags = ctx.client.list_tags(repo)?;
    ctx.out.json(&json!({"name": repo.name(), "tags": tags}))
}

pub fn catalog(ctx: &mut Ctx, registry: &str) -> Outcome {
    let repositories = ctx.client.list_repositories(registry)?;
    ctx.out.json(&json!({"repositories": repositories}))
}

pub fn instances(ctx: &mut Ctx, repo: &Reference) -> Outcome {
    let report = ctx.client.list_instances_report(repo)?;
    let mut instances: Vec<_> = report.instances.into_values().collect();
    instances.sort();
    ctx.out
        .json(&json!({"name": repo.name(), "instances": instances,
                         "skipped": skipped_json(&report.skipped)}))
}

/// Tags a whole-repository command passed over: tag, digest (or null), reason kind, message.
pub fn skipped_json(skipped: &[dockreg::Skipped]) -> Value {
    skipped
        .iter()
        .map(|s| {
            json!({"tag": s.tag, "digest": s.digest, "reason": s.reason.kind(),
                   "message": s.reason.to_string()})
        })
        .collect()
}

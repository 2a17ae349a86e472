//! Listings: tags and the catalog, following `Link: <...>; rel="next"` and GCR's JSON `next`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use crate::auth::Scope;
use crate::error::{Error, Result};
use crate::reference::{self, Reference};
use crate::transport::{Method, Request};
use crate::url;

use super::Client;

/// Pages followed before a listing is taken to be endless (10 million entries at the largest
/// page size; a registry inventing fresh cursors forever is stopped here).
const MAX_PAGES: usize = 10_000;

/// One page of `tags/list` or `_catalog`, with GCR's extensions.
#[derive(Deserialize, Default)]
pub(crate) struct Page {
    /// `tags/list` (`null` when every manifest was deleted).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// `_catalog`.
    #[serde(default)]
    pub repositories: Option<Vec<String>>,
    /// GCR: the next page, when there is one.
    #[serde(default)]
    pub next: Option<String>,
    /// GCR: details per manifest digest.
    #[serde(default)]
    pub manifest: Option<BTreeMap<String, GcrManifest>>,
}

/// GCR's per-manifest entry of `tags/list` (numbers are strings of digits).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GcrManifest {
    #[serde(default)]
    pub image_size_bytes: Option<serde_json::Value>,
    #[serde(default)]
    pub tag: Option<Vec<String>>,
    #[serde(default)]
    pub time_created_ms: Option<serde_json::Value>,
    #[serde(default)]
    pub time_uploaded_ms: Option<serde_json::Value>,
}

impl Client {
    /// Every tag of a repository (the tag or digest of `repository` is ignored), in the
    /// registry's order, all pages followed (the seed's `ListTags`).
    pub fn list_tags(&self, repository: &Reference) -> Result<Vec<String>> {
        let mut tags = Vec::new();
        for page in self.tag_pages(repository)? {
            tags.extend(page.tags.unwrap_or_default());
        }
        Ok(tags)
    }

    /// Every page of `tags/list`, for callers that want GCR's extra fields too.
    pub(crate) fn tag_pages(&self, repository: &Reference) -> Result<Vec<Page>> {
        let first = format!(
            "{}/tags/list?n={}",
            self.repo_base(repository),
            self.config().page_size
        );
        self.pages(
            first,
            repository.registry(),
            Scope::pull(repository.repository()),
        )
    }

    /// Every repository of a registry (`host:port`), all pages followed (the seed's
    /// `ListRepositories`). Needs `registry:catalog:*` where the registry uses tokens.
    pub fn list_repositories(&self, registry: &str) -> Result<Vec<String>> {
        let registry = reference::parse_registry(registry)?;
        let first = format!(
            "{}/_catalog?n={}",
            self.registry_base(&registry),
            self.config().page_size
        );
        let mut repos = Vec::new();
        for page in self.pages(first, &registry, Scope::catalog())? {
            repos.extend(page.repositories.unwrap_or_default());
        }
        Ok(repos)
    }

    /// Fetches `first` and every page after it; a page seen twice or a next page on another
    /// host is an error.
    fn pages(&self, first: String, registry: &str, scope: Scope) -> Result<Vec<Page>> {
        let home = url::origin(&first);
        let mut seen = HashSet::new();
        let mut pages = Vec::new();
        let mut next = Some(first);
        while let Some(target) = next.take() {
            if !seen.insert(target.clone()) {
                return Err(Error::invalid_response(
                    &target,
                    "pagination loops back to a page already read",
                ));
            }
            if pages.len() >= MAX_PAGES {
                return Err(Error::invalid_response(
                    &target,
                    format!("pagination goes on past {MAX_PAGES} pages"),
                ));
            }
            let req = Request::new(Method::Get, target, registry, scope.clone())
                .header("accept", "application/json");
            let resp = self.transport().send(req)?;
            let here = resp.url.clone();
            let link = next_link(&resp.headers_all("link"));
            let page: Page = resp.read_json(self.config().max_json_size)?;
            let following = link.or_else(|| page.next.clone().filter(|n| !n.is_empty()));
            if let Some(n) = following {
                let resolved = url::resolve(&here, &n)?;
                if url::origin(&resolved) != home {
                    return Err(Error::invalid_response(
                        &here,
                        format!("next page is on another host: {resolved}"),
                    ));
                }
                next = Some(resolved);
            }
            pages.push(page);
        }
        Ok(pages)
    }
}

/// The target of the `rel="next"` link among `Link` header values (RFC 8288).
pub(crate) fn next_link(values: &[&str]) -> Option<String> {
    for value in values {
        let mut rest = *value;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            // A malformed value ends this value, not the search: a later one may still be fine.
            let Some(end) = after.find('>') else { break };
            let target = &after[..end];
            let params_end = after[end..].find('<').map_or(after.len(), |i| end + i);
            let params = &after[end + 1..params_end];
            let is_next = params.split(';').any(|p| {
                let Some((k, v)) = p.split_once('=') else {
                    return false;
                };
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            });
            if is_next {
                return Some(target.to_string());
            }
            rest = &after[params_end..];
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_links() {
        assert_eq!(
            next_link(&[r#"</v2/_catalog?last=b&n=2>; rel="next""#]).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(&[r#"<https://x/a>; rel=prev, <https://x/b>; rel=next"#]).as_deref(),
            Some("https://x/b")
        );
        assert_eq!(
            next_link(&["<a>; rel=\"prev\"", "<b>; title=\"x\"; REL=\"last next\""]).as_deref(),
            Some("b")
        );
        assert_eq!(next_link(&["<a>; rel=\"prev\""]), None);
        assert_eq!(next_link(&["garbage", "<unterminated; rel=next"]), None);
        assert_eq!(next_link(&[]), None);
    }

    #[test]
    fn null_tags_read_as_empty() {
        let p: Page = serde_json::from_str(r#"{"name":"a","tags":null}"#).unwrap();
        assert!(p.tags.is_none());
    }
}

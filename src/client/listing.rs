//! Listings: tags and the catalog, following `Link: <...>; rel="next"` and GCR's JSON `next`.

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::auth::Scope;
use crate::error::{Error, Result};
use crate::reference::{self, Repository};
use crate::transport::{Method, Request};
use crate::url;

use super::Client;

/// Pages followed before a listing is taken to be endless (10 million entries at the largest
/// page size; a registry inventing fresh cursors forever is stopped here).
const MAX_PAGES: usize = 10_000;

/// One page of `tags/list` or `_catalog`, with GCR's extensions.
#[derive(Default)]
pub(crate) struct Page {
    /// `tags/list` (`null` when every manifest was deleted).
    pub tags: Option<Vec<String>>,
    /// `_catalog`.
    pub repositories: Option<Vec<String>>,
    /// GCR: the next page, when there is one.
    pub next: Option<String>,
    /// GCR: details per manifest digest.
    pub manifest: Option<BTreeMap<String, GcrManifest>>,
}

impl Page {
    /// Tags, repositories and GCR manifest entries of the page: what the entry limit counts.
    fn entries(&self) -> usize {
        let len = |v: &Option<Vec<String>>| v.as_ref().map_or(0, Vec::len);
        len(&self.tags)
            .saturating_add(len(&self.repositories))
            .saturating_add(self.manifest.as_ref().map_or(0, BTreeMap::len))
    }

    /// Parses a page, refusing it as soon as it holds more than `budget` entries (tags,
    /// repositories, GCR manifest entries), so that a page of a million empty strings costs
    /// no more memory than the budget allows. `Err(None)`: over the budget.
    fn parse(bytes: &[u8], budget: usize) -> std::result::Result<Page, Option<serde_json::Error>> {
        let left = Cell::new(budget);
        let over = Cell::new(false);
        let seed = PageSeed {
            left: &left,
            over: &over,
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let page = seed.deserialize(&mut de).and_then(|p| de.end().map(|()| p));
        page.map_err(|e| (!over.get()).then_some(e))
    }
}

/// Entries still allowed, and whether a list went past them.
#[derive(Clone, Copy)]
struct PageSeed<'a> {
    left: &'a Cell<usize>,
    over: &'a Cell<bool>,
}

impl PageSeed<'_> {
    /// Counts one entry; an error once the budget is spent.
    fn take<E: serde::de::Error>(self) -> std::result::Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(n) => {
                self.left.set(n);
                Ok(())
            }
            None => Err(self.over_budget()),
        }
    }

    /// The error that stops the parse when the budget is spent (told from bad JSON by `over`).
    fn over_budget<E: serde::de::Error>(self) -> E {
        self.over.set(true);
        E::custom("too many entries")
    }
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = Page;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Page, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = Page;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a listing page (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Page, A::Error> {
        let mut page = Page::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "tags" => page.tags = map.next_value_seed(Strings(self))?,
                "repositories" => page.repositories = map.next_value_seed(Strings(self))?,
                "next" => page.next = map.next_value()?,
                "manifest" => page.manifest = map.next_value_seed(GcrMap(self))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

/// A `null` or a list of strings, each counted.
struct Strings<'a>(PageSeed<'a>);

impl<'de> DeserializeSeed<'de> for Strings<'_> {
    type Value = Option<Vec<String>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Strings<'_> {
    type Value = Option<Vec<String>>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("null or a list of strings")
    }
    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            // Once the budget is spent, one more entry is skipped unread, then refused: it is
            // never allocated.
            if self.0.left.get() == 0 {
                return match seq.next_element::<IgnoredAny>()? {
                    None => Ok(Some(out)),
                    Some(_) => Err(self.0.over_budget()),
                };
            }
            let Some(s) = seq.next_element::<String>()? else {
                break;
            };
            self.0.take::<A::Error>()?;
            out.push(s);
        }
        Ok(Some(out))
    }
}

/// GCR's `manifest` map, each entry counted.
struct GcrMap<'a>(PageSeed<'a>);

impl<'de> DeserializeSeed<'de> for GcrMap<'_> {
    type Value = Option<BTreeMap<String, GcrManifest>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for GcrMap<'_> {
    type Value = Option<BTreeMap<String, GcrManifest>>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("null or a map of manifest entries")
    }
    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            self.0.take::<A::Error>()?;
            out.insert(key, map.next_value::<GcrManifest>()?);
        }
        Ok(Some(out))
    }
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
    /// Every tag of a repository, in the registry's order, all pages followed (the seed's
    /// `ListTags`). A [`Reference`](crate::Reference) may be given for the repository: its tag
    /// and digest are not used. Requests: one GET per page (`n=100` asked for by
    /// default, [`ClientBuilder::page_size`](crate::ClientBuilder::page_size); distribution
    /// sends every tag in one). `"tags": null` (a repository whose
    /// manifests were all deleted) gives an empty list.
    ///
    /// Tags are returned as the registry sent them, including any that are not valid tags (an
    /// empty string, say): [`Client::list_instances_report`] and [`Client::copy_all_tags`] skip
    /// and report those. More tags than the client's listing entry limit (1,000,000 by
    /// default) is [`Error::InvalidResponse`] naming the limit; a page larger than its page
    /// size limit (4 MiB by default) is [`Error::TooLarge`].
    ///
    /// # Errors
    /// Those above; [`Error::InvalidResponse`] for a page that is not JSON, a pagination loop
    /// or a next page on another host; [`Error::NotFound`] for an unknown repository;
    /// transport, authentication and registry errors.
    pub fn list_tags(&self, repository: &impl AsRef<Repository>) -> Result<Vec<String>> {
        let mut tags = Vec::new();
        for page in self.tag_pages(repository)? {
            tags.extend(page.tags.unwrap_or_default());
        }
        Ok(tags)
    }

    /// Every page of `tags/list`, for callers that want GCR's extra fields too.
    pub(crate) fn tag_pages(
        &self,
        repository: &(impl AsRef<Repository> + ?Sized),
    ) -> Result<Vec<Page>> {
        let repository = repository.as_ref();
        let first = format!(
            "{}/tags/list?n={}",
            self.repo_base(repository),
            self.config().page_size
        );
        self.pages(first, repository.registry(), Scope::pull(repository.path()))
    }

    /// Every repository of a registry (`host[:port]`, validated first; `index.docker.io` is
    /// read as `docker.io`), all pages followed (the seed's `ListRepositories`). Needs
    /// `registry:catalog:*` where the registry uses tokens (Docker Hub and most public
    /// registries refuse the catalog). Requests: one GET of `/v2/_catalog` per page.
    ///
    /// The names are returned as the registry sends them; parse one with
    /// `format!("{registry}/{name}").parse::<Repository>()` to use it.
    ///
    /// # Errors
    /// [`Error::InvalidReference`] for a registry that is not `host[:port]` (before any
    /// request); the listing limits and errors of [`Client::list_tags`].
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
    /// host is an error. Each page is read up to the client's page size limit (4 MiB by
    /// default; more is [`Error::TooLarge`]), and the entries of all pages together up to its
    /// entry limit (1,000,000 by default; more is [`Error::InvalidResponse`] naming the limit).
    fn pages(&self, first: String, registry: &str, scope: Scope) -> Result<Vec<Page>> {
        let home = url::origin(&first);
        let mut seen = HashSet::new();
        let mut pages = Vec::new();
        let max_entries = self.config().max_listing_entries;
        let mut entries = 0usize;
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
            let (resp, bytes) = self.transport().fetch(req, self.config().max_page_bytes)?;
            let here = resp.url.clone();
            let link = next_link(&resp.headers_all("link"));
            let page = match Page::parse(&bytes, max_entries.saturating_sub(entries)) {
                Ok(page) => page,
                Err(None) => return Err(too_many_entries(&here, max_entries)),
                Err(Some(e)) => {
                    return Err(Error::invalid_response(&here, format!("bad JSON: {e}")));
                }
            };
            entries = entries.saturating_add(page.entries());
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

/// The error for a listing with more than `limit` entries, found at `url`.
pub(crate) fn too_many_entries(url: &str, limit: usize) -> Error {
    Error::invalid_response(
        url,
        format!("the listing has more than {limit} entries (the listing entry limit)"),
    )
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
        let p = Page::parse(br#"{"name":"a","tags":null}"#, 10).unwrap();
        assert!(p.tags.is_none());
        let p = Page::parse(br#"{"name":"a"}"#, 10).unwrap();
        assert!(p.tags.is_none() && p.repositories.is_none() && p.manifest.is_none());
    }

    #[test]
    fn pages_are_parsed_within_the_entry_budget() {
        let p = Page::parse(br#"{"tags":["a","",""],"next":"x","other":[1,{}]}"#, 3).unwrap();
        assert_eq!(
            p.tags.as_deref(),
            Some(&["a".to_string(), String::new(), String::new()][..])
        );
        assert_eq!(p.next.as_deref(), Some("x"));
        assert_eq!(p.entries(), 3);
        // One more than the budget: refused as over the limit, not as bad JSON.
        assert!(matches!(
            Page::parse(br#"{"tags":["a","b","c","d"]}"#, 3),
            Err(None)
        ));
        assert!(matches!(
            Page::parse(br#"{"repositories":["a"]}"#, 0),
            Err(None)
        ));
        assert!(
            Page::parse(br#"{"tags":[]}"#, 0)
                .unwrap()
                .tags
                .unwrap()
                .is_empty()
        );
        // Tags and repositories share the budget; so do GCR manifest entries.
        assert!(matches!(
            Page::parse(br#"{"tags":["a"],"repositories":["b"]}"#, 1),
            Err(None)
        ));
        let gcr = br#"{"tags":["a"],"manifest":{"sha256:1":{"tag":["a"]},"sha256:2":{}}}"#;
        assert_eq!(Page::parse(gcr, 3).unwrap().entries(), 3);
        assert!(matches!(Page::parse(gcr, 2), Err(None)));
        // Malformed pages are bad JSON, never a panic.
        for bad in [
            &br#"{"tags":[1]}"#[..],
            br#"{"tags":"x"}"#,
            br#"[]"#,
            br#"{"tags":["a"]} trailing"#,
            br#"{"manifest":[]}"#,
            b"",
        ] {
            assert!(matches!(Page::parse(bad, 10), Err(Some(_))), "{bad:?}");
        }
    }
}

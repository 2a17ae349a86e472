//! Small URL helpers: origins, resolving `Location`/`Link` targets, query encoding.

use crate::error::{Error, Result};

/// `scheme://authority` of an absolute http(s) URL, lower-cased scheme and host.
pub(crate) fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    // `https://h:443` and `https://h` are one origin.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    // A port without a host (`https://:443`) names no origin (found by the `url` fuzz target).
    if authority.is_empty() || authority.starts_with(':') {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// Resolves `target` (absolute, scheme-relative, absolute-path or relative) against `base`.
pub(crate) fn resolve(base: &str, target: &str) -> Result<String> {
    let bad = || {
        Error::invalid_response(
            base,
            format!("cannot follow the link {:?}", crate::error::clip(target)),
        )
    };
    let target = target.trim();
    if target.is_empty() || target.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad());
    }
    // A scheme only counts before the first '/' or '?': `x?next=http://...` is relative.
    let head = target.split(['/', '?', '#']).next().unwrap_or("");
    if head.ends_with(':') && target[head.len()..].starts_with("//") {
        return origin(target).map(|_| target.to_string()).ok_or_else(bad);
    }
    let base_origin = origin(base).ok_or_else(bad)?;
    if let Some(rest) = target.strip_prefix("//") {
        let scheme = base_origin.split("://").next().unwrap_or("https");
        let abs = format!("{scheme}://{rest}");
        return origin(&abs).map(|_| abs.clone()).ok_or_else(bad);
    }
    if target.starts_with('/') {
        return Ok(format!("{base_origin}{target}"));
    }
    let path = path_of(base);
    if target.starts_with('?') {
        return Ok(format!("{base_origin}{path}{target}"));
    }
    // Relative to the directory of the base path.
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    Ok(format!("{base_origin}{dir}{target}"))
}

/// The path of an absolute URL, without query or fragment (`""` when it has none).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = match rest.find(['/', '?', '#']) {
        Some(i) => &rest[i..],
        None => "",
    };
    rest.split(['?', '#']).next().unwrap_or("")
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Appends `key=value` to a URL that may already have a query.
pub(crate) fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={}", encode(value))
}

/// The URL without its query, for error messages about upload URLs whose `_state` is long.
pub(crate) fn without_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin("http://127.0.0.1:5000/v2/").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            origin("HTTPS://Example.COM").as_deref(),
            Some("https://example.com")
        );
        assert_eq!(origin("https://h:443/v2/"), origin("https://h/v2/"));
        assert_eq!(origin("http://h:80/"), origin("http://h"));
        for hostless in [
            "https://:443",
            "http://:80/x",
            "https://:8443/token",
            "https://",
        ] {
            assert_eq!(origin(hostless), None, "{hostless}");
        }
        assert_ne!(origin("http://h:443/"), origin("http://h"));
        assert_eq!(origin("ftp://x/"), None);
        assert_eq!(origin("http://user:pw@x/"), None);
        assert_eq!(origin("/v2/"), None);
    }

    #[test]
    fn resolves_links() {
        let base = "http://h:1/v2/_catalog?n=2";
        assert_eq!(
            resolve(base, "/v2/_catalog?last=b&n=2").unwrap(),
            "http://h:1/v2/_catalog?last=b&n=2"
        );
        assert_eq!(resolve(base, "https://o/x").unwrap(), "https://o/x");
        assert_eq!(resolve(base, "//o:2/x").unwrap(), "http://o:2/x");
        assert_eq!(resolve(base, "tags?x=1").unwrap(), "http://h:1/v2/tags?x=1");
        assert_eq!(
            resolve(base, "?last=b").unwrap(),
            "http://h:1/v2/_catalog?last=b"
        );
        assert_eq!(
            resolve(base, "tags?next=http://x/y").unwrap(),
            "http://h:1/v2/tags?next=http://x/y"
        );
        assert_eq!(
            resolve("https://h:443/v2/a/tags/list", "list?n=1").unwrap(),
            "https://h/v2/a/tags/list?n=1"
        );
        assert_eq!(
            resolve("http://h\u{e9}:1/v2/x", "y").unwrap(),
            "http://h\u{e9}:1/v2/y"
        );
        assert!(resolve(base, "").is_err());
        assert!(resolve(base, "ftp://x/y").is_err());
        assert!(resolve(base, "/a b").is_err());
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(
            encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
        assert_eq!(
            with_query("http://h/p?x=1", "n", "10"),
            "http://h/p?x=1&n=10"
        );
        assert_eq!(
            with_query("http://h/p", "digest", "sha256:ab"),
            "http://h/p?digest=sha256%3Aab"
        );
    }
}

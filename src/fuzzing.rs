//! Entry points for the fuzz targets in `fuzz/`, compiled only with the `fuzzing` feature.
//!
//! The fuzz crate is a separate crate, so it can reach only public items. These are thin
//! wrappers over the crate-internal parsers that read what a registry sends, so that the targets
//! run exactly the code the client runs. Nothing here is part of the API.

use crate::error::{Error, ErrorEntry, RegistryError};

/// The digest of `parts` fed one after the other to an incremental hasher of `digest`'s
/// algorithm, as blob streams are hashed; `None` for an algorithm that cannot be computed.
pub fn hash_parts(digest: &crate::Digest, parts: &[&[u8]]) -> Option<crate::Digest> {
    let mut h = digest.hasher().ok()?;
    for p in parts {
        h.update(p);
    }
    Some(h.finish())
}

/// A manifest's bytes parsed for a media type, as every manifest the client reads is.
pub fn parse_manifest(bytes: &[u8], media_type: &str) -> crate::Result<crate::Manifest> {
    crate::manifest::parse_manifest(bytes, media_type)
}

/// The `rel="next"` target among `Link` header values, as paginated listings read it.
pub fn next_link(values: &[&str]) -> Option<String> {
    crate::client::listing::next_link(values)
}

/// The entries of a registry error body, or the start of any other body.
pub fn parse_error_body(body: &[u8]) -> (Vec<ErrorEntry>, Option<String>) {
    crate::error::parse_error_body(body)
}

/// The typed error the transport builds for a non-2xx answer.
pub fn error_from_status(e: RegistryError) -> Error {
    Error::from_status(e)
}

/// The media type of manifest bytes, from the `Content-Type` header or the document itself.
pub fn detect_media_type(bytes: &[u8], header: Option<&str>) -> Option<String> {
    crate::manifest::detect_media_type(bytes, header)
}

/// A `Location` or `Link` target resolved against the URL of the answer that sent it.
pub fn resolve_url(base: &str, target: &str) -> crate::Result<String> {
    crate::url::resolve(base, target)
}

/// `scheme://authority` of an absolute http(s) URL, as the same-host checks compare them.
pub fn url_origin(url: &str) -> Option<String> {
    crate::url::origin(url)
}

/// A `Retry-After` header value as a delay.
pub fn parse_retry_after(value: &str) -> Option<std::time::Duration> {
    crate::http::parse_retry_after(value)
}

/// Parses `header` as `WWW-Authenticate` and checks the parser's promises, panicking (for the
/// fuzzer to report) when one fails: schemes non-empty and lower case, parameter keys lower
/// case and found again case-insensitively. Returns how many challenges were found.
pub fn check_challenges(header: &str) -> usize {
    let challenges = crate::auth::challenge::parse(header);
    for c in &challenges {
        assert!(!c.scheme.is_empty(), "empty scheme from {header:?}");
        assert_eq!(c.scheme, c.scheme.to_ascii_lowercase());
        for (k, v) in &c.params {
            assert_eq!(
                *k,
                k.to_ascii_lowercase(),
                "key not lower-cased in {header:?}"
            );
            assert_eq!(c.param(&k.to_ascii_uppercase()), Some(v.as_str()));
        }
    }
    challenges.len()
}

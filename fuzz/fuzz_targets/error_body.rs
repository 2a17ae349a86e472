//! Registry error bodies (registry input: every non-2xx answer), and the errors built from them.
//!
//! The first two bytes are the HTTP status, the third picks a `Retry-After`; the rest is the
//! body. Properties: nothing panics, neither parsing nor formatting; a kept snippet is at most
//! 512 bytes of trimmed text; a body is kept only when it was not an error document.
#![no_main]

use std::time::Duration;

use dockreg::RegistryError;
use dockreg::fuzzing::{error_from_status, parse_error_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, body) = data.split_at(data.len().min(3));
    let status = match head {
        [a, b, _] => u16::from_be_bytes([*a, *b]),
        _ => 404,
    };
    let retry_after = match head {
        [_, _, r] if r % 2 == 1 => Some(Duration::from_secs(u64::from(*r) * 1000)),
        _ => None,
    };

    let (errors, snippet) = parse_error_body(body);
    if let Some(s) = &snippet {
        assert!(s.len() <= 512, "snippet of {} bytes", s.len());
        assert!(errors.is_empty(), "both entries and a snippet");
        // Trimmed, then cut to 512 bytes: only a cut snippet may end in white space.
        assert_eq!(s.trim_start(), s.as_str(), "snippet not trimmed");
        assert!(s.len() > 508 || s.trim_end() == s, "snippet not trimmed");
    }

    let mut e = RegistryError::new(
        "GET",
        "https://registry.example/v2/a/b/manifests/latest",
        status,
    );
    e.errors = errors;
    e.body = snippet;
    e.retry_after = retry_after;
    let _ = e.to_string();
    let _ = format!("{e:?}");
    let _ = e.has_code("MANIFEST_UNKNOWN");

    let err = error_from_status(e);
    let _ = err.to_string();
    assert_eq!(err.http_status(), Some(status));
    assert_eq!(err.is_not_found(), status == 404);
});

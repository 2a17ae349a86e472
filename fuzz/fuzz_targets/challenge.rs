//! `WWW-Authenticate` parsing (registry input: every 401 answer).
//!
//! Properties: nothing panics; schemes are non-empty and lower case; parameter keys are lower
//! case and found again case-insensitively.
#![no_main]

use dockreg::auth::challenge;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Header values reach the parser as text; bytes that are not UTF-8 are replaced, as a
    // lossy header read would.
    let header = String::from_utf8_lossy(data);
    let challenges = challenge::parse(&header);
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
        let _ = (
            c.param("realm"),
            c.param("service"),
            c.param("scope"),
            c.param("error"),
        );
    }
});

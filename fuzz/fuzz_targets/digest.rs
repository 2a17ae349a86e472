//! Digest parsing (registry input: headers, manifests; user input: references) and verification.
//!
//! The first line is the digest text, the rest the content. Properties: nothing panics; a parsed
//! digest keeps its text; verification succeeds exactly when the content hashes to it; the
//! digest computed from the content parses and verifies.
#![no_main]

use dockreg::Digest;
use libfuzzer_sys::fuzz_target;

const URL: &str = "https://registry.example/v2/a/blobs/x";

fuzz_target!(|data: &[u8]| {
    let line_end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (line, rest) = data.split_at(line_end);
    let content = rest.get(1..).unwrap_or_default();

    let own = Digest::sha256_of(content);
    let own_again: Digest = own.as_str().parse().expect("a computed digest parses");
    assert_eq!(own, own_again);
    own.verify(content, URL)
        .expect("content verifies against its own digest");

    let Ok(text) = std::str::from_utf8(line) else {
        return;
    };
    let d = match text.parse::<Digest>() {
        Ok(d) => d,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert_eq!(d.as_str(), text);
    assert_eq!(d.to_string(), text);
    assert_eq!(format!("{}:{}", d.algorithm(), d.hex()), text);
    let json = serde_json::to_string(&d).expect("a digest serialises");
    assert_eq!(
        serde_json::from_str::<Digest>(&json).ok().as_ref(),
        Some(&d)
    );

    match d.verify(content, URL) {
        Ok(()) => assert!(
            d.algorithm() != "sha256" || d == own,
            "{d} accepted other content"
        ),
        Err(e) => {
            assert!(d != own, "{d} refused its own content: {e}");
            let _ = e.to_string();
        }
    }
    let (a, b) = content.split_at(content.len() / 2);
    if let Some(h) = dockreg::fuzzing::hash_parts(&d, &[a, b]) {
        assert_eq!(h.algorithm(), d.algorithm());
    }
});

//! The `Link` header next-page parser (registry input: every page of a tag or catalog listing).
//!
//! The input is split at newlines into several header values, since a response may carry more
//! than one `Link` header. Properties: nothing panics; a found target is a slice of one of the
//! values that lies between `<` and `>`.
#![no_main]

use dockreg::fuzzing::next_link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let values: Vec<&str> = text.split('\n').collect();
    if let Some(target) = next_link(&values) {
        assert!(!target.contains('>'), "{target:?} holds '>' ({values:?})");
        let wrapped = format!("<{target}>");
        assert!(
            values.iter().any(|v| v.contains(&wrapped)),
            "{target:?} is not bracketed in any of {values:?}"
        );
    }
});

//! `Reference` parsing and `split_image` on arbitrary text (user input: CLI arguments, C ABI).
//!
//! Properties: nothing panics; a parsed reference prints text that parses back to the same
//! reference; `split_image` agrees with the parse; the parts rebuild the same reference.
#![no_main]

use dockreg::{Reference, split_image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let parsed = s.parse::<Reference>();
    let split = split_image(s);
    let r = match parsed {
        Ok(r) => r,
        Err(e) => {
            assert!(
                split.is_err(),
                "split_image accepted {s:?} that parse refused"
            );
            let _ = e.to_string();
            return;
        }
    };

    let text = r.to_string();
    let again: Reference = text
        .parse()
        .unwrap_or_else(|e| panic!("{s:?} parsed, but its text {text:?} does not: {e}"));
    assert_eq!(r, again, "{s:?} -> {text:?} parses to another reference");

    let (registry, repository, last) =
        split.unwrap_or_else(|e| panic!("parse accepted {s:?} but split_image refused: {e}"));
    assert_eq!(registry, r.registry());
    assert_eq!(repository, r.path());
    let want = match (r.digest(), r.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => String::new(),
    };
    assert_eq!(last, want);

    let rebuilt = Reference::new(r.registry(), r.path(), r.tag(), r.digest().cloned())
        .unwrap_or_else(|e| panic!("the parts of {s:?} do not rebuild it: {e}"));
    assert_eq!(r, rebuilt, "the parts of {s:?} rebuild another reference");

    let _ = (
        r.api_host(),
        r.manifest_reference(),
        r.name(),
        format!("{r:?}"),
    );
    if let Some(t) = r.tag() {
        assert_eq!(
            r.with_tag(t).ok().as_ref().map(Reference::tag),
            Some(Some(t))
        );
    }
});

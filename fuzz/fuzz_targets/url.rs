//! URLs a registry sends (`Location` of uploads and redirects, `Link` next pages) resolved
//! against the answer's URL, the origin checks made on them, and `Retry-After`.
//!
//! The input is `base\ntarget\nretry-after`. Properties: nothing panics; an absolute target is
//! kept as it is; any other target stays on the origin of the base.
#![no_main]

use dockreg::fuzzing::{parse_retry_after, resolve_url, url_origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let mut parts = s.splitn(3, '\n');
    let base = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let _ = parse_retry_after(parts.next().unwrap_or_default());
    let _ = url_origin(target);

    let Ok(resolved) = resolve_url(base, target) else {
        return;
    };
    assert!(
        url_origin(&resolved).is_some(),
        "{resolved:?} has no origin"
    );
    let trimmed = target.trim();
    let head = trimmed.split(['/', '?', '#']).next().unwrap_or_default();
    let absolute = head.ends_with(':') && trimmed[head.len()..].starts_with("//");
    if absolute {
        assert_eq!(resolved, trimmed);
    } else if !trimmed.starts_with("//") {
        let home =
            url_origin(base).expect("a relative target resolved against a base without an origin");
        let rest = resolved
            .strip_prefix(&home)
            .unwrap_or_else(|| panic!("{target:?} from {base:?} left {home}: {resolved:?}"));
        assert!(
            rest.starts_with(['/', '?']),
            "{target:?} from {base:?} changed the authority: {resolved:?}"
        );
    }
});

//! Platform parsing (user input: `os/arch[/variant]` options, the C ABI) and normalisation.
//!
//! Properties: nothing panics; a parsed platform prints text that parses back to it;
//! normalising twice changes nothing; a platform always selects itself from a list.
#![no_main]

use dockreg::Platform;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let p = match s.parse::<Platform>() {
        Ok(p) => p,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let text = p.to_string();
    assert_eq!(
        text.parse::<Platform>().ok().as_ref(),
        Some(&p),
        "{s:?} -> {text:?}"
    );

    let n = p.normalized();
    assert_eq!(n.normalized(), n, "normalising {p:?} twice changes it");

    let others = [
        Platform::linux_amd64(),
        Platform::new("linux", "arm64"),
        n.clone(),
    ];
    let found = p.select(others.iter().map(Some));
    assert!(found.is_some(), "{p:?} does not select itself");
    assert!(p.select([None, Some(&p)]) == Some(1));
});

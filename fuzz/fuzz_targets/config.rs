//! Image config blobs (registry input: `get_config`, image listings).
//!
//! Properties: nothing panics; a parsed config serialises to JSON that parses back to the same
//! config.
#![no_main]

use dockreg::ImageConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = serde_json::from_slice::<ImageConfig>(data) else {
        return;
    };
    let json = serde_json::to_vec(&config).expect("a config serialises");
    let back: ImageConfig = serde_json::from_slice(&json).unwrap_or_else(|e| {
        panic!(
            "re-serialised config does not parse: {e}: {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(back, config);
});

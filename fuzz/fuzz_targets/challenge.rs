//! `WWW-Authenticate` parsing (registry input: every 401 answer).
//!
//! Properties (checked in `dockreg::fuzzing::check_challenges`, as the parser is internal):
//! nothing panics; schemes are non-empty and lower case; parameter keys are lower case and
//! found again case-insensitively.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Header values reach the parser as text; bytes that are not UTF-8 are replaced, as a
    // lossy header read would.
    let header = String::from_utf8_lossy(data);
    dockreg::fuzzing::check_challenges(&header);
});

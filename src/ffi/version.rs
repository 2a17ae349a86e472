//! The version of the library, as header macros (for the compiler) and as calls (for the
//! library actually loaded at run time).
//!
//! The constants are written as literals so that cbindgen can put them in the header; the
//! assertions below stop the build when they differ from `Cargo.toml`. The header's
//! `DOCKREG_VERSION` string is built from them (cbindgen.toml).

/// The major version of the dockreg header. The shared library's SONAME is
/// `libdockreg.so.<MAJOR>` (`libdockreg.<MAJOR>.dylib` on macOS): within one major version the
/// C ABI only grows.
pub const DOCKREG_VERSION_MAJOR: u32 = 0;
/// The minor version of the dockreg header (new functions, new JSON fields).
pub const DOCKREG_VERSION_MINOR: u32 = 2;
/// The patch version of the dockreg header (fixes only).
pub const DOCKREG_VERSION_PATCH: u32 = 0;
/// The header's version as one number: `MAJOR * 10000 + MINOR * 100 + PATCH` (0.2.0 is 200,
/// 1.12.3 would be 11203), for `#if DOCKREG_VERSION_NUMBER >= ...` and for comparing with
/// `dockreg_version_number()` at run time. MINOR and PATCH stay below 100.
pub const DOCKREG_VERSION_NUMBER: u32 = 200;

const fn parse(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "a version part that is not a number");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = {
    assert!(
        DOCKREG_VERSION_MAJOR == parse(env!("CARGO_PKG_VERSION_MAJOR")),
        "DOCKREG_VERSION_MAJOR differs from Cargo.toml"
    );
    assert!(
        DOCKREG_VERSION_MINOR == parse(env!("CARGO_PKG_VERSION_MINOR")),
        "DOCKREG_VERSION_MINOR differs from Cargo.toml"
    );
    assert!(
        DOCKREG_VERSION_PATCH == parse(env!("CARGO_PKG_VERSION_PATCH")),
        "DOCKREG_VERSION_PATCH differs from Cargo.toml"
    );
    assert!(DOCKREG_VERSION_MINOR < 100 && DOCKREG_VERSION_PATCH < 100);
    assert!(
        DOCKREG_VERSION_NUMBER
            == DOCKREG_VERSION_MAJOR * 10000 + DOCKREG_VERSION_MINOR * 100 + DOCKREG_VERSION_PATCH
    );
    // The header's DOCKREG_VERSION string is made of the three numbers: no pre-release part.
    assert!(
        same(env!("CARGO_PKG_VERSION_PRE"), ""),
        "a pre-release version needs DOCKREG_VERSION written out in cbindgen.toml"
    );
};

/// The version of the library loaded at run time as one number, `MAJOR * 10000 + MINOR * 100 +
/// PATCH` (as `DOCKREG_VERSION_NUMBER`). A program built against header 0.2.0 runs with any
/// library whose number is at least 200 and below 10000 (the same major version).
///
/// Does not touch the last error. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn dockreg_version_number() -> u32 {
    DOCKREG_VERSION_NUMBER
}

//! Gives the shared library its ABI name, so that programs linked with `-ldockreg` record the
//! major version (`NEEDED libdockreg.so.0`) and keep loading the library of that major version
//! only: SONAME `libdockreg.so.<MAJOR>` on Linux and other ELF systems, install name
//! `@rpath/libdockreg.<MAJOR>.dylib` on macOS. `make install` lays out the matching file names
//! and links.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets the version");
    let patch = std::env::var("CARGO_PKG_VERSION_PATCH").expect("cargo sets the version");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    if os == "macos" || os == "ios" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libdockreg.{major}.dylib");
        // Mach-O versions: the library's own, and the oldest it stays compatible with.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-current_version,{major}.{minor}.{patch}");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-compatibility_version,{major}.0.0");
    } else if family == "unix" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdockreg.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

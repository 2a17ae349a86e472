//! The example CLI (`examples/dockreg/`), built once per test process.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Builds the example CLI once per test process and returns its path
/// (`target/<profile>/deps/<test>-HASH` -> `target/<profile>/examples/dockreg`).
pub fn example_cli() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", "dockreg"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --example dockreg failed");
        let exe = std::env::current_exe().expect("the test binary's path");
        let path = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("the test binary sits in target/<profile>/deps")
            .join("examples")
            .join("dockreg");
        assert!(path.exists(), "{} missing", path.display());
        path
    })
}

//! The C ABI from the tests' side: the library cargo built with this test (checked fresh and
//! copied where no other cargo run can rewrite it), C and C++ programs compiled against it,
//! and running them (under valgrind with the project's flags and suppressions).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use super::require_program;

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>/deps`, where this test runs: since the crate is also a cdylib, cargo puts
/// `libdockreg.{rlib,so,a}` there without a hash. `target/<profile>/libdockreg.so` is only
/// refreshed by `cargo build`, so it may be stale during `cargo test`.
pub fn cargo_lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().expect("target/<profile>/deps").to_path_buf()
}

/// Prefix of the per-process directories holding a copy of the library.
const COPY_PREFIX: &str = "dockreg-ffi-lib-";

/// The shared library, checked to come from the same build as this test, copied (with its
/// SONAME link) into a directory of this test process: another `cargo` run sharing `target/`
/// rewrites `deps/libdockreg.so` in place, which must not change the library under a running
/// program.
pub fn shared_lib() -> PathBuf {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| {
        let dir = cargo_lib_dir();
        let so = dir.join("libdockreg.so");
        let rlib = dir.join("libdockreg.rlib");
        let mtime = |p: &Path| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .unwrap_or_else(|e| panic!("{}: {e} (run through `cargo test`)", p.display()))
        };
        // rustc writes the rlib and the cdylib in one invocation: a .so older than the rlib
        // this test was linked against is a stale one from another build.
        let lag = mtime(&rlib).duration_since(mtime(&so)).unwrap_or_default();
        assert!(
            lag.as_secs() < 120,
            "{} is older than {} by {lag:?}: rebuild with `cargo test`",
            so.display(),
            rlib.display()
        );
        let base = std::env::temp_dir();
        remove_stale_copies(&base);
        let copy_dir = base.join(format!("{COPY_PREFIX}{}", std::process::id()));
        std::fs::create_dir_all(&copy_dir).expect("create the library copy dir");
        let copy = copy_dir.join("libdockreg.so");
        std::fs::copy(&so, &copy).expect("copy libdockreg.so");
        // Programs linked with -ldockreg record the SONAME and load it by that name.
        let soname = copy_dir.join(format!("libdockreg.so.{}", env!("CARGO_PKG_VERSION_MAJOR")));
        let _ = std::fs::remove_file(&soname);
        std::os::unix::fs::symlink("libdockreg.so", &soname).expect("link the SONAME");
        copy
    })
    .clone()
}

/// Removes library copies left by test processes that are gone.
fn remove_stale_copies(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix(COPY_PREFIX))
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The directory of the library copy the programs link and run with.
pub fn shared_lib_dir() -> PathBuf {
    shared_lib()
        .parent()
        .expect("the copy's directory")
        .to_path_buf()
}

/// Runs `cmd`; a failure to start or a non-zero exit panics with its stdout and stderr.
pub fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Compiles `sources` with `compiler` (`cc` or `c++`) as `-std=<std>`, warnings as errors,
/// plus `flags`, against `include/` and the library copy (found through an rpath).
pub fn compile(compiler: &str, std: &str, sources: &[PathBuf], out: &Path, flags: &[&str]) {
    require_program(compiler, if compiler == "cc" { "gcc" } else { "g++" });
    let dir = shared_lib_dir();
    let mut cmd = Command::new(compiler);
    cmd.arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-Werror", "-g"])
        .args(flags)
        .arg("-I")
        .arg(root().join("include"))
        .args(sources)
        .arg("-o")
        .arg(out)
        .arg(format!("-L{}", dir.display()))
        .arg("-ldockreg")
        .arg(format!("-Wl,-rpath,{}", dir.display()));
    run(&mut cmd, &format!("{compiler} -std={std} {sources:?}"));
}

/// A program built against the library copy: `cargo test` puts `target/<profile>` (where an
/// older `libdockreg.so` may lie) in `LD_LIBRARY_PATH`, which beats the rpath.
pub fn program(exe: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env("LD_LIBRARY_PATH", shared_lib_dir());
    cmd
}

/// Any memory error or leak (definite, indirect or possible) fails the run.
pub const VALGRIND: &[&str] = &[
    "--quiet",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect,possible",
    "--errors-for-leak-kinds=definite,indirect,possible",
    "--error-exitcode=1",
];

/// What valgrind is told to leave out (tests/c/valgrind.supp says why: one block of Rust's
/// standard library per foreign thread, nothing of dockreg's).
pub fn suppressions() -> String {
    format!(
        "--suppressions={}",
        root().join("tests/c/valgrind.supp").display()
    )
}

/// `exe` under valgrind with [`VALGRIND`] and [`suppressions`], against the library copy.
pub fn valgrind(exe: &Path) -> Command {
    require_program("valgrind", "valgrind");
    let mut cmd = program("valgrind");
    cmd.args(VALGRIND).arg(suppressions()).arg(exe);
    cmd
}

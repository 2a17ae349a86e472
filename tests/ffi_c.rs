//! The C ABI from C, C++ and Python against a real registry: the examples compiled with
//! `cc`/`c++` and run, the C ABI test under valgrind, 8 C threads sharing one client, the
//! Python ctypes example, `make install` with pkg-config, and the exported symbols.
//!
//! The shared library is the one `cargo test` builds with this test
//! (`target/<profile>/deps/libdockreg.so`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::cabi::{
    VALGRIND, cargo_lib_dir, compile, program, root, run, shared_lib, suppressions,
};
use common::raw::{raw_mount_blob, raw_put_manifest_ok};
use common::registry::free_port;
use common::{Fixture, TempDir, require_program, shared};

/// What the C programs read: the fixture images, and a repository of our own (a copy of
/// `fixtures/oci:v1`) that tests may tag and push into.
struct Setup {
    fixture: &'static Fixture,
    own: String,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let f = shared();
        let own_repo = "ffi/oci";
        let img = &f.oci_image;
        let mut digests = vec![img.config.digest.clone()];
        digests.extend(img.layers.iter().map(|l| l.digest.clone()));
        for d in &digests {
            raw_mount_blob(&f.url(), own_repo, d, &img.repo)
                .expect_status(201, &format!("mount {d} into {own_repo}"));
        }
        raw_put_manifest_ok(&f.url(), own_repo, "v1", &img.media_type, &img.manifest);
        Setup {
            fixture: f,
            own: format!("{}/{own_repo}", f.addr()),
        }
    })
}

/// The `DT_*` variables of the C tests.
fn env_for(cmd: &mut Command, tmp: &Path) {
    let s = setup();
    let f = s.fixture;
    let arm = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "arm64")
        .expect("an arm64 child");
    cmd.env("DT_REGISTRY", f.addr())
        .env("DT_DOWN", format!("127.0.0.1:{}", free_port()))
        .env("DT_TMP", tmp)
        .env(
            "DT_IMAGE",
            format!("{}/{}", f.addr(), f.oci_image.reference()),
        )
        .env("DT_DIGEST", &f.oci_image.digest)
        .env("DT_CONFIG", &f.oci_image.config.digest)
        .env("DT_LAYER", &f.oci_image.layers[0].digest)
        .env("DT_LAYER_SIZE", f.oci_image.layers[0].size.to_string())
        .env(
            "DT_INDEX",
            format!("{}/{}", f.addr(), f.oci_index.reference()),
        )
        .env("DT_INDEX_DIGEST", &f.oci_index.digest)
        .env("DT_ARM_DIGEST", &arm.digest)
        .env("DT_OWN", &s.own)
        .env("DT_VERSION", env!("CARGO_PKG_VERSION"));
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn c_abi_test_under_valgrind() {
    require_program("valgrind", "valgrind");
    let tmp = TempDir::new("ffi-abi");
    let exe = tmp.join("abi_test");
    compile(
        "cc",
        "c99",
        &[root().join("tests/c/abi_test.c")],
        &exe,
        &["-pthread"],
    );
    let mut cmd = program("valgrind");
    cmd.args(VALGRIND).arg(suppressions()).arg(&exe);
    env_for(&mut cmd, tmp.path());
    let out = run(&mut cmd, "abi_test under valgrind");
    let text = stdout(&out);
    assert!(text.contains(", 0 failures"), "{text}");
    eprintln!("{}", text.trim());
}

#[test]
fn c_threads_share_one_client() {
    let tmp = TempDir::new("ffi-threads");
    let exe = tmp.join("threads_test");
    compile(
        "cc",
        "c99",
        &[root().join("tests/c/threads_test.c")],
        &exe,
        &["-pthread"],
    );
    // Under valgrind too: memory errors and leaks (thread-local last errors included) with
    // 8 threads in the library at once.
    require_program("valgrind", "valgrind");
    let mut cmd = program("valgrind");
    cmd.args(VALGRIND).arg(suppressions()).arg(&exe);
    env_for(&mut cmd, tmp.path());
    let out = run(&mut cmd, "threads_test under valgrind");
    let text = stdout(&out);
    assert!(
        text.contains("8 threads") && text.contains(", 0 failures"),
        "{text}"
    );
    eprintln!("{}", text.trim());
}

/// What every inspect example prints about `fixtures/oci:v1`.
fn check_inspect_output(text: &str, f: &Fixture) {
    let img = &f.oci_image;
    assert!(
        text.contains(&format!("\"digest\":\"{}\"", img.digest)),
        "no digest:\n{text}"
    );
    assert!(
        text.contains(&img.config.digest),
        "no config digest:\n{text}"
    );
    assert!(text.contains(&img.layers[0].digest), "no layer:\n{text}");
    assert!(
        text.contains("\"architecture\":\"amd64\""),
        "no config:\n{text}"
    );
    assert!(text.contains("\"tags\":[\"v1\"]"), "no tags:\n{text}");
}

#[test]
fn c_example_inspects_an_image() {
    let f = shared();
    let tmp = TempDir::new("ffi-c-example");
    let exe = tmp.join("inspect");
    compile(
        "cc",
        "c99",
        &[root().join("examples/c/inspect.c")],
        &exe,
        &["-pthread"],
    );
    let image = format!("{}/{}", f.addr(), f.oci_image.reference());
    let text = stdout(&run(program(&exe).arg(&image), "examples/c/inspect"));
    check_inspect_output(&text, f);
    assert!(text.starts_with(&format!("dockreg {}\n", env!("CARGO_PKG_VERSION"))));

    // A failure: the status name and message on stderr, the status as exit code.
    let missing = format!("{}/fixtures/oci:nope", f.addr());
    let out = program(&exe).arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(40), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DOCKREG_ERR_NOT_FOUND") && err.contains("MANIFEST_UNKNOWN"),
        "{err}"
    );
    let out = program(&exe)
        .args([image.as_str(), "{\"bogus\": true}"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
}

#[test]
fn cpp_example_inspects_an_image() {
    let f = shared();
    let tmp = TempDir::new("ffi-cpp-example");
    let exe = tmp.join("inspect");
    compile(
        "c++",
        "c++17",
        &[root().join("examples/cpp/inspect.cpp")],
        &exe,
        &["-pthread"],
    );
    let image = format!("{}/{}", f.addr(), f.oci_image.reference());
    let text = stdout(&run(program(&exe).arg(&image), "examples/cpp/inspect"));
    check_inspect_output(&text, f);

    // A failing status becomes an exception carrying the last error.
    let out = program(&exe)
        .arg(format!("{}/fixtures/oci:nope", f.addr()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(40), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DOCKREG_ERR_NOT_FOUND"), "{err}");
    assert!(err.contains("\"http_status\":404"), "{err}");
    let out = program(&exe)
        .args([image.as_str(), "{\"platform\": 1}"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
}

#[test]
fn python_example_inspects_an_image() {
    require_program("python3", "python3");
    let f = shared();
    let image = format!("{}/{}", f.addr(), f.oci_image.reference());
    let out = run(
        Command::new("python3")
            .arg(root().join("examples/python/inspect.py"))
            .arg(&image)
            .env("DOCKREG_LIB", shared_lib()),
        "examples/python/inspect.py",
    );
    let text = stdout(&out);
    let img = &f.oci_image;
    assert!(text.contains(&format!("digest: {}", img.digest)), "{text}");
    assert!(
        text.contains(&format!("layers: {}", img.layers.len())),
        "{text}"
    );
    assert!(text.contains("config: linux/amd64"), "{text}");
    assert!(text.contains("tags: v1"), "{text}");
    assert!(text.contains("repository: fixtures/oci"), "{text}");

    let out = Command::new("python3")
        .arg(root().join("examples/python/inspect.py"))
        .arg(format!("{}/fixtures/oci:nope", f.addr()))
        .env("DOCKREG_LIB", shared_lib())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(40), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DOCKREG_ERR_NOT_FOUND"), "{err}");
}

/// `make install-files` (what `make install` does after building) into a prefix, then the
/// C example built with nothing but pkg-config and run.
#[test]
fn make_install_and_pkg_config() {
    require_program("make", "make");
    require_program("pkg-config", "pkg-config");
    let f = shared();
    let prefix = TempDir::new("ffi-prefix");
    let profile_dir = cargo_lib_dir();
    shared_lib();
    run(
        Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(root())
            .arg("install-files")
            .arg(format!("PREFIX={}", prefix.path().display()))
            .arg(format!("LIB_DIR={}", profile_dir.display())),
        "make install-files",
    );
    let version = env!("CARGO_PKG_VERSION");
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let real = format!("libdockreg.so.{version}");
    let soname = format!("libdockreg.so.{major}");
    for file in [
        "include/dockreg.h",
        &format!("lib/{real}"),
        "lib/libdockreg.a",
        "lib/pkgconfig/dockreg.pc",
    ] {
        assert!(prefix.join(file).is_file(), "{file} not installed");
    }
    // The usual chain of names: libdockreg.so -> libdockreg.so.MAJOR -> libdockreg.so.X.Y.Z.
    let link = |name: &str| {
        std::fs::read_link(prefix.join("lib").join(name))
            .unwrap_or_else(|e| panic!("lib/{name} is not a symlink: {e}"))
    };
    assert_eq!(link("libdockreg.so"), PathBuf::from(&soname));
    assert_eq!(link(&soname), PathBuf::from(&real));
    assert!(
        !prefix.join("lib").join(&real).is_symlink(),
        "{real} must be the file"
    );
    require_program("readelf", "binutils");
    let dynamic = stdout(&run(
        Command::new("readelf")
            .arg("-d")
            .arg(prefix.join("lib").join(&real)),
        "readelf -d the library",
    ));
    assert!(
        dynamic.contains(&format!("Library soname: [{soname}]")),
        "no SONAME {soname}:\n{dynamic}"
    );
    let pc_path = prefix.join("lib/pkgconfig");
    let flags = run(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "dockreg"])
            .env("PKG_CONFIG_PATH", &pc_path),
        "pkg-config",
    );
    let flags = stdout(&flags);
    let exe = prefix.join("inspect");
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg(root().join("examples/c/inspect.c"))
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
        .arg("-o")
        .arg(&exe);
    run(&mut cmd, "cc with pkg-config flags");
    let needed = stdout(&run(
        Command::new("readelf").arg("-d").arg(&exe),
        "readelf -d the program",
    ));
    assert!(
        needed.contains(&format!("Shared library: [{soname}]")),
        "the program does not record NEEDED {soname}:\n{needed}"
    );
    assert!(
        !needed.contains("Shared library: [libdockreg.so]"),
        "{needed}"
    );
    let image = format!("{}/{}", f.addr(), f.oci_image.reference());
    let text = stdout(&run(
        Command::new(&exe).arg(&image).env_remove("LD_LIBRARY_PATH"),
        "installed inspect",
    ));
    check_inspect_output(&text, f);

    // Python's ctypes.util.find_library finds the installed library through LD_LIBRARY_PATH
    // (it runs `ld -t` over those directories and reads the SONAME with objdump: without a
    // SONAME it finds nothing), and loads it by that name.
    require_program("python3", "python3");
    require_program("objdump", "binutils");
    let py = run(
        Command::new("python3")
            .arg("-c")
            .arg(
                "import ctypes, ctypes.util\n\
                 name = ctypes.util.find_library('dockreg')\n\
                 print('found', name)\n\
                 lib = ctypes.CDLL(name)\n\
                 lib.dockreg_version.restype = ctypes.c_char_p\n\
                 lib.dockreg_version_number.restype = ctypes.c_uint32\n\
                 print('version', lib.dockreg_version().decode(), lib.dockreg_version_number())\n",
            )
            .env("LD_LIBRARY_PATH", prefix.join("lib")),
        "python3 find_library",
    );
    let text = stdout(&py);
    let (maj, min, pat) = (
        major.parse::<u32>().unwrap(),
        env!("CARGO_PKG_VERSION_MINOR").parse::<u32>().unwrap(),
        env!("CARGO_PKG_VERSION_PATCH").parse::<u32>().unwrap(),
    );
    assert!(text.contains(&format!("found {soname}\n")), "{text}");
    assert!(
        text.contains(&format!(
            "version {version} {}",
            maj * 10000 + min * 100 + pat
        )),
        "{text}"
    );
    eprintln!("{}", text.trim());

    // Static linking with `pkg-config --static`.
    let static_flags = run(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "--static", "dockreg"])
            .env("PKG_CONFIG_PATH", &pc_path),
        "pkg-config --static",
    );
    let static_exe = prefix.join("inspect-static");
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg(root().join("examples/c/inspect.c"))
        .arg(format!("-I{}", prefix.join("include").display()))
        .arg(prefix.join("lib/libdockreg.a"))
        .args(
            stdout(&static_flags)
                .split_whitespace()
                .filter(|f| !f.starts_with("-ldockreg") && !f.starts_with("-L")),
        )
        .arg("-o")
        .arg(&static_exe);
    run(&mut cmd, "cc static");
    let text = stdout(&run(
        Command::new(&static_exe).arg(&image),
        "static inspect",
    ));
    check_inspect_output(&text, f);
}

/// The shared library exports the C ABI and nothing else.
#[test]
fn only_dockreg_symbols_are_exported() {
    require_program("nm", "binutils");
    let out = run(
        Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(shared_lib()),
        "nm -D",
    );
    let symbols: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    let foreign: Vec<&String> = symbols
        .iter()
        .filter(|s| !s.starts_with("dockreg_"))
        .collect();
    assert!(
        foreign.is_empty(),
        "symbols other than dockreg_*: {foreign:?}"
    );
    let header = std::fs::read_to_string(root().join("include/dockreg.h")).unwrap();
    for s in &symbols {
        assert!(
            header.contains(&format!(" {s}(")) || header.contains(&format!("*{s}(")),
            "{s} is exported but not declared"
        );
    }
    assert!(symbols.len() >= 20, "{symbols:?}");
}

/// A registry that is not running: nothing listens on a fresh free port.
#[test]
fn registry_down_is_a_connect_error_from_c_too() {
    // Covered in detail by abi_test.c; this checks the examples' exit status for it.
    let tmp = TempDir::new("ffi-down");
    let exe = tmp.join("inspect");
    compile(
        "cc",
        "c99",
        &[root().join("examples/c/inspect.c")],
        &exe,
        &["-pthread"],
    );
    let out = program(&exe)
        .arg(format!("127.0.0.1:{}/app:v1", free_port()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(20), "{out:?}");
}

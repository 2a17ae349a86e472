//! The C, C++ and Python examples built and run against real registries: `push.c` and
//! `copy.c` under valgrind and under ASan/UBSan (and `copy.c` cancelled by SIGINT while the
//! destination registry is frozen), the C++ wrapper `dockreg.hpp` through `push_copy.cpp` and `wrapper_check.cpp`
//! (every method, under valgrind), and the Python package `python/` installed with pip into a
//! temporary directory and tested operation by operation. Outputs are checked against what the
//! registry itself serves (raw HTTP, sha256 of the bytes).
//!
//! The shared library is the one `cargo test` builds with this test, copied to a directory of
//! this process (tests/common/cabi.rs).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::cabi::{cargo_lib_dir, compile, program, root, run, shared_lib, valgrind};
use common::raw::{raw_get_blob, raw_get_manifest, raw_head, sha256_digest};
use common::registry::find_program;
use common::{TempDir, TestRegistry, require_program};

/// Compiles an example (`-pedantic` too, and `extra`) against the library copy.
fn compile_example(compiler: &str, std: &str, source: &str, out: &Path, extra: &[&str]) {
    let mut flags = vec!["-pedantic"];
    flags.extend_from_slice(extra);
    compile(compiler, std, &[root().join(source)], out, &flags);
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Two registries for the examples to write to (nothing else writes there): images are
/// pushed into the first and copied within it and to the second.
struct Registries {
    main: TestRegistry,
    mirror: TestRegistry,
}

fn registries() -> &'static Registries {
    static R: OnceLock<Registries> = OnceLock::new();
    R.get_or_init(|| Registries {
        main: TestRegistry::start(),
        mirror: TestRegistry::start(),
    })
}

/// `len` bytes of a tar-like file (the registry does not look inside a layer).
fn layer_file(path: &Path, len: usize, seed: u8) -> Vec<u8> {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[i % 4] ^ seed)
        .collect();
    std::fs::write(path, &data).expect("write the layer file");
    data
}

/// The string value of `key` in a JSON line.
fn json_field(line: &str, key: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {line}"))
        .to_string()
}

/// The JSON after `label: ` on the output line that starts with it.
fn line_after<'a>(text: &'a str, label: &str) -> &'a str {
    let prefix = format!("{label}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{text}"))
}

/// The digest the registry reports for `repo:reference` (HEAD `Docker-Content-Digest`),
/// checked against the sha256 of the bytes it serves.
fn registry_digest(reg: &TestRegistry, repo: &str, reference: &str) -> String {
    let head = raw_head(&format!("{}/v2/{repo}/manifests/{reference}", reg.url()));
    assert_eq!(head.status, 200, "HEAD {repo}:{reference}");
    let digest = head
        .header("docker-content-digest")
        .expect("Docker-Content-Digest")
        .to_string();
    let body = raw_get_manifest(&reg.url(), repo, reference).body;
    assert_eq!(sha256_digest(&body), digest, "{repo}:{reference} bytes");
    digest
}

/// What an image pushed by push.c (or push_copy) must look like in the registry: the layer is
/// the file's bytes, the config names it, the manifest references both.
fn check_pushed_image(reg: &TestRegistry, repo: &str, tag: &str, file: &[u8], out: &str) {
    let layer = line_after(out, "layer");
    let config = line_after(out, "config");
    let manifest = line_after(out, "manifest");
    assert_eq!(json_field(layer, "digest"), sha256_digest(file), "{out}");
    let digest = registry_digest(reg, repo, tag);
    assert_eq!(json_field(manifest, "digest"), digest, "{out}");
    let body: serde_json::Value =
        serde_json::from_slice(&raw_get_manifest(&reg.url(), repo, tag).body).unwrap();
    assert_eq!(body["layers"][0]["digest"], sha256_digest(file));
    assert_eq!(body["layers"][0]["size"], file.len());
    assert_eq!(body["config"]["digest"], json_field(config, "digest"));
    let config_bytes = raw_get_blob(&reg.url(), repo, &json_field(config, "digest"));
    let config_json: serde_json::Value = serde_json::from_slice(&config_bytes).unwrap();
    assert_eq!(config_json["rootfs"]["diff_ids"][0], sha256_digest(file));
    assert_eq!(raw_get_blob(&reg.url(), repo, &sha256_digest(file)), file);
}

/// The progress lines (`<prefix> progress DONE/TOTAL bytes`) go from 0 to the file's size.
fn check_progress(err: &str, prefix: &str, size: usize) {
    let marks: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{prefix}: progress ")))
        .collect();
    assert!(marks.len() >= 2, "progress lines:\n{err}");
    assert_eq!(marks[0], format!("0/{size} bytes"), "{err}");
    assert_eq!(
        *marks.last().unwrap(),
        format!("{size}/{size} bytes"),
        "{err}"
    );
}

#[test]
fn c_push_example_under_valgrind() {
    let regs = registries();
    let tmp = TempDir::new("ex-c-push");
    let exe = tmp.join("push");
    compile_example("cc", "c99", "examples/c/push.c", &exe, &[]);
    let file = layer_file(&tmp.join("layer.tar"), 3 << 20, 1);
    let image = format!("{}/c/push:1.0", regs.main.addr());
    let out = run(
        valgrind(&exe).arg(&image).arg(tmp.join("layer.tar")),
        "push under valgrind",
    );
    let text = stdout(&out);
    check_pushed_image(&regs.main, "c/push", "1.0", &file, &text);
    check_progress(&stderr(&out), "push", file.len());

    // A failure: the status name on stderr and the status as exit code.
    let out = program(&exe)
        .args([&image, "/nonexistent/layer.tar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(60), "{out:?}");
    assert!(stderr(&out).contains("DOCKREG_ERR_FILE_IO"), "{out:?}");
}

#[test]
fn c_copy_example_under_valgrind() {
    let regs = registries();
    let tmp = TempDir::new("ex-c-copy");
    let push = tmp.join("push");
    let copy = tmp.join("copy");
    compile_example("cc", "c99", "examples/c/push.c", &push, &[]);
    compile_example("cc", "c99", "examples/c/copy.c", &copy, &[]);
    let file = layer_file(&tmp.join("layer.tar"), 500_000, 2);
    let src = format!("{}/c/src:1.0", regs.main.addr());
    run(program(&push).arg(&src).arg(tmp.join("layer.tar")), "push");
    let digest = registry_digest(&regs.main, "c/src", "1.0");

    // Within one registry (blobs mounted), then to another one (streamed), without a tag in
    // the destination (the source's is used).
    for (reg, dst, repo, tag) in [
        (
            &regs.main,
            format!("{}/c/copy:2.0", regs.main.addr()),
            "c/copy",
            "2.0",
        ),
        (
            &regs.mirror,
            format!("{}/c/mirror", regs.mirror.addr()),
            "c/mirror",
            "1.0",
        ),
    ] {
        let out = run(valgrind(&copy).args([&src, &dst]), "copy under valgrind");
        let text = stdout(&out);
        assert_eq!(json_field(line_after(&text, "copied"), "digest"), digest);
        assert_eq!(
            json_field(line_after(&text, "destination"), "digest"),
            digest
        );
        assert_eq!(registry_digest(reg, repo, tag), digest, "{text}");
        let layer = raw_get_blob(&reg.url(), repo, &sha256_digest(&file));
        assert_eq!(layer, file);
    }

    // Every tag of the repository.
    let out = run(
        program(&copy).args([
            format!("{}/c/src", regs.main.addr()),
            format!("{}/c/all", regs.mirror.addr()),
            r#"{"all_tags": true}"#.to_string(),
        ]),
        "copy all_tags",
    );
    let copied: serde_json::Value =
        serde_json::from_str(line_after(&stdout(&out), "copied")).unwrap();
    assert_eq!(
        copied["tags"],
        serde_json::json!([{"tag": "1.0", "digest": digest}])
    );
    assert_eq!(registry_digest(&regs.mirror, "c/all", "1.0"), digest);

    // A bad option: the status (4) as exit code.
    let out = program(&copy)
        .args([src.as_str(), "x/y:1", r#"{"bogus": 1}"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
}

/// Starts `copy` towards a frozen registry, sends SIGINT once it announced the copy (its
/// SIGINT handler is then installed) and a little later (it is then blocked on the registry),
/// and returns its exit status, its stderr, and the time from the signal to the exit.
fn copy_cancelled(mut cmd: Command) -> (std::process::ExitStatus, String, Duration) {
    use std::io::{BufRead, BufReader, Read};
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start copy");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut text = String::new();
    let started = Instant::now();
    while !text.contains("(Ctrl-C cancels)") {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap_or(0) == 0 || started.elapsed() > Duration::from_secs(60)
        {
            let _ = child.kill();
            panic!("copy did not start the copy:\n{text}");
        }
        text.push_str(&line);
    }
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    let ok = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -s INT {}", child.id());
    err.read_to_string(&mut text).expect("read stderr");
    let status = child.wait().expect("wait for copy");
    (status, text, sent.elapsed())
}

/// push.c and copy.c built with AddressSanitizer and UBSan (the C side is instrumented; the
/// library is not), any report failing the run.
#[test]
fn c_examples_under_asan_and_ubsan() {
    let regs = registries();
    let tmp = TempDir::new("ex-c-asan");
    let sanitize = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"];
    let push = tmp.join("push");
    let copy = tmp.join("copy");
    compile_example("cc", "c11", "examples/c/push.c", &push, &sanitize);
    compile_example("cc", "c11", "examples/c/copy.c", &copy, &sanitize);
    let file = layer_file(&tmp.join("layer.tar"), 200_000, 6);
    let sanitized = |exe: &Path| {
        let mut cmd = program(exe);
        cmd.env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:exitcode=98",
        )
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
        cmd
    };
    let out = run(
        sanitized(&push)
            .arg(format!("{}/c/asan:1.0", regs.main.addr()))
            .arg(tmp.join("layer.tar")),
        "push under ASan",
    );
    check_pushed_image(&regs.main, "c/asan", "1.0", &file, &stdout(&out));
    let digest = registry_digest(&regs.main, "c/asan", "1.0");
    let out = run(
        sanitized(&copy).args([
            format!("{}/c/asan:1.0", regs.main.addr()),
            format!("{}/c/asan:1.0", regs.mirror.addr()),
        ]),
        "copy under ASan",
    );
    assert_eq!(
        json_field(line_after(&stdout(&out), "copied"), "digest"),
        digest
    );
    assert_eq!(registry_digest(&regs.mirror, "c/asan", "1.0"), digest);
}

#[test]
fn c_copy_is_cancelled_by_ctrl_c() {
    let regs = registries();
    let tmp = TempDir::new("ex-c-cancel");
    let push = tmp.join("push");
    let copy = tmp.join("copy");
    compile_example("cc", "c99", "examples/c/push.c", &push, &[]);
    compile_example("cc", "c99", "examples/c/copy.c", &copy, &[]);
    layer_file(&tmp.join("layer.tar"), 100_000, 3);
    let src = format!("{}/c/cancel:1.0", regs.main.addr());
    run(program(&push).arg(&src).arg(tmp.join("layer.tar")), "push");

    let mut frozen = TestRegistry::start();
    frozen.freeze();
    let dst = format!("{}/c/cancel:1.0", frozen.addr());

    let mut plain = program(&copy);
    plain.args([&src, &dst]);
    let (status, err, took) = copy_cancelled(plain);
    assert_eq!(status.code(), Some(61), "{err}");
    assert!(
        err.contains("copy: cancelling") && err.contains("DOCKREG_ERR_CANCELLED"),
        "{err}"
    );
    assert!(took < Duration::from_secs(2), "exit {took:?} after SIGINT");
    eprintln!("copy.c: exit {took:?} after SIGINT");

    // The same under valgrind: the cancelled path frees everything too (valgrind would exit
    // with 1). Its leak scan at exit takes a second or two on a busy machine: the bound on
    // speed is the one above.
    let mut checked = valgrind(&copy);
    checked.args([&src, &dst]);
    let (status, err, took) = copy_cancelled(checked);
    assert_eq!(status.code(), Some(61), "{err}");
    assert!(took < Duration::from_secs(8), "exit {took:?} after SIGINT");
    eprintln!("copy.c under valgrind: exit {took:?} after SIGINT");
    frozen.thaw();
    assert!(
        raw_head(&format!("{}/v2/c/cancel/manifests/1.0", frozen.url())).status == 404,
        "a cancelled copy left the manifest"
    );
}

/// The functions the header declares: declaration lines (not comments) naming `dockreg_*(`.
fn header_exports() -> Vec<String> {
    let header = std::fs::read_to_string(root().join("include/dockreg.h")).unwrap();
    let mut names: Vec<String> = header
        .lines()
        .filter(|l| !l.starts_with([' ', '*', '/', '#']))
        .filter_map(|l| {
            // The identifier right before the first '('.
            let before = &l[..l.find('(')?];
            let name = before
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()?;
            name.starts_with("dockreg_").then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() >= 38, "{names:?}");
    names
}

/// `name` occurs in `text` as a whole identifier.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        !text[..at].ends_with(ident) && !text[at + name.len()..].starts_with(ident)
    })
}

#[test]
fn wrappers_and_guide_cover_every_export() {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let (hpp, py, guide) = (
        read("examples/cpp/dockreg.hpp"),
        read("python/dockreg.py"),
        read("docs/c-api.md"),
    );
    let exports = header_exports();
    let missing =
        |text: &str| -> Vec<&String> { exports.iter().filter(|e| !mentions(text, e)).collect() };
    assert_eq!(missing(&hpp), Vec::<&String>::new(), "not in dockreg.hpp");
    assert_eq!(missing(&py), Vec::<&String>::new(), "not in dockreg.py");
    assert_eq!(
        missing(&guide),
        Vec::<&String>::new(),
        "not in docs/c-api.md"
    );
    // The Python module declares a signature for each (so that ctypes checks arguments).
    let untyped: Vec<&String> = exports
        .iter()
        .filter(|e| !py.contains(&format!("\"{e}\"")))
        .collect();
    assert_eq!(
        untyped,
        Vec::<&String>::new(),
        "no ctypes signature in dockreg.py"
    );
}

#[test]
fn cpp_wrapper_compiles_as_cpp11_to_cpp20() {
    let tmp = TempDir::new("ex-cpp-std");
    for std in ["c++11", "c++14", "c++17", "c++20"] {
        compile_example(
            "c++",
            std,
            "examples/cpp/inspect.cpp",
            &tmp.join(format!("inspect-{std}")),
            &[],
        );
    }
}

#[test]
fn cpp_wrapper_check_under_valgrind() {
    let regs = registries();
    let tmp = TempDir::new("ex-cpp-check");
    let exe = tmp.join("wrapper_check");
    compile_example("c++", "c++11", "examples/cpp/wrapper_check.cpp", &exe, &[]);
    let out = run(
        valgrind(&exe).arg(regs.main.addr()).arg(tmp.path()),
        "wrapper_check under valgrind",
    );
    let text = stdout(&out);
    assert!(!text.contains("FAIL"), "{text}");
    let summary = text.lines().last().unwrap_or_default();
    let checks: usize = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        checks >= 40 && summary.ends_with(", 0 failures"),
        "{summary}"
    );
    eprintln!("wrapper_check: {summary}");
}

#[test]
fn cpp_push_copy_example() {
    let regs = registries();
    let tmp = TempDir::new("ex-cpp-push");
    let exe = tmp.join("push_copy");
    compile_example("c++", "c++11", "examples/cpp/push_copy.cpp", &exe, &[]);
    let file = layer_file(&tmp.join("layer.tar"), 1 << 20, 4);
    let out = run(
        program(&exe)
            .arg(format!("{}/cpp/app:1.0", regs.main.addr()))
            .arg(tmp.join("layer.tar"))
            .arg(format!("{}/cpp/app:1.0", regs.mirror.addr())),
        "push_copy",
    );
    let text = stdout(&out);
    check_pushed_image(&regs.main, "cpp/app", "1.0", &file, &text);
    check_progress(&stderr(&out), "push_copy", file.len());
    let digest = registry_digest(&regs.main, "cpp/app", "1.0");
    assert_eq!(registry_digest(&regs.mirror, "cpp/app", "1.0"), digest);
    assert_eq!(
        json_field(line_after(&text, "destination"), "digest"),
        digest
    );

    // A failure is an exception carrying the status and the last error's JSON.
    let out = program(&exe)
        .arg(format!("{}/cpp/app:1.0", regs.main.addr()))
        .arg(tmp.join("missing.tar"))
        .arg("x/y:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(60), "{out:?}");
    assert!(stderr(&out).contains("\"status\":60"), "{out:?}");
}

/// A Python that can build and install a pure-Python package offline: setuptools with
/// `bdist_wheel` (setuptools >= 70.1, or the `wheel` package). `$DOCKREG_TEST_PYTHON` first,
/// then `python3` on PATH, then Debian's `/usr/bin/python3`.
fn python_with_setuptools() -> String {
    let probe = "import setuptools, sys\n\
                 v = tuple(int(x) for x in setuptools.__version__.split('.')[:2])\n\
                 if v < (70, 1):\n    import wheel\n";
    let mut tried = Vec::new();
    let candidates = std::env::var("DOCKREG_TEST_PYTHON")
        .ok()
        .into_iter()
        .chain(["python3".to_string(), "/usr/bin/python3".to_string()]);
    for python in candidates {
        if find_program(&python).is_none() {
            continue;
        }
        let ok = Command::new(&python)
            .args(["-c", probe])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return python;
        }
        tried.push(python);
    }
    panic!(
        "no Python with setuptools and wheel to pip-install python/ offline (tried {tried:?}). \
         Install them: apt-get install -y python3-setuptools python3-wheel python3-pip \
         (or set DOCKREG_TEST_PYTHON to such an interpreter)"
    );
}

/// `pip install --no-build-isolation --no-index --target DIR` of a copy of `python/` (the
/// build writes next to the sources, which must not happen in the repository).
fn pip_install(python: &str, tmp: &TempDir) -> PathBuf {
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for file in ["pyproject.toml", "README.md", "dockreg.py"] {
        std::fs::copy(root().join("python").join(file), src.join(file))
            .unwrap_or_else(|e| panic!("copy python/{file}: {e}"));
    }
    let site = tmp.join("site");
    run(
        Command::new(python)
            .args(["-m", "pip", "install", "--quiet", "--no-build-isolation"])
            .args(["--no-index", "--disable-pip-version-check", "--target"])
            .arg(&site)
            .arg(&src)
            .env("PIP_ROOT_USER_ACTION", "ignore"),
        "pip install python/",
    );
    assert!(
        site.join("dockreg.py").is_file(),
        "dockreg.py not installed"
    );
    site
}

#[test]
fn python_package_installs_and_passes_its_tests() {
    let regs = registries();
    let python = python_with_setuptools();
    let tmp = TempDir::new("ex-python");
    let site = pip_install(&python, &tmp);
    let scratch = tmp.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    // Run from the temp dir: only the installed module can be imported.
    let out = run(
        Command::new(&python)
            .arg(root().join("python/tests/test_dockreg.py"))
            .current_dir(tmp.path())
            .env("PYTHONPATH", &site)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("DOCKREG_LIBRARY", shared_lib())
            .env("DT_REGISTRY", regs.main.addr())
            .env("DT_HEADER", root().join("include/dockreg.h"))
            .env("DT_TMP", &scratch)
            .env("DT_MODULE_DIR", &site),
        "python/tests/test_dockreg.py",
    );
    let err = stderr(&out);
    let ran = err
        .lines()
        .find_map(|l| l.strip_prefix("Ran "))
        .unwrap_or_default();
    assert!(err.trim_end().ends_with("OK"), "{err}");
    assert!(!err.contains("skipped"), "{err}");
    eprintln!("python: Ran {ran}");
    let tests: usize = ran
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(tests >= 15, "{err}");
}

#[test]
fn python_examples_use_the_installed_module() {
    let regs = registries();
    let python = python_with_setuptools();
    let tmp = TempDir::new("ex-python-examples");
    let site = pip_install(&python, &tmp);
    // Copies of the scripts outside the checkout: they import the installed module.
    for script in ["inspect.py", "push_copy.py"] {
        std::fs::copy(
            root().join("examples/python").join(script),
            tmp.join(script),
        )
        .unwrap();
    }
    let file = layer_file(&tmp.join("layer.tar"), 700_000, 5);
    let py = |script: &str| {
        let mut cmd = Command::new(&python);
        cmd.arg(tmp.join(script))
            .env("PYTHONPATH", &site)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("DOCKREG_LIBRARY", shared_lib());
        cmd
    };
    let out = run(
        py("push_copy.py")
            .arg(format!("{}/py-ex/app:1.0", regs.main.addr()))
            .arg(tmp.join("layer.tar"))
            .arg(format!("{}/py-ex/app:1.0", regs.mirror.addr())),
        "push_copy.py",
    );
    let text = stdout(&out);
    check_pushed_image(&regs.main, "py-ex/app", "1.0", &file, &text);
    check_progress(&stderr(&out), "push_copy", file.len());
    let digest = registry_digest(&regs.main, "py-ex/app", "1.0");
    assert_eq!(registry_digest(&regs.mirror, "py-ex/app", "1.0"), digest);

    let out = run(
        py("inspect.py").arg(format!("{}/py-ex/app:1.0", regs.main.addr())),
        "inspect.py",
    );
    let text = stdout(&out);
    assert!(text.contains(&format!("digest: {digest}")), "{text}");
    assert!(text.contains("layers: 1"), "{text}");
    assert!(text.contains("tags: 1.0"), "{text}");

    let out = py("inspect.py")
        .arg(format!("{}/py-ex/app:nope", regs.main.addr()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(40), "{out:?}");
    assert!(stderr(&out).contains("\"http_status\": 404"), "{out:?}");
}

/// After `make install`, the installed Python module finds the installed library by itself
/// (`ctypes.util.find_library`, through the SONAME), with no `DOCKREG_LIBRARY`.
#[test]
fn python_module_finds_the_installed_library() {
    require_program("make", "make");
    require_program("objdump", "binutils");
    let regs = registries();
    let python = python_with_setuptools();
    let tmp = TempDir::new("ex-python-installed");
    shared_lib();
    let prefix = tmp.join("prefix");
    run(
        Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(root())
            .arg("install-files")
            .arg(format!("PREFIX={}", prefix.display()))
            .arg(format!("LIB_DIR={}", cargo_lib_dir().display())),
        "make install-files",
    );
    let site = pip_install(&python, &tmp);
    let script = "import dockreg, sys\n\
                  print('loaded', dockreg.load()._name)\n\
                  print('version', dockreg.version_number())\n\
                  with dockreg.Client() as c:\n    \
                  print('repositories', len(c.list_repositories(sys.argv[1])['repositories']))\n";
    let out = run(
        Command::new(&python)
            .args(["-c", script, &regs.main.addr()])
            .current_dir(tmp.path())
            .env("PYTHONPATH", &site)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("LD_LIBRARY_PATH", prefix.join("lib"))
            .env_remove("DOCKREG_LIBRARY")
            .env_remove("DOCKREG_LIB")
            .env_remove("CARGO_TARGET_DIR"),
        "the installed module with the installed library",
    );
    let text = stdout(&out);
    let soname = format!("libdockreg.so.{}", env!("CARGO_PKG_VERSION_MAJOR"));
    assert!(text.contains(&format!("loaded {soname}\n")), "{text}");
    let (major, minor, patch): (u32, u32, u32) = (
        env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap(),
        env!("CARGO_PKG_VERSION_MINOR").parse().unwrap(),
        env!("CARGO_PKG_VERSION_PATCH").parse().unwrap(),
    );
    assert!(
        text.contains(&format!(
            "version {}\n",
            major * 10000 + minor * 100 + patch
        )),
        "{text}"
    );
    assert!(text.contains("repositories "), "{text}");
}

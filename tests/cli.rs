//! The example CLI answers each subcommand against a real registry, JSON on stdout, errors on
//! stderr with a non-zero exit.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::{TestRegistry, shared, skopeo_copy, skopeo_inspect_digest};
use serde_json::Value;

/// Builds the example once per test process and returns its path.
fn cli() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", "dockreg"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --example dockreg failed");
        // target/debug/deps/cli-HASH -> target/debug/examples/dockreg
        let exe = std::env::current_exe().unwrap();
        let path = exe
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("examples")
            .join("dockreg");
        assert!(path.exists(), "{} missing", path.display());
        path
    })
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(cli())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cli");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn json_ok(args: &[&str]) -> Value {
    let out = run(args, None);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e})"))
}

#[test]
fn parse_one_and_many() {
    let v = json_ok(&["parse", "ubuntu:22.04"]);
    assert_eq!(v["registry"], "docker.io");
    assert_eq!(v["repository"], "library/ubuntu");
    assert_eq!(v["tag"], "22.04");
    assert_eq!(v["digest"], Value::Null);

    let out = run(
        &["parse", "-"],
        Some(
            "localhost:5000/a/b:c\nBAD//x\n[::1]:5000/r@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
        ),
    );
    assert!(
        !out.status.success(),
        "a bad line must make the exit status non-zero"
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["registry"], "localhost:5000");
    assert_eq!(lines[0]["input"], "localhost:5000/a/b:c");
    assert_eq!(lines[1]["input"], "BAD//x");
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("invalid image reference")
    );
    assert_eq!(lines[2]["registry"], "[::1]:5000");
    assert!(lines[2]["digest"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn read_commands_against_the_registry() {
    let f = shared();
    let addr = f.addr();
    let oci = format!("{addr}/{}", f.oci_image.reference());

    let v = json_ok(&["digest", &oci]);
    assert_eq!(v["digest"], f.oci_image.digest.as_str());

    let out = run(
        &["manifest", &format!("{addr}/{}", f.oci_index.reference())],
        None,
    );
    assert!(out.status.success());
    assert_eq!(
        out.stdout, f.oci_index.manifest,
        "manifest prints the raw bytes"
    );

    let v = json_ok(&["config", &oci]);
    assert_eq!(v["architecture"], f.oci_image.config_json()["architecture"]);
    assert_eq!(
        v["rootfs"]["diff_ids"],
        serde_json::json!(f.oci_image.diff_ids)
    );

    let v = json_ok(&[
        "--platform",
        "linux/arm64/v8",
        "config",
        &format!("{addr}/{}", f.oci_index.reference()),
    ]);
    assert_eq!(v["architecture"], "arm64");

    let v = json_ok(&["tags", &format!("{addr}/{}", f.many_tags.repo)]);
    assert_eq!(v["tags"].as_array().unwrap().len(), f.many_tags.tags.len());

    let v = json_ok(&["catalog", &addr]);
    let repos: Vec<String> = serde_json::from_value(v["repositories"].clone()).unwrap();
    assert_eq!(repos, f.all_repos());

    let v = json_ok(&["instances", &format!("{addr}/{}", f.many_tags.repo)]);
    let instances = v["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 3);
    assert!(
        instances
            .iter()
            .all(|i| i["created"].as_str().is_some_and(|c| c.ends_with('Z')))
    );
    assert_eq!(
        instances
            .iter()
            .map(|i| i["tags"].as_array().unwrap().len())
            .sum::<usize>(),
        f.many_tags.tags.len()
    );
}

#[test]
fn tag_command_writes_a_tag_skopeo_sees() {
    let f = shared();
    let reg = TestRegistry::start();
    let name = f.docker_image.reference();
    skopeo_copy(
        &f.registry.docker_ref(&name),
        &reg.docker_ref(&name),
        &[
            "--preserve-digests",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
        ],
    );
    let v = json_ok(&["tag", &format!("{}/{name}", reg.addr()), "release"]);
    assert_eq!(v["digest"], f.docker_image.digest.as_str());
    assert_eq!(
        skopeo_inspect_digest(&reg.docker_ref(&format!("{}:release", f.docker_image.repo))),
        f.docker_image.digest
    );
}

#[test]
fn errors_go_to_stderr_with_a_non_zero_exit() {
    let f = shared();
    let out = run(
        &["digest", &format!("{}/fixtures/oci:missing", f.addr())],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not found") && err.contains("MANIFEST_UNKNOWN"),
        "{err}"
    );

    let out = run(&["digest", "Not A Reference"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid image reference"));

    for args in [
        &[][..],
        &["frobnicate"][..],
        &["digest"][..],
        &["tags", "a", "b"][..],
        &["--insecure"][..],
    ] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage:"),
            "{args:?}"
        );
    }
}

//! The example CLI's read commands against a real registry: JSON on stdout (one compact
//! document per line when piped, indented with --format pretty), exact bytes with --raw,
//! --platform on every command that resolves an image, flags anywhere on the line.

mod cli_support;
mod common;

use cli_support::{USAGE, expect_status, json_lines, json_ok, run, run_with};
use common::{TestRegistry, shared, skopeo_copy, skopeo_inspect_digest};
use serde_json::{Value, json};

#[test]
fn parse_one_and_many() {
    let v = json_ok(&["parse", "ubuntu:22.04"]);
    assert_eq!(v["registry"], "docker.io");
    assert_eq!(v["repository"], "library/ubuntu");
    assert_eq!(v["tag"], "22.04");
    assert_eq!(v["digest"], Value::Null);

    let out = run_with(
        &["parse", "-"],
        Some(
            "localhost:5000/a/b:c\nBAD//x\n[::1]:5000/r@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
        ),
    );
    expect_status(&out, USAGE, &["parse", "-"]);
    let lines = json_lines(&out);
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
    let index = format!("{addr}/{}", f.oci_index.reference());

    let v = json_ok(&["digest", &oci]);
    assert_eq!(v["digest"], f.oci_image.digest.as_str());
    assert_eq!(v["image"], oci.as_str());

    let out = run(&["manifest", "--raw", &index]);
    expect_status(&out, 0, &["manifest", "--raw"]);
    assert_eq!(
        out.stdout, f.oci_index.manifest,
        "--raw prints the bytes served"
    );
    let v = json_ok(&["manifest", &index]);
    assert_eq!(v, f.oci_index.manifest_json());

    // The config blob as stored: every key, in the registry's bytes with --raw.
    let v = json_ok(&["config", &oci]);
    assert_eq!(v, f.oci_image.config_json());
    assert_eq!(v["rootfs"]["diff_ids"], json!(f.oci_image.diff_ids));
    let out = run(&["config", "--raw", &oci]);
    expect_status(&out, 0, &["config", "--raw"]);
    assert_eq!(out.stdout, f.oci_image.config.data);

    let v = json_ok(&["tags", &format!("{addr}/{}", f.many_tags.repo)]);
    assert_eq!(v["tags"].as_array().unwrap().len(), f.many_tags.tags.len());
    let ls = json_ok(&["ls", &format!("{addr}/{}", f.many_tags.repo)]);
    assert_eq!(ls, v, "ls is tags");

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

    let v = json_ok(&["platforms", &index]);
    assert_eq!(v["platforms"], json!(["linux/amd64", "linux/arm64/v8"]));
}

/// digest, manifest, config and referrers pick the platform's image out of an index with
/// --platform, before or after the subcommand; without it digest and manifest name the index.
#[test]
fn platform_is_honoured_by_every_command_that_resolves_an_image() {
    let f = shared();
    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    let arm = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "arm64")
        .expect("an arm64 child");
    let amd = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "amd64")
        .expect("an amd64 child");

    assert_eq!(
        json_ok(&["digest", &index])["digest"],
        f.oci_index.digest.as_str()
    );
    let v = json_ok(&["digest", "--platform", "linux/arm64/v8", &index]);
    assert_eq!(v["digest"], arm.digest.as_str());
    let v = json_ok(&["--platform", "linux/amd64", "digest", &index]);
    assert_eq!(v["digest"], amd.digest.as_str());
    let v = json_ok(&["digest", &index, "--platform=linux/arm64"]);
    assert_eq!(v["digest"], arm.digest.as_str(), "arm64 matches arm64/v8");

    let out = run(&["manifest", "--raw", &index, "--platform", "linux/arm64/v8"]);
    expect_status(&out, 0, &["manifest --platform"]);
    assert_eq!(out.stdout, arm.manifest);

    let v = json_ok(&["config", &index, "--platform", "linux/arm64/v8"]);
    assert_eq!(v["architecture"], "arm64");
    let v = json_ok(&["config", &index]);
    assert_eq!(v["architecture"], "amd64", "config defaults to linux/amd64");

    let v = json_ok(&["referrers", "--platform", "linux/arm64/v8", &index]);
    assert_eq!(
        v["image"],
        format!("{}/{}@{}", f.addr(), f.oci_index.reference(), arm.digest).as_str()
    );
    assert_eq!(v["referrers"], json!([]));

    // digest of several images: one line each, in order.
    let docker = format!("{}/{}", f.addr(), f.docker_image.reference());
    let out = run(&["digest", &index, &docker, "--platform", "linux/arm64/v8"]);
    expect_status(&out, 0, &["digest IMAGE IMAGE"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["digest"], arm.digest.as_str());
    assert_eq!(
        lines[1]["digest"],
        f.docker_image.digest.as_str(),
        "a single image is its own platform's image"
    );

    // Without --platform, several images are resolved at once (get_digests, --jobs wide):
    // still one line each in input order, and a missing one is named on stderr in place.
    let missing = format!("{}/{}:no-such-tag", f.addr(), f.oci_index.repo);
    let out = run(&["--jobs", "2", "digest", &docker, &missing, &index]);
    expect_status(&out, 3, &["--jobs 2 digest A MISSING B"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["digest"], f.docker_image.digest.as_str());
    assert_eq!(lines[1]["digest"], f.oci_index.digest.as_str());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&missing),
        "stderr names the missing image: {stderr}"
    );
    // --jobs is bounded: 0 and 65 are usage errors before any request.
    for bad in ["0", "65"] {
        let out = run(&["--jobs", bad, "digest", &docker]);
        expect_status(&out, 2, &["--jobs", bad]);
    }
}

/// Piped: compact, one document per line. --format pretty: indented, same document;
/// --format json: compact. The manifest keeps the registry's key order either way.
#[test]
fn output_format_follows_the_pipe_or_the_flag() {
    let f = shared();
    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    let compact = json_ok(&["platforms", &index]);

    let out = run(&["platforms", "--format", "pretty", &index]);
    expect_status(&out, 0, &["--format pretty"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() > 3, "pretty is indented: {text}");
    assert!(text.contains("\n  \"platforms\": ["), "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), compact);

    let out = run(&["--format=json", "platforms", &index]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);

    let out = run(&["manifest", "--format", "pretty", &index]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        f.oci_index.manifest_json()
    );
    let order = |s: &str| {
        let keys = ["schemaVersion", "mediaType", "manifests"];
        let mut at: Vec<(usize, &str)> = keys
            .iter()
            .filter_map(|k| s.find(&format!("\"{k}\"")).map(|i| (i, *k)))
            .collect();
        at.sort();
        at.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
    };
    let served = String::from_utf8(f.oci_index.manifest.clone()).unwrap();
    assert_eq!(order(&text), order(&served), "key order as served");

    let out = run(&["manifest", "--format", "json", &index]);
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line.lines().count(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap(),
        f.oci_index.manifest_json()
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

    // With --platform, the new tag names the platform's image out of an index.
    let idx = f.oci_index.reference();
    skopeo_copy(
        &f.registry.docker_ref(&idx),
        &reg.docker_ref(&idx),
        &["--all", "--preserve-digests"],
    );
    let arm = &f.oci_index.children[1];
    assert_eq!(arm.platform.architecture, "arm64");
    let v = json_ok(&[
        "tag",
        "--platform",
        "linux/arm64/v8",
        &format!("{}/{idx}", reg.addr()),
        "arm-only",
    ]);
    assert_eq!(v["digest"], arm.digest.as_str());
    assert_eq!(
        skopeo_inspect_digest(&reg.docker_ref(&format!("{}:arm-only", f.oci_index.repo))),
        arm.digest
    );
}

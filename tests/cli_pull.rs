//! `dockreg pull IMAGE DIR` writes an OCI image layout that skopeo reads and copies: every
//! platform of an index, or one with --platform; blobs verified, a second pull reuses them.

mod cli_support;
mod common;

use cli_support::json_ok;
use common::{TempDir, TestRegistry, shared, skopeo_copy, skopeo_inspect_digest};
use serde_json::Value;

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn pull_writes_a_layout_skopeo_reads() {
    let f = shared();
    let dir = TempDir::new("cli-pull");
    let layout = dir.join("layout");
    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    let v = json_ok(&["pull", &index, layout.to_str().unwrap()]);
    assert_eq!(v["digest"], f.oci_index.digest.as_str());
    assert_eq!(v["refName"], f.oci_index.tag.as_str());
    assert_eq!(v["alreadyPresent"], 0);

    assert_eq!(
        read_json(&layout.join("oci-layout")),
        serde_json::json!({"imageLayoutVersion": "1.0.0"})
    );
    let idx = read_json(&layout.join("index.json"));
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(idx["manifests"][0]["digest"], f.oci_index.digest.as_str());
    // Every blob is where its digest says, with those bytes.
    let blob = |d: &str| {
        std::fs::read(
            layout
                .join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    assert_eq!(blob(&f.oci_index.digest), f.oci_index.manifest);
    for child in &f.oci_index.children {
        assert_eq!(blob(&child.digest), child.manifest);
        assert_eq!(blob(&child.config.digest), child.config.data);
        for l in &child.layers {
            assert_eq!(common::sha256_digest(&blob(&l.digest)), l.digest);
        }
    }

    // skopeo reads it: the index's digest, and a copy to a registry keeps every digest.
    let tag = &f.oci_index.tag;
    let oci_ref = format!("oci:{}:{tag}", layout.display());
    let out = common::skopeo::skopeo(&["inspect", "--raw", &oci_ref]);
    assert_eq!(out, f.oci_index.manifest);
    let reg = TestRegistry::start();
    skopeo_copy(
        &oci_ref,
        &reg.docker_ref("from/layout:v1"),
        &["--all", "--preserve-digests"],
    );
    assert_eq!(
        skopeo_inspect_digest(&reg.docker_ref("from/layout:v1")),
        f.oci_index.digest
    );

    // A second pull into the same layout under another name downloads nothing.
    let v = json_ok(&[
        "pull",
        &index,
        layout.to_str().unwrap(),
        "--ref-name",
        "again",
    ]);
    assert_eq!(v["blobs"], 0);
    assert!(v["alreadyPresent"].as_u64().unwrap() > 0);
    let idx = read_json(&layout.join("index.json"));
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 2);
}

#[test]
fn pull_one_platform() {
    let f = shared();
    let dir = TempDir::new("cli-pull-one");
    let layout = dir.join("arm");
    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    let arm = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "arm64")
        .unwrap();
    let v = json_ok(&[
        "--platform",
        "linux/arm64/v8",
        "pull",
        &index,
        layout.to_str().unwrap(),
    ]);
    assert_eq!(v["digest"], arm.digest.as_str());
    let tag = &f.oci_index.tag;
    let out = common::skopeo::skopeo(&[
        "inspect",
        "--format",
        "{{.Digest}} {{.Architecture}}",
        &format!("oci:{}:{tag}", layout.display()),
    ]);
    assert_eq!(
        String::from_utf8(out).unwrap().trim(),
        format!("{} arm64", arm.digest)
    );
    let amd = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "amd64")
        .unwrap();
    assert!(
        !layout
            .join("blobs/sha256")
            .join(amd.digest.trim_start_matches("sha256:"))
            .exists(),
        "the other platform is not pulled"
    );
}

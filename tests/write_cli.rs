//! The example CLI's write commands against a real registry: blob put/get/delete, push of a
//! plain directory and of an OCI layout, copy, delete, platforms, referrers.

mod cli_support;
mod common;

use std::process::Command;

use cli_support::{NOT_FOUND, USAGE, json_ok, run};
use common::{
    ImageSpec, LayerKind, OciLayout, TempDir, TestRegistry, skopeo_copy, skopeo_inspect_digest,
};
use serde_json::Value;

#[test]
fn blob_put_get_delete() {
    let reg = TestRegistry::start();
    let dir = TempDir::new("cli-blob");
    let src = dir.join("in.bin");
    let data = common::write_support::pattern(77, 3 * 1024 * 1024 + 5);
    std::fs::write(&src, &data).unwrap();
    let repo = format!("{}/cli/blobs", reg.addr());
    let v = json_ok(&["blob", "put", &repo, src.to_str().unwrap()]);
    let digest = v["digest"].as_str().unwrap().to_string();
    assert_eq!(digest, common::sha256_digest(&data));

    let dst = dir.join("out.bin");
    let at = format!("{repo}@{digest}");
    let v = json_ok(&["blob", "get", &at, dst.to_str().unwrap()]);
    assert_eq!(v["size"], data.len() as u64);
    assert_eq!(std::fs::read(&dst).unwrap(), data);

    json_ok(&["blob", "delete", &at]);
    let missing = dir.join("missing.bin");
    let out = run(&["blob", "get", &at, missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(NOT_FOUND));
    assert!(!missing.exists());
    let out = run(&["blob", "get", &repo, missing.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(USAGE),
        "REPO without @DIGEST is a usage error"
    );
}

#[test]
fn push_plain_directory_and_layout_then_copy_delete() {
    let reg = TestRegistry::start();
    let dir = TempDir::new("cli-push");
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("etc/deep")).unwrap();
    std::fs::write(root.join("etc/hello.txt"), "hello\n").unwrap();
    std::fs::write(root.join("etc/deep/data.bin"), vec![1u8; 70_000]).unwrap();
    let long = "n".repeat(120);
    std::fs::write(root.join(&long), "long name\n").unwrap();
    std::os::unix::fs::symlink("etc/hello.txt", root.join("link")).unwrap();

    let image = format!("{}/cli/plain:v1", reg.addr());
    let v = json_ok(&[
        "--platform",
        "linux/arm64/v8",
        "push",
        root.to_str().unwrap(),
        &image,
    ]);
    let digest = v["digest"].as_str().unwrap().to_string();
    assert_eq!(
        skopeo_inspect_digest(&reg.docker_ref("cli/plain:v1")),
        digest
    );
    // Deterministic: the same tree gives the same digest.
    let again = json_ok(&[
        "--platform",
        "linux/arm64/v8",
        "push",
        root.to_str().unwrap(),
        &format!("{}/cli/plain:v2", reg.addr()),
    ]);
    assert_eq!(again["digest"].as_str().unwrap(), digest);
    let p = json_ok(&["platforms", &image]);
    assert_eq!(p["platforms"], serde_json::json!(["linux/arm64/v8"]));

    // The layer is a tar GNU tar reads, with every entry.
    let layout = dir.join("layout");
    skopeo_copy(
        &reg.docker_ref("cli/plain:v1"),
        &format!("oci:{}:v1", layout.display()),
        &["--preserve-digests"],
    );
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            layout
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    let out = Command::new("tar")
        .arg("-tvf")
        .arg(
            layout
                .join("blobs/sha256")
                .join(layer.trim_start_matches("sha256:")),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    for want in [
        "etc/",
        "etc/deep/data.bin",
        "etc/hello.txt",
        long.as_str(),
        "link -> etc/hello.txt",
    ] {
        assert!(listing.contains(want), "{want} missing from:\n{listing}");
    }

    // An OCI layout holding an index with two platforms.
    let lay_dir = dir.join("multi");
    let mut lay = OciLayout::new(&lay_dir);
    let a = lay.add_image(&ImageSpec::new(
        "cli-a",
        "amd64",
        None,
        &[LayerKind::TarGzip],
    ));
    let b = lay.add_image(&ImageSpec::new(
        "cli-b",
        "arm64",
        Some("v8"),
        &[LayerKind::Tar],
    ));
    let idx = lay.add_index(vec![a, b]);
    lay.tag_index("multi", &idx);
    lay.finish();
    let multi = format!("{}/cli/multi:multi", reg.addr());
    let v = json_ok(&["push", lay_dir.to_str().unwrap(), &multi]);
    assert_eq!(v["digest"].as_str().unwrap(), idx.digest);
    let p = json_ok(&["platforms", &multi]);
    assert_eq!(
        p["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64/v8"])
    );

    // Copy to a second registry, then delete there.
    let other = TestRegistry::start();
    let dst = format!("{}/mirror/multi:m1", other.addr());
    let v = json_ok(&["copy", &multi, &dst]);
    assert_eq!(v["digest"].as_str().unwrap(), idx.digest);
    assert_eq!(
        skopeo_inspect_digest(&other.docker_ref("mirror/multi:m1")),
        idx.digest
    );
    let v = json_ok(&[
        "copy",
        "--all-tags",
        &format!("{}/cli/plain", reg.addr()),
        &format!("{}/mirror/plain", other.addr()),
    ]);
    assert_eq!(v["copied"].as_array().unwrap().len(), 2);

    // delete :tag fails clearly on this registry and leaves the tag.
    let out = run(&["delete", &dst]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not supported"), "{err}");
    assert_eq!(
        skopeo_inspect_digest(&other.docker_ref("mirror/multi:m1")),
        idx.digest
    );
    // delete @digest removes the manifest.
    json_ok(&[
        "delete",
        &format!("{}/mirror/multi@{}", other.addr(), idx.digest),
    ]);
    let out = run(&["digest", &dst]);
    assert_eq!(out.status.code(), Some(NOT_FOUND));
}

#[test]
fn referrers_of_an_image() {
    use dockreg::media_type::{OCI_EMPTY, OCI_MANIFEST};
    let reg = TestRegistry::start();
    let c = dockreg::Client::new().unwrap();
    let image: dockreg::Reference = format!("{}/cli/ref:v1", reg.addr()).parse().unwrap();
    let repo: dockreg::Reference = format!("{}/cli/ref", reg.addr()).parse().unwrap();
    let pushed = common::write_support::push_image(&c, &image, "cli-ref", "linux/amd64");
    let v = json_ok(&["referrers", &image.to_string()]);
    assert_eq!(v["referrers"], serde_json::json!([]));
    let empty = c.push_blob_bytes(&repo, b"{}").unwrap();
    let sig = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "x/sig",
        "config": {"mediaType": OCI_EMPTY, "digest": empty, "size": 2},
        "layers": [{"mediaType": OCI_EMPTY, "digest": empty, "size": 2}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": pushed.digest, "size": pushed.manifest.len()},
    }))
    .unwrap();
    let d = c.push_referrer(&repo, &sig, OCI_MANIFEST).unwrap();
    let v = json_ok(&["referrers", &image.to_string()]);
    assert_eq!(v["referrers"][0]["digest"], d.as_str());
    assert_eq!(v["referrers"][0]["artifactType"], "x/sig");
    let v = json_ok(&[
        "referrers",
        "--artifact-type",
        "x/other",
        &image.to_string(),
    ]);
    assert_eq!(v["referrers"], serde_json::json!([]));
}

/// `attach` pushes a file as an artifact whose subject is the image (the index, or with
/// --platform the platform's image); `referrers` lists it, filtered by type too.
#[test]
fn attach_then_list_referrers() {
    let reg = TestRegistry::start();
    let dir = TempDir::new("cli-attach");
    let image = format!("{}/cli/attach:v1", reg.addr());
    let pushed = json_ok(&["demo-image", &image]);
    let index_digest = pushed["digest"].as_str().unwrap().to_string();
    let arm = pushed["platforms"]["linux/arm64"]
        .as_str()
        .unwrap()
        .to_string();

    let sbom = dir.join("sbom.json");
    std::fs::write(&sbom, br#"{"spdxVersion":"SPDX-2.3"}"#).unwrap();
    let v = json_ok(&[
        "attach",
        "--artifact-type",
        "application/spdx+json",
        &image,
        sbom.to_str().unwrap(),
    ]);
    assert_eq!(v["subject"], index_digest.as_str());
    let sbom_digest = v["digest"].as_str().unwrap().to_string();
    let sig = dir.join("sig.bin");
    std::fs::write(&sig, b"not really a signature").unwrap();
    let v = json_ok(&[
        "attach",
        &image,
        sig.to_str().unwrap(),
        "--artifact-type",
        "application/vnd.example.sig",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(v["subject"], arm.as_str());

    let v = json_ok(&["referrers", &image]);
    let refs = v["referrers"].as_array().unwrap();
    assert_eq!(refs.len(), 1, "{v}");
    assert_eq!(refs[0]["digest"], sbom_digest.as_str());
    assert_eq!(refs[0]["artifactType"], "application/spdx+json");
    let v = json_ok(&["referrers", "--artifact-type", "x/none", &image]);
    assert_eq!(v["referrers"], serde_json::json!([]));
    let v = json_ok(&["referrers", "--platform", "linux/arm64", &image]);
    assert_eq!(
        v["referrers"][0]["artifactType"],
        "application/vnd.example.sig"
    );

    // The artifact's layer is the file, byte for byte.
    let manifest = run(&[
        "manifest",
        "--raw",
        &format!("{}/cli/attach@{sbom_digest}", reg.addr()),
    ]);
    let m: Value = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(m["subject"]["digest"], index_digest.as_str());
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    let back = dir.join("back.json");
    json_ok(&[
        "blob",
        "get",
        &format!("{}/cli/attach@{layer}", reg.addr()),
        back.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&sbom).unwrap());

    // cp --platform copies that platform's image alone.
    let other = TestRegistry::start();
    let dst = format!("{}/mirror/attach:arm", other.addr());
    let v = json_ok(&["cp", "--platform", "linux/arm64", &image, &dst]);
    assert_eq!(v["digest"], arm.as_str());
    assert_eq!(
        skopeo_inspect_digest(&other.docker_ref("mirror/attach:arm")),
        arm
    );
    let p = json_ok(&["platforms", &dst]);
    assert_eq!(p["platforms"], serde_json::json!(["linux/arm64"]));
}

//! `dockreg export IMAGE FILE|-`: the image's filesystem as one tar, layers flattened with
//! whiteouts applied, for the platform asked for; the same bytes to a file or to stdout.

mod cli_support;
mod common;

use std::io::Read;

use cli_support::{OK, expect_status, json_ok, run};
use common::{TempDir, TestRegistry, shared};
use dockreg::media_type::{OCI_CONFIG, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST};
use serde_json::json;

/// `path=content` of every entry of a tar (directories with an empty content).
fn listing(tar_bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for e in tar::Archive::new(tar_bytes).entries().unwrap() {
        let mut e = e.unwrap();
        let mut data = String::new();
        e.read_to_string(&mut data).unwrap();
        out.push(format!("{}={data}", e.path().unwrap().display()));
    }
    out.sort();
    out
}

#[test]
fn export_one_platform_to_a_file_and_to_stdout() {
    let f = shared();
    let dir = TempDir::new("cli-export");
    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    let arm = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "arm64")
        .unwrap();
    // What the layers hold, read here from the fixture's own bytes (gzip or plain).
    let mut want = Vec::new();
    for layer in &arm.layers {
        let tar_bytes = if layer.media_type.ends_with("gzip") {
            let mut d = Vec::new();
            flate2::read::GzDecoder::new(&layer.data[..])
                .read_to_end(&mut d)
                .unwrap();
            d
        } else {
            layer.data.clone()
        };
        want.extend(listing(&tar_bytes));
    }
    want.sort();
    assert!(!want.is_empty());

    let file = dir.join("rootfs.tar");
    let v = json_ok(&[
        "export",
        "--platform",
        "linux/arm64/v8",
        &index,
        file.to_str().unwrap(),
    ]);
    assert_eq!(v["digest"], arm.digest.as_str());
    assert_eq!(v["layers"], arm.layers.len());
    let written = std::fs::read(&file).unwrap();
    assert_eq!(listing(&written), want);
    assert!(
        want.iter().any(|l| l.contains("linux/arm64/v8")),
        "{want:?}"
    );

    let out = run(&["export", &index, "-", "--platform", "linux/arm64/v8"]);
    expect_status(&out, OK, &["export -"]);
    assert_eq!(out.stdout, written, "stdout gets the same tar");
}

#[test]
fn export_applies_whiteouts() {
    let reg = TestRegistry::start();
    let client = dockreg::Client::new().unwrap();
    let image: dockreg::Reference = format!("{}/cli/layers:v1", reg.addr()).parse().unwrap();

    let tar_of = |entries: &[(&str, Option<&str>)]| {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            match data {
                Some(d) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(d.len() as u64);
                    b.append_data(&mut h, name, d.as_bytes()).unwrap();
                }
                None => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, name, std::io::empty()).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    };
    let lower = tar_of(&[
        ("etc/", None),
        ("etc/old.conf", Some("old")),
        ("etc/app.conf", Some("v1")),
        ("tmp/", None),
        ("tmp/cache", Some("c")),
        ("var/", None),
        ("var/lib", Some("l")),
    ]);
    let upper = tar_of(&[
        ("etc/.wh.old.conf", Some("")),
        ("etc/app.conf", Some("v2")),
        (".wh.tmp", Some("")),
        ("var/", None),
        ("var/.wh..wh..opq", Some("")),
        ("var/new", Some("n")),
    ]);
    // The upper layer gzip-compressed, as most registries hold them.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &upper).unwrap();
    let upper_gz = gz.finish().unwrap();

    let lower_digest = client.push_blob_bytes(&image, &lower).unwrap();
    let upper_digest = client.push_blob_bytes(&image, &upper_gz).unwrap();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [
            dockreg::Digest::sha256_of(&lower), dockreg::Digest::sha256_of(&upper)]},
    }))
    .unwrap();
    let config_digest = client.push_blob_bytes(&image, &config).unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [
            {"mediaType": OCI_LAYER_TAR, "digest": lower_digest, "size": lower.len()},
            {"mediaType": OCI_LAYER_GZIP, "digest": upper_digest, "size": upper_gz.len()},
        ],
    }))
    .unwrap();
    client
        .put_manifest(&image, &manifest, OCI_MANIFEST)
        .unwrap();

    let dir = TempDir::new("cli-export-wh");
    let file = dir.join("flat.tar");
    let v = json_ok(&["export", &image.to_string(), file.to_str().unwrap()]);
    assert_eq!(v["entries"], 4);
    assert_eq!(
        listing(&std::fs::read(&file).unwrap()),
        ["etc/=", "etc/app.conf=v2", "var/=", "var/new=n"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
}

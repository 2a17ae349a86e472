//! Artifacts next to an image, against the real registry: an ORAS-style artifact (config
//! `application/vnd.oras.config.v1+json` holding `{}`, one text layer) and a Helm-chart-like one
//! (config `application/vnd.cncf.helm.config.v1+json`) in the same repository as a normal
//! image. `list_instances_report` lists all three and reports the artifacts; `copy_all_tags`
//! copies all three byte for byte to a second registry. The C ABI's JSON carries the same
//! `skipped` entries.

mod common;

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use common::TestRegistry;
use common::write_support::push_image;
use dockreg::media_type::OCI_MANIFEST;
use dockreg::{Client, Digest, Reference, SkipReason};
use serde_json::{Value, json};

const ORAS_CONFIG: &str = "application/vnd.oras.config.v1+json";
const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// An artifact pushed with dockreg: its manifest bytes, digest and size (config + layer).
struct Artifact {
    manifest: Vec<u8>,
    digest: Digest,
    size: u64,
}

fn push_artifact(
    c: &Client,
    image: &Reference,
    config_type: &str,
    config: &[u8],
    layer_type: &str,
    layer: &[u8],
) -> Artifact {
    let config_digest = c.push_blob_bytes(image, config).unwrap();
    let layer_digest = c.push_blob_bytes(image, layer).unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer.len(),
                    "annotations": {"org.opencontainers.image.title": "hello.txt"}}],
    }))
    .unwrap();
    let digest = c.put_manifest(image, &manifest, OCI_MANIFEST).unwrap();
    Artifact {
        manifest,
        digest,
        size: (config.len() + layer.len()) as u64,
    }
}

fn r(addr: &str, name: &str) -> Reference {
    format!("{addr}/{name}").parse().unwrap()
}

#[test]
fn artifacts_next_to_an_image_are_listed_reported_and_copied() {
    let reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let addr = reg.addr();
    let image = push_image(&c, &r(&addr, "limits/mixed:v1"), "limits", "linux/amd64");
    let oras = push_artifact(
        &c,
        &r(&addr, "limits/mixed:oras"),
        ORAS_CONFIG,
        b"{}",
        "text/plain",
        b"hello from an ORAS artifact\n",
    );
    let helm = push_artifact(
        &c,
        &r(&addr, "limits/mixed:chart-0.1.0"),
        HELM_CONFIG,
        br#"{"name":"mychart","version":"0.1.0","apiVersion":"v2"}"#,
        HELM_CHART,
        b"not really a gzip tarball, the registry does not look\n",
    );
    let repo = r(&addr, "limits/mixed");

    // Listing: three instances; the artifacts from their manifests, reported as such.
    let report = c.list_instances_report(&repo).unwrap();
    assert_eq!(report.instances.len(), 3, "{:?}", report.instances);
    let img = &report.instances[&image.digest];
    assert_eq!(img.tags, ["v1"]);
    assert_eq!(
        img.created.map(|t| t.unix_timestamp()),
        Some(1_704_164_645),
        "2024-01-02T03:04:05Z from the image config"
    );
    assert_eq!(
        img.size_bytes,
        (image.config.len() + image.layer.len()) as u64
    );
    for (a, tag) in [(&oras, "oras"), (&helm, "chart-0.1.0")] {
        let i = &report.instances[&a.digest];
        assert_eq!(i.tags, [tag]);
        assert_eq!(i.size_bytes, a.size, "{tag}");
        assert_eq!(i.created, None, "{tag}");
        assert_eq!(i.uploaded, None, "{tag}");
    }
    // The registry lists tags in no particular order: compare as a set.
    let mut skipped: Vec<(String, Option<Digest>, String)> = report
        .skipped
        .iter()
        .map(|s| {
            let SkipReason::Artifact { artifact_type } = &s.reason else {
                panic!("only artifacts are reported here: {s:?}")
            };
            assert!(s.reason.is_listed());
            (s.tag.clone(), s.digest.clone(), artifact_type.clone())
        })
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            (
                "chart-0.1.0".to_string(),
                Some(helm.digest.clone()),
                HELM_CONFIG.to_string()
            ),
            (
                "oras".to_string(),
                Some(oras.digest.clone()),
                ORAS_CONFIG.to_string()
            ),
        ]
    );
    // The seed's call lists the same.
    let map = c.list_instances(&repo).unwrap();
    assert_eq!(
        map.keys().collect::<Vec<_>>(),
        report.instances.keys().collect::<Vec<_>>()
    );

    // Copy every tag to another registry: all three, byte for byte, nothing skipped.
    let other = TestRegistry::start();
    let dst = r(&other.addr(), "mirror/mixed");
    let copy = c.copy_all_tags(&repo, &dst).unwrap();
    assert!(copy.skipped.is_empty(), "{:?}", copy.skipped);
    let mut copied = copy.copied.clone();
    copied.sort();
    assert_eq!(
        copied,
        [
            ("chart-0.1.0".to_string(), helm.digest.clone()),
            ("oras".to_string(), oras.digest.clone()),
            ("v1".to_string(), image.digest.clone()),
        ]
    );
    for (tag, bytes) in [
        ("v1", &image.manifest),
        ("oras", &oras.manifest),
        ("chart-0.1.0", &helm.manifest),
    ] {
        let raw = c
            .get_raw_manifest(&r(&other.addr(), &format!("mirror/mixed:{tag}")))
            .unwrap();
        assert_eq!(&raw.bytes, bytes, "{tag}: byte-exact");
    }
    // The copy lists like the source.
    let mirrored = c.list_instances_report(&dst).unwrap();
    assert_eq!(
        mirrored.instances.keys().collect::<Vec<_>>(),
        report.instances.keys().collect::<Vec<_>>()
    );
    assert_eq!(mirrored.skipped.len(), 2);

    // The C ABI says the same in JSON.
    let listed = ffi_json(&|client, out| {
        let repo = CString::new(format!("{addr}/limits/mixed")).unwrap();
        // SAFETY: a live client, a C string and a writable pointer.
        unsafe { dockreg::ffi::dockreg_client_list_instances(client, repo.as_ptr(), out) }
    });
    assert_eq!(listed["instances"].as_array().unwrap().len(), 3);
    let mut skipped: Vec<(String, String, String)> = listed["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["reason"], "artifact", "{s}");
            assert!(
                s["message"].as_str().unwrap().contains("not an image"),
                "{s}"
            );
            (
                s["tag"].as_str().unwrap().to_string(),
                s["digest"].as_str().unwrap().to_string(),
                s["artifactType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            (
                "chart-0.1.0".to_string(),
                helm.digest.to_string(),
                HELM_CONFIG.to_string()
            ),
            (
                "oras".to_string(),
                oras.digest.to_string(),
                ORAS_CONFIG.to_string()
            ),
        ]
    );
    let copied = ffi_json(&|client, out| {
        let src = CString::new(format!("{addr}/limits/mixed")).unwrap();
        let dst = CString::new(format!("{}/mirror/again", other.addr())).unwrap();
        let options = CString::new(r#"{"all_tags": true}"#).unwrap();
        // SAFETY: a live client, C strings and a writable pointer.
        unsafe {
            dockreg::ffi::dockreg_client_copy_image(
                client,
                src.as_ptr(),
                dst.as_ptr(),
                options.as_ptr(),
                out,
            )
        }
    });
    assert_eq!(copied["tags"].as_array().unwrap().len(), 3, "{copied}");
    assert_eq!(copied["skipped"], json!([]), "{copied}");
}

/// Runs `call` with a fresh C-ABI client and returns the JSON it wrote.
fn ffi_json(
    call: &dyn Fn(
        *const dockreg::ffi::dockreg_client,
        *mut *mut c_char,
    ) -> dockreg::ffi::dockreg_status,
) -> Value {
    use dockreg::ffi::{self, dockreg_status};
    let options = CString::new(r#"{"docker_config": null}"#).unwrap();
    let mut client = ptr::null_mut();
    // SAFETY: a C string and a writable pointer.
    let st = unsafe { ffi::dockreg_client_new(options.as_ptr(), &mut client) };
    assert_eq!(st, dockreg_status::DOCKREG_OK);
    let mut out: *mut c_char = ptr::null_mut();
    let st = call(client, &mut out);
    // SAFETY: the client made above, freed once.
    unsafe { ffi::dockreg_client_free(client) };
    assert_eq!(st, dockreg_status::DOCKREG_OK);
    assert!(!out.is_null());
    // SAFETY: a string dockreg wrote, freed once after it is read.
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
    unsafe { ffi::dockreg_string_free(out) };
    serde_json::from_str(&text).unwrap()
}

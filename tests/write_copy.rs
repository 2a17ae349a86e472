//! Copies within one registry (mounts) and between two registry processes (streamed), byte-exact,
//! and interop with skopeo both ways.

mod common;

use std::collections::BTreeSet;

use common::skopeo::skopeo;
use common::write_support::push_image;
use common::{TempDir, TestRegistry, shared, skopeo_copy, skopeo_inspect_digest};
use dockreg::{Client, CopyOptions, Reference};

fn r(addr: &str, name: &str) -> Reference {
    format!("{addr}/{name}").parse().unwrap()
}

/// Every blob and manifest of the image at `image` (recursively through an index).
fn all_digests(c: &Client, image: &Reference, out: &mut BTreeSet<String>) {
    let raw = c.get_raw_manifest(image).unwrap();
    out.insert(raw.digest.to_string());
    match raw.parse().unwrap() {
        dockreg::Manifest::Index(i) => {
            for d in i.manifests {
                let child =
                    Reference::new(image.registry(), image.path(), None, Some(d.digest)).unwrap();
                all_digests(c, &child, out);
            }
        }
        dockreg::Manifest::Image(m) => {
            out.insert(m.config.digest.to_string());
            for l in m.layers {
                out.insert(l.digest.to_string());
            }
        }
    }
}

#[test]
fn index_with_two_platforms_copies_within_a_registry() {
    let f = shared();
    let c = Client::new().unwrap();
    let src = r(&f.addr(), &f.oci_index.reference());
    let dst = r(&f.addr(), "write-copy/multi:copied");
    let d = c.copy_image(&src, &dst, CopyOptions::new()).unwrap();
    assert_eq!(d.as_str(), f.oci_index.digest);
    let raw = c.get_raw_manifest(&dst).unwrap();
    assert_eq!(raw.bytes, f.oci_index.manifest, "byte-exact index");
    for child in &f.oci_index.children {
        let cr = r(&f.addr(), &format!("write-copy/multi@{}", child.digest));
        assert_eq!(c.get_raw_manifest(&cr).unwrap().bytes, child.manifest);
        for l in &child.layers {
            let got = c
                .get_blob_bytes(&dst, &l.digest.parse().unwrap(), 1 << 20)
                .unwrap();
            assert_eq!(got, l.data);
        }
    }
    // Again: everything is there, same digest.
    assert_eq!(c.copy_image(&src, &dst, CopyOptions::new()).unwrap(), d);
    // Only one platform: the child's digest, under the tag.
    let one = r(&f.addr(), "write-copy/one:arm");
    let d1 = c
        .copy_image(
            &src,
            &one,
            CopyOptions::new().platform("linux/arm64/v8".parse().unwrap()),
        )
        .unwrap();
    let arm = f
        .oci_index
        .children
        .iter()
        .find(|ch| ch.platform.architecture == "arm64")
        .unwrap();
    assert_eq!(d1.as_str(), arm.digest);
    assert_eq!(c.get_digest(&one).unwrap(), d1);
}

#[test]
fn indexes_and_tags_copy_between_two_registries() {
    let f = shared();
    let other = TestRegistry::start();
    let c = Client::new().unwrap();
    for (name, digest) in [
        (f.oci_index.reference(), &f.oci_index.digest),
        (f.docker_list.reference(), &f.docker_list.digest),
        (f.docker_image.reference(), &f.docker_image.digest),
    ] {
        let src = r(&f.addr(), &name);
        let dst = r(&other.addr(), &format!("mirror/{name}"));
        let d = c.copy_image(&src, &dst, CopyOptions::new()).unwrap();
        assert_eq!(d.as_str(), digest.as_str(), "{name}");
        // skopeo, reading the second registry, agrees (images pushed by skopeo, copied by us).
        let seen = skopeo_inspect_digest(&other.docker_ref(&format!("mirror/{name}")));
        assert_eq!(&seen, digest, "{name} in the second registry");
        let mut a = BTreeSet::new();
        let mut b = BTreeSet::new();
        all_digests(&c, &src, &mut a);
        all_digests(&c, &dst, &mut b);
        assert_eq!(a, b, "{name}: same manifests and blobs");
    }
    // Every tag of a repository.
    let src_repo = r(&other.addr(), "mirror/fixtures/multi-oci");
    c.set_tag(&r(&other.addr(), "mirror/fixtures/multi-oci:v1"), "v2")
        .unwrap();
    let dst_repo = r(&f.addr(), "write-copy/all-tags");
    let report = c.copy_all_tags(&src_repo, &dst_repo).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let mut copied = report.copied;
    copied.sort();
    assert_eq!(copied.len(), 2);
    assert_eq!(copied[0].0, "v1");
    assert_eq!(copied[1].0, "v2");
    assert!(copied.iter().all(|(_, d)| d.as_str() == f.oci_index.digest));
    let mut tags = c.list_tags(&dst_repo).unwrap();
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
}

#[test]
fn image_pushed_by_dockreg_reads_back_with_skopeo() {
    let reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let image = r(&reg.addr(), "interop/pushed:v1");
    let pushed = push_image(&c, &image, "interop", "linux/arm64/v8");
    assert_eq!(
        skopeo_inspect_digest(&reg.docker_ref("interop/pushed:v1")),
        pushed.digest.as_str()
    );
    let dir = TempDir::new("layout");
    let layout = dir.join("oci");
    skopeo_copy(
        &reg.docker_ref("interop/pushed:v1"),
        &format!("oci:{}:v1", layout.display()),
        &["--preserve-digests"],
    );
    let blobs: BTreeSet<String> = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let want: BTreeSet<String> = [
        pushed.digest.to_string(),
        dockreg::Digest::sha256_of(&pushed.config).to_string(),
        dockreg::Digest::sha256_of(&pushed.layer).to_string(),
    ]
    .into();
    assert_eq!(blobs, want);
    for d in &want {
        let hex = d.trim_start_matches("sha256:");
        let bytes = std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap();
        assert_eq!(
            &common::sha256_digest(&bytes),
            d,
            "blob content matches its name"
        );
    }
    // skopeo's view of the config: the platform we wrote.
    let out = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--config",
        &reg.docker_ref("interop/pushed:v1"),
    ]);
    let cfg: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(cfg["architecture"], "arm64");
    assert_eq!(cfg["variant"], "v8");
}

/// Within one registry blobs are mounted, never downloaded; a 202 to the mount is used as the
/// upload session for a streamed copy.
#[test]
fn copy_within_a_registry_mounts_and_reuses_a_refused_mount_session() {
    use dockreg::Digest;
    use dockreg::media_type::{OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
    use mockito::Matcher;
    let mut server = mockito::Server::new();
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let layer = b"layer bytes".to_vec();
    let (cd, ld) = (Digest::sha256_of(&config), Digest::sha256_of(&layer));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": ld, "size": layer.len()}],
    }))
    .unwrap();
    let md = Digest::sha256_of(&manifest);
    server
        .mock("GET", "/v2/src/manifests/v1")
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_header("docker-content-digest", md.as_str())
        .with_body(&manifest)
        .create();
    server
        .mock("HEAD", format!("/v2/dst/manifests/{md}").as_str())
        .with_status(404)
        .create();
    server
        .mock("HEAD", Matcher::Regex("^/v2/dst/blobs/".into()))
        .with_status(404)
        .create();
    // The config mounts; the layer's mount is refused with a session, which the copy uses.
    let mount_config = server
        .mock("POST", "/v2/dst/blobs/uploads/")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("mount".into(), cd.to_string()),
            Matcher::UrlEncoded("from".into(), "src".into()),
        ]))
        .with_status(201)
        .create();
    let mount_layer = server
        .mock("POST", "/v2/dst/blobs/uploads/")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("mount".into(), ld.to_string()),
            Matcher::UrlEncoded("from".into(), "src".into()),
        ]))
        .with_status(202)
        .with_header("location", "/v2/dst/blobs/uploads/s1?_state=x")
        .create();
    let get_config = server
        .mock("GET", format!("/v2/src/blobs/{cd}").as_str())
        .expect(0)
        .create();
    let get_layer = server
        .mock("GET", format!("/v2/src/blobs/{ld}").as_str())
        .with_status(200)
        .with_body(&layer)
        .create();
    let put_layer = server
        .mock("PUT", "/v2/dst/blobs/uploads/s1")
        .match_query(Matcher::UrlEncoded("digest".into(), ld.to_string()))
        .match_body(layer.clone())
        .with_status(201)
        .create();
    let put_manifest = server
        .mock("PUT", "/v2/dst/manifests/v1")
        .match_body(manifest.clone())
        .with_status(201)
        .with_header("docker-content-digest", md.as_str())
        .create();
    let c = Client::new().unwrap();
    let src = r(&server.host_with_port(), "src:v1");
    let dst = r(&server.host_with_port(), "dst");
    assert_eq!(c.copy_image(&src, &dst, CopyOptions::new()).unwrap(), md);
    for m in [
        mount_config,
        mount_layer,
        get_config,
        get_layer,
        put_layer,
        put_manifest,
    ] {
        m.assert();
    }
}

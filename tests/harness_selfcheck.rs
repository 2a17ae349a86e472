//! Checks the integration-test harness itself (tests/common): the registry it starts, restart,
//! and the consistency of the shared fixture against raw HTTP and skopeo.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::raw::{self, ACCEPT_ALL_MANIFESTS, sha256_digest};
use common::registry::pid_alive;
use common::{Platform, TestRegistry, shared, skopeo_inspect_digest};

#[test]
fn registry_starts_and_answers_v2() {
    let reg = TestRegistry::start();
    assert!(reg.addr().starts_with("127.0.0.1:"));
    assert_eq!(reg.url(), format!("http://{}", reg.addr()));
    assert!(reg.storage_dir().is_dir());
    let r = raw::raw_get(&format!("{}/v2/", reg.url()));
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(
        r.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    // The catalog of a fresh registry is empty.
    let pages = raw::raw_catalog_pages(&reg.url(), 100, 5);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].repositories.is_empty());
    assert!(pages[0].link.is_none());
}

#[test]
fn stop_ends_the_process_and_drop_cleans_up() {
    let mut reg = TestRegistry::start();
    let pid = reg.pid().expect("pid while running");
    assert!(pid_alive(pid));
    let dir = reg.dir().to_path_buf();
    reg.stop();
    assert!(!pid_alive(pid), "registry {pid} still alive after stop()");
    assert!(!reg.is_running());
    let err = raw::try_raw_request("GET", &format!("{}/v2/", reg.url()), &[], None);
    assert!(err.is_err(), "stopped registry still answers");
    drop(reg);
    assert!(!dir.exists(), "temp dir {} not removed", dir.display());
}

/// Pushes a tiny image by raw HTTP; returns (manifest bytes, manifest digest, layer digest).
fn push_tiny_image(url: &str, repo: &str, tag: &str) -> (Vec<u8>, String, String) {
    let layer = common::layout::gzip_stored(&common::layout::tar_one_file("x.txt", b"tiny\n"));
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer_digest = raw::raw_push_blob(url, repo, &layer);
    let config_digest = raw::raw_push_blob(url, repo, config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": raw::OCI_MANIFEST,
        "config": {"mediaType": raw::OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": raw::OCI_LAYER_TAR_GZIP, "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap();
    let r = raw::raw_put_manifest_ok(url, repo, tag, raw::OCI_MANIFEST, &manifest);
    let digest = sha256_digest(&manifest);
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    (manifest, digest, layer_digest)
}

#[test]
fn restart_keeps_port_storage_and_upload_sessions() {
    let mut reg = TestRegistry::start();
    let url = reg.url();
    let port = reg.port();
    let (manifest, digest, layer_digest) = push_tiny_image(&url, "self/restart", "v1");

    // An upload session opened before the restart, with one chunk sent.
    let chunk1 = b"hello, ";
    let chunk2 = b"restarted world";
    let r = raw::raw_request(
        "POST",
        &format!("{url}/v2/self/upload/blobs/uploads/"),
        &[],
        Some(&[]),
    )
    .expect_status(202, "POST upload");
    let loc = raw::absolute_url(&url, r.header("location").unwrap());
    let r = raw::raw_request(
        "PATCH",
        &loc,
        &[("Content-Type", "application/octet-stream")],
        Some(chunk1),
    )
    .expect_status(202, "PATCH chunk 1");
    let loc = raw::absolute_url(&url, r.header("location").unwrap());

    let old_pid = reg.pid().unwrap();
    reg.restart();
    assert!(!pid_alive(old_pid), "old registry process still alive");
    assert_ne!(reg.pid(), Some(old_pid));
    assert_eq!(reg.port(), port, "restart must keep the port");
    assert_eq!(reg.url(), url);

    let r = raw::raw_get_manifest(&url, "self/restart", "v1");
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(r.body, manifest);
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    let blob = raw::raw_get_blob(&url, "self/restart", &layer_digest);
    assert_eq!(sha256_digest(&blob), layer_digest);
    assert_eq!(raw::raw_tags(&url, "self/restart"), vec!["v1".to_string()]);

    // The session survives (fixed http.secret): status, second chunk, commit.
    let r = raw::raw_request("GET", &loc, &[], None).expect_status(204, "upload status");
    assert_eq!(
        r.header("range"),
        Some(format!("0-{}", chunk1.len() - 1).as_str())
    );
    let r = raw::raw_request(
        "PATCH",
        &loc,
        &[("Content-Type", "application/octet-stream")],
        Some(chunk2),
    )
    .expect_status(202, "PATCH chunk 2 after restart");
    let loc = raw::absolute_url(&url, r.header("location").unwrap());
    let whole = [&chunk1[..], &chunk2[..]].concat();
    let d = sha256_digest(&whole);
    raw::raw_request("PUT", &format!("{loc}&digest={d}"), &[], Some(&[]))
        .expect_status(201, "commit upload after restart");
    assert_eq!(raw::raw_get_blob(&url, "self/upload", &d), whole);

    // Stop + restart again works as well.
    reg.stop();
    reg.restart();
    assert_eq!(
        raw::raw_get_manifest(&url, "self/restart", &digest).status,
        200
    );
}

#[test]
fn start_with_extra_config_basic_auth() {
    // bcrypt of "s3cret" for user alice (htpasswd -Bbn alice s3cret).
    let tmp = common::TempDir::new("htpasswd");
    let htpasswd = tmp.join("htpasswd");
    std::fs::write(
        &htpasswd,
        "alice:$2y$05$teti5MBYH8.UCq.4vSfG7OtWu.E2ZlMoya9WSfxDTAHnPUESKN95y\n",
    )
    .unwrap();
    let reg = TestRegistry::start_with(&format!(
        "auth:\n  htpasswd:\n    realm: test-realm\n    path: {}\n",
        htpasswd.display()
    ));
    let r = raw::raw_get(&format!("{}/v2/", reg.url()));
    assert_eq!(r.status, 401);
    assert!(
        r.header("www-authenticate")
            .unwrap_or_default()
            .starts_with("Basic realm=\"test-realm\""),
        "{:?}",
        r.headers
    );
    // "alice:s3cret" in base64.
    let r = raw::raw_request(
        "GET",
        &format!("{}/v2/", reg.url()),
        &[("Authorization", "Basic YWxpY2U6czNjcmV0")],
        None,
    );
    assert_eq!(r.status, 200);
}

/// Served bytes (full Accept) hash to the recorded digest; Docker-Content-Digest and
/// Content-Type agree; by-digest fetch gives the same bytes; skopeo agrees.
fn check_manifest(
    url: &str,
    repo: &str,
    reference: &str,
    digest: &str,
    media_type: &str,
    bytes: &[u8],
) {
    let r = raw::raw_get_manifest(url, repo, reference);
    assert_eq!(r.status, 200, "{repo}:{reference}: {}", r.body_str());
    assert_eq!(
        r.body, bytes,
        "{repo}:{reference}: served bytes differ from the record"
    );
    assert_eq!(sha256_digest(&r.body), digest, "{repo}:{reference}");
    assert_eq!(
        r.header("docker-content-digest"),
        Some(digest),
        "{repo}:{reference}"
    );
    assert_eq!(
        r.header("content-type"),
        Some(media_type),
        "{repo}:{reference}"
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["mediaType"].as_str(), Some(media_type));
    let r = raw::raw_get_manifest(url, repo, digest);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, bytes, "{repo}@{digest}");
    let h = raw::raw_head(&format!("{url}/v2/{repo}/manifests/{reference}"));
    assert_eq!(h.status, 200);
    assert_eq!(h.header("docker-content-digest"), Some(digest));
    assert_eq!(
        h.header("content-length"),
        Some(bytes.len().to_string().as_str())
    );
}

#[test]
fn shared_fixture_top_level_digests_match_raw_and_skopeo() {
    let f = shared();
    let url = f.url();
    let tops: Vec<(&str, &str, &str, &str, &[u8])> = vec![
        (
            &f.oci_image.repo,
            &f.oci_image.tag,
            &f.oci_image.digest,
            &f.oci_image.media_type,
            &f.oci_image.manifest,
        ),
        (
            &f.docker_image.repo,
            &f.docker_image.tag,
            &f.docker_image.digest,
            &f.docker_image.media_type,
            &f.docker_image.manifest,
        ),
        (
            &f.oci_index.repo,
            &f.oci_index.tag,
            &f.oci_index.digest,
            &f.oci_index.media_type,
            &f.oci_index.manifest,
        ),
        (
            &f.docker_list.repo,
            &f.docker_list.tag,
            &f.docker_list.digest,
            &f.docker_list.media_type,
            &f.docker_list.manifest,
        ),
    ];
    for (repo, tag, digest, mt, bytes) in tops {
        check_manifest(&url, repo, tag, digest, mt, bytes);
        let sk = skopeo_inspect_digest(&f.registry.docker_ref(&format!("{repo}:{tag}")));
        assert_eq!(sk, digest, "skopeo inspect {{{{.Digest}}}} of {repo}:{tag}");
        let raw_sk = common::skopeo_raw(&f.registry.docker_ref(&format!("{repo}:{tag}")));
        assert_eq!(raw_sk, bytes, "skopeo --raw of {repo}:{tag}");
    }
    assert_eq!(f.oci_image.media_type, raw::OCI_MANIFEST);
    assert_eq!(f.docker_image.media_type, raw::DOCKER_MANIFEST);
    assert_eq!(f.oci_index.media_type, raw::OCI_INDEX);
    assert_eq!(f.docker_list.media_type, raw::DOCKER_LIST);
}

#[test]
fn shared_fixture_images_blobs_and_configs() {
    let f = shared();
    let url = f.url();
    assert_eq!(f.oci_image.layers.len(), 2);
    assert_eq!(f.docker_image.layers.len(), 2);
    assert_eq!(f.oci_image.layers[0].media_type, raw::OCI_LAYER_TAR_GZIP);
    assert_eq!(f.oci_image.layers[1].media_type, raw::OCI_LAYER_TAR);
    for l in &f.docker_image.layers {
        assert_eq!(l.media_type, raw::DOCKER_LAYER_TAR_GZIP);
    }
    assert_eq!(f.docker_image.config.media_type, raw::DOCKER_CONFIG);
    assert_eq!(f.oci_image.config.media_type, raw::OCI_CONFIG);
    for img in f.all_images() {
        let m = img.manifest_json();
        assert_eq!(
            m["config"]["digest"].as_str(),
            Some(img.config.digest.as_str())
        );
        let served = raw::raw_get_blob(&url, &img.repo, &img.config.digest);
        assert_eq!(served, img.config.data, "config of {}", img.reference());
        assert_eq!(sha256_digest(&img.config.data), img.config.digest);
        assert_eq!(img.layers.len(), m["layers"].as_array().unwrap().len());
        assert_eq!(img.diff_ids.len(), img.layers.len());
        for (l, d) in img.layers.iter().zip(m["layers"].as_array().unwrap()) {
            assert_eq!(d["digest"].as_str(), Some(l.digest.as_str()));
            assert_eq!(d["size"].as_u64(), Some(l.size));
            assert_eq!(l.data.len() as u64, l.size);
            assert_eq!(sha256_digest(&l.data), l.digest);
        }
        let cfg = img.config_json();
        assert_eq!(cfg["os"], "linux");
        assert!(cfg["created"].as_str().unwrap().ends_with('Z'));
        assert!(cfg["config"]["Env"].is_array() && cfg["config"]["Cmd"].is_array());
        assert_eq!(cfg["rootfs"]["type"], "layers");
        // Uncompressed tar layers: the diff_id is the layer digest itself.
        for (l, diff) in img.layers.iter().zip(&img.diff_ids) {
            if l.media_type.ends_with(".tar") {
                assert_eq!(&l.digest, diff);
            } else {
                assert_eq!(
                    &l.data[..2],
                    &[0x1f, 0x8b],
                    "gzip layer of {}",
                    img.reference()
                );
            }
        }
    }
}

#[test]
fn shared_fixture_indexes_have_the_two_platforms() {
    let f = shared();
    let url = f.url();
    let amd64 = Platform::new("linux", "amd64", None);
    let arm64 = Platform::new("linux", "arm64", Some("v8"));
    for (idx, child_type) in [
        (&f.oci_index, raw::OCI_MANIFEST),
        (&f.docker_list, raw::DOCKER_MANIFEST),
    ] {
        let m = idx.manifest_json();
        let descs = m["manifests"].as_array().unwrap();
        assert_eq!(descs.len(), 2, "{}", idx.reference());
        assert_eq!(idx.children.len(), 2);
        let platforms: Vec<Platform> = descs
            .iter()
            .map(|d| Platform::from_json(&d["platform"]))
            .collect();
        assert_eq!(
            platforms,
            vec![amd64.clone(), arm64.clone()],
            "{}",
            idx.reference()
        );
        for (d, c) in descs.iter().zip(&idx.children) {
            assert_eq!(d["digest"].as_str(), Some(c.digest.as_str()));
            assert_eq!(d["mediaType"].as_str(), Some(child_type));
            assert_eq!(d["size"].as_u64(), Some(c.manifest.len() as u64));
            assert_eq!(c.media_type, child_type);
            check_manifest(
                &url,
                &c.repo,
                &c.digest,
                &c.digest,
                &c.media_type,
                &c.manifest,
            );
        }
        let a = idx.child(&amd64).unwrap();
        let b = idx.child(&arm64).unwrap();
        assert_ne!(a.digest, b.digest);
        assert_eq!(a.config_json()["architecture"], "amd64");
        assert_eq!(b.config_json()["architecture"], "arm64");
        assert_eq!(b.config_json()["variant"], "v8");
    }
    assert_eq!(f.docker_list.media_type, raw::DOCKER_LIST);
    assert_eq!(f.docker_list.manifest_json()["mediaType"], raw::DOCKER_LIST);
    for c in &f.docker_list.children {
        assert_eq!(c.config.media_type, raw::DOCKER_CONFIG);
        for l in &c.layers {
            assert_eq!(l.media_type, raw::DOCKER_LAYER_TAR_GZIP);
        }
    }
    for c in &f.oci_index.children {
        assert_eq!(c.config.media_type, raw::OCI_CONFIG);
        assert_eq!(c.layers[0].media_type, raw::OCI_LAYER_TAR_GZIP);
        assert_eq!(c.layers[1].media_type, raw::OCI_LAYER_TAR);
    }
}

#[test]
#[should_panic(expected = "apt-get install -y docker-registry skopeo")]
fn require_program_panics_with_install_hint() {
    common::require_program("dockreg-no-such-program-xyz", "docker-registry");
}

#[test]
fn shared_fixture_many_tags() {
    let f = shared();
    let url = f.url();
    let mt = &f.many_tags;
    assert_eq!(mt.tags.len(), 300);
    assert_eq!(mt.tags[0], "t000");
    assert_eq!(mt.tags[299], "t299");
    let listed = raw::raw_tags(&url, &mt.repo);
    assert_eq!(listed.len(), 300, "tags/list of {}", mt.repo);
    let listed: BTreeSet<String> = listed.into_iter().collect();
    let expected: BTreeSet<String> = mt.tags.iter().cloned().collect();
    assert_eq!(listed, expected);
    let distinct: BTreeSet<&str> = mt.images.iter().map(|i| i.digest.as_str()).collect();
    assert_eq!(distinct.len(), 3);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for tag in &mt.tags {
        let h = raw::raw_head(&format!("{url}/v2/{}/manifests/{tag}", mt.repo));
        assert_eq!(h.status, 200, "HEAD {tag}");
        let d = h.header("docker-content-digest").unwrap().to_string();
        assert_eq!(d, mt.image_for_tag(tag).digest, "tag {tag}");
        *seen.entry(d).or_default() += 1;
    }
    assert_eq!(seen.len(), 3);
    assert!(seen.values().all(|&n| n == 100));
}

#[test]
fn shared_fixture_catalog_paginates_with_relative_link() {
    let f = shared();
    let url = f.url();
    let expected = f.all_repos();
    assert_eq!(expected.len(), 265);
    assert_eq!(f.many_repos.repos.len(), 260);
    let pages = raw::raw_catalog_pages(&url, 100, 20);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    for (i, p) in pages.iter().enumerate() {
        let last = i + 1 == pages.len();
        assert!(p.repositories.len() <= 100);
        match &p.link {
            Some(link) => {
                assert!(!last, "last page has a Link: {link}");
                assert_eq!(p.repositories.len(), 100);
                let target = raw::parse_next_link(link).expect("rel=next");
                assert!(
                    target.starts_with("/v2/_catalog?"),
                    "Link not relative: {link}"
                );
                assert!(target.contains("n=100"), "{link}");
                assert!(target.contains("last="), "{link}");
            }
            None => assert!(last, "page {i} has no Link"),
        }
    }
    let union: Vec<String> = pages
        .iter()
        .flat_map(|p| p.repositories.iter().cloned())
        .collect();
    let mut sorted = union.clone();
    sorted.sort();
    assert_eq!(union, sorted, "catalog is not sorted across pages");
    let set: BTreeSet<&String> = union.iter().collect();
    assert_eq!(set.len(), union.len(), "duplicates across pages");
    for r in &expected {
        assert!(set.contains(r), "{r} missing from the catalog");
    }
    // Every many-repos repo serves the same manifest under v1.
    for repo in [
        &f.many_repos.repos[1],
        &f.many_repos.repos[130],
        &f.many_repos.repos[259],
    ] {
        let r = raw::raw_get_manifest(&url, repo, &f.many_repos.tag);
        assert_eq!(r.status, 200, "{repo}");
        assert_eq!(r.body, f.many_repos.image.manifest);
        let blob = raw::raw_get_blob(&url, repo, &f.many_repos.image.layers[0].digest);
        assert_eq!(blob, f.many_repos.image.layers[0].data);
    }
}

#[test]
fn shared_fixture_full_accept_matters() {
    // Documents the quirk the raw helper works around: without the full Accept list the
    // registry does not serve the stored bytes.
    let f = shared();
    let url = f.url();
    let r = raw::raw_request(
        "GET",
        &format!(
            "{url}/v2/{}/manifests/{}",
            f.docker_image.repo, f.docker_image.tag
        ),
        &[("Accept", raw::DOCKER_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, f.docker_image.manifest);
    let r = raw::raw_request(
        "GET",
        &format!(
            "{url}/v2/{}/manifests/{}",
            f.oci_image.repo, f.oci_image.digest
        ),
        &[("Accept", raw::DOCKER_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 404, "OCI manifest without OCI in Accept");
    assert!(ACCEPT_ALL_MANIFESTS.contains(raw::OCI_INDEX));
    assert!(f.seed_time.as_secs() < 60, "seeding took {:?}", f.seed_time);
    eprintln!(
        "shared fixture seeded in {:?}; digests: oci {} docker {} multi-oci {} multi-docker {}",
        f.seed_time,
        f.oci_image.digest,
        f.docker_image.digest,
        f.oci_index.digest,
        f.docker_list.digest
    );
}

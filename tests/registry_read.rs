//! The seed's read operations against a real registry (distribution 2.8.2) holding images that
//! skopeo pushed, with digests cross-checked against skopeo and raw HTTP.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::raw::raw_get_manifest;
use common::{Fixture, TestRegistry, raw_delete, shared, skopeo_copy, skopeo_inspect_digest};
use dockreg::{Client, Digest, Error, RegistryApi, media_type};

fn client() -> Client {
    Client::new().expect("client")
}

fn image(f: &Fixture, name_and_ref: &str) -> dockreg::Reference {
    format!("{}/{name_and_ref}", f.addr())
        .parse()
        .expect("reference")
}

#[test]
fn raw_manifests_are_byte_exact_with_their_media_types() {
    let f = shared();
    let c = client();
    let cases = [
        (
            f.oci_image.reference(),
            &f.oci_image.manifest,
            &f.oci_image.digest,
            media_type::OCI_MANIFEST,
        ),
        (
            f.docker_image.reference(),
            &f.docker_image.manifest,
            &f.docker_image.digest,
            media_type::DOCKER_MANIFEST,
        ),
        (
            f.oci_index.reference(),
            &f.oci_index.manifest,
            &f.oci_index.digest,
            media_type::OCI_INDEX,
        ),
        (
            f.docker_list.reference(),
            &f.docker_list.manifest,
            &f.docker_list.digest,
            media_type::DOCKER_MANIFEST_LIST,
        ),
    ];
    for (name, bytes, digest, mt) in cases {
        let raw = c
            .get_raw_manifest(&image(f, &name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            &raw.bytes, bytes,
            "{name}: bytes differ from what skopeo pushed"
        );
        assert_eq!(raw.digest.as_str(), digest, "{name}");
        assert_eq!(raw.media_type, mt, "{name}");
        assert_eq!(raw.digest, Digest::sha256_of(&raw.bytes), "{name}");
        let skopeo = skopeo_inspect_digest(&f.registry.docker_ref(&name));
        assert_eq!(raw.digest.as_str(), skopeo, "{name}: skopeo disagrees");
    }
}

#[test]
fn get_manifest_resolves_indexes_to_the_client_platform() {
    let f = shared();
    for index in [&f.oci_index, &f.docker_list] {
        let amd64 = index
            .child(&common::Platform::new("linux", "amd64", None))
            .expect("amd64 child");
        let m = client()
            .get_manifest(&image(f, &index.reference()))
            .expect("manifest");
        assert_eq!(m.digest.as_str(), amd64.digest, "{}", index.repo);
        assert_eq!(m.bytes, amd64.manifest);
        assert_eq!(
            m.index_digest.as_ref().map(Digest::as_str),
            Some(index.digest.as_str())
        );
        assert_eq!(m.manifest.config.digest.as_str(), amd64.config.digest);

        let arm = index
            .child(&common::Platform::new("linux", "arm64", Some("v8")))
            .expect("arm64 child");
        let arm_client = Client::builder()
            .platform("linux/arm64".parse().unwrap())
            .build()
            .unwrap();
        let m = arm_client
            .get_manifest(&image(f, &index.reference()))
            .expect("arm64 manifest");
        assert_eq!(m.digest.as_str(), arm.digest, "{}", index.repo);
        let config = arm_client
            .get_image_config(&image(f, &index.reference()))
            .expect("arm64 config");
        assert_eq!(config.architecture, "arm64");

        let s390x = Client::builder()
            .platform("linux/s390x".parse().unwrap())
            .build()
            .unwrap();
        match s390x.get_manifest(&image(f, &index.reference())) {
            Err(Error::PlatformNotFound { available, .. }) => {
                assert!(
                    available.contains("linux/amd64") && available.contains("linux/arm64"),
                    "{available}"
                );
            }
            other => panic!("expected PlatformNotFound, got {other:?}"),
        }
    }
    // A plain image is returned as it is, with no index digest.
    let m = client()
        .get_manifest(&image(f, &f.docker_image.reference()))
        .unwrap();
    assert_eq!(m.digest.as_str(), f.docker_image.digest);
    assert_eq!(m.index_digest, None);
    assert_eq!(m.manifest.layers.len(), f.docker_image.layers.len());
}

#[test]
fn digests_by_tag_and_by_digest_match_skopeo() {
    let f = shared();
    let c = client();
    for (name, digest) in [
        (f.oci_image.reference(), &f.oci_image.digest),
        (f.docker_image.reference(), &f.docker_image.digest),
        (f.oci_index.reference(), &f.oci_index.digest),
        (f.docker_list.reference(), &f.docker_list.digest),
        (
            f.oci_index.children[1].by_digest(),
            &f.oci_index.children[1].digest,
        ),
    ] {
        let got = c
            .get_digest(&image(f, &name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.as_str(), digest, "{name}");
    }
    // The package-level shortcut through the trait gives the same answer.
    let api: &dyn RegistryApi = &c;
    assert_eq!(
        api.get_digest(&image(f, &f.oci_image.reference()))
            .unwrap()
            .as_str(),
        f.oci_image.digest
    );
}

#[test]
fn configs_decode_with_every_field_the_image_has() {
    let f = shared();
    let c = client();
    for rec in [&f.oci_image, &f.docker_image] {
        let want = rec.config_json();
        let repo = image(f, &rec.repo);
        let config = c
            .get_config(&repo, &rec.config.digest.parse().unwrap())
            .expect("config");
        assert_eq!(config.architecture, want["architecture"].as_str().unwrap());
        assert_eq!(config.os, want["os"].as_str().unwrap());
        assert_eq!(config.rootfs.diff_ids, rec.diff_ids);
        assert_eq!(config.rootfs.kind, "layers");
        let env: Vec<String> = want["config"]["Env"].as_array().map_or(vec![], |a| {
            a.iter().map(|v| v.as_str().unwrap().to_string()).collect()
        });
        assert_eq!(config.config.env, env);
        assert!(config.created.is_some(), "created missing for {}", rec.repo);
        assert_eq!(
            config.history.len(),
            want["history"].as_array().map_or(0, Vec::len)
        );
        let via_image = c.get_image_config(&image(f, &rec.reference())).unwrap();
        assert_eq!(via_image, config);
    }
    // A config digest the repository does not have: a typed 404.
    let missing = Digest::sha256_of(b"no such config");
    let err = c
        .get_config(&image(f, &f.oci_image.repo), &missing)
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.registry_error().unwrap().has_code("BLOB_UNKNOWN"),
        "{err}"
    );
}

#[test]
fn tags_of_a_300_tag_repository() {
    let f = shared();
    let tags = client()
        .list_tags(&image(f, &f.many_tags.repo))
        .expect("tags");
    assert_eq!(tags.len(), f.many_tags.tags.len());
    let got: BTreeSet<_> = tags.into_iter().collect();
    let want: BTreeSet<_> = f.many_tags.tags.iter().cloned().collect();
    assert_eq!(got, want);
}

#[test]
fn catalog_follows_relative_link_pages() {
    let f = shared();
    let want = f.all_repos();
    assert!(want.len() > 250);
    for page_size in [100, 7, 1000] {
        let c = Client::builder().page_size(page_size).build().unwrap();
        let got = c.list_repositories(&f.addr()).expect("catalog");
        assert_eq!(got, want, "page size {page_size}");
    }
}

#[test]
fn instances_group_tags_by_digest() {
    let f = shared();
    let instances = client()
        .list_instances(&image(f, &f.many_tags.repo))
        .expect("instances");
    assert_eq!(instances.len(), 3);
    for rec in &f.many_tags.images {
        let inst = instances
            .get(&rec.digest.parse::<Digest>().unwrap())
            .expect("instance per image");
        let want_tags: Vec<String> = f
            .many_tags
            .tags
            .iter()
            .filter(|t| f.many_tags.image_for_tag(t).digest == rec.digest)
            .cloned()
            .collect();
        assert_eq!(inst.tags, want_tags);
        let size = rec.config.size + rec.layers.iter().map(|l| l.size).sum::<u64>();
        assert_eq!(inst.size_bytes, size);
        let created = rec.config_json()["created"].as_str().unwrap().to_string();
        let got = inst
            .created
            .expect("created")
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        assert_eq!(
            time::OffsetDateTime::parse(&got, &time::format_description::well_known::Rfc3339)
                .unwrap(),
            time::OffsetDateTime::parse(&created, &time::format_description::well_known::Rfc3339)
                .unwrap()
        );
        assert_eq!(inst.uploaded, None);
    }
    let mut sorted: Vec<_> = instances.into_values().collect();
    sorted.sort();
    assert!(sorted.windows(2).all(|w| w[0].created <= w[1].created));
}

#[test]
fn not_found_answers_are_typed() {
    let f = shared();
    let c = client();
    let err = c
        .get_raw_manifest(&image(f, "fixtures/oci:no-such-tag"))
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.registry_error().unwrap().has_code("MANIFEST_UNKNOWN"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("/v2/fixtures/oci/manifests/no-such-tag"),
        "{err}"
    );

    let err = c.list_tags(&image(f, "fixtures/no-such-repo")).unwrap_err();
    assert!(
        err.registry_error().unwrap().has_code("NAME_UNKNOWN"),
        "{err}"
    );

    let err = c.get_digest(&image(f, "fixtures/oci:nope")).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");

    // A registry that is not there: a connect error naming the URL.
    let port = common::registry::free_port();
    let r: dockreg::Reference = format!("127.0.0.1:{port}/a:b").parse().unwrap();
    match c.get_digest(&r) {
        Err(Error::Transport {
            kind: dockreg::TransportErrorKind::Connect,
            url,
            ..
        }) => {
            assert!(url.contains(&port.to_string()))
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[test]
fn one_client_shared_by_threads() {
    let f = shared();
    let c = client();
    let want: BTreeMap<String, String> = f
        .many_tags
        .tags
        .iter()
        .take(40)
        .map(|t| (t.clone(), f.many_tags.image_for_tag(t).digest.clone()))
        .collect();
    let pairs: Vec<_> = want.iter().collect();
    std::thread::scope(|s| {
        for chunk in pairs.chunks(5) {
            let c = c.clone();
            s.spawn(move || {
                for (tag, digest) in chunk {
                    let r = image(f, &format!("{}:{tag}", f.many_tags.repo));
                    assert_eq!(c.get_digest(&r).unwrap().as_str(), digest.as_str());
                }
            });
        }
    });
}

/// Tagging writes, so it gets a registry of its own, filled by skopeo from the shared one.
#[test]
fn set_tag_keeps_bytes_and_media_types() {
    let f = shared();
    let reg = TestRegistry::start();
    let c = client();
    for name in [
        f.oci_image.reference(),
        f.docker_image.reference(),
        f.oci_index.reference(),
        f.docker_list.reference(),
    ] {
        skopeo_copy(
            &f.registry.docker_ref(&name),
            &reg.docker_ref(&name),
            &[
                "--all",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
            ],
        );
        let src: dockreg::Reference = format!("{}/{name}", reg.addr()).parse().unwrap();
        let before = c.get_raw_manifest(&src).unwrap();
        let digest = c.set_tag(&src, "promoted").expect("set tag");
        assert_eq!(digest, before.digest, "{name}");
        let tagged = src.with_tag("promoted").unwrap();
        let after = c.get_raw_manifest(&tagged).unwrap();
        assert_eq!(after.bytes, before.bytes, "{name}");
        assert_eq!(after.media_type, before.media_type, "{name}");
        let repo = name.split(':').next().unwrap();
        assert_eq!(
            skopeo_inspect_digest(&reg.docker_ref(&format!("{repo}:promoted"))),
            before.digest.as_str()
        );
        let mut tags = c.list_tags(&src).unwrap();
        tags.sort();
        assert_eq!(tags, ["promoted", "v1"]);
    }
    // An invalid new tag is refused before any request.
    let src: dockreg::Reference = format!("{}/{}", reg.addr(), f.oci_image.reference())
        .parse()
        .unwrap();
    assert!(matches!(
        c.set_tag(&src, "bad tag"),
        Err(Error::InvalidReference { .. })
    ));
}

/// After every manifest of a repository is deleted, distribution answers `"tags": null`.
#[test]
fn tags_null_reads_as_empty() {
    let f = shared();
    let reg = TestRegistry::start();
    let name = f.oci_image.reference();
    skopeo_copy(
        &f.registry.docker_ref(&name),
        &reg.docker_ref(&name),
        &[
            "--preserve-digests",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
        ],
    );
    let resp = raw_delete(&format!(
        "{}/v2/{}/manifests/{}",
        reg.url(),
        f.oci_image.repo,
        f.oci_image.digest
    ));
    assert_eq!(resp.status, 202);
    let gone = raw_get_manifest(&reg.url(), &f.oci_image.repo, &f.oci_image.tag);
    assert_eq!(gone.status, 404);
    let repo: dockreg::Reference = format!("{}/{}", reg.addr(), f.oci_image.repo)
        .parse()
        .unwrap();
    assert_eq!(client().list_tags(&repo).unwrap(), Vec::<String>::new());
    assert!(client().list_instances(&repo).unwrap().is_empty());
}

/// One client reads every platform of an index that skopeo pushed: the platform per call picks
/// each child, `get_platform_digest` names it without fetching it, and `get_digest` stays the
/// index's own digest. Each child's layers come back through the verifying `open_blob`.
#[test]
fn every_platform_of_an_index_from_one_client() {
    use std::io::Read;
    let f = shared();
    let c = client();
    let index = image(f, &f.oci_index.reference());
    assert_eq!(c.get_digest(&index).unwrap().as_str(), f.oci_index.digest);
    assert!(
        f.oci_index.children.len() >= 2,
        "the fixture has several platforms"
    );
    for child in &f.oci_index.children {
        let mut platform = dockreg::Platform::new(&child.platform.os, &child.platform.architecture);
        platform.variant = child.platform.variant.clone();
        let m = c.get_manifest_for(&index, &platform).unwrap();
        assert_eq!(m.digest.as_str(), child.digest, "{platform}");
        assert_eq!(m.bytes, child.manifest);
        assert_eq!(
            m.index_digest.as_ref().map(Digest::as_str),
            Some(f.oci_index.digest.as_str())
        );
        assert_eq!(
            c.get_platform_digest(&index, &platform).unwrap().as_str(),
            child.digest
        );
        let config = c.get_image_config_for(&index, &platform).unwrap();
        assert_eq!(config.architecture, child.platform.architecture);
        for layer in &child.layers {
            let mut bytes = Vec::new();
            c.open_blob(index.repository(), &layer.digest.parse().unwrap())
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            assert_eq!(bytes, layer.data);
        }
    }
}

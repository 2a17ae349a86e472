//! Referrers: the `sha256-<hex>` tag fallback against the real registry (distribution 2.8 has no
//! referrers API), and the API path with mockito.

mod common;

use common::TestRegistry;
use common::write_support::push_image;
use dockreg::media_type::{OCI_EMPTY, OCI_INDEX, OCI_MANIFEST};
use dockreg::{Client, Digest, Reference};
use serde_json::json;

/// An artifact manifest (empty config, one blob) whose subject is `subject`.
fn artifact(
    c: &Client,
    repo: &Reference,
    subject: &(Digest, u64),
    kind: &str,
    body: &[u8],
) -> Vec<u8> {
    let empty = c.push_blob_bytes(repo, b"{}").unwrap();
    let blob = c.push_blob_bytes(repo, body).unwrap();
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": kind,
        "config": {"mediaType": OCI_EMPTY, "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": blob, "size": body.len()}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.0, "size": subject.1},
        "annotations": {"org.example.kind": kind},
    }))
    .unwrap()
}

#[test]
fn referrers_fall_back_to_the_tag_schema() {
    let reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let image: Reference = format!("{}/ref/app:v1", reg.addr()).parse().unwrap();
    let repo: Reference = format!("{}/ref/app", reg.addr()).parse().unwrap();
    let pushed = push_image(&c, &image, "referred", "linux/amd64");
    let subject = (pushed.digest.clone(), pushed.manifest.len() as u64);

    assert!(c.list_referrers(&image, None).unwrap().is_empty());

    let sbom = artifact(&c, &repo, &subject, "application/vnd.example.sbom", b"sbom");
    let sig = artifact(&c, &repo, &subject, "application/vnd.example.sig", b"sig");
    let d1 = c.push_referrer(&repo, &sbom, OCI_MANIFEST).unwrap();
    let d2 = c.push_referrer(&repo, &sig, OCI_MANIFEST).unwrap();
    // Pushing one again does not duplicate its entry.
    assert_eq!(c.push_referrer(&repo, &sbom, OCI_MANIFEST).unwrap(), d1);

    let all = c.list_referrers(&image, None).unwrap();
    let digests: Vec<&Digest> = all.iter().map(|d| &d.digest).collect();
    assert_eq!(digests, [&d1, &d2]);
    assert_eq!(
        all[0].artifact_type.as_deref(),
        Some("application/vnd.example.sbom")
    );
    assert_eq!(all[0].size, sbom.len() as u64);
    assert_eq!(all[0].media_type, OCI_MANIFEST);
    assert_eq!(
        all[1].annotations.as_ref().unwrap()["org.example.kind"],
        "application/vnd.example.sig"
    );
    let only = c
        .list_referrers(
            &image.with_digest(pushed.digest.clone()),
            Some("application/vnd.example.sig"),
        )
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].digest, d2);

    // The fallback index is a real tag, readable by anyone.
    let tag = format!("sha256-{}", pushed.digest.hex());
    let raw = c.get_raw_manifest(&repo.with_tag(&tag).unwrap()).unwrap();
    assert_eq!(raw.media_type, OCI_INDEX);
    // The artifacts themselves are stored by digest.
    let by_digest = Reference::new(repo.registry(), repo.path(), None, Some(d1)).unwrap();
    assert_eq!(c.get_raw_manifest(&by_digest).unwrap().bytes, sbom);
}

#[test]
fn referrers_api_is_used_where_the_registry_has_it() {
    let mut server = mockito::Server::new();
    let subject = Digest::sha256_of(b"subject");
    let a = Digest::sha256_of(b"a");
    let b = Digest::sha256_of(b"b");
    let index = json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": a, "size": 10, "artifactType": "x/sig"},
            {"mediaType": OCI_MANIFEST, "digest": b, "size": 11, "artifactType": "x/sbom"},
        ]
    })
    .to_string();
    let path = format!("/v2/app/referrers/{subject}");
    let unfiltered = server
        .mock("GET", path.as_str())
        .match_query(mockito::Matcher::Missing)
        .match_header("accept", OCI_INDEX)
        .with_status(200)
        .with_header("content-type", OCI_INDEX)
        .with_body(&index)
        .create();
    // This server ignores the filter (no OCI-Filters-Applied): the client filters.
    let filtered = server
        .mock("GET", path.as_str())
        .match_query(mockito::Matcher::UrlEncoded(
            "artifactType".into(),
            "x/sbom".into(),
        ))
        .with_status(200)
        .with_body(&index)
        .create();
    let fallback = server
        .mock(
            "GET",
            format!("/v2/app/manifests/sha256-{}", subject.hex()).as_str(),
        )
        .expect(0)
        .create();
    let c = Client::new().unwrap();
    let image: Reference = format!("{}/app@{subject}", server.host_with_port())
        .parse()
        .unwrap();
    let all = c.list_referrers(&image, None).unwrap();
    assert_eq!(all.len(), 2);
    let sbom = c.list_referrers(&image, Some("x/sbom")).unwrap();
    assert_eq!(sbom.len(), 1);
    assert_eq!(sbom[0].digest, b);
    unfiltered.assert();
    filtered.assert();
    fallback.assert();

    // Pushing: the registry confirms the subject (OCI-Subject), so no fallback tag is written.
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "x/sig",
        "config": {"mediaType": OCI_EMPTY, "digest": Digest::sha256_of(b"{}"), "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 7},
    }))
    .unwrap();
    let md = Digest::sha256_of(&manifest);
    let put = server
        .mock("PUT", format!("/v2/app/manifests/{md}").as_str())
        .match_header("content-type", OCI_MANIFEST)
        .with_status(201)
        .with_header("docker-content-digest", md.as_str())
        .with_header("oci-subject", subject.as_str())
        .create();
    let tag_put = server
        .mock(
            "PUT",
            format!("/v2/app/manifests/sha256-{}", subject.hex()).as_str(),
        )
        .expect(0)
        .create();
    let repo: Reference = format!("{}/app", server.host_with_port()).parse().unwrap();
    assert_eq!(c.push_referrer(&repo, &manifest, OCI_MANIFEST).unwrap(), md);
    put.assert();
    tag_put.assert();
}

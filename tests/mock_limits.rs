//! Bounds on what a registry can make the client do, against mockito: listing pages over the
//! byte limit, listings over the entry limit (one page of a million empty strings among them),
//! indexes nested deeper than the depth limit (a chain thousands of levels deep must end in an
//! error, never a stack overflow), manifests of ambiguous type (CVE-2021-41190 class), and the
//! whole-repository operations skipping and reporting odd tags instead of failing.
//!
//! The limits tested are the defaults: 4 MiB per page, 1,000,000 entries per listing, indexes
//! nested 4 levels deep.

mod mock_support;

use dockreg::media_type::{
    DOCKER_MANIFEST, OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_LAYER_TAR, OCI_MANIFEST,
};
use dockreg::{CopyOptions, Digest, Error, SkipReason};
use mockito::{Matcher, Server, ServerGuard};
use serde_json::json;

use mock_support::*;

const LIMIT_ENTRIES: usize = 1_000_000;
const LIMIT_PAGE: usize = 4 * 1024 * 1024;
const LIMIT_DEPTH: usize = 4;

fn tags_page(server: &mut ServerGuard, path_and_query: &str, body: String) -> mockito::Mock {
    server
        .mock("GET", path_and_query)
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(body)
        .expect(1)
        .create()
}

/// `{"name":"a/b","tags":["","",...]}` with `n` empty strings, built without a JSON value.
fn empty_tags(n: usize) -> String {
    let mut s = String::with_capacity(n * 3 + 32);
    s.push_str(r#"{"name":"a/b","tags":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str("\"\"");
    }
    s.push_str("]}");
    s
}

fn assert_names_entry_limit(err: &Error) {
    let Error::InvalidResponse { message, .. } = err else {
        panic!("want InvalidResponse, got {err:?}")
    };
    assert!(
        message.contains("more than 1000000 entries") && message.contains("entry limit"),
        "{message}"
    );
}

fn assert_names_depth_limit(err: &Error) {
    let Error::InvalidResponse { message, .. } = err else {
        panic!("want InvalidResponse, got {err:?}")
    };
    assert!(
        message.contains("more than 4 levels") && message.contains("depth limit"),
        "{message}"
    );
}

fn assert_ambiguous(err: &Error) -> String {
    let Error::InvalidResponse { message, .. } = err else {
        panic!("want InvalidResponse, got {err:?}")
    };
    assert!(message.contains("ambiguous manifest"), "{message}");
    message.clone()
}

// ---------------------------------------------------------------------------------------------
// Listing pages and entries
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tag_page_over_the_page_limit_is_too_large() {
    let mut server = Server::new();
    // One tag string longer than the whole page limit.
    let body = json!({"name": "a/b", "tags": ["x".repeat(LIMIT_PAGE)]}).to_string();
    let m = tags_page(&mut server, "/v2/a/b/tags/list?n=100", body);
    let err = client().list_tags(&reference(&server, "a/b")).unwrap_err();
    m.assert();
    let Error::TooLarge { limit, url } = &err else {
        panic!("want TooLarge, got {err:?}")
    };
    assert_eq!(*limit, LIMIT_PAGE as u64);
    assert_eq!(url, &format!("{}/v2/a/b/tags/list", server.url()));
}

#[test]
fn a_page_just_under_the_page_limit_is_read() {
    let mut server = Server::new();
    // Far more than the old limit's worth of entries per page is not the point: the byte
    // limit is the page's, and a page under it is read whole.
    let tag = "t".repeat(100);
    let n = (LIMIT_PAGE - 64) / (tag.len() + 3);
    let body = json!({"name": "a/b", "tags": vec![tag.clone(); n]}).to_string();
    assert!(body.len() < LIMIT_PAGE);
    let m = tags_page(&mut server, "/v2/a/b/tags/list?n=100", body);
    let tags = client().list_tags(&reference(&server, "a/b")).unwrap();
    m.assert();
    assert_eq!(tags.len(), n);
    assert!(tags.iter().all(|t| t == &tag));
}

#[test]
fn a_page_of_a_million_and_one_empty_tags_is_over_the_entry_limit() {
    let mut server = Server::new();
    let body = empty_tags(LIMIT_ENTRIES + 1);
    assert!(
        body.len() < LIMIT_PAGE,
        "the page itself is within the byte limit"
    );
    let m = tags_page(&mut server, "/v2/a/b/tags/list?n=100", body);
    let err = client().list_tags(&reference(&server, "a/b")).unwrap_err();
    m.assert();
    assert_names_entry_limit(&err);
    // The same through list_instances: the listing fails before any HEAD.
    let m = tags_page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        empty_tags(LIMIT_ENTRIES + 1),
    );
    let head = server.mock("HEAD", Matcher::Any).expect(0).create();
    let err = client()
        .list_instances_report(&reference(&server, "a/b"))
        .unwrap_err();
    assert_names_entry_limit(&err);
    m.assert();
    head.assert();
}

#[test]
fn entries_are_counted_across_pages() {
    let mut server = Server::new();
    let link = |last: &str| format!(r#"</v2/a/b/tags/list?n=100&last={last}>; rel="next""#);
    let p1 = server
        .mock("GET", "/v2/a/b/tags/list?n=100")
        .with_header("link", &link("p1"))
        .with_body(empty_tags(600_000))
        .expect(1)
        .create();
    // Exactly the limit over two pages is fine ...
    let p2 = server
        .mock("GET", "/v2/a/b/tags/list?n=100&last=p1")
        .with_body(empty_tags(LIMIT_ENTRIES - 600_000))
        .expect(1)
        .create();
    let tags = client().list_tags(&reference(&server, "a/b")).unwrap();
    assert_eq!(tags.len(), LIMIT_ENTRIES);
    assert!(tags.iter().all(String::is_empty));
    p1.assert();
    p2.assert();
    drop(tags);

    // ... one more on the third page is not.
    let mut server = Server::new();
    let q1 = server
        .mock("GET", "/v2/a/b/tags/list?n=100")
        .with_header("link", &link("p1"))
        .with_body(empty_tags(600_000))
        .expect(1)
        .create();
    let q2 = server
        .mock("GET", "/v2/a/b/tags/list?n=100&last=p1")
        .with_header("link", &link("p2"))
        .with_body(empty_tags(LIMIT_ENTRIES - 600_000))
        .expect(1)
        .create();
    let q3 = server
        .mock("GET", "/v2/a/b/tags/list?n=100&last=p2")
        .with_body(tags_json(&["one-too-many"]))
        .expect(1)
        .create();
    let err = client().list_tags(&reference(&server, "a/b")).unwrap_err();
    assert_names_entry_limit(&err);
    let Error::InvalidResponse { url, .. } = &err else {
        unreachable!()
    };
    assert_eq!(url, &format!("{}/v2/a/b/tags/list", server.url()));
    for m in [q1, q2, q3] {
        m.assert();
    }
}

fn tags_json(tags: &[&str]) -> String {
    json!({"name": "a/b", "tags": tags}).to_string()
}

#[test]
fn catalog_entries_are_limited_too() {
    let mut server = Server::new();
    let mut body = String::from(r#"{"repositories":["#);
    for i in 0..=LIMIT_ENTRIES {
        if i > 0 {
            body.push(',');
        }
        body.push_str("\"\"");
    }
    body.push_str("]}");
    let m = server
        .mock("GET", "/v2/_catalog?n=100")
        .with_body(body)
        .expect(1)
        .create();
    let err = client()
        .list_repositories(&server.host_with_port())
        .unwrap_err();
    m.assert();
    assert_names_entry_limit(&err);
}

#[test]
fn a_referrers_page_over_the_page_limit_is_too_large() {
    let mut server = Server::new();
    let subject = sha(b"subject");
    let mut entries = Vec::new();
    let filler = "a".repeat(1000);
    while entries.len() * 1100 < LIMIT_PAGE + 100_000 {
        entries.push(
            json!({"mediaType": OCI_MANIFEST, "digest": subject, "size": 1,
                            "annotations": {"x": filler}}),
        );
    }
    let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    let m = server
        .mock("GET", format!("/v2/a/b/referrers/{subject}").as_str())
        .with_header("content-type", OCI_INDEX)
        .with_body(body.to_string())
        .expect(1)
        .create();
    let image = reference(&server, &format!("a/b@{subject}"));
    let err = client().list_referrers(&image, None).unwrap_err();
    m.assert();
    let Error::TooLarge { limit, .. } = &err else {
        panic!("want TooLarge, got {err:?}")
    };
    assert_eq!(*limit, LIMIT_PAGE as u64);
}

// ---------------------------------------------------------------------------------------------
// Index nesting depth
// ---------------------------------------------------------------------------------------------

/// A chain: `levels` indexes, each pointing at the next by digest, the last at `image`.
/// Returns the manifests from the outermost index down to the image, as (bytes, media type).
fn chain(image: &TestImage, levels: usize) -> Vec<(Vec<u8>, &'static str)> {
    let mut out = vec![(image.manifest.clone(), image.media_type)];
    for _ in 0..levels {
        let (child, child_type) = out.last().unwrap();
        let doc = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{
                "mediaType": child_type,
                "digest": sha(child),
                "size": child.len(),
                "platform": {"os": "linux", "architecture": "amd64"},
            }],
        });
        out.push((serde_json::to_vec(&doc).unwrap(), OCI_INDEX));
    }
    out.reverse();
    out
}

/// Serves every manifest of `chain` by digest in repository `a/b`, and the first also under
/// `tag`. The mocks are in chain order, the tag's first.
fn serve_chain(
    server: &mut ServerGuard,
    chain: &[(Vec<u8>, &'static str)],
    tag: &str,
) -> Vec<mockito::Mock> {
    let mut mocks = vec![serve_manifest(server, "a/b", tag, &chain[0].0, chain[0].1)];
    for (bytes, media_type) in chain {
        mocks.push(serve_manifest(
            server,
            "a/b",
            sha(bytes).as_str(),
            bytes,
            media_type,
        ));
    }
    mocks
}

#[test]
fn platform_resolution_follows_nested_indexes_up_to_the_limit() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let ok = chain(&img, LIMIT_DEPTH);
    let mocks = serve_chain(&mut server, &ok, "ok");
    let got = client()
        .get_manifest(&reference(&server, "a/b:ok"))
        .unwrap();
    assert_eq!(got.digest, img.digest);
    assert_eq!(got.index_digest, Some(sha(&ok[0].0)), "the outer index");
    // The tag once, each nested index and the image once by digest, the top not again.
    mocks[0].assert();
    assert!(
        !mocks[1].matched(),
        "the top is not fetched again by digest"
    );
    for m in &mocks[2..] {
        m.assert();
    }

    let deep = chain(&img, LIMIT_DEPTH + 1);
    let mocks = serve_chain(&mut server, &deep, "deep");
    let err = client()
        .get_manifest(&reference(&server, "a/b:deep"))
        .unwrap_err();
    assert_names_depth_limit(&err);
    // The fifth index is fetched (it is what is too deep), its child never.
    let last = mocks.len() - 1;
    assert!(!mocks[last].matched());
}

/// Mocks of a destination repository `c/d` on the same server that has every blob, no
/// manifest, and takes PUTs of manifests.
struct Destination {
    manifest_heads: mockito::Mock,
    blob_heads: mockito::Mock,
    puts: mockito::Mock,
}

fn destination(server: &mut ServerGuard, expected_puts: usize) -> Destination {
    Destination {
        manifest_heads: server
            .mock("HEAD", Matcher::Regex("^/v2/c/d/manifests/".into()))
            .with_status(404)
            .create(),
        blob_heads: server
            .mock("HEAD", Matcher::Regex("^/v2/c/d/blobs/".into()))
            .with_status(200)
            .with_header("content-length", "1")
            .create(),
        puts: server
            .mock("PUT", Matcher::Regex("^/v2/c/d/manifests/".into()))
            .with_status(201)
            .expect(expected_puts)
            .create(),
    }
}

#[test]
fn copy_follows_nested_indexes_up_to_the_limit() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let ok = chain(&img, LIMIT_DEPTH);
    let _src = serve_chain(&mut server, &ok, "ok");
    let dst = destination(&mut server, LIMIT_DEPTH + 1);
    let written = client()
        .copy_image(
            &reference(&server, "a/b:ok"),
            &reference(&server, "c/d:ok"),
            CopyOptions::new(),
        )
        .unwrap();
    assert_eq!(written, sha(&ok[0].0));
    // Every index and the image, each once; the blobs were found in the destination.
    dst.puts.assert();
    drop((dst.manifest_heads, dst.blob_heads));
}

#[test]
fn copy_of_an_index_chain_thousands_deep_stops_at_the_limit() {
    // Before the limit, copy_image recursed once per level: a chain this deep overflowed the
    // stack. Now the walk stops after the limit, with an error and nothing written.
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let deep = chain(&img, 3000);
    let src = serve_chain(&mut server, &deep, "deep");
    let dst = destination(&mut server, 0);
    let err = client()
        .copy_image(
            &reference(&server, "a/b:deep"),
            &reference(&server, "c/d:deep"),
            CopyOptions::new(),
        )
        .unwrap_err();
    assert_names_depth_limit(&err);
    let Error::InvalidResponse { url, .. } = &err else {
        unreachable!()
    };
    // The index at level 5 is the one refused.
    assert_eq!(
        url,
        &format!(
            "{}/v2/a/b/manifests/{}",
            server.url(),
            sha(&deep[LIMIT_DEPTH].0)
        )
    );
    dst.puts.assert();
    // Levels 2 to 5 fetched by digest; nothing below.
    for m in &src[2..=LIMIT_DEPTH + 1] {
        m.assert();
    }
    assert!(!src[LIMIT_DEPTH + 2].matched());
}

#[test]
fn an_index_chain_too_deep_is_skipped_by_list_instances() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let deep = chain(&img, LIMIT_DEPTH + 1);
    let _src = serve_chain(&mut server, &deep, "deep");
    let listing = tags_page(&mut server, "/v2/a/b/tags/list?n=100", tags_json(&["deep"]));
    let head = server
        .mock("HEAD", manifest_path("a/b", "deep").as_str())
        .with_header("docker-content-digest", sha(&deep[0].0).as_str())
        .expect(1)
        .create();
    let report = client()
        .list_instances_report(&reference(&server, "a/b"))
        .unwrap();
    listing.assert();
    head.assert();
    assert!(report.instances.is_empty());
    assert_eq!(report.skipped.len(), 1);
    let s = &report.skipped[0];
    assert_eq!(s.tag, "deep");
    assert_eq!(s.digest, Some(sha(&deep[0].0)));
    let SkipReason::Error(e) = &s.reason else {
        panic!("want an error, got {:?}", s.reason)
    };
    assert_names_depth_limit(e);
}

// ---------------------------------------------------------------------------------------------
// Manifest type confusion
// ---------------------------------------------------------------------------------------------

/// An image manifest whose document claims to be an index.
fn image_claiming_index(img: &TestImage) -> Vec<u8> {
    let mut doc: serde_json::Value = serde_json::from_slice(&img.manifest).unwrap();
    doc["mediaType"] = json!(OCI_INDEX);
    serde_json::to_vec(&doc).unwrap()
}

#[test]
fn ambiguous_manifests_are_refused_by_every_read() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    // 1. Served as an index, with layers and config.
    let as_index = serve_manifest(&mut server, "a/b", "as-index", &img.manifest, OCI_INDEX);
    // 2. Both "manifests" and "layers", served as an image.
    let mut both: serde_json::Value = serde_json::from_slice(&img.manifest).unwrap();
    both["manifests"] = json!([]);
    let both = serde_json::to_vec(&both).unwrap();
    let both_m = serve_manifest(&mut server, "a/b", "both", &both, OCI_MANIFEST);
    // 3. Content-Type OCI manifest, the document says Docker v2.
    let mut docker: serde_json::Value = serde_json::from_slice(&img.manifest).unwrap();
    docker["mediaType"] = json!(DOCKER_MANIFEST);
    let docker = serde_json::to_vec(&docker).unwrap();
    let docker_m = serve_manifest(&mut server, "a/b", "disagree", &docker, OCI_MANIFEST);
    // 4. Generic Content-Type, the document says index but is an image.
    let claim = image_claiming_index(&img);
    let claim_m = serve_manifest(&mut server, "a/b", "claim", &claim, "application/json");

    let c = client();
    let m = assert_ambiguous(
        &c.get_raw_manifest(&reference(&server, "a/b:as-index"))
            .unwrap_err(),
    );
    assert!(m.contains(OCI_INDEX), "{m}");
    let m = assert_ambiguous(&c.get_manifest(&reference(&server, "a/b:both")).unwrap_err());
    assert!(m.contains("\"manifests\""), "{m}");
    let m = assert_ambiguous(
        &c.get_manifest(&reference(&server, "a/b:disagree"))
            .unwrap_err(),
    );
    assert!(
        m.contains(DOCKER_MANIFEST) && m.contains(OCI_MANIFEST),
        "{m}"
    );
    let err = c.get_digest(&reference(&server, "a/b:claim"));
    // get_digest only HEADs (no body, nothing to check) when the registry sends a digest;
    // here the HEAD has no mock, so the GET runs and refuses the body.
    assert_ambiguous(&err.unwrap_err());
    let err = c
        .set_tag(&reference(&server, "a/b:claim"), "copy")
        .unwrap_err();
    assert_ambiguous(&err);
    // Nothing is copied from an ambiguous source.
    let dst = destination(&mut server, 0);
    let err = c
        .copy_image(
            &reference(&server, "a/b:as-index"),
            &reference(&server, "c/d:x"),
            CopyOptions::new(),
        )
        .unwrap_err();
    assert_ambiguous(&err);
    dst.puts.assert();
    drop((as_index, both_m, docker_m, claim_m));
}

#[test]
fn an_index_entry_serving_the_other_kind_is_refused() {
    // The index says its entry is an index; an image comes back: not followed as either.
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_INDEX, "digest": img.digest, "size": img.manifest.len(),
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    });
    let top = serde_json::to_vec(&doc).unwrap();
    let t = serve_manifest(&mut server, "a/b", "top", &top, OCI_INDEX);
    let child = serve_manifest(
        &mut server,
        "a/b",
        img.digest.as_str(),
        &img.manifest,
        OCI_MANIFEST,
    );
    let err = client()
        .get_manifest(&reference(&server, "a/b:top"))
        .unwrap_err();
    let m = assert_ambiguous(&err);
    assert!(m.contains("index entry declares"), "{m}");
    t.assert();
    child.assert();
}

// ---------------------------------------------------------------------------------------------
// Whole-repository operations skip and report odd entries
// ---------------------------------------------------------------------------------------------

/// An artifact manifest: config of `config_type` with bytes `config`, one text layer.
fn artifact(config_type: &str, config: &[u8]) -> (Vec<u8>, Digest, u64) {
    let layer = b"hello artifact\n";
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": sha(config), "size": config.len()},
        "layers": [{"mediaType": "text/plain", "digest": sha(layer), "size": layer.len()}],
    });
    let bytes = serde_json::to_vec(&doc).unwrap();
    let size = (config.len() + layer.len()) as u64;
    let digest = sha(&bytes);
    (bytes, digest, size)
}

fn head_tag(server: &mut ServerGuard, tag: &str, digest: &Digest) -> mockito::Mock {
    server
        .mock("HEAD", manifest_path("a/b", tag).as_str())
        .with_status(200)
        .with_header("docker-content-digest", digest.as_str())
        .expect(1)
        .create()
}

#[test]
fn list_instances_reports_invalid_tags_artifacts_and_bad_configs() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let (helm, helm_digest, helm_size) =
        artifact("application/vnd.cncf.helm.config.v1+json", b"name: chart\n");
    let (oras, oras_digest, oras_size) = artifact(OCI_EMPTY, b"{}");
    // An image whose config is YAML, not JSON.
    let yaml = b"architecture: amd64\n";
    let bad_doc = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha(yaml), "size": yaml.len()},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": sha(b"l"), "size": 1}],
    });
    let bad = serde_json::to_vec(&bad_doc).unwrap();
    let bad_digest = sha(&bad);
    // 1000 empty tags, a tag with a space, an over-long one, and the real ones.
    let mut tags = vec![""; 1000];
    let long = "x".repeat(129);
    tags.extend(["bad tag", &long, "v1", "chart", "oras", "yaml"]);
    let listing = tags_page(&mut server, "/v2/a/b/tags/list?n=100", tags_json(&tags));
    let heads = [
        head_tag(&mut server, "v1", &img.digest),
        head_tag(&mut server, "chart", &helm_digest),
        head_tag(&mut server, "oras", &oras_digest),
        head_tag(&mut server, "yaml", &bad_digest),
    ];
    let manifests = [
        serve_manifest(
            &mut server,
            "a/b",
            img.digest.as_str(),
            &img.manifest,
            OCI_MANIFEST,
        ),
        serve_manifest(
            &mut server,
            "a/b",
            helm_digest.as_str(),
            &helm,
            OCI_MANIFEST,
        ),
        serve_manifest(
            &mut server,
            "a/b",
            oras_digest.as_str(),
            &oras,
            OCI_MANIFEST,
        ),
        serve_manifest(&mut server, "a/b", bad_digest.as_str(), &bad, OCI_MANIFEST),
    ];
    let config = serve_blob(&mut server, "a/b", &img.config);
    let yaml_config = serve_blob(&mut server, "a/b", yaml);
    // Artifacts' configs are never fetched; invalid tags are never asked about.
    let artifact_configs = server
        .mock(
            "GET",
            Matcher::Regex(format!(
                "^/v2/a/b/blobs/({}|{})$",
                sha(b"name: chart\n"),
                sha(b"{}")
            )),
        )
        .expect(0)
        .create();
    let stray_head = server.mock("HEAD", Matcher::Any).expect(0).create();

    let report = client()
        .list_instances_report(&reference(&server, "a/b"))
        .unwrap();
    listing.assert();
    for m in heads.iter().chain(&manifests) {
        m.assert();
    }
    config.assert();
    yaml_config.assert();
    artifact_configs.assert();
    stray_head.assert();

    assert_eq!(report.instances.len(), 4);
    let i = &report.instances[&img.digest];
    assert_eq!(i.tags, ["v1"]);
    assert!(i.created.is_some());
    for (digest, size, tag) in [
        (&helm_digest, helm_size, "chart"),
        (&oras_digest, oras_size, "oras"),
        (&bad_digest, yaml.len() as u64 + 1, "yaml"),
    ] {
        let i = &report.instances[digest];
        assert_eq!(i.tags, [tag]);
        assert_eq!(i.size_bytes, size, "{tag}: size from the manifest");
        assert_eq!(i.created, None, "{tag}");
    }

    // Reported in the registry's tag order.
    assert_eq!(report.skipped.len(), 1000 + 2 + 3);
    for s in &report.skipped[..1002] {
        assert!(matches!(s.reason, SkipReason::InvalidTag), "{s:?}");
        assert_eq!(s.digest, None);
        assert!(!s.reason.is_listed());
    }
    assert_eq!(report.skipped[1000].tag, "bad tag");
    assert_eq!(report.skipped[1001].tag, long);
    let chart = &report.skipped[1002];
    assert_eq!(chart.tag, "chart");
    assert_eq!(chart.digest.as_ref(), Some(&helm_digest));
    assert!(
        matches!(&chart.reason, SkipReason::Artifact { artifact_type }
            if artifact_type == "application/vnd.cncf.helm.config.v1+json"),
        "{chart:?}"
    );
    assert!(chart.reason.is_listed());
    assert!(matches!(
        &report.skipped[1003].reason,
        SkipReason::Artifact { artifact_type } if artifact_type == OCI_EMPTY
    ));
    let yaml_skip = &report.skipped[1004];
    assert_eq!(yaml_skip.tag, "yaml");
    let SkipReason::BadConfig(e) = &yaml_skip.reason else {
        panic!("want BadConfig, got {yaml_skip:?}")
    };
    assert!(matches!(**e, Error::InvalidResponse { .. }), "{e:?}");
    assert!(yaml_skip.reason.to_string().contains("image config"));

    // The seed's call gives the same map.
    let listing = tags_page(&mut server, "/v2/a/b/tags/list?n=100", tags_json(&["v1"]));
    let head = head_tag(&mut server, "v1", &img.digest);
    let map = client().list_instances(&reference(&server, "a/b")).unwrap();
    assert_eq!(map.len(), 1);
    listing.assert();
    head.assert();
}

#[test]
fn list_instances_still_fails_for_what_would_hit_every_tag() {
    let mut server = Server::new();
    let listing = tags_page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_json(&["v1", "v2"]),
    );
    let heads = server
        .mock("HEAD", Matcher::Regex("^/v2/a/b/manifests/".into()))
        .with_status(401)
        .expect_at_least(1)
        .create();
    let err = client()
        .list_instances_report(&reference(&server, "a/b"))
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    listing.assert();
    heads.assert();
}

#[test]
fn copy_all_tags_copies_what_it_can_and_reports_the_rest() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let (helm, helm_digest, _) =
        artifact("application/vnd.cncf.helm.config.v1+json", b"name: chart\n");
    let confused = image_claiming_index(&img);
    let listing = tags_page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_json(&["v1", "", "bad tag", "chart", "confused", "gone"]),
    );
    let v1 = serve_manifest(&mut server, "a/b", "v1", &img.manifest, OCI_MANIFEST);
    let chart = serve_manifest(&mut server, "a/b", "chart", &helm, OCI_MANIFEST);
    let conf = serve_manifest(&mut server, "a/b", "confused", &confused, OCI_MANIFEST);
    let gone = server
        .mock("GET", manifest_path("a/b", "gone").as_str())
        .with_status(404)
        .with_body(error_body("MANIFEST_UNKNOWN", "manifest unknown"))
        .expect(1)
        .create();
    let dst = destination(&mut server, 2);
    let report = client()
        .copy_all_tags(&reference(&server, "a/b"), &reference(&server, "c/d"))
        .unwrap();
    for m in [listing, v1, chart, conf, gone] {
        m.assert();
    }
    dst.puts.assert();
    assert_eq!(
        report.copied,
        vec![
            ("v1".to_string(), img.digest.clone()),
            ("chart".to_string(), helm_digest.clone()),
        ]
    );
    let skipped: Vec<(&str, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.tag.as_str(), s.reason.kind()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("", "invalid_tag"),
            ("bad tag", "invalid_tag"),
            ("confused", "error"),
            ("gone", "error")
        ]
    );
    let SkipReason::Error(e) = &report.skipped[2].reason else {
        unreachable!()
    };
    assert_ambiguous(e);
    let SkipReason::Error(e) = &report.skipped[3].reason else {
        unreachable!()
    };
    assert!(e.is_not_found(), "{e:?}");
}

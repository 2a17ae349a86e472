//! Manifests against mockito, for what a real registry will not do: wrong, missing or malformed
//! `Docker-Content-Digest`, oversize manifests, indexes with and without the platform, generic
//! content types, and each error status. Every test counts the requests it expects.
//!
//! Also: `mock_digest_tag.rs` (get_digest, set_tag), `mock_transport_auth.rs` (redirects,
//! connection failures, secrets, the token flow), `mock_listing.rs` (tags, catalog, instances).

mod mock_support;

use std::time::Duration;

use dockreg::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use dockreg::{Credentials, Error, Platform};
use mockito::{Matcher, Server};

use mock_support::*;

const REPO: &str = "a/b";
const FOUR_MIB: usize = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// get_raw_manifest / get_manifest: the OK path and digests
// ---------------------------------------------------------------------------------------------

#[test]
fn raw_manifest_keeps_bytes_type_and_digest() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-02T03:04:05Z");
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .match_header("accept", accepts_all_manifest_types())
        .match_header("user-agent", Matcher::Regex("^dockreg/".into()))
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_header("docker-content-digest", img.digest.as_str())
        .with_body(&img.manifest)
        .expect(1)
        .create();

    let raw = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap();
    m.assert();
    assert_eq!(raw.bytes, img.manifest, "bytes must be kept exactly");
    assert!(raw.bytes.ends_with(b"}\n\t\n"));
    assert_eq!(raw.media_type, OCI_MANIFEST);
    assert_eq!(raw.digest, sha(&img.manifest));
    assert!(!raw.is_index());
}

#[test]
fn get_manifest_parses_an_image_manifest() {
    let mut server = Server::new();
    let img = TestImage::docker("amd64", "2024-01-02T03:04:05Z");
    // Content-Type with parameters: only the essence counts.
    let m = serve_manifest(
        &mut server,
        REPO,
        "v1",
        &img.manifest,
        &format!("{DOCKER_MANIFEST}; charset=utf-8"),
    );
    let got = client()
        .get_manifest(&reference(&server, "a/b:v1"))
        .unwrap();
    m.assert();
    assert_eq!(got.media_type, DOCKER_MANIFEST);
    assert_eq!(got.digest, img.digest);
    assert_eq!(got.bytes, img.manifest);
    assert_eq!(got.index_digest, None);
    assert_eq!(got.manifest.config.digest, img.config_digest);
    assert_eq!(got.manifest.layers.len(), 1);
    assert_eq!(got.manifest.total_size(), img.total_size());
}

#[test]
fn wrong_docker_content_digest_is_a_mismatch() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-02T03:04:05Z");
    let announced = sha(b"something else");
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_header("docker-content-digest", announced.as_str())
        .with_body(&img.manifest)
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    m.assert();
    let Error::DigestMismatch {
        url,
        expected,
        actual,
    } = &err
    else {
        panic!("want DigestMismatch, got {err:?}")
    };
    assert_eq!(url, &format!("{}/v2/a/b/manifests/v1", server.url()));
    assert_eq!(expected, announced.as_str());
    assert_eq!(actual, img.digest.as_str());
    assert!(err.to_string().contains(&announced.to_string()), "{err}");
}

#[test]
fn digest_in_reference_must_match_the_body() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-02T03:04:05Z");
    let asked = sha(b"what we asked for");
    // The registry serves other bytes under the asked digest, without a header.
    let m = server
        .mock("GET", manifest_path(REPO, asked.as_str()).as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_body(&img.manifest)
        .expect(1)
        .create();
    let image = reference(&server, &format!("a/b@{asked}"));
    let err = client().get_raw_manifest(&image).unwrap_err();
    m.assert();
    assert!(
        matches!(&err, Error::DigestMismatch { expected, actual, .. }
            if expected == asked.as_str() && actual == img.digest.as_str()),
        "{err:?}"
    );
    // Same through get_manifest.
    let err = client().get_manifest(&image).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
}

#[test]
fn header_disagreeing_with_a_matching_reference_digest_is_a_mismatch() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-02T03:04:05Z");
    let other = sha(b"other");
    let m = server
        .mock("GET", manifest_path(REPO, img.digest.as_str()).as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_header("docker-content-digest", other.as_str())
        .with_body(&img.manifest)
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, &format!("a/b@{}", img.digest)))
        .unwrap_err();
    m.assert();
    assert!(
        matches!(&err, Error::DigestMismatch { expected, actual, .. }
            if expected == img.digest.as_str() && actual == other.as_str()),
        "{err:?}"
    );
}

#[test]
fn digest_reference_with_matching_body_succeeds() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-02T03:04:05Z");
    let m = serve_manifest(
        &mut server,
        REPO,
        img.digest.as_str(),
        &img.manifest,
        OCI_MANIFEST,
    );
    let image = reference(&server, &format!("a/b:ignored@{}", img.digest));
    let raw = client().get_raw_manifest(&image).unwrap();
    m.assert();
    assert_eq!(raw.digest, img.digest);
}

#[test]
fn missing_docker_content_digest_is_computed_like_ecr() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-02T03:04:05Z");
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_body(&img.manifest)
        .expect(1)
        .create();
    let empty = server
        .mock("GET", manifest_path(REPO, "v2").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_header("docker-content-digest", "")
        .with_body(&img.manifest)
        .expect(1)
        .create();
    let c = client();
    let raw = c.get_raw_manifest(&reference(&server, "a/b:v1")).unwrap();
    assert_eq!(raw.digest, img.digest);
    let raw = c.get_raw_manifest(&reference(&server, "a/b:v2")).unwrap();
    assert_eq!(raw.digest, img.digest);
    m.assert();
    empty.assert();
}

#[test]
fn malformed_docker_content_digest_is_an_invalid_response() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-02T03:04:05Z");
    for (tag, bad) in [
        ("v1", "sha256:1234"),
        ("v2", "not-a-digest"),
        ("v3", "SHA256:ABC"),
    ] {
        let m = server
            .mock("GET", manifest_path(REPO, tag).as_str())
            .with_status(200)
            .with_header("content-type", OCI_MANIFEST)
            .with_header("docker-content-digest", bad)
            .with_body(&img.manifest)
            .expect(1)
            .create();
        let err = client()
            .get_raw_manifest(&reference(&server, &format!("a/b:{tag}")))
            .unwrap_err();
        m.assert();
        let Error::InvalidResponse { url, message } = &err else {
            panic!("{bad}: want InvalidResponse, got {err:?}")
        };
        assert_eq!(url, &format!("{}/v2/a/b/manifests/{tag}", server.url()));
        assert!(message.contains("Docker-Content-Digest"), "{message}");
    }
}

// ---------------------------------------------------------------------------------------------
// Size limits
// ---------------------------------------------------------------------------------------------

/// Manifest-like bytes of exactly `len` bytes (an OCI manifest padded with spaces).
fn padded_manifest(len: usize) -> Vec<u8> {
    let mut bytes = TestImage::oci("amd64", "2024-01-02T03:04:05Z").manifest;
    assert!(bytes.len() <= len);
    bytes.resize(len, b' ');
    bytes
}

#[test]
fn oversize_manifest_by_content_length() {
    let mut server = Server::new();
    let body = padded_manifest(FOUR_MIB + 1);
    let m = server
        .mock("GET", manifest_path(REPO, "big").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_body(&body)
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:big"))
        .unwrap_err();
    m.assert();
    let Error::TooLarge { url, limit } = &err else {
        panic!("want TooLarge, got {err:?}")
    };
    assert_eq!(*limit, FOUR_MIB as u64);
    assert_eq!(url, &format!("{}/v2/a/b/manifests/big", server.url()));
}

#[test]
fn manifest_of_exactly_the_limit_is_accepted() {
    let mut server = Server::new();
    let body = padded_manifest(FOUR_MIB);
    let m = serve_manifest(&mut server, REPO, "edge", &body, OCI_MANIFEST);
    let raw = client()
        .get_raw_manifest(&reference(&server, "a/b:edge"))
        .unwrap();
    m.assert();
    assert_eq!(raw.bytes.len(), FOUR_MIB);
    assert_eq!(raw.digest, sha(&body));
}

#[test]
fn oversize_manifest_streamed_without_length() {
    let mut server = Server::new();
    let m = server
        .mock("GET", manifest_path(REPO, "stream").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_chunked_body(|w| {
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..(FOUR_MIB / chunk.len() + 2) {
                w.write_all(&chunk)?;
            }
            Ok(())
        })
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:stream"))
        .unwrap_err();
    m.assert();
    assert!(
        matches!(&err, Error::TooLarge { limit, url }
            if *limit == FOUR_MIB as u64 && url.ends_with("/v2/a/b/manifests/stream")),
        "{err:?}"
    );
}

#[test]
fn custom_max_manifest_size() {
    let mut server = Server::new();
    let c = builder().max_manifest_size(1000).build().unwrap();
    let at_limit = padded_manifest(1000);
    let over = padded_manifest(1001);
    let ok = serve_manifest(&mut server, REPO, "at", &at_limit, OCI_MANIFEST);
    let big = serve_manifest(&mut server, REPO, "over", &over, OCI_MANIFEST);
    let bytes = at_limit.clone();
    let streamed = server
        .mock("GET", manifest_path(REPO, "streamed").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_chunked_body(move |w| {
            w.write_all(&bytes)?;
            w.write_all(b" ")
        })
        .expect(1)
        .create();
    let streamed_ok_bytes = at_limit.clone();
    let streamed_ok = server
        .mock("GET", manifest_path(REPO, "streamed-ok").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_chunked_body(move |w| w.write_all(&streamed_ok_bytes))
        .expect(1)
        .create();

    let raw = c.get_raw_manifest(&reference(&server, "a/b:at")).unwrap();
    assert_eq!(raw.bytes, at_limit);
    for tag in ["over", "streamed"] {
        let err = c
            .get_raw_manifest(&reference(&server, &format!("a/b:{tag}")))
            .unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { limit: 1000, .. }),
            "{tag}: {err:?}"
        );
    }
    let raw = c
        .get_raw_manifest(&reference(&server, "a/b:streamed-ok"))
        .unwrap();
    assert_eq!(raw.bytes.len(), 1000);
    for m in [ok, big, streamed, streamed_ok] {
        m.assert();
    }
}

// ---------------------------------------------------------------------------------------------
// Indexes and media type detection
// ---------------------------------------------------------------------------------------------

#[test]
fn index_resolves_to_linux_amd64_by_default() {
    let mut server = Server::new();
    let amd = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let arm = TestImage::oci("arm64", "2024-01-02T00:00:00Z");
    let idx = index(
        OCI_INDEX,
        &[(&arm, "linux/arm64/v8"), (&amd, "linux/amd64")],
    );
    let top = serve_manifest(&mut server, REPO, "multi", &idx, OCI_INDEX);
    let amd_m = serve_manifest(
        &mut server,
        REPO,
        amd.digest.as_str(),
        &amd.manifest,
        OCI_MANIFEST,
    );
    let arm_m = server
        .mock("GET", manifest_path(REPO, arm.digest.as_str()).as_str())
        .expect(0)
        .create();

    let image = reference(&server, "a/b:multi");
    let c = client();
    let raw = c.get_raw_manifest(&image).unwrap();
    assert!(raw.is_index(), "the raw call returns the index itself");
    assert_eq!(raw.media_type, OCI_INDEX);
    assert_eq!(raw.bytes, idx);

    let got = c.get_manifest(&image).unwrap();
    assert_eq!(got.digest, amd.digest);
    assert_eq!(got.bytes, amd.manifest);
    assert_eq!(got.media_type, OCI_MANIFEST);
    assert_eq!(got.index_digest, Some(sha(&idx)));
    assert_eq!(got.manifest.config.digest, amd.config_digest);

    top.expect(2).assert();
    amd_m.assert();
    arm_m.assert();
}

#[test]
fn docker_manifest_list_resolves_to_the_builder_platform() {
    let mut server = Server::new();
    let amd = TestImage::docker("amd64", "2024-01-01T00:00:00Z");
    let arm = TestImage::docker("arm64", "2024-01-02T00:00:00Z");
    let list = index(
        DOCKER_MANIFEST_LIST,
        &[(&amd, "linux/amd64"), (&arm, "linux/arm64/v8")],
    );
    let top = serve_manifest(&mut server, REPO, "multi", &list, DOCKER_MANIFEST_LIST);
    let amd_m = server
        .mock("GET", manifest_path(REPO, amd.digest.as_str()).as_str())
        .expect(0)
        .create();
    let arm_m = serve_manifest(
        &mut server,
        REPO,
        arm.digest.as_str(),
        &arm.manifest,
        DOCKER_MANIFEST,
    );

    let c = builder()
        .platform("linux/arm64".parse::<Platform>().unwrap())
        .build()
        .unwrap();
    let got = c.get_manifest(&reference(&server, "a/b:multi")).unwrap();
    assert_eq!(got.digest, arm.digest);
    assert_eq!(got.media_type, DOCKER_MANIFEST);
    assert_eq!(got.index_digest, Some(sha(&list)));
    top.assert();
    amd_m.assert();
    arm_m.assert();
}

#[test]
fn index_without_the_platform_lists_what_it_has() {
    let mut server = Server::new();
    let arm = TestImage::oci("arm64", "2024-01-01T00:00:00Z");
    let s390 = TestImage::oci("s390x", "2024-01-01T00:00:00Z");
    let idx = index(
        OCI_INDEX,
        &[(&arm, "linux/arm64/v8"), (&s390, "linux/s390x")],
    );
    let top = serve_manifest(&mut server, REPO, "multi", &idx, OCI_INDEX);
    let children = server
        .mock("GET", Matcher::Regex(r"/manifests/sha256:".into()))
        .expect(0)
        .create();
    let image = reference(&server, "a/b:multi");
    let err = client().get_manifest(&image).unwrap_err();
    top.assert();
    children.assert();
    let Error::PlatformNotFound {
        reference: r,
        platform,
        available,
    } = &err
    else {
        panic!("want PlatformNotFound, got {err:?}")
    };
    assert_eq!(r, &image.to_string());
    assert_eq!(platform, "linux/amd64");
    assert_eq!(available, "linux/arm64/v8, linux/s390x");
    let text = err.to_string();
    assert!(
        text.contains("linux/amd64") && text.contains("linux/s390x"),
        "{text}"
    );
}

#[test]
fn generic_json_content_type_is_detected_by_shape() {
    let mut server = Server::new();
    let amd = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    // An OCI manifest and index without `mediaType` fields, served as application/json.
    let mut doc: serde_json::Value = serde_json::from_slice(&amd.manifest).unwrap();
    doc.as_object_mut().unwrap().remove("mediaType");
    let plain = serde_json::to_vec(&doc).unwrap();
    let mut idx: serde_json::Value =
        serde_json::from_slice(&index(OCI_INDEX, &[(&amd, "linux/amd64")])).unwrap();
    idx.as_object_mut().unwrap().remove("mediaType");
    let idx = serde_json::to_vec(&idx).unwrap();
    // A document naming its own type wins over the generic header.
    let docker = TestImage::docker("amd64", "2024-01-01T00:00:00Z");

    let m1 = serve_manifest(&mut server, REPO, "plain", &plain, "application/json");
    let m2 = serve_manifest(&mut server, REPO, "idx", &idx, "application/json");
    let m3 = serve_manifest(
        &mut server,
        REPO,
        "docker",
        &docker.manifest,
        "application/json; charset=utf-8",
    );
    let child = serve_manifest(
        &mut server,
        REPO,
        amd.digest.as_str(),
        &amd.manifest,
        OCI_MANIFEST,
    );

    let c = client();
    let raw = c
        .get_raw_manifest(&reference(&server, "a/b:plain"))
        .unwrap();
    assert_eq!(raw.media_type, OCI_MANIFEST);
    let raw = c.get_raw_manifest(&reference(&server, "a/b:idx")).unwrap();
    assert_eq!(raw.media_type, OCI_INDEX);
    assert!(raw.is_index());
    let raw = c
        .get_raw_manifest(&reference(&server, "a/b:docker"))
        .unwrap();
    assert_eq!(raw.media_type, DOCKER_MANIFEST);

    let got = c.get_manifest(&reference(&server, "a/b:idx")).unwrap();
    assert_eq!(got.digest, amd.digest);
    assert_eq!(got.index_digest, Some(sha(&idx)));

    m1.assert();
    m2.expect(2).assert();
    m3.assert();
    child.assert();
}

#[test]
fn index_entry_that_is_itself_an_index_is_an_invalid_response() {
    let mut server = Server::new();
    let amd = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let inner = index(OCI_INDEX, &[(&amd, "linux/amd64")]);
    let inner_digest = sha(&inner);
    // The outer index says its linux/amd64 entry is an image, but it is another index.
    let mut outer: serde_json::Value =
        serde_json::from_slice(&index(OCI_INDEX, &[(&amd, "linux/amd64")])).unwrap();
    outer["manifests"][0]["digest"] = serde_json::json!(inner_digest);
    outer["manifests"][0]["size"] = serde_json::json!(inner.len());
    let outer = serde_json::to_vec(&outer).unwrap();
    let top = serve_manifest(&mut server, REPO, "nested", &outer, OCI_INDEX);
    let child = serve_manifest(&mut server, REPO, inner_digest.as_str(), &inner, OCI_INDEX);
    let grandchild = server
        .mock("GET", manifest_path(REPO, amd.digest.as_str()).as_str())
        .expect(0)
        .create();
    let err = client()
        .get_manifest(&reference(&server, "a/b:nested"))
        .unwrap_err();
    let Error::InvalidResponse { url, .. } = &err else {
        panic!("want InvalidResponse, got {err:?}")
    };
    assert_eq!(
        url,
        &format!("{}/v2/a/b/manifests/{inner_digest}", server.url())
    );
    for m in [top, child, grandchild] {
        m.assert();
    }
}

#[test]
fn non_json_manifest_body_fails_to_parse_with_the_url() {
    let mut server = Server::new();
    let body = b"<html>surprise</html>";
    let m = serve_manifest(&mut server, REPO, "html", body, OCI_MANIFEST);
    let c = client();
    // The raw call keeps whatever was served ...
    let raw = c.get_raw_manifest(&reference(&server, "a/b:html")).unwrap();
    assert_eq!(raw.bytes, body);
    // ... the parsing call says the registry's answer is wrong, and where it came from.
    let err = c.get_manifest(&reference(&server, "a/b:html")).unwrap_err();
    let Error::InvalidResponse { url, .. } = &err else {
        panic!("want InvalidResponse, got {err:?}")
    };
    assert_eq!(url, &format!("{}/v2/a/b/manifests/html", server.url()));
    m.expect(2).assert();
}

// ---------------------------------------------------------------------------------------------
// Error statuses
// ---------------------------------------------------------------------------------------------

#[test]
fn not_found_keeps_the_registry_error_codes() {
    let mut server = Server::new();
    let m = server
        .mock("GET", manifest_path(REPO, "nope").as_str())
        .with_status(404)
        .with_header("content-type", "application/json")
        .with_body(error_body("MANIFEST_UNKNOWN", "manifest unknown"))
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:nope"))
        .unwrap_err();
    m.assert();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.is_not_found());
    assert_eq!(err.http_status(), Some(404));
    let re = err.registry_error().unwrap();
    assert_eq!(re.errors.len(), 1);
    assert_eq!(re.errors[0].code, "MANIFEST_UNKNOWN");
    assert_eq!(re.errors[0].message, "manifest unknown");
    assert_eq!(re.errors[0].detail, Some(serde_json::json!({"x": 1})));
    assert!(re.has_code("MANIFEST_UNKNOWN"));
    assert_eq!(re.method, "GET");
    let url = format!("{}/v2/a/b/manifests/nope", server.url());
    assert_eq!(re.url, url);
    assert_eq!(re.body, None);
    let text = err.to_string();
    assert!(text.contains(&format!("GET {url}")), "{text}");
    assert!(
        text.contains("404") && text.contains("MANIFEST_UNKNOWN"),
        "{text}"
    );
}

#[test]
fn not_found_with_a_plain_text_body() {
    let mut server = Server::new();
    let m = server
        .mock("GET", manifest_path(REPO, "nope").as_str())
        .with_status(404)
        .with_header("content-type", "text/plain; charset=utf-8")
        .with_body("404 page not found\n")
        .expect(1)
        .create();
    let err = client()
        .get_manifest(&reference(&server, "a/b:nope"))
        .unwrap_err();
    m.assert();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let re = err.registry_error().unwrap();
    assert!(re.errors.is_empty());
    assert_eq!(re.body.as_deref(), Some("404 page not found"));
    assert!(err.to_string().contains("404 page not found"), "{err}");
}

#[test]
fn unauthorized_without_a_challenge_is_not_retried() {
    let mut server = Server::new();
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(401)
        .with_body(error_body("UNAUTHORIZED", "authentication required"))
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    m.assert();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    assert_eq!(err.http_status(), Some(401));
    assert!(err.registry_error().unwrap().has_code("UNAUTHORIZED"));
    assert!(err.to_string().starts_with("unauthorized: GET "), "{err}");
}

#[test]
fn basic_challenge_without_credentials_is_unauthorized() {
    let mut server = Server::new();
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="Registry Realm""#)
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    m.assert();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
}

#[test]
fn basic_challenge_is_answered_with_credentials() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let challenge = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="Registry Realm""#)
        .expect(1)
        .create();
    // base64("alice:s3cret-pass")
    let ok = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .match_header("authorization", "Basic YWxpY2U6czNjcmV0LXBhc3M=")
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_body(&img.manifest)
        .expect(2)
        .create();
    let c = builder()
        .credentials(
            &server.host_with_port(),
            Credentials::basic("alice", "s3cret-pass"),
        )
        .build()
        .unwrap();
    let image = reference(&server, "a/b:v1");
    c.get_raw_manifest(&image).unwrap();
    // The challenge is remembered: the second call sends Basic at once.
    c.get_raw_manifest(&image).unwrap();
    challenge.assert();
    ok.assert();
}

#[test]
fn forbidden_is_denied() {
    let mut server = Server::new();
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(403)
        .with_body(error_body(
            "DENIED",
            "requested access to the resource is denied",
        ))
        .expect(1)
        .create();
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    m.assert();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    assert_eq!(err.http_status(), Some(403));
    assert_eq!(err.registry_error().unwrap().errors[0].code, "DENIED");
}

#[test]
fn too_many_requests_keeps_retry_after() {
    let mut server = Server::new();
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(429)
        .with_header("retry-after", "7")
        .with_body(error_body("TOOMANYREQUESTS", "slow down"))
        .expect(1)
        .create();
    // Retries are off: this test is about the error's contents (faults.rs tests retries).
    let err = once()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    m.assert();
    assert!(matches!(err, Error::TooManyRequests(_)), "{err:?}");
    let re = err.registry_error().unwrap();
    assert_eq!(re.status, 429);
    assert_eq!(re.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(re.errors[0].code, "TOOMANYREQUESTS");
    assert!(err.to_string().contains("retry after 7s"), "{err}");
}

#[test]
fn server_error_with_a_long_html_body_is_clipped() {
    let mut server = Server::new();
    let html = format!(
        "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
        "<p>filler</p>".repeat(200)
    );
    assert!(html.len() > 2000);
    let m = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(500)
        .with_header("content-type", "text/html")
        .with_body(&html)
        .expect(1)
        .create();
    // Retries are off: this test is about the error's contents (faults.rs tests retries).
    let err = once()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    m.assert();
    let Error::Registry(re) = &err else {
        panic!("want Registry, got {err:?}")
    };
    assert_eq!(re.status, 500);
    assert!(re.errors.is_empty());
    let body = re.body.as_deref().unwrap();
    assert!(body.len() <= 512, "{} bytes kept", body.len());
    assert!(
        body.starts_with("<html><body><h1>502 Bad Gateway"),
        "{body}"
    );
    assert!(err.to_string().len() < 1024, "{err}");
    assert!(
        err.to_string().contains(&format!(
            "GET {}/v2/a/b/manifests/v1 answered 500",
            server.url()
        )),
        "{err}"
    );
}

#[test]
fn huge_error_bodies_still_give_a_snippet() {
    let mut server = Server::new();
    let page = format!("<html>{}</html>", "x".repeat(200 * 1024));
    let with_length = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .with_status(502)
        .with_body(&page)
        .expect(1)
        .create();
    let chunked_page = page.clone();
    let chunked = server
        .mock("GET", manifest_path(REPO, "v2").as_str())
        .with_status(503)
        .with_chunked_body(move |w| w.write_all(chunked_page.as_bytes()))
        .expect(1)
        .create();
    let c = once();
    for (tag, status) in [("v1", 502), ("v2", 503)] {
        let err = c
            .get_raw_manifest(&reference(&server, &format!("a/b:{tag}")))
            .unwrap_err();
        let Error::Registry(re) = &err else {
            panic!("want Registry, got {err:?}")
        };
        assert_eq!(re.status, status);
        let body = re.body.as_deref().unwrap_or_default();
        assert!(body.starts_with("<html>xxx"), "{tag}: {body:?}");
        assert_eq!(body.len(), 512);
    }
    with_length.assert();
    chunked.assert();
}

/// A client that sends each request once, for tests of what one error answer turns into.
fn once() -> dockreg::Client {
    builder()
        .retry(dockreg::RetryPolicy::none())
        .build()
        .unwrap()
}

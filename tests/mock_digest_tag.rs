//! `get_digest` (HEAD first, GET only when needed) and `set_tag` (the exact bytes, with the type
//! they were served with) against mockito, counting every request.

mod mock_support;

use std::time::Duration;

use dockreg::Error;
use dockreg::media_type::{DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use mockito::{Matcher, Server};

use mock_support::*;

const REPO: &str = "a/b";

// ---------------------------------------------------------------------------------------------
// get_digest
// ---------------------------------------------------------------------------------------------

#[test]
fn get_digest_uses_head_only_when_the_header_is_there() {
    let mut server = Server::new();
    let digest = sha(b"the manifest");
    let head = server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .match_header("accept", accepts_all_manifest_types())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_header("docker-content-digest", digest.as_str())
        .with_header("content-length", "12")
        .expect(1)
        .create();
    let get = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .expect(0)
        .create();
    let got = client().get_digest(&reference(&server, "a/b:v1")).unwrap();
    assert_eq!(got, digest);
    head.assert();
    get.assert();
}

#[test]
fn head_manifest_reports_digest_type_and_size() {
    let mut server = Server::new();
    let digest = sha(b"the manifest");
    let head = server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .with_status(200)
        .with_header("content-type", &format!("{OCI_INDEX}; charset=utf-8"))
        .with_header("docker-content-digest", digest.as_str())
        .with_header("content-length", "1234")
        .expect(1)
        .create();
    let h = client()
        .head_manifest(&reference(&server, "a/b:v1"))
        .unwrap()
        .expect("the manifest exists");
    head.assert();
    assert_eq!(h.digest, Some(digest));
    assert_eq!(h.media_type.as_deref(), Some(OCI_INDEX));
    assert_eq!(h.size, Some(1234));
}

#[test]
fn get_digest_falls_back_to_get_without_the_header() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let head = server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .expect(1)
        .create();
    let get = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .match_header("accept", accepts_all_manifest_types())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_body(&img.manifest)
        .expect(1)
        .create();
    let got = client().get_digest(&reference(&server, "a/b:v1")).unwrap();
    assert_eq!(got, sha(&img.manifest));
    head.assert();
    get.assert();
}

#[test]
fn get_digest_of_an_index_is_the_index_digest() {
    let mut server = Server::new();
    let amd = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let idx = index(OCI_INDEX, &[(&amd, "linux/amd64")]);
    let head = server
        .mock("HEAD", manifest_path(REPO, "multi").as_str())
        .with_status(200)
        .with_header("content-type", OCI_INDEX)
        .with_header("docker-content-digest", sha(&idx).as_str())
        .expect(1)
        .create();
    let any_get = server.mock("GET", Matcher::Any).expect(0).create();
    let got = client()
        .get_digest(&reference(&server, "a/b:multi"))
        .unwrap();
    assert_eq!(got, sha(&idx));
    head.assert();
    any_get.assert();
}

#[test]
fn get_digest_not_found_carries_the_get_error_codes() {
    let mut server = Server::new();
    let head = server
        .mock("HEAD", manifest_path(REPO, "nope").as_str())
        .with_status(404)
        .expect(1)
        .create();
    let get = server
        .mock("GET", manifest_path(REPO, "nope").as_str())
        .with_status(404)
        .with_body(error_body("MANIFEST_UNKNOWN", "manifest unknown"))
        .expect(1)
        .create();
    let err = client()
        .get_digest(&reference(&server, "a/b:nope"))
        .unwrap_err();
    head.assert();
    get.assert();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(
        err.registry_error().unwrap().errors[0].code,
        "MANIFEST_UNKNOWN"
    );
}

#[test]
fn get_digest_does_not_repeat_a_rate_limited_request() {
    let mut server = Server::new();
    let head = server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .with_status(429)
        // Beyond the retry policy's cap (30 s): returned at once, not waited for.
        .with_header("retry-after", "3600")
        .expect(1)
        .create();
    // A GET counts against Docker Hub's pull limit: being told to wait must not cause one.
    let get = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .expect(0)
        .create();
    let err = client()
        .get_digest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    head.assert();
    get.assert();
    assert!(matches!(err, Error::TooManyRequests(_)), "{err:?}");
    assert_eq!(
        err.registry_error().unwrap().retry_after,
        Some(Duration::from_secs(3600))
    );
}

#[test]
fn get_digest_with_a_malformed_head_digest_is_an_invalid_response() {
    let mut server = Server::new();
    let head = server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .with_status(200)
        .with_header("docker-content-digest", "sha256:short")
        .expect(1)
        .create();
    let get = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .expect(0)
        .create();
    let err = client()
        .get_digest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse { message, .. } if message.contains("Docker-Content-Digest")),
        "{err:?}"
    );
    head.assert();
    get.assert();
}

#[test]
fn get_digest_checks_the_header_against_the_reference_digest() {
    let mut server = Server::new();
    let asked = sha(b"asked");
    let other = sha(b"other");
    let head = server
        .mock("HEAD", manifest_path(REPO, asked.as_str()).as_str())
        .with_status(200)
        .with_header("docker-content-digest", other.as_str())
        .expect(1)
        .create();
    let err = client()
        .get_digest(&reference(&server, &format!("a/b@{asked}")))
        .unwrap_err();
    head.assert();
    assert!(
        matches!(&err, Error::DigestMismatch { expected, actual, .. }
            if expected == asked.as_str() && actual == other.as_str()),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// set_tag
// ---------------------------------------------------------------------------------------------

#[test]
fn set_tag_puts_the_exact_bytes_with_the_served_type() {
    let mut server = Server::new();
    let amd = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let idx = index(OCI_INDEX, &[(&amd, "linux/amd64")]);
    let digest = sha(&idx);
    let get = serve_manifest(&mut server, REPO, "src", &idx, OCI_INDEX);
    let put = server
        .mock("PUT", manifest_path(REPO, "newtag").as_str())
        .match_header("content-type", OCI_INDEX)
        .match_body(idx.clone())
        .with_status(201)
        .with_header("docker-content-digest", digest.as_str())
        .with_header("location", &manifest_path(REPO, digest.as_str()))
        .expect(1)
        .create();
    // No child is fetched: an index is re-tagged as an index.
    let children = server
        .mock("GET", Matcher::Regex("/manifests/sha256:".into()))
        .expect(0)
        .create();
    let got = client()
        .set_tag(&reference(&server, "a/b:src"), "newtag")
        .unwrap();
    assert_eq!(got, digest);
    get.assert();
    put.assert();
    children.assert();
}

#[test]
fn set_tag_of_a_docker_manifest_served_as_generic_json() {
    let mut server = Server::new();
    let img = TestImage::docker("amd64", "2024-01-01T00:00:00Z");
    let get = serve_manifest(
        &mut server,
        REPO,
        img.digest.as_str(),
        &img.manifest,
        "application/json",
    );
    let put = server
        .mock("PUT", manifest_path(REPO, "v2").as_str())
        .match_header("content-type", DOCKER_MANIFEST)
        .match_body(img.manifest.clone())
        .with_status(201)
        .expect(1)
        .create();
    let got = client()
        .set_tag(&reference(&server, &format!("a/b@{}", img.digest)), "v2")
        .unwrap();
    assert_eq!(got, img.digest);
    get.assert();
    put.assert();
}

#[test]
fn set_tag_errors() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let get = serve_manifest(&mut server, REPO, "src", &img.manifest, OCI_MANIFEST);
    let refused = server
        .mock("PUT", manifest_path(REPO, "refused").as_str())
        .with_status(400)
        .with_body(error_body(
            "MANIFEST_BLOB_UNKNOWN",
            "blob unknown to registry",
        ))
        .expect(1)
        .create();
    let lying = server
        .mock("PUT", manifest_path(REPO, "lying").as_str())
        .with_status(201)
        .with_header("docker-content-digest", sha(b"other").as_str())
        .expect(1)
        .create();
    let c = client();
    let src = reference(&server, "a/b:src");

    let err = c.set_tag(&src, "refused").unwrap_err();
    assert!(matches!(err, Error::Registry(_)), "{err:?}");
    let re = err.registry_error().unwrap();
    assert_eq!((re.method.as_str(), re.status), ("PUT", 400));
    assert_eq!(re.errors[0].code, "MANIFEST_BLOB_UNKNOWN");

    let err = c.set_tag(&src, "lying").unwrap_err();
    assert!(
        matches!(&err, Error::DigestMismatch { expected, .. } if expected == img.digest.as_str()),
        "{err:?}"
    );

    // A bad tag fails before any request.
    let err = c.set_tag(&src, "-bad tag").unwrap_err();
    assert!(matches!(err, Error::InvalidReference { .. }), "{err:?}");

    get.expect(2).assert();
    refused.assert();
    lying.assert();
}

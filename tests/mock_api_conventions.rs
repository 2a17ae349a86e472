//! The API's conventions against mockito: `head_*` give `Ok(None)` on 404 and an error for
//! anything else; the platform chosen per call; `open_blob` never ends cleanly on bad bytes.

mod mock_support;

use std::io::Read;

use dockreg::media_type::{OCI_INDEX, OCI_MANIFEST};
use dockreg::{Error, Platform, Repository};
use mockito::Server;

use mock_support::*;

const REPO: &str = "a/b";

fn repository(server: &Server) -> Repository {
    format!("{}/{REPO}", server.host_with_port())
        .parse()
        .unwrap()
}

#[test]
fn head_manifest_and_head_blob_share_the_404_rule() {
    let mut server = Server::new();
    let missing = sha(b"missing");
    let m = server
        .mock("HEAD", manifest_path(REPO, "gone").as_str())
        .with_status(404)
        .expect(1)
        .create();
    let b = server
        .mock("HEAD", blob_path(REPO, &missing).as_str())
        .with_status(404)
        .expect(1)
        .create();
    let c = client();
    assert_eq!(
        c.head_manifest(&reference(&server, "a/b:gone")).unwrap(),
        None
    );
    assert_eq!(c.head_blob(&repository(&server), &missing).unwrap(), None);
    m.assert();
    b.assert();
}

#[test]
fn head_methods_fail_on_anything_but_404() {
    let mut server = Server::new();
    let d = sha(b"x");
    server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .with_status(403)
        .create();
    server
        .mock("HEAD", blob_path(REPO, &d).as_str())
        .with_status(400)
        .create();
    let c = client();
    let e = c.head_manifest(&reference(&server, "a/b:v1")).unwrap_err();
    assert!(matches!(e, Error::Denied(_)), "{e}");
    let e = c.head_blob(&repository(&server), &d).unwrap_err();
    assert_eq!(e.http_status(), Some(400), "{e}");
}

#[test]
fn get_methods_give_not_found_on_404() {
    let mut server = Server::new();
    server
        .mock("GET", manifest_path(REPO, "gone").as_str())
        .with_status(404)
        .with_body(error_body("MANIFEST_UNKNOWN", "manifest unknown"))
        .create();
    let e = client()
        .get_manifest(&reference(&server, "a/b:gone"))
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.registry_error().unwrap().has_code("MANIFEST_UNKNOWN"));
}

/// One client, two platforms: the per-call platform picks the entry, and the platform digest
/// costs one request (the index), where get_digest gives the index's own digest.
#[test]
fn platform_per_call() {
    let mut server = Server::new();
    let amd = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let arm = TestImage::oci("arm64", "2024-01-02T00:00:00Z");
    let idx = index(
        OCI_INDEX,
        &[(&amd, "linux/amd64"), (&arm, "linux/arm64/v8")],
    );
    // The index: once per call (four calls); each platform image: once (no GET for the digest).
    let index_get = serve_manifest(&mut server, REPO, "v1", &idx, OCI_INDEX).expect(4);
    let amd_get = serve_manifest(
        &mut server,
        REPO,
        amd.digest.as_str(),
        &amd.manifest,
        OCI_MANIFEST,
    )
    .expect(1);
    let arm_get = serve_manifest(
        &mut server,
        REPO,
        arm.digest.as_str(),
        &arm.manifest,
        OCI_MANIFEST,
    )
    .expect(1);
    let c = client();
    let image = reference(&server, "a/b:v1");
    let arm64: Platform = "linux/arm64".parse().unwrap();

    let m = c.get_manifest_for(&image, &arm64).unwrap();
    assert_eq!(m.digest, arm.digest);
    assert_eq!(m.index_digest, Some(sha(&idx)));
    let m = c.get_manifest(&image).unwrap();
    assert_eq!(m.digest, amd.digest, "the client's default platform");

    assert_eq!(c.get_platform_digest(&image, &arm64).unwrap(), arm.digest);
    let e = c
        .get_platform_digest(&image, &"windows/amd64".parse().unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::PlatformNotFound { .. }), "{e}");
    index_get.assert();
    amd_get.assert();
    arm_get.assert();
}

#[test]
fn open_blob_yields_good_bytes_then_a_clean_end() {
    let mut server = Server::new();
    let body = b"a layer's bytes".repeat(1000);
    let m = serve_blob(&mut server, REPO, &body);
    let mut r = client()
        .open_blob(&repository(&server), &sha(&body))
        .unwrap();
    assert_eq!(r.size(), Some(body.len() as u64));
    let mut got = Vec::new();
    r.read_to_end(&mut got).unwrap();
    assert_eq!(got, body);
    m.assert();
}

#[test]
fn open_blob_with_wrong_bytes_never_ends_cleanly() {
    let mut server = Server::new();
    let good = b"the real layer".repeat(100);
    let mut bad = good.clone();
    bad[700] ^= 1;
    let d = sha(&good);
    server
        .mock("GET", blob_path(REPO, &d).as_str())
        .with_status(200)
        .with_body(&bad)
        .create();
    let mut r = client().open_blob(&repository(&server), &d).unwrap();
    let mut got = Vec::new();
    let e = r.read_to_end(&mut got).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    let inner = e.get_ref().and_then(|e| e.downcast_ref::<Error>());
    assert!(matches!(inner, Some(Error::DigestMismatch { .. })), "{e}");
    assert_eq!(r.read(&mut [0u8; 16]).unwrap_err().kind(), e.kind());
}

#[test]
fn open_blob_with_a_short_body_never_ends_cleanly() {
    let mut server = Server::new();
    let good = b"0123456789".repeat(50);
    let d = sha(&good);
    // Content-Length says 500, the body stops at 200: mockito's chunked body with the
    // header set explicitly would be refused by the HTTP stack, so the HEAD gives the size.
    server
        .mock("GET", blob_path(REPO, &d).as_str())
        .with_status(200)
        .with_chunked_body(|w| w.write_all(&b"0123456789".repeat(20)))
        .create();
    server
        .mock("HEAD", blob_path(REPO, &d).as_str())
        .with_status(200)
        .with_header("content-length", "500")
        .create();
    let mut r = client().open_blob(&repository(&server), &d).unwrap();
    assert_eq!(r.size(), Some(500));
    let e = r.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
}

#[test]
fn mount_from_another_registry_is_refused_before_any_request() {
    let server = Server::new();
    let here = repository(&server);
    let elsewhere: Repository = "other.example:5000/a/b".parse().unwrap();
    let e = client()
        .mount_blob(&here, &sha(b"x"), &elsewhere)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}

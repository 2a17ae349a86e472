//! Manifest put/get/delete, tag deletion (refused by distribution, never turned into a digest
//! delete) and platform listing, against the real registry; a registry that deletes tags with
//! mockito.

mod common;

use common::raw::{raw_get_manifest, raw_tags};
use common::write_support::push_image;
use common::{TestRegistry, shared};
use dockreg::{Client, Error, Reference, media_type};

fn image(reg: &TestRegistry, name: &str) -> Reference {
    format!("{}/{name}", reg.addr()).parse().unwrap()
}

#[test]
fn manifest_put_get_delete() {
    let reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let r = image(&reg, "app/m:v1");
    let pushed = push_image(&c, &r, "m1", "linux/amd64");
    c.set_tag(&r, "v2").unwrap();

    let raw = c.get_raw_manifest(&r).unwrap();
    assert_eq!(raw.bytes, pushed.manifest);
    assert_eq!(raw.digest, pushed.digest);
    assert_eq!(raw.media_type, media_type::OCI_MANIFEST);
    let head = c.head_manifest(&r).unwrap().expect("pushed manifest");
    assert_eq!(head.digest.as_ref(), Some(&pushed.digest));

    // Deleting by tag alone is refused before any request.
    let err = c.delete_manifest(&r).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");

    let by_digest = r.with_digest(pushed.digest.clone());
    c.delete_manifest(&by_digest).unwrap();
    let err = c.get_raw_manifest(&by_digest).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = c.get_raw_manifest(&r).unwrap_err();
    assert!(err.is_not_found(), "tag v1 goes with the manifest: {err}");
    // The head_* rule on the real registry: absent is Ok(None) for manifests and blobs alike.
    assert_eq!(c.head_manifest(&by_digest).unwrap(), None);
    assert_eq!(c.head_manifest(&r).unwrap(), None);
    assert_eq!(c.head_blob(&r, &c_digest(b"never pushed")).unwrap(), None);
    assert!(raw_tags(&reg.url(), "app/m").is_empty());
    // Blobs stay (distribution deletes them only by garbage collection).
    assert!(
        c.head_blob(&r, &c_digest(&pushed.config))
            .unwrap()
            .is_some()
    );
}

fn c_digest(bytes: &[u8]) -> dockreg::Digest {
    dockreg::Digest::sha256_of(bytes)
}

#[test]
fn tag_delete_is_refused_clearly_and_deletes_nothing() {
    let reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let r = image(&reg, "app/t:keep");
    let pushed = push_image(&c, &r, "t1", "linux/amd64");
    c.set_tag(&r, "doomed").unwrap();
    let doomed = image(&reg, "app/t:doomed");
    let err = c.delete_tag(&doomed).unwrap_err();
    match &err {
        Error::Unsupported {
            operation, source, ..
        } => {
            assert!(operation.contains("app/t:doomed"), "{operation}");
            let inner = source.as_ref().expect("registry answer kept");
            assert_eq!(inner.http_status(), Some(400));
        }
        other => panic!("expected Unsupported, got {other}"),
    }
    assert!(err.to_string().contains("not supported"), "{err}");
    // Both tags and the manifest are still there.
    let mut tags = raw_tags(&reg.url(), "app/t");
    tags.sort();
    assert_eq!(tags, ["doomed", "keep"]);
    assert_eq!(
        raw_get_manifest(&reg.url(), "app/t", pushed.digest.as_str()).status,
        200
    );
    // A tag-less or digest-carrying reference is a usage error.
    assert!(matches!(
        c.delete_tag(&r.with_digest(pushed.digest.clone())),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn tag_delete_where_the_registry_allows_it() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("DELETE", "/v2/app/manifests/old")
        .with_status(202)
        .create();
    let r: Reference = format!("{}/app:old", server.host_with_port())
        .parse()
        .unwrap();
    Client::new().unwrap().delete_tag(&r).unwrap();
    m.assert();
    // 405 (deletes disabled) is also Unsupported.
    server
        .mock("DELETE", "/v2/app/manifests/other")
        .with_status(405)
        .with_body(
            r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
        )
        .create();
    let r: Reference = format!("{}/app:other", server.host_with_port())
        .parse()
        .unwrap();
    let err = Client::new().unwrap().delete_tag(&r).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[test]
fn platforms_of_an_index_and_of_an_image() {
    let f = shared();
    let c = Client::new().unwrap();
    let idx: Reference = format!("{}/{}", f.addr(), f.oci_index.reference())
        .parse()
        .unwrap();
    let got: Vec<String> = c
        .list_platforms(&idx)
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(got, ["linux/amd64", "linux/arm64/v8"]);
    let list: Reference = format!("{}/{}", f.addr(), f.docker_list.reference())
        .parse()
        .unwrap();
    assert_eq!(c.list_platforms(&list).unwrap().len(), 2);
    let img: Reference = format!("{}/{}", f.addr(), f.oci_image.reference())
        .parse()
        .unwrap();
    let got: Vec<String> = c
        .list_platforms(&img)
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(got, ["linux/amd64"]);
}

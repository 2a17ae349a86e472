//! Transport and authentication against mockito: redirects to another host (no Authorization
//! there), redirect failures, refused connections, secrets kept out of errors, and the bearer
//! token flow (challenge, token fetch, cache, expiry, rejection). Every test counts requests.

mod mock_support;

use std::time::Duration;

use dockreg::media_type::OCI_MANIFEST;
use dockreg::{Credentials, Error, TransportErrorKind};
use mockito::{Matcher, Server};

use mock_support::*;

const REPO: &str = "a/b";

// ---------------------------------------------------------------------------------------------
// Transport: redirects, connection failures, secrets
// ---------------------------------------------------------------------------------------------

const SECRET: &str = "secret-token";

#[test]
fn redirect_to_another_host_drops_authorization_and_verifies_the_blob() {
    let mut registry = Server::new();
    let mut storage = Server::new();
    let blob = b"config blob bytes".to_vec();
    let digest = sha(&blob);
    let redirect = registry
        .mock("GET", blob_path(REPO, &digest).as_str())
        .match_header("authorization", format!("Bearer {SECRET}").as_str())
        .with_status(307)
        .with_header(
            "location",
            &format!("{}/storage/blob?sig=abc", storage.url()),
        )
        .expect(2)
        .create();
    let served = storage
        .mock("GET", "/storage/blob?sig=abc")
        .match_header("authorization", Matcher::Missing)
        .with_status(200)
        .with_body(&blob)
        .expect(2)
        .create();
    let c = builder()
        .credentials(&registry.host_with_port(), Credentials::bearer(SECRET))
        .build()
        .unwrap();
    let repo = reference(&registry, "a/b");
    let got = c.get_blob_bytes(&repo, &digest, 1024).unwrap();
    assert_eq!(got, blob);
    let mut out = Vec::new();
    assert_eq!(
        c.get_blob(&repo, &digest, &mut out).unwrap(),
        blob.len() as u64
    );
    assert_eq!(out, blob);
    redirect.assert();
    served.assert();
}

#[test]
fn redirected_blob_with_other_content_is_a_mismatch() {
    let mut registry = Server::new();
    let mut storage = Server::new();
    let digest = sha(b"the real blob");
    let redirect = registry
        .mock("GET", blob_path(REPO, &digest).as_str())
        .with_status(302)
        .with_header("location", &format!("{}/s/1", storage.url()))
        .expect(1)
        .create();
    let served = storage
        .mock("GET", "/s/1")
        .with_status(200)
        .with_body("tampered")
        .expect(1)
        .create();
    let c = builder()
        .credentials(&registry.host_with_port(), Credentials::bearer(SECRET))
        .build()
        .unwrap();
    let err = c
        .get_blob_bytes(&reference(&registry, "a/b"), &digest, 1024)
        .unwrap_err();
    redirect.assert();
    served.assert();
    let Error::DigestMismatch { url, expected, .. } = &err else {
        panic!("want DigestMismatch, got {err:?}")
    };
    assert_eq!(url, &format!("{}/s/1", storage.url()));
    assert_eq!(expected, digest.as_str());
    assert_no_secret(&err, SECRET);
}

/// Signed storage URLs carry their signature in the query: errors about them must not.
#[test]
fn errors_after_a_redirect_never_show_the_signed_query() {
    let mut registry = Server::new();
    let mut storage = Server::new();
    let signature = "X-Amz-Signature=0123456789abcdefSIGNED";
    let digest = sha(b"the real blob");
    let big = sha(b"a big blob");
    for (d, path) in [(&digest, "/s/2"), (&big, "/s/3")] {
        registry
            .mock("GET", blob_path(REPO, d).as_str())
            .with_status(307)
            .with_header("location", &format!("{}{path}?{signature}", storage.url()))
            .create();
    }
    storage
        .mock("GET", "/s/2")
        .match_query(Matcher::Any)
        .with_body("tampered")
        .create();
    storage
        .mock("GET", "/s/3")
        .match_query(Matcher::Any)
        .with_body(vec![b'x'; 4096])
        .create();
    let c = client();
    let r = reference(&registry, "a/b");
    let mismatch = c.get_blob_bytes(&r, &digest, 1024).unwrap_err();
    assert!(
        matches!(mismatch, Error::DigestMismatch { .. }),
        "{mismatch}"
    );
    let mut sink = Vec::new();
    let streamed = c.get_blob(&r, &digest, &mut sink).unwrap_err();
    assert!(
        matches!(streamed, Error::DigestMismatch { .. }),
        "{streamed}"
    );
    let too_large = c.get_blob_bytes(&r, &big, 1024).unwrap_err();
    assert!(matches!(too_large, Error::TooLarge { .. }), "{too_large}");
    for err in [&mismatch, &streamed, &too_large] {
        assert_no_secret(err, "SIGNED");
        let text = err.to_string();
        assert!(text.contains("/s/") || text.contains("/blobs/"), "{err}");
    }
}

#[test]
fn redirect_on_the_same_host_keeps_authorization() {
    let mut registry = Server::new();
    let blob = b"blob".to_vec();
    let digest = sha(&blob);
    let auth = format!("Bearer {SECRET}");
    let redirect = registry
        .mock("GET", blob_path(REPO, &digest).as_str())
        .match_header("authorization", auth.as_str())
        .with_status(307)
        .with_header("location", "/local/storage")
        .expect(1)
        .create();
    let served = registry
        .mock("GET", "/local/storage")
        .match_header("authorization", auth.as_str())
        .with_status(200)
        .with_body(&blob)
        .expect(1)
        .create();
    let c = builder()
        .credentials(&registry.host_with_port(), Credentials::bearer(SECRET))
        .build()
        .unwrap();
    let got = c
        .get_blob_bytes(&reference(&registry, "a/b"), &digest, 1024)
        .unwrap();
    assert_eq!(got, blob);
    redirect.assert();
    served.assert();
}

#[test]
fn redirect_without_location_and_redirect_loops_fail() {
    let mut server = Server::new();
    let d1 = sha(b"1");
    let d2 = sha(b"2");
    let no_location = server
        .mock("GET", blob_path(REPO, &d1).as_str())
        .with_status(302)
        .expect(1)
        .create();
    let looping = server
        .mock("GET", blob_path(REPO, &d2).as_str())
        .with_status(302)
        .with_header("location", &blob_path(REPO, &d2))
        .expect(11)
        .create();
    let c = client();
    let repo = reference(&server, "a/b");
    for d in [&d1, &d2] {
        let err = c.get_blob_bytes(&repo, d, 1024).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Transport {
                    kind: TransportErrorKind::Redirect,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("GET http://"), "{err}");
    }
    no_location.assert();
    looping.assert();
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn connection_refused_is_a_connect_error() {
    let port = closed_port();
    let registry = format!("127.0.0.1:{port}");
    let c = builder()
        .credentials(&registry, Credentials::bearer(SECRET))
        .build()
        .unwrap();
    let image = format!("{registry}/a/b:v1").parse().unwrap();
    let err = c.get_raw_manifest(&image).unwrap_err();
    let Error::Transport {
        method, url, kind, ..
    } = &err
    else {
        panic!("want Transport, got {err:?}")
    };
    assert_eq!(*kind, TransportErrorKind::Connect, "{err}");
    assert_eq!(method, "GET");
    // Nothing answered the TLS probe, so the registry was never found to be plain HTTP: the
    // request went to HTTPS, which every registry is tried with first.
    assert_eq!(url, &format!("https://{registry}/v2/a/b/manifests/v1"));
    assert!(
        err.to_string().starts_with(&format!(
            "GET https://{registry}/v2/a/b/manifests/v1: connection failed"
        )),
        "{err}"
    );
    assert_no_secret(&err, SECRET);
    // Every operation reports it the same way.
    let err = c.get_digest(&image).unwrap_err();
    assert!(
        matches!(&err, Error::Transport { kind: TransportErrorKind::Connect, method, .. } if method == "HEAD"),
        "{err:?}"
    );
    let err = c.list_tags(&image).unwrap_err();
    assert!(
        matches!(&err, Error::Transport { kind: TransportErrorKind::Connect, url, .. }
            if url.ends_with("/v2/a/b/tags/list")),
        "{err:?}"
    );
    assert_no_secret(&err, SECRET);
}

#[test]
fn credentials_never_appear_in_errors() {
    let mut server = Server::new();
    let basic_pass = "hunter2-password";
    // Every failure a request with credentials can meet.
    let _unauth = server
        .mock("GET", manifest_path(REPO, "unauth").as_str())
        .with_status(401)
        .with_header(
            "www-authenticate",
            r#"Bearer realm="http://127.0.0.1:1/token",error="invalid_token""#,
        )
        .create();
    let _missing = server
        .mock("GET", manifest_path(REPO, "missing").as_str())
        .with_status(404)
        .with_body(error_body("MANIFEST_UNKNOWN", "manifest unknown"))
        .create();
    let _mismatch = server
        .mock("GET", manifest_path(REPO, "mismatch").as_str())
        .with_status(200)
        .with_header("content-type", OCI_MANIFEST)
        .with_header("docker-content-digest", sha(b"x").as_str())
        .with_body("{}")
        .create();
    let _big = server
        .mock("GET", manifest_path(REPO, "big").as_str())
        .with_status(200)
        .with_body(vec![b' '; 2048])
        .create();
    let bearer = builder()
        .credentials(&server.host_with_port(), Credentials::bearer(SECRET))
        .max_manifest_size(1024)
        .build()
        .unwrap();
    for tag in ["unauth", "missing", "mismatch", "big"] {
        let err = bearer
            .get_raw_manifest(&reference(&server, &format!("a/b:{tag}")))
            .unwrap_err();
        assert_no_secret(&err, SECRET);
    }
    assert!(!format!("{bearer:?}").contains(SECRET));

    // Basic credentials sent to a token server that refuses them.
    let token_url = format!("{}/token", server.url());
    let _challenge = server
        .mock("GET", manifest_path(REPO, "tok").as_str())
        .with_status(401)
        .with_header(
            "www-authenticate",
            &format!(r#"Bearer realm="{token_url}",service="svc""#),
        )
        .create();
    let refused = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(401)
        .with_body(error_body("UNAUTHORIZED", "bad credentials"))
        .expect(1)
        .create();
    let basic = builder()
        .credentials(
            &server.host_with_port(),
            Credentials::basic("alice", basic_pass),
        )
        .build()
        .unwrap();
    let err = basic
        .get_raw_manifest(&reference(&server, "a/b:tok"))
        .unwrap_err();
    refused.assert();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert_no_secret(&err, basic_pass);
    // Nor its base64 form.
    assert_no_secret(&err, "aHVudGVyMi1wYXNzd29yZA");
    assert!(!format!("{basic:?}").contains(basic_pass));
}

// ---------------------------------------------------------------------------------------------
// Bearer token flow
// ---------------------------------------------------------------------------------------------

/// A registry on `server` that answers 401 with a bearer challenge to requests without
/// Authorization, and `ok_status` to requests bearing `token`.
struct TokenRegistry {
    challenge: mockito::Mock,
    authorized: mockito::Mock,
    token: mockito::Mock,
}

fn token_registry(
    server: &mut mockito::ServerGuard,
    token_body: &str,
    token: &str,
    ok_status: usize,
    img: &TestImage,
) -> TokenRegistry {
    let realm = format!("{}/token", server.url());
    let challenge = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header(
            "www-authenticate",
            &format!(r#"Bearer realm="{realm}",service="svc",scope="repository:a/b:pull""#),
        )
        .with_body(error_body("UNAUTHORIZED", "authentication required"))
        .create();
    let mut authorized = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .match_header("authorization", format!("Bearer {token}").as_str())
        .with_status(ok_status);
    if ok_status == 200 {
        authorized = authorized
            .with_header("content-type", img.media_type)
            .with_body(&img.manifest);
    } else {
        authorized = authorized
            .with_header(
                "www-authenticate",
                &format!(
                    r#"Bearer realm="{realm}",service="svc",scope="repository:a/b:pull",error="invalid_token""#
                ),
            )
            .with_body(error_body("UNAUTHORIZED", "token rejected"));
    }
    let authorized = authorized.create();
    let token = server
        .mock("GET", "/token")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("service".into(), "svc".into()),
            Matcher::UrlEncoded("scope".into(), "repository:a/b:pull".into()),
        ]))
        .match_header("authorization", Matcher::Missing)
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(token_body)
        .create();
    TokenRegistry {
        challenge,
        authorized,
        token,
    }
}

#[test]
fn bearer_challenge_fetches_a_token_and_retries_once() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let t = token_registry(
        &mut server,
        r#"{"token":"tok-1","expires_in":300}"#,
        "tok-1",
        200,
        &img,
    );
    let raw = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap();
    assert_eq!(raw.digest, img.digest);
    t.challenge.expect(1).assert();
    t.token.expect(1).assert();
    t.authorized.expect(1).assert();
}

#[test]
fn access_token_field_is_accepted() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let t = token_registry(
        &mut server,
        r#"{"access_token":"tok-2","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"}"#,
        "tok-2",
        200,
        &img,
    );
    client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap();
    t.challenge.expect(1).assert();
    t.token.expect(1).assert();
    t.authorized.expect(1).assert();
}

#[test]
fn token_is_cached_across_calls_and_clones() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let t = token_registry(
        &mut server,
        r#"{"token":"tok-3","expires_in":300}"#,
        "tok-3",
        200,
        &img,
    );
    let c = client();
    let image = reference(&server, "a/b:v1");
    c.get_raw_manifest(&image).unwrap();
    c.get_raw_manifest(&image).unwrap();
    c.clone().get_raw_manifest(&image).unwrap();
    t.challenge.expect(1).assert();
    t.token.expect(1).assert();
    t.authorized.expect(3).assert();
}

#[test]
fn short_lived_token_is_fetched_again() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    // A one-second token is used for the retry it was fetched for (not fetched twice), and
    // once expired it is fetched again without a new challenge round: the challenge is
    // remembered, so each call costs one token request and one registry request.
    let t = token_registry(
        &mut server,
        r#"{"token":"tok-4","expires_in":1}"#,
        "tok-4",
        200,
        &img,
    );
    let c = client();
    let image = reference(&server, "a/b:v1");
    c.get_raw_manifest(&image).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    c.get_raw_manifest(&image).unwrap();
    t.challenge.expect(1).assert();
    t.token.expect(2).assert();
    t.authorized.expect(2).assert();
}

/// Threads that find the token expired together wait for one fetch instead of each asking
/// the token server.
#[test]
fn threads_share_one_token_fetch_after_expiry() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let t = token_registry(
        &mut server,
        r#"{"token":"tok-8","expires_in":1}"#,
        "tok-8",
        200,
        &img,
    );
    let c = client();
    let image = reference(&server, "a/b:v1");
    c.get_raw_manifest(&image).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (c, image) = (c.clone(), image.clone());
            s.spawn(move || c.get_raw_manifest(&image).unwrap());
        }
    });
    t.challenge.expect(1).assert();
    t.token.expect(2).assert();
    t.authorized.expect(9).assert();
}

#[test]
fn unauthorized_after_a_fresh_token_does_not_loop() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let t = token_registry(
        &mut server,
        r#"{"token":"tok-5","expires_in":300}"#,
        "tok-5",
        401,
        &img,
    );
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    assert_eq!(
        err.registry_error().unwrap().errors[0].message,
        "token rejected"
    );
    assert_no_secret(&err, "tok-5");
    t.challenge.expect(1).assert();
    t.token.expect(1).assert();
    t.authorized.expect(1).assert();
}

#[test]
fn get_digest_does_not_fall_back_to_get_after_a_rejected_token() {
    let mut server = Server::new();
    let realm = format!("{}/token", server.url());
    let challenge = format!(r#"Bearer realm="{realm}",service="svc",scope="repository:a/b:pull""#);
    let head_challenge = server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .expect(1)
        .create();
    let head_rejected = server
        .mock("HEAD", manifest_path(REPO, "v1").as_str())
        .match_header("authorization", "Bearer tok-6")
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .expect(1)
        .create();
    let token = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"tok-6"}"#)
        .expect(1)
        .create();
    let get = server
        .mock("GET", manifest_path(REPO, "v1").as_str())
        .expect(0)
        .create();
    let err = client()
        .get_digest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    assert_eq!(err.registry_error().unwrap().method, "HEAD");
    for m in [head_challenge, head_rejected, token, get] {
        m.assert();
    }
}

#[test]
fn catalog_token_keeps_the_realm_query_and_asks_for_the_catalog_scope() {
    let mut server = Server::new();
    let realm = format!("{}/auth?account=me", server.url());
    let challenge = server
        .mock("GET", "/v2/_catalog?n=100")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header(
            "www-authenticate",
            &format!(r#"Bearer realm="{realm}",service="reg""#),
        )
        .expect(1)
        .create();
    let token = server
        .mock("GET", "/auth")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("account".into(), "me".into()),
            Matcher::UrlEncoded("service".into(), "reg".into()),
            Matcher::UrlEncoded("scope".into(), "registry:catalog:*".into()),
        ]))
        .with_body(r#"{"token":"cat-tok","expires_in":120}"#)
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/v2/_catalog?n=100")
        .match_header("authorization", "Bearer cat-tok")
        .with_body(r#"{"repositories":["a/b"]}"#)
        .expect(1)
        .create();
    let repos = client()
        .list_repositories(&server.host_with_port())
        .unwrap();
    assert_eq!(repos, ["a/b"]);
    for m in [challenge, token, ok] {
        m.assert();
    }
}

#[test]
fn token_response_without_a_token_is_an_auth_error() {
    let mut server = Server::new();
    let img = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let t = token_registry(&mut server, r#"{"expires_in":300}"#, "never", 200, &img);
    let err = client()
        .get_raw_manifest(&reference(&server, "a/b:v1"))
        .unwrap_err();
    let Error::Auth { registry, message } = &err else {
        panic!("want Auth, got {err:?}")
    };
    assert_eq!(registry, &server.host_with_port());
    assert!(message.contains("token"), "{message}");
    t.challenge.expect(1).assert();
    t.token.expect(1).assert();
    t.authorized.expect(0).assert();
}

/// An upload `Location` on another host (a misconfigured proxy, or a hostile registry) gets no
/// credentials: they belong to the registry's origin, not to whatever its answers name.
#[test]
fn upload_location_on_another_host_gets_no_credentials() {
    let mut registry = Server::new();
    let mut other = Server::new();
    let blob = b"layer".to_vec();
    let digest = sha(&blob);
    let head = registry
        .mock("HEAD", blob_path(REPO, &digest).as_str())
        .with_status(404)
        .expect(1)
        .create();
    let post = registry
        .mock("POST", "/v2/a/b/blobs/uploads/")
        .match_header("authorization", format!("Bearer {SECRET}").as_str())
        .with_status(202)
        .with_header("location", &format!("{}/upload/1?_state=x", other.url()))
        .expect(1)
        .create();
    let put = other
        .mock("PUT", "/upload/1")
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_status(201)
        .with_header("docker-content-digest", digest.as_str())
        .expect(1)
        .create();
    let leaked = other
        .mock("PUT", "/upload/1")
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Any)
        .with_status(500)
        .expect(0)
        .create();
    let c = builder()
        .credentials(&registry.host_with_port(), Credentials::bearer(SECRET))
        .build()
        .unwrap();
    let got = c
        .push_blob_bytes(&reference(&registry, "a/b"), &blob)
        .unwrap();
    assert_eq!(got, digest);
    head.assert();
    post.assert();
    put.assert();
    leaked.assert();
}

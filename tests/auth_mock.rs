//! Authentication against mockito registries and token servers: what the real registry will not
//! do (expiry, `access_token`, ECR's 403, redirects, refusals), with bounded request counts.

mod auth_support;
mod common;

use std::time::Duration;

use auth_support::assert_no_secret;
use dockreg::{Client, Credentials, DockerConfigSource, Error, Reference};
use mockito::{Matcher, Server, ServerGuard};

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
const SECRET: &str = "S3cret-Passw0rd";
const TOKEN: &str = "tok-abc-123";

fn host(server: &ServerGuard) -> String {
    server.host_with_port()
}

fn image(server: &ServerGuard) -> Reference {
    format!("{}/team/app:v1", host(server)).parse().unwrap()
}

fn builder() -> dockreg::ClientBuilder {
    Client::builder().docker_config(DockerConfigSource::None)
}

fn with_password(server: &ServerGuard) -> Client {
    builder()
        .credentials(&host(server), Credentials::basic("alice", SECRET))
        .build()
        .unwrap()
}

fn bearer_challenge(server: &ServerGuard, scope: &str) -> String {
    format!(
        r#"Bearer realm="{}/token",service="svc",scope="{scope}""#,
        server.url()
    )
}

/// The registry's manifest: 401 with a challenge without a token, 200 with `Bearer <token>`.
fn manifest_mocks(server: &mut ServerGuard, token: &str) -> (mockito::Mock, mockito::Mock) {
    let challenge = bearer_challenge(server, "repository:team/app:pull");
    let refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .with_body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", format!("Bearer {token}").as_str())
        .with_status(200)
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .create();
    (refused, ok)
}

#[test]
fn token_flow_with_basic_credentials_service_and_scope() {
    let mut server = Server::new();
    let (refused, ok) = manifest_mocks(&mut server, TOKEN);
    let token = server
        .mock("GET", "/token")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("service".into(), "svc".into()),
            Matcher::UrlEncoded("scope".into(), "repository:team/app:pull".into()),
        ]))
        .match_header(
            "authorization",
            auth_support::basic("alice", SECRET).as_str(),
        )
        .with_body(format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#))
        .expect(1)
        .create();
    let client = with_password(&server);
    for _ in 0..3 {
        client.get_raw_manifest(&image(&server)).unwrap();
    }
    refused.expect(1).assert();
    ok.expect(3).assert();
    token.assert();
}

#[test]
fn access_token_is_accepted_and_missing_expiry_means_60s() {
    let mut server = Server::new();
    let (_refused, ok) = manifest_mocks(&mut server, "the-access-token");
    let token = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"access_token":"the-access-token"}"#)
        .expect(1)
        .create();
    // Anonymous: no Authorization to the token server.
    let client = builder().build().unwrap();
    client.get_raw_manifest(&image(&server)).unwrap();
    client.get_raw_manifest(&image(&server)).unwrap();
    ok.expect(2).assert();
    token.assert();
}

#[test]
fn expired_tokens_are_fetched_again() {
    let mut server = Server::new();
    let challenge = bearer_challenge(&server, "repository:team/app:pull");
    let _refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Regex("^Bearer short-".into()))
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .create();
    let first = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"short-1","expires_in":1}"#)
        .expect(1)
        .create();
    let second = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"short-2","expires_in":1}"#)
        .expect(1)
        .create();
    let client = with_password(&server);
    client.get_raw_manifest(&image(&server)).unwrap();
    first.assert();
    // A 1 s token is renewed after 0.75 s, before the registry would refuse it.
    std::thread::sleep(Duration::from_millis(900));
    client.get_raw_manifest(&image(&server)).unwrap();
    second.assert();
    ok.expect(2).assert();
}

#[test]
fn a_401_after_a_fresh_token_is_an_error_not_a_loop() {
    let mut server = Server::new();
    let challenge = bearer_challenge(&server, "repository:team/app:pull");
    let registry = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .with_body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#)
        .create();
    let token = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#))
        .create();
    let client = with_password(&server);
    // First call: the 401 teaches the challenge, a token is fetched, the retry is refused.
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    assert!(e.registry_error().unwrap().has_code("UNAUTHORIZED"));
    assert_no_secret(&e, &[SECRET, TOKEN]);
    let registry = registry.expect(2);
    registry.assert();
    let token = token.expect(1);
    token.assert();
    // Second call: the cached token is refused, one new token, one retry, then the error.
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    registry.expect(4).assert();
    token.expect(2).assert();
}

#[test]
fn insufficient_scope_with_credentials_is_denied() {
    let mut server = Server::new();
    let challenge = format!(
        r#"{},error="insufficient_scope""#,
        bearer_challenge(&server, "repository:team/app:pull,push")
    );
    let put = server
        .mock("PUT", "/v2/team/app/manifests/v1")
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .expect(2)
        .create();
    let _token = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(format!(r#"{{"token":"{TOKEN}"}}"#))
        .create();
    let e = with_password(&server)
        .put_manifest(
            &image(&server),
            MANIFEST.as_bytes(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap_err();
    assert!(matches!(e, Error::Denied(_)), "{e:?}");
    put.assert();
    // Anonymous, the same answer means "log in".
    let e = builder()
        .build()
        .unwrap()
        .put_manifest(
            &image(&server),
            MANIFEST.as_bytes(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
}

#[test]
fn ecr_token_expired_403_refetches_once() {
    // A token in use for a while expires on the server: the next request gets ECR's 403, the
    // client forgets its tokens and credentials, fetches new ones, and retries once.
    let mut server = Server::new();
    let challenge = bearer_challenge(&server, "repository:team/app:pull");
    let _refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .expect(1)
        .create();
    let served_old = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer old")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .expect(1)
        .create();
    let expired = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer old")
        .with_status(403)
        .with_body(r#"{"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]}"#)
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer new")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .expect(1)
        .create();
    let t1 = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"old","expires_in":3600}"#)
        .expect(1)
        .create();
    let t2 = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"new","expires_in":3600}"#)
        .expect(1)
        .create();
    let client = with_password(&server);
    client.get_raw_manifest(&image(&server)).unwrap();
    served_old.assert();
    client.get_raw_manifest(&image(&server)).unwrap();
    expired.assert();
    ok.assert();
    t1.assert();
    t2.assert();
}

#[test]
fn a_403_that_keeps_saying_expired_is_an_error_after_one_retry() {
    let mut server = Server::new();
    let forbidden = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .with_status(403)
        .with_body("Your authorization token has expired. Reauthenticate and try again.")
        .expect(2)
        .create();
    let e = builder()
        .credentials(&host(&server), Credentials::bearer(SECRET))
        .build()
        .unwrap()
        .get_raw_manifest(&image(&server))
        .unwrap_err();
    assert!(matches!(e, Error::Denied(_)), "{e:?}");
    assert_no_secret(&e, &[SECRET]);
    forbidden.assert();
    // A 403 that is not about expiry is not retried.
    let mut other = Server::new();
    let plain = other
        .mock("GET", "/v2/team/app/manifests/v1")
        .with_status(403)
        .with_body(r#"{"errors":[{"code":"DENIED","message":"no"}]}"#)
        .expect(1)
        .create();
    let client = builder()
        .credentials(&host(&other), Credentials::bearer("ready"))
        .build()
        .unwrap();
    assert!(matches!(
        client.get_raw_manifest(&image(&other)).unwrap_err(),
        Error::Denied(_)
    ));
    plain.assert();
}

#[test]
fn basic_challenge_flow_and_refusal() {
    let mut server = Server::new();
    let challenge = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="Registry""#)
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header(
            "authorization",
            auth_support::basic("alice", SECRET).as_str(),
        )
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .expect(2)
        .create();
    let client = with_password(&server);
    client.get_raw_manifest(&image(&server)).unwrap();
    // The challenge is remembered: the second request sends the credentials at once.
    client.get_raw_manifest(&image(&server)).unwrap();
    challenge.assert();
    ok.assert();

    let mut refusing = Server::new();
    let all = refusing
        .mock("GET", "/v2/team/app/manifests/v1")
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="Registry""#)
        .expect(2)
        .create();
    let e = with_password(&refusing)
        .get_raw_manifest(&image(&refusing))
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    assert_no_secret(&e, &[SECRET]);
    all.assert();
}

#[test]
fn challenge_forms() {
    // Several challenges over two header lines, odd case, quoted commas: Bearer is preferred.
    let mut server = Server::new();
    let realm = format!("{}/auth", server.url());
    let _refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("WWW-Authenticate", r#"BASIC realm="x""#)
        .with_header(
            "WWW-Authenticate",
            &format!(
                r#"bEaReR Realm="{realm}", SERVICE="my svc", Scope="repository:team/app:pull,push""#
            ),
        )
        .create();
    let token = server
        .mock("GET", "/auth")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("service".into(), "my svc".into()),
            // The scope we need and the one the challenge names (two `scope` parameters;
            // mockito's UrlEncoded keeps only the last of a repeated key, hence regexes).
            Matcher::Regex("(^|&)scope=repository%3Ateam%2Fapp%3Apull(&|$)".into()),
            Matcher::Regex("(^|&)scope=repository%3Ateam%2Fapp%3Apull%2Cpush(&|$)".into()),
        ]))
        .with_body(r#"{"token":"t"}"#)
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer t")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .create();
    builder()
        .build()
        .unwrap()
        .get_raw_manifest(&image(&server))
        .unwrap();
    token.assert();
    ok.assert();
}

#[test]
fn a_remembered_challenge_serves_later_bare_401s() {
    // GCR sends the challenge once; a later 401 without it still gets a new token.
    let mut server = Server::new();
    let challenge = bearer_challenge(&server, "repository:team/app:pull");
    let _first = server
        .mock("GET", "/v2/team/app/tags/list")
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    let _tags = server
        .mock("GET", "/v2/team/app/tags/list")
        .match_query(Matcher::Any)
        .match_header("authorization", "Bearer a")
        .with_body(r#"{"name":"team/app","tags":["v1"]}"#)
        .create();
    let bare = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer a")
        .with_status(401)
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer b")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .create();
    let _ta = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"a","expires_in":300}"#)
        .expect(1)
        .create();
    let tb = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"b","expires_in":300}"#)
        .expect(1)
        .create();
    let client = builder().build().unwrap();
    assert_eq!(client.list_tags(&image(&server)).unwrap(), ["v1"]);
    client.get_raw_manifest(&image(&server)).unwrap();
    bare.assert();
    ok.assert();
    tb.assert();
}

#[test]
fn identity_token_uses_the_oauth2_refresh_grant() {
    let mut server = Server::new();
    let (_refused, ok) = manifest_mocks(&mut server, "from-refresh");
    let token = server
        .mock("POST", "/token")
        .match_header("content-type", "application/x-www-form-urlencoded")
        .match_header("authorization", Matcher::Missing)
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("grant_type".into(), "refresh_token".into()),
            Matcher::UrlEncoded("refresh_token".into(), SECRET.into()),
            Matcher::UrlEncoded("service".into(), "svc".into()),
            Matcher::UrlEncoded("scope".into(), "repository:team/app:pull".into()),
        ]))
        .with_body(r#"{"access_token":"from-refresh","expires_in":300}"#)
        .expect(1)
        .create();
    builder()
        .credentials(&host(&server), Credentials::identity_token(SECRET))
        .build()
        .unwrap()
        .get_raw_manifest(&image(&server))
        .unwrap();
    token.assert();
    ok.assert();
}

#[test]
fn a_ready_bearer_token_is_sent_at_once() {
    let mut server = Server::new();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer ya29.ready")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .expect(1)
        .create();
    builder()
        .credentials(&host(&server), Credentials::bearer("ya29.ready"))
        .build()
        .unwrap()
        .get_raw_manifest(&image(&server))
        .unwrap();
    ok.assert();
}

#[test]
fn redirects_never_carry_authorization_to_another_host() {
    let mut registry = Server::new();
    let mut cdn = Server::new();
    let digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    let blob_path = format!("/v2/team/app/blobs/{digest}");
    let _redirect = registry
        .mock("GET", blob_path.as_str())
        .match_header("authorization", "Bearer ready-token")
        .with_status(307)
        .with_header("location", &format!("{}/bucket/blob?sig=1", cdn.url()))
        .expect(1)
        .create();
    let clean = cdn
        .mock("GET", "/bucket/blob")
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_body("{}")
        .expect(1)
        .create();
    let leaked = cdn
        .mock("GET", "/bucket/blob")
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Regex(".*".into()))
        .with_status(500)
        .expect(0)
        .create();
    let client = builder()
        .credentials(&host(&registry), Credentials::bearer("ready-token"))
        .build()
        .unwrap();
    let repo = image(&registry);
    let bytes = client
        .get_blob_bytes(&repo, &digest.parse().unwrap(), 1024)
        .unwrap();
    assert_eq!(bytes, b"{}");
    clean.assert();
    leaked.assert();

    // The token realm's redirect must not carry the Basic credentials either.
    let mut reg2 = Server::new();
    let challenge = bearer_challenge(&reg2, "repository:team/app:pull");
    let _challenge = reg2
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    let _ok = reg2
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer moved")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .create();
    let _moved = reg2
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_status(302)
        .with_header("location", &format!("{}/elsewhere/token", cdn.url()))
        .create();
    let clean_token = cdn
        .mock("GET", "/elsewhere/token")
        .match_header("authorization", Matcher::Missing)
        .with_body(r#"{"token":"moved"}"#)
        .expect(1)
        .create();
    let leaked_token = cdn
        .mock("GET", "/elsewhere/token")
        .match_header("authorization", Matcher::Regex(".*".into()))
        .with_status(500)
        .expect(0)
        .create();
    with_password(&reg2)
        .get_raw_manifest(&image(&reg2))
        .unwrap();
    clean_token.assert();
    leaked_token.assert();
}

#[test]
fn realms_must_be_http_urls_and_credentials_stay_off_plain_http() {
    for realm in [
        "ftp://127.0.0.1/token",
        "/relative/token",
        "http://user:pw@127.0.0.1/t",
    ] {
        let mut server = Server::new();
        let _m = server
            .mock("GET", "/v2/team/app/manifests/v1")
            .with_status(401)
            .with_header(
                "www-authenticate",
                &format!(r#"Bearer realm="{realm}",service="s""#),
            )
            .create();
        let e = with_password(&server)
            .get_raw_manifest(&image(&server))
            .unwrap_err();
        match &e {
            Error::Auth { message, .. } => {
                assert!(message.contains("not an http(s) URL"), "{message}")
            }
            other => panic!("{realm}: expected Auth, got {other:?}"),
        }
        assert_no_secret(&e, &[SECRET]);
    }
    // A plain-HTTP realm on a host that is neither loopback nor listed as insecure: the
    // credentials are not sent (nothing is sent: the address is not routable anyway).
    let mut server = Server::new();
    let _m = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .with_status(401)
        .with_header(
            "www-authenticate",
            r#"Bearer realm="http://auth.example.invalid/token",service="s""#,
        )
        .create();
    let started = std::time::Instant::now();
    let e = with_password(&server)
        .get_raw_manifest(&image(&server))
        .unwrap_err();
    match &e {
        Error::Auth { message, .. } => {
            assert!(
                message.contains("will not send credentials over plain HTTP"),
                "{message}"
            )
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn secrets_never_appear_in_errors() {
    // Token server failures of every kind, with a secret in the request and in the answer.
    let bodies = [
        (401, r#"{"details":"bad"}"#.to_string()),
        (200, format!(r#"{{"token": {SECRET}}}"#)),
        (200, format!(r#"{{"tok":"{SECRET}"}}"#)),
        (
            200,
            format!(r#"{{"token":"","access_token":"","x":"{SECRET}"}}"#),
        ),
        (500, String::new()),
        (200, "null".to_string()),
    ];
    for (status, body) in bodies {
        let mut server = Server::new();
        let challenge = bearer_challenge(&server, "repository:team/app:pull");
        let _m = server
            .mock("GET", "/v2/team/app/manifests/v1")
            .with_status(401)
            .with_header("www-authenticate", &challenge)
            .create();
        let _t = server
            .mock("GET", "/token")
            .match_query(Matcher::Any)
            .with_status(status)
            .with_body(&body)
            .create();
        let _p = server
            .mock("POST", "/token")
            .with_status(status)
            .with_body(&body)
            .create();
        for client in [
            with_password(&server),
            builder()
                .credentials(&host(&server), Credentials::identity_token(SECRET))
                .build()
                .unwrap(),
        ] {
            let e = client.get_raw_manifest(&image(&server)).unwrap_err();
            assert!(matches!(e, Error::Auth { .. }), "{status} {body}: {e:?}");
            assert_no_secret(&e, &[SECRET]);
        }
    }
    // Debug of credentials and of a client never shows them.
    let c = Credentials::basic("alice", SECRET);
    assert!(!format!("{c:?}").contains(SECRET));
    let client = builder().credentials("r.example", c).build().unwrap();
    assert!(!format!("{client:?}").contains(SECRET));
}

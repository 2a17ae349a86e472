//! Credential helpers (`docker-credential-<name> get`): one that answers, one that fails, one
//! that hangs, one that is missing, one that has nothing. Helpers are found in a directory
//! given to the builder, so no test touches the process environment.

mod auth_support;
mod common;

use std::time::{Duration, Instant};

use auth_support::{answering_helper, assert_no_secret, write_helper};
use common::TempDir;
use dockreg::{Client, DockerConfigSource, Error, Reference};
use mockito::{Matcher, Server, ServerGuard};

const SECRET: &str = "helper-S3cret-value";
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

/// A registry wanting Basic credentials `bob`/SECRET; anything else is refused.
fn basic_registry() -> (ServerGuard, mockito::Mock, mockito::Mock) {
    let mut server = Server::new();
    let refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="r""#)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", auth_support::basic("bob", SECRET).as_str())
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .create();
    (server, refused, ok)
}

fn image(server: &ServerGuard) -> Reference {
    format!("{}/team/app:v1", server.host_with_port())
        .parse()
        .unwrap()
}

/// A client whose config names helper `name` for the server's registry.
fn client_with_helper(
    dir: &TempDir,
    server: &ServerGuard,
    name: &str,
    timeout: Duration,
) -> Client {
    let config = dir.join(format!("{name}.json"));
    std::fs::write(
        &config,
        format!(
            r#"{{"credHelpers": {{"{}": "{name}"}}}}"#,
            server.host_with_port()
        ),
    )
    .unwrap();
    Client::builder()
        .docker_config(DockerConfigSource::Path(config))
        .credential_helper_dir(dir.path())
        .credential_helper_timeout(timeout)
        .build()
        .unwrap()
}

#[test]
fn a_working_helper_is_asked_once_per_registry() {
    let (server, _refused, ok) = basic_registry();
    let dir = TempDir::new("helper-ok");
    let log = dir.join("asked.log");
    answering_helper(dir.path(), "works", "bob", SECRET, &log);
    let client = client_with_helper(&dir, &server, "works", Duration::from_secs(10));
    for _ in 0..3 {
        client.get_raw_manifest(&image(&server)).unwrap();
    }
    ok.expect(3).assert();
    let asked = std::fs::read_to_string(&log).unwrap();
    assert_eq!(asked, format!("{}\n", server.host_with_port()));
}

#[test]
fn a_failing_helper_is_named_and_its_output_is_not_quoted() {
    let (server, _refused, _ok) = basic_registry();
    let dir = TempDir::new("helper-fail");
    write_helper(
        dir.path(),
        "fails",
        &format!(
            "echo 'cannot reach keychain; last secret was {SECRET}' >&2\necho '{SECRET}'\nexit 7"
        ),
    );
    let client = client_with_helper(&dir, &server, "fails", Duration::from_secs(10));
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    let Error::Auth { registry, message } = &e else {
        panic!("expected an Auth error, got {e:?}");
    };
    assert_eq!(registry, &server.host_with_port());
    assert!(message.contains("docker-credential-fails"), "{message}");
    assert!(message.contains("7"), "{message}");
    assert_no_secret(&e, &[SECRET, "keychain"]);

    // Exit 0 with something that is not the JSON answer: named, not quoted.
    write_helper(dir.path(), "garbage", &format!("echo 'not json {SECRET}'"));
    let client = client_with_helper(&dir, &server, "garbage", Duration::from_secs(10));
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    assert!(e.to_string().contains("docker-credential-garbage"), "{e}");
    assert_no_secret(&e, &[SECRET]);
}

#[test]
fn a_hanging_helper_is_stopped_after_the_timeout() {
    let (server, _refused, _ok) = basic_registry();
    let dir = TempDir::new("helper-hang");
    write_helper(dir.path(), "hangs", "exec sleep 60");
    let client = client_with_helper(&dir, &server, "hangs", Duration::from_millis(300));
    let started = Instant::now();
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(took >= Duration::from_millis(300), "took {took:?}");
    let text = e.to_string();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert!(text.contains("docker-credential-hangs"), "{text}");
    assert!(text.contains("did not answer within"), "{text}");

    // A helper that exits at once but leaves a child holding its stdout open: still bounded.
    write_helper(dir.path(), "forks", "sleep 3 &\nexit 0");
    let client = client_with_helper(&dir, &server, "forks", Duration::from_millis(300));
    let started = Instant::now();
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(e.to_string().contains("docker-credential-forks"), "{e}");
}

#[test]
fn a_missing_helper_is_named() {
    let (server, _refused, _ok) = basic_registry();
    let dir = TempDir::new("helper-missing");
    let client = client_with_helper(&dir, &server, "absent", Duration::from_secs(10));
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert!(
        text.contains("docker-credential-absent not found"),
        "{text}"
    );
}

#[test]
fn a_helper_without_credentials_means_anonymous() {
    let mut server = Server::new();
    let refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="r""#)
        .expect(1)
        .create();
    let dir = TempDir::new("helper-none");
    // The protocol's answer for an unknown server: exit 1, "credentials not found" on stdout.
    write_helper(
        dir.path(),
        "empty",
        "echo 'credentials not found in native keychain'\nexit 1",
    );
    let client = client_with_helper(&dir, &server, "empty", Duration::from_secs(10));
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    refused.assert();
}

#[test]
fn an_identity_token_from_a_helper_goes_to_the_token_server() {
    let mut server = Server::new();
    let challenge = format!(r#"Bearer realm="{}/token",service="svc""#, server.url());
    let _refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer exchanged")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .expect(1)
        .create();
    let token = server
        .mock("POST", "/token")
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("grant_type".into(), "refresh_token".into()),
            Matcher::UrlEncoded("refresh_token".into(), SECRET.into()),
        ]))
        .with_body(r#"{"access_token":"exchanged"}"#)
        .expect(1)
        .create();
    let dir = TempDir::new("helper-identity");
    let log = dir.join("asked.log");
    answering_helper(dir.path(), "idtoken", "<token>", SECRET, &log);
    let client = client_with_helper(&dir, &server, "idtoken", Duration::from_secs(10));
    client.get_raw_manifest(&image(&server)).unwrap();
    token.assert();
    ok.assert();
}

#[test]
fn rotated_credentials_are_picked_up_after_a_refusal() {
    let mut server = Server::new();
    let refused = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="r""#)
        .create();
    let ok = server
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header(
            "authorization",
            auth_support::basic("bob", "new-pw").as_str(),
        )
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .create();
    let dir = TempDir::new("helper-rotate");
    let pw = dir.join("pw");
    std::fs::write(&pw, "old-pw").unwrap();
    write_helper(
        dir.path(),
        "rotates",
        &format!(
            r#"cat >/dev/null
printf '{{"Username":"bob","Secret":"%s"}}' "$(cat '{}')""#,
            pw.display()
        ),
    );
    let client = client_with_helper(&dir, &server, "rotates", Duration::from_secs(10));
    // The old password: refused after one retry.
    let e = client.get_raw_manifest(&image(&server)).unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    assert_no_secret(&e, &["old-pw"]);
    let refused = refused.expect(2);
    refused.assert();
    // The helper now has a new password: the next request's refusal asks it again, and the
    // retry uses the new one; later requests send it at once.
    std::fs::write(&pw, "new-pw").unwrap();
    client.get_raw_manifest(&image(&server)).unwrap();
    client.get_raw_manifest(&image(&server)).unwrap();
    refused.expect(3).assert();
    ok.expect(2).assert();
}

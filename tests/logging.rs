//! The library's `log` output: requests, retries and token fetches are logged at debug/trace,
//! and no line ever holds a credential (password, Basic header, refresh token, bearer token).
//! One capturing logger serves the whole test binary; each test reads only its own lines
//! (filtered by the registry port it started).

mod auth_support;
mod common;

use std::collections::BTreeMap;
use std::sync::{Mutex, Once};

use auth_support::{basic, small_image};
use common::token_server::{Rule, TokenServer, User};
use common::{TempDir, TestRegistry};
use dockreg::{Client, Credentials, DockerConfigSource, Reference};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("dockreg")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}: {}", record.level(), record.target(), record.args());
            LINES.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

fn install_logger() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// The captured lines that mention `needle` (a test's own registry address).
fn lines_with(needle: &str) -> Vec<String> {
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

fn all_lines() -> Vec<String> {
    LINES.lock().unwrap().clone()
}

fn assert_no_secret_in_logs(secrets: &[&str]) {
    for line in all_lines() {
        for secret in secrets {
            assert!(
                !line.contains(secret),
                "a log line holds a secret ({secret:?}): {line}"
            );
        }
    }
}

#[test]
fn basic_auth_requests_are_logged_without_the_password() {
    install_logger();
    const USER: &str = "logan";
    const PASSWORD: &str = "pw-Log-s3cret";
    let dir = TempDir::new("logging-basic");
    let registry = TestRegistry::start_with_htpasswd(dir.path(), USER, PASSWORD);
    let image = small_image("logging-basic");
    let header = basic(USER, PASSWORD);
    auth_support::push_image_blobs(&registry.url(), "team/app", &image, &header);
    auth_support::put_manifest(&registry.url(), "team/app", "v1", &image.2, &header);

    let client = Client::builder()
        .docker_config(DockerConfigSource::None)
        .credentials(&registry.addr(), Credentials::basic(USER, PASSWORD))
        .build()
        .unwrap();
    let reference: Reference = format!("{}/team/app:v1", registry.addr()).parse().unwrap();
    client.get_manifest(&reference).expect("get_manifest");

    let ours = lines_with(&registry.addr());
    let request = format!(
        "GET http://{}/v2/team/app/manifests/v1 -> 200",
        registry.addr()
    );
    assert!(
        ours.iter().any(|l| l.contains(&request)),
        "no request line {request:?} in {ours:#?}"
    );
    assert!(
        ours.iter()
            .any(|l| l.contains("-> 401") && l.starts_with("DEBUG")),
        "the first, refused request is not logged: {ours:#?}"
    );
    assert!(
        ours.iter()
            .any(|l| l.starts_with("TRACE") && l.contains("authorization: Basic <redacted>")),
        "the trace of headers does not say Basic auth was sent: {ours:#?}"
    );
    // The Basic header's base64 and the password itself appear nowhere.
    let encoded = header.trim_start_matches("Basic ");
    assert_no_secret_in_logs(&[PASSWORD, encoded]);
}

#[test]
fn token_fetches_are_logged_without_refresh_or_bearer_tokens() {
    install_logger();
    const USER: &str = "tokenlogger";
    const PASSWORD: &str = "pw-Token-s3cret";
    const REFRESH: &str = "refresh-Token-s3cret";
    let rules = vec![Rule {
        kind: "repository",
        name: "*",
        actions: &["pull", "push"],
    }];
    let users = BTreeMap::from([(
        USER.to_string(),
        User {
            password: PASSWORD.to_string(),
            refresh_token: Some(REFRESH.to_string()),
            rules,
        },
    )]);
    let tokens = TokenServer::start(users);
    let registry = TestRegistry::start_with(&tokens.registry_yaml());
    let image = small_image("logging-token");
    let pushed = tokens.token_for(USER, &["repository:team/app:pull,push"]);
    let auth = format!("Bearer {pushed}");
    auth_support::push_image_blobs(&registry.url(), "team/app", &image, &auth);
    auth_support::put_manifest(&registry.url(), "team/app", "v1", &image.2, &auth);
    let reference: Reference = format!("{}/team/app:v1", registry.addr()).parse().unwrap();

    for credentials in [
        Credentials::basic(USER, PASSWORD),
        Credentials::identity_token(REFRESH),
    ] {
        let client = Client::builder()
            .docker_config(DockerConfigSource::None)
            .credentials(&registry.addr(), credentials)
            .build()
            .unwrap();
        client.get_manifest(&reference).expect("get_manifest");
    }

    let ours = lines_with(&registry.addr());
    let fetches: Vec<&String> = ours
        .iter()
        .filter(|l| l.contains("fetching a token for"))
        .collect();
    assert!(
        fetches.iter().any(|l| l.contains("basic credentials"))
            && fetches.iter().any(|l| l.contains("identity token")),
        "both token fetches should be logged with their kind: {ours:#?}"
    );
    assert!(
        ours.iter().any(|l| l.contains("got a token for")),
        "the token's arrival is not logged: {ours:#?}"
    );
    assert!(
        ours.iter()
            .any(|l| l.contains("authorization: Bearer <redacted>")),
        "the trace of headers does not say a bearer token was sent: {ours:#?}"
    );
    // Every token the server issued (they are JWTs: "eyJ..."), the password, the refresh token
    // and the Basic header sent to the token server appear nowhere.
    let basic_encoded = basic(USER, PASSWORD);
    let mut secrets = vec![
        PASSWORD,
        REFRESH,
        basic_encoded.trim_start_matches("Basic "),
    ];
    secrets.push(pushed.as_str());
    secrets.push("eyJ");
    assert_no_secret_in_logs(&secrets);
}

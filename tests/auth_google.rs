//! Google Application Default Credentials against local servers only (127.0.0.1): a
//! service-account key made with `openssl` whose RS256 JWT is checked claim by claim and
//! verified with ring, the refresh-token grant of an `authorized_user` file, the metadata server
//! (named by `GCE_METADATA_HOST`, in a child process so the environment stays per test), refresh
//! before expiry, one fetch for many threads, the C options, and errors without secrets.
//!
//! The registries are mockito servers named as Google registries with
//! `ClientBuilder::google_registry`: they take only `oauth2accesstoken` and the access token.

mod auth_support;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_support::{assert_no_secret, basic};
use base64::Engine as _;
use common::TempDir;
use common::registry::require_program;
use dockreg::{Client, DockerConfigSource, Error, GoogleCredentialsSource, Reference};
use mockito::{Matcher, Server, ServerGuard};
use serde_json::{Value, json};

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const CLIENT_SECRET: &str = "client-secret-Zq81";
const REFRESH_TOKEN: &str = "1//refresh-token-Xy72";
const SA_EMAIL: &str = "puller@project.iam.gserviceaccount.com";
const KEY_ID: &str = "0123456789abcdef";

/// A client that knows no credential files and treats `server` as a Google registry.
fn client(server: &ServerGuard, source: GoogleCredentialsSource) -> Client {
    Client::builder()
        .docker_config(DockerConfigSource::None)
        .google_credentials(source)
        .google_registry(&server.host_with_port())
        .build()
        .unwrap()
}

fn repo(server: &ServerGuard) -> Reference {
    format!("{}/team/app:v1", server.host_with_port())
        .parse()
        .unwrap()
}

/// Decodes `application/x-www-form-urlencoded`.
fn form(body: &[u8]) -> BTreeMap<String, String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    std::str::from_utf8(body)
        .unwrap()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A fresh 2048-bit RSA key: (PKCS#8 PEM, PKCS#1 DER public key), from the `openssl` CLI.
fn rsa_key(dir: &TempDir) -> (String, Vec<u8>) {
    require_program("openssl", "openssl");
    let pem = dir.join("key.pem");
    let der = dir.join("pub.der");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let ok = Command::new("openssl")
        .args(["rsa", "-RSAPublicKey_out", "-outform", "DER", "-in"])
        .arg(&pem)
        .arg("-out")
        .arg(&der)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    (
        std::fs::read_to_string(&pem).unwrap(),
        std::fs::read(&der).unwrap(),
    )
}

fn write_json(dir: &TempDir, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

fn service_account_file(dir: &TempDir, pem: &str, token_uri: &str) -> PathBuf {
    write_json(
        dir,
        "sa.json",
        &json!({
            "type": "service_account",
            "project_id": "project",
            "private_key_id": KEY_ID,
            "private_key": pem,
            "client_email": SA_EMAIL,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        }),
    )
}

fn authorized_user_file(dir: &TempDir, token_uri: &str) -> PathBuf {
    write_json(
        dir,
        "adc.json",
        &json!({
            "type": "authorized_user",
            "client_id": "client-id.apps.googleusercontent.com",
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "token_uri": token_uri,
        }),
    )
}

/// The OAuth2 token endpoint of an `authorized_user` file: checks the refresh grant and hands
/// out `access-1`, `access-2`, ... valid `expires_in` seconds. Returns the hit counter.
fn refresh_endpoint(server: &mut ServerGuard, expires_in: u64) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    server
        .mock("POST", "/oauth/token")
        .match_header("content-type", "application/x-www-form-urlencoded")
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("grant_type".into(), "refresh_token".into()),
            Matcher::UrlEncoded(
                "client_id".into(),
                "client-id.apps.googleusercontent.com".into(),
            ),
            Matcher::UrlEncoded("client_secret".into(), CLIENT_SECRET.into()),
            Matcher::UrlEncoded("refresh_token".into(), REFRESH_TOKEN.into()),
        ]))
        .with_header("content-type", "application/json")
        .with_body_from_request(move |_| {
            // A slow endpoint, so that threads asking together would all ask.
            std::thread::sleep(Duration::from_millis(100));
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            json!({"access_token": format!("access-{n}"), "expires_in": expires_in,
                   "token_type": "Bearer", "scope": SCOPE})
            .to_string()
            .into_bytes()
        })
        .create();
    hits
}

/// A registry with a Basic challenge that lists tags only for `oauth2accesstoken` and one of
/// `tokens`; returns the mock of each accepted token.
fn basic_registry(server: &mut ServerGuard, tokens: &[&str]) -> Vec<mockito::Mock> {
    server
        .mock("GET", "/v2/team/app/tags/list")
        .match_query(Matcher::Any)
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="gcr""#)
        .with_body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"auth required"}]}"#)
        .create();
    tokens
        .iter()
        .map(|t| {
            server
                .mock("GET", "/v2/team/app/tags/list")
                .match_query(Matcher::Any)
                .match_header("authorization", basic("oauth2accesstoken", t).as_str())
                .with_header("content-type", "application/json")
                .with_body(r#"{"name":"team/app","tags":["v1","v2"]}"#)
                .create()
        })
        .collect()
}

#[test]
fn service_account_jwt_is_signed_locally_and_exchanged_end_to_end() {
    let dir = TempDir::new("google-sa");
    let (pem, public_der) = rsa_key(&dir);
    let mut google = Server::new();
    let token_uri = format!("{}/oauth/token", google.url());
    let assertions = Arc::new(Mutex::new(Vec::<BTreeMap<String, String>>::new()));
    let seen = assertions.clone();
    let exchange = google
        .mock("POST", "/oauth/token")
        .match_header("content-type", "application/x-www-form-urlencoded")
        .with_header("content-type", "application/json")
        .with_body_from_request(move |req| {
            seen.lock().unwrap().push(form(req.body().unwrap()));
            br#"{"access_token":"ya29.sa-access","expires_in":3599,"token_type":"Bearer"}"#.to_vec()
        })
        .expect(1)
        .create();
    let key = service_account_file(&dir, &pem, &token_uri);

    // The registry: Bearer challenge to its own token endpoint, which takes only the access
    // token as the password of oauth2accesstoken.
    let mut registry = Server::new();
    let challenge = format!(
        r#"Bearer realm="{}/v2/token",service="gcr.test""#,
        registry.url()
    );
    registry
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    let registry_token = registry
        .mock("GET", "/v2/token")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("service".into(), "gcr.test".into()),
            Matcher::UrlEncoded("scope".into(), "repository:team/app:pull".into()),
        ]))
        .match_header(
            "authorization",
            basic("oauth2accesstoken", "ya29.sa-access").as_str(),
        )
        .with_body(r#"{"token":"registry-token","expires_in":300}"#)
        .expect(1)
        .create();
    let manifest = registry
        .mock("GET", "/v2/team/app/manifests/v1")
        .match_header("authorization", "Bearer registry-token")
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_body(MANIFEST)
        .expect(3)
        .create();

    let c = client(&registry, GoogleCredentialsSource::File(key));
    for _ in 0..3 {
        c.get_raw_manifest(&repo(&registry)).unwrap();
    }
    exchange.assert();
    registry_token.assert();
    manifest.assert();

    // The grant and its JWT.
    let sent = assertions.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let grant = &sent[0];
    assert_eq!(
        grant.get("grant_type").map(String::as_str),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    let jwt = grant.get("assertion").expect("assertion");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], KEY_ID);
    assert_eq!(claims["iss"], SA_EMAIL);
    assert_eq!(claims["scope"], SCOPE);
    assert_eq!(claims["aud"], token_uri.as_str());
    let iat = claims["iat"].as_u64().unwrap();
    let exp = claims["exp"].as_u64().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(exp > iat && exp - iat <= 3600, "iat {iat} exp {exp}");
    assert!(iat <= now && now - iat < 120, "iat {iat} now {now}");
    // The signature, verified with the public key openssl gave.
    let signature = b64.decode(parts[2]).unwrap();
    let signed = format!("{}.{}", parts[0], parts[1]);
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &public_der,
    )
    .verify(signed.as_bytes(), &signature)
    .expect("the JWT signature verifies with the key's public half");
}

#[test]
fn authorized_user_uses_the_refresh_grant_and_basic_registries_get_the_token() {
    let dir = TempDir::new("google-user");
    let mut google = Server::new();
    let hits = refresh_endpoint(&mut google, 3599);
    let file = authorized_user_file(&dir, &format!("{}/oauth/token", google.url()));
    let mut registry = Server::new();
    let ok = basic_registry(&mut registry, &["access-1"]);
    let c = client(&registry, GoogleCredentialsSource::File(file));
    for _ in 0..3 {
        assert_eq!(c.list_tags(&repo(&registry)).unwrap(), ["v1", "v2"]);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "one token for every request"
    );
    ok.into_iter().next().unwrap().expect(3).assert();
}

#[test]
fn a_short_lived_access_token_is_fetched_again_before_it_expires() {
    let dir = TempDir::new("google-refresh");
    let mut google = Server::new();
    let hits = refresh_endpoint(&mut google, 2);
    let file = authorized_user_file(&dir, &format!("{}/oauth/token", google.url()));
    let mut registry = Server::new();
    let ok = basic_registry(&mut registry, &["access-1", "access-2"]);
    let c = client(&registry, GoogleCredentialsSource::File(file));
    c.list_tags(&repo(&registry)).unwrap();
    c.list_tags(&repo(&registry)).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Renewed a quarter of its 2 s life before expiry: after 1.6 s it is no longer used.
    std::thread::sleep(Duration::from_millis(1600));
    c.list_tags(&repo(&registry)).unwrap();
    c.list_tags(&repo(&registry)).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let mut ok = ok.into_iter();
    ok.next().unwrap().expect(2).assert();
    ok.next().unwrap().expect(2).assert();
}

#[test]
fn threads_needing_a_token_together_share_one_fetch() {
    let dir = TempDir::new("google-threads");
    let mut google = Server::new();
    let hits = refresh_endpoint(&mut google, 3599);
    let file = authorized_user_file(&dir, &format!("{}/oauth/token", google.url()));
    let mut registry = Server::new();
    let ok = basic_registry(&mut registry, &["access-1"]);
    let c = client(&registry, GoogleCredentialsSource::File(file));
    // Learn the challenge first, so that all threads go straight for credentials.
    c.list_tags(&repo(&registry)).unwrap();
    let before = hits.load(Ordering::SeqCst);
    assert_eq!(before, 1);
    std::thread::scope(|s| {
        for _ in 0..8 {
            let c = c.clone();
            let r = repo(&registry);
            s.spawn(move || c.list_tags(&r).unwrap());
        }
    });
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    ok.into_iter().next().unwrap().expect(9).assert();
}

#[test]
fn refused_grants_and_bad_key_files_name_the_file_and_field_never_the_secret() {
    let dir = TempDir::new("google-errors");
    let (pem, _) = rsa_key(&dir);
    let pem_body = pem.lines().nth(1).unwrap().to_string();
    let mut google = Server::new();
    // A token endpoint that refuses, echoing what it got.
    google
        .mock("POST", "/oauth/token")
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body_from_request(|req| {
            let got = form(req.body().unwrap());
            let echoed = got
                .get("refresh_token")
                .or_else(|| got.get("assertion"))
                .cloned()
                .unwrap_or_default();
            json!({"error": "invalid_grant",
                   "error_description": format!("Bad grant {echoed}")})
            .to_string()
            .into_bytes()
        })
        .create();
    let token_uri = format!("{}/oauth/token", google.url());
    let mut registry = Server::new();
    basic_registry(&mut registry, &[]);
    let secrets = [CLIENT_SECRET, REFRESH_TOKEN, pem_body.as_str(), "hunter2"];

    let user = authorized_user_file(&dir, &token_uri);
    let e = client(&registry, GoogleCredentialsSource::File(user.clone()))
        .list_tags(&repo(&registry))
        .unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&user.display().to_string()), "{text}");
    assert!(
        text.contains("400") && text.contains("invalid_grant"),
        "{text}"
    );
    assert_no_secret(&e, &secrets);

    let sa = service_account_file(&dir, &pem, &token_uri);
    let e = client(&registry, GoogleCredentialsSource::File(sa))
        .list_tags(&repo(&registry))
        .unwrap_err();
    assert!(e.to_string().contains("invalid_grant"), "{e}");
    assert_no_secret(&e, &secrets);
    assert!(!e.to_string().contains("eyJ"), "the JWT leaked: {e}");

    let bad = |name: &str, v: Value, want: &[&str]| {
        let path = write_json(&dir, name, &v);
        let e = client(&registry, GoogleCredentialsSource::File(path.clone()))
            .list_tags(&repo(&registry))
            .unwrap_err();
        assert!(matches!(e, Error::Auth { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        for w in want {
            assert!(text.contains(w), "{name}: want {w:?} in {text}");
        }
        assert_no_secret(&e, &secrets);
    };
    bad(
        "garbled-key.json",
        json!({"type": "service_account", "client_email": SA_EMAIL, "token_uri": token_uri,
               "private_key": format!("-----BEGIN PRIVATE KEY-----\nhunter2{pem_body}\n-----END PRIVATE KEY-----\n")}),
        &["private_key"],
    );
    bad(
        "truncated-key.json",
        json!({"type": "service_account", "client_email": SA_EMAIL, "token_uri": token_uri,
               "private_key": pem.replace("-----END PRIVATE KEY-----", "")}),
        &["private_key"],
    );
    bad(
        "no-email.json",
        json!({"type": "service_account", "private_key": pem, "token_uri": token_uri}),
        &["client_email", "missing"],
    );
    bad(
        "no-secret.json",
        json!({"type": "authorized_user", "client_id": "x", "refresh_token": REFRESH_TOKEN,
               "client_secret": 42}),
        &["client_secret", "not a string"],
    );
    bad(
        "external.json",
        json!({"type": "external_account", "audience": "hunter2"}),
        &["external_account", "not supported"],
    );
    bad(
        "plain-http.json",
        json!({"type": "authorized_user", "client_id": "x", "client_secret": CLIENT_SECRET,
               "refresh_token": REFRESH_TOKEN, "token_uri": "http://oauth.example.com/token"}),
        &["token_uri", "plain HTTP"],
    );
    let not_json = dir.join("not-json.json");
    std::fs::write(&not_json, format!("{{\"private_key\": hunter2 {pem_body}")).unwrap();
    let e = client(&registry, GoogleCredentialsSource::File(not_json.clone()))
        .list_tags(&repo(&registry))
        .unwrap_err();
    assert!(e.to_string().contains("not JSON"), "{e}");
    assert_no_secret(&e, &secrets);
    let missing = dir.join("missing.json");
    let e = client(&registry, GoogleCredentialsSource::File(missing.clone()))
        .list_tags(&repo(&registry))
        .unwrap_err();
    assert!(e.to_string().contains("missing.json"), "{e}");
}

#[test]
fn google_credentials_none_and_other_sources_first() {
    let dir = TempDir::new("google-order");
    let mut google = Server::new();
    let hits = refresh_endpoint(&mut google, 3599);
    let file = authorized_user_file(&dir, &format!("{}/oauth/token", google.url()));
    let mut registry = Server::new();
    basic_registry(&mut registry, &["access-1"]);
    let alice = registry
        .mock("GET", "/v2/team/app/tags/list")
        .match_query(Matcher::Any)
        .match_header("authorization", basic("alice", "pw").as_str())
        .with_body(r#"{"name":"team/app","tags":["a"]}"#)
        .create();
    // Turned off: anonymous, refused.
    let e = client(&registry, GoogleCredentialsSource::None)
        .list_tags(&repo(&registry))
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    // Not a Google registry and not named: no Google credentials.
    let e = Client::builder()
        .docker_config(DockerConfigSource::None)
        .google_credentials(GoogleCredentialsSource::File(file.clone()))
        .build()
        .unwrap()
        .list_tags(&repo(&registry))
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    // The builder's credentials come first.
    let c = Client::builder()
        .docker_config(DockerConfigSource::None)
        .google_credentials(GoogleCredentialsSource::File(file))
        .google_registry(&registry.host_with_port())
        .credentials(
            &registry.host_with_port(),
            dockreg::Credentials::basic("alice", "pw"),
        )
        .build()
        .unwrap();
    assert_eq!(c.list_tags(&repo(&registry)).unwrap(), ["a"]);
    alice.assert();
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert!(
        Client::builder()
            .google_registry("bad host")
            .build()
            .is_err()
    );
}

// --- Application Default Credentials from the environment, in a child process ---

/// Runs `google_child` in a child process with this environment (nothing else Google-related
/// inherited); returns its `RESULT ...` line.
fn run_child(registry: &ServerGuard, env: &[(&str, &Path)], metadata_host: Option<&str>) -> String {
    let home = TempDir::new("google-child-home");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "google_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("DOCKREG_GOOGLE_CHILD_REGISTRY", registry.host_with_port())
    .env("HOME", home.path())
    .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
    .env_remove("CLOUDSDK_CONFIG")
    .env_remove("GCE_METADATA_HOST")
    .env_remove("DOCKER_CONFIG")
    .env_remove("REGISTRY_AUTH_FILE")
    .env_remove("XDG_RUNTIME_DIR")
    .env_remove("XDG_CONFIG_HOME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(h) = metadata_host {
        cmd.env("GCE_METADATA_HOST", h);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .map(str::to_string)
        .unwrap_or_else(|| {
            panic!(
                "no result from the child: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// The child half of the environment tests: a default client (ADC from the environment) lists
/// the tags of the registry named by `DOCKREG_GOOGLE_CHILD_REGISTRY`. Does nothing when run
/// on its own.
#[test]
#[ignore = "run by the ADC tests in a child process with its own environment"]
fn google_child() {
    let Ok(registry) = std::env::var("DOCKREG_GOOGLE_CHILD_REGISTRY") else {
        return;
    };
    let c = Client::builder()
        .google_registry(&registry)
        .build()
        .unwrap();
    let image: Reference = format!("{registry}/team/app").parse().unwrap();
    match c.list_tags(&image) {
        Ok(tags) => println!("RESULT ok {}", tags.join(",")),
        Err(e) => println!("RESULT err {e}"),
    }
}

/// A metadata server answering the default service account's token to `Metadata-Flavor:
/// Google` requests only.
fn metadata_server(server: &mut ServerGuard, token: &str) -> mockito::Mock {
    server
        .mock(
            "GET",
            "/computeMetadata/v1/instance/service-accounts/default/token",
        )
        .match_header("metadata-flavor", "Google")
        .with_header("content-type", "application/json")
        .with_header("metadata-flavor", "Google")
        .with_body(
            json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}).to_string(),
        )
        .create()
}

#[test]
fn metadata_server_is_used_when_no_key_file_exists() {
    let mut metadata = Server::new();
    let meta = metadata_server(&mut metadata, "metadata-token").expect(1);
    let mut registry = Server::new();
    let ok = basic_registry(&mut registry, &["metadata-token"]);
    let result = run_child(&registry, &[], Some(&metadata.host_with_port()));
    assert_eq!(result, "ok v1,v2");
    meta.assert();
    ok.into_iter().next().unwrap().expect(1).assert();
}

#[test]
fn key_files_from_the_environment_come_before_the_metadata_server() {
    let dir = TempDir::new("google-env");
    let mut google = Server::new();
    let hits = refresh_endpoint(&mut google, 3599);
    let file = authorized_user_file(&dir, &format!("{}/oauth/token", google.url()));
    let mut metadata = Server::new();
    let meta = metadata_server(&mut metadata, "metadata-token").expect(0);
    let mut registry = Server::new();
    basic_registry(&mut registry, &["access-1", "access-2"]);
    let meta_host = metadata.host_with_port();

    // GOOGLE_APPLICATION_CREDENTIALS.
    let result = run_child(
        &registry,
        &[("GOOGLE_APPLICATION_CREDENTIALS", &file)],
        Some(&meta_host),
    );
    assert_eq!(result, "ok v1,v2");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // gcloud's file in $CLOUDSDK_CONFIG.
    let sdk = TempDir::new("google-sdk");
    std::fs::copy(&file, sdk.join("application_default_credentials.json")).unwrap();
    let result = run_child(
        &registry,
        &[("CLOUDSDK_CONFIG", sdk.path())],
        Some(&meta_host),
    );
    assert_eq!(result, "ok v1,v2");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    meta.assert();

    // A GOOGLE_APPLICATION_CREDENTIALS that names no file is an error, not a fallback.
    let missing = dir.join("missing.json");
    let result = run_child(
        &registry,
        &[("GOOGLE_APPLICATION_CREDENTIALS", &missing)],
        Some(&meta_host),
    );
    assert!(result.starts_with("err authentication for"), "{result}");
    assert!(
        result.contains("missing.json") && result.contains("GOOGLE_APPLICATION_CREDENTIALS"),
        "{result}"
    );
}

#[test]
fn metadata_without_a_service_account_is_anonymous_and_unreachable_named_is_an_error() {
    let mut metadata = Server::new();
    let none = metadata
        .mock(
            "GET",
            "/computeMetadata/v1/instance/service-accounts/default/token",
        )
        .with_status(404)
        .expect(1)
        .create();
    let mut registry = Server::new();
    basic_registry(&mut registry, &[]);
    let result = run_child(&registry, &[], Some(&metadata.host_with_port()));
    assert!(result.starts_with("err unauthorized"), "{result}");
    none.assert();

    // GCE_METADATA_HOST naming a closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let result = run_child(&registry, &[], Some(&closed));
    assert!(
        result.starts_with("err authentication for") && result.contains("GCE_METADATA_HOST"),
        "{result}"
    );
}

// --- The C options ---

#[test]
fn c_options_name_the_key_file_and_the_google_registries() {
    use dockreg::ffi::{self, dockreg_client, dockreg_status};
    use std::ffi::{CStr, CString, c_char};

    let dir = TempDir::new("google-ffi");
    let mut google = Server::new();
    let hits = refresh_endpoint(&mut google, 3599);
    let file = authorized_user_file(&dir, &format!("{}/oauth/token", google.url()));
    let mut registry = Server::new();
    basic_registry(&mut registry, &["access-1"]);

    let new = |options: &Value| -> Result<*mut dockreg_client, String> {
        let text = CString::new(options.to_string()).unwrap();
        let mut out: *mut dockreg_client = std::ptr::null_mut();
        // SAFETY: a valid C string and a writable pointer.
        let st = unsafe { ffi::dockreg_client_new(text.as_ptr(), &mut out) };
        if st == dockreg_status::DOCKREG_OK {
            Ok(out)
        } else {
            let p = ffi::dockreg_last_error_message();
            // SAFETY: a C string valid until the next call on this thread.
            Err(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        }
    };
    let c = new(&json!({
        "docker_config": null,
        "google_credentials": file.display().to_string(),
        "google_registries": [registry.host_with_port()],
    }))
    .unwrap();
    let repo = CString::new(format!("{}/team/app", registry.host_with_port())).unwrap();
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: a live client, a valid C string and a writable pointer.
    let st = unsafe { ffi::dockreg_client_list_tags(c, repo.as_ptr(), &mut out) };
    assert_eq!(st, dockreg_status::DOCKREG_OK);
    // SAFETY: a string from dockreg, freed once; the client is freed once.
    let text = unsafe { CStr::from_ptr(out) }
        .to_string_lossy()
        .into_owned();
    unsafe {
        ffi::dockreg_string_free(out);
        ffi::dockreg_client_free(c);
    }
    assert!(text.contains("\"v2\""), "{text}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    for (options, needle) in [
        (json!({"google_credentials": ""}), "google_credentials"),
        (
            json!({"google_credentials": 5}),
            "google_credentials: expected a string",
        ),
        (
            json!({"google_registries": ["bad host"]}),
            "google_registries",
        ),
    ] {
        let e = new(&options).unwrap_err();
        assert!(e.contains(needle), "{options}: {e}");
    }
    for options in [
        json!({"google_credentials": null}),
        json!({"google_credentials": "default", "google_registries": []}),
    ] {
        let c = new(&options).unwrap();
        // SAFETY: a live client, freed once.
        unsafe { ffi::dockreg_client_free(c) };
    }
}

#[test]
fn a_refused_access_token_is_not_reused() {
    let dir = TempDir::new("google-revoked");
    let mut google = Server::new();
    let hits = refresh_endpoint(&mut google, 3599);
    let file = authorized_user_file(&dir, &format!("{}/oauth/token", google.url()));
    // The registry's token server takes only the second access token (the first was revoked).
    let mut registry = Server::new();
    let challenge = format!(
        r#"Bearer realm="{}/v2/token",service="gcr.test""#,
        registry.url()
    );
    registry
        .mock("GET", "/v2/team/app/tags/list")
        .match_query(Matcher::Any)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    registry
        .mock("GET", "/v2/token")
        .match_query(Matcher::Any)
        .with_status(401)
        .with_body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"revoked"}]}"#)
        .create();
    let accepted = registry
        .mock("GET", "/v2/token")
        .match_query(Matcher::Any)
        .match_header(
            "authorization",
            basic("oauth2accesstoken", "access-2").as_str(),
        )
        .with_body(r#"{"token":"registry-token"}"#)
        .expect(1)
        .create();
    let tags = registry
        .mock("GET", "/v2/team/app/tags/list")
        .match_query(Matcher::Any)
        .match_header("authorization", "Bearer registry-token")
        .with_body(r#"{"name":"team/app","tags":["v1"]}"#)
        .expect(1)
        .create();
    let c = client(&registry, GoogleCredentialsSource::File(file));
    let e = c.list_tags(&repo(&registry)).unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert_no_secret(&e, &["access-1", CLIENT_SECRET, REFRESH_TOKEN]);
    assert_eq!(c.list_tags(&repo(&registry)).unwrap(), ["v1"]);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    accepted.assert();
    tags.assert();
}

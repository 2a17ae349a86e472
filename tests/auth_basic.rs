//! A real registry with htpasswd (Basic) auth: credentials from the builder, from a
//! `config.json` `auths` entry, and from a credential helper; wrong and missing credentials.

mod auth_support;
mod common;

use std::process::Command;

use auth_support::{answering_helper, assert_no_secret, basic, small_image};
use common::{TempDir, TestRegistry};
use dockreg::{Client, Credentials, DockerConfigSource, Error, Reference};

const USER: &str = "alice";
const PASSWORD: &str = "pw-Basic-s3cret";

struct Setup {
    registry: TestRegistry,
    _dir: TempDir,
    image: (Vec<u8>, Vec<u8>, Vec<u8>),
}

/// A registry requiring `alice`'s password, holding `team/app:v1`.
fn setup() -> Setup {
    let dir = TempDir::new("auth-basic");
    let registry = TestRegistry::start_with_htpasswd(dir.path(), USER, PASSWORD);
    let image = small_image("basic");
    let auth = basic(USER, PASSWORD);
    auth_support::push_image_blobs(&registry.url(), "team/app", &image, &auth);
    auth_support::put_manifest(&registry.url(), "team/app", "v1", &image.2, &auth);
    Setup {
        registry,
        _dir: dir,
        image,
    }
}

fn reference(s: &Setup, name: &str) -> Reference {
    format!("{}/{name}", s.registry.addr()).parse().unwrap()
}

/// Reads and writes through `client`: manifest, config, tags, and a push of a new tag.
fn read_and_write(s: &Setup, client: &Client, new_tag: &str) {
    let image = reference(s, "team/app:v1");
    let m = client.get_manifest(&image).expect("get_manifest");
    assert_eq!(m.bytes, s.image.2);
    let config = client.get_image_config(&image).expect("get config");
    assert_eq!(config.os, "linux");
    let digest = client.set_tag(&image, new_tag).expect("set_tag (a push)");
    assert_eq!(digest, m.digest);
    let tags = client.list_tags(&image).expect("list_tags");
    assert!(tags.contains(&new_tag.to_string()), "{tags:?}");
}

fn no_files() -> dockreg::ClientBuilder {
    Client::builder().docker_config(DockerConfigSource::None)
}

#[test]
fn credentials_from_the_builder() {
    let s = setup();
    let client = no_files()
        .credentials(&s.registry.addr(), Credentials::basic(USER, PASSWORD))
        .build()
        .unwrap();
    read_and_write(&s, &client, "from-builder");
}

#[test]
fn credentials_from_config_json_auths() {
    let s = setup();
    let dir = TempDir::new("auth-basic-config");
    let path = dir.join("config.json");
    // One entry as Docker writes it (`auth`), keyed with a scheme and a path.
    let auth = base64_of(&format!("{USER}:{PASSWORD}"));
    std::fs::write(
        &path,
        format!(
            r#"{{"auths": {{"http://{}/v2/": {{"auth": "{auth}"}}, "other.example": {{"auth": "eDp5"}}}}}}"#,
            s.registry.addr()
        ),
    )
    .unwrap();
    let client = Client::builder()
        .docker_config(DockerConfigSource::Path(path.clone()))
        .build()
        .unwrap();
    read_and_write(&s, &client, "from-config-auth");

    // The podman form: `username`/`password`, in an auth.json.
    let podman = dir.join("auth.json");
    std::fs::write(
        &podman,
        format!(
            r#"{{"auths": {{"{}": {{"username": "{USER}", "password": "{PASSWORD}"}}}}}}"#,
            s.registry.addr()
        ),
    )
    .unwrap();
    let client = Client::builder()
        .docker_config(DockerConfigSource::Path(podman))
        .build()
        .unwrap();
    read_and_write(&s, &client, "from-auth-json");
}

#[test]
fn credentials_from_a_credential_helper() {
    let s = setup();
    let dir = TempDir::new("auth-basic-helper");
    let log = dir.join("asked.log");
    answering_helper(dir.path(), "dockregtest", USER, PASSWORD, &log);
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths": {{}}, "credHelpers": {{"{}": "dockregtest"}}}}"#,
            s.registry.addr()
        ),
    )
    .unwrap();
    let client = Client::builder()
        .docker_config(DockerConfigSource::Path(config))
        .credential_helper_dir(dir.path())
        .build()
        .unwrap();
    read_and_write(&s, &client, "from-helper");
    // The helper got the registry as server URL, and ran once for all those requests.
    let asked = std::fs::read_to_string(&log).unwrap();
    assert_eq!(asked, format!("{}\n", s.registry.addr()));

    // `credsStore` works the same way for registries without their own helper.
    let store = dir.join("store.json");
    std::fs::write(&store, r#"{"credsStore": "dockregtest"}"#).unwrap();
    let client = Client::builder()
        .docker_config(DockerConfigSource::Path(store))
        .credential_helper_dir(dir.path())
        .build()
        .unwrap();
    read_and_write(&s, &client, "from-store");
}

#[test]
fn wrong_and_missing_credentials_are_unauthorized() {
    let s = setup();
    let image = reference(&s, "team/app:v1");
    let anonymous = no_files().build().unwrap();
    let e = anonymous.get_manifest(&image).unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");

    let secret = "wrong-Pa55word-xyz";
    let wrong = no_files()
        .credentials(&s.registry.addr(), Credentials::basic(USER, secret))
        .build()
        .unwrap();
    for e in [
        wrong.get_manifest(&image).unwrap_err(),
        wrong.list_tags(&image).unwrap_err(),
        wrong.get_digest(&image).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
        assert_eq!(e.http_status(), Some(401));
        assert_no_secret(&e, &[secret, &base64_of(&format!("{USER}:{secret}"))]);
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Runs the CLI with `home` as its only source of credential files (the child's environment
/// is set, never this process's).
fn run_cli(args: &[&str], stdin: &str, home: &std::path::Path) -> std::process::Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(common::example_cli())
        .args(args)
        .env("HOME", home)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the CLI");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn cli_username_password_stdin_and_default_files() {
    let s = setup();
    let home = TempDir::new("auth-basic-cli");
    let repo = format!("{}/team/app", s.registry.addr());

    // No credentials anywhere: a clear error, exit 4 (authentication).
    let out = run_cli(&["tags", &repo], "", home.path());
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unauthorized"), "{err}");

    // --username with the password on stdin (with a trailing newline, as `echo` gives it).
    let out = run_cli(
        &["--username", USER, "--password-stdin", "tags", &repo],
        &format!("{PASSWORD}\n"),
        home.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tags"], serde_json::json!(["v1"]));

    // A wrong password: refused, and never echoed.
    let out = run_cli(
        &["--username", USER, "--password-stdin", "tags", &repo],
        "wrong-Secret-77",
        home.path(),
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("wrong-Secret-77"));

    // Half the flags is a usage error.
    let out = run_cli(&["--username", USER, "tags", &repo], "", home.path());
    assert_eq!(out.status.code(), Some(2));

    // After a `docker login` (a config.json in $DOCKER_CONFIG) it just works.
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        home.join(".docker").join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{}"}}}}}}"#,
            s.registry.addr(),
            base64_of(&format!("{USER}:{PASSWORD}"))
        ),
    )
    .unwrap();
    let out = run_cli(&["digest", &format!("{repo}:v1")], "", home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

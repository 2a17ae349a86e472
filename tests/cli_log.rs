//! `dockreg -v` / `-vv` against a registry with token auth: the log shows the requests and the
//! token fetches, and never the password, its Basic form or a token.

mod cli_support;
mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use cli_support::{OK, expect_status, stderr};
use common::token_server::{Rule, TokenServer, User};
use common::{TempDir, TestRegistry};

const USER: &str = "dave";
const PASSWORD: &str = "pw-Token-s3cret";

/// Runs the CLI with the password on stdin and an empty Docker config.
fn run_logged(dir: &TempDir, args: &[&str]) -> Output {
    let config = dir.join("docker");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.json"), "{}").unwrap();
    let mut child = Command::new(cli_support::cli())
        .args(args)
        .args(["--username", USER, "--password-stdin"])
        .env("DOCKER_CONFIG", &config)
        .env("HOME", dir.path())
        .env("XDG_RUNTIME_DIR", dir.path())
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the cli");
    let mut input = child.stdin.take().unwrap();
    writeln!(input, "{PASSWORD}").unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn assert_no_secret(log: &str) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert!(
        !log.contains(PASSWORD),
        "the password is in the log:\n{log}"
    );
    assert!(
        !log.contains(&basic),
        "the Basic credentials are in the log:\n{log}"
    );
    // Every JWT starts with the base64 of `{"`.
    assert!(!log.contains("eyJ"), "a token is in the log:\n{log}");
}

#[test]
fn verbose_shows_requests_and_token_fetches_but_no_secret() {
    let users = BTreeMap::from([(
        USER.to_string(),
        User {
            password: PASSWORD.to_string(),
            refresh_token: None,
            rules: vec![Rule {
                kind: "repository",
                name: "team/*",
                actions: &["pull", "push", "delete"],
            }],
        },
    )]);
    let tokens = TokenServer::start(users);
    let registry = TestRegistry::start_with(&tokens.registry_yaml());
    let dir = TempDir::new("cli-log");
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::write(rootfs.join("hello.txt"), "hello\n").unwrap();
    let image = format!("{}/team/app:v1", registry.addr());

    let out = run_logged(&dir, &["-v", "push", rootfs.to_str().unwrap(), &image]);
    expect_status(&out, OK, &["-v push"]);
    let log = stderr(&out);
    assert!(
        log.contains("PUT ") && log.contains("/v2/team/app/manifests/v1 -> 201"),
        "-v shows the manifest PUT:\n{log}"
    );
    assert!(log.contains("token"), "-v shows the token fetch:\n{log}");
    assert!(!log.contains("TRACE"), "-v stays at debug:\n{log}");
    assert_no_secret(&log);

    let out = run_logged(&dir, &["digest", &image, "-vv"]);
    expect_status(&out, OK, &["digest -vv"]);
    let log = stderr(&out);
    assert!(
        log.contains("HEAD ") && log.contains("/v2/team/app/manifests/v1 -> 200"),
        "-vv shows the request:\n{log}"
    );
    assert_no_secret(&log);
    assert!(tokens.count() >= 2, "tokens were fetched");

    // Without -v (and no RUST_LOG) nothing is logged.
    let out = run_logged(&dir, &["digest", &image]);
    expect_status(&out, OK, &["digest"]);
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

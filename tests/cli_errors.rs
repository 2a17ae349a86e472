//! The example CLI's exit statuses and messages: usage errors (2, from clap and from the
//! commands), not found (3), authentication (4, a real htpasswd registry), network (5, a
//! registry that is down), and `--help` with an example for every subcommand.

mod cli_support;
mod common;

use std::process::Command;

use cli_support::{AUTH, NETWORK, NOT_FOUND, OK, USAGE, expect_status, json_ok, run, stderr};
use common::{TempDir, TestRegistry, shared};

/// Every subcommand, as `dockreg --help` lists them (checked below), and blob's.
const SUBCOMMANDS: &[&str] = &[
    "parse",
    "digest",
    "manifest",
    "config",
    "tags",
    "catalog",
    "instances",
    "tag",
    "push",
    "pull",
    "export",
    "copy",
    "delete",
    "platforms",
    "referrers",
    "attach",
];
const BLOB_SUBCOMMANDS: &[&str] = &["put", "get", "delete"];

#[test]
fn help_of_every_subcommand_exits_0_with_an_example() {
    let out = run(&["--help"]);
    expect_status(&out, OK, &["--help"]);
    let top = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Exit status:",
        "3  not found",
        "4  authentication",
        "5  network",
        "2  usage",
    ] {
        assert!(top.contains(line), "--help lacks {line:?}:\n{top}");
    }
    // The list in --help is the list tested here: a new subcommand must come with a test.
    let listed: Vec<&str> = top
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help" && *name != "blob")
        .collect();
    assert_eq!(listed, SUBCOMMANDS, "subcommands in --help");

    let mut cases: Vec<Vec<&str>> = SUBCOMMANDS.iter().map(|c| vec![*c, "--help"]).collect();
    cases.extend(BLOB_SUBCOMMANDS.iter().map(|c| vec!["blob", *c, "--help"]));
    cases.push(vec!["ls", "-h"]);
    cases.push(vec!["cp", "--help"]);
    for args in cases {
        let out = run(&args);
        expect_status(&out, OK, &args);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("Example:\n  dockreg "),
            "{args:?}: no example:\n{text}"
        );
        assert!(text.contains("Usage: dockreg "), "{args:?}:\n{text}");
    }
    let out = run(&["blob", "--help"]);
    expect_status(&out, OK, &["blob", "--help"]);

    let out = run(&["--version"]);
    expect_status(&out, OK, &["--version"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("dockreg {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_usage_exits_2_before_any_request() {
    let f = shared();
    let image = format!("{}/{}", f.addr(), f.oci_image.reference());
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["digest"],
        &["tags", "a", "b"],
        &["--insecure"],
        &["tags", "a/b", "--insecure"],
        &["digest", "Not A Reference"],
        &["digest", &image, "--platform", "linux"],
        &["--platform", "linux/", "config", &image],
        &["blob", "get", &image, "/tmp/x"],
        &["blob"],
        &["copy", &image],
        &["--tls-verify", "false", "tags", "a/b"],
        &["--format", "yaml", "tags", "a/b"],
        &["--username", "u", "tags", "a/b"],
        &["delete", &image, "--platform", "linux/amd64"],
        &[
            "copy",
            "--all-tags",
            "--platform",
            "linux/amd64",
            &image,
            &image,
        ],
    ];
    for args in cases {
        let out = run(args);
        expect_status(&out, USAGE, args);
        assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", out.stdout);
        let err = stderr(&out);
        assert!(
            err.contains("--help"),
            "{args:?}: a usage error points at --help: {err}"
        );
    }
    let out = run(&["digest", &image, "--platform", "linux"]);
    assert!(
        stderr(&out).contains("expected os/architecture"),
        "{}",
        stderr(&out)
    );
}

/// Flags after the subcommand and its operands work as before it.
#[test]
fn global_flags_anywhere() {
    let f = shared();
    let repo = format!("{}/{}", f.addr(), f.many_tags.repo);
    let a = json_ok(&["--insecure", &f.addr(), "tags", &repo]);
    let b = json_ok(&["tags", &repo, "--insecure", &f.addr()]);
    let c = json_ok(&["tags", "--insecure", &f.addr(), &repo, "--tls-verify=true"]);
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn not_found_exits_3() {
    let f = shared();
    let addr = f.addr();
    let missing = format!("{addr}/fixtures/oci:missing");
    let out = run(&["digest", &missing]);
    expect_status(&out, NOT_FOUND, &["digest", &missing]);
    let err = stderr(&out);
    assert!(
        err.contains("not found") && err.contains("MANIFEST_UNKNOWN"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "errors go to stderr only");
    // digest goes on after a failure: the others are printed, the failure named on stderr.
    let good = format!("{addr}/{}", f.oci_image.reference());
    let out = run(&["digest", &missing, &good]);
    expect_status(&out, NOT_FOUND, &["digest", "missing", "good"]);
    let lines = cli_support::json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["image"], good.as_str());
    assert_eq!(lines[0]["digest"], f.oci_image.digest.as_str());
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("dockreg: {missing}: not found")),
        "{err}"
    );

    for args in [
        vec!["manifest".to_string(), missing.clone()],
        vec!["config".into(), missing.clone()],
        vec!["tags".into(), format!("{addr}/no/such-repo")],
        vec![
            "config".into(),
            "--platform".into(),
            "windows/amd64".into(),
            format!("{addr}/{}", f.oci_index.reference()),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        expect_status(&out, NOT_FOUND, &args);
        assert!(out.stdout.is_empty());
    }

    let dir = TempDir::new("cli-notfound");
    let blob = format!("{addr}/fixtures/oci@sha256:{}", "0".repeat(64));
    let file = dir.join("blob");
    let out = run(&["blob", "get", &blob, file.to_str().unwrap()]);
    expect_status(&out, NOT_FOUND, &["blob get missing"]);
    assert!(!file.exists(), "no file for a blob that is not there");
}

const USER: &str = "carol";
const PASSWORD: &str = "pw-Cli-s3cret";

/// A registry with htpasswd (Basic) auth holding one image pushed with the right password.
fn basic_auth_registry(dir: &TempDir) -> TestRegistry {
    TestRegistry::start_with_htpasswd(dir.path(), USER, PASSWORD)
}

#[test]
fn wrong_or_missing_password_exits_4_and_the_right_one_works() {
    let dir = TempDir::new("cli-auth");
    let reg = basic_auth_registry(&dir);
    // An empty Docker config, so no credentials of this machine's user apply.
    let config_dir = dir.join("docker");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.json"), "{}").unwrap();
    let with_config = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = Command::new(cli_support::cli());
        cmd.args(args)
            .env("DOCKER_CONFIG", &config_dir)
            .env("REGISTRY_AUTH_FILE", config_dir.join("auth.json"))
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("HOME", dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        {
            use std::io::Write as _;
            let mut input = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                input.write_all(s.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    };
    let image = format!("{}/team/app:v1", reg.addr());
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::write(rootfs.join("f.txt"), "x\n").unwrap();

    // No credentials: 401 -> 4.
    let out = with_config(&["push", rootfs.to_str().unwrap(), &image], None);
    expect_status(&out, AUTH, &["push without credentials"]);
    assert!(stderr(&out).contains("unauthorized"), "{}", stderr(&out));

    // The right password (stdin) works, wherever --username is on the line.
    let pw = format!("{PASSWORD}\n");
    let out = with_config(
        &[
            "push",
            rootfs.to_str().unwrap(),
            &image,
            "--username",
            USER,
            "--password-stdin",
        ],
        Some(&pw),
    );
    expect_status(&out, OK, &["push with the password"]);
    let out = with_config(
        &["--username", USER, "--password-stdin", "digest", &image],
        Some(&pw),
    );
    expect_status(&out, OK, &["digest with the password"]);

    // A wrong password: 4, and no password in the message.
    let out = with_config(
        &["digest", &image, "--username", USER, "--password-stdin"],
        Some("not-the-password\n"),
    );
    expect_status(&out, AUTH, &["digest with a wrong password"]);
    let err = stderr(&out);
    assert!(!err.contains("not-the-password"), "{err}");
    assert!(err.contains("unauthorized"), "{err}");
    assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("not-the"));

    // Logged requests (-vv) name method, URL and status, never the password or its Basic form.
    let out = with_config(
        &[
            "-vv",
            "digest",
            &image,
            "--username",
            USER,
            "--password-stdin",
        ],
        Some(&pw),
    );
    expect_status(&out, OK, &["-vv digest"]);
    let log = stderr(&out);
    assert!(
        log.contains("/v2/team/app/manifests/v1") && log.contains("HEAD"),
        "-vv shows the request:\n{log}"
    );
    assert!(log.contains(" -> 200 in "), "-vv shows the status:\n{log}");
    assert_no_secret(&log);
    let out = with_config(
        &[
            "-v",
            "tags",
            &format!("{}/team/app", reg.addr()),
            "--username",
            USER,
            "--password-stdin",
        ],
        Some(&pw),
    );
    expect_status(&out, OK, &["-v tags"]);
    let log = stderr(&out);
    assert!(
        log.contains("/v2/team/app/tags/list"),
        "-v shows the request:\n{log}"
    );
    assert_no_secret(&log);
}

fn assert_no_secret(log: &str) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert!(
        !log.contains(PASSWORD),
        "the password is in the log:\n{log}"
    );
    assert!(
        !log.contains(&basic),
        "the Basic credentials are in the log:\n{log}"
    );
}

#[test]
fn registry_down_exits_5() {
    let mut reg = TestRegistry::start();
    let image = format!("{}/team/app:v1", reg.addr());
    reg.stop();
    let out = run(&["digest", &image]);
    expect_status(&out, NETWORK, &["digest, registry down"]);
    let err = stderr(&out);
    assert!(err.contains("connect"), "{err}");
    assert!(out.stdout.len() < 1000);
}

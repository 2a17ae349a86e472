//! The C ABI's contracts tested from C (tests/c/*_test.c), each program under valgrind and
//! again built with AddressSanitizer + UndefinedBehaviorSanitizer, against the real registry:
//!
//! - `exact_test.c`: manifests as exact bytes round-trip to the same digest (Docker v2, OCI
//!   manifest, OCI index, a manifest ending in a newline); JSON embeds them verbatim; configs
//!   keep unmodelled fields;
//! - `errors_test.c`: the last error after re-entrant calls from callbacks, no secret in option
//!   errors, UNSUPPORTED with the registry's HTTP status, a failing read callback commits
//!   nothing, null timeouts, version macros;
//! - `cancel_test.c`: every long call ends soon after a cancel from another thread; per-call
//!   timeouts;
//! - `log_test.c`: the log callback gets request lines and no credential.
//!
//! ASan with a Rust cdylib: the C program is linked with `-fsanitize=address,undefined`, so the
//! sanitizer runtime loads first and intercepts the library's allocations too (the Rust code
//! itself is not instrumented: its own out-of-bounds accesses are not seen, but every
//! allocation, free and leak across the boundary is).

mod auth_support;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::cabi::{VALGRIND, compile, program, root, run};
use common::raw::{raw_mount_blob, raw_push_blob, raw_put_manifest_ok, sha256_digest};
use common::token_server::{Rule, TokenServer, User};
use common::{TempDir, TestRegistry, require_program, shared};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Valgrind,
    Sanitizers,
}

/// Compiles `tests/c/<name>.c` (C99, `-pedantic`, warnings as errors) against `include/` and
/// the library copy, with the sanitizers in `Mode::Sanitizers`.
fn compile_test(name: &str, mode: Mode, dir: &Path) -> PathBuf {
    let exe = dir.join(format!(
        "{name}-{}",
        if mode == Mode::Valgrind { "vg" } else { "san" }
    ));
    let mut flags = vec!["-pedantic", "-pthread"];
    if mode == Mode::Sanitizers {
        flags.extend([
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ]);
    }
    compile(
        "cc",
        "c99",
        &[root().join(format!("tests/c/{name}.c"))],
        &exe,
        &flags,
    );
    exe
}

/// Builds and runs `name` in `mode` with `env`; returns its stdout.
fn run_c(name: &str, mode: Mode, env: &[(String, String)]) -> String {
    let tmp = TempDir::new(&format!("ffi-abi-{name}"));
    let exe = compile_test(name, mode, tmp.path());
    let mut cmd = match mode {
        Mode::Valgrind => {
            require_program("valgrind", "valgrind");
            let mut c = program("valgrind");
            c.args(VALGRIND).arg(&exe).env("DT_SLOW", "1");
            c
        }
        Mode::Sanitizers => {
            let mut c = program(&exe);
            c.env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=1")
                .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
            c
        }
    };
    cmd.env("DT_TMP", tmp.path())
        .env("DT_VERSION", env!("CARGO_PKG_VERSION"))
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = run(&mut cmd, &format!("{name} ({})", label(mode)));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains(", 0 failures"), "{text}");
    eprintln!("[{}]\n{}", label(mode), text.trim());
    text
}

fn label(mode: Mode) -> &'static str {
    match mode {
        Mode::Valgrind => "valgrind",
        Mode::Sanitizers => "asan+ubsan",
    }
}

fn kv(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

// ---- exact bytes ----

/// The repository of the manifest ending in a newline, with a config carrying fields
/// dockreg does not model.
const NL_REPO: &str = "abi/newline";

fn exact_env() -> Vec<(String, String)> {
    static ENV: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ENV.get_or_init(|| {
        let f = shared();
        let img = &f.oci_image;
        for l in &img.layers {
            raw_mount_blob(&f.url(), NL_REPO, &l.digest, &img.repo)
                .expect_status(201, &format!("mount {}", l.digest));
        }
        let config = br#"{"architecture":"amd64","os":"linux","config":{"Env":["A=1"],"Healthcheck":{"Test":["CMD","true"],"Interval":30000000000},"Shell":["/bin/bash","-c"]},"rootfs":{"type":"layers","diff_ids":[]},"x-unmodelled":{"kept":true}}"#;
        let config_digest = raw_push_blob(&f.url(), NL_REPO, config);
        let layers: Vec<_> = img
            .layers
            .iter()
            .map(|l| serde_json::json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size}))
            .collect();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": layers,
        });
        let mut bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        bytes.push(b'\n');
        raw_put_manifest_ok(
            &f.url(),
            NL_REPO,
            "v1",
            "application/vnd.oci.image.manifest.v1+json",
            &bytes,
        );
        let at = |r: &str| format!("{}/{r}", f.addr());
        vec![
            kv("DT_DOCKER", at(&f.docker_image.reference())),
            kv("DT_DOCKER_DIGEST", &f.docker_image.digest),
            kv("DT_OCI", at(&img.reference())),
            kv("DT_OCI_DIGEST", &img.digest),
            kv("DT_INDEX", at(&f.oci_index.reference())),
            kv("DT_INDEX_DIGEST", &f.oci_index.digest),
            kv("DT_NL_IMAGE", at(&format!("{NL_REPO}:v1"))),
            kv("DT_NL_DIGEST", sha256_digest(&bytes)),
            kv("DT_NL_SIZE", bytes.len().to_string()),
            kv("DT_CFG_REPO", at(NL_REPO)),
            kv("DT_CFG_DIGEST", config_digest),
            kv("DT_CFG_SIZE", config.len().to_string()),
        ]
    })
    .clone()
}

#[test]
fn exact_bytes_under_valgrind() {
    let text = run_c("exact_test", Mode::Valgrind, &exact_env());
    assert!(text.contains("trailing newline:"), "{text}");
}

#[test]
fn exact_bytes_under_sanitizers() {
    run_c("exact_test", Mode::Sanitizers, &exact_env());
}

// ---- errors ----

const ERRORS_REPO: &str = "abi/errors";

/// The pattern `errors_test.c` reads from (`pattern_byte`).
fn pattern(len: u64) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) & 0xff) as u8).collect()
}

fn errors_env() -> Vec<(String, String)> {
    static ENV: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ENV.get_or_init(|| {
        let f = shared();
        let img = &f.oci_image;
        let mut digests = vec![img.config.digest.clone()];
        digests.extend(img.layers.iter().map(|l| l.digest.clone()));
        for d in &digests {
            raw_mount_blob(&f.url(), ERRORS_REPO, d, &img.repo)
                .expect_status(201, &format!("mount {d}"));
        }
        raw_put_manifest_ok(
            &f.url(),
            ERRORS_REPO,
            "deleteme",
            &img.media_type,
            &img.manifest,
        );
        vec![
            kv("DT_REPO", format!("{}/{ERRORS_REPO}", f.addr())),
            kv("DT_LAYER", &img.layers[0].digest),
            kv(
                "DT_TAG_TO_DELETE",
                format!("{}/{ERRORS_REPO}:deleteme", f.addr()),
            ),
            kv("DT_PREFIX_DIGEST", sha256_digest(&pattern(1024 * 1024))),
        ]
    })
    .clone()
}

#[test]
fn errors_under_valgrind() {
    let text = run_c("errors_test", Mode::Valgrind, &errors_env());
    assert!(text.contains("re-entrant:"), "{text}");
}

#[test]
fn errors_under_sanitizers() {
    run_c("errors_test", Mode::Sanitizers, &errors_env());
}

// ---- cancellation ----

fn cancel_env() -> Vec<(String, String)> {
    let f = shared();
    vec![
        kv("DT_REGISTRY", f.addr()),
        kv(
            "DT_IMAGE",
            format!("{}/{}", f.addr(), f.oci_image.reference()),
        ),
    ]
}

#[test]
fn cancel_under_valgrind() {
    let text = run_c("cancel_test", Mode::Valgrind, &cancel_env());
    assert!(text.contains("worst:"), "{text}");
}

#[test]
fn cancel_under_sanitizers() {
    run_c("cancel_test", Mode::Sanitizers, &cancel_env());
}

// ---- log callback ----

const BASIC_USER: &str = "alice";
const BASIC_PASSWORD: &str = "pw-Log-Basic-s3cret";
const TOKEN_USER: &str = "bob";
const TOKEN_PASSWORD: &str = "pw-Log-Token-s3cret";

/// A Basic-auth registry and a token-auth registry, each holding `team/app:v1`.
struct Auth {
    basic: TestRegistry,
    tokens: TokenServer,
    token_registry: TestRegistry,
    _dir: TempDir,
}

fn auth() -> &'static Auth {
    static AUTH: OnceLock<Auth> = OnceLock::new();
    AUTH.get_or_init(|| {
        require_program("htpasswd", "apache2-utils");
        let dir = TempDir::new("ffi-abi-auth");
        let out = Command::new("htpasswd")
            .args(["-Bbn", BASIC_USER, BASIC_PASSWORD])
            .output()
            .expect("run htpasswd");
        assert!(out.status.success(), "htpasswd failed");
        let htpasswd = dir.join("htpasswd");
        std::fs::write(&htpasswd, &out.stdout).unwrap();
        let basic = TestRegistry::start_with(&format!(
            "auth:\n  htpasswd:\n    realm: dockreg-test\n    path: \"{}\"\n",
            htpasswd.display()
        ));
        let image = auth_support::small_image("log");
        let auth = auth_support::basic(BASIC_USER, BASIC_PASSWORD);
        auth_support::push_image_blobs(&basic.url(), "team/app", &image, &auth);
        auth_support::put_manifest(&basic.url(), "team/app", "v1", &image.2, &auth);

        let tokens = TokenServer::start(BTreeMap::from([(
            TOKEN_USER.to_string(),
            User {
                password: TOKEN_PASSWORD.to_string(),
                refresh_token: None,
                rules: vec![Rule {
                    kind: "repository",
                    name: "*",
                    actions: &["pull", "push"],
                }],
            },
        )]));
        let token_registry = TestRegistry::start_with(&tokens.registry_yaml());
        let token = tokens.token_for(TOKEN_USER, &["repository:team/app:pull,push"]);
        let bearer = format!("Bearer {token}");
        auth_support::push_image_blobs(&token_registry.url(), "team/app", &image, &bearer);
        auth_support::put_manifest(&token_registry.url(), "team/app", "v1", &image.2, &bearer);
        Auth {
            basic,
            tokens,
            token_registry,
            _dir: dir,
        }
    })
}

fn log_env() -> Vec<(String, String)> {
    let a = auth();
    let creds = |host: String, c: serde_json::Value| {
        serde_json::json!({"docker_config": null, "credentials": {host: c}}).to_string()
    };
    let bearer = a
        .tokens
        .token_for(TOKEN_USER, &["repository:team/app:pull"]);
    let basic_b64 = auth_support::basic(BASIC_USER, BASIC_PASSWORD);
    let token_b64 = auth_support::basic(TOKEN_USER, TOKEN_PASSWORD);
    let secrets = [
        BASIC_PASSWORD,
        TOKEN_PASSWORD,
        bearer.as_str(),
        // The signature part of the token, and any JWT at all (they start with `eyJ`).
        bearer.rsplit('.').next().unwrap_or_default(),
        "eyJ",
        basic_b64.trim_start_matches("Basic "),
        token_b64.trim_start_matches("Basic "),
    ]
    .join("|");
    vec![
        kv("DT_BASIC_IMAGE", format!("{}/team/app:v1", a.basic.addr())),
        kv(
            "DT_BASIC_OPTIONS",
            creds(
                a.basic.addr(),
                serde_json::json!({"username": BASIC_USER, "password": BASIC_PASSWORD}),
            ),
        ),
        kv(
            "DT_TOKEN_IMAGE",
            format!("{}/team/app:v1", a.token_registry.addr()),
        ),
        kv(
            "DT_TOKEN_OPTIONS",
            creds(
                a.token_registry.addr(),
                serde_json::json!({"username": TOKEN_USER, "password": TOKEN_PASSWORD}),
            ),
        ),
        kv(
            "DT_BEARER_OPTIONS",
            creds(
                a.token_registry.addr(),
                serde_json::json!({"bearer_token": bearer}),
            ),
        ),
        kv("DT_SECRETS", secrets),
    ]
}

#[test]
fn log_callback_under_valgrind() {
    let text = run_c("log_test", Mode::Valgrind, &log_env());
    assert!(text.contains("at TRACE"), "{text}");
}

#[test]
fn log_callback_under_sanitizers() {
    run_c("log_test", Mode::Sanitizers, &log_env());
}

//! skopeo, the second, independent client: pushes fixtures and cross-checks digests.
//! Always run with `--insecure-policy`, TLS verification off (plain HTTP on 127.0.0.1; skopeo
//! tries HTTPS first, then falls back), REGISTRY_* and proxy variables removed.

use std::process::{Command, Output};

use super::registry::{clean_env, require_program};

/// Runs `skopeo --insecure-policy <args>`; returns the raw output (no status check).
pub fn skopeo_output(args: &[&str]) -> Output {
    require_program("skopeo", "skopeo");
    let mut cmd = Command::new("skopeo");
    cmd.arg("--insecure-policy").args(args);
    clean_env(&mut cmd);
    cmd.output().expect("run skopeo")
}

/// Runs `skopeo --insecure-policy <args>`; panics (with stderr) unless it succeeds; returns stdout.
pub fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = skopeo_output(args);
    if !out.status.success() {
        panic!(
            "skopeo {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.stdout
}

/// `skopeo copy --src-tls-verify=false --dest-tls-verify=false <extra...> SRC DEST`.
/// E.g. `skopeo_copy("oci:/dir:ref", "docker://127.0.0.1:P/repo:tag", &["--preserve-digests"])`.
pub fn skopeo_copy(src: &str, dest: &str, extra_args: &[&str]) {
    let mut args = vec![
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
    ];
    args.extend_from_slice(extra_args);
    args.push(src);
    args.push(dest);
    skopeo(&args);
}

/// `skopeo inspect --tls-verify=false --format {{.Digest}} <ref>` (ref with `docker://`).
/// For a list/index this is the digest of the list itself.
pub fn skopeo_inspect_digest(image_ref: &str) -> String {
    skopeo_inspect_digest_with(image_ref, &[])
}

/// Same with extra args (e.g. `["--creds", "user:pass"]`).
pub fn skopeo_inspect_digest_with(image_ref: &str, extra_args: &[&str]) -> String {
    let mut args = vec!["inspect", "--tls-verify=false", "--format", "{{.Digest}}"];
    args.extend_from_slice(extra_args);
    args.push(image_ref);
    String::from_utf8(skopeo(&args))
        .expect("utf-8 digest")
        .trim()
        .to_string()
}

/// `skopeo inspect --tls-verify=false --raw <ref>`: the manifest bytes exactly as served.
pub fn skopeo_raw(image_ref: &str) -> Vec<u8> {
    skopeo_raw_with(image_ref, &[])
}

/// Same with extra args (e.g. `["--creds", "user:pass"]`).
pub fn skopeo_raw_with(image_ref: &str, extra_args: &[&str]) -> Vec<u8> {
    let mut args = vec!["inspect", "--tls-verify=false", "--raw"];
    args.extend_from_slice(extra_args);
    args.push(image_ref);
    skopeo(&args)
}

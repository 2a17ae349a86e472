//! The committed C header `include/dockreg.h` is what cbindgen generates from `src/ffi`, it
//! compiles as C99, C11 and C++11 with warnings as errors (`-pedantic`), included twice, and
//! its version macros are those of `Cargo.toml`.
//!
//! `DOCKREG_BLESS=1 cargo test --test ffi_header` (or `make header`) rewrites the header.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    root().join("include/dockreg.h")
}

/// The header as cbindgen generates it now.
fn generate() -> String {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml"))
        .expect("cbindgen.toml does not parse");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root().join("src/lib.rs"))
        .generate()
        .expect("cbindgen failed on the crate");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_up_to_date() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("DOCKREG_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let first_diff = committed
            .lines()
            .zip(fresh.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}:\n  committed: {a}\n  generated: {b}", i + 1))
            .unwrap_or_else(|| "one is a prefix of the other".into());
        panic!(
            "include/dockreg.h is stale: regenerate it with `make header` \
             (DOCKREG_BLESS=1 cargo test --test ffi_header).\nFirst difference at {first_diff}"
        );
    }
}

/// Every function of the header is exported by the library, and every export is declared.
#[test]
fn header_declares_exactly_the_exports() {
    let header = std::fs::read_to_string(header_path()).expect("include/dockreg.h");
    let mut declared: Vec<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('*') && !l.starts_with('/'))
        .filter_map(|l| {
            let open = l.find('(')?;
            let name = l[..open].rsplit([' ', '*']).next()?;
            name.starts_with("dockreg_").then(|| name.to_string())
        })
        .collect();
    declared.sort();
    let mut exported: Vec<String> = Vec::new();
    for file in std::fs::read_dir(root().join("src/ffi")).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "#[unsafe(no_mangle)]" {
                let sig = lines.next().unwrap_or_default();
                let name = sig.split("fn ").nth(1).and_then(|s| s.split('(').next());
                exported.push(name.expect("a fn after no_mangle").to_string());
            }
        }
    }
    exported.sort();
    assert_eq!(declared, exported);
    assert!(
        declared.len() >= 20,
        "the header parse found too few functions"
    );
}

fn compile(compiler: &str, std: &str, ext: &str, extra: &[&str]) {
    let dir = std::env::temp_dir().join(format!(
        "dockreg-header-{}-{compiler}-{}",
        std::process::id(),
        std.replace('+', "p")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("twice.{ext}"));
    // Included twice (the include guard), and every declaration used so that the compiler
    // checks the types are complete enough for real use.
    std::fs::write(
        &src,
        r#"#include "dockreg.h"
#include "dockreg.h"
#include <stdio.h>

static size_t sink(void *ctx, const uint8_t *buf, size_t len) { (void)ctx; (void)buf; return len; }
static int progress(void *ctx, uint64_t done, uint64_t total) { (void)ctx; (void)done; (void)total; return 0; }
static size_t source(void *ctx, uint8_t *buf, size_t cap) { (void)ctx; (void)buf; (void)cap; return SIZE_MAX; }
static void on_log(void *ctx, dockreg_log_level level, const char *target, const char *message) { (void)ctx; (void)level; (void)target; (void)message; }

int main(void) {
    dockreg_client *client = NULL;
    char *json = NULL;
    dockreg_status st = dockreg_client_new("{}", &client);
    dockreg_write_callback w = sink;
    dockreg_progress_callback p = progress;
    dockreg_read_callback r = source;
    if (st != DOCKREG_OK) {
        const char *m = dockreg_last_error_message();
        const char *j = dockreg_last_error_json();
        printf("%s %s %s\n", m ? m : "", j ? j : "", dockreg_status_name(st));
        return 1;
    }
    st = dockreg_reference_parse("ubuntu", &json);
    dockreg_string_free(json);
    st = dockreg_split_image("ubuntu", &json);
    dockreg_string_free(json);
    (void)dockreg_client_get_manifest(client, "x", &json);
    (void)dockreg_client_get_raw_manifest(client, "x", &json);
    (void)dockreg_client_head_manifest(client, "x", &json);
    (void)dockreg_client_get_digest(client, "x", &json);
    (void)dockreg_client_get_config(client, "x", "sha256:0", &json);
    (void)dockreg_client_get_image_config(client, "x", &json);
    (void)dockreg_client_list_tags(client, "x", &json);
    (void)dockreg_client_list_repositories(client, "x", &json);
    (void)dockreg_client_list_instances(client, "x", &json);
    (void)dockreg_client_set_tag(client, "x", "y", &json);
    (void)dockreg_client_put_manifest(client, "x", (const uint8_t *)"{}", 2, "t", &json);
    (void)dockreg_client_head_blob(client, "x", "sha256:0", &json);
    (void)dockreg_client_get_blob(client, "x", "sha256:0", w, NULL, p, NULL, &json);
    (void)dockreg_client_get_blob_to_file(client, "x", "sha256:0", "/tmp/x", NULL, NULL, &json);
    (void)dockreg_client_push_blob(client, "x", r, NULL, "{}", p, NULL, &json);
    (void)dockreg_client_push_blob_from_file(client, "x", "/tmp/x", NULL, NULL, NULL, &json);
    (void)dockreg_client_mount_blob(client, "x", "sha256:0", "y", &json);
    (void)dockreg_client_delete_blob(client, "x", "sha256:0");
    (void)dockreg_client_delete_manifest(client, "x@sha256:0");
    (void)dockreg_client_delete_tag(client, "x:y");
    (void)dockreg_client_list_platforms(client, "x", &json);
    (void)dockreg_client_copy_image(client, "x", "y", "{\"all_tags\": true}", &json);
    (void)dockreg_client_list_referrers(client, "x", NULL, &json);
    (void)dockreg_client_push_referrer(client, "x", (const uint8_t *)"{}", 2, "t", &json);
    {
        dockreg_bytes *bytes = NULL;
        dockreg_cancel *cancel = NULL;
        dockreg_client *view = NULL;
        dockreg_log_callback l = on_log;
        (void)dockreg_client_get_manifest_bytes(client, "x", &bytes);
        (void)dockreg_client_get_blob_bytes(client, "x", "sha256:0", 0, &bytes);
        printf("%p %zu %s %s\n", (const void *)dockreg_bytes_data(bytes), dockreg_bytes_len(bytes),
               dockreg_bytes_digest(bytes), dockreg_bytes_media_type(bytes));
        dockreg_bytes_free(bytes);
        (void)dockreg_cancel_new(&cancel);
        (void)dockreg_client_with_cancel(client, cancel, 0, &view);
        dockreg_client_free(view);
        (void)dockreg_client_with_timeout(client, 1000, &view);
        dockreg_client_free(view);
        dockreg_cancel_trigger(cancel);
        printf("%d\n", dockreg_cancel_is_triggered(cancel));
        dockreg_cancel_free(cancel);
        (void)dockreg_set_log_callback(l, NULL, DOCKREG_LOG_DEBUG);
        (void)dockreg_set_log_callback(NULL, NULL, DOCKREG_LOG_OFF);
    }
#if DOCKREG_VERSION_NUMBER < 200 || DOCKREG_VERSION_MAJOR != 0
#error "the version macros are not usable in #if"
#endif
    printf("%s %u %d\n", DOCKREG_VERSION, dockreg_version_number(), DOCKREG_VERSION_NUMBER);
    st = DOCKREG_ERR_READ_CALLBACK;
    dockreg_client_free(client);
    printf("%s %d\n", dockreg_version(), (int)st);
    return st == DOCKREG_ERR_PANIC;
}
"#,
    )
    .unwrap();
    let out = Command::new(compiler)
        .arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"])
        .args(extra)
        .arg("-I")
        .arg(root().join("include"))
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e} (install gcc/g++)"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{compiler} -std={std} rejects include/dockreg.h:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99() {
    compile(
        "cc",
        "c99",
        "c",
        &["-Wstrict-prototypes", "-Wmissing-prototypes"],
    );
}

#[test]
fn header_compiles_as_c11() {
    compile(
        "cc",
        "c11",
        "c",
        &["-Wstrict-prototypes", "-Wmissing-prototypes"],
    );
}

#[test]
fn header_compiles_as_cpp() {
    compile("c++", "c++11", "cpp", &[]);
}

/// The version in Cargo.toml, read from the file (not from cargo's environment, so that a
/// header left behind after a version bump is caught too).
fn cargo_toml_version() -> (u32, u32, u32) {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let line = toml
        .lines()
        .find(|l| l.starts_with("version = \""))
        .expect("a version line in Cargo.toml");
    let v = line
        .trim_start_matches("version = \"")
        .trim_end_matches('"');
    let parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts.len(), 3, "{v}");
    (parts[0], parts[1], parts[2])
}

/// The header's version macros, as the C preprocessor sees them, equal Cargo.toml's version;
/// and the header defines no macro outside the `DOCKREG_` namespace (cbindgen would export
/// any public constant of the crate).
#[test]
fn version_macros_match_cargo_toml() {
    let (major, minor, patch) = cargo_toml_version();
    let dir = std::env::temp_dir().join(format!("dockreg-header-version-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("version.c");
    std::fs::write(
        &src,
        "#include \"dockreg.h\"\n#include <stdio.h>\nint main(void) {\n    printf(\"%d %d %d %d %s\\n\", DOCKREG_VERSION_MAJOR, DOCKREG_VERSION_MINOR, DOCKREG_VERSION_PATCH, DOCKREG_VERSION_NUMBER, DOCKREG_VERSION);\n    return 0;\n}\n",
    )
    .unwrap();
    let exe = dir.join("version");
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(root().join("include"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cc: {e} (install gcc)"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = Command::new(&exe)
        .output()
        .expect("run the version program");
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8(printed.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!(
            "{major} {minor} {patch} {} {major}.{minor}.{patch}",
            major * 10000 + minor * 100 + patch
        )
    );

    let header = std::fs::read_to_string(header_path()).unwrap();
    for line in header.lines().filter(|l| l.starts_with("#define ")) {
        let name = line["#define ".len()..].split([' ', '(']).next().unwrap();
        assert!(
            name.starts_with("DOCKREG_"),
            "the header defines {name}, outside the DOCKREG_ namespace"
        );
    }
}

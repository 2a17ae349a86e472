//! Progress bars: drawn on stderr when it is a terminal (a pseudo-terminal from `script`),
//! never when it is a pipe, and never mixed into stdout.

mod cli_support;
mod common;

use std::process::Command;

use cli_support::{NOT_FOUND, OK, cli, expect_status, run, run_with, stderr};
use common::{TempDir, TestRegistry, require_program};

/// With stderr a pipe there is no progress bar: stderr stays empty on success.
#[test]
fn no_progress_bar_on_a_pipe() {
    let reg = TestRegistry::start();
    let dir = TempDir::new("cli-nobar");
    let file = dir.join("blob.bin");
    std::fs::write(&file, common::write_support::pattern(3, 2 * 1024 * 1024)).unwrap();
    let repo = format!("{}/cli/bars", reg.addr());
    let out = run_with(&["blob", "put", &repo, file.to_str().unwrap()], None);
    expect_status(&out, OK, &["blob put"]);
    assert!(out.stderr.is_empty(), "stderr: {}", stderr(&out));
    let digest = cli_support::json_lines(&out)[0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let back = dir.join("back.bin");
    let out = run(&[
        "blob",
        "get",
        &format!("{repo}@{digest}"),
        back.to_str().unwrap(),
    ]);
    expect_status(&out, OK, &["blob get"]);
    assert!(out.stderr.is_empty(), "stderr: {}", stderr(&out));
    let out = run(&["copy", &format!("{repo}:none"), &format!("{repo}:none2")]);
    expect_status(&out, NOT_FOUND, &["copy of a missing tag"]);
    assert!(
        !stderr(&out).contains('\u{1b}'),
        "no terminal codes: {}",
        stderr(&out)
    );
}

/// Under a terminal (`script` gives the command a pseudo-terminal), blob put draws a bar with
/// the file name and the byte counts.
#[test]
fn progress_bar_on_a_terminal() {
    require_program("script", "bsdutils");
    let reg = TestRegistry::start();
    let dir = TempDir::new("cli-bar");
    let file = dir.join("layer.bin");
    std::fs::write(&file, common::write_support::pattern(5, 4 * 1024 * 1024)).unwrap();
    let typescript = dir.join("typescript");
    let command = format!(
        "'{}' blob put '{}/cli/bars' '{}'",
        cli().display(),
        reg.addr(),
        file.display()
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &command])
        .arg(&typescript)
        .env_remove("RUST_LOG")
        .output()
        .expect("run script");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(
        seen.contains("layer.bin"),
        "the bar names the file:\n{seen}"
    );
    assert!(seen.contains("4.00 MiB"), "the bar shows the size:\n{seen}");
    assert!(seen.contains("\"digest\""), "the result follows:\n{seen}");
}

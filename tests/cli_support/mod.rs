//! Running the example CLI (`examples/dockreg/`) from the CLI tests: built once per test
//! process, run with piped stdio, outputs parsed as JSON documents.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Exit statuses, as `dockreg --help` lists them.
pub const OK: i32 = 0;
pub const OTHER: i32 = 1;
pub const USAGE: i32 = 2;
pub const NOT_FOUND: i32 = 3;
pub const AUTH: i32 = 4;
pub const NETWORK: i32 = 5;

/// The example CLI, built once per test process.
pub fn cli() -> &'static PathBuf {
    crate::common::example_cli()
}

/// Runs the CLI with `args`, `stdin` as its input, no proxy or log variables inherited.
pub fn run_with(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(cli());
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "RUST_LOG",
    ] {
        cmd.env_remove(var).env_remove(var.to_ascii_lowercase());
    }
    let mut child = cmd.spawn().expect("spawn the cli");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn run(args: &[&str]) -> Output {
    run_with(args, None)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit status, with stderr in the message when it is not `want`.
pub fn expect_status(out: &Output, want: i32, args: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(want),
        "{args:?}: exit status; stderr: {}",
        stderr(out)
    );
}

/// Runs a command that must succeed and print one compact JSON document (stdout is a pipe).
pub fn json_ok(args: &[&str]) -> Value {
    let out = run(args);
    expect_status(&out, OK, args);
    let text = String::from_utf8(out.stdout).expect("utf-8 stdout");
    assert_eq!(
        text.lines().count(),
        1,
        "{args:?}: piped output is one document on one line: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e})"))
}

/// Each line of stdout as a JSON document.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

//! `dockreg`: a command-line client over the library, JSON on stdout.
//!
//! ```text
//! cargo run --example dockreg -- --help
//! cargo run --example dockreg -- digest --platform linux/arm64 127.0.0.1:5000/team/app:1.0
//! ```
//!
//! It is an example, not a `[[bin]]`, so that its crates (clap, indicatif, env_logger) stay
//! dev-dependencies and the library's users, C ones included, link none of them. Files:
//! `args.rs` the command line, `connect.rs` the client it describes, `output.rs` stdout,
//! `progress.rs` the bars, `exit.rs` the exit statuses, `commands/` one file per group of
//! subcommands. docs/cli.md is its manual.

mod args;
mod commands;
mod connect;
mod exit;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints help and version (exit 0) and usage errors (exit 2) itself.
    let cli = args::Cli::parse();
    init_log(cli.global.verbose);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// `-v`: the library's debug lines (a line per request: method, URL without credentials,
/// status, duration, retries, token fetches); `-vv`: trace. Without `-v`, `RUST_LOG` decides,
/// and nothing is logged when it is unset.
fn init_log(verbose: u8) {
    let mut builder = env_logger::Builder::new();
    builder.format_timestamp(None);
    match verbose {
        0 => match std::env::var("RUST_LOG") {
            Ok(filters) => builder.parse_filters(&filters),
            Err(_) => builder.parse_filters("off"),
        },
        1 => builder.parse_filters("dockreg=debug"),
        _ => builder.parse_filters("dockreg=trace"),
    };
    builder.init();
}

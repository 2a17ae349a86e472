//! `dockreg`: a small command-line client over the library, JSON on stdout.
//!
//! ```text
//! cargo run --example dockreg -- [--insecure HOST:PORT]... [--platform OS/ARCH[/VARIANT]] COMMAND ARGS
//! ```
//! Commands: `parse IMAGE|-`, `digest IMAGE`, `manifest IMAGE`, `config IMAGE`, `tags REPO`,
//! `catalog REGISTRY`, `instances REPO`, `tag IMAGE NEW_TAG`.
//! Errors go to stderr as one line and the exit status is 1 (2 for a usage error).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use dockreg::{Client, Reference};
use serde_json::json;

const USAGE: &str =
    "usage: dockreg [--insecure HOST:PORT]... [--platform OS/ARCH[/VARIANT]] COMMAND ARGS

commands:
  parse IMAGE|-          parse a reference (- reads one per line from stdin)
  digest IMAGE           digest the image's tag points at
  manifest IMAGE         the raw manifest bytes as served
  config IMAGE           the image config (for the platform, from an index)
  tags REPO              every tag of a repository
  catalog REGISTRY       every repository of a registry
  instances REPO         every image of a repository with tags, size and times
  tag IMAGE NEW_TAG      point NEW_TAG at IMAGE's manifest";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("dockreg: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Error(e)) => {
            eprintln!("dockreg: {e}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(String),
    Error(Box<dyn std::error::Error>),
}

impl<E: std::error::Error + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::Error(Box::new(e))
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let mut builder = Client::builder();
    let mut rest = args;
    loop {
        match rest {
            [flag, value, tail @ ..] if flag == "--insecure" => {
                builder = builder.insecure_registry(value);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--platform" => {
                builder = builder.platform(value.parse()?);
                rest = tail;
            }
            [flag, ..] if flag == "-h" || flag == "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            [flag, ..] if flag.starts_with("--") => {
                return Err(Failure::Usage(format!("unknown or incomplete flag {flag}")));
            }
            _ => break,
        }
    }
    let Some((command, operands)) = rest.split_first() else {
        return Err(Failure::Usage("no command".into()));
    };
    let operand = |i: usize, what: &str| {
        operands
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| Failure::Usage(format!("{command}: missing {what}")))
    };
    let want = |n: usize| {
        if operands.len() > n {
            Err(Failure::Usage(format!("{command}: too many arguments")))
        } else {
            Ok(())
        }
    };
    if command == "parse" {
        want(1)?;
        return parse_command(operand(0, "IMAGE or -")?);
    }
    let client = builder.build()?;
    let mut out = std::io::stdout().lock();
    match command.as_str() {
        "digest" => {
            want(1)?;
            let image: Reference = operand(0, "IMAGE")?.parse()?;
            print_json(
                &mut out,
                &json!({"image": image.to_string(), "digest": client.get_digest(&image)?}),
            )?;
        }
        "manifest" => {
            want(1)?;
            let image: Reference = operand(0, "IMAGE")?.parse()?;
            let raw = client.get_raw_manifest(&image)?;
            out.write_all(&raw.bytes)?;
            out.flush()?;
        }
        "config" => {
            want(1)?;
            let image: Reference = operand(0, "IMAGE")?.parse()?;
            print_json(&mut out, &client.get_image_config(&image)?)?;
        }
        "tags" => {
            want(1)?;
            let repo: Reference = operand(0, "REPO")?.parse()?;
            print_json(
                &mut out,
                &json!({"name": repo.name(), "tags": client.list_tags(&repo)?}),
            )?;
        }
        "catalog" => {
            want(1)?;
            let registry = operand(0, "REGISTRY")?;
            print_json(
                &mut out,
                &json!({"repositories": client.list_repositories(registry)?}),
            )?;
        }
        "instances" => {
            want(1)?;
            let repo: Reference = operand(0, "REPO")?.parse()?;
            let mut instances: Vec<_> = client.list_instances(&repo)?.into_values().collect();
            instances.sort();
            print_json(
                &mut out,
                &json!({"name": repo.name(), "instances": instances}),
            )?;
        }
        "tag" => {
            want(2)?;
            let image: Reference = operand(0, "IMAGE")?.parse()?;
            let new_tag = operand(1, "NEW_TAG")?;
            let digest = client.set_tag(&image, new_tag)?;
            let tagged = image.with_tag(new_tag)?;
            print_json(
                &mut out,
                &json!({"image": tagged.to_string(), "digest": digest}),
            )?;
        }
        other => return Err(Failure::Usage(format!("unknown command {other:?}"))),
    }
    Ok(())
}

/// `parse IMAGE` prints one object; `parse -` prints one JSON line per stdin line, errors
/// included, and fails at the end when any line failed.
fn parse_command(arg: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    if arg != "-" {
        let r: Reference = arg.parse()?;
        return print_json(&mut out, &parsed(arg, &r));
    }
    let mut failed = 0usize;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let value = match line.parse::<Reference>() {
            Ok(r) => parsed(&line, &r),
            Err(e) => {
                failed += 1;
                json!({"input": line, "error": e.to_string()})
            }
        };
        serde_json::to_writer(&mut out, &value)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if failed > 0 {
        return Err(Failure::Error(
            format!("{failed} line(s) did not parse").into(),
        ));
    }
    Ok(())
}

fn parsed(input: &str, r: &Reference) -> serde_json::Value {
    json!({
        "input": input,
        "registry": r.registry(),
        "repository": r.repository(),
        "tag": r.tag(),
        "digest": r.digest(),
    })
}

fn print_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), Failure> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

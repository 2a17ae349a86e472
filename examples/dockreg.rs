//! `dockreg`: a small command-line client over the library, JSON on stdout.
//!
//! ```text
//! cargo run --example dockreg -- [--insecure HOST:PORT]... [--platform OS/ARCH[/VARIANT]]
//!     [--username USER --password-stdin] [--ca-file FILE]... [--cert-dir DIR]...
//!     [--tls-verify=false] COMMAND ARGS
//! ```
//! Credentials come from Docker's and podman's files and credential helpers (so after
//! `docker login` it just works), or from `--username` with the password on stdin, used for
//! the registry of the command's image (see `credentials_registry`).
//! Commands: `parse IMAGE|-`, `digest IMAGE`, `manifest IMAGE`, `config IMAGE`, `tags REPO`,
//! `catalog REGISTRY`, `instances REPO`, `tag IMAGE NEW_TAG`, `blob put|get|delete`,
//! `push DIR IMAGE`, `copy SRC DST`, `delete IMAGE`, `platforms IMAGE`, `referrers IMAGE`.
//! Errors go to stderr as one line and the exit status is 1 (2 for a usage error).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use dockreg::{Client, Reference};
use serde_json::json;

#[path = "support/push_dir.rs"]
mod push_dir;

const USAGE: &str = "usage: dockreg [--insecure HOST:PORT]... [--platform OS/ARCH[/VARIANT]]
               [--username USER --password-stdin] [--ca-file FILE]... [--cert-dir DIR]...
               [--tls-verify=false] COMMAND ARGS

TLS: every registry is reached over HTTPS, verified against the system's CAs plus each
--ca-file (PEM) and the registry's directory in certs.d (/etc/containers/certs.d,
/etc/docker/certs.d, ~/.config/containers/certs.d; --cert-dir replaces them): *.crt CAs,
*.cert/*.key client certificate. --insecure (and loopback) allow plain HTTP to a registry
that does not speak TLS; --tls-verify=false accepts any certificate (test registries only).

credentials: from ~/.docker/config.json (or $DOCKER_CONFIG), its credential helpers, and
podman's auth.json; --username with --password-stdin (password read from stdin) gives them
for the registry of the image operand (catalog: REGISTRY; copy: DST).

proxies: HTTPS_PROXY (https registries), HTTP_PROXY (plain-HTTP ones) and NO_PROXY, read as
Go reads them; --proxy URL sends every request through URL instead, --no-proxy LIST replaces
NO_PROXY (hosts, .domains, IPs, CIDR ranges, *). Loopback registries are never proxied.

commands:
  parse IMAGE|-          parse a reference (- reads one per line from stdin)
  digest IMAGE           digest the image's tag points at
  manifest IMAGE         the raw manifest bytes as served
  config IMAGE           the image config (for the platform, from an index)
  tags REPO              every tag of a repository
  catalog REGISTRY       every repository of a registry
  instances REPO         every image of a repository with tags, size and times, and the
                         tags skipped (invalid names, artifacts, unreadable manifests)
  tag IMAGE NEW_TAG      point NEW_TAG at IMAGE's manifest
  blob put REPO FILE     upload a file as a blob (prints its digest)
  blob get REPO@DIGEST FILE
                         download a blob, verified, to FILE (written whole or not at all)
  blob delete REPO@DIGEST
                         delete a blob
  push DIR IMAGE         push an OCI image layout, or a plain directory as a one-layer image
  copy [--all-tags] SRC DST
                         copy an image (an index with all its platforms) or every tag of a
                         repository, to the same or another registry (prints the digest;
                         with --all-tags, the tags copied and those skipped)
  delete IMAGE           IMAGE@DIGEST deletes the manifest (and every tag on it);
                         IMAGE:TAG deletes that tag only, or fails where the registry cannot
  platforms IMAGE        the platforms of an image
  referrers [--artifact-type TYPE] IMAGE
                         manifests that refer to IMAGE (signatures, SBOMs, ...)";

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
    let mut platform = dockreg::Platform::linux_amd64();
    let mut rest = args;
    let mut username: Option<String> = None;
    let mut password_stdin = false;
    loop {
        match rest {
            [flag, value, tail @ ..] if flag == "--username" => {
                username = Some(value.clone());
                rest = tail;
            }
            [flag, tail @ ..] if flag == "--password-stdin" => {
                password_stdin = true;
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--insecure" => {
                builder = builder.insecure_registry(value);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--proxy" => {
                builder = builder.proxy(value);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--no-proxy" => {
                builder = builder.no_proxy(value);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--ca-file" => {
                let pem = std::fs::read(value)
                    .map_err(|e| Failure::Usage(format!("--ca-file {value}: {e}")))?;
                builder = builder.add_root_certificates_pem(&pem);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--cert-dir" => {
                builder = builder.cert_dir(value);
                rest = tail;
            }
            [flag, tail @ ..] if flag.starts_with("--tls-verify") => {
                let verify = match flag.as_str() {
                    "--tls-verify" | "--tls-verify=true" => true,
                    "--tls-verify=false" => false,
                    _ => return Err(Failure::Usage(format!("{flag}: use --tls-verify=false"))),
                };
                builder = builder.tls_verify(verify);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--platform" => {
                platform = value.parse()?;
                builder = builder.platform(platform.clone());
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
    let builder = with_credentials(builder, command, operands, username, password_stdin)?;
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
            let report = client.list_instances_report(&repo)?;
            let mut instances: Vec<_> = report.instances.into_values().collect();
            instances.sort();
            print_json(
                &mut out,
                &json!({"name": repo.name(), "instances": instances,
                        "skipped": skipped_json(&report.skipped)}),
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
        "blob" => {
            let sub = operand(0, "put, get or delete")?;
            match sub {
                "put" => {
                    want(3)?;
                    let repo: Reference = operand(1, "REPO")?.parse()?;
                    let file = std::path::Path::new(operand(2, "FILE")?);
                    let digest =
                        client.push_blob_file(&repo, file, dockreg::UploadOptions::new())?;
                    print_json(
                        &mut out,
                        &json!({"repository": repo.name(), "digest": digest}),
                    )?;
                }
                "get" => {
                    want(3)?;
                    let (repo, digest) = repo_at_digest(operand(1, "REPO@DIGEST")?)?;
                    let file = std::path::Path::new(operand(2, "FILE")?);
                    let size = client.download_blob(
                        &repo,
                        &digest,
                        file,
                        dockreg::DownloadOptions::new(),
                    )?;
                    print_json(
                        &mut out,
                        &json!({"digest": digest, "size": size, "path": file.display().to_string()}),
                    )?;
                }
                "delete" => {
                    want(2)?;
                    let (repo, digest) = repo_at_digest(operand(1, "REPO@DIGEST")?)?;
                    client.delete_blob(&repo, &digest)?;
                    print_json(&mut out, &json!({"deleted": digest}))?;
                }
                other => {
                    return Err(Failure::Usage(format!(
                        "blob: unknown subcommand {other:?} (put, get or delete)"
                    )));
                }
            }
        }
        "push" => {
            want(2)?;
            let dir = std::path::Path::new(operand(0, "DIR")?);
            let image: Reference = operand(1, "IMAGE")?.parse()?;
            let digest =
                push_dir::push_dir(&client, dir, &image, &platform).map_err(Failure::Error)?;
            print_json(
                &mut out,
                &json!({"image": image.to_string(), "digest": digest}),
            )?;
        }
        "copy" => {
            let (all_tags, rest) = match operands.first().map(String::as_str) {
                Some("--all-tags") => (true, &operands[1..]),
                _ => (false, operands),
            };
            if rest.len() != 2 {
                return Err(Failure::Usage("copy: expected SRC DST".into()));
            }
            let src: Reference = rest[0].parse()?;
            let dst: Reference = rest[1].parse()?;
            if all_tags {
                let report = client.copy_all_tags(&src, &dst)?;
                let copied: Vec<_> = report
                    .copied
                    .iter()
                    .map(|(tag, digest)| json!({"tag": tag, "digest": digest}))
                    .collect();
                print_json(
                    &mut out,
                    &json!({"name": dst.name(), "copied": copied,
                            "skipped": skipped_json(&report.skipped)}),
                )?;
            } else {
                let digest = client.copy_image(&src, &dst, dockreg::CopyOptions::new())?;
                print_json(
                    &mut out,
                    &json!({"image": dst.to_string(), "digest": digest}),
                )?;
            }
        }
        "delete" => {
            want(1)?;
            let image: Reference = operand(0, "IMAGE")?.parse()?;
            if image.digest().is_some() {
                client.delete_manifest(&image)?;
            } else if image.tag().is_some() {
                client.delete_tag(&image)?;
            } else {
                return Err(Failure::Usage(
                    "delete: IMAGE needs :TAG (that tag) or @DIGEST (the manifest)".into(),
                ));
            }
            print_json(&mut out, &json!({"deleted": image.to_string()}))?;
        }
        "platforms" => {
            want(1)?;
            let image: Reference = operand(0, "IMAGE")?.parse()?;
            let platforms: Vec<String> = client
                .list_platforms(&image)?
                .iter()
                .map(|p| p.to_string())
                .collect();
            print_json(
                &mut out,
                &json!({"image": image.to_string(), "platforms": platforms}),
            )?;
        }
        "referrers" => {
            let (artifact_type, rest) = match operands {
                [flag, t, rest @ ..] if flag == "--artifact-type" => (Some(t.as_str()), rest),
                _ => (None, operands),
            };
            let [image] = rest else {
                return Err(Failure::Usage(
                    "referrers: expected [--artifact-type TYPE] IMAGE".into(),
                ));
            };
            let image: Reference = image.parse()?;
            let referrers = client.list_referrers(&image, artifact_type)?;
            print_json(
                &mut out,
                &json!({"image": image.to_string(), "referrers": referrers}),
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

/// Tags a whole-repository command passed over: tag, digest (or null), reason kind, message.
fn skipped_json(skipped: &[dockreg::Skipped]) -> serde_json::Value {
    skipped
        .iter()
        .map(|s| {
            json!({"tag": s.tag, "digest": s.digest, "reason": s.reason.kind(),
                   "message": s.reason.to_string()})
        })
        .collect()
}

/// `REPO@DIGEST` split into the repository and the digest.
fn repo_at_digest(s: &str) -> Result<(Reference, dockreg::Digest), Failure> {
    let r: Reference = s.parse()?;
    let Some(d) = r.digest().cloned() else {
        return Err(Failure::Usage(format!("{s}: expected REPO@DIGEST")));
    };
    Ok((r, d))
}

fn parsed(input: &str, r: &Reference) -> serde_json::Value {
    json!({
        "input": input,
        "registry": r.registry(),
        "repository": r.path(),
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

/// `--username USER --password-stdin`: the password is all of stdin, less one trailing
/// newline (as `docker login --password-stdin` reads it).
fn with_credentials(
    builder: dockreg::ClientBuilder,
    command: &str,
    operands: &[String],
    username: Option<String>,
    password_stdin: bool,
) -> Result<dockreg::ClientBuilder, Failure> {
    use std::io::Read as _;
    let username = match (username, password_stdin) {
        (None, false) => return Ok(builder),
        (Some(u), true) => u,
        (Some(_), false) => {
            return Err(Failure::Usage(
                "--username needs --password-stdin (the password is read from stdin)".into(),
            ));
        }
        (None, true) => return Err(Failure::Usage("--password-stdin needs --username".into())),
    };
    let Some(registry) = credentials_registry(command, operands)? else {
        return Err(Failure::Usage(format!(
            "{command}: no image operand to give credentials for"
        )));
    };
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Failure::Usage("--password-stdin: stdin is empty".into()));
    }
    Ok(builder.credentials(&registry, dockreg::Credentials::basic(&username, password)))
}

/// The registry that `--username` credentials are for: that of the command's image operand
/// (flags skipped): `catalog REGISTRY`'s registry, `blob VERB REPO..`'s and `push DIR IMAGE`'s
/// repository, `copy SRC DST`'s destination (the side written to), else the first operand.
fn credentials_registry(command: &str, operands: &[String]) -> Result<Option<String>, Failure> {
    let mut plain: Vec<&str> = Vec::new();
    let mut skip_value = false;
    for o in operands {
        if skip_value {
            skip_value = false;
        } else if o == "--artifact-type" {
            skip_value = true;
        } else if !o.starts_with("--") {
            plain.push(o);
        }
    }
    let image = match command {
        "catalog" => return Ok(plain.first().map(|r| r.to_string())),
        "blob" | "push" | "copy" => plain.get(1),
        _ => plain.first(),
    };
    match image {
        Some(i) => Ok(Some(i.parse::<Reference>()?.registry().to_string())),
        None => Ok(None),
    }
}

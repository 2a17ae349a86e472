//! The command line: global options and subcommands (clap derive). Every option is global, so
//! it may come before or after the subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dockreg::{Platform, Reference};

/// The exit statuses (exit.rs sets them), shown at the end of `--help` and `-h`.
macro_rules! exit_status_help {
    () => {
        "Exit status:\n\
         \x20 0  success\n\
         \x20 1  any other error (a local file, a digest mismatch, a refused write, ...)\n\
         \x20 2  usage: unknown command or option, missing or malformed argument\n\
         \x20 3  not found: no such repository, tag, manifest, blob or platform\n\
         \x20 4  authentication: credentials missing, wrong or not allowed (401, 403)\n\
         \x20 5  network: the registry could not be reached (connection, DNS, TLS, timeout)"
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "dockreg",
    version,
    about = "A client for Docker/OCI registries: inspect, list, copy, pull and push images",
    long_about = "A client for Docker/OCI registries: inspect, list, copy, pull and push images.\n\n\
                  Output is JSON on stdout: one compact document per line when stdout is not a \
                  terminal, indented on a terminal (--format forces either). Errors go to stderr \
                  as one line.",
    after_help = exit_status_help!(),
    after_long_help = concat!(
        "Credentials: from ~/.docker/config.json (or $DOCKER_CONFIG), its credential helpers and \
         podman's auth.json; --username with --password-stdin gives them for the registry of \
         the command's image (catalog: REGISTRY; copy: DST).\n\n\
         TLS: every registry is reached over HTTPS, verified against the system's CAs, each \
         --ca-file and the registry's certs.d directory (--cert-dir replaces the defaults). \
         Loopback and --insecure registries may use plain HTTP when they do not speak TLS.\n\n\
         Proxies: HTTPS_PROXY, HTTP_PROXY and NO_PROXY as Go reads them; --proxy and --no-proxy \
         replace them. Loopback registries are never proxied.\n\n",
        exit_status_help!(),
    )
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts, anywhere on the line.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Registry (HOST:PORT) that may be reached over plain HTTP when it does not speak TLS
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub insecure: Vec<String>,
    /// Platform to pick out of an index (default linux/amd64 where one must be picked; without
    /// it, digest, manifest, copy and pull work on the index itself)
    #[arg(long, global = true, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    pub platform: Option<Platform>,
    /// User name for the registry of the command's image; the password is read from stdin
    #[arg(long, global = true, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the password for --username from stdin (one trailing newline is dropped)
    #[arg(long, global = true, requires = "username")]
    pub password_stdin: bool,
    /// Trust this CA (PEM) too
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Vec<PathBuf>,
    /// certs.d directory to use instead of the default ones
    #[arg(long, global = true, value_name = "DIR")]
    pub cert_dir: Vec<PathBuf>,
    /// Verify TLS certificates (--tls-verify=false accepts any: test registries only)
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true")]
    pub tls_verify: Option<bool>,
    /// Send every request through this proxy instead of HTTP(S)_PROXY
    #[arg(long, global = true, value_name = "URL")]
    pub proxy: Option<String>,
    /// Hosts not to proxy (replaces NO_PROXY): hosts, .domains, IPs, CIDR ranges, *
    #[arg(long, global = true, value_name = "LIST")]
    pub no_proxy: Option<String>,
    /// JSON layout: compact (one document per line) or pretty (indented). Default: compact
    /// when stdout is not a terminal, pretty on a terminal
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Most requests in flight to one registry (1-64; default 16): the width of digest with
    /// several images, instances and copies
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: Option<u32>,
    /// Log the requests made on stderr (-v: each request; -vv: more detail)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One compact JSON document per line
    Json,
    /// Indented JSON
    Pretty,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse image references (- reads one per line from stdin)
    #[command(
        after_help = "Example:\n  dockreg parse ubuntu:22.04\n  printf 'a/b:c\\nredis\\n' | dockreg parse -"
    )]
    Parse {
        /// An image reference, or - for one per line on stdin
        #[arg(value_name = "IMAGE|-")]
        image: String,
    },
    /// Digest of each image (with --platform: of the platform's image in an index)
    #[command(
        after_help = "Example:\n  dockreg digest 127.0.0.1:5000/team/app:1.0 127.0.0.1:5000/team/app:1.1\n  \
                            dockreg digest --platform linux/arm64 127.0.0.1:5000/team/app:1.0"
    )]
    Digest {
        #[arg(value_name = "IMAGE", required = true, value_parser = parse_reference)]
        images: Vec<Reference>,
    },
    /// The manifest as served (with --platform: the platform's image manifest)
    #[command(
        after_help = "Example:\n  dockreg manifest --raw 127.0.0.1:5000/team/app:1.0 | sha256sum"
    )]
    Manifest {
        /// Print the exact bytes served instead of JSON in --format
        #[arg(long)]
        raw: bool,
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
    },
    /// The image config blob (for --platform, default linux/amd64, from an index)
    #[command(
        after_help = "Example:\n  dockreg config --platform linux/arm64 127.0.0.1:5000/team/app:1.0"
    )]
    Config {
        /// Print the exact bytes of the blob instead of JSON in --format
        #[arg(long)]
        raw: bool,
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
    },
    /// Every tag of a repository
    #[command(
        visible_alias = "ls",
        after_help = "Example:\n  dockreg ls 127.0.0.1:5000/team/app"
    )]
    Tags {
        #[arg(value_name = "REPO", value_parser = parse_reference)]
        repo: Reference,
    },
    /// Every repository of a registry
    #[command(after_help = "Example:\n  dockreg catalog 127.0.0.1:5000")]
    Catalog {
        #[arg(value_name = "REGISTRY")]
        registry: String,
    },
    /// Every image of a repository with its tags, size and times, and the tags skipped
    #[command(after_help = "Example:\n  dockreg instances 127.0.0.1:5000/team/app")]
    Instances {
        #[arg(value_name = "REPO", value_parser = parse_reference)]
        repo: Reference,
    },
    /// Point NEW_TAG at IMAGE's manifest (with --platform: at the platform's image)
    #[command(after_help = "Example:\n  dockreg tag 127.0.0.1:5000/team/app:1.0 stable")]
    Tag {
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
        #[arg(value_name = "NEW_TAG")]
        new_tag: String,
    },
    /// Upload, download or delete one blob
    #[command(subcommand)]
    Blob(BlobCommand),
    /// Push an OCI image layout, or a plain directory as a one-layer image (for --platform)
    #[command(
        after_help = "Example:\n  dockreg push ./rootfs 127.0.0.1:5000/team/files:v1\n  \
                            dockreg push ./layout 127.0.0.1:5000/team/app:1.0   # oci-layout, index.json, blobs/"
    )]
    Push {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
    },
    /// Download an image into an OCI image layout directory (every platform, or --platform's)
    #[command(
        after_help = "Example:\n  dockreg pull 127.0.0.1:5000/team/app:1.0 ./app-layout\n  \
                            skopeo inspect oci:./app-layout:1.0"
    )]
    Pull {
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
        /// The layout directory (created; an existing layout gains the image)
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Name of the image in index.json (default: IMAGE's tag)
        #[arg(long, value_name = "NAME")]
        ref_name: Option<String>,
    },
    /// Write the image's filesystem (for --platform, default linux/amd64) as one tar, layers
    /// flattened with their whiteouts applied
    #[command(
        after_help = "Example:\n  dockreg export 127.0.0.1:5000/team/app:1.0 rootfs.tar\n  \
                            dockreg export --platform linux/arm64 127.0.0.1:5000/team/app:1.0 - | tar -t"
    )]
    Export {
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
        /// The tar file to write (whole or not at all), or - for stdout
        #[arg(value_name = "FILE|-")]
        file: PathBuf,
    },
    /// Copy an image (an index with every platform, or --platform's image) or every tag
    #[command(
        visible_alias = "cp",
        after_help = "Example:\n  dockreg cp 127.0.0.1:5000/team/app:1.0 127.0.0.1:6000/mirror/app:1.0\n  \
                            dockreg copy --all-tags 127.0.0.1:5000/team/app 127.0.0.1:6000/mirror/app"
    )]
    Copy {
        /// Copy every tag of repository SRC to repository DST
        #[arg(long)]
        all_tags: bool,
        #[arg(value_name = "SRC", value_parser = parse_reference)]
        src: Reference,
        #[arg(value_name = "DST", value_parser = parse_reference)]
        dst: Reference,
    },
    /// Delete a manifest (IMAGE@DIGEST, with every tag on it) or one tag (IMAGE:TAG, where the
    /// registry can)
    #[command(
        after_help = "Example:\n  dockreg delete 127.0.0.1:5000/team/app@sha256:0123...\n\n\
                            --platform is refused: name the manifest to delete by its digest."
    )]
    Delete {
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
    },
    /// The platforms of an image
    #[command(after_help = "Example:\n  dockreg platforms 127.0.0.1:5000/team/app:1.0")]
    Platforms {
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
    },
    /// Manifests that refer to IMAGE (signatures, SBOMs, ...); with --platform, to the
    /// platform's image
    #[command(
        after_help = "Example:\n  dockreg referrers --artifact-type application/spdx+json 127.0.0.1:5000/team/app:1.0"
    )]
    Referrers {
        /// Only referrers of this artifact type
        #[arg(long, value_name = "TYPE")]
        artifact_type: Option<String>,
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
    },
    /// Attach FILE to IMAGE as an artifact of TYPE (a referrer); with --platform, to the
    /// platform's image
    #[command(
        after_help = "Example:\n  dockreg attach --artifact-type application/spdx+json 127.0.0.1:5000/team/app:1.0 sbom.json"
    )]
    Attach {
        /// The artifact type, e.g. application/spdx+json
        #[arg(long, value_name = "TYPE")]
        artifact_type: String,
        /// Media type of FILE's layer (default: the artifact type)
        #[arg(long, value_name = "TYPE")]
        media_type: Option<String>,
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Push a small two-platform (linux/amd64, linux/arm64) image index, built here (demo)
    #[command(
        hide = true,
        after_help = "Example:\n  dockreg demo-image 127.0.0.1:5000/demo/hello:v1"
    )]
    DemoImage {
        #[arg(value_name = "IMAGE", value_parser = parse_reference)]
        image: Reference,
    },
}

#[derive(Debug, Subcommand)]
pub enum BlobCommand {
    /// Upload FILE as a blob of REPO (prints its digest)
    #[command(after_help = "Example:\n  dockreg blob put 127.0.0.1:5000/team/app ./layer.tar")]
    Put {
        #[arg(value_name = "REPO", value_parser = parse_reference)]
        repo: Reference,
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Download a blob to FILE, verified (written whole or not at all)
    #[command(
        after_help = "Example:\n  dockreg blob get 127.0.0.1:5000/team/app@sha256:0123... ./layer.tar"
    )]
    Get {
        #[arg(value_name = "REPO@DIGEST", value_parser = parse_repo_at_digest)]
        blob: Reference,
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Delete a blob
    #[command(
        after_help = "Example:\n  dockreg blob delete 127.0.0.1:5000/team/app@sha256:0123..."
    )]
    Delete {
        #[arg(value_name = "REPO@DIGEST", value_parser = parse_repo_at_digest)]
        blob: Reference,
    },
}

fn parse_reference(s: &str) -> Result<Reference, String> {
    s.parse().map_err(|e: dockreg::Error| e.to_string())
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    s.parse().map_err(|e: dockreg::Error| e.to_string())
}

fn parse_repo_at_digest(s: &str) -> Result<Reference, String> {
    let r = parse_reference(s)?;
    match r.digest() {
        Some(_) => Ok(r),
        None => Err("expected REPO@DIGEST".into()),
    }
}

impl Command {
    /// The registry that `--username` credentials are for: the command's image's (for a
    /// copy, the destination: the side written to; for catalog, REGISTRY). None for parse.
    pub fn credentials_registry(&self) -> Option<String> {
        let image = match self {
            Command::Parse { .. } => return None,
            Command::Catalog { registry } => return Some(registry.clone()),
            Command::Digest { images } => images.first()?,
            Command::Manifest { image, .. }
            | Command::Config { image, .. }
            | Command::Tag { image, .. }
            | Command::Push { image, .. }
            | Command::Pull { image, .. }
            | Command::Export { image, .. }
            | Command::Delete { image }
            | Command::Platforms { image }
            | Command::Referrers { image, .. }
            | Command::Attach { image, .. }
            | Command::DemoImage { image } => image,
            Command::Tags { repo } | Command::Instances { repo } => repo,
            Command::Copy { dst, .. } => dst,
            Command::Blob(BlobCommand::Put { repo, .. }) => repo,
            Command::Blob(BlobCommand::Get { blob, .. } | BlobCommand::Delete { blob }) => blob,
        };
        Some(image.registry().to_string())
    }
}

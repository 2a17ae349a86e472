//! dockreg: a blocking client for Docker/OCI container registries (the Docker Registry HTTP
//! API v2 and the OCI Distribution Spec), with a C ABI.
//!
//! No async runtime: it runs on [ureq](https://docs.rs/ureq) with one connection pool per
//! [`Client`]. Data flows one way: a [`Reference`] names an image, the client turns an
//! operation into requests, the transport sends them (authenticating as the registry asks),
//! and the answer is checked (status, digest, size) and returned as a typed value.
//!
//! # Quick start
//!
//! ```no_run
//! use dockreg::{Client, Reference};
//!
//! let client = Client::new()?;
//! let image: Reference = "127.0.0.1:5000/app:1.0".parse()?;
//! let manifest = client.get_manifest(&image)?; // the linux/amd64 image, even from an index
//! let config = client.get_config(&image, &manifest.manifest.config.digest)?;
//! println!("{} built {:?}, layers: {}", manifest.digest, config.created, manifest.manifest.layers.len());
//! for tag in client.list_tags(&image)? {
//!     println!("{tag}");
//! }
//! # Ok::<(), dockreg::Error>(())
//! ```
//!
//! Every method says in its documentation how many requests it sends and how it fails.
//!
//! # Names: references and repositories
//!
//! A [`Reference`] names an image (`registry/path[:tag][@digest]`); a [`Repository`] names a
//! repository (`registry/path`). Both parse with the grammar Docker uses (distribution/reference)
//! and normalise Docker Hub names, so a name without a registry is on Docker Hub:
//!
//! ```
//! use dockreg::{Reference, Repository};
//! let r: Reference = "ubuntu:24.04".parse()?;
//! assert_eq!(r.to_string(), "docker.io/library/ubuntu:24.04");
//! assert_eq!(r.repository(), &"docker.io/library/ubuntu".parse::<Repository>()?);
//! assert_eq!(r.manifest_reference(), "24.04");
//! let local: Reference = "localhost:5000/team/app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?;
//! assert_eq!((local.registry(), local.path()), ("localhost:5000", "team/app"));
//! assert!("Team/App".parse::<Reference>().is_err()); // paths are lower case
//! # Ok::<(), dockreg::Error>(())
//! ```
//!
//! Methods that act on a repository (tags, blobs, uploads, configs, instances) take
//! `&impl AsRef<Repository>`: pass a `Repository` or a `Reference`, whose tag and digest are
//! then not used (each such method says so). Methods that act on one manifest take a
//! `&Reference`.
//!
//! [`split_image`] gives the seed's three strings. It follows the same grammar, which differs
//! from the seed's `SplitImage` for names without a registry: the seed took the text before the
//! first `/` as the registry, so `org/app` named registry `org` and `ubuntu` had none; here both
//! are Docker Hub names, as for `docker pull`:
//!
//! ```
//! use dockreg::split_image;
//! let own = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
//! assert_eq!(split_image("org/app")?, own("docker.io", "org/app", ""));
//! assert_eq!(split_image("ubuntu:24.04")?, own("docker.io", "library/ubuntu", "24.04"));
//! assert_eq!(split_image("gcr.io/proj/app:v1")?, own("gcr.io", "proj/app", "v1"));
//! assert_eq!(split_image("localhost:5000/app")?, own("localhost:5000", "app", ""));
//! # Ok::<(), dockreg::Error>(())
//! ```
//!
//! # Authentication
//!
//! With no configuration the client reads public images anonymously (fetching the anonymous
//! tokens Docker Hub and GHCR ask for) and uses what `docker login`, `podman login` and
//! credential helpers stored. Credentials given to the builder come first:
//!
//! ```no_run
//! use dockreg::{Client, Credentials};
//! let client = Client::builder()
//!     .credentials("registry.example.com", Credentials::basic("ci", "s3cret"))
//!     .build()?;
//! # Ok::<(), dockreg::Error>(())
//! ```
//!
//! Basic and bearer challenges are both handled, tokens are cached per scope, and credentials
//! are never sent to another host, over plain HTTP (except loopback and insecure registries),
//! or shown in errors and `Debug` output. `docs/authentication.md` has the order of the sources
//! and recipes for Docker Hub, GHCR, GCR / Artifact Registry, ECR and ACR.
//!
//! # Platforms
//!
//! An index (a multi-platform image) lists one image per platform. The client's platform
//! ([`ClientBuilder::platform`], linux/amd64 by default) is used by [`Client::get_manifest`] and
//! [`Client::get_image_config`]; [`Client::get_manifest_for`],
//! [`Client::get_image_config_for`] and [`Client::get_platform_digest`] take one per call, and
//! [`CopyOptions::platform`] copies one platform. [`Client::get_digest`] returns the digest of
//! what the reference names: for an index, the index's own digest.
//!
//! Matching follows containerd: an exact match first, then the closest compatible variant:
//!
//! ```
//! use dockreg::{Descriptor, Digest, ImageIndex, Platform};
//! let entry = |p: &str| {
//!     let mut d = Descriptor::new(dockreg::media_type::OCI_MANIFEST, Digest::sha256_of(p.as_bytes()), 1);
//!     d.platform = Some(p.parse().unwrap());
//!     d
//! };
//! let index = ImageIndex::new(vec![entry("linux/amd64"), entry("linux/arm/v6"), entry("linux/arm64/v8")]);
//! let pick = |p: &str| index.select(&p.parse::<Platform>().unwrap()).map(|d| d.platform.clone().unwrap().to_string());
//! assert_eq!(pick("linux/arm64").as_deref(), Some("linux/arm64/v8")); // arm64 means arm64/v8
//! assert_eq!(pick("linux/arm/v7").as_deref(), Some("linux/arm/v6"));  // v7 runs v6 images
//! assert_eq!(pick("linux/arm/v5"), None);                            // but not the reverse
//! assert_eq!(pick("windows/amd64"), None);
//! ```
//!
//! # Copying
//!
//! [`Client::copy_image`] copies an image or a whole index (every platform) byte for byte:
//! within a registry blobs are mounted, between registries they are streamed from one to the
//! other, and what the target has is skipped. [`Client::copy_all_tags`] copies every tag of a
//! repository and reports the tags it skipped rather than failing on one odd tag.
//!
//! ```no_run
//! # let client = dockreg::Client::new()?;
//! let src: dockreg::Reference = "127.0.0.1:5000/team/app:1.4".parse()?;
//! let dst: dockreg::Reference = "127.0.0.1:6000/mirror/app:1.4".parse()?;
//! let digest = client.copy_image(&src, &dst, dockreg::CopyOptions::new())?;
//! # Ok::<(), dockreg::Error>(())
//! ```
//!
//! # Reading blobs
//!
//! [`Client::open_blob`] gives a [`BlobReader`], a `Read` that fails at its end instead of
//! returning end of file when the bytes do not match the digest, to hand to a decompressor.
//! [`Client::get_blob_with`] writes into any `Write` and resumes a broken download;
//! [`Client::download_blob`] writes a file that appears only once verified.
//!
//! # Conventions
//!
//! - `head_*` methods ask whether something exists: `Ok(None)` on 404, an error for anything
//!   else. `get_*` methods fetch something: a 404 is [`Error::NotFound`].
//! - Options ([`UploadOptions`], [`DownloadOptions`], [`CopyOptions`]) are builders passed by
//!   value.
//! - Public structs whose fields may grow are `#[non_exhaustive]`: build them with their `new`
//!   (or `Default`) and set the public fields.
//! - JSON: documents defined by the specs ([`ImageManifest`], [`ImageIndex`], [`Descriptor`],
//!   [`Platform`], [`ImageConfig`], [`ErrorEntry`]) keep the spec's keys; dockreg's own types
//!   ([`Reference`], [`ResolvedManifest`], [`ManifestHead`], [`RawManifest`],
//!   [`ImageInstance`], [`RegistryError`]) use camelCase keys. Every one of them serializes
//!   and deserializes; validating types ([`Reference`], [`Repository`], [`Digest`]) refuse
//!   invalid JSON. [`ImageInstance::seed_json`] writes the seed's keys.
//!
//! # Errors
//!
//! One enum, [`Error`]: bad input caught before any request ([`Error::InvalidReference`],
//! [`Error::InvalidDigest`], [`Error::InvalidInput`]); [`Error::Transport`] with a
//! [`TransportErrorKind`]; the registry's answers ([`Error::NotFound`],
//! [`Error::Unauthorized`], [`Error::Denied`], [`Error::TooManyRequests`], [`Error::Registry`],
//! each with a [`RegistryError`]: status, URL, attempts and the registry's error codes);
//! content checks ([`Error::DigestMismatch`], [`Error::TooLarge`], [`Error::InvalidResponse`],
//! [`Error::PlatformNotFound`]); [`Error::Auth`], [`Error::Io`], [`Error::Cancelled`] and
//! [`Error::Unsupported`]. Requests failing for a passing reason are retried first, as the
//! [`RetryPolicy`] says; [`Error::attempts`] tells how many were made.
//!
//! ```
//! let err = "a:".parse::<dockreg::Reference>().unwrap_err();
//! assert!(matches!(err, dockreg::Error::InvalidReference { .. }));
//! assert_eq!(err.to_string(), r#"invalid image reference "a:": empty tag after ':'"#);
//! ```
//!
//! # Time limits and cancellation
//!
//! Every request has a time limit (connect 15 s, 30 s per attempt of a metadata request, 60 s
//! without progress for any request, blob transfers included); [`Client::with_cancel`] and
//! [`Client::with_deadline`] bound whole operations. The README's "Reliability" section lists
//! every promise and limit.
//!
//! ```no_run
//! use std::time::Duration;
//! let token = dockreg::CancelToken::new();
//! let client = dockreg::Client::new()?.with_cancel(&token).with_timeout(Duration::from_secs(60));
//! let repo: dockreg::Repository = "registry.example.com/team/app".parse()?;
//! let tags = client.list_tags(&repo)?; // ends by 60 s from now, or when token.cancel() is called
//! # Ok::<(), dockreg::Error>(())
//! ```
//!
//! # Threads and cloning
//!
//! A [`Client`] is `Send + Sync` and cheap to clone: clones share the connection pool and the
//! token cache, so build one and clone it into threads rather than building one per thread.
//! [`Client::with_cancel`] and [`Client::with_deadline`] give such clones, with their own
//! cancel token or deadline. For tests, [`RegistryApi`] is a trait with the seed's operations;
//! `Client` implements it and a fake can too.
//!
//! # The C ABI
//!
//! [`ffi`] exports every operation to C (`include/dockreg.h`, generated by cbindgen; the
//! library builds as `cdylib` and `staticlib`): an opaque thread-safe client handle, references
//! as strings, results as JSON, a status from every call and a per-thread last error.
//! `docs/c-api.md` and `examples/c/README.md` walk through it; `examples/cpp` and
//! `examples/python` use it from C++ and Python.
//!
//! # From the Skia package
//!
//! dockreg began as a port of `go.skia.org/infra/go/docker`:
//!
//! | `go.skia.org/infra/go/docker` | dockreg |
//! |---|---|
//! | `SplitImage(image)` | [`split_image`] (Docker Hub names differ, see above); [`Reference`]'s `FromStr` for the full parse |
//! | `GetDigest(ctx, c, registry, repo, tag)` | [`Client::get_digest`] (the index's digest for an index); [`Client::get_platform_digest`] for one platform's image |
//! | `Client.GetManifest(ctx, registry, repo, ref)` | [`Client::get_manifest`] / [`Client::get_manifest_for`] give a [`ResolvedManifest`]; [`Client::get_raw_manifest`] the bytes as served |
//! | `Client.GetConfig(ctx, registry, repo, configDigest)` | [`Client::get_config`] |
//! | `GetConfig(ctx, c, registry, repo, ref)` | [`Client::get_image_config`] / [`Client::get_image_config_for`] |
//! | `Client.ListRepositories(ctx, registry)` | [`Client::list_repositories`] |
//! | `Client.ListTags(ctx, registry, repo)` | [`Client::list_tags`] |
//! | `Client.ListInstances(ctx, registry, repo)` | [`Client::list_instances`]; [`Client::list_instances_report`] also reports skipped tags |
//! | `Client.SetTag(ctx, registry, repo, ref, newTag)` | [`Client::set_tag`] |
//! | `Client` / `ClientImpl` / `NewClient` | [`RegistryApi`] / [`Client`] / [`Client::new`], [`Client::builder`] |
//! | `Manifest`, `MediaConfig` | [`ImageManifest`], [`Descriptor`]; also [`ImageIndex`], [`Manifest`], [`RawManifest`] |
//! | `ImageConfig` and `ImageConfig_Config`, `_History`, `_RootFS` | [`ImageConfig`], [`image_config::ContainerConfig`], [`image_config::History`], [`image_config::RootFs`] |
//! | `ImageInstance`, `ImageInstanceSlice` | [`ImageInstance`] (its `Ord` sorts as the slice did; [`ImageInstance::seed_json`] for the seed's JSON) |
//!
//! Instances sort by creation time, then upload time, then size, then digest, unknown times
//! first, as `ImageInstanceSlice` did:
//!
//! ```
//! use dockreg::{Digest, ImageInstance};
//! use time::macros::datetime;
//! let mut old = ImageInstance::new(Digest::sha256_of(b"old"), 10);
//! old.created = Some(datetime!(2023-01-01 0:00 UTC));
//! let mut new = ImageInstance::new(Digest::sha256_of(b"new"), 5);
//! new.created = Some(datetime!(2024-01-01 0:00 UTC));
//! let unknown = ImageInstance::new(Digest::sha256_of(b"?"), 1);
//! let mut all = vec![new.clone(), unknown.clone(), old.clone()];
//! all.sort();
//! assert_eq!(all, [unknown, old, new]);
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
mod cancel;
mod client;
mod config;
pub mod digest;
pub mod error;
#[allow(unsafe_code)]
pub mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod image_config;
pub mod manifest;
pub mod media_type;
pub mod platform;
pub mod reference;
mod registry_api;
mod retry;
mod transport;
mod url;

pub use auth::GoogleCredentialsSource;
pub use auth::{Credentials, DockerConfigSource};
pub use cancel::{CANCEL_POLL, CancelToken};
pub use client::ClientBuilder;
pub use client::{BlobReader, Client, ManifestHead, ResolvedManifest};
pub use client::{
    CopyOptions, DEFAULT_STREAM_CHUNK, DownloadOptions, Progress, ReadSeek, UploadOptions,
};
pub use config::MAX_PAGE_SIZE;
pub use digest::Digest;
pub use error::{Error, ErrorEntry, RegistryError, Result, TransportErrorKind};
pub use image_config::{
    CopyReport, ImageConfig, ImageInstance, InstancesReport, SkipReason, Skipped,
};
pub use manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, RawManifest};
pub use platform::Platform;
pub use reference::{Reference, Repository, split_image};
pub use registry_api::RegistryApi;
pub use retry::{MAX_ATTEMPTS, RetryPolicy};

/// Compiles the README's Rust examples, so they stay true to the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

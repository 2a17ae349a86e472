//! dockreg: a blocking client for Docker/OCI container registries (the OCI Distribution Spec),
//! with a C ABI.
//!
//! Data flows one way: a [`Reference`] names an image, the [`Client`] turns an operation into
//! requests, the transport sends them (authenticating as the registry asks), and the answer is
//! checked (status, digest, size) and returned as a typed value.
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
//! # Failures and time limits
//! Requests that failed for a passing reason (a refused or broken connection, 429, 503, ...)
//! are retried as the [`RetryPolicy`] says; every request has a time limit (connect 15 s,
//! 30 s per attempt of a metadata request, 60 s without progress for any request, blob
//! transfers included); [`Client::with_cancel`] and [`Client::with_deadline`] bound whole
//! operations. The README's "Reliability" section lists every promise and limit.
//!
//! ```no_run
//! use std::time::Duration;
//! let token = dockreg::CancelToken::new();
//! let client = dockreg::Client::new()?.with_cancel(&token).with_timeout(Duration::from_secs(60));
//! let repo: dockreg::Reference = "registry.example.com/team/app".parse()?;
//! let tags = client.list_tags(&repo)?; // ends by 60 s from now, or when token.cancel() is called
//! # Ok::<(), dockreg::Error>(())
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

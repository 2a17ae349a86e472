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
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod client;
mod config;
pub mod digest;
pub mod error;
#[allow(unsafe_code)]
pub mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod image_config;
pub mod manifest;
pub mod media_type;
pub mod platform;
pub mod reference;
mod registry_api;
mod transport;
mod url;

pub use auth::Credentials;
pub use client::{Client, ManifestHead, ResolvedManifest};
pub use client::{
    CopyOptions, DEFAULT_STREAM_CHUNK, DownloadOptions, Progress, ReadSeek, UploadOptions,
};
pub use config::{ClientBuilder, DockerConfigSource, MAX_PAGE_SIZE};
pub use digest::Digest;
pub use error::{Error, ErrorEntry, RegistryError, Result, TransportErrorKind};
pub use image_config::{ImageConfig, ImageInstance};
pub use manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, RawManifest};
pub use platform::Platform;
pub use reference::{Reference, split_image};
pub use registry_api::RegistryApi;

/// Compiles the README's Rust examples, so they stay true to the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

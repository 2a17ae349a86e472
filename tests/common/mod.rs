//! Integration-test harness shared by the test files (`mod common;`).
//!
//! - [`TestRegistry`]: a real `docker-registry` (distribution 2.8.2) on 127.0.0.1.
//! - [`shared`]: a process-wide registry seeded once with fixtures pushed by skopeo.
//! - [`raw`]: raw HTTP helpers (ureq) independent of the dockreg library.
//! - [`layout`]: hand-built OCI image layouts (tar, gzip, config JSON).
//! - [`skopeo`]: the second client, for pushing and cross-checking.
//!
//! Nothing here reaches beyond 127.0.0.1. Missing `docker-registry`/`skopeo` is a panic with
//! an install hint, never a silent skip.
#![allow(dead_code)]
#![allow(unused_imports)]

pub mod cabi;
pub mod cli_bin;
pub mod fixtures;
pub mod layout;
pub mod raw;
pub mod registry;
pub mod skopeo;
pub mod tempdir;
pub mod token_server;
pub mod write_support;

pub use cli_bin::example_cli;
pub use fixtures::{
    Blob, Fixture, ImageRecord, IndexRecord, MANY_REPOS, MANY_TAGS, ManyRepos, ManyTags, Platform,
    shared,
};
pub use layout::{ImageSpec, LayerKind, OciLayout};
pub use raw::{
    ACCEPT_ALL_MANIFESTS, RawResponse, raw_delete, raw_get, raw_head, raw_put_manifest,
    raw_request, sha256_digest,
};
pub use registry::{TestRegistry, require_program};
pub use skopeo::{skopeo_copy, skopeo_inspect_digest, skopeo_raw};
pub use tempdir::TempDir;

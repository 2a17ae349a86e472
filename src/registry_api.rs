//! A trait with the seed's client operations, so users can put a fake in their tests.

use std::collections::BTreeMap;

use crate::client::{Client, ResolvedManifest};
use crate::digest::Digest;
use crate::error::Result;
use crate::image_config::{ImageConfig, ImageInstance};
use crate::reference::{Reference, Repository};

/// The operations of the seed's `docker.Client` interface. [`Client`] implements it; a test
/// can implement it with canned answers.
pub trait RegistryApi {
    /// The image manifest for `image` (an index resolved to the client's platform).
    fn get_manifest(&self, image: &Reference) -> Result<ResolvedManifest>;
    /// The image config blob `config_digest` in `repository`.
    fn get_config(&self, repository: &Repository, config_digest: &Digest) -> Result<ImageConfig>;
    /// Every repository of a registry.
    fn list_repositories(&self, registry: &str) -> Result<Vec<String>>;
    /// Every image of a repository, keyed by digest (tags that could not be described are left
    /// out; [`Client::list_instances_report`] reports them).
    fn list_instances(&self, repository: &Repository) -> Result<BTreeMap<Digest, ImageInstance>>;
    /// Every tag of a repository.
    fn list_tags(&self, repository: &Repository) -> Result<Vec<String>>;
    /// Points `new_tag` at the manifest `image` names; returns its digest.
    fn set_tag(&self, image: &Reference, new_tag: &str) -> Result<Digest>;

    /// The digest `image` points at (the seed's `GetDigest`). The default fetches the
    /// manifest; [`Client`] uses a HEAD instead.
    fn get_digest(&self, image: &Reference) -> Result<Digest> {
        let m = self.get_manifest(image)?;
        Ok(m.index_digest.unwrap_or(m.digest))
    }

    /// Manifest, then config (the seed's package-level `GetConfig`).
    fn get_image_config(&self, image: &Reference) -> Result<ImageConfig> {
        let m = self.get_manifest(image)?;
        self.get_config(image.repository(), &m.manifest.config.digest)
    }
}

impl RegistryApi for Client {
    fn get_manifest(&self, image: &Reference) -> Result<ResolvedManifest> {
        Client::get_manifest(self, image)
    }
    fn get_config(&self, repository: &Repository, config_digest: &Digest) -> Result<ImageConfig> {
        Client::get_config(self, repository, config_digest)
    }
    fn list_repositories(&self, registry: &str) -> Result<Vec<String>> {
        Client::list_repositories(self, registry)
    }
    fn list_instances(&self, repository: &Repository) -> Result<BTreeMap<Digest, ImageInstance>> {
        Client::list_instances(self, repository)
    }
    fn list_tags(&self, repository: &Repository) -> Result<Vec<String>> {
        Client::list_tags(self, repository)
    }
    fn set_tag(&self, image: &Reference, new_tag: &str) -> Result<Digest> {
        Client::set_tag(self, image, new_tag)
    }
    fn get_digest(&self, image: &Reference) -> Result<Digest> {
        Client::get_digest(self, image)
    }
}

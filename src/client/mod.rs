//! The [`Client`] and its operations, one file per resource.

mod blobs;
mod copy;
mod fanout;
mod instances;
pub(crate) mod listing;
mod manifests;
mod referrers;
mod uploads;

use std::sync::Arc;

use crate::config::{ClientBuilder, Config};
use crate::error::Result;
use crate::reference::{self, Reference};
use crate::transport::Transport;

pub use blobs::DownloadOptions;
pub use copy::CopyOptions;
pub use manifests::{ManifestHead, ResolvedManifest};
pub use uploads::{DEFAULT_STREAM_CHUNK, Progress, ReadSeek, UploadOptions};

/// A blocking registry client.
///
/// # Threads and cloning
/// `Client` is `Send + Sync` and cheap to clone: clones share one connection pool and one
/// authentication cache, so clone it into threads rather than building one per thread.
///
/// # Requests
/// Each operation sends only the requests it needs: there is no ping of `/v2/` before calls, and
/// connections are kept alive between calls.
///
/// ```no_run
/// let client = dockreg::Client::new()?;
/// let image: dockreg::Reference = "127.0.0.1:5000/app:1.0".parse()?;
/// let digest = client.get_digest(&image)?;
/// let tags = client.list_tags(&image)?;
/// println!("{digest} {tags:?}");
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("user_agent", &self.config().user_agent)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with default options.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// A builder for a client with other options.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn from_config(config: Config) -> Result<Self> {
        Ok(Self {
            transport: Arc::new(Transport::new(Arc::new(config))?),
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.transport.config
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// `scheme://host/v2` for a registry.
    pub(crate) fn registry_base(&self, registry: &str) -> String {
        format!(
            "{}://{}/v2",
            self.config().scheme(registry),
            reference::api_host(registry)
        )
    }

    /// `scheme://host/v2/<repository>` for a reference.
    pub(crate) fn repo_base(&self, r: &Reference) -> String {
        format!("{}/{}", self.registry_base(r.registry()), r.repository())
    }
}

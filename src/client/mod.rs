//! The [`Client`] and its operations, one file per resource.

mod blob_reader;
mod blobs;
mod builder;
mod bulk;
mod copy;
mod fanout;
mod instances;
pub(crate) mod listing;
mod manifests;
mod referrers;
mod uploads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::AuthOptions;
use crate::cancel::{CallContext, CancelToken};
use crate::config::Config;
use crate::error::Result;
use crate::reference::Repository;
use crate::transport::{Session, Transport};

pub use blob_reader::BlobReader;
pub use blobs::DownloadOptions;
pub use builder::ClientBuilder;
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
///
/// # Failures, retries and time limits
/// Every request is retried as the client's [`RetryPolicy`](crate::RetryPolicy) allows, and
/// bounded by its timeouts (see [`ClientBuilder`]). [`Client::with_cancel`] and
/// [`Client::with_deadline`] give a copy of the client whose every call can be cancelled from
/// another thread or ends by a given instant.
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
    call: CallContext,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("user_agent", &self.config().user_agent)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with default options (see [`ClientBuilder`] for each default). No request is
    /// sent until an operation is called; each operation documents its requests.
    ///
    /// # Errors
    /// As [`ClientBuilder::build`] (the platform's certificate store is read on the first
    /// HTTPS connection, not here).
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// A builder for a client with other options; the same as [`ClientBuilder::new`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn from_parts(config: Config, auth: AuthOptions) -> Result<Self> {
        Ok(Self {
            transport: Arc::new(Transport::new(Arc::new(config), auth)?),
            call: CallContext::default(),
        })
    }

    /// A copy of this client (same connections, same token cache) whose operations end with
    /// [`Error::Cancelled`](crate::Error::Cancelled) once `token` is cancelled: at once between
    /// requests and backoff waits, within about 100 ms while waiting for a registry's bytes.
    /// Operations already running on other copies are not affected unless they carry the
    /// same token.
    pub fn with_cancel(&self, token: &CancelToken) -> Self {
        let mut c = self.clone();
        c.call.cancel = Some(token.clone());
        c
    }

    /// A copy of this client whose operations (all their requests, retries and waits) end by
    /// `deadline`, failing with a [`TransportErrorKind::Timeout`](crate::TransportErrorKind)
    /// error once it has passed. It applies to blob transfers too.
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        let mut c = self.clone();
        c.call.deadline = Some(deadline);
        c
    }

    /// [`Client::with_deadline`] at `timeout` from now; a timeout too large to be a point in
    /// time (such as `Duration::MAX`) means no deadline.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.with_deadline(deadline),
            None => {
                let mut c = self.clone();
                c.call.deadline = None;
                c
            }
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.transport.config
    }

    /// The transport, with this client's cancel and deadline.
    pub(crate) fn transport(&self) -> Session<'_> {
        Session {
            transport: &self.transport,
            call: &self.call,
        }
    }

    /// `scheme://host/v2` for a registry.
    pub(crate) fn registry_base(&self, registry: &str) -> String {
        format!("{}/v2", self.transport.origin(registry, &self.call))
    }

    /// `scheme://host/v2/<path>` for a repository (or a reference's repository).
    pub(crate) fn repo_base(&self, r: &(impl AsRef<Repository> + ?Sized)) -> String {
        let r = r.as_ref();
        format!("{}/{}", self.registry_base(r.registry()), r.path())
    }
}

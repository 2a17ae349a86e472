//! Client options and their builder.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::auth::Credentials;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::platform::Platform;

/// Largest page size a listing asks for (the spec lets registries refuse more).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Options of a [`Client`], fixed when it is built.
#[derive(Clone)]
pub(crate) struct Config {
    pub connect_timeout: Duration,
    pub read_timeout: Option<Duration>,
    pub request_timeout: Option<Duration>,
    pub user_agent: String,
    pub platform: Platform,
    pub insecure: BTreeSet<String>,
    pub page_size: u32,
    pub max_manifest_size: u64,
    pub max_json_size: u64,
    /// Largest listing page (tags, catalog, referrers) accepted, in bytes.
    pub max_page_bytes: u64,
    /// Most entries one listing returns, counted across all its pages.
    pub max_listing_entries: usize,
    /// Deepest nesting of indexes inside indexes that is followed.
    pub max_index_depth: usize,
    pub credentials: BTreeMap<String, Credentials>,
    pub root_certs_pem: Vec<Vec<u8>>,
    pub docker_config: DockerConfigSource,
    pub credential_helpers: crate::auth::HelperOptions,
}

/// Where the client looks for Docker/podman credential files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerConfigSource {
    /// `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), then the podman/skopeo
    /// auth file (`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json` and
    /// `~/.config/containers/auth.json`), each with its credential helpers.
    Default,
    /// This file only (`config.json` format; a file named `auth.json` is read as podman's).
    Path(std::path::PathBuf),
    /// No files: only credentials given to the builder.
    None,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Some(Duration::from_secs(300)),
            request_timeout: None,
            user_agent: concat!("dockreg/", env!("CARGO_PKG_VERSION")).to_string(),
            platform: Platform::linux_amd64(),
            insecure: BTreeSet::new(),
            page_size: 100,
            max_manifest_size: 4 * 1024 * 1024,
            max_json_size: 64 * 1024 * 1024,
            max_page_bytes: 4 * 1024 * 1024,
            max_listing_entries: 1_000_000,
            max_index_depth: 4,
            credentials: BTreeMap::new(),
            root_certs_pem: Vec::new(),
            docker_config: DockerConfigSource::Default,
            credential_helpers: crate::auth::HelperOptions::default(),
        }
    }
}

impl Config {
    /// `http` for loopback registries and those listed as insecure, `https` otherwise.
    pub fn scheme(&self, registry: &str) -> &'static str {
        if self.insecure.contains(registry) || is_loopback(registry) {
            "http"
        } else {
            "https"
        }
    }
}

/// True for `localhost`, `127.x.x.x` and `[::1]`, with or without a port.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Builds a [`Client`].
///
/// ```no_run
/// use std::time::Duration;
/// let client = dockreg::Client::builder()
///     .insecure_registry("registry.lan:5000")
///     .connect_timeout(Duration::from_secs(5))
///     .platform("linux/arm64".parse()?)
///     .build()?;
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    config: Config,
    error: Option<Error>,
}

impl ClientBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Time allowed to open a connection. Default: 30 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Longest wait for the next bytes of a response; `None` waits forever. Default: 300 s.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.read_timeout = timeout;
        self
    }

    /// Time allowed for one whole request, body included; `None` for no limit (blob transfers
    /// can take long). Default: `None`.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// `User-Agent` header. Default: `dockreg/<version>`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.config.user_agent = user_agent.to_string();
        self
    }

    /// Platform picked out of an index by [`Client::get_manifest`]. Default: `linux/amd64`.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.config.platform = platform;
        self
    }

    /// Talk plain HTTP to this registry (`host:port` as in image references). Loopback
    /// registries (`localhost`, `127.0.0.1`, `[::1]`) use HTTP anyway. Default: none.
    pub fn insecure_registry(mut self, registry: &str) -> Self {
        match crate::reference::parse_registry(registry) {
            Ok(r) => {
                self.config.insecure.insert(r);
            }
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }

    /// Entries per page asked of listings (1 to 1000). Default: 100.
    pub fn page_size(mut self, n: u32) -> Self {
        if (1..=MAX_PAGE_SIZE).contains(&n) {
            self.config.page_size = n;
        } else {
            let e = Error::InvalidInput(format!("page size {n} is outside 1..={MAX_PAGE_SIZE}"));
            self.error = self.error.or(Some(e));
        }
        self
    }

    /// Largest manifest accepted, in bytes. Default: 4 MiB.
    pub fn max_manifest_size(mut self, bytes: u64) -> Self {
        self.config.max_manifest_size = bytes;
        self
    }

    /// Credentials for one registry (`host:port`; `docker.io` for Docker Hub). They take
    /// precedence over credential files. Default: none.
    pub fn credentials(mut self, registry: &str, credentials: Credentials) -> Self {
        match crate::reference::parse_registry(registry) {
            Ok(r) => {
                self.config.credentials.insert(r, credentials);
            }
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }

    /// Where credential files are read from. Default: [`DockerConfigSource::Default`].
    pub fn docker_config(mut self, source: DockerConfigSource) -> Self {
        self.config.docker_config = source;
        self
    }

    /// Looks for credential helpers (`docker-credential-<name>`) in this directory instead of
    /// `$PATH`; call it again to add more directories, searched in order. Default: `$PATH`.
    pub fn credential_helper_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config
            .credential_helpers
            .dirs
            .get_or_insert_with(Vec::new)
            .push(dir.into());
        self
    }

    /// Time a credential helper may run before it is stopped and the request fails.
    /// Default: 30 s.
    pub fn credential_helper_timeout(mut self, timeout: Duration) -> Self {
        self.config.credential_helpers.timeout = timeout;
        self
    }

    /// Trusts the CA certificates in this PEM text, in addition to the built-in roots.
    /// Default: built-in roots only.
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.config.root_certs_pem.push(pem.to_vec());
        self
    }

    /// Builds the client; fails when an option given earlier was invalid.
    pub fn build(self) -> Result<Client> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Client::from_config(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_use_http() {
        let c = Config::default();
        for r in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "localhost",
        ] {
            assert_eq!(c.scheme(r), "http", "{r}");
        }
        for r in [
            "docker.io",
            "gcr.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[2001:db8::1]:5000",
        ] {
            assert_eq!(c.scheme(r), "https", "{r}");
        }
    }

    #[test]
    fn bad_options_fail_the_build() {
        assert!(ClientBuilder::new().page_size(0).build().is_err());
        assert!(ClientBuilder::new().page_size(1001).build().is_err());
        assert!(
            ClientBuilder::new()
                .insecure_registry("bad host")
                .build()
                .is_err()
        );
    }
}

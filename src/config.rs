//! Client options as plain data, with their defaults. `ClientBuilder` (in `client/`) fills
//! them in; the HTTP layer, the authenticator and the operations read them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::platform::Platform;
use crate::retry::RetryPolicy;

/// Largest page size a listing asks for (the spec lets registries refuse more).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Most requests a client may have in flight to one registry host (the bound of
/// `ClientBuilder::max_concurrency`).
pub const MAX_CONCURRENCY: usize = 64;

/// Requests in flight per registry host by default. Measured (BENCHMARKS.md, 2 cores):
/// `list_instances` over 300 tags across a 20 ms round trip took 1.68 s at 4, 0.87 s at 8,
/// 0.46 s at 16 and 0.28 s at 32 (p50); on loopback 0.17 to 0.18 s at any of them. 8 to 16
/// connections per client is what registries are known to tolerate well: 16 is the top of
/// that range. Each connection costs about 0.1 MiB (its 32 KiB ureq buffers, and more).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Options of a client, fixed when it is built. Every default is set in `Default` below, and
/// each is documented on its builder setter.
#[derive(Clone)]
pub(crate) struct Config {
    /// Time to open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Deadline of one attempt of a metadata request (manifests, tags, catalog, tokens, HEADs),
    /// body included; `None`: none (the stall rule still applies).
    pub request_timeout: Option<Duration>,
    /// Longest time without a byte read or written before a request fails: bounds blob
    /// transfers of any size, and every other request too.
    pub stall_timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: String,
    pub platform: Platform,
    pub insecure: BTreeSet<String>,
    pub page_size: u32,
    pub max_manifest_size: u64,
    /// Largest listing page (tags, catalog, referrers) accepted, in bytes.
    pub max_page_bytes: u64,
    /// Most entries one listing returns, counted across all its pages.
    pub max_listing_entries: usize,
    /// Deepest nesting of indexes inside indexes that is followed.
    pub max_index_depth: usize,
    /// CA certificates trusted in addition to the platform's (PEM texts).
    pub root_certs_pem: Vec<Vec<u8>>,
    /// Directories of per-registry certificates (`<dir>/<host[:port]>/*.crt`, `*.cert`,
    /// `*.key`); `None`: the containers/Docker defaults.
    pub cert_dirs: Option<Vec<PathBuf>>,
    /// Client certificates given explicitly, per registry `host[:port]`.
    pub client_certs: BTreeMap<String, ClientCertPem>,
    /// Verify server certificates (switched off only on explicit request).
    pub tls_verify: bool,
    /// Proxies: explicit options and how the environment is read (rules in `http/proxy.rs`).
    pub proxy: ProxyOptions,
    /// Requests in flight at most per registry host (`host:port`), across every thread and
    /// clone of the client; also the width of the client's own fan-outs and the idle
    /// connections kept per host. 1..=`MAX_CONCURRENCY`.
    pub max_concurrency: usize,
}

/// A client certificate chain and its private key, as PEM. `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct ClientCertPem {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

impl std::fmt::Debug for ClientCertPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientCertPem(<key redacted>)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(15),
            request_timeout: Some(Duration::from_secs(30)),
            stall_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            user_agent: concat!("dockreg/", env!("CARGO_PKG_VERSION")).to_string(),
            platform: Platform::linux_amd64(),
            insecure: BTreeSet::new(),
            page_size: 100,
            max_manifest_size: 4 * 1024 * 1024,
            max_page_bytes: 4 * 1024 * 1024,
            max_listing_entries: 1_000_000,
            max_index_depth: 4,
            root_certs_pem: Vec::new(),
            cert_dirs: None,
            client_certs: BTreeMap::new(),
            tls_verify: true,
            proxy: ProxyOptions::default(),
            max_concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// Reads one environment variable: `None` when it is unset.
pub(crate) type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Proxy options as given to the builder.
#[derive(Clone)]
pub(crate) struct ProxyOptions {
    /// A proxy for every request, instead of `HTTPS_PROXY` / `HTTP_PROXY`. May hold credentials.
    pub url: Option<String>,
    /// Hosts reached directly, instead of `NO_PROXY` (same syntax).
    pub no_proxy: Option<String>,
    /// Whether `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (and lower-case forms) are read.
    pub from_env: bool,
    /// Where the environment is read from; `None`: the process environment.
    pub env: Option<EnvLookup>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        Self {
            url: None,
            no_proxy: None,
            from_env: true,
            env: None,
        }
    }
}

impl Config {
    /// True when plain HTTP may be used with this registry (`host[:port]`): loopback
    /// registries and those listed as insecure. They are still tried over HTTPS first.
    pub fn plain_http_allowed(&self, registry: &str) -> bool {
        self.insecure.contains(registry) || is_loopback(registry)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_and_insecure() {
        let c = Config::default();
        for r in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(c.plain_http_allowed(r), "{r}");
        }
        for r in [
            "docker.io",
            "gcr.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[2001:db8::1]:5000",
        ] {
            assert!(!c.plain_http_allowed(r), "{r}");
        }
    }
}

//! `ClientBuilder`: options in, a [`Client`] out.

use std::time::Duration;

use crate::auth::GoogleCredentialsSource;
use crate::auth::{AuthOptions, Credentials, DockerConfigSource};
use crate::config::{Config, MAX_CONCURRENCY, MAX_PAGE_SIZE};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::retry::RetryPolicy;

use super::Client;

/// Builds a [`Client`]. Each setter's documentation ends with its default.
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
#[must_use]
pub struct ClientBuilder {
    config: Config,
    auth: AuthOptions,
    error: Option<Error>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials are left out on purpose: Debug output ends up in logs.
        f.debug_struct("ClientBuilder")
            .field("user_agent", &self.config.user_agent)
            .field("connect_timeout", &self.config.connect_timeout)
            .field("request_timeout", &self.config.request_timeout)
            .field("stall_timeout", &self.config.stall_timeout)
            .field("retry", &self.config.retry)
            .field("tls_verify", &self.config.tls_verify)
            .field("max_concurrency", &self.config.max_concurrency)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with every option at its default.
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, e: Error) {
        self.error = self.error.take().or(Some(e));
    }

    /// `Some(n)` when `n` is at least 1; otherwise records the error for `build`.
    fn positive<N: Default + PartialOrd>(&mut self, option: &str, n: N) -> Option<N> {
        if n > N::default() {
            Some(n)
        } else {
            self.fail(Error::InvalidInput(format!("{option} must be at least 1")));
            None
        }
    }

    /// Time allowed to open a connection (TCP and TLS). Default: 15 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Deadline of one attempt of a metadata request (manifests, tags, catalog pages, tokens,
    /// HEADs, small blobs such as configs), from the first byte sent to the last byte of the
    /// body. `None` removes it (the stall timeout still applies). Blob transfers never have
    /// this deadline: they are bounded by the stall timeout instead, so a large layer is never
    /// cut while it moves. Default: 30 s.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Longest time a request may go without a byte read or written before it fails with a
    /// timeout: a stalled registry always ends a call, a slow but moving one never does.
    /// Must be at least 1 ms. Default: 60 s.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        if timeout.is_zero() {
            self.fail(Error::InvalidInput(
                "the stall timeout must be above zero".into(),
            ));
        } else {
            self.config.stall_timeout = timeout;
        }
        self
    }

    /// Retries of failed requests (see [`RetryPolicy`]). Default: `RetryPolicy::default()`,
    /// 4 attempts, 250 ms to 8 s backoff with full jitter, at most 30 s of waits per request.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// `User-Agent` header; control characters and line breaks are refused when the client is
    /// built. Default: `dockreg/<version>`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.config.user_agent = user_agent.to_string();
        self
    }

    /// Platform picked out of an index by [`Client::get_manifest`]. Default: `linux/amd64`.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.config.platform = platform;
        self
    }

    /// Allows plain HTTP to this registry (`host:port` as in image references) when it does
    /// not speak TLS: it is tried over HTTPS (verified) first, once per client. Loopback
    /// registries (`localhost`, `127.0.0.1`, `[::1]`) are treated so anyway. It never switches
    /// certificate verification off (see [`ClientBuilder::tls_verify`]). Default: none.
    pub fn insecure_registry(mut self, registry: &str) -> Self {
        match crate::reference::parse_registry(registry) {
            Ok(r) => {
                self.config.insecure.insert(r);
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// Entries per page asked of listings (1 to 1000). Default: 100.
    pub fn page_size(mut self, n: u32) -> Self {
        if (1..=MAX_PAGE_SIZE).contains(&n) {
            self.config.page_size = n;
        } else {
            self.fail(Error::InvalidInput(format!(
                "page size {n} is outside 1..={MAX_PAGE_SIZE}"
            )));
        }
        self
    }

    /// Largest manifest accepted, in bytes (at least 1). Default: 4 MiB.
    pub fn max_manifest_size(mut self, bytes: u64) -> Self {
        if let Some(n) = self.positive("max_manifest_size", bytes) {
            self.config.max_manifest_size = n;
        }
        self
    }

    /// Largest listing page (tags, catalog, referrers) accepted, in bytes (at least 1).
    /// Default: 4 MiB.
    pub fn max_page_bytes(mut self, bytes: u64) -> Self {
        if let Some(n) = self.positive("max_page_bytes", bytes) {
            self.config.max_page_bytes = n;
        }
        self
    }

    /// Most entries one listing may return, all pages together (at least 1).
    /// Default: 1,000,000.
    pub fn max_listing_entries(mut self, n: usize) -> Self {
        if let Some(n) = self.positive("max_listing_entries", n) {
            self.config.max_listing_entries = n;
        }
        self
    }

    /// Deepest nesting of indexes within indexes that is followed (at least 1). Default: 4.
    pub fn max_index_depth(mut self, depth: usize) -> Self {
        if let Some(n) = self.positive("max_index_depth", depth) {
            self.config.max_index_depth = n;
        }
        self
    }

    /// Credentials for one registry (`host:port`; `docker.io` for Docker Hub). They take
    /// precedence over credential files. Default: none.
    pub fn credentials(mut self, registry: &str, credentials: Credentials) -> Self {
        match crate::reference::parse_registry(registry) {
            Ok(r) => {
                self.auth.credentials.insert(r, credentials);
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// Where credential files are read from. Default: [`DockerConfigSource::Default`].
    pub fn docker_config(mut self, source: DockerConfigSource) -> Self {
        self.auth.docker_config = source;
        self
    }

    /// Looks for credential helpers (`docker-credential-<name>`) in this directory instead of
    /// `$PATH`; call it again to add more directories, searched in order. Default: `$PATH`.
    pub fn credential_helper_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.auth
            .helpers
            .dirs
            .get_or_insert_with(Vec::new)
            .push(dir.into());
        self
    }

    /// Time a credential helper may run before it is stopped and the request fails.
    /// Default: 30 s.
    pub fn credential_helper_timeout(mut self, timeout: Duration) -> Self {
        self.auth.helpers.timeout = timeout;
        self
    }

    /// Where Google credentials come from, for Google registries (`gcr.io`, `*.gcr.io`,
    /// `*.pkg.dev`, and those named with [`ClientBuilder::google_registry`]) that neither the
    /// builder's credentials nor a credential file cover. The access token is sent as the
    /// password of the user `oauth2accesstoken` and fetched again shortly before it expires.
    /// Default: [`GoogleCredentialsSource::Default`] (Application Default Credentials).
    pub fn google_credentials(mut self, source: GoogleCredentialsSource) -> Self {
        self.auth.google.source = source;
        self
    }

    /// Treats this registry (`host[:port]`) as a Google registry: it gets Google credentials
    /// when nothing else applies (see [`ClientBuilder::google_credentials`]). Repeatable.
    /// Default: only `gcr.io`, `*.gcr.io` and `*.pkg.dev`.
    pub fn google_registry(mut self, registry: &str) -> Self {
        match crate::reference::parse_registry(registry) {
            Ok(r) => {
                self.auth.google.registries.insert(r);
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// Trusts the CA certificates in this PEM text for every registry, in addition to the
    /// platform's roots (call it again to add more); a PEM without a certificate fails the
    /// build. Default: the platform's roots only (the OS store; `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` on Linux), or Mozilla's bundled roots when the platform has none.
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.config.root_certs_pem.push(pem.to_vec());
        self
    }

    /// Looks for per-registry certificates in this directory, laid out as containers and
    /// Docker do: `<dir>/<host[:port]>/*.crt` are CAs trusted for that registry (besides the
    /// roots), and `<name>.cert` with `<name>.key` a client certificate it is shown. Call it
    /// again to add more directories, searched in order (the first with an entry for a host
    /// wins); giving any replaces the defaults. Default: `/etc/containers/certs.d`,
    /// `/etc/docker/certs.d`, then `$HOME/.config/containers/certs.d`.
    pub fn cert_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config
            .cert_dirs
            .get_or_insert_with(Vec::new)
            .push(dir.into());
        self
    }

    /// Shows this client certificate (a PEM chain, leaf first) with its PEM private key to
    /// `registry` (`host:port` as in image references) when it asks for one (mutual TLS). It
    /// wins over a pair found in a certs.d directory. A key that does not match the
    /// certificate fails the build; the key never appears in errors or `Debug`.
    /// Default: none (certs.d pairs only).
    pub fn client_certificate(mut self, registry: &str, cert_pem: &[u8], key_pem: &[u8]) -> Self {
        match crate::reference::parse_registry(registry) {
            Ok(r) => {
                self.config.client_certs.insert(
                    r,
                    crate::config::ClientCertPem {
                        cert: cert_pem.to_vec(),
                        key: key_pem.to_vec(),
                    },
                );
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// Whether servers' certificates are verified. `false` accepts any certificate from any
    /// registry (expired, self-signed, another host's): use it only for a throwaway test
    /// registry, never where credentials or content matter. Listing a registry as insecure
    /// does not switch verification off; it allows plain HTTP when the registry does not
    /// speak TLS. Default: `true`.
    pub fn tls_verify(mut self, verify: bool) -> Self {
        self.config.tls_verify = verify;
        self
    }

    /// Sends every request, `https://` and `http://`, through this proxy instead of the ones
    /// `HTTPS_PROXY` / `HTTP_PROXY` name. `url` is `http://[user:password@]host[:port]` or
    /// `https://...` (TLS to the proxy); without a scheme it is `http://`. Credentials are sent
    /// as `Proxy-Authorization` and never appear in errors or `Debug` output. SOCKS proxies are
    /// not supported (an error when the client is built). Loopback hosts and the no-proxy list
    /// ([`no_proxy`](Self::no_proxy), else `NO_PROXY`) are still reached directly.
    /// Default: none (the environment's, see [`proxy_from_env`](Self::proxy_from_env)).
    pub fn proxy(mut self, url: &str) -> Self {
        match crate::http::proxy::check(url) {
            Ok(()) => self.config.proxy.url = Some(url.trim().to_string()),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Hosts reached without a proxy, replacing `NO_PROXY`: a comma-separated list of `*`
    /// (every host), domains (`corp.example` matches it and its subdomains, `.corp.example`
    /// and `*.corp.example` its subdomains only), IP addresses and CIDR ranges
    /// (`10.0.0.0/8`), each optionally with `:port`. Entries that do not parse are ignored, as
    /// Go and curl do; an empty list bypasses nothing. Loopback (`localhost`, `127.0.0.0/8`,
    /// `::1`) is never proxied whatever the list says. Default: `NO_PROXY` (or `no_proxy`)
    /// from the environment when [`proxy_from_env`](Self::proxy_from_env) is on, else none.
    pub fn no_proxy(mut self, list: &str) -> Self {
        self.config.proxy.no_proxy = Some(list.to_string());
        self
    }

    /// Whether the proxy environment variables are read when the client is built, by the rules
    /// of Go's `net/http`: `HTTPS_PROXY` for `https://` URLs, `HTTP_PROXY` for `http://` URLs
    /// (each upper case first, then lower case; `ALL_PROXY` is not read), `NO_PROXY`; in a CGI
    /// program (`REQUEST_METHOD` set) a request `HTTP_PROXY` would carry fails instead. A
    /// variable naming a proxy that cannot be used (SOCKS, not a URL) fails the requests it
    /// would carry, never sends them around it. `false`: no variable is read. Default: `true`.
    pub fn proxy_from_env(mut self, read: bool) -> Self {
        self.config.proxy.from_env = read;
        self
    }

    /// Reads the proxy environment variables (see [`proxy_from_env`](Self::proxy_from_env))
    /// through `lookup` instead of the process environment: it is given a name such as
    /// `"HTTPS_PROXY"` and returns its value, or `None` when unset. It is called only while
    /// the client is built. Useful for tests and for programs that keep settings elsewhere.
    /// Default: the process environment.
    pub fn proxy_env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.config.proxy.env = Some(std::sync::Arc::new(lookup));
        self
    }

    /// Most requests awaiting an answer at once from one registry host, 1 to 64: the width of
    /// the client's fan-outs ([`Client::get_digests`], [`Client::list_instances`],
    /// [`Client::copy_image`], [`Client::copy_all_tags`]) and a limit every request of the
    /// client and of its clones obeys, from any number of threads. A request counts from
    /// sending until its answer's headers arrive (an upload, while its body is sent); bodies
    /// read after that do not count, so open connections may exceed it while downloads run.
    /// A metadata request waits for a slot at most the request timeout (30 s by default), a
    /// transfer as long as its call allows; a request sent from an upload's own reader or
    /// progress callback, on that thread, does not wait. The connection pool keeps as many
    /// idle connections per host. Against a distant registry bulk operations run about this
    /// many times faster than one request at a time. Default: 16 (measured: see
    /// BENCHMARKS.md).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        if (1..=MAX_CONCURRENCY).contains(&n) {
            self.config.max_concurrency = n;
        } else {
            self.fail(Error::InvalidInput(format!(
                "max_concurrency {n} is outside 1..={MAX_CONCURRENCY}"
            )));
        }
        self
    }

    /// Builds the client; fails with [`Error::InvalidInput`] when an option given earlier was
    /// invalid (the first one is reported).
    pub fn build(self) -> Result<Client> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Client::from_parts(self.config, self.auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(ClientBuilder::new().max_manifest_size(0).build().is_err());
        assert!(ClientBuilder::new().max_concurrency(0).build().is_err());
        assert!(ClientBuilder::new().max_concurrency(65).build().is_err());
        assert!(ClientBuilder::new().max_concurrency(64).build().is_ok());
        assert!(
            ClientBuilder::new()
                .stall_timeout(Duration::ZERO)
                .build()
                .is_err()
        );
    }

    #[test]
    fn a_user_agent_with_control_characters_is_invalid_input() {
        for ua in ["bad\r\nX-Injected: 1", "bell\u{7}", "nul\0"] {
            let e = ClientBuilder::new().user_agent(ua).build().unwrap_err();
            assert!(matches!(e, Error::InvalidInput(_)), "{ua:?}: {e}");
        }
        assert!(
            ClientBuilder::new()
                .user_agent("tool/1.0 (x)")
                .build()
                .is_ok()
        );
    }
}

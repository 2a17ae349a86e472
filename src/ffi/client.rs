//! The client handle, its options, and the manifest, config and listing operations.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ffi::c_char;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::boundary::{self, FfiResult, call};
use super::error::FfiError;
use super::status::dockreg_status;
use crate::DockerConfigSource;
use crate::auth::Credentials;
use crate::client::Client;
use crate::config::MAX_PAGE_SIZE;
use crate::error::Error;
use crate::image_config::{SkipReason, Skipped};
use crate::platform::Platform;

/// A registry client: connection pool, options, credentials and token cache.
///
/// Create it with `dockreg_client_new`, free it with `dockreg_client_free`.
///
/// Threads: one client may be used by any number of threads at once (they share its
/// connections and tokens); only `dockreg_client_free` must not run while another call uses it.
///
/// Methods: `dockreg_client_get_manifest`, `dockreg_client_get_raw_manifest`,
/// `dockreg_client_head_manifest`, `dockreg_client_get_digest`, `dockreg_client_get_config`,
/// `dockreg_client_get_digests`, `dockreg_client_get_image_config`, `dockreg_client_list_tags`,
/// `dockreg_client_list_repositories`, `dockreg_client_list_instances`,
/// `dockreg_client_set_tag`, `dockreg_client_put_manifest`, `dockreg_client_delete_manifest`,
/// `dockreg_client_delete_tag`, `dockreg_client_list_platforms`, `dockreg_client_copy_image`,
/// `dockreg_client_list_referrers`, `dockreg_client_push_referrer`,
/// `dockreg_client_head_blob`, `dockreg_client_get_blob`, `dockreg_client_get_blob_to_file`,
/// `dockreg_client_push_blob`, `dockreg_client_push_blob_from_file`,
/// `dockreg_client_mount_blob`, `dockreg_client_delete_blob`.
#[allow(non_camel_case_types)]
pub struct dockreg_client {
    pub(crate) client: Client,
    /// A deadline of each call, counted from its start (`dockreg_client_with_timeout`).
    pub(crate) per_call_timeout: Option<Duration>,
    /// The deadline `client` already carries (`dockreg_client_with_cancel`), which a per-call
    /// deadline never extends.
    pub(crate) deadline: Option<Instant>,
}

impl dockreg_client {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            per_call_timeout: None,
            deadline: None,
        }
    }

    /// The client one call runs with: this handle's, plus a deadline from now when the handle
    /// gives each call one.
    pub(crate) fn for_call(&self) -> Cow<'_, Client> {
        match self.per_call_timeout {
            None => Cow::Borrowed(&self.client),
            Some(t) => {
                let now = Instant::now();
                let mine = now
                    .checked_add(t)
                    .unwrap_or(now + Duration::from_secs(86_400 * 365));
                let deadline = self.deadline.map_or(mine, |d| d.min(mine));
                Cow::Owned(self.client.with_deadline(deadline))
            }
        }
    }
}

/// The options JSON of `dockreg_client_new`; mirrors [`crate::ClientBuilder`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default)]
    insecure_registries: Vec<String>,
    #[serde(default)]
    credentials: BTreeMap<String, CredentialOptions>,
    /// Absent: default files; `null`: none; `"default"`; or a path.
    #[serde(default, deserialize_with = "present")]
    docker_config: Option<Option<String>>,
    /// Absent: Application Default Credentials; `null`: none; `"default"`; or a key file.
    #[serde(default, deserialize_with = "present")]
    google_credentials: Option<Option<String>>,
    #[serde(default)]
    google_registries: Vec<String>,
    /// `null` (no limit) is refused: a connect is always bounded.
    #[serde(default, deserialize_with = "present")]
    connect_timeout_ms: Option<Option<u64>>,
    /// Absent: the default; `null`: no deadline (the stall timeout still applies).
    #[serde(default, deserialize_with = "present")]
    request_timeout_ms: Option<Option<u64>>,
    /// `null` (no limit) is refused: every request is bounded by it.
    #[serde(default, deserialize_with = "present")]
    stall_timeout_ms: Option<Option<u64>>,
    /// Before 0.2: the per-read timeout. Now an alias of `stall_timeout_ms`; `null` (no limit)
    /// is refused, since every request is bounded.
    #[serde(default, deserialize_with = "present")]
    read_timeout_ms: Option<Option<u64>>,
    #[serde(default)]
    retry: Option<RetryOptions>,
    #[serde(default)]
    max_page_bytes: Option<u64>,
    #[serde(default)]
    max_listing_entries: Option<u64>,
    #[serde(default)]
    max_index_depth: Option<u64>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    ca_certificates_pem_path: Option<String>,
    /// A directory, or a list of them, replacing the default certs.d directories.
    #[serde(default)]
    cert_dir: Option<OneOrMany>,
    #[serde(default)]
    client_certificates: BTreeMap<String, ClientCertificateOptions>,
    #[serde(default)]
    tls_verify: Option<bool>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    max_manifest_size: Option<u64>,
    /// A proxy for every request; absent or null: the environment's.
    #[serde(default)]
    proxy: Option<String>,
    #[serde(default)]
    no_proxy: Option<NoProxyOption>,
    #[serde(default)]
    proxy_from_env: Option<bool>,
    #[serde(default)]
    max_concurrency: Option<u64>,
}

/// `no_proxy`: one string in `NO_PROXY` syntax, or its entries as an array.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "no_proxy must be a string or an array of strings"
)]
enum NoProxyOption {
    List(String),
    Entries(Vec<String>),
}

/// The `retry` object of the options JSON; mirrors [`crate::RetryPolicy`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RetryOptions {
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    initial_backoff_ms: Option<u64>,
    #[serde(default)]
    max_backoff_ms: Option<u64>,
    #[serde(default)]
    max_total_wait_ms: Option<u64>,
    #[serde(default)]
    max_retry_after_ms: Option<u64>,
}

impl RetryOptions {
    fn policy(&self) -> Result<crate::RetryPolicy, FfiError> {
        let mut p = crate::RetryPolicy::default();
        if let Some(n) = self.max_attempts {
            if !(1..=crate::MAX_ATTEMPTS).contains(&n) {
                return Err(option_error(
                    "retry.max_attempts",
                    format!("must be within 1..={}", crate::MAX_ATTEMPTS),
                ));
            }
            p = p.max_attempts(n);
        }
        if let Some(ms) = self.initial_backoff_ms {
            p = p.initial_backoff(Duration::from_millis(ms));
        }
        if let Some(ms) = self.max_backoff_ms {
            p = p.max_backoff(Duration::from_millis(ms));
        }
        if let Some(ms) = self.max_total_wait_ms {
            p = p.max_total_wait(Duration::from_millis(ms));
        }
        if let Some(ms) = self.max_retry_after_ms {
            p = p.max_retry_after(Duration::from_millis(ms));
        }
        Ok(p)
    }
}

/// A string, or a list of strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// One entry of `client_certificates`: PEM files of a chain and its key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientCertificateOptions {
    cert_pem_path: String,
    key_pem_path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialOptions {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identity_token: Option<String>,
    #[serde(default)]
    bearer_token: Option<String>,
}

/// Tells a key given as `null` (`Some(None)`) from an absent one (`None`, by `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn option_error(key: &str, why: impl std::fmt::Display) -> FfiError {
    FfiError::Option(format!("{key}: {why}"))
}

/// The one rule for `null` in the `*_timeout_ms` keys: it means "no limit", which only
/// `request_timeout_ms` accepts (its requests stay bounded by the stall timeout).
fn no_limit_refused(key: &str) -> FfiError {
    option_error(
        key,
        "null (no limit) is not allowed: this timeout keeps a dead registry from blocking a \
         call forever; leave the key out for the default, or give milliseconds",
    )
}

fn millis(key: &str, ms: u64) -> Result<Duration, FfiError> {
    if ms == 0 {
        return Err(option_error(
            key,
            "must be at least 1 (use null for no limit where allowed)",
        ));
    }
    Ok(Duration::from_millis(ms))
}

impl Options {
    fn build(self) -> Result<Client, FfiError> {
        let mut b = Client::builder();
        for r in &self.insecure_registries {
            crate::reference::parse_registry(r)
                .map_err(|e| option_error("insecure_registries", e))?;
            b = b.insecure_registry(r);
        }
        for (registry, c) in &self.credentials {
            let key = format!("credentials.{registry}");
            crate::reference::parse_registry(registry).map_err(|e| option_error(&key, e))?;
            let creds = match c {
                CredentialOptions {
                    username: Some(u),
                    password: Some(p),
                    identity_token: None,
                    bearer_token: None,
                } => Credentials::basic(u, p),
                CredentialOptions {
                    username: None,
                    password: None,
                    identity_token: Some(t),
                    bearer_token: None,
                } => Credentials::identity_token(t),
                CredentialOptions {
                    username: None,
                    password: None,
                    identity_token: None,
                    bearer_token: Some(t),
                } => Credentials::bearer(t),
                _ => {
                    return Err(option_error(
                        &key,
                        "give exactly one of {\"username\",\"password\"}, {\"identity_token\"} \
                         or {\"bearer_token\"}",
                    ));
                }
            };
            b = b.credentials(registry, creds);
        }
        match self.docker_config {
            None => {}
            Some(None) => b = b.docker_config(DockerConfigSource::None),
            Some(Some(s)) if s == "default" => b = b.docker_config(DockerConfigSource::Default),
            Some(Some(s)) if s.is_empty() => {
                return Err(option_error("docker_config", "empty path"));
            }
            Some(Some(s)) => b = b.docker_config(DockerConfigSource::Path(s.into())),
        }
        match self.google_credentials {
            None => {}
            Some(None) => b = b.google_credentials(crate::GoogleCredentialsSource::None),
            Some(Some(s)) if s == "default" => {
                b = b.google_credentials(crate::GoogleCredentialsSource::Default);
            }
            Some(Some(s)) if s.is_empty() => {
                return Err(option_error("google_credentials", "empty path"));
            }
            Some(Some(s)) => {
                b = b.google_credentials(crate::GoogleCredentialsSource::File(s.into()))
            }
        }
        for r in &self.google_registries {
            crate::reference::parse_registry(r)
                .map_err(|e| option_error("google_registries", e))?;
            b = b.google_registry(r);
        }
        match self.connect_timeout_ms {
            None => {}
            Some(None) => return Err(no_limit_refused("connect_timeout_ms")),
            Some(Some(ms)) => b = b.connect_timeout(millis("connect_timeout_ms", ms)?),
        }
        match self.request_timeout_ms {
            None => {}
            Some(None) => b = b.request_timeout(None),
            Some(Some(ms)) => b = b.request_timeout(Some(millis("request_timeout_ms", ms)?)),
        }
        match (self.stall_timeout_ms, self.read_timeout_ms) {
            (Some(_), Some(_)) => {
                return Err(option_error(
                    "read_timeout_ms",
                    "is the old name of stall_timeout_ms: give one of them",
                ));
            }
            (Some(Some(ms)), None) => b = b.stall_timeout(millis("stall_timeout_ms", ms)?),
            (Some(None), None) => return Err(no_limit_refused("stall_timeout_ms")),
            (None, Some(Some(ms))) => b = b.stall_timeout(millis("read_timeout_ms", ms)?),
            (None, Some(None)) => {
                return Err(no_limit_refused(
                    "read_timeout_ms (the old name of stall_timeout_ms)",
                ));
            }
            (None, None) => {}
        }
        if let Some(r) = &self.retry {
            b = b.retry(r.policy()?);
        }
        let at_least_one = |key: &str, n: u64| {
            if n == 0 {
                Err(option_error(key, "must be at least 1"))
            } else {
                Ok(n)
            }
        };
        if let Some(n) = self.max_page_bytes {
            b = b.max_page_bytes(at_least_one("max_page_bytes", n)?);
        }
        if let Some(n) = self.max_listing_entries {
            let n = at_least_one("max_listing_entries", n)?;
            b = b.max_listing_entries(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if let Some(n) = self.max_index_depth {
            let n = at_least_one("max_index_depth", n)?;
            b = b.max_index_depth(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if let Some(p) = &self.platform {
            let p: Platform = p.parse().map_err(|e| option_error("platform", e))?;
            b = b.platform(p);
        }
        if let Some(path) = &self.ca_certificates_pem_path {
            let pem = std::fs::read(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            b = b.add_root_certificates_pem(&pem);
        }
        match &self.cert_dir {
            None => {}
            Some(OneOrMany::One(d)) if d.is_empty() => {
                return Err(option_error("cert_dir", "empty path"));
            }
            Some(OneOrMany::One(d)) => b = b.cert_dir(d),
            Some(OneOrMany::Many(dirs)) => {
                for d in dirs {
                    if d.is_empty() {
                        return Err(option_error("cert_dir", "empty path"));
                    }
                    b = b.cert_dir(d);
                }
            }
        }
        for (registry, c) in &self.client_certificates {
            let key = format!("client_certificates.{registry}");
            crate::reference::parse_registry(registry).map_err(|e| option_error(&key, e))?;
            let read = |path: &String| {
                std::fs::read(path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })
            };
            let cert = read(&c.cert_pem_path)?;
            let pem_key = read(&c.key_pem_path)?;
            b = b.client_certificate(registry, &cert, &pem_key);
        }
        if let Some(v) = self.tls_verify {
            b = b.tls_verify(v);
        }
        if let Some(ua) = &self.user_agent {
            if ua.is_empty() || ua.chars().any(char::is_control) {
                return Err(option_error(
                    "user_agent",
                    "must be non-empty, without control characters",
                ));
            }
            b = b.user_agent(ua);
        }
        if let Some(n) = self.page_size {
            if !(1..=MAX_PAGE_SIZE).contains(&n) {
                return Err(option_error(
                    "page_size",
                    format!("{n} is outside 1..={MAX_PAGE_SIZE}"),
                ));
            }
            b = b.page_size(n);
        }
        if let Some(n) = self.max_manifest_size {
            b = b.max_manifest_size(at_least_one("max_manifest_size", n)?);
        }
        if let Some(url) = &self.proxy {
            crate::http::proxy::check(url).map_err(|e| match e {
                Error::InvalidInput(m) => option_error("proxy", m),
                e => FfiError::Lib(e),
            })?;
            b = b.proxy(url);
        }
        match &self.no_proxy {
            None => {}
            Some(NoProxyOption::List(list)) => b = b.no_proxy(list),
            Some(NoProxyOption::Entries(entries)) => b = b.no_proxy(&entries.join(",")),
        }
        if let Some(read) = self.proxy_from_env {
            b = b.proxy_from_env(read);
        }
        if let Some(n) = self.max_concurrency {
            let max = crate::config::MAX_CONCURRENCY;
            match usize::try_from(n) {
                Ok(n) if (1..=max).contains(&n) => b = b.max_concurrency(n),
                _ => {
                    return Err(option_error(
                        "max_concurrency",
                        format!("{n} is outside 1..={max}"),
                    ));
                }
            }
        }
        // What is left to fail here is the content of the CA and client certificate files.
        b.build().map_err(|e| match e {
            Error::InvalidInput(msg) if msg.contains("client certificate") => {
                option_error("client_certificates", msg)
            }
            Error::InvalidInput(msg) => option_error("ca_certificates_pem_path", msg),
            e => FfiError::Lib(e),
        })
    }
}

/// Creates a client.
///
/// - `options_json`: NULL or `"{}"` for the defaults, or a JSON object with any of these keys
///   (any other key is an error that names it):
///   ```json
///   {
///     "insecure_registries": ["registry.lan:5000"], // plain HTTP allowed when they do not
///                                                   // speak TLS (HTTPS is tried first, once);
///                                                   // loopback registries likewise
///     "credentials": {                              // per registry host[:port]
///       "registry.lan:5000": {"username": "u", "password": "p"},
///       "ghcr.io": {"bearer_token": "..."},         // sent as is
///       "example.com": {"identity_token": "..."}    // OAuth2 refresh token
///     },
///     "docker_config": "default",  // "default" ($DOCKER_CONFIG, ~/.docker/config.json, podman),
///                                  // a config.json path, or null for no credential files
///     "google_credentials": "default", // for gcr.io, *.gcr.io, *.pkg.dev and google_registries
///                                  // when nothing above applies: "default" (Application
///                                  // Default Credentials: GOOGLE_APPLICATION_CREDENTIALS,
///                                  // gcloud's file, the metadata server), a service_account
///                                  // or authorized_user key file path, or null for none
///     "google_registries": ["registry.lan:5000"], // also get Google credentials
///     "connect_timeout_ms": 15000, // TCP + TLS; default 15 s
///     "request_timeout_ms": 30000, // one attempt of a metadata request (manifests, tags,
///                                  // tokens, HEADs), body included; null: none. Default 30 s
///     "stall_timeout_ms": 60000,   // longest time without a byte read or written; bounds
///                                  // blob transfers of any size. Default 60 s
///     "retry": {                   // every key optional; defaults shown
///       "max_attempts": 4,         // 1 (no retries) to 20
///       "initial_backoff_ms": 250, "max_backoff_ms": 8000,
///       "max_total_wait_ms": 30000, "max_retry_after_ms": 30000
///     },
///     "max_page_bytes": 4194304,   // one listing page; default 4 MiB
///     "max_listing_entries": 1000000, // one listing, all pages; default 1,000,000
///     "max_index_depth": 4,        // indexes nested in indexes; default 4
///     "platform": "linux/arm64",   // picked from indexes; default "linux/amd64"
///     "ca_certificates_pem_path": "/etc/ssl/extra.pem", // CAs trusted in addition to the
///                                  // system's (or, without any, Mozilla's bundled) roots
///     "cert_dir": "/etc/myapp/certs.d", // or a list; replaces the default certs.d directories
///                                  // (/etc/containers/certs.d, /etc/docker/certs.d,
///                                  // ~/.config/containers/certs.d): <dir>/<host[:port]>/ holds
///                                  // *.crt CAs and <name>.cert + <name>.key client pairs
///     "client_certificates": {     // mutual TLS, per registry host[:port]; wins over certs.d
///       "registry.lan:5000": {"cert_pem_path": "/etc/myapp/client.pem",
///                             "key_pem_path": "/etc/myapp/client.key"}
///     },
///     "tls_verify": true,          // false accepts any server certificate (test registries
///                                  // only); "insecure_registries" never implies it
///     "user_agent": "mytool/1.0",  // default "dockreg/<version>"
///     "page_size": 100,            // entries per listing page, 1 to 1000; default 100
///     "max_manifest_size": 4194304, // bytes, at least 1; default 4 MiB
///     "proxy": "http://user:pass@proxy.corp:3128", // every request (http and https) through
///                                  // it, instead of HTTPS_PROXY / HTTP_PROXY; http:// or
///                                  // https://, no scheme means http://, SOCKS is refused.
///                                  // Credentials never appear in errors. Default: null
///     "no_proxy": "registry.lan,.corp.example,10.0.0.0/8", // or an array of entries: hosts
///                                  // reached directly, instead of NO_PROXY (`*`, domains,
///                                  // .subdomains, IPs, CIDR, each with an optional :port).
///                                  // Loopback is never proxied. Default: NO_PROXY
///     "proxy_from_env": true,      // read HTTPS_PROXY (https URLs), HTTP_PROXY (http URLs)
///                                  // and NO_PROXY, upper case first, as Go does; false: no
///                                  // proxy unless "proxy" is given. Default: true
///     "max_concurrency": 16        // requests in flight per registry host, 1 to 64, from all
///                                  // threads using the client; also the width of bulk calls
///                                  // (get_digests, list_instances, copies). Default 16
///   }
///   ```
///   An absent key means the default (`null` means what each key says above). In the
///   `*_timeout_ms` keys `null` means "no limit": only `request_timeout_ms` accepts it (its
///   requests stay bounded by `stall_timeout_ms`); `connect_timeout_ms`, `stall_timeout_ms`
///   and `read_timeout_ms` refuse it with `DOCKREG_ERR_INVALID_OPTION`.
///   Changed in 0.2: `read_timeout_ms` is the old name of `stall_timeout_ms` (still accepted);
///   its `null` ("no limit") is refused, since every request is now bounded; so is
///   `connect_timeout_ms: null`, which 0.1 took as the default. An option error names the key
///   and the expected type, never the value given (it may be a password).
/// - `out`: must not be NULL; on success receives the new client, which the caller frees with
///   `dockreg_client_free`.
///
/// No network access happens here. Errors: `DOCKREG_ERR_NULL_ARGUMENT` (out),
/// `DOCKREG_ERR_INVALID_UTF8`, `DOCKREG_ERR_INVALID_JSON` (not JSON),
/// `DOCKREG_ERR_INVALID_OPTION` (unknown key, wrong type, bad value),
/// `DOCKREG_ERR_FILE_IO` (a CA or client certificate file cannot be read). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_new(
    options_json: *const c_char,
    out: *mut *mut dockreg_client,
) -> dockreg_status {
    call("dockreg_client_new", || {
        // SAFETY: the caller passes NULL or a string, and NULL or a writable pointer, as
        // documented; NULL options mean the defaults and a NULL `out` is rejected.
        let (options, out) = unsafe {
            let options = if options_json.is_null() {
                None
            } else {
                Some(boundary::str_arg(options_json, "options_json")?)
            };
            (options, boundary::out_arg(out, "out")?)
        };
        let options: Options = boundary::options_arg(options, "options_json")?;
        let client = options.build()?;
        out.put(Box::into_raw(Box::new(dockreg_client::new(client))));
        Ok(())
    })
}

/// Frees a client. NULL is ignored.
///
/// No other call may be using the client, and it must not be used afterwards. Calls that
/// returned strings do not depend on the client: free those with `dockreg_string_free`, before
/// or after. Does not touch the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_free(client: *mut dockreg_client) {
    if client.is_null() {
        return;
    }
    // SAFETY: by this function's contract `client` came from dockreg_client_new (which made it
    // with Box::into_raw), is not in use, and is freed only once.
    let client = unsafe { Box::from_raw(client) };
    // Dropping closes pooled connections; nothing in it should panic, but C must not unwind.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(client)));
}

/// Checks the arguments every client operation has: the client, one string, the JSON out-param.
///
/// # Safety
/// As documented on the exports: `client` NULL or live, `arg` NULL or a C string, `out_json`
/// NULL or writable; all for the duration of the call.
unsafe fn common<'a>(
    client: *const dockreg_client,
    arg: *const c_char,
    arg_name: &'static str,
    out_json: *mut *mut c_char,
) -> FfiResult<(Cow<'a, Client>, &'a str, boundary::Out<'a, c_char>)> {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        Ok((
            boundary::client_arg(client)?,
            boundary::str_arg(arg, arg_name)?,
            boundary::out_arg(out_json, "out_json")?,
        ))
    }
}

/// Fetches the image manifest `image` names. When the reference names an index (or Docker
/// manifest list), the entry for the client's platform is fetched and returned.
///
/// - `client`: must not be NULL.
/// - `image`: an image reference such as `"registry:5000/app:1.0"` or `"app@sha256:..."`;
///   must not be NULL.
/// - `out_json`: must not be NULL; on success receives, for `dockreg_string_free`:
///   ```json
///   {
///     "digest": "sha256:...",     // of this image manifest (the platform's, from an index)
///     "mediaType": "application/vnd.oci.image.manifest.v1+json",
///     "indexDigest": "sha256:...", // the index it was picked from, or null
///     "size": 1234,               // bytes of the manifest
///     "manifest": {...}           // the manifest document as received, byte for byte
///   }
///   ```
///
/// Errors: misuse (1-4), `DOCKREG_ERR_INVALID_REFERENCE`, transport (20-24), auth (30-32),
/// `DOCKREG_ERR_NOT_FOUND`, `DOCKREG_ERR_PLATFORM_NOT_FOUND`, other registry (41-44),
/// `DOCKREG_ERR_DIGEST_MISMATCH`, `DOCKREG_ERR_TOO_LARGE`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_manifest(
    client: *const dockreg_client,
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_get_manifest", || {
        // SAFETY: pointers as documented above.
        let (client, image, out) = unsafe { common(client, image, "image", out_json)? };
        let image = boundary::reference_arg(image)?;
        let m = client.get_manifest(&image)?;
        let fields = json!({
            "digest": m.digest,
            "mediaType": m.media_type,
            "indexDigest": m.index_digest,
            "size": m.bytes.len(),
        });
        out.put_text(boundary::with_document(
            fields,
            "manifest",
            &m.bytes,
            &image.to_string(),
        )?);
        Ok(())
    })
}

/// Fetches the manifest `image` names exactly as the registry serves it: an index stays an
/// index. Its digest is checked against the reference's digest and `Docker-Content-Digest`.
///
/// Arguments as `dockreg_client_get_manifest`. On success `out_json` receives:
/// `{"digest": "sha256:...", "mediaType": "...", "size": 1234, "manifest": {...}}`
/// with the document embedded byte for byte as received.
///
/// Errors as `dockreg_client_get_manifest`, except `DOCKREG_ERR_PLATFORM_NOT_FOUND`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_raw_manifest(
    client: *const dockreg_client,
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_get_raw_manifest", || {
        // SAFETY: pointers as documented on dockreg_client_get_manifest.
        let (client, image, out) = unsafe { common(client, image, "image", out_json)? };
        let image = boundary::reference_arg(image)?;
        let raw = client.get_raw_manifest(&image)?;
        let fields = json!({
            "digest": raw.digest,
            "mediaType": raw.media_type,
            "size": raw.bytes.len(),
        });
        out.put_text(boundary::with_document(
            fields,
            "manifest",
            &raw.bytes,
            &image.to_string(),
        )?);
        Ok(())
    })
}

/// HEAD of the manifest `image` names: what the registry says without sending the body.
///
/// Arguments as `dockreg_client_get_manifest`. On success `out_json` receives
/// `{"digest": "sha256:...", "mediaType": "...", "size": 1234}`, each null when the registry
/// did not send the header. A HEAD answer has no body, so a 404 carries no registry error
/// codes. Errors as `dockreg_client_get_manifest`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_head_manifest(
    client: *const dockreg_client,
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_head_manifest", || {
        // SAFETY: pointers as documented on dockreg_client_get_manifest.
        let (client, image, out) = unsafe { common(client, image, "image", out_json)? };
        let head = client.head_manifest_found(&boundary::reference_arg(image)?)?;
        out.put_json(&json!({
            "digest": head.digest,
            "mediaType": head.media_type,
            "size": head.size,
        }))
    })
}

/// The digest `image` points at; for an index, the index's own digest (as `docker` and
/// `skopeo inspect` report it). One HEAD request when the registry sends
/// `Docker-Content-Digest`.
///
/// Arguments as `dockreg_client_get_manifest`. On success `out_json` receives
/// `{"digest": "sha256:..."}`. Errors as `dockreg_client_get_manifest`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_digest(
    client: *const dockreg_client,
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_get_digest", || {
        // SAFETY: pointers as documented on dockreg_client_get_manifest.
        let (client, image, out) = unsafe { common(client, image, "image", out_json)? };
        let digest = client.get_digest(&boundary::reference_arg(image)?)?;
        out.put_json(&json!({ "digest": digest }))
    })
}

/// The image config blob `config_digest` of the repository `repository` names (its tag or
/// digest is ignored), verified against the digest.
///
/// - `client`, `repository`, `config_digest` (`"sha256:..."`), `out_json`: must not be NULL.
///
/// On success `out_json` receives the image config document exactly as stored (byte for
/// byte, every field kept, including those dockreg does not model such as `Healthcheck` or
/// `Shell`): an object with the OCI/Docker field names (`architecture`, `os`, `created` (RFC
/// 3339), `config` {`Env`, `Cmd`, `Entrypoint`, `Labels`, ...}, `rootfs`, `history`, ...). It is
/// checked to parse as an image config first. Configs over 16 MiB are `DOCKREG_ERR_TOO_LARGE`.
/// Errors as `dockreg_client_get_manifest`, plus `DOCKREG_ERR_INVALID_DIGEST`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_config(
    client: *const dockreg_client,
    repository: *const c_char,
    config_digest: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_get_config", || {
        // SAFETY: pointers as documented above.
        let (client, repository, out, digest) = unsafe {
            let (c, r, o) = common(client, repository, "repository", out_json)?;
            (c, r, o, boundary::str_arg(config_digest, "config_digest")?)
        };
        let repository = boundary::reference_arg(repository)?;
        let digest: crate::Digest = digest.parse()?;
        out.put_text(config_document(&client, &repository, &digest)?);
        Ok(())
    })
}

/// The config blob as it is stored, once checked to be an image config.
fn config_document(
    client: &Client,
    repository: &crate::Reference,
    digest: &crate::Digest,
) -> FfiResult<String> {
    let bytes = client.get_blob_bytes(repository, digest, super::bytes::MAX_CONFIG_SIZE)?;
    let bad = |why: String| {
        FfiError::Lib(Error::invalid_response(
            &format!("{}@{digest}", repository.name()),
            why,
        ))
    };
    serde_json::from_slice::<crate::ImageConfig>(&bytes)
        .map_err(|e| bad(format!("image config does not parse: {e}")))?;
    String::from_utf8(bytes).map_err(|e| bad(format!("image config is not UTF-8: {e}")))
}

/// The image config of the image `image` names, for the client's platform: the manifest
/// (resolved from an index), then its config blob.
///
/// Arguments as `dockreg_client_get_manifest`. On success `out_json` receives the image config
/// document byte for byte, as `dockreg_client_get_config` does. Errors as `dockreg_client_get_manifest`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_get_image_config(
    client: *const dockreg_client,
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_get_image_config", || {
        // SAFETY: pointers as documented on dockreg_client_get_manifest.
        let (client, image, out) = unsafe { common(client, image, "image", out_json)? };
        let image = boundary::reference_arg(image)?;
        let m = client.get_manifest(&image)?;
        out.put_text(config_document(&client, &image, &m.manifest.config.digest)?);
        Ok(())
    })
}

/// Every tag of the repository `repository` names (its tag or digest is ignored), in the
/// registry's order, all pages followed.
///
/// - `client`, `repository` (e.g. `"registry:5000/app"`), `out_json`: must not be NULL.
///
/// On success `out_json` receives `{"name": "registry:5000/app", "tags": ["1.0", "latest"]}`.
/// Errors as `dockreg_client_get_manifest`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_list_tags(
    client: *const dockreg_client,
    repository: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_list_tags", || {
        // SAFETY: pointers as documented above.
        let (client, repository, out) =
            unsafe { common(client, repository, "repository", out_json)? };
        let repository = boundary::reference_arg(repository)?;
        let tags = client.list_tags(&repository)?;
        out.put_json(&json!({ "name": repository.name(), "tags": tags }))
    })
}

/// Every repository of a registry (`_catalog`), all pages followed.
///
/// - `client`, `registry` (`"host[:port]"`, e.g. `"127.0.0.1:5000"`), `out_json`: must not be
///   NULL.
///
/// On success `out_json` receives `{"repositories": ["app", "team/tool"]}`. Errors as
/// `dockreg_client_get_manifest` (an invalid registry name is
/// `DOCKREG_ERR_INVALID_REFERENCE`). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_list_repositories(
    client: *const dockreg_client,
    registry: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_list_repositories", || {
        // SAFETY: pointers as documented above.
        let (client, registry, out) = unsafe { common(client, registry, "registry", out_json)? };
        let repositories = client.list_repositories(registry)?;
        out.put_json(&json!({ "repositories": repositories }))
    })
}

/// Every image of a repository with its tags, size and times, and the tags passed over. GCR
/// and Artifact Registry list these in one request; elsewhere they are built from the tags (a
/// HEAD per tag, then manifest and config per distinct digest).
///
/// - `client`, `repository` (its tag or digest is ignored), `out_json`: must not be NULL.
///
/// On success `out_json` receives, oldest first (unknown times first):
/// ```json
/// {"name": "registry:5000/app", "instances": [
///   {"digest": "sha256:...", "imageSizeBytes": 12345, "tags": ["1.0", "latest"],
///    "created": "2024-01-02T03:04:05Z", "uploaded": null}
///  ],
///  "skipped": [
///   {"tag": "chart", "digest": "sha256:...", "reason": "artifact",
///    "artifactType": "application/vnd.cncf.helm.config.v1+json", "message": "..."}
/// ]}
/// ```
/// Times are RFC 3339 strings, or null when unknown. One odd tag does not fail the call: it is
/// in `skipped`, in the registry's tag order, with `digest` (null when unknown), `message` (for
/// people) and `reason`: `"invalid_tag"` (the registry listed a name that is not a tag) and
/// `"error"` (gone since the listing, an ambiguous, unsupported, oversized or too deeply nested
/// manifest, a digest mismatch) are not in `instances`; `"artifact"` (a Helm chart, ORAS
/// artifact or signature, with its `artifactType`) and `"bad_config"` (an image config that
/// cannot be read) are, from their manifest alone (`created` null). Errors as
/// `dockreg_client_get_manifest`, for what would hit every tag (transport, auth, 5xx).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_list_instances(
    client: *const dockreg_client,
    repository: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_list_instances", || {
        // SAFETY: pointers as documented above.
        let (client, repository, out) =
            unsafe { common(client, repository, "repository", out_json)? };
        let repository = boundary::reference_arg(repository)?;
        let report = client.list_instances_report(&repository)?;
        let mut instances: Vec<_> = report.instances.into_values().collect();
        instances.sort();
        let skipped: Vec<_> = report.skipped.iter().map(skipped_json).collect();
        out.put_json(&json!({
            "name": repository.name(),
            "instances": instances,
            "skipped": skipped,
        }))
    })
}

/// A tag passed over by a whole-repository call, as the JSON of the C API shows it.
pub(super) fn skipped_json(s: &Skipped) -> serde_json::Value {
    let mut v = json!({
        "tag": s.tag,
        "digest": s.digest,
        "reason": s.reason.kind(),
        "message": s.reason.to_string(),
    });
    if let SkipReason::Artifact { artifact_type } = &s.reason {
        v["artifactType"] = json!(artifact_type);
    }
    v
}

/// Points the tag `new_tag` of the same repository at the manifest `image` names: the manifest
/// is uploaded again exactly as served (the registry needs push permission).
///
/// - `client`, `image`, `new_tag` (e.g. `"stable"`), `out_json`: must not be NULL.
///
/// On success `out_json` receives `{"image": "registry:5000/app:stable", "digest": "sha256:..."}`.
/// Errors as `dockreg_client_get_manifest` (a bad tag is `DOCKREG_ERR_INVALID_REFERENCE`).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_set_tag(
    client: *const dockreg_client,
    image: *const c_char,
    new_tag: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_set_tag", || {
        // SAFETY: pointers as documented above.
        let (client, image, out, new_tag) = unsafe {
            let (c, i, o) = common(client, image, "image", out_json)?;
            (c, i, o, boundary::str_arg(new_tag, "new_tag")?)
        };
        let image = boundary::reference_arg(image)?;
        let tagged = image.with_tag(new_tag)?;
        let digest = client.set_tag(&image, new_tag)?;
        out.put_json(&json!({ "image": tagged.to_string(), "digest": digest }))
    })
}

/// Uploads manifest bytes under `image`'s tag (or digest) with their media type. Every blob
/// and child manifest it references must already be in the repository.
///
/// - `client`, `image`, `media_type` (e.g. `"application/vnd.oci.image.manifest.v1+json"`),
///   `out_json`: must not be NULL.
/// - `manifest`, `manifest_len`: the exact bytes (their digest is the manifest's digest);
///   `manifest` must not be NULL.
///
/// On success `out_json` receives `{"image": "registry:5000/app:1.0", "digest": "sha256:..."}`.
/// Errors as `dockreg_client_get_manifest`, plus `DOCKREG_ERR_INVALID_ARGUMENT` (empty media
/// type) and `DOCKREG_ERR_DIGEST_MISMATCH` (bytes not matching the reference's digest).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_put_manifest(
    client: *const dockreg_client,
    image: *const c_char,
    manifest: *const u8,
    manifest_len: usize,
    media_type: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_put_manifest", || {
        // SAFETY: pointers as documented above; `manifest` is valid for `manifest_len` bytes.
        let (client, image, out, bytes, media_type) = unsafe {
            let (c, i, o) = common(client, image, "image", out_json)?;
            let bytes = boundary::buf_arg(manifest, manifest_len, "manifest")?;
            (c, i, o, bytes, boundary::str_arg(media_type, "media_type")?)
        };
        let image = boundary::reference_arg(image)?;
        let digest = client.put_manifest(&image, bytes, media_type)?;
        out.put_json(&json!({ "image": image.to_string(), "digest": digest }))
    })
}

//! One HTTP request over the ureq agent: timeouts, retries with backoff, redirects, cancellation,
//! and size-limited body reads. The only module that touches ureq.
//!
//! It knows nothing of registries or authentication: it sends what it is given, attaching an
//! `Authorization` only to the origin it belongs to, and returns the answer whatever its status.
//! `transport.rs` (registries and auth) and `auth/` (token servers) are built on it.

mod host_limit;
pub(crate) mod proxy;
pub(crate) mod scheme;
mod tls;
mod watch;

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::http;

use crate::cancel::{CallContext, CancelToken};
use crate::config::Config;
use crate::error::{Error, RegistryError, Result, TransportErrorKind, parse_error_body};
use crate::retry::{RetryPolicy, retryable_status};
use crate::url;

/// Redirects followed for one GET or HEAD before giving up.
const MAX_REDIRECTS: u32 = 10;
/// Bytes of an error body read to find the registry's error document.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Idle connections kept in all, per host in flight allowed: a copy between two registries
/// keeps both hosts' connections, a redirect to a blob store a third.
const IDLE_HOSTS: usize = 3;
/// Bytes of each connection's input and output buffers (ureq's default is 128 KiB each). Every
/// open connection holds both, so with 16 in flight this is most of a metadata workload's
/// memory; the input buffer grows when a response head needs more, and request heads are a few
/// KiB. Measured in BENCHMARKS.md.
const IO_BUFFER: usize = 32 * 1024;
/// How long an idle connection is kept for reuse.
const IDLE_AGE: Duration = Duration::from_secs(30);

/// HTTP methods the registry API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Put,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Methods whose repetition leaves the registry as one request would.
    pub(crate) fn idempotent(self) -> bool {
        matches!(self, Self::Get | Self::Head | Self::Put | Self::Delete)
    }
}

/// A request body.
pub(crate) enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// A stream of `len` bytes (chunked when `None`); it cannot be replayed.
    Stream(&'a mut dyn Read, Option<u64>),
}

impl Body<'_> {
    fn replayable(&self) -> bool {
        !matches!(self, Self::Stream(..))
    }
}

/// Which time limit applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Small answers (manifests, tags, tokens, HEADs): the whole request has a deadline.
    Metadata,
    /// Blob bodies of any size: no whole-request deadline, only the stall rule.
    Transfer,
}

/// One request as the HTTP layer sends it.
pub(crate) struct Outgoing<'a, 'b> {
    pub method: Method,
    pub url: &'a str,
    pub headers: &'a [(&'static str, String)],
    /// The origin (`scheme://host[:port]`) that `authorization` and any `Authorization` in
    /// `headers` belong to; no other origin (a redirect target) gets them.
    pub home: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub body: &'a mut Body<'b>,
    pub class: Class,
    /// May be sent again after the server answered (or may have answered): idempotent.
    pub replay: bool,
}

/// An answer whose body has not been read yet.
pub(crate) struct Response {
    pub status: u16,
    /// The URL that answered (after redirects).
    pub url: String,
    /// Attempts it took (1 when the first one was answered).
    pub attempts: u32,
    method: Method,
    headers: http::HeaderMap,
    body: ureq::Body,
    cancel: Option<CancelToken>,
}

impl Response {
    /// A header as text; `None` when absent or not valid text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    }

    /// All values of a header (e.g. several `Link` lines).
    pub(crate) fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// `Content-Length`, when sent.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }

    /// Reads the whole body, failing with [`Error::TooLarge`] past `limit` bytes.
    pub(crate) fn read_limited(mut self, limit: u64) -> Result<Vec<u8>> {
        self.read_body(limit)
    }

    /// [`Response::read_limited`] keeping the status and headers.
    pub(crate) fn read_body(&mut self, limit: u64) -> Result<Vec<u8>> {
        if self.content_length().is_some_and(|n| n > limit) {
            return Err(Error::TooLarge {
                url: url::without_query(&self.url).to_string(),
                limit,
            });
        }
        let call = CallContext {
            cancel: self.cancel.clone(),
            deadline: None,
        };
        let r = {
            let _watched = call.enter();
            self.body.with_config().limit(limit).read_to_vec()
        };
        r.map_err(|e| {
            if call.is_cancelled() {
                Error::Cancelled
            } else {
                map_ureq_error(self.method, &self.url, e, 1)
            }
        })
    }

    /// Parses the body as JSON of type `T`, reading at most `limit` bytes.
    pub(crate) fn read_json<T: serde::de::DeserializeOwned>(self, limit: u64) -> Result<T> {
        let url = self.url.clone();
        let bytes = self.read_limited(limit)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid_response(&url, format!("bad JSON: {e}")))
    }

    /// The body as a stream; read errors come out as `std::io::Error`, and a cancelled read as
    /// one that [`is_cancelled_io`] recognises.
    pub(crate) fn into_reader(self) -> impl Read + 'static {
        BodyReader {
            call: CallContext {
                cancel: self.cancel,
                deadline: None,
            },
            inner: self.body.into_reader(),
        }
    }

    /// Reads and drops what is left of a small body so the connection can be reused.
    pub(crate) fn drain(mut self) {
        let call = CallContext {
            cancel: self.cancel.clone(),
            deadline: None,
        };
        let _watched = call.enter();
        let _ = self
            .body
            .with_config()
            .limit(ERROR_BODY_LIMIT)
            .read_to_vec();
    }

    /// The typed error for this non-2xx answer, from its status, headers and (short) body.
    pub(crate) fn into_error(self) -> Error {
        let method = self.method;
        let retry_after = self.header("retry-after").and_then(parse_retry_after);
        let url = url::without_query(&self.url).to_string();
        let status = self.status;
        let attempts = self.attempts;
        let body = if method == Method::Head {
            Vec::new()
        } else {
            // The start of a body of any size: a huge error page still gives its snippet.
            let mut body = Vec::new();
            let _ = self
                .into_reader()
                .take(ERROR_BODY_LIMIT)
                .read_to_end(&mut body);
            body
        };
        let (errors, snippet) = parse_error_body(&body);
        Error::from_status(RegistryError {
            method: method.as_str().to_string(),
            url,
            status,
            errors,
            body: snippet,
            retry_after,
            attempts,
        })
    }
}

/// A body reader that keeps its call's cancel token in view of the socket layer.
struct BodyReader<R> {
    call: CallContext,
    inner: R,
}

impl<R: Read> Read for BodyReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.call.is_cancelled() {
            return Err(cancelled_io());
        }
        let _watched = self.call.enter();
        self.inner.read(buf).map_err(|e| {
            if self.call.is_cancelled() {
                cancelled_io()
            } else {
                e
            }
        })
    }
}

/// Marks an I/O error as a cancel, so the code reading a body can return `Error::Cancelled`.
#[derive(Debug)]
struct CancelledIo;

impl std::fmt::Display for CancelledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled by the caller")
    }
}

impl std::error::Error for CancelledIo {}

fn cancelled_io() -> std::io::Error {
    std::io::Error::other(CancelledIo)
}

/// True for the error a body reader returns once its call was cancelled.
pub(crate) fn is_cancelled_io(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<CancelledIo>())
}

/// Sends requests; one per client, shared by its clones.
pub(crate) struct Http {
    /// Plain HTTP; HTTPS goes through the agents of `tls`, one per TLS setting.
    agent: ureq::Agent,
    tls: tls::Tls,
    schemes: scheme::Schemes,
    /// The options agents are made with (TLS agents are made on first use).
    config: Config,
    retry: RetryPolicy,
    metadata_timeout: Option<Duration>,
    proxies: proxy::Rules,
    /// Requests in flight per host (`Config::max_concurrency`), shared by the client's clones.
    limits: host_limit::HostLimits,
}

impl Http {
    pub(crate) fn new(config: &Config) -> Result<Self> {
        check_header_value("user agent", &config.user_agent)?;
        let tls = tls::Tls::new(config)?;
        Ok(Self {
            agent: Self::agent(config, tls.plain_config()),
            tls,
            schemes: scheme::Schemes::default(),
            config: config.clone(),
            retry: config.retry.clone(),
            metadata_timeout: config.request_timeout,
            proxies: proxy::Rules::new(&config.proxy)?,
            limits: host_limit::HostLimits::new(config.max_concurrency),
        })
    }

    /// An agent with every option of `config` and this TLS configuration.
    fn agent(config: &Config, tls: ureq::tls::TlsConfig) -> ureq::Agent {
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(config.user_agent.as_str())
            .accept_encoding("identity")
            .input_buffer_size(IO_BUFFER)
            .output_buffer_size(IO_BUFFER)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_read(Some(config.stall_timeout))
            .timeout_per_write(Some(config.stall_timeout))
            .timeout_global(config.request_timeout)
            // As many idle connections per host as requests may be in flight to it, so a
            // fan-out reuses its connections from one round to the next.
            .max_idle_connections_per_host(config.max_concurrency)
            .max_idle_connections(config.max_concurrency * IDLE_HOSTS)
            .max_idle_age(IDLE_AGE)
            .tls_config(tls)
            // ureq's own environment reading is off: `proxy::Rules` decides, per request.
            .proxy(None)
            .build();
        use ureq::unversioned::transport::{Connector as _, DefaultConnector};
        let connector = DefaultConnector::new().chain(watch::Watch);
        ureq::Agent::with_parts(agent_config, connector, InlineResolver::default())
    }

    /// The scheme of a registry's API host (`host[:port]`): HTTPS, or plain HTTP when that is
    /// allowed (`plain_allowed`) and the host does not speak TLS (see [`scheme`]), or when it
    /// is allowed and the host is reached through a proxy (no direct probe then). The probe
    /// is bounded by the connect timeout and the call's deadline, and skipped once the call is
    /// cancelled (its first request then reports the cancel).
    pub(crate) fn scheme(
        &self,
        authority: &str,
        plain_allowed: bool,
        call: &CallContext,
    ) -> &'static str {
        if !plain_allowed {
            return "https";
        }
        // Decided already: no proxy lookup and no probe on every request.
        if let Some(s) = self.schemes.chosen(authority) {
            return s.as_str();
        }
        let limit = call.remaining().map_or(self.config.connect_timeout, |r| {
            r.min(self.config.connect_timeout)
        });
        if call.is_cancelled() || limit.is_zero() {
            return self.known_scheme(authority);
        }
        // The probe connects directly. A registry reached through a proxy cannot be probed
        // that way (its name may not even resolve here): one listed as insecure is then
        // spoken to in plain HTTP, as before the probe existed, and that is remembered so
        // that its origin (where credentials go) is the plain-HTTP one.
        let proxied = |scheme: &str| {
            !matches!(
                self.proxies.route(&format!("{scheme}://{authority}/")),
                proxy::Route::Direct
            )
        };
        if proxied("https") || proxied("http") {
            self.schemes.remember(authority, scheme::Scheme::Http);
            return "http";
        }
        self.schemes
            .scheme(
                authority,
                plain_allowed,
                self.tls.provider(),
                limit,
                &|| call.is_cancelled(),
            )
            .as_str()
    }

    /// The scheme already chosen for `authority`, without probing (HTTPS when none was).
    pub(crate) fn known_scheme(&self, authority: &str) -> &'static str {
        self.schemes.known_or_https(authority).as_str()
    }

    /// The agent for `target`: the plain one for `http`, the host's TLS agent for `https`.
    fn agent_for(&self, target: &str) -> Result<ureq::Agent> {
        match url::origin(target) {
            Some(o) if o.starts_with("https://") => {
                let authority = &o["https://".len()..];
                self.tls
                    .agent(authority, |tls| Self::agent(&self.config, tls))
            }
            _ => Ok(self.agent.clone()),
        }
    }

    /// Sends `out`, retrying as the policy allows and following redirects for GET and HEAD.
    /// Any status comes back as a [`Response`]; only failures without an answer are `Err`.
    pub(crate) fn exchange(&self, out: Outgoing<'_, '_>, call: &CallContext) -> Result<Response> {
        let Outgoing {
            method,
            url: first,
            headers,
            home,
            authorization,
            body,
            class,
            replay,
        } = out;
        let mut target = first.to_string();
        let mut redirects = 0;
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        loop {
            call.check(method.as_str(), &target)?;
            attempt += 1;
            let origin = url::origin(&target);
            let at_home = home.is_some_and(|h| origin.as_deref() == Some(h));
            let started = Instant::now();
            let result = {
                // Held until the answer's headers are in (see `host_limit`).
                let _permit = self.limits.acquire(
                    origin.as_deref().unwrap_or(&target),
                    call,
                    method.as_str(),
                    &target,
                    match class {
                        Class::Metadata => self.metadata_timeout,
                        Class::Transfer => None,
                    },
                )?;
                let _watched = call.enter();
                self.run(
                    method,
                    &target,
                    headers,
                    at_home.then_some(authorization).flatten(),
                    at_home,
                    body,
                    class,
                    call,
                )
            };
            let mut resp = match result {
                Ok(r) => r,
                Err(_) if call.is_cancelled() => return Err(Error::Cancelled),
                Err(_) if call.remaining().is_some_and(|r| r.is_zero()) => {
                    return Err(call.deadline_error(method.as_str(), &target));
                }
                Err(e) => {
                    // Nothing reached the server when the connection failed, so any method may
                    // go again; a broken connection may have delivered the request.
                    let safe = match &e {
                        Error::Transport { kind, .. } => match kind {
                            TransportErrorKind::Connect => true,
                            TransportErrorKind::Io => replay,
                            _ => false,
                        },
                        _ => false,
                    };
                    log_failure(method, &target, &e, started);
                    if safe && body.replayable() {
                        if let Some(w) = self.retry.next_wait(attempt, waited, None) {
                            log::debug!(
                                target: "dockreg::http",
                                "retrying {} {} in {} ms (attempt {} failed)",
                                method.as_str(),
                                url::without_query(&target),
                                w.as_millis(),
                                attempt
                            );
                            call.sleep(w, method.as_str(), &target)?;
                            waited += w;
                            continue;
                        }
                    }
                    return Err(e.with_attempts(attempt));
                }
            };
            resp.cancel.clone_from(&call.cancel);
            resp.attempts = attempt;
            log::debug!(
                target: "dockreg::http",
                "{} {} -> {} in {} ms{}",
                method.as_str(),
                url::without_query(&target),
                resp.status,
                started.elapsed().as_millis(),
                if attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                }
            );
            if retryable_status(resp.status) && replay && body.replayable() {
                let asked = resp.header("retry-after").and_then(parse_retry_after);
                if let Some(w) = self.retry.next_wait(attempt, waited, asked) {
                    log::debug!(
                        target: "dockreg::http",
                        "retrying {} {} in {} ms (status {})",
                        method.as_str(),
                        url::without_query(&target),
                        w.as_millis(),
                        resp.status
                    );
                    // Dropped unread: the connection closes instead of draining a slow body.
                    drop(resp);
                    call.sleep(w, method.as_str(), &target)?;
                    waited += w;
                    continue;
                }
            }
            let redirect = matches!(resp.status, 301 | 302 | 303 | 307 | 308)
                && matches!(method, Method::Get | Method::Head);
            if !redirect {
                return Ok(resp);
            }
            redirects += 1;
            let location = resp.header("location").map(str::to_string);
            resp.drain();
            let fail = |message: &str| Error::Transport {
                method: method.as_str().to_string(),
                url: url::without_query(&target).to_string(),
                kind: TransportErrorKind::Redirect,
                message: message.to_string(),
                attempts: 1,
            };
            let Some(location) = location else {
                return Err(fail("redirect without Location"));
            };
            if redirects > MAX_REDIRECTS {
                return Err(fail("too many redirects"));
            }
            let next = url::resolve(&target, &location)?;
            if scheme::is_downgrade(&target, &next, |a| self.config.plain_http_allowed(a)) {
                return Err(fail(&format!(
                    "refused a redirect from HTTPS to plain HTTP ({})",
                    url::without_query(&next)
                )));
            }
            log::debug!(
                target: "dockreg::http",
                "following a redirect to {}",
                url::without_query(&next)
            );
            target = next;
            // A new host: its own attempts and waits.
            attempt = 0;
            waited = Duration::ZERO;
        }
    }

    /// One attempt: one request on the wire.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        method: Method,
        target: &str,
        headers: &[(&'static str, String)],
        authorization: Option<&str>,
        at_home: bool,
        body: &mut Body<'_>,
        class: Class,
        call: &CallContext,
    ) -> Result<Response> {
        let via = match self.proxies.route(target) {
            proxy::Route::Direct => None,
            proxy::Route::Proxy(p) => Some(p),
            proxy::Route::Refused(why) => {
                return Err(Error::InvalidInput(format!(
                    "{} {}: {why}",
                    method.as_str(),
                    url::without_query(target)
                )));
            }
        };
        let mut builder = http::Request::builder().method(method.as_str()).uri(target);
        for (name, value) in headers {
            // An Authorization a caller put in the headers (token realm requests) stays home too.
            if !at_home && name.eq_ignore_ascii_case("authorization") {
                continue;
            }
            check_header_value(name, value)?;
            builder = builder.header(*name, value.as_str());
        }
        if let Some(a) = authorization {
            check_header_value("authorization", a)?;
            builder = builder.header("authorization", a);
        }
        if log::log_enabled!(target: "dockreg::http", log::Level::Trace) {
            log::trace!(
                target: "dockreg::http",
                "{} {} headers: {}{}",
                method.as_str(),
                url::without_query(target),
                header_names(headers, at_home),
                // Only the scheme word: the credentials after it are never logged.
                authorization
                    .and_then(|a| a.split(' ').next())
                    .map(|scheme| format!(", authorization: {scheme} <redacted>"))
                    .unwrap_or_default()
            );
        }
        // Metadata requests keep the agent's deadline unless the call's is nearer; transfers
        // drop it (the stall rule bounds them) unless the call has one.
        let deadline = match (class, call.remaining()) {
            (Class::Metadata, Some(r)) => Some(Some(self.metadata_timeout.map_or(r, |m| m.min(r)))),
            (Class::Metadata, None) => None,
            (Class::Transfer, r) => Some(r),
        };
        let invalid = |e: http::Error| {
            Error::InvalidInput(format!(
                "cannot build a request for {}: {e}",
                url::without_query(target)
            ))
        };
        let agent = self.agent_for(target)?;
        let result = match body {
            Body::Empty => agent.run(Self::configured(
                &agent,
                builder.body(()).map_err(invalid)?,
                deadline,
                via,
            )),
            Body::Bytes(bytes) => agent.run(Self::configured(
                &agent,
                builder.body(*bytes).map_err(invalid)?,
                deadline,
                via,
            )),
            Body::Stream(reader, len) => {
                if let Some(n) = len {
                    builder = builder.header("content-length", n.to_string());
                }
                let req = builder
                    .body(ureq::SendBody::from_reader(*reader))
                    .map_err(invalid)?;
                agent.run(Self::configured(&agent, req, deadline, via))
            }
        };
        let resp = result.map_err(|e| match via {
            Some(p) => p.map_error(method, target, e, 1),
            None => map_ureq_error(method, target, e, 1),
        })?;
        let (parts, body) = resp.into_parts();
        Ok(Response {
            status: parts.status.as_u16(),
            url: target.to_string(),
            attempts: 1,
            method,
            headers: parts.headers,
            body,
            cancel: None,
        })
    }
}

/// Name lookups on the calling thread. With a timeout, ureq's resolver runs each lookup on a
/// new thread that it abandons when the timeout passes; a C host would see threads it did not
/// start, still running after the call (and valgrind reports them). The system resolver has
/// its own bound (`timeout` and `attempts` in resolv.conf, 5 s and 2 by default), so the
/// lookup still ends.
#[derive(Debug, Default)]
struct InlineResolver(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for InlineResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let unbounded = ureq::unversioned::transport::NextTimeout {
            after: ureq::unversioned::transport::time::Duration::NotHappening,
            ..timeout
        };
        self.0.resolve(uri, config, unbounded)
    }
}

impl Http {
    /// `req` with its own whole-request deadline (`Some(None)`: none), or the agent's (`None`),
    /// and its proxy. ureq keys pooled connections by proxy, so a connection through a proxy
    /// is only reused for the same proxy and target. The request-level config is `agent`'s
    /// own, so its connections stay in that agent's pool.
    fn configured<S: ureq::AsSendBody>(
        agent: &ureq::Agent,
        req: http::Request<S>,
        deadline: Option<Option<Duration>>,
        via: Option<&proxy::Proxy>,
    ) -> http::Request<S> {
        if deadline.is_none() && via.is_none() {
            return req;
        }
        let mut c = agent.configure_request(req);
        if let Some(d) = deadline {
            c = c.timeout_global(d);
        }
        if let Some(p) = via {
            c = c.proxy(Some(p.ureq().clone()));
        }
        c.build()
    }
}

/// Refuses a header value HTTP does not allow (control characters), naming the header but
/// never showing the value: it may be a credential.
fn check_header_value(name: &str, value: &str) -> Result<()> {
    if http::HeaderValue::from_str(value).is_err() {
        return Err(Error::InvalidInput(format!(
            "the {name} header value has a character HTTP does not allow (a control character \
             or line break)"
        )));
    }
    Ok(())
}

fn map_ureq_error(method: Method, target: &str, e: ureq::Error, attempts: u32) -> Error {
    use ureq::Error as U;
    let kind = match &e {
        U::BodyExceedsLimit(limit) => {
            return Error::TooLarge {
                url: url::without_query(target).to_string(),
                limit: *limit,
            };
        }
        U::Timeout(_) => TransportErrorKind::Timeout,
        U::HostNotFound | U::ConnectionFailed => TransportErrorKind::Connect,
        U::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::HostUnreachable
            ) =>
        {
            TransportErrorKind::Connect
        }
        U::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        U::Tls(_) | U::Rustls(_) => TransportErrorKind::Tls,
        _ if tls::explain(&e, "").is_some() => TransportErrorKind::Tls,
        U::TooManyRedirects | U::RedirectFailed => TransportErrorKind::Redirect,
        _ => TransportErrorKind::Io,
    };
    Error::Transport {
        method: method.as_str().to_string(),
        url: url::without_query(target).to_string(),
        kind,
        message: match url::origin(target).and_then(|o| tls::explain(&e, authority_of(&o))) {
            Some((_, why)) => why,
            None => e.to_string(),
        },
        attempts,
    }
}

/// `host[:port]` of an origin.
/// The names of the headers a request carries, for trace logs (values may be secrets).
fn header_names(headers: &[(&'static str, String)], at_home: bool) -> String {
    let names: Vec<&str> = headers
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| at_home || !name.eq_ignore_ascii_case("authorization"))
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// A debug line for an attempt that got no answer. The error's text is ours: it names the
/// URL without its query (signed URLs carry credentials there) and never a header.
fn log_failure(method: Method, target: &str, e: &Error, started: Instant) {
    log::debug!(
        target: "dockreg::http",
        "{} {} failed after {} ms: {e}",
        method.as_str(),
        url::without_query(target),
        started.elapsed().as_millis()
    );
}

fn authority_of(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, a)| a)
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // HTTP dates (RFC 9110 IMF-fixdate) end in "GMT", which RFC 2822 parsers take only as a
    // numeric offset.
    let value = value.trim();
    let numeric = match value.strip_suffix("GMT") {
        Some(rest) => format!("{rest}+0000"),
        None => value.to_string(),
    };
    let when =
        time::OffsetDateTime::parse(&numeric, &time::format_description::well_known::Rfc2822)
            .ok()?;
    let delta = when - time::OffsetDateTime::now_utc();
    Some(Duration::from_secs(
        delta.whole_seconds().max(0).unsigned_abs(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(100);
        let http_date = later
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap()
            .replace("+0000", "GMT");
        let d = parse_retry_after(&http_date).unwrap();
        assert!(
            d >= Duration::from_secs(98) && d <= Duration::from_secs(100),
            "{d:?}"
        );
    }

    #[test]
    fn header_values_with_controls_are_refused_without_echo() {
        assert!(check_header_value("user agent", "dockreg/1.0 (linux)").is_ok());
        let e = check_header_value("authorization", "Basic c2VjcmV0\r\nX: y").unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)));
        assert!(!e.to_string().contains("c2VjcmV0"));
    }
}

//! The only file that touches ureq: one agent (one connection pool), sending, redirects,
//! authentication retries, status -> [`Error`], and size-limited body reads.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use ureq::http;

use crate::auth::{Authenticator, Scope};
use crate::config::Config;
use crate::error::{Error, RegistryError, Result, TransportErrorKind, parse_error_body};
use crate::url;

/// Redirects followed for one GET or HEAD before giving up.
const MAX_REDIRECTS: u32 = 10;
/// Bytes of an error body read to find the registry's error document.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

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

    fn idempotent(self) -> bool {
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

/// One request to a registry (or, with `registry: None`, to anything else such as a token realm).
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: String,
    /// Registry whose credentials apply; `None` sends no Authorization.
    pub registry: Option<&'a str>,
    pub scope: Scope,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body<'a>,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method, url: String, registry: &'a str, scope: Scope) -> Self {
        Self {
            method,
            url,
            registry: Some(registry),
            scope,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self
    }
}

/// A 2xx (or, for uploads, accepted) answer whose body has not been read yet.
pub(crate) struct Response {
    pub status: u16,
    /// The URL that answered (after redirects).
    pub url: String,
    method: Method,
    headers: http::HeaderMap,
    body: ureq::Body,
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
        if self.content_length().is_some_and(|n| n > limit) {
            return Err(Error::TooLarge {
                url: url::without_query(&self.url).to_string(),
                limit,
            });
        }
        let r = self.body.with_config().limit(limit).read_to_vec();
        r.map_err(|e| map_ureq_error(self.method, &self.url, e))
    }

    /// Parses the body as JSON of type `T`, reading at most `limit` bytes.
    pub(crate) fn read_json<T: serde::de::DeserializeOwned>(self, limit: u64) -> Result<T> {
        let url = self.url.clone();
        let bytes = self.read_limited(limit)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid_response(&url, format!("bad JSON: {e}")))
    }

    /// The body as a stream; read errors come out as `std::io::Error`.
    pub(crate) fn into_reader(self) -> impl Read + 'static {
        self.body.into_reader()
    }

    /// Reads and drops what is left of the body so the connection can be reused.
    pub(crate) fn drain(mut self) {
        let _ = self
            .body
            .with_config()
            .limit(ERROR_BODY_LIMIT)
            .read_to_vec();
    }
}

/// Sends requests; shared by every clone of a client.
pub(crate) struct Transport {
    agent: ureq::Agent,
    pub(crate) config: Arc<Config>,
    auth: Authenticator,
}

impl Transport {
    pub(crate) fn new(config: Arc<Config>) -> Result<Self> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if !config.root_certs_pem.is_empty() {
            tls = tls.root_certs(root_certs(&config.root_certs_pem)?);
        }
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(config.user_agent.as_str())
            .accept_encoding("identity")
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_read(config.read_timeout)
            .timeout_global(config.request_timeout)
            .max_idle_connections_per_host(8)
            .max_idle_age(Duration::from_secs(30))
            .tls_config(tls.build())
            .build();
        let auth = Authenticator::new(&config);
        Ok(Self {
            agent: ureq::Agent::new_with_config(agent_config),
            config,
            auth,
        })
    }

    /// Sends `req`, following redirects for GET/HEAD (Authorization only to the registry's own
    /// origin), answering one authentication challenge (a 401, or a 403 saying the token
    /// expired) at most once, and turning non-2xx into [`Error`].
    pub(crate) fn send(&self, mut req: Request<'_>) -> Result<Response> {
        // Credentials belong to the registry's own origin, not to whatever host a URL from the
        // registry (an upload `Location`, a redirect) names.
        let home = match req.registry {
            Some(registry) => url::origin(&format!(
                "{}://{}",
                self.config.scheme(registry),
                crate::reference::api_host(registry)
            )),
            None => url::origin(&req.url),
        };
        let mut target = req.url.clone();
        let mut redirects = 0;
        let mut auth_retried = false;
        let mut io_retried = false;
        loop {
            let same_origin = url::origin(&target) == home;
            let on_registry = req.registry.is_some() && same_origin;
            let authorization = match req.registry {
                Some(registry) if on_registry => {
                    self.auth.authorization(self, registry, &req.scope)?
                }
                _ => None,
            };
            let sent_authorization = authorization.is_some();
            // An Authorization a caller put in the headers (token realm requests) stays home too.
            let headers: Vec<(&'static str, String)> = req
                .headers
                .iter()
                .filter(|(n, _)| same_origin || !n.eq_ignore_ascii_case("authorization"))
                .cloned()
                .collect();
            let resp = match self.execute(
                req.method,
                &target,
                &headers,
                authorization.as_deref(),
                &mut req.body,
            ) {
                Ok(r) => r,
                Err(
                    e @ Error::Transport {
                        kind: TransportErrorKind::Io,
                        ..
                    },
                ) if !io_retried && req.method.idempotent() && req.body.replayable() => {
                    // A pooled connection the server had already closed: one fresh try.
                    io_retried = true;
                    let _ = e;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match resp.status {
                200..=299 => return Ok(resp),
                301 | 302 | 303 | 307 | 308 if matches!(req.method, Method::Get | Method::Head) => {
                    redirects += 1;
                    let location = resp.header("location").map(str::to_string);
                    resp.drain();
                    let Some(location) = location else {
                        return Err(self.transport_error(
                            req.method,
                            &target,
                            TransportErrorKind::Redirect,
                            "redirect without Location",
                        ));
                    };
                    if redirects > MAX_REDIRECTS {
                        return Err(self.transport_error(
                            req.method,
                            &target,
                            TransportErrorKind::Redirect,
                            "too many redirects",
                        ));
                    }
                    target = url::resolve(&target, &location)?;
                }
                401 if on_registry && !auth_retried && req.body.replayable() => {
                    let challenge = resp.headers_all("www-authenticate").join(", ");
                    let registry = req.registry.unwrap_or_default();
                    let retry = self.auth.on_unauthorized(
                        self,
                        registry,
                        &req.scope,
                        &challenge,
                        sent_authorization,
                    )?;
                    if !retry {
                        let e = error_from_response(resp);
                        let e = self.auth.unauthorized_error(
                            registry,
                            &challenge,
                            sent_authorization,
                            e,
                        );
                        return Err(e);
                    }
                    resp.drain();
                    auth_retried = true;
                }
                401 if on_registry => {
                    let challenge = resp.headers_all("www-authenticate").join(", ");
                    let registry = req.registry.unwrap_or_default();
                    let e = error_from_response(resp);
                    let e =
                        self.auth
                            .unauthorized_error(registry, &challenge, sent_authorization, e);
                    return Err(e);
                }
                403 if on_registry
                    && sent_authorization
                    && !auth_retried
                    && req.body.replayable() =>
                {
                    // ECR's "authorization token has expired": new credentials, one more try.
                    let e = error_from_response(resp);
                    if !self.auth.on_forbidden(req.registry.unwrap_or_default(), &e) {
                        return Err(e);
                    }
                    auth_retried = true;
                }
                _ => return Err(error_from_response(resp)),
            }
        }
    }

    fn execute(
        &self,
        method: Method,
        target: &str,
        headers: &[(&'static str, String)],
        authorization: Option<&str>,
        body: &mut Body<'_>,
    ) -> Result<Response> {
        let mut builder = http::Request::builder().method(method.as_str()).uri(target);
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some(a) = authorization {
            builder = builder.header("authorization", a);
        }
        let result = match body {
            Body::Empty => builder.body(()).map(|r| self.agent.run(r)),
            Body::Bytes(bytes) => builder.body(*bytes).map(|r| self.agent.run(r)),
            Body::Stream(reader, len) => {
                if let Some(n) = len {
                    builder = builder.header("content-length", n.to_string());
                }
                builder
                    .body(ureq::SendBody::from_reader(*reader))
                    .map(|r| self.agent.run(r))
            }
        };
        let resp = result
            .map_err(|e| {
                self.transport_error(method, target, TransportErrorKind::Io, &e.to_string())
            })?
            .map_err(|e| map_ureq_error(method, target, e))?;
        let (parts, body) = resp.into_parts();
        Ok(Response {
            status: parts.status.as_u16(),
            url: target.to_string(),
            method,
            headers: parts.headers,
            body,
        })
    }

    fn transport_error(
        &self,
        method: Method,
        target: &str,
        kind: TransportErrorKind,
        message: &str,
    ) -> Error {
        Error::Transport {
            method: method.as_str().to_string(),
            url: url::without_query(target).to_string(),
            kind,
            message: message.to_string(),
        }
    }
}

fn root_certs(pems: &[Vec<u8>]) -> Result<ureq::tls::RootCerts> {
    let mut certs = Vec::new();
    for pem in pems {
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => {
                    return Err(Error::InvalidInput(format!(
                        "CA certificate PEM does not parse: {e}"
                    )));
                }
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::InvalidInput(
            "CA certificate PEM holds no certificate".into(),
        ));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

fn map_ureq_error(method: Method, target: &str, e: ureq::Error) -> Error {
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
        U::TooManyRedirects | U::RedirectFailed => TransportErrorKind::Redirect,
        _ => TransportErrorKind::Io,
    };
    Error::Transport {
        method: method.as_str().to_string(),
        url: url::without_query(target).to_string(),
        kind,
        message: e.to_string(),
    }
}

/// Builds the typed error for a non-2xx answer from its status, headers and (short) body.
fn error_from_response(resp: Response) -> Error {
    let method = resp.method.as_str().to_string();
    let url = url::without_query(&resp.url).to_string();
    let status = resp.status;
    let retry_after = resp.header("retry-after").and_then(parse_retry_after);
    let body = if resp.method == Method::Head {
        Vec::new()
    } else {
        // The start of a body of any size: a huge error page still gives its snippet.
        let mut body = Vec::new();
        let _ = resp
            .into_reader()
            .take(ERROR_BODY_LIMIT)
            .read_to_end(&mut body);
        body
    };
    let (errors, snippet) = parse_error_body(&body);
    Error::from_status(RegistryError {
        method,
        url,
        status,
        errors,
        body: snippet,
        retry_after,
    })
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when =
        time::OffsetDateTime::parse(value.trim(), &time::format_description::well_known::Rfc2822)
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
    }
}

//! A request to a registry: where its credentials belong, authentication (the token dance on a
//! 401, one retry at most), and non-2xx answers turned into [`Error`]. Sending, retries,
//! deadlines and redirects are the HTTP layer's (`http.rs`).

use std::sync::Arc;

use crate::auth::{AuthOptions, Authenticator, Net, Scope};
use crate::cancel::CallContext;
use crate::config::Config;
use crate::error::{Error, Result, TransportErrorKind};
use crate::http::{Http, Outgoing};
use crate::url;

pub(crate) use crate::http::{Body, Class, Method, Response};

/// One request to a registry.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: String,
    pub registry: &'a str,
    pub scope: Scope,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body<'a>,
    pub class: Class,
    /// May be sent again after an answer was lost; defaults to the method's idempotency.
    pub replay: bool,
}

impl<'a> Request<'a> {
    /// A copy to send again, for requests whose body is in memory (`None` for a stream).
    fn again(&self) -> Option<Self> {
        let body = match &self.body {
            Body::Empty => Body::Empty,
            Body::Bytes(b) => Body::Bytes(b),
            Body::Stream(..) => return None,
        };
        Some(Self {
            method: self.method,
            url: self.url.clone(),
            registry: self.registry,
            scope: self.scope.clone(),
            headers: self.headers.clone(),
            body,
            class: self.class,
            replay: self.replay,
        })
    }

    pub(crate) fn new(method: Method, url: String, registry: &'a str, scope: Scope) -> Self {
        Self {
            method,
            url,
            registry,
            scope,
            headers: Vec::new(),
            body: Body::Empty,
            class: Class::Metadata,
            replay: method.idempotent(),
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The body; a stream makes the request a transfer (see [`Request::transfer`]).
    pub(crate) fn body(mut self, body: Body<'a>) -> Self {
        if matches!(body, Body::Stream(..)) {
            self.class = Class::Transfer;
        }
        self.body = body;
        self
    }

    /// A blob body of any size: the stall rule bounds it instead of the metadata deadline.
    pub(crate) fn transfer(mut self) -> Self {
        self.class = Class::Transfer;
        self
    }

    /// Never replayed after the request may have reached the registry (e.g. the closing PUT
    /// of an upload, whose effect the caller checks instead).
    pub(crate) fn no_replay(mut self) -> Self {
        self.replay = false;
        self
    }
}

/// The HTTP layer and the authenticator of one client, shared by its clones.
pub(crate) struct Transport {
    http: Http,
    auth: Authenticator,
    pub(crate) config: Arc<Config>,
}

impl Transport {
    pub(crate) fn new(config: Arc<Config>, auth: AuthOptions) -> Result<Self> {
        Ok(Self {
            http: Http::new(&config)?,
            auth: Authenticator::new(config.clone(), auth),
            config,
        })
    }

    /// `scheme://host` of a registry's API; for a registry where plain HTTP is allowed, the
    /// first call probes (once per client) whether it speaks TLS.
    pub(crate) fn origin(&self, registry: &str, call: &CallContext) -> String {
        let host = crate::reference::api_host(registry);
        let scheme = self
            .http
            .scheme(host, self.config.plain_http_allowed(registry), call);
        format!("{scheme}://{host}")
    }

    /// Sends `req` with the caller's cancel and deadline: `Authorization` only to the
    /// registry's own origin, one answer to an authentication challenge (a 401, or a 403
    /// saying the token expired) at most, and non-2xx turned into [`crate::Error`].
    pub(crate) fn send(&self, mut req: Request<'_>, call: &CallContext) -> Result<Response> {
        let net = Net {
            http: &self.http,
            call,
        };
        // Credentials belong to the registry's own origin, not to whatever host a URL from the
        // registry (an upload `Location`, a redirect) names.
        let host = crate::reference::api_host(req.registry);
        let home = url::origin(&format!("{}://{host}", self.http.known_scheme(host)));
        // A URL the registry gave (an upload `Location`, a `Link`) never takes an HTTPS
        // registry to plain HTTP, except where plain HTTP is allowed.
        if let Some(h) = &home {
            if crate::http::scheme::is_downgrade(h, &req.url, |a| self.config.plain_http_allowed(a))
            {
                return Err(crate::error::Error::invalid_response(
                    url::without_query(&req.url),
                    "refused: the HTTPS registry sent a plain-HTTP URL (a downgrade)",
                ));
            }
        }
        let mut auth_retried = false;
        loop {
            let authorization = self.auth.authorization(net, req.registry, &req.scope)?;
            let sent_authorization = authorization.is_some();
            let resp = self.http.exchange(
                Outgoing {
                    method: req.method,
                    url: &req.url,
                    headers: &req.headers,
                    home: home.as_deref(),
                    authorization: authorization.as_deref(),
                    body: &mut req.body,
                    class: req.class,
                    replay: req.replay,
                },
                call,
            )?;
            let on_registry = url::origin(&resp.url) == home;
            let can_retry = !auth_retried && !matches!(req.body, Body::Stream(..));
            match resp.status {
                200..=299 => return Ok(resp),
                401 if on_registry => {
                    let challenge = resp.headers_all("www-authenticate").join(", ");
                    let retry = can_retry
                        && self.auth.on_unauthorized(
                            net,
                            req.registry,
                            &req.scope,
                            &challenge,
                            sent_authorization,
                        )?;
                    if !retry {
                        let e = resp.into_error();
                        return Err(self.auth.unauthorized_error(
                            req.registry,
                            &challenge,
                            sent_authorization,
                            e,
                        ));
                    }
                    resp.drain();
                    auth_retried = true;
                }
                403 if on_registry && sent_authorization && can_retry => {
                    // ECR's "authorization token has expired": new credentials, one more try.
                    let e = resp.into_error();
                    if !self.auth.on_forbidden(req.registry, &e) {
                        return Err(e);
                    }
                    auth_retried = true;
                }
                _ => return Err(resp.into_error()),
            }
        }
    }
}

/// A client's transport with the cancel and deadline of the calls made through it.
#[derive(Clone, Copy)]
pub(crate) struct Session<'a> {
    pub transport: &'a Transport,
    pub call: &'a CallContext,
}

impl Session<'_> {
    /// [`Transport::send`] under this session's cancel and deadline.
    pub(crate) fn send(&self, req: Request<'_>) -> Result<Response> {
        self.transport.send(req, self.call)
    }

    /// Sends `req` and reads its whole body (at most `limit` bytes). A body that breaks off
    /// (the registry restarted, a proxy dropped the connection) is asked for again, as the
    /// retry policy allows, when the request may be replayed; the answer's status and headers
    /// come back with the bytes.
    pub(crate) fn fetch(&self, mut req: Request<'_>, limit: u64) -> Result<(Response, Vec<u8>)> {
        let policy = &self.transport.config.retry;
        let mut attempt = 1;
        let mut waited = std::time::Duration::ZERO;
        loop {
            let again = req.replay.then(|| req.again()).flatten();
            let mut resp = self.send(req)?;
            let broken = match resp.read_body(limit) {
                Ok(bytes) => return Ok((resp, bytes)),
                Err(
                    e @ Error::Transport {
                        kind: TransportErrorKind::Io,
                        ..
                    },
                ) => e,
                Err(e) => return Err(e),
            };
            let (Some(next), Some(wait)) = (again, policy.next_wait(attempt, waited, None)) else {
                return Err(broken.with_attempts(attempt));
            };
            self.call.sleep(wait, next.method.as_str(), &next.url)?;
            waited += wait;
            attempt += 1;
            req = next;
        }
    }
}

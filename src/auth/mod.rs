//! Authentication: credentials, where they come from, challenges, and the bearer-token cache.
//!
//! The transport asks `Authenticator::authorization` for a header before each request to a
//! registry and calls `Authenticator::on_unauthorized` once on a 401 (and
//! `Authenticator::on_forbidden` once on a 403). Nothing here asks the registry anything on
//! its own: the first 401 teaches the challenge, which is then remembered per registry (GCR
//! stops repeating it), so an open registry costs no extra request and no credential lookup.
//!
//! One idea per file: `challenge` parses `WWW-Authenticate`, `token` runs the Docker token
//! flow, `docker_config` reads `config.json`/`auth.json`, `helper` runs credential helpers,
//! `sources` puts them in order, and `google` (with `jwt`) gets Google Application Default
//! Credentials for Google registries that none of them knows.

pub(crate) mod challenge;
mod docker_config;
mod google;
mod helper;
mod jwt;
mod sources;
mod token;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::cancel::CallContext;
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::http::Http;

pub(crate) use challenge::Challenge;
pub use google::GoogleCredentialsSource;
pub(crate) use google::GoogleOptions;
pub(crate) use helper::HelperOptions;
pub use sources::DockerConfigSource;
use sources::Sources;
use token::Token;

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself; use only to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Credentials for one registry. `Debug` shows the user name, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// User name and password (or an access token used as password, as GCR's
    /// `oauth2accesstoken`); sent as Basic auth or to the token server.
    Basic {
        /// User name.
        username: String,
        /// Password or token.
        password: Secret,
    },
    /// An OAuth2 refresh token (`identitytoken` in Docker's config), exchanged at the token server.
    IdentityToken(Secret),
    /// A ready registry bearer token, sent as it is.
    Bearer(Secret),
}

impl Credentials {
    /// User name and password.
    pub fn basic(username: &str, password: &str) -> Self {
        Self::Basic {
            username: username.to_string(),
            password: Secret::new(password),
        }
    }

    /// An identity (refresh) token.
    pub fn identity_token(token: &str) -> Self {
        Self::IdentityToken(Secret::new(token))
    }

    /// A ready bearer token.
    pub fn bearer(token: &str) -> Self {
        Self::Bearer(Secret::new(token))
    }

    /// `Basic base64(user:password)` for user-and-password credentials.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Self::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
            }
            _ => None,
        }
    }

    fn bearer_header(&self) -> Option<String> {
        match self {
            Self::Bearer(token) => Some(format!("Bearer {}", token.expose())),
            _ => None,
        }
    }
}

/// What a request needs permission for, as token-server scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Scope(BTreeSet<String>);

impl Scope {
    /// `repository:NAME:pull`.
    pub(crate) fn pull(repository: &str) -> Self {
        Self(BTreeSet::from([format!("repository:{repository}:pull")]))
    }

    /// `repository:NAME:pull,push`.
    pub(crate) fn push(repository: &str) -> Self {
        Self(BTreeSet::from([format!(
            "repository:{repository}:pull,push"
        )]))
    }

    /// `repository:NAME:delete` (with pull, which deletes look up first).
    pub(crate) fn delete(repository: &str) -> Self {
        Self(BTreeSet::from([format!(
            "repository:{repository}:delete,pull"
        )]))
    }

    /// `registry:catalog:*`.
    pub(crate) fn catalog() -> Self {
        Self(BTreeSet::from(["registry:catalog:*".to_string()]))
    }

    /// This scope plus pull on another repository (a cross-repository mount).
    pub(crate) fn and_pull(mut self, repository: &str) -> Self {
        self.0.insert(format!("repository:{repository}:pull"));
        self
    }

    fn with(&self, extra: &str) -> Self {
        let mut s = self.clone();
        s.0.extend(
            extra
                .split(' ')
                .filter(|x| !x.is_empty())
                .map(str::to_string),
        );
        s
    }

    fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }
}

/// What the authenticator remembers per registry.
#[derive(Default)]
struct State {
    challenges: HashMap<String, Challenge>,
    tokens: HashMap<(String, Scope), Token>,
    /// Credentials looked up in files and helpers (`None`: there are none), so that a helper
    /// runs once per registry rather than once per request.
    found: HashMap<String, Option<Credentials>>,
    /// One lock per (registry, scope) held while its token is fetched.
    gates: HashMap<(String, Scope), Arc<Mutex<()>>>,
}

/// Where a client's credentials come from: the builder's authentication options.
#[derive(Clone, Default)]
pub(crate) struct AuthOptions {
    pub credentials: std::collections::BTreeMap<String, Credentials>,
    pub docker_config: DockerConfigSource,
    pub helpers: HelperOptions,
    pub google: GoogleOptions,
}

/// What token fetches are sent with: the HTTP layer and the caller's cancel and deadline.
#[derive(Clone, Copy)]
pub(crate) struct Net<'a> {
    pub http: &'a Http,
    pub call: &'a CallContext,
}

/// Produces `Authorization` values and learns from 401 answers. Shared by all clones of a client.
pub(crate) struct Authenticator {
    config: Arc<Config>,
    sources: Sources,
    /// Google credentials, for Google registries nothing else knows; kept out of `found`,
    /// since the access token expires (google.rs caches it with its expiry).
    google: google::Google,
    state: Mutex<State>,
}

impl Authenticator {
    pub(crate) fn new(config: Arc<Config>, options: AuthOptions) -> Self {
        Self {
            config,
            sources: Sources::new(options.credentials, options.docker_config, options.helpers),
            google: google::Google::new(options.google),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Credentials for `registry`: the builder's, else the cached or freshly looked-up ones,
    /// else Google's for a Google registry. Refuses when they would travel over plain HTTP to
    /// a host the user did not list.
    fn credentials(&self, net: Net<'_>, registry: &str) -> Result<Option<Credentials>> {
        let found = match self.sources.explicit(registry) {
            Some(c) => Some(c.clone()),
            None => {
                let cached = self.lock().found.get(registry).cloned();
                match cached {
                    Some(c) => c,
                    None => {
                        // Not under the lock: a helper may take a while.
                        let c = self
                            .sources
                            .lookup(registry)
                            .map_err(|message| Error::Auth {
                                registry: registry.to_string(),
                                message,
                            })?;
                        log::debug!(
                            target: "dockreg::auth",
                            "credentials for {registry}: {}",
                            if c.is_some() {
                                "found in the Docker/Podman config or a credential helper"
                            } else {
                                "none configured (anonymous)"
                            }
                        );
                        self.lock().found.insert(registry.to_string(), c.clone());
                        c
                    }
                }
            }
        };
        let found = match found {
            None if self.google.applies(registry) => {
                self.google.credentials(net, &self.config, registry)?
            }
            found => found,
        };
        if found.is_some() {
            // The least safe scheme the registry may be reached with.
            let scheme = if self.config.plain_http_allowed(registry) {
                "http"
            } else {
                "https"
            };
            let origin = format!("{scheme}://{}", crate::reference::api_host(registry));
            if !may_send_credentials(&self.config, &origin) {
                return Err(Error::Auth {
                    registry: registry.to_string(),
                    message: format!(
                        "will not send credentials over plain HTTP to {origin}; list it as an \
                         insecure registry to allow it"
                    ),
                });
            }
        }
        Ok(found)
    }

    /// Drops what was looked up for `registry`, so that the next request asks the files and
    /// helpers again (their credentials may have been renewed).
    fn forget_credentials(&self, registry: &str) {
        self.lock().found.remove(registry);
        if self.google.applies(registry) {
            self.google.forget();
        }
    }

    /// The `Authorization` value for a request, fetching a token when the registry is known to
    /// want one and none is cached for this scope.
    pub(crate) fn authorization(
        &self,
        net: Net<'_>,
        registry: &str,
        scope: &Scope,
    ) -> Result<Option<String>> {
        if let Some(Credentials::Bearer(_)) = self.sources.explicit(registry) {
            // A ready token is sent from the first request on: there is nothing to learn.
            return Ok(self
                .credentials(net, registry)?
                .and_then(|c| c.bearer_header()));
        }
        if let Some(header) = self.cached_token(registry, scope) {
            return Ok(Some(header));
        }
        let challenge = self.lock().challenges.get(registry).cloned();
        let Some(c) = challenge else { return Ok(None) };
        match c.scheme.as_str() {
            "basic" => Ok(self
                .credentials(net, registry)?
                .and_then(|c| c.basic_header().or_else(|| c.bearer_header()))),
            "bearer" => {
                // One fetch per registry and scope at a time: threads that find the token
                // missing or stale together wait for the first one's fetch instead of each
                // asking the token server (and running the credential helper).
                let gate = self
                    .lock()
                    .gates
                    .entry((registry.to_string(), scope.clone()))
                    .or_default()
                    .clone();
                let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(header) = self.cached_token(registry, scope) {
                    return Ok(Some(header));
                }
                let credentials = self.credentials(net, registry)?;
                if let Some(header) = credentials.as_ref().and_then(Credentials::bearer_header) {
                    return Ok(Some(header));
                }
                let tok =
                    token::fetch(net, &self.config, registry, &c, scope, credentials.as_ref())
                        .inspect_err(|_| self.forget_credentials(registry))?;
                let header = tok.header();
                self.remember_token(registry, scope, tok);
                Ok(Some(header))
            }
            _ => Ok(None),
        }
    }

    /// The `Authorization` value of a fresh cached token for this registry and scope.
    fn cached_token(&self, registry: &str, scope: &Scope) -> Option<String> {
        let state = self.lock();
        let tok = state.tokens.get(&(registry.to_string(), scope.clone()))?;
        tok.fresh().then(|| tok.header())
    }

    /// Caches a token; expired ones are dropped on the way, so a long-lived client that
    /// touches many repositories does not keep every token it ever fetched.
    fn remember_token(&self, registry: &str, scope: &Scope, token: Token) {
        let mut state = self.lock();
        state.tokens.retain(|_, t| t.fresh());
        let State { tokens, gates, .. } = &mut *state;
        gates.retain(|key, gate| tokens.contains_key(key) || Arc::strong_count(gate) > 1);
        state
            .tokens
            .insert((registry.to_string(), scope.clone()), token);
    }

    /// Learns from a 401; true when a retry with new authorization may succeed. The transport
    /// calls it at most once per request, so a registry that keeps refusing cannot loop.
    pub(crate) fn on_unauthorized(
        &self,
        net: Net<'_>,
        registry: &str,
        scope: &Scope,
        www_authenticate: &str,
        sent_authorization: bool,
    ) -> Result<bool> {
        let challenges = challenge::parse(www_authenticate);
        let known = self.lock().challenges.get(registry).cloned();
        let chosen = challenges
            .iter()
            .find(|c| c.scheme == "bearer")
            .or_else(|| challenges.iter().find(|c| c.scheme == "basic"))
            .cloned()
            .or(known);
        let Some(c) = chosen else { return Ok(false) };
        log::debug!(
            target: "dockreg::auth",
            "{registry} asked for {} authentication{}",
            c.scheme,
            if sent_authorization {
                " (the authorization sent was refused)"
            } else {
                ""
            }
        );
        self.lock()
            .challenges
            .insert(registry.to_string(), c.clone());
        // Whatever files or helpers said may be stale (or a `docker login` happened since):
        // ask them again. This runs once per refused request, never per request.
        let previous = match self.sources.explicit(registry) {
            Some(c) => Some(c.clone()),
            None => self.lock().found.remove(registry).flatten(),
        };
        match c.scheme.as_str() {
            "basic" => {
                // A refused Google access token is fetched again (it may have been revoked).
                let previous = match previous {
                    None if sent_authorization && self.google.applies(registry) => {
                        self.google.take()
                    }
                    p => p,
                };
                let now = self.credentials(net, registry)?;
                let usable = now
                    .as_ref()
                    .is_some_and(|c| c.basic_header().is_some() || c.bearer_header().is_some());
                // Refused credentials are worth one more try only when they have changed.
                Ok(usable && (!sent_authorization || now != previous))
            }
            "bearer" => {
                let credentials = self.credentials(net, registry)?;
                if credentials
                    .as_ref()
                    .is_some_and(|c| c.bearer_header().is_some())
                {
                    // A ready token: nothing to fetch; worth one try if it was not sent yet.
                    return Ok(!sent_authorization);
                }
                // The challenge may name a wider scope than we asked for: ask for both.
                let wanted = match c.param("scope") {
                    Some(extra) => scope.with(extra),
                    None => scope.clone(),
                };
                let tok = token::fetch(
                    net,
                    &self.config,
                    registry,
                    &c,
                    &wanted,
                    credentials.as_ref(),
                )
                .inspect_err(|_| self.forget_credentials(registry))?;
                self.remember_token(registry, scope, tok);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Learns from a 403; true when it says the credentials expired (ECR: "Your authorization
    /// token has expired"), after forgetting them and every token of the registry, so that one
    /// retry fetches new ones.
    pub(crate) fn on_forbidden(&self, registry: &str, error: &Error) -> bool {
        if !error.registry_error().is_some_and(says_expired) {
            return false;
        }
        if self.google.applies(registry) {
            self.google.forget();
        }
        let mut state = self.lock();
        state.found.remove(registry);
        state.tokens.retain(|(r, _), _| r != registry);
        true
    }

    /// The error for a final 401: [`Error::Denied`] when the registry says the scope is
    /// insufficient although we authenticated with credentials (they do not allow this), else
    /// the [`Error::Unauthorized`] as it is (anonymous, or the credentials were refused).
    pub(crate) fn unauthorized_error(
        &self,
        registry: &str,
        www_authenticate: &str,
        sent_authorization: bool,
        error: Error,
    ) -> Error {
        let insufficient = challenge::parse(www_authenticate)
            .iter()
            .any(|c| c.param("error") == Some("insufficient_scope"));
        let found = self.lock().found.get(registry).is_some_and(Option::is_some);
        // Not under the state lock: the Google lock may be held by a fetch.
        let authenticated = sent_authorization
            && (self.sources.explicit(registry).is_some()
                || found
                || (self.google.applies(registry) && self.google.has_token()));
        match error {
            Error::Unauthorized(e) if insufficient && authenticated => Error::Denied(e),
            other => other,
        }
    }
}

/// True when a 403 answer says the credentials or token expired.
fn says_expired(e: &crate::error::RegistryError) -> bool {
    let hit = |s: &str| {
        let s = s.to_ascii_lowercase();
        s.contains("token has expired")
            || s.contains("token expired")
            || s.contains("expired token")
    };
    e.errors.iter().any(|x| hit(&x.message) || hit(&x.code)) || e.body.as_deref().is_some_and(hit)
}

/// Whether credentials may be sent to `origin` (`scheme://host[:port]`): always over HTTPS;
/// over plain HTTP only to loopback hosts and registries the user listed as insecure.
pub(crate) fn may_send_credentials(config: &Config, origin: &str) -> bool {
    match origin.strip_prefix("http://") {
        None => true,
        Some(authority) => config::is_loopback(authority) || config.insecure.contains(authority),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let all = [
            Credentials::basic("alice", "hunter2"),
            Credentials::identity_token("hunter2"),
            Credentials::bearer("hunter2"),
        ];
        for c in all {
            let s = format!("{c:?}");
            assert!(!s.contains("hunter2"), "{s}");
        }
        assert!(format!("{:?}", Credentials::basic("alice", "x")).contains("alice"));
    }

    #[test]
    fn credentials_stay_off_plain_http_unless_listed() {
        let mut c = Config::default();
        c.insecure.insert("registry.lan:5000".into());
        for ok in [
            "https://auth.example.com",
            "http://127.0.0.1:5000",
            "http://localhost",
            "http://[::1]:80",
            "http://registry.lan:5000",
        ] {
            assert!(may_send_credentials(&c, ok), "{ok}");
        }
        for refused in [
            "http://auth.example.com",
            "http://registry.lan",
            "http://10.0.0.1:5000",
        ] {
            assert!(!may_send_credentials(&c, refused), "{refused}");
        }
    }

    #[test]
    fn ecr_expiry_is_recognised() {
        let e = |message: &str, body: Option<&str>| crate::error::RegistryError {
            method: "GET".into(),
            url: "https://x/v2/".into(),
            status: 403,
            errors: if message.is_empty() {
                vec![]
            } else {
                vec![crate::error::ErrorEntry {
                    code: "DENIED".into(),
                    message: message.into(),
                    detail: None,
                }]
            },
            body: body.map(str::to_string),
            retry_after: None,
            attempts: 1,
        };
        assert!(says_expired(&e(
            "Your authorization token has expired. Reauthenticate and try again.",
            None
        )));
        assert!(says_expired(&e("", Some("Token Expired"))));
        assert!(!says_expired(&e(
            "requested access to the resource is denied",
            None
        )));
        assert!(!says_expired(&e("", None)));
    }

    #[test]
    fn scopes_are_sets() {
        assert_eq!(Scope::pull("a").with("repository:a:pull"), Scope::pull("a"));
        let s = Scope::push("b").and_pull("a");
        assert_eq!(s.iter().count(), 2);
    }
}

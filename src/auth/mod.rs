//! Authentication: credentials, challenges, and the bearer-token cache.
//!
//! The transport asks [`Authenticator::authorization`] for a header before each request to a
//! registry and calls [`Authenticator::on_unauthorized`] once on a 401. Nothing here asks the
//! registry anything on its own: the first 401 teaches the challenge, which is then remembered
//! per registry (GCR stops repeating it), so an open registry costs no extra request.

pub mod challenge;
mod token;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;

use base64::Engine as _;

use crate::config::Config;
use crate::error::Result;
use crate::transport::Transport;

pub use challenge::Challenge;
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

    fn basic_header(&self) -> Option<String> {
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
}

/// What a request needs permission for, as token-server scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Scope(BTreeSet<String>);

impl Scope {
    /// No particular permission (`/v2/`).
    pub(crate) fn none() -> Self {
        Self::default()
    }

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
}

/// Produces `Authorization` values and learns from 401 answers. Shared by all clones of a client.
pub(crate) struct Authenticator {
    explicit: std::collections::BTreeMap<String, Credentials>,
    state: Mutex<State>,
}

impl Authenticator {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            explicit: config.credentials.clone(),
            state: Mutex::new(State::default()),
        }
    }

    fn credentials(&self, registry: &str) -> Option<&Credentials> {
        self.explicit.get(registry)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `Authorization` value for a request, fetching a token when the registry is known to
    /// want one and none is cached for this scope.
    pub(crate) fn authorization(
        &self,
        t: &Transport,
        registry: &str,
        scope: &Scope,
    ) -> Result<Option<String>> {
        if let Some(Credentials::Bearer(token)) = self.credentials(registry) {
            return Ok(Some(format!("Bearer {}", token.expose())));
        }
        let challenge = {
            let state = self.lock();
            if let Some(tok) = state.tokens.get(&(registry.to_string(), scope.clone())) {
                if tok.fresh() {
                    return Ok(Some(tok.header()));
                }
            }
            state.challenges.get(registry).cloned()
        };
        match challenge {
            None => Ok(None),
            Some(c) if c.scheme == "basic" => Ok(self
                .credentials(registry)
                .and_then(Credentials::basic_header)),
            Some(c) if c.scheme == "bearer" => {
                let tok = token::fetch(t, registry, &c, scope, self.credentials(registry))?;
                let header = tok.header();
                self.lock()
                    .tokens
                    .insert((registry.to_string(), scope.clone()), tok);
                Ok(Some(header))
            }
            Some(_) => Ok(None),
        }
    }

    /// Learns from a 401; true when a retry with new authorization may succeed.
    pub(crate) fn on_unauthorized(
        &self,
        t: &Transport,
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
        self.lock()
            .challenges
            .insert(registry.to_string(), c.clone());
        match c.scheme.as_str() {
            "basic" => Ok(!sent_authorization
                && self
                    .credentials(registry)
                    .is_some_and(|c| c.basic_header().is_some())),
            "bearer" => {
                if matches!(self.credentials(registry), Some(Credentials::Bearer(_))) {
                    return Ok(false);
                }
                // The challenge may name a wider scope than we asked for: ask for both.
                let wanted = match c.param("scope") {
                    Some(extra) => scope.with(extra),
                    None => scope.clone(),
                };
                let tok = token::fetch(t, registry, &c, &wanted, self.credentials(registry))?;
                self.lock()
                    .tokens
                    .insert((registry.to_string(), scope.clone()), tok);
                Ok(true)
            }
            _ => Ok(false),
        }
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
    fn scopes_are_sets() {
        assert_eq!(Scope::pull("a").with("repository:a:pull"), Scope::pull("a"));
        let s = Scope::push("b").and_pull("a");
        assert_eq!(s.iter().count(), 2);
    }
}

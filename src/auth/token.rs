//! The Docker token flow: ask the challenge's realm for a bearer token for a set of scopes.

use std::time::{Duration, Instant};

use base64::Engine as _;

use super::{Challenge, Credentials, Scope};
use crate::error::{Error, Result};
use crate::transport::{Body, Method, Request, Transport};
use crate::url;

/// Lifetime assumed when the token server does not say (the spec's default).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// A token is renewed this long before it expires.
const MARGIN: Duration = Duration::from_secs(10);
/// Largest token response read.
const MAX_TOKEN_RESPONSE: u64 = 1024 * 1024;

/// A bearer token and when to stop using it.
pub(crate) struct Token {
    value: super::Secret,
    renew_at: Instant,
}

impl Token {
    pub(crate) fn fresh(&self) -> bool {
        Instant::now() < self.renew_at
    }

    pub(crate) fn header(&self) -> String {
        format!("Bearer {}", self.value.expose())
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Fetches a token for `scope` from the realm named in `challenge`.
pub(crate) fn fetch(
    t: &Transport,
    registry: &str,
    challenge: &Challenge,
    scope: &Scope,
    credentials: Option<&Credentials>,
) -> Result<Token> {
    let fail = |message: String| Error::Auth {
        registry: registry.to_string(),
        message,
    };
    let realm = challenge
        .param("realm")
        .ok_or_else(|| fail("bearer challenge without realm".into()))?;
    let realm_origin = url::origin(realm)
        .ok_or_else(|| fail(format!("token realm {realm:?} is not an http(s) URL")))?;
    if realm_origin.starts_with("http://") && t.config.scheme(registry) == "https" {
        return Err(fail(format!(
            "token realm {realm:?} is plain HTTP for an HTTPS registry"
        )));
    }
    let service = challenge.param("service");
    let started = Instant::now();
    let sent = match credentials {
        Some(Credentials::IdentityToken(refresh)) => {
            // OAuth2 refresh-token grant, as ACR and Docker's identity tokens require.
            let mut form = format!(
                "grant_type=refresh_token&refresh_token={}&client_id=dockreg",
                url::encode(refresh.expose())
            );
            if let Some(s) = service {
                form.push_str(&format!("&service={}", url::encode(s)));
            }
            let scopes: Vec<&str> = scope.iter().map(String::as_str).collect();
            if !scopes.is_empty() {
                form.push_str(&format!("&scope={}", url::encode(&scopes.join(" "))));
            }
            let req = Request {
                method: Method::Post,
                url: realm.to_string(),
                registry: None,
                scope: Scope::none(),
                headers: vec![(
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                )],
                body: Body::Bytes(form.as_bytes()),
            };
            t.send(req)
        }
        _ => {
            let mut target = realm.to_string();
            if let Some(s) = service {
                target = url::with_query(&target, "service", s);
            }
            for s in scope.iter() {
                target = url::with_query(&target, "scope", s);
            }
            let mut headers = Vec::new();
            if let Some(Credentials::Basic { username, password }) = credentials {
                let raw = format!("{username}:{}", password.expose());
                headers.push((
                    "authorization",
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    ),
                ));
            }
            t.send(Request {
                method: Method::Get,
                url: target,
                registry: None,
                scope: Scope::none(),
                headers,
                body: Body::Empty,
            })
        }
    };
    let resp = sent.map_err(|e| {
        fail(format!(
            "token request to {} failed: {e}",
            url::without_query(realm)
        ))
    })?;
    let body: TokenResponse = resp
        .read_json(MAX_TOKEN_RESPONSE)
        .map_err(|e| fail(e.to_string()))?;
    let value = body
        .token
        .filter(|s| !s.is_empty())
        .or(body.access_token.filter(|s| !s.is_empty()))
        .ok_or_else(|| fail("token response has neither token nor access_token".into()))?;
    let lifetime = body
        .expires_in
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIFETIME);
    let renew_at = started + lifetime.saturating_sub(MARGIN);
    Ok(Token {
        value: super::Secret::new(value),
        renew_at,
    })
}

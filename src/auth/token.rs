//! The Docker token flow: ask the challenge's realm for a bearer token for a set of scopes.

use std::time::{Duration, Instant};

use super::Net;
use super::{Challenge, Credentials, Scope};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{Body, Class, Method, Outgoing};
use crate::url;

/// Lifetime assumed when the token server does not say (the spec's default).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// Longest lifetime believed, whatever the server says.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A token is renewed this long before it expires (a quarter of a short lifetime).
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

/// When to stop using a token fetched at `started` (local clock), given the server's
/// `expires_in` and `issued_at`. `issued_at` only shortens the life, by the age it shows, and
/// only when that age is plausible: clocks differ between hosts.
fn renew_at(
    started: Instant,
    now_utc: time::OffsetDateTime,
    expires_in: Option<f64>,
    issued_at: Option<&str>,
) -> Instant {
    let lifetime = expires_in
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(MAX_LIFETIME.as_secs_f64())))
        .unwrap_or(DEFAULT_LIFETIME);
    let age = issued_at
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| now_utc - t)
        .filter(|a| a.is_positive())
        .and_then(|a| Duration::try_from(a).ok())
        .filter(|a| *a < lifetime)
        .unwrap_or(Duration::ZERO);
    let margin = MARGIN.min(lifetime / 4);
    started + lifetime.saturating_sub(age).saturating_sub(margin)
}

/// The token in a token server's answer; errors never quote the body (it holds the token).
fn parse_response(
    body: &[u8],
) -> std::result::Result<(String, Option<f64>, Option<String>), String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "token response is not JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty());
    let value = text("token")
        .or_else(|| text("access_token"))
        .ok_or("token response has neither token nor access_token")?
        .to_string();
    let expires_in = v.get("expires_in").and_then(serde_json::Value::as_f64);
    Ok((value, expires_in, text("issued_at").map(str::to_string)))
}

/// One request to a token server; a non-2xx answer becomes the typed error. Any
/// `Authorization` in `headers` goes only to the realm's own origin.
fn exchange(
    net: Net<'_>,
    method: Method,
    target: &str,
    headers: &[(&'static str, String)],
    realm_origin: &str,
    body: &mut Body<'_>,
) -> Result<crate::http::Response> {
    let resp = net.http.exchange(
        Outgoing {
            method,
            url: target,
            headers,
            home: Some(realm_origin),
            authorization: None,
            body,
            class: Class::Metadata,
            replay: method.idempotent(),
        },
        net.call,
    )?;
    if (200..300).contains(&resp.status) {
        Ok(resp)
    } else {
        Err(resp.into_error())
    }
}

/// Fetches a token for `scope` from the realm named in `challenge`.
pub(crate) fn fetch(
    net: Net<'_>,
    config: &Config,
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
    if realm_origin.starts_with("http://") && !config.plain_http_allowed(registry) {
        return Err(fail(format!(
            "token realm {realm:?} is plain HTTP for an HTTPS registry"
        )));
    }
    if credentials.is_some() && !super::may_send_credentials(config, &realm_origin) {
        return Err(fail(format!(
            "will not send credentials over plain HTTP to the token realm {}; \
             list its host as an insecure registry to allow it",
            url::without_query(realm)
        )));
    }
    let service = challenge.param("service");
    let scopes: Vec<&str> = scope.iter().map(String::as_str).collect();
    log::debug!(
        target: "dockreg::auth",
        "fetching a token for {registry} from {} (scope {:?}, {})",
        url::without_query(realm),
        scopes,
        match credentials {
            Some(Credentials::IdentityToken(_)) => "identity token",
            Some(Credentials::Basic { .. }) => "basic credentials",
            Some(Credentials::Bearer(_)) => "bearer token",
            None => "anonymous",
        }
    );
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
            if !scopes.is_empty() {
                form.push_str(&format!("&scope={}", url::encode(&scopes.join(" "))));
            }
            let headers = [(
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            )];
            // A POST is not replayed after an answer: only a failed connection is retried.
            let mut body = Body::Bytes(form.as_bytes());
            exchange(net, Method::Post, realm, &headers, &realm_origin, &mut body)
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
            if let Some(basic) = credentials.and_then(Credentials::basic_header) {
                headers.push(("authorization", basic));
            }
            exchange(
                net,
                Method::Get,
                &target,
                &headers,
                &realm_origin,
                &mut Body::Empty,
            )
        }
    };
    let resp = sent.map_err(|e| {
        fail(format!(
            "token request to {} failed: {e}",
            url::without_query(realm)
        ))
    })?;
    let body = resp
        .read_limited(MAX_TOKEN_RESPONSE)
        .map_err(|e| fail(e.to_string()))?;
    let (value, expires_in, issued_at) = parse_response(&body).map_err(fail)?;
    log::debug!(
        target: "dockreg::auth",
        "got a token for {registry} in {} ms (expires_in {})",
        started.elapsed().as_millis(),
        expires_in.map_or_else(|| "not given".to_string(), |s| format!("{s} s"))
    );
    Ok(Token {
        value: super::Secret::new(value),
        renew_at: renew_at(
            started,
            time::OffsetDateTime::now_utc(),
            expires_in,
            issued_at.as_deref(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Http;

    #[test]
    fn token_responses() {
        let (v, e, i) = parse_response(
            br#"{"token":"t1","expires_in":300,"issued_at":"2020-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(
            (v.as_str(), e, i.as_deref()),
            ("t1", Some(300.0), Some("2020-01-01T00:00:00Z"))
        );
        let (v, e, _) = parse_response(br#"{"access_token":"t2"}"#).unwrap();
        assert_eq!((v.as_str(), e), ("t2", None));
        let (v, _, _) =
            parse_response(br#"{"token":"","access_token":"t3","expires_in":"x"}"#).unwrap();
        assert_eq!(v, "t3");
        assert!(parse_response(br#"{"expires_in":3}"#).is_err());
        let e = parse_response(br#"{"token": hunter2}"#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn realms_are_checked_before_any_request() {
        let config = crate::config::Config::default();
        let http = Http::new(&config).unwrap();
        let call = crate::cancel::CallContext::default();
        let net = Net {
            http: &http,
            call: &call,
        };
        let creds = Credentials::basic("u", "hunter2");
        let challenge = |realm: &str| {
            super::super::challenge::parse(&format!("Bearer realm=\"{realm}\""))[0].clone()
        };
        let cases = [
            // https registry, plain-HTTP realm: refused even without credentials.
            (
                "registry.example",
                "http://auth.example/token",
                None,
                "plain HTTP for an HTTPS registry",
            ),
            (
                "registry.example",
                "ftp://auth.example/token",
                None,
                "not an http(s) URL",
            ),
            (
                "127.0.0.1:5000",
                "file:///etc/passwd",
                None,
                "not an http(s) URL",
            ),
            // Loopback registry, plain-HTTP realm elsewhere: no credentials there.
            (
                "127.0.0.1:5000",
                "http://auth.example/token",
                Some(&creds),
                "will not send credentials",
            ),
        ];
        for (registry, realm, creds, want) in cases {
            let e = fetch(
                net,
                &config,
                registry,
                &challenge(realm),
                &Scope::pull("a"),
                creds,
            )
            .err()
            .unwrap_or_else(|| panic!("{realm}: no error"));
            let text = e.to_string();
            assert!(text.contains(want), "{realm}: {text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        let c = super::super::challenge::parse("Bearer service=\"x\"")[0].clone();
        assert!(
            fetch(net, &config, "r.example", &c, &Scope::default(), None)
                .err()
                .unwrap()
                .to_string()
                .contains("without realm")
        );
    }

    #[test]
    fn lifetimes() {
        let t0 = Instant::now();
        let now = time::macros::datetime!(2024-05-01 12:00:00 UTC);
        let life = |e: Option<f64>, i: Option<&str>| renew_at(t0, now, e, i) - t0;
        assert_eq!(life(None, None), Duration::from_secs(50));
        assert_eq!(life(Some(300.0), None), Duration::from_secs(290));
        assert_eq!(life(Some(4.0), None), Duration::from_secs(3));
        assert_eq!(life(Some(0.0), None), Duration::from_secs(50));
        assert_eq!(life(Some(-5.0), None), Duration::from_secs(50));
        assert_eq!(life(Some(1e30), None), MAX_LIFETIME - MARGIN);
        // Issued 100 s ago: 200 s left.
        assert_eq!(
            life(Some(300.0), Some("2024-05-01T11:58:20Z")),
            Duration::from_secs(190)
        );
        // In the future (clock skew) or older than the lifetime: ignored.
        assert_eq!(
            life(Some(300.0), Some("2024-05-01T12:10:00Z")),
            Duration::from_secs(290)
        );
        assert_eq!(
            life(Some(300.0), Some("2024-05-01T00:00:00Z")),
            Duration::from_secs(290)
        );
        assert_eq!(
            life(Some(300.0), Some("yesterday")),
            Duration::from_secs(290)
        );
    }
}

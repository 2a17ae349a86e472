//! Which scheme a host is reached with, and the no-downgrade rule.
//!
//! Every registry is reached over HTTPS, verified. A host where plain HTTP is allowed
//! (loopback, or a registry listed as insecure) is reached over plain HTTP only when it does
//! not speak TLS at all, which one probe per host per client finds out (Docker's rule): a TCP
//! connection that sends a TLS ClientHello and closes its sending side. A TLS server answers
//! with a TLS record (a ServerHello or an alert); a plain-HTTP server answers with text or
//! closes. The probe sends no request and needs no certificate, so a plain-HTTP registry never
//! makes the client read the platform's trust store; a server that speaks TLS is then used
//! over HTTPS, verified like any other. The answer is remembered for the client's life.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::crypto::CryptoProvider;

use crate::cancel::CANCEL_POLL;

/// The two schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Https,
    Http,
}

impl Scheme {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::Http => "http",
        }
    }
}

/// What one client learnt of each host where plain HTTP is allowed.
#[derive(Default)]
pub(crate) struct Schemes {
    known: Mutex<HashMap<String, Scheme>>,
    /// Held during a probe, so that threads starting together probe a host once.
    probing: Mutex<()>,
}

impl Schemes {
    /// The scheme of `authority` (`host[:port]`): HTTPS unless `plain_allowed` and a probe
    /// (made once) found that the host does not speak TLS.
    pub(crate) fn scheme(
        &self,
        authority: &str,
        plain_allowed: bool,
        provider: &Arc<CryptoProvider>,
        timeout: Duration,
        cancelled: &dyn Fn() -> bool,
    ) -> Scheme {
        if !plain_allowed {
            return Scheme::Https;
        }
        let key = authority.to_ascii_lowercase();
        if let Some(s) = self.known(&key) {
            return s;
        }
        let _one = self.probing.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = self.known(&key) {
            return s;
        }
        match probe(&key, provider, timeout, cancelled) {
            Some(speaks_tls) => {
                let s = if speaks_tls {
                    Scheme::Https
                } else {
                    Scheme::Http
                };
                log::debug!(
                    target: "dockreg::http",
                    "{key} {} TLS: using {}",
                    if speaks_tls { "speaks" } else { "does not speak" },
                    s.as_str()
                );
                self.lock().insert(key, s);
                s
            }
            // Not reachable now: HTTPS, whose request reports the failure; probed again later.
            None => Scheme::Https,
        }
    }

    /// What was learnt of `authority` without probing (HTTPS when nothing was).
    pub(crate) fn known_or_https(&self, authority: &str) -> Scheme {
        self.known(&authority.to_ascii_lowercase())
            .unwrap_or(Scheme::Https)
    }

    fn known(&self, key: &str) -> Option<Scheme> {
        self.lock().get(key).copied()
    }

    /// Records a scheme chosen without a probe (a registry reached through a proxy).
    pub(crate) fn remember(&self, authority: &str, scheme: Scheme) {
        self.lock().insert(authority.to_ascii_lowercase(), scheme);
    }

    /// The scheme already chosen for `authority`, if one was.
    pub(crate) fn chosen(&self, authority: &str) -> Option<Scheme> {
        self.known(&authority.to_ascii_lowercase())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Scheme>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `host` and port of an authority (443 when absent); IPv6 without brackets.
fn split_authority(authority: &str) -> Option<(&str, u16)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 443,
            None => return None,
        };
        return Some((host, port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, port.parse().ok()?)),
        None => Some((authority, 443)),
    }
}

/// `Some(true)` when the host answers a ClientHello with TLS, `Some(false)` when it answers
/// with anything else or closes, `None` when it cannot be reached, does not answer in time, or
/// the call is `cancelled` meanwhile (looked at every `CANCEL_POLL` while waiting).
fn probe(
    authority: &str,
    provider: &Arc<CryptoProvider>,
    timeout: Duration,
    cancelled: &dyn Fn() -> bool,
) -> Option<bool> {
    let (host, port) = split_authority(authority)?;
    let hello = client_hello(host, provider)?;
    let addrs = (host, port).to_socket_addrs().ok()?;
    for addr in addrs {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, timeout) else {
            continue;
        };
        s.set_write_timeout(Some(timeout)).ok()?;
        // A server may close before reading it all: what it answers still decides.
        let _ = s.write_all(&hello);
        let _ = s.shutdown(Shutdown::Write);
        let mut first = [0u8; 1];
        // A server that accepts and never answers must not hold a cancelled call: the wait is
        // cut into slices and the cancel looked at between them.
        let end = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
        let answer = loop {
            let left = end.saturating_duration_since(Instant::now());
            if cancelled() || left.is_zero() {
                return None;
            }
            s.set_read_timeout(Some(left.min(CANCEL_POLL))).ok()?;
            match s.read(&mut first) {
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                other => break other,
            }
        };
        return match answer {
            // 22: a handshake record (ServerHello); 21: an alert. Both are TLS.
            Ok(1) => Some(matches!(first[0], 21 | 22)),
            Ok(_) => Some(false),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                Some(false)
            }
            Err(_) => None,
        };
    }
    None
}

/// The bytes of a ClientHello for `host`, as rustls would send it.
fn client_hello(host: &str, provider: &Arc<CryptoProvider>) -> Option<Vec<u8>> {
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .ok()?
        // Never used: the probe reads one byte of the answer and never completes a handshake.
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).ok()?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).ok()?;
    }
    Some(out)
}

/// True when a move from `from` to `to` (a redirect, an upload `Location`) goes from HTTPS to
/// plain HTTP on a host where plain HTTP is not allowed.
pub(crate) fn is_downgrade(from: &str, to: &str, plain_allowed: impl Fn(&str) -> bool) -> bool {
    let (Some(from), Some(to)) = (crate::url::origin(from), crate::url::origin(to)) else {
        return false;
    };
    match (from.strip_prefix("https://"), to.strip_prefix("http://")) {
        (Some(_), Some(authority)) => !plain_allowed(authority),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(split_authority("127.0.0.1:5000"), Some(("127.0.0.1", 5000)));
        assert_eq!(split_authority("[::1]:5000"), Some(("::1", 5000)));
        assert_eq!(split_authority("[::1]"), Some(("::1", 443)));
        assert_eq!(split_authority("registry.lan"), Some(("registry.lan", 443)));
        assert_eq!(split_authority("h:x"), None);
    }

    #[test]
    fn downgrades() {
        let lan = |a: &str| a == "registry.lan:5000" || crate::config::is_loopback(a);
        assert!(is_downgrade(
            "https://r.example/v2/",
            "http://r.example/x",
            lan
        ));
        assert!(is_downgrade(
            "https://r.example/v2/",
            "http://cdn.example/x",
            lan
        ));
        assert!(!is_downgrade(
            "https://r.example/v2/",
            "https://cdn.example/x",
            lan
        ));
        assert!(!is_downgrade(
            "http://127.0.0.1:5000/v2/",
            "http://127.0.0.1:5000/x",
            lan
        ));
        assert!(!is_downgrade(
            "https://127.0.0.1:5000/v2/",
            "http://127.0.0.1:5000/x",
            lan
        ));
        assert!(!is_downgrade(
            "https://registry.lan:5000/v2/",
            "http://registry.lan:5000/u",
            lan
        ));
        assert!(is_downgrade("HTTPS://R.example/", "HTTP://R.example/", lan));
    }

    #[test]
    fn probe_tells_plain_from_closed() {
        // A plain server that answers text, and nothing listening.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = Vec::new();
            let _ = c.read_to_end(&mut buf);
            let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let t1 = Duration::from_secs(5);
        assert_eq!(
            probe(&format!("127.0.0.1:{port}"), &provider, t1, &|| false),
            Some(false)
        );
        t.join().unwrap();
        assert_eq!(
            probe(&format!("127.0.0.1:{port}"), &provider, t1, &|| false),
            None
        );
    }
}

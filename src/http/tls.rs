//! TLS: which certificates a client trusts and presents to each host, and how a failed
//! handshake is explained.
//!
//! Trust: the platform's roots (`rustls-native-certs`: the OS store, or `SSL_CERT_FILE` /
//! `SSL_CERT_DIR` on Linux), Mozilla's (webpki-root-certs) only when the platform yields none,
//! plus the CAs the caller added, plus for one host the `*.crt` files of its certs.d
//! directory. The platform store is read once per client, on its first HTTPS connection, so
//! plain-HTTP-only use never pays for it.
//!
//! Hosts with certificates of their own (a certs.d directory, an explicit client certificate)
//! get an agent of their own: ureq keeps a pool per agent, so a pooled connection to a host
//! always carries that host's TLS settings. (A request-level TLS config would not: ureq 3.5.2
//! then bypasses the pool entirely, one handshake per request.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustls::crypto::CryptoProvider;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use crate::config::{ClientCertPem, Config};
use crate::error::{Error, Result};

/// Where per-registry certificates are looked up when the caller names no directory: podman's
/// and Docker's system directories, then the user's.
pub(crate) fn default_cert_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/etc/containers/certs.d"),
        PathBuf::from("/etc/docker/certs.d"),
    ];
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        dirs.push(PathBuf::from(home).join(".config/containers/certs.d"));
    }
    dirs
}

/// A host's own certificates: CAs to trust and a client certificate to present.
#[derive(Default)]
struct HostCerts {
    cas: Vec<Certificate<'static>>,
    client: Option<ClientCert>,
}

/// The TLS side of one client, shared by its clones.
pub(crate) struct Tls {
    provider: Arc<CryptoProvider>,
    verify: bool,
    /// CAs added by the caller, parsed when the client was built.
    extra: Vec<Certificate<'static>>,
    /// Client certificates given explicitly, by `host[:port]`.
    explicit: HashMap<String, ClientCert>,
    cert_dirs: Vec<PathBuf>,
    /// Platform (or Mozilla) roots plus `extra`: read on first use.
    roots: OnceLock<Arc<Vec<Certificate<'static>>>>,
    /// The agent of each host seen over HTTPS (hosts without certificates of their own share
    /// one).
    agents: Mutex<HashMap<String, ureq::Agent>>,
    shared: OnceLock<ureq::Agent>,
}

impl Tls {
    /// Parses what the caller gave; nothing is read from the platform yet.
    pub(crate) fn new(config: &Config) -> Result<Self> {
        let mut extra = Vec::new();
        for pem in &config.root_certs_pem {
            let certs = parse_certs(pem, "CA certificate PEM")?;
            if certs.is_empty() {
                return Err(Error::InvalidInput(
                    "CA certificate PEM holds no certificate".into(),
                ));
            }
            extra.extend(certs);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut explicit = HashMap::new();
        for (registry, pem) in &config.client_certs {
            let host = crate::reference::api_host(registry).to_ascii_lowercase();
            // Connections name port 443 without it (see `url::origin`).
            let host = host
                .strip_suffix(":443")
                .map_or(host.clone(), str::to_string);
            let what = format!("the client certificate for {registry}");
            explicit.insert(host, client_cert(pem, &what, &provider)?);
        }
        Ok(Self {
            provider,
            verify: config.tls_verify,
            extra,
            explicit,
            cert_dirs: config.cert_dirs.clone().unwrap_or_else(default_cert_dirs),
            roots: OnceLock::new(),
            agents: Mutex::new(HashMap::new()),
            shared: OnceLock::new(),
        })
    }

    /// The crypto provider every TLS connection of this client uses.
    pub(crate) fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// A TLS configuration for connections that never do TLS (the plain-HTTP agent).
    pub(crate) fn plain_config(&self) -> TlsConfig {
        TlsConfig::builder()
            .unversioned_rustls_crypto_provider(self.provider.clone())
            .build()
    }

    /// The agent for HTTPS to `authority` (`host[:port]`), made on first use with `make`.
    pub(crate) fn agent(
        &self,
        authority: &str,
        make: impl Fn(TlsConfig) -> ureq::Agent,
    ) -> Result<ureq::Agent> {
        let key = authority.to_ascii_lowercase();
        if let Some(a) = self.lock().get(&key) {
            return Ok(a.clone());
        }
        let own = self.host_certs(&key)?;
        let agent = if own.cas.is_empty() && own.client.is_none() {
            self.shared
                .get_or_init(|| make(self.config_with(Vec::new(), None)))
                .clone()
        } else {
            make(self.config_with(own.cas, own.client))
        };
        Ok(self.lock().entry(key).or_insert(agent).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ureq::Agent>> {
        self.agents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn config_with(
        &self,
        host_cas: Vec<Certificate<'static>>,
        client: Option<ClientCert>,
    ) -> TlsConfig {
        let mut b = TlsConfig::builder()
            .unversioned_rustls_crypto_provider(self.provider.clone())
            .client_cert(client);
        if self.verify {
            let base = self.roots.get_or_init(|| Arc::new(self.load_roots()));
            let roots = if host_cas.is_empty() {
                base.clone()
            } else {
                Arc::new(base.iter().cloned().chain(host_cas).collect())
            };
            b = b.root_certs(RootCerts::Specific(roots));
        } else {
            b = b.disable_verification(true);
        }
        b.build()
    }

    /// The platform's roots (Mozilla's when it has none) and the caller's.
    fn load_roots(&self) -> Vec<Certificate<'static>> {
        let native = rustls_native_certs::load_native_certs();
        let mut roots: Vec<Certificate<'static>> = if native.certs.is_empty() {
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                .collect()
        } else {
            native
                .certs
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                .collect()
        };
        roots.extend(self.extra.iter().cloned());
        roots
    }

    /// The certificates of `authority` from the first certs.d directory that has an entry for
    /// it, and its explicit client certificate (which wins over a certs.d pair).
    fn host_certs(&self, authority: &str) -> Result<HostCerts> {
        let mut own = HostCerts::default();
        // Docker names the directory of a registry on 443 without the port.
        let names = match authority.strip_suffix(":443") {
            Some(bare) => vec![authority.to_string(), bare.to_string()],
            None => vec![authority.to_string()],
        };
        'dirs: for base in &self.cert_dirs {
            for name in &names {
                let dir = base.join(name);
                if dir.is_dir() {
                    own = read_cert_dir(&dir, &self.provider)?;
                    break 'dirs;
                }
            }
        }
        if let Some(c) = self.explicit.get(authority) {
            own.client = Some(c.clone());
        }
        Ok(own)
    }
}

/// Reads one certs.d directory: every `*.crt` is a CA; `x.cert` with `x.key` is a client pair
/// (the first in name order is used).
fn read_cert_dir(dir: &Path, provider: &Arc<CryptoProvider>) -> Result<HostCerts> {
    let io = |path: &Path, source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let mut own = HostCerts::default();
    for path in &names {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "crt" => {
                let pem = std::fs::read(path).map_err(|e| io(path, e))?;
                own.cas
                    .extend(parse_certs(&pem, &format!("{}", path.display()))?);
            }
            "cert" if own.client.is_none() => {
                let key_path = path.with_extension("key");
                if !key_path.is_file() {
                    return Err(Error::InvalidInput(format!(
                        "{} has no matching {}",
                        path.display(),
                        key_path.display()
                    )));
                }
                let pem = ClientCertPem {
                    cert: std::fs::read(path).map_err(|e| io(path, e))?,
                    key: std::fs::read(&key_path).map_err(|e| io(&key_path, e))?,
                };
                own.client = Some(client_cert(&pem, &path.display().to_string(), provider)?);
            }
            _ => {}
        }
    }
    Ok(own)
}

fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<Certificate<'static>>> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::InvalidInput(format!("{what} does not parse: {e}")));
            }
        }
    }
    Ok(certs)
}

/// A client certificate chain and key, checked now: a key that does not match its
/// certificate (or of a kind rustls cannot use) is refused here rather than at connect time.
fn client_cert(
    pem: &ClientCertPem,
    what: &str,
    provider: &Arc<CryptoProvider>,
) -> Result<ClientCert> {
    let chain = parse_certs(&pem.cert, what)?;
    if chain.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{what}: no certificate in the PEM"
        )));
    }
    let mut key: Option<PrivateKey<'static>> = None;
    for item in ureq::tls::parse_pem(&pem.key) {
        // The key's own parse error is not shown: it may quote key material.
        match item {
            Ok(PemItem::PrivateKey(k)) if key.is_none() => key = Some(k),
            Ok(_) => {}
            Err(_) => {
                return Err(Error::InvalidInput(format!(
                    "{what}: the private key PEM does not parse"
                )));
            }
        }
    }
    let Some(key) = key else {
        return Err(Error::InvalidInput(format!(
            "{what}: no private key in the key PEM"
        )));
    };
    check_pair(&chain, &pem.key, provider)
        .map_err(|why| Error::InvalidInput(format!("{what}: {why}")))?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

/// Fails when rustls would refuse this pair (ureq would panic on it at connect time).
fn check_pair(
    chain: &[Certificate<'static>],
    key_pem: &[u8],
    provider: &Arc<CryptoProvider>,
) -> std::result::Result<(), String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = chain
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| "the private key PEM does not parse".to_string())?;
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(certs, key)
        .map(|_| ())
        .map_err(|e| format!("the certificate and key cannot be used together ({e})"))
}

/// What a TLS failure means, for the error message and the scheme choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The server answered something that is not TLS (a plain-HTTP server).
    NotTls,
    /// The server's certificate was not accepted.
    Untrusted,
    /// The server refused the handshake: usually a missing or refused client certificate.
    Refused,
    /// Any other TLS error.
    Other,
}

/// The rustls error behind a ureq error, if any.
fn rustls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        _ => None,
    }
}

/// Classifies a TLS failure, with a message for the caller; `None` when `e` is not one.
pub(crate) fn explain(e: &ureq::Error, host: &str) -> Option<(Failure, String)> {
    use rustls::Error as R;
    let r = rustls_error(e)?;
    Some(match r {
        R::InvalidMessage(_)
        | R::InappropriateHandshakeMessage { .. }
        | R::InappropriateMessage { .. } => (
            Failure::NotTls,
            format!(
                "{host} does not speak TLS ({r}); a plain-HTTP registry must be listed as \
                 insecure (loopback registries are reached over plain HTTP when they do not \
                 speak TLS)"
            ),
        ),
        R::InvalidCertificate(_) => (
            Failure::Untrusted,
            format!(
                "the certificate of {host} is not accepted ({r}); trust its CA (a CA file, \
                 certs.d/{host}/ca.crt) or, knowingly, switch verification off (tls_verify)"
            ),
        ),
        R::AlertReceived(alert) => (
            Failure::Refused,
            format!(
                "{host} refused the TLS connection (alert {alert:?}); it may require a client \
                 certificate (mTLS): give one (client_certificate, certs.d/{host}/*.cert and \
                 *.key)"
            ),
        ),
        _ => (Failure::Other, format!("TLS with {host} failed: {r}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dirs_follow_containers_and_docker() {
        let d = default_cert_dirs();
        assert_eq!(d[0], PathBuf::from("/etc/containers/certs.d"));
        assert_eq!(d[1], PathBuf::from("/etc/docker/certs.d"));
    }

    #[test]
    fn bad_pem_is_invalid_input_without_key_material() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let pem = ClientCertPem {
            cert: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
            key: b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n".to_vec(),
        };
        let e = client_cert(&pem, "test pair", &provider)
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
        assert!(!e.to_string().contains("c2VjcmV0"));
        let e = Tls::new(&Config {
            root_certs_pem: vec![b"no pem here".to_vec()],
            ..Config::default()
        })
        .map(|_| ())
        .unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    }
}

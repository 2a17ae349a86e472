//! Docker's `config.json` and podman/skopeo's `auth.json`: parsing and registry key matching.
//!
//! Both files share one shape: `auths` maps a registry key to an entry (`auth` = base64
//! `user:password`, or `username`/`password`, `identitytoken`, `registrytoken`); `credHelpers`
//! maps a registry to a helper name; `credsStore` names the helper for every other registry.
//! Keys may carry a scheme and a path (`https://index.docker.io/v1/`): only the host counts.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;

use super::{Credentials, Secret};

/// The key Docker uses for Docker Hub, in files and towards credential helpers.
pub(crate) const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// Largest credential file read.
const MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

/// Which program wrote the file: podman keys without a scheme may name a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Docker's `config.json`.
    Docker,
    /// podman/skopeo/buildah `auth.json`.
    Podman,
}

/// One parsed credential file.
#[derive(Default, serde::Deserialize)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

/// One `auths` entry. Deliberately not `Debug`: it holds secrets.
#[derive(Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

/// What a file says about one registry.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// Ask this credential helper (`docker-credential-<name>`).
    Helper(String),
    /// Credentials stored in the file.
    Credentials(Credentials),
    /// Nothing for this registry.
    Nothing,
}

impl ConfigFile {
    /// Reads and parses a file; `Ok(None)` when it does not exist. Errors never quote the
    /// file's content (it holds secrets).
    pub(crate) fn read(path: &Path) -> Result<Option<Self>, String> {
        use std::io::Read as _;
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let mut text = Vec::new();
        file.take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut text)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if text.len() as u64 > MAX_FILE_SIZE {
            return Err(format!("{} is larger than 4 MiB", path.display()));
        }
        Self::parse(&text).map(Some).map_err(|where_| {
            format!(
                "{} is not a valid credential file ({where_})",
                path.display()
            )
        })
    }

    /// Parses file content. The error names only a position: serde's messages may quote values.
    pub(crate) fn parse(text: &[u8]) -> Result<Self, String> {
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(text)
            .map_err(|e| format!("line {}, column {}", e.line(), e.column()))
    }

    /// The helper or stored credentials for `registry` (normalised, `docker.io` for Docker
    /// Hub), in Docker's order: `credHelpers`, then `credsStore`, then `auths`.
    pub(crate) fn lookup(&self, registry: &str, flavor: Flavor) -> Result<Found, String> {
        if let Some(name) = find(&self.cred_helpers, registry, flavor) {
            if !name.is_empty() {
                return Ok(Found::Helper(name.clone()));
            }
        }
        if let Some(store) = self.creds_store.as_ref().filter(|s| !s.is_empty()) {
            return Ok(Found::Helper(store.clone()));
        }
        self.stored(registry, flavor)
    }

    /// The `auths` entry for `registry` alone (also the fallback when a store has nothing).
    pub(crate) fn stored(&self, registry: &str, flavor: Flavor) -> Result<Found, String> {
        match find(&self.auths, registry, flavor) {
            Some(entry) => Ok(entry
                .credentials()
                .map_err(|e| format!("the entry for {registry} {e}"))?
                .map_or(Found::Nothing, Found::Credentials)),
            None => Ok(Found::Nothing),
        }
    }
}

impl AuthEntry {
    fn credentials(&self) -> Result<Option<Credentials>, String> {
        let nonempty =
            |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(t) = nonempty(&self.registrytoken) {
            return Ok(Some(Credentials::Bearer(Secret::new(t))));
        }
        if let Some(t) = nonempty(&self.identitytoken) {
            return Ok(Some(Credentials::IdentityToken(Secret::new(t))));
        }
        if let Some(auth) = nonempty(&self.auth) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| "has an `auth` value that is not base64".to_string())?;
            let text = String::from_utf8(decoded)
                .map_err(|_| "has an `auth` value that is not UTF-8".to_string())?;
            let (user, password) = text
                .split_once(':')
                .ok_or_else(|| "has an `auth` value without `user:password`".to_string())?;
            if user.is_empty() && password.is_empty() {
                return Ok(None);
            }
            return Ok(Some(Credentials::basic(
                user,
                password.trim_end_matches('\n'),
            )));
        }
        match (nonempty(&self.username), nonempty(&self.password)) {
            (Some(u), Some(p)) => Ok(Some(Credentials::basic(&u, &p))),
            _ => Ok(None),
        }
    }
}

/// The value under the key naming `registry`: an exact key first, then any key whose host
/// (scheme and path removed, Docker Hub aliases folded) is the registry.
fn find<'a, V>(map: &'a BTreeMap<String, V>, registry: &str, flavor: Flavor) -> Option<&'a V> {
    if let Some(v) = map.get(registry) {
        return Some(v);
    }
    map.iter()
        .find(|(key, _)| key_host(key, flavor).is_some_and(|h| h == registry))
        .map(|(_, v)| v)
}

/// The registry a file key names, normalised as references are (`docker.io` for Docker Hub);
/// `None` for a podman namespace key (`quay.io/org`), which covers only part of a registry.
pub(crate) fn key_host(key: &str, flavor: Flavor) -> Option<String> {
    let key = key.trim();
    let (had_scheme, rest) = match key.split_once("://") {
        Some((_, rest)) => (true, rest),
        None => (false, key),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    if flavor == Flavor::Podman && !had_scheme && !path.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    })
}

/// The server URL a credential helper is asked about (Docker's key for Docker Hub).
pub(crate) fn helper_server_url(registry: &str) -> String {
    if registry == "docker.io" {
        DOCKER_HUB_KEY.to_string()
    } else {
        registry.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn keys_match_with_or_without_scheme_and_path() {
        for (key, want) in [
            ("https://index.docker.io/v1/", Some("docker.io")),
            ("index.docker.io", Some("docker.io")),
            ("docker.io", Some("docker.io")),
            ("registry-1.docker.io", Some("docker.io")),
            ("https://GCR.io", Some("gcr.io")),
            ("http://localhost:5000/v2/", Some("localhost:5000")),
            ("localhost:5000", Some("localhost:5000")),
            ("", None),
        ] {
            assert_eq!(key_host(key, Flavor::Docker).as_deref(), want, "{key}");
        }
        assert_eq!(key_host("quay.io/org", Flavor::Podman), None);
        assert_eq!(
            key_host("quay.io/org", Flavor::Docker).as_deref(),
            Some("quay.io")
        );
        assert_eq!(
            key_host("https://quay.io/v1/", Flavor::Podman).as_deref(),
            Some("quay.io")
        );
    }

    #[test]
    fn entries_of_every_form() {
        let text = format!(
            r#"{{"auths": {{
                "https://index.docker.io/v1/": {{"auth": "{hub}"}},
                "r1.example": {{"username": "bob", "password": "pw1"}},
                "https://r2.example/v2/": {{"identitytoken": "refresh1"}},
                "r3.example": {{"registrytoken": "bearer1"}},
                "r4.example": {{}},
                "r5.example": {{"auth": "!!"}},
                "r6.example": {{"auth": "{colon}"}}
            }}}}"#,
            hub = b64("alice:pa:ss"),
            colon = b64("nocolon"),
        );
        let f = ConfigFile::parse(text.as_bytes()).unwrap();
        let get = |r: &str| f.lookup(r, Flavor::Docker);
        assert_eq!(
            get("docker.io").unwrap(),
            Found::Credentials(Credentials::basic("alice", "pa:ss"))
        );
        assert_eq!(
            get("r1.example").unwrap(),
            Found::Credentials(Credentials::basic("bob", "pw1"))
        );
        assert_eq!(
            get("r2.example").unwrap(),
            Found::Credentials(Credentials::identity_token("refresh1"))
        );
        assert_eq!(
            get("r3.example").unwrap(),
            Found::Credentials(Credentials::bearer("bearer1"))
        );
        assert_eq!(get("r4.example").unwrap(), Found::Nothing);
        assert_eq!(get("other.example").unwrap(), Found::Nothing);
        let e = get("r5.example").unwrap_err();
        assert!(e.contains("not base64"), "{e}");
        let e = get("r6.example").unwrap_err();
        assert!(!e.contains("nocolon"), "{e}");
    }

    #[test]
    fn helpers_come_before_stored_entries() {
        let f = ConfigFile::parse(
            br#"{"auths": {"gcr.io": {"username": "u", "password": "p"}, "a.example": {"username": "u", "password": "p"}},
                "credHelpers": {"https://gcr.io": "gcloud", "b.example": ""},
                "credsStore": "desktop"}"#,
        )
        .unwrap();
        assert_eq!(
            f.lookup("gcr.io", Flavor::Docker).unwrap(),
            Found::Helper("gcloud".into())
        );
        assert_eq!(
            f.lookup("a.example", Flavor::Docker).unwrap(),
            Found::Helper("desktop".into())
        );
        assert_eq!(
            f.lookup("b.example", Flavor::Docker).unwrap(),
            Found::Helper("desktop".into())
        );
        assert_eq!(
            f.stored("a.example", Flavor::Docker).unwrap(),
            Found::Credentials(Credentials::basic("u", "p"))
        );
    }

    #[test]
    fn parse_errors_never_quote_content() {
        let e = ConfigFile::parse(br#"{"auths": "hunter2"}"#).err().unwrap();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("line 1"), "{e}");
        assert!(ConfigFile::parse(b"  \n").is_ok());
        assert!(ConfigFile::parse(b"{}").is_ok());
    }

    #[test]
    fn helper_server_urls() {
        assert_eq!(helper_server_url("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(helper_server_url("gcr.io"), "gcr.io");
    }
}

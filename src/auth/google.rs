//! Google Application Default Credentials (ADC) for Google's registries.
//!
//! Where the credentials come from, in Google's order: the key file named by
//! `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's `application_default_credentials.json`, then the
//! GCE/GKE metadata server. A `service_account` key signs an RS256 JWT locally and exchanges it
//! at the key's `token_uri` (the JWT-bearer grant); an `authorized_user` file (what
//! `gcloud auth application-default login` writes) uses the refresh-token grant; the metadata
//! server hands out the token of the instance's service account.
//!
//! The access token goes to the registry as Basic credentials of the user `oauth2accesstoken`,
//! as `docker-credential-gcr` sends it. It is cached here with its expiry, fetched again shortly
//! before it expires, and fetched by one thread at a time; the authenticator never keeps it in
//! its per-registry cache, so an expired token is never reused.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::jwt::SigningKey;
use super::{Credentials, Net, Secret};
use crate::cancel::CallContext;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{Body, Class, Method, Outgoing};
use crate::url;

/// The user name Google registries take with an OAuth2 access token as password.
pub(crate) const USERNAME: &str = "oauth2accesstoken";
/// Scope asked for: what `docker-credential-gcr` asks for.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Token endpoint of `authorized_user` files that do not name one.
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The metadata server, unless `GCE_METADATA_HOST` names another `host[:port]`.
const METADATA_HOST: &str = "metadata.google.internal";
const METADATA_TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";
/// Where Linux shows the machine's product name: "Google Compute Engine" on GCE and GKE.
const DMI_PRODUCT_NAME: &str = "/sys/class/dmi/id/product_name";
/// Lifetime of a signed JWT (Google accepts at most one hour).
const JWT_LIFETIME: u64 = 3600;
/// `iat` is set this far in the past, for clocks slightly ahead of Google's.
const JWT_SKEW: u64 = 10;
/// Largest key file read.
const MAX_KEY_FILE: u64 = 1024 * 1024;
/// Largest token endpoint or metadata answer read.
const MAX_RESPONSE: u64 = 64 * 1024;
/// Lifetime assumed when an answer does not give `expires_in`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// Longest lifetime believed (Google's access tokens last one hour).
const MAX_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// A token is fetched again this long before it expires (a quarter of a short lifetime), as
/// Google's libraries do.
const MARGIN: Duration = Duration::from_secs(225);
/// Time given to the metadata server when nothing says this machine is on Google Cloud.
const PROBE_BUDGET: Duration = Duration::from_secs(2);

/// Where Google credentials come from. They are used for Google registries (`gcr.io`,
/// `*.gcr.io`, `*.pkg.dev`, and those named with
/// [`ClientBuilder::google_registry`](crate::ClientBuilder::google_registry)) when neither the
/// builder nor a credential file has credentials for the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GoogleCredentialsSource {
    /// Application Default Credentials, in Google's order: the key file named by
    /// `GOOGLE_APPLICATION_CREDENTIALS` (an error if it cannot be read); else gcloud's
    /// `application_default_credentials.json` in `$CLOUDSDK_CONFIG` (else
    /// `~/.config/gcloud`, or `%APPDATA%\gcloud` on Windows), when it exists; else the GCE/GKE
    /// metadata server (`metadata.google.internal`, or the `host[:port]` in
    /// `GCE_METADATA_HOST`).
    #[default]
    Default,
    /// This key file only: a `service_account` key or an `authorized_user` file.
    File(PathBuf),
    /// No Google credentials.
    None,
}

/// The Google part of a client's authentication options.
#[derive(Debug, Clone, Default)]
pub(crate) struct GoogleOptions {
    pub source: GoogleCredentialsSource,
    /// Registries (`host[:port]`) that get Google credentials besides Google's own.
    pub registries: BTreeSet<String>,
}

/// True for Google's registry hosts: `gcr.io`, `*.gcr.io` and `*.pkg.dev`, any port.
pub(crate) fn is_google_registry(registry: &str) -> bool {
    if registry.starts_with('[') {
        return false;
    }
    let host = registry.split(':').next().unwrap_or("");
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "gcr.io" || host.ends_with(".gcr.io") || host.ends_with(".pkg.dev")
}

/// An access token and when to stop using it.
struct AccessToken {
    value: Secret,
    renew_at: Instant,
}

#[derive(Default)]
struct Cached {
    token: Option<AccessToken>,
    /// The metadata server was found missing (not on Google Cloud, or no service account):
    /// not asked again by this client.
    no_metadata: bool,
}

/// Google credentials of one client, shared by its clones.
pub(crate) struct Google {
    options: GoogleOptions,
    /// Held while a token is fetched, so that threads needing one wait for a single fetch.
    state: Mutex<Cached>,
}

/// Where the credentials were found.
#[derive(Debug, PartialEq, Eq)]
enum Located {
    /// A key file, and how it was found (for error messages).
    File(PathBuf, &'static str),
    /// The metadata server at `host`; `from_env` when `GCE_METADATA_HOST` named it.
    Metadata {
        host: String,
        from_env: bool,
    },
    Nothing,
}

/// Google's search order, with the environment read through `env` and files checked by
/// `exists`.
fn locate(
    source: &GoogleCredentialsSource,
    env: &dyn Fn(&str) -> Option<OsString>,
    exists: &dyn Fn(&Path) -> bool,
) -> Located {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    match source {
        GoogleCredentialsSource::None => Located::Nothing,
        GoogleCredentialsSource::File(p) => Located::File(p.clone(), "given to the client"),
        GoogleCredentialsSource::Default => {
            if let Some(p) = set("GOOGLE_APPLICATION_CREDENTIALS") {
                return Located::File(p.into(), "named by GOOGLE_APPLICATION_CREDENTIALS");
            }
            let dir = set("CLOUDSDK_CONFIG").map(PathBuf::from).or_else(|| {
                if cfg!(windows) {
                    set("APPDATA").map(|d| PathBuf::from(d).join("gcloud"))
                } else {
                    set("HOME").map(|h| PathBuf::from(h).join(".config").join("gcloud"))
                }
            });
            if let Some(file) = dir.map(|d| d.join("application_default_credentials.json")) {
                if exists(&file) {
                    return Located::File(file, "gcloud's application default credentials");
                }
            }
            match set("GCE_METADATA_HOST") {
                Some(h) => Located::Metadata {
                    host: h.to_string_lossy().into_owned(),
                    from_env: true,
                },
                None => Located::Metadata {
                    host: METADATA_HOST.to_string(),
                    from_env: false,
                },
            }
        }
    }
}

/// What the machine's product name says: `Some(true)` on Google Cloud, `Some(false)`
/// elsewhere, `None` when it cannot be read (not Linux, or a sandbox hiding it).
fn product_says_google() -> Option<bool> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let name = std::fs::read_to_string(DMI_PRODUCT_NAME).ok()?;
    Some(name.trim().starts_with("Google"))
}

impl Google {
    pub(crate) fn new(options: GoogleOptions) -> Self {
        Self {
            options,
            state: Mutex::new(Cached::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Cached> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `registry` gets Google credentials when nothing else applies.
    pub(crate) fn applies(&self, registry: &str) -> bool {
        self.options.source != GoogleCredentialsSource::None
            && (is_google_registry(registry) || self.options.registries.contains(registry))
    }

    /// True when an access token is cached (credentials were found and sent).
    pub(crate) fn has_token(&self) -> bool {
        self.lock().token.is_some()
    }

    /// Drops the cached access token, so that the next request fetches a new one.
    pub(crate) fn forget(&self) {
        self.lock().token = None;
    }

    /// Drops the cached access token and returns it as the credentials it was.
    pub(crate) fn take(&self) -> Option<Credentials> {
        self.lock().token.take().map(|t| basic(&t.value))
    }

    /// `oauth2accesstoken` and a fresh access token for `registry`, fetching one when none is
    /// cached or it is about to expire; `None` when no Google credentials are found.
    pub(crate) fn credentials(
        &self,
        net: Net<'_>,
        config: &Config,
        registry: &str,
    ) -> Result<Option<Credentials>> {
        let mut state = self.lock();
        if let Some(t) = state.token.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(Some(basic(&t.value)));
        }
        state.token = None;
        let fail = |message: String| Error::Auth {
            registry: registry.to_string(),
            message,
        };
        let located = locate(&self.options.source, &|k| std::env::var_os(k), &|p| {
            p.exists()
        });
        let token = match located {
            Located::Nothing => None,
            Located::File(path, how) => {
                let in_file = |m: String| {
                    fail(format!(
                        "Google credentials {} ({how}): {m}",
                        path.display()
                    ))
                };
                Some(from_file(net, config, &path).map_err(|e| match e {
                    Failure::Message(m) => in_file(m),
                    Failure::Error(e) => e,
                })?)
            }
            Located::Metadata { host, from_env } => {
                if state.no_metadata {
                    None
                } else {
                    // Named, or on Google Cloud: it must answer. Otherwise a short probe.
                    let (strict, budget) = if from_env {
                        (true, None)
                    } else {
                        match product_says_google() {
                            Some(false) => {
                                state.no_metadata = true;
                                return Ok(None);
                            }
                            Some(true) => (true, None),
                            None => (false, Some(PROBE_BUDGET)),
                        }
                    };
                    let named = if from_env {
                        format!("{host} (GCE_METADATA_HOST)")
                    } else {
                        host.clone()
                    };
                    let answer =
                        from_metadata(net, &host, &named, strict, budget).map_err(|e| match e {
                            Failure::Message(m) => fail(m),
                            Failure::Error(e) => e,
                        })?;
                    if answer.is_none() {
                        state.no_metadata = true;
                    }
                    answer
                }
            }
        };
        let Some(token) = token else { return Ok(None) };
        let credentials = basic(&token.value);
        state.token = Some(token);
        Ok(Some(credentials))
    }
}

fn basic(token: &Secret) -> Credentials {
    Credentials::Basic {
        username: USERNAME.to_string(),
        password: token.clone(),
    }
}

/// A failure: a message for an `Error::Auth`, or an error kept as it is (a cancel).
enum Failure {
    Message(String),
    Error(Error),
}

impl From<String> for Failure {
    fn from(m: String) -> Self {
        Self::Message(m)
    }
}

impl From<&str> for Failure {
    fn from(m: &str) -> Self {
        Self::Message(m.to_string())
    }
}

/// A string field of a key file; the message names the field, never its value.
fn field<'a>(v: &'a Value, name: &str) -> std::result::Result<&'a str, String> {
    match v.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("field {name} is empty")),
        Some(_) => Err(format!("field {name} is not a string")),
        None => Err(format!("field {name} is missing")),
    }
}

/// An optional string field of a key file.
fn optional_field<'a>(v: &'a Value, name: &str) -> std::result::Result<Option<&'a str>, String> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => field(v, name).map(Some),
    }
}

/// Reads a key file and exchanges it for an access token.
fn from_file(
    net: Net<'_>,
    config: &Config,
    path: &Path,
) -> std::result::Result<AccessToken, Failure> {
    let bytes = read_key_file(path)?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("is not JSON (line {}, column {})", e.line(), e.column()))?;
    if !v.is_object() {
        return Err("is not a JSON object".into());
    }
    match field(&v, "type")? {
        "service_account" => service_account(net, config, &v),
        "authorized_user" => authorized_user(net, config, &v),
        other => Err(format!(
            "field type {:?} is not supported (only service_account and authorized_user are)",
            crate::error::safe(&other.chars().take(64).collect::<String>())
        )
        .into()),
    }
}

fn read_key_file(path: &Path) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(format!("is larger than {MAX_KEY_FILE} bytes"));
    }
    Ok(bytes)
}

/// The JWT-bearer grant: a JWT signed with the key's private key, exchanged at its `token_uri`.
fn service_account(
    net: Net<'_>,
    config: &Config,
    v: &Value,
) -> std::result::Result<AccessToken, Failure> {
    let email = field(v, "client_email")?;
    let key = SigningKey::from_pem(field(v, "private_key")?)
        .map_err(|e| format!("field private_key {e}"))?;
    let token_uri = optional_field(v, "token_uri")?.unwrap_or(DEFAULT_TOKEN_URI);
    let origin = checked_token_uri(config, token_uri)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the system clock is before 1970")?
        .as_secs();
    let iat = now.saturating_sub(JWT_SKEW);
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = optional_field(v, "private_key_id")? {
        header["kid"] = Value::from(kid);
    }
    let claims = serde_json::json!({
        "iss": email,
        "scope": SCOPE,
        "aud": token_uri,
        "iat": iat,
        "exp": iat + JWT_LIFETIME,
    });
    let assertion = key.sign_jwt(&header, &claims)?;
    let form = format!(
        "grant_type={}&assertion={}",
        url::encode("urn:ietf:params:oauth:grant-type:jwt-bearer"),
        url::encode(&assertion)
    );
    post_form(net, token_uri, &origin, &form, &[&assertion])
}

/// The refresh-token grant of an `authorized_user` file.
fn authorized_user(
    net: Net<'_>,
    config: &Config,
    v: &Value,
) -> std::result::Result<AccessToken, Failure> {
    let client_id = field(v, "client_id")?;
    let client_secret = field(v, "client_secret")?;
    let refresh_token = field(v, "refresh_token")?;
    let token_uri = optional_field(v, "token_uri")?.unwrap_or(DEFAULT_TOKEN_URI);
    let origin = checked_token_uri(config, token_uri)?;
    let form = format!(
        "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
        url::encode(client_id),
        url::encode(client_secret),
        url::encode(refresh_token)
    );
    post_form(
        net,
        token_uri,
        &origin,
        &form,
        &[client_secret, refresh_token],
    )
}

/// The origin of a token endpoint that may receive secrets: HTTPS, or plain HTTP to loopback
/// and hosts listed as insecure.
fn checked_token_uri(config: &Config, uri: &str) -> std::result::Result<String, String> {
    let shown = crate::error::safe(url::without_query(uri)).into_owned();
    let origin = url::origin(uri)
        .ok_or_else(|| format!("field token_uri {shown:?} is not an http(s) URL"))?;
    if !super::may_send_credentials(config, &origin) {
        return Err(format!(
            "field token_uri {shown:?} is plain HTTP; list its host as an insecure registry \
             to allow it"
        ));
    }
    Ok(origin)
}

/// POSTs a grant to a token endpoint. Messages never hold `secrets`, even when the endpoint
/// echoes them.
fn post_form(
    net: Net<'_>,
    uri: &str,
    origin: &str,
    form: &str,
    secrets: &[&str],
) -> std::result::Result<AccessToken, Failure> {
    let shown = url::without_query(uri);
    let headers = [(
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    )];
    let started = Instant::now();
    let mut body = Body::Bytes(form.as_bytes());
    let resp = net
        .http
        .exchange(
            Outgoing {
                method: Method::Post,
                url: uri,
                headers: &headers,
                home: Some(origin),
                authorization: None,
                body: &mut body,
                class: Class::Metadata,
                // A grant may be used once: it is not replayed after an answer.
                replay: false,
            },
            net.call,
        )
        .map_err(|e| transport_failure(e, &format!("token request to {shown}")))?;
    let status = resp.status;
    let bytes = resp
        .read_limited(MAX_RESPONSE)
        .map_err(|e| transport_failure(e, &format!("token answer of {shown}")))?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "token endpoint {shown} answered {status}{}",
            refusal(&bytes, secrets)
        )
        .into());
    }
    Ok(parse_token(&bytes, started).map_err(|m| format!("token endpoint {shown}: {m}"))?)
}

/// A transport failure as a message, a cancel kept as it is.
fn transport_failure(e: Error, what: &str) -> Failure {
    match e {
        Error::Cancelled => Failure::Error(Error::Cancelled),
        e => Failure::Message(format!("{what} failed: {e}")),
    }
}

/// `: error (description)` from an OAuth2 error answer, with any secret taken out.
fn refusal(body: &[u8], secrets: &[&str]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return String::new();
    };
    // Secrets out first, then cut: a cut secret would no longer be recognised.
    let text = |k: &str| {
        v.get(k).and_then(Value::as_str).map(|s| {
            let mut s = s.to_string();
            for secret in secrets.iter().filter(|x| x.len() >= 4) {
                s = s.replace(*secret, "<redacted>");
            }
            s.chars().take(200).collect::<String>()
        })
    };
    let out = match (text("error"), text("error_description")) {
        (Some(e), Some(d)) => format!(": {e} ({d})"),
        (Some(e), None) => format!(": {e}"),
        (None, Some(d)) => format!(": {d}"),
        (None, None) => return String::new(),
    };
    crate::error::safe(&out).into_owned()
}

/// The access token of a token endpoint's or metadata server's answer; messages never quote
/// the body.
fn parse_token(body: &[u8], started: Instant) -> std::result::Result<AccessToken, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the answer is not JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let value = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("the answer has no access_token")?;
    let lifetime = v
        .get("expires_in")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(MAX_LIFETIME.as_secs_f64())))
        .unwrap_or(DEFAULT_LIFETIME);
    Ok(AccessToken {
        value: Secret::new(value),
        renew_at: started + lifetime - MARGIN.min(lifetime / 4),
    })
}

/// The token of the instance's default service account. `None` when there is no service
/// account (404), or no metadata server at all unless `strict` (it was named, or this is
/// Google Cloud). `budget` bounds the whole attempt, retries included; `named` is `host` as
/// errors show it.
fn from_metadata(
    net: Net<'_>,
    host: &str,
    named: &str,
    strict: bool,
    budget: Option<Duration>,
) -> std::result::Result<Option<AccessToken>, Failure> {
    let valid = !host.is_empty()
        && !host
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "/?#@\\".contains(c));
    if !valid {
        return Err(format!(
            "GCE_METADATA_HOST {:?} is not a host[:port]",
            crate::error::safe(host)
        )
        .into());
    }
    let target = format!("http://{host}{METADATA_TOKEN_PATH}");
    let bounded = CallContext {
        cancel: net.call.cancel.clone(),
        deadline: match (
            net.call.deadline,
            budget.and_then(|b| Instant::now().checked_add(b)),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    };
    let headers = [("metadata-flavor", "Google".to_string())];
    let started = Instant::now();
    let sent = net.http.exchange(
        Outgoing {
            method: Method::Get,
            url: &target,
            headers: &headers,
            home: None,
            authorization: None,
            body: &mut Body::Empty,
            class: Class::Metadata,
            replay: true,
        },
        &bounded,
    );
    let resp = match sent {
        Ok(r) => r,
        Err(Error::Cancelled) => return Err(Failure::Error(Error::Cancelled)),
        // The caller's own deadline: says nothing about the metadata server.
        Err(e) if net.call.remaining().is_some_and(|r| r.is_zero()) => {
            return Err(Failure::Error(e));
        }
        Err(e) if strict => {
            return Err(format!("the metadata server {named} cannot be reached: {e}").into());
        }
        // Not on Google Cloud: no credentials from here.
        Err(_) => return Ok(None),
    };
    match resp.status {
        200..=299 => {}
        // No service account attached to the instance.
        404 => {
            resp.drain();
            return Ok(None);
        }
        status => {
            resp.drain();
            return Err(format!("the metadata server {named} answered {status}").into());
        }
    }
    let bytes = resp
        .read_limited(MAX_RESPONSE)
        .map_err(|e| transport_failure(e, &format!("the answer of the metadata server {named}")))?;
    parse_token(&bytes, started)
        .map(Some)
        .map_err(|m| format!("the metadata server {named}: {m}").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sources::tests::env_of;

    #[test]
    fn google_registries() {
        for yes in [
            "gcr.io",
            "us.gcr.io",
            "EU.GCR.IO",
            "gcr.io:443",
            "us-docker.pkg.dev",
            "europe-west1-docker.pkg.dev",
        ] {
            assert!(is_google_registry(yes), "{yes}");
        }
        for no in [
            "docker.io",
            "notgcr.io",
            "gcr.io.example.com",
            "pkg.dev",
            "mypkg.dev",
            "[::1]:5000",
            "127.0.0.1:5000",
            "",
        ] {
            assert!(!is_google_registry(no), "{no}");
        }
    }

    #[test]
    fn search_order() {
        let default = GoogleCredentialsSource::Default;
        let all = |_: &Path| true;
        let none = |_: &Path| false;
        let gac = env_of(&[
            ("GOOGLE_APPLICATION_CREDENTIALS", "/k.json"),
            ("HOME", "/h"),
            ("GCE_METADATA_HOST", "127.0.0.1:1"),
        ]);
        assert_eq!(
            locate(&default, &gac, &none),
            Located::File("/k.json".into(), "named by GOOGLE_APPLICATION_CREDENTIALS")
        );
        let home = env_of(&[("HOME", "/h")]);
        let well_known =
            |p: &Path| p == Path::new("/h/.config/gcloud/application_default_credentials.json");
        if !cfg!(windows) {
            assert_eq!(
                locate(&default, &home, &well_known),
                Located::File(
                    "/h/.config/gcloud/application_default_credentials.json".into(),
                    "gcloud's application default credentials"
                )
            );
        }
        let sdk = env_of(&[("HOME", "/h"), ("CLOUDSDK_CONFIG", "/sdk")]);
        assert_eq!(
            locate(&default, &sdk, &all),
            Located::File(
                "/sdk/application_default_credentials.json".into(),
                "gcloud's application default credentials"
            )
        );
        // The file only counts when it exists; then the metadata server.
        assert_eq!(
            locate(&default, &sdk, &none),
            Located::Metadata {
                host: METADATA_HOST.into(),
                from_env: false
            }
        );
        let meta = env_of(&[("HOME", "/h"), ("GCE_METADATA_HOST", "127.0.0.1:8080")]);
        assert_eq!(
            locate(&default, &meta, &none),
            Located::Metadata {
                host: "127.0.0.1:8080".into(),
                from_env: true
            }
        );
        // Empty variables are unset.
        let empty = env_of(&[
            ("GOOGLE_APPLICATION_CREDENTIALS", ""),
            ("GCE_METADATA_HOST", ""),
        ]);
        assert_eq!(
            locate(&default, &empty, &all),
            Located::Metadata {
                host: METADATA_HOST.into(),
                from_env: false
            }
        );
        assert_eq!(
            locate(&GoogleCredentialsSource::None, &gac, &all),
            Located::Nothing
        );
        assert_eq!(
            locate(&GoogleCredentialsSource::File("/x.json".into()), &gac, &all),
            Located::File("/x.json".into(), "given to the client")
        );
    }

    #[test]
    fn token_answers() {
        let t0 = Instant::now();
        let life = |body: &str| parse_token(body.as_bytes(), t0).map(|t| t.renew_at - t0);
        assert_eq!(
            life(r#"{"access_token":"a","expires_in":3599,"token_type":"Bearer"}"#),
            Ok(Duration::from_secs(3599 - 225))
        );
        assert_eq!(
            life(r#"{"access_token":"a","expires_in":4}"#),
            Ok(Duration::from_secs(3))
        );
        assert_eq!(life(r#"{"access_token":"a"}"#), Ok(Duration::from_secs(45)));
        assert_eq!(
            life(r#"{"access_token":"a","expires_in":-1}"#),
            Ok(Duration::from_secs(45))
        );
        assert_eq!(
            life(r#"{"access_token":"a","expires_in":1e300}"#),
            Ok(MAX_LIFETIME - MARGIN)
        );
        assert!(life(r#"{"expires_in":3}"#).is_err());
        assert!(life(r#"{"access_token":""}"#).is_err());
        let e = life(r#"{"access_token": hunter2}"#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn refusals_never_echo_secrets() {
        let r = refusal(
            br#"{"error":"invalid_grant","error_description":"bad token hunter2-refresh"}"#,
            &["hunter2-refresh"],
        );
        assert_eq!(r, ": invalid_grant (bad token <redacted>)");
        assert_eq!(refusal(b"<html>hunter2</html>", &["hunter2"]), "");
        assert_eq!(refusal(br#"{"error":"x\u0007"}"#, &[]), ": x\\u{7}");
        let long = format!(
            r#"{{"error":"e","error_description":"{}hunter2-long"}}"#,
            "x".repeat(195)
        );
        assert!(!refusal(long.as_bytes(), &["hunter2-long"]).contains("hunter"));
    }

    #[test]
    fn key_file_fields_are_named_not_quoted() {
        let v =
            serde_json::json!({"type": "service_account", "client_email": 5, "private_key": ""});
        assert_eq!(
            field(&v, "client_email").unwrap_err(),
            "field client_email is not a string"
        );
        assert_eq!(
            field(&v, "private_key").unwrap_err(),
            "field private_key is empty"
        );
        assert_eq!(
            field(&v, "token_uri").unwrap_err(),
            "field token_uri is missing"
        );
        assert_eq!(optional_field(&v, "token_uri"), Ok(None));
    }
}

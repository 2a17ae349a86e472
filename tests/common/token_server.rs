//! A small Docker token server for tests (`auth.token` mode of distribution 2.8).
//!
//! `GET /token?service=..&scope=..` with Basic auth (or none), and the OAuth2
//! `POST /token` with `grant_type=refresh_token`, answer a JWT signed RS256 with a fresh RSA
//! key whose self-signed certificate is the registry's `rootcertbundle`. The JWT header
//! carries the certificate in `x5c`, which distribution verifies against the bundle (no `kid`
//! needed). Keys and signatures come from the `openssl` CLI, so no crypto crate is needed.
//!
//! Each user is granted, out of the scopes asked for, the actions its rules allow. Every token
//! request is counted and recorded for the tests to assert on.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use super::registry::require_program;
use super::tempdir::TempDir;

pub const SERVICE: &str = "dockreg-test-registry";
pub const ISSUER: &str = "dockreg-test-token-issuer";

/// What a user may do: `(type, name pattern, actions)`; a pattern ending in `*` is a prefix.
#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: &'static str,
    pub name: &'static str,
    pub actions: &'static [&'static str],
}

#[derive(Clone, Debug)]
pub struct User {
    pub password: String,
    /// Refresh token accepted by the OAuth2 POST for this user, if any.
    pub refresh_token: Option<String>,
    pub rules: Vec<Rule>,
}

/// One token request as received.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub method: String,
    /// The authenticated user (`None`: anonymous).
    pub user: Option<String>,
    pub service: Option<String>,
    pub scopes: Vec<String>,
    /// HTTP status answered.
    pub status: u16,
}

struct Shared {
    users: BTreeMap<String, User>,
    key: PathBuf,
    x5c: String,
    expires_in: u64,
    requests: Mutex<Vec<TokenRequest>>,
    count: AtomicUsize,
    stop: AtomicBool,
}

pub struct TokenServer {
    dir: TempDir,
    port: u16,
    shared: Arc<Shared>,
}

impl TokenServer {
    /// Starts the server on 127.0.0.1 with these users (name -> user).
    pub fn start(users: BTreeMap<String, User>) -> TokenServer {
        require_program("openssl", "openssl");
        let dir = TempDir::new("token-server");
        let key = dir.join("key.pem");
        let cert = dir.join("cert.pem");
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .arg("-subj")
            .arg("/CN=dockreg test token signer")
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null())
            .output()
            .expect("run openssl req");
        assert!(
            out.status.success(),
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .expect("run openssl x509");
        assert!(der.status.success(), "openssl x509 failed");
        let x5c = base64::engine::general_purpose::STANDARD.encode(&der.stdout);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token server");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            users,
            key,
            x5c,
            expires_in: 300,
            requests: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = handle(&s, conn);
                });
            }
        });
        TokenServer { dir, port, shared }
    }

    /// `http://127.0.0.1:PORT/token`
    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The `auth:` YAML for the registry config.
    pub fn registry_yaml(&self) -> String {
        format!(
            "auth:\n  token:\n    realm: \"{}\"\n    service: \"{SERVICE}\"\n    issuer: \"{ISSUER}\"\n    rootcertbundle: \"{}\"\n",
            self.realm(),
            self.dir.join("cert.pem").display()
        )
    }

    /// Token requests answered so far (any status).
    pub fn count(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// Every token request so far, in order.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// A token for `user` (password checked) with the scopes granted, for raw HTTP seeding.
    pub fn token_for(&self, user: &str, scopes: &[&str]) -> String {
        let u = &self.shared.users[user];
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        sign(&self.shared, Some(user), &grant(&u.rules, &scopes))
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(s: &Shared, conn: TcpStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(n) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, json) = if path != "/token" {
        (404, r#"{"details":"not found"}"#.to_string())
    } else {
        answer(s, &method, query, &headers, &body)
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let mut out = conn;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )?;
    out.flush()
}

fn answer(
    s: &Shared,
    method: &str,
    query: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> (u16, String) {
    let mut record = TokenRequest {
        method: method.to_string(),
        user: None,
        service: None,
        scopes: Vec::new(),
        status: 200,
    };
    let result = (|| {
        let params = match method {
            "GET" => decode_form(query),
            "POST" => decode_form(&String::from_utf8_lossy(body)),
            _ => return Err((400, "method")),
        };
        record.service = params
            .iter()
            .find(|(k, _)| k == "service")
            .map(|(_, v)| v.clone());
        for (k, v) in &params {
            if k == "scope" {
                record
                    .scopes
                    .extend(v.split(' ').filter(|x| !x.is_empty()).map(str::to_string));
            }
        }
        if record.service.as_deref() != Some(SERVICE) {
            return Err((400, "service"));
        }
        let user = if method == "POST" {
            let get = |key: &str| {
                params
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            if get("grant_type") != Some("refresh_token") {
                return Err((400, "grant_type"));
            }
            let refresh = get("refresh_token").unwrap_or("");
            let found = s
                .users
                .iter()
                .find(|(_, u)| u.refresh_token.as_deref() == Some(refresh) && !refresh.is_empty());
            match found {
                Some((name, _)) => Some(name.clone()),
                None => return Err((401, "refresh token")),
            }
        } else {
            match headers.get("authorization") {
                None => None,
                Some(a) => {
                    let raw = a.strip_prefix("Basic ").ok_or((401, "scheme"))?;
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(raw.trim())
                        .map_err(|_| (401, "base64"))?;
                    let text = String::from_utf8(decoded).map_err(|_| (401, "utf8"))?;
                    let (name, password) = text.split_once(':').ok_or((401, "colon"))?;
                    match s.users.get(name) {
                        Some(u) if u.password == password => Some(name.to_string()),
                        _ => return Err((401, "password")),
                    }
                }
            }
        };
        record.user = user.clone();
        let rules = user
            .as_ref()
            .map(|u| s.users[u].rules.clone())
            .unwrap_or_default();
        let access = grant(&rules, &record.scopes);
        let token = sign(s, user.as_deref(), &access);
        let key = if method == "POST" {
            "access_token"
        } else {
            "token"
        };
        let issued = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        Ok(serde_json::json!({
            key: token,
            "expires_in": s.expires_in,
            "issued_at": issued,
        })
        .to_string())
    })();
    let out = match result {
        Ok(json) => (200, json),
        Err((status, why)) => {
            record.status = status;
            (status, serde_json::json!({ "details": why }).to_string())
        }
    };
    s.count.fetch_add(1, Ordering::SeqCst);
    s.requests.lock().unwrap().push(record);
    out
}

/// The JWT `access` claim: per scope asked for, the actions the rules allow.
fn grant(rules: &[Rule], scopes: &[String]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for scope in scopes {
        // `type:name:actions`; a name may hold a port colon only for registry types, so split
        // from both ends.
        let Some((kind, rest)) = scope.split_once(':') else {
            continue;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            continue;
        };
        let allowed: Vec<&str> = actions
            .split(',')
            .filter(|a| {
                rules.iter().any(|r| {
                    r.kind == kind
                        && (r.name == name
                            || r.name
                                .strip_suffix('*')
                                .is_some_and(|p| name.starts_with(p)))
                        && (r.actions.contains(a) || r.actions.contains(&"*"))
                })
            })
            .collect();
        if !allowed.is_empty() {
            out.push(serde_json::json!({"type": kind, "name": name, "actions": allowed}));
        }
    }
    out
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(s: &Shared, user: Option<&str>, access: &[serde_json::Value]) -> String {
    static JTI: AtomicUsize = AtomicUsize::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [s.x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": user.unwrap_or(""),
        "aud": SERVICE,
        "exp": now + s.expires_in,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("jti-{}-{}", std::process::id(), JTI.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&s.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl dgst");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl dgst output");
    assert!(
        out.status.success(),
        "openssl dgst failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // RS256 is PKCS#1 v1.5 over SHA-256: exactly what `openssl dgst -sign` prints.
    format!("{input}.{}", b64url(&out.stdout))
}

/// `application/x-www-form-urlencoded` (and query strings) into pairs.
pub fn decode_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

//! TLS test harness: certificate authorities and certificates made at test time with the
//! `openssl` CLI, and a real registry (distribution 2.8.2) serving HTTPS on 127.0.0.1.
//!
//! Like `common::TestRegistry`, the registry runs under a `sh` wrapper whose stdin is a pipe
//! held by the test process, so it dies with the test process whatever happens. Nothing here
//! reaches beyond 127.0.0.1; a missing `openssl` or `docker-registry` is a panic with an
//! install hint.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::TempDir;
use crate::common::registry::{clean_env, free_port, pid_alive};

/// Panics with an install hint when `name` is missing.
fn require(name: &str, package: &str) {
    if crate::common::registry::find_program(name).is_none() {
        panic!(
            "required program `{name}` not found on PATH (package `{package}`). Install it \
             with: apt-get install -y {package}"
        );
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    require("openssl", "openssl");
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a certificate is for.
#[derive(Clone, Copy)]
pub enum Usage {
    /// A server on 127.0.0.1 / localhost.
    Server,
    /// A TLS client (mTLS).
    Client,
}

/// A certificate and its key, as files and as PEM text.
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Issued {
    pub fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(&self.cert).unwrap()
    }
    pub fn key_pem(&self) -> Vec<u8> {
        std::fs::read(&self.key).unwrap()
    }
}

/// A test certificate authority (P-256) in its own temp dir.
pub struct Ca {
    dir: TempDir,
    name: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let dir = TempDir::new(&format!("ca-{name}"));
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                &format!("/CN=dockreg test CA {name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        Ca {
            dir,
            name: name.to_string(),
        }
    }

    /// The CA certificate (PEM file).
    pub fn cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(self.cert()).unwrap()
    }

    /// Issues a certificate named `file` for `usage`.
    pub fn issue(&self, file: &str, usage: Usage) -> Issued {
        let (cn, ext) = match usage {
            Usage::Server => (
                "127.0.0.1",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
            ),
            Usage::Client => (
                "dockreg test client",
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=clientAuth\n",
            ),
        };
        let d = self.dir.path();
        std::fs::write(d.join(format!("{file}.ext")), ext).unwrap();
        let (key, csr, cert) = (
            format!("{file}.key"),
            format!("{file}.csr"),
            format!("{file}.pem"),
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &cert,
                "-days",
                "2",
                "-extfile",
                &format!("{file}.ext"),
            ],
        );
        Issued {
            cert: d.join(cert),
            key: d.join(key),
        }
    }
}

const WRAPPER: &str = r#"docker-registry serve "$0" </dev/null &
p=$!
echo "$p" > "$1"
read s
kill -s "${s:-TERM}" "$p" 2>/dev/null
wait "$p""#;

/// A registry serving HTTPS on 127.0.0.1 with the given certificate.
pub struct TlsRegistry {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    pid: Option<u32>,
}

/// How a [`TlsRegistry`] is set up.
pub struct TlsSetup<'a> {
    pub server: &'a Issued,
    /// CAs whose client certificates the registry requires (mTLS).
    pub client_cas: Option<&'a Path>,
    /// A storage directory shared with another registry (default: its own).
    pub storage: Option<&'a Path>,
    /// Extra YAML under `http:` (indented two spaces), e.g. `  host: ...`.
    pub http_extra: &'a str,
    /// Extra top-level YAML.
    pub extra: &'a str,
}

impl<'a> TlsSetup<'a> {
    pub fn new(server: &'a Issued) -> Self {
        Self {
            server,
            client_cas: None,
            storage: None,
            http_extra: "",
            extra: "",
        }
    }
}

impl TlsRegistry {
    pub fn start(server: &Issued) -> TlsRegistry {
        Self::start_with(&TlsSetup::new(server))
    }

    pub fn start_with(setup: &TlsSetup<'_>) -> TlsRegistry {
        require("docker-registry", "docker-registry");
        let dir = TempDir::new("tls-registry");
        let storage = match setup.storage {
            Some(s) => s.to_path_buf(),
            None => dir.join("storage"),
        };
        std::fs::create_dir_all(&storage).unwrap();
        let mut reg = TlsRegistry {
            dir,
            port: 0,
            child: None,
            stdin: None,
            pid: None,
        };
        let mut errors = Vec::new();
        for attempt in 1..=5 {
            reg.port = free_port();
            let client_cas = setup.client_cas.map_or(String::new(), |ca| {
                format!("    clientcas:\n      - \"{}\"\n", ca.display())
            });
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: \"{storage}\"\n  delete:\n    enabled: true\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: \"dockreg-tls-test\"\n{http_extra}\
                 \n  tls:\n    certificate: \"{cert}\"\n    key: \"{key}\"\n{client_cas}{extra}\n",
                storage = storage.display(),
                port = reg.port,
                http_extra = setup.http_extra,
                cert = setup.server.cert.display(),
                key = setup.server.key.display(),
                extra = setup.extra,
            );
            std::fs::write(reg.dir.join("config.yml"), config).unwrap();
            match reg.launch() {
                Ok(()) => return reg,
                Err(e) => errors.push(format!("attempt {attempt} (port {}): {e}", reg.port)),
            }
        }
        panic!(
            "docker-registry (TLS) did not start:\n{}",
            errors.join("\n")
        );
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn storage(&self) -> PathBuf {
        self.dir.join("storage")
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn launch(&mut self) -> Result<(), String> {
        let pid_file = self.dir.join("registry.pid");
        let log = std::fs::File::create(self.dir.join("registry.log")).unwrap();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(WRAPPER)
            .arg(self.dir.join("config.yml"))
            .arg(&pid_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        clean_env(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| format!("spawn sh: {e}"))?;
        self.stdin = child.stdin.take();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.pid.is_none() {
            if let Ok(s) = std::fs::read_to_string(&pid_file) {
                if s.ends_with('\n') {
                    self.pid = s.trim().parse().ok();
                }
            }
            if Instant::now() > deadline {
                self.stop();
                return Err("no pid from the wrapper".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = self.pid.unwrap();
        // distribution loads its certificates before it listens: a TCP accept means ready.
        loop {
            if !pid_alive(pid) {
                std::thread::sleep(Duration::from_millis(50));
                let tail = self.log_tail();
                self.stop();
                return Err(format!("exited during start-up:\n{tail}"));
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let tail = self.log_tail();
                self.stop();
                return Err(format!("not listening within 15 s:\n{tail}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "KILL");
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        self.pid = None;
    }
}

impl Drop for TlsRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A certs.d directory: `<root>/<host:port>/` with the given files copied in.
pub struct CertsD {
    pub root: TempDir,
}

impl CertsD {
    pub fn new() -> CertsD {
        CertsD {
            root: TempDir::new("certs.d"),
        }
    }

    /// Copies `from` to `<root>/<host>/<name>`.
    pub fn add(&self, host: &str, name: &str, from: &Path) {
        let d = self.root.join(host);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(from, d.join(name)).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }
}

//! A real registry (CNCF distribution 2.8.2, Debian `docker-registry`) on 127.0.0.1 for tests.
//!
//! The registry is always started through a tiny `sh` wrapper whose stdin is a pipe held by
//! the test process:
//!
//! ```text
//! sh -c 'docker-registry serve "$0" </dev/null & p=$!; echo "$p" > "$1";
//!        read s; kill -s "${s:-TERM}" "$p"; kill -s CONT "$p"; wait "$p";
//!        [ -n "$2" ] && rm -rf "$2"' CONFIG PIDFILE CLEANUP
//! ```
//!
//! Stopping writes `TERM` or `KILL` to that pipe. If the test process dies in any way (even
//! SIGKILL, or a registry kept in a `static` that is never dropped), the pipe closes, `read`
//! returns, and the wrapper kills the registry (and, for the shared fixture registry, removes
//! its temp dir). So no registry outlives its test binary. The `CONT` after the signal makes
//! this hold for a registry frozen with [`TestRegistry::freeze`] too.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::raw;
use super::tempdir::TempDir;

/// Panics with an install hint when `name` is not an executable on PATH (or an absolute path).
pub fn require_program(name: &str, apt_pkg: &str) {
    if find_program(name).is_none() {
        panic!(
            "required program `{name}` not found on PATH (package `{apt_pkg}`). \
             Install the test tools with: apt-get install -y docker-registry skopeo"
        );
    }
}

/// Full path of `name` if it is found on PATH (or is itself an existing path).
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let is_exec = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_exec(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_exec(p))
}

/// A free TCP port on 127.0.0.1 (bind to port 0, read it, release it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Removes the variables that must not reach our child processes: every `REGISTRY_*`
/// (the registry reads them as config overrides) and proxy settings (only 127.0.0.1 is used).
pub fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        let upper = k.to_ascii_uppercase();
        if upper.starts_with("REGISTRY_")
            || matches!(
                upper.as_str(),
                "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY" | "FTP_PROXY"
            )
        {
            cmd.env_remove(k);
        }
    }
}

const WRAPPER: &str = r#"docker-registry serve "$0" </dev/null &
p=$!
echo "$p" > "$1"
read s
kill -s "${s:-TERM}" "$p" 2>/dev/null
kill -s CONT "$p" 2>/dev/null
wait "$p"
if [ -n "$2" ]; then rm -rf "$2"; fi"#;

/// How [`TestRegistry::kill`] ends the registry process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGKILL: a crash; connections are reset, nothing is flushed.
    Kill,
    /// SIGTERM: the registry's own shutdown path (here it exits within ~10 ms, cutting the
    /// requests in flight).
    Term,
}

impl Signal {
    /// The name `kill -s` takes.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Kill => "KILL",
            Signal::Term => "TERM",
        }
    }
}

/// Header added by the registry to every response (`http.headers` in its config) so that the
/// readiness probe knows it talks to *this* instance, not another one that grabbed the port.
pub const INSTANCE_HEADER: &str = "X-Dockreg-Test-Instance";

static INSTANCE_COUNTER: AtomicU64 = AtomicU64::new(0);

pub struct TestRegistry {
    dir: TempDir,
    storage: PathBuf,
    port: u16,
    extra_config: String,
    secret: String,
    instance: String,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    pid: Option<u32>,
    /// Stopped with SIGSTOP by [`Self::freeze`].
    frozen: bool,
    /// Shared (static) registry: the wrapper removes `dir` itself when the test process exits.
    detached: bool,
}

impl TestRegistry {
    /// Starts a registry with a fresh storage dir on a free port.
    pub fn start() -> TestRegistry {
        Self::start_with("")
    }

    /// Same, with extra top-level YAML appended to the config (e.g. an `auth:` section).
    /// It must not repeat the keys the harness writes: `version`, `log`, `storage`, `http`.
    /// With auth configured, `GET /v2/` answers 401; that counts as "up" too.
    pub fn start_with(extra_yaml_config: &str) -> TestRegistry {
        Self::start_inner(extra_yaml_config, false)
    }

    /// A registry with htpasswd (Basic) auth admitting `user` with `password` (bcrypt entry
    /// made by `htpasswd`, from apache2-utils); the file goes into `dir`.
    pub fn start_with_htpasswd(dir: &Path, user: &str, password: &str) -> TestRegistry {
        require_program("htpasswd", "apache2-utils");
        let out = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .output()
            .expect("run htpasswd");
        assert!(out.status.success(), "htpasswd failed");
        let htpasswd = dir.join("htpasswd");
        std::fs::write(&htpasswd, &out.stdout).expect("write the htpasswd file");
        Self::start_with(&format!(
            "auth:\n  htpasswd:\n    realm: dockreg-test\n    path: \"{}\"\n",
            htpasswd.display()
        ))
    }

    /// A registry meant to live in a `static` (never dropped): it dies and its temp dir is
    /// removed when the test process exits (stdin pipe closes).
    pub(crate) fn start_detached(extra_yaml_config: &str) -> TestRegistry {
        Self::start_inner(extra_yaml_config, true)
    }

    fn start_inner(extra: &str, detached: bool) -> TestRegistry {
        require_program("docker-registry", "docker-registry");
        let mut dir = TempDir::new("registry");
        if detached {
            dir.keep();
        }
        std::fs::create_dir_all(dir.join("storage")).expect("create storage dir");
        let n = INSTANCE_COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let instance = format!("{}-{n}-{nanos}", std::process::id());
        let storage = dir.join("storage");
        let mut reg = TestRegistry {
            dir,
            storage,
            port: 0,
            extra_config: extra.to_string(),
            // Fixed for the lifetime of this TestRegistry so that upload sessions (`_state`
            // is HMAC-signed with it) survive a restart.
            secret: format!("dockreg-test-secret-{instance}"),
            instance,
            child: None,
            stdin: None,
            pid: None,
            frozen: false,
            detached,
        };
        let mut errors = Vec::new();
        for attempt in 1..=5 {
            reg.port = free_port();
            match reg.launch() {
                Ok(()) => return reg,
                Err(e) => errors.push(format!("attempt {attempt} (port {}): {e}", reg.port)),
            }
        }
        panic!(
            "docker-registry did not start after 5 attempts:\n{}",
            errors.join("\n")
        );
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `docker://127.0.0.1:PORT/<name_and_ref>` for skopeo, e.g. `docker_ref("a/b:v1")`.
    pub fn docker_ref(&self, name_and_ref: &str) -> String {
        format!("docker://{}/{name_and_ref}", self.addr())
    }

    /// The registry's storage root (`storage.filesystem.rootdirectory`); kept across restart.
    pub fn storage_dir(&self) -> &Path {
        &self.storage
    }

    /// The registry's own log file (stdout+stderr, appended across restarts).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("registry.log")
    }

    /// The generated config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.yml")
    }

    /// The temp dir holding config, log, pid file and storage.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The registry process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The last `lines` lines of the registry log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn is_running(&self) -> bool {
        self.pid.is_some_and(pid_alive)
    }

    /// Stops the registry (SIGTERM, then SIGKILL after 10 s) and waits for it. Storage is kept.
    pub fn stop(&mut self) {
        self.shutdown("TERM");
    }

    /// Simulates a crash: sends `signal` to the registry process and returns once it is gone
    /// (reaped, its listening socket closed), so that nothing answers on [`Self::port`] until
    /// [`Self::restart`]. Storage, config, port and `http.secret` are kept. Does nothing when
    /// the registry is not running. Returns how long the process took to go away.
    ///
    /// The registry is started again only by [`Self::restart`] (or
    /// [`Self::kill_and_restart`]); the "no registry outlives the test process" guarantee holds
    /// for every launch, since each one gets its own `sh` wrapper bound to a stdin pipe.
    pub fn kill(&mut self, signal: Signal) -> Duration {
        let started = Instant::now();
        let pid = self.pid;
        self.shutdown(signal.name());
        if let Some(pid) = pid {
            assert!(
                !pid_alive(pid),
                "registry {pid} still alive after SIG{}",
                signal.name()
            );
        }
        started.elapsed()
    }

    /// [`Self::kill`] with `signal`, a pause of `down` with nothing listening on the port, then
    /// [`Self::restart`] on the same port and storage, returning once `GET /v2/` answers again
    /// (from this instance). Returns the time the registry was unreachable (kill to ready).
    pub fn kill_and_restart(&mut self, signal: Signal, down: Duration) -> Duration {
        let started = Instant::now();
        self.kill(signal);
        std::thread::sleep(down);
        self.restart();
        started.elapsed()
    }

    /// Freezes the registry (SIGSTOP), as a hung server: the kernel still accepts connections
    /// (up to the listen backlog) but nothing is read or answered. [`Self::thaw`] resumes it;
    /// stopping, killing or dropping a frozen registry works as usual.
    pub fn freeze(&mut self) {
        self.send_signal("STOP");
        self.frozen = true;
    }

    /// True between [`Self::freeze`] and [`Self::thaw`] (or a stop).
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Resumes a registry frozen by [`Self::freeze`] (SIGCONT).
    pub fn thaw(&mut self) {
        self.send_signal("CONT");
        self.frozen = false;
    }

    fn send_signal(&self, signal: &str) {
        let pid = self.pid.expect("the registry is not running");
        let ok = Command::new("kill")
            .args(["-s", signal, &pid.to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -s {signal} {pid} failed");
    }

    /// Starts the registry again on the SAME port with the SAME storage, config and
    /// `http.secret` (so upload sessions opened before survive). Stops it first if running.
    pub fn restart(&mut self) {
        self.shutdown("TERM");
        let mut errors = Vec::new();
        for attempt in 1..=5 {
            match self.launch() {
                Ok(()) => return,
                Err(e) => {
                    errors.push(format!("attempt {attempt}: {e}"));
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
        }
        panic!(
            "docker-registry did not restart on port {}:\n{}",
            self.port,
            errors.join("\n")
        );
    }

    fn write_config(&self) {
        let config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: \"{storage}\"\n  delete:\n    enabled: true\n  \
             maintenance:\n    uploadpurging:\n      enabled: false\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: \"{secret}\"\n  headers:\n    {hdr}: [\"{inst}\"]\n\
             {extra}\n",
            storage = self.storage.display(),
            port = self.port,
            secret = self.secret,
            hdr = INSTANCE_HEADER,
            inst = self.instance,
            extra = self.extra_config,
        );
        std::fs::write(self.config_path(), config).expect("write registry config");
    }

    /// One start attempt on `self.port`.
    fn launch(&mut self) -> Result<(), String> {
        self.write_config();
        let pid_file = self.dir.join("registry.pid");
        let _ = std::fs::remove_file(&pid_file);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("open log: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("clone log: {e}"))?;
        let cleanup = if self.detached {
            self.dir.path().display().to_string()
        } else {
            String::new()
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(WRAPPER)
            .arg(self.config_path())
            .arg(&pid_file)
            .arg(cleanup)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2));
        clean_env(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| format!("spawn sh: {e}"))?;
        self.stdin = child.stdin.take();
        self.child = Some(child);
        self.pid = None;

        let deadline = Instant::now() + Duration::from_secs(15);
        // The wrapper writes the registry pid first.
        while self.pid.is_none() {
            if let Ok(s) = std::fs::read_to_string(&pid_file) {
                if s.ends_with('\n') {
                    self.pid = s.trim().parse().ok();
                }
            }
            if self.pid.is_none() {
                if Instant::now() > deadline {
                    self.shutdown("KILL");
                    return Err("no pid file from the wrapper".into());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let pid = self.pid.unwrap();
        let probe_agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .new_agent();
        let url = format!("{}/v2/", self.url());
        let mut last: String;
        loop {
            if !pid_alive(pid) {
                // Give the log a moment to be flushed, then report.
                std::thread::sleep(Duration::from_millis(50));
                self.shutdown("KILL");
                return Err(format!(
                    "docker-registry exited during start-up; log tail:\n{}",
                    self.log_tail(20)
                ));
            }
            match raw::try_raw_request_with(&probe_agent, "GET", &url, &[], None) {
                Ok(r)
                    if r.header(INSTANCE_HEADER) == Some(self.instance.as_str())
                        && (r.status == 200 || r.status == 401) =>
                {
                    return Ok(());
                }
                Ok(r) => {
                    last = format!(
                        "GET /v2/ -> {} (instance header {:?})",
                        r.status,
                        r.header(INSTANCE_HEADER)
                    )
                }
                Err(e) => last = format!("GET /v2/ -> {e}"),
            }
            if Instant::now() > deadline {
                self.shutdown("KILL");
                return Err(format!(
                    "not ready within 15 s (last: {last}); log tail:\n{}",
                    self.log_tail(20)
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Asks the wrapper to send `signal` to the registry, then reaps the wrapper (bounded).
    fn shutdown(&mut self, signal: &str) {
        // (The wrapper sends CONT after the signal, so a frozen registry ends as well.)
        self.frozen = false;
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "{signal}");
            let _ = stdin.flush();
        }
        let Some(mut child) = self.child.take() else {
            self.pid = None;
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    if let Some(pid) = self.pid {
                        let _ = Command::new("kill")
                            .args(["-KILL", &pid.to_string()])
                            .stderr(Stdio::null())
                            .status();
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        self.pid = None;
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.shutdown("KILL");
    }
}

/// True while `/proc/<pid>` exists and the process is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

//! Docker credential helpers: `docker-credential-<name> get`, the server URL on stdin, JSON
//! `{"ServerURL", "Username", "Secret"}` on stdout (Username `<token>`: an identity token).
//!
//! A helper never hangs the client (it is killed after a timeout), and errors name the helper
//! and how it failed but never quote what it printed: its output may hold the secret.

use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Credentials, Secret};

/// Time a helper may take before it is killed (the default of the builder option).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest helper output read.
const MAX_OUTPUT: u64 = 1024 * 1024;
/// How often a running helper is polled.
const POLL: Duration = Duration::from_millis(10);

/// Where helpers are found and how long they may run.
#[derive(Debug, Clone)]
pub(crate) struct HelperOptions {
    /// Directories searched for `docker-credential-<name>`; `None` searches `$PATH`.
    pub dirs: Option<Vec<PathBuf>>,
    /// Time allowed for one run.
    pub timeout: Duration,
}

impl Default for HelperOptions {
    fn default() -> Self {
        Self {
            dirs: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The helper's answer.
#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default, rename = "Username")]
    username: String,
    #[serde(default, rename = "Secret")]
    secret: String,
}

/// Asks helper `name` for the credentials of `server_url`. `Ok(None)` when the helper has none
/// ("credentials not found"); `Err` with a message naming the helper otherwise.
pub(crate) fn get(
    name: &str,
    server_url: &str,
    options: &HelperOptions,
) -> Result<Option<Credentials>, String> {
    let program = format!("docker-credential-{name}");
    if name.is_empty() || name.contains(['/', '\\', '\0']) || name.starts_with('.') {
        return Err(format!("invalid credential helper name {name:?}"));
    }
    let path = find(&program, options.dirs.as_deref()).ok_or_else(|| {
        format!(
            "credential helper {program} not found on {}",
            where_(options)
        )
    })?;
    log::debug!(
        target: "dockreg::auth",
        "running {} get for {server_url}",
        path.display()
    );
    let stdin = stdin_file(server_url).map_err(|e| format!("credential helper {program}: {e}"))?;
    let mut child = Command::new(&path)
        .arg("get")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("credential helper {program} could not start: {e}"))?;
    let stdout = child.stdout.take();
    let (tx, rx) = mpsc::channel();
    // A helper that forks may keep stdout open after it exits: read it on a thread that is
    // left behind rather than waited for past the deadline.
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(MAX_OUTPUT).read_to_end(&mut out);
        }
        let _ = tx.send(out);
    });
    // A timeout too large to be a point in time waits as long as the helper runs.
    let deadline = Instant::now().checked_add(options.timeout);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if deadline.is_none_or(|d| Instant::now() < d) => std::thread::sleep(POLL),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "credential helper {program} did not answer within {} s and was stopped",
                    options.timeout.as_secs_f32()
                ));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("credential helper {program}: {e}"));
            }
        }
    };
    let left = deadline
        .map_or(options.timeout, |d| {
            d.saturating_duration_since(Instant::now())
        })
        .max(POLL);
    let out = rx.recv_timeout(left).map_err(|_| {
        format!("credential helper {program} kept its output open past the timeout")
    })?;
    if !status.success() {
        // The protocol's "no credentials for this server" answer.
        if String::from_utf8_lossy(&out).contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("credential helper {program} failed ({status})"));
    }
    let answer: Answer = serde_json::from_slice(&out).map_err(|_| {
        format!("credential helper {program} printed something that is not its JSON answer")
    })?;
    Ok(credentials(answer))
}

fn credentials(a: Answer) -> Option<Credentials> {
    match (a.username.as_str(), a.secret.is_empty()) {
        (_, true) => None,
        ("<token>", false) => Some(Credentials::IdentityToken(Secret::new(a.secret))),
        (user, false) => Some(Credentials::Basic {
            username: user.to_string(),
            password: Secret::new(a.secret),
        }),
    }
}

/// The server URL in a file the helper reads as stdin: writing to a pipe could raise SIGPIPE,
/// which kills a C host process that does not ignore it, when the helper exits early.
fn stdin_file(server_url: &str) -> std::io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        ".dockreg-helper-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    let written = f.write_all(server_url.as_bytes());
    drop(f);
    let reader = std::fs::File::open(&path);
    let _ = std::fs::remove_file(&path);
    written?;
    reader
}

fn where_(options: &HelperOptions) -> String {
    match &options.dirs {
        None => "PATH".to_string(),
        Some(dirs) => {
            let d: Vec<String> = dirs.iter().map(|p| p.display().to_string()).collect();
            format!("the helper path {}", d.join(":"))
        }
    }
}

/// The executable `program` in `dirs`, or on `$PATH` when `dirs` is `None`.
fn find(program: &str, dirs: Option<&[PathBuf]>) -> Option<PathBuf> {
    let from_env;
    let dirs: Vec<PathBuf> = match dirs {
        Some(d) => d.to_vec(),
        None => {
            from_env = std::env::var_os("PATH")?;
            std::env::split_paths(&from_env).collect()
        }
    };
    dirs.iter()
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Option<Credentials> {
        credentials(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn answers() {
        assert_eq!(
            answer(r#"{"ServerURL":"x","Username":"u","Secret":"s"}"#),
            Some(Credentials::basic("u", "s"))
        );
        assert_eq!(
            answer(r#"{"Username":"<token>","Secret":"r"}"#),
            Some(Credentials::identity_token("r"))
        );
        assert_eq!(answer(r#"{"Username":"u","Secret":""}"#), None);
        assert_eq!(answer("{}"), None);
    }

    #[test]
    fn bad_names_and_missing_helpers() {
        let opts = HelperOptions {
            dirs: Some(vec![PathBuf::from("/nonexistent-dockreg-dir")]),
            timeout: Duration::from_secs(1),
        };
        for bad in ["", "../x", "a/b", ".hidden"] {
            let e = get(bad, "r.example", &opts).unwrap_err();
            assert!(e.contains("invalid credential helper name"), "{e}");
        }
        let e = get("nothere", "r.example", &opts).unwrap_err();
        assert!(e.contains("docker-credential-nothere not found"), "{e}");
        assert!(e.contains("/nonexistent-dockreg-dir"), "{e}");
    }

    #[test]
    fn stdin_file_holds_the_url() {
        let mut f = stdin_file("https://index.docker.io/v1/").unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "https://index.docker.io/v1/");
    }
}

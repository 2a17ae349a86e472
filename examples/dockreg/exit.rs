//! Failures and the exit status each one gives (listed in `dockreg --help`).

use std::process::ExitCode;

/// Any error the library or the command itself did not classify.
pub const OTHER: u8 = 1;
/// Usage errors: clap exits with 2 itself; commands use it for arguments clap cannot check.
pub const USAGE: u8 = 2;
/// The registry has no such repository, tag, manifest, blob or platform.
pub const NOT_FOUND: u8 = 3;
/// Credentials are missing, wrong or not allowed.
pub const AUTH: u8 = 4;
/// No HTTP answer: connection, DNS, TLS, timeout.
pub const NETWORK: u8 = 5;

/// Why a command failed: a usage error (exit 2), or an error whose kind sets the status.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Error(Box<dyn std::error::Error>),
    /// Already told on stderr (a command that goes on after an error): only the status.
    Reported(u8),
}

pub type Outcome<T = ()> = Result<T, Failure>;

impl<E: std::error::Error + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::Error(Box::new(e))
    }
}

impl Failure {
    pub fn message(msg: impl Into<String>) -> Self {
        let msg: String = msg.into();
        Self::Error(msg.into())
    }

    /// The exit status for this failure.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => USAGE,
            Failure::Reported(code) => *code,
            Failure::Error(e) => match e.downcast_ref::<dockreg::Error>() {
                Some(e) => library_code(e),
                None => OTHER,
            },
        }
    }

    /// Prints the one-line message on stderr and returns the exit status.
    pub fn report(&self) -> ExitCode {
        if self.is_broken_pipe() {
            // The reader of stdout went away (`dockreg tags R | head -1`): it has what it
            // wanted, so end quietly, as the standard tools do.
            return ExitCode::SUCCESS;
        }
        match self {
            Failure::Usage(msg) => {
                eprintln!("dockreg: {msg}\n\nFor more information, try '--help'.")
            }
            Failure::Error(e) => eprintln!("dockreg: {e}"),
            Failure::Reported(_) => {}
        }
        ExitCode::from(self.code())
    }
}

impl Failure {
    fn is_broken_pipe(&self) -> bool {
        let Failure::Error(e) = self else {
            return false;
        };
        let kind = match (
            e.downcast_ref::<std::io::Error>(),
            e.downcast_ref::<serde_json::Error>(),
        ) {
            (Some(io), _) => Some(io.kind()),
            (None, Some(json)) => json.io_error_kind(),
            (None, None) => None,
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    }
}

/// The exit status for a library error.
pub fn library_code(e: &dockreg::Error) -> u8 {
    use dockreg::Error as E;
    match e {
        E::NotFound(_) | E::PlatformNotFound { .. } => NOT_FOUND,
        E::Unauthorized(_) | E::Denied(_) | E::Auth { .. } => AUTH,
        E::Transport { .. } => NETWORK,
        // Bad input is caught by clap (exit 2) before the library sees it; a remaining one
        // (a tag built from two arguments, say) is a usage error as well.
        E::InvalidReference { .. } | E::InvalidDigest { .. } | E::InvalidInput(_) => USAGE,
        _ => OTHER,
    }
}

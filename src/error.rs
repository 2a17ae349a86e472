//! The one error type of the crate.
//!
//! Every failure is typed: bad input is caught before any network I/O, transport failures keep
//! their kind, and a registry's non-2xx answer keeps its HTTP status, URL and the raw error codes
//! of its `{"errors":[...]}` body. No variant ever holds a credential.

use std::fmt;
use std::time::Duration;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in dockreg.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An image reference did not follow the reference grammar.
    #[error("invalid image reference {input:?}: {reason}")]
    InvalidReference {
        /// The text given (truncated when very long).
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A digest did not follow the `algorithm:hex` grammar.
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest {
        /// The text given (truncated when very long).
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Some other argument was not acceptable (a platform string, a page size, an option).
    #[error("invalid argument: {0}")]
    InvalidInput(String),
    /// The request never got an HTTP answer: connection refused, DNS, TLS, timeout, I/O.
    #[error("{method} {}: {kind}: {}{}", safe(url), safe(message), after(*attempts))]
    Transport {
        /// HTTP method of the request.
        method: String,
        /// URL of the request (never holds credentials).
        url: String,
        /// What class of failure it was.
        kind: TransportErrorKind,
        /// Detail from the HTTP stack.
        message: String,
        /// Attempts made (1 when the request was not retried).
        attempts: u32,
    },
    /// The registry answered 404.
    #[error("not found: {0}")]
    NotFound(Box<RegistryError>),
    /// The registry answered 401: credentials are missing or wrong.
    #[error("unauthorized: {0}")]
    Unauthorized(Box<RegistryError>),
    /// The registry answered 403: the credentials do not allow this.
    #[error("denied: {0}")]
    Denied(Box<RegistryError>),
    /// The registry answered 429; [`RegistryError::retry_after`] says when to try again.
    #[error("too many requests: {0}")]
    TooManyRequests(Box<RegistryError>),
    /// Any other non-2xx answer.
    #[error("registry error: {0}")]
    Registry(Box<RegistryError>),
    /// Content did not hash to the digest it was asked for or announced with.
    #[error(
        "digest mismatch for {}: expected {}, got {}",
        safe(url),
        safe(expected),
        safe(actual)
    )]
    DigestMismatch {
        /// Where the content came from.
        url: String,
        /// The digest asked for or announced.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A response body was larger than the limit for its kind.
    #[error("response from {} exceeds the {limit}-byte limit", safe(url))]
    TooLarge {
        /// Where the body came from.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The registry answered 2xx with something that is not what the protocol says.
    #[error("invalid response from {}: {}", safe(url), safe(message))]
    InvalidResponse {
        /// Where the response came from.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// Credentials could not be obtained or used (helper failed, token server refused, ...).
    #[error("authentication for {registry} failed: {}", safe(message))]
    Auth {
        /// Registry the credentials were for.
        registry: String,
        /// What went wrong (never holds a secret).
        message: String,
    },
    /// An index has no image for the platform asked for.
    #[error(
        "{reference} has no image for platform {platform} (it has: {})",
        safe(available)
    )]
    PlatformNotFound {
        /// The image asked for.
        reference: String,
        /// The platform asked for.
        platform: String,
        /// The platforms the index lists, comma separated.
        available: String,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A progress callback or caller asked to stop.
    #[error("cancelled by the caller")]
    Cancelled,
    /// The registry does not support this operation (e.g. deleting a tag on its own); the
    /// registry's answer, when there was one, is kept.
    #[error("{operation} is not supported by {registry}: {}", safe(reason))]
    Unsupported {
        /// What was asked (e.g. `deleting the tag 127.0.0.1:5000/app:v1`).
        operation: String,
        /// The registry host.
        registry: String,
        /// Why, and what to do instead.
        reason: String,
        /// The registry's answer.
        #[source]
        source: Option<Box<Error>>,
    },
}

/// Class of a [`Error::Transport`] failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, unreachable, host not found).
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// A configured timeout expired.
    Timeout,
    /// Too many redirects, or a redirect that could not be followed.
    Redirect,
    /// The connection broke or the HTTP framing was invalid.
    Io,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connection failed",
            Self::Tls => "tls error",
            Self::Timeout => "timed out",
            Self::Redirect => "redirect failed",
            Self::Io => "i/o error",
        })
    }
}

/// A registry's non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// HTTP method of the request.
    pub method: String,
    /// URL of the request.
    pub url: String,
    /// HTTP status code.
    pub status: u16,
    /// Entries of the `{"errors":[...]}` body, in order; empty when the body was not that.
    pub errors: Vec<ErrorEntry>,
    /// The start of the body when it was not a registry error document (at most 512 bytes).
    pub body: Option<String>,
    /// `Retry-After` as a delay, when the registry sent one (429, 503).
    pub retry_after: Option<Duration>,
    /// Attempts made before this answer was final (1 when the request was not retried).
    pub attempts: u32,
}

/// One entry of a registry error body (`code` kept as the registry sent it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorEntry {
    /// Error code such as `MANIFEST_UNKNOWN`, exactly as sent.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Free-form detail, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

impl RegistryError {
    /// True when any entry has this error code (e.g. `"MANIFEST_UNKNOWN"`).
    pub fn has_code(&self, code: &str) -> bool {
        self.errors.iter().any(|e| e.code == code)
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Codes, messages, body and URL come from the registry: control characters are
        // escaped so that a hostile registry cannot write into a log or a terminal.
        write!(
            f,
            "{} {} answered {}",
            self.method,
            safe(&self.url),
            self.status
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{}", safe(&e.code))?;
            if !e.message.is_empty() {
                write!(f, " ({})", safe(&e.message))?;
            }
        }
        if let Some(body) = &self.body {
            if !body.is_empty() {
                write!(f, ": \"{}\"", safe(body))?;
            }
        }
        if let Some(d) = self.retry_after {
            write!(f, "; retry after {}s", d.as_secs())?;
        }
        f.write_str(&after(self.attempts))
    }
}

impl Error {
    /// The registry's answer, for the variants that carry one (an `Unsupported` error carries
    /// the answer that showed it).
    pub fn registry_error(&self) -> Option<&RegistryError> {
        match self {
            Self::NotFound(e)
            | Self::Unauthorized(e)
            | Self::Denied(e)
            | Self::TooManyRequests(e)
            | Self::Registry(e) => Some(e),
            // The registry's answer that showed the operation is unsupported.
            Self::Unsupported {
                source: Some(s), ..
            } => s.registry_error(),
            _ => None,
        }
    }

    /// HTTP status of the registry's answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.registry_error().map(|e| e.status)
    }

    /// True for a 404 answer.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }

    /// The same error, saying it came after `attempts` attempts.
    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            Self::Transport { attempts, .. } => *attempts = n,
            Self::NotFound(e)
            | Self::Unauthorized(e)
            | Self::Denied(e)
            | Self::TooManyRequests(e)
            | Self::Registry(e) => e.attempts = n,
            _ => {}
        }
        self
    }

    /// Attempts the failed request took (1 when it was not retried, or for errors that are
    /// not about one request).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Transport { attempts, .. } => *attempts,
            _ => self.registry_error().map_or(1, |e| e.attempts),
        }
    }

    /// Builds the typed error for a non-2xx answer.
    pub(crate) fn from_status(e: RegistryError) -> Self {
        let e = Box::new(e);
        match e.status {
            401 => Self::Unauthorized(e),
            403 => Self::Denied(e),
            404 => Self::NotFound(e),
            429 => Self::TooManyRequests(e),
            _ => Self::Registry(e),
        }
    }

    /// The URL is kept without its query: after a redirect it may be a signed storage URL
    /// whose signature is a secret.
    pub(crate) fn invalid_response(url: &str, message: impl Into<String>) -> Self {
        Self::InvalidResponse {
            url: crate::url::without_query(url).to_string(),
            message: message.into(),
        }
    }
}

/// Text from a registry made safe to print: control characters (line breaks, terminal escapes,
/// bidirectional overrides) are shown as `\u{..}` escapes instead of being written raw.
pub(crate) fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// ` (after N attempts)` when a request was retried.
fn after(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

/// Bytes of a non-JSON error body kept in the error.
const ERROR_SNIPPET: usize = 512;

/// The registry's `{"errors":[...]}` entries, or a short text of any other body.
pub(crate) fn parse_error_body(body: &[u8]) -> (Vec<ErrorEntry>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Doc {
        errors: Vec<ErrorEntry>,
    }
    if let Ok(doc) = serde_json::from_slice::<Doc>(body) {
        return (doc.errors, None);
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return (Vec::new(), None);
    }
    let mut end = text.len().min(ERROR_SNIPPET);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (Vec::new(), Some(text[..end].to_string()))
}

/// Shortens user input quoted in an error so a huge argument cannot flood a log.
pub(crate) fn clip(input: &str) -> String {
    const MAX: usize = 300;
    if input.len() <= MAX {
        return input.to_string();
    }
    let mut end = MAX;
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &input[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        let (e, s) = parse_error_body(br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#);
        assert_eq!(e[0].code, "MANIFEST_UNKNOWN");
        assert!(s.is_none());
        let (e, s) = parse_error_body(b"404 page not found\n");
        assert!(e.is_empty());
        assert_eq!(s.as_deref(), Some("404 page not found"));
        let long = "x".repeat(10_000);
        assert_eq!(
            parse_error_body(long.as_bytes()).1.unwrap().len(),
            ERROR_SNIPPET
        );
        assert_eq!(parse_error_body(b""), (vec![], None));
    }

    #[test]
    fn registry_text_is_escaped_in_display() {
        let e = RegistryError {
            method: "GET".into(),
            url: "http://r/v2/a\x1b[2J".into(),
            status: 500,
            errors: vec![ErrorEntry {
                code: "BAD\nCODE".into(),
                message: "line\r\nInjected: \x1b]0;title\x07 \u{202e}rev".into(),
                detail: None,
            }],
            body: None,
            retry_after: None,
            attempts: 3,
        };
        let s = Error::from_status(e).to_string();
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert!(!s.contains('\u{202e}'));
        assert!(s.contains("\\u{1b}[2J"), "{s}");
        assert!(s.contains("(after 3 attempts)"), "{s}");
        let t = Error::Transport {
            method: "GET".into(),
            url: "http://r/".into(),
            kind: TransportErrorKind::Io,
            message: "bad\nthing".into(),
            attempts: 1,
        };
        assert_eq!(t.to_string(), "GET http://r/: i/o error: bad\\u{a}thing");
    }
}

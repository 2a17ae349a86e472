//! The status every fallible export returns, and the one mapping from [`Error`] to it.

use std::ffi::CStr;

use crate::error::{Error, TransportErrorKind};

/// What a dockreg call returned: `DOCKREG_OK` (0) on success, otherwise why it failed.
///
/// Values are grouped by kind and never renumbered; new values may be added, so treat an
/// unknown value as a generic failure. Details of a failure (message, HTTP status, URL,
/// registry error codes) are in `dockreg_last_error_message()` and `dockreg_last_error_json()`.
///
/// | values | kind |
/// |--------|------|
/// | 0      | success |
/// | 1-9    | misuse of the API by the caller (NULL, bad UTF-8, bad options) |
/// | 10-19  | bad input (a reference, digest or other argument) |
/// | 20-29  | transport: no HTTP answer |
/// | 30-39  | authentication and authorization |
/// | 40-49  | the registry's answer |
/// | 50-59  | content checks |
/// | 60-69  | local files, callbacks and cancellation |
/// | 70-89  | uploads and other write operations (71-89 reserved) |
/// | 99     | a bug in dockreg (a Rust panic) |
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum dockreg_status {
    /// Success.
    DOCKREG_OK = 0,
    /// A pointer argument that must not be NULL was NULL.
    DOCKREG_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    DOCKREG_ERR_INVALID_UTF8 = 2,
    /// A JSON argument was not syntactically valid JSON.
    DOCKREG_ERR_INVALID_JSON = 3,
    /// A client option was unknown, of the wrong type or out of range.
    DOCKREG_ERR_INVALID_OPTION = 4,
    /// An image reference or registry name did not follow the reference grammar.
    DOCKREG_ERR_INVALID_REFERENCE = 10,
    /// A digest did not follow the `algorithm:hex` grammar.
    DOCKREG_ERR_INVALID_DIGEST = 11,
    /// Another argument was not acceptable (a tag, a manifest, a media type).
    DOCKREG_ERR_INVALID_ARGUMENT = 12,
    /// Could not connect: refused, unreachable, host not found.
    DOCKREG_ERR_CONNECT = 20,
    /// TLS handshake or certificate failure.
    DOCKREG_ERR_TLS = 21,
    /// A configured timeout expired.
    DOCKREG_ERR_TIMEOUT = 22,
    /// Too many redirects, or a redirect that could not be followed.
    DOCKREG_ERR_REDIRECT = 23,
    /// The connection broke or the HTTP framing was invalid.
    DOCKREG_ERR_NETWORK_IO = 24,
    /// The registry answered 401: credentials are missing or wrong.
    DOCKREG_ERR_UNAUTHORIZED = 30,
    /// The registry answered 403: the credentials do not allow this.
    DOCKREG_ERR_DENIED = 31,
    /// Credentials could not be obtained or used (token server refused, helper failed).
    DOCKREG_ERR_AUTH_FAILED = 32,
    /// The registry answered 404: no such repository, manifest, tag or blob.
    DOCKREG_ERR_NOT_FOUND = 40,
    /// The registry answered 429; the last error JSON may hold `retry_after_seconds`.
    DOCKREG_ERR_TOO_MANY_REQUESTS = 41,
    /// An index has no image for the client's platform.
    DOCKREG_ERR_PLATFORM_NOT_FOUND = 42,
    /// The registry answered another non-2xx status.
    DOCKREG_ERR_REGISTRY = 43,
    /// The registry answered 2xx with something the protocol does not allow.
    DOCKREG_ERR_INVALID_RESPONSE = 44,
    /// The registry does not support the operation (e.g. deleting a tag on its own).
    DOCKREG_ERR_UNSUPPORTED = 45,
    /// Content did not hash to the digest it was asked for or announced with.
    DOCKREG_ERR_DIGEST_MISMATCH = 50,
    /// A response was larger than the limit for its kind.
    DOCKREG_ERR_TOO_LARGE = 51,
    /// A local file could not be read or written.
    DOCKREG_ERR_FILE_IO = 60,
    /// A progress callback returned non-zero: the transfer was stopped.
    DOCKREG_ERR_CANCELLED = 61,
    /// A write callback did not consume all the bytes it was given.
    DOCKREG_ERR_CALLBACK = 62,
    /// A read callback reported a failure (returned `SIZE_MAX`) or returned more bytes than
    /// the buffer holds: the upload was stopped and nothing was committed.
    DOCKREG_ERR_READ_CALLBACK = 70,
    /// A bug in dockreg (a Rust panic, caught at the boundary). Please report it.
    DOCKREG_ERR_PANIC = 99,
}

use dockreg_status::*;

impl dockreg_status {
    /// Every status, in numeric order.
    pub(crate) const ALL: [dockreg_status; 29] = [
        DOCKREG_OK,
        DOCKREG_ERR_NULL_ARGUMENT,
        DOCKREG_ERR_INVALID_UTF8,
        DOCKREG_ERR_INVALID_JSON,
        DOCKREG_ERR_INVALID_OPTION,
        DOCKREG_ERR_INVALID_REFERENCE,
        DOCKREG_ERR_INVALID_DIGEST,
        DOCKREG_ERR_INVALID_ARGUMENT,
        DOCKREG_ERR_CONNECT,
        DOCKREG_ERR_TLS,
        DOCKREG_ERR_TIMEOUT,
        DOCKREG_ERR_REDIRECT,
        DOCKREG_ERR_NETWORK_IO,
        DOCKREG_ERR_UNAUTHORIZED,
        DOCKREG_ERR_DENIED,
        DOCKREG_ERR_AUTH_FAILED,
        DOCKREG_ERR_NOT_FOUND,
        DOCKREG_ERR_TOO_MANY_REQUESTS,
        DOCKREG_ERR_PLATFORM_NOT_FOUND,
        DOCKREG_ERR_REGISTRY,
        DOCKREG_ERR_INVALID_RESPONSE,
        DOCKREG_ERR_UNSUPPORTED,
        DOCKREG_ERR_DIGEST_MISMATCH,
        DOCKREG_ERR_TOO_LARGE,
        DOCKREG_ERR_FILE_IO,
        DOCKREG_ERR_CANCELLED,
        DOCKREG_ERR_CALLBACK,
        DOCKREG_ERR_READ_CALLBACK,
        DOCKREG_ERR_PANIC,
    ];

    /// The constant's name as written in C, e.g. `"DOCKREG_ERR_NOT_FOUND"`.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().unwrap_or("DOCKREG_ERR_UNKNOWN")
    }

    /// The constant's name as a NUL-terminated string (for `dockreg_status_name`).
    pub(crate) fn c_name(self) -> &'static CStr {
        match self {
            DOCKREG_OK => c"DOCKREG_OK",
            DOCKREG_ERR_NULL_ARGUMENT => c"DOCKREG_ERR_NULL_ARGUMENT",
            DOCKREG_ERR_INVALID_UTF8 => c"DOCKREG_ERR_INVALID_UTF8",
            DOCKREG_ERR_INVALID_JSON => c"DOCKREG_ERR_INVALID_JSON",
            DOCKREG_ERR_INVALID_OPTION => c"DOCKREG_ERR_INVALID_OPTION",
            DOCKREG_ERR_INVALID_REFERENCE => c"DOCKREG_ERR_INVALID_REFERENCE",
            DOCKREG_ERR_INVALID_DIGEST => c"DOCKREG_ERR_INVALID_DIGEST",
            DOCKREG_ERR_INVALID_ARGUMENT => c"DOCKREG_ERR_INVALID_ARGUMENT",
            DOCKREG_ERR_CONNECT => c"DOCKREG_ERR_CONNECT",
            DOCKREG_ERR_TLS => c"DOCKREG_ERR_TLS",
            DOCKREG_ERR_TIMEOUT => c"DOCKREG_ERR_TIMEOUT",
            DOCKREG_ERR_REDIRECT => c"DOCKREG_ERR_REDIRECT",
            DOCKREG_ERR_NETWORK_IO => c"DOCKREG_ERR_NETWORK_IO",
            DOCKREG_ERR_UNAUTHORIZED => c"DOCKREG_ERR_UNAUTHORIZED",
            DOCKREG_ERR_DENIED => c"DOCKREG_ERR_DENIED",
            DOCKREG_ERR_AUTH_FAILED => c"DOCKREG_ERR_AUTH_FAILED",
            DOCKREG_ERR_NOT_FOUND => c"DOCKREG_ERR_NOT_FOUND",
            DOCKREG_ERR_TOO_MANY_REQUESTS => c"DOCKREG_ERR_TOO_MANY_REQUESTS",
            DOCKREG_ERR_PLATFORM_NOT_FOUND => c"DOCKREG_ERR_PLATFORM_NOT_FOUND",
            DOCKREG_ERR_REGISTRY => c"DOCKREG_ERR_REGISTRY",
            DOCKREG_ERR_INVALID_RESPONSE => c"DOCKREG_ERR_INVALID_RESPONSE",
            DOCKREG_ERR_UNSUPPORTED => c"DOCKREG_ERR_UNSUPPORTED",
            DOCKREG_ERR_DIGEST_MISMATCH => c"DOCKREG_ERR_DIGEST_MISMATCH",
            DOCKREG_ERR_TOO_LARGE => c"DOCKREG_ERR_TOO_LARGE",
            DOCKREG_ERR_FILE_IO => c"DOCKREG_ERR_FILE_IO",
            DOCKREG_ERR_CANCELLED => c"DOCKREG_ERR_CANCELLED",
            DOCKREG_ERR_CALLBACK => c"DOCKREG_ERR_CALLBACK",
            DOCKREG_ERR_READ_CALLBACK => c"DOCKREG_ERR_READ_CALLBACK",
            DOCKREG_ERR_PANIC => c"DOCKREG_ERR_PANIC",
        }
    }

    /// The status with this numeric value, if there is one.
    pub fn from_i32(value: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as i32 == value)
    }
}

/// The status for a library error and the URL it concerns, when it names one.
///
/// The one place where [`Error`] meets the C statuses: the match is exhaustive (no wildcard),
/// so a new variant does not compile until someone decides its status here.
pub(crate) fn classify(e: &Error) -> (dockreg_status, Option<&str>) {
    match e {
        Error::InvalidReference { .. } => (DOCKREG_ERR_INVALID_REFERENCE, None),
        Error::InvalidDigest { .. } => (DOCKREG_ERR_INVALID_DIGEST, None),
        Error::InvalidInput(_) => (DOCKREG_ERR_INVALID_ARGUMENT, None),
        Error::Transport { kind, url, .. } => {
            let status = match kind {
                TransportErrorKind::Connect => DOCKREG_ERR_CONNECT,
                TransportErrorKind::Tls => DOCKREG_ERR_TLS,
                TransportErrorKind::Timeout => DOCKREG_ERR_TIMEOUT,
                TransportErrorKind::Redirect => DOCKREG_ERR_REDIRECT,
                TransportErrorKind::Io => DOCKREG_ERR_NETWORK_IO,
            };
            (status, Some(url))
        }
        Error::NotFound(r) => (DOCKREG_ERR_NOT_FOUND, Some(&r.url)),
        Error::Unauthorized(r) => (DOCKREG_ERR_UNAUTHORIZED, Some(&r.url)),
        Error::Denied(r) => (DOCKREG_ERR_DENIED, Some(&r.url)),
        Error::TooManyRequests(r) => (DOCKREG_ERR_TOO_MANY_REQUESTS, Some(&r.url)),
        Error::Registry(r) => (DOCKREG_ERR_REGISTRY, Some(&r.url)),
        Error::DigestMismatch { url, .. } => (DOCKREG_ERR_DIGEST_MISMATCH, Some(url)),
        Error::TooLarge { url, .. } => (DOCKREG_ERR_TOO_LARGE, Some(url)),
        Error::InvalidResponse { url, .. } => (DOCKREG_ERR_INVALID_RESPONSE, Some(url)),
        Error::Auth { .. } => (DOCKREG_ERR_AUTH_FAILED, None),
        Error::PlatformNotFound { .. } => (DOCKREG_ERR_PLATFORM_NOT_FOUND, None),
        Error::Io { .. } => (DOCKREG_ERR_FILE_IO, None),
        Error::Cancelled => (DOCKREG_ERR_CANCELLED, None),
        Error::Unsupported { source, .. } => (
            DOCKREG_ERR_UNSUPPORTED,
            source.as_deref().and_then(|s| classify(s).1),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published values: C programs are compiled against them, so they never change.
    #[test]
    fn values_are_never_renumbered() {
        let published = [
            ("DOCKREG_OK", 0),
            ("DOCKREG_ERR_NULL_ARGUMENT", 1),
            ("DOCKREG_ERR_INVALID_UTF8", 2),
            ("DOCKREG_ERR_INVALID_JSON", 3),
            ("DOCKREG_ERR_INVALID_OPTION", 4),
            ("DOCKREG_ERR_INVALID_REFERENCE", 10),
            ("DOCKREG_ERR_INVALID_DIGEST", 11),
            ("DOCKREG_ERR_INVALID_ARGUMENT", 12),
            ("DOCKREG_ERR_CONNECT", 20),
            ("DOCKREG_ERR_TLS", 21),
            ("DOCKREG_ERR_TIMEOUT", 22),
            ("DOCKREG_ERR_REDIRECT", 23),
            ("DOCKREG_ERR_NETWORK_IO", 24),
            ("DOCKREG_ERR_UNAUTHORIZED", 30),
            ("DOCKREG_ERR_DENIED", 31),
            ("DOCKREG_ERR_AUTH_FAILED", 32),
            ("DOCKREG_ERR_NOT_FOUND", 40),
            ("DOCKREG_ERR_TOO_MANY_REQUESTS", 41),
            ("DOCKREG_ERR_PLATFORM_NOT_FOUND", 42),
            ("DOCKREG_ERR_REGISTRY", 43),
            ("DOCKREG_ERR_INVALID_RESPONSE", 44),
            ("DOCKREG_ERR_UNSUPPORTED", 45),
            ("DOCKREG_ERR_DIGEST_MISMATCH", 50),
            ("DOCKREG_ERR_TOO_LARGE", 51),
            ("DOCKREG_ERR_FILE_IO", 60),
            ("DOCKREG_ERR_CANCELLED", 61),
            ("DOCKREG_ERR_CALLBACK", 62),
            ("DOCKREG_ERR_READ_CALLBACK", 70),
            ("DOCKREG_ERR_PANIC", 99),
        ];
        let ours: Vec<(&str, i32)> = dockreg_status::ALL
            .iter()
            .map(|s| (s.name(), *s as i32))
            .collect();
        assert_eq!(ours, published);
        for (name, value) in published {
            assert_eq!(
                dockreg_status::from_i32(value).map(|s| s.name()),
                Some(name)
            );
        }
        assert_eq!(dockreg_status::from_i32(5), None);
        assert_eq!(dockreg_status::from_i32(-1), None);
    }

    #[test]
    fn values_are_grouped_by_kind() {
        let transport = |kind| Error::Transport {
            method: "GET".into(),
            url: "http://r/v2/".into(),
            kind,
            message: String::new(),
            attempts: 1,
        };
        for kind in [
            TransportErrorKind::Connect,
            TransportErrorKind::Tls,
            TransportErrorKind::Timeout,
            TransportErrorKind::Redirect,
            TransportErrorKind::Io,
        ] {
            let e = transport(kind);
            let (status, url) = classify(&e);
            assert!((20..30).contains(&(status as i32)), "{kind:?}");
            assert_eq!(url, Some("http://r/v2/"));
        }
        assert_eq!(classify(&Error::Cancelled).0, DOCKREG_ERR_CANCELLED);
        assert_eq!(
            classify(&Error::InvalidInput("x".into())).0,
            DOCKREG_ERR_INVALID_ARGUMENT
        );
    }
}

//! Content digests (`sha256:<hex>`): parsing, computing, and verifying while streaming.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result, clip};

/// A content digest such as `sha256:6c3c62...`.
///
/// Parsing follows the OCI grammar (`algorithm ":" encoded`); `sha256` and `sha512` must be lower
/// case hex of their exact length. Other algorithms parse but cannot be verified.
///
/// ```
/// let d: dockreg::Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?;
/// assert_eq!(d.algorithm(), "sha256");
/// assert_eq!(d, dockreg::Digest::sha256_of(b""));
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
    colon: usize,
}

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self::from_hash("sha256", &Sha256::digest(bytes))
    }

    fn from_hash(algorithm: &str, hash: &[u8]) -> Self {
        let mut text = String::with_capacity(algorithm.len() + 1 + hash.len() * 2);
        text.push_str(algorithm);
        text.push(':');
        for b in hash {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        Self {
            colon: algorithm.len(),
            text,
        }
    }

    /// The algorithm part (`sha256`).
    pub fn algorithm(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The encoded part (the hex).
    pub fn hex(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The whole digest as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A hasher for this digest's algorithm, or an error when dockreg cannot compute it.
    pub(crate) fn hasher(&self) -> Result<Hasher> {
        Hasher::for_algorithm(self.algorithm()).ok_or_else(|| {
            invalid(
                &self.text,
                "unsupported digest algorithm (sha256 and sha512 can be verified)",
            )
        })
    }

    /// Checks `bytes` against this digest; `url` names where they came from in the error (its
    /// query is left out).
    ///
    /// # Errors
    /// [`Error::DigestMismatch`] when they differ; [`Error::InvalidDigest`] for an algorithm
    /// dockreg cannot compute (sha256 and sha512 can be verified).
    pub fn verify(&self, bytes: &[u8], url: &str) -> Result<()> {
        let mut h = self.hasher()?;
        h.update(bytes);
        h.finish_and_check(self, url)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn invalid(input: &str, reason: &str) -> Error {
    Error::InvalidDigest {
        input: clip(input),
        reason: reason.to_string(),
    }
}

fn valid_algorithm(a: &str) -> bool {
    // [a-z0-9]+([+._-][a-z0-9]+)*
    !a.is_empty()
        && a.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let Some(colon) = s.find(':') else {
            return Err(invalid(s, "missing ':' between algorithm and hex"));
        };
        let (algorithm, encoded) = (&s[..colon], &s[colon + 1..]);
        if !valid_algorithm(algorithm) {
            return Err(invalid(
                s,
                "algorithm must be lower-case letters and digits, e.g. sha256",
            ));
        }
        if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(invalid(s, "encoded part must be non-empty [a-zA-Z0-9=_-]"));
        }
        let want_len = match algorithm {
            "sha256" => Some(64),
            "sha512" => Some(128),
            _ => None,
        };
        if let Some(n) = want_len {
            if encoded.len() != n || !encoded.bytes().all(|b| HEX.contains(&b)) {
                return Err(invalid(
                    s,
                    &format!("{algorithm} needs exactly {n} lower-case hex digits"),
                ));
            }
        }
        Ok(Self {
            text: s.to_string(),
            colon,
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.text)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental hash for one of the algorithms dockreg can verify.
#[derive(Clone)]
pub(crate) enum Hasher {
    /// sha256
    Sha256(Sha256),
    /// sha512
    Sha512(Sha512),
}

impl Hasher {
    /// A new sha256 hasher.
    pub(crate) fn sha256() -> Self {
        Self::Sha256(Sha256::new())
    }

    fn for_algorithm(algorithm: &str) -> Option<Self> {
        match algorithm {
            "sha256" => Some(Self::Sha256(Sha256::new())),
            "sha512" => Some(Self::Sha512(Sha512::new())),
            _ => None,
        }
    }

    /// Feeds bytes.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed so far.
    pub(crate) fn finish(self) -> Digest {
        match self {
            Self::Sha256(h) => Digest::from_hash("sha256", &h.finalize()),
            Self::Sha512(h) => Digest::from_hash("sha512", &h.finalize()),
        }
    }

    /// Finishes and compares with `expected`; `url` names the source in the error.
    pub(crate) fn finish_and_check(self, expected: &Digest, url: &str) -> Result<()> {
        let actual = self.finish();
        if &actual == expected {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                url: crate::url::without_query(url).to_string(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            })
        }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha256(_) => "Hasher(sha256)",
            Self::Sha512(_) => "Hasher(sha512)",
        })
    }
}

/// A writer that computes the sha256 digest and the size of everything written through it, for
/// producing a blob (a layer tarball, say) and its descriptor in one pass.
///
/// ```
/// use std::io::Write;
/// let mut w = dockreg::digest::HashingWriter::sha256(Vec::new());
/// w.write_all(b"")?;
/// let (bytes, digest) = w.finish();
/// assert!(bytes.is_empty());
/// assert_eq!(digest, dockreg::Digest::sha256_of(b""));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`, computing a sha256 digest.
    pub fn sha256(inner: W) -> Self {
        Self::new(inner, Hasher::sha256())
    }

    /// Wraps `inner`, hashing with `hasher`.
    pub(crate) fn new(inner: W, hasher: Hasher) -> Self {
        Self {
            inner,
            hasher,
            written: 0,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The inner writer (not flushed) and the digest of everything written.
    pub fn finish(self) -> (W, Digest) {
        (self.inner, self.hasher.finish())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_prints() {
        let d: Digest = EMPTY.parse().unwrap();
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.hex().len(), 64);
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(Digest::sha256_of(b""), d);
    }

    #[test]
    fn rejects_bad_digests() {
        for bad in [
            "",
            "sha256",
            "sha256:",
            ":abc",
            "sha256:abc",
            "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
            "sha512:abcd",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/",
        ] {
            let err = bad.parse::<Digest>().unwrap_err();
            assert!(matches!(err, Error::InvalidDigest { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn other_algorithms_parse_but_cannot_verify() {
        let d: Digest = "blake3:abcdefabcdefabcdefabcdefabcdefab".parse().unwrap();
        assert!(matches!(
            d.verify(b"x", "u"),
            Err(Error::InvalidDigest { .. })
        ));
    }

    #[test]
    fn verify_detects_mismatch() {
        let d = Digest::sha256_of(b"hello");
        d.verify(b"hello", "u").unwrap();
        let err = d.verify(b"hellO", "http://x/y").unwrap_err();
        assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
        assert!(err.to_string().contains("http://x/y"));
    }

    #[test]
    fn hashing_writer_counts_and_hashes() {
        let mut w = HashingWriter::new(Vec::new(), Hasher::sha256());
        w.write_all(b"hel").unwrap();
        w.write_all(b"lo").unwrap();
        assert_eq!(w.written(), 5);
        let (buf, d) = w.finish();
        assert_eq!(buf, b"hello");
        assert_eq!(d, Digest::sha256_of(b"hello"));
    }
}

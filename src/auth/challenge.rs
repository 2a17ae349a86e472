//! `WWW-Authenticate` parsing (RFC 7235): several challenges, quoted values with commas.

use std::collections::BTreeMap;

/// One challenge: a scheme and its parameters (keys lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Scheme, lower-cased (`bearer`, `basic`).
    pub scheme: String,
    /// Parameters such as `realm`, `service`, `scope`, `error`.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter by (case-insensitive) name.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .get(&key.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Parses every challenge in a `WWW-Authenticate` value. Malformed trailing text is ignored
/// rather than failing the whole header.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut p = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    loop {
        p.skip(|b| b == b' ' || b == b'\t' || b == b',');
        let Some(token) = p.token() else {
            // A stray `=` (token68 padding such as `Negotiate abc==`) or quote: skip it and
            // keep reading, so that the challenges after it are not lost.
            if p.peek().is_none() {
                break;
            }
            p.i += 1;
            continue;
        };
        p.skip(|b| b == b' ' || b == b'\t');
        if p.peek() == Some(b'=') {
            // `key=value` belongs to the current challenge.
            p.i += 1;
            p.skip(|b| b == b' ' || b == b'\t');
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            if let Some(c) = out.last_mut() {
                c.params.insert(token.to_ascii_lowercase(), value);
            }
        } else {
            out.push(Challenge {
                scheme: token.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
        }
    }
    out
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.i;
        self.skip(|b| !matches!(b, b' ' | b'\t' | b',' | b'=' | b'"'));
        // `token68` values may end in `=` padding, but only when no quote or key follows.
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn quoted(&mut self) -> String {
        self.i += 1;
        let mut v = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        v.push(n);
                        self.i += 1;
                    }
                }
                _ => v.push(b),
            }
        }
        String::from_utf8_lossy(&v).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_with_comma_in_scope() {
        let c = parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c[0].param("Scope"), Some("repository:a/b:pull,push"));
    }

    #[test]
    fn parses_several_challenges_and_case() {
        let c = parse(
            r#"BASIC Realm="Registry Realm", bearer realm="https://x/t", service=svc , error="insufficient_scope""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].param("realm"), Some("Registry Realm"));
        assert_eq!(c[1].param("service"), Some("svc"));
        assert_eq!(c[1].param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn more_forms() {
        // GCR and Docker Hub forms; unquoted values; a token68 credential with padding.
        let c = parse(r#"Bearer realm="https://gcr.io/v2/token",service="gcr.io""#);
        assert_eq!(c[0].param("service"), Some("gcr.io"));
        let c = parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull repository:library/debian:pull""#,
        );
        assert_eq!(
            c[0].param("scope"),
            Some("repository:library/ubuntu:pull repository:library/debian:pull")
        );
        let c = parse("Basic realm=Registry, Bearer realm=http://x/t,service=s");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].param("realm"), Some("Registry"));
        assert_eq!(c[1].param("realm"), Some("http://x/t"));
        assert_eq!(c[1].param("service"), Some("s"));
        let c = parse(r#"Bearer realm="", error="invalid_token""#);
        assert_eq!(c[0].param("realm"), Some(""));
        assert_eq!(c[0].param("ERROR"), Some("invalid_token"));
        let c = parse("Negotiate abc==, Basic realm=\"r\"");
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].scheme, "basic");
    }

    #[test]
    fn tolerates_garbage() {
        assert!(parse("").is_empty());
        assert_eq!(parse("Basic").len(), 1);
        let c = parse(r#"Bearer realm="unterminated"#);
        assert_eq!(c[0].param("realm"), Some("unterminated"));
        let c = parse(r#"Bearer realm="a\"b""#);
        assert_eq!(c[0].param("realm"), Some("a\"b"));
        for s in ["=", "==,,", "\"", "a=\"", ",=x", "Bearer ,,, =", "é=ü"] {
            let _ = parse(s);
        }
    }

    /// Mutated headers (cut, replaced, inserted, removed, repeated bytes) never panic the
    /// parser and always give lower-case schemes. Deterministic: a fixed xorshift seed.
    #[test]
    fn mutated_headers_never_panic() {
        let sample = br#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push", Basic realm="x\"y""#;
        let alphabet = b"=\",\\ \tBearerBasic";
        let mut state = 42u64;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        for _ in 0..20_000 {
            let mut s = sample.to_vec();
            for _ in 0..=below(4) {
                let i = below(s.len() + 1);
                match below(4) {
                    0 => s.truncate(i),
                    1 => s.insert(i, alphabet[below(alphabet.len())]),
                    2 if i < s.len() => {
                        s.remove(i);
                    }
                    _ => {
                        let piece = s[i..].to_vec();
                        s.extend_from_slice(&piece);
                    }
                }
            }
            for c in parse(&String::from_utf8_lossy(&s)) {
                assert_eq!(c.scheme, c.scheme.to_ascii_lowercase());
            }
        }
    }
}

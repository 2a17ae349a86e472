//! RS256 JSON Web Tokens signed locally, as Google's JWT-bearer grant takes them, with ring
//! (already in the tree through rustls) rather than another RSA stack.
//!
//! Errors are short descriptions for `Error::Auth` messages: they never quote the key.

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// An RSA private key ready to sign. `Debug` shows nothing of it.
pub(crate) struct SigningKey(RsaKeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, what Google's key files hold) or
    /// PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub(crate) fn from_pem(pem: &str) -> Result<Self, String> {
        let (label, der) = pem_block(pem)?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            other => {
                return Err(format!(
                    "is a PEM {other:?} block, not a PRIVATE KEY or RSA PRIVATE KEY"
                ));
            }
        };
        key.map(Self)
            .map_err(|e| format!("is not a usable RSA private key ({e})"))
    }

    /// `header.claims.signature`, each part base64url without padding, signed RS256.
    pub(crate) fn sign_jwt(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<String, String> {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the JWT failed".to_string())?;
        Ok(format!("{signing_input}.{}", b64(&signature)))
    }
}

/// The label and bytes of the first PEM block in `text`.
fn pem_block(text: &str) -> Result<(String, Vec<u8>), String> {
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
        })
        .ok_or("is not PEM (no -----BEGIN line)")?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        // PEM headers (`Proc-Type: ...`) mean an encrypted key, which Google never issues.
        if line.contains(':') {
            return Err("is an encrypted PEM key, which is not supported".into());
        }
        body.push_str(line);
    }
    if !ended {
        return Err(format!("has no -----END {label}----- line"));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "holds a PEM block that is not valid base64".to_string())?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_pem_is_refused_without_quoting_it() {
        let cases = [
            ("hunter2", "not PEM"),
            (
                "-----BEGIN PRIVATE KEY-----\nhunter2\n",
                "no -----END PRIVATE KEY-----",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nhun!ter2\n-----END PRIVATE KEY-----\n",
                "not valid base64",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\naHVudGVyMg==\n-----END PRIVATE KEY-----\n",
                "not a usable RSA private key",
            ),
            (
                "-----BEGIN CERTIFICATE-----\naHVudGVyMg==\n-----END CERTIFICATE-----\n",
                "not a PRIVATE KEY",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nhunter2\n-----END RSA PRIVATE KEY-----\n",
                "encrypted",
            ),
        ];
        for (pem, want) in cases {
            let e = SigningKey::from_pem(pem).unwrap_err();
            assert!(e.contains(want), "{pem:?}: {e}");
            assert!(!e.contains("hunter2") && !e.contains("aHVudGVyMg"), "{e}");
        }
    }
}

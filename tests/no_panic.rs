//! Hostile input never panics: every parser that sees user or registry input is fed mutations
//! of valid samples (truncations, byte flips, splices) and random strings from alphabets that
//! hit their grammar's edges.

use dockreg::{Digest, ImageConfig, Platform, RawManifest, Reference, media_type};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutations of `sample`: cut, flipped, duplicated, spliced with alphabet bytes.
fn mutations(sample: &[u8], alphabet: &[u8], rng: &mut Rng, count: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut s = sample.to_vec();
        for _ in 0..=rng.below(4) {
            match rng.below(5) {
                0 if !s.is_empty() => s.truncate(rng.below(s.len())),
                1 if !s.is_empty() => {
                    let i = rng.below(s.len());
                    s[i] = alphabet[rng.below(alphabet.len())];
                }
                2 => {
                    let i = rng.below(s.len() + 1);
                    s.insert(i, alphabet[rng.below(alphabet.len())]);
                }
                3 if !s.is_empty() => {
                    let i = rng.below(s.len());
                    s.remove(i);
                }
                _ => {
                    let i = rng.below(s.len() + 1);
                    let piece = s[i..].to_vec();
                    s.extend_from_slice(&piece);
                }
            }
        }
        out.push(s);
    }
    out
}

const REF_ALPHABET: &[u8] = b"aZ09._-/:@[]%:\xc3\xa9 \t\n\0sha256";

#[test]
fn references_digests_and_platforms() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let samples = [
        "127.0.0.1:5000/a/b:tag@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "[::1]:5000/repo__x/y-z:v1.2",
        "docker.io/library/ubuntu:22.04",
        "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        "linux/arm64/v8",
    ];
    let mut parsed = 0usize;
    for sample in samples {
        for bytes in mutations(sample.as_bytes(), REF_ALPHABET, &mut rng, 4000) {
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(r) = text.parse::<Reference>() {
                parsed += 1;
                // Whatever parses prints as something that parses to the same reference.
                assert_eq!(r.to_string().parse::<Reference>().unwrap(), r, "{text:?}");
            }
            let _ = text.parse::<Digest>();
            let _ = text.parse::<Platform>();
            let _ = dockreg::split_image(&text);
            let _ = dockreg::reference::parse_registry(&text);
        }
    }
    assert!(
        parsed > 100,
        "mutations should keep some references valid ({parsed})"
    );
}

#[test]
fn manifests_and_configs() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let image = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":7,"digest":"{d}"}},"layers":[{{"mediaType":"x","size":1,"digest":"{d}","urls":["u"],"annotations":{{"a":"b"}}}}],"subject":{{"mediaType":"m","size":2,"digest":"{d}"}}}}"#,
        media_type::OCI_MANIFEST,
        media_type::OCI_CONFIG
    );
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","size":1,"digest":"{d}","platform":{{"os":"linux","architecture":"arm","variant":"v7","os.features":["x"]}}}}]}}"#,
        media_type::OCI_MANIFEST
    );
    let config = r#"{"architecture":"amd64","os":"linux","created":"2020-01-01T00:00:00Z","config":{"Env":["A=1"],"Cmd":null,"Labels":{"a":"b"}},"history":[{"created":"x"}],"rootfs":{"type":"layers","diff_ids":["sha256:a"]}}"#;
    let json_alphabet = b"{}[]\":,0123456789.-eE nulltrufalse\\\xff";
    let mut ok = 0usize;
    for sample in [image.as_bytes(), index.as_bytes()] {
        for bytes in mutations(sample, json_alphabet, &mut rng, 5000) {
            for mt in [
                media_type::OCI_MANIFEST,
                media_type::OCI_INDEX,
                "application/json",
                "",
            ] {
                if RawManifest::new(bytes.clone(), mt).parse().is_ok() {
                    ok += 1;
                }
            }
        }
    }
    for bytes in mutations(config.as_bytes(), json_alphabet, &mut rng, 5000) {
        if serde_json::from_slice::<ImageConfig>(&bytes).is_ok() {
            ok += 1;
        }
    }
    assert!(ok > 0);
}

//! Helpers for the write-path tests: deterministic pseudo-random blobs that never sit in memory,
//! readers that misbehave on purpose, and peak-RSS reading.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// `len` pseudo-random bytes (xorshift64*, seeded), produced on the fly.
pub struct PatternReader {
    state: u64,
    left: u64,
    /// Bytes of the current 8-byte word not yet handed out.
    word: [u8; 8],
    word_left: usize,
}

impl PatternReader {
    pub fn new(seed: u64, len: u64) -> PatternReader {
        PatternReader {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            left: len,
            word: [0; 8],
            word_left: 0,
        }
    }

    fn next_word(&mut self) -> [u8; 8] {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes()
    }
}

impl Read for PatternReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let mut i = 0;
        while i < n {
            if self.word_left == 0 {
                self.word = self.next_word();
                self.word_left = 8;
            }
            let take = (n - i).min(self.word_left);
            let start = 8 - self.word_left;
            buf[i..i + take].copy_from_slice(&self.word[start..start + take]);
            self.word_left -= take;
            i += take;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The bytes of `PatternReader::new(seed, len)` in memory.
pub fn pattern(seed: u64, len: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(len as usize);
    PatternReader::new(seed, len).read_to_end(&mut v).unwrap();
    v
}

/// `sha256:<hex>` of `PatternReader::new(seed, len)`, streamed.
pub fn pattern_digest(seed: u64, len: u64) -> String {
    let mut r = PatternReader::new(seed, len);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let d = h.finalize();
    let mut s = String::from("sha256:");
    for b in d.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A writer that hashes and counts, keeping nothing.
pub struct HashSink {
    pub hasher: Sha256,
    pub len: u64,
}

impl HashSink {
    pub fn new() -> HashSink {
        HashSink {
            hasher: Sha256::new(),
            len: 0,
        }
    }

    pub fn digest(self) -> String {
        let d = self.hasher.finalize();
        let mut s = String::from("sha256:");
        for b in d.iter() {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

impl Default for HashSink {
    fn default() -> Self {
        Self::new()
    }
}

impl io::Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A field of `/proc/self/status` in kB (`VmHWM`, `VmRSS`).
pub fn proc_status_kb(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// An image pushed with dockreg itself: one uncompressed tar layer and an OCI config.
pub struct PushedImage {
    pub digest: dockreg::Digest,
    pub manifest: Vec<u8>,
    pub config: Vec<u8>,
    pub layer: Vec<u8>,
}

/// Builds and pushes a small OCI image (`os/arch[/variant]` in its config) to `image`.
pub fn push_image(
    c: &dockreg::Client,
    image: &dockreg::Reference,
    seed: &str,
    platform: &str,
) -> PushedImage {
    use dockreg::media_type::{OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
    let layer = super::layout::tar_one_file("hello.txt", format!("write test {seed}\n").as_bytes());
    let diff_id = super::raw::sha256_digest(&layer);
    let p: dockreg::Platform = platform.parse().unwrap();
    let mut config = serde_json::json!({
        "architecture": p.architecture,
        "os": p.os,
        "created": "2024-01-02T03:04:05Z",
        "config": {"Env": [format!("SEED={seed}")]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    if let Some(v) = &p.variant {
        config["variant"] = serde_json::json!(v);
    }
    let config = serde_json::to_vec(&config).unwrap();
    let repo = image;
    let cd = c.push_blob_bytes(repo, &config).unwrap();
    let ld = c.push_blob_bytes(repo, &layer).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": ld, "size": layer.len()}],
    }))
    .unwrap();
    let digest = c.put_manifest(image, &manifest, OCI_MANIFEST).unwrap();
    PushedImage {
        digest,
        manifest,
        config,
        layer,
    }
}

//! Builds OCI image layouts on disk by hand (no dockreg code): `oci-layout`, `index.json`,
//! `blobs/sha256/<hex>`, with real small layers (a hand-made one-file tar, optionally wrapped in
//! a valid gzip stream made of stored deflate blocks) and a real image config JSON.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::raw::{
    OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP, OCI_MANIFEST, sha256_digest,
};

/// A minimal valid ustar archive holding one regular file `name` with `content`
/// (header + data padded to 512 + two zero blocks).
pub fn tar_one_file(name: &str, content: &[u8]) -> Vec<u8> {
    assert!(name.len() < 100, "tar name too long");
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], off: usize, bytes: &[u8]| {
        h[off..off + bytes.len()].copy_from_slice(bytes);
    };
    put(&mut h, 0, name.as_bytes());
    put(&mut h, 100, b"0000644\0"); // mode
    put(&mut h, 108, b"0000000\0"); // uid
    put(&mut h, 116, b"0000000\0"); // gid
    put(&mut h, 124, format!("{:011o}\0", content.len()).as_bytes()); // size
    put(
        &mut h,
        136,
        format!("{:011o}\0", 1_704_164_645u64).as_bytes(),
    ); // mtime 2024-01-02
    put(&mut h, 148, b"        "); // checksum placeholder (8 spaces)
    h[156] = b'0'; // regular file
    put(&mut h, 257, b"ustar\0"); // magic
    put(&mut h, 263, b"00"); // version
    put(&mut h, 265, b"root");
    put(&mut h, 297, b"root");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(content);
    let pad = (512 - content.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad + 1024));
    out
}

/// CRC-32 (IEEE), as used by gzip.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid gzip stream of `data` using stored (uncompressed) deflate blocks.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (i, c) in chunks.iter().enumerate() {
        out.push(if i == last { 1 } else { 0 });
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// How a layer is stored in the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// `application/vnd.oci.image.layer.v1.tar`
    Tar,
    /// `application/vnd.oci.image.layer.v1.tar+gzip` (stored-deflate gzip)
    TarGzip,
}

/// What to build. Every byte is derived from `seed`, so distinct seeds give distinct images.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub seed: String,
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
    pub layers: Vec<LayerKind>,
}

impl ImageSpec {
    pub fn new(
        seed: &str,
        architecture: &str,
        variant: Option<&str>,
        layers: &[LayerKind],
    ) -> Self {
        ImageSpec {
            seed: seed.to_string(),
            architecture: architecture.to_string(),
            os: "linux".to_string(),
            variant: variant.map(|s| s.to_string()),
            layers: layers.to_vec(),
        }
    }
}

/// A blob as written in the layout.
#[derive(Debug, Clone)]
pub struct BuiltBlob {
    pub digest: String,
    pub media_type: String,
    pub data: Vec<u8>,
}

/// An image manifest written to the layout, with everything it references.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub digest: String,
    pub manifest: Vec<u8>,
    pub config: BuiltBlob,
    pub layers: Vec<BuiltBlob>,
    /// sha256 of each uncompressed tar.
    pub diff_ids: Vec<String>,
    pub spec: ImageSpec,
}

/// An OCI image index written to the layout.
#[derive(Debug, Clone)]
pub struct BuiltIndex {
    pub digest: String,
    pub manifest: Vec<u8>,
    pub children: Vec<BuiltImage>,
}

/// The image config JSON for `spec` and its layers' diff_ids.
pub fn image_config(spec: &ImageSpec, diff_ids: &[String]) -> Vec<u8> {
    let created = "2024-01-02T03:04:05Z";
    let mut cfg = json!({
        "created": created,
        "author": "dockreg test harness",
        "architecture": spec.architecture,
        "os": spec.os,
        "config": {
            "User": "1000:1000",
            "Env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                format!("FIXTURE={}", spec.seed),
            ],
            "Entrypoint": ["/bin/fixture"],
            "Cmd": ["--seed", spec.seed],
            "WorkingDir": "/",
            "Labels": {"org.example.fixture": spec.seed},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": diff_ids.iter().enumerate().map(|(i, _)| json!({
            "created": created,
            "created_by": format!("/bin/sh -c #(nop) ADD layer-{i}.txt /"),
        })).collect::<Vec<_>>(),
    });
    if let Some(v) = &spec.variant {
        cfg["variant"] = json!(v);
    }
    serde_json::to_vec(&cfg).unwrap()
}

fn platform_json(spec: &ImageSpec) -> Value {
    let mut p = json!({"architecture": spec.architecture, "os": spec.os});
    if let Some(v) = &spec.variant {
        p["variant"] = json!(v);
    }
    p
}

/// Writes an OCI image layout into a directory. Call [`OciLayout::finish`] to write
/// `index.json` (entries added with [`OciLayout::tag`]).
pub struct OciLayout {
    dir: PathBuf,
    refs: Vec<Value>,
}

impl OciLayout {
    pub fn new(dir: &Path) -> OciLayout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("create layout dirs");
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("write oci-layout");
        OciLayout {
            dir: dir.to_path_buf(),
            refs: Vec::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `oci:<dir>:<ref_name>` for skopeo.
    pub fn skopeo_ref(&self, ref_name: &str) -> String {
        format!("oci:{}:{ref_name}", self.dir.display())
    }

    /// Stores `data` under `blobs/sha256/<hex>` and returns its digest.
    pub fn add_blob(&mut self, data: &[u8]) -> String {
        let digest = sha256_digest(data);
        let hex = digest.trim_start_matches("sha256:");
        std::fs::write(self.dir.join("blobs/sha256").join(hex), data).expect("write blob");
        digest
    }

    /// Builds and stores an image (layers, config, OCI manifest).
    pub fn add_image(&mut self, spec: &ImageSpec) -> BuiltImage {
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for (i, kind) in spec.layers.iter().enumerate() {
            let content = format!(
                "fixture {} layer {i} {}/{}{}\n",
                spec.seed,
                spec.os,
                spec.architecture,
                spec.variant
                    .as_deref()
                    .map(|v| format!("/{v}"))
                    .unwrap_or_default()
            );
            let tar = tar_one_file(&format!("layer-{i}.txt"), content.as_bytes());
            diff_ids.push(sha256_digest(&tar));
            let (media_type, data) = match kind {
                LayerKind::Tar => (OCI_LAYER_TAR, tar),
                LayerKind::TarGzip => (OCI_LAYER_TAR_GZIP, gzip_stored(&tar)),
            };
            let digest = self.add_blob(&data);
            layers.push(BuiltBlob {
                digest,
                media_type: media_type.to_string(),
                data,
            });
        }
        let config_bytes = image_config(spec, &diff_ids);
        let config = BuiltBlob {
            digest: self.add_blob(&config_bytes),
            media_type: OCI_CONFIG.to_string(),
            data: config_bytes,
        };
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.data.len()},
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.media_type, "digest": l.digest, "size": l.data.len(),
            })).collect::<Vec<_>>(),
        }))
        .unwrap();
        let digest = self.add_blob(&manifest);
        BuiltImage {
            digest,
            manifest,
            config,
            layers,
            diff_ids,
            spec: spec.clone(),
        }
    }

    /// Builds and stores an OCI image index over `children` (platforms from their specs).
    pub fn add_index(&mut self, children: Vec<BuiltImage>) -> BuiltIndex {
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": children.iter().map(|c| json!({
                "mediaType": OCI_MANIFEST,
                "digest": c.digest,
                "size": c.manifest.len(),
                "platform": platform_json(&c.spec),
            })).collect::<Vec<_>>(),
        }))
        .unwrap();
        let digest = self.add_blob(&manifest);
        BuiltIndex {
            digest,
            manifest,
            children,
        }
    }

    /// Adds an `index.json` entry named `ref_name` (org.opencontainers.image.ref.name).
    pub fn tag(&mut self, ref_name: &str, media_type: &str, digest: &str, size: usize) {
        self.refs.push(json!({
            "mediaType": media_type,
            "digest": digest,
            "size": size,
            "annotations": {"org.opencontainers.image.ref.name": ref_name},
        }));
    }

    pub fn tag_image(&mut self, ref_name: &str, img: &BuiltImage) {
        self.tag(
            ref_name,
            OCI_MANIFEST,
            &img.digest.clone(),
            img.manifest.len(),
        );
    }

    pub fn tag_index(&mut self, ref_name: &str, idx: &BuiltIndex) {
        self.tag(ref_name, OCI_INDEX, &idx.digest.clone(), idx.manifest.len());
    }

    /// Writes `index.json`.
    pub fn finish(&self) {
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": self.refs,
        }))
        .unwrap();
        std::fs::write(self.dir.join("index.json"), index).expect("write index.json");
    }
}

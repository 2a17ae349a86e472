//! OCI image layout directories (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) and the
//! parts of a manifest that say what it references.

use std::path::{Path, PathBuf};

use dockreg::{Descriptor, Digest};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::exit::{Failure, Outcome};

/// The annotation naming an image in `index.json` (what `oci:DIR:NAME` selects).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Indexes inside indexes followed at most (the library's default limit too).
pub const MAX_DEPTH: usize = 4;

/// What a manifest references: an index's children, or an image's config and layers.
#[derive(Debug, Deserialize)]
pub struct References {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

impl References {
    pub fn of(bytes: &[u8], what: &str) -> Outcome<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| Failure::message(format!("{what}: not a manifest: {e}")))
    }

    /// The blobs an image manifest needs (config first); empty for an index.
    pub fn blobs(&self) -> impl Iterator<Item = &Descriptor> {
        self.config.iter().chain(self.layers.iter())
    }

    pub fn is_index(&self) -> bool {
        self.config.is_none()
    }
}

pub fn blob_path(dir: &Path, d: &Digest) -> PathBuf {
    dir.join("blobs").join(d.algorithm()).join(d.hex())
}

pub fn is_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file()
}

/// Creates the directory, `oci-layout` and `index.json` unless they are there.
pub fn create(dir: &Path) -> Outcome {
    let io = |p: &Path, e: std::io::Error| Failure::message(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(dir.join("blobs")).map_err(|e| io(dir, e))?;
    if !is_layout(dir) {
        let p = dir.join("oci-layout");
        std::fs::write(&p, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(|e| io(&p, e))?;
    }
    if !dir.join("index.json").is_file() {
        write_index(dir, Vec::new())?;
    }
    Ok(())
}

/// The entries of `index.json`.
pub fn read_index(dir: &Path) -> Outcome<Vec<Value>> {
    let p = dir.join("index.json");
    let text = std::fs::read(&p).map_err(|e| Failure::message(format!("{}: {e}", p.display())))?;
    let index: Value = serde_json::from_slice(&text)
        .map_err(|e| Failure::message(format!("{}: {e}", p.display())))?;
    Ok(index["manifests"].as_array().cloned().unwrap_or_default())
}

/// Writes `index.json` with `entries`, through a temporary file so a reader never sees half.
pub fn write_index(dir: &Path, entries: Vec<Value>) -> Outcome {
    let index = json!({
        "schemaVersion": 2,
        "mediaType": dockreg::media_type::OCI_INDEX,
        "manifests": entries,
    });
    let p = dir.join("index.json");
    let tmp = dir.join(".index.json.dockreg-partial");
    let io = |e: std::io::Error| Failure::message(format!("{}: {e}", p.display()));
    std::fs::write(&tmp, serde_json::to_vec(&index)?).map_err(io)?;
    std::fs::rename(&tmp, &p).map_err(io)?;
    Ok(())
}

/// The `index.json` entry's name, when it has one.
pub fn ref_name(entry: &Value) -> Option<&str> {
    entry["annotations"][REF_NAME].as_str()
}

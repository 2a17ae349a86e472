//! `export IMAGE FILE|-`: the image's filesystem as one tar, its layers flattened with their
//! whiteouts applied (what `crane export` and `docker export` of a fresh container write).
//!
//! Layers are read from the top one down, each downloaded (verified) to a temporary file and
//! streamed through the decompressor, so memory stays small whatever the image's size. An
//! entry is written the first time its path is met: upper layers win. A `.wh.NAME` whiteout
//! hides NAME (and, for a directory, all under it) in the layers below; `.wh..wh..opq` hides
//! everything the layers below have in its directory.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use dockreg::{Descriptor, DownloadOptions, Reference};
use serde_json::json;

use super::Ctx;
use super::blob::short;
use crate::exit::{Failure, Outcome};
use crate::progress;

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

enum Compression {
    None,
    Gzip,
}

/// What a layer's media type says about reading it; zstd and non-tar blobs are refused.
fn compression(layer: &Descriptor) -> Outcome<Compression> {
    let mt = layer.media_type.as_str();
    if mt.ends_with("zstd") {
        return Err(Failure::message(format!(
            "layer {}: zstd layers are not supported by export",
            layer.digest
        )));
    }
    if mt.ends_with("gzip") {
        Ok(Compression::Gzip)
    } else if mt.ends_with(".tar") {
        Ok(Compression::None)
    } else {
        Err(Failure::message(format!(
            "layer {} has media type {mt:?}, not a tar layer: nothing to export",
            layer.digest
        )))
    }
}

pub fn export(ctx: &mut Ctx, image: &Reference, dest: &Path) -> Outcome {
    let to_stdout = dest.as_os_str() == "-";
    if to_stdout && std::io::stdout().is_terminal() {
        return Err(Failure::Usage(
            "export: stdout is a terminal; give a FILE or redirect stdout".into(),
        ));
    }
    let m = ctx.client.get_manifest(image)?;
    let kinds = m
        .manifest
        .layers
        .iter()
        .map(compression)
        .collect::<Outcome<Vec<_>>>()?;
    let work = std::env::temp_dir().join(format!("dockreg-export-{}", std::process::id()));
    std::fs::create_dir_all(&work)
        .map_err(|e| Failure::message(format!("{}: {e}", work.display())))?;
    let partial = partial_path(dest);
    let result = (|| -> Outcome<u64> {
        let out: Box<dyn Write> = if to_stdout {
            Box::new(std::io::stdout().lock())
        } else {
            let file = File::create(&partial)
                .map_err(|e| Failure::message(format!("{}: {e}", partial.display())))?;
            Box::new(std::io::BufWriter::new(file))
        };
        let mut flat = Flattener::new(out);
        for (layer, kind) in m.manifest.layers.iter().zip(&kinds).rev() {
            let path = work.join(layer.digest.hex());
            let bar = ctx
                .bars
                .bytes(&short(layer.digest.as_str()), Some(layer.size));
            let mut moved = progress::callback(&bar);
            ctx.client.download_blob(
                image,
                &layer.digest,
                &path,
                DownloadOptions::new().size(layer.size).progress(&mut moved),
            )?;
            bar.finish_and_clear();
            let file = BufReader::new(File::open(&path)?);
            let reader: Box<dyn Read> = match kind {
                Compression::None => Box::new(file),
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
            };
            flat.add_layer(reader)
                .map_err(|e| Failure::message(format!("layer {}: {e}", layer.digest)))?;
            let _ = std::fs::remove_file(&path);
        }
        let entries = flat.written;
        let mut out = flat.builder.into_inner()?;
        out.flush()?;
        Ok(entries)
    })();
    let _ = std::fs::remove_dir_all(&work);
    let entries = match result {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    if to_stdout {
        return Ok(());
    }
    std::fs::rename(&partial, dest)
        .map_err(|e| Failure::message(format!("{}: {e}", dest.display())))?;
    ctx.out.json(&json!({
        "image": image.to_string(),
        "digest": m.digest,
        "path": dest.display().to_string(),
        "layers": m.manifest.layers.len(),
        "entries": entries,
    }))
}

/// `FILE` is written as `.FILE.dockreg-partial` beside it, then renamed: never half a tar.
fn partial_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export.tar".into());
    dest.with_file_name(format!(".{name}.dockreg-partial"))
}

/// Writes the entries of layers given top first, skipping what upper layers hid or replaced.
struct Flattener<W: Write> {
    builder: tar::Builder<W>,
    /// Every path met so far, true when it hides what lower layers have under it (a whiteout,
    /// or a non-directory that replaced a directory).
    seen: HashMap<String, bool>,
    /// Directories made opaque by an upper layer.
    opaque: HashSet<String>,
    written: u64,
}

impl<W: Write> Flattener<W> {
    fn new(out: W) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Complete);
        builder.follow_symlinks(false);
        Flattener {
            builder,
            seen: HashMap::new(),
            opaque: HashSet::new(),
            written: 0,
        }
    }

    fn add_layer(&mut self, reader: impl Read) -> std::io::Result<()> {
        let mut archive = tar::Archive::new(reader);
        // Opaque markers of this layer apply to the layers below it only.
        let mut opaque_here = Vec::new();
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = normalize(&entry.path()?.to_string_lossy());
            if path.is_empty() {
                continue;
            }
            let (dir, base) = match path.rsplit_once('/') {
                Some((d, b)) => (d, b),
                None => ("", path.as_str()),
            };
            if base == OPAQUE {
                opaque_here.push(dir.to_string());
                continue;
            }
            if let Some(target) = base.strip_prefix(WHITEOUT) {
                let name = join(dir, target);
                if !self.hidden(&name) {
                    self.seen.entry(name).or_insert(true);
                }
                continue;
            }
            if self.hidden(&path) {
                continue;
            }
            let is_dir = entry.header().entry_type().is_dir();
            self.seen.insert(path.clone(), !is_dir);
            let mut header = entry.header().clone();
            match entry.link_name()? {
                Some(target) if !is_dir => {
                    let target = target.into_owned();
                    self.builder.append_link(&mut header, &path, &target)?;
                }
                // Directories keep the trailing `/` tar writers give them.
                _ if is_dir => {
                    self.builder
                        .append_data(&mut header, format!("{path}/"), &mut entry)?
                }
                _ => self.builder.append_data(&mut header, &path, &mut entry)?,
            }
            self.written += 1;
        }
        self.opaque.extend(opaque_here);
        Ok(())
    }

    /// Whether an upper layer already wrote or hid `path`, or hid a directory above it.
    fn hidden(&self, path: &str) -> bool {
        if self.seen.contains_key(path) {
            return true;
        }
        let mut parent = path;
        while let Some((p, _)) = parent.rsplit_once('/') {
            if self.seen.get(p) == Some(&true) || self.opaque.contains(p) {
                return true;
            }
            parent = p;
        }
        self.opaque.contains("")
    }
}

/// `./a/b/` -> `a/b`: the form every layer's paths are compared in.
fn normalize(path: &str) -> String {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    let p = p.trim_end_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            match data {
                Some(d) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(d.len() as u64);
                    h.set_mode(0o644);
                    b.append_data(&mut h, name, *d).unwrap();
                }
                None => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    h.set_mode(0o755);
                    b.append_data(&mut h, name, std::io::empty()).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn upper_layers_win_and_whiteouts_hide() {
        let lower = layer(&[
            ("a/", None),
            ("a/x", Some(b"x")),
            ("a/y", Some(b"old")),
            ("b/", None),
            ("b/z", Some(b"z")),
            ("c/", None),
            ("c/keep", Some(b"k")),
        ]);
        let upper = layer(&[
            ("a/.wh.x", Some(b"")),
            ("./a/y", Some(b"new")),
            (".wh.b", Some(b"")),
            ("c/", None),
            ("c/.wh..wh..opq", Some(b"")),
            ("c/fresh", Some(b"f")),
        ]);
        let mut flat = Flattener::new(Vec::new());
        flat.add_layer(&upper[..]).unwrap();
        flat.add_layer(&lower[..]).unwrap();
        let out = flat.builder.into_inner().unwrap();
        let mut got = Vec::new();
        for e in tar::Archive::new(&out[..]).entries().unwrap() {
            let mut e = e.unwrap();
            let mut data = String::new();
            e.read_to_string(&mut data).unwrap();
            got.push(format!("{}={data}", e.path().unwrap().display()));
        }
        assert_eq!(got, ["a/y=new", "c/=", "c/fresh=f", "a/="]);
    }
}

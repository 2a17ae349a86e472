//! `dockreg push DIR IMAGE`: an OCI image layout pushed as it is, or a plain directory packed
//! as a one-layer image (a deterministic uncompressed tar: sorted names, mtime 0, owner 0).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use dockreg::digest::HashingWriter;
use dockreg::media_type::{OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
use dockreg::{Client, Digest, Manifest, Platform, Reference, UploadOptions};
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Pushes `dir` to `image`; returns the digest of the manifest written under its tag.
pub fn push_dir(
    client: &Client,
    dir: &Path,
    image: &Reference,
    platform: &Platform,
) -> Res<Digest> {
    if dir.join("oci-layout").is_file() {
        push_layout(client, dir, image)
    } else if dir.is_dir() {
        push_plain(client, dir, image, platform)
    } else {
        Err(format!("{} is not a directory", dir.display()).into())
    }
}

fn blob_path(dir: &Path, d: &Digest) -> PathBuf {
    dir.join("blobs").join(d.algorithm()).join(d.hex())
}

fn push_layout(client: &Client, dir: &Path, image: &Reference) -> Res<Digest> {
    let index: Value = serde_json::from_slice(&fs::read(dir.join("index.json"))?)?;
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    let name = |e: &Value| {
        e["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .map(str::to_string)
    };
    let entry = match image
        .tag()
        .and_then(|t| entries.iter().find(|e| name(e).as_deref() == Some(t)))
    {
        Some(e) => e.clone(),
        None if entries.len() == 1 => entries[0].clone(),
        None => {
            let names: Vec<String> = entries.iter().filter_map(name).collect();
            return Err(format!(
                "{} holds {} images ({}): tag IMAGE with one of those names",
                dir.display(),
                entries.len(),
                names.join(", ")
            )
            .into());
        }
    };
    let digest: Digest = entry["digest"].as_str().unwrap_or_default().parse()?;
    let media_type = entry["mediaType"]
        .as_str()
        .unwrap_or(OCI_MANIFEST)
        .to_string();
    push_manifest(client, dir, image, &digest, &media_type, true)
}

/// Pushes what a manifest of the layout references, then the manifest (under the tag when
/// `top`, else by digest).
fn push_manifest(
    client: &Client,
    dir: &Path,
    image: &Reference,
    digest: &Digest,
    media_type: &str,
    top: bool,
) -> Res<Digest> {
    let bytes = fs::read(blob_path(dir, digest))?;
    digest.verify(&bytes, &blob_path(dir, digest).display().to_string())?;
    match dockreg::RawManifest::new(bytes.clone(), media_type).parse()? {
        Manifest::Index(i) => {
            for child in &i.manifests {
                push_manifest(client, dir, image, &child.digest, &child.media_type, false)?;
            }
        }
        Manifest::Image(m) => {
            for d in std::iter::once(&m.config).chain(m.layers.iter()) {
                client.push_blob_file(
                    image,
                    &blob_path(dir, &d.digest),
                    UploadOptions::new().digest(d.digest.clone()).size(d.size),
                )?;
            }
        }
    }
    let target = if top && image.tag().is_some() {
        Reference::new(image.registry(), image.path(), image.tag(), None)?
    } else {
        Reference::new(image.registry(), image.path(), None, Some(digest.clone()))?
    };
    Ok(client.put_manifest(&target, &bytes, media_type)?)
}

fn push_plain(client: &Client, dir: &Path, image: &Reference, platform: &Platform) -> Res<Digest> {
    let tmp = std::env::temp_dir().join(format!("dockreg-layer-{}.tar", std::process::id()));
    let result = (|| -> Res<Digest> {
        let file = File::create(&tmp)?;
        let mut w = HashingWriter::sha256(io::BufWriter::new(file));
        write_tar(&mut w, dir)?;
        let size = w.written();
        let (mut inner, layer) = w.finish();
        inner.flush()?;
        drop(inner);
        client.push_blob_file(
            image,
            &tmp,
            UploadOptions::new().digest(layer.clone()).size(size),
        )?;
        let mut config = json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "created": "1970-01-01T00:00:00Z",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer]},
        });
        if let Some(v) = &platform.variant {
            config["variant"] = json!(v);
        }
        let config = serde_json::to_vec(&config)?;
        let config_digest = client.push_blob_bytes(image, &config)?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer, "size": size}],
        }))?;
        Ok(client.put_manifest(image, &manifest, OCI_MANIFEST)?)
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Writes `root`'s content as a tar: entries sorted by name, mtime 0, uid/gid 0, modes kept,
/// directories, regular files and symlinks; PAX headers for long names and big files.
pub fn write_tar(out: &mut dyn Write, root: &Path) -> Res<()> {
    let mut entries = Vec::new();
    collect(root, "", &mut entries)?;
    for (name, path) in entries {
        let meta = fs::symlink_metadata(&path)?;
        let mode = {
            use std::os::unix::fs::PermissionsExt as _;
            meta.permissions().mode() & 0o7777
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            header(out, &format!("{name}/"), mode, 0, b'5', "")?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&path)?;
            header(out, &name, mode, 0, b'2', &target.to_string_lossy())?;
        } else if ft.is_file() {
            let size = meta.len();
            header(out, &name, mode, size, b'0', "")?;
            let mut f = File::open(&path)?;
            let copied = io::copy(&mut (&mut f).take(size), out)?;
            if copied != size {
                return Err(format!("{} changed size while packing", path.display()).into());
            }
            pad(out, size)?;
        }
        // Sockets, fifos and devices are left out.
    }
    out.write_all(&[0u8; 1024])?;
    Ok(())
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Res<()> {
    let mut names: Vec<(String, PathBuf)> = fs::read_dir(dir)?
        .map(|e| e.map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())))
        .collect::<Result<_, _>>()?;
    names.sort();
    for (n, p) in names {
        let name = format!("{prefix}{n}");
        let is_dir = fs::symlink_metadata(&p)?.is_dir();
        out.push((name.clone(), p.clone()));
        if is_dir {
            collect(&p, &format!("{name}/"), out)?;
        }
    }
    Ok(())
}

fn pad(out: &mut dyn Write, size: u64) -> io::Result<()> {
    let rem = (512 - size % 512) % 512;
    out.write_all(&vec![0u8; rem as usize])
}

/// One ustar header, preceded by a PAX header when the name, link or size do not fit.
fn header(
    out: &mut dyn Write,
    name: &str,
    mode: u32,
    size: u64,
    kind: u8,
    link: &str,
) -> io::Result<()> {
    let mut pax = String::new();
    let mut record = |key: &str, value: &str| {
        // "LEN key=value\n" where LEN counts itself.
        let body = format!(" {key}={value}\n");
        let mut len = body.len() + 1;
        while format!("{len}{body}").len() != len {
            len += 1;
        }
        pax.push_str(&format!("{len}{body}"));
    };
    if name.len() > 100 {
        record("path", name);
    }
    if link.len() > 100 {
        record("linkpath", link);
    }
    if size > 0o77777777777 {
        record("size", &size.to_string());
    }
    if !pax.is_empty() {
        raw_header(out, "././@PaxHeader", 0o644, pax.len() as u64, b'x', "")?;
        out.write_all(pax.as_bytes())?;
        pad(out, pax.len() as u64)?;
    }
    raw_header(out, name, mode, size.min(0o77777777777), kind, link)
}

fn raw_header(
    out: &mut dyn Write,
    name: &str,
    mode: u32,
    size: u64,
    kind: u8,
    link: &str,
) -> io::Result<()> {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], off: usize, len: usize, s: &[u8]| {
        let n = s.len().min(len);
        h[off..off + n].copy_from_slice(&s[..n]);
    };
    put(&mut h, 0, 100, name.as_bytes());
    put(&mut h, 100, 8, format!("{mode:07o}\0").as_bytes());
    put(&mut h, 108, 8, b"0000000\0");
    put(&mut h, 116, 8, b"0000000\0");
    put(&mut h, 124, 12, format!("{size:011o}\0").as_bytes());
    put(&mut h, 136, 12, b"00000000000\0");
    put(&mut h, 148, 8, b"        ");
    h[156] = kind;
    put(&mut h, 157, 100, link.as_bytes());
    put(&mut h, 257, 6, b"ustar\0");
    put(&mut h, 263, 2, b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, 8, format!("{sum:06o}\0 ").as_bytes());
    out.write_all(&h)
}

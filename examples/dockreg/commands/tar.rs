//! Deterministic uncompressed tar archives (sorted names, mtime 0, owner 0), so that the same
//! tree always gives the same layer digest.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

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
    finish(out)?;
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

/// Writes one regular file held in memory (mode 0644); end the archive with [`finish`].
pub fn write_file(out: &mut dyn Write, name: &str, content: &[u8]) -> io::Result<()> {
    header(out, name, 0o644, content.len() as u64, b'0', "")?;
    out.write_all(content)?;
    pad(out, content.len() as u64)
}

/// The two zero blocks that end an archive.
pub fn finish(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(&[0u8; 1024])
}

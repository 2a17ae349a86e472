//! The project's column of the peer benchmark (`/work/shared/WORKLOADS.md`): the same workloads,
//! CLI and JSON-line contracts as the peers, implemented with dockreg's public API used the way
//! its docs tell users to.
//!
//! ```text
//! cargo run --release --example bench -- --registry 127.0.0.1:PORT [--n N] [--iters N]
//!     [--size-mb S] [--tags T] [--out-dir DIR] [--label NAME] [--monolithic] WORKLOAD
//! ```
//! `WORKLOAD` is `resolve`, `manifest`, `tags`, `blob-push`, `blob-pull` or `all` (each workload
//! then runs in its own process, so that `rss_peak_kb` is that workload's). One JSON line per
//! workload on stdout; a failed check prints `"ok": false` with an `error` and exits 1.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Instant;

use dockreg::{Client, DownloadOptions, Manifest, Reference, UploadOptions};
use serde_json::{Map, Value, json};

const WORKLOADS: [&str; 5] = ["resolve", "manifest", "tags", "blob-push", "blob-pull"];

struct Args {
    registry: String,
    n: usize,
    iters: usize,
    size_mb: u64,
    tags: usize,
    out_dir: String,
    label: String,
    workload: String,
    monolithic: bool,
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut a = Args {
        registry: String::new(),
        n: 500,
        iters: 50,
        size_mb: 256,
        tags: 2000,
        out_dir: "/dev/shm".into(),
        label: "dockreg".into(),
        workload: String::new(),
        monolithic: false,
    };
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let num = |v: String, name: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {v}"))
        };
        match arg.as_str() {
            "--registry" => a.registry = value("--registry")?,
            "--n" => a.n = num(value("--n")?, "--n")? as usize,
            "--iters" => a.iters = num(value("--iters")?, "--iters")? as usize,
            "--size-mb" => a.size_mb = num(value("--size-mb")?, "--size-mb")?,
            "--tags" => a.tags = num(value("--tags")?, "--tags")? as usize,
            "--out-dir" => a.out_dir = value("--out-dir")?,
            "--label" => a.label = value("--label")?,
            "--monolithic" => a.monolithic = true,
            w if !w.starts_with("--") && a.workload.is_empty() => a.workload = w.to_string(),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    if a.registry.is_empty() {
        return Err("--registry HOST:PORT is required".into());
    }
    if a.workload != "all" && !WORKLOADS.contains(&a.workload.as_str()) {
        return Err(format!(
            "WORKLOAD must be one of {} or all",
            WORKLOADS.join(" ")
        ));
    }
    if a.tags == 0 {
        return Err("--tags must be positive".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    if args.workload == "all" {
        return run_all(&argv);
    }
    let rss_start_kb = proc_status_kb("VmRSS");
    let result = run(&args);
    let mut line = Map::new();
    line.insert("tool".into(), json!(args.label));
    line.insert(
        "tool_version".into(),
        json!(concat!("dockreg ", env!("CARGO_PKG_VERSION"))),
    );
    line.insert("workload".into(), json!(args.workload));
    let ok = match result {
        Ok(fields) => {
            line.insert("ok".into(), json!(true));
            line.extend(fields);
            true
        }
        Err(e) => {
            line.insert("ok".into(), json!(false));
            line.insert("error".into(), json!(e));
            false
        }
    };
    line.insert("rss_start_kb".into(), json!(rss_start_kb));
    line.insert("rss_peak_kb".into(), json!(proc_status_kb("VmHWM")));
    println!("{}", Value::Object(line));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `all`: each workload in a fresh process of this same program.
fn run_all(argv: &[String]) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(1);
        }
    };
    let base: Vec<&String> = argv.iter().filter(|a| a.as_str() != "all").collect();
    let mut failed = false;
    for w in WORKLOADS {
        let status = std::process::Command::new(&exe).args(&base).arg(w).status();
        failed |= !status.is_ok_and(|s| s.success());
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

type Fields = Map<String, Value>;

fn run(a: &Args) -> Result<Fields, String> {
    // Built before the clock, reused for every op.
    let client = Client::new().map_err(|e| e.to_string())?;
    match a.workload.as_str() {
        "resolve" => resolve(&client, a),
        "manifest" => manifest(&client, a),
        "tags" => tags(&client, a),
        "blob-push" => blob_push(&client, a),
        "blob-pull" => blob_pull(&client, a),
        other => Err(format!("unknown workload {other}")),
    }
}

fn image(a: &Args, name: &str) -> Result<Reference, String> {
    format!("{}/{name}", a.registry)
        .parse()
        .map_err(|e: dockreg::Error| e.to_string())
}

fn tag_refs(a: &Args) -> Result<Vec<Reference>, String> {
    let repo = image(a, "bench/app")?;
    (0..a.n)
        .map(|i| {
            repo.with_tag(&format!("tag-{:04}", i % a.tags))
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Common fields of a timed run of `ops` operations with per-op latencies.
fn timing(ops: usize, wall_s: f64, lat_ms: &mut [f64]) -> Fields {
    let mut f = Fields::new();
    f.insert("ops".into(), json!(ops));
    f.insert("wall_s".into(), json!(round(wall_s, 6)));
    f.insert("ops_per_s".into(), json!(round(ops as f64 / wall_s, 3)));
    if lat_ms.len() > 1 {
        lat_ms.sort_by(f64::total_cmp);
        for (name, p) in [("p50_ms", 50.0), ("p90_ms", 90.0), ("p99_ms", 99.0)] {
            f.insert(name.into(), json!(round(nearest_rank(lat_ms, p), 3)));
        }
        f.insert(
            "max_ms".into(),
            json!(round(*lat_ms.last().unwrap_or(&0.0), 3)),
        );
    }
    f
}

fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn round(x: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (x * m).round() / m
}

fn resolve(c: &Client, a: &Args) -> Result<Fields, String> {
    let refs = tag_refs(a)?;
    let mut lat = Vec::with_capacity(refs.len());
    let mut digests = Vec::with_capacity(refs.len());
    let t0 = Instant::now();
    for r in &refs {
        let t = Instant::now();
        let d = c.get_digest(r).map_err(|e| e.to_string())?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        digests.push(d);
    }
    let wall = t0.elapsed().as_secs_f64();
    let distinct: BTreeSet<&str> = digests.iter().map(|d| d.as_str()).collect();
    if !digests
        .iter()
        .all(|d| d.algorithm() == "sha256" && d.hex().len() == 64)
    {
        return Err("a digest is not sha256:<64 hex>".into());
    }
    if a.n >= 4 && a.tags >= 4 && distinct.len() != 4 {
        return Err(format!(
            "expected 4 distinct digests, got {}",
            distinct.len()
        ));
    }
    let mut f = timing(refs.len(), wall, &mut lat);
    f.insert(
        "params".into(),
        json!({"n": a.n, "repo": "bench/app", "tags": a.tags}),
    );
    f.insert("distinct_digests".into(), json!(distinct.len()));
    Ok(f)
}

fn manifest(c: &Client, a: &Args) -> Result<Fields, String> {
    let refs = tag_refs(a)?;
    let mut lat = Vec::with_capacity(refs.len());
    let mut bytes = 0usize;
    let mut all_json = true;
    let t0 = Instant::now();
    for r in &refs {
        let t = Instant::now();
        let m = c.get_raw_manifest(r).map_err(|e| e.to_string())?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        all_json &= m.bytes.first() == Some(&b'{');
        bytes += m.bytes.len();
    }
    let wall = t0.elapsed().as_secs_f64();
    if !all_json {
        return Err("a manifest body does not start with '{'".into());
    }
    let mut f = timing(refs.len(), wall, &mut lat);
    f.insert(
        "params".into(),
        json!({"n": a.n, "repo": "bench/app", "tags": a.tags}),
    );
    f.insert("bytes".into(), json!(bytes));
    Ok(f)
}

fn tags(c: &Client, a: &Args) -> Result<Fields, String> {
    let repo = image(a, "bench/app")?;
    let mut lat = Vec::with_capacity(a.iters);
    let mut counts = Vec::with_capacity(a.iters);
    let t0 = Instant::now();
    for _ in 0..a.iters {
        let t = Instant::now();
        let tags = c.list_tags(&repo).map_err(|e| e.to_string())?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        counts.push(tags.len());
    }
    let wall = t0.elapsed().as_secs_f64();
    if let Some(bad) = counts.iter().find(|&&n| n != a.tags) {
        return Err(format!("a listing has {bad} tags, expected {}", a.tags));
    }
    let mut f = timing(a.iters, wall, &mut lat);
    f.insert(
        "params".into(),
        json!({"iters": a.iters, "repo": "bench/app", "tags": a.tags}),
    );
    f.insert(
        "tags_per_s".into(),
        json!(round((a.iters * a.tags) as f64 / wall, 1)),
    );
    Ok(f)
}

/// Fresh pseudo-random bytes (seeded from the clock and pid, so every run differs).
fn fresh_bytes(len: usize) -> Vec<u8> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut x = nanos ^ (u64::from(std::process::id()) << 32) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

fn blob_push(c: &Client, a: &Args) -> Result<Fields, String> {
    let repo = image(a, "bench/push")?;
    let len = a.size_mb * 1024 * 1024;
    let data = fresh_bytes(len as usize);
    let mut split = None;
    let t0 = Instant::now();
    let digest = if a.monolithic {
        // Variant: hash first, then the monolithic upload (HEAD, POST, PUT with the bytes).
        let d = dockreg::Digest::sha256_of(&data);
        let hashed = t0.elapsed().as_secs_f64();
        let d = c
            .push_blob(
                &repo,
                &mut data.as_slice(),
                UploadOptions::new().digest(d).size(len),
            )
            .map_err(|e| e.to_string())?;
        split = Some((hashed, t0.elapsed().as_secs_f64() - hashed));
        d
    } else {
        // The library's default for a stream whose digest is unknown: one PATCH with the
        // bytes, hashed as they go, then the PUT ?digest=.
        c.push_blob(&repo, &mut data.as_slice(), UploadOptions::new().size(len))
            .map_err(|e| e.to_string())?
    };
    let wall = t0.elapsed().as_secs_f64();
    match c.head_blob(&repo, &digest) {
        Ok(Some(n)) if n == len => {}
        other => return Err(format!("HEAD after upload: {other:?}")),
    }
    let mut f = timing(1, wall, &mut []);
    f.insert(
        "params".into(),
        json!({"size_mb": a.size_mb, "repo": "bench/push", "monolithic": a.monolithic}),
    );
    f.insert("bytes".into(), json!(len));
    f.insert(
        "mib_per_s".into(),
        json!(round(len as f64 / 1048576.0 / wall, 2)),
    );
    f.insert("digest".into(), json!(digest));
    if let Some((digest_s, upload_s)) = split {
        f.insert("digest_s".into(), json!(round(digest_s, 6)));
        f.insert("upload_s".into(), json!(round(upload_s, 6)));
        f.insert(
            "note".into(),
            json!("--monolithic: sha256 first, then HEAD, POST, one PUT ?digest= with the blob"),
        );
    } else {
        f.insert(
            "note".into(),
            json!("digest computed while streaming: POST, one PATCH with the blob, PUT ?digest="),
        );
    }
    Ok(f)
}

fn blob_pull(c: &Client, a: &Args) -> Result<Fields, String> {
    let big = image(a, "bench/blob:big")?;
    let raw = c.get_raw_manifest(&big).map_err(|e| e.to_string())?;
    let layer = match raw.parse().map_err(|e| e.to_string())? {
        Manifest::Image(m) => m
            .layers
            .first()
            .cloned()
            .ok_or("bench/blob:big has no layer")?,
        Manifest::Index(_) => return Err("bench/blob:big is an index".into()),
    };
    let path = std::path::Path::new(&a.out_dir).join(format!(
        "dockreg-bench-{}-{}.blob",
        std::process::id(),
        layer.digest.hex()
    ));
    let t0 = Instant::now();
    let n = c
        .download_blob(
            &big,
            &layer.digest,
            &path,
            DownloadOptions::new().size(layer.size),
        )
        .map_err(|e| e.to_string())?;
    let wall = t0.elapsed().as_secs_f64();
    let on_disk = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&path);
    if n != layer.size || on_disk != layer.size {
        return Err(format!(
            "file is {on_disk} bytes ({n} written), layer is {}",
            layer.size
        ));
    }
    let mut f = timing(1, wall, &mut []);
    f.insert(
        "params".into(),
        json!({"repo": "bench/blob", "out_dir": a.out_dir, "size_mb": layer.size as f64 / 1048576.0}),
    );
    f.insert("bytes".into(), json!(layer.size));
    f.insert(
        "mib_per_s".into(),
        json!(round(layer.size as f64 / 1048576.0 / wall, 2)),
    );
    f.insert("digest".into(), json!(layer.digest));
    f.insert(
        "note".into(),
        json!("streamed to a temp file in out-dir, sha256 checked while streaming, renamed"),
    );
    Ok(f)
}

/// A field of `/proc/self/status` in kB.
fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

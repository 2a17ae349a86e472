//! The project's column of the peer benchmark (`WORKLOADS.md`): the same workloads,
//! CLI and JSON-line contracts as the peers, implemented with dockreg's public API used the way
//! its docs tell users to, plus workloads of its own where round trips dominate, each with a
//! raw-HTTP floor (`--floor`: plain ureq requests at the same concurrency).
//!
//! ```text
//! cargo run --release --example bench -- --registry 127.0.0.1:PORT [--n N] [--iters N]
//!     [--size-mb S] [--tags T] [--out-dir DIR] [--label NAME] [--monolithic]
//!     [--rtt-ms MS] [--jobs N] [--threads N] [--floor] [--registry2 HOST:PORT]
//!     [--cli PATH] [--c-resolve PATH] WORKLOAD
//! ```
//! `WORKLOAD` is one of the contract's `resolve`, `manifest`, `tags`, `blob-push`, `blob-pull`
//! (or `all`: those five, each in its own process so that `rss_peak_kb` is that workload's), or
//! one of these (in `examples/support/bench_round_trips.rs`):
//! - `resolve-parallel`: `resolve`'s N ops from `--threads` (8) threads sharing one client;
//! - `resolve-many`: all `--tags` tags resolved by one `Client::get_digests` call;
//! - `instances`: `Client::list_instances` of `bench/inst` (300 tags over 4 images), `--iters`
//!   listings (5 by default for this workload);
//! - `copy`: `bench/layered:v1` (16 layers of 1 MiB) copied to a fresh repository on
//!   `--registry2`, `--iters` times (3 by default);
//! - `cold`: a new process (`--cli`, the `dockreg` CLI example) running `digest IMAGE`, N times
//!   (20 by default); the floor is a new process of this program doing one raw HEAD;
//! - `c-resolve`: `resolve` through the C ABI, by the C program `--c-resolve` (built by
//!   `scripts/bench.sh` from `examples/c/bench_resolve.c`).
//!
//! `--rtt-ms MS` puts a delaying TCP relay (examples/support/delay_proxy.rs) in front of each
//! registry, adding MS of round trip. `--jobs N` sets the client's `max_concurrency` (default:
//! the library's) and the floor's concurrency. One JSON line per workload on stdout; a failed
//! check prints `"ok": false` with an `error` and exits 1.

#[path = "support/delay_proxy.rs"]
mod delay_proxy;
#[path = "support/bench_raw.rs"]
mod raw;
#[path = "support/bench_round_trips.rs"]
mod round_trips;

use std::collections::BTreeSet;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use dockreg::{Client, DownloadOptions, Manifest, Reference, UploadOptions};
use serde_json::{Map, Value, json};

const CONTRACT: [&str; 5] = ["resolve", "manifest", "tags", "blob-push", "blob-pull"];
const EXTRA: [&str; 6] = [
    "resolve-parallel",
    "resolve-many",
    "instances",
    "copy",
    "cold",
    "c-resolve",
];
/// The library's default `max_concurrency` (documented on `ClientBuilder::max_concurrency`).
const DEFAULT_JOBS: usize = 16;

struct Args {
    registry: String,
    registry2: String,
    n: Option<usize>,
    iters: Option<usize>,
    size_mb: u64,
    tags: usize,
    out_dir: String,
    label: Option<String>,
    workload: String,
    monolithic: bool,
    rtt_ms: u64,
    jobs: Option<usize>,
    threads: usize,
    floor: bool,
    cli: String,
    c_resolve: String,
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut a = Args {
        registry: String::new(),
        registry2: String::new(),
        n: None,
        iters: None,
        size_mb: 256,
        tags: 2000,
        out_dir: "/dev/shm".into(),
        label: None,
        workload: String::new(),
        monolithic: false,
        rtt_ms: 0,
        jobs: None,
        threads: 8,
        floor: false,
        cli: "target/release/examples/dockreg".into(),
        c_resolve: String::new(),
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
            "--registry2" => a.registry2 = value("--registry2")?,
            "--n" => a.n = Some(num(value("--n")?, "--n")? as usize),
            "--iters" => a.iters = Some(num(value("--iters")?, "--iters")? as usize),
            "--size-mb" => a.size_mb = num(value("--size-mb")?, "--size-mb")?,
            "--tags" => a.tags = num(value("--tags")?, "--tags")? as usize,
            "--out-dir" => a.out_dir = value("--out-dir")?,
            "--label" => a.label = Some(value("--label")?),
            "--monolithic" => a.monolithic = true,
            "--rtt-ms" => a.rtt_ms = num(value("--rtt-ms")?, "--rtt-ms")?,
            "--jobs" => a.jobs = Some(num(value("--jobs")?, "--jobs")? as usize),
            "--threads" => a.threads = num(value("--threads")?, "--threads")? as usize,
            "--floor" => a.floor = true,
            "--cli" => a.cli = value("--cli")?,
            "--c-resolve" => a.c_resolve = value("--c-resolve")?,
            w if !w.starts_with("--") && a.workload.is_empty() => a.workload = w.to_string(),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    if a.registry.is_empty() {
        return Err("--registry HOST:PORT is required".into());
    }
    let known = CONTRACT.contains(&a.workload.as_str()) || EXTRA.contains(&a.workload.as_str());
    if a.workload != "all" && !known {
        return Err(format!(
            "WORKLOAD must be one of {} {} or all",
            CONTRACT.join(" "),
            EXTRA.join(" ")
        ));
    }
    if a.tags == 0 || a.threads == 0 || a.jobs == Some(0) {
        return Err("--tags, --threads and --jobs must be positive".into());
    }
    if a.workload == "copy" && a.registry2.is_empty() {
        return Err("copy needs --registry2 HOST:PORT".into());
    }
    Ok(a)
}

impl Args {
    fn jobs(&self) -> usize {
        self.jobs.unwrap_or(DEFAULT_JOBS)
    }

    /// N ops: `--n`, else the workload's default.
    fn n(&self) -> usize {
        self.n
            .unwrap_or(if self.workload == "cold" { 20 } else { 500 })
    }

    fn iters(&self) -> usize {
        self.iters.unwrap_or(match self.workload.as_str() {
            "instances" => 5,
            "copy" => 3,
            _ => 50,
        })
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // Internal: the `cold` floor's child process, one raw HEAD.
    if argv.first().map(String::as_str) == Some("--raw-head") {
        return round_trips::raw_head_process(&argv[1..]);
    }
    // Internal: the delaying relay, in a process of its own.
    if argv.first().map(String::as_str) == Some("--relay") {
        return relay_process(&argv[1..]);
    }
    let mut args = match parse_args(&argv) {
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
    let upstream = (args.registry.clone(), args.registry2.clone());
    let result = with_rtt(&mut args).and_then(|()| run(&args));
    let mut line = Map::new();
    let label = args
        .label
        .clone()
        .unwrap_or_else(|| if args.floor { "ureq-raw" } else { "dockreg" }.to_string());
    line.insert("tool".into(), json!(label));
    line.insert(
        "tool_version".into(),
        json!(if args.floor {
            "ureq 3.5.2 (raw requests)".to_string()
        } else {
            concat!("dockreg ", env!("CARGO_PKG_VERSION")).to_string()
        }),
    );
    line.insert("workload".into(), json!(args.workload));
    let ok = match result {
        Ok(mut fields) => {
            line.insert("ok".into(), json!(true));
            if let Some(Value::Object(p)) = fields.get_mut("params") {
                p.insert("rtt_ms".into(), json!(args.rtt_ms));
                p.insert("jobs".into(), json!(args.jobs()));
                p.insert("registry".into(), json!(upstream.0));
            }
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
    if !line.contains_key("rss_peak_kb") {
        line.insert("rss_peak_kb".into(), json!(proc_status_kb("VmHWM")));
    }
    println!("{}", Value::Object(line));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// With `--rtt-ms`, a delaying relay in front of each registry, each in a child process (so
/// that its buffers are not in this process's RSS); the workload then talks to the relays.
/// The children end with this process (their stdin closes).
fn with_rtt(a: &mut Args) -> Result<(), String> {
    if a.rtt_ms == 0 {
        return Ok(());
    }
    a.registry = spawn_relay(&a.registry, a.rtt_ms)?;
    if !a.registry2.is_empty() {
        a.registry2 = spawn_relay(&a.registry2, a.rtt_ms)?;
    }
    Ok(())
}

/// Starts `bench --relay UPSTREAM RTT_MS` and returns the address it listens on.
fn spawn_relay(upstream: &str, rtt_ms: u64) -> Result<String, String> {
    use std::io::BufRead;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["--relay", upstream, &rtt_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("relay: {e}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("relay: no stdout")?;
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("relay: {e}"))?;
    // Kept open until this process exits: the relay stops when it reads EOF.
    std::mem::forget(child.stdin.take());
    std::mem::forget(child);
    let addr = line.trim().to_string();
    if addr.is_empty() {
        return Err("relay: no address".into());
    }
    Ok(addr)
}

/// The relay's process: prints its address, relays until stdin closes.
fn relay_process(args: &[String]) -> ExitCode {
    let (Some(upstream), Some(Ok(ms))) = (args.first(), args.get(1).map(|v| v.parse::<u64>()))
    else {
        return ExitCode::from(2);
    };
    match delay_proxy::start(upstream, Duration::from_millis(ms)) {
        Ok(p) => {
            println!("{}", p.addr);
            let _ = std::io::Write::flush(&mut std::io::stdout());
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("relay: {e}");
            ExitCode::from(1)
        }
    }
}

/// `all`: each contract workload in a fresh process of this same program.
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
    for w in CONTRACT {
        let status = Command::new(&exe).args(&base).arg(w).status();
        failed |= !status.is_ok_and(|s| s.success());
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

type Fields = Map<String, Value>;

/// What a workload measured: ops, the timed region, per-op latencies (ms) and its own fields.
struct Sample {
    ops: usize,
    wall: f64,
    lat: Vec<f64>,
    fields: Fields,
}

fn run(a: &Args) -> Result<Fields, String> {
    // Built before the clock, reused for every op.
    let client = match a.jobs {
        Some(j) => Client::builder().max_concurrency(j).build(),
        None => Client::new(),
    }
    .map_err(|e| e.to_string())?;
    let agent = raw::agent(a.jobs());
    let s = match (a.workload.as_str(), a.floor) {
        ("resolve" | "c-resolve", true) => raw_resolve(&agent, a)?,
        ("resolve", false) => resolve(&client, a)?,
        ("manifest", false) => manifest(&client, a)?,
        ("manifest", true) => raw_manifest(&agent, a)?,
        ("tags", false) => tags(&client, a)?,
        ("tags", true) => raw_tags(&agent, a)?,
        ("blob-push", false) => blob_push(&client, a)?,
        ("blob-push", true) => raw_blob_push(&agent, a)?,
        ("blob-pull", false) => blob_pull(&client, a)?,
        ("blob-pull", true) => raw_blob_pull(&agent, a)?,
        ("resolve-parallel", f) => round_trips::resolve_parallel(&client, &agent, a, f)?,
        ("resolve-many", false) => round_trips::resolve_many(&client, a)?,
        ("resolve-many", true) => round_trips::raw_resolve_many(&agent, a)?,
        ("instances", f) => round_trips::instances(&client, &agent, a, f)?,
        ("copy", f) => round_trips::copy(&client, &agent, a, f)?,
        ("cold", f) => round_trips::cold(a, f)?,
        ("c-resolve", false) => round_trips::c_resolve(a)?,
        (other, _) => return Err(format!("unknown workload {other}")),
    };
    let mut lat = s.lat;
    let mut f = timing(s.ops, s.wall, &mut lat);
    f.extend(s.fields);
    let moves_blobs = matches!(a.workload.as_str(), "blob-push" | "blob-pull" | "copy");
    if let Some(bytes) = f
        .get("bytes")
        .and_then(Value::as_f64)
        .filter(|_| moves_blobs)
    {
        f.insert(
            "mib_per_s".into(),
            json!(round(bytes / 1048576.0 / s.wall, 2)),
        );
    }
    Ok(f)
}

fn image(registry: &str, name: &str) -> Result<Reference, String> {
    format!("{registry}/{name}")
        .parse()
        .map_err(|e: dockreg::Error| e.to_string())
}

fn tag_name(i: usize, tags: usize) -> String {
    format!("tag-{:04}", i % tags)
}

fn tag_refs(a: &Args, n: usize) -> Result<Vec<Reference>, String> {
    let repo = image(&a.registry, "bench/app")?;
    (0..n)
        .map(|i| {
            repo.with_tag(&tag_name(i, a.tags))
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn base(registry: &str) -> String {
    format!("http://{registry}")
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

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The resolve check: every digest `sha256:<64 hex>`, 4 distinct for N >= 4.
fn check_digests<'a>(
    digests: impl IntoIterator<Item = &'a str>,
    n: usize,
    tags: usize,
) -> Result<usize, String> {
    let mut distinct = BTreeSet::new();
    for d in digests {
        let hex = d.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{d:?} is not sha256:<64 hex>"));
        }
        distinct.insert(d.to_string());
    }
    if n >= 4 && tags >= 4 && distinct.len() != 4 {
        return Err(format!(
            "expected 4 distinct digests, got {}",
            distinct.len()
        ));
    }
    Ok(distinct.len())
}

fn resolve_fields(a: &Args, n: usize, distinct: usize) -> Fields {
    let mut f = Fields::new();
    f.insert(
        "params".into(),
        json!({"n": n, "repo": "bench/app", "tags": a.tags}),
    );
    f.insert("distinct_digests".into(), json!(distinct));
    f
}

fn resolve(c: &Client, a: &Args) -> Result<Sample, String> {
    let refs = tag_refs(a, a.n())?;
    let mut lat = Vec::with_capacity(refs.len());
    let mut digests = Vec::with_capacity(refs.len());
    let t0 = Instant::now();
    for r in &refs {
        let t = Instant::now();
        let d = c.get_digest(r).map_err(|e| e.to_string())?;
        lat.push(ms_since(t));
        digests.push(d);
    }
    let wall = t0.elapsed().as_secs_f64();
    let distinct = check_digests(digests.iter().map(|d| d.as_str()), a.n(), a.tags)?;
    Ok(Sample {
        ops: refs.len(),
        wall,
        lat,
        fields: resolve_fields(a, a.n(), distinct),
    })
}

fn raw_resolve(agent: &ureq::Agent, a: &Args) -> Result<Sample, String> {
    let b = base(&a.registry);
    let mut lat = Vec::with_capacity(a.n());
    let mut digests = Vec::with_capacity(a.n());
    let t0 = Instant::now();
    for i in 0..a.n() {
        let t = Instant::now();
        digests.push(raw::head_digest(
            agent,
            &b,
            "bench/app",
            &tag_name(i, a.tags),
        )?);
        lat.push(ms_since(t));
    }
    let wall = t0.elapsed().as_secs_f64();
    let distinct = check_digests(digests.iter().map(String::as_str), a.n(), a.tags)?;
    Ok(Sample {
        ops: a.n(),
        wall,
        lat,
        fields: resolve_fields(a, a.n(), distinct),
    })
}

fn manifest(c: &Client, a: &Args) -> Result<Sample, String> {
    let refs = tag_refs(a, a.n())?;
    let mut lat = Vec::with_capacity(refs.len());
    let mut bytes = 0usize;
    let mut all_json = true;
    let t0 = Instant::now();
    for r in &refs {
        let t = Instant::now();
        let m = c.get_raw_manifest(r).map_err(|e| e.to_string())?;
        lat.push(ms_since(t));
        all_json &= m.bytes.first() == Some(&b'{');
        bytes += m.bytes.len();
    }
    manifest_sample(a, t0, lat, bytes, all_json)
}

fn raw_manifest(agent: &ureq::Agent, a: &Args) -> Result<Sample, String> {
    let b = base(&a.registry);
    let mut lat = Vec::with_capacity(a.n());
    let mut bytes = 0usize;
    let mut all_json = true;
    let t0 = Instant::now();
    for i in 0..a.n() {
        let t = Instant::now();
        let m = raw::get_manifest(agent, &b, "bench/app", &tag_name(i, a.tags))?;
        lat.push(ms_since(t));
        all_json &= m.first() == Some(&b'{');
        bytes += m.len();
    }
    manifest_sample(a, t0, lat, bytes, all_json)
}

fn manifest_sample(
    a: &Args,
    t0: Instant,
    lat: Vec<f64>,
    bytes: usize,
    all_json: bool,
) -> Result<Sample, String> {
    let wall = t0.elapsed().as_secs_f64();
    if !all_json {
        return Err("a manifest body does not start with '{'".into());
    }
    let mut fields = Fields::new();
    fields.insert(
        "params".into(),
        json!({"n": a.n(), "repo": "bench/app", "tags": a.tags}),
    );
    fields.insert("bytes".into(), json!(bytes));
    Ok(Sample {
        ops: lat.len(),
        wall,
        lat,
        fields,
    })
}

fn tags(c: &Client, a: &Args) -> Result<Sample, String> {
    let repo = image(&a.registry, "bench/app")?;
    tags_with(a, || c.list_tags(&repo).map_err(|e| e.to_string()))
}

fn raw_tags(agent: &ureq::Agent, a: &Args) -> Result<Sample, String> {
    let b = base(&a.registry);
    tags_with(a, || raw::tags(agent, &b, "bench/app"))
}

fn tags_with(a: &Args, list: impl Fn() -> Result<Vec<String>, String>) -> Result<Sample, String> {
    let iters = a.iters();
    let mut lat = Vec::with_capacity(iters);
    let mut counts = Vec::with_capacity(iters);
    let t0 = Instant::now();
    for _ in 0..iters {
        let t = Instant::now();
        counts.push(list()?.len());
        lat.push(ms_since(t));
    }
    let wall = t0.elapsed().as_secs_f64();
    if let Some(bad) = counts.iter().find(|&&n| n != a.tags) {
        return Err(format!("a listing has {bad} tags, expected {}", a.tags));
    }
    let mut fields = Fields::new();
    fields.insert(
        "params".into(),
        json!({"iters": iters, "repo": "bench/app", "tags": a.tags}),
    );
    fields.insert(
        "tags_per_s".into(),
        json!(round((iters * a.tags) as f64 / wall, 1)),
    );
    Ok(Sample {
        ops: iters,
        wall,
        lat,
        fields,
    })
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

fn blob_push(c: &Client, a: &Args) -> Result<Sample, String> {
    let repo = image(&a.registry, "bench/push")?;
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
    let mut f = push_fields(a, len, digest.as_str());
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
    Ok(Sample {
        ops: 1,
        wall,
        lat: Vec::new(),
        fields: f,
    })
}

fn push_fields(a: &Args, len: u64, digest: &str) -> Fields {
    let mut f = Fields::new();
    f.insert(
        "params".into(),
        json!({"size_mb": a.size_mb, "repo": "bench/push", "monolithic": a.monolithic}),
    );
    f.insert("bytes".into(), json!(len));
    f.insert("digest".into(), json!(digest));
    f
}

fn raw_blob_push(agent: &ureq::Agent, a: &Args) -> Result<Sample, String> {
    let len = a.size_mb * 1024 * 1024;
    let data = fresh_bytes(len as usize);
    let t0 = Instant::now();
    let digest = raw::push_blob(agent, &base(&a.registry), "bench/push", &data)?;
    let wall = t0.elapsed().as_secs_f64();
    let mut f = push_fields(a, len, &digest);
    f.insert(
        "note".into(),
        json!("sha256 first, then POST and one PUT ?digest= with the blob"),
    );
    Ok(Sample {
        ops: 1,
        wall,
        lat: Vec::new(),
        fields: f,
    })
}

/// The layer of `bench/blob:big` (digest, size), found before the clock.
fn big_layer(c: &Client, a: &Args) -> Result<(dockreg::Digest, u64), String> {
    let big = image(&a.registry, "bench/blob:big")?;
    let raw = c.get_raw_manifest(&big).map_err(|e| e.to_string())?;
    match raw.parse().map_err(|e| e.to_string())? {
        Manifest::Image(m) => m
            .layers
            .first()
            .map(|l| (l.digest.clone(), l.size))
            .ok_or_else(|| "bench/blob:big has no layer".to_string()),
        Manifest::Index(_) => Err("bench/blob:big is an index".into()),
    }
}

fn blob_pull(c: &Client, a: &Args) -> Result<Sample, String> {
    let (digest, size) = big_layer(c, a)?;
    let big = image(&a.registry, "bench/blob:big")?;
    pull_with(a, &digest, size, |path| {
        c.download_blob(&big, &digest, path, DownloadOptions::new().size(size))
            .map_err(|e| e.to_string())
    })
}

fn raw_blob_pull(agent: &ureq::Agent, a: &Args) -> Result<Sample, String> {
    // The layer is found with dockreg before the clock (not timed).
    let c = Client::new().map_err(|e| e.to_string())?;
    let (digest, size) = big_layer(&c, a)?;
    let b = base(&a.registry);
    pull_with(a, &digest, size, |path| {
        raw::pull_blob(agent, &b, "bench/blob", digest.as_str(), path)
    })
}

fn pull_with(
    a: &Args,
    digest: &dockreg::Digest,
    size: u64,
    pull: impl Fn(&std::path::Path) -> Result<u64, String>,
) -> Result<Sample, String> {
    let path = std::path::Path::new(&a.out_dir).join(format!(
        "dockreg-bench-{}-{}.blob",
        std::process::id(),
        digest.hex()
    ));
    let t0 = Instant::now();
    let n = pull(&path);
    let wall = t0.elapsed().as_secs_f64();
    let on_disk = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&path);
    let n = n?;
    if n != size || on_disk != size {
        return Err(format!(
            "file is {on_disk} bytes ({n} written), layer is {size}"
        ));
    }
    let mut f = Fields::new();
    f.insert(
        "params".into(),
        json!({"repo": "bench/blob", "out_dir": a.out_dir, "size_mb": size as f64 / 1048576.0}),
    );
    f.insert("bytes".into(), json!(size));
    f.insert("digest".into(), json!(digest));
    f.insert(
        "note".into(),
        json!("streamed to a file in out-dir, sha256 checked while streaming"),
    );
    Ok(Sample {
        ops: 1,
        wall,
        lat: Vec::new(),
        fields: f,
    })
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

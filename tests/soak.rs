//! Soak (issue 8): one `dockreg::Client`, cloned into 8 threads, runs mixed reads and writes
//! against a real registry for `DOCKREG_SOAK_SECS` seconds (default 600), every result checked.
//! Not part of the normal suite (`#[ignore]`): `scripts/soak.sh` runs it in release mode.
//!
//! It expects zero errors (each one is printed and fails the test), prints a status line every
//! 30 s (elapsed, operations, VmRSS, open file descriptors, open TCP sockets), and at the end
//! asserts that memory and sockets stayed flat after warm-up (thresholds printed with the
//! figures).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestRegistry;
use common::tempdir::TempDir;
use common::write_support::{HashSink, proc_status_kb, push_image};
use dockreg::media_type::{OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
use dockreg::{Client, Digest, DockerConfigSource, DownloadOptions, Reference};

const THREADS: usize = 8;
const REPORT_EVERY: Duration = Duration::from_secs(30);
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Sockets the client may hold: at most one in use per thread plus the pool's 8 idle ones per
/// host (transport.rs) is 16; 64 leaves room for connections still closing, and a leak of one
/// socket per operation would pass it within a second.
const MAX_SOCKETS: usize = 64;
/// RSS at the end may be at most this factor of the RSS after warm-up ...
const RSS_FACTOR: f64 = 1.5;
/// ... plus this much (allocator noise and per-thread arenas on a small base).
const RSS_SLACK_KB: u64 = 8 * 1024;
/// Descriptors may grow by at most this many after warm-up (sockets in the pool coming and
/// going; the test itself keeps no files open).
const FD_SLACK: usize = 16;
/// Errors printed in full; the rest are counted.
const PRINT_ERRORS: usize = 50;

/// Bounds per thread so that the test's own state (and the registry's work per listing) stays
/// flat: images and tags in its repository, loose blobs it remembers.
const MAX_IMAGES: usize = 24;
const MAX_TAGS: usize = 64;
const MAX_LOOSE_BLOBS: usize = 64;
/// A thread pushes a medium blob at most this often (storage is never garbage-collected).
const MEDIUM_EVERY: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GetDigest,
    GetManifest,
    GetConfig,
    ListTags,
    OwnManifest,
    GetBlob,
    DownloadBlob,
    PushSmall,
    PushMedium,
    PutImage,
    SetTag,
    DeleteImage,
    DeleteBlob,
}

const KINDS: [Kind; 13] = [
    Kind::GetDigest,
    Kind::GetManifest,
    Kind::GetConfig,
    Kind::ListTags,
    Kind::OwnManifest,
    Kind::GetBlob,
    Kind::DownloadBlob,
    Kind::PushSmall,
    Kind::PushMedium,
    Kind::PutImage,
    Kind::SetTag,
    Kind::DeleteImage,
    Kind::DeleteBlob,
];

/// Relative weights of the operations (reads dominate, as they do in practice).
fn weight(k: Kind) -> u64 {
    match k {
        Kind::GetDigest => 17,
        Kind::GetManifest => 14,
        Kind::GetConfig => 8,
        Kind::ListTags => 8,
        Kind::OwnManifest => 8,
        Kind::GetBlob => 10,
        Kind::DownloadBlob => 3,
        Kind::PushSmall => 8,
        Kind::PushMedium => 2,
        Kind::PutImage => 8,
        Kind::SetTag => 7,
        Kind::DeleteImage => 4,
        Kind::DeleteBlob => 3,
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::GetDigest => "get_digest",
        Kind::GetManifest => "get_manifest",
        Kind::GetConfig => "get_config",
        Kind::ListTags => "list_tags",
        Kind::OwnManifest => "get_manifest(own)",
        Kind::GetBlob => "get_blob",
        Kind::DownloadBlob => "download_blob",
        Kind::PushSmall => "push_blob_bytes(small)",
        Kind::PushMedium => "push_blob_bytes(medium)",
        Kind::PutImage => "put_manifest",
        Kind::SetTag => "set_tag",
        Kind::DeleteImage => "delete_manifest",
        Kind::DeleteBlob => "delete_blob",
    }
}

fn kind_index(k: Kind) -> usize {
    KINDS.iter().position(|x| *x == k).unwrap()
}

/// xorshift64*: reproducible per thread, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn bytes(&mut self, out: &mut Vec<u8>, n: usize) {
        while out.len() < n {
            let w = self.next().to_le_bytes();
            let take = (n - out.len()).min(8);
            out.extend_from_slice(&w[..take]);
        }
    }
}

/// What every thread reads: an image pushed before the threads start.
struct Shared {
    image: Reference,
    digest: Digest,
    manifest: Vec<u8>,
    config_digest: Digest,
}

struct OwnImage {
    manifest: Vec<u8>,
}

/// A thread's own repository, as the thread believes it to be (nobody else writes there).
struct Own {
    repo: Reference,
    images: BTreeMap<Digest, OwnImage>,
    tags: BTreeMap<String, Digest>,
    /// Blobs pushed on their own (not used by a manifest), with their size.
    loose: Vec<(Digest, u64)>,
    counter: u64,
    last_medium: Instant,
}

struct Stats {
    ops: Vec<AtomicU64>,
    /// Time spent per kind, and the longest single operation, in microseconds.
    micros: Vec<AtomicU64>,
    max_micros: Vec<AtomicU64>,
    errors: AtomicU64,
    printed: Mutex<Vec<String>>,
}

impl Stats {
    fn total(&self) -> u64 {
        self.ops.iter().map(|a| a.load(Ordering::Relaxed)).sum()
    }

    fn error(&self, what: String) {
        let n = self.errors.fetch_add(1, Ordering::SeqCst);
        if (n as usize) < PRINT_ERRORS {
            eprintln!("SOAK ERROR #{}: {what}", n + 1);
            self.printed.lock().unwrap().push(what);
        }
    }
}

/// Result of one operation: `Err` holds what went wrong (a dockreg error or a check that failed).
type Check = Result<(), String>;

fn fail<T: std::fmt::Display>(what: &str) -> impl FnOnce(T) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn expect(cond: bool, what: impl FnOnce() -> String) -> Check {
    if cond { Ok(()) } else { Err(what()) }
}

/// Random content that no other blob of the test has: a unique header, then random bytes.
fn unique_blob(rng: &mut Rng, who: usize, n: u64, len: usize) -> Vec<u8> {
    let mut v = format!("soak-{who}-{n}-").into_bytes();
    let len = len.max(v.len());
    rng.bytes(&mut v, len);
    v
}

fn sha(bytes: &[u8]) -> Digest {
    Digest::sha256_of(bytes)
}

/// Pushes a new one-layer image (fresh config and layer) under a fresh tag.
fn put_image(c: &Client, own: &mut Own, rng: &mut Rng, who: usize) -> Check {
    own.counter += 1;
    let n = own.counter;
    let len = rng.range(32, 4096) as usize;
    let layer = unique_blob(rng, who, n, len);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-02T03:04:05Z",
        "config": {"Env": [format!("SOAK={who}-{n}")]},
        "rootfs": {"type": "layers", "diff_ids": [sha(&layer).to_string()]},
    }))
    .unwrap();
    let cd = c
        .push_blob_bytes(&own.repo, &config)
        .map_err(fail("push config"))?;
    expect(cd == sha(&config), || format!("config pushed as {cd}"))?;
    let ld = c
        .push_blob_bytes(&own.repo, &layer)
        .map_err(fail("push layer"))?;
    expect(ld == sha(&layer), || format!("layer pushed as {ld}"))?;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": ld, "size": layer.len()}],
    }))
    .unwrap();
    let tag = format!("n{n}");
    let r = own.repo.with_tag(&tag).unwrap();
    let d = c
        .put_manifest(&r, &manifest, OCI_MANIFEST)
        .map_err(fail("put_manifest"))?;
    expect(d == sha(&manifest), || {
        format!(
            "put_manifest returned {d}, bytes hash to {}",
            sha(&manifest)
        )
    })?;
    own.images.insert(d.clone(), OwnImage { manifest });
    own.tags.insert(tag, d);
    Ok(())
}

fn push_loose(c: &Client, own: &mut Own, rng: &mut Rng, who: usize, medium: bool) -> Check {
    own.counter += 1;
    let len = if medium {
        rng.range(128 * 1024, 1024 * 1024)
    } else {
        rng.range(32, 8192)
    } as usize;
    let blob = unique_blob(rng, who, own.counter, len);
    let d = c
        .push_blob_bytes(&own.repo, &blob)
        .map_err(fail("push_blob_bytes"))?;
    expect(d == sha(&blob), || format!("pushed as {d}"))?;
    own.loose.push((d, blob.len() as u64));
    Ok(())
}

fn delete_loose(c: &Client, own: &mut Own, i: usize) -> Check {
    let (d, _) = own.loose.remove(i);
    c.delete_blob(&own.repo, &d).map_err(fail("delete_blob"))?;
    let after = c
        .head_blob(&own.repo, &d)
        .map_err(fail("head_blob after delete"))?;
    expect(after.is_none(), || {
        format!("blob {d} still there after delete")
    })
}

fn delete_image(c: &Client, own: &mut Own, rng: &mut Rng) -> Check {
    let Some(d) = own
        .images
        .keys()
        .nth(rng.below(own.images.len() as u64) as usize)
        .cloned()
    else {
        return Ok(());
    };
    let base: Reference = own.repo.name().parse().unwrap();
    let by_digest = base.with_digest(d.clone());
    c.delete_manifest(&by_digest)
        .map_err(fail("delete_manifest"))?;
    own.images.remove(&d);
    own.tags.retain(|_, v| v != &d);
    match c.head_manifest(&by_digest) {
        Ok(None) => Ok(()),
        other => Err(format!(
            "manifest {d} after delete: expected none, got {:?}",
            other.map(|h| h.map(|h| h.digest))
        )),
    }
}

/// One operation of kind `k` (adjusted when the thread's state calls for another one); returns
/// the kind actually run and its check.
fn run_op(
    c: &Client,
    shared: &Shared,
    own: &mut Own,
    rng: &mut Rng,
    who: usize,
    scratch: &TempDir,
    mut k: Kind,
) -> (Kind, Check) {
    // Keep the state bounded, and never ask for what does not exist.
    if k == Kind::PushMedium && own.last_medium.elapsed() < MEDIUM_EVERY {
        k = Kind::PushSmall;
    }
    if matches!(k, Kind::PushSmall | Kind::PushMedium) && own.loose.len() >= MAX_LOOSE_BLOBS {
        k = Kind::DeleteBlob;
    }
    if (k == Kind::PutImage && own.images.len() >= MAX_IMAGES)
        || (k == Kind::SetTag && own.tags.len() >= MAX_TAGS)
    {
        k = Kind::DeleteImage;
    }
    if matches!(k, Kind::OwnManifest | Kind::SetTag | Kind::DeleteImage) && own.tags.is_empty() {
        k = Kind::PutImage;
    }
    if matches!(k, Kind::GetBlob | Kind::DownloadBlob | Kind::DeleteBlob) && own.loose.is_empty() {
        k = Kind::PushSmall;
    }
    let check = match k {
        Kind::GetDigest => c
            .get_digest(&shared.image)
            .map_err(fail("get_digest"))
            .and_then(|d| expect(d == shared.digest, || format!("digest {d}"))),
        Kind::GetManifest => c
            .get_manifest(&shared.image)
            .map_err(fail("get_manifest"))
            .and_then(|m| {
                expect(
                    m.digest == shared.digest && m.bytes == shared.manifest,
                    || format!("manifest {} differs from the one pushed", m.digest),
                )
            }),
        Kind::GetConfig => c
            .get_config(&shared.image, &shared.config_digest)
            .map_err(fail("get_config"))
            .and_then(|cfg| {
                expect(cfg.architecture == "amd64" && cfg.os == "linux", || {
                    format!("config says {}/{}", cfg.os, cfg.architecture)
                })
            }),
        Kind::ListTags => c
            .list_tags(&own.repo)
            .map_err(fail("list_tags"))
            .and_then(|tags| {
                let got: BTreeSet<&String> = tags.iter().collect();
                let want: BTreeSet<&String> = own.tags.keys().collect();
                expect(got == want && tags.len() == want.len(), || {
                    format!("tags {got:?}, expected {want:?}")
                })
            }),
        Kind::OwnManifest => {
            let (tag, d) = own
                .tags
                .iter()
                .nth(rng.below(own.tags.len() as u64) as usize)
                .unwrap();
            c.get_manifest(&own.repo.with_tag(tag).unwrap())
                .map_err(fail("get_manifest(own)"))
                .and_then(|m| {
                    expect(&m.digest == d && m.bytes == own.images[d].manifest, || {
                        format!("{tag}: got {}, expected {d}", m.digest)
                    })
                })
        }
        Kind::GetBlob => {
            let (d, len) = own.loose[rng.below(own.loose.len() as u64) as usize].clone();
            if rng.below(2) == 0 {
                c.get_blob_bytes(&own.repo, &d, 2 * 1024 * 1024)
                    .map_err(fail("get_blob_bytes"))
                    .and_then(|b| {
                        expect(b.len() as u64 == len && sha(&b) == d, || {
                            format!("blob {d}: {} bytes hashing to {}", b.len(), sha(&b))
                        })
                    })
            } else {
                let mut sink = HashSink::new();
                c.get_blob(&own.repo, &d, &mut sink)
                    .map_err(fail("get_blob"))
                    .and_then(|n| {
                        let got = sink.digest();
                        expect(n == len && got == d.as_str(), || {
                            format!("blob {d}: {n} bytes hashing to {got}")
                        })
                    })
            }
        }
        Kind::DownloadBlob => {
            let (d, len) = own.loose[rng.below(own.loose.len() as u64) as usize].clone();
            let path = scratch.join(format!("blob-{who}"));
            let r = c
                .download_blob(&own.repo, &d, &path, DownloadOptions::new())
                .map_err(fail("download_blob"))
                .and_then(|n| {
                    let bytes = std::fs::read(&path).map_err(fail("read the download"))?;
                    expect(n == len && sha(&bytes) == d, || {
                        format!("download of {d}: {n} bytes, file hashes to {}", sha(&bytes))
                    })
                });
            let _ = std::fs::remove_file(&path);
            r
        }
        Kind::PushSmall => push_loose(c, own, rng, who, false),
        Kind::PushMedium => {
            own.last_medium = Instant::now();
            push_loose(c, own, rng, who, true)
        }
        Kind::PutImage => put_image(c, own, rng, who),
        Kind::SetTag => {
            let (tag, d) = own
                .tags
                .iter()
                .nth(rng.below(own.tags.len() as u64) as usize)
                .map(|(t, d)| (t.clone(), d.clone()))
                .unwrap();
            own.counter += 1;
            let new_tag = format!("s{}", own.counter);
            c.set_tag(&own.repo.with_tag(&tag).unwrap(), &new_tag)
                .map_err(fail("set_tag"))
                .and_then(|got| {
                    expect(got == d, || {
                        format!("set_tag {tag} -> {new_tag}: {got}, not {d}")
                    })?;
                    own.tags.insert(new_tag, got);
                    Ok(())
                })
        }
        Kind::DeleteImage => delete_image(c, own, rng),
        Kind::DeleteBlob => {
            let i = rng.below(own.loose.len() as u64) as usize;
            delete_loose(c, own, i)
        }
    };
    (k, check)
}

fn pick(rng: &mut Rng) -> Kind {
    let total: u64 = KINDS.iter().map(|k| weight(*k)).sum();
    let mut x = rng.below(total);
    for k in KINDS {
        if x < weight(k) {
            return k;
        }
        x -= weight(k);
    }
    unreachable!()
}

/// Open descriptors of this process, and how many of them are TCP sockets (their inode found
/// in /proc/self/net/tcp or tcp6).
fn fds_and_tcp() -> (usize, usize) {
    let mut tcp_inodes = BTreeSet::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            if let Some(inode) = line.split_whitespace().nth(9) {
                if inode != "0" {
                    tcp_inodes.insert(inode.to_string());
                }
            }
        }
    }
    let mut fds = 0;
    let mut tcp = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        for e in dir.flatten() {
            fds += 1;
            if let Ok(target) = std::fs::read_link(e.path()) {
                let t = target.to_string_lossy();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    if tcp_inodes.contains(inode) {
                        tcp += 1;
                    }
                }
            }
        }
    }
    (fds, tcp)
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    ops: u64,
    rss_kb: u64,
    fds: usize,
    tcp: usize,
}

fn sample(start: Instant, stats: &Stats) -> Sample {
    let (fds, tcp) = fds_and_tcp();
    Sample {
        at: start.elapsed(),
        ops: stats.total(),
        rss_kb: proc_status_kb("VmRSS"),
        fds,
        tcp,
    }
}

fn print_sample(s: &Sample, errors: u64) {
    println!(
        "soak: t={:>4}s ops={:>8} ({:>6.0}/s) errors={} VmRSS={} kB fds={} tcp={}",
        s.at.as_secs(),
        s.ops,
        s.ops as f64 / s.at.as_secs_f64().max(0.001),
        errors,
        s.rss_kb,
        s.fds,
        s.tcp
    );
}

#[test]
#[ignore = "soak test: run by scripts/soak.sh (DOCKREG_SOAK_SECS, default 600)"]
fn soak_mixed_reads_and_writes_with_one_shared_client() {
    let secs: u64 = match std::env::var("DOCKREG_SOAK_SECS") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("DOCKREG_SOAK_SECS={v:?} is not a number of seconds")),
        Err(_) => 600,
    };
    assert!(secs >= 10, "DOCKREG_SOAK_SECS must be at least 10");
    let duration = Duration::from_secs(secs);
    // Warm-up: the first minute (a fifth of shorter runs); the baseline is taken at its end.
    let warmup = Duration::from_secs(60).min(duration / 5);
    println!(
        "soak: {secs} s, {THREADS} threads sharing one client; warm-up {} s; thresholds: \
         RSS(end) <= RSS(warm-up) * {RSS_FACTOR} + {RSS_SLACK_KB} kB, TCP sockets <= \
         {MAX_SOCKETS} at every sample, fds(end) <= fds(warm-up) + {FD_SLACK}, errors == 0",
        warmup.as_secs()
    );

    let reg = TestRegistry::start();
    let client = Client::builder()
        .docker_config(DockerConfigSource::None)
        .build()
        .expect("client");
    let shared_ref: Reference = format!("{}/soak/shared:v1", reg.addr()).parse().unwrap();
    let img = push_image(&client, &shared_ref, "soak", "linux/amd64");
    let shared = Arc::new(Shared {
        image: shared_ref,
        digest: img.digest.clone(),
        manifest: img.manifest.clone(),
        config_digest: sha(&img.config),
    });
    let scratch = Arc::new(TempDir::new("soak"));
    let stats = Arc::new(Stats {
        ops: KINDS.iter().map(|_| AtomicU64::new(0)).collect(),
        micros: KINDS.iter().map(|_| AtomicU64::new(0)).collect(),
        max_micros: KINDS.iter().map(|_| AtomicU64::new(0)).collect(),
        errors: AtomicU64::new(0),
        printed: Mutex::new(Vec::new()),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    println!("soak: registry {} (seed {seed})", reg.addr());

    let start = Instant::now();
    let mut handles = Vec::new();
    for who in 0..THREADS {
        let (c, shared, stats, stop, scratch) = (
            client.clone(),
            shared.clone(),
            stats.clone(),
            stop.clone(),
            scratch.clone(),
        );
        let repo: Reference = format!("{}/soak/t{who}", reg.addr()).parse().unwrap();
        handles.push(std::thread::spawn(move || {
            let mut rng = Rng((seed ^ (who as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
            let mut own = Own {
                repo,
                images: BTreeMap::new(),
                tags: BTreeMap::new(),
                loose: Vec::new(),
                counter: 0,
                last_medium: Instant::now(),
            };
            // The repository exists (with one image) before anything lists it.
            let mut first = Some(Kind::PutImage);
            while !stop.load(Ordering::Relaxed) {
                let want = first.take().unwrap_or_else(|| pick(&mut rng));
                let t = Instant::now();
                let (k, check) = run_op(&c, &shared, &mut own, &mut rng, who, &scratch, want);
                let us = t.elapsed().as_micros() as u64;
                let i = kind_index(k);
                stats.ops[i].fetch_add(1, Ordering::Relaxed);
                stats.micros[i].fetch_add(us, Ordering::Relaxed);
                stats.max_micros[i].fetch_max(us, Ordering::Relaxed);
                if let Err(e) = check {
                    stats.error(format!("thread {who}: {}: {e}", kind_name(k)));
                }
            }
            // The repository is what the thread believes it is.
            match c.list_tags(&own.repo) {
                Ok(tags) => {
                    let got: BTreeSet<String> = tags.into_iter().collect();
                    let want: BTreeSet<String> = own.tags.keys().cloned().collect();
                    if got != want {
                        stats.error(format!("thread {who}: final tags {got:?}, want {want:?}"));
                    }
                }
                Err(e) => stats.error(format!("thread {who}: final list_tags: {e}")),
            }
        }));
    }

    let mut samples: Vec<Sample> = Vec::new();
    let mut baseline: Option<Sample> = None;
    let mut next_report = REPORT_EVERY;
    let mut max_tcp = 0;
    while start.elapsed() < duration {
        std::thread::sleep(SAMPLE_EVERY.min(duration.saturating_sub(start.elapsed())));
        let s = sample(start, &stats);
        max_tcp = max_tcp.max(s.tcp);
        if baseline.is_none() && s.at >= warmup {
            baseline = Some(s);
            print!("soak: warm-up over: ");
            print_sample(&s, stats.errors.load(Ordering::SeqCst));
        }
        if s.at >= next_report {
            print_sample(&s, stats.errors.load(Ordering::SeqCst));
            next_report += REPORT_EVERY;
        }
        samples.push(s);
        if handles.iter().any(|h| h.is_finished()) {
            break; // a worker panicked: stop and report
        }
    }
    let end = sample(start, &stats);
    stop.store(true, Ordering::SeqCst);
    let mut panicked = 0;
    let join_deadline = Instant::now() + Duration::from_secs(60);
    for h in handles {
        while !h.is_finished() {
            assert!(
                Instant::now() < join_deadline,
                "a worker thread did not stop within 60 s: an operation hangs"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        if h.join().is_err() {
            panicked += 1;
        }
    }
    let elapsed = start.elapsed();
    let after = sample(start, &stats);

    println!("soak: operations by kind (count, mean and max latency):");
    for k in KINDS {
        let i = kind_index(k);
        let n = stats.ops[i].load(Ordering::Relaxed);
        let us = stats.micros[i].load(Ordering::Relaxed);
        println!(
            "soak:   {:<24} {:>9}  mean {:>8.2} ms  max {:>8.1} ms",
            kind_name(k),
            n,
            us as f64 / 1000.0 / n.max(1) as f64,
            stats.max_micros[i].load(Ordering::Relaxed) as f64 / 1000.0
        );
    }
    let total = stats.total();
    let errors = stats.errors.load(Ordering::SeqCst);
    let baseline = baseline.expect("no sample after warm-up");
    let rss_limit = (baseline.rss_kb as f64 * RSS_FACTOR) as u64 + RSS_SLACK_KB;
    let rss_max_after_warmup = samples
        .iter()
        .filter(|s| s.at >= baseline.at)
        .map(|s| s.rss_kb)
        .max()
        .unwrap_or(end.rss_kb);
    println!(
        "soak: total {total} operations in {:.1} s ({:.0}/s), {errors} errors, {panicked} \
         threads panicked",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "soak: VmRSS after warm-up {} kB, at the end {} kB (max after warm-up {} kB; limit {} kB); \
         after the threads stopped {} kB",
        baseline.rss_kb, end.rss_kb, rss_max_after_warmup, rss_limit, after.rss_kb
    );
    println!(
        "soak: fds after warm-up {}, at the end {} (limit {}); after the threads stopped {}",
        baseline.fds,
        end.fds,
        baseline.fds + FD_SLACK,
        after.fds
    );
    println!(
        "soak: TCP sockets after warm-up {}, at the end {}, max {} (limit {MAX_SOCKETS}); after \
         the threads stopped {}",
        baseline.tcp, end.tcp, max_tcp, after.tcp
    );

    assert_eq!(panicked, 0, "worker threads panicked");
    assert_eq!(
        errors,
        0,
        "{errors} errors; the first ones:\n{}",
        stats.printed.lock().unwrap().join("\n")
    );
    for k in KINDS {
        assert!(
            stats.ops[kind_index(k)].load(Ordering::Relaxed) > 0,
            "no {} operation ran",
            kind_name(k)
        );
    }
    assert!(
        end.rss_kb <= rss_limit,
        "RSS grew from {} kB after warm-up to {} kB (limit {rss_limit} kB)",
        baseline.rss_kb,
        end.rss_kb
    );
    assert!(
        max_tcp <= MAX_SOCKETS,
        "up to {max_tcp} TCP sockets open (limit {MAX_SOCKETS})"
    );
    assert!(
        end.fds <= baseline.fds + FD_SLACK,
        "descriptors grew from {} after warm-up to {}",
        baseline.fds,
        end.fds
    );
    drop(reg);
}

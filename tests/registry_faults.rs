//! Resilience (issue 8): the real registry (distribution 2.8.2) is killed in the middle of a
//! listing, of manifest reads and of blob uploads, and started again on the same port and
//! storage after a short pause; and it is killed for good under a client that then has to fail
//! promptly.
//!
//! What must hold, with or without automatic retries in the transport:
//! - a call in flight when the registry dies ends (every call runs under a watchdog) with either
//!   `Ok` and the right content or a typed error of the crash kind (`Transport`, or `Registry`
//!   for a 5xx); never a panic, never a wrong or partial success;
//! - once the registry is back, the next calls succeed with the content that was pushed
//!   (digests compared), and an upload started again from scratch succeeds;
//! - a failed upload leaves no blob under its digest (neither through the API nor on disk);
//! - with the registry down, calls fail within a few seconds with `Transport` of kind `Connect`.

mod common;

use std::collections::BTreeSet;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use common::TestRegistry;
use common::registry::Signal;
use common::write_support::{HashSink, PatternReader, pattern, push_image};
use dockreg::media_type::OCI_MANIFEST;
use dockreg::{
    Client, Digest, DockerConfigSource, Error, Reference, TransportErrorKind, UploadOptions,
};

const MIB: u64 = 1024 * 1024;
/// Longest one call may take across a crash: the registry is back within ~2 s of the kill, and
/// the default read timeout is 300 s, so a call still running after this is hung.
const CALL_LIMIT: Duration = Duration::from_secs(20);
/// Longest a worker thread may run after it was asked to stop.
const WATCHDOG: Duration = Duration::from_secs(30);
/// Longest a call may take to fail when nothing listens on the registry's port.
const PROMPT: Duration = Duration::from_secs(5);

fn client() -> Client {
    Client::builder()
        .docker_config(DockerConfigSource::None)
        .build()
        .expect("client")
}

/// A thread whose end is awaited with a deadline: a hang fails the test instead of the suite.
struct Bounded<T> {
    what: String,
    rx: mpsc::Receiver<T>,
}

fn spawn_bounded<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Bounded<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    Bounded {
        what: what.to_string(),
        rx,
    }
}

impl<T> Bounded<T> {
    fn join(self, limit: Duration) -> T {
        match self.rx.recv_timeout(limit) {
            Ok(v) => v,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{}: still running after {limit:?}: it hangs", self.what)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{}: the thread panicked (see its message above)", self.what)
            }
        }
    }
}

/// Runs one call under a watchdog; returns its value and how long it took.
fn bounded<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let started = Instant::now();
    let v = spawn_bounded(what, f).join(limit);
    (v, started.elapsed())
}

/// What a call cut by a crash may fail with: the connection could not be made or broke, or the
/// registry answered 5xx while going down or coming back.
fn is_crash_error(e: &Error) -> bool {
    match e {
        Error::Transport { kind, .. } => matches!(
            kind,
            TransportErrorKind::Connect | TransportErrorKind::Io | TransportErrorKind::Timeout
        ),
        Error::Registry(r) => r.status >= 500,
        _ => false,
    }
}

/// For an upload, also the registry refusing a session the crash cut short (400
/// BLOB_UPLOAD_INVALID, 416, 404 BLOB_UPLOAD_UNKNOWN).
fn is_upload_crash_error(e: &Error) -> bool {
    is_crash_error(e)
        || match e {
            Error::Registry(r) => (400..500).contains(&r.status),
            Error::NotFound(r) => r.has_code("BLOB_UPLOAD_UNKNOWN"),
            _ => false,
        }
}

/// How one call in a worker loop ended.
#[derive(Debug, Clone)]
enum Outcome {
    /// Ok, and the content was checked.
    Ok,
    /// A typed error of the crash kind.
    Fault(String),
    /// A wrong success, or an error of a kind a crash does not explain.
    Wrong(String),
}

#[derive(Debug, Clone)]
struct Call {
    start: Instant,
    end: Instant,
    outcome: Outcome,
}

/// A loop of calls on its own thread, recording each, until told to stop.
struct Worker {
    name: String,
    calls: Arc<Mutex<Vec<Call>>>,
    /// Start of the call running now, if any.
    current: Arc<Mutex<Option<Instant>>>,
    stop: Arc<AtomicBool>,
    handle: Bounded<()>,
}

impl Worker {
    fn spawn(name: &str, mut call: impl FnMut() -> Outcome + Send + 'static) -> Worker {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let current = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (c2, cur2, s2) = (calls.clone(), current.clone(), stop.clone());
        let handle = spawn_bounded(name, move || {
            while !s2.load(Ordering::SeqCst) {
                let start = Instant::now();
                *cur2.lock().unwrap() = Some(start);
                let outcome = call();
                let end = Instant::now();
                *cur2.lock().unwrap() = None;
                let failed = !matches!(outcome, Outcome::Ok);
                c2.lock().unwrap().push(Call {
                    start,
                    end,
                    outcome,
                });
                if failed {
                    // Calls keep coming during the outage, without spinning a core that the
                    // restarting registry needs (the machine may have two).
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        });
        Worker {
            name: name.to_string(),
            calls,
            current,
            stop,
            handle,
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Waits (bounded) until a call that started at or after `since` has ended Ok; returns it.
    /// While the registry is up this also proves the client recovered.
    fn wait_ok_since(&self, since: Instant) -> Call {
        self.wait_oks_since(since, 1)
    }

    /// Waits (bounded) until `n` calls started at or after `since` have ended Ok; returns the
    /// last of them.
    fn wait_oks_since(&self, since: Instant, n: usize) -> Call {
        let deadline = Instant::now() + CALL_LIMIT;
        loop {
            if let Some(c) = self
                .calls()
                .into_iter()
                .filter(|c| c.start >= since && matches!(c.outcome, Outcome::Ok))
                .nth(n - 1)
            {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no successful call started after the registry was back, within {CALL_LIMIT:?}; \
                 last calls: {:?}",
                self.name,
                self.calls()
                    .iter()
                    .rev()
                    .take(3)
                    .map(|c| &c.outcome)
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits (bounded) until a call starts after `after`; returns its start.
    fn wait_call_start_after(&self, after: Instant) -> Instant {
        let deadline = Instant::now() + CALL_LIMIT;
        loop {
            if let Some(s) = *self.current.lock().unwrap() {
                if s > after {
                    return s;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{}: no new call started",
                self.name
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn finish(self) -> Vec<Call> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join(WATCHDOG);
        Arc::try_unwrap(self.calls)
            .map(|m| m.into_inner().unwrap())
            .unwrap_or_else(|a| a.lock().unwrap().clone())
    }
}

/// One crash of the registry: `[killed_from, killed_by]` brackets the moment the process died,
/// `ready` is when `GET /v2/` answered again.
#[derive(Debug, Clone, Copy)]
struct Crash {
    signal: Signal,
    killed_from: Instant,
    killed_by: Instant,
    ready: Instant,
}

fn crash(reg: &mut TestRegistry, signal: Signal, down: Duration) -> Crash {
    let killed_from = Instant::now();
    reg.kill(signal);
    let killed_by = Instant::now();
    std::thread::sleep(down);
    reg.restart();
    Crash {
        signal,
        killed_from,
        killed_by,
        ready: Instant::now(),
    }
}

/// Checks a worker's record against the crashes: every call ended in time, none was a wrong
/// success or an untyped error, some call overlapped each outage, and a call after each restart
/// succeeded. Returns, per crash, the call in flight when the process died.
fn check_calls(name: &str, calls: &[Call], crashes: &[Crash]) -> Vec<Option<Call>> {
    assert!(!calls.is_empty(), "{name}: no calls recorded");
    let mut faults = 0;
    for c in calls {
        let took = c.end - c.start;
        assert!(
            took < CALL_LIMIT,
            "{name}: a call took {took:?} (limit {CALL_LIMIT:?}): {:?}",
            c.outcome
        );
        match &c.outcome {
            Outcome::Wrong(w) => panic!("{name}: {w}"),
            Outcome::Fault(e) => {
                faults += 1;
                if faults <= 3 {
                    eprintln!("{name}: crash error: {e}");
                }
            }
            Outcome::Ok => {}
        }
    }
    let mut in_flight = Vec::new();
    for (i, k) in crashes.iter().enumerate() {
        let overlapping: Vec<&Call> = calls
            .iter()
            .filter(|c| c.start < k.ready && c.end > k.killed_from)
            .collect();
        assert!(
            !overlapping.is_empty(),
            "{name}: no call was made while the registry was down (crash {i})"
        );
        assert!(
            calls
                .iter()
                .any(|c| c.start >= k.ready && matches!(c.outcome, Outcome::Ok)),
            "{name}: no call succeeded after restart {i}"
        );
        let hit = calls
            .iter()
            .find(|c| c.start <= k.killed_by && c.end >= k.killed_from)
            .cloned();
        eprintln!(
            "{name}: crash {i} (SIG{}, process gone in {:?}, down {:?}): {} calls overlapped the \
             outage, in flight at the kill: {:?}",
            k.signal.name(),
            k.killed_by - k.killed_from,
            k.ready - k.killed_from,
            overlapping.len(),
            hit.as_ref().map(|c| &c.outcome)
        );
        in_flight.push(hit);
    }
    eprintln!(
        "{name}: {} calls, {faults} failed with a crash error, the rest Ok with checked content",
        calls.len()
    );
    in_flight
}

/// Judges a call result: `check` says whether an Ok value is right.
fn judge<T>(
    what: &str,
    r: dockreg::Result<T>,
    check: impl FnOnce(&T) -> Option<String>,
) -> Outcome {
    match r {
        Ok(v) => match check(&v) {
            None => Outcome::Ok,
            Some(why) => Outcome::Wrong(format!("{what}: wrong success: {why}")),
        },
        Err(e) if is_crash_error(&e) => Outcome::Fault(e.to_string()),
        Err(e) => Outcome::Wrong(format!("{what}: error of an unexpected kind: {e:?}")),
    }
}

/// The registry's own file for a blob (`.../blobs/sha256/ab/abcd.../data`).
fn blob_data_path(reg: &TestRegistry, d: &Digest) -> PathBuf {
    reg.storage_dir()
        .join("docker/registry/v2/blobs")
        .join(d.algorithm())
        .join(&d.hex()[..2])
        .join(d.hex())
        .join("data")
}

fn read_back(c: &Client, r: &Reference, d: &Digest) -> (u64, String) {
    let mut sink = HashSink::new();
    let n = c
        .get_blob(r, d, &mut sink)
        .unwrap_or_else(|e| panic!("reading back {d}: {e}"));
    (n, sink.digest())
}

const N_REPOS: usize = 150;
const N_TAGS: usize = 300;

#[test]
fn listings_survive_a_crash_in_the_middle() {
    let mut reg = TestRegistry::start();
    let addr = reg.addr();
    let c = client();
    let base_name = "faults/list/base";
    let base: Reference = format!("{addr}/{base_name}:v1").parse().unwrap();
    let img = push_image(&c, &base, "list", "linux/amd64");
    let blobs = [
        Digest::sha256_of(&img.config),
        Digest::sha256_of(&img.layer),
    ];
    // Many repositories (the catalog, read one entry per page, takes hundreds of requests) and
    // one repository with many tags, all holding the same image (mounted blobs).
    let mut names: Vec<String> = (0..N_REPOS)
        .map(|i| format!("faults/list/r{i:04}"))
        .collect();
    names.push("faults/list/tags".to_string());
    std::thread::scope(|s| {
        for part in names.chunks(names.len().div_ceil(4)) {
            let (c, img, blobs, addr) = (&c, &img, &blobs, &addr);
            s.spawn(move || {
                for name in part {
                    let r: Reference = format!("{addr}/{name}:v1").parse().unwrap();
                    let base: dockreg::Repository = format!("{addr}/{base_name}").parse().unwrap();
                    for b in blobs {
                        assert!(c.mount_blob(&r, b, &base).unwrap(), "mount into {name}");
                    }
                    c.put_manifest(&r, &img.manifest, OCI_MANIFEST).unwrap();
                }
            });
        }
    });
    let tags_repo: Reference = format!("{addr}/faults/list/tags").parse().unwrap();
    let mut want_tags: BTreeSet<String> = BTreeSet::from(["v1".to_string()]);
    for i in 0..N_TAGS {
        let tag = format!("t{i:04}");
        let r: Reference = format!("{addr}/faults/list/tags:{tag}").parse().unwrap();
        c.put_manifest(&r, &img.manifest, OCI_MANIFEST).unwrap();
        want_tags.insert(tag);
    }
    names.push(base_name.to_string());
    names.sort();
    let want_repos = names;

    let paged = Client::builder()
        .docker_config(DockerConfigSource::None)
        .page_size(1)
        .build()
        .unwrap();
    let (c1, a1, want1) = (paged.clone(), addr.clone(), want_repos.clone());
    let catalog = Worker::spawn("catalog (page size 1)", move || {
        judge("list_repositories", c1.list_repositories(&a1), |got| {
            (got != &want1).then(|| {
                format!(
                    "{} repositories instead of {} (first difference at {:?})",
                    got.len(),
                    want1.len(),
                    got.iter().zip(&want1).position(|(a, b)| a != b)
                )
            })
        })
    });
    let (c2, r2, want2) = (paged.clone(), tags_repo.clone(), want_tags.clone());
    let tags = Worker::spawn("tags", move || {
        judge("list_tags", c2.list_tags(&r2), |got| {
            let set: BTreeSet<String> = got.iter().cloned().collect();
            (set != want2 || got.len() != want2.len())
                .then(|| format!("{} tags instead of {}", got.len(), want2.len()))
        })
    });

    let mut crashes = Vec::new();
    let mut since = Instant::now();
    for (signal, down) in [
        (Signal::Kill, Duration::from_millis(300)),
        (Signal::Term, Duration::from_millis(1200)),
        (Signal::Kill, Duration::from_millis(700)),
    ] {
        // A whole listing succeeded since the last restart: the next one is cut a third of the
        // way through (hundreds of pages, one request each).
        let ok = catalog.wait_ok_since(since);
        tags.wait_ok_since(since);
        let listing = ok.end - ok.start;
        let started = catalog.wait_call_start_after(ok.end);
        std::thread::sleep((started + listing / 3).saturating_duration_since(Instant::now()));
        eprintln!(
            "catalog listing of {} pages takes {listing:?}",
            want_repos.len()
        );
        let k = crash(&mut reg, signal, down);
        since = k.ready;
        crashes.push(k);
    }
    catalog.wait_ok_since(since);
    tags.wait_ok_since(since);
    let catalog_calls = catalog.finish();
    let tag_calls = tags.finish();

    let hits = check_calls("catalog", &catalog_calls, &crashes);
    // Listings are long and back to back: each kill lands in one, and that one ended.
    for (i, (h, k)) in hits.iter().zip(&crashes).enumerate() {
        let h = h
            .as_ref()
            .unwrap_or_else(|| panic!("crash {i} did not land in a catalog listing"));
        assert!(
            h.start < k.killed_from,
            "crash {i}: the listing it hit had not started before the kill"
        );
    }
    check_calls("tags", &tag_calls, &crashes);

    // Afterwards, with fresh and reused clients alike, everything reads back.
    for cl in [&paged, &c, &client()] {
        assert_eq!(cl.list_repositories(&addr).unwrap(), want_repos);
        let got: BTreeSet<String> = cl.list_tags(&tags_repo).unwrap().into_iter().collect();
        assert_eq!(got, want_tags);
    }
}

#[test]
fn manifest_reads_survive_crashes() {
    let mut reg = TestRegistry::start();
    let c = client();
    let image: Reference = format!("{}/faults/manifest/app:v1", reg.addr())
        .parse()
        .unwrap();
    let img = push_image(&c, &image, "manifest", "linux/amd64");
    let config_digest = Digest::sha256_of(&img.config);

    let (c1, im1, want_digest, want_bytes) = (
        c.clone(),
        image.clone(),
        img.digest.clone(),
        img.manifest.clone(),
    );
    let mut n = 0u64;
    let reader = Worker::spawn("manifest reads", move || {
        n += 1;
        if n % 4 == 0 {
            return judge("get_digest", c1.get_digest(&im1), |d| {
                (d != &want_digest).then(|| format!("digest {d}, pushed {want_digest}"))
            });
        }
        judge("get_manifest", c1.get_manifest(&im1), |m| {
            if m.digest != want_digest {
                Some(format!("digest {}, pushed {want_digest}", m.digest))
            } else if m.bytes != want_bytes {
                Some("bytes differ from those pushed".to_string())
            } else if Digest::sha256_of(&m.bytes) != want_digest {
                Some("bytes do not hash to the digest".to_string())
            } else {
                None
            }
        })
    });

    let mut crashes = Vec::new();
    let mut since = Instant::now();
    for (signal, down) in [
        (Signal::Kill, Duration::from_millis(300)),
        (Signal::Term, Duration::from_millis(800)),
        (Signal::Kill, Duration::from_millis(1500)),
    ] {
        let ok = reader.wait_oks_since(since, 50);
        reader.wait_call_start_after(ok.end);
        let k = crash(&mut reg, signal, down);
        since = k.ready;
        crashes.push(k);
    }
    reader.wait_ok_since(since);
    let calls = reader.finish();
    let hits = check_calls("manifest reads", &calls, &crashes);
    // Reads are short (about a millisecond) but back to back: most kills land in one.
    assert!(
        hits.iter().any(Option::is_some),
        "no kill landed during a manifest read"
    );

    // After the last restart, a fresh client and the one that saw the crashes read it all.
    for cl in [&c, &client()] {
        let m = cl.get_manifest(&image).unwrap();
        assert_eq!(m.digest, img.digest);
        assert_eq!(m.bytes, img.manifest);
        assert_eq!(cl.get_digest(&image).unwrap(), img.digest);
        let raw = cl.get_raw_manifest(&image).unwrap();
        assert_eq!(raw.bytes, img.manifest);
        let config = cl.get_config(&image, &config_digest).unwrap();
        assert_eq!(config.architecture, "amd64");
    }
}

/// A reader that hands out at most `per_read` bytes per call and sleeps before each, counting
/// what it gave, so that an upload from it lasts long enough to be cut.
struct SlowReader<R> {
    inner: R,
    per_read: usize,
    pause: Duration,
    given: Arc<AtomicU64>,
}

impl<R: Read> Read for SlowReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::thread::sleep(self.pause);
        let n = buf.len().min(self.per_read);
        let got = self.inner.read(&mut buf[..n])?;
        self.given.fetch_add(got as u64, Ordering::SeqCst);
        Ok(got)
    }
}

impl<R: Seek> Seek for SlowReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

#[test]
fn uploads_cut_by_a_crash_fail_cleanly_or_finish_and_retry_from_scratch() {
    let mut reg = TestRegistry::start();
    let c = client();
    let len = 12 * MIB;
    let modes = [
        ("streamed PATCH, size known", Signal::Kill, 400),
        ("chunked 1 MiB PATCHes", Signal::Kill, 1000),
        ("monolithic PUT, digest known", Signal::Term, 600),
        ("seekable source", Signal::Kill, 1500),
    ];
    for (i, (mode, signal, down_ms)) in modes.into_iter().enumerate() {
        let seed = 800 + i as u64;
        let data = pattern(seed, len);
        let want = Digest::sha256_of(&data);
        let r: Reference = format!("{}/faults/upload/m{i}", reg.addr())
            .parse()
            .unwrap();
        let given = Arc::new(AtomicU64::new(0));
        // 64 KiB every 3 ms: about 20 MiB/s, so the 12 MiB take 0.6 s or more.
        let slow = SlowReader {
            inner: Cursor::new(data),
            per_read: 64 * 1024,
            pause: Duration::from_millis(3),
            given: given.clone(),
        };
        let (c1, r1, w1) = (c.clone(), r.clone(), want.clone());
        let started = Instant::now();
        let upload = spawn_bounded(mode, move || {
            let mut slow = slow;
            let res = match i {
                0 => c1.push_blob(&r1, &mut slow, UploadOptions::new().size(len)),
                1 => c1.push_blob(
                    &r1,
                    &mut slow,
                    UploadOptions::new().size(len).chunk_size(MIB),
                ),
                2 => c1.push_blob(&r1, &mut slow, UploadOptions::new().digest(w1).size(len)),
                _ => c1.push_blob_seekable(&r1, &mut slow, UploadOptions::new()),
            };
            (res, Instant::now())
        });
        // Kill once a third of the blob has been read from the source.
        let deadline = Instant::now() + CALL_LIMIT;
        while given.load(Ordering::SeqCst) < len / 3 {
            assert!(
                Instant::now() < deadline,
                "{mode}: the upload did not start"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let at = given.load(Ordering::SeqCst);
        let k = crash(&mut reg, signal, Duration::from_millis(down_ms));
        let (res, ended) = upload.join(WATCHDOG);
        let took = ended - started;
        assert!(took < CALL_LIMIT, "{mode}: the upload took {took:?}");
        assert!(
            ended > k.killed_from,
            "{mode}: the upload ended before the kill: it was not cut"
        );
        eprintln!(
            "{mode}: SIG{} after {at} of {len} bytes read, down {:?}, upload ended after {took:?} \
             with {:?}",
            signal.name(),
            k.ready - k.killed_from,
            res.as_ref()
                .map(|d| d.to_string())
                .map_err(|e| e.to_string())
        );
        let data_path = blob_data_path(&reg, &want);
        match res {
            Ok(d) => {
                // It got through (resumed after the restart): it must be the right blob.
                assert_eq!(d, want, "{mode}: wrong digest returned");
            }
            Err(e) => {
                assert!(
                    is_upload_crash_error(&e),
                    "{mode}: error of an unexpected kind: {e:?}"
                );
                // Nothing half-written is visible under the digest.
                assert_eq!(
                    c.head_blob(&r, &want).unwrap(),
                    None,
                    "{mode}: blob present after a failed upload"
                );
                let err = c.get_blob_bytes(&r, &want, 64 * MIB).unwrap_err();
                assert!(err.is_not_found(), "{mode}: GET of the blob: {err:?}");
                assert!(
                    !data_path.exists(),
                    "{mode}: {} exists after a failed upload",
                    data_path.display()
                );
                // Retried from scratch, it goes up whole.
                let again = c
                    .push_blob(
                        &r,
                        &mut PatternReader::new(seed, len),
                        UploadOptions::new().size(len),
                    )
                    .unwrap_or_else(|e| panic!("{mode}: upload after the restart: {e}"));
                assert_eq!(again, want, "{mode}: retried upload digest");
            }
        }
        assert_eq!(c.head_blob(&r, &want).unwrap(), Some(len), "{mode}: HEAD");
        assert_eq!(
            read_back(&c, &r, &want),
            (len, want.to_string()),
            "{mode}: content read back"
        );
        assert_eq!(
            std::fs::metadata(&data_path).map(|m| m.len()).ok(),
            Some(len),
            "{mode}: size of {} on disk",
            data_path.display()
        );
    }
}

/// Established TCP connections of this process to 127.0.0.1:`port` (from /proc/self/net/tcp,
/// matched by inode against this process's descriptors).
fn connections_to(port: u16) -> usize {
    let mine: BTreeSet<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|t| {
            let t = t.to_string_lossy().into_owned();
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let remote = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/self/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 9 && f[2] == remote && f[3] == "01" && mine.contains(f[9])
        })
        .count()
}

#[test]
fn pooled_connections_from_before_a_restart_do_not_fail_later_calls() {
    let mut reg = TestRegistry::start();
    let c = client();
    let image: Reference = format!("{}/faults/pool/app:v1", reg.addr())
        .parse()
        .unwrap();
    let img = push_image(&c, &image, "pool", "linux/amd64");
    let blob = c
        .push_blob(
            &image,
            &mut PatternReader::new(77, 2 * MIB),
            UploadOptions::new().size(2 * MIB),
        )
        .unwrap();
    for (round, signal) in [Signal::Kill, Signal::Term].into_iter().enumerate() {
        // Eight downloads at once (each waits for the others after its first bytes): the pool
        // then holds eight idle connections to the instance about to die.
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let downloads: Vec<_> = (0..8)
            .map(|t| {
                let (c, r, d, b) = (c.clone(), image.clone(), blob.clone(), barrier.clone());
                spawn_bounded(&format!("download {t}"), move || {
                    let mut first = true;
                    let mut wait = |_: u64, _: Option<u64>| {
                        if std::mem::take(&mut first) {
                            b.wait();
                        }
                        true
                    };
                    let mut sink = HashSink::new();
                    c.get_blob_with(
                        &r,
                        &d,
                        &mut sink,
                        dockreg::DownloadOptions::new().progress(&mut wait),
                    )
                    .map(|_| sink.digest())
                })
            })
            .collect();
        for d in downloads {
            assert_eq!(d.join(CALL_LIMIT).unwrap(), blob.to_string());
        }
        let pooled = connections_to(reg.port());
        assert!(
            pooled >= 8,
            "round {round}: {pooled} pooled connections, expected 8"
        );
        let down = reg.kill_and_restart(signal, Duration::from_millis(300));
        eprintln!(
            "round {round}: {pooled} pooled connections, SIG{}, down {down:?}",
            signal.name()
        );
        // Every call after the restart succeeds, one at a time, then eight at once.
        for i in 0..10 {
            let (c1, im1) = (c.clone(), image.clone());
            let (m, took) = bounded("get_manifest after restart", CALL_LIMIT, move || {
                c1.get_manifest(&im1)
            });
            let m = m.unwrap_or_else(|e| {
                panic!("round {round}: call {i} after the restart failed: {e:?}")
            });
            assert_eq!(m.bytes, img.manifest, "round {round}: call {i}");
            assert!(took < PROMPT, "round {round}: call {i} took {took:?}");
        }
        let burst: Vec<_> = (0..8)
            .map(|t| {
                let (c1, im1) = (c.clone(), image.clone());
                spawn_bounded(&format!("get_digest {t}"), move || c1.get_digest(&im1))
            })
            .collect();
        for b in burst {
            assert_eq!(b.join(CALL_LIMIT).unwrap(), img.digest, "round {round}");
        }
    }
}

/// Files in `dir` (a download's directory must hold only what the test put there).
fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn downloads_cut_by_a_crash_resume_or_fail_without_partial_files() {
    let mut reg = TestRegistry::start();
    let c = client();
    let len = 16 * MIB;
    let r: Reference = format!("{}/faults/download/blob", reg.addr())
        .parse()
        .unwrap();
    let want = c
        .push_blob(
            &r,
            &mut PatternReader::new(900, len),
            UploadOptions::new().size(len),
        )
        .unwrap();
    let out_dir = common::TempDir::new("faults-download");
    // Short outages are within the client's resume pauses, long ones beyond them: either way
    // the call ends with the whole verified blob or a typed error.
    let modes = [
        ("get_blob into a writer", Signal::Kill, 300),
        ("download_blob to a file", Signal::Kill, 300),
        ("get_blob into a writer", Signal::Term, 2500),
        ("download_blob to a file", Signal::Kill, 2500),
    ];
    for (i, (mode, signal, down_ms)) in modes.into_iter().enumerate() {
        let done = Arc::new(AtomicU64::new(0));
        let path = out_dir.join(format!("blob-{i}"));
        let (c1, r1, d1, done1, path1) = (
            c.clone(),
            r.clone(),
            want.clone(),
            done.clone(),
            path.clone(),
        );
        let started = Instant::now();
        let download = spawn_bounded(mode, move || {
            // Slowed down by the progress callback: 1 ms per read.
            let mut slow = |n: u64, _total: Option<u64>| {
                done1.store(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
                true
            };
            let options = dockreg::DownloadOptions::new().progress(&mut slow);
            let res = if i % 2 == 0 {
                let mut sink = HashSink::new();
                c1.get_blob_with(&r1, &d1, &mut sink, options)
                    .map(|n| (n, sink.digest()))
            } else {
                c1.download_blob(&r1, &d1, &path1, options).map(|n| {
                    let bytes = std::fs::read(&path1).unwrap();
                    (n, Digest::sha256_of(&bytes).to_string())
                })
            };
            (res, Instant::now())
        });
        let deadline = Instant::now() + CALL_LIMIT;
        while done.load(Ordering::SeqCst) < len / 3 {
            assert!(
                Instant::now() < deadline,
                "{mode}: the download did not start"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let at = done.load(Ordering::SeqCst);
        let k = crash(&mut reg, signal, Duration::from_millis(down_ms));
        let (res, ended) = download.join(WATCHDOG);
        let took = ended - started;
        eprintln!(
            "{mode}: SIG{} after {at} of {len} bytes, down {:?}, ended after {took:?} with {:?}",
            signal.name(),
            k.ready - k.killed_from,
            res.as_ref().map_err(|e| e.to_string())
        );
        assert!(took < CALL_LIMIT, "{mode}: the download took {took:?}");
        assert!(ended > k.killed_from, "{mode}: it ended before the kill");
        match res {
            Ok((n, got)) => {
                assert_eq!(n, len, "{mode}: bytes");
                assert_eq!(got, want.to_string(), "{mode}: content");
            }
            Err(e) => {
                assert!(
                    is_crash_error(&e),
                    "{mode}: error of an unexpected kind: {e:?}"
                );
                assert!(
                    !path.exists(),
                    "{mode}: {} exists after a failure",
                    path.display()
                );
            }
        }
        // No partial file is left next to the destination, whatever happened.
        let expected: Vec<String> = (0..=i)
            .filter(|j| j % 2 == 1 && out_dir.join(format!("blob-{j}")).exists())
            .map(|j| format!("blob-{j}"))
            .collect();
        assert_eq!(dir_entries(out_dir.path()), expected, "{mode}: files left");
        // Once the registry is back, the same download goes through.
        let again = out_dir.join(format!("again-{i}"));
        assert_eq!(
            c.download_blob(&r, &want, &again, dockreg::DownloadOptions::new())
                .unwrap_or_else(|e| panic!("{mode}: download after the restart: {e}")),
            len
        );
        assert_eq!(
            Digest::sha256_of(&std::fs::read(&again).unwrap()),
            want,
            "{mode}: download after the restart"
        );
        std::fs::remove_file(&again).unwrap();
    }
}

#[test]
fn frozen_registry_gives_timeouts_not_hangs() {
    let mut reg = TestRegistry::start();
    let read_timeout = Duration::from_secs(1);
    let timed = || {
        Client::builder()
            .docker_config(DockerConfigSource::None)
            .connect_timeout(Duration::from_secs(1))
            .stall_timeout(read_timeout)
            .build()
            .unwrap()
    };
    let used = timed();
    let image: Reference = format!("{}/faults/frozen/app:v1", reg.addr())
        .parse()
        .unwrap();
    let img = push_image(&used, &image, "frozen", "linux/amd64");
    assert_eq!(used.get_digest(&image).unwrap(), img.digest);
    // A hung server: connections are accepted by the kernel, nothing is answered.
    reg.freeze();
    assert!(reg.is_frozen());
    // Each call waits out the read timeout (perhaps a few times, with retries) and no longer.
    let limit = read_timeout * 6 + Duration::from_secs(2);
    for (who, cl) in [("pooled", used.clone()), ("fresh", timed())] {
        for op in ["get_manifest", "list_tags", "push_blob_bytes"] {
            let (cl2, im2) = (cl.clone(), image.clone());
            let (res, took) = bounded(op, CALL_LIMIT, move || match op {
                "get_manifest" => cl2.get_manifest(&im2).map(drop),
                "list_tags" => cl2.list_tags(&im2).map(drop),
                _ => cl2.push_blob_bytes(&im2, b"frozen").map(drop),
            });
            eprintln!("{who}: {op} against a frozen registry: {took:?}: {res:?}");
            match res {
                Err(Error::Transport {
                    kind: TransportErrorKind::Timeout,
                    ..
                }) => {}
                other => panic!("{who}: {op}: expected Transport/Timeout, got {other:?}"),
            }
            assert!(
                took >= read_timeout,
                "{who}: {op} gave up before the timeout"
            );
            assert!(took < limit, "{who}: {op} took {took:?} (limit {limit:?})");
        }
    }
    reg.thaw();
    // Thawed, it answers the same client again, with the content pushed.
    let m = used.get_manifest(&image).unwrap();
    assert_eq!((m.digest, m.bytes), (img.digest.clone(), img.manifest));
    assert_eq!(timed().get_digest(&image).unwrap(), img.digest);
}

/// An upload whose server stops reading (hung process, network black hole) ends at the stall
/// timeout, which applies to writes as well as reads (before 0.2 it blocked in `write` for
/// ever: there was no write timeout).
#[test]
fn upload_to_a_frozen_registry_times_out() {
    let mut reg = TestRegistry::start();
    let read_timeout = Duration::from_secs(1);
    let c = Client::builder()
        .docker_config(DockerConfigSource::None)
        .connect_timeout(Duration::from_secs(1))
        .stall_timeout(read_timeout)
        .build()
        .unwrap();
    let r: Reference = format!("{}/faults/frozen/upload", reg.addr())
        .parse()
        .unwrap();
    let len = 256 * MIB;
    let given = Arc::new(AtomicU64::new(0));
    let slow = SlowReader {
        inner: PatternReader::new(1, len),
        per_read: 256 * 1024,
        pause: Duration::from_millis(1),
        given: given.clone(),
    };
    let (c1, r1) = (c.clone(), r.clone());
    let upload = spawn_bounded("upload to a frozen registry", move || {
        let mut slow = slow;
        let started = Instant::now();
        let res = c1.push_blob(&r1, &mut slow, UploadOptions::new().size(len));
        (res, started.elapsed())
    });
    let deadline = Instant::now() + CALL_LIMIT;
    while given.load(Ordering::SeqCst) < 8 * MIB {
        assert!(Instant::now() < deadline, "the upload did not start");
        std::thread::sleep(Duration::from_millis(1));
    }
    reg.freeze();
    let frozen_at = Instant::now();
    // The upload must give up, after its resume attempts (it asks the registry where the
    // session stands a few times, with growing pauses, each ask bounded by read_timeout: about
    // 10 s here), instead of waiting forever.
    let limit = CALL_LIMIT;
    let (res, _) = upload.join(limit + Duration::from_secs(10));
    let after_freeze = frozen_at.elapsed();
    eprintln!("upload to a frozen registry ended {after_freeze:?} after the freeze: {res:?}");
    match res {
        Err(Error::Transport {
            kind: TransportErrorKind::Timeout | TransportErrorKind::Io,
            ..
        }) => {}
        other => panic!("expected a Transport timeout, got {other:?}"),
    }
    assert!(
        after_freeze < limit,
        "it took {after_freeze:?} (limit {limit:?})"
    );
    reg.thaw();
    let want = c
        .push_blob(
            &r,
            &mut PatternReader::new(1, 4 * MIB),
            UploadOptions::new().size(4 * MIB),
        )
        .unwrap();
    assert_eq!(read_back(&c, &r, &want), (4 * MIB, want.to_string()));
}

#[test]
fn registry_down_fails_promptly_with_a_connect_error() {
    let mut reg = TestRegistry::start();
    let addr = reg.addr();
    let used = client();
    let image: Reference = format!("{addr}/faults/down/app:v1").parse().unwrap();
    let img = push_image(&used, &image, "down", "linux/amd64");
    let config_digest = Digest::sha256_of(&img.config);
    // Pooled connections: the client holds some from before the crash.
    assert_eq!(used.get_digest(&image).unwrap(), img.digest);
    reg.kill(Signal::Kill);
    assert!(!reg.is_running());

    let fresh = client();
    for (who, cl) in [
        ("client with pooled connections", used),
        ("fresh client", fresh),
    ] {
        type Op = Box<dyn FnOnce(&Client, &Reference, &Digest, &str) -> dockreg::Result<()> + Send>;
        let ops: Vec<(&str, Op)> = vec![
            (
                "get_manifest",
                Box::new(|c, r, _, _| c.get_manifest(r).map(drop)),
            ),
            (
                "get_digest",
                Box::new(|c, r, _, _| c.get_digest(r).map(drop)),
            ),
            ("list_tags", Box::new(|c, r, _, _| c.list_tags(r).map(drop))),
            (
                "list_repositories",
                Box::new(|c, _, _, a| c.list_repositories(a).map(drop)),
            ),
            (
                "head_blob",
                Box::new(|c, r, d, _| c.head_blob(r, d).map(drop)),
            ),
            (
                "get_config",
                Box::new(|c, r, d, _| c.get_config(r, d).map(drop)),
            ),
            (
                "push_blob_bytes",
                Box::new(|c, r, _, _| c.push_blob_bytes(r, b"while down").map(drop)),
            ),
            (
                "push_blob (stream)",
                Box::new(|c, r, _, _| {
                    c.push_blob(
                        r,
                        &mut PatternReader::new(5, MIB),
                        UploadOptions::new().size(MIB),
                    )
                    .map(drop)
                }),
            ),
        ];
        for (name, op) in ops {
            let (cl2, r2, d2, a2) = (
                cl.clone(),
                image.clone(),
                config_digest.clone(),
                addr.clone(),
            );
            let (res, took) = bounded(name, CALL_LIMIT, move || op(&cl2, &r2, &d2, &a2));
            eprintln!("{who}: {name} with the registry down: {took:?}: {res:?}");
            match res {
                Err(Error::Transport {
                    kind: TransportErrorKind::Connect,
                    ..
                }) => {}
                other => panic!("{who}: {name}: expected Transport/Connect, got {other:?}"),
            }
            assert!(
                took < PROMPT,
                "{who}: {name} took {took:?} to fail (limit {PROMPT:?})"
            );
        }
    }
    // And once it is back, the same image reads as pushed.
    reg.restart();
    let c = client();
    assert_eq!(c.get_manifest(&image).unwrap().bytes, img.manifest);
}

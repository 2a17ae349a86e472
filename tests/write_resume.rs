//! Resumable uploads: the registry process is stopped in the middle of a chunked upload and
//! started again on the same storage; the upload continues (or starts a new session when the
//! registry lost it) and ends with the right digest, and no broken blob is ever present.

mod common;

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::sync::{Arc, Condvar, Mutex};

use common::TestRegistry;
use common::write_support::{HashSink, pattern};
use dockreg::{Client, Digest, Reference, UploadOptions};

const MIB: u64 = 1024 * 1024;

#[derive(Default)]
struct Gate {
    paused: bool,
    released: bool,
}

/// A reader over `data` that stops once, at byte `pause_at`, until the test releases it.
struct PausingReader {
    inner: Cursor<Vec<u8>>,
    pause_at: u64,
    gate: Arc<(Mutex<Gate>, Condvar)>,
}

impl PausingReader {
    fn wait_if_due(&mut self) {
        if self.inner.position() < self.pause_at {
            return;
        }
        let (lock, cv) = &*self.gate;
        let mut g = lock.lock().unwrap();
        if g.released {
            return;
        }
        g.paused = true;
        cv.notify_all();
        while !g.released {
            g = cv.wait(g).unwrap();
        }
    }
}

impl Read for PausingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.wait_if_due();
        let pos = self.inner.position();
        let limit = if pos < self.pause_at {
            buf.len().min((self.pause_at - pos) as usize)
        } else {
            buf.len()
        };
        self.inner.read(&mut buf[..limit])
    }
}

impl Seek for PausingReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

/// Runs `upload` in a thread; when its reader pauses, restarts the registry, checks that the
/// blob is not present, then lets the upload go on. With `outage`, the registry is stopped
/// instead, the upload let go (so its next request fails), and the registry started again a
/// second later. Returns the upload's result.
fn with_restart(
    reg: &mut TestRegistry,
    gate: &Arc<(Mutex<Gate>, Condvar)>,
    outage: bool,
    check: impl FnOnce(),
    upload: impl FnOnce() -> dockreg::Result<Digest> + Send,
) -> dockreg::Result<Digest> {
    std::thread::scope(|s| {
        let h = s.spawn(upload);
        {
            let (lock, cv) = &**gate;
            let mut g = lock.lock().unwrap();
            while !g.paused {
                let (next, timeout) = cv
                    .wait_timeout(g, std::time::Duration::from_secs(60))
                    .unwrap();
                g = next;
                assert!(
                    !timeout.timed_out(),
                    "the upload never reached the pause point"
                );
            }
        }
        let release = || {
            let (lock, cv) = &**gate;
            lock.lock().unwrap().released = true;
            cv.notify_all();
        };
        if outage {
            reg.stop();
            release();
            std::thread::sleep(std::time::Duration::from_millis(700));
            reg.restart();
            check();
        } else {
            reg.restart();
            check();
            release();
        }
        h.join().unwrap()
    })
}

fn read_back(c: &Client, r: &Reference, d: &Digest) -> String {
    let mut sink = HashSink::new();
    c.get_blob(r, d, &mut sink).unwrap();
    sink.digest()
}

#[test]
fn chunked_upload_resumes_after_an_outage_between_chunks() {
    let mut reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let r: Reference = format!("{}/resume/between", reg.addr()).parse().unwrap();
    let data = pattern(31, 12 * MIB + 5);
    let want = Digest::sha256_of(&data);
    let gate = Arc::new((Mutex::new(Gate::default()), Condvar::new()));
    // A plain (non-seekable) reader: chunks are kept in memory, and the pause comes while the
    // third chunk is being read, with two chunks committed.
    let mut reader = PausingReader {
        inner: Cursor::new(data.clone()),
        pause_at: 8 * MIB + 100,
        gate: gate.clone(),
    };
    let (c2, r2) = (c.clone(), r.clone());
    let got = with_restart(
        &mut reg,
        &gate,
        true,
        || (),
        move || {
            c2.push_blob(
                &r2,
                &mut reader as &mut dyn Read,
                UploadOptions::new()
                    .size(data.len() as u64)
                    .chunk_size(4 * MIB),
            )
        },
    )
    .unwrap();
    assert_eq!(got, want);
    assert_eq!(read_back(&c, &r, &got), want.to_string());
    // The session survived: the registry holds no second, abandoned upload of this repository.
    let uploads = reg
        .storage_dir()
        .join("docker/registry/v2/repositories/resume/between/_uploads");
    let left = std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "upload sessions left in {}", uploads.display());
}

#[test]
fn upload_survives_a_restart_in_the_middle_of_a_request() {
    let mut reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let data = pattern(32, 10 * MIB + 1);
    let want = Digest::sha256_of(&data);
    // Seekable sources stream each request straight from the source: the pause happens with a
    // PATCH (chunked), the single streamed PATCH (digest unknown) or the monolithic PUT (digest
    // known) half sent, and the registry is killed under it.
    for i in 0..3 {
        let r: Reference = format!("{}/resume/mid-{i}", reg.addr()).parse().unwrap();
        let gate = Arc::new((Mutex::new(Gate::default()), Condvar::new()));
        let mut reader = PausingReader {
            inner: Cursor::new(data.clone()),
            pause_at: 6 * MIB,
            gate: gate.clone(),
        };
        let (c2, r2) = (c.clone(), r.clone());
        let got = with_restart(
            &mut reg,
            &gate,
            false,
            || assert_eq!(c.head_blob(&r, &want).unwrap(), None),
            move || {
                let options = match i {
                    0 => UploadOptions::new().chunk_size(4 * MIB),
                    1 => UploadOptions::new(),
                    _ => UploadOptions::new().digest(Digest::sha256_of(reader.inner.get_ref())),
                };
                c2.push_blob_seekable(&r2, &mut reader, options)
            },
        )
        .unwrap_or_else(|e| panic!("mode {i}: {e}"));
        assert_eq!(got, want, "mode {i}");
        assert_eq!(read_back(&c, &r, &got), want.to_string(), "mode {i}");
    }
}

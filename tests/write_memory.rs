//! Memory: a 1 GiB blob goes up and comes back down with the process's peak RSS under 64 MiB.
//!
//! Not in the default run (it moves 2 GiB through a registry). Run it with:
//!
//! ```text
//! cargo test --release --test write_memory -- --ignored --nocapture
//! ```
//! It prints `VmHWM` (peak resident set) before and after; only this test runs in this binary,
//! so the peak is the transfer's.

mod common;

use common::TestRegistry;
use common::write_support::{HashSink, PatternReader, pattern_digest, proc_status_kb};
use dockreg::{Client, DownloadOptions, Reference, UploadOptions};

const GIB: u64 = 1024 * 1024 * 1024;
const LIMIT_KB: u64 = 64 * 1024;

#[test]
#[ignore = "moves 2 GiB: cargo test --release --test write_memory -- --ignored --nocapture"]
fn one_gib_up_and_down_in_constant_memory() {
    let reg = TestRegistry::start();
    let c = Client::new().unwrap();
    let r: Reference = format!("{}/memory/big", reg.addr()).parse().unwrap();
    let want = pattern_digest(42, GIB);
    let start_kb = proc_status_kb("VmHWM");

    let t = std::time::Instant::now();
    let d = c
        .push_blob(
            &r,
            &mut PatternReader::new(42, GIB),
            UploadOptions::new().size(GIB),
        )
        .unwrap();
    let up = t.elapsed();
    assert_eq!(d.as_str(), want);
    let after_up_kb = proc_status_kb("VmHWM");

    let t = std::time::Instant::now();
    let mut sink = HashSink::new();
    let n = c
        .get_blob_with(&r, &d, &mut sink, DownloadOptions::new().size(GIB))
        .unwrap();
    let down = t.elapsed();
    assert_eq!(n, GIB);
    assert_eq!(sink.digest(), want);
    let after_down_kb = proc_status_kb("VmHWM");

    // A stream of unknown length goes up in chunks held in memory, one at a time.
    let t = std::time::Instant::now();
    let r2: Reference = format!("{}/memory/chunked", reg.addr()).parse().unwrap();
    let d2 = c
        .push_blob(&r2, &mut PatternReader::new(42, GIB), UploadOptions::new())
        .unwrap();
    let chunked = t.elapsed();
    assert_eq!(d2.as_str(), want);
    let peak_kb = proc_status_kb("VmHWM");

    println!(
        "1 GiB blob: upload {:.1}s, download {:.1}s, chunked upload of unknown size {:.1}s; \
         VmHWM start {start_kb} kB, after upload {after_up_kb} kB, after download \
         {after_down_kb} kB, after chunked upload {peak_kb} kB (limit {LIMIT_KB} kB)",
        up.as_secs_f64(),
        down.as_secs_f64(),
        chunked.as_secs_f64()
    );
    assert!(peak_kb < LIMIT_KB, "peak RSS {peak_kb} kB >= {LIMIT_KB} kB");
}

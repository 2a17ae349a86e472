//! The per-host limit on requests in flight, bulk results in input order, and cancel and
//! deadline reaching the worker threads: against a small counting server that answers manifest
//! HEADs after a delay and records how many requests it holds at once.

mod common;

use std::ffi::{CStr, CString, c_char};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use dockreg::{CancelToken, Client, Error, Reference};

/// Answers `HEAD /v2/<repo>/manifests/<tag>` after `delay` with a digest made of the tag (404
/// for tags starting with `missing`), and counts requests held at once.
struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Server {
    fn start(delay: Duration) -> Server {
        Self::start_counting(delay, Arc::default(), Arc::default())
    }

    /// A server that also counts its requests in flight in `all_now` and their peak in
    /// `all_peak`, shared with other servers.
    fn start_counting(
        delay: Duration,
        all_now: Arc<AtomicUsize>,
        all_peak: Arc<AtomicUsize>,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        let (r, p) = (requests.clone(), peak.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let counters = [
                    (now.clone(), p.clone()),
                    (all_now.clone(), all_peak.clone()),
                ];
                let r = r.clone();
                thread::spawn(move || serve(conn, delay, &r, &counters));
            }
        });
        Server {
            port,
            requests,
            peak,
        }
    }

    fn image(&self, tag: &str) -> Reference {
        format!("127.0.0.1:{}/app:{tag}", self.port)
            .parse()
            .unwrap()
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// The digest the server gives `tag`.
fn digest_of(tag: &str) -> String {
    let hex: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex:0>64}")
}

/// In flight now and its peak.
type Gauge = (Arc<AtomicUsize>, Arc<AtomicUsize>);

fn serve(conn: TcpStream, delay: Duration, requests: &AtomicUsize, gauges: &[Gauge]) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    // The client's TLS probe (a ClientHello): close, as a plain-HTTP server would.
    if reader.fill_buf().map_or(true, |b| b.first() == Some(&22)) {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if h == "\r\n" {
                break;
            }
        }
        let _ = (&mut reader)
            .take(length as u64)
            .read_to_end(&mut Vec::new());
        requests.fetch_add(1, Ordering::SeqCst);
        for (now, peak) in gauges {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
        }
        thread::sleep(delay);
        for (now, _) in gauges {
            now.fetch_sub(1, Ordering::SeqCst);
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("");
        let tag = parts.next().unwrap_or("").rsplit('/').next().unwrap_or("");
        let answer = if tag.starts_with("missing") {
            let body = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
            let body = if method == "HEAD" { "" } else { body };
            format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                if method == "HEAD" { 0 } else { body.len() }
            )
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nDocker-Content-Digest: {}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 2\r\n\r\n{}",
                digest_of(tag),
                if method == "HEAD" { "" } else { "{}" }
            )
        };
        if conn.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn get_digests_keeps_input_order_with_errors_in_place_and_obeys_the_limit() {
    let server = Server::start(Duration::from_millis(30));
    let client = Client::builder().max_concurrency(4).build().unwrap();
    let tags: Vec<String> = (0..40)
        .map(|i| {
            if i % 7 == 3 {
                format!("missing-{i}")
            } else {
                format!("t{i}")
            }
        })
        .collect();
    let images: Vec<Reference> = tags.iter().map(|t| server.image(t)).collect();
    let started = Instant::now();
    let results = client.get_digests(&images);
    let took = started.elapsed();
    assert_eq!(results.len(), tags.len());
    for (tag, r) in tags.iter().zip(&results) {
        if tag.starts_with("missing") {
            assert!(r.as_ref().unwrap_err().is_not_found(), "{tag}: {r:?}");
        } else {
            assert_eq!(r.as_ref().unwrap().as_str(), digest_of(tag), "{tag}");
        }
    }
    assert_eq!(
        server.peak(),
        4,
        "4 in flight at most, and the fan-out used them"
    );
    // 40 HEADs (and one GET for each missing tag) four at a time at 30 ms each: about
    // 12 rounds, far from the 46 a single thread would take.
    assert!(took < Duration::from_millis(46 * 30), "{took:?}");
}

#[test]
fn threads_and_clones_sharing_a_client_share_its_limit() {
    let server = Server::start(Duration::from_millis(20));
    let client = Client::builder().max_concurrency(3).build().unwrap();
    thread::scope(|s| {
        for t in 0..8 {
            // Half the threads use clones, half the client itself.
            let c = if t % 2 == 0 {
                client.clone()
            } else {
                client.with_timeout(Duration::from_secs(60))
            };
            let server = &server;
            let client = &client;
            s.spawn(move || {
                for i in 0..5 {
                    let tag = format!("t{t}-{i}");
                    let d = if i % 2 == 0 {
                        c.get_digest(&server.image(&tag)).unwrap()
                    } else {
                        client.get_digest(&server.image(&tag)).unwrap()
                    };
                    assert_eq!(d.as_str(), digest_of(&tag));
                }
            });
        }
    });
    assert_eq!(server.requests.load(Ordering::SeqCst), 40);
    assert_eq!(server.peak(), 3, "one limit for every thread and clone");
}

#[test]
fn the_limit_is_per_host() {
    let (now, both) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let a = Server::start_counting(Duration::from_millis(30), now.clone(), both.clone());
    let b = Server::start_counting(Duration::from_millis(30), now, both.clone());
    let client = Client::builder().max_concurrency(2).build().unwrap();
    thread::scope(|s| {
        for t in 0..8 {
            let server = if t % 2 == 0 { &a } else { &b };
            let client = &client;
            s.spawn(move || {
                let images: Vec<Reference> =
                    (0..4).map(|i| server.image(&format!("t{t}-{i}"))).collect();
                for r in client.get_digests(&images) {
                    r.unwrap();
                }
            });
        }
    });
    assert_eq!(a.peak(), 2);
    assert_eq!(b.peak(), 2);
    assert_eq!(
        both.load(Ordering::SeqCst),
        4,
        "two hosts, two each at once"
    );
}

#[test]
fn a_cancel_reaches_the_workers() {
    let server = Server::start(Duration::from_secs(3));
    let token = CancelToken::new();
    let client = Client::builder()
        .max_concurrency(4)
        .build()
        .unwrap()
        .with_cancel(&token);
    let images: Vec<Reference> = (0..20).map(|i| server.image(&format!("t{i}"))).collect();
    let stopper = token.clone();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        stopper.cancel();
    });
    let started = Instant::now();
    let results = client.get_digests(&images);
    t.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(results.len(), 20);
    for r in &results {
        assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    }
    // At most the four requests in flight when the cancel came; the others never left.
    let sent = server.requests.load(Ordering::SeqCst);
    assert!((1..=4).contains(&sent), "{sent} requests");
}

#[test]
fn a_deadline_reaches_the_workers() {
    let server = Server::start(Duration::from_secs(3));
    let client = Client::builder()
        .max_concurrency(4)
        .build()
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let images: Vec<Reference> = (0..20).map(|i| server.image(&format!("t{i}"))).collect();
    let started = Instant::now();
    let results = client.get_digests(&images);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    for r in &results {
        assert!(
            matches!(
                r,
                Err(Error::Transport {
                    kind: dockreg::TransportErrorKind::Timeout,
                    ..
                })
            ),
            "{r:?}"
        );
    }
    let sent = server.requests.load(Ordering::SeqCst);
    assert!((1..=4).contains(&sent), "{sent} requests");
}

#[test]
fn a_registry_that_is_down_costs_a_few_attempts_not_one_per_image() {
    // A port with nothing listening: connection refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .max_concurrency(4)
        .retry(dockreg::RetryPolicy::default().max_attempts(1))
        .build()
        .unwrap();
    let images: Vec<Reference> = (0..200)
        .map(|i| format!("127.0.0.1:{port}/app:t{i}").parse().unwrap())
        .collect();
    let started = Instant::now();
    let results = client.get_digests(&images);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for r in &results {
        assert!(matches!(r, Err(Error::Transport { .. })), "{r:?}");
    }
}

/// A 401 is about its repository (a private or missing repository on Docker Hub): the other
/// repositories of the registry still get their own answers, even one request at a time.
#[test]
fn a_refused_repository_does_not_fail_the_others() {
    let mut server = mockito::Server::new();
    let host = server.host_with_port();
    let refused = server
        .mock("HEAD", "/v2/private/x/manifests/t")
        .with_status(401)
        .expect(1)
        .create();
    let digest = digest_of("t");
    let fine = server
        .mock(
            "HEAD",
            mockito::Matcher::Regex(r"^/v2/public/\w+/manifests/t$".into()),
        )
        .with_status(200)
        .with_header("Docker-Content-Digest", &digest)
        .with_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .with_header("Content-Length", "100")
        .expect(2)
        .create();
    let client = Client::builder().max_concurrency(1).build().unwrap();
    let images: Vec<Reference> = ["private/x:t", "public/a:t", "public/b:t"]
        .iter()
        .map(|p| format!("{host}/{p}").parse().unwrap())
        .collect();
    let results = client.get_digests(&images);
    assert!(
        matches!(results[0], Err(Error::Unauthorized(_))),
        "{:?}",
        results[0]
    );
    for r in &results[1..] {
        assert_eq!(
            r.as_ref().map(ToString::to_string).ok(),
            Some(digest.clone())
        );
    }
    refused.assert();
    fine.assert();
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

#[test]
fn c_get_digests_returns_one_object_per_image_in_order() {
    let server = Server::start(Duration::from_millis(5));
    let mut client: *mut dockreg::ffi::dockreg_client = std::ptr::null_mut();
    // SAFETY: valid C strings and out-pointers, freed below.
    unsafe {
        let st =
            dockreg::ffi::dockreg_client_new(c(r#"{"max_concurrency": 4}"#).as_ptr(), &mut client);
        assert_eq!(st as i32, 0);
        let images = serde_json::json!([
            format!("127.0.0.1:{}/app:one", server.port),
            "Not A Reference!",
            format!("127.0.0.1:{}/app:missing-x", server.port),
            format!("127.0.0.1:{}/app:two", server.port),
        ])
        .to_string();
        let mut out: *mut c_char = std::ptr::null_mut();
        let st = dockreg::ffi::dockreg_client_get_digests(client, c(&images).as_ptr(), &mut out);
        assert_eq!(st as i32, 0);
        let v: serde_json::Value =
            serde_json::from_str(CStr::from_ptr(out).to_str().unwrap()).unwrap();
        dockreg::ffi::dockreg_string_free(out);
        assert_eq!(v[0]["digest"], digest_of("one"));
        assert_eq!(
            v[1]["error"]["status_name"],
            "DOCKREG_ERR_INVALID_REFERENCE"
        );
        assert_eq!(v[2]["error"]["status_name"], "DOCKREG_ERR_NOT_FOUND");
        assert_eq!(v[2]["error"]["http_status"], 404);
        assert_eq!(v[3]["digest"], digest_of("two"));
        assert_eq!(v.as_array().unwrap().len(), 4);

        // Not an array: the call fails as a whole and writes nothing.
        let mut out: *mut c_char = std::ptr::null_mut();
        let st =
            dockreg::ffi::dockreg_client_get_digests(client, c(r#"{"a":1}"#).as_ptr(), &mut out);
        assert_eq!(st as i32, 4, "DOCKREG_ERR_INVALID_OPTION");
        assert!(out.is_null());
        let st = dockreg::ffi::dockreg_client_new(
            c(r#"{"max_concurrency": 0}"#).as_ptr(),
            &mut std::ptr::null_mut(),
        );
        assert_ne!(st as i32, 0);
        let msg = CStr::from_ptr(dockreg::ffi::dockreg_last_error_message())
            .to_str()
            .unwrap();
        assert!(msg.contains("max_concurrency"), "{msg}");
        dockreg::ffi::dockreg_client_free(client);
    }
}

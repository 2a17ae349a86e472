//! Faults a real registry will not produce on demand, from a misbehaving server
//! (`fault_support`): 503/429 bursts with and without `Retry-After`, connections closed before,
//! during and after the headers, stalls, trickles, an upload the server stops reading, a lost
//! answer to the closing PUT of an upload, escape sequences in error text, cancels and
//! deadlines. Each case checks the outcome (exact error kind or success), the number of
//! attempts the server saw, and that the call ended within its bound.

mod fault_support;

use std::io::Cursor;
use std::time::{Duration, Instant};

use dockreg::media_type::OCI_MANIFEST;
use dockreg::{
    CancelToken, Client, ClientBuilder, Digest, DockerConfigSource, Error, Reference, RetryPolicy,
    TransportErrorKind, UploadOptions,
};
use fault_support::{Act, FaultServer, Reply};

const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

/// Fast backoff, so that retry tests take milliseconds.
fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(40))
}

fn builder() -> ClientBuilder {
    Client::builder()
        .docker_config(DockerConfigSource::None)
        .retry(fast())
}

fn image(server: &FaultServer, rest: &str) -> Reference {
    format!("{}/{rest}", server.host()).parse().unwrap()
}

fn manifest_reply() -> Reply {
    Reply::new(200)
        .header("content-type", OCI_MANIFEST)
        .header(
            "docker-content-digest",
            Digest::sha256_of(MANIFEST).as_str(),
        )
        .body(MANIFEST)
}

/// Runs `f`, failing the test if it takes longer than `bound`; returns its value and time.
fn within<T>(bound: Duration, f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let v = f();
    let took = started.elapsed();
    assert!(took <= bound, "took {took:?}, bound {bound:?}");
    (v, took)
}

fn is_transport(e: &Error, want: TransportErrorKind) -> bool {
    matches!(e, Error::Transport { kind, .. } if *kind == want)
}

// ---------------------------------------------------------------------------------------------
// Retries on status
// ---------------------------------------------------------------------------------------------

#[test]
fn a_503_burst_is_retried_until_the_registry_answers() {
    let s = FaultServer::start(|_, n| {
        if n < 2 {
            Act::Reply(Reply::new(503).body("busy"))
        } else {
            Act::Reply(manifest_reply())
        }
    });
    let c = builder().build().unwrap();
    let (raw, _) = within(Duration::from_secs(5), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    assert_eq!(raw.unwrap().bytes, MANIFEST);
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 3);
}

#[test]
fn every_retryable_status_is_retried() {
    for status in [408u16, 429, 499, 500, 502, 503, 504, 522] {
        let s = FaultServer::start(move |_, n| {
            if n == 0 {
                Act::Reply(Reply::new(status))
            } else {
                Act::Reply(manifest_reply())
            }
        });
        let c = builder().build().unwrap();
        c.get_raw_manifest(&image(&s, "a/b:v1"))
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 2, "{status}");
    }
}

#[test]
fn other_errors_are_not_retried() {
    for status in [400u16, 404, 405, 501] {
        let s = FaultServer::start(move |_, _| Act::Reply(Reply::new(status)));
        let c = builder().build().unwrap();
        let e = c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap_err();
        assert_eq!(e.http_status(), Some(status));
        assert_eq!(e.attempts(), 1);
        assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 1, "{status}");
    }
}

#[test]
fn a_registry_that_stays_down_fails_after_the_last_attempt_and_says_so() {
    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(503)));
    let c = builder().build().unwrap();
    let (r, _) = within(Duration::from_secs(5), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    let e = r.unwrap_err();
    assert_eq!(e.http_status(), Some(503));
    assert_eq!(e.attempts(), 4);
    assert!(e.to_string().contains("after 4 attempts"), "{e}");
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 4);
}

#[test]
fn retry_after_in_seconds_and_as_a_date_is_honoured() {
    for date in [false, true] {
        // Computed per case: one-second resolution, so 3 s ahead still waits at least 1 s
        // after the milliseconds spent before the answer is read (2 s ahead could round to 0).
        let value = if date {
            httpdate_in(Duration::from_secs(3))
        } else {
            "1".to_string()
        };
        let v = value.clone();
        let s = FaultServer::start(move |_, n| {
            if n == 0 {
                Act::Reply(Reply::new(429).header("retry-after", &v))
            } else {
                Act::Reply(manifest_reply())
            }
        });
        let c = builder().build().unwrap();
        let (r, took) = within(Duration::from_secs(6), || {
            c.get_raw_manifest(&image(&s, "a/b:v1"))
        });
        r.unwrap();
        // The HTTP date has one-second resolution: at least ~1 s either way.
        assert!(took >= Duration::from_millis(900), "{value}: {took:?}");
        assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 2);
    }
}

/// An HTTP date `d` from now.
fn httpdate_in(d: Duration) -> String {
    let t = time::OffsetDateTime::now_utc() + d;
    t.format(&time::format_description::well_known::Rfc2822)
        .unwrap()
        .replace("+0000", "GMT")
}

#[test]
fn a_retry_after_beyond_the_cap_ends_the_call_at_once() {
    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(429).header("retry-after", "120")));
    let c = builder().build().unwrap();
    let (r, _) = within(Duration::from_secs(2), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    let e = r.unwrap_err();
    assert!(matches!(e, Error::TooManyRequests(_)), "{e}");
    assert_eq!(
        e.registry_error().unwrap().retry_after,
        Some(Duration::from_secs(120))
    );
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 1);
}

#[test]
fn retries_can_be_switched_off() {
    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(503)));
    let c = builder().retry(RetryPolicy::none()).build().unwrap();
    let e = c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap_err();
    assert_eq!(e.attempts(), 1);
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 1);
}

#[test]
fn the_total_wait_is_bounded() {
    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(503).header("retry-after", "1")));
    let policy = RetryPolicy::default()
        .max_attempts(20)
        .max_total_wait(Duration::from_millis(2500));
    let c = builder().retry(policy).build().unwrap();
    let (r, took) = within(Duration::from_secs(5), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    assert_eq!(r.unwrap_err().http_status(), Some(503));
    // Two waits of 1 s fit in 2.5 s, a third does not.
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 3);
    assert!(took >= Duration::from_secs(2), "{took:?}");
}

#[test]
fn manifest_puts_are_replayed_but_upload_posts_are_not() {
    let s = FaultServer::start(|req, n| match (req.method.as_str(), n) {
        ("PUT", 0) => Act::Reply(Reply::new(503)),
        ("PUT", _) => Act::Reply(Reply::new(201).header(
            "docker-content-digest",
            Digest::sha256_of(MANIFEST).as_str(),
        )),
        ("POST", _) => Act::Reply(Reply::new(503)),
        ("HEAD", _) => Act::Reply(Reply::new(404)),
        _ => Act::Reply(Reply::new(500)),
    });
    let c = builder().build().unwrap();
    c.put_manifest(&image(&s, "a/b:v1"), MANIFEST, OCI_MANIFEST)
        .unwrap();
    assert_eq!(s.count("PUT", "/v2/a/b/manifests/v1"), 2);
    let puts = s.seen();
    assert!(
        puts.iter()
            .filter(|r| r.method == "PUT")
            .all(|r| r.body == MANIFEST)
    );

    let e = c.push_blob_bytes(&image(&s, "a/b"), b"hello").unwrap_err();
    assert_eq!(e.http_status(), Some(503), "{e}");
    assert_eq!(s.count("POST", "/v2/a/b/blobs/uploads/"), 1);
}

#[test]
fn token_requests_are_retried_too() {
    let s = FaultServer::start(|req, n| match req.path() {
        "/token" if n == 0 => Act::Reply(Reply::new(503)),
        "/token" => Act::Reply(Reply::new(200).body(r#"{"token":"t0k"}"#)),
        _ if req.header("authorization") == Some("Bearer t0k") => Act::Reply(manifest_reply()),
        _ => Act::Reply(Reply::new(401).header(
            "www-authenticate",
            &format!(
                "Bearer realm=\"http://{}/token\",service=\"x\"",
                req.header("host").unwrap_or("")
            ),
        )),
    });
    let c = builder().build().unwrap();
    c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap();
    assert_eq!(s.count("GET", "/token"), 2);
}

// ---------------------------------------------------------------------------------------------
// Broken connections
// ---------------------------------------------------------------------------------------------

#[test]
fn connections_closed_before_or_in_the_headers_are_retried() {
    for (i, act) in [Act::CloseBeforeHeaders, Act::CloseInHeaders]
        .into_iter()
        .enumerate()
    {
        let s = FaultServer::start(move |_, n| {
            if n < 2 {
                act.clone()
            } else {
                Act::Reply(manifest_reply())
            }
        });
        let c = builder().build().unwrap();
        let raw = c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap();
        assert_eq!(raw.bytes, MANIFEST);
        assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 3, "case {i}");
    }
}

#[test]
fn a_connection_that_always_breaks_ends_with_an_io_error_after_the_last_attempt() {
    let s = FaultServer::start(|_, _| Act::CloseBeforeHeaders);
    let c = builder().build().unwrap();
    let (r, _) = within(Duration::from_secs(5), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Io), "{e}");
    assert_eq!(e.attempts(), 4);
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 4);
}

#[test]
fn a_body_cut_short_is_asked_for_again_never_taken_as_a_short_manifest() {
    // Cut once: the manifest is fetched again and comes back whole.
    let s = FaultServer::start(|_, n| {
        if n == 0 {
            Act::CloseInBody(manifest_reply(), 20)
        } else {
            Act::Reply(manifest_reply())
        }
    });
    let c = builder().build().unwrap();
    let raw = c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap();
    assert_eq!(raw.bytes, MANIFEST);
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 2);

    // Cut every time: an I/O error after the last attempt, never a short manifest.
    let s = FaultServer::start(|_, _| Act::CloseInBody(manifest_reply(), 20));
    let e = c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Io), "{e}");
    assert_eq!(e.attempts(), 4);
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 4);

    // A listing page too.
    let page = Reply::new(200).body(r#"{"name":"a/b","tags":["v1","v2"]}"#);
    let s = FaultServer::start(move |_, n| {
        if n == 0 {
            Act::CloseInBody(page.clone(), 5)
        } else {
            Act::Reply(page.clone())
        }
    });
    assert_eq!(c.list_tags(&image(&s, "a/b")).unwrap(), ["v1", "v2"]);
}

#[test]
fn a_refused_connection_is_retried_then_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = builder().build().unwrap();
    let r: Reference = format!("127.0.0.1:{port}/a/b:v1").parse().unwrap();
    let (res, _) = within(Duration::from_secs(5), || c.get_raw_manifest(&r));
    let e = res.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Connect), "{e}");
    assert_eq!(e.attempts(), 4);
}

// ---------------------------------------------------------------------------------------------
// Stalls, trickles and uploads the server stops reading
// ---------------------------------------------------------------------------------------------

#[test]
fn a_server_that_never_answers_times_out_at_the_request_deadline() {
    let s = FaultServer::start(|_, _| Act::Stall);
    let c = builder()
        .request_timeout(Some(Duration::from_millis(800)))
        .build()
        .unwrap();
    let (r, took) = within(Duration::from_secs(4), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Timeout), "{e}");
    assert!(took >= Duration::from_millis(700), "{took:?}");
    // A timeout is not retried: the deadline is what the caller asked for.
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 1);
}

#[test]
fn a_trickled_manifest_ends_at_the_request_deadline_although_bytes_keep_coming() {
    let s = FaultServer::start(|_, _| Act::Trickle(manifest_reply(), Duration::from_millis(100)));
    let c = builder()
        .request_timeout(Some(Duration::from_secs(1)))
        .stall_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let (r, _) = within(Duration::from_secs(4), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Timeout), "{e}");
}

#[test]
fn a_slow_blob_download_is_not_cut_by_the_request_deadline() {
    let blob = vec![7u8; 30];
    let digest = Digest::sha256_of(&blob);
    let b = blob.clone();
    let s = FaultServer::start(move |_, _| {
        Act::Trickle(Reply::new(200).body(b.clone()), Duration::from_millis(50))
    });
    let c = builder()
        .request_timeout(Some(Duration::from_millis(500)))
        .stall_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut out = Vec::new();
    let (r, took) = within(Duration::from_secs(6), || {
        c.get_blob(&image(&s, "a/b"), &digest, &mut out)
    });
    assert_eq!(r.unwrap(), 30);
    assert_eq!(out, blob);
    assert!(took > Duration::from_millis(1000), "{took:?}");
}

#[test]
fn a_stalled_blob_download_ends_at_the_stall_timeout() {
    let blob = vec![7u8; 1000];
    let digest = Digest::sha256_of(&blob);
    let b = blob.clone();
    let s = FaultServer::start(move |_, _| Act::CloseInBody(Reply::new(200).body(b.clone()), 0));
    // First: the body never comes (closed); then a stall proper.
    let c = builder()
        .stall_timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let mut out = Vec::new();
    assert!(c.get_blob(&image(&s, "a/b"), &digest, &mut out).is_err());

    let s = FaultServer::start(|_, _| Act::Stall);
    let (r, _) = within(Duration::from_secs(4), || {
        c.get_blob(&image(&s, "a/b"), &digest, &mut Vec::new())
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Timeout), "{e}");
}

#[test]
fn an_upload_the_registry_stops_reading_ends_at_the_stall_timeout() {
    let s = FaultServer::start(|req, _| match req.method.as_str() {
        "HEAD" => Act::Reply(Reply::new(404)),
        "POST" => Act::Reply(
            Reply::new(202)
                .header("location", "/v2/a/b/blobs/uploads/u1")
                .header("range", "0-0"),
        ),
        "GET" => Act::Reply(Reply::new(404)),
        _ => Act::StopReading,
    });
    let c = builder()
        .stall_timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    // Far more than the socket buffers hold, so the writer blocks.
    let data = vec![1u8; 64 * 1024 * 1024];
    let (r, _) = within(Duration::from_secs(10), || {
        c.push_blob(
            &image(&s, "a/b"),
            &mut Cursor::new(&data),
            UploadOptions::new()
                .size(data.len() as u64)
                .resume_attempts(0),
        )
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Timeout), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The closing PUT of an upload
// ---------------------------------------------------------------------------------------------

/// A registry whose closing PUT drops the connection without answering, and whose HEAD
/// never finds the blob.
fn lost_put_server() -> FaultServer {
    FaultServer::start(|req, _| match req.method.as_str() {
        "POST" => Act::Reply(
            Reply::new(202)
                .header("location", "/v2/a/b/blobs/uploads/u1")
                .header("range", "0-0"),
        ),
        "PATCH" => Act::Reply(
            Reply::new(202)
                .header("location", "/v2/a/b/blobs/uploads/u1")
                .header("range", "0-4"),
        ),
        "PUT" => Act::CloseBeforeHeaders,
        _ => Act::Reply(Reply::new(404)),
    })
}

#[test]
fn a_lost_answer_to_the_closing_put_is_checked_with_a_head_not_replayed() {
    let data = b"hello".to_vec();
    let digest = Digest::sha256_of(&data);
    let blob_path = format!("/v2/a/b/blobs/{digest}");
    let d = digest.clone();
    let committed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = committed.clone();
    let s = FaultServer::start(move |req, _| match req.method.as_str() {
        "HEAD" if flag.load(std::sync::atomic::Ordering::SeqCst) => Act::Reply(
            Reply::new(200)
                .header("content-length", "5")
                .header("docker-content-digest", d.as_str()),
        ),
        "HEAD" => Act::Reply(Reply::new(404)),
        "POST" => Act::Reply(
            Reply::new(202)
                .header("location", "/v2/a/b/blobs/uploads/u1")
                .header("range", "0-0"),
        ),
        "PATCH" => Act::Reply(
            Reply::new(202)
                .header("location", "/v2/a/b/blobs/uploads/u1")
                .header("range", "0-4"),
        ),
        "PUT" => {
            // Committed, but the answer never leaves.
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            Act::CloseBeforeHeaders
        }
        _ => Act::Reply(Reply::new(404)),
    });
    let c = builder().build().unwrap();
    // Chunked: PATCH the bytes, then the closing PUT with no body.
    let got = c
        .push_blob(
            &image(&s, "a/b"),
            &mut Cursor::new(&data),
            UploadOptions::new().chunk_size(5),
        )
        .unwrap();
    assert_eq!(got, digest);
    assert_eq!(
        s.count("PUT", "/v2/a/b/blobs/uploads/u1"),
        1,
        "{:?}",
        s.seen()
    );
    assert!(committed.load(std::sync::atomic::Ordering::SeqCst));
    // No HEAD before (the digest was not known), one after the lost answer.
    assert_eq!(s.count("HEAD", &blob_path), 1);
}

#[test]
fn a_lost_closing_put_of_a_blob_that_is_not_there_fails_without_a_replay() {
    let data = b"hello".to_vec();
    let s = lost_put_server();
    let c = builder().build().unwrap();
    let (r, _) = within(Duration::from_secs(10), || {
        c.push_blob(
            &image(&s, "a/b"),
            &mut Cursor::new(&data),
            UploadOptions::new().chunk_size(5).resume_attempts(0),
        )
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Io), "{e}");
    assert_eq!(
        s.count("PUT", "/v2/a/b/blobs/uploads/u1"),
        1,
        "{:?}",
        s.seen()
    );
}

// ---------------------------------------------------------------------------------------------
// Cancellation and deadlines
// ---------------------------------------------------------------------------------------------

fn cancel_after(token: &CancelToken, d: Duration) {
    let t = token.clone();
    std::thread::spawn(move || {
        std::thread::sleep(d);
        t.cancel();
    });
}

#[test]
fn a_cancel_ends_a_call_blocked_on_a_silent_registry_within_a_second() {
    let s = FaultServer::start(|_, _| Act::Stall);
    let token = CancelToken::new();
    let c = builder().build().unwrap().with_cancel(&token);
    cancel_after(&token, Duration::from_millis(300));
    let (r, took) = within(Duration::from_millis(1500), || {
        c.list_tags(&image(&s, "a/b"))
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert!(took >= Duration::from_millis(250), "{took:?}");
}

#[test]
fn a_cancel_ends_a_stalled_blob_download_within_a_second() {
    let blob = vec![9u8; 100_000];
    let digest = Digest::sha256_of(&blob);
    let b = blob.clone();
    // Headers and 10 bytes, then silence.
    let s = FaultServer::start(move |_, _| {
        Act::Trickle(Reply::new(200).body(b.clone()), Duration::from_secs(30))
    });
    let token = CancelToken::new();
    let c = builder().build().unwrap().with_cancel(&token);
    cancel_after(&token, Duration::from_millis(500));
    let mut out = Vec::new();
    let (r, _) = within(Duration::from_millis(2000), || {
        c.get_blob(&image(&s, "a/b"), &digest, &mut out)
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
}

#[test]
fn a_cancel_ends_the_backoff_waits() {
    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(503).header("retry-after", "20")));
    let token = CancelToken::new();
    let policy = RetryPolicy::default()
        .max_retry_after(Duration::from_secs(60))
        .max_total_wait(Duration::from_secs(120));
    let c = builder().retry(policy).build().unwrap().with_cancel(&token);
    cancel_after(&token, Duration::from_millis(300));
    let (r, _) = within(Duration::from_millis(1500), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(s.count("GET", "/v2/a/b/manifests/v1"), 1);
}

#[test]
fn a_cancelled_token_stops_calls_before_any_request() {
    let s = FaultServer::start(|_, _| Act::Reply(manifest_reply()));
    let token = CancelToken::new();
    token.cancel();
    let c = builder().build().unwrap();
    let cancelled = c.with_cancel(&token);
    assert!(matches!(
        cancelled.get_raw_manifest(&image(&s, "a/b:v1")),
        Err(Error::Cancelled)
    ));
    assert_eq!(s.seen().len(), 0);
    // The original client is not affected.
    c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap();
}

#[test]
fn a_call_deadline_bounds_requests_and_waits() {
    let s = FaultServer::start(|_, _| Act::Stall);
    let c = builder()
        .build()
        .unwrap()
        .with_timeout(Duration::from_millis(600));
    let (r, _) = within(Duration::from_millis(2000), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Timeout), "{e}");

    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(503).header("retry-after", "5")));
    let c = builder()
        .build()
        .unwrap()
        .with_timeout(Duration::from_millis(700));
    let (r, _) = within(Duration::from_millis(2000), || {
        c.get_raw_manifest(&image(&s, "a/b:v1"))
    });
    let e = r.unwrap_err();
    assert!(is_transport(&e, TransportErrorKind::Timeout), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Hostile text and invalid caller input
// ---------------------------------------------------------------------------------------------

#[test]
fn escape_sequences_from_a_registry_never_reach_the_error_text() {
    let body = "{\"errors\":[{\"code\":\"X\\u001b[31m\",\"message\":\"evil\\r\\nInjected: yes\\u001b]0;t\\u0007\"}]}";
    let s = FaultServer::start(move |_, _| Act::Reply(Reply::new(400).body(body)));
    let c = builder().build().unwrap();
    let e = c.get_raw_manifest(&image(&s, "a/b:v1")).unwrap_err();
    let text = e.to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.contains("Injected"), "{text}");
    // The raw code stays available to programs.
    assert_eq!(e.registry_error().unwrap().errors[0].code, "X\u{1b}[31m");

    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(500).body("plain \u{1b}[2J text\n")));
    let e = builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .get_raw_manifest(&image(&s, "a/b:v1"))
        .unwrap_err();
    assert!(!e.to_string().chars().any(char::is_control), "{e}");
}

#[test]
fn control_characters_in_caller_header_values_are_invalid_input_before_any_request() {
    let s = FaultServer::start(|_, _| Act::Reply(Reply::new(201)));
    let c = builder().build().unwrap();
    let e = c
        .put_manifest(
            &image(&s, "a/b:v1"),
            MANIFEST,
            "application/json\r\nX-Evil: 1",
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    assert_eq!(s.seen().len(), 0);

    let e = builder().user_agent("tool\n1").build().unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}

//! Blob uploads, downloads, mounts and deletes against the real registry (distribution 2.8.2),
//! and the protocol corners it does not show (chunk minimum, 416, ECR's 201) with mockito.

mod common;

use std::io::{Cursor, Read, Write};
use std::net::TcpListener;
use std::sync::OnceLock;

use common::TestRegistry;
use common::write_support::{HashSink, PatternReader, pattern, pattern_digest};
use dockreg::{Client, Digest, DownloadOptions, Error, Reference, UploadOptions};

const MIB: u64 = 1024 * 1024;

/// One registry for this file's tests (each test uses its own repositories).
fn registry() -> &'static TestRegistry {
    static REG: OnceLock<TestRegistry> = OnceLock::new();
    REG.get_or_init(TestRegistry::start)
}

fn repo(name: &str) -> Reference {
    format!("{}/write-blobs/{name}", registry().addr())
        .parse()
        .unwrap()
}

fn client() -> Client {
    Client::new().unwrap()
}

/// Pushes `len` bytes of pattern `seed` to `r` in every way, reading each back.
fn round_trip(c: &Client, r: &Reference, seed: u64, len: u64, how: &str) {
    let want = pattern_digest(seed, len);
    let mut src = PatternReader::new(seed, len);
    let got = match how {
        "known-digest" => c
            .push_blob(
                r,
                &mut src,
                UploadOptions::new().digest(want.parse().unwrap()).size(len),
            )
            .unwrap(),
        "streamed" => c
            .push_blob(r, &mut src, UploadOptions::new().size(len))
            .unwrap(),
        "unknown-size" => c.push_blob(r, &mut src, UploadOptions::new()).unwrap(),
        "seekable-chunked" => {
            let data = pattern(seed, len);
            c.push_blob_seekable(
                r,
                &mut Cursor::new(data),
                UploadOptions::new().chunk_size(2 * MIB),
            )
            .unwrap()
        }
        chunked => {
            let chunk: u64 = chunked.strip_prefix("chunked-").unwrap().parse().unwrap();
            c.push_blob(
                r,
                &mut src,
                UploadOptions::new().size(len).chunk_size(chunk),
            )
            .unwrap()
        }
    };
    assert_eq!(got.as_str(), want, "{how} {len}: digest");
    assert_eq!(
        c.head_blob(r, &got).unwrap(),
        Some(len),
        "{how} {len}: HEAD size"
    );
    let mut sink = HashSink::new();
    let n = c.get_blob(r, &got, &mut sink).unwrap();
    assert_eq!(n, len, "{how} {len}: bytes read back");
    assert_eq!(sink.digest(), want, "{how} {len}: content read back");
}

#[test]
fn small_and_odd_sizes_round_trip_every_way() {
    let c = client();
    let sizes = [0u64, 1, 5 * MIB + 1];
    let ways = [
        "known-digest",
        "streamed",
        "unknown-size",
        "seekable-chunked",
        "chunked-65536",
        "chunked-1048576",
        "chunked-5242880",
        "chunked-5242881",
    ];
    for (i, how) in ways.iter().enumerate() {
        for (j, &len) in sizes.iter().enumerate() {
            let r = repo(&format!("odd-{i}"));
            round_trip(&c, &r, 100 + j as u64, len, how);
        }
    }
}

#[test]
fn hundred_mib_round_trips_monolithic_and_chunked() {
    let c = client();
    let len = 100 * MIB;
    round_trip(&c, &repo("big-streamed"), 7, len, "streamed");
    round_trip(&c, &repo("big-known"), 8, len, "known-digest");
    round_trip(
        &c,
        &repo("big-chunked"),
        9,
        len,
        &format!("chunked-{}", 7 * MIB),
    );
}

#[test]
fn existing_blob_is_skipped_and_progress_reaches_the_total() {
    let c = client();
    let r = repo("skip");
    let data = pattern(3, 300_000);
    let d = c.push_blob_bytes(&r, &data).unwrap();
    // Known digest: the HEAD finds it; the reader must not be touched.
    let mut seen = Vec::new();
    let mut progress = |done: u64, total: Option<u64>| {
        seen.push((done, total));
        true
    };
    let mut untouched = Cursor::new(Vec::<u8>::new());
    let again = c
        .push_blob(
            &r,
            &mut untouched,
            UploadOptions::new()
                .digest(d.clone())
                .size(300_000)
                .progress(&mut progress),
        )
        .unwrap();
    assert_eq!(again, d);
    assert_eq!(seen, vec![(300_000, Some(300_000))]);
    assert_eq!(untouched.position(), 0);

    // A fresh upload reports growing progress up to the size.
    let mut seen = Vec::new();
    let mut progress = |done: u64, total: Option<u64>| {
        seen.push((done, total));
        true
    };
    c.push_blob(
        &r,
        &mut PatternReader::new(4, 3 * MIB),
        UploadOptions::new().size(3 * MIB).progress(&mut progress),
    )
    .unwrap();
    assert!(seen.len() > 2, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(seen.last(), Some(&(3 * MIB, Some(3 * MIB))));
}

#[test]
fn progress_callback_cancels_and_nothing_is_committed() {
    let c = client();
    let r = repo("cancel");
    let len = 4 * MIB;
    let want: Digest = pattern_digest(5, len).parse().unwrap();
    for mode in 0..3 {
        let options = match mode {
            0 => UploadOptions::new().size(len),
            1 => UploadOptions::new().size(len).chunk_size(MIB),
            _ => UploadOptions::new().size(len).digest(want.clone()),
        };
        let mut calls = 0;
        let mut stop = |done: u64, _: Option<u64>| {
            calls += 1;
            done < MIB
        };
        let err = c
            .push_blob(
                &r,
                &mut PatternReader::new(5, len),
                options.progress(&mut stop),
            )
            .unwrap_err();
        assert!(matches!(err, Error::Cancelled), "{err}");
        assert!(calls > 0);
        assert_eq!(c.head_blob(&r, &want).unwrap(), None);
    }
    // Downloads cancel too.
    let small = pattern(6, 2 * MIB);
    let d = c.push_blob_bytes(&r, &small).unwrap();
    let mut stop = |done: u64, _: Option<u64>| done < MIB;
    let err = c
        .get_blob_with(
            &r,
            &d,
            &mut std::io::sink(),
            DownloadOptions::new().progress(&mut stop),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err}");
}

#[test]
fn short_source_is_an_error_not_a_blob() {
    let c = client();
    let r = repo("short");
    let err = c
        .push_blob(
            &r,
            &mut PatternReader::new(9, 1000),
            UploadOptions::new().size(2000),
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    let d: Digest = pattern_digest(9, 1000).parse().unwrap();
    assert_eq!(c.head_blob(&r, &d).unwrap(), None);
}

/// The size given is a promise: a source that yields more is refused, not cut short and
/// committed under the prefix's digest.
#[test]
fn long_source_is_an_error_not_a_truncated_blob() {
    let c = client();
    let r = repo("long");
    for chunk in [None, Some(256u64)] {
        let mut options = UploadOptions::new().size(500);
        if let Some(n) = chunk {
            options = options.chunk_size(n);
        }
        let err = c
            .push_blob(&r, &mut PatternReader::new(10, 1000), options)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains("more than the 500 bytes"), "{err}");
        let prefix: Digest = pattern_digest(10, 500).parse().unwrap();
        assert_eq!(c.head_blob(&r, &prefix).unwrap(), None, "chunk {chunk:?}");
    }
}

#[test]
fn mount_between_repositories_and_delete() {
    let c = client();
    let a = repo("mount-a");
    let b = repo("mount-b");
    let data = pattern(11, 1_000_003);
    let d = c.push_blob_bytes(&a, &data).unwrap();
    assert_eq!(c.head_blob(&b, &d).unwrap(), None);
    assert!(c.mount_blob(&b, &d, a.repository()).unwrap());
    assert_eq!(c.head_blob(&b, &d).unwrap(), Some(1_000_003));
    assert_eq!(
        c.get_blob_bytes(&b, &d, 2_000_000).unwrap(),
        data,
        "mounted blob content"
    );

    // A mount of a blob the source lacks: 202, the session is dropped, false.
    let missing = Digest::sha256_of(b"not there");
    assert!(!c.mount_blob(&b, &missing, a.repository()).unwrap());
    assert_eq!(c.head_blob(&b, &missing).unwrap(), None);

    // push_blob with mount_from: mounted when possible, uploaded otherwise.
    let c_repo = repo("mount-c");
    let got = c
        .push_blob(
            &c_repo,
            &mut Cursor::new(Vec::<u8>::new()),
            UploadOptions::new()
                .digest(d.clone())
                .size(1_000_003)
                .mount_from(a.repository()),
        )
        .unwrap();
    assert_eq!(got, d);
    assert_eq!(c.head_blob(&c_repo, &d).unwrap(), Some(1_000_003));
    let other = pattern(12, 10_000);
    let od = Digest::sha256_of(&other);
    let got = c
        .push_blob(
            &c_repo,
            &mut other.as_slice(),
            UploadOptions::new()
                .digest(od.clone())
                .size(10_000)
                .mount_from(a.repository()),
        )
        .unwrap();
    assert_eq!(got, od);
    assert_eq!(c.head_blob(&c_repo, &od).unwrap(), Some(10_000));

    // Delete: gone from b, still in a.
    c.delete_blob(&b, &d).unwrap();
    assert_eq!(c.head_blob(&b, &d).unwrap(), None);
    assert_eq!(c.head_blob(&a, &d).unwrap(), Some(1_000_003));
    let err = c.delete_blob(&b, &d).unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn download_to_path_renames_only_a_verified_file() {
    let c = client();
    let r = repo("to-path");
    let data = pattern(13, 3 * MIB + 17);
    let d = c.push_blob_bytes(&r, &data).unwrap();
    let dir = common::TempDir::new("download");
    let path = dir.join("blob.bin");
    let mut last = (0, None);
    let mut progress = |done: u64, total: Option<u64>| {
        last = (done, total);
        true
    };
    let n = c
        .download_blob(
            &r,
            &d,
            &path,
            DownloadOptions::new().progress(&mut progress),
        )
        .unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(last, (n, Some(n)));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "only the final file is left");

    // A blob that is not there: no file at all.
    let missing = dir.join("missing.bin");
    let err = c
        .download_blob(
            &r,
            &Digest::sha256_of(b"nope"),
            &missing,
            DownloadOptions::new(),
        )
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(!missing.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn download_with_wrong_content_leaves_no_file() {
    let mut server = mockito::Server::new();
    let body = b"these are not the bytes you are looking for".to_vec();
    let d = Digest::sha256_of(b"the real bytes");
    server
        .mock("GET", format!("/v2/r/blobs/{d}").as_str())
        .with_status(200)
        .with_body(&body)
        .create();
    let c = client();
    let r: Reference = format!("{}/r", server.host_with_port()).parse().unwrap();
    let dir = common::TempDir::new("mismatch");
    let path = dir.join("blob.bin");
    let err = c
        .download_blob(&r, &d, &path, DownloadOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A one-off HTTP server: the first GET gets half the body and a closed connection; the next
/// must ask `Range: bytes=<half>-` and gets a 206 with the rest (or, with `honour_range` false,
/// the whole body again with 200). The client's TLS probe of this loopback registry (a
/// connection opening with a TLS record, byte 22) is closed unanswered and not counted.
fn flaky_blob_server(
    body: Vec<u8>,
    honour_range: bool,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        let plain = listener.incoming().filter_map(|stream| {
            let s = stream.unwrap();
            let mut first = [0u8; 1];
            let tls_probe = s.peek(&mut first).is_ok_and(|n| n == 1 && first[0] == 22);
            (!tls_probe).then_some(s)
        });
        for (i, mut s) in plain.take(2).enumerate() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if s.read(&mut byte).unwrap() == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let text = String::from_utf8_lossy(&head).to_string();
            requests.push(text.clone());
            let half = body.len() / 2;
            if i == 0 {
                let h = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                    body.len()
                );
                s.write_all(h.as_bytes()).unwrap();
                s.write_all(&body[..half]).unwrap();
                s.flush().unwrap();
                // Dropping the stream breaks the body half-way.
            } else if honour_range {
                let h = format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\n\r\n",
                    body.len() - half,
                    half,
                    body.len() - 1,
                    body.len()
                );
                s.write_all(h.as_bytes()).unwrap();
                s.write_all(&body[half..]).unwrap();
            } else {
                let h = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                s.write_all(h.as_bytes()).unwrap();
                s.write_all(&body).unwrap();
            }
        }
        requests
    });
    (addr, handle)
}

#[test]
fn broken_download_resumes_with_range() {
    for honour_range in [true, false] {
        let body = pattern(21, 2 * MIB + 3);
        let d = Digest::sha256_of(&body);
        let (addr, server) = flaky_blob_server(body.clone(), honour_range);
        let r: Reference = format!("{addr}/r").parse().unwrap();
        let mut out = Vec::new();
        let n = client()
            .get_blob_with(&r, &d, &mut out, DownloadOptions::new())
            .unwrap();
        assert_eq!(n, body.len() as u64);
        assert!(out == body, "content after resume (range {honour_range})");
        let requests = server.join().unwrap();
        assert_eq!(requests.len(), 2);
        let half = body.len() / 2;
        assert!(
            requests[1]
                .to_ascii_lowercase()
                .contains(&format!("range: bytes={half}-")),
            "{}",
            requests[1]
        );
    }
}

#[test]
fn chunks_honour_min_length_and_survive_416_and_201() {
    let mut server = mockito::Server::new();
    let data = b"0123456789".to_vec();
    let d = Digest::sha256_of(&data);
    let any = mockito::Matcher::Any;
    let post = server
        .mock("POST", "/v2/r/blobs/uploads/")
        .with_status(202)
        .with_header("location", "/upload/1?_state=a")
        .with_header("oci-chunk-min-length", "4")
        .create();
    // Asked for 2-byte chunks: raised to 4. ECR answers a PATCH with 201.
    let p1 = server
        .mock("PATCH", "/upload/1")
        .match_query(any.clone())
        .match_header("content-range", "0-3")
        .match_header("content-type", "application/octet-stream")
        .match_body("0123")
        .with_status(201)
        .with_header("location", "/upload/2?_state=b")
        .create();
    let p2 = server
        .mock("PATCH", "/upload/2")
        .match_query(any.clone())
        .match_header("content-range", "4-7")
        .with_status(416)
        .create();
    // The status says 6 bytes are in: continue from there, at the newest Location.
    let status = server
        .mock("GET", "/upload/2")
        .match_query(any.clone())
        .with_status(204)
        .with_header("range", "0-5")
        .with_header("location", "/upload/3?_state=c")
        .create();
    let p3 = server
        .mock("PATCH", "/upload/3")
        .match_query(any.clone())
        .match_header("content-range", "6-7")
        .match_body("67")
        .with_status(202)
        .with_header("location", "/upload/4?_state=d")
        .create();
    let p4 = server
        .mock("PATCH", "/upload/4")
        .match_query(any.clone())
        .match_header("content-range", "8-9")
        .match_body("89")
        .with_status(202)
        .with_header("location", "/upload/5?_state=e")
        .create();
    let put = server
        .mock("PUT", "/upload/5")
        .match_query(mockito::Matcher::UrlEncoded("digest".into(), d.to_string()))
        .with_status(201)
        .with_header("docker-content-digest", d.as_str())
        .create();
    let r: Reference = format!("{}/r", server.host_with_port()).parse().unwrap();
    let got = client()
        .push_blob(
            &r,
            &mut data.as_slice(),
            UploadOptions::new().size(10).chunk_size(2),
        )
        .unwrap();
    assert_eq!(got, d);
    for m in [post, p1, p2, status, p3, p4, put] {
        m.assert();
    }
}

/// A token the registry stops accepting in the middle of a chunked upload: the status request
/// gets a new one and the upload continues.
#[test]
fn upload_continues_after_a_401_mid_upload() {
    use mockito::Matcher;
    let mut server = mockito::Server::new();
    let challenge = format!(
        r#"Bearer realm="{}/token",service="svc",scope="repository:team/app:pull,push""#,
        server.url()
    );
    let data = b"abcdefgh".to_vec();
    let d = Digest::sha256_of(&data);
    server
        .mock("POST", "/v2/team/app/blobs/uploads/")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    server
        .mock("POST", "/v2/team/app/blobs/uploads/")
        .match_header("authorization", "Bearer tok-1")
        .with_status(202)
        .with_header("location", "/up/1")
        .create();
    let t1 = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"tok-1","expires_in":300}"#)
        .expect(1)
        .create();
    server
        .mock("PATCH", "/up/1")
        .match_header("authorization", "Bearer tok-1")
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    let t2 = server
        .mock("GET", "/token")
        .match_query(Matcher::Any)
        .with_body(r#"{"token":"tok-2","expires_in":300}"#)
        .expect(1)
        .create();
    server
        .mock("GET", "/up/1")
        .match_header("authorization", "Bearer tok-1")
        .with_status(401)
        .with_header("www-authenticate", &challenge)
        .create();
    server
        .mock("GET", "/up/1")
        .match_header("authorization", "Bearer tok-2")
        .with_status(204)
        .with_header("range", "0-0")
        .with_header("location", "/up/2")
        .create();
    let patch = server
        .mock("PATCH", "/up/2")
        .match_header("authorization", "Bearer tok-2")
        .match_header("content-range", "0-7")
        .match_body("abcdefgh")
        .with_status(202)
        .with_header("location", "/up/3")
        .create();
    let put = server
        .mock("PUT", "/up/3")
        .match_query(Matcher::UrlEncoded("digest".into(), d.to_string()))
        .with_status(201)
        .create();
    let r: Reference = format!("{}/team/app", server.host_with_port())
        .parse()
        .unwrap();
    let c = Client::builder()
        .docker_config(dockreg::DockerConfigSource::None)
        .build()
        .unwrap();
    let got = c
        .push_blob(
            &r,
            &mut data.as_slice(),
            UploadOptions::new().size(8).chunk_size(8),
        )
        .unwrap();
    assert_eq!(got, d);
    for m in [t1, t2, patch, put] {
        m.assert();
    }
}

/// `open_blob` against the real registry: the bytes pushed come back through the verifying
/// reader (a few MiB, read in small pieces as a decompressor would), and a blob the
/// repository lacks is NotFound before any byte.
#[test]
fn open_blob_reads_back_what_was_pushed() {
    let c = client();
    let r = repo("open-blob");
    let len = 3 * MIB + 17;
    let d: Digest = c
        .push_blob(
            &r,
            &mut PatternReader::new(11, len),
            UploadOptions::new().size(len),
        )
        .unwrap();
    assert_eq!(d.as_str(), pattern_digest(11, len));
    let repository: dockreg::Repository = r.name().parse().unwrap();
    let mut blob = c.open_blob(&repository, &d).unwrap();
    assert_eq!(blob.size(), Some(len));
    let mut sink = HashSink::new();
    let mut buf = [0u8; 1000];
    loop {
        match blob.read(&mut buf).unwrap() {
            0 => break,
            n => sink.write_all(&buf[..n]).unwrap(),
        }
    }
    assert_eq!(blob.bytes_read(), len);
    assert_eq!(sink.digest(), pattern_digest(11, len));

    let missing = Digest::sha256_of(b"never pushed");
    let e = c.open_blob(&r, &missing).unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

/// A reader that asks the registry something on its first read: an upload's source may call
/// the client (the C ABI's read callbacks may too), even with one request allowed in flight
/// per host, which the upload itself holds while its body is read.
struct AskingReader<'a> {
    inner: PatternReader,
    client: &'a Client,
    blob: &'a Reference,
    known: Digest,
    answer: Option<Result<Option<u64>, String>>,
}

impl Read for AskingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.answer.is_none() {
            let head = self
                .client
                .head_blob(self.blob, &self.known)
                .map_err(|e| e.to_string());
            self.answer = Some(head);
        }
        self.inner.read(buf)
    }
}

#[test]
fn an_upload_source_may_call_the_client_at_a_limit_of_one() {
    let limited = Client::builder().max_concurrency(1).build().unwrap();
    let r = repo("nested-call");
    let known = limited
        .push_blob_bytes(&r, &pattern(7, 1000))
        .expect("push the blob asked about");
    let (seed, len) = (8, 3 * MIB);
    let mut source = AskingReader {
        inner: PatternReader::new(seed, len),
        client: &limited,
        blob: &r,
        known: known.clone(),
        answer: None,
    };
    let started = std::time::Instant::now();
    let options = UploadOptions::new().size(len);
    let pushed = limited
        .with_timeout(std::time::Duration::from_secs(60))
        .push_blob(&r, &mut source, options)
        .expect("upload whose source calls the client");
    assert_eq!(pushed.to_string(), pattern_digest(seed, len));
    assert_eq!(
        source.answer,
        Some(Ok(Some(1000))),
        "the nested HEAD's answer"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

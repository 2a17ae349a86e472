//! Each operation costs the requests it needs and no more, over one kept-alive connection:
//! a counting TCP relay between the client and a real registry sees every connection and
//! every request line. A registry on loopback is first probed once per client for TLS (a
//! connection that carries a ClientHello and no request); the relay counts those apart.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use common::shared;
use dockreg::Client;

/// Relays 127.0.0.1:<port> to the registry, counting connections, TLS probes (connections
/// that open with a TLS handshake record) and request lines.
struct Relay {
    port: u16,
    connections: Arc<AtomicUsize>,
    tls_probes: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let tls_probes = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (c, r, t) = (connections.clone(), requests.clone(), tls_probes.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                c.fetch_add(1, Ordering::SeqCst);
                let server = TcpStream::connect(&upstream).unwrap();
                let (client2, server2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (r, t) = (r.clone(), t.clone());
                // Client -> server: note each request line, and pass each request's head and
                // body on (a body is skipped by its Content-Length or its chunks, so the line
                // after it starts the next request). A TLS handshake (first byte 22) is passed
                // on as bytes and counted as a probe.
                thread::spawn(move || {
                    let mut reader = BufReader::new(client);
                    let mut server = server;
                    if reader.fill_buf().is_ok_and(|b| b.first() == Some(&22)) {
                        t.fetch_add(1, Ordering::SeqCst);
                        let _ = std::io::copy(&mut reader, &mut server);
                        let _ = server.shutdown(Shutdown::Write);
                        return;
                    }
                    while relay_request(&mut reader, &mut server, &r).is_ok() {}
                    let _ = server.shutdown(Shutdown::Write);
                });
                thread::spawn(move || {
                    let mut server = server2;
                    let mut client = client2;
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        match server.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if client.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = client.shutdown(Shutdown::Write);
                });
            }
        });
        Relay {
            port,
            connections,
            tls_probes,
            requests,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// Passes one request from `reader` to `server`, recording its request line.
fn relay_request(
    reader: &mut BufReader<TcpStream>,
    server: &mut TcpStream,
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut line = String::new();
    let mut first = true;
    let mut length = 0u64;
    let mut chunked = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        server.write_all(line.as_bytes())?;
        if first {
            requests.lock().unwrap().push(line.trim_end().to_string());
            first = false;
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        if line == "\r\n" {
            break;
        }
    }
    if !chunked {
        std::io::copy(&mut reader.by_ref().take(length), server)?;
        return Ok(());
    }
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        server.write_all(line.as_bytes())?;
        let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
        // The chunk and its CRLF (the last chunk: the final CRLF, no trailers sent here).
        std::io::copy(&mut reader.by_ref().take(size + 2), server)?;
        if size == 0 {
            return Ok(());
        }
    }
}

/// The request lines of `requests` whose method and path start as `prefix` (e.g.
/// `"HEAD /v2/app/manifests/"`).
fn count(requests: &[String], prefix: &str) -> usize {
    requests.iter().filter(|r| r.starts_with(prefix)).count()
}

#[test]
fn operations_send_only_what_they_need_over_one_connection() {
    let f = shared();
    let relay = Relay::start(f.addr());
    let host = format!("127.0.0.1:{}", relay.port);
    let client = Client::new().unwrap();
    let image = |name: &str| -> dockreg::Reference { format!("{host}/{name}").parse().unwrap() };

    for i in 0..50 {
        let tag = &f.many_tags.tags[i];
        let d = client
            .get_digest(&image(&format!("{}:{tag}", f.many_tags.repo)))
            .unwrap();
        assert_eq!(d.as_str(), f.many_tags.image_for_tag(tag).digest);
    }
    let requests = relay.take_requests();
    assert_eq!(
        requests.len(),
        50,
        "one HEAD per digest, no /v2/ ping: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.starts_with("HEAD /v2/fixtures/many-tags/manifests/t")),
        "{requests:?}"
    );

    client
        .get_manifest(&image(&f.oci_image.reference()))
        .unwrap();
    assert_eq!(
        relay.take_requests(),
        [format!(
            "GET /v2/{}/manifests/{} HTTP/1.1",
            f.oci_image.repo, f.oci_image.tag
        )]
    );

    client
        .get_manifest(&image(&f.oci_index.reference()))
        .unwrap();
    let requests = relay.take_requests();
    assert_eq!(
        requests.len(),
        2,
        "index, then the platform's manifest: {requests:?}"
    );

    client
        .get_image_config(&image(&f.oci_image.reference()))
        .unwrap();
    let requests = relay.take_requests();
    assert_eq!(requests.len(), 2, "manifest, then config: {requests:?}");
    assert!(requests[1].starts_with(&format!("GET /v2/{}/blobs/sha256:", f.oci_image.repo)));

    client.list_tags(&image(&f.many_tags.repo)).unwrap();
    assert_eq!(
        relay.take_requests(),
        [format!(
            "GET /v2/{}/tags/list?n=100 HTTP/1.1",
            f.many_tags.repo
        )]
    );

    client.list_repositories(&host).unwrap();
    let pages = f.all_repos().len().div_ceil(100);
    assert_eq!(
        relay.take_requests().len(),
        pages,
        "one request per catalog page"
    );

    // The registry is plain HTTP on loopback: the client's first call probed it for TLS
    // once (a ClientHello, no request), then every request went over one kept-alive
    // connection.
    assert_eq!(
        relay.tls_probes.load(Ordering::SeqCst),
        1,
        "one TLS probe per client"
    );
    assert_eq!(
        relay.connections.load(Ordering::SeqCst),
        2,
        "the probe, then every call reused the kept-alive connection"
    );
}

/// `get_digests`: one HEAD per distinct reference, results in input order with each error in
/// place, over no more connections than the client's concurrency.
#[test]
fn get_digests_sends_one_head_per_distinct_reference() {
    let f = shared();
    let relay = Relay::start(f.addr());
    let host = format!("127.0.0.1:{}", relay.port);
    let client = Client::builder().max_concurrency(8).build().unwrap();
    let repo = &f.many_tags.repo;
    let mut images: Vec<dockreg::Reference> = f
        .many_tags
        .tags
        .iter()
        .map(|t| format!("{host}/{repo}:{t}").parse().unwrap())
        .collect();
    // A tag that does not exist in the middle, and repeats of the first ten at the end.
    images.insert(5, format!("{host}/{repo}:no-such-tag").parse().unwrap());
    let repeats: Vec<_> = images[..10].to_vec();
    images.extend(repeats);

    let results = client.get_digests(&images);
    assert_eq!(results.len(), images.len());
    for (image, result) in images.iter().zip(&results) {
        let tag = image.tag().unwrap();
        if tag == "no-such-tag" {
            let e = result.as_ref().unwrap_err();
            assert!(e.is_not_found(), "{image}: {e}");
        } else {
            let want = &f.many_tags.image_for_tag(tag).digest;
            assert_eq!(result.as_ref().unwrap().as_str(), want, "{image}");
        }
    }
    let requests = relay.take_requests();
    let tags = f.many_tags.tags.len();
    let heads = count(&requests, &format!("HEAD /v2/{repo}/manifests/"));
    // One HEAD per distinct reference (the repeats cost nothing). The missing tag's HEAD is a
    // 404 without a body; get_digest then asks once with GET for the registry's error.
    assert_eq!(heads, tags + 1, "one HEAD per distinct reference");
    assert_eq!(
        requests.len(),
        tags + 2,
        "HEADs and the missing tag's GET only: {:?}",
        requests
            .iter()
            .filter(|r| !r.starts_with("HEAD"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        count(&requests, &format!("GET /v2/{repo}/manifests/no-such-tag")),
        1
    );
    // The TLS probe, then at most one connection per request allowed in flight.
    assert!(
        relay.connections() <= 8 + 1,
        "{} connections",
        relay.connections()
    );
    assert!(relay.connections() > 2, "the requests ran in parallel");
}

/// `list_instances` in parallel: the listing, one HEAD per tag, then per distinct image its
/// manifest and config, nothing more.
#[test]
fn parallel_list_instances_costs_one_head_per_tag() {
    let f = shared();
    let relay = Relay::start(f.addr());
    let host = format!("127.0.0.1:{}", relay.port);
    let client = Client::new().unwrap();
    let repo = &f.many_tags.repo;
    let instances = client
        .list_instances(
            &format!("{host}/{repo}")
                .parse::<dockreg::Repository>()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(instances.len(), f.many_tags.images.len());
    let tagged: usize = instances.values().map(|i| i.tags.len()).sum();
    assert_eq!(tagged, f.many_tags.tags.len());
    for image in &f.many_tags.images {
        let got = &instances[&image.digest.parse::<dockreg::Digest>().unwrap()];
        assert!(got.tags.contains(&image.tag), "{}", image.tag);
    }
    let requests = relay.take_requests();
    let tags = f.many_tags.tags.len();
    let images = f.many_tags.images.len();
    assert_eq!(count(&requests, &format!("GET /v2/{repo}/tags/list")), 1);
    assert_eq!(
        count(&requests, &format!("HEAD /v2/{repo}/manifests/")),
        tags
    );
    assert_eq!(
        count(&requests, &format!("GET /v2/{repo}/manifests/sha256:")),
        images,
        "one manifest GET per distinct image, by digest"
    );
    assert_eq!(
        count(&requests, &format!("GET /v2/{repo}/blobs/sha256:")),
        images
    );
    assert_eq!(requests.len(), 1 + tags + 2 * images, "{requests:?}");
    assert!(relay.connections() <= 16 + 1, "{}", relay.connections());
}

/// Pushes an image of `layers` small random layers to `image` and returns the digests of its
/// config and layers.
fn push_layered(client: &Client, image: &dockreg::Reference, layers: usize) -> Vec<String> {
    use dockreg::media_type::{OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
    let seed = format!("{image} {:?}", std::time::SystemTime::now());
    let mut descriptors = Vec::new();
    let mut digests = Vec::new();
    for i in 0..layers {
        let data = common::write_support::pattern(
            seed.len() as u64 * 1000 + i as u64 + u64::from(std::process::id()),
            64 * 1024 + i as u64,
        );
        let d = client.push_blob_bytes(image, &data).unwrap();
        digests.push(d.to_string());
        descriptors
            .push(serde_json::json!({"mediaType": OCI_LAYER_TAR, "digest": d, "size": data.len()}));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Env": [format!("SEED={seed}")]},
        "rootfs": {"type": "layers", "diff_ids": digests},
    }))
    .unwrap();
    let cd = client.push_blob_bytes(image, &config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()},
        "layers": descriptors,
    }))
    .unwrap();
    client.put_manifest(image, &manifest, OCI_MANIFEST).unwrap();
    digests.push(cd.to_string());
    digests
}

/// A copy of 16 layers within one registry: every blob mounted (HEAD, then a mount POST),
/// none read; a second copy only looks at the manifest and tags it.
#[test]
fn parallel_copy_within_a_registry_mounts_every_blob() {
    let f = shared();
    let direct = Client::new().unwrap();
    let src_name = "request-cost/layered:v1";
    let blobs = push_layered(
        &direct,
        &format!("{}/{src_name}", f.addr()).parse().unwrap(),
        16,
    );
    let relay = Relay::start(f.addr());
    let host = format!("127.0.0.1:{}", relay.port);
    let client = Client::new().unwrap();
    let src: dockreg::Reference = format!("{host}/{src_name}").parse().unwrap();
    let dst: dockreg::Reference = format!("{host}/request-cost/mounted:v1").parse().unwrap();
    let d = client
        .copy_image(&src, &dst, dockreg::CopyOptions::new())
        .unwrap();
    let requests = relay.take_requests();
    let at_origin: dockreg::Reference = format!("{}/{src_name}", f.addr()).parse().unwrap();
    assert_eq!(direct.get_digest(&at_origin).unwrap(), d);
    let n = blobs.len();
    assert_eq!(
        count(&requests, "GET /v2/request-cost/layered/manifests/v1"),
        1
    );
    assert_eq!(
        count(&requests, "HEAD /v2/request-cost/mounted/manifests/"),
        1
    );
    assert_eq!(count(&requests, "HEAD /v2/request-cost/mounted/blobs/"), n);
    assert_eq!(
        count(
            &requests,
            "POST /v2/request-cost/mounted/blobs/uploads/?mount="
        ),
        n
    );
    assert_eq!(
        count(&requests, "GET /v2/request-cost/layered/blobs/"),
        0,
        "no blob read"
    );
    assert_eq!(
        count(&requests, "PUT /v2/request-cost/mounted/manifests/v1"),
        1
    );
    assert_eq!(requests.len(), 3 + 2 * n, "{requests:?}");
    for b in &blobs {
        assert_eq!(
            count(
                &requests,
                &format!(
                    "POST /v2/request-cost/mounted/blobs/uploads/?mount={}",
                    b.replace(':', "%3A")
                )
            ),
            1,
            "{b} once"
        );
    }
    // Again: the destination has the manifest, so only its tag is written.
    client
        .copy_image(&src, &dst, dockreg::CopyOptions::new())
        .unwrap();
    let requests = relay.take_requests();
    assert_eq!(
        requests.len(),
        3,
        "GET source, HEAD destination, PUT tag: {requests:?}"
    );
}

/// A copy of 16 layers between two registries: each blob read once from the source and
/// uploaded once; the destination is asked about each blob once.
#[test]
fn parallel_copy_between_registries_reads_each_blob_once() {
    let f = shared();
    let other = common::TestRegistry::start();
    let direct = Client::new().unwrap();
    let src_name = "request-cost/layered:between";
    let blobs = push_layered(
        &direct,
        &format!("{}/{src_name}", f.addr()).parse().unwrap(),
        16,
    );
    let src_relay = Relay::start(f.addr());
    let dst_relay = Relay::start(other.addr());
    let client = Client::new().unwrap();
    let src: dockreg::Reference = format!("127.0.0.1:{}/{src_name}", src_relay.port)
        .parse()
        .unwrap();
    let dst: dockreg::Reference = format!("127.0.0.1:{}/copied/layered:v1", dst_relay.port)
        .parse()
        .unwrap();
    let d = client
        .copy_image(&src, &dst, dockreg::CopyOptions::new())
        .unwrap();
    let n = blobs.len();
    let at_src = src_relay.take_requests();
    let at_origin: dockreg::Reference = format!("{}/{src_name}", f.addr()).parse().unwrap();
    assert_eq!(direct.get_digest(&at_origin).unwrap(), d);
    assert_eq!(
        count(&at_src, "GET /v2/request-cost/layered/manifests/between"),
        1
    );
    for b in &blobs {
        assert_eq!(
            count(&at_src, &format!("GET /v2/request-cost/layered/blobs/{b}")),
            1,
            "{b} read once"
        );
    }
    assert_eq!(at_src.len(), 1 + n, "{at_src:?}");
    let at_dst = dst_relay.take_requests();
    assert_eq!(count(&at_dst, "HEAD /v2/copied/layered/manifests/"), 1);
    assert_eq!(count(&at_dst, "HEAD /v2/copied/layered/blobs/"), n);
    assert_eq!(count(&at_dst, "POST /v2/copied/layered/blobs/uploads/"), n);
    assert_eq!(count(&at_dst, "PUT /v2/copied/layered/manifests/v1"), 1);
    let uploads = count(&at_dst, "PUT /v2/copied/layered/blobs/uploads/")
        + count(&at_dst, "PATCH /v2/copied/layered/blobs/uploads/");
    assert_eq!(uploads, n, "one request with each blob's bytes: {at_dst:?}");
    assert_eq!(at_dst.len(), 2 + 3 * n, "{at_dst:?}");
    // Every blob arrived intact.
    for b in &blobs {
        let got = direct
            .head_blob(
                &format!("{}/copied/layered", other.addr())
                    .parse::<dockreg::Repository>()
                    .unwrap(),
                &b.parse().unwrap(),
            )
            .unwrap();
        assert!(got.is_some(), "{b} at the destination");
    }
}

/// `copy_all_tags` in parallel between registries: every tag written once, each distinct blob
/// read once from the source although many tags share it, each tag's manifest read once.
#[test]
fn parallel_copy_all_tags_reads_each_shared_blob_once() {
    let f = shared();
    let other = common::TestRegistry::start();
    let src_relay = Relay::start(f.addr());
    let dst_relay = Relay::start(other.addr());
    let client = Client::new().unwrap();
    let repo = &f.many_tags.repo;
    let src: dockreg::Reference = format!("127.0.0.1:{}/{repo}", src_relay.port)
        .parse()
        .unwrap();
    let dst: dockreg::Reference = format!("127.0.0.1:{}/all/tags", dst_relay.port)
        .parse()
        .unwrap();
    let report = client.copy_all_tags(&src, &dst).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let tags = f.many_tags.tags.len();
    assert_eq!(report.copied.len(), tags);
    let copied: Vec<&String> = report.copied.iter().map(|(t, _)| t).collect();
    let mut blobs = std::collections::BTreeSet::new();
    for image in &f.many_tags.images {
        blobs.insert(image.config.digest.clone());
        for l in &image.layers {
            blobs.insert(l.digest.clone());
        }
    }
    let at_src = src_relay.take_requests();
    assert_eq!(count(&at_src, &format!("GET /v2/{repo}/tags/list")), 1);
    assert_eq!(count(&at_src, &format!("GET /v2/{repo}/manifests/")), tags);
    for b in &blobs {
        assert_eq!(
            count(&at_src, &format!("GET /v2/{repo}/blobs/{b}")),
            1,
            "{b} read once"
        );
    }
    assert_eq!(at_src.len(), 1 + tags + blobs.len(), "{at_src:?}");
    let at_dst = dst_relay.take_requests();
    assert_eq!(count(&at_dst, "PUT /v2/all/tags/manifests/"), tags);
    assert_eq!(
        count(&at_dst, "POST /v2/all/tags/blobs/uploads/"),
        blobs.len(),
        "one upload per distinct blob"
    );
    assert!(dst_relay.connections() <= 16 + 1);
    // The registry lists tags in no particular order, the same order every time.
    let listed = Client::new()
        .unwrap()
        .list_tags(
            &format!("{}/{repo}", f.addr())
                .parse::<dockreg::Repository>()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        copied,
        listed.iter().collect::<Vec<_>>(),
        "reported in the source's order"
    );
}

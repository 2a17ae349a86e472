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
                // Client -> server: note each request line; the registry's requests here have
                // no bodies, so every line after a blank line starts a new request. A TLS
                // handshake (first byte 22) is passed on as bytes and counted as a probe.
                thread::spawn(move || {
                    let mut reader = BufReader::new(client);
                    let mut server = server;
                    if reader.fill_buf().is_ok_and(|b| b.first() == Some(&22)) {
                        t.fetch_add(1, Ordering::SeqCst);
                        let _ = std::io::copy(&mut reader, &mut server);
                        let _ = server.shutdown(Shutdown::Write);
                        return;
                    }
                    let mut at_start = true;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                        if at_start {
                            r.lock().unwrap().push(line.trim_end().to_string());
                        }
                        at_start = line == "\r\n";
                        if server.write_all(line.as_bytes()).is_err() {
                            break;
                        }
                    }
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

    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
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

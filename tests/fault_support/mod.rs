//! A small HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose, for the fault tests
//! (`faults.rs`): it answers each request as a script says, and can close the connection before,
//! during or after the headers, stall, trickle bytes, or stop reading a request body.
//!
//! Written for the tests (mockito cannot break a connection or trickle); it understands just
//! enough HTTP for the client: a request line, headers, a `Content-Length` or chunked body.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// Bytes of the body that were read (empty when the script stopped reading).
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Act {
    /// A normal answer (Content-Length set from the body unless given).
    Reply(Reply),
    /// Closes the connection before writing anything.
    CloseBeforeHeaders,
    /// Writes half a status line, then closes.
    CloseInHeaders,
    /// Writes the headers (with the full Content-Length) and `cut` bytes of the body, then closes.
    CloseInBody(Reply, usize),
    /// Holds the connection open without answering, until the server is dropped.
    Stall,
    /// Writes the headers at once, then the body one byte every `interval`.
    Trickle(Reply, Duration),
    /// Reads only the request head, never its body, and holds the connection open.
    StopReading,
}

/// A status, headers and body.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn head(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} X\r\n", self.status).into_bytes();
        let mut has_length = false;
        for (n, v) in &self.headers {
            has_length |= n.eq_ignore_ascii_case("content-length");
            head.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        if !has_length {
            head.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        head
    }
}

type Script = dyn Fn(&Seen, usize) -> Act + Send + Sync;

/// The server; stops (and releases every held connection) when dropped.
pub struct FaultServer {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl FaultServer {
    /// Starts a server whose `script` is called with each request and the number of requests
    /// seen before it with the same method and path (0 for the first).
    pub fn start(script: impl Fn(&Seen, usize) -> Act + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let (seen, stop, script) = (seen.clone(), stop.clone(), script.clone());
                            std::thread::spawn(move || serve(conn, &seen, &stop, &*script));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        Self { addr, seen, stop }
    }

    /// `127.0.0.1:PORT`, as a registry name.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests had this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path() == path)
            .count()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Serves the requests of one connection until the script closes it or the client does.
fn serve(conn: TcpStream, seen: &Mutex<Vec<Seen>>, stop: &AtomicBool, script: &Script) {
    conn.set_read_timeout(Some(Duration::from_millis(100))).ok();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut writer = conn;
    if is_tls_probe(&mut reader, stop) {
        // The client's TLS probe of a loopback registry (a ClientHello, no request): closed
        // unanswered and not recorded, as a plain-HTTP server that does not speak TLS.
        return;
    }
    loop {
        let Some(mut req) = read_head(&mut reader, stop) else {
            return;
        };
        let earlier = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == req.method && s.path() == req.path())
            .count();
        // The script may decide from the head alone (StopReading); the body is read before it
        // is asked otherwise, so that `Seen` holds it.
        let act = script(&req, earlier);
        if !matches!(act, Act::StopReading) && !read_body(&mut reader, &mut req, stop) {
            seen.lock().unwrap().push(req);
            return;
        }
        seen.lock().unwrap().push(req);
        let keep = match act {
            Act::Reply(r) => writer.write_all(&[r.head(), r.body].concat()).is_ok(),
            Act::CloseBeforeHeaders => false,
            Act::CloseInHeaders => {
                let _ = writer.write_all(b"HTTP/1.1 2");
                false
            }
            Act::CloseInBody(r, cut) => {
                let cut = cut.min(r.body.len());
                let _ = writer.write_all(&[r.head(), r.body[..cut].to_vec()].concat());
                false
            }
            Act::Stall | Act::StopReading => {
                hold(stop);
                false
            }
            Act::Trickle(r, interval) => {
                if writer.write_all(&r.head()).is_err() {
                    return;
                }
                for b in &r.body {
                    if stop.load(Ordering::Relaxed) || writer.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(interval);
                }
                true
            }
        };
        if !keep {
            let _ = writer.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

/// Waits until the server stops (at most a minute: no test thread outlives its bound).
fn hold(stop: &AtomicBool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a line, riding out the short read timeouts that let the thread notice a stop.
fn read_line(r: &mut BufReader<TcpStream>, stop: &AtomicBool) -> Option<String> {
    let mut line = Vec::new();
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match r.read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(_) if line.ends_with(b"\n") => {
                return Some(String::from_utf8_lossy(&line).trim_end().to_string());
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
}

/// True when the connection opens with a TLS record (byte 22, a handshake): dockreg's probe.
fn is_tls_probe(r: &mut BufReader<TcpStream>, stop: &AtomicBool) -> bool {
    while !stop.load(Ordering::Relaxed) {
        match r.fill_buf() {
            Ok(b) => return b.first() == Some(&22),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return false,
        }
    }
    false
}

fn read_head(r: &mut BufReader<TcpStream>, stop: &AtomicBool) -> Option<Seen> {
    let line = read_line(r, stop)?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let h = read_line(r, stop)?;
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    Some(Seen {
        method,
        target,
        headers,
        body: Vec::new(),
    })
}

fn read_exact(r: &mut BufReader<TcpStream>, n: usize, stop: &AtomicBool) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match r.read(&mut buf[got..]) {
            Ok(0) => return None,
            Ok(k) => got += k,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
    Some(buf)
}

/// Reads the body (Content-Length or chunked) into `req`; false when the connection broke.
fn read_body(r: &mut BufReader<TcpStream>, req: &mut Seen, stop: &AtomicBool) -> bool {
    if let Some(n) = req
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        return match read_exact(r, n, stop) {
            Some(b) => {
                req.body = b;
                true
            }
            None => false,
        };
    }
    if req
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let Some(size) = read_line(r, stop) else {
                return false;
            };
            let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            else {
                return false;
            };
            if n == 0 {
                return read_line(r, stop).is_some();
            }
            match read_exact(r, n, stop) {
                Some(b) => req.body.extend_from_slice(&b),
                None => return false,
            }
            if read_line(r, stop).is_none() {
                return false;
            }
        }
    }
    true
}

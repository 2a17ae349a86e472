//! A TCP relay that puts a network round trip between the benchmark and a registry.
//!
//! The model is a delay line, as `tc netem delay` is: every chunk of bytes read from one side
//! is written to the other `rtt / 2` after it was read, and reading goes on meanwhile, so
//! bytes in flight overlap as they do on a real link. A request and its answer therefore cost
//! one round trip however many chunks they take, and a large body costs one round trip plus
//! its transfer time, not one delay per chunk (a per-chunk stop-and-wait delay would charge a
//! 16 MiB copy hundreds of round trips, which no network does).
//!
//! Opening a connection costs a round trip too (TCP's SYN and SYN-ACK): connecting to the
//! relay on loopback returns at once, so the first bytes the client sends are held until one
//! round trip after the connection was accepted, then take their half round trip: they reach
//! the registry 1.5 round trips after `connect`, as on a real link.
//!
//! At most `WINDOW` bytes are in the line per direction and connection, as a TCP window bounds
//! the bytes in flight: a sender faster than the line waits, and the relay's memory stays
//! bounded. What it does not model: bandwidth limits, loss, and TCP slow start (on a real
//! 20 ms link a fresh connection needs a few round trips to reach full speed on a large body).
//! It is a latency model for a client's request pattern, which is what concurrency changes.
//!
//! The benchmark runs it in a process of its own (`bench --relay UPSTREAM RTT_MS`), so its
//! threads and buffers are not counted in the measured process's peak RSS.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Bytes in the line per direction and connection at most (a TCP window's worth).
const WINDOW: usize = 4 << 20;
/// Bytes read at once.
const CHUNK: usize = 64 * 1024;

/// A running relay; it lives as long as the process.
pub struct DelayProxy {
    /// `127.0.0.1:PORT` to use instead of the registry's address.
    pub addr: String,
}

/// Starts a relay to `upstream` (`host:port`) adding `rtt` of round trip.
pub fn start(upstream: &str, rtt: Duration) -> std::io::Result<DelayProxy> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    let upstream = upstream.to_string();
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let accepted = Instant::now();
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            // Client to registry: the handshake's round trip first.
            pipe(client, server, rtt / 2, Some(accepted + rtt));
            pipe(s2, c2, rtt / 2, None);
        }
    });
    Ok(DelayProxy { addr })
}

/// Copies `from` to `to`, each chunk written `delay` after it was read (and not before
/// `not_before`). An empty chunk marks the end.
fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration, not_before: Option<Instant>) {
    let (tx, rx) = mpsc::sync_channel::<(Instant, Vec<u8>)>(WINDOW / CHUNK);
    thread::spawn(move || {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = from.read(&mut buf).unwrap_or(0);
            let read_at = Instant::now();
            let sent = not_before.map_or(read_at, |t| t.max(read_at));
            if tx.send((sent + delay, buf[..n].to_vec())).is_err() || n == 0 {
                break;
            }
        }
    });
    thread::spawn(move || {
        for (due, chunk) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if chunk.is_empty() {
                break;
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

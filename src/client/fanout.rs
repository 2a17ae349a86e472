//! Independent requests of one operation, sent from a few threads at once.
//!
//! Against a remote registry most operations wait on round trips, not on CPU: resolving many
//! tags, the HEADs of `list_instances`, the blobs of a copy. A handful of requests in flight
//! divide that wait. The threads borrow the caller's [`Client`](super::Client), so they share
//! its connection pool, its token cache and its per-host limit on requests in flight (see
//! `http::host_limit`), and each request carries the caller's cancel token and deadline (they
//! live in the client value, not in the thread).
//!
//! Workers are scoped threads started per call and joined before it returns: nothing keeps
//! running after a call, which matters to C hosts. One item, or a width of 1, runs on the
//! caller's thread.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::Result;

/// `f` over every item with up to `width` threads; each item's result, in the order of `items`.
pub(crate) fn each<T: Sync, R: Send>(
    items: &[T],
    width: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = items.len().min(width);
    if workers <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(items.len()).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    let mut all = results.lock().unwrap_or_else(|e| e.into_inner());
                    all[i] = Some(r);
                }
            });
        }
    });
    // Every index below items.len() was taken by exactly one worker, and the scope joined them
    // all (a panicking worker panics the scope), so every slot is filled.
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// `f` over `items` with up to `width` threads, results in the order of `items`. The first
/// error stops the others from starting new items and is returned (the first in item order,
/// so the error depends on thread timing no more than it must).
pub(crate) fn map<T: Sync, R: Send>(
    items: &[T],
    width: usize,
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let failed = AtomicBool::new(false);
    let all = each(items, width, |item| {
        if failed.load(Ordering::Relaxed) {
            return None;
        }
        let r = f(item);
        if r.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        Some(r)
    });
    let mut out = Vec::with_capacity(all.len());
    let mut first_error = None;
    for r in all {
        match r {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            // Items never started after a failure.
            None => {}
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::time::Duration;

    #[test]
    fn keeps_order_and_stops_on_error() {
        let items: Vec<u32> = (0..100).collect();
        for width in [1, 8, 64] {
            assert_eq!(
                map(&items, width, |i| Ok(i * 2)).unwrap(),
                items.iter().map(|i| i * 2).collect::<Vec<_>>()
            );
            let err = map(&items, width, |i| {
                if *i == 37 {
                    Err(Error::InvalidInput(format!("item {i}")))
                } else {
                    Ok(*i)
                }
            })
            .unwrap_err();
            assert!(err.to_string().contains("item 37"));
        }
        assert!(map(&[] as &[u32], 8, |i| Ok(*i)).unwrap().is_empty());
        assert_eq!(map(&[5u32], 8, |i| Ok(*i)).unwrap(), vec![5]);
    }

    #[test]
    fn each_runs_every_item_at_most_width_at_once() {
        let items: Vec<u32> = (0..40).collect();
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let out = each(&items, 5, |i| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            now.fetch_sub(1, Ordering::SeqCst);
            if i % 3 == 0 { Err(*i) } else { Ok(*i) }
        });
        assert_eq!(out.len(), 40);
        for (i, r) in out.iter().enumerate() {
            let i = i as u32;
            assert_eq!(*r, if i % 3 == 0 { Err(i) } else { Ok(i) });
        }
        assert!(peak.load(Ordering::SeqCst) <= 5);
        assert!(peak.load(Ordering::SeqCst) > 1, "ran in parallel");
    }
}

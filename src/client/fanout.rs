//! Independent requests of one operation, sent from a few threads at once.
//!
//! Listing the instances of a repository costs one HEAD per tag: against a remote registry
//! that is latency-bound, so a handful of requests in flight divide the wait. The client's
//! connection pool and token cache are shared by the threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::Result;

/// Requests in flight at most: enough to hide latency, few enough to stay polite.
pub(crate) const MAX_IN_FLIGHT: usize = 8;

/// `f` over `items`, results in the order of `items`. The first error stops the others from
/// starting new items and is returned.
pub(crate) fn map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let workers = items.len().min(MAX_IN_FLIGHT);
    if workers <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<R>>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(items.len()).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    let mut all = results.lock().unwrap_or_else(|e| e.into_inner());
                    all[i] = Some(r);
                }
            });
        }
    });
    let all = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::with_capacity(all.len());
    // The first error in item order, so the error does not depend on thread timing more than
    // it must; items never started (after a failure) are skipped.
    let mut first_error = None;
    for r in all {
        match r {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
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

    #[test]
    fn keeps_order_and_stops_on_error() {
        let items: Vec<u32> = (0..100).collect();
        assert_eq!(
            map(&items, |i| Ok(i * 2)).unwrap(),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        let err = map(&items, |i| {
            if *i == 37 {
                Err(Error::InvalidInput(format!("item {i}")))
            } else {
                Ok(*i)
            }
        })
        .unwrap_err();
        assert!(err.to_string().contains("item 37"));
        assert!(map(&[] as &[u32], |i| Ok(*i)).unwrap().is_empty());
        assert_eq!(map(&[5u32], |i| Ok(*i)).unwrap(), vec![5]);
    }
}

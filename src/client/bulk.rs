//! Bulk operations: many independent references resolved at once.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

use super::{Client, fanout};

impl Client {
    /// The manifest digest of every reference in `images`, each its own result, in the order
    /// of `images`: [`Client::get_digest`] (a HEAD; a GET only when the HEAD does not answer)
    /// for many references, with up to
    /// [`ClientBuilder::max_concurrency`](crate::ClientBuilder::max_concurrency) requests in
    /// flight per registry (16 by default).
    ///
    /// A reference given twice is resolved once. A failure of the whole registry (transport,
    /// rate limit, a 5xx answer after retries, a cancel or the deadline) is given, without
    /// sending their requests, to the references to the same registry that had not started
    /// yet, so a registry that is down costs a few requests, not one per reference; a refusal
    /// (401, 403) belongs to its repository and is not shared. Cancel and deadline
    /// ([`Client::with_cancel`], [`Client::with_deadline`]) apply to every request of the
    /// call.
    ///
    /// ```no_run
    /// let client = dockreg::Client::new()?;
    /// let images: Vec<dockreg::Reference> = ["127.0.0.1:5000/app:1.0", "127.0.0.1:5000/app:2.0"]
    ///     .iter()
    ///     .map(|s| s.parse())
    ///     .collect::<Result<_, _>>()?;
    /// for (image, digest) in images.iter().zip(client.get_digests(&images)) {
    ///     match digest {
    ///         Ok(d) => println!("{image} {d}"),
    ///         Err(e) => eprintln!("{image}: {e}"),
    ///     }
    /// }
    /// # Ok::<(), dockreg::Error>(())
    /// ```
    pub fn get_digests(&self, images: &[Reference]) -> Vec<Result<Digest>> {
        // Each distinct reference once; `slot[i]` is the distinct entry of images[i].
        let mut distinct: Vec<&Reference> = Vec::new();
        let mut seen: HashMap<&Reference, usize> = HashMap::new();
        let slot: Vec<usize> = images
            .iter()
            .map(|r| {
                *seen.entry(r).or_insert_with(|| {
                    distinct.push(r);
                    distinct.len() - 1
                })
            })
            .collect();
        // The first registry-wide failure per registry, handed to what had not started.
        let down: Mutex<HashMap<String, Error>> = Mutex::new(HashMap::new());
        let resolved = fanout::each(&distinct, self.config().max_concurrency, |r| {
            if let Some(e) = lock(&down).get(r.registry()).and_then(replicate) {
                return Err(e);
            }
            let result = self.get_digest(r);
            if let Err(e) = &result {
                if let Some(copy) = replicate(e).filter(|_| registry_wide(e)) {
                    lock(&down).entry(r.registry().to_string()).or_insert(copy);
                }
            }
            result
        });
        // Each result to its reference; a repeated reference gets a copy.
        let mut results: Vec<Option<Result<Digest>>> = resolved.into_iter().map(Some).collect();
        slot.iter()
            .enumerate()
            .map(|(i, &k)| {
                let r = results[k].take();
                results[k] = match &r {
                    Some(Ok(d)) => Some(Ok(d.clone())),
                    Some(Err(e)) => replicate(e).map(Err),
                    None => None,
                };
                // None: a repeat of an error that cannot be copied (none that get_digest
                // returns today): it is asked again.
                r.unwrap_or_else(|| self.get_digest(&images[i]))
            })
            .collect()
    }
}

/// True for failures that every reference of the registry would meet: no connection, a rate
/// limit, a 5xx answer, a cancel. Refusals (401, 403, credentials that cannot be had) depend on
/// the repository's scope, and a 404 on the reference: those stay with their reference.
fn registry_wide(e: &Error) -> bool {
    match e {
        Error::Transport { .. } | Error::TooManyRequests(_) | Error::Cancelled => true,
        Error::Registry(r) => r.status >= 500,
        _ => false,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A copy of `e` for another reference, for the kinds that say nothing of the reference
/// itself; `None` for the others.
fn replicate(e: &Error) -> Option<Error> {
    Some(match e {
        Error::Transport {
            method,
            url,
            kind,
            message,
            attempts,
        } => Error::Transport {
            method: method.clone(),
            url: url.clone(),
            kind: *kind,
            message: message.clone(),
            attempts: *attempts,
        },
        Error::Unauthorized(r) => Error::Unauthorized(r.clone()),
        Error::Denied(r) => Error::Denied(r.clone()),
        Error::TooManyRequests(r) => Error::TooManyRequests(r.clone()),
        Error::Registry(r) => Error::Registry(r.clone()),
        Error::NotFound(r) => Error::NotFound(r.clone()),
        Error::Auth { registry, message } => Error::Auth {
            registry: registry.clone(),
            message: message.clone(),
        },
        Error::Cancelled => Error::Cancelled,
        _ => return None,
    })
}

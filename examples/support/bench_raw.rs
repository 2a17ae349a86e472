//! The raw-HTTP floor of the benchmark: each workload done with plain ureq requests, at the
//! same concurrency as dockreg, with nothing but what the registry protocol needs (no TLS
//! probe, no retries, no auth, no limits). What dockreg adds on top is the distance to it.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest as _, Sha256};

pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

pub type Res<T> = Result<T, String>;

/// A plain agent keeping `jobs` idle connections per host (as dockreg does).
pub fn agent(jobs: usize) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(jobs)
        .max_idle_connections(jobs * 3)
        .build()
        .into()
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

fn expect(what: &str, status: u16, want: &[u16]) -> Res<()> {
    if want.contains(&status) {
        Ok(())
    } else {
        Err(format!("{what}: status {status}"))
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// HEAD of a manifest: its `Docker-Content-Digest`.
pub fn head_digest(agent: &ureq::Agent, base: &str, repo: &str, reference: &str) -> Res<String> {
    let url = format!("{base}/v2/{repo}/manifests/{reference}");
    let resp = agent
        .head(&url)
        .header("Accept", ACCEPT)
        .call()
        .map_err(|e| err(&url, e))?;
    expect(&url, resp.status().as_u16(), &[200])?;
    resp.headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| format!("{url}: no Docker-Content-Digest"))
}

/// GET of a manifest, body checked against its `Docker-Content-Digest`.
pub fn get_manifest(agent: &ureq::Agent, base: &str, repo: &str, reference: &str) -> Res<Vec<u8>> {
    let url = format!("{base}/v2/{repo}/manifests/{reference}");
    let mut resp = agent
        .get(&url)
        .header("Accept", ACCEPT)
        .call()
        .map_err(|e| err(&url, e))?;
    expect(&url, resp.status().as_u16(), &[200])?;
    let digest = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.body_mut().read_to_vec().map_err(|e| err(&url, e))?;
    if let Some(d) = digest {
        if sha256(&body) != d {
            return Err(format!("{url}: digest mismatch"));
        }
    }
    Ok(body)
}

/// GET of a blob into memory (small blobs: configs).
pub fn get_blob(agent: &ureq::Agent, base: &str, repo: &str, digest: &str) -> Res<Vec<u8>> {
    let url = format!("{base}/v2/{repo}/blobs/{digest}");
    let mut resp = agent.get(&url).call().map_err(|e| err(&url, e))?;
    expect(&url, resp.status().as_u16(), &[200])?;
    resp.body_mut().read_to_vec().map_err(|e| err(&url, e))
}

/// Every tag of `repo`, following `Link` pages.
pub fn tags(agent: &ureq::Agent, base: &str, repo: &str) -> Res<Vec<String>> {
    let mut url = format!("{base}/v2/{repo}/tags/list");
    let mut all = Vec::new();
    loop {
        let mut resp = agent.get(&url).call().map_err(|e| err(&url, e))?;
        expect(&url, resp.status().as_u16(), &[200])?;
        let next = resp
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| Some(l.split_once('<')?.1.split_once('>')?.0.to_string()));
        let body = resp.body_mut().read_to_vec().map_err(|e| err(&url, e))?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| err(&url, e))?;
        for t in v["tags"].as_array().into_iter().flatten() {
            all.push(t.as_str().unwrap_or_default().to_string());
        }
        match next {
            Some(n) if n.starts_with('/') => url = format!("{base}{n}"),
            Some(n) => url = n,
            None => return Ok(all),
        }
    }
}

/// POST an upload session; its absolute `Location`.
fn open_upload(agent: &ureq::Agent, base: &str, repo: &str) -> Res<String> {
    let url = format!("{base}/v2/{repo}/blobs/uploads/");
    let resp = agent.post(&url).send_empty().map_err(|e| err(&url, e))?;
    expect(&url, resp.status().as_u16(), &[202])?;
    let loc = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("{url}: no Location"))?;
    Ok(if loc.starts_with('/') {
        format!("{base}{loc}")
    } else {
        loc.to_string()
    })
}

fn with_digest(location: &str, digest: &str) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}digest={}", digest.replace(':', "%3A"))
}

/// Hash, POST, one PUT with the bytes; the digest.
pub fn push_blob(agent: &ureq::Agent, base: &str, repo: &str, data: &[u8]) -> Res<String> {
    let digest = sha256(data);
    let loc = open_upload(agent, base, repo)?;
    let url = with_digest(&loc, &digest);
    let resp = agent
        .put(&url)
        .header("Content-Type", "application/octet-stream")
        .send(data)
        .map_err(|e| err("PUT blob", e))?;
    expect("PUT blob", resp.status().as_u16(), &[201])?;
    Ok(digest)
}

/// GET a blob to `path`, hashing as it streams; the bytes written.
pub fn pull_blob(
    agent: &ureq::Agent,
    base: &str,
    repo: &str,
    digest: &str,
    path: &std::path::Path,
) -> Res<u64> {
    let url = format!("{base}/v2/{repo}/blobs/{digest}");
    let resp = agent.get(&url).call().map_err(|e| err(&url, e))?;
    expect(&url, resp.status().as_u16(), &[200])?;
    let mut body = resp.into_body().into_reader();
    let mut file = std::fs::File::create(path).map_err(|e| err("create", e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = body.read(&mut buf).map_err(|e| err(&url, e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        std::io::Write::write_all(&mut file, &buf[..k]).map_err(|e| err("write", e))?;
        n += k as u64;
    }
    if format!("sha256:{:x}", h.finalize()) != digest {
        return Err(format!("{url}: digest mismatch"));
    }
    Ok(n)
}

/// `f` over `items` on `width` scoped threads, results in order.
pub fn parallel<T: Sync, R: Send>(items: &[T], width: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..width.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    out.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    out.into_inner().unwrap().into_iter().flatten().collect()
}

/// `list_instances` by hand: the listing, a HEAD per tag, then per distinct digest its
/// manifest and config, `jobs` requests at once. (instances, tags listed).
pub fn instances(agent: &ureq::Agent, base: &str, repo: &str, jobs: usize) -> Res<(usize, usize)> {
    let tags = tags(agent, base, repo)?;
    let digests = parallel(&tags, jobs, |t| head_digest(agent, base, repo, t));
    let mut distinct: Vec<String> = digests.into_iter().collect::<Res<Vec<_>>>()?;
    distinct.sort();
    distinct.dedup();
    let details = parallel(&distinct, jobs, |d| -> Res<()> {
        let m = get_manifest(agent, base, repo, d)?;
        let v: serde_json::Value = serde_json::from_slice(&m).map_err(|e| err(d, e))?;
        let config = v["config"]["digest"].as_str().ok_or("no config")?;
        get_blob(agent, base, repo, config)?;
        Ok(())
    });
    for d in details {
        d?;
    }
    Ok((distinct.len(), tags.len()))
}

/// An image copied between registries by hand, `jobs` blobs at once: for each blob a HEAD on
/// the destination, a POST, the source's GET streamed into one PUT; then the manifest.
pub fn copy_image(
    agent: &ureq::Agent,
    (src, src_repo, tag): (&str, &str, &str),
    (dst, dst_repo): (&str, &str),
    jobs: usize,
) -> Res<String> {
    let manifest = get_manifest(agent, src, src_repo, tag)?;
    let v: serde_json::Value = serde_json::from_slice(&manifest).map_err(|e| err(tag, e))?;
    let mut blobs = vec![(
        v["config"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        v["config"]["size"].as_u64().unwrap_or(0),
    )];
    for l in v["layers"].as_array().into_iter().flatten() {
        blobs.push((
            l["digest"].as_str().unwrap_or_default().to_string(),
            l["size"].as_u64().unwrap_or(0),
        ));
    }
    let copied = parallel(&blobs, jobs, |(digest, size)| -> Res<()> {
        let url = format!("{dst}/v2/{dst_repo}/blobs/{digest}");
        let head = agent.head(&url).call().map_err(|e| err(&url, e))?;
        if head.status().as_u16() == 200 {
            return Ok(());
        }
        let loc = open_upload(agent, dst, dst_repo)?;
        let get = format!("{src}/v2/{src_repo}/blobs/{digest}");
        let resp = agent.get(&get).call().map_err(|e| err(&get, e))?;
        expect(&get, resp.status().as_u16(), &[200])?;
        let mut body = resp.into_body().into_reader();
        let put = agent
            .put(&with_digest(&loc, digest))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", size.to_string())
            .send(ureq::SendBody::from_reader(&mut body))
            .map_err(|e| err("PUT blob", e))?;
        expect("PUT blob", put.status().as_u16(), &[201])
    });
    for c in copied {
        c?;
    }
    let media_type = v["mediaType"]
        .as_str()
        .unwrap_or("application/vnd.oci.image.manifest.v1+json");
    let url = format!("{dst}/v2/{dst_repo}/manifests/{tag}");
    let resp = agent
        .put(&url)
        .header("Content-Type", media_type)
        .send(&manifest[..])
        .map_err(|e| err(&url, e))?;
    expect(&url, resp.status().as_u16(), &[201])?;
    Ok(sha256(&manifest))
}

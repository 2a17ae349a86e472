//! Raw HTTP helpers (ureq 3, independent of the dockreg library) to look at what the test
//! registry really stores and serves, and to seed it quickly.
//!
//! Manifest requests always send the FULL Accept list (OCI index, OCI manifest, Docker list,
//! Docker v2): distribution 2.8.2 converts a Docker v2 manifest to schema 1 when fetched by tag
//! without it, answers 404 for an OCI manifest/index whose type is not accepted, and serves a
//! Docker list's linux/amd64 child when only the Docker v2 type is accepted.

use std::sync::OnceLock;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The full Accept list sent with every manifest request of this module.
pub const ACCEPT_ALL_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// `"sha256:<64 hex>"` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// What came back: status, all headers (names lower-case, in order), full body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of header `name` (case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}), status {}: {}",
                self.status,
                self.body_str()
            )
        })
    }

    /// Panics with the body when the status is not `want`.
    pub fn expect_status(self, want: u16, what: &str) -> RawResponse {
        if self.status != want {
            panic!(
                "{what}: expected HTTP {want}, got {} {:?}: {}",
                self.status,
                self.headers,
                self.body_str()
            );
        }
        self
    }
}

/// A shared ureq agent: statuses are not errors, no redirects followed, no proxy (only
/// 127.0.0.1 is ever contacted), 60 s global timeout.
pub fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent()
    })
}

/// Any request. `headers` are sent as given; `body` None sends no body.
/// Panics on a transport error (connection refused, timeout...).
pub fn raw_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> RawResponse {
    try_raw_request(method, url, headers, body)
        .unwrap_or_else(|e| panic!("{method} {url}: transport error: {e}"))
}

/// Like [`raw_request`] but returns transport errors instead of panicking.
pub fn try_raw_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<RawResponse, ureq::Error> {
    try_raw_request_with(agent(), method, url, headers, body)
}

pub(crate) fn try_raw_request_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<RawResponse, ureq::Error> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let mut resp = match body {
        Some(b) => agent.run(builder.body(b.to_vec()).map_err(ureq::Error::from)?)?,
        None => agent.run(builder.body(()).map_err(ureq::Error::from)?)?,
    };
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = if method.eq_ignore_ascii_case("HEAD") {
        Vec::new()
    } else {
        resp.body_mut().with_config().limit(1 << 30).read_to_vec()?
    };
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// GET with the full manifest Accept list.
pub fn raw_get(url: &str) -> RawResponse {
    raw_request("GET", url, &[("Accept", ACCEPT_ALL_MANIFESTS)], None)
}

/// GET with the full manifest Accept list plus extra headers (e.g. Authorization, Range).
pub fn raw_get_with(url: &str, extra_headers: &[(&str, &str)]) -> RawResponse {
    let mut h = vec![("Accept", ACCEPT_ALL_MANIFESTS)];
    h.extend_from_slice(extra_headers);
    raw_request("GET", url, &h, None)
}

/// HEAD with the full manifest Accept list.
pub fn raw_head(url: &str) -> RawResponse {
    raw_request("HEAD", url, &[("Accept", ACCEPT_ALL_MANIFESTS)], None)
}

/// DELETE.
pub fn raw_delete(url: &str) -> RawResponse {
    raw_request("DELETE", url, &[], None)
}

/// PUT manifest bytes with the exact Content-Type (must equal the manifest's media type).
pub fn raw_put_manifest(url: &str, content_type: &str, bytes: &[u8]) -> RawResponse {
    raw_request("PUT", url, &[("Content-Type", content_type)], Some(bytes))
}

/// `GET {base}/v2/{repo}/manifests/{reference}` (full Accept).
pub fn raw_get_manifest(base_url: &str, repo: &str, reference: &str) -> RawResponse {
    raw_get(&format!("{base_url}/v2/{repo}/manifests/{reference}"))
}

/// `PUT {base}/v2/{repo}/manifests/{reference}`; panics unless 201.
pub fn raw_put_manifest_ok(
    base_url: &str,
    repo: &str,
    reference: &str,
    content_type: &str,
    bytes: &[u8],
) -> RawResponse {
    raw_put_manifest(
        &format!("{base_url}/v2/{repo}/manifests/{reference}"),
        content_type,
        bytes,
    )
    .expect_status(201, &format!("PUT manifest {repo}:{reference}"))
}

/// `GET {base}/v2/{repo}/blobs/{digest}` body; panics unless 200.
pub fn raw_get_blob(base_url: &str, repo: &str, digest: &str) -> Vec<u8> {
    raw_request(
        "GET",
        &format!("{base_url}/v2/{repo}/blobs/{digest}"),
        &[],
        None,
    )
    .expect_status(200, &format!("GET blob {repo}@{digest}"))
    .body
}

/// Cross-repo mount: `POST {base}/v2/{repo}/blobs/uploads/?mount=<digest>&from=<from_repo>`.
/// 201 when mounted; 202 (a new upload session) when the source is missing.
pub fn raw_mount_blob(base_url: &str, repo: &str, digest: &str, from_repo: &str) -> RawResponse {
    raw_request(
        "POST",
        &format!("{base_url}/v2/{repo}/blobs/uploads/?mount={digest}&from={from_repo}"),
        &[],
        Some(&[]),
    )
}

/// Monolithic blob push without the library: POST then PUT `?digest=`. Returns the digest.
/// Panics on any unexpected status.
pub fn raw_push_blob(base_url: &str, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256_digest(bytes);
    let r = raw_request(
        "POST",
        &format!("{base_url}/v2/{repo}/blobs/uploads/"),
        &[],
        Some(&[]),
    )
    .expect_status(202, &format!("POST upload {repo}"));
    let loc = r
        .header("location")
        .unwrap_or_else(|| panic!("upload POST without Location: {:?}", r.headers))
        .to_string();
    let loc = absolute_url(base_url, &loc);
    let sep = if loc.contains('?') { '&' } else { '?' };
    raw_request(
        "PUT",
        &format!("{loc}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        Some(bytes),
    )
    .expect_status(201, &format!("PUT upload {repo} {digest}"));
    digest
}

/// Resolves a possibly relative `Location`/`Link` target against `http://host:port`.
pub fn absolute_url(base_url: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if location.starts_with('/') {
        format!("{}{location}", base_url.trim_end_matches('/'))
    } else {
        format!("{}/{location}", base_url.trim_end_matches('/'))
    }
}

/// `GET {base}/v2/{repo}/tags/list` → the tags (empty when `"tags": null`); panics unless 200.
pub fn raw_tags(base_url: &str, repo: &str) -> Vec<String> {
    let v = raw_request("GET", &format!("{base_url}/v2/{repo}/tags/list"), &[], None)
        .expect_status(200, &format!("tags/list {repo}"))
        .json();
    match v.get("tags") {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|t| t.as_str().expect("tag is a string").to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// The raw target of a `Link: <...>; rel="next"` header value (as sent: may be relative).
pub fn parse_next_link(link: &str) -> Option<String> {
    for part in link.split(',') {
        let part = part.trim();
        if !part.contains("rel=\"next\"") && !part.contains("rel=next") {
            continue;
        }
        let start = part.find('<')?;
        let end = part[start..].find('>')? + start;
        return Some(part[start + 1..end].to_string());
    }
    None
}

/// One catalog page as fetched while following `Link` headers.
#[derive(Debug, Clone)]
pub struct CatalogPage {
    pub url: String,
    pub link: Option<String>,
    pub repositories: Vec<String>,
}

/// Walks `GET {base}/v2/_catalog?n={n}` following `Link` (relative targets resolved against
/// `base_url`), at most `max_pages` pages. Panics on a non-200 page.
pub fn raw_catalog_pages(base_url: &str, n: usize, max_pages: usize) -> Vec<CatalogPage> {
    let mut pages = Vec::new();
    let mut url = format!("{base_url}/v2/_catalog?n={n}");
    for _ in 0..max_pages {
        let r = raw_request("GET", &url, &[], None).expect_status(200, &format!("GET {url}"));
        let link = r.header("link").map(|s| s.to_string());
        let repositories = r.json()["repositories"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().expect("repo name").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let next = link.as_deref().and_then(parse_next_link);
        pages.push(CatalogPage {
            url: url.clone(),
            link,
            repositories,
        });
        match next {
            Some(target) => url = absolute_url(base_url, &target),
            None => break,
        }
    }
    pages
}

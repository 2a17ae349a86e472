//! Listings against mockito: tags and catalog pagination (`Link` relative and absolute, GCR's
//! JSON `next`, loops, other hosts, page sizes) and image instances (GCR's `manifest` map, or
//! built from the tags). Every test counts the requests it expects.

mod mock_support;

use dockreg::media_type::{OCI_INDEX, OCI_MANIFEST};
use dockreg::{Digest, Error, ImageInstance};
use mockito::{Matcher, Server, ServerGuard};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use mock_support::*;

const TAGS: &str = "/v2/a/b/tags/list";

fn tags_body(tags: &[&str]) -> String {
    json!({"name": "a/b", "tags": tags}).to_string()
}

/// A page of `path_and_query` answering `body`, with a `Link` header when given.
fn page(
    server: &mut ServerGuard,
    path_and_query: &str,
    body: String,
    link: Option<String>,
) -> mockito::Mock {
    let mut m = server
        .mock("GET", path_and_query)
        .match_header("accept", Matcher::Regex("application/json".into()))
        .with_status(200)
        .with_header("content-type", "application/json");
    if let Some(l) = link {
        m = m.with_header("link", &l);
    }
    m.with_body(body).expect(1).create()
}

fn next(target: &str) -> Option<String> {
    Some(format!(r#"<{target}>; rel="next""#))
}

// ---------------------------------------------------------------------------------------------
// list_tags
// ---------------------------------------------------------------------------------------------

#[test]
fn null_or_missing_tags_are_an_empty_list() {
    let mut server = Server::new();
    let null = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        r#"{"name":"a/b","tags":null}"#.into(),
        None,
    );
    let missing = page(
        &mut server,
        "/v2/c/d/tags/list?n=100",
        r#"{"name":"c/d"}"#.into(),
        None,
    );
    let c = client();
    assert!(c.list_tags(&reference(&server, "a/b")).unwrap().is_empty());
    assert!(c.list_tags(&reference(&server, "c/d")).unwrap().is_empty());
    null.assert();
    missing.assert();
}

#[test]
fn link_pagination_follows_absolute_path_absolute_url_and_relative_links() {
    let mut server = Server::new();
    let url = server.url();
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_body(&["t1", "t2"]),
        next("/v2/a/b/tags/list?n=100&last=t2"),
    );
    // Several links in one header: only rel="next" is followed.
    let p2 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=t2",
        tags_body(&["t3", "t4"]),
        Some(format!(
            r#"</v2/a/b/tags/list?n=100>; rel="prev", <{url}/v2/a/b/tags/list?n=100&last=t4>; rel="next""#
        )),
    );
    // Relative to the directory of the page's path: /v2/a/b/tags/.
    let p3 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=t4",
        tags_body(&["t5"]),
        next("list?n=100&last=t5"),
    );
    let p4 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=t5",
        tags_body(&["a0"]),
        Some(r#"</v2/a/b/tags/list?n=100&last=t4>; rel="prev""#.into()),
    );
    let tags = client()
        .list_tags(&reference(&server, "a/b:ignored"))
        .unwrap();
    assert_eq!(
        tags,
        ["t1", "t2", "t3", "t4", "t5", "a0"],
        "registry order kept"
    );
    for m in [p1, p2, p3, p4] {
        m.assert();
    }
}

#[test]
fn page_size_is_sent_and_configurable() {
    let mut server = Server::new();
    let default = server
        .mock("GET", TAGS)
        .match_query(Matcher::UrlEncoded("n".into(), "100".into()))
        .with_body(tags_body(&["x"]))
        .expect(1)
        .create();
    assert_eq!(
        client().list_tags(&reference(&server, "a/b")).unwrap(),
        ["x"]
    );
    default.assert();

    let mut server = Server::new();
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=2",
        tags_body(&["a", "b"]),
        next("/v2/a/b/tags/list?n=2&last=b"),
    );
    let p2 = page(
        &mut server,
        "/v2/a/b/tags/list?n=2&last=b",
        tags_body(&["c"]),
        None,
    );
    let c = builder().page_size(2).build().unwrap();
    assert_eq!(
        c.list_tags(&reference(&server, "a/b")).unwrap(),
        ["a", "b", "c"]
    );
    p1.assert();
    p2.assert();

    let mut server = Server::new();
    let max = server
        .mock("GET", "/v2/a/b/tags/list?n=1000")
        .with_body(tags_body(&[]))
        .expect(1)
        .create();
    let c = builder().page_size(1000).build().unwrap();
    assert!(c.list_tags(&reference(&server, "a/b")).unwrap().is_empty());
    max.assert();

    for bad in [0, 1001] {
        let err = builder().page_size(bad).build().unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{bad}: {err:?}");
    }
}

#[test]
fn link_loop_is_an_error_not_an_endless_listing() {
    let mut server = Server::new();
    let url = server.url();
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_body(&["a"]),
        next("/v2/a/b/tags/list?n=100&last=a"),
    );
    // Back to the first page, as an absolute URL.
    let p2 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=a",
        tags_body(&["b"]),
        next(&format!("{url}/v2/a/b/tags/list?n=100")),
    );
    let err = client().list_tags(&reference(&server, "a/b")).unwrap_err();
    p1.assert();
    p2.assert();
    let Error::InvalidResponse { url: at, message } = &err else {
        panic!("want InvalidResponse, got {err:?}")
    };
    assert!(message.contains("loops"), "{message}");
    // The page is named without its query (error URLs never carry one).
    assert_eq!(at, &format!("{url}/v2/a/b/tags/list"));
}

#[test]
fn page_linking_to_itself_is_a_loop() {
    let mut server = Server::new();
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_body(&["a"]),
        next("/v2/a/b/tags/list?n=100"),
    );
    let err = client().list_tags(&reference(&server, "a/b")).unwrap_err();
    p1.assert();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
}

#[test]
fn next_link_to_another_host_is_refused() {
    let mut server = Server::new();
    let mut other = Server::new();
    let elsewhere = other.mock("GET", Matcher::Any).expect(0).create();
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_body(&["a"]),
        next(&format!("{}/v2/a/b/tags/list?n=100&last=a", other.url())),
    );
    // Scheme-relative links count too.
    let p2 = page(
        &mut server,
        "/v2/c/d/tags/list?n=100",
        tags_body(&["a"]),
        next(&format!(
            "//{}/v2/c/d/tags/list?last=a",
            other.host_with_port()
        )),
    );
    // And GCR's `next`.
    let p3 = page(
        &mut server,
        "/v2/e/f/tags/list?n=100",
        json!({"tags": ["a"], "next": format!("{}/v2/e/f/tags/list?last=a", other.url())})
            .to_string(),
        None,
    );
    let c = client();
    for repo in ["a/b", "c/d", "e/f"] {
        let err = c.list_tags(&reference(&server, repo)).unwrap_err();
        let Error::InvalidResponse { url, message } = &err else {
            panic!("{repo}: want InvalidResponse, got {err:?}")
        };
        assert!(message.contains("another host"), "{message}");
        assert!(message.contains(&other.host_with_port()), "{message}");
        assert!(
            url.starts_with(&format!("{}/v2/{repo}/tags/list", server.url())),
            "{url}"
        );
    }
    p1.assert();
    p2.assert();
    p3.assert();
    elsewhere.assert();
}

#[test]
fn gcr_json_next_is_followed() {
    let mut server = Server::new();
    let url = server.url();
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        json!({"name": "a/b", "tags": ["a", "b"], "next": "/v2/a/b/tags/list?n=100&last=b"})
            .to_string(),
        None,
    );
    let p2 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=b",
        json!({"name": "a/b", "tags": ["c"], "next": format!("{url}/v2/a/b/tags/list?n=100&last=c")})
            .to_string(),
        None,
    );
    let p3 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=c",
        json!({"name": "a/b", "tags": ["d"], "next": ""}).to_string(),
        None,
    );
    let tags = client().list_tags(&reference(&server, "a/b")).unwrap();
    assert_eq!(tags, ["a", "b", "c", "d"]);
    for m in [p1, p2, p3] {
        m.assert();
    }
}

#[test]
fn gcr_next_loop_is_an_error() {
    let mut server = Server::new();
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        json!({"tags": ["a"], "next": "/v2/a/b/tags/list?n=100&last=a"}).to_string(),
        None,
    );
    let p2 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=a",
        json!({"tags": ["b"], "next": "/v2/a/b/tags/list?n=100"}).to_string(),
        None,
    );
    let err = client().list_tags(&reference(&server, "a/b")).unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    p1.assert();
    p2.assert();
}

#[test]
fn tag_listing_errors() {
    let mut server = Server::new();
    let html = page(
        &mut server,
        "/v2/html/x/tags/list?n=100",
        "<html>login page</html>".into(),
        None,
    );
    let unknown = server
        .mock("GET", "/v2/gone/x/tags/list?n=100")
        .with_status(404)
        .with_body(error_body(
            "NAME_UNKNOWN",
            "repository name not known to registry",
        ))
        .expect(1)
        .create();
    let p1 = page(
        &mut server,
        "/v2/slow/x/tags/list?n=100",
        tags_body(&["a"]),
        next("/v2/slow/x/tags/list?n=100&last=a"),
    );
    let limited = server
        .mock("GET", "/v2/slow/x/tags/list?n=100&last=a")
        .with_status(429)
        // Beyond the retry policy's cap (30 s): returned at once, not waited for.
        .with_header("retry-after", "3600")
        .expect(1)
        .create();
    let c = client();

    let err = c.list_tags(&reference(&server, "html/x")).unwrap_err();
    let Error::InvalidResponse { url, message } = &err else {
        panic!("want InvalidResponse, got {err:?}")
    };
    assert!(url.contains("/v2/html/x/tags/list"), "{url}");
    assert!(message.contains("JSON"), "{message}");

    let err = c.list_tags(&reference(&server, "gone/x")).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(err.registry_error().unwrap().errors[0].code, "NAME_UNKNOWN");

    // A failure on a later page fails the listing; nothing partial is returned.
    let err = c.list_tags(&reference(&server, "slow/x")).unwrap_err();
    assert!(matches!(err, Error::TooManyRequests(_)), "{err:?}");
    assert_eq!(
        err.registry_error().unwrap().retry_after,
        Some(std::time::Duration::from_secs(3600))
    );

    for m in [html, unknown, p1, limited] {
        m.assert();
    }
}

// ---------------------------------------------------------------------------------------------
// list_repositories
// ---------------------------------------------------------------------------------------------

fn catalog_body(repos: &[&str]) -> String {
    json!({ "repositories": repos }).to_string()
}

#[test]
fn catalog_follows_relative_links() {
    let mut server = Server::new();
    let url = server.url();
    // As distribution does: a relative Link with `last` and `n`.
    let p1 = page(
        &mut server,
        "/v2/_catalog?n=2",
        catalog_body(&["a/one", "a/two"]),
        next("/v2/_catalog?last=a%2Ftwo&n=2"),
    );
    let p2 = page(
        &mut server,
        "/v2/_catalog?last=a%2Ftwo&n=2",
        catalog_body(&["b", "c/d"]),
        next(&format!("{url}/v2/_catalog?last=c%2Fd&n=2")),
    );
    let p3 = page(
        &mut server,
        "/v2/_catalog?last=c%2Fd&n=2",
        catalog_body(&["e"]),
        None,
    );
    let c = builder().page_size(2).build().unwrap();
    let repos = c.list_repositories(&server.host_with_port()).unwrap();
    assert_eq!(repos, ["a/one", "a/two", "b", "c/d", "e"]);
    for m in [p1, p2, p3] {
        m.assert();
    }
}

#[test]
fn catalog_default_page_size_gcr_next_and_empty() {
    let mut server = Server::new();
    let p1 = page(
        &mut server,
        "/v2/_catalog?n=100",
        json!({"repositories": ["x"], "next": "/v2/_catalog?n=100&last=x"}).to_string(),
        None,
    );
    let p2 = page(
        &mut server,
        "/v2/_catalog?n=100&last=x",
        json!({"repositories": null}).to_string(),
        None,
    );
    let repos = client()
        .list_repositories(&server.host_with_port())
        .unwrap();
    assert_eq!(repos, ["x"]);
    p1.assert();
    p2.assert();
}

#[test]
fn catalog_errors() {
    let mut server = Server::new();
    let url = server.url();
    let p1 = page(
        &mut server,
        "/v2/_catalog?n=100",
        catalog_body(&["a"]),
        next("/v2/_catalog?n=100&last=a"),
    );
    let p2 = page(
        &mut server,
        "/v2/_catalog?n=100&last=a",
        catalog_body(&["b"]),
        next(&format!("{url}/v2/_catalog?n=100")),
    );
    let c = client();
    let err = c.list_repositories(&server.host_with_port()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse { message, .. } if message.contains("loops")),
        "{err:?}"
    );
    p1.assert();
    p2.assert();

    // A bad registry name fails before any request.
    let any = server.mock("GET", Matcher::Any).expect(0).create();
    for bad in ["", "bad host", "UPPER:5000/x", "http://127.0.0.1:5000"] {
        let err = c.list_repositories(bad).unwrap_err();
        assert!(
            matches!(err, Error::InvalidReference { .. }),
            "{bad}: {err:?}"
        );
    }
    any.assert();

    let mut server = Server::new();
    let denied = server
        .mock("GET", "/v2/_catalog?n=100")
        .with_status(401)
        .with_body(error_body("UNAUTHORIZED", "authentication required"))
        .expect(1)
        .create();
    let err = c.list_repositories(&server.host_with_port()).unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    denied.assert();
}

// ---------------------------------------------------------------------------------------------
// list_instances
// ---------------------------------------------------------------------------------------------

fn ms(millis: i128) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).unwrap()
}

#[test]
fn gcr_manifest_map_gives_instances_in_one_request() {
    let mut server = Server::new();
    let d1 = sha(b"image one");
    let d2 = sha(b"image two");
    let body = json!({
        "child": [],
        "manifest": {
            d1.as_str(): {
                "imageSizeBytes": "1234",
                "layerId": "",
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "tag": ["v2", "latest"],
                "timeCreatedMs": "1500000000123",
                "timeUploadedMs": "1600000000456"
            },
            d2.as_str(): {
                "imageSizeBytes": "99",
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "tag": [],
                "timeCreatedMs": "0",
                "timeUploadedMs": "1600000000000"
            }
        },
        "name": "a/b",
        "tags": ["latest", "v2"]
    });
    let listing = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        body.to_string(),
        None,
    );
    // Nothing else is asked: no HEAD per tag, no manifest, no config.
    let head = server.mock("HEAD", Matcher::Any).expect(0).create();

    let got = client().list_instances(&reference(&server, "a/b")).unwrap();
    listing.assert();
    head.assert();

    assert_eq!(got.len(), 2);
    let one = &got[&d1];
    assert_eq!(one.digest, d1);
    assert_eq!(one.size_bytes, 1234);
    assert_eq!(one.tags, ["latest", "v2"], "tags sorted");
    assert_eq!(one.created, Some(ms(1_500_000_000_123)));
    assert_eq!(one.uploaded, Some(ms(1_600_000_000_456)));
    assert_eq!(one.created.unwrap(), datetime!(2017-07-14 02:40:00.123 UTC));
    let two = &got[&d2];
    assert_eq!(two.size_bytes, 99);
    assert!(two.tags.is_empty());
    assert_eq!(two.created, None, "0 means unknown");
    assert_eq!(two.uploaded, Some(ms(1_600_000_000_000)));

    // The seed's ordering: unknown creation first.
    let mut sorted: Vec<&ImageInstance> = got.values().collect();
    sorted.sort();
    assert_eq!(sorted[0].digest, d2);
}

#[test]
fn gcr_manifest_maps_of_several_pages_are_merged() {
    let mut server = Server::new();
    let d1 = sha(b"1");
    let d2 = sha(b"2");
    let entry = |size: u64, tag: &str| {
        json!({"imageSizeBytes": size.to_string(), "tag": [tag],
               "timeCreatedMs": "1000", "timeUploadedMs": "2000"})
    };
    let p1 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        json!({"tags": ["x"], "manifest": {d1.as_str(): entry(1, "x")}}).to_string(),
        next("/v2/a/b/tags/list?n=100&last=x"),
    );
    let p2 = page(
        &mut server,
        "/v2/a/b/tags/list?n=100&last=x",
        json!({"tags": ["y"], "manifest": {d2.as_str(): entry(2, "y")}}).to_string(),
        None,
    );
    let got = client().list_instances(&reference(&server, "a/b")).unwrap();
    p1.assert();
    p2.assert();
    let keys: Vec<&Digest> = got.keys().collect();
    let mut want = vec![&d1, &d2];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(got[&d1].tags, ["x"]);
    assert_eq!(got[&d2].size_bytes, 2);
    assert_eq!(got[&d2].created, Some(ms(1000)));
}

#[test]
fn gcr_manifest_map_with_bad_values_is_an_invalid_response() {
    let d = sha(b"x");
    let cases = [
        (
            json!({d.as_str(): {"imageSizeBytes": "12a"}}),
            "imageSizeBytes",
        ),
        (
            json!({d.as_str(): {"imageSizeBytes": "-5"}}),
            "imageSizeBytes",
        ),
        (
            json!({d.as_str(): {"timeCreatedMs": "soon"}}),
            "timeCreatedMs",
        ),
        (
            json!({d.as_str(): {"timeUploadedMs": true}}),
            "timeUploadedMs",
        ),
        (json!({"not-a-digest": {"imageSizeBytes": "1"}}), "digest"),
    ];
    for (manifest, what) in cases {
        let mut server = Server::new();
        let listing = page(
            &mut server,
            "/v2/a/b/tags/list?n=100",
            json!({"tags": [], "manifest": manifest}).to_string(),
            None,
        );
        let err = client()
            .list_instances(&reference(&server, "a/b"))
            .unwrap_err();
        listing.assert();
        let Error::InvalidResponse { url, message } = &err else {
            panic!("{manifest}: want InvalidResponse, got {err:?}")
        };
        assert!(message.contains(what), "{message}");
        assert_eq!(url, &format!("{}/v2/a/b/tags/list", server.url()));
    }
}

/// Mocks a HEAD of `/manifests/<tag>` answering `digest`.
fn head_tag(server: &mut ServerGuard, tag: &str, digest: &Digest) -> mockito::Mock {
    server
        .mock("HEAD", manifest_path("a/b", tag).as_str())
        .match_header("accept", accepts_all_manifest_types())
        .with_status(200)
        .with_header("docker-content-digest", digest.as_str())
        .expect(1)
        .create()
}

#[test]
fn instances_from_tags_cost_one_head_per_tag_and_one_manifest_and_config_per_image() {
    let mut server = Server::new();
    // Created first, so that they only get requests no other mock matches.
    let stray_get = server.mock("GET", Matcher::Any).expect(0).create();
    let stray_head = server.mock("HEAD", Matcher::Any).expect(0).create();

    let a = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let b = TestImage::docker("amd64", "2023-06-01T12:30:00Z");
    let listing = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_body(&["v1", "latest", "v2"]),
        None,
    );
    let heads = [
        head_tag(&mut server, "v1", &a.digest),
        head_tag(&mut server, "latest", &a.digest),
        head_tag(&mut server, "v2", &b.digest),
    ];
    let manifests = [
        serve_manifest(
            &mut server,
            "a/b",
            a.digest.as_str(),
            &a.manifest,
            a.media_type,
        ),
        serve_manifest(
            &mut server,
            "a/b",
            b.digest.as_str(),
            &b.manifest,
            b.media_type,
        ),
    ];
    let configs = [
        serve_blob(&mut server, "a/b", &a.config),
        serve_blob(&mut server, "a/b", &b.config),
    ];

    let got = client().list_instances(&reference(&server, "a/b")).unwrap();

    listing.assert();
    for m in heads.iter().chain(&manifests).chain(&configs) {
        m.assert();
    }
    stray_get.assert();
    stray_head.assert();

    assert_eq!(got.len(), 2);
    let ia = &got[&a.digest];
    assert_eq!(ia.tags, ["latest", "v1"]);
    assert_eq!(ia.size_bytes, a.total_size());
    assert_eq!(ia.created, Some(datetime!(2024-01-01 00:00:00 UTC)));
    assert_eq!(ia.uploaded, None);
    let ib = &got[&b.digest];
    assert_eq!(ib.tags, ["v2"]);
    assert_eq!(ib.size_bytes, b.total_size());
    assert_eq!(ib.created, Some(datetime!(2023-06-01 12:30:00 UTC)));
    assert_eq!(ib.uploaded, None);
}

#[test]
fn instances_from_tags_use_the_platform_image_of_an_index() {
    let mut server = Server::new();
    let stray_get = server.mock("GET", Matcher::Any).expect(0).create();

    let amd = TestImage::oci("amd64", "2024-02-03T04:05:06Z");
    let arm = TestImage::oci("arm64", "2020-01-01T00:00:00Z");
    let idx = index(
        OCI_INDEX,
        &[(&arm, "linux/arm64/v8"), (&amd, "linux/amd64")],
    );
    let idx_digest = sha(&idx);
    let listing = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_body(&["multi"]),
        None,
    );
    let head = head_tag(&mut server, "multi", &idx_digest);
    let top = serve_manifest(&mut server, "a/b", idx_digest.as_str(), &idx, OCI_INDEX);
    let child = serve_manifest(
        &mut server,
        "a/b",
        amd.digest.as_str(),
        &amd.manifest,
        OCI_MANIFEST,
    );
    let config = serve_blob(&mut server, "a/b", &amd.config);

    let got = client().list_instances(&reference(&server, "a/b")).unwrap();
    for m in [listing, head, top, child, config, stray_get] {
        m.assert();
    }
    assert_eq!(got.len(), 1);
    let i = &got[&idx_digest];
    assert_eq!(i.digest, idx_digest, "keyed by the index digest");
    assert_eq!(i.tags, ["multi"]);
    assert_eq!(i.size_bytes, amd.total_size());
    assert_eq!(i.created, Some(datetime!(2024-02-03 04:05:06 UTC)));
}

#[test]
fn instances_of_an_empty_repository() {
    let mut server = Server::new();
    let listing = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        r#"{"name":"a/b","tags":null}"#.into(),
        None,
    );
    let head = server.mock("HEAD", Matcher::Any).expect(0).create();
    let got = client().list_instances(&reference(&server, "a/b")).unwrap();
    assert!(got.is_empty());
    listing.assert();
    head.assert();
}

#[test]
fn instances_from_tags_leave_out_a_tag_that_vanished() {
    let mut server = Server::new();
    let a = TestImage::oci("amd64", "2024-01-01T00:00:00Z");
    let listing = page(
        &mut server,
        "/v2/a/b/tags/list?n=100",
        tags_body(&["v1", "gone"]),
        None,
    );
    let head = head_tag(&mut server, "v1", &a.digest);
    let gone_head = server
        .mock("HEAD", manifest_path("a/b", "gone").as_str())
        .with_status(404)
        .expect(1)
        .create();
    let gone_get = server
        .mock("GET", manifest_path("a/b", "gone").as_str())
        .with_status(404)
        .with_body(error_body("MANIFEST_UNKNOWN", "manifest unknown"))
        .expect(1)
        .create();
    let manifest = server
        .mock("GET", manifest_path("a/b", a.digest.as_str()).as_str())
        .with_header("content-type", dockreg::media_type::OCI_MANIFEST)
        .with_body(&a.manifest)
        .expect(1)
        .create();
    let config = server
        .mock("GET", blob_path("a/b", &a.config_digest).as_str())
        .with_body(&a.config)
        .expect(1)
        .create();
    // The tag was deleted after the listing: it has no instance, and the others are listed.
    let instances = client().list_instances(&reference(&server, "a/b")).unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[&a.digest].tags, vec!["v1"]);
    for m in [listing, head, gone_head, gone_get, manifest, config] {
        m.assert();
    }
}

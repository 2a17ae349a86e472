//! Manifest parsing (registry input: every manifest GET) and platform selection in an index.
//!
//! The first byte picks the media type the bytes are parsed as: one of the four manifest types,
//! one with parameters, a generic or garbage type, or (for 255) the first line of the input.
//! Properties: nothing panics; `RawManifest::parse` agrees with `parse_manifest`; a parsed
//! manifest serialises to JSON that parses back to the same manifest; every platform an index
//! lists selects one of its entries.
#![no_main]

use dockreg::fuzzing::{detect_media_type, parse_manifest};
use dockreg::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use dockreg::{ImageIndex, Manifest, Platform, RawManifest};
use libfuzzer_sys::fuzz_target;

const TYPES: &[&str] = &[
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    "application/vnd.oci.image.index.v1+json; charset=utf-8",
    " application/vnd.docker.distribution.manifest.v2+json ;x=y",
    "application/json",
    "",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "text/html; charset=utf-8",
    ";;;",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (media_type, bytes) = if selector == u8::MAX {
        let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let (line, body) = rest.split_at(line_end);
        (
            String::from_utf8_lossy(line).into_owned(),
            body.get(1..).unwrap_or_default(),
        )
    } else {
        (TYPES[usize::from(selector) % TYPES.len()].to_string(), rest)
    };

    let _ = detect_media_type(bytes, Some(&media_type));
    let _ = detect_media_type(bytes, None);

    let parsed = parse_manifest(bytes, &media_type);
    let raw = RawManifest::new(bytes.to_vec(), &media_type);
    let _ = raw.is_index();
    match (&parsed, raw.parse()) {
        (Ok(a), Ok(b)) => assert_eq!(*a, b),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("parse_manifest gave {a:?}, RawManifest::parse {b:?}"),
    }

    match parsed {
        Err(e) => {
            let _ = e.to_string();
        }
        Ok(Manifest::Image(m)) => {
            let _ = m.total_size();
            let json = serde_json::to_vec(&m).expect("an image manifest serialises");
            let back = parse_manifest(&json, OCI_MANIFEST).expect("re-serialised manifest parses");
            assert_eq!(back, Manifest::Image(m));
        }
        Ok(Manifest::Index(i)) => {
            check_index(&i);
            let json = serde_json::to_vec(&i).expect("an index serialises");
            let back = parse_manifest(&json, OCI_INDEX).expect("re-serialised index parses");
            assert_eq!(back, Manifest::Index(i));
        }
    }
});

fn check_index(i: &ImageIndex) {
    let mut wanted = vec![
        Platform::linux_amd64(),
        Platform::new("linux", "arm64"),
        Platform::new("windows", "amd64"),
    ];
    for s in [
        "linux/arm/v7",
        "linux/arm64/v8",
        "linux/amd64/v3",
        "linux/arm/v8",
    ] {
        wanted.push(s.parse().expect("a valid platform"));
    }
    let mut windows = Platform::new("windows", "amd64");
    windows.os_version = Some("10.0.17763.1".to_string());
    wanted.push(windows);
    for p in &wanted {
        if let Some(d) = i.select(p) {
            assert!(i.manifests.iter().any(|m| std::ptr::eq(m, d)));
        }
        let _ = i
            .select_or_error(p, "registry.example/app:1")
            .map_err(|e| e.to_string());
    }
    for p in i.platforms() {
        assert!(
            i.select(p).is_some(),
            "listed platform {p:?} selects nothing"
        );
        let _ = (p.to_string(), p.normalized());
    }
}

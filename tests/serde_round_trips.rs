//! Every public data type goes to JSON and back unchanged, with the keys the docs promise; the
//! validating types refuse invalid JSON instead of building an invalid value.

use std::time::Duration;

use dockreg::media_type::{OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST};
use dockreg::{
    Descriptor, Digest, ErrorEntry, ImageConfig, ImageIndex, ImageInstance, ImageManifest,
    Manifest, ManifestHead, Platform, RawManifest, Reference, RegistryError, Repository,
    ResolvedManifest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Serializes `v`, checks the JSON against `expected` when given, and reads it back.
fn round_trip<T>(v: &T, expected: Option<Value>) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(v).unwrap();
    if let Some(want) = expected {
        assert_eq!(json, want);
    }
    let back: T = serde_json::from_value(json).unwrap();
    assert_eq!(&back, v);
    back
}

fn digest(text: &str) -> Digest {
    Digest::sha256_of(text.as_bytes())
}

#[test]
fn references_and_repositories() {
    let d = digest("m");
    let r: Reference = format!("127.0.0.1:5000/team/app:1.0@{d}").parse().unwrap();
    round_trip(
        &r,
        Some(
            json!({"registry": "127.0.0.1:5000", "repository": "team/app", "tag": "1.0",
                    "digest": d.as_str()}),
        ),
    );
    // A reference also reads from its text form, normalised.
    let short: Reference = serde_json::from_value(json!("ubuntu")).unwrap();
    assert_eq!(short.to_string(), "docker.io/library/ubuntu");
    // Invalid parts are refused, not built.
    for bad in [
        json!({"registry": "127.0.0.1:5000", "repository": "Team/App"}),
        json!({"registry": "nodots", "repository": "app"}),
        json!({"registry": "r.example", "repository": "app", "tag": "bad tag"}),
        json!("r.example/Team/app:1"),
    ] {
        assert!(
            serde_json::from_value::<Reference>(bad.clone()).is_err(),
            "{bad}"
        );
    }

    let repo: Repository = "r.example:5000/team/app".parse().unwrap();
    round_trip(&repo, Some(json!("r.example:5000/team/app")));
    assert_eq!(r.repository().to_string(), "127.0.0.1:5000/team/app");
    for bad in [json!("r.example/app:tag"), json!("r.example/App"), json!(5)] {
        assert!(
            serde_json::from_value::<Repository>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn manifests_and_descriptors() {
    let mut layer = Descriptor::new(OCI_LAYER_GZIP, digest("layer"), 10);
    layer.annotations = Some([("k".to_string(), "v".to_string())].into());
    let m = ImageManifest::new(
        Descriptor::new(OCI_CONFIG, digest("config"), 2),
        vec![layer],
    );
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["schemaVersion"], 2);
    assert_eq!(json["mediaType"], OCI_MANIFEST);
    assert_eq!(json["layers"][0]["annotations"]["k"], "v");
    round_trip(&m, None);

    let mut entry = Descriptor::new(OCI_MANIFEST, digest("image"), 300);
    entry.platform = Some("linux/arm/v7".parse().unwrap());
    let index = ImageIndex::new(vec![entry]);
    let json = serde_json::to_value(&index).unwrap();
    assert_eq!(json["manifests"][0]["platform"]["variant"], "v7");
    round_trip(&index, None);

    // The enum writes the document itself and reads it back by shape.
    round_trip(
        &Manifest::Image(m.clone()),
        Some(serde_json::to_value(&m).unwrap()),
    );
    round_trip(
        &Manifest::Index(index.clone()),
        Some(serde_json::to_value(&index).unwrap()),
    );
    // An ambiguous document is refused as it is when a registry serves it.
    let mut ambiguous = serde_json::to_value(&m).unwrap();
    ambiguous["manifests"] = json!([]);
    assert!(serde_json::from_value::<Manifest>(ambiguous).is_err());

    let raw = RawManifest::new(serde_json::to_vec(&index).unwrap(), OCI_INDEX);
    let json = round_trip(&raw, None);
    assert_eq!(json.digest, Digest::sha256_of(&raw.bytes));
}

#[test]
fn platforms_and_configs() {
    let p = Platform::new("windows", "amd64");
    let mut p = p;
    p.os_version = Some("10.0.17763.1".into());
    round_trip(
        &p,
        Some(json!({"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.1"})),
    );
    let config: ImageConfig = serde_json::from_value(json!({
        "architecture": "arm64", "os": "linux", "created": "2024-05-06T07:08:09Z",
        "config": {"Env": ["A=1"], "WorkingDir": "/w"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
        "history": [{"created_by": "RUN x", "empty_layer": true}]
    }))
    .unwrap();
    let back = round_trip(&config, None);
    assert_eq!(back.config.working_dir, "/w");
    assert_eq!(
        serde_json::to_value(&config).unwrap()["created"],
        "2024-05-06T07:08:09Z"
    );
}

#[test]
fn image_instances_in_both_forms() {
    let mut i = ImageInstance::new(digest("m"), 4321);
    i.tags = vec!["a".into(), "b".into()];
    i.created = Some(time::macros::datetime!(2024-01-02 03:04:05 UTC));
    round_trip(
        &i,
        Some(
            json!({"digest": i.digest.as_str(), "imageSizeBytes": 4321, "tags": ["a", "b"],
                    "created": "2024-01-02T03:04:05Z", "uploaded": null}),
        ),
    );
    let seed = serde_json::to_value(i.seed_json()).unwrap();
    assert_eq!(
        seed,
        json!({"digest": i.digest.as_str(), "imageSizeBytes": 4321, "tag": ["a", "b"],
               "timeCreatedMs": "2024-01-02T03:04:05Z",
               "timeUploadedMs": "0001-01-01T00:00:00Z"})
    );
    assert_eq!(serde_json::from_value::<ImageInstance>(seed).unwrap(), i);
}

#[test]
fn results_and_errors() {
    let image = ImageManifest::new(Descriptor::new(OCI_CONFIG, digest("c"), 2), vec![]);
    let bytes = serde_json::to_vec(&image).unwrap();
    let resolved: ResolvedManifest = serde_json::from_value(json!({
        "digest": Digest::sha256_of(&bytes), "mediaType": OCI_MANIFEST, "bytes": bytes,
        "manifest": image, "indexDigest": digest("index")
    }))
    .unwrap();
    round_trip(&resolved, None);

    let head: ManifestHead =
        serde_json::from_value(json!({"digest": digest("x"), "mediaType": OCI_INDEX, "size": 12}))
            .unwrap();
    assert_eq!(head.size, Some(12));
    round_trip(&head, None);

    let mut e = RegistryError::new("HEAD", "https://r.example/v2/a/blobs/x", 429);
    e.errors
        .push(ErrorEntry::new("TOOMANYREQUESTS", "slow down"));
    e.retry_after = Some(Duration::from_secs(30));
    e.attempts = 3;
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["retryAfterSecs"], 30);
    assert_eq!(json["errors"][0]["code"], "TOOMANYREQUESTS");
    round_trip(&e, None);
    let as_std: &dyn std::error::Error = &e;
    assert!(as_std.to_string().contains("answered 429"));
}

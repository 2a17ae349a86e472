//! The shared, lazily seeded fixture registry for read-only tests: images pushed by skopeo
//! (an independent client) from OCI layouts built by hand, plus bulk tags/repos added by raw
//! HTTP. Every record comes from what the registry really serves (`skopeo inspect --raw`,
//! blobs fetched back and checked against their digests).
//!
//! Tests must not modify anything under `fixtures/` in the shared registry (other tests of
//! the same binary run concurrently against it); push to your own repo names, or start your
//! own [`TestRegistry`].

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::layout::{BuiltImage, ImageSpec, LayerKind, OciLayout};
use super::raw::{self, sha256_digest};
use super::registry::{TestRegistry, require_program};
use super::skopeo::{skopeo_copy, skopeo_inspect_digest, skopeo_raw};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(|s| s.to_string()),
        }
    }

    /// From a JSON object with `os`, `architecture` and optional `variant` (a descriptor's
    /// `platform` or an image config).
    pub fn from_json(v: &Value) -> Platform {
        Platform {
            os: v["os"].as_str().unwrap_or_default().to_string(),
            architecture: v["architecture"].as_str().unwrap_or_default().to_string(),
            variant: v["variant"].as_str().map(|s| s.to_string()),
        }
    }
}

/// A blob as stored in the registry (bytes fetched back and checked against `digest`).
#[derive(Debug, Clone)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
    pub data: Vec<u8>,
}

/// One image manifest in the registry.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    pub repo: String,
    /// The tag it was pushed under; empty for the children of an index/list.
    pub tag: String,
    /// `sha256:<hex>` of `manifest`.
    pub digest: String,
    /// The manifest's `mediaType` (OCI manifest or Docker v2 schema 2).
    pub media_type: String,
    /// Raw manifest bytes exactly as served.
    pub manifest: Vec<u8>,
    pub config: Blob,
    pub layers: Vec<Blob>,
    /// `rootfs.diff_ids` of the config.
    pub diff_ids: Vec<String>,
    /// From the config (`os`, `architecture`, `variant`).
    pub platform: Platform,
}

impl ImageRecord {
    /// `repo:tag`, or `repo@digest` when untagged.
    pub fn reference(&self) -> String {
        if self.tag.is_empty() {
            format!("{}@{}", self.repo, self.digest)
        } else {
            format!("{}:{}", self.repo, self.tag)
        }
    }

    /// `repo@digest`
    pub fn by_digest(&self) -> String {
        format!("{}@{}", self.repo, self.digest)
    }

    pub fn manifest_json(&self) -> Value {
        serde_json::from_slice(&self.manifest).expect("manifest JSON")
    }

    pub fn config_json(&self) -> Value {
        serde_json::from_slice(&self.config.data).expect("config JSON")
    }
}

/// An OCI image index or Docker manifest list in the registry.
#[derive(Debug, Clone)]
pub struct IndexRecord {
    pub repo: String,
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
    /// In the list's order; each child's `platform` equals its descriptor's platform
    /// (checked at seeding), `tag` is empty.
    pub children: Vec<ImageRecord>,
}

impl IndexRecord {
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repo, self.tag)
    }

    pub fn by_digest(&self) -> String {
        format!("{}@{}", self.repo, self.digest)
    }

    pub fn manifest_json(&self) -> Value {
        serde_json::from_slice(&self.manifest).expect("index JSON")
    }

    /// The child for `platform`, if any.
    pub fn child(&self, platform: &Platform) -> Option<&ImageRecord> {
        self.children.iter().find(|c| &c.platform == platform)
    }
}

/// `fixtures/many-tags`: tags `t000`..`t299`, tag `tNNN` → `images[NNN % 3]`.
#[derive(Debug, Clone)]
pub struct ManyTags {
    pub repo: String,
    /// In numeric order.
    pub tags: Vec<String>,
    /// The 3 distinct images (their `tag` fields: t000, t001, t002).
    pub images: Vec<ImageRecord>,
}

impl ManyTags {
    pub fn image_for_tag(&self, tag: &str) -> &ImageRecord {
        let n: usize = tag
            .strip_prefix('t')
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a many-tags tag: {tag}"));
        &self.images[n % 3]
    }
}

/// `fixtures/repo-000`..`fixtures/repo-259`, each with tag `v1` → the same `image`
/// (same manifest bytes and digest everywhere; `image.repo` is `fixtures/repo-000`).
#[derive(Debug, Clone)]
pub struct ManyRepos {
    /// Sorted.
    pub repos: Vec<String>,
    pub tag: String,
    pub image: ImageRecord,
}

pub struct Fixture {
    pub registry: TestRegistry,
    /// `fixtures/oci:v1`: OCI manifest, linux/amd64, 1 config + 2 layers (tar+gzip, tar).
    /// Pushed with `--preserve-digests`: bytes identical to the hand-built layout.
    pub oci_image: ImageRecord,
    /// `fixtures/docker:v1`: Docker v2 schema 2 manifest (skopeo `--format v2s2`), linux/amd64,
    /// 2 `rootfs.diff.tar.gzip` layers.
    pub docker_image: ImageRecord,
    /// `fixtures/multi-oci:v1`: OCI index, children linux/amd64 and linux/arm64/v8 (OCI manifests).
    pub oci_index: IndexRecord,
    /// `fixtures/multi-docker:v1`: Docker manifest list (skopeo `--all --format v2s2` converted
    /// an OCI index), children linux/amd64 and linux/arm64/v8 (Docker v2 manifests).
    pub docker_list: IndexRecord,
    pub many_tags: ManyTags,
    pub many_repos: ManyRepos,
    /// How long seeding took (registry start included).
    pub seed_time: Duration,
}

impl Fixture {
    pub fn addr(&self) -> String {
        self.registry.addr()
    }

    pub fn url(&self) -> String {
        self.registry.url()
    }

    /// Every repository seeded, sorted (what `_catalog` must list).
    pub fn all_repos(&self) -> Vec<String> {
        let mut v = vec![
            self.oci_image.repo.clone(),
            self.docker_image.repo.clone(),
            self.oci_index.repo.clone(),
            self.docker_list.repo.clone(),
            self.many_tags.repo.clone(),
        ];
        v.extend(self.many_repos.repos.iter().cloned());
        v.sort();
        v.dedup();
        v
    }

    /// All single-image records (top-level images, index children, many-tags images,
    /// many-repos image).
    pub fn all_images(&self) -> Vec<&ImageRecord> {
        let mut v = vec![&self.oci_image, &self.docker_image];
        v.extend(self.oci_index.children.iter());
        v.extend(self.docker_list.children.iter());
        v.extend(self.many_tags.images.iter());
        v.push(&self.many_repos.image);
        v
    }
}

/// The process-wide fixture registry, seeded on first use (a few seconds).
pub fn shared() -> &'static Fixture {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    let r = FIXTURE.get_or_init(|| {
        std::panic::catch_unwind(seed).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into())
        })
    });
    match r {
        Ok(f) => f,
        Err(e) => panic!("seeding the shared fixture registry failed: {e}"),
    }
}

pub const MANY_TAGS: usize = 300;
pub const MANY_REPOS: usize = 260;

/// Builds the whole fixture in a fresh registry (the one behind [`shared`]).
pub fn seed() -> Fixture {
    let t0 = Instant::now();
    require_program("docker-registry", "docker-registry");
    require_program("skopeo", "skopeo");
    let registry = TestRegistry::start_detached("");
    // The layout lives inside the registry's temp dir, which the registry wrapper removes
    // even if the test process is killed; it is deleted right after seeding anyway.
    let layout_dir = registry.dir().join("layout");
    let mut lay = OciLayout::new(&layout_dir);
    use LayerKind::{Tar, TarGzip};

    let oci = lay.add_image(&ImageSpec::new("oci-v1", "amd64", None, &[TarGzip, Tar]));
    lay.tag_image("oci", &oci);
    // Docker images get gzip layers in the source: skopeo then never recompresses, so the
    // result does not depend on its blob-info cache.
    let docker = lay.add_image(&ImageSpec::new(
        "docker-v1",
        "amd64",
        None,
        &[TarGzip, TarGzip],
    ));
    lay.tag_image("docker", &docker);
    let mo = [
        lay.add_image(&ImageSpec::new("multi-oci", "amd64", None, &[TarGzip, Tar])),
        lay.add_image(&ImageSpec::new(
            "multi-oci",
            "arm64",
            Some("v8"),
            &[TarGzip, Tar],
        )),
    ];
    let mo_index = lay.add_index(mo.to_vec());
    lay.tag_index("multi-oci", &mo_index);
    let md = [
        lay.add_image(&ImageSpec::new(
            "multi-docker",
            "amd64",
            None,
            &[TarGzip, TarGzip],
        )),
        lay.add_image(&ImageSpec::new(
            "multi-docker",
            "arm64",
            Some("v8"),
            &[TarGzip, TarGzip],
        )),
    ];
    let md_index = lay.add_index(md.to_vec());
    lay.tag_index("multi-docker", &md_index);
    let mt: Vec<BuiltImage> = (0..3)
        .map(|i| {
            lay.add_image(&ImageSpec::new(
                &format!("many-tags-{i}"),
                "amd64",
                None,
                &[TarGzip],
            ))
        })
        .collect();
    for (i, img) in mt.iter().enumerate() {
        lay.tag_image(&format!("mt{i}"), img);
    }
    let repo_img = lay.add_image(&ImageSpec::new("many-repos", "amd64", None, &[TarGzip]));
    lay.tag_image("repo", &repo_img);
    lay.finish();

    let preserve: &[&str] = &["--preserve-digests"];
    let jobs: Vec<(&str, String, &[&str])> = vec![
        ("oci", "fixtures/oci:v1".into(), preserve),
        ("docker", "fixtures/docker:v1".into(), &["--format", "v2s2"]),
        (
            "multi-oci",
            "fixtures/multi-oci:v1".into(),
            &["--all", "--preserve-digests"],
        ),
        // skopeo 1.9.3 converts the OCI index into a Docker manifest list (and its children
        // into Docker v2 manifests) with --all --format v2s2 (not with --preserve-digests).
        (
            "multi-docker",
            "fixtures/multi-docker:v1".into(),
            &["--all", "--format", "v2s2"],
        ),
        ("mt0", "fixtures/many-tags:t000".into(), preserve),
        ("mt1", "fixtures/many-tags:t001".into(), preserve),
        ("mt2", "fixtures/many-tags:t002".into(), preserve),
        ("repo", "fixtures/repo-000:v1".into(), preserve),
    ];
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(src, dest, args)| {
                let src = lay.skopeo_ref(src);
                let dest = registry.docker_ref(dest);
                s.spawn(move || skopeo_copy(&src, &dest, args))
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
    let _ = std::fs::remove_dir_all(&layout_dir);
    let t_push = t0.elapsed();

    // Records, from what the registry serves (skopeo inspect --raw), in parallel.
    let (oci_image, docker_image, oci_index, docker_list, mt_images, repo_image) =
        std::thread::scope(|s| {
            let r = &registry;
            let a = s.spawn(move || record_image(r, "fixtures/oci", "v1"));
            let b = s.spawn(move || record_image(r, "fixtures/docker", "v1"));
            let c = s.spawn(move || record_index(r, "fixtures/multi-oci", "v1"));
            let d = s.spawn(move || record_index(r, "fixtures/multi-docker", "v1"));
            let e = s.spawn(move || {
                (0..3)
                    .map(|i| record_image(r, "fixtures/many-tags", &format!("t{i:03}")))
                    .collect::<Vec<_>>()
            });
            let f = s.spawn(move || record_image(r, "fixtures/repo-000", "v1"));
            fn j<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
            }
            (j(a), j(b), j(c), j(d), j(e), j(f))
        });
    let t_record = t0.elapsed();

    // Sanity: what skopeo pushed with --preserve-digests is byte-identical to the layout.
    assert_eq!(
        oci_image.digest, oci.digest,
        "fixtures/oci:v1 digest changed in transit"
    );
    assert_eq!(
        oci_index.digest, mo_index.digest,
        "fixtures/multi-oci:v1 digest changed"
    );
    assert_eq!(oci_image.media_type, raw::OCI_MANIFEST);
    assert_eq!(
        docker_image.media_type,
        raw::DOCKER_MANIFEST,
        "skopeo --format v2s2"
    );
    assert_eq!(oci_index.media_type, raw::OCI_INDEX);
    assert_eq!(
        docker_list.media_type,
        raw::DOCKER_LIST,
        "skopeo --all --format v2s2"
    );

    // many-tags: t003..t299 by raw PUT of the same bytes.
    let url = registry.url();
    let mt_tags: Vec<String> = (0..MANY_TAGS).map(|i| format!("t{i:03}")).collect();
    parallel_chunks(&mt_tags[3..], 2, |tag| {
        let n: usize = tag[1..].parse().unwrap();
        let img = &mt_images[n % 3];
        raw::raw_put_manifest_ok(
            &url,
            "fixtures/many-tags",
            tag,
            &img.media_type,
            &img.manifest,
        );
    });
    let t_tags = t0.elapsed();

    // many-repos: repo-001..repo-259 by cross-repo mount of config+layers, then manifest PUT.
    let repos: Vec<String> = (0..MANY_REPOS)
        .map(|i| format!("fixtures/repo-{i:03}"))
        .collect();
    parallel_chunks(&repos[1..], 4, |repo| {
        let mut digests = vec![repo_image.config.digest.clone()];
        digests.extend(repo_image.layers.iter().map(|l| l.digest.clone()));
        for d in &digests {
            raw::raw_mount_blob(&url, repo, d, &repo_image.repo)
                .expect_status(201, &format!("mount {d} into {repo}"));
        }
        raw::raw_put_manifest_ok(
            &url,
            repo,
            "v1",
            &repo_image.media_type,
            &repo_image.manifest,
        );
    });
    let seed_time = t0.elapsed();
    if std::env::var_os("DOCKREG_TEST_VERBOSE").is_some() {
        eprintln!(
            "fixture seeded in {seed_time:?} (skopeo pushes done at {t_push:?}, records at \
             {t_record:?}, many-tags at {t_tags:?})"
        );
    }

    Fixture {
        registry,
        oci_image,
        docker_image,
        oci_index,
        docker_list,
        many_tags: ManyTags {
            repo: "fixtures/many-tags".into(),
            tags: mt_tags,
            images: mt_images,
        },
        many_repos: ManyRepos {
            repos,
            tag: "v1".into(),
            image: repo_image,
        },
        seed_time,
    }
}

/// Runs `f` over `items` on `threads` threads.
fn parallel_chunks<T: Sync>(items: &[T], threads: usize, f: impl Fn(&T) + Sync) {
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| {
                let f = &f;
                s.spawn(move || c.iter().for_each(f))
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

fn fetch_blob(registry: &TestRegistry, repo: &str, desc: &Value) -> Blob {
    let digest = desc["digest"]
        .as_str()
        .expect("descriptor digest")
        .to_string();
    let size = desc["size"].as_u64().expect("descriptor size");
    let media_type = desc["mediaType"].as_str().unwrap_or_default().to_string();
    let data = raw::raw_get_blob(&registry.url(), repo, &digest);
    assert_eq!(
        sha256_digest(&data),
        digest,
        "blob {repo}@{digest}: content does not match digest"
    );
    assert_eq!(
        data.len() as u64,
        size,
        "blob {repo}@{digest}: size differs from descriptor"
    );
    Blob {
        digest,
        size,
        media_type,
        data,
    }
}

/// Record of the image at `repo:tag` (or `repo@sha256:...` when `reference` is a digest;
/// the record's tag is then empty).
pub fn record_image(registry: &TestRegistry, repo: &str, reference: &str) -> ImageRecord {
    let is_digest = reference.starts_with("sha256:");
    let sep = if is_digest { '@' } else { ':' };
    let manifest = skopeo_raw(&registry.docker_ref(&format!("{repo}{sep}{reference}")));
    record_from_manifest(
        registry,
        repo,
        if is_digest { "" } else { reference },
        manifest,
    )
}

fn record_from_manifest(
    registry: &TestRegistry,
    repo: &str,
    tag: &str,
    manifest: Vec<u8>,
) -> ImageRecord {
    let digest = sha256_digest(&manifest);
    let m: Value = serde_json::from_slice(&manifest).expect("manifest JSON");
    let media_type = m["mediaType"]
        .as_str()
        .expect("manifest mediaType")
        .to_string();
    let config = fetch_blob(registry, repo, &m["config"]);
    let layers: Vec<Blob> = m["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|d| fetch_blob(registry, repo, d))
        .collect();
    let cfg: Value = serde_json::from_slice(&config.data).expect("config JSON");
    let diff_ids = cfg["rootfs"]["diff_ids"]
        .as_array()
        .expect("diff_ids")
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    ImageRecord {
        repo: repo.to_string(),
        tag: tag.to_string(),
        digest,
        media_type,
        manifest,
        config,
        layers,
        diff_ids,
        platform: Platform::from_json(&cfg),
    }
}

/// Record of the index/list at `repo:tag` and all its children.
pub fn record_index(registry: &TestRegistry, repo: &str, tag: &str) -> IndexRecord {
    let manifest = skopeo_raw(&registry.docker_ref(&format!("{repo}:{tag}")));
    let digest = sha256_digest(&manifest);
    let m: Value = serde_json::from_slice(&manifest).expect("index JSON");
    let media_type = m["mediaType"]
        .as_str()
        .expect("index mediaType")
        .to_string();
    let children = m["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|d| {
            let child = record_image(registry, repo, d["digest"].as_str().expect("child digest"));
            assert_eq!(
                child.platform,
                Platform::from_json(&d["platform"]),
                "{repo}:{tag}: child platform in the list differs from its config"
            );
            child
        })
        .collect();
    IndexRecord {
        repo: repo.to_string(),
        tag: tag.to_string(),
        digest,
        media_type,
        manifest,
        children,
    }
}

/// Cross-check used by tests: `skopeo inspect --format {{.Digest}}` of `repo_ref` in `registry`.
pub fn skopeo_digest_of(registry: &TestRegistry, repo_ref: &str) -> String {
    skopeo_inspect_digest(&registry.docker_ref(repo_ref))
}

//! Conformance of [`Reference`] parsing with `github.com/distribution/reference` v0.6, the module
//! Docker and containerd parse image references with.
//!
//! Each table below transcribes one upstream test table (the file and function are named above
//! it): input, then either the parts dockreg must produce or a fragment of the reason it must
//! give when refusing. The upstream tables are not copied; they are restated here as cases.
//!
//! dockreg always normalises, like upstream's `ParseNormalizedNamed`. Upstream tables that test
//! the un-normalised `Parse`, `WithName` or a bare regular expression are restated with what
//! `ParseNormalizedNamed` gives for the same input (by normalize.go's `splitDockerDomain`): a
//! first component without `.` or `:` that is not `localhost` and is all lower case is not a
//! registry, so `test_com` is `docker.io/library/test_com`. Where dockreg deliberately differs
//! from upstream (see the `dockreg::reference` module documentation), the case says so.

use dockreg::reference::parse_registry;
use dockreg::{Digest, Error, Reference, split_image};

/// What one input must give.
enum Want {
    /// Accepted, with these parts.
    Parts {
        registry: String,
        repository: String,
        tag: Option<String>,
        digest: Option<String>,
    },
    /// Refused with `Error::InvalidReference` whose reason contains this.
    Refused(&'static str),
}

struct Case {
    input: String,
    want: Want,
}

fn ok(
    input: impl Into<String>,
    registry: &str,
    repository: impl Into<String>,
    tag: Option<&str>,
    digest: Option<&str>,
) -> Case {
    Case {
        input: input.into(),
        want: Want::Parts {
            registry: registry.to_string(),
            repository: repository.into(),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        },
    }
}

fn refused(input: impl Into<String>, fragment: &'static str) -> Case {
    Case {
        input: input.into(),
        want: Want::Refused(fragment),
    }
}

/// Checks every case and reports all mismatches at once.
fn check(table: &str, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for Case { input, want } in &cases {
        let got = input.parse::<Reference>();
        match (want, got) {
            (
                Want::Parts {
                    registry,
                    repository,
                    tag,
                    digest,
                },
                Ok(r),
            ) => {
                let parts = (
                    r.registry(),
                    r.path(),
                    r.tag(),
                    r.digest().map(Digest::as_str),
                );
                let wanted = (
                    registry.as_str(),
                    repository.as_str(),
                    tag.as_deref(),
                    digest.as_deref(),
                );
                if parts != wanted {
                    failures.push(format!("{input:?}: got {parts:?}, want {wanted:?}"));
                }
                // Whatever parses prints as text that parses back to the same reference.
                match r.to_string().parse::<Reference>() {
                    Ok(again) if again == r => {}
                    other => failures.push(format!("{input:?}: {r} parses back as {other:?}")),
                }
            }
            (Want::Parts { .. }, Err(e)) => failures.push(format!("{input:?}: refused: {e}")),
            (Want::Refused(fragment), Err(Error::InvalidReference { reason, .. })) => {
                if !reason.contains(fragment) {
                    failures.push(format!("{input:?}: reason {reason:?} lacks {fragment:?}"));
                }
            }
            (Want::Refused(_), Err(e)) => failures.push(format!("{input:?}: wrong error {e:?}")),
            (Want::Refused(_), Ok(r)) => failures.push(format!("{input:?}: accepted as {r}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{table}: {} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

const HUB: &str = "docker.io";
const F64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

fn sha256_f() -> String {
    format!("sha256:{F64}")
}

/// reference_test.go, TestReferenceParse (upstream `Parse`; parts as `ParseNormalizedNamed`).
#[test]
fn reference_test_parse() {
    let d = sha256_f();
    let sha512_f = format!("sha512:{F64}{F64}");
    check(
        "reference_test.go TestReferenceParse",
        vec![
            ok("test_com", HUB, "library/test_com", None, None),
            ok("test.com:tag", HUB, "library/test.com", Some("tag"), None),
            ok("test.com:5000", HUB, "library/test.com", Some("5000"), None),
            ok("test.com/repo:tag", "test.com", "repo", Some("tag"), None),
            ok("test:5000/repo", "test:5000", "repo", None, None),
            ok("test:5000/repo:tag", "test:5000", "repo", Some("tag"), None),
            ok(
                format!("test:5000/repo@{d}"),
                "test:5000",
                "repo",
                None,
                Some(&d),
            ),
            ok(
                format!("test:5000/repo:tag@{d}"),
                "test:5000",
                "repo",
                Some("tag"),
                Some(&d),
            ),
            refused("", "empty reference"),
            refused(":justtag", "missing repository name"),
            refused(format!("@{d}"), "missing repository name"),
            // digest.ErrDigestInvalidLength
            refused(
                "repo@sha256:ffffffffffffffffffffffffffffffffff",
                "has 64 hex digits, got 34",
            ),
            // digest.ErrDigestUnsupported
            refused(
                format!("validname@invaliddigest:{F64}"),
                "unsupported digest algorithm",
            ),
            // ErrNameContainsUppercase
            refused("Uppercase:tag", "repository name must be lowercase"),
            // Upstream leaves this commented out ("Uppercase" is read as a domain); so does dockreg.
            ok(
                "Uppercase/lowercase:tag",
                "Uppercase",
                "lowercase",
                Some("tag"),
                None,
            ),
            refused(
                "test:5000/Uppercase/lowercase:tag",
                "repository name must be lowercase",
            ),
            ok(
                "lowercase:Uppercase",
                HUB,
                "library/lowercase",
                Some("Uppercase"),
                None,
            ),
            // ErrNameTooLong: only the path counts (PR #9, in v0.6).
            refused(
                format!("domain/{}:tag", "a".repeat(256)),
                "must not be more than 255 characters",
            ),
            ok(
                format!("{}a:tag-puts-this-over-max", "a/".repeat(127)),
                HUB,
                format!("{}a", "a/".repeat(127)),
                Some("tag-puts-this-over-max"),
                None,
            ),
            // Before v0.6 this was the too-long case; normalised, its path is 257 characters.
            refused(
                format!("{}a:tag", "a/".repeat(128)),
                "must not be more than 255 characters",
            ),
            refused("aa/asdf$$^/aa", "invalid path component"),
            ok(
                "sub-dom1.foo.com/bar/baz/quux",
                "sub-dom1.foo.com",
                "bar/baz/quux",
                None,
                None,
            ),
            ok(
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
                "sub-dom1.foo.com",
                "bar/baz/quux",
                Some("some-long-tag"),
                None,
            ),
            ok(
                "b.gcr.io/test.example.com/my-app:test.example.com",
                "b.gcr.io",
                "test.example.com/my-app",
                Some("test.example.com"),
                None,
            ),
            ok(
                "xn--n3h.com/myimage:xn--n3h.com",
                "xn--n3h.com",
                "myimage",
                Some("xn--n3h.com"),
                None,
            ),
            ok(
                format!("xn--7o8h.com/myimage:xn--7o8h.com@{sha512_f}"),
                "xn--7o8h.com",
                "myimage",
                Some("xn--7o8h.com"),
                Some(&sha512_f),
            ),
            ok(
                "foo_bar.com:8080",
                HUB,
                "library/foo_bar.com",
                Some("8080"),
                None,
            ),
            ok(
                "foo/foo_bar.com:8080",
                HUB,
                "foo/foo_bar.com",
                Some("8080"),
                None,
            ),
            ok("192.168.1.1", HUB, "library/192.168.1.1", None, None),
            ok(
                "192.168.1.1:tag",
                HUB,
                "library/192.168.1.1",
                Some("tag"),
                None,
            ),
            ok(
                "192.168.1.1:5000",
                HUB,
                "library/192.168.1.1",
                Some("5000"),
                None,
            ),
            ok("192.168.1.1/repo", "192.168.1.1", "repo", None, None),
            ok(
                "192.168.1.1:5000/repo",
                "192.168.1.1:5000",
                "repo",
                None,
                None,
            ),
            ok(
                "192.168.1.1:5000/repo:5050",
                "192.168.1.1:5000",
                "repo",
                Some("5050"),
                None,
            ),
            refused("[2001:db8::1]", "invalid path component"),
            refused("[2001:db8::1]:5000", "invalid path component"),
            refused("[2001:db8::1]:tag", "invalid path component"),
            ok("[2001:db8::1]/repo", "[2001:db8::1]", "repo", None, None),
            ok(
                "[2001:db8:1:2:3:4:5:6]/repo:tag",
                "[2001:db8:1:2:3:4:5:6]",
                "repo",
                Some("tag"),
                None,
            ),
            ok(
                "[2001:db8::1]:5000/repo",
                "[2001:db8::1]:5000",
                "repo",
                None,
                None,
            ),
            ok(
                "[2001:db8::1]:5000/repo:tag",
                "[2001:db8::1]:5000",
                "repo",
                Some("tag"),
                None,
            ),
            ok(
                format!("[2001:db8::1]:5000/repo@{d}"),
                "[2001:db8::1]:5000",
                "repo",
                None,
                Some(&d),
            ),
            ok(
                format!("[2001:db8::1]:5000/repo:tag@{d}"),
                "[2001:db8::1]:5000",
                "repo",
                Some("tag"),
                Some(&d),
            ),
            ok(
                "[2001:db8::]:5000/repo",
                "[2001:db8::]:5000",
                "repo",
                None,
                None,
            ),
            ok("[::1]:5000/repo", "[::1]:5000", "repo", None, None),
            refused("[fe80::1%eth0]:5000/repo", "only hex digits and ':'"),
            // The first '@' starts the digest, leaving "[fe80::1%" as the name.
            refused("[fe80::1%@invalidzone]:5000/repo", "invalid path component"),
            ok(
                format!("example.com/{}:tag", "a".repeat(255)),
                "example.com",
                "a".repeat(255),
                Some("tag"),
                None,
            ),
        ],
    );
}

/// reference_test.go, TestWithNameFailure and TestDomainAndPath (upstream `WithName`, a name
/// without tag or digest; parts as `ParseNormalizedNamed`).
#[test]
fn reference_test_with_name() {
    check(
        "reference_test.go TestWithNameFailure",
        vec![
            refused("", "empty reference"),
            refused(":justtag", "missing repository name"),
            refused(format!("@{}", sha256_f()), "missing repository name"),
            refused(
                format!("validname@invaliddigest:{F64}"),
                "unsupported digest algorithm",
            ),
            refused(
                format!("example.com/{}", "a".repeat(256)),
                "must not be more than 255 characters",
            ),
            refused("aa/asdf$$^/aa", "invalid path component"),
        ],
    );
    // WithName also refuses "example.com/repo:tag" for holding a tag; as a reference it has one.
    let r: Reference = "example.com/repo:tag".parse().unwrap();
    assert_eq!(r.tag(), Some("tag"));

    check(
        "reference_test.go TestDomainAndPath",
        vec![
            ok("test.com/foo", "test.com", "foo", None, None),
            ok("test_com/foo", HUB, "test_com/foo", None, None),
            ok("test:8080/foo", "test:8080", "foo", None, None),
            ok("test.com:8080/foo", "test.com:8080", "foo", None, None),
            ok("test-com:8080/foo", "test-com:8080", "foo", None, None),
            ok(
                "xn--n3h.com:18080/foo",
                "xn--n3h.com:18080",
                "foo",
                None,
                None,
            ),
        ],
    );
}

/// reference_test.go, TestSerialization (the values round-tripped through JSON).
#[test]
fn reference_test_serialization() {
    let d = "sha256:1234567890098765432112345667890098765432112345667890098765432112";
    check(
        "reference_test.go TestSerialization",
        vec![
            refused("", "empty reference"),
            ok(
                "example.com:8000/named",
                "example.com:8000",
                "named",
                None,
                None,
            ),
            ok(
                "example.com:8000/named:tagged",
                "example.com:8000",
                "named",
                Some("tagged"),
                None,
            ),
            ok(
                format!("other.com/named@{d}"),
                "other.com",
                "named",
                None,
                Some(d),
            ),
        ],
    );
}

/// reference_test.go, TestWithTag, the cases without a digest. The cases with a digest use a
/// 37-digit `sha256:` value, which upstream's `WithDigest` takes unchecked but `digest.Parse`
/// (and dockreg's [`Digest`]) refuse; they cannot be built here.
#[test]
fn reference_test_with_tag() {
    for (name, tag, combined) in [
        ("test.com/foo", "tag", "test.com/foo:tag"),
        ("foo", "tag2", "docker.io/library/foo:tag2"),
        ("test.com:8000/foo", "tag4", "test.com:8000/foo:tag4"),
        ("test.com:8000/foo", "TAG5", "test.com:8000/foo:TAG5"),
    ] {
        let named: Reference = name.parse().unwrap();
        assert_eq!(named.with_tag(tag).unwrap().to_string(), combined);
    }
    let short = "sha256:1234567890098765432112345667890098765";
    assert!(short.parse::<Digest>().is_err());
}

/// reference_test.go, TestParseNamed: `ParseNamed` accepts exactly the inputs that are already
/// in normalised form, which for dockreg is "prints as itself".
#[test]
fn reference_test_parse_named() {
    for (input, canonical) in [
        ("test.com/foo", true),
        ("test:8080/foo", true),
        ("test_com/foo", false),
        ("test.com", false),
        ("foo", false),
        ("library/foo", false),
        ("docker.io/library/foo", true),
        ("docker.io/foo", false),
    ] {
        let r: Reference = input.parse().unwrap();
        assert_eq!(r.to_string() == input, canonical, "{input}: {r}");
    }
}

/// normalize_test.go, TestValidateReferenceName.
#[test]
fn normalize_test_validate_reference_name() {
    let valid = [
        "docker/docker",
        "library/debian",
        "debian",
        "docker.io/docker/docker",
        "docker.io/library/debian",
        "docker.io/debian",
        "index.docker.io/docker/docker",
        "index.docker.io/library/debian",
        "index.docker.io/debian",
        "127.0.0.1:5000/docker/docker",
        "127.0.0.1:5000/library/debian",
        "127.0.0.1:5000/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        // With a registry, 64 hex digits are a repository name, not an image ID.
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "Docker/docker",
        "DOCKER/docker",
    ];
    for input in valid {
        let r = input.parse::<Reference>();
        assert!(r.is_ok(), "{input}: {r:?}");
    }
    check(
        "normalize_test.go TestValidateReferenceName (invalid)",
        vec![
            refused("https://github.com/docker/docker", "invalid port"),
            refused("docker/Docker", "must be lowercase"),
            refused("-docker", "invalid path component"),
            refused("-docker/docker", "invalid path component"),
            refused("-docker.io/docker/docker", "invalid domain"),
            refused("docker///docker", "empty path component"),
            refused("docker.io/docker/Docker", "must be lowercase"),
            refused("docker.io/docker///docker", "empty path component"),
            refused("[fc00::1]", "invalid path component"),
            refused("[fc00::1]:5000", "invalid path component"),
            refused("fc00::1:5000/debian", "invalid port"),
            refused("[fe80::1%eth0]:5000/debian", "invalid domain"),
            refused("[2001:db8:3:4::192.0.2.33]:5000/debian", "no dotted IPv4"),
            refused(
                "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
                "image ID",
            ),
        ],
    );
}

/// normalize_test.go, TestValidateRemoteName.
#[test]
fn normalize_test_validate_remote_name() {
    check(
        "normalize_test.go TestValidateRemoteName",
        vec![
            ok("docker/docker", HUB, "docker/docker", None, None),
            ok(
                "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
                HUB,
                "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
                None,
                None,
            ),
            ok(
                "docker-rules/docker",
                HUB,
                "docker-rules/docker",
                None,
                None,
            ),
            ok(
                "docker---rules/docker",
                HUB,
                "docker---rules/docker",
                None,
                None,
            ),
            ok("doc/docker", HUB, "doc/docker", None, None),
            ok("d/docker", HUB, "d/docker", None, None),
            ok("jess/t", HUB, "jess/t", None, None),
            ok("dock__er/docker", HUB, "dock__er/docker", None, None),
            refused("docker/Docker", "must be lowercase"),
            refused("docker///docker", "empty path component"),
            refused(
                "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
                "image ID",
            ),
            refused("-docker/docker", "invalid path component"),
            refused("docker-/docker", "invalid path component"),
            refused("-docker-/docker", "invalid path component"),
            refused("____/____", "invalid path component"),
            refused("_docker/_docker", "invalid path component"),
            // A '.' makes the first component a registry, as in splitDockerDomain.
            refused("dock..er/docker", "invalid domain"),
            refused("dock_.er/docker", "invalid domain"),
            refused("dock-.er/docker", "invalid domain"),
            refused("docker/", "empty path component"),
            refused(
                format!(
                    "{}/docker",
                    ["this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255"; 4]
                        .join("_")
                ),
                "must not be more than 255 characters",
            ),
        ],
    );
}

/// normalize_test.go, TestParseRepositoryInfo: the familiar, full and ambiguous spellings of
/// each name give the same domain, remote name and full name.
#[test]
fn normalize_test_parse_repository_info() {
    // (remote name, familiar name, full name, ambiguous name or "", domain)
    let cases = [
        (
            "fooo/bar",
            "fooo/bar",
            "docker.io/fooo/bar",
            "index.docker.io/fooo/bar",
            "docker.io",
        ),
        (
            "library/ubuntu",
            "ubuntu",
            "docker.io/library/ubuntu",
            "library/ubuntu",
            "docker.io",
        ),
        (
            "nonlibrary/ubuntu",
            "nonlibrary/ubuntu",
            "docker.io/nonlibrary/ubuntu",
            "",
            "docker.io",
        ),
        (
            "other/library",
            "other/library",
            "docker.io/other/library",
            "",
            "docker.io",
        ),
        (
            "private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "privatebase",
            "127.0.0.1:8000/privatebase",
            "127.0.0.1:8000/privatebase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "private/moonbase",
            "example.com/private/moonbase",
            "example.com/private/moonbase",
            "",
            "example.com",
        ),
        (
            "privatebase",
            "example.com/privatebase",
            "example.com/privatebase",
            "",
            "example.com",
        ),
        (
            "private/moonbase",
            "example.com:8000/private/moonbase",
            "example.com:8000/private/moonbase",
            "",
            "example.com:8000",
        ),
        (
            "privatebasee",
            "example.com:8000/privatebasee",
            "example.com:8000/privatebasee",
            "",
            "example.com:8000",
        ),
        (
            "library/ubuntu-12.04-base",
            "ubuntu-12.04-base",
            "docker.io/library/ubuntu-12.04-base",
            "index.docker.io/library/ubuntu-12.04-base",
            "docker.io",
        ),
        (
            "library/foo",
            "foo",
            "docker.io/library/foo",
            "docker.io/foo",
            "docker.io",
        ),
        (
            "library/foo/bar",
            "library/foo/bar",
            "docker.io/library/foo/bar",
            "",
            "docker.io",
        ),
        (
            "store/foo/bar",
            "store/foo/bar",
            "docker.io/store/foo/bar",
            "",
            "docker.io",
        ),
        ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
        ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
    ];
    let mut table = Vec::new();
    for (remote, familiar, full, ambiguous, domain) in cases {
        for input in [familiar, full, ambiguous] {
            if !input.is_empty() {
                table.push(ok(input, domain, remote, None, None));
                let r: Reference = input.parse().unwrap();
                assert_eq!(r.to_string(), full, "{input}");
            }
        }
    }
    check("normalize_test.go TestParseRepositoryInfo", table);
}

/// normalize_test.go, TestParseReferenceWithTagAndDigest and TestInvalidReferenceComponents.
#[test]
fn normalize_test_tag_and_digest_and_invalid_components() {
    let short =
        "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    let r: Reference = short.parse().unwrap();
    assert_eq!(r.to_string(), format!("docker.io/library/{short}"));
    assert_eq!(r.tag(), Some("latest"));
    assert!(r.digest().is_some());

    check(
        "normalize_test.go TestInvalidReferenceComponents",
        vec![refused("-foo", "invalid path component")],
    );
    let busybox: Reference = "busybox".parse().unwrap();
    assert!(matches!(
        busybox.with_tag("-foo"),
        Err(Error::InvalidReference { .. })
    ));
    assert!("foo".parse::<Digest>().is_err());
}

/// normalize_test.go, TestParseAnyReference. dockreg has no digest-only references: the two
/// cases upstream reads as digests are read as `ParseNormalizedNamed` reads them.
#[test]
fn normalize_test_parse_any_reference() {
    let hex = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
    let d = format!("sha256:{hex}");
    check(
        "normalize_test.go TestParseAnyReference",
        vec![
            ok("redis", HUB, "library/redis", None, None),
            ok("redis:latest", HUB, "library/redis", Some("latest"), None),
            ok(
                "docker.io/library/redis:latest",
                HUB,
                "library/redis",
                Some("latest"),
                None,
            ),
            ok(format!("redis@{d}"), HUB, "library/redis", None, Some(&d)),
            ok(
                format!("docker.io/library/redis@{d}"),
                HUB,
                "library/redis",
                None,
                Some(&d),
            ),
            ok("dmcgowan/myapp", HUB, "dmcgowan/myapp", None, None),
            ok(
                "dmcgowan/myapp:latest",
                HUB,
                "dmcgowan/myapp",
                Some("latest"),
                None,
            ),
            ok(
                "docker.io/mcgowan/myapp:latest",
                HUB,
                "mcgowan/myapp",
                Some("latest"),
                None,
            ),
            ok(
                format!("dmcgowan/myapp@{d}"),
                HUB,
                "dmcgowan/myapp",
                None,
                Some(&d),
            ),
            ok(
                format!("docker.io/dmcgowan/myapp@{d}"),
                HUB,
                "dmcgowan/myapp",
                None,
                Some(&d),
            ),
            // Upstream: a digest reference. ParseNormalizedNamed (and dockreg): an image ID.
            refused(hex, "image ID"),
            // Upstream: a digest reference. ParseNormalizedNamed (and dockreg): name and tag.
            ok(d.clone(), HUB, "library/sha256", Some(hex), None),
            ok(
                &hex[..63],
                HUB,
                format!("library/{}", &hex[..63]),
                None,
                None,
            ),
            ok("dbcc1", HUB, "library/dbcc1", None, None),
        ],
    );
}

/// normalize_test.go, TestNormalizedSplitHostname.
#[test]
fn normalize_test_split_hostname() {
    check(
        "normalize_test.go TestNormalizedSplitHostname",
        vec![
            ok("test.com/foo", "test.com", "foo", None, None),
            ok("test_com/foo", HUB, "test_com/foo", None, None),
            ok("docker/migrator", HUB, "docker/migrator", None, None),
            ok("test.com:8080/foo", "test.com:8080", "foo", None, None),
            ok("test-com:8080/foo", "test-com:8080", "foo", None, None),
            ok("foo", HUB, "library/foo", None, None),
            ok("xn--n3h.com/foo", "xn--n3h.com", "foo", None, None),
            ok(
                "xn--n3h.com:18080/foo",
                "xn--n3h.com:18080",
                "foo",
                None,
                None,
            ),
            ok("docker.io/foo", HUB, "library/foo", None, None),
            ok("docker.io/library/foo", HUB, "library/foo", None, None),
            ok(
                "docker.io/library/foo/bar",
                HUB,
                "library/foo/bar",
                None,
                None,
            ),
        ],
    );
}

/// normalize_test.go, TestParseDockerRef: what is fetched. dockreg keeps the tag beside the
/// digest but requests by the digest, and requests `latest` when neither is given.
#[test]
fn normalize_test_parse_docker_ref() {
    let d = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
    let cases = [
        (
            "busybox".to_string(),
            "docker.io/library/busybox:latest".to_string(),
        ),
        (
            "busybox:latest".into(),
            "docker.io/library/busybox:latest".into(),
        ),
        (
            format!("busybox@{d}"),
            format!("docker.io/library/busybox@{d}"),
        ),
        (
            "library/busybox".into(),
            "docker.io/library/busybox:latest".into(),
        ),
        (
            "docker.io/busybox".into(),
            "docker.io/library/busybox:latest".into(),
        ),
        (
            "docker.io/library/busybox".into(),
            "docker.io/library/busybox:latest".into(),
        ),
        (
            "docker.io/busybox:latest".into(),
            "docker.io/library/busybox:latest".into(),
        ),
        (
            "library/busybox:latest".into(),
            "docker.io/library/busybox:latest".into(),
        ),
        (
            "docker.io/library/busybox:latest".into(),
            "docker.io/library/busybox:latest".into(),
        ),
        (
            "gcr.io/library/busybox".into(),
            "gcr.io/library/busybox:latest".into(),
        ),
        (
            format!("gcr.io/library/busybox:latest@{d}"),
            format!("gcr.io/library/busybox@{d}"),
        ),
    ];
    for (input, expected) in cases {
        let r: Reference = input.parse().unwrap();
        let sep = if r.digest().is_some() { '@' } else { ':' };
        let fetched = format!("{}{sep}{}", r.name(), r.manifest_reference());
        assert_eq!(fetched, expected, "{input}");
        // split_image's third part is the same, except that an absent tag stays "".
        let (registry, repository, last) = split_image(&input).unwrap();
        assert_eq!(format!("{registry}/{repository}"), r.name());
        if r.tag().is_some() || r.digest().is_some() {
            assert_eq!(last, r.manifest_reference(), "{input}");
        } else {
            assert_eq!(last, "", "{input}");
        }
        // The expected output is itself a valid reference.
        assert!(expected.parse::<Reference>().is_ok(), "{expected}");
    }
}

/// regexp_test.go, TestDomainRegexp (a registry alone, through `parse_registry`, and as the
/// first component of a reference when Docker would read it as one).
#[test]
fn regexp_test_domain() {
    // (domain, upstream matches, dockreg accepts)
    let cases = [
        ("test.com", true, true),
        ("test.com:10304", true, true),
        ("test.com:http", false, false),
        ("localhost", true, true),
        ("localhost:8080", true, true),
        ("a", true, true),
        ("a.b", true, true),
        ("ab.cd.com", true, true),
        ("a-b.com", true, true),
        ("-ab.com", false, false),
        ("ab-.com", false, false),
        ("ab.c-om", true, true),
        ("ab.-com", false, false),
        ("ab.com-", false, false),
        ("0101.com", true, true),
        ("001a.com", true, true),
        ("b.gbc.io:443", true, true),
        ("b.gbc.io", true, true),
        ("xn--n3h.com", true, true),
        ("Asdf.com", true, true),
        // Deliberate difference: ports above 65535 are refused (upstream: "it will fail on
        // validation").
        ("192.168.1.1:75050", true, false),
        ("192.168.1.1:750050", true, false),
        ("[fd00:1:2::3]:75050", true, false),
        ("[fd00:1:2::3]75050", false, false),
        ("[fd00:1:2::3]::75050", false, false),
        ("[fd00:1:2::3%eth0]:75050", false, false),
        // Deliberate difference: not an IPv6 address (upstream: "will fail in validation").
        ("[fd00123123123]:75050", true, false),
        (
            "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050",
            true,
            false,
        ),
        (
            "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505",
            true,
            false,
        ),
        ("fd00:1:2::3:75050", false, false),
        // The same hosts with ports dockreg accepts.
        ("192.168.1.1:7505", true, true),
        ("[fd00:1:2::3]:7505", true, true),
        ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:7505", true, true),
    ];
    let mut failures = Vec::new();
    for (domain, upstream, accepts) in cases {
        let got = parse_registry(domain);
        match (&got, accepts) {
            (Ok(r), true) if r == domain => {}
            (Err(Error::InvalidReference { .. }), false) => {}
            _ => failures.push(format!(
                "{domain:?} (upstream {upstream}): parse_registry gave {got:?}"
            )),
        }
        let as_registry = domain.contains(['.', ':']) || domain == "localhost";
        if as_registry {
            let reference = format!("{domain}/x");
            match (reference.parse::<Reference>(), accepts) {
                (Ok(r), true) if r.registry() == domain => {}
                (Err(Error::InvalidReference { .. }), false) => {}
                (other, _) => failures.push(format!("{reference:?}: {other:?}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// regexp_test.go, TestFullNameRegexp (a name without tag or digest). A match is a reference
/// with no tag and no digest; parts as `ParseNormalizedNamed`.
#[test]
fn regexp_test_full_name() {
    let mut table = vec![
        refused("", "empty reference"),
        ok("short", HUB, "library/short", None, None),
        ok("simple/name", HUB, "simple/name", None, None),
        ok("library/ubuntu", HUB, "library/ubuntu", None, None),
        ok(
            "docker/stevvooe/app",
            HUB,
            "docker/stevvooe/app",
            None,
            None,
        ),
        ok(
            "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb",
            HUB,
            "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb",
            None,
            None,
        ),
        ok("aa/aa/bb/bb/bb", HUB, "aa/aa/bb/bb/bb", None, None),
        ok("a/a/a/a", HUB, "a/a/a/a", None, None),
        refused("a/a/a/a/", "empty path component"),
        refused("a//a/a", "empty path component"),
        ok("a", HUB, "library/a", None, None),
        ok("a/aa", HUB, "a/aa", None, None),
        ok("a/aa/a", HUB, "a/aa/a", None, None),
        ok("foo.com", HUB, "library/foo.com", None, None),
        refused("foo.com/", "missing repository name after the registry"),
        ok("foo.com:8080/bar", "foo.com:8080", "bar", None, None),
        refused("foo.com:http/bar", "invalid port"),
        ok("foo.com/bar", "foo.com", "bar", None, None),
        ok("foo.com/bar/baz", "foo.com", "bar/baz", None, None),
        ok("localhost:8080/bar", "localhost:8080", "bar", None, None),
        ok(
            "sub-dom1.foo.com/bar/baz/quux",
            "sub-dom1.foo.com",
            "bar/baz/quux",
            None,
            None,
        ),
        ok(
            "blog.foo.com/bar/baz",
            "blog.foo.com",
            "bar/baz",
            None,
            None,
        ),
        refused("a^a", "invalid path component"),
        refused("aa/asdf$$^/aa", "invalid path component"),
        refused("asdf$$^/aa", "invalid path component"),
        ok("aa-a/a", HUB, "aa-a/a", None, None),
        // Matches the grammar; normalised, the path is 257 characters, over the limit.
        refused(
            format!("{}a", "a/".repeat(128)),
            "must not be more than 255 characters",
        ),
        refused("a-/a/a/a", "invalid path component"),
        refused("foo.com/a-/a/a", "invalid path component"),
        refused("-foo/bar", "invalid path component"),
        refused("foo/bar-", "invalid path component"),
        refused("foo-/bar", "invalid path component"),
        refused("foo/-bar", "invalid path component"),
        refused("_foo/bar", "invalid path component"),
        ok("foo_bar", HUB, "library/foo_bar", None, None),
        ok("foo_bar.com", HUB, "library/foo_bar.com", None, None),
        refused("foo_bar.com:8080/app", "invalid domain"),
        ok("foo.com/foo_bar", "foo.com", "foo_bar", None, None),
        refused("____/____", "invalid path component"),
        refused("_docker/_docker", "invalid path component"),
        refused("docker_/docker_", "invalid path component"),
        ok(
            "b.gcr.io/test.example.com/my-app",
            "b.gcr.io",
            "test.example.com/my-app",
            None,
            None,
        ),
        ok("xn--n3h.com/myimage", "xn--n3h.com", "myimage", None, None),
        ok(
            "xn--7o8h.com/myimage",
            "xn--7o8h.com",
            "myimage",
            None,
            None,
        ),
        ok(
            "example.com/xn--7o8h.com/myimage",
            "example.com",
            "xn--7o8h.com/myimage",
            None,
            None,
        ),
        ok(
            "example.com/some_separator__underscore/myimage",
            "example.com",
            "some_separator__underscore/myimage",
            None,
            None,
        ),
        refused("example.com/__underscore/myimage", "invalid path component"),
        refused("example.com/..dots/myimage", "invalid path component"),
        refused("example.com/.dots/myimage", "invalid path component"),
        refused(
            "example.com/nodouble..dots/myimage",
            "invalid path component",
        ),
        refused("docker./docker", "invalid domain"),
        refused(".docker/docker", "invalid domain"),
        refused("docker-/docker", "invalid path component"),
        refused("-docker/docker", "invalid path component"),
        refused("do..cker/docker", "invalid domain"),
        refused("do__cker:8080/docker", "invalid domain"),
        ok("do__cker/docker", HUB, "do__cker/docker", None, None),
        ok(
            "registry.io/foo/project--id.module--name.ver---sion--name",
            "registry.io",
            "foo/project--id.module--name.ver---sion--name",
            None,
            None,
        ),
        ok("Asdf.com/foo/bar", "Asdf.com", "foo/bar", None, None),
        refused("Foo/FarB", "must be lowercase"),
    ];
    // Upstream's name grammar refuses "foo_bar.com:8080" because a name has no tag; as a
    // reference it is a name and a tag.
    table.push(ok(
        "foo_bar.com:8080",
        HUB,
        "library/foo_bar.com",
        Some("8080"),
        None,
    ));
    check("regexp_test.go TestFullNameRegexp", table);
}

/// regexp_test.go, TestReferenceRegexp.
#[test]
fn regexp_test_reference() {
    let d = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912";
    check(
        "regexp_test.go TestReferenceRegexp",
        vec![
            ok(
                "registry.com:8080/myapp:tag",
                "registry.com:8080",
                "myapp",
                Some("tag"),
                None,
            ),
            ok(
                format!("registry.com:8080/myapp@{d}"),
                "registry.com:8080",
                "myapp",
                None,
                Some(d),
            ),
            ok(
                format!("registry.com:8080/myapp:tag2@{d}"),
                "registry.com:8080",
                "myapp",
                Some("tag2"),
                Some(d),
            ),
            refused(
                "registry.com:8080/myapp@sha256:badbadbadbad",
                "at least 32 hex digits",
            ),
            refused("registry.com:8080/myapp:invalid~tag", "invalid tag"),
            refused("bad_hostname.com:8080/myapp:tag", "invalid domain"),
            // localhost without a '/' is a repository name, and 8080 its tag.
            ok(
                format!("localhost:8080@{d}"),
                HUB,
                "library/localhost",
                Some("8080"),
                Some(d),
            ),
            ok(
                format!("localhost:8080/name@{d}"),
                "localhost:8080",
                "name",
                None,
                Some(d),
            ),
            refused(format!("localhost:http/name@{d}"), "invalid port"),
            ok(
                format!("localhost@{d}"),
                HUB,
                "library/localhost",
                None,
                Some(d),
            ),
            refused("registry.com:8080/myapp@bad", "must be algorithm:hex"),
            refused("registry.com:8080/myapp@2bad", "must be algorithm:hex"),
        ],
    );
}

/// regexp_test.go, TestIdentifierRegexp: only a whole input of 64 lower-case hex digits is an
/// image ID; the other cases are ordinary names.
#[test]
fn regexp_test_identifier() {
    let id = "da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821";
    check(
        "regexp_test.go TestIdentifierRegexp",
        vec![
            refused(id, "image ID"),
            refused(
                "7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C",
                "must be lowercase",
            ),
            ok(&id[..60], HUB, format!("library/{}", &id[..60]), None, None),
            ok(
                format!("sha256:{id}"),
                HUB,
                "library/sha256",
                Some(id),
                None,
            ),
            ok(
                format!("{id}8482"),
                HUB,
                format!("library/{id}8482"),
                None,
                None,
            ),
        ],
    );
}

/// The digest rules behind reference.go's `Parse`: regexp.go's digest grammar, then go-digest's
/// `Parse` with the algorithms Docker registers (sha256, sha384, sha512; algorithm.go).
#[test]
fn digest_rules() {
    let d384 = format!("sha384:{}", "a".repeat(96));
    let d512 = format!("sha512:{}", "b".repeat(128));
    check(
        "reference.go Parse / go-digest algorithm.go",
        vec![
            ok(format!("a@{d384}"), HUB, "library/a", None, Some(&d384)),
            ok(format!("a@{d512}"), HUB, "library/a", None, Some(&d512)),
            refused(format!("a@sha384:{F64}"), "has 96 hex digits, got 64"),
            refused(format!("a@sha512:{F64}"), "has 128 hex digits, got 64"),
            refused(format!("a@sha256:{}", F64.to_uppercase()), "lower case"),
            refused(format!("a@SHA256:{F64}"), "unsupported digest algorithm"),
            refused(
                format!("a@sha256+b64:{F64}"),
                "unsupported digest algorithm",
            ),
            refused(
                format!("a@md5:{}", &F64[..32]),
                "unsupported digest algorithm",
            ),
            refused(format!("a@1sha:{F64}"), "invalid algorithm"),
            refused(format!("a@sha-:{F64}"), "invalid algorithm"),
            refused(format!("a@sha256:{}", &F64[..31]), "at least 32 hex digits"),
            refused(
                format!("a@sha256:{}g", &F64[..63]),
                "at least 32 hex digits",
            ),
            refused("a@", "empty digest"),
            refused(format!("a@sha256:{F64}@x"), "at least 32 hex digits"),
        ],
    );
    // Reference::new applies the same rules to a digest that Digest itself accepts.
    let other: Digest = format!("md5:{}", &F64[..32]).parse().unwrap();
    assert!(matches!(
        Reference::new("x.io", "a", None, Some(other)),
        Err(Error::InvalidReference { .. })
    ));
}

/// Deliberate differences from upstream, each refused with a clear reason.
#[test]
fn deliberate_differences() {
    check(
        "dockreg deliberate differences",
        vec![
            // Upstream: a name with no domain at all, which nothing can pull.
            refused("my_host.com/app", "invalid domain"),
            // Upstream: any digits; here a port must fit in 16 bits.
            refused("host:65536/x", "invalid port"),
            ok("host:65535/x", "host:65535", "x", None, None),
            // Upstream: any hex digits and colons between brackets.
            refused("[::::]/x", "not an IPv6 address"),
            refused("[ABCD]/x", "not an IPv6 address"),
            // Same acceptance as upstream, with reasons of their own.
            refused(" ubuntu", "whitespace"),
            refused("ubuntu\n", "whitespace"),
            refused("ubu\tntu", "control characters"),
        ],
    );
}

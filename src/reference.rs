//! Image references (`[registry/]repository[:tag][@digest]`): parsing, validation and Docker Hub
//! normalisation.
//!
//! The rules are those of `github.com/distribution/reference` v0.6 (the module Docker and
//! containerd use): its `ParseNormalizedNamed`, which is `Parse` after Docker Hub normalisation.
//! They are implemented here by hand:
//!
//! ```text
//! reference      := name [ ":" tag ] [ "@" digest ]
//! name           := [ domain "/" ] path-component ( "/" path-component )*
//! path-component := [a-z0-9]+ ( separator [a-z0-9]+ )*     separator := "." | "_" | "__" | "-"+
//! domain         := host [ ":" port ]                      port := [0-9]+ (at most 65535)
//! host           := domain-component ( "." domain-component )* | "[" [0-9A-Fa-f:]+ "]"
//! domain-component := [A-Za-z0-9] | [A-Za-z0-9] [A-Za-z0-9-]* [A-Za-z0-9]
//! tag            := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest         := algorithm ":" hex                      hex := [0-9a-fA-F]{32,}
//! algorithm      := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
//! ```
//!
//! On top of the grammar, as upstream:
//!
//! - The first `/`-separated component is a registry only when it contains `.` or `:`, is
//!   `localhost`, or has an upper-case letter; otherwise the whole name is a repository on
//!   Docker Hub. A name with no `/` at all (even `localhost` or `example.com`) is a repository
//!   on Docker Hub.
//! - `index.docker.io` is written `docker.io`, and a one-component repository on Docker Hub gets
//!   the `library/` namespace: `ubuntu` is `docker.io/library/ubuntu`.
//! - The repository path must be lower case; the registry may have upper-case letters.
//! - The repository path (after normalisation, so with `library/`) is at most 255 characters;
//!   the registry does not count towards that limit.
//! - A digest must use an algorithm Docker registers, with its exact length of lower-case hex:
//!   `sha256` (64), `sha384` (96) or `sha512` (128).
//! - A whole input of 64 lower-case hex digits is an image ID and is refused as a name.
//!
//! # Deliberate differences from upstream
//!
//! - A port must be a number up to 65535, and a bracketed host must be a real IPv6 address
//!   (upstream's grammar takes any `[0-9]+` port and any run of hex digits and colons between
//!   brackets, leaving both to fail when connecting; its own tests mark them as failing "on
//!   validation").
//! - A first component that contains `.` but is not a valid host, such as `my_host.com/app`, is
//!   refused. Upstream accepts it as a repository path with no registry at all, which names
//!   nothing that can be pulled.
//! - A reference keeps both its tag and its digest, like `ParseNormalizedNamed`; requests use the
//!   digest ([`Reference::manifest_reference`]), as `ParseDockerRef` would. No default tag is
//!   added: an absent tag means `latest` only when a manifest is fetched.
//! - There are no digest-only references (upstream's `ParseAnyReference`); `sha256:<hex>` parses
//!   as repository `library/sha256` with a tag, as `ParseNormalizedNamed` reads it.
//! - Whitespace, control characters and an empty input get their own reasons rather than the
//!   general "invalid reference format".

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::{Error, Result, clip};

/// Canonical name of Docker Hub in references.
const DOCKER_HUB: &str = "docker.io";
/// Old name of Docker Hub, rewritten to [`DOCKER_HUB`].
const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// Where Docker Hub's registry API actually lives.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// Namespace of Docker Hub's official images.
const OFFICIAL_PREFIX: &str = "library/";
/// Manifest reference used when neither a tag nor a digest is given.
const DEFAULT_TAG: &str = "latest";
/// Longest repository path accepted (upstream `RepositoryNameTotalLengthMax`); the registry is
/// not counted, as in distribution/reference since v0.6.
const MAX_PATH_LEN: usize = 255;
/// Longest tag accepted.
const MAX_TAG_LEN: usize = 128;

/// A parsed, validated and normalised image reference such as `docker.io/library/ubuntu:22.04`.
///
/// A reference may carry a tag, a digest, both, or neither. [`Reference::repository`] is the
/// [`Repository`] it is in; [`Reference::path`] that repository's path.
///
/// In JSON it is an object `{"registry", "repository", "tag", "digest"}` (`repository` holds
/// the path, as in the C API; absent parts are `null`); it deserializes from that object or
/// from a reference string, validated either way.
///
/// ```
/// let r: dockreg::Reference = "ubuntu:22.04".parse()?;
/// assert_eq!(r.registry(), "docker.io");
/// assert_eq!(r.path(), "library/ubuntu");
/// assert_eq!(r.repository().to_string(), "docker.io/library/ubuntu");
/// assert_eq!(r.tag(), Some("22.04"));
/// assert_eq!(r.to_string(), "docker.io/library/ubuntu:22.04");
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// A repository on a registry, such as `docker.io/library/ubuntu` or `127.0.0.1:5000/team/app`:
/// a registry and a path, validated and normalised with the same grammar as [`Reference`], and
/// never a tag or a digest.
///
/// Every [`Client`](crate::Client) method that works on a repository (tags, blobs, uploads,
/// configs, instances) takes `&impl AsRef<Repository>`: a `Repository`, or a [`Reference`],
/// whose tag and digest are then not used.
///
/// Its text form (`Display`, `FromStr`, and serde as a JSON string) is `registry/path`.
///
/// ```
/// use dockreg::Repository;
/// let repo: Repository = "ubuntu".parse()?;
/// assert_eq!(repo.registry(), "docker.io");
/// assert_eq!(repo.path(), "library/ubuntu");
/// assert_eq!(repo.to_string(), "docker.io/library/ubuntu");
/// assert_eq!(repo.with_tag("24.04")?.to_string(), "docker.io/library/ubuntu:24.04");
/// // A tag or digest is refused: a repository names no image.
/// assert!("ubuntu:24.04".parse::<Repository>().is_err());
/// // The same rules as references: lower-case paths only.
/// assert!(Repository::new("127.0.0.1:5000", "Team/App").is_err());
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    registry: String,
    path: String,
}

impl Repository {
    /// Builds a repository from a registry (`host[:port]`) and a path, validated and
    /// normalised as [`Reference::new`] does (`index.docker.io` becomes `docker.io`; a
    /// one-component path on Docker Hub gets `library/`).
    ///
    /// # Errors
    /// [`Error::InvalidReference`] when either part breaks the grammar, or when the registry
    /// would be read as a path component (no `.`, no port, not `localhost`).
    pub fn new(registry: &str, path: &str) -> Result<Self> {
        Ok(Reference::new(registry, path, None, None)?.repository)
    }

    /// The registry as host\[:port\], e.g. `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path, e.g. `library/ubuntu`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The host\[:port\] requests go to: `registry-1.docker.io` for Docker Hub, else the
    /// registry.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }

    /// A reference to the image tagged `tag` in this repository.
    ///
    /// # Errors
    /// [`Error::InvalidReference`] when `tag` is not a valid tag.
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        self.reference().with_tag(tag)
    }

    /// A reference to the manifest `digest` in this repository.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        self.reference().with_digest(digest)
    }

    /// This repository as a reference with neither tag nor digest (which fetches `latest`).
    pub fn reference(&self) -> Reference {
        Reference {
            repository: self.clone(),
            tag: None,
            digest: None,
        }
    }
}

impl AsRef<Repository> for Repository {
    fn as_ref(&self) -> &Repository {
        self
    }
}

impl AsRef<Repository> for Reference {
    fn as_ref(&self) -> &Repository {
        &self.repository
    }
}

impl From<Reference> for Repository {
    fn from(r: Reference) -> Self {
        r.repository
    }
}

impl From<Repository> for Reference {
    fn from(r: Repository) -> Self {
        Reference {
            repository: r,
            tag: None,
            digest: None,
        }
    }
}

impl FromStr for Repository {
    type Err = Error;

    /// Parses `[registry/]path` with the reference grammar; a tag or digest is refused.
    fn from_str(s: &str) -> Result<Self> {
        let r: Reference = s.parse()?;
        if r.tag.is_some() || r.digest.is_some() {
            return Err(invalid(
                s,
                "a repository has no tag or digest (give registry/path only)",
            ));
        }
        Ok(r.repository)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Repository({:?})", self.to_string())
    }
}

impl serde::Serialize for Repository {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Repository {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Reference {
    /// Builds a reference from its parts, validating each with the parsing rules.
    ///
    /// The registry is normalised (`index.docker.io` becomes `docker.io`) and a one-component
    /// repository on Docker Hub gets the `library/` prefix. A registry that parsing would read as
    /// a repository path (no `.`, no port, not `localhost`, all lower case) is rejected, so that
    /// the reference's text always parses back to the same reference. For the same reason the
    /// digest must pass the parsing rules too (sha256, sha384 or sha512), which is stricter than
    /// upstream's `WithDigest`: that one checks only the digest grammar.
    pub fn new(
        registry: &str,
        repository: &str,
        tag: Option<&str>,
        digest: Option<Digest>,
    ) -> Result<Self> {
        build(registry, repository, tag, digest).map_err(|reason| {
            let mut input = format!("{registry}/{repository}");
            if let Some(t) = tag {
                input.push(':');
                input.push_str(t);
            }
            invalid(&input, reason)
        })
    }

    /// The registry as host\[:port\], e.g. `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub fn registry(&self) -> &str {
        &self.repository.registry
    }

    /// The repository (registry and path) this reference is in.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The repository path, e.g. `library/ubuntu`.
    pub fn path(&self) -> &str {
        &self.repository.path
    }

    /// The tag, when one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, when one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The host\[:port\] requests go to: `registry-1.docker.io` for Docker Hub, else the registry.
    pub fn api_host(&self) -> &str {
        self.repository.api_host()
    }

    /// What goes after `/manifests/`: the digest if present, else the tag, else `latest`.
    pub fn manifest_reference(&self) -> &str {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.as_str(),
            (None, Some(t)) => t,
            (None, None) => DEFAULT_TAG,
        }
    }

    /// The same repository with tag `tag` and no digest.
    ///
    /// # Errors
    /// [`Error::InvalidReference`] when `tag` is not a valid tag.
    pub fn with_tag(&self, tag: &str) -> Result<Self> {
        check_tag(tag).map_err(|reason| invalid(&format!("{}:{tag}", self.name()), reason))?;
        Ok(Self {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same repository and tag with digest `digest`.
    ///
    /// The digest is taken as it is; [`Reference::new`] also checks it against the parsing
    /// rules, so that a digest of an algorithm references do not allow is refused.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// Registry and repository path only (`host/path`), the text of [`Reference::repository`].
    pub fn name(&self) -> String {
        self.repository.to_string()
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        parse(s).map_err(|reason| invalid(s, reason))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({:?})", self.to_string())
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A borrowed mirror so the wire shape is fixed here and absent parts become null.
        #[derive(serde::Serialize)]
        struct Wire<'a> {
            registry: &'a str,
            repository: &'a str,
            tag: Option<&'a str>,
            digest: Option<&'a Digest>,
        }
        Wire {
            registry: &self.repository.registry,
            repository: &self.repository.path,
            tag: self.tag.as_deref(),
            digest: self.digest.as_ref(),
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    /// Reads what [`Serialize`](serde::Serialize) writes (an object with `registry`,
    /// `repository`, `tag`, `digest`), or a reference as one string; either way validated as
    /// [`Reference::new`] and [`FromStr`] do.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            registry: String,
            repository: String,
            #[serde(default)]
            tag: Option<String>,
            #[serde(default)]
            digest: Option<Digest>,
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Parts(Wire),
        }
        match Form::deserialize(d)? {
            Form::Text(text) => text.parse(),
            Form::Parts(w) => {
                Reference::new(&w.registry, &w.repository, w.tag.as_deref(), w.digest)
            }
        }
        .map_err(serde::de::Error::custom)
    }
}

/// Validates a registry host\[:port\] on its own and returns it normalised
/// (`index.docker.io` becomes `docker.io`).
///
/// Unlike a reference, a bare lower-case host without a dot (`myregistry`) is accepted here,
/// since nothing else could be meant.
pub fn parse_registry(s: &str) -> Result<String> {
    let checked = if s.is_empty() {
        Err("empty registry".to_string())
    } else {
        check_domain(s)
    };
    checked.map_err(|reason| invalid(s, reason))?;
    Ok(normalise_registry(s))
}

/// The registry host requests for `registry` go to: Docker Hub maps to `registry-1.docker.io`.
pub(crate) fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB || registry == LEGACY_DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// Splits an image reference into (registry, repository, tag-or-digest), normalised like
/// [`Reference`].
///
/// The third part is `""` when neither is given, and the digest when both are.
///
/// ```
/// let (reg, repo, tag) = dockreg::split_image("ubuntu")?;
/// assert_eq!((reg.as_str(), repo.as_str(), tag.as_str()), ("docker.io", "library/ubuntu", ""));
/// # Ok::<(), dockreg::Error>(())
/// ```
pub fn split_image(image: &str) -> Result<(String, String, String)> {
    let r: Reference = image.parse()?;
    let last = match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => String::new(),
    };
    Ok((r.repository.registry, r.repository.path, last))
}

fn invalid(input: &str, reason: impl Into<String>) -> Error {
    Error::InvalidReference {
        input: clip(input),
        reason: reason.into(),
    }
}

/// Parses a whole reference; the error is the reason only, the caller adds the input.
fn parse(s: &str) -> Result<Reference, String> {
    if s.is_empty() {
        return Err("empty reference".into());
    }
    // Checked up front so a pasted "ubuntu\n" gets a clear message rather than a grammar one.
    if s.trim() != s {
        return Err("leading or trailing whitespace".into());
    }
    if s.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    // Docker refuses a bare image ID so it is never mistaken for a repository name.
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("a 64-character hex string is an image ID, not a repository name".into());
    }

    // Neither a name nor a tag may hold '@', so the first one starts the digest.
    let (rest, digest) = match s.split_once('@') {
        Some((rest, d)) => (rest, Some(d)),
        None => (s, None),
    };
    // A ':' before the last '/' belongs to a registry port, not to a tag.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest.get(last_slash..).and_then(|tail| tail.rfind(':')) {
        Some(i) => {
            let at = last_slash + i;
            (
                rest.get(..at).unwrap_or_default(),
                Some(rest.get(at + 1..).unwrap_or_default()),
            )
        }
        None => (rest, None),
    };

    if name.is_empty() {
        return Err("missing repository name".into());
    }
    let (domain, path) = match name.split_once('/') {
        Some((first, path)) if looks_like_domain(first) => (Some(first), path),
        _ => (None, name),
    };
    // Upstream's order: case of the path, then the grammar, then the length, then the digest.
    check_lowercase(path)?;
    if let Some(d) = domain {
        check_domain(d)?;
    }
    check_path(path)?;
    if let Some(t) = tag {
        check_tag(t)?;
    }
    if let Some(d) = digest {
        check_digest_grammar(d)?;
    }
    let registry = domain.map_or_else(|| DOCKER_HUB.to_string(), normalise_registry);
    let repository = normalise_repository(&registry, path);
    check_path_len(&repository)?;
    let digest = digest.map(parse_digest).transpose()?;
    Ok(Reference {
        repository: Repository {
            registry,
            path: repository,
        },
        tag: tag.map(str::to_string),
        digest,
    })
}

/// The checks of [`Reference::new`]; the error is the reason only.
fn build(
    registry: &str,
    repository: &str,
    tag: Option<&str>,
    digest: Option<Digest>,
) -> Result<Reference, String> {
    if registry.is_empty() {
        return Err("empty registry".into());
    }
    if repository.is_empty() {
        return Err("missing repository name".into());
    }
    check_domain(registry)?;
    if !looks_like_domain(registry) {
        return Err(format!(
            "registry {registry:?} would be read as a repository path; \
             it needs a '.', a port, or to be localhost"
        ));
    }
    check_lowercase(repository)?;
    check_path(repository)?;
    if let Some(t) = tag {
        check_tag(t)?;
    }
    if let Some(d) = &digest {
        check_digest_grammar(d.as_str())?;
        check_digest_algorithm(d.as_str())?;
    }
    let registry = normalise_registry(registry);
    let repository = normalise_repository(&registry, repository);
    check_path_len(&repository)?;
    Ok(Reference {
        repository: Repository {
            registry,
            path: repository,
        },
        tag: tag.map(str::to_string),
        digest,
    })
}

/// Docker's rule (normalize.go, splitDockerDomain) for whether a first component is a registry:
/// it holds `.` or `:`, is `localhost`, or changes when lower-cased (Go's `strings.ToLower`).
fn looks_like_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first
}

/// Limits the normalised repository path (reference.go, `RepositoryNameTotalLengthMax`). Only
/// the path counts: since distribution/reference v0.6 the registry is left out, so
/// `example.com/` followed by 255 characters is accepted and `library/` counts on Docker Hub.
fn check_path_len(repository: &str) -> Result<(), String> {
    if repository.len() > MAX_PATH_LEN {
        return Err(format!(
            "repository name must not be more than {MAX_PATH_LEN} characters \
             (the path {} is {} long; the registry does not count)",
            clip_middle(repository),
            repository.len()
        ));
    }
    Ok(())
}

/// A short view of a long name for an error message.
fn clip_middle(s: &str) -> String {
    const KEEP: usize = 40;
    if s.len() <= 2 * KEEP + 3 {
        return format!("{s:?}");
    }
    let mut head = KEEP;
    while !s.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = s.len() - KEEP;
    while !s.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{:?}...{:?}", &s[..head], &s[tail..])
}

fn normalise_registry(registry: &str) -> String {
    if registry == LEGACY_DOCKER_HUB {
        DOCKER_HUB.to_string()
    } else {
        registry.to_string()
    }
}

fn normalise_repository(registry: &str, path: &str) -> String {
    if registry == DOCKER_HUB && !path.contains('/') {
        format!("{OFFICIAL_PREFIX}{path}")
    } else {
        path.to_string()
    }
}

/// Checks `host[:port]` where host is a DNS-like name, an IPv4 address or a bracketed IPv6.
fn check_domain(domain: &str) -> Result<(), String> {
    let port = if let Some(bracketed) = domain.strip_prefix('[') {
        let Some((inner, after)) = bracketed.split_once(']') else {
            return Err(format!(
                "invalid domain {domain:?}: '[' without a closing ']'"
            ));
        };
        // Upstream allows only hex digits and ':' between the brackets: no zone id ("%eth0")
        // and no dotted IPv4 tail ("::ffff:192.0.2.1"). Beyond upstream, the address must
        // also be a real IPv6 address.
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(format!(
                "invalid domain {domain:?}: between '[' and ']' only hex digits and ':' \
                 are allowed (no zone id, no dotted IPv4 part)"
            ));
        }
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(format!(
                "invalid domain {domain:?}: {inner:?} is not an IPv6 address"
            ));
        }
        match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => {
                return Err(format!(
                    "invalid domain {domain:?}: unexpected {after:?} after ']'"
                ));
            }
        }
    } else {
        let (host, port) = match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        if host.is_empty() || !host.split('.').all(valid_domain_component) {
            return Err(format!(
                "invalid domain {domain:?}: host must be dot-separated letters, digits and inner '-'"
            ));
        }
        port
    };
    if let Some(port) = port {
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err()
        {
            return Err(format!(
                "invalid port {port:?} in {domain:?} (must be a number up to 65535)"
            ));
        }
    }
    Ok(())
}

/// `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn valid_domain_component(c: &str) -> bool {
    !c.is_empty()
        && !c.starts_with('-')
        && !c.ends_with('-')
        && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Refuses a repository path that lower-casing would change (normalize.go reports this before
/// the grammar, since it is the likelier mistake). The registry is not checked: it may have
/// upper-case letters.
fn check_lowercase(path: &str) -> Result<(), String> {
    if path.to_lowercase() != path {
        return Err(format!(
            "repository name must be lowercase (got {})",
            clip_middle(path)
        ));
    }
    Ok(())
}

/// Checks a repository path: `/`-separated path components.
fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("missing repository name after the registry".into());
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Err("empty path component".into());
        }
        if !valid_path_component(component) {
            return Err(format!(
                "invalid path component {:?}: use lower-case letters and digits separated by \
                 '.', '_', '__' or '-'",
                clip(component)
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` with separator `.`, `_`, `__` or `-`+.
fn valid_path_component(c: &str) -> bool {
    let is_alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut bytes = c.bytes().peekable();
    loop {
        // An alphanumeric run, which must not be empty.
        if bytes.next_if(is_alnum).is_none() {
            return false;
        }
        while bytes.next_if(is_alnum).is_some() {}
        // Then either the end or exactly one separator.
        match bytes.next() {
            None => return true,
            Some(b'.') => {}
            Some(b'_') => {
                bytes.next_if_eq(&b'_');
            }
            Some(b'-') => while bytes.next_if_eq(&b'-').is_some() {},
            Some(_) => return false,
        }
    }
}

/// Checks `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("empty tag after ':'".into());
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let first_ok = tag.bytes().next().is_some_and(word);
    if !first_ok || !tag.bytes().all(|b| word(b) || b == b'.' || b == b'-') {
        return Err(format!(
            "invalid tag {:?}: must start with a letter, digit or '_' and hold only letters, \
             digits, '_', '.' and '-'",
            clip(tag)
        ));
    }
    if tag.len() > MAX_TAG_LEN {
        return Err(format!("tag too long (max {MAX_TAG_LEN})"));
    }
    Ok(())
}

/// The digest grammar of regexp.go: `algorithm ":" hex`, the algorithm made of
/// `[A-Za-z][A-Za-z0-9]*` components joined by one of `-_+.`, and at least 32 hex digits.
fn check_digest_grammar(d: &str) -> Result<(), String> {
    if d.is_empty() {
        return Err("empty digest after '@'".into());
    }
    let Some((algorithm, hex)) = d.split_once(':') else {
        return Err(format!(
            "digest: {} must be algorithm:hex, e.g. sha256:<64 hex digits>",
            clip_middle(d)
        ));
    };
    let component_ok = |c: &str| {
        let mut bytes = c.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric())
    };
    if !algorithm.split(['-', '_', '+', '.']).all(component_ok) {
        return Err(format!(
            "digest: invalid algorithm {}: letters and digits starting with a letter, \
             parts joined by one of '-', '_', '+', '.'",
            clip_middle(algorithm)
        ));
    }
    if hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "digest: the part after {algorithm:?} must be at least 32 hex digits, got {}",
            clip_middle(hex)
        ));
    }
    Ok(())
}

/// What go-digest's `Parse` adds for the algorithms Docker registers: only sha256, sha384 and
/// sha512, each with its exact length of lower-case hex. Call after [`check_digest_grammar`].
fn check_digest_algorithm(d: &str) -> Result<(), String> {
    let (algorithm, hex) = d.split_once(':').unwrap_or((d, ""));
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "digest: unsupported digest algorithm {}; use sha256, sha384 or sha512",
                clip_middle(algorithm)
            ));
        }
    };
    if hex.len() != want {
        return Err(format!(
            "digest: a {algorithm} digest has {want} hex digits, got {}",
            hex.len()
        ));
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!("digest: {algorithm} hex digits must be lower case"));
    }
    Ok(())
}

/// Validates a digest already checked with [`check_digest_grammar`].
fn parse_digest(d: &str) -> Result<Digest, String> {
    check_digest_algorithm(d)?;
    d.parse::<Digest>().map_err(|e| format!("digest: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, registry, repository, tag, digest, display)
    type Valid<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
    );

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn dg() -> String {
        format!("sha256:{HEX}")
    }

    fn reason(input: &str) -> String {
        match input.parse::<Reference>() {
            Ok(r) => panic!("{input:?} parsed as {r:?}"),
            Err(Error::InvalidReference { input: got, reason }) => {
                assert_eq!(got, clip(input));
                reason
            }
            Err(e) => panic!("{input:?}: wrong error {e:?}"),
        }
    }

    #[test]
    fn valid_references() {
        let d = dg();
        let (at_d, tag_at_d, port_at_d) = (
            format!("repo@{d}"),
            format!("repo:tag@{d}"),
            format!("host:5000/a/b:v1@{d}"),
        );
        let (hub_at_d, hub_tag_at_d) = (
            format!("docker.io/library/repo@{d}"),
            format!("docker.io/library/repo:tag@{d}"),
        );
        let (hex_in, hex_repo, hex_out) = (
            format!("docker.io/{HEX}"),
            format!("library/{HEX}"),
            format!("docker.io/library/{HEX}"),
        );
        let hex63 = HEX.get(..63).unwrap();
        let (hex63_in, hex63_repo, hex63_out) = (
            format!("{hex63}:t"),
            format!("library/{hex63}"),
            format!("docker.io/library/{hex63}:t"),
        );
        let tag128 = "t".repeat(128);
        let (tag128_in, tag128_out) = (
            format!("a:{tag128}"),
            format!("docker.io/library/a:{tag128}"),
        );
        // A 255-character path once normalised: "library/" is 8 of them; the registry is free.
        let long_hub = "a".repeat(247);
        let (long_hub_repo, long_hub_out) = (
            format!("library/{long_hub}"),
            format!("docker.io/library/{long_hub}"),
        );
        let long_other = format!("x.io/{}", "b".repeat(255));
        let long_other_repo = "b".repeat(255);
        // (input, registry, repository, tag, digest, display)
        let cases: Vec<Valid> = vec![
            (
                "ubuntu",
                "docker.io",
                "library/ubuntu",
                None,
                None,
                "docker.io/library/ubuntu",
            ),
            (
                "ubuntu:22.04",
                "docker.io",
                "library/ubuntu",
                Some("22.04"),
                None,
                "docker.io/library/ubuntu:22.04",
            ),
            (
                "library/ubuntu",
                "docker.io",
                "library/ubuntu",
                None,
                None,
                "docker.io/library/ubuntu",
            ),
            (
                "docker.io/ubuntu",
                "docker.io",
                "library/ubuntu",
                None,
                None,
                "docker.io/library/ubuntu",
            ),
            (
                "index.docker.io/ubuntu",
                "docker.io",
                "library/ubuntu",
                None,
                None,
                "docker.io/library/ubuntu",
            ),
            (
                "index.docker.io/a/b",
                "docker.io",
                "a/b",
                None,
                None,
                "docker.io/a/b",
            ),
            (
                "docker.io/library/x",
                "docker.io",
                "library/x",
                None,
                None,
                "docker.io/library/x",
            ),
            (
                "library/foo/bar",
                "docker.io",
                "library/foo/bar",
                None,
                None,
                "docker.io/library/foo/bar",
            ),
            (
                "fooo/bar",
                "docker.io",
                "fooo/bar",
                None,
                None,
                "docker.io/fooo/bar",
            ),
            (
                "test_com/foo",
                "docker.io",
                "test_com/foo",
                None,
                None,
                "docker.io/test_com/foo",
            ),
            (
                "registry-1.docker.io/ubuntu",
                "registry-1.docker.io",
                "ubuntu",
                None,
                None,
                "registry-1.docker.io/ubuntu",
            ),
            (
                "gcr.io/skia-public/infra:latest",
                "gcr.io",
                "skia-public/infra",
                Some("latest"),
                None,
                "gcr.io/skia-public/infra:latest",
            ),
            (
                "127.0.0.1:5000/a/b:t",
                "127.0.0.1:5000",
                "a/b",
                Some("t"),
                None,
                "127.0.0.1:5000/a/b:t",
            ),
            (
                "localhost:5000/foo",
                "localhost:5000",
                "foo",
                None,
                None,
                "localhost:5000/foo",
            ),
            (
                "localhost/foo",
                "localhost",
                "foo",
                None,
                None,
                "localhost/foo",
            ),
            (
                "[::1]:5000/repo:tag",
                "[::1]:5000",
                "repo",
                Some("tag"),
                None,
                "[::1]:5000/repo:tag",
            ),
            (
                "[2001:db8::1]/x",
                "[2001:db8::1]",
                "x",
                None,
                None,
                "[2001:db8::1]/x",
            ),
            (
                "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
                "[fc00:1:2:3:4:5:6:7]:5000",
                "library/debian",
                None,
                None,
                "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            ),
            (
                "[FC00::1]:5000/x",
                "[FC00::1]:5000",
                "x",
                None,
                None,
                "[FC00::1]:5000/x",
            ),
            (
                "my-registry.example.com:443/a.b/c_d/e__f/g---h:tag",
                "my-registry.example.com:443",
                "a.b/c_d/e__f/g---h",
                Some("tag"),
                None,
                "my-registry.example.com:443/a.b/c_d/e__f/g---h:tag",
            ),
            (
                &at_d,
                "docker.io",
                "library/repo",
                None,
                Some(&d),
                &hub_at_d,
            ),
            (
                &tag_at_d,
                "docker.io",
                "library/repo",
                Some("tag"),
                Some(&d),
                &hub_tag_at_d,
            ),
            (
                &port_at_d,
                "host:5000",
                "a/b",
                Some("v1"),
                Some(&d),
                &port_at_d,
            ),
            (
                "host:5000/repo",
                "host:5000",
                "repo",
                None,
                None,
                "host:5000/repo",
            ),
            (
                "host:5000/repo:5000",
                "host:5000",
                "repo",
                Some("5000"),
                None,
                "host:5000/repo:5000",
            ),
            ("host:0/repo", "host:0", "repo", None, None, "host:0/repo"),
            (
                "host:65535/repo",
                "host:65535",
                "repo",
                None,
                None,
                "host:65535/repo",
            ),
            (
                "test-com:8080/foo",
                "test-com:8080",
                "foo",
                None,
                None,
                "test-com:8080/foo",
            ),
            (
                "xn--n3h.com/foo",
                "xn--n3h.com",
                "foo",
                None,
                None,
                "xn--n3h.com/foo",
            ),
            // Docker: an upper-case first component is a registry, and is kept as written.
            ("Foo/bar", "Foo", "bar", None, None, "Foo/bar"),
            (
                "DOCKER/docker",
                "DOCKER",
                "docker",
                None,
                None,
                "DOCKER/docker",
            ),
            ("Docker.io/x", "Docker.io", "x", None, None, "Docker.io/x"),
            // Names that look like hosts but have no '/' are repositories on Docker Hub.
            (
                "192.168.0.1",
                "docker.io",
                "library/192.168.0.1",
                None,
                None,
                "docker.io/library/192.168.0.1",
            ),
            (
                "localhost",
                "docker.io",
                "library/localhost",
                None,
                None,
                "docker.io/library/localhost",
            ),
            (
                "192.168.0.1:80",
                "docker.io",
                "library/192.168.0.1",
                Some("80"),
                None,
                "docker.io/library/192.168.0.1:80",
            ),
            (
                "a:_",
                "docker.io",
                "library/a",
                Some("_"),
                None,
                "docker.io/library/a:_",
            ),
            (
                "a:A.b-C_",
                "docker.io",
                "library/a",
                Some("A.b-C_"),
                None,
                "docker.io/library/a:A.b-C_",
            ),
            ("0/1", "docker.io", "0/1", None, None, "docker.io/0/1"),
            (
                "a-----b.c__d_e",
                "docker.io",
                "library/a-----b.c__d_e",
                None,
                None,
                "docker.io/library/a-----b.c__d_e",
            ),
            (&hex_in, "docker.io", &hex_repo, None, None, &hex_out),
            (
                &hex63_in,
                "docker.io",
                &hex63_repo,
                Some("t"),
                None,
                &hex63_out,
            ),
            (
                &tag128_in,
                "docker.io",
                "library/a",
                Some(&tag128),
                None,
                &tag128_out,
            ),
            (
                &long_hub,
                "docker.io",
                &long_hub_repo,
                None,
                None,
                &long_hub_out,
            ),
            (
                &long_other,
                "x.io",
                &long_other_repo,
                None,
                None,
                &long_other,
            ),
        ];
        for (input, registry, repository, tag, digest, display) in cases {
            let r: Reference = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(r.registry(), registry, "{input}");
            assert_eq!(r.path(), repository, "{input}");
            assert_eq!(r.tag(), tag, "{input}");
            assert_eq!(r.digest().map(Digest::as_str), digest, "{input}");
            assert_eq!(r.to_string(), display, "{input}");
            let again: Reference = display
                .parse()
                .unwrap_or_else(|e| panic!("{display:?}: {e}"));
            assert_eq!(again, r, "{input}: display does not round trip");
            let built = Reference::new(r.registry(), r.path(), r.tag(), r.digest().cloned());
            assert_eq!(built.unwrap_or_else(|e| panic!("{input:?}: new: {e}")), r);
        }
    }

    #[test]
    fn invalid_references() {
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "empty reference"),
            ("UPPER".into(), "repository name must be lowercase"),
            ("UPPER:tag".into(), "repository name must be lowercase"),
            (
                "bad_host.com/Foo".into(),
                "repository name must be lowercase",
            ),
            ("docker/Docker".into(), "repository name must be lowercase"),
            (
                "docker.io/docker/Docker".into(),
                "repository name must be lowercase",
            ),
            ("a//b".into(), "empty path component"),
            ("docker///docker".into(), "empty path component"),
            ("a/".into(), "empty path component"),
            ("/a".into(), "empty path component"),
            (
                "example.com/".into(),
                "missing repository name after the registry",
            ),
            ("a:".into(), "empty tag"),
            ("x:".into(), "empty tag"),
            (":tag".into(), "missing repository name"),
            (format!("@sha256:{HEX}"), "missing repository name"),
            ("a@".into(), "empty digest"),
            ("a:tag with space".into(), "invalid tag \"tag with space\""),
            ("a:-x".into(), "invalid tag \"-x\""),
            ("a:.x".into(), "invalid tag"),
            ("a:x/".into(), "invalid port"),
            ("a:é".into(), "invalid tag"),
            ("-a".into(), "invalid path component \"-a\""),
            ("a-".into(), "invalid path component \"a-\""),
            (
                "-docker/docker".into(),
                "invalid path component \"-docker\"",
            ),
            ("a__-b".into(), "invalid path component \"a__-b\""),
            ("a___b".into(), "invalid path component \"a___b\""),
            ("a..b".into(), "invalid path component \"a..b\""),
            ("a._b".into(), "invalid path component"),
            ("_a".into(), "invalid path component"),
            ("____/____".into(), "invalid path component"),
            ("a b".into(), "invalid path component"),
            ("ü/x".into(), "invalid path component \"ü\""),
            ("É/x".into(), "invalid domain"),
            ("host:port/x".into(), "invalid port"),
            ("host:/x".into(), "invalid port"),
            ("host:99999999999999999999/x".into(), "invalid port"),
            ("host:65536/x".into(), "invalid port"),
            ("host:+80/x".into(), "invalid port"),
            ("fc00::1:5000/debian".into(), "invalid port"),
            ("https://github.com/docker/docker".into(), "invalid port"),
            ("[::1/x".into(), "invalid domain"),
            ("[zz::1]/x".into(), "invalid domain"),
            ("[]/x".into(), "invalid path component"),
            ("[::1]x/y".into(), "invalid domain"),
            ("[::1]:/x".into(), "invalid port"),
            ("[fe80::1%eth0]:5000/debian".into(), "invalid domain"),
            ("-docker.io/docker/docker".into(), "invalid domain"),
            ("a..b.com/x".into(), "invalid domain"),
            ("a_b.com/x".into(), "invalid domain"),
            (".com/x".into(), "invalid domain"),
            ("[fc00::1]:5000".into(), "invalid path component"),
            (
                "a:".to_string() + &"t".repeat(129),
                "tag too long (max 128)",
            ),
            ("a".repeat(256), "must not be more than 255 characters"),
            ("a".repeat(248), "must not be more than 255 characters"),
            (
                format!("x.io/{}", "b".repeat(256)),
                "must not be more than 255 characters",
            ),
            (
                format!("{}/{}", "a".repeat(200), "b".repeat(56)),
                "must not be more than 255 characters",
            ),
            (
                "[2001:db8:3:4::192.0.2.33]:5000/debian".into(),
                "only hex digits and ':'",
            ),
            ("[fd00123123123]:5000/x".into(), "not an IPv6 address"),
            ("[fd00123123123]/x".into(), "invalid path component"),
            ("my_host.com/x".into(), "invalid domain"),
            ("a@sha256:short".into(), "digest: "),
            (format!("a@md5:{HEX}"), "unsupported digest algorithm"),
            (format!("a@SHA256:{HEX}"), "unsupported digest algorithm"),
            (format!("a@1sha:{HEX}"), "invalid algorithm"),
            ("a@sha256:abc".into(), "at least 32 hex digits"),
            (format!("a@sha256:{HEX}00"), "has 64 hex digits, got 66"),
            (format!("a@sha512:{HEX}"), "has 128 hex digits, got 64"),
            (format!("a@sha256:{}", HEX.to_uppercase()), "digest: "),
            (format!("a@{HEX}"), "digest: "),
            (format!("a:t@sha256:{HEX}@x"), "digest: "),
            (" a".into(), "whitespace"),
            ("a\n".into(), "whitespace"),
            ("a\tb".into(), "control characters"),
            (HEX.into(), "image ID"),
        ];
        for (input, fragment) in &cases {
            let reason = reason(input);
            assert!(
                reason.contains(fragment),
                "{input:?}: reason {reason:?} lacks {fragment:?}"
            );
        }
    }

    #[test]
    fn long_input_is_clipped_in_error() {
        let input = "é".repeat(1000);
        match input.parse::<Reference>() {
            Err(Error::InvalidReference { input: got, .. }) => assert!(got.len() < 400),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn new_validates_parts() {
        let r = Reference::new("index.docker.io", "ubuntu", Some("22.04"), None).unwrap();
        assert_eq!(r.to_string(), "docker.io/library/ubuntu:22.04");
        let r = Reference::new("localhost:5000", "a/b", None, Some(dg().parse().unwrap())).unwrap();
        assert_eq!(r.to_string(), format!("localhost:5000/a/b@{}", dg()));
        for (registry, repository, tag, fragment) in [
            ("", "x", None, "empty registry"),
            ("docker.io", "", None, "missing repository name"),
            ("myhost", "x", None, "would be read as a repository path"),
            ("bad host", "x", None, "invalid domain"),
            ("host:x", "x", None, "invalid port"),
            ("docker.io", "Ubuntu", None, "must be lowercase"),
            ("docker.io", "a//b", None, "empty path component"),
            ("docker.io", "a-", None, "invalid path component"),
            ("docker.io", "x", Some(""), "empty tag"),
            ("docker.io", "x", Some("a b"), "invalid tag"),
            ("x.io", &"a".repeat(256), None, "more than 255 characters"),
        ] {
            match Reference::new(registry, repository, tag, None) {
                Err(Error::InvalidReference { reason, .. }) => {
                    assert!(
                        reason.contains(fragment),
                        "{registry}/{repository}: {reason:?} lacks {fragment:?}"
                    )
                }
                other => panic!("{registry}/{repository}: {other:?}"),
            }
        }
    }

    #[test]
    fn repositories_validate_and_normalise() {
        let r: Repository = "ubuntu".parse().unwrap();
        assert_eq!((r.registry(), r.path()), ("docker.io", "library/ubuntu"));
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r: Repository = "index.docker.io/org/app".parse().unwrap();
        assert_eq!(r.to_string(), "docker.io/org/app");
        let r: Repository = "[::1]:5000/a/b".parse().unwrap();
        assert_eq!((r.registry(), r.path()), ("[::1]:5000", "a/b"));
        assert_eq!(
            Repository::new("docker.io", "ubuntu").unwrap().path(),
            "library/ubuntu"
        );

        // A tag or digest names an image, not a repository.
        let d = dg();
        for input in [
            "r.example/app:1".to_string(),
            format!("r.example/app@{d}"),
            "".into(),
            "r.example/App".into(),
            "r.example/a//b".into(),
        ] {
            assert!(
                matches!(
                    input.parse::<Repository>(),
                    Err(Error::InvalidReference { .. })
                ),
                "{input:?}"
            );
        }
        for (registry, path) in [
            ("nodots", "app"),
            ("r.example", ""),
            ("r.example", "a b"),
            ("r.example:99999", "app"),
            ("", "app"),
        ] {
            assert!(
                Repository::new(registry, path).is_err(),
                "{registry} {path}"
            );
        }

        // A reference holds its repository; the conversions keep it.
        let image: Reference = format!("r.example:5000/team/app:1@{d}").parse().unwrap();
        let repo: &Repository = image.as_ref();
        assert_eq!(repo, image.repository());
        assert_eq!(repo.to_string(), image.name());
        assert_eq!(image.path(), "team/app");
        assert_eq!(Repository::from(image.clone()), *repo);
        let bare = Reference::from(repo.clone());
        assert_eq!((bare.tag(), bare.digest()), (None, None));
        assert_eq!(
            repo.with_tag("2").unwrap().to_string(),
            "r.example:5000/team/app:2"
        );
        assert!(repo.with_tag("-bad").is_err());
        assert_eq!(repo.reference().manifest_reference(), "latest");
    }

    #[test]
    fn split_image_cases() {
        let d = dg();
        let cases: Vec<(String, (&str, &str, &str))> = vec![
            ("ubuntu".into(), ("docker.io", "library/ubuntu", "")),
            (
                "ubuntu:22.04".into(),
                ("docker.io", "library/ubuntu", "22.04"),
            ),
            (
                format!("ubuntu:22.04@{d}"),
                ("docker.io", "library/ubuntu", &d),
            ),
            (format!("ubuntu@{d}"), ("docker.io", "library/ubuntu", &d)),
            ("index.docker.io/a/b:c".into(), ("docker.io", "a/b", "c")),
            ("localhost:5000/foo".into(), ("localhost:5000", "foo", "")),
        ];
        for (input, (registry, repository, last)) in cases {
            let got = split_image(&input).unwrap();
            assert_eq!(
                got,
                (
                    registry.to_string(),
                    repository.to_string(),
                    last.to_string()
                ),
                "{input}"
            );
        }
        assert!(matches!(
            split_image("a:"),
            Err(Error::InvalidReference { .. })
        ));
    }

    #[test]
    fn accessors_and_builders() {
        let r: Reference = "ubuntu".parse().unwrap();
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.manifest_reference(), "latest");
        assert_eq!(r.name(), "docker.io/library/ubuntu");

        let t = r.with_tag("22.04").unwrap();
        assert_eq!(t.manifest_reference(), "22.04");
        assert_eq!(t.to_string(), "docker.io/library/ubuntu:22.04");

        let digest: Digest = dg().parse().unwrap();
        let td = t.with_digest(digest.clone());
        assert_eq!(td.tag(), Some("22.04"));
        assert_eq!(td.manifest_reference(), dg());
        assert_eq!(td.with_tag("x").unwrap().digest(), None);
        assert!(matches!(
            td.with_tag("bad tag"),
            Err(Error::InvalidReference { .. })
        ));
        assert!(matches!(
            td.with_tag(""),
            Err(Error::InvalidReference { .. })
        ));

        let local: Reference = "localhost:5000/foo".parse().unwrap();
        assert_eq!(local.api_host(), "localhost:5000");
        let hub1: Reference = "registry-1.docker.io/library/x".parse().unwrap();
        assert_eq!(hub1.api_host(), "registry-1.docker.io");

        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("index.docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn parse_registry_cases() {
        for (input, want) in [
            ("docker.io", "docker.io"),
            ("index.docker.io", "docker.io"),
            ("localhost:5000", "localhost:5000"),
            ("myregistry", "myregistry"),
            ("[::1]:5000", "[::1]:5000"),
            ("127.0.0.1", "127.0.0.1"),
        ] {
            assert_eq!(parse_registry(input).unwrap(), want);
        }
        for bad in [
            "",
            " docker.io",
            "host:",
            "host:x",
            "a/b",
            "[::1",
            "-a.com",
            "a..b",
            "https://x",
        ] {
            assert!(
                matches!(parse_registry(bad), Err(Error::InvalidReference { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_and_serialize() {
        let r: Reference = "ubuntu:22.04".parse().unwrap();
        assert_eq!(
            format!("{r:?}"),
            "Reference(\"docker.io/library/ubuntu:22.04\")"
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "registry": "docker.io", "repository": "library/ubuntu", "tag": "22.04", "digest": null
            })
        );
        let r = r.with_digest(dg().parse().unwrap());
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["digest"], serde_json::json!(dg()));
    }

    #[test]
    fn never_panics_and_round_trips() {
        let alphabet = [
            '/', ':', '@', '[', ']', '.', '-', '_', 'a', 'A', 'é', '1', ' ',
        ];
        let mut inputs = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &frontier {
                for c in alphabet {
                    let mut t = s.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            inputs.extend(next.iter().cloned());
            frontier = next;
        }
        let mut ok = 0;
        for s in &inputs {
            let _ = split_image(s);
            let _ = parse_registry(s);
            let _ = Reference::new(s, s, Some(s), None);
            if let Ok(r) = s.parse::<Reference>() {
                ok += 1;
                let again: Reference = r
                    .to_string()
                    .parse()
                    .unwrap_or_else(|e| panic!("{s:?} -> {r}: {e}"));
                assert_eq!(again, r, "{s:?}");
                let built = Reference::new(r.registry(), r.path(), r.tag(), None);
                assert_eq!(
                    built.unwrap_or_else(|e| panic!("{s:?}: {e}")).tag(),
                    r.tag()
                );
            }
        }
        assert!(ok > 100, "only {ok} inputs parsed");
    }
}

//! Platforms (`linux/arm64/v8`) and picking one image out of an index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, clip};

/// The platform an image runs on, as in an index's descriptors and an image config.
///
/// Its JSON is the OCI descriptor's `platform` object (`architecture`, `os`, `os.version`,
/// `os.features`, `variant`, `features`); its text form (`Display`, `FromStr`) is
/// `os/arch[/variant]`.
///
/// ```
/// let p: dockreg::Platform = "linux/arm64/v8".parse()?;
/// assert_eq!(p, dockreg::Platform::new("linux", "arm64").with_variant("v8"));
/// assert_eq!(p.to_string(), "linux/arm64/v8");
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"architecture":"arm64","os":"linux","variant":"v8"}"#);
/// # Ok::<(), dockreg::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, ...).
    #[serde(default)]
    pub architecture: String,
    /// Operating system (`linux`, `windows`, ...).
    #[serde(default)]
    pub os: String,
    /// Operating system version (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant (`v7`, `v8`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Required CPU features (reserved by the OCI spec).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

impl Platform {
    /// A platform from its OS and architecture, with no variant.
    pub fn new(os: &str, architecture: &str) -> Self {
        Self {
            os: os.to_string(),
            architecture: architecture.to_string(),
            ..Self::default()
        }
    }

    /// The same platform with CPU variant `variant` (`v7`, `v8`, ...).
    pub fn with_variant(mut self, variant: &str) -> Self {
        self.variant = Some(variant.to_string());
        self
    }

    /// `linux/amd64`, the default platform of a client.
    pub fn linux_amd64() -> Self {
        Self::new("linux", "amd64")
    }

    /// The same platform with names normalised as containerd does (`aarch64` -> `arm64`,
    /// `arm64/v8` -> `arm64`, `arm` -> `arm/v7`, `x86_64` -> `amd64`).
    pub fn normalized(&self) -> Self {
        let mut p = self.clone();
        p.os = p.os.to_ascii_lowercase();
        let variant = p.variant.take().unwrap_or_default().to_ascii_lowercase();
        let (arch, variant) = match p.architecture.to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" | "amd64" => (
                "amd64",
                if variant == "v1" {
                    String::new()
                } else {
                    variant
                },
            ),
            "i386" | "386" => ("386", variant),
            "aarch64" | "arm64" => (
                "arm64",
                match variant.as_str() {
                    "8" | "v8" | "v8.0" => String::new(),
                    v if !v.is_empty() && !v.starts_with('v') => format!("v{v}"),
                    _ => variant,
                },
            ),
            "armhf" => ("arm", "v7".to_string()),
            "armel" => ("arm", "v6".to_string()),
            "arm" => (
                "arm",
                match variant.as_str() {
                    "" | "7" => "v7".to_string(),
                    "5" | "6" | "8" => format!("v{variant}"),
                    _ => variant,
                },
            ),
            other => {
                p.architecture = other.to_string();
                p.variant = (!variant.is_empty()).then_some(variant);
                return p;
            }
        };
        p.architecture = arch.to_string();
        p.variant = (!variant.is_empty()).then_some(variant);
        p
    }

    /// Variants this platform can run, best first (containerd's rules: an arm v8 CPU runs v7,
    /// v6 and v5 images; amd64 v3 runs v2 and v1).
    fn compatible_variants(&self) -> Vec<Option<String>> {
        let own = self.variant.clone();
        let lower: &[&str] = match (self.architecture.as_str(), own.as_deref()) {
            ("arm", Some("v8")) => &["v7", "v6", "v5"],
            ("arm", Some("v7")) => &["v6", "v5"],
            ("arm", Some("v6")) => &["v5"],
            ("amd64", Some("v4")) => &["v3", "v2", ""],
            ("amd64", Some("v3")) => &["v2", ""],
            ("amd64", Some("v2")) => &[""],
            ("arm64", Some(_)) => &[""],
            _ => &[],
        };
        let mut out = vec![own];
        out.extend(lower.iter().map(|v| (!v.is_empty()).then(|| v.to_string())));
        out
    }

    /// Index of the best candidate for this platform: an exact match first, then the closest
    /// compatible variant. `None` platforms in the list never match.
    pub fn select<'a, I>(&self, candidates: I) -> Option<usize>
    where
        I: IntoIterator<Item = Option<&'a Platform>>,
    {
        let want = self.normalized();
        let have: Vec<Option<Platform>> = candidates
            .into_iter()
            .map(|p| p.map(Platform::normalized))
            .collect();
        for variant in want.compatible_variants() {
            let found = have.iter().position(|p| {
                p.as_ref().is_some_and(|p| {
                    p.os == want.os
                        && p.architecture == want.architecture
                        && p.variant == variant
                        && (want.os_version.is_none() || p.os_version == want.os_version)
                })
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

impl FromStr for Platform {
    type Err = Error;

    /// Parses `os/arch[/variant]`, e.g. `linux/arm64/v8`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::InvalidInput(format!("platform {:?}: {why}", clip(s)));
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad("expected os/architecture[/variant]"));
        }
        let ok = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        };
        if !parts.iter().all(|p| ok(p)) {
            return Err(bad(
                "each part must be non-empty letters, digits, '_', '-' or '.'",
            ));
        }
        let mut p = Platform::new(parts[0], parts[1]);
        p.variant = parts.get(2).map(|v| v.to_string());
        Ok(p)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(p("linux/arm64/v8").to_string(), "linux/arm64/v8");
        assert_eq!(p("linux/amd64").variant, None);
        for bad in ["", "linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }

    #[test]
    fn selects_exact_then_compatible() {
        let list = [
            p("linux/amd64"),
            p("linux/arm64/v8"),
            p("linux/arm/v6"),
            p("windows/amd64"),
        ];
        let pick = |want: &str| p(want).select(list.iter().map(Some));
        assert_eq!(pick("linux/amd64"), Some(0));
        assert_eq!(pick("linux/arm64"), Some(1));
        assert_eq!(pick("linux/aarch64"), Some(1));
        assert_eq!(pick("linux/arm/v7"), Some(2));
        assert_eq!(pick("linux/arm/v5"), None);
        assert_eq!(pick("windows/amd64"), Some(3));
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(pick("linux/amd64/v3"), Some(0));
    }

    #[test]
    fn os_version_must_match_when_asked() {
        let mut a = p("windows/amd64");
        a.os_version = Some("10.0.17763.1".into());
        let mut want = p("windows/amd64");
        want.os_version = Some("10.0.20348.1".into());
        assert_eq!(want.select([Some(&a)]), None);
        want.os_version = None;
        assert_eq!(want.select([Some(&a)]), Some(0));
    }
}

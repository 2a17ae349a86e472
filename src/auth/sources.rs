//! Where credentials come from, in order: the builder, Docker's `config.json` (its helpers
//! included), then podman/skopeo's `auth.json`. The first source that knows the registry wins.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use super::Credentials;
use super::docker_config::{ConfigFile, Flavor, Found, helper_server_url};
use super::helper::{self, HelperOptions};

/// Where the client looks for Docker/podman credential files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DockerConfigSource {
    /// `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), then the podman/skopeo
    /// auth file (`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json` and
    /// `~/.config/containers/auth.json`), each with its credential helpers.
    #[default]
    Default,
    /// This file only (`config.json` format; a file named `auth.json` is read as podman's).
    Path(std::path::PathBuf),
    /// No files: only credentials given to the builder.
    None,
}

/// The credential sources of one client.
pub(crate) struct Sources {
    explicit: BTreeMap<String, Credentials>,
    files: DockerConfigSource,
    helpers: HelperOptions,
}

impl Sources {
    pub(crate) fn new(
        explicit: BTreeMap<String, Credentials>,
        files: DockerConfigSource,
        helpers: HelperOptions,
    ) -> Self {
        Self {
            explicit,
            files,
            helpers,
        }
    }

    /// Credentials given to the builder for `registry`.
    pub(crate) fn explicit(&self, registry: &str) -> Option<&Credentials> {
        self.explicit.get(registry)
    }

    /// Credentials for `registry` from the first source that has some. Reads files and may run
    /// a helper: callers cache the answer. The error message names the file or helper.
    pub(crate) fn lookup(&self, registry: &str) -> Result<Option<Credentials>, String> {
        if let Some(c) = self.explicit(registry) {
            return Ok(Some(c.clone()));
        }
        for (path, flavor) in files(&self.files, &|k| std::env::var_os(k)) {
            let Some(file) = ConfigFile::read(&path)? else {
                continue;
            };
            let in_file = |e: String| format!("{}: {e}", path.display());
            match file.lookup(registry, flavor).map_err(in_file)? {
                Found::Credentials(c) => return Ok(Some(c)),
                Found::Helper(name) => {
                    if let Some(c) =
                        helper::get(&name, &helper_server_url(registry), &self.helpers)?
                    {
                        return Ok(Some(c));
                    }
                    // A store without an entry: a plain `auths` entry may still have one.
                    if let Found::Credentials(c) = file.stored(registry, flavor).map_err(in_file)? {
                        return Ok(Some(c));
                    }
                }
                Found::Nothing => {}
            }
        }
        Ok(None)
    }
}

/// The credential files to read, in order, with the environment read through `env`.
pub(crate) fn files(
    source: &DockerConfigSource,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Vec<(PathBuf, Flavor)> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    match source {
        DockerConfigSource::None => Vec::new(),
        DockerConfigSource::Path(p) => {
            let flavor = if p.file_name().is_some_and(|n| n == "auth.json") {
                Flavor::Podman
            } else {
                Flavor::Docker
            };
            vec![(p.clone(), flavor)]
        }
        DockerConfigSource::Default => {
            let mut out = Vec::new();
            let home = set("HOME");
            if let Some(dir) = set("DOCKER_CONFIG") {
                out.push((dir.join("config.json"), Flavor::Docker));
            } else if let Some(h) = &home {
                out.push((h.join(".docker").join("config.json"), Flavor::Docker));
            }
            if let Some(f) = set("REGISTRY_AUTH_FILE") {
                out.push((f, Flavor::Podman));
            } else {
                if let Some(run) = set("XDG_RUNTIME_DIR") {
                    out.push((run.join("containers").join("auth.json"), Flavor::Podman));
                }
                // podman's persistent location, read when the runtime one has nothing.
                let config_home =
                    set("XDG_CONFIG_HOME").or_else(|| home.map(|h| h.join(".config")));
                if let Some(c) = config_home {
                    out.push((c.join("containers").join("auth.json"), Flavor::Podman));
                }
            }
            out
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An environment of `pairs` for the lookups that take one (shared with google.rs).
    pub(in crate::auth) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: BTreeMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn paths(source: &DockerConfigSource, env: &[(&str, &str)]) -> Vec<String> {
        files(source, &env_of(env))
            .into_iter()
            .map(|(p, f)| format!("{f:?}:{}", p.display()))
            .collect()
    }

    #[test]
    fn default_file_order() {
        assert_eq!(
            paths(&DockerConfigSource::Default, &[("HOME", "/h")]),
            [
                "Docker:/h/.docker/config.json",
                "Podman:/h/.config/containers/auth.json"
            ]
        );
        assert_eq!(
            paths(
                &DockerConfigSource::Default,
                &[
                    ("HOME", "/h"),
                    ("DOCKER_CONFIG", "/d"),
                    ("XDG_RUNTIME_DIR", "/run/u"),
                    ("XDG_CONFIG_HOME", "/c"),
                ]
            ),
            [
                "Docker:/d/config.json",
                "Podman:/run/u/containers/auth.json",
                "Podman:/c/containers/auth.json"
            ]
        );
        assert_eq!(
            paths(
                &DockerConfigSource::Default,
                &[
                    ("HOME", "/h"),
                    ("REGISTRY_AUTH_FILE", "/a.json"),
                    ("XDG_RUNTIME_DIR", "/r")
                ]
            ),
            ["Docker:/h/.docker/config.json", "Podman:/a.json"]
        );
        assert!(paths(&DockerConfigSource::Default, &[]).is_empty());
        assert!(paths(&DockerConfigSource::None, &[("HOME", "/h")]).is_empty());
        assert_eq!(
            paths(
                &DockerConfigSource::Path("/x/auth.json".into()),
                &[("HOME", "/h")]
            ),
            ["Podman:/x/auth.json"]
        );
    }

    #[test]
    fn explicit_credentials_come_first_and_files_may_be_missing() {
        let explicit = BTreeMap::from([("r.example".to_string(), Credentials::basic("a", "b"))]);
        let s = Sources::new(
            explicit,
            DockerConfigSource::Path("/nonexistent/dockreg/config.json".into()),
            HelperOptions::default(),
        );
        assert_eq!(
            s.lookup("r.example").unwrap(),
            Some(Credentials::basic("a", "b"))
        );
        assert_eq!(s.lookup("other.example").unwrap(), None);
    }
}

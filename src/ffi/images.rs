//! Whole images: deleting manifests and tags, platforms, copies, referrers.

use std::ffi::c_char;

use serde::Deserialize;
use serde_json::json;

use super::boundary::{self, call};
use super::client::{dockreg_client, skipped_json};
use super::error::FfiError;
use super::status::dockreg_status;
use crate::client::CopyOptions;
use crate::error::Error;
use crate::platform::Platform;

/// Deletes the manifest `image` names by digest, and with it every tag that points at it.
///
/// - `client`, `image` (it must carry a digest: `"registry:5000/app@sha256:..."`): must not be
///   NULL.
///
/// Returns `DOCKREG_OK` once the registry accepted the delete; there is no output. To remove
/// one tag only, use `dockreg_client_delete_tag`. Errors: misuse (1-2),
/// `DOCKREG_ERR_INVALID_REFERENCE`, `DOCKREG_ERR_INVALID_ARGUMENT` (no digest in `image`),
/// transport (20-24), auth (30-32), registry (40-44; `DOCKREG_ERR_REGISTRY` (405) where
/// deletes are disabled). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_delete_manifest(
    client: *const dockreg_client,
    image: *const c_char,
) -> dockreg_status {
    call("dockreg_client_delete_manifest", || {
        // SAFETY: pointers as documented above.
        let (client, image) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(image, "image")?,
            )
        };
        Ok(client.delete_manifest(&boundary::reference_arg(image)?)?)
    })
}

/// Deletes the tag `image` names, leaving the manifest and its other tags in place.
///
/// - `client`, `image` (with a tag and no digest: `"registry:5000/app:old"`): must not be NULL.
///
/// Returns `DOCKREG_OK` once the registry removed the tag; there is no output. Registries that
/// can only delete manifests by digest (distribution 2.x among them) give
/// `DOCKREG_ERR_UNSUPPORTED`: the manifest is never deleted instead, since that would remove
/// every other tag on it too. Errors: misuse (1-2), `DOCKREG_ERR_INVALID_REFERENCE`,
/// `DOCKREG_ERR_INVALID_ARGUMENT` (no tag, or a digest too), transport (20-24), auth (30-32),
/// registry (40-45). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_delete_tag(
    client: *const dockreg_client,
    image: *const c_char,
) -> dockreg_status {
    call("dockreg_client_delete_tag", || {
        // SAFETY: pointers as documented above.
        let (client, image) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(image, "image")?,
            )
        };
        Ok(client.delete_tag(&boundary::reference_arg(image)?)?)
    })
}

/// The platforms of the image `image` names: of each entry of an index (attestations left
/// out), or the one of a single image (from its config).
///
/// - `client`, `image`, `out_json`: must not be NULL.
///
/// On success `out_json` receives the platforms with the OCI field names (`variant`,
/// `os.version`, `os.features` and `features` only when set):
/// ```json
/// {"platforms": [
///   {"architecture": "amd64", "os": "linux"},
///   {"architecture": "arm64", "os": "linux", "variant": "v8"}
/// ]}
/// ```
/// Errors as `dockreg_client_get_manifest`, except `DOCKREG_ERR_PLATFORM_NOT_FOUND`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_list_platforms(
    client: *const dockreg_client,
    image: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_list_platforms", || {
        // SAFETY: pointers as documented above.
        let (client, image, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(image, "image")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let platforms = client.list_platforms(&boundary::reference_arg(image)?)?;
        out.put_json(&json!({ "platforms": platforms }))
    })
}

/// The options JSON of `dockreg_client_copy_image`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CopyImageOptions {
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    all_tags: bool,
}

/// Copies an image (a single manifest, or an index with all its children) with every blob it
/// references from `src` to `dst`, manifests byte for byte so that digests stay the same.
/// Within one registry blobs are mounted; between registries they are streamed blob by blob
/// (never a whole layer in memory). Blobs and child manifests the destination has are skipped.
///
/// - `client`, `src` (e.g. `"registry:5000/app:1.0"`), `dst` (e.g.
///   `"mirror:5000/team/app:1.0"`), `out_json`: must not be NULL. Without a tag in `dst`,
///   `src`'s tag is used (not when a platform is picked); without either, the manifest is
///   pushed by digest. A digest in `dst` must be the one copied.
/// - `options_json`: NULL or `"{}"` for the defaults, or an object with any of these keys (any
///   other key is `DOCKREG_ERR_INVALID_OPTION` naming it):
///   ```json
///   {
///     "platform": "linux/arm64", // copy only this platform's image out of an index;
///                                // null (default): everything
///     "all_tags": false          // true: copy every tag of the repository `src` names to the
///                                // repository `dst` names (their tags and digests ignored);
///                                // not with "platform"
///   }
///   ```
///
/// On success `out_json` receives `{"digest": "sha256:..."}`, the digest written. With
/// `"all_tags": true`, each tag copied and its digest in the source's order, and the tags
/// skipped (see `dockreg_client_list_instances` for the entries; `reason` is `"invalid_tag"`
/// or `"error"` here); one odd tag does not fail the copy, an error that would hit every tag
/// (transport, auth, 5xx) does:
/// ```json
/// {"tags": [{"tag": "1.0", "digest": "sha256:..."}],
///  "skipped": [{"tag": "bad tag", "digest": null, "reason": "invalid_tag",
///               "message": "not a valid tag"}]}
/// ```
/// Artifacts (Helm charts, signatures, ...) are copied like images.
///
/// Errors: misuse (1-4), `DOCKREG_ERR_INVALID_REFERENCE`, `DOCKREG_ERR_INVALID_ARGUMENT` (a
/// digest in `dst` that is not the one copied), transport (20-24), auth (30-32), registry
/// (40-44; `DOCKREG_ERR_PLATFORM_NOT_FOUND` for a platform the index lacks),
/// `DOCKREG_ERR_DIGEST_MISMATCH`, `DOCKREG_ERR_TOO_LARGE`. A failed copy may leave blobs and
/// child manifests behind in `dst`, never a broken blob. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_copy_image(
    client: *const dockreg_client,
    src: *const c_char,
    dst: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_copy_image", || {
        // SAFETY: pointers as documented above; NULL options mean the defaults.
        let (client, src, dst, options, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(src, "src")?,
                boundary::str_arg(dst, "dst")?,
                boundary::opt_str_arg(options_json, "options_json")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let (src, dst) = (boundary::reference_arg(src)?, boundary::reference_arg(dst)?);
        let options: CopyImageOptions = boundary::options_arg(options, "options_json")?;
        if options.all_tags {
            if options.platform.is_some() {
                return Err(FfiError::Option(
                    "all_tags: cannot be combined with \"platform\"".into(),
                ));
            }
            let report = client.copy_all_tags(&src, &dst)?;
            let tags: Vec<_> = report
                .copied
                .iter()
                .map(|(tag, digest)| json!({ "tag": tag, "digest": digest }))
                .collect();
            let skipped: Vec<_> = report.skipped.iter().map(skipped_json).collect();
            return out.put_json(&json!({ "tags": tags, "skipped": skipped }));
        }
        let mut copy = CopyOptions::new();
        if let Some(p) = &options.platform {
            let p: Platform = p
                .parse()
                .map_err(|e| FfiError::Option(format!("platform: {e}")))?;
            copy = copy.platform(p);
        }
        let digest = client.copy_image(&src, &dst, copy)?;
        out.put_json(&json!({ "digest": digest }))
    })
}

/// The referrers (OCI 1.1: signatures, SBOMs, attestations) of the manifest `image` names; a
/// tag is resolved to its digest first. Uses the registry's referrers API, or the
/// `sha256-<hex>` tag of the fallback scheme where the registry has none.
///
/// - `client`, `image`, `out_json`: must not be NULL.
/// - `artifact_type`: NULL for every referrer, or only those of this artifact type (e.g.
///   `"application/vnd.example.sbom"`); must not be empty.
///
/// On success `out_json` receives the descriptors as the referrers API lists them:
/// ```json
/// {"manifests": [
///   {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:...",
///    "size": 512, "artifactType": "application/vnd.example.sbom",
///    "annotations": {"org.example.key": "value"}}
/// ]}
/// ```
/// (`artifactType` and `annotations` only when set). No referrers is an empty list.
/// Errors as `dockreg_client_get_manifest`, except `DOCKREG_ERR_PLATFORM_NOT_FOUND`, plus
/// `DOCKREG_ERR_INVALID_ARGUMENT` (an empty artifact type). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_list_referrers(
    client: *const dockreg_client,
    image: *const c_char,
    artifact_type: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_list_referrers", || {
        // SAFETY: pointers as documented above; a NULL artifact type means every referrer.
        let (client, image, artifact_type, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(image, "image")?,
                boundary::opt_str_arg(artifact_type, "artifact_type")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let image = boundary::reference_arg(image)?;
        if artifact_type == Some("") {
            return Err(Error::InvalidInput(
                "artifact_type is empty (pass NULL for every referrer)".into(),
            )
            .into());
        }
        let manifests = client.list_referrers(&image, artifact_type)?;
        out.put_json(&json!({ "manifests": manifests }))
    })
}

/// Pushes an artifact manifest that has a `subject` (a signature, an SBOM, ...) into the
/// repository `repository` names: by its tag when `repository` has one, else by digest. Where
/// the registry has no referrers API, the fallback index tagged `sha256-<hex>` of the subject
/// gets an entry for it (read, extended, written back; concurrent pushers can race).
///
/// - `client`, `repository`, `media_type` (e.g. `"application/vnd.oci.image.manifest.v1+json"`),
///   `out_json`: must not be NULL.
/// - `manifest`, `manifest_len`: the exact bytes (their digest is the manifest's digest);
///   `manifest` must not be NULL. The subject (and every blob the manifest references) must
///   already be in the repository.
///
/// On success `out_json` receives `{"digest": "sha256:..."}`. Errors as
/// `dockreg_client_put_manifest`; `DOCKREG_ERR_INVALID_ARGUMENT` also for a manifest that does
/// not parse or has no `subject`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dockreg_client_push_referrer(
    client: *const dockreg_client,
    repository: *const c_char,
    manifest: *const u8,
    manifest_len: usize,
    media_type: *const c_char,
    out_json: *mut *mut c_char,
) -> dockreg_status {
    call("dockreg_client_push_referrer", || {
        // SAFETY: pointers as documented above; `manifest` is valid for `manifest_len` bytes.
        let (client, repository, bytes, media_type, out) = unsafe {
            (
                boundary::client_arg(client)?,
                boundary::str_arg(repository, "repository")?,
                boundary::buf_arg(manifest, manifest_len, "manifest")?,
                boundary::str_arg(media_type, "media_type")?,
                boundary::out_arg(out_json, "out_json")?,
            )
        };
        let repository = boundary::reference_arg(repository)?;
        let digest = client.push_referrer(&repository, bytes, media_type)?;
        out.put_json(&json!({ "digest": digest }))
    })
}

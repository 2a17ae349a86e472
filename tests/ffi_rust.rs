//! The C ABI called from Rust: the last error (set, cleared, per thread), out-params left
//! untouched on error, the JSON documents returned, and blob downloads with callbacks.
//!
//! (A panic inside the boundary becoming `DOCKREG_ERR_PANIC` is tested next to the boundary,
//! in `src/ffi/boundary.rs`, since no export can be made to panic from outside.)

mod common;

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr;

use common::{TempDir, sha256_digest, shared};
use dockreg::ffi::{self, dockreg_client, dockreg_status};
use serde_json::Value;

use dockreg_status::*;

/// What a non-NULL pointer from dockreg looks like before a call: any write shows.
const SENTINEL: *mut c_char = 0x5a5a_5a5a_usize as *mut c_char;

fn last_message() -> Option<String> {
    let p = ffi::dockreg_last_error_message();
    // SAFETY: NULL or a C string valid until the next call on this thread.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string())
}

fn last_json() -> Option<Value> {
    let p = ffi::dockreg_last_error_json();
    // SAFETY: as above.
    (!p.is_null())
        .then(|| serde_json::from_str(unsafe { CStr::from_ptr(p) }.to_str().unwrap()).unwrap())
}

/// Takes ownership of a string dockreg returned and parses it.
fn take_json(p: *mut c_char) -> Value {
    assert!(!p.is_null() && p != SENTINEL, "no string was written");
    // SAFETY: a live string from dockreg, freed exactly once here.
    let text = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string();
    unsafe { ffi::dockreg_string_free(p) };
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Calls a `(string, char **out_json)` function; returns the status and the output.
fn call1(
    f: unsafe extern "C" fn(*const c_char, *mut *mut c_char) -> dockreg_status,
    arg: &str,
) -> (dockreg_status, Option<Value>) {
    let arg = c(arg);
    let mut out = SENTINEL;
    // SAFETY: a valid C string and a writable pointer.
    let st = unsafe { f(arg.as_ptr(), &mut out) };
    if st == DOCKREG_OK {
        (st, Some(take_json(out)))
    } else {
        assert_eq!(out, SENTINEL, "out-param written on failure ({st:?})");
        (st, None)
    }
}

struct Client(*mut dockreg_client);

impl Client {
    fn new(options: Option<&str>) -> Result<Client, dockreg_status> {
        let options = options.map(c);
        let mut out: *mut dockreg_client = ptr::null_mut();
        // SAFETY: NULL or a C string, and a writable pointer.
        let st = unsafe {
            ffi::dockreg_client_new(
                options.as_ref().map_or(ptr::null(), |o| o.as_ptr()),
                &mut out,
            )
        };
        if st == DOCKREG_OK {
            assert!(!out.is_null());
            Ok(Client(out))
        } else {
            assert!(out.is_null(), "client written on failure");
            Err(st)
        }
    }

    /// Calls a `(client, string, char **out_json)` operation.
    fn op(
        &self,
        f: unsafe extern "C" fn(
            *const dockreg_client,
            *const c_char,
            *mut *mut c_char,
        ) -> dockreg_status,
        arg: &str,
    ) -> Result<Value, dockreg_status> {
        let arg = c(arg);
        let mut out = SENTINEL;
        // SAFETY: a live client, a C string, a writable pointer.
        let st = unsafe { f(self.0, arg.as_ptr(), &mut out) };
        if st == DOCKREG_OK {
            assert!(
                last_message().is_none(),
                "last error not cleared by a success"
            );
            Ok(take_json(out))
        } else {
            assert_eq!(out, SENTINEL, "out-param written on failure ({st:?})");
            assert!(last_message().is_some(), "no last error after {st:?}");
            Err(st)
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: a client from dockreg_client_new, freed once.
        unsafe { ffi::dockreg_client_free(self.0) };
    }
}

// SAFETY: the C ABI documents a client as usable from many threads at once.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

#[test]
fn last_error_is_set_on_failure_and_cleared_on_success() {
    assert_eq!(
        call1(ffi::dockreg_reference_parse, "bad//ref").0,
        DOCKREG_ERR_INVALID_REFERENCE
    );
    let msg = last_message().unwrap();
    assert!(
        msg.starts_with("invalid image reference \"bad//ref\""),
        "{msg}"
    );
    let json = last_json().unwrap();
    assert_eq!(json["status"], 10);
    assert_eq!(json["status_name"], "DOCKREG_ERR_INVALID_REFERENCE");
    assert_eq!(json["function"], "dockreg_reference_parse");
    assert_eq!(json["message"], msg.as_str());
    assert_eq!(json["http_status"], Value::Null);
    assert_eq!(json["errors"], serde_json::json!([]));

    // Functions without a status leave it alone.
    let p = ffi::dockreg_last_error_message();
    // SAFETY: NULL is allowed.
    unsafe { ffi::dockreg_string_free(ptr::null_mut()) };
    unsafe { ffi::dockreg_client_free(ptr::null_mut()) };
    let _ = ffi::dockreg_version();
    let _ = ffi::dockreg_status_name(3);
    assert_eq!(ffi::dockreg_last_error_message(), p);

    // A success clears it.
    assert_eq!(call1(ffi::dockreg_reference_parse, "ubuntu").0, DOCKREG_OK);
    assert!(last_message().is_none());
    assert!(last_json().is_none());

    // So does a success of another function, and a new failure replaces it.
    assert_eq!(
        call1(ffi::dockreg_split_image, "a::b").0,
        DOCKREG_ERR_INVALID_REFERENCE
    );
    assert_eq!(last_json().unwrap()["function"], "dockreg_split_image");
    let client = Client::new(None).unwrap();
    assert!(
        last_message().is_none(),
        "dockreg_client_new did not clear the last error"
    );
    drop(client);
}

#[test]
fn last_error_is_per_thread() {
    assert_eq!(
        call1(ffi::dockreg_reference_parse, "A B").0,
        DOCKREG_ERR_INVALID_REFERENCE
    );
    let mine = last_message().unwrap();
    std::thread::spawn(|| {
        assert!(
            last_message().is_none(),
            "another thread's error is visible"
        );
        assert_eq!(
            call1(ffi::dockreg_split_image, "").0,
            DOCKREG_ERR_INVALID_REFERENCE
        );
        assert!(last_message().unwrap().contains("empty"));
    })
    .join()
    .unwrap();
    assert_eq!(last_message().unwrap(), mine);
}

#[test]
fn out_params_are_untouched_on_error() {
    let image = c("ubuntu");
    let mut untouched = SENTINEL;
    // NULL arguments, each named in the message.
    let named = |st: dockreg_status, name: &str| {
        assert_eq!(st, DOCKREG_ERR_NULL_ARGUMENT);
        let msg = last_message().unwrap();
        assert!(msg.contains(&format!("`{name}` is NULL")), "{msg}");
    };
    // SAFETY (all three): NULL where the function checks for it, valid pointers elsewhere.
    named(
        unsafe { ffi::dockreg_reference_parse(ptr::null(), &mut untouched) },
        "image",
    );
    named(
        unsafe { ffi::dockreg_reference_parse(image.as_ptr(), ptr::null_mut()) },
        "out_json",
    );
    named(
        unsafe { ffi::dockreg_client_new(ptr::null(), ptr::null_mut()) },
        "out",
    );
    assert_eq!(untouched, SENTINEL);
    let mut out = SENTINEL;
    // SAFETY: NULL client is checked.
    let st = unsafe { ffi::dockreg_client_get_digest(ptr::null(), image.as_ptr(), &mut out) };
    assert_eq!((st, out), (DOCKREG_ERR_NULL_ARGUMENT, SENTINEL));

    // Invalid UTF-8.
    let bad = CString::new(vec![b'a', 0xff]).unwrap();
    let mut out = SENTINEL;
    // SAFETY: a C string and a writable pointer.
    let st = unsafe { ffi::dockreg_split_image(bad.as_ptr(), &mut out) };
    assert_eq!((st, out), (DOCKREG_ERR_INVALID_UTF8, SENTINEL));

    // A client handle is left alone too.
    let sentinel_client = 0x1234usize as *mut dockreg_client;
    let mut client = sentinel_client;
    let opts = c("{\"nope\": 1}");
    // SAFETY: a C string and a writable pointer.
    let st = unsafe { ffi::dockreg_client_new(opts.as_ptr(), &mut client) };
    assert_eq!((st, client), (DOCKREG_ERR_INVALID_OPTION, sentinel_client));
}

#[test]
fn options_json_is_strict() {
    let cases = [
        ("{", DOCKREG_ERR_INVALID_JSON, "options_json"),
        (
            "{\"insecure_registry\": []}",
            DOCKREG_ERR_INVALID_OPTION,
            "`insecure_registry`",
        ),
        (
            "{\"credentials\": {\"r.io\": {\"user\": \"u\"}}}",
            DOCKREG_ERR_INVALID_OPTION,
            "`user`",
        ),
        ("[1]", DOCKREG_ERR_INVALID_OPTION, "JSON object"),
        ("null", DOCKREG_ERR_INVALID_OPTION, "JSON object"),
        (
            "{\"read_timeout_ms\": 0}",
            DOCKREG_ERR_INVALID_OPTION,
            "read_timeout_ms",
        ),
        (
            "{\"read_timeout_ms\": null}",
            DOCKREG_ERR_INVALID_OPTION,
            "stall_timeout_ms",
        ),
        (
            "{\"stall_timeout_ms\": 0}",
            DOCKREG_ERR_INVALID_OPTION,
            "stall_timeout_ms",
        ),
        (
            "{\"retry\": {\"max_attempts\": 0}}",
            DOCKREG_ERR_INVALID_OPTION,
            "retry.max_attempts",
        ),
        (
            "{\"retry\": {\"attempts\": 3}}",
            DOCKREG_ERR_INVALID_OPTION,
            "attempts",
        ),
        (
            "{\"max_manifest_size\": 0}",
            DOCKREG_ERR_INVALID_OPTION,
            "max_manifest_size",
        ),
        (
            "{\"platform\": \"linux/arm64/v8/x\"}",
            DOCKREG_ERR_INVALID_OPTION,
            "platform",
        ),
        (
            "{\"credentials\": {\"bad host\": {\"bearer_token\": \"t\"}}}",
            DOCKREG_ERR_INVALID_OPTION,
            "credentials.bad host",
        ),
        (
            "{\"docker_config\": \"\"}",
            DOCKREG_ERR_INVALID_OPTION,
            "docker_config",
        ),
    ];
    for (options, want, needle) in cases {
        assert_eq!(Client::new(Some(options)).err(), Some(want), "{options}");
        let msg = last_message().unwrap();
        assert!(msg.contains(needle), "{options}: {msg}");
        assert!(msg.starts_with("dockreg_client_new: "), "{msg}");
    }
    for options in [
        "{}",
        "{\"docker_config\": null, \"read_timeout_ms\": 1000, \"request_timeout_ms\": null}",
        "{\"retry\": {\"max_attempts\": 1}, \"stall_timeout_ms\": 5}",
        "{\"platform\": \"windows/amd64\", \"page_size\": 1000, \"connect_timeout_ms\": 1}",
    ] {
        assert!(
            Client::new(Some(options)).is_ok(),
            "{options}: {:?}",
            last_message()
        );
    }
}

#[test]
fn status_values_and_names() {
    for (value, name) in [
        (0, "DOCKREG_OK"),
        (1, "DOCKREG_ERR_NULL_ARGUMENT"),
        (4, "DOCKREG_ERR_INVALID_OPTION"),
        (10, "DOCKREG_ERR_INVALID_REFERENCE"),
        (20, "DOCKREG_ERR_CONNECT"),
        (30, "DOCKREG_ERR_UNAUTHORIZED"),
        (40, "DOCKREG_ERR_NOT_FOUND"),
        (50, "DOCKREG_ERR_DIGEST_MISMATCH"),
        (60, "DOCKREG_ERR_FILE_IO"),
        (61, "DOCKREG_ERR_CANCELLED"),
        (70, "DOCKREG_ERR_READ_CALLBACK"),
        (71, "DOCKREG_ERR_UNKNOWN"),
        (99, "DOCKREG_ERR_PANIC"),
        (5, "DOCKREG_ERR_UNKNOWN"),
        (i32::MIN, "DOCKREG_ERR_UNKNOWN"),
    ] {
        // SAFETY: dockreg_status_name returns a static C string.
        let got = unsafe { CStr::from_ptr(ffi::dockreg_status_name(value)) };
        assert_eq!(got.to_str().unwrap(), name);
    }
    // SAFETY: a static C string.
    let version = unsafe { CStr::from_ptr(ffi::dockreg_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn references_as_json() {
    let (st, v) = call1(
        ffi::dockreg_reference_parse,
        "localhost:5000/a/b:1.0@sha256:0123456789012345678901234567890123456789012345678901234567890123",
    );
    assert_eq!(st, DOCKREG_OK);
    assert_eq!(
        v.unwrap(),
        serde_json::json!({
            "registry": "localhost:5000",
            "repository": "a/b",
            "tag": "1.0",
            "digest": "sha256:0123456789012345678901234567890123456789012345678901234567890123",
        })
    );
    let (_, v) = call1(ffi::dockreg_reference_parse, "ubuntu");
    assert_eq!(
        v.unwrap(),
        serde_json::json!({"registry": "docker.io", "repository": "library/ubuntu", "tag": null, "digest": null})
    );
    let (_, v) = call1(ffi::dockreg_split_image, "index.docker.io/x:7");
    assert_eq!(
        v.unwrap(),
        serde_json::json!({"registry": "docker.io", "repository": "library/x", "reference": "7"})
    );
}

#[test]
fn registry_operations_return_documented_json() {
    let f = shared();
    let client = Client::new(None).unwrap();
    let image = format!("{}/{}", f.addr(), f.oci_image.reference());

    let m = client.op(ffi::dockreg_client_get_manifest, &image).unwrap();
    assert_eq!(m["digest"], f.oci_image.digest.as_str());
    assert_eq!(m["mediaType"], f.oci_image.media_type.as_str());
    assert_eq!(m["indexDigest"], Value::Null);
    assert_eq!(m["size"], f.oci_image.manifest.len());
    assert_eq!(m["manifest"], f.oci_image.manifest_json());

    // The raw manifest is embedded byte for byte: the text ends with the exact bytes.
    let arg = c(&image);
    let mut out = SENTINEL;
    // SAFETY: a live client, a C string, a writable pointer.
    let st = unsafe { ffi::dockreg_client_get_raw_manifest(client.0, arg.as_ptr(), &mut out) };
    assert_eq!(st, DOCKREG_OK);
    // SAFETY: a live string from dockreg.
    let text = unsafe { CStr::from_ptr(out) }.to_bytes().to_vec();
    unsafe { ffi::dockreg_string_free(out) };
    let manifest = std::str::from_utf8(&f.oci_image.manifest).unwrap().trim();
    assert!(
        text.ends_with(format!("\"manifest\":{manifest}}}").as_bytes()),
        "{}",
        String::from_utf8_lossy(&text)
    );

    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    let m = client.op(ffi::dockreg_client_get_manifest, &index).unwrap();
    assert_eq!(m["indexDigest"], f.oci_index.digest.as_str());
    let amd = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "amd64")
        .unwrap();
    assert_eq!(m["digest"], amd.digest.as_str());

    let d = client.op(ffi::dockreg_client_get_digest, &index).unwrap();
    assert_eq!(d, serde_json::json!({"digest": f.oci_index.digest}));

    let h = client
        .op(ffi::dockreg_client_head_manifest, &image)
        .unwrap();
    assert_eq!(h["digest"], f.oci_image.digest.as_str());
    assert_eq!(h["size"], f.oci_image.manifest.len());

    let cfg = client
        .op(ffi::dockreg_client_get_image_config, &image)
        .unwrap();
    assert_eq!(cfg["architecture"], "amd64");
    assert_eq!(cfg["os"], "linux");

    let tags = client
        .op(
            ffi::dockreg_client_list_tags,
            &format!("{}/{}", f.addr(), f.many_tags.repo),
        )
        .unwrap();
    assert_eq!(tags["name"], format!("{}/{}", f.addr(), f.many_tags.repo));
    let mut got: Vec<String> = serde_json::from_value(tags["tags"].clone()).unwrap();
    got.sort();
    assert_eq!(got, f.many_tags.tags);

    let repos = client
        .op(ffi::dockreg_client_list_repositories, &f.addr())
        .unwrap();
    let got: Vec<String> = serde_json::from_value(repos["repositories"].clone()).unwrap();
    for r in f.all_repos() {
        assert!(got.contains(&r), "{r} missing from the catalog");
    }

    let inst = client
        .op(
            ffi::dockreg_client_list_instances,
            &format!("{}/{}", f.addr(), f.oci_image.repo),
        )
        .unwrap();
    let list = inst["instances"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["digest"], f.oci_image.digest.as_str());
    assert_eq!(list[0]["tags"], serde_json::json!(["v1"]));
    let created = list[0]["created"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{created}"
    );
    assert_eq!(list[0]["uploaded"], Value::Null);
}

#[test]
fn registry_errors_carry_http_details() {
    let f = shared();
    let client = Client::new(None).unwrap();
    let missing = format!("{}/{}:no-such-tag", f.addr(), f.oci_image.repo);
    assert_eq!(
        client.op(ffi::dockreg_client_get_manifest, &missing),
        Err(DOCKREG_ERR_NOT_FOUND)
    );
    let e = last_json().unwrap();
    assert_eq!(e["status"], 40);
    assert_eq!(e["http_status"], 404);
    assert_eq!(e["method"], "GET");
    assert_eq!(
        e["url"],
        format!("{}/v2/{}/manifests/no-such-tag", f.url(), f.oci_image.repo)
    );
    assert_eq!(e["errors"][0]["code"], "MANIFEST_UNKNOWN");
    assert_eq!(e["function"], "dockreg_client_get_manifest");

    // A registry that is down: a transport error, with the URL but no HTTP status.
    let port = common::registry::free_port();
    let down = format!("127.0.0.1:{port}/app:v1");
    assert_eq!(
        client.op(ffi::dockreg_client_get_digest, &down),
        Err(DOCKREG_ERR_CONNECT)
    );
    let e = last_json().unwrap();
    assert_eq!(e["http_status"], Value::Null);
    assert_eq!(e["method"], "HEAD");
    assert!(
        e["url"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{port}")),
        "{e}"
    );

    // An index without the client's platform.
    let s390 = Client::new(Some("{\"platform\": \"linux/s390x\"}")).unwrap();
    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    assert_eq!(
        s390.op(ffi::dockreg_client_get_manifest, &index),
        Err(DOCKREG_ERR_PLATFORM_NOT_FOUND)
    );
    assert!(last_message().unwrap().contains("linux/arm64"));
}

#[test]
fn one_client_serves_many_threads() {
    let f = shared();
    let client = Client::new(None).unwrap();
    let image = format!("{}/{}", f.addr(), f.docker_image.reference());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..5 {
                    let d = client.op(ffi::dockreg_client_get_digest, &image).unwrap();
                    assert_eq!(d["digest"], f.docker_image.digest.as_str());
                }
            });
        }
    });
}

struct Collect {
    bytes: Vec<u8>,
    accept: usize,
}

unsafe extern "C" fn collect(ctx: *mut c_void, buf: *const u8, len: usize) -> usize {
    // SAFETY: ctx is the &mut Collect passed with this callback; buf holds len bytes.
    let c = unsafe { &mut *ctx.cast::<Collect>() };
    let n = len.min(c.accept.saturating_sub(c.bytes.len()));
    c.bytes
        .extend_from_slice(unsafe { std::slice::from_raw_parts(buf, n) });
    n
}

struct Seen {
    calls: Vec<(u64, u64)>,
    stop_at: usize,
}

unsafe extern "C" fn progress(ctx: *mut c_void, done: u64, total: u64) -> c_int {
    // SAFETY: ctx is the &mut Seen passed with this callback.
    let s = unsafe { &mut *ctx.cast::<Seen>() };
    s.calls.push((done, total));
    c_int::from(s.stop_at != 0 && s.calls.len() >= s.stop_at)
}

#[test]
fn blobs_through_callbacks_and_files() {
    let f = shared();
    let client = Client::new(None).unwrap();
    let repo = c(&format!("{}/{}", f.addr(), f.oci_image.repo));
    let layer = &f.oci_image.layers[0];
    let digest = c(&layer.digest);

    let get = |accept: usize, stop_at: usize| {
        let mut sink = Collect {
            bytes: Vec::new(),
            accept,
        };
        let mut seen = Seen {
            calls: Vec::new(),
            stop_at,
        };
        let mut out = SENTINEL;
        // SAFETY: live client and strings; the callbacks' contexts outlive the call.
        let st = unsafe {
            ffi::dockreg_client_get_blob(
                client.0,
                repo.as_ptr(),
                digest.as_ptr(),
                Some(collect),
                (&mut sink as *mut Collect).cast(),
                Some(progress),
                (&mut seen as *mut Seen).cast(),
                &mut out,
            )
        };
        let json = (st == DOCKREG_OK).then(|| take_json(out));
        if st != DOCKREG_OK {
            assert_eq!(out, SENTINEL);
        }
        (st, json, sink.bytes, seen.calls)
    };
    let (st, json, bytes, calls) = get(usize::MAX, 0);
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(bytes, layer.data);
    assert_eq!(
        json.unwrap(),
        serde_json::json!({"digest": layer.digest, "size": layer.size})
    );
    // The first report comes before any request (total unknown yet), then the size is known.
    assert_eq!(calls.first(), Some(&(0, 0)));
    assert_eq!(calls.last(), Some(&(layer.size, layer.size)));

    let (st, _, bytes, _) = get(usize::MAX, 1);
    assert_eq!(st, DOCKREG_ERR_CANCELLED);
    assert!(bytes.is_empty());
    let (st, _, _, _) = get(1, 0);
    assert_eq!(st, DOCKREG_ERR_CALLBACK);
    assert!(
        last_message().unwrap().contains("consumed"),
        "{:?}",
        last_message()
    );

    // To a file: complete and verified, or nothing.
    let dir = TempDir::new("ffi-rust-blob");
    let to_file = |path: &std::path::Path, stop_at: usize| {
        let path = c(path.to_str().unwrap());
        let mut seen = Seen {
            calls: Vec::new(),
            stop_at,
        };
        let mut out = SENTINEL;
        // SAFETY: as above.
        let st = unsafe {
            ffi::dockreg_client_get_blob_to_file(
                client.0,
                repo.as_ptr(),
                digest.as_ptr(),
                path.as_ptr(),
                Some(progress),
                (&mut seen as *mut Seen).cast(),
                &mut out,
            )
        };
        if st == DOCKREG_OK {
            take_json(out);
        } else {
            assert_eq!(out, SENTINEL);
        }
        st
    };
    let path = dir.join("layer");
    assert_eq!(to_file(&path, 0), DOCKREG_OK);
    assert_eq!(std::fs::read(&path).unwrap(), layer.data);
    std::fs::write(&path, b"old").unwrap();
    assert_eq!(to_file(&path, 2), DOCKREG_ERR_CANCELLED);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"old",
        "a failed download touched the file"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("layer")],
        "temporary files left"
    );
}

/// A blob source in memory for `dockreg_client_push_blob`; fails with `SIZE_MAX` at `fail_at`.
struct Source {
    data: Vec<u8>,
    pos: usize,
    fail_at: usize,
    calls: usize,
}

unsafe extern "C" fn source(ctx: *mut c_void, buf: *mut u8, cap: usize) -> usize {
    // SAFETY: ctx is the &mut Source passed with this callback; buf holds cap bytes.
    let s = unsafe { &mut *ctx.cast::<Source>() };
    s.calls += 1;
    if s.pos >= s.fail_at {
        return usize::MAX;
    }
    let n = cap.min(s.data.len() - s.pos).min(7000);
    // SAFETY: buf is valid for cap >= n bytes and does not overlap our data.
    unsafe { std::ptr::copy_nonoverlapping(s.data[s.pos..].as_ptr(), buf, n) };
    s.pos += n;
    n
}

impl Client {
    /// `dockreg_client_push_blob` of `data`; the status, the output, the progress reports.
    fn push(
        &self,
        repo: &str,
        data: &[u8],
        options: Option<&str>,
        fail_at: usize,
        stop_at: usize,
    ) -> (dockreg_status, Option<Value>, Vec<(u64, u64)>, usize) {
        let repo = c(repo);
        let options = options.map(c);
        let mut src = Source {
            data: data.to_vec(),
            pos: 0,
            fail_at,
            calls: 0,
        };
        let mut seen = Seen {
            calls: Vec::new(),
            stop_at,
        };
        let mut out = SENTINEL;
        // SAFETY: live client and strings; the callbacks' contexts outlive the call.
        let st = unsafe {
            ffi::dockreg_client_push_blob(
                self.0,
                repo.as_ptr(),
                Some(source),
                (&mut src as *mut Source).cast(),
                options.as_ref().map_or(ptr::null(), |o| o.as_ptr()),
                Some(progress),
                (&mut seen as *mut Seen).cast(),
                &mut out,
            )
        };
        let json = if st == DOCKREG_OK {
            assert!(last_message().is_none());
            Some(take_json(out))
        } else {
            assert_eq!(out, SENTINEL, "out-param written on failure ({st:?})");
            None
        };
        (st, json, seen.calls, src.calls)
    }

    /// Whether the repository has the blob (`dockreg_client_head_blob`).
    fn has_blob(&self, repo: &str, digest: &str) -> bool {
        let (repo, digest) = (c(repo), c(digest));
        let mut out = SENTINEL;
        // SAFETY: live client, C strings, a writable pointer.
        let st = unsafe {
            ffi::dockreg_client_head_blob(self.0, repo.as_ptr(), digest.as_ptr(), &mut out)
        };
        assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
        take_json(out)["exists"].as_bool().unwrap()
    }
}

#[test]
fn uploads_through_callbacks_and_files() {
    let f = shared();
    let client = Client::new(None).unwrap();
    let repo = format!("{}/ffi-rust/uploads", f.addr());
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let digest = sha256_digest(&data);

    // Size unknown: total 0 throughout, the last report is every byte.
    let (st, json, calls, _) = client.push(&repo, &data, None, usize::MAX, 0);
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(
        json.unwrap(),
        serde_json::json!({"digest": digest, "size": data.len()})
    );
    assert_eq!(calls.first(), Some(&(0, 0)));
    assert_eq!(calls.last(), Some(&(data.len() as u64, 0)));
    assert!(client.has_blob(&repo, &digest));

    // Size known, chunked: the total is reported from the start.
    let opts = r#"{"size": 200000, "chunk_size": 65536, "skip_existing": false}"#;
    let (st, json, calls, _) = client.push(&repo, &data, Some(opts), usize::MAX, 0);
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(json.unwrap()["digest"], digest.as_str());
    assert_eq!(calls.first(), Some(&(0, 200_000)));
    assert_eq!(calls.last(), Some(&(200_000, 200_000)));

    // Present and digest known: skipped without reading, reported as done.
    let opts = format!(r#"{{"digest": "{digest}"}}"#);
    let (st, json, calls, reads) = client.push(&repo, &data, Some(&opts), usize::MAX, 0);
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(json.unwrap()["size"], 200_000);
    assert_eq!(reads, 0);
    assert_eq!(calls.last(), Some(&(200_000, 200_000)));

    // A read callback failure has its own status; nothing is left behind.
    let other: Vec<u8> = data.iter().map(|b| b.wrapping_add(1)).collect();
    let other_digest = sha256_digest(&other);
    for opts in [None, Some(r#"{"size": 200000}"#)] {
        let (st, ..) = client.push(&repo, &other, opts, 50_000, 0);
        assert_eq!(st, DOCKREG_ERR_READ_CALLBACK, "{opts:?}");
        let e = last_json().unwrap();
        assert_eq!(e["status"], 70);
        assert_eq!(e["status_name"], "DOCKREG_ERR_READ_CALLBACK");
        assert_eq!(e["function"], "dockreg_client_push_blob");
        assert!(last_message().unwrap().contains("SIZE_MAX"));
    }
    // Cancelled by progress, before the start and in the middle.
    let (st, _, _, reads) = client.push(&repo, &other, None, usize::MAX, 1);
    assert_eq!((st, reads), (DOCKREG_ERR_CANCELLED, 0));
    let (st, ..) = client.push(&repo, &other, Some(r#"{"size": 200000}"#), usize::MAX, 4);
    assert_eq!(st, DOCKREG_ERR_CANCELLED);
    assert!(
        !client.has_blob(&repo, &other_digest),
        "a broken upload left a blob"
    );

    // Strict options: the key is named, nothing is read.
    for (opts, want, needle) in [
        ("{\"sise\": 1}", DOCKREG_ERR_INVALID_OPTION, "`sise`"),
        (
            "{\"chunk_size\": 0}",
            DOCKREG_ERR_INVALID_OPTION,
            "chunk_size",
        ),
        (
            "{\"digest\": \"sha256:1\"}",
            DOCKREG_ERR_INVALID_OPTION,
            "digest",
        ),
        (
            "{\"mount_from\": \"a\"}",
            DOCKREG_ERR_INVALID_OPTION,
            "needs \"digest\"",
        ),
        ("null", DOCKREG_ERR_INVALID_OPTION, "JSON object"),
        ("{", DOCKREG_ERR_INVALID_JSON, "options_json"),
    ] {
        let (st, _, _, reads) = client.push(&repo, &data, Some(opts), usize::MAX, 0);
        assert_eq!((st, reads), (want, 0), "{opts}");
        let msg = last_message().unwrap();
        assert!(msg.contains(needle), "{opts}: {msg}");
        assert!(msg.starts_with("dockreg_client_push_blob: "), "{msg}");
    }

    // From a file: the same digest, the file's size as total.
    let dir = TempDir::new("ffi-rust-upload");
    let path = dir.join("blob.bin");
    std::fs::write(&path, &other).unwrap();
    let (path, crepo) = (c(path.to_str().unwrap()), c(&repo));
    let mut seen = Seen {
        calls: Vec::new(),
        stop_at: 0,
    };
    let mut out = SENTINEL;
    // SAFETY: live client and strings; the progress context outlives the call.
    let st = unsafe {
        ffi::dockreg_client_push_blob_from_file(
            client.0,
            crepo.as_ptr(),
            path.as_ptr(),
            ptr::null(),
            Some(progress),
            (&mut seen as *mut Seen).cast(),
            &mut out,
        )
    };
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(
        take_json(out),
        serde_json::json!({"digest": other_digest, "size": other.len()})
    );
    assert_eq!(seen.calls.first(), Some(&(0, 200_000)));
    assert_eq!(seen.calls.last(), Some(&(200_000, 200_000)));
    assert!(client.has_blob(&repo, &other_digest));

    // Mount into another repository, then delete there.
    let (mrepo, cdigest, from) = (
        c(&format!("{}/ffi-rust/mounted", f.addr())),
        c(&other_digest),
        c("ffi-rust/uploads"),
    );
    let mut out = SENTINEL;
    // SAFETY: live client, C strings, a writable pointer.
    let st = unsafe {
        ffi::dockreg_client_mount_blob(
            client.0,
            mrepo.as_ptr(),
            cdigest.as_ptr(),
            from.as_ptr(),
            &mut out,
        )
    };
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(
        take_json(out),
        serde_json::json!({"digest": other_digest, "mounted": true})
    );
    // SAFETY: as above.
    let st = unsafe { ffi::dockreg_client_delete_blob(client.0, mrepo.as_ptr(), cdigest.as_ptr()) };
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert!(last_message().is_none());
    assert!(!client.has_blob(&format!("{}/ffi-rust/mounted", f.addr()), &other_digest));
    // SAFETY: as above.
    let st = unsafe { ffi::dockreg_client_delete_blob(client.0, mrepo.as_ptr(), cdigest.as_ptr()) };
    assert_eq!(st, DOCKREG_ERR_NOT_FOUND);
    assert_eq!(last_json().unwrap()["http_status"], 404);
}

#[test]
fn copies_platforms_referrers_and_deletes() {
    let f = shared();
    let client = Client::new(None).unwrap();
    let index = format!("{}/{}", f.addr(), f.oci_index.reference());
    let dst = format!("{}/ffi-rust/copy:idx", f.addr());

    // Platforms of an index, with the OCI field names.
    let p = client
        .op(ffi::dockreg_client_list_platforms, &index)
        .unwrap();
    let got = p["platforms"].as_array().unwrap();
    assert_eq!(got.len(), f.oci_index.children.len(), "{p}");
    for child in &f.oci_index.children {
        assert!(
            got.iter().any(
                |g| g["architecture"] == child.platform.architecture.as_str()
                    && g["os"] == child.platform.os.as_str()
            ),
            "{p} lacks {:?}",
            child.platform.architecture
        );
    }

    let copy = |src: &str, dst: &str, options: Option<&str>| {
        let (src, dst, options) = (c(src), c(dst), options.map(c));
        let mut out = SENTINEL;
        // SAFETY: live client, C strings (or NULL options), a writable pointer.
        let st = unsafe {
            ffi::dockreg_client_copy_image(
                client.0,
                src.as_ptr(),
                dst.as_ptr(),
                options.as_ref().map_or(ptr::null(), |o| o.as_ptr()),
                &mut out,
            )
        };
        if st == DOCKREG_OK {
            Ok(take_json(out))
        } else {
            assert_eq!(out, SENTINEL);
            Err(st)
        }
    };
    assert_eq!(
        copy(&index, &dst, None).unwrap(),
        serde_json::json!({"digest": f.oci_index.digest})
    );
    let arm = f
        .oci_index
        .children
        .iter()
        .find(|c| c.platform.architecture == "arm64")
        .unwrap();
    let arm_dst = format!("{}/ffi-rust/copy:arm", f.addr());
    assert_eq!(
        copy(&index, &arm_dst, Some(r#"{"platform": "linux/arm64"}"#)).unwrap(),
        serde_json::json!({"digest": arm.digest})
    );
    let all = copy(
        &format!("{}/ffi-rust/copy", f.addr()),
        &format!("{}/ffi-rust/copy-all", f.addr()),
        Some(r#"{"all_tags": true}"#),
    )
    .unwrap();
    let mut tags: Vec<(String, String)> = all["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tag"].as_str().unwrap().to_string(),
                t["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("arm".to_string(), arm.digest.clone()),
            ("idx".to_string(), f.oci_index.digest.clone())
        ]
    );
    assert_eq!(
        copy(
            &index,
            &dst,
            Some(r#"{"all_tags": true, "platform": "linux/arm64"}"#)
        ),
        Err(DOCKREG_ERR_INVALID_OPTION)
    );
    assert_eq!(
        copy(&index, &dst, Some(r#"{"tag": "x"}"#)),
        Err(DOCKREG_ERR_INVALID_OPTION)
    );
    assert!(last_message().unwrap().contains("`tag`"));

    // Referrers: none yet, as the referrers API would list them.
    let mut out = SENTINEL;
    let image = c(&dst);
    // SAFETY: live client, a C string, NULL artifact type, a writable pointer.
    let st = unsafe {
        ffi::dockreg_client_list_referrers(client.0, image.as_ptr(), ptr::null(), &mut out)
    };
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(take_json(out), serde_json::json!({"manifests": []}));

    // Deleting a tag alone is refused by distribution 2.x; the manifest stays.
    // SAFETY: live client, a C string.
    let st = unsafe { ffi::dockreg_client_delete_tag(client.0, image.as_ptr()) };
    assert_eq!(st, DOCKREG_ERR_UNSUPPORTED);
    let e = last_json().unwrap();
    assert_eq!(e["status_name"], "DOCKREG_ERR_UNSUPPORTED");
    assert!(e["url"].as_str().unwrap().contains("/manifests/idx"), "{e}");
    assert_eq!(
        client.op(ffi::dockreg_client_get_digest, &dst).unwrap()["digest"],
        f.oci_index.digest.as_str()
    );
    // Deleting by digest removes the manifest (and its tags).
    let arm_by_digest = c(&format!("{}/ffi-rust/copy@{}", f.addr(), arm.digest));
    // SAFETY: as above.
    let st = unsafe { ffi::dockreg_client_delete_manifest(client.0, arm_by_digest.as_ptr()) };
    assert_eq!(st, DOCKREG_OK, "{:?}", last_message());
    assert_eq!(
        client.op(ffi::dockreg_client_get_digest, &arm_dst),
        Err(DOCKREG_ERR_NOT_FOUND)
    );
    // SAFETY: as above.
    let st = unsafe { ffi::dockreg_client_delete_manifest(client.0, image.as_ptr()) };
    assert_eq!(st, DOCKREG_ERR_INVALID_ARGUMENT);
    assert!(last_message().unwrap().contains("needs a digest"));
}

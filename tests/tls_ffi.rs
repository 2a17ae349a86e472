//! The TLS options of `dockreg_client_new` (`ca_certificates_pem_path`, `cert_dir`,
//! `client_certificates`, `tls_verify`) against registries serving HTTPS on 127.0.0.1.

mod common;
mod tls_support;

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use dockreg::ffi::{self, dockreg_client, dockreg_status};
use serde_json::{Value, json};
use tls_support::{Ca, CertsD, TlsRegistry, TlsSetup, Usage};

use dockreg_status::*;

fn last_message() -> String {
    let p = ffi::dockreg_last_error_message();
    assert!(!p.is_null(), "no last error");
    // SAFETY: a C string valid until the next call on this thread.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

/// `dockreg_client_new(options)`, then `dockreg_client_list_repositories(registry)`: the
/// status of the first call that fails, with the last error message.
fn catalog(options: &Value, registry: &str) -> Result<Value, (dockreg_status, String)> {
    let options = CString::new(options.to_string()).unwrap();
    let mut client: *mut dockreg_client = ptr::null_mut();
    // SAFETY: a C string and a writable pointer.
    let st = unsafe { ffi::dockreg_client_new(options.as_ptr(), &mut client) };
    if st != DOCKREG_OK {
        return Err((st, last_message()));
    }
    let registry = CString::new(registry).unwrap();
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a live client, a C string, a writable pointer.
    let st = unsafe { ffi::dockreg_client_list_repositories(client, registry.as_ptr(), &mut out) };
    let result = if st == DOCKREG_OK {
        // SAFETY: a string from dockreg, freed once below.
        let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
        // SAFETY: as above.
        unsafe { ffi::dockreg_string_free(out) };
        Ok(serde_json::from_str(&text).unwrap())
    } else {
        Err((st, last_message()))
    };
    // SAFETY: a client from dockreg_client_new, freed once.
    unsafe { ffi::dockreg_client_free(client) };
    result
}

#[test]
fn tls_options_of_the_c_abi() {
    let ca = Ca::new("ffi");
    let server = ca.issue("server", Usage::Server);
    let client_cert = ca.issue("client", Usage::Client);
    let ca_path = ca.cert();
    let mut setup = TlsSetup::new(&server);
    setup.client_cas = Some(&ca_path);
    let mtls = TlsRegistry::start_with(&setup);
    let plain_tls = TlsRegistry::start(&server);
    let empty = CertsD::new();
    let empty_dir = empty.path().to_str().unwrap();

    // An added CA and an explicit client certificate.
    let explicit = json!({
        "cert_dir": empty_dir,
        "ca_certificates_pem_path": ca_path,
        "client_certificates": {
            mtls.addr(): {"cert_pem_path": client_cert.cert, "key_pem_path": client_cert.key}
        }
    });
    catalog(&explicit, &mtls.addr()).unwrap();

    // The same from a certs.d directory (given as a list).
    let dir = CertsD::new();
    dir.add(&mtls.addr(), "ca.crt", &ca_path);
    dir.add(&mtls.addr(), "me.cert", &client_cert.cert);
    dir.add(&mtls.addr(), "me.key", &client_cert.key);
    catalog(&json!({"cert_dir": [dir.path()]}), &mtls.addr()).unwrap();

    // No client certificate: a TLS status, and a message that says what is missing.
    let (st, message) = catalog(
        &json!({"cert_dir": empty_dir, "ca_certificates_pem_path": ca_path}),
        &mtls.addr(),
    )
    .unwrap_err();
    assert_eq!(st, DOCKREG_ERR_TLS, "{message}");
    assert!(message.contains("client certificate"), "{message}");

    // Untrusted, then accepted with tls_verify false (and only then).
    let (st, message) = catalog(&json!({"cert_dir": empty_dir}), &plain_tls.addr()).unwrap_err();
    assert_eq!(st, DOCKREG_ERR_TLS, "{message}");
    let insecure = json!({"cert_dir": empty_dir, "insecure_registries": [plain_tls.addr()]});
    assert_eq!(
        catalog(&insecure, &plain_tls.addr()).unwrap_err().0,
        DOCKREG_ERR_TLS
    );
    catalog(
        &json!({"cert_dir": empty_dir, "tls_verify": false}),
        &plain_tls.addr(),
    )
    .unwrap();

    // Bad options name their key.
    let other = ca.issue("other", Usage::Client);
    let (st, _) = catalog(&json!({"tls_verify": "no"}), "r.io").unwrap_err();
    assert_eq!(st, DOCKREG_ERR_INVALID_OPTION);
    let bad = [
        (json!({"cert_dir": ""}), "cert_dir"),
        (
            json!({"client_certificates": {"r.io": {"cert_pem_path": client_cert.cert}}}),
            "key_pem_path",
        ),
        (
            json!({"client_certificates": {"bad host": {
                "cert_pem_path": client_cert.cert, "key_pem_path": client_cert.key}}}),
            "client_certificates.bad host",
        ),
        (
            json!({"client_certificates": {"r.io": {
                "cert_pem_path": client_cert.cert, "key_pem_path": other.key}}}),
            "client_certificates",
        ),
    ];
    for (options, key) in bad {
        let (st, message) = catalog(&options, "r.io").unwrap_err();
        assert_eq!(st, DOCKREG_ERR_INVALID_OPTION, "{options}: {message}");
        assert!(message.contains(key), "{options}: {message}");
        assert!(!message.contains("PRIVATE KEY"), "{message}");
    }
    let missing = json!({"client_certificates": {"r.io": {
        "cert_pem_path": "/nonexistent/c.pem", "key_pem_path": "/nonexistent/c.key"}}});
    assert_eq!(
        catalog(&missing, "r.io").unwrap_err().0,
        DOCKREG_ERR_FILE_IO
    );
}

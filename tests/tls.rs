//! TLS against real registries serving HTTPS on 127.0.0.1, with CAs and certificates made at
//! test time by `openssl`: the trust store (platform roots plus added CAs), certs.d
//! directories, client certificates (mTLS), the scheme choice on loopback, verification
//! switched off only on request, and no downgrade from HTTPS to plain HTTP.

mod common;
mod tls_support;

use std::process::{Command, Output};

use common::{TempDir, TestRegistry};
use dockreg::{Client, Digest, Error, Reference, TransportErrorKind};
use tls_support::{Ca, CertsD, TlsRegistry, TlsSetup, Usage};

fn repo(registry: &str, name: &str) -> Reference {
    format!("{registry}/{name}").parse().unwrap()
}

/// Uploads a small blob and reads its size back: a write and a read over the connection.
fn round_trip(client: &Client, registry: &str) -> dockreg::Result<Digest> {
    let r = repo(registry, "tls/blob");
    let bytes = format!("dockreg tls test {registry}").into_bytes();
    let digest = client.push_blob_bytes(&r, &bytes)?;
    assert_eq!(client.head_blob(&r, &digest)?, Some(bytes.len() as u64));
    Ok(digest)
}

/// The kind and message of a transport error; panics on any other error.
fn transport(e: &Error) -> (TransportErrorKind, &str, &str) {
    match e {
        Error::Transport {
            kind, message, url, ..
        } => (*kind, message.as_str(), url.as_str()),
        other => panic!("expected a transport error, got: {other}"),
    }
}

/// Runs the CLI with `SSL_CERT_FILE` as its platform store (and no `SSL_CERT_DIR`).
fn cli_with_store(store: &std::path::Path, args: &[&str]) -> Output {
    Command::new(common::example_cli())
        .args(args)
        .env("SSL_CERT_FILE", store)
        .env_remove("SSL_CERT_DIR")
        .env("HOME", store.parent().unwrap())
        .env("DOCKER_CONFIG", store.parent().unwrap())
        .output()
        .expect("run the CLI")
}

#[test]
fn an_added_ca_and_the_platform_store_work_together_in_one_client() {
    // Registry A's CA is the platform store (SSL_CERT_FILE of the CLI process); registry B's
    // CA is given with --ca-file. One client (one `copy`) reads from A and writes to B.
    let (ca_a, ca_b) = (Ca::new("a"), Ca::new("b"));
    let a = TlsRegistry::start(&ca_a.issue("server", Usage::Server));
    let b = TlsRegistry::start(&ca_b.issue("server", Usage::Server));
    let work = TempDir::new("tls-cli");
    let store = work.join("store.pem");
    std::fs::copy(ca_a.cert(), &store).unwrap();
    let content = work.join("content");
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(content.join("hello.txt"), "hello over TLS\n").unwrap();
    let ca_b_file = ca_b.cert().display().to_string();
    let (src, dst) = (
        format!("{}/tls/app:1", a.addr()),
        format!("{}/tls/app:1", b.addr()),
    );

    let pushed = cli_with_store(&store, &["push", content.to_str().unwrap(), &src]);
    assert!(
        pushed.status.success(),
        "push to A (platform store): {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    // Without B's CA, B is refused: the platform store alone does not trust it.
    let refused = cli_with_store(&store, &["copy", &src, &dst]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not accepted"), "{stderr}");
    // With it, the same client trusts both: the added CA did not replace the store.
    let copied = cli_with_store(&store, &["--ca-file", &ca_b_file, "copy", &src, &dst]);
    assert!(
        copied.status.success(),
        "copy A -> B: {}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let digest = |image: &str| {
        let out = cli_with_store(&store, &["--ca-file", &ca_b_file, "digest", image]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["digest"].as_str().unwrap().to_string()
    };
    assert_eq!(digest(&src), digest(&dst));

    // The library the same way: the builder's CA added, the platform store kept.
    // (This process's own store is the system's, so only B is checked here.)
    let client = Client::builder()
        .add_root_certificates_pem(&ca_b.cert_pem())
        .build()
        .unwrap();
    round_trip(&client, &b.addr()).unwrap();
}

#[test]
fn certs_d_gives_a_registry_its_ca() {
    let ca = Ca::new("certsd");
    let reg = TlsRegistry::start(&ca.issue("server", Usage::Server));
    let dir = CertsD::new();
    dir.add(&reg.addr(), "ca.crt", &ca.cert());
    let client = Client::builder().cert_dir(dir.path()).build().unwrap();
    round_trip(&client, &reg.addr()).unwrap();

    // Another directory without an entry for it: not trusted.
    let empty = CertsD::new();
    let client = Client::builder().cert_dir(empty.path()).build().unwrap();
    let e = round_trip(&client, &reg.addr()).unwrap_err();
    let (kind, message, url) = transport(&e);
    assert_eq!(kind, TransportErrorKind::Tls, "{e}");
    assert!(message.contains("not accepted"), "{message}");
    assert!(url.starts_with("https://"), "{url}");

    // The CLI's --cert-dir.
    let store = TempDir::new("tls-store");
    let out = Command::new(common::example_cli())
        .args([
            "--cert-dir",
            dir.path().to_str().unwrap(),
            "catalog",
            &reg.addr(),
        ])
        .env("DOCKER_CONFIG", store.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mutual_tls_with_and_without_the_client_certificate() {
    let ca = Ca::new("mtls");
    let server = ca.issue("server", Usage::Server);
    let client_cert = ca.issue("client", Usage::Client);
    let mut setup = TlsSetup::new(&server);
    let ca_path = ca.cert();
    setup.client_cas = Some(&ca_path);
    let reg = TlsRegistry::start_with(&setup);
    let addr = reg.addr();

    // Given explicitly to the builder.
    let client = Client::builder()
        .add_root_certificates_pem(&ca.cert_pem())
        .client_certificate(&addr, &client_cert.cert_pem(), &client_cert.key_pem())
        .build()
        .unwrap();
    round_trip(&client, &addr).unwrap();
    assert!(!format!("{client:?}").contains("PRIVATE KEY"));

    // From certs.d: the CA and a .cert/.key pair.
    let dir = CertsD::new();
    dir.add(&addr, "ca.crt", &ca.cert());
    dir.add(&addr, "client.cert", &client_cert.cert);
    dir.add(&addr, "client.key", &client_cert.key);
    let client = Client::builder().cert_dir(dir.path()).build().unwrap();
    round_trip(&client, &addr).unwrap();

    // Without one: a TLS error that says a client certificate is wanted.
    let client = Client::builder()
        .add_root_certificates_pem(&ca.cert_pem())
        .cert_dir(CertsD::new().path())
        .build()
        .unwrap();
    let e = round_trip(&client, &addr).unwrap_err();
    let (kind, message, _) = transport(&e);
    assert_eq!(kind, TransportErrorKind::Tls, "{e}");
    assert!(message.contains("client certificate"), "{message}");

    // A key that is not the certificate's fails the build, without showing the key.
    let other = ca.issue("other", Usage::Client);
    let e = Client::builder()
        .client_certificate(&addr, &client_cert.cert_pem(), &other.key_pem())
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    assert!(!e.to_string().contains("PRIVATE KEY"), "{e}");
}

#[test]
fn loopback_tls_registry_over_https_plain_one_over_http() {
    let ca = Ca::new("scheme");
    let tls = TlsRegistry::start(&ca.issue("server", Usage::Server));
    let plain = TestRegistry::start();
    let client = Client::builder()
        .add_root_certificates_pem(&ca.cert_pem())
        .build()
        .unwrap();
    round_trip(&client, &tls.addr()).unwrap();
    round_trip(&client, &plain.addr()).unwrap();
    // The URLs in errors show the scheme each registry was reached with.
    let missing = |registry: &str| {
        let r: Reference = format!("{registry}/tls/none:x").parse().unwrap();
        match client.get_digest(&r).unwrap_err() {
            Error::NotFound(e) => e.url,
            other => panic!("{other}"),
        }
    };
    assert!(missing(&tls.addr()).starts_with("https://"));
    assert!(missing(&plain.addr()).starts_with("http://"));
}

#[test]
fn an_untrusted_certificate_is_refused_unless_verification_is_off() {
    let ca = Ca::new("untrusted");
    let reg = TlsRegistry::start(&ca.issue("server", Usage::Server));
    let addr = reg.addr();
    let no_certs_d = CertsD::new();
    // Listing it as insecure does not switch verification off.
    for client in [
        Client::builder()
            .cert_dir(no_certs_d.path())
            .build()
            .unwrap(),
        Client::builder()
            .cert_dir(no_certs_d.path())
            .insecure_registry(&addr)
            .build()
            .unwrap(),
    ] {
        let e = round_trip(&client, &addr).unwrap_err();
        let (kind, message, url) = transport(&e);
        assert_eq!(kind, TransportErrorKind::Tls, "{e}");
        assert!(message.contains("not accepted"), "{message}");
        assert!(url.starts_with("https://"), "{url}");
    }
    let client = Client::builder()
        .cert_dir(no_certs_d.path())
        .tls_verify(false)
        .build()
        .unwrap();
    round_trip(&client, &addr).unwrap();
    // The CLI spells it as skopeo does.
    let store = TempDir::new("tls-store");
    let out = Command::new(common::example_cli())
        .args(["--tls-verify=false", "catalog", &addr])
        .env("DOCKER_CONFIG", store.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(common::example_cli())
        .args(["catalog", &addr])
        .env("DOCKER_CONFIG", store.path())
        .env("SSL_CERT_FILE", ca.cert().with_file_name("absent.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// `[::ffff:127.0.0.1]` is 127.0.0.1, but not a loopback name under the no-downgrade rule
/// (only `localhost`, `127.x` and `[::1]` are): a plain-HTTP URL there must be refused. Were
/// the refusal broken, the client would still only reach 127.0.0.1.
const NOT_LOOPBACK_BY_NAME: &str = "[::ffff:127.0.0.1]";

#[test]
fn https_to_http_upload_location_and_redirect_are_refused() {
    let ca = Ca::new("downgrade");
    let server = ca.issue("server", Usage::Server);
    let client = Client::builder()
        .add_root_certificates_pem(&ca.cert_pem())
        .build()
        .unwrap();

    // Upload URLs built from `http.host`: a plain-HTTP Location from an HTTPS registry.
    let port = common::registry::free_port();
    let http_extra = format!("  host: \"http://{NOT_LOOPBACK_BY_NAME}:{port}\"\n");
    let mut setup = TlsSetup::new(&server);
    setup.http_extra = &http_extra;
    let reg = TlsRegistry::start_with(&setup);
    let e = round_trip(&client, &reg.addr()).unwrap_err();
    match &e {
        Error::InvalidResponse { url, message } => {
            assert!(message.contains("downgrade"), "{message}");
            assert!(url.starts_with("http://[::ffff:127.0.0.1]"), "{url}");
        }
        other => panic!("expected a refused Location, got: {other}"),
    }

    // Blob downloads redirected to plain HTTP (distribution's `redirect` storage middleware),
    // from a second registry on the same storage.
    let good = TlsRegistry::start(&server);
    let digest = round_trip(&client, &good.addr()).unwrap();
    let storage = good.storage();
    let extra = format!(
        "middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: \
         \"http://{NOT_LOOPBACK_BY_NAME}:{port}/\"\n"
    );
    let mut setup = TlsSetup::new(&server);
    setup.storage = Some(&storage);
    setup.extra = &extra;
    let redirecting = TlsRegistry::start_with(&setup);
    let r = repo(&redirecting.addr(), "tls/blob");
    let mut sink = Vec::new();
    let e = client.get_blob(&r, &digest, &mut sink).unwrap_err();
    let (kind, message, _) = transport(&e);
    assert_eq!(kind, TransportErrorKind::Redirect, "{e}");
    assert!(message.contains("plain HTTP"), "{message}");
}

#[test]
fn a_cancelled_call_sends_no_probe() {
    // A loopback port that accepts and closes: it does not speak TLS.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let image: Reference = format!("{}/a/b:c", l.local_addr().unwrap())
        .parse()
        .unwrap();
    let accepted = || {
        let mut n = 0;
        while let Ok((s, _)) = l.accept() {
            drop(s);
            n += 1;
        }
        n
    };
    let token = dockreg::CancelToken::new();
    token.cancel();
    let client = Client::new().unwrap();
    let e = client.with_cancel(&token).get_digest(&image).unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert_eq!(accepted(), 0, "no probe for a cancelled call");
}

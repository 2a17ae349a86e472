//! Proxies, end to end, through a proxy written for the tests (`proxy_support`) that sends
//! every target to a mockito registry on 127.0.0.1.
//!
//! The environment is given through `ClientBuilder::proxy_env_lookup`, never set in this
//! (multi-threaded) process; the one test of the real process environment runs this binary
//! again as a child with the variables set.

mod common;
mod proxy_support;

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};
use std::process::Command;
use std::ptr;

use common::TestRegistry;
use dockreg::ffi::{self, dockreg_client, dockreg_status};
use dockreg::{Client, ClientBuilder, Error, Reference, RetryPolicy, TransportErrorKind};
use mockito::{Matcher, Server, ServerGuard};

use proxy_support::{TestProxy, dead_port};

/// A mockito registry that lists the tags of `app`.
fn registry() -> ServerGuard {
    let mut server = Server::new();
    server
        .mock("GET", Matcher::Regex("^/v2/app/tags/list".into()))
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(r#"{"name":"app","tags":["1.0"]}"#)
        .create();
    server
}

fn port(server: &ServerGuard) -> u16 {
    server.socket_address().port()
}

/// A builder whose environment is `vars` (and nothing else), with one attempt per request.
fn builder(vars: &[(&str, &str)]) -> ClientBuilder {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Client::builder()
        .retry(RetryPolicy::default().max_attempts(1))
        .proxy_env_lookup(move |name| env.get(name).cloned())
}

fn tags(client: &Client, repo: &str) -> dockreg::Result<Vec<String>> {
    let r: Reference = repo.parse().unwrap();
    client.list_tags(&r)
}

fn connects(p: &TestProxy) -> Vec<String> {
    p.seen()
        .into_iter()
        .filter(|s| s.method == "CONNECT")
        .map(|s| s.target)
        .collect()
}

#[test]
fn a_registry_name_nothing_resolves_is_reached_through_the_proxy() {
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let name = format!("registry.test:{}", port(&server));
    let client = builder(&[("HTTP_PROXY", &proxy.url())])
        .insecure_registry(&name)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(tags(&client, &format!("{name}/app")).unwrap(), ["1.0"]);
    }
    // The name went to the proxy as written: the client resolved nothing. (mockito closes
    // every connection, so each request has its own tunnel; pooling is checked against the
    // real registry below.)
    assert_eq!(connects(&proxy), [name.clone(), name.clone(), name]);
}

#[test]
fn a_real_registry_behind_the_proxy_reads_writes_and_pools_the_tunnel() {
    let registry = TestRegistry::start();
    let backend: std::net::SocketAddr = registry.addr().parse().unwrap();
    let proxy = TestProxy::start(backend);
    let name = format!("registry.test:{}", registry.port());
    let client = builder(&[("HTTP_PROXY", &proxy.url())])
        .insecure_registry(&name)
        .build()
        .unwrap();
    let repo: Reference = format!("{name}/proxied/app").parse().unwrap();
    // An upload: POST, then PUT to the Location the registry built from the Host it was sent.
    let digest = client.push_blob_bytes(&repo, b"through the proxy").unwrap();
    assert!(client.head_blob(&repo, &digest).unwrap().is_some());
    for _ in 0..3 {
        assert_eq!(client.list_repositories(&name).unwrap(), ["proxied/app"]);
    }
    // Every request went through one pooled tunnel to the name as written.
    assert!(
        connects(&proxy).iter().all(|t| *t == name),
        "{:?}",
        proxy.seen()
    );
    assert_eq!(proxy.connections(), 1, "{:?}", proxy.seen());
}

#[test]
fn https_urls_use_https_proxy_and_http_urls_use_http_proxy() {
    let server = registry();
    let for_https = TestProxy::start(server.socket_address());
    let for_http = TestProxy::start(server.socket_address());
    let plain = format!("plain.test:{}", port(&server));
    let client = builder(&[
        ("HTTPS_PROXY", &for_https.url()),
        ("HTTP_PROXY", &for_http.url()),
    ])
    .insecure_registry(&plain)
    .build()
    .unwrap();

    assert_eq!(tags(&client, &format!("{plain}/app")).unwrap(), ["1.0"]);
    assert_eq!(connects(&for_http), [plain.as_str()]);
    assert!(for_https.seen().is_empty());

    // The backend speaks plain HTTP, so TLS through the tunnel fails; what counts is the road.
    let e = tags(&client, "secure.test/app").unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(connects(&for_https), ["secure.test:443"]);
    assert_eq!(connects(&for_http), [plain]);
}

/// A name other than `localhost` that /etc/hosts maps to a loopback address, so a direct
/// connection to it needs no DNS and stays on this machine.
fn loopback_alias() -> (String, bool) {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut found = None;
    for line in hosts.lines() {
        let mut words = line.split('#').next().unwrap_or("").split_whitespace();
        let Some(ip) = words
            .next()
            .and_then(|w| w.parse::<std::net::IpAddr>().ok())
        else {
            continue;
        };
        if !ip.is_loopback() {
            continue;
        }
        for name in words {
            let ok = !name.eq_ignore_ascii_case("localhost")
                && name.parse::<dockreg::Reference>().is_ok()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if ok {
                let is_default = ip == std::net::IpAddr::from([127, 0, 0, 1]);
                if is_default {
                    return (name.to_ascii_lowercase(), true);
                }
                found.get_or_insert((name.to_ascii_lowercase(), false));
            }
        }
    }
    found.expect(
        "the NO_PROXY suffix test needs a name other than localhost mapped to a loopback \
         address in /etc/hosts (most systems map the host name): add `127.0.0.1 \
         dockreg-proxy-test.localdomain` to /etc/hosts",
    )
}

#[test]
fn no_proxy_suffix_cidr_and_star_bypass_the_proxy() {
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let p = port(&server);
    // 0.0.0.0 is not loopback by the rules, yet a connection to it reaches 127.0.0.1.
    let zero = format!("0.0.0.0:{p}");

    // Without NO_PROXY the same registry goes through the proxy: the control case.
    let client = builder(&[("HTTP_PROXY", &proxy.url())])
        .insecure_registry(&zero)
        .build()
        .unwrap();
    assert_eq!(tags(&client, &format!("{zero}/app")).unwrap(), ["1.0"]);
    assert_eq!(connects(&proxy), [zero.as_str()]);

    for no_proxy in ["0.0.0.0/8", "10.0.0.0/8,0.0.0.0/32", "*", "example.com, *"] {
        let client = builder(&[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", no_proxy)])
            .insecure_registry(&zero)
            .build()
            .unwrap();
        assert_eq!(
            tags(&client, &format!("{zero}/app")).unwrap(),
            ["1.0"],
            "{no_proxy}"
        );
    }
    // Lower-case no_proxy counts too, and an explicit list replaces the variable.
    let client = builder(&[("http_proxy", &proxy.url()), ("no_proxy", "0.0.0.0")])
        .insecure_registry(&zero)
        .build()
        .unwrap();
    assert_eq!(tags(&client, &format!("{zero}/app")).unwrap(), ["1.0"]);
    let client = builder(&[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", "*")])
        .no_proxy("other.example")
        .insecure_registry(&zero)
        .build()
        .unwrap();
    assert_eq!(tags(&client, &format!("{zero}/app")).unwrap(), ["1.0"]);
    assert_eq!(connects(&proxy), [zero.clone(), zero.clone()]);

    // A domain suffix, on a name that /etc/hosts maps to loopback.
    let (alias, at_127_0_0_1) = loopback_alias();
    let last = alias.rsplit('.').next().unwrap_or(&alias).to_string();
    let before = proxy.seen().len();
    for no_proxy in [alias.clone(), format!(".{last}"), last.clone()] {
        if no_proxy.starts_with('.') && !alias.contains('.') {
            continue; // a single-label name has no subdomain form
        }
        let registry = format!("{alias}:{p}");
        let client = builder(&[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", &no_proxy)])
            .insecure_registry(&registry)
            .build()
            .unwrap();
        match tags(&client, &format!("{registry}/app")) {
            Ok(t) => assert_eq!(t, ["1.0"]),
            // A 127.0.1.1-style alias: nothing listens there, and the failure is direct.
            Err(e) => {
                assert!(!at_127_0_0_1, "{no_proxy}: {e}");
                assert!(!e.to_string().contains("through proxy"), "{e}");
            }
        }
    }
    assert_eq!(
        proxy.seen().len(),
        before,
        "a NO_PROXY match went through the proxy"
    );
}

#[test]
fn loopback_never_goes_through_the_proxy() {
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let p = port(&server);
    let env = [
        ("HTTP_PROXY", proxy.url()),
        ("HTTPS_PROXY", proxy.url()),
        ("http_proxy", proxy.url()),
        ("https_proxy", proxy.url()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let from_env = builder(&env).build().unwrap();
    let explicit = builder(&[]).proxy(&proxy.url()).build().unwrap();
    for client in [&from_env, &explicit] {
        for host in ["127.0.0.1", "localhost"] {
            assert_eq!(
                tags(client, &format!("{host}:{p}/app")).unwrap(),
                ["1.0"],
                "{host}"
            );
        }
    }
    assert_eq!(proxy.connections(), 0);
}

#[test]
fn the_explicit_proxy_beats_the_environment() {
    let server = registry();
    let from_env = TestProxy::start(server.socket_address());
    let explicit = TestProxy::start(server.socket_address());
    let name = format!("registry.test:{}", port(&server));
    let client = builder(&[("HTTP_PROXY", &from_env.url()), ("NO_PROXY", "")])
        .proxy(&explicit.url())
        .insecure_registry(&name)
        .build()
        .unwrap();
    assert_eq!(tags(&client, &format!("{name}/app")).unwrap(), ["1.0"]);
    assert_eq!(connects(&explicit), [name.as_str()]);
    assert_eq!(from_env.connections(), 0);

    // proxy_from_env(false): the variables are not read at all.
    let zero = format!("0.0.0.0:{}", port(&server));
    let client = builder(&[("HTTP_PROXY", &from_env.url())])
        .proxy_from_env(false)
        .insecure_registry(&zero)
        .build()
        .unwrap();
    assert_eq!(tags(&client, &format!("{zero}/app")).unwrap(), ["1.0"]);
    assert_eq!(from_env.connections(), 0);
}

const USER: &str = "proxy-user-7f3a";
const PASSWORD: &str = "hunter2-pw-91c";

fn assert_hidden(e: &Error) {
    let text = format!("{e} | {e:?}");
    for secret in [USER, PASSWORD] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[test]
fn proxy_credentials_are_sent_but_never_shown() {
    let server = registry();
    let proxy = TestProxy::with_credentials(server.socket_address(), USER, PASSWORD);
    let name = format!("registry.test:{}", port(&server));

    // Right credentials: sent as Proxy-Authorization on CONNECT, and the request works.
    let client = builder(&[])
        .proxy(&proxy.url_with(USER, PASSWORD))
        .insecure_registry(&name)
        .build()
        .unwrap();
    assert_eq!(tags(&client, &format!("{name}/app")).unwrap(), ["1.0"]);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].proxy_authorization.is_some());
    for text in [
        format!("{client:?}"),
        format!("{:?}", builder(&[]).proxy(&proxy.url_with(USER, PASSWORD))),
    ] {
        assert!(!text.contains(PASSWORD) && !text.contains(USER), "{text}");
    }

    // Wrong credentials: 407, an Auth error naming the proxy without its credentials.
    let wrong = "wrong-pw-5d2e";
    let client = builder(&[(
        "HTTP_PROXY",
        &format!("http://{USER}:{wrong}@{}", &proxy.url()[7..]),
    )])
    .insecure_registry(&name)
    .build()
    .unwrap();
    let e = tags(&client, &format!("{name}/app")).unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert_hidden(&e);
    assert!(!format!("{e:?}").contains(wrong), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("407") && msg.contains("http://***@127.0.0.1:"),
        "{msg}"
    );
    assert!(msg.contains("HTTP_PROXY"), "{msg}");

    // None: 407 too, and the message says what is missing.
    let client = builder(&[])
        .proxy(&proxy.url())
        .insecure_registry(&name)
        .build()
        .unwrap();
    let e = tags(&client, &format!("{name}/app")).unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert!(e.to_string().contains("wants credentials"), "{e}");

    // A proxy that is down: a connection error naming the proxy, credentials hidden.
    let down = format!("http://{USER}:{PASSWORD}@127.0.0.1:{}", dead_port());
    let client = builder(&[])
        .proxy(&down)
        .insecure_registry(&name)
        .build()
        .unwrap();
    let e = tags(&client, &format!("{name}/app")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert_hidden(&e);
    assert!(
        e.to_string()
            .contains("through proxy http://***@127.0.0.1:"),
        "{e}"
    );
    assert_eq!(proxy.seen().len(), 3);
}

#[test]
fn invalid_and_socks_proxies_are_refused_clearly() {
    for bad in [
        format!("socks5://{USER}:{PASSWORD}@127.0.0.1:1080"),
        format!("ftp://{USER}:{PASSWORD}@127.0.0.1"),
        format!("http://{USER}:{PASSWORD}@"),
        String::new(),
    ] {
        let e = builder(&[]).proxy(&bad).build().unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{bad}: {e:?}");
        assert_hidden(&e);
    }
    let e = builder(&[]).proxy("socks5://p:1080").build().unwrap_err();
    assert!(e.to_string().contains("socks"), "{e}");

    // From the environment: the build succeeds, and a request the proxy would carry fails
    // instead of going around it.
    let server = registry();
    let name = format!("registry.test:{}", port(&server));
    let client = builder(&[(
        "HTTP_PROXY",
        &format!("socks5://{USER}:{PASSWORD}@127.0.0.1:1"),
    )])
    .insecure_registry(&name)
    .build()
    .unwrap();
    let e = tags(&client, &format!("{name}/app")).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    assert!(e.to_string().contains("HTTP_PROXY"), "{e}");
    assert_hidden(&e);
    // Loopback is still fine.
    assert_eq!(
        tags(&client, &format!("127.0.0.1:{}/app", port(&server))).unwrap(),
        ["1.0"]
    );
}

#[test]
fn http_proxy_is_refused_in_a_cgi_program() {
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let name = format!("registry.test:{}", port(&server));
    let client = builder(&[("HTTP_PROXY", &proxy.url()), ("REQUEST_METHOD", "GET")])
        .insecure_registry(&name)
        .build()
        .unwrap();
    let e = tags(&client, &format!("{name}/app")).unwrap_err();
    assert!(e.to_string().contains("CGI"), "{e}");
    assert_eq!(proxy.connections(), 0);
}

#[test]
fn the_test_proxy_also_serves_absolute_form_requests() {
    use std::io::{Read, Write};
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let mut conn = std::net::TcpStream::connect(&proxy.url()[7..]).unwrap();
    write!(
        conn,
        "GET http://registry.test:5000/v2/app/tags/list HTTP/1.1\r\nHost: registry.test:5000\r\n\
         Proxy-Connection: keep-alive\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""tags":["1.0"]"#), "{answer}");
    assert_eq!(
        proxy.targets(),
        ["http://registry.test:5000/v2/app/tags/list"]
    );
}

// ---------------------------------------------------------------------------------------------
// The real process environment, in a child process
// ---------------------------------------------------------------------------------------------

const CHILD: &str = "DOCKREG_PROXY_TEST_CHILD";

/// Runs only as the child of `the_process_environment_is_read_at_build`: lists tags of the
/// registry it is told about, with a client that reads the real environment.
#[test]
fn child_lists_tags_with_the_process_environment() {
    let Ok(registry) = std::env::var(CHILD) else {
        return;
    };
    let client = Client::builder()
        .retry(RetryPolicy::default().max_attempts(1))
        .insecure_registry(&registry)
        .build()
        .unwrap();
    match tags(&client, &format!("{registry}/app")) {
        Ok(t) => println!("CHILD-TAGS {}", t.join(",")),
        Err(e) => println!("CHILD-ERROR {e}"),
    }
}

fn run_child(registry: &str, vars: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_lists_tags_with_the_process_environment",
        "--nocapture",
        "--test-threads=1",
    ]);
    for v in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
        "REQUEST_METHOD",
    ] {
        cmd.env_remove(v);
    }
    cmd.env(CHILD, registry).envs(vars.iter().copied());
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_process_environment_is_read_at_build() {
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let name = format!("registry.test:{}", port(&server));
    let upper = run_child(&name, &[("HTTP_PROXY", &proxy.url())]);
    assert!(upper.contains("CHILD-TAGS 1.0"), "{upper}");
    let lower = run_child(&name, &[("http_proxy", &proxy.url())]);
    assert!(lower.contains("CHILD-TAGS 1.0"), "{lower}");
    // Upper case first, as Go reads them: a dead HTTP_PROXY wins over a good http_proxy.
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let both = run_child(
        &name,
        &[("HTTP_PROXY", &dead), ("http_proxy", &proxy.url())],
    );
    assert!(
        both.contains("CHILD-ERROR") && both.contains(&dead[7..]),
        "{both}"
    );
    assert_eq!(connects(&proxy), [name.clone(), name]);
}

// ---------------------------------------------------------------------------------------------
// The example CLI
// ---------------------------------------------------------------------------------------------

#[test]
fn the_cli_reads_the_environment_and_its_proxy_flag_beats_it() {
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let name = format!("registry.test:{}", port(&server));
    let dead = format!("http://{USER}:{PASSWORD}@127.0.0.1:{}", dead_port());
    let run = |env_proxy: &str, flags: &[&str]| {
        let mut cmd = Command::new(common::example_cli());
        for v in [
            "HTTP_PROXY",
            "http_proxy",
            "NO_PROXY",
            "no_proxy",
            "REQUEST_METHOD",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("HTTP_PROXY", env_proxy)
            .env("DOCKER_CONFIG", env!("CARGO_TARGET_TMPDIR"))
            .args(["--insecure", &name])
            .args(flags)
            .args(["tags", &format!("{name}/app")]);
        cmd.output().unwrap()
    };
    let from_env = run(&proxy.url(), &[]);
    assert!(from_env.status.success(), "{from_env:?}");
    assert!(String::from_utf8_lossy(&from_env.stdout).contains("1.0"));
    let flag = run(&dead, &["--proxy", &proxy.url()]);
    assert!(flag.status.success(), "{flag:?}");
    assert_eq!(connects(&proxy), [name.clone(), name.clone()]);
    // The dead proxy from the environment: a network failure (exit 5); the error names it
    // without its credentials.
    let failed = run(&dead, &[]);
    assert_eq!(failed.status.code(), Some(5), "{failed:?}");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("through proxy http://***@127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(PASSWORD) && !stderr.contains(USER),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// The C options
// ---------------------------------------------------------------------------------------------

struct CClient(*mut dockreg_client);

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: a client from dockreg_client_new, freed once.
        unsafe { ffi::dockreg_client_free(self.0) };
    }
}

fn c_client(options: &str) -> Result<CClient, (dockreg_status, String)> {
    let options = CString::new(options).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: a valid C string and a writable pointer.
    let st = unsafe { ffi::dockreg_client_new(options.as_ptr(), &mut out) };
    if st == dockreg_status::DOCKREG_OK {
        Ok(CClient(out))
    } else {
        let p = ffi::dockreg_last_error_message();
        // SAFETY: the last error is a NUL-terminated string owned by the library, or NULL.
        let msg = if p.is_null() {
            String::new()
        } else {
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        };
        Err((st, msg))
    }
}

fn c_tags(client: &CClient, repo: &str) -> dockreg_status {
    let repo = CString::new(repo).unwrap();
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a live client, a valid C string and a writable pointer.
    let st = unsafe { ffi::dockreg_client_list_tags(client.0, repo.as_ptr(), &mut out) };
    if st == dockreg_status::DOCKREG_OK {
        // SAFETY: a string the call returned, freed once.
        unsafe { ffi::dockreg_string_free(out) };
    }
    st
}

#[test]
fn c_options_proxy_no_proxy_and_proxy_from_env() {
    let server = registry();
    let proxy = TestProxy::start(server.socket_address());
    let name = format!("registry.test:{}", port(&server));
    let zero = format!("0.0.0.0:{}", port(&server));
    let options = serde_json::json!({
        "proxy": proxy.url_with(USER, PASSWORD),
        "no_proxy": ["other.example", "0.0.0.0"],
        "proxy_from_env": false,
        "insecure_registries": [name, zero],
        "retry": {"max_attempts": 1},
    });
    let client = c_client(&options.to_string()).unwrap();
    assert_eq!(
        c_tags(&client, &format!("{name}/app")),
        dockreg_status::DOCKREG_OK
    );
    assert_eq!(
        c_tags(&client, &format!("{zero}/app")),
        dockreg_status::DOCKREG_OK
    );
    assert_eq!(connects(&proxy), [name]);
    assert!(proxy.seen()[0].proxy_authorization.is_some());

    let options = serde_json::json!({"no_proxy": "a.example,.b.example", "proxy": null});
    assert!(c_client(&options.to_string()).is_ok());
    for bad in [
        serde_json::json!({"proxy": format!("socks5://{USER}:{PASSWORD}@h:1080")}),
        serde_json::json!({"proxy": ""}),
        serde_json::json!({"proxy": 3128}),
        serde_json::json!({"proxy_from_env": "no"}),
        serde_json::json!({"no_proxy": 1}),
    ] {
        let Err((st, msg)) = c_client(&bad.to_string()) else {
            panic!("{bad} was accepted");
        };
        assert_eq!(
            st,
            dockreg_status::DOCKREG_ERR_INVALID_OPTION,
            "{bad}: {msg}"
        );
        assert!(!msg.contains(PASSWORD) && !msg.contains(USER), "{msg}");
    }
    let Err((_, msg)) = c_client(r#"{"proxy": "socks5://h:1080"}"#) else {
        panic!("socks accepted");
    };
    assert!(msg.contains("proxy") && msg.contains("socks5"), "{msg}");
}

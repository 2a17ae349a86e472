//! Unit tables for the proxy rules: environment, schemes, NO_PROXY, loopback, URLs, secrets.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;

fn rules(env: &[(&str, &str)], options: ProxyOptions) -> Rules {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let options = ProxyOptions {
        env: Some(Arc::new(move |name: &str| env.get(name).cloned())),
        ..options
    };
    Rules::new(&options).unwrap()
}

/// `direct`, the proxy as shown, or `refused`.
fn route(r: &Rules, url: &str) -> String {
    match r.route(url) {
        Route::Direct => "direct".into(),
        Route::Proxy(p) => p.shown.clone(),
        Route::Refused(_) => "refused".into(),
    }
}

#[test]
fn each_scheme_uses_its_variable_and_upper_case_is_read_first() {
    let r = rules(
        &[
            ("HTTPS_PROXY", "http://s-upper:1"),
            ("https_proxy", "http://s-lower:1"),
            ("HTTP_PROXY", ""),
            ("http_proxy", "h-lower:2"),
            ("ALL_PROXY", "http://all:3"),
        ],
        ProxyOptions::default(),
    );
    for (url, want) in [
        ("https://registry.example/v2/", "http://s-upper:1"),
        ("HTTPS://registry.example:8443/v2/", "http://s-upper:1"),
        // An empty upper-case value counts as unset; no scheme means http.
        ("http://registry.example/v2/", "http://h-lower:2"),
        ("ftp://registry.example/", "direct"),
        ("not a url", "direct"),
    ] {
        assert_eq!(route(&r, url), want, "{url}");
    }
    // ALL_PROXY alone is not read (Go does not read it).
    let r = rules(&[("ALL_PROXY", "http://all:3")], ProxyOptions::default());
    assert_eq!(route(&r, "https://registry.example/"), "direct");
    let r = rules(&[("https_proxy", "s:1")], ProxyOptions::default());
    assert_eq!(route(&r, "https://registry.example/"), "http://s:1");
    assert_eq!(route(&r, "http://registry.example/"), "direct");
}

#[test]
fn loopback_is_never_proxied() {
    let env = [
        ("HTTPS_PROXY", "http://p:1"),
        ("HTTP_PROXY", "http://p:1"),
        ("NO_PROXY", ""),
    ];
    let r = rules(&env, ProxyOptions::default());
    for url in [
        "http://localhost:5000/v2/",
        "http://LOCALHOST/v2/",
        "https://127.0.0.1/v2/",
        "http://127.200.3.4:80/",
        "http://[::1]:5000/v2/",
        "http://[::ffff:127.0.0.1]:5000/",
    ] {
        assert_eq!(route(&r, url), "direct", "{url}");
    }
    for url in [
        "http://localhost.example:5000/",
        "http://128.0.0.1/",
        "http://[::2]/",
        "http://0.0.0.0:5000/",
    ] {
        assert_eq!(route(&r, url), "http://p:1", "{url}");
    }
    // The explicit option does not change it.
    let r = rules(
        &[],
        ProxyOptions {
            url: Some("http://p:1".into()),
            ..ProxyOptions::default()
        },
    );
    assert_eq!(route(&r, "http://127.0.0.1:5000/"), "direct");
}

#[test]
fn no_proxy_entries() {
    let list = " .suffix.example, exact.example,*.star.example, port.example:5000, \
                10.0.0.0/8, fd00::/8, 192.168.1.1, 192.168.1.2:8080, [2001:db8::1]:443, \
                2001:db8::2, junk/99, :80, bad:port, ,";
    let r = rules(
        &[
            ("HTTPS_PROXY", "p:1"),
            ("HTTP_PROXY", "p:1"),
            ("no_proxy", list),
        ],
        ProxyOptions::default(),
    );
    let table = [
        // A leading dot or "*." : subdomains only.
        ("https://a.suffix.example/", true),
        ("https://a.b.suffix.example/", true),
        ("https://suffix.example/", false),
        ("https://a.star.example/", true),
        ("https://star.example/", false),
        // A bare domain: itself and its subdomains, not a longer name.
        ("https://exact.example/", true),
        ("https://EXACT.example:5000/", true),
        ("https://sub.exact.example/", true),
        ("https://notexact.example/", false),
        // With a port: only that port (a URL without one has its scheme's).
        ("http://port.example:5000/", true),
        ("http://port.example/", false),
        ("http://x.port.example:5000/", true),
        // CIDR and addresses, IPv4 and IPv6, apply to IP literals only.
        ("https://10.1.2.3/", true),
        ("https://11.0.0.1/", false),
        ("https://[fd12::1]:5000/", true),
        ("https://[fe80::1]/", false),
        ("https://192.168.1.1:7000/", true),
        ("http://192.168.1.2:8080/", true),
        ("http://192.168.1.2/", false),
        ("https://[2001:db8::1]/", true),
        ("http://[2001:db8::1]/", false),
        ("https://[2001:db8::2]:1/", true),
        // Names that only look like entries.
        ("https://other.example/", false),
        ("https://junk/", false),
    ];
    for (url, bypass) in table {
        let want = if bypass { "direct" } else { "http://p:1" };
        assert_eq!(route(&r, url), want, "{url}");
    }
}

#[test]
fn a_star_bypasses_everything_and_explicit_lists_replace_the_environment() {
    let r = rules(
        &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "a.example, *")],
        ProxyOptions::default(),
    );
    assert_eq!(route(&r, "https://anything.example/"), "direct");
    let r = rules(
        &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "*")],
        ProxyOptions {
            no_proxy: Some("b.example".into()),
            ..ProxyOptions::default()
        },
    );
    assert_eq!(route(&r, "https://a.example/"), "http://p:1");
    assert_eq!(route(&r, "https://b.example/"), "direct");
}

#[test]
fn the_explicit_proxy_beats_the_environment_for_both_schemes() {
    let options = ProxyOptions {
        url: Some("https://user:pw@explicit.example:8443/".into()),
        ..ProxyOptions::default()
    };
    let r = rules(
        &[
            ("HTTPS_PROXY", "env:1"),
            ("HTTP_PROXY", "env:1"),
            ("NO_PROXY", ".internal"),
            ("REQUEST_METHOD", "GET"),
        ],
        options,
    );
    assert_eq!(
        route(&r, "https://registry.example/"),
        "https://***@explicit.example:8443"
    );
    // CGI does not refuse a proxy the program chose itself.
    assert_eq!(
        route(&r, "http://registry.example/"),
        "https://***@explicit.example:8443"
    );
    // The environment's NO_PROXY still applies to it, as curl does.
    assert_eq!(route(&r, "https://r.internal/"), "direct");
}

#[test]
fn proxy_from_env_false_ignores_every_variable() {
    let r = rules(
        &[("HTTPS_PROXY", "p:1"), ("HTTP_PROXY", "p:1")],
        ProxyOptions {
            from_env: false,
            ..ProxyOptions::default()
        },
    );
    assert_eq!(route(&r, "https://registry.example/"), "direct");
    let r = rules(
        &[("NO_PROXY", "*")],
        ProxyOptions {
            from_env: false,
            url: Some("p:1".into()),
            ..ProxyOptions::default()
        },
    );
    assert_eq!(route(&r, "https://registry.example/"), "http://p:1");
}

#[test]
fn http_proxy_is_refused_in_a_cgi_program() {
    let r = rules(
        &[
            ("REQUEST_METHOD", "POST"),
            ("HTTP_PROXY", "http://attacker:1"),
            ("HTTPS_PROXY", "http://p:1"),
            ("NO_PROXY", "direct.example"),
        ],
        ProxyOptions::default(),
    );
    assert_eq!(route(&r, "http://registry.example/"), "refused");
    assert_eq!(route(&r, "https://registry.example/"), "http://p:1");
    assert_eq!(route(&r, "http://direct.example/"), "direct");
    assert_eq!(route(&r, "http://127.0.0.1:5000/"), "direct");
    let r = rules(
        &[("REQUEST_METHOD", ""), ("HTTP_PROXY", "http://p:1")],
        ProxyOptions::default(),
    );
    assert_eq!(route(&r, "http://registry.example/"), "http://p:1");
}

#[test]
fn unusable_environment_proxies_refuse_requests_instead_of_going_around() {
    let r = rules(
        &[
            ("HTTPS_PROXY", "socks5://u:secret@s:1080"),
            ("HTTP_PROXY", "ftp://x"),
        ],
        ProxyOptions::default(),
    );
    let Route::Refused(why) = r.route("https://registry.example/") else {
        panic!("socks must be refused");
    };
    assert!(
        why.contains("socks5") && why.contains("HTTPS_PROXY"),
        "{why}"
    );
    assert!(!why.contains("secret"), "{why}");
    assert_eq!(route(&r, "http://registry.example/"), "refused");
}

#[test]
fn proxy_urls() {
    let ok = [
        ("proxy", "http", None, "proxy", 80),
        ("proxy:3128", "http", None, "proxy", 3128),
        ("HTTP://Proxy.Corp:3128/", "http", None, "Proxy.Corp", 3128),
        ("https://proxy", "https", None, "proxy", 443),
        ("u:p@proxy:1", "http", Some("u:p"), "proxy", 1),
        ("http://u:p@ss@proxy:1", "http", Some("u:p@ss"), "proxy", 1),
        ("http://[::1]:8080", "http", None, "[::1]", 8080),
        ("10.0.0.1:3128", "http", None, "10.0.0.1", 3128),
    ];
    for (text, scheme, userinfo, host, port) in ok {
        let want = Parsed {
            scheme,
            userinfo: userinfo.map(str::to_string),
            host: host.into(),
            port,
        };
        assert_eq!(parse_parts(text), Ok(want), "{text}");
        assert!(parse(text, "test").is_ok(), "{text}");
    }
    for text in [
        "",
        "  ",
        "socks5://proxy:1080",
        "socks://proxy",
        "ftp://proxy",
        "http://",
        "http://:3128",
        "http://proxy:0",
        "http://proxy:99999",
        "http://proxy:port",
        "http://pro xy",
        "http://[::1",
        "http://[nothex]:1",
        "http://u:p@",
        "http://a\r\nb",
    ] {
        assert!(parse_parts(text).is_err(), "{text:?}");
    }
    let e = check("socks5h://user:hunter2@proxy:1080").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("socks5h") && !msg.contains("hunter2"), "{msg}");
}

#[test]
fn credentials_never_show() {
    let p = parse("http://alice:s3cr%40t@proxy:3128", "HTTPS_PROXY").unwrap();
    assert_eq!(p.ureq().username(), Some("alice"));
    assert_eq!(p.ureq().password(), Some("s3cr@t"));
    let shown = format!("{} {:?}", p.describe(), p);
    assert!(
        !shown.contains("alice") && !shown.contains("s3cr"),
        "{shown}"
    );
    assert_eq!(p.describe(), "http://***@proxy:3128 (from HTTPS_PROXY)");
    let scrubbed = p.scrub("refused for alice with s3cr@t and s3cr%40t");
    assert!(
        !scrubbed.contains("alice") && !scrubbed.contains("s3cr"),
        "{scrubbed}"
    );
    // Characters a URL's userinfo cannot hold are escaped, and decoded back by ureq.
    let p = parse("u:p@ss w0rd#@proxy:1", "test");
    assert!(p.is_err(), "a space is refused");
    let p = parse("http://u:p@ss@proxy:1", "test").unwrap();
    assert_eq!(p.ureq().password(), Some("p@ss"));
    assert_eq!(redact("http://u:p@ss@proxy:1/x"), "http://***@proxy:1/x");
    assert_eq!(redact("proxy:1"), "proxy:1");
    let e = Rules::new(&ProxyOptions {
        url: Some("ftp://bob:hunter2@proxy".into()),
        ..ProxyOptions::default()
    })
    .unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[test]
fn proxy_407_is_an_auth_error_and_other_failures_name_the_proxy() {
    let p = parse("http://alice:s3cret@proxy:3128", "the proxy option").unwrap();
    let e = p.map_error(
        super::super::Method::Get,
        "http://registry.test:5000/v2/?x=1",
        ureq::Error::ConnectProxyFailed(
            "proxy server responded 407/Proxy Authentication Required".into(),
        ),
        1,
    );
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    let msg = format!("{e} {e:?}");
    assert!(
        msg.contains("407") && msg.contains("http://***@proxy:3128"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret") && !msg.contains("alice") && !msg.contains("x=1"));
    let e = p.map_error(
        super::super::Method::Get,
        "http://registry.test:5000/v2/",
        ureq::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        1,
    );
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
    assert!(
        e.to_string()
            .contains("through proxy http://***@proxy:3128"),
        "{e}"
    );
}

#[test]
fn cidr_edges() {
    let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(in_cidr(v4("1.2.3.4"), v4("0.0.0.0"), 0));
    assert!(in_cidr(v4("1.2.3.4"), v4("1.2.3.4"), 32));
    assert!(!in_cidr(v4("1.2.3.5"), v4("1.2.3.4"), 32));
    assert!(in_cidr(v4("::1"), v4("::"), 0));
    assert!(in_cidr(v4("fd00::1"), v4("fd00::"), 8));
    assert!(!in_cidr(v4("1.2.3.4"), v4("::"), 0));
    assert_eq!(Entry::parse("1.2.3.4/33"), None);
    assert_eq!(Entry::parse("::/129"), None);
}

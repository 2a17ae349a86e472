//! Which proxy, if any, a request goes through.
//!
//! The rules are those of Go's `golang.org/x/net/http/httpproxy` (which `docker`, `skopeo`
//! and most registry tools use), so one environment means the same thing to all of them:
//!
//! - `https://` URLs use `HTTPS_PROXY`, `http://` URLs use `HTTP_PROXY`; for each variable the
//!   upper-case form is read first and the lower-case form when it is unset or empty.
//!   `ALL_PROXY` is not read (Go does not read it either).
//! - In a CGI program (`REQUEST_METHOD` set) a request that `HTTP_PROXY` would carry fails
//!   instead: a client can set that variable through a `Proxy:` header ("httpoxy").
//! - A value without a scheme is `http://`; `http` and `https` proxies are supported. SOCKS
//!   needs ureq's `socks-proxy` feature, which dockreg does not build with, so it is refused
//!   with a message rather than silently bypassed.
//! - `NO_PROXY` is a comma-separated list: `*` (no proxy at all), a domain (`corp.example`
//!   matches it and its subdomains; `.corp.example` and `*.corp.example` match subdomains
//!   only), an IP address, a CIDR range (`10.0.0.0/8`, `fd00::/8`), each optionally with a
//!   `:port` (the URL's port, or 80 / 443 by scheme, must then be equal). Entries that do not
//!   parse are ignored, as Go does. Domains match names and IP entries match IP literals.
//! - Loopback (`localhost`, `127.0.0.0/8`, `::1`) is never proxied.
//!
//! The environment is read once, when the client is built, through a lookup that tests (and
//! embedders) can replace. Explicit options beat it: a proxy given to the builder is used for
//! both schemes, and an explicit no-proxy list replaces `NO_PROXY`.
//!
//! Credentials in a proxy URL (`http://user:pass@proxy:3128`) are sent by ureq as
//! `Proxy-Authorization: Basic` on `CONNECT`; they never appear in messages, errors or `Debug`
//! output, which show `http://***@proxy:3128`.

use std::fmt;
use std::net::IpAddr;

use crate::config::ProxyOptions;
use crate::error::{Error, TransportErrorKind};
use crate::url;

/// A proxy ready to be given to ureq, with the text used to name it in messages.
#[derive(Clone)]
pub(crate) struct Proxy {
    ureq: ureq::Proxy,
    /// `scheme://[***@]host:port`: never the credentials.
    shown: String,
    /// Where it was configured: `the proxy option`, `HTTPS_PROXY`, `https_proxy`, ...
    source: String,
    has_credentials: bool,
    /// The credentials as written and decoded, to scrub from any message that might echo them.
    secrets: Vec<String>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL as shown in messages: the credentials are left out on purpose.
        f.debug_struct("Proxy")
            .field("url", &self.shown)
            .field("source", &self.source)
            .finish()
    }
}

impl Proxy {
    /// The ureq setting for a request through this proxy.
    pub(crate) fn ureq(&self) -> &ureq::Proxy {
        &self.ureq
    }

    /// The proxy as messages name it: `http://***@proxy.corp:3128 (from HTTPS_PROXY)`.
    pub(crate) fn describe(&self) -> String {
        format!("{} (from {})", self.shown, self.source)
    }

    /// `text` with any credential of this proxy replaced by `***`.
    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "***");
        }
        out
    }

    /// The error for a request through this proxy that got no answer: ureq's error mapped as
    /// for any request, naming the proxy (never its credentials). A `407` from the proxy is
    /// [`Error::Auth`], since trying again cannot help.
    pub(crate) fn map_error(
        &self,
        method: super::Method,
        target: &str,
        e: ureq::Error,
        attempts: u32,
    ) -> Error {
        let url = url::without_query(target);
        if let ureq::Error::ConnectProxyFailed(reason) = &e {
            if reason.contains("responded 407") {
                let why = if self.has_credentials {
                    "it refused the credentials of the proxy URL"
                } else {
                    "it wants credentials: give them in the proxy URL \
                     (http://user:password@host:port)"
                };
                return Error::Auth {
                    registry: format!("proxy {}", self.describe()),
                    message: format!(
                        "{} {url}: the proxy answered 407 Proxy Authentication Required; {why}",
                        method.as_str()
                    ),
                };
            }
            // Nothing reached the registry: as safe to try again as a refused connection.
            return Error::Transport {
                method: method.as_str().to_string(),
                url: url.to_string(),
                kind: TransportErrorKind::Connect,
                message: format!("{}; through proxy {}", self.scrub(reason), self.describe()),
                attempts,
            };
        }
        let mut err = super::map_ureq_error(method, target, e, attempts);
        if let Error::Transport { message, .. } = &mut err {
            *message = format!("{}; through proxy {}", self.scrub(message), self.describe());
        }
        err
    }
}

/// What a request to one URL does.
#[derive(Debug)]
pub(crate) enum Route<'a> {
    /// Connect to the URL's host.
    Direct,
    /// Go through this proxy.
    Proxy(&'a Proxy),
    /// A proxy applies but cannot be used (SOCKS, an unparsable value, HTTP_PROXY under CGI):
    /// the request fails with this reason rather than go around the proxy.
    Refused(&'a str),
}

/// The proxy chosen for one scheme.
#[derive(Debug, Clone)]
enum Choice {
    Use(Proxy),
    Refuse(String),
}

/// The proxy rules of one client, fixed when it is built.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    http: Option<Choice>,
    https: Option<Choice>,
    no_proxy: NoProxy,
}

impl Rules {
    /// The rules from the options, reading the environment (once) unless told not to.
    /// An invalid explicit proxy is [`Error::InvalidInput`]; an unusable proxy from the
    /// environment fails only the requests it would carry (see [`Route::Refused`]).
    pub(crate) fn new(options: &ProxyOptions) -> Result<Self, Error> {
        let env = if options.from_env {
            match &options.env {
                Some(lookup) => Env::read(&|name: &str| lookup(name)),
                None => Env::read(&|name: &str| std::env::var(name).ok()),
            }
        } else {
            Env::default()
        };
        let (http, https) = match &options.url {
            Some(text) => {
                let p = parse(text, "the proxy option").map_err(|why| invalid(text, &why))?;
                (Some(Choice::Use(p.clone())), Some(Choice::Use(p)))
            }
            None => {
                let from_env = |var: Option<(&'static str, String)>| {
                    var.map(|(name, value)| match parse(&value, name) {
                        Ok(p) => Choice::Use(p),
                        Err(why) => {
                            Choice::Refuse(format!("the proxy {name}={} {why}", redact(&value)))
                        }
                    })
                };
                let http = match env.http {
                    Some((name, _)) if env.cgi => Some(Choice::Refuse(format!(
                        "refusing {name} in a CGI program (REQUEST_METHOD is set): a client \
                         can set HTTP_PROXY with a Proxy header (httpoxy); give the proxy \
                         explicitly"
                    ))),
                    var => from_env(var),
                };
                (http, from_env(env.https))
            }
        };
        let no_proxy = match &options.no_proxy {
            Some(list) => NoProxy::parse(list),
            None => NoProxy::parse(env.no_proxy.as_deref().unwrap_or("")),
        };
        Ok(Self {
            http,
            https,
            no_proxy,
        })
    }

    /// How a request to `url` (absolute http or https) gets there.
    pub(crate) fn route(&self, url: &str) -> Route<'_> {
        let Some(t) = Target::parse(url) else {
            return Route::Direct;
        };
        let choice = match t.scheme {
            Scheme::Http => &self.http,
            Scheme::Https => &self.https,
        };
        let Some(choice) = choice else {
            return Route::Direct;
        };
        if t.is_loopback() || self.no_proxy.matches(&t) {
            return Route::Direct;
        }
        match choice {
            Choice::Use(p) => Route::Proxy(p),
            Choice::Refuse(why) => Route::Refused(why),
        }
    }
}

/// Checks an explicit proxy URL as [`Rules::new`] will take it.
pub(crate) fn check(text: &str) -> Result<(), Error> {
    parse(text, "the proxy option")
        .map(drop)
        .map_err(|why| invalid(text, &why))
}

fn invalid(text: &str, why: &str) -> Error {
    Error::InvalidInput(format!("proxy URL \"{}\" {why}", redact(text)))
}

/// The proxy variables of an environment, as Go reads them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Env {
    http: Option<(&'static str, String)>,
    https: Option<(&'static str, String)>,
    no_proxy: Option<String>,
    cgi: bool,
}

impl Env {
    fn read(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        // The first of the names that is set and not empty.
        let any = |names: [&'static str; 2]| {
            names.into_iter().find_map(|name| {
                lookup(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (name, v))
            })
        };
        Self {
            http: any(["HTTP_PROXY", "http_proxy"]),
            https: any(["HTTPS_PROXY", "https_proxy"]),
            no_proxy: any(["NO_PROXY", "no_proxy"]).map(|(_, v)| v),
            cgi: lookup("REQUEST_METHOD").is_some_and(|v| !v.is_empty()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

/// The parts of a request URL the rules look at.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    scheme: Scheme,
    /// Lower case, without brackets for IPv6.
    host: String,
    ip: Option<IpAddr>,
    /// The URL's port, or the scheme's default.
    port: u16,
}

impl Target {
    fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else {
            return None;
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = split_host_port(host_port)?;
        let port = match port {
            Some(p) => p,
            None if scheme == Scheme::Https => 443,
            None => 80,
        };
        let host = host.to_ascii_lowercase();
        Some(Self {
            scheme,
            ip: host.parse().ok(),
            host,
            port,
        })
    }

    fn is_loopback(&self) -> bool {
        match self.ip {
            Some(IpAddr::V4(ip)) => ip.is_loopback(),
            Some(IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            None => self.host == "localhost",
        }
    }
}

/// `host[:port]` or `[v6][:port]`: the host without brackets and the port if any. `None` when
/// the port is not a number or the brackets do not close.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match text.split_once(':') {
        // More than one colon: a bare IPv6 address.
        Some((_, p)) if p.contains(':') => Some((text, None)),
        Some((host, p)) => Some((host, Some(p.parse().ok()?))),
        None => Some((text, None)),
    }
}

/// A `NO_PROXY` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NoProxy {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    All,
    Cidr(IpAddr, u8),
    Ip(IpAddr, Option<u16>),
    /// `suffix` starts with a dot; `itself`: the domain without the dot matches too.
    Domain {
        suffix: String,
        itself: bool,
        port: Option<u16>,
    },
}

impl NoProxy {
    fn parse(list: &str) -> Self {
        let mut entries = Vec::new();
        for item in list.split(',') {
            let item = item.trim().to_ascii_lowercase();
            if item.is_empty() {
                continue;
            }
            if item == "*" {
                return Self {
                    entries: vec![Entry::All],
                };
            }
            if let Some(e) = Entry::parse(&item) {
                entries.push(e);
            }
        }
        Self { entries }
    }

    fn matches(&self, t: &Target) -> bool {
        self.entries.iter().any(|e| e.matches(t))
    }
}

impl Entry {
    /// One lower-case, trimmed, non-empty entry other than `*`; `None` when malformed.
    fn parse(item: &str) -> Option<Self> {
        if let Some((addr, bits)) = item.split_once('/') {
            let ip: IpAddr = addr.parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            return (bits <= max).then_some(Self::Cidr(ip, bits));
        }
        let (host, port) = split_host_port(item)?;
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(Self::Ip(ip, port));
        }
        let host = host.strip_prefix('*').unwrap_or(host);
        if host.is_empty() || host == "." || host.contains(['*', '[', ']', '/', '@']) {
            return None;
        }
        Some(match host.strip_prefix('.') {
            Some(_) => Self::Domain {
                suffix: host.to_string(),
                itself: false,
                port,
            },
            None => Self::Domain {
                suffix: format!(".{host}"),
                itself: true,
                port,
            },
        })
    }

    fn matches(&self, t: &Target) -> bool {
        match (self, t.ip) {
            (Self::All, _) => true,
            (Self::Cidr(net, bits), Some(ip)) => in_cidr(ip, *net, *bits),
            (Self::Ip(ip, port), Some(target)) => *ip == target && port.is_none_or(|p| p == t.port),
            (
                Self::Domain {
                    suffix,
                    itself,
                    port,
                },
                None,
            ) => {
                let host_matches =
                    t.host.ends_with(suffix.as_str()) || (*itself && t.host == suffix[1..]);
                host_matches && port.is_none_or(|p| p == t.port)
            }
            _ => false,
        }
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// A proxy URL's parts, checked.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    scheme: &'static str,
    /// As written (percent-encoded or not); `None` without `@`.
    userinfo: Option<String>,
    /// With brackets for IPv6, as it goes in a URL.
    host: String,
    port: u16,
}

/// Splits and checks a proxy URL; the error says what is wrong without echoing the value.
fn parse_parts(text: &str) -> Result<Parsed, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    if text.chars().any(|c| c.is_control() || c == ' ') {
        return Err("has a space or control character".into());
    }
    let (scheme, rest) = match text.split_once("://") {
        Some((s, rest)) => (s.to_ascii_lowercase(), rest),
        None => ("http".to_string(), text),
    };
    let scheme = match scheme.as_str() {
        "http" => "http",
        "https" => "https",
        "socks" | "socks4" | "socks4a" | "socks5" | "socks5h" => {
            return Err(format!(
                "is a {scheme} proxy: dockreg supports http and https proxies only (it is built \
                 without ureq's socks-proxy feature)"
            ));
        }
        _ => return Err("has a scheme other than http or https".into()),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((u, hp)) => (Some(u.to_string()), hp),
        None => (None, authority),
    };
    let (host, port) =
        split_host_port(host_port).ok_or("has a port that is not a number from 1 to 65535")?;
    let host_ok = if host_port.starts_with('[') {
        host.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    };
    if !host_ok {
        return Err("has no valid host".into());
    }
    if port == Some(0) {
        return Err("has a port that is not a number from 1 to 65535".into());
    }
    let host = if host_port.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let port = port.unwrap_or(if scheme == "https" { 443 } else { 80 });
    Ok(Parsed {
        scheme,
        userinfo,
        host,
        port,
    })
}

/// A proxy from its URL; `source` names where it was configured.
fn parse(text: &str, source: &str) -> Result<Proxy, String> {
    let p = parse_parts(text)?;
    let shown_auth = if p.userinfo.is_some() { "***@" } else { "" };
    let shown = format!("{}://{shown_auth}{}:{}", p.scheme, p.host, p.port);
    let mut secrets = Vec::new();
    let userinfo = match &p.userinfo {
        Some(u) => {
            for part in u.split(':').filter(|s| !s.is_empty()) {
                secrets.push(part.to_string());
                secrets.push(percent_decode(part));
            }
            format!("{}@", encode_userinfo(u))
        }
        None => String::new(),
    };
    let ureq = ureq::Proxy::new(&format!("{}://{userinfo}{}:{}", p.scheme, p.host, p.port))
        .map_err(|_| "is not a URL the HTTP stack accepts".to_string())?;
    // Longest first, so a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    Ok(Proxy {
        ureq,
        shown,
        source: source.to_string(),
        has_credentials: p.userinfo.is_some(),
        secrets,
    })
}

/// `user:password` with every character a URL's userinfo may not hold percent-encoded, and
/// existing `%XX` escapes kept (ureq decodes them once).
fn encode_userinfo(u: &str) -> String {
    let bytes = u.as_bytes();
    let mut out = String::new();
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if escape || b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A proxy URL as it may be shown: the credentials replaced by `***`.
pub(crate) fn redact(text: &str) -> String {
    let text = text.trim();
    let (prefix, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let shown = match rest[..end].rfind('@') {
        Some(at) => format!("{prefix}***{}", &rest[at..]),
        None => text.to_string(),
    };
    crate::error::safe(&crate::error::clip(&shown)).into_owned()
}

#[cfg(test)]
mod tests;

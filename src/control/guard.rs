//! What keeps the control API to its intended clients (a test suite, a CI job, a
//! container's neighbours) and away from web pages a developer happens to have open:
//!
//! - `Host` must name this server: an IP literal, `localhost`, a single-label name (a
//!   Docker service alias such as `glmock`), the host of `--base-url`, or one of
//!   `--control-allowed-hosts`. This defeats DNS rebinding, where `evil.example` resolves
//!   to 127.0.0.1 and its page talks to glmock as a same-origin site.
//! - `Origin`, when sent, must be the same host and port as `Host` (a page elsewhere).
//! - A write (POST, PUT, DELETE) must not look like a simple cross-site request: form and
//!   `text/plain` content types are refused, and a body must be JSON (or YAML for a
//!   scenario). A browser cannot send those cross-site without a CORS preflight, which
//!   glmock never answers.
//! - The control token, when set, is compared in constant time.
//! - The URL prefix, `X-Glmock-Session` and the `session` parameter must name the same
//!   session.

use hyper::header::{CONTENT_TYPE, HOST, ORIGIN};
use hyper::{HeaderMap, Method, StatusCode};

use super::{ControlError, ControlRequest};
use crate::api::query::{Params, scalar};
use crate::world::session;

/// Which `Host` names the control API answers.
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    /// Lower-case host names (no port) allowed besides the built-in rules.
    pub allowed: Vec<String>,
}

impl HostPolicy {
    /// The policy for a server: the host of `base_url` and the extra names.
    pub fn new(base_url: Option<&str>, extra: &[String]) -> Self {
        let mut allowed: Vec<String> = extra.iter().map(|h| h.to_ascii_lowercase()).collect();
        if let Some(host) = base_url.and_then(url_host) {
            allowed.push(host);
        }
        HostPolicy { allowed }
    }

    /// Is `host` (a `Host` header value, maybe with a port) one of ours?
    pub fn allows(&self, host: &str) -> bool {
        let name = strip_port(host).to_ascii_lowercase();
        if name.is_empty() {
            return false;
        }
        let unbracketed = name.trim_start_matches('[').trim_end_matches(']');
        unbracketed.parse::<std::net::IpAddr>().is_ok()
            || name == "localhost"
            || (!name.contains('.') && !name.contains(':'))
            || self.allowed.contains(&name)
    }
}

/// The host of `scheme://host[:port]/…`, lower-case.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = strip_port(authority);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `host:port` → `host`; `[::1]:8080` → `[::1]`.
fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority,
        };
    }
    match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => authority,
    }
}

fn header(headers: &HeaderMap, name: impl hyper::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn forbidden(message: String) -> ControlError {
    ControlError::new(StatusCode::FORBIDDEN, message)
}

/// Refuses a foreign `Host` and an `Origin` that is not this `Host`.
pub fn host_and_origin(policy: &HostPolicy, headers: &HeaderMap) -> Result<(), ControlError> {
    let host = header(headers, HOST);
    if let Some(host) = host
        && !policy.allows(host)
    {
        return Err(forbidden(format!(
            "the control API does not answer for Host {host:?} (allowed: IP addresses, \
             localhost, single-label names, the --base-url host and --control-allowed-hosts)"
        )));
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin.split_once("://").map(|(_, a)| a);
        let same = match (authority, host) {
            (Some(a), Some(h)) => a.trim_end_matches('/').eq_ignore_ascii_case(h),
            _ => false,
        };
        if !same {
            return Err(forbidden(format!(
                "the control API refuses cross-origin requests (Origin {origin:?} is not Host {:?})",
                host.unwrap_or("")
            )));
        }
    }
    Ok(())
}

/// Compares two secrets in time that depends only on their lengths.
pub fn tokens_equal(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        // Walk all of `a` even when `b` is shorter, so the time does not reveal a prefix.
        let y = b.get(i).copied().unwrap_or(!*x);
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// Refuses a missing or wrong control token when one is set.
pub fn token(expected: Option<&str>, headers: &HeaderMap) -> Result<(), ControlError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let sent = header(headers, "x-glmock-control-token").unwrap_or("");
    if tokens_equal(sent.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ControlError::new(
            StatusCode::UNAUTHORIZED,
            "control API token missing or wrong (send X-Glmock-Control-Token)",
        ))
    }
}

/// Content types a browser may send cross-site without a preflight.
const SIMPLE: &[&str] = &[
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

const YAML: &[&str] = &[
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
];

/// Refuses writes that a web page could send cross-site.
pub fn content_type(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    document: bool,
) -> Result<(), ControlError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let ct = header(headers, CONTENT_TYPE).map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let expected = if document {
        "application/json or application/yaml"
    } else {
        "application/json"
    };
    if let Some(ct) = &ct
        && SIMPLE.contains(&ct.as_str())
    {
        return Err(ControlError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the control API does not accept {ct} (send {expected})"),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let ok = match ct.as_deref() {
        Some("application/json") => true,
        Some(c) => document && YAML.contains(&c),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ControlError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "a control request body must be sent as {expected} (got {})",
                ct.as_deref().unwrap_or("no Content-Type")
            ),
        ))
    }
}

/// The one session a request names: the URL prefix, `X-Glmock-Session` and the `session`
/// parameter (query or body) must agree.
pub fn one_session(req: &ControlRequest, params: &Params) -> Result<Option<String>, ControlError> {
    let param = match params.get("session") {
        None => None,
        Some(p) => {
            Some(scalar(p).ok_or_else(|| ControlError::bad_request("session must be a string"))?)
        }
    };
    let named = [
        ("the URL prefix", req.url_session.map(str::to_owned)),
        (
            "X-Glmock-Session",
            header(req.headers, "x-glmock-session").map(str::to_owned),
        ),
        ("the session parameter", param),
    ];
    let mut chosen: Option<(&str, String)> = None;
    for (source, name) in named {
        let Some(name) = name else { continue };
        if !session::valid_name(&name) {
            return Err(ControlError::bad_request(format!(
                "invalid session name {name:?} in {source} (use 1-64 of A-Z a-z 0-9 _ . -)"
            )));
        }
        match &chosen {
            Some((first, s)) if *s != name => {
                return Err(ControlError::bad_request(format!(
                    "one session per control request: {first} names {s:?} but {source} names {name:?}"
                )));
            }
            Some(_) => {}
            None => chosen = Some((source, name)),
        }
    }
    Ok(chosen.map(|(_, s)| s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let p = HostPolicy::new(Some("https://gitlab.test:8443/x"), &["ci.example".into()]);
        for ok in [
            "127.0.0.1:8080",
            "[::1]:80",
            "localhost",
            "LOCALHOST:1",
            "glmock:8080",
            "gitlab.test",
            "ci.example:80",
            "10.0.0.7",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "127.0.0.1.nip.io:8080",
            "",
            "gitlab.test.evil",
        ] {
            assert!(!p.allows(bad), "{bad}");
        }
    }

    #[test]
    fn token_comparison() {
        assert!(tokens_equal(b"abc", b"abc"));
        assert!(!tokens_equal(b"abc", b"abd"));
        assert!(!tokens_equal(b"abc", b"ab"));
        assert!(!tokens_equal(b"", b"a"));
        assert!(tokens_equal(b"", b""));
    }
}

//! Turning raw HTTP requests and responses into cassette entries: which headers are kept,
//! how bodies are stored, and how `Link` URLs are made host-independent.

use std::collections::BTreeMap;

use reqwest::header::HeaderMap;

use super::cassette::{BASE_PLACEHOLDER, Body};

/// Set on a recorded trace that was cut; the value is the original length in bytes.
pub const TRUNCATED_HEADER: &str = "x-glmock-truncated";

/// Request headers worth keeping (lower-case). Authentication headers and cookies are never
/// among them.
pub const REQUEST_HEADERS: &[&str] = &[
    "accept",
    "content-type",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
];

/// Response headers worth keeping (lower-case).
pub const RESPONSE_HEADERS: &[&str] = &[
    "allow",
    "content-disposition",
    "content-type",
    "link",
    "location",
    "retry-after",
    "www-authenticate",
    "x-next-page",
    "x-page",
    "x-per-page",
    "x-prev-page",
    "x-total",
    "x-total-pages",
    TRUNCATED_HEADER,
];

/// Headers that carry credentials: forwarded by the proxy, never recorded.
pub const AUTH_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "job-token",
    "private-token",
    "proxy-authorization",
    "set-cookie",
];

/// Query parameters that carry credentials: removed from recorded queries and `Link` URLs.
pub const AUTH_PARAMS: &[&str] = &["private_token", "job_token", "access_token"];

/// The kept headers of `headers`, lower-case names, values as text.
pub fn kept_headers(headers: &HeaderMap, keep: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str();
        if !keep.contains(&name) || AUTH_HEADERS.contains(&name) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.to_owned())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// A body as stored in a cassette: parsed JSON when it is JSON, text otherwise, `None` when
/// empty — except an empty `text/plain` body, which is GitLab's answer for a job without a
/// log and is kept as empty text. Bytes that are not UTF-8 (artifacts) are replaced by a
/// note of their size.
pub fn body_from_bytes(content_type: Option<&str>, bytes: &[u8]) -> Option<Body> {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if bytes.is_empty() {
        return ct
            .starts_with("text/plain")
            .then(|| Body::Text(String::new()));
    }
    let looks_json = ct.contains("json")
        || (ct.is_empty()
            && matches!(
                bytes.iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'{' | b'[')
            ));
    if looks_json && let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        return Some(Body::Json(v));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(Body::Text(s.to_owned())),
        Err(_) => Some(Body::Text(format!(
            "[{} bytes of binary data, not recorded]",
            bytes.len()
        ))),
    }
}

/// Calls `f` on every `<URL>` of a `Link` header and puts its answer in place.
pub fn map_link_urls(link: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(link.len());
    let mut rest = link;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start + 1..].find('>') else {
            break;
        };
        out.push_str(&rest[..=start]);
        out.push_str(&f(&rest[start + 1..start + 1 + len]));
        out.push('>');
        rest = &rest[start + 2 + len..];
    }
    out.push_str(rest);
    out
}

/// `https://gitlab.example.com/api/v4/x?y` → `(https://gitlab.example.com, /api/v4/x?y)`;
/// `None` when the URL has no `/api/v4` part.
pub fn split_api_url(url: &str) -> Option<(&str, &str)> {
    let at = url.find("/api/v4")?;
    Some((&url[..at], &url[at..]))
}

/// Replaces what comes before `/api/v4` in each `Link` URL with `base`.
pub fn rebase_link(link: &str, base: &str) -> String {
    map_link_urls(link, |url| match split_api_url(url) {
        Some((_, rest)) => format!("{base}{rest}"),
        None => url.to_owned(),
    })
}

/// `rebase_link` to the cassette placeholder.
pub fn placeholder_link(link: &str) -> String {
    rebase_link(link, BASE_PLACEHOLDER)
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().eq_ignore_ascii_case("rel=\"next\"") || p.trim() == "rel=next");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// Rewrites a raw query string parameter by parameter: `f(key, value)` gets the decoded key
/// and value and returns `None` to drop the parameter, `Some(value)` to keep it (re-encoded
/// only when it changed). The other parameters keep their exact spelling.
pub fn map_query(query: &str, mut f: impl FnMut(&str, &str) -> Option<String>) -> String {
    let mut out: Vec<String> = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let key = decode(raw_key);
        let value = decode(raw_value);
        match f(&key, &value) {
            None => {}
            Some(v) if v == value => out.push(part.to_owned()),
            Some(v) => {
                let encoded: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
                out.push(format!("{raw_key}={encoded}"));
            }
        }
    }
    out.join("&")
}

fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// Sets (or adds) one parameter of a raw query string.
pub fn set_param(query: &str, key: &str, value: &str) -> String {
    let mut found = false;
    let mut q = map_query(query, |k, v| {
        if k == key {
            found = true;
            Some(value.to_owned())
        } else {
            Some(v.to_owned())
        }
    });
    if !found {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(key);
        q.push('=');
        q.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    }
    q
}

/// The upstream URL as given, without a trailing `/`, an `/api/v4` suffix, credentials, a
/// query or a fragment.
pub fn normalize_upstream(url: &str) -> anyhow::Result<String> {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        anyhow::bail!("--upstream must be an http:// or https:// URL, got {url:?}");
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        anyhow::bail!("--upstream must be an http:// or https:// URL, got {url:?}");
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.is_empty() {
        anyhow::bail!("--upstream has no host: {url:?}");
    }
    let mut path = path.trim_end_matches('/');
    if let Some(p) = path.strip_suffix("/api/v4") {
        path = p.trim_end_matches('/');
    }
    Ok(format!("{scheme}://{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rebased_and_next_is_found() {
        let link = "<http://h:1/api/v4/p?page=2&per_page=3>; rel=\"next\", <http://h:1/api/v4/p?page=1&per_page=3>; rel=\"first\"";
        assert_eq!(
            placeholder_link(link),
            "<{base}/api/v4/p?page=2&per_page=3>; rel=\"next\", <{base}/api/v4/p?page=1&per_page=3>; rel=\"first\""
        );
        assert_eq!(
            next_link(link).as_deref(),
            Some("http://h:1/api/v4/p?page=2&per_page=3")
        );
        assert_eq!(next_link("<http://h/api/v4/p>; rel=\"first\""), None);
    }

    #[test]
    fn queries_keep_their_spelling() {
        let q = "scope%5B%5D=failed&private_token=x&username=a+b";
        let out = map_query(q, |k, v| match k {
            "private_token" => None,
            "username" => Some(format!("{v}!")),
            _ => Some(v.to_owned()),
        });
        assert_eq!(out, "scope%5B%5D=failed&username=a+b%21");
        assert_eq!(set_param("a=1&page=2", "page", "3"), "a=1&page=3");
        assert_eq!(set_param("a=1", "page", "3"), "a=1&page=3");
    }

    #[test]
    fn upstreams_are_normalized() {
        assert_eq!(
            normalize_upstream("https://u:p@gitlab.example.com/api/v4/").unwrap(),
            "https://gitlab.example.com"
        );
        assert_eq!(
            normalize_upstream("http://127.0.0.1:9/gitlab/").unwrap(),
            "http://127.0.0.1:9/gitlab"
        );
        assert!(normalize_upstream("gitlab.example.com").is_err());
    }

    #[test]
    fn bodies_are_json_or_text() {
        assert_eq!(
            body_from_bytes(Some("application/json"), b"{\"a\":1}"),
            Some(Body::Json(serde_json::json!({"a": 1})))
        );
        assert_eq!(
            body_from_bytes(Some("text/plain"), b"{\"a\":1}"),
            Some(Body::Text("{\"a\":1}".into()))
        );
        // GitLab's trace of a job without a log: 200, text/plain, empty.
        assert_eq!(
            body_from_bytes(Some("text/plain"), b""),
            Some(Body::Text(String::new()))
        );
        assert_eq!(body_from_bytes(Some("application/json"), b""), None);
        assert!(matches!(
            body_from_bytes(None, &[0xff, 0xfe]),
            Some(Body::Text(t)) if t.contains("2 bytes")
        ));
    }
}

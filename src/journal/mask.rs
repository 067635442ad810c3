//! Secrets never enter the journal: credential headers, token-like query and form
//! parameters, JSON body fields with secret names, and every literal secret of the request
//! wherever else it appears (the path, the query, the body) become `[REDACTED]`.

use std::borrow::Cow;

use bytes::Bytes;
use hyper::HeaderMap;
use hyper::header::HeaderName;

use super::Headers;

/// What a secret is replaced with (as `glmock record` does).
pub const REDACTED: &str = "[REDACTED]";

/// Headers that carry credentials (parsed at compile time: this runs on every request).
const SECRET_HEADERS: [HeaderName; 9] = [
    HeaderName::from_static("private-token"),
    HeaderName::from_static("job-token"),
    hyper::header::AUTHORIZATION,
    hyper::header::PROXY_AUTHORIZATION,
    hyper::header::COOKIE,
    hyper::header::SET_COOKIE,
    HeaderName::from_static("x-glmock-control-token"),
    HeaderName::from_static("x-gitlab-token"),
    HeaderName::from_static("deploy-token"),
];

/// Is a parameter or field with this name a secret?
pub fn is_secret_name(name: &str) -> bool {
    // Lowercased on the stack: this runs for every query parameter of every request.
    let mut short = [0u8; 64];
    let long;
    let n: &str = match short.get_mut(..name.len()) {
        Some(buf) => {
            buf.copy_from_slice(name.as_bytes());
            buf.make_ascii_lowercase();
            std::str::from_utf8(buf).expect("ASCII lowercasing keeps UTF-8")
        }
        None => {
            long = name.to_ascii_lowercase();
            &long
        }
    };
    n == "token"
        || n.ends_with("_token")
        || n.ends_with("-token")
        || n.contains("password")
        || n.contains("secret")
        || n == "api_key"
        || n == "apikey"
        || n.ends_with("_key") && (n.contains("private") || n.contains("access"))
}

/// The literal secrets of one request (borrowed from it where they can be): the first
/// few in place (a request has one or two, from its token header), the rest in a list.
#[derive(Debug, Default)]
pub struct Secrets<'a> {
    few: [Option<Cow<'a, str>>; 4],
    more: Vec<Cow<'a, str>>,
}

impl<'a> Secrets<'a> {
    pub fn new() -> Self {
        Secrets::default()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.few
            .iter()
            .map_while(Option::as_deref)
            .chain(self.more.iter().map(|s| s.as_ref()))
    }

    fn contains(&self, s: &str) -> bool {
        self.iter().any(|x| x == s)
    }

    fn push(&mut self, s: Cow<'a, str>) {
        match self.few.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(s),
            None => self.more.push(s),
        }
    }
}

/// Copies the request headers into the journal's compact form (`out`, emptied first) in
/// one pass, a credential header's values replaced by one `[REDACTED]`, and adds the literal
/// secrets they held to `secrets`.
pub fn headers<'a>(h: &'a HeaderMap, out: &mut Headers, secrets: &mut Secrets<'a>) {
    out.clear_and_reserve(
        h.len(),
        h.iter().map(|(k, v)| k.as_str().len() + v.len()).sum(),
    );
    let mut last_secret: Option<&HeaderName> = None;
    for (name, value) in h {
        if !SECRET_HEADERS.contains(name) {
            out.push(name.as_str(), value.as_bytes());
            continue;
        }
        if let Ok(s) = value.to_str() {
            let s = s.trim();
            // `Bearer x` / `Basic x`: the credential is the last word.
            if let Some((_, cred)) = s.rsplit_once(' ') {
                push_secret(secrets, Cow::Borrowed(cred));
            }
            push_secret(secrets, Cow::Borrowed(s));
        }
        // Every value of a credential header becomes one `[REDACTED]` (the map yields a
        // name's values one after the other).
        if last_secret != Some(name) {
            out.push(name.as_str(), REDACTED.as_bytes());
            last_secret = Some(name);
        }
    }
}

fn push_secret<'a>(secrets: &mut Secrets<'a>, s: Cow<'a, str>) {
    // (Secrets of headers are borrowed from the request; those of a query or body, rare,
    // are owned.)
    // Short values (`1`, `true`) would mask unrelated text.
    if s.len() >= 6 && !secrets.contains(&s) {
        secrets.push(s);
    }
}

/// Masks token-like parameters of a query string or form body, adding their values to
/// `secrets`.
pub fn query<'a>(q: &'a str, secrets: &mut Secrets<'_>) -> Cow<'a, str> {
    let secret_pair = |pair: &str| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        !v.is_empty() && is_secret_name(key.split('[').next().unwrap_or(""))
    };
    // Most queries have no secret: nothing is built for them.
    if !q.split('&').any(secret_pair) {
        return Cow::Borrowed(q);
    }
    let mut out = String::with_capacity(q.len());
    for (i, pair) in q.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        if !secret_pair(pair) {
            out.push_str(pair);
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
        push_secret(secrets, Cow::Owned(value.into_owned()));
        push_secret(secrets, Cow::Owned(v.to_owned()));
        out.push_str(k);
        out.push('=');
        out.push_str(REDACTED);
    }
    Cow::Owned(out)
}

/// Replaces every literal secret in `s`, and path segments that are GitLab tokens.
pub fn text<'a>(s: &'a str, secrets: &Secrets<'_>) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(s);
    for secret in secrets.iter() {
        if out.contains(secret) {
            out = Cow::Owned(out.replace(secret, REDACTED));
        }
    }
    if out.contains("/gl") {
        let masked: Vec<&str> = out
            .split('/')
            .map(|seg| if is_gitlab_token(seg) { REDACTED } else { seg })
            .collect();
        let joined = masked.join("/");
        if joined != *out {
            out = Cow::Owned(joined);
        }
    }
    out
}

/// GitLab's token prefixes (personal, CI job, deploy, runner, trigger, feed, OAuth…).
fn is_gitlab_token(seg: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "glpat-", "glcbt-", "gldt-", "glrt-", "glrtr-", "glptt-", "glft-", "glimt-", "glagent-",
        "gloas-", "glsoat-", "glffct-", "glwt-",
    ];
    PREFIXES
        .iter()
        .any(|p| seg.len() > p.len() && seg.starts_with(p))
}

/// A request body with its secrets masked: JSON fields with secret names, form parameters,
/// and literal secrets. Returns the same bytes when nothing is secret.
pub fn body(b: &Bytes, secrets: &mut Secrets<'_>) -> Bytes {
    if b.is_empty() {
        return b.clone();
    }
    let Ok(text) = std::str::from_utf8(b) else {
        return b.clone();
    };
    let trimmed = text.trim_start();
    let masked: Cow<str> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut v) => {
                if json(&mut v, secrets) {
                    Cow::Owned(v.to_string())
                } else {
                    Cow::Borrowed(text)
                }
            }
            Err(_) => Cow::Borrowed(text),
        }
    } else if text.contains('=') {
        query(text, secrets)
    } else {
        Cow::Borrowed(text)
    };
    match self::text(&masked, secrets) {
        Cow::Borrowed(_) if matches!(masked, Cow::Borrowed(_)) => b.clone(),
        other => Bytes::from(other.into_owned()),
    }
}

/// Masks string values under secret names; true if anything changed.
fn json(v: &mut serde_json::Value, secrets: &mut Secrets<'_>) -> bool {
    let mut changed = false;
    match v {
        serde_json::Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if is_secret_name(k)
                    && let serde_json::Value::String(s) = v
                    && !s.is_empty()
                {
                    push_secret(
                        secrets,
                        Cow::Owned(std::mem::replace(s, REDACTED.to_owned())),
                    );
                    changed = true;
                } else {
                    changed |= json(v, secrets);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for v in a {
                changed |= json(v, secrets);
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    #[test]
    fn secret_names_ignore_case_at_any_length() {
        for name in [
            "token",
            "Private_Token",
            "JOB-TOKEN",
            "db_password",
            "api_key",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["per_page", "tokens", "key", "scope"] {
            assert!(!is_secret_name(name), "{name}");
        }
        // Longer than the stack buffer: the same answers.
        let long = format!("{}_TOKEN", "x".repeat(80));
        assert!(is_secret_name(&long));
        assert!(!is_secret_name(&"y".repeat(100)));
        // Exactly the buffer's size, and non-ASCII names.
        assert!(is_secret_name(&format!("{}_token", "z".repeat(58))));
        assert!(is_secret_name("Jeton_ü_SECRET"));
    }

    #[test]
    fn queries_mask_token_parameters_only() {
        let mut s = Secrets::new();
        assert_eq!(
            query(
                "per_page=2&private_token=glpat-abc123&job_token=xyz789",
                &mut s
            ),
            "per_page=2&private_token=[REDACTED]&job_token=[REDACTED]"
        );
        assert!(s.iter().any(|x| x == "glpat-abc123"));
        assert_eq!(query("scope[]=failed", &mut s), "scope[]=failed");
        assert_eq!(
            query("access_token=abcdef", &mut s),
            "access_token=[REDACTED]"
        );
    }

    #[test]
    fn headers_and_paths() {
        let mut h = HeaderMap::new();
        h.insert("private-token", HeaderValue::from_static("glpat-secret"));
        h.insert(
            "authorization",
            HeaderValue::from_static("Bearer tok-12345"),
        );
        h.append(
            "authorization",
            HeaderValue::from_static("Basic other-secret"),
        );
        h.insert("accept", HeaderValue::from_static("*/*"));
        let mut secrets = Secrets::new();
        let mut kept = Headers::default();
        headers(&h, &mut kept, &mut secrets);
        let kept: Vec<(&str, &[u8])> = kept.iter().collect();
        assert_eq!(
            kept,
            [
                ("private-token", REDACTED.as_bytes()),
                ("authorization", REDACTED.as_bytes()),
                ("accept", b"*/*".as_slice()),
            ]
        );
        assert!(secrets.iter().any(|s| s == "other-secret"));
        assert_eq!(
            text("/api/v4/x/tok-12345/glpat-zzzzzz", &secrets),
            "/api/v4/x/[REDACTED]/[REDACTED]"
        );
        assert_eq!(
            text("/api/v4/projects/1/jobs", &secrets),
            "/api/v4/projects/1/jobs"
        );
    }

    #[test]
    fn bodies() {
        let mut s = Secrets::new();
        s.push(Cow::Borrowed("glpat-secret"));
        let b = body(
            &Bytes::from_static(br#"{"ref":"main","token":"t0ps3cret","x":"glpat-secret"}"#),
            &mut s,
        );
        assert_eq!(
            &b[..],
            br#"{"ref":"main","token":"[REDACTED]","x":"[REDACTED]"}"#
        );
        let plain = Bytes::from_static(br#"{"ref":"main"}"#);
        assert_eq!(body(&plain, &mut s), plain);
    }
}

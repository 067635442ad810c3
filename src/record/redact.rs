//! Keeping secrets and personal data out of cassettes.
//!
//! `remove_secrets` always runs before a cassette leaves the recorder: authentication headers
//! and cookies, `private_token` / `job_token` query parameters (also inside `Link` URLs), values
//! under secret-looking keys (`token`, `api_key`, `authToken`, `secret_value`,
//! `credentials.pass`, …), the value of every CI variable, anything shaped like a GitLab token
//! (`glpat-…`, `glcbt-…`, …) and every literal token the recorder saw (also percent-encoded)
//! become `[REDACTED]` or disappear. Text bodies that are JSON under another content type are
//! scrubbed as JSON.
//!
//! `redact` (`--redact emails,ips,names,urls`) replaces personal data with pseudonyms that are
//! consistent across the whole cassette (same input, same pseudonym), so a redacted cassette
//! still replays and diffs cleanly.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::capture::{AUTH_HEADERS, AUTH_PARAMS, map_link_urls, map_query};
use super::cassette::{BASE_PLACEHOLDER, Body, Cassette};

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// What the upstream's URL becomes with `--redact urls`.
pub const URL_PSEUDONYM: &str = "https://gitlab.invalid";

/// Prefixes of GitLab's tokens (personal, OAuth, CI job, runner, pipeline trigger, deploy,
/// incoming mail, service account, agent, feed, feature flag client, runner registration).
pub const TOKEN_PREFIXES: &[&str] = &[
    "glpat-",
    "gloas-",
    "glcbt-",
    "glrt-",
    "glrtr-",
    "glptt-",
    "gldt-",
    "glimt-",
    "glsoat-",
    "glagent-",
    "glft-",
    "glffct-",
    "glsct-",
    "GR1348941",
];

// ----------------------------------------------------------------------------------------
// Secrets

/// The words of a key: `authToken`, `auth_token`, `Auth-Token` and `auth.token` all read
/// `["auth", "token"]`.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.trim_end_matches("[]").chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Words that make a key secret wherever they appear in it.
const SECRET_WORDS: &[&str] = &[
    "token",
    "tokens",
    "secret",
    "secrets",
    "password",
    "passwd",
    "pass",
    "pwd",
    "passphrase",
    "credential",
    "credentials",
    "auth",
    "apikey",
    "privatekey",
    "cookie",
    "session",
    "signature",
];

/// Last words that say the value is about a secret, not the secret (`token_expires_at`,
/// `ci_job_token_scope_enabled`).
const METADATA_WORDS: &[&str] = &[
    "at", "enabled", "expires", "expiry", "id", "ids", "type", "scope", "scopes", "count",
    "length", "present", "set", "required", "name", "names", "prefix", "url", "path", "hint",
];

/// Keys whose values are secrets: any word of the key among `token`, `secret`, `password` /
/// `pass`, `credential(s)`, `auth`, … or a key ending in `key` after another word (`api_key`,
/// `private_key`; a bare `key` names a variable and is kept), unless the last word says the
/// value is metadata (`token_expires_at`). Case, `_`, `-`, `.` and camelCase do not matter.
pub fn is_secret_key(key: &str) -> bool {
    // Rack-style names (`variables[][key]`, `credentials[pass]`): each segment on its own.
    if key.trim_end_matches("[]").contains('[') {
        return key
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .any(is_secret_key);
    }
    let words = key_words(key);
    let Some(last) = words.last() else {
        return false;
    };
    if words.len() > 1 && METADATA_WORDS.contains(&last.as_str()) {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str())) || (words.len() > 1 && last == "key")
}

/// Names of variables whose values are secrets (`DEPLOY_TOKEN`, `DB_PASSWORD`, …).
pub fn is_secret_variable(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "PRIVATE_KEY",
        "API_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|s| n.contains(s))
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// `s` with every literal secret and every GitLab-token-shaped substring replaced.
pub fn scrub_text<'a>(s: &'a str, literals: &[String]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(s);
    for lit in literals.iter().filter(|l| !l.is_empty()) {
        if (out.contains(lit.as_str()) || (out.contains('%') && out.len() >= lit.len()))
            && let Some(replaced) = replace_literal(&out, lit)
        {
            out = Cow::Owned(replaced);
        }
    }
    if !TOKEN_PREFIXES.iter().any(|p| out.contains(p)) {
        return out;
    }
    let text = out.into_owned();
    let b = text.as_bytes();
    let mut result = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let prefix = boundary
            .then(|| {
                TOKEN_PREFIXES
                    .iter()
                    .find(|p| b[i..].starts_with(p.as_bytes()))
            })
            .flatten();
        if let Some(p) = prefix {
            let mut end = i + p.len();
            while end < b.len() && is_token_char(b[end]) {
                end += 1;
            }
            while end > i + p.len() && b[end - 1] == b'.' {
                end -= 1;
            }
            if end > i + p.len() {
                result.push_str(&text[last..i]);
                result.push_str(REDACTED);
                last = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    result.push_str(&text[last..]);
    Cow::Owned(result)
}

/// Secrets out of a JSON value, in place: strings under secret keys (and everything under a
/// secret key holding an object or array), the `value` of every CI variable (objects with a
/// `variable_type`, or the items of a `variables` array), secret-looking variables anywhere,
/// and tokens in free text. Walks with an explicit stack.
pub fn scrub_json(v: &mut Value, literals: &[String]) {
    // (value, everything below is secret)
    let mut stack: Vec<(&mut Value, bool)> = vec![(v, false)];
    while let Some((v, secret_below)) = stack.pop() {
        match v {
            Value::Object(map) => {
                let variable = map.contains_key("variable_type")
                    || map
                        .get("key")
                        .and_then(Value::as_str)
                        .is_some_and(is_secret_variable);
                for (k, val) in map.iter_mut() {
                    let secret = secret_below || is_secret_key(k) || (variable && k == "value");
                    if k == "variables"
                        && let Value::Array(items) = val
                    {
                        for item in items.iter_mut() {
                            if let Value::Object(var) = item
                                && let Some(Value::String(s)) = var.get_mut("value")
                                && !s.is_empty()
                            {
                                *s = REDACTED.to_owned();
                            }
                        }
                    }
                    stack.push((val, secret));
                }
            }
            Value::Array(items) => {
                stack.extend(items.iter_mut().map(|i| (i, secret_below)));
            }
            Value::String(s) if secret_below && !s.is_empty() => *s = REDACTED.to_owned(),
            Value::String(_) if secret_below => {}
            Value::String(s) => {
                if let Cow::Owned(o) = scrub_text(s, literals) {
                    *s = o;
                }
            }
            _ => {}
        }
    }
}

/// A text body that is JSON whatever its content type says, scrubbed as JSON (`None`: not
/// JSON, or nothing to change).
fn scrub_json_text(t: &str, literals: &[String]) -> Option<String> {
    let first = t.trim_start().as_bytes().first()?;
    if !matches!(first, b'{' | b'[') {
        return None;
    }
    let mut v: Value = serde_json::from_str(t).ok()?;
    let before = v.clone();
    scrub_json(&mut v, literals);
    (v != before).then(|| serde_json::to_string(&v).expect("JSON values serialize"))
}

/// `text` with every occurrence of `lit` replaced, whether written as it is or with any of
/// its bytes percent-encoded (either case of hex) or its spaces as `+`; `None` if none.
fn replace_literal(text: &str, lit: &str) -> Option<String> {
    let hay = text.as_bytes();
    let lit = lit.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    // The end of a match of `lit` starting at `start`.
    let match_at = |start: usize| -> Option<usize> {
        let mut i = start;
        for &want in lit {
            match hay.get(i)? {
                &c if c == want => i += 1,
                b'+' if want == b' ' => i += 1,
                b'%' => {
                    let h = hex(*hay.get(i + 1)?)?;
                    let l = hex(*hay.get(i + 2)?)?;
                    if h * 16 + l != want {
                        return None;
                    }
                    i += 3;
                }
                _ => return None,
            }
        }
        Some(i)
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    let mut found = false;
    while i < hay.len() {
        if let Some(end) = match_at(i) {
            // Matches start and end on character boundaries: `lit` is UTF-8 and the
            // escapes are ASCII.
            out.push_str(&text[last..i]);
            out.push_str(REDACTED);
            last = end;
            i = end;
            found = true;
        } else {
            i += 1;
        }
    }
    if !found {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// A query string (or form body) without credentials: `private_token` / `job_token` removed,
/// other secret-looking parameters redacted.
pub fn scrub_query(query: &str, literals: &[String]) -> String {
    // `variables[][key]=DEPLOY_TOKEN&variables[][value]=…`: the value that follows a secret
    // variable's key.
    let mut secret_value: Option<String> = None;
    map_query(query, |k, v| {
        if let Some(prefix) = k.strip_suffix("[key]") {
            secret_value = is_secret_variable(v).then(|| format!("{prefix}[value]"));
        }
        // Pipeline variables' values are always kept out (their keys stay).
        let secret_variable = secret_value.as_deref() == Some(k)
            || (k.starts_with("variables[") && k.ends_with("[value]"));
        if secret_variable {
            secret_value = None;
        }
        if AUTH_PARAMS.contains(&k) {
            None
        } else if (secret_variable || is_secret_key(k)) && !v.is_empty() {
            Some(REDACTED.to_owned())
        } else {
            Some(scrub_text(v, literals).into_owned())
        }
    })
}

fn scrub_url(url: &str, literals: &[String]) -> String {
    match url.split_once('?') {
        Some((base, q)) => {
            let q = scrub_query(q, literals);
            let base = scrub_text(base, literals);
            if q.is_empty() {
                base.into_owned()
            } else {
                format!("{base}?{q}")
            }
        }
        None => scrub_text(url, literals).into_owned(),
    }
}

fn scrub_body(body: &mut Option<Body>, form: bool, literals: &[String]) {
    match body {
        Some(Body::Json(v)) => scrub_json(v, literals),
        Some(Body::Text(t)) => {
            let scrubbed = if form {
                scrub_query(t, literals)
            } else if let Some(json) = scrub_json_text(t, literals) {
                json
            } else {
                scrub_text(t, literals).into_owned()
            };
            *t = scrubbed;
        }
        None => {}
    }
}

/// Removes every secret from the cassette (see the module docs). `literals` are token values
/// known to the recorder (its own token, those the proxied clients sent).
pub fn remove_secrets(c: &mut Cassette, literals: &[String]) {
    // Longest first, so a token that contains another is replaced whole.
    let mut literals: Vec<String> = literals.iter().filter(|l| !l.is_empty()).cloned().collect();
    literals.sort_by_key(|l| std::cmp::Reverse(l.len()));
    literals.dedup();
    let lits = literals.as_slice();
    c.upstream = scrub_url(&c.upstream, lits);
    for x in &mut c.exchanges {
        let req = &mut x.request;
        req.path = scrub_text(&req.path, lits).into_owned();
        req.query = scrub_query(&req.query, lits);
        req.headers
            .retain(|k, _| !AUTH_HEADERS.contains(&k.as_str()));
        for v in req.headers.values_mut() {
            *v = scrub_text(v, lits).into_owned();
        }
        let form = req
            .headers
            .get("content-type")
            .is_some_and(|ct| ct.contains("x-www-form-urlencoded"));
        scrub_body(&mut req.body, form, lits);

        let resp = &mut x.response;
        resp.headers
            .retain(|k, _| !AUTH_HEADERS.contains(&k.as_str()));
        for (k, v) in resp.headers.iter_mut() {
            *v = match k.as_str() {
                "link" => map_link_urls(v, |u| scrub_url(u, lits)),
                "location" => scrub_url(v, lits),
                _ => scrub_text(v, lits).into_owned(),
            };
        }
        scrub_body(&mut resp.body, false, lits);
    }
}

// ----------------------------------------------------------------------------------------
// Personal data

/// What `--redact` replaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedactOptions {
    /// E-mail addresses → `userN@example.invalid` (and Gravatar hashes).
    pub emails: bool,
    /// IP addresses → `192.0.2.N` (`2001:db8::N`).
    pub ips: bool,
    /// People's names → `Person N`, usernames → `userN` (also in `username=` filters and
    /// user `web_url`s).
    pub names: bool,
    /// The upstream's URL and host → `https://gitlab.invalid`.
    pub urls: bool,
}

impl RedactOptions {
    /// From `--redact` items: `emails`, `ips`, `names`, `urls`, `all`.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> anyhow::Result<RedactOptions> {
        let mut o = RedactOptions::default();
        for item in items {
            match item.as_ref().trim().to_ascii_lowercase().as_str() {
                "" | "none" => {}
                "email" | "emails" => o.emails = true,
                "ip" | "ips" => o.ips = true,
                "name" | "names" => o.names = true,
                "url" | "urls" => o.urls = true,
                "all" => {
                    o = RedactOptions {
                        emails: true,
                        ips: true,
                        names: true,
                        urls: true,
                    }
                }
                other => anyhow::bail!(
                    "--redact: unknown kind {other:?} (expected emails, ips, names, urls or all)"
                ),
            }
        }
        Ok(o)
    }

    pub fn any(&self) -> bool {
        self.emails || self.ips || self.names || self.urls
    }
}

/// Replaces personal data with consistent pseudonyms (see `RedactOptions`).
pub fn redact(c: &mut Cassette, opts: &RedactOptions) {
    if !opts.any() {
        return;
    }
    let mut r = Redactor::new(*opts, c);
    c.upstream = if opts.urls {
        URL_PSEUDONYM.to_owned()
    } else {
        r.text(&c.upstream)
    };
    for x in &mut c.exchanges {
        let req = &mut x.request;
        req.query = r.query(&req.query);
        for (k, v) in req.headers.iter_mut() {
            if k != "content-type" && k != "accept" {
                *v = r.text(v);
            }
        }
        r.body(&mut req.body);
        let resp = &mut x.response;
        for (k, v) in resp.headers.iter_mut() {
            match k.as_str() {
                "link" => *v = map_link_urls(v, |u| r.url(u)),
                "location" => *v = r.url(v),
                "content-type" | "content-disposition" => {}
                _ if k.starts_with("x-") => {}
                _ => *v = r.text(v),
            }
        }
        r.body(&mut resp.body);
    }
}

/// Pseudonyms handed out in order of first appearance.
#[derive(Default)]
struct Table {
    map: HashMap<String, String>,
}

impl Table {
    fn get(&mut self, key: &str, make: impl FnOnce(usize) -> String) -> String {
        if let Some(v) = self.map.get(key) {
            return v.clone();
        }
        let v = make(self.map.len() + 1);
        self.map.insert(key.to_owned(), v.clone());
        v
    }
}

const PROFILE_KEYS: &[&str] = &[
    "bio",
    "bluesky",
    "discord",
    "github",
    "job_title",
    "linkedin",
    "location",
    "mastodon",
    "organization",
    "pronouns",
    "skype",
    "twitter",
    "website_url",
];

struct Redactor {
    opts: RedactOptions,
    emails: Table,
    ips: Table,
    ips6: Table,
    names: Table,
    usernames: Table,
    avatars: Table,
    known_usernames: HashSet<String>,
    /// URL prefixes that stand for the upstream, longest first.
    origins: Vec<String>,
    /// Host names of the upstream (for `git@host:path` URLs).
    hosts: Vec<String>,
}

impl Redactor {
    fn new(opts: RedactOptions, c: &Cassette) -> Redactor {
        let mut r = Redactor {
            opts,
            emails: Table::default(),
            ips: Table::default(),
            ips6: Table::default(),
            names: Table::default(),
            usernames: Table::default(),
            avatars: Table::default(),
            known_usernames: HashSet::new(),
            origins: Vec::new(),
            hosts: Vec::new(),
        };
        let mut origins = vec![c.upstream.clone()];
        origins.extend(origin(&c.upstream));
        for x in &c.exchanges {
            for body in [&x.request.body, &x.response.body] {
                if let Some(Body::Json(v)) = body {
                    collect(v, &mut r.known_usernames, &mut origins);
                }
            }
        }
        origins.retain(|o| o.contains("://") && !o.starts_with(URL_PSEUDONYM));
        origins.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        origins.dedup();
        let mut hosts: Vec<String> = origins
            .iter()
            .filter_map(|o| {
                let rest = o.split_once("://")?.1;
                let authority = rest.split('/').next()?;
                Some(authority.split(':').next()?.to_owned())
            })
            .filter(|h| !h.is_empty())
            .collect();
        hosts.sort();
        hosts.dedup();
        r.origins = origins;
        r.hosts = hosts;
        r
    }

    fn body(&mut self, body: &mut Option<Body>) {
        match body {
            Some(Body::Json(v)) => self.json(v),
            Some(Body::Text(t)) => *t = self.text(t),
            None => {}
        }
    }

    fn name(&mut self, s: &str) -> String {
        self.names.get(s, |n| format!("Person {n}"))
    }

    fn username(&mut self, s: &str) -> String {
        self.usernames.get(s, |n| format!("user{n}"))
    }

    fn json(&mut self, v: &mut Value) {
        match v {
            Value::Object(map) => {
                let username = map
                    .get("username")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let is_user = username.is_some();
                let names = self.opts.names;
                for (k, val) in map.iter_mut() {
                    let Value::String(s) = val else {
                        self.json(val);
                        continue;
                    };
                    let k = k.as_str();
                    *s = match k {
                        "username" if names => self.username(s),
                        "name" if names && is_user => self.name(s),
                        "author_name" | "committer_name" if names => self.name(s),
                        _ if names && is_user && PROFILE_KEYS.contains(&k) && !s.is_empty() => {
                            "[redacted]".to_owned()
                        }
                        "web_url" if names && is_user => {
                            let u = username.as_deref().unwrap_or_default();
                            let tail = format!("/{u}");
                            let s = match s.strip_suffix(&tail) {
                                Some(head) if !u.is_empty() => {
                                    format!("{head}/{}", self.username(u))
                                }
                                _ => s.clone(),
                            };
                            self.text(&s)
                        }
                        "ip_address" if self.opts.ips && s.contains(':') => {
                            self.ips6.get(s, |n| format!("2001:db8::{n:x}"))
                        }
                        _ => self.text(s),
                    };
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.json(i)),
            Value::String(s) => *s = self.text(s),
            _ => {}
        }
    }

    fn query(&mut self, q: &str) -> String {
        if q.is_empty() {
            return String::new();
        }
        map_query(q, |k, v| {
            Some(if self.opts.names && k == "username" && !v.is_empty() {
                self.username(v)
            } else {
                self.text(v)
            })
        })
    }

    fn url(&mut self, u: &str) -> String {
        match u.split_once('?') {
            Some((base, q)) => {
                let base = if base.starts_with(BASE_PLACEHOLDER) {
                    base.to_owned()
                } else {
                    self.text(base)
                };
                format!("{base}?{}", self.query(q))
            }
            None if u.starts_with(BASE_PLACEHOLDER) => u.to_owned(),
            None => self.text(u),
        }
    }

    /// Every kind of personal data that can hide in free text.
    fn text(&mut self, s: &str) -> String {
        let mut out = s.to_owned();
        if self.opts.urls {
            for o in &self.origins {
                if out.contains(o.as_str()) {
                    out = out.replace(o.as_str(), URL_PSEUDONYM);
                }
            }
            for h in &self.hosts {
                let ssh = format!("@{h}:");
                if out.contains(&ssh) {
                    out = out.replace(&ssh, "@gitlab.invalid:");
                }
            }
        }
        if self.opts.emails {
            if out.contains('@') {
                let emails = &mut self.emails;
                out = replace_emails(&out, |e| {
                    emails.get(&e.to_ascii_lowercase(), |n| {
                        format!("user{n}@example.invalid")
                    })
                });
            }
            if out.contains("gravatar.com/avatar/") {
                let avatars = &mut self.avatars;
                out = replace_gravatar(&out, |h| {
                    avatars.get(&h.to_ascii_lowercase(), |n| format!("{n:032x}"))
                });
            }
        }
        if self.opts.ips && out.bytes().any(|b| b == b'.') {
            let ips = &mut self.ips;
            out = replace_ipv4(&out, |ip| ips.get(ip, ip_pseudonym));
        }
        out
    }
}

fn ip_pseudonym(n: usize) -> String {
    // The documentation ranges (RFC 5737) first, then shared address space.
    match n {
        1..=254 => format!("192.0.2.{n}"),
        255..=508 => format!("198.51.100.{}", n - 254),
        509..=762 => format!("203.0.113.{}", n - 508),
        _ => {
            let m = n - 762;
            format!("100.64.{}.{}", (m / 254) % 256, m % 254 + 1)
        }
    }
}

/// `https://host:port` of a URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{authority}"))
}

/// Usernames and the origins of `web_url`s found anywhere in `v`.
fn collect(v: &Value, usernames: &mut HashSet<String>, origins: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match (k.as_str(), val) {
                    ("username", Value::String(s)) => {
                        usernames.insert(s.clone());
                    }
                    ("web_url", Value::String(s)) => origins.extend(origin(s)),
                    _ => collect(val, usernames, origins),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, usernames, origins)),
        _ => {}
    }
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Replaces each e-mail address in `s` with `f(address)`. `git@host:path` (SSH URLs) and
/// addresses at `.invalid` are left alone.
pub fn replace_emails(s: &str, mut f: impl FnMut(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'@' || i < last {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > last && is_local_char(b[start - 1]) {
            start -= 1;
        }
        while start < i && b[start] == b'.' {
            start += 1;
        }
        let mut end = i + 1;
        while end < b.len() && is_domain_char(b[end]) {
            end += 1;
        }
        while end > i + 1 && matches!(b[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &s[i + 1..end];
        let tld = domain.rsplit('.').next().unwrap_or("");
        let valid = start < i
            && domain.contains('.')
            && tld.len() >= 2
            && tld.bytes().all(|c| c.is_ascii_alphabetic())
            && !domain.starts_with('.')
            && b.get(end) != Some(&b':')
            && !domain.eq_ignore_ascii_case("example.invalid")
            && !domain.to_ascii_lowercase().ends_with(".invalid");
        if valid {
            out.push_str(&s[last..start]);
            out.push_str(&f(&s[start..end]));
            last = end;
            i = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

fn replace_gravatar(s: &str, mut f: impl FnMut(&str) -> String) -> String {
    const MARK: &str = "gravatar.com/avatar/";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(MARK) {
        let start = at + MARK.len();
        out.push_str(&rest[..start]);
        let hex_len = rest[start..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        if hex_len == 32 || hex_len == 64 {
            let h = &rest[start..start + hex_len];
            let p = f(h);
            out.push_str(&p[p.len().saturating_sub(hex_len)..]);
            if p.len() < hex_len {
                // Never happens with 32-digit pseudonyms; keep the length anyway.
                out.push_str(&"0".repeat(hex_len - p.len()));
            }
        } else {
            out.push_str(&rest[start..start + hex_len]);
        }
        rest = &rest[start + hex_len..];
    }
    out.push_str(rest);
    out
}

/// Replaces each dotted-quad IPv4 address in `s` with `f(address)`.
pub fn replace_ipv4(s: &str, mut f: impl FnMut(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'));
        if starts && let Some(end) = ipv4_end(b, i) {
            out.push_str(&s[last..i]);
            out.push_str(&f(&s[i..end]));
            last = end;
            i = end;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[last..]);
    out
}

fn ipv4_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    for part in 0..4 {
        if part > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let digits = b[i.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let n: u32 = std::str::from_utf8(&b[i..i + digits]).ok()?.parse().ok()?;
        if n > 255 {
            return None;
        }
        i += digits;
    }
    let next = b.get(i).copied();
    let after = b.get(i + 1).copied();
    if next.is_some_and(|c| c.is_ascii_alphanumeric())
        || (next == Some(b'.') && after.is_some_and(|c| c.is_ascii_digit()))
    {
        return None;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::cassette::{Exchange, RecordedRequest, RecordedResponse};
    use serde_json::json;

    #[test]
    fn tokens_are_found_in_text() {
        let lits = vec!["s3cr3t-value".to_owned()];
        assert_eq!(scrub_text("a glpat-AbC_1.2-x. b", &[]), "a [REDACTED]. b");
        assert_eq!(scrub_text("x=s3cr3t-value;", &lits), "x=[REDACTED];");
        assert_eq!(scrub_text("notglpat-x glpat-", &[]), "notglpat-x glpat-");
        assert_eq!(scrub_text("GR1348941abc", &[]), "[REDACTED]");
    }

    #[test]
    fn secret_keys_and_variables_are_redacted() {
        let mut v = json!({
            "token": "abc", "runners_token": "def", "token_expires_at": "2025",
            "ci_job_token_scope_enabled": true, "password": "",
            "variables": [{"key": "DEPLOY_TOKEN", "value": "v1"}, {"key": "RUBY", "value": "3"}],
            "note": "uses glcbt-123abc"
        });
        scrub_json(&mut v, &[]);
        assert_eq!(
            v,
            json!({
                "token": "[REDACTED]", "runners_token": "[REDACTED]", "token_expires_at": "2025",
                "ci_job_token_scope_enabled": true, "password": "",
                "variables": [{"key": "DEPLOY_TOKEN", "value": "[REDACTED]"}, {"key": "RUBY", "value": "[REDACTED]"}],
                "note": "uses [REDACTED]"
            })
        );
        assert_eq!(
            scrub_query("a=1&private_token=x&job_token=y&token=z", &[]),
            "a=1&token=%5BREDACTED%5D"
        );
        assert_eq!(
            scrub_query(
                "variables[][key]=MY_TOKEN&variables[][value]=x&variables[][key]=A&variables[][value]=y",
                &[]
            ),
            "variables[][key]=MY_TOKEN&variables[][value]=%5BREDACTED%5D&variables[][key]=A&variables[][value]=%5BREDACTED%5D"
        );
    }

    #[test]
    fn emails_and_ips_are_found() {
        let s = "mail a.b+c@mail.example.com, git@example.com:foo/bar.git, x@y.invalid.";
        assert_eq!(
            replace_emails(s, |_| "E".into()),
            "mail E, git@example.com:foo/bar.git, x@y.invalid."
        );
        assert_eq!(
            replace_ipv4(
                "ip 10.0.0.1, v 16.11.1, 1.2.3.4.5, 300.1.1.1 (8.8.8.8)",
                |_| { "IP".into() }
            ),
            "ip IP, v 16.11.1, 1.2.3.4.5, 300.1.1.1 (IP)"
        );
    }

    #[test]
    fn pseudonyms_are_consistent() {
        let user = json!({"id": 1, "username": "root", "name": "Admin", "web_url": "https://gl.example.com/root",
                          "public_email": "admin@example.com", "avatar_url": "https://secure.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80"});
        let mut c = Cassette::new("https://gl.example.com", "crawl");
        c.exchanges.push(Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                path: "/api/v4/projects/1/pipelines".into(),
                query: "username=root&per_page=2".into(),
                headers: Default::default(),
                body: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: [(
                    "link".to_owned(),
                    "<{base}/api/v4/projects/1/pipelines?page=2&username=root>; rel=\"next\"".to_owned(),
                )]
                .into(),
                body: Some(Body::Json(json!([{
                    "user": user,
                    "commit": {"author_name": "Admin", "author_email": "ADMIN@example.com", "message": "by admin@example.com from 10.1.2.3"},
                    "web_url": "https://gl.example.com/foo/bar/-/pipelines/1",
                    "ssh_url_to_repo": "git@gl.example.com:foo/bar.git",
                    "runner": {"ip_address": "fe80::1"}
                }]))),
            },
        });
        redact(
            &mut c,
            &RedactOptions::parse(&["emails", "ips", "names", "urls"]).unwrap(),
        );
        let x = &c.exchanges[0];
        assert_eq!(c.upstream, URL_PSEUDONYM);
        assert_eq!(x.request.query, "username=user1&per_page=2");
        assert_eq!(
            x.response.headers["link"],
            "<{base}/api/v4/projects/1/pipelines?page=2&username=user1>; rel=\"next\""
        );
        let Some(Body::Json(b)) = &x.response.body else {
            panic!()
        };
        assert_eq!(
            b[0],
            json!({
                "user": {"id": 1, "username": "user1", "name": "Person 1", "web_url": "https://gitlab.invalid/user1",
                         "public_email": "user1@example.invalid",
                         "avatar_url": "https://secure.gravatar.com/avatar/00000000000000000000000000000001?s=80"},
                "commit": {"author_name": "Person 1", "author_email": "user1@example.invalid", "message": "by user1@example.invalid from 192.0.2.1"},
                "web_url": "https://gitlab.invalid/foo/bar/-/pipelines/1",
                "ssh_url_to_repo": "git@gitlab.invalid:foo/bar.git",
                "runner": {"ip_address": "2001:db8::1"}
            })
        );
    }
}

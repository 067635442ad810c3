//! Parameters parsed by Rack's rules (query strings and form bodies), JSON bodies mapped
//! onto the same shape, Grape-style typed reads, and Rails' `to_query` for `Link` URLs.
//!
//! Rack: `k[]=v` appends to an array, `k[a]=v` fills a hash, `k[][a]=v` builds an array of
//! hashes, and a repeated plain `k=v` keeps only the **last** value (a client that sends
//! `scope=a&scope=b` gets only `b`, as from GitLab).

use std::collections::BTreeMap;

use jiff::Timestamp;

/// One parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Str(String),
    Arr(Vec<Param>),
    Hash(Params),
    /// Non-string JSON scalars (numbers, booleans, null), kept as their JSON text.
    Json(serde_json::Value),
}

pub type Params = BTreeMap<String, Param>;

/// A parameter whose shape contradicts an earlier one (`a=1&a[]=2`); Rack rejects these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} (got {got}) for param `{key}'")]
pub struct ParameterTypeError {
    pub expected: &'static str,
    pub got: &'static str,
    pub key: String,
}

fn kind(p: &Param) -> &'static str {
    match p {
        Param::Str(_) | Param::Json(_) => "String",
        Param::Arr(_) => "Array",
        Param::Hash(_) => "Hash",
    }
}

/// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
pub fn parse(text: &str) -> Result<Params, ParameterTypeError> {
    let mut params = Params::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        normalize(&mut params, &k, Param::Str(v.into_owned()))?;
    }
    Ok(params)
}

/// Rack's `normalize_params`, for one `name=value` pair.
fn normalize(params: &mut Params, name: &str, value: Param) -> Result<(), ParameterTypeError> {
    // k = the first name segment, after = the rest (`[]`, `[a]`, `[][a]`…).
    let trimmed = name.trim_start_matches(['[', ']']);
    let end = trimmed.find(['[', ']']).unwrap_or(trimmed.len());
    let k = &trimmed[..end];
    if k.is_empty() {
        return Ok(());
    }
    let mut after = &trimmed[end..];
    if after.starts_with(']') {
        after = after.trim_start_matches(']');
        if !after.starts_with('[') {
            after = "";
        }
    }
    if after.is_empty() {
        params.insert(k.to_owned(), value);
    } else if after == "[" {
        params.insert(name.to_owned(), value);
    } else if after == "[]" {
        match params
            .entry(k.to_owned())
            .or_insert_with(|| Param::Arr(Vec::new()))
        {
            Param::Arr(items) => items.push(value),
            other => {
                return Err(ParameterTypeError {
                    expected: "Array",
                    got: kind(other),
                    key: k.to_owned(),
                });
            }
        }
    } else if let Some(child) = after.strip_prefix("[]") {
        // `[][key]` or `[]rest`: an array of hashes; start a new hash when the last one
        // already has this key.
        let child_key = child
            .strip_prefix('[')
            .and_then(|c| c.strip_suffix(']'))
            .filter(|c| !c.contains(['[', ']']))
            .unwrap_or(child);
        let entry = params
            .entry(k.to_owned())
            .or_insert_with(|| Param::Arr(Vec::new()));
        let Param::Arr(items) = entry else {
            return Err(ParameterTypeError {
                expected: "Array",
                got: kind(entry),
                key: k.to_owned(),
            });
        };
        let reuse = matches!(items.last(), Some(Param::Hash(h)) if !has_key(h, child_key));
        if reuse {
            if let Some(Param::Hash(h)) = items.last_mut() {
                normalize(h, child_key, value)?;
            }
        } else {
            let mut h = Params::new();
            normalize(&mut h, child_key, value)?;
            items.push(Param::Hash(h));
        }
    } else {
        let entry = params
            .entry(k.to_owned())
            .or_insert_with(|| Param::Hash(Params::new()));
        let Param::Hash(h) = entry else {
            return Err(ParameterTypeError {
                expected: "Hash",
                got: kind(entry),
                key: k.to_owned(),
            });
        };
        normalize(h, after, value)?;
    }
    Ok(())
}

fn has_key(h: &Params, key: &str) -> bool {
    let base = key.trim_start_matches(['[', ']']);
    let end = base.find(['[', ']']).unwrap_or(base.len());
    h.contains_key(&base[..end])
}

/// Maps a JSON body onto params (objects → hashes, arrays → arrays).
pub fn from_json(value: serde_json::Value) -> Param {
    match value {
        serde_json::Value::String(s) => Param::Str(s),
        serde_json::Value::Array(a) => Param::Arr(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Param::Hash(o.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
        other => Param::Json(other),
    }
}

/// The scalar text of a parameter (`None` for arrays and hashes).
pub fn scalar(p: &Param) -> Option<String> {
    match p {
        Param::Str(s) => Some(s.clone()),
        Param::Json(serde_json::Value::Null) => None,
        Param::Json(serde_json::Value::String(s)) => Some(s.clone()),
        Param::Json(v) => Some(v.to_string()),
        _ => None,
    }
}

/// Grape's Boolean coercion (dry-types `Params::Bool`).
pub fn coerce_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "on" | "On" | "ON" | "t" | "true" | "True" | "TRUE" | "T" | "y" | "yes" | "Yes"
        | "YES" | "Y" => Some(true),
        "0" | "off" | "Off" | "OFF" | "f" | "false" | "False" | "FALSE" | "F" | "n" | "no"
        | "No" | "NO" | "N" => Some(false),
        _ => None,
    }
}

/// Grape's Integer coercion: an optional sign and digits (surrounding spaces allowed).
pub fn coerce_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// ISO 8601 date-times with or without fractional seconds and offset; a bare date is
/// midnight UTC.
pub fn coerce_datetime(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// Typed reads that collect Grape's validation messages (joined with ", " in the 400 body).
pub struct Reader<'a> {
    pub params: &'a Params,
    pub errors: Vec<String>,
}

impl<'a> Reader<'a> {
    pub fn new(params: &'a Params) -> Self {
        Reader {
            params,
            errors: Vec::new(),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.params.contains_key(key)
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        let p = self.params.get(key)?;
        match scalar(p) {
            Some(s) => Some(s),
            None if matches!(p, Param::Json(serde_json::Value::Null)) => None,
            None => {
                self.errors.push(format!("{key} is invalid"));
                None
            }
        }
    }

    pub fn int(&mut self, key: &str) -> Option<i64> {
        let s = self.string(key)?;
        match coerce_int(&s) {
            Some(v) => Some(v),
            None => {
                self.errors.push(format!("{key} is invalid"));
                None
            }
        }
    }

    pub fn bool(&mut self, key: &str) -> Option<bool> {
        let s = self.string(key)?;
        match coerce_bool(&s) {
            Some(v) => Some(v),
            None => {
                self.errors.push(format!("{key} is invalid"));
                None
            }
        }
    }

    pub fn datetime(&mut self, key: &str) -> Option<Timestamp> {
        let s = self.string(key)?;
        match coerce_datetime(&s) {
            Some(v) => Some(v),
            None => {
                self.errors.push(format!("{key} is invalid"));
                None
            }
        }
    }

    /// A string restricted to `allowed` (`… does not have a valid value`).
    pub fn choice(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let s = self.string(key)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.errors
                .push(format!("{key} does not have a valid value"));
            None
        }
    }

    /// `scope`-like parameters: a string or an array of strings from `allowed`; a hash's
    /// values are taken when `accept_hash` (the Jobs API), otherwise it fails like GitLab's
    /// pipeline endpoints (coerced to `['unknown']`).
    pub fn string_array(
        &mut self,
        key: &str,
        allowed: &[&str],
        accept_hash: bool,
    ) -> Option<Vec<String>> {
        let p = self.params.get(key)?;
        let values: Vec<Option<String>> = match p {
            Param::Str(_) | Param::Json(_) => vec![scalar(p)],
            Param::Arr(items) => items.iter().map(scalar).collect(),
            Param::Hash(h) if accept_hash => h.values().map(scalar).collect(),
            Param::Hash(_) => vec![Some("unknown".into())],
        };
        let mut out = Vec::new();
        for v in values {
            match v {
                Some(s) if allowed.contains(&s.as_str()) => out.push(s),
                _ => {
                    self.errors
                        .push(format!("{key} does not have a valid value"));
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Grape's 400 message, if any parameter failed.
    pub fn finish(self) -> Result<(), String> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors.join(", "))
        }
    }
}

/// Rails' `Hash#to_query`: keys sorted, arrays as `k[]=`, hashes as `k[sub]=`, values
/// escaped like `CGI.escape`.
pub fn to_query(params: &Params) -> String {
    let mut parts = Vec::new();
    for (k, v) in params {
        push_query(&mut parts, &escape(k), v);
    }
    parts.join("&")
}

fn push_query(parts: &mut Vec<String>, prefix: &str, v: &Param) {
    match v {
        Param::Arr(items) if items.is_empty() => parts.push(format!("{prefix}%5B%5D=")),
        Param::Arr(items) => {
            for it in items {
                push_query(parts, &format!("{prefix}%5B%5D"), it);
            }
        }
        Param::Hash(h) => {
            for (k, v) in h {
                push_query(parts, &format!("{prefix}%5B{}%5D", escape(k)), v);
            }
        }
        other => parts.push(format!(
            "{prefix}={}",
            escape(&scalar(other).unwrap_or_default())
        )),
    }
}

/// `CGI.escape`: everything but `a-zA-Z0-9_.-~` is percent-encoded, space as `+`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Param {
        Param::Str(v.into())
    }

    #[test]
    fn brackets_raw_or_encoded_make_arrays() {
        let p = parse("scope[]=pending&scope%5B%5D=running").unwrap();
        assert_eq!(p["scope"], Param::Arr(vec![s("pending"), s("running")]));
    }

    #[test]
    fn repeated_plain_key_keeps_last() {
        let p = parse("scope=pending&scope=running").unwrap();
        assert_eq!(p["scope"], s("running"));
    }

    #[test]
    fn rails_form_arrays_of_hashes() {
        let p = parse(
            "variables[][key]=A&variables[][value]=1&variables[][key]=B&variables[][value]=2",
        )
        .unwrap();
        let Param::Arr(items) = &p["variables"] else {
            panic!("{p:?}")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1],
            Param::Hash([("key".into(), s("B")), ("value".into(), s("2"))].into())
        );
    }

    #[test]
    fn hashes_and_type_conflicts() {
        let p = parse("scope[a]=pending&scope[b]=running").unwrap();
        assert!(matches!(&p["scope"], Param::Hash(h) if h.len() == 2));
        let e = parse("scope=a&scope[]=b").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected Array (got String) for param `scope'"
        );
    }

    #[test]
    fn to_query_sorts_and_escapes() {
        let p = parse("per_page=2&scope[]=a&id=group%2Fproject&x=a b").unwrap();
        assert_eq!(
            to_query(&p),
            "id=group%2Fproject&per_page=2&scope%5B%5D=a&x=a+b"
        );
    }

    #[test]
    fn grape_booleans() {
        for t in ["true", "True", "1", "yes", "on", "t"] {
            assert_eq!(coerce_bool(t), Some(true), "{t}");
        }
        assert_eq!(coerce_bool("maybe"), None);
    }
}

//! Parameters parsed by Rack's rules (query strings and form bodies), JSON bodies mapped
//! onto the same shape, Grape-style typed reads, and Rails' `to_query` for `Link` URLs.
//!
//! Rack: `k[]=v` appends to an array, `k[a]=v` fills a hash, `k[][a]=v` builds an array of
//! hashes, and a repeated plain `k=v` keeps only the **last** value (a client that sends
//! `scope=a&scope=b` gets only `b`, as from GitLab).
//!
//! Every walk of client data here is bounded: Rack's limits (depth, parameter count, bytes,
//! key space) for queries and forms, GitLab's JSON validation limits for JSON bodies, and
//! the `Link` rebuild walks with an explicit stack.

use std::borrow::Cow;
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

/// Rack 2.2's `param_depth_limit` (`Rack::Utils.default_query_parser =
/// QueryParser.make_default(65536, 100)` in `lib/rack/utils.rb`, the Rack GitLab runs):
/// `a` plus 99 bracket groups parse, 100 do not.
pub const PARAM_DEPTH_LIMIT: usize = 100;
/// Rack's `RACK_QUERY_PARSER_PARAMS_LIMIT`: a query with this many separators (this many
/// plus one parameters) is refused.
pub const PARAMS_LIMIT: usize = 4096;
/// Rack's `RACK_QUERY_PARSER_BYTESIZE_LIMIT` (4 MiB).
pub const BYTESIZE_LIMIT: usize = 4 * 1024 * 1024;
/// Rack's `key_space_limit`: bytes of distinct key names in one hash.
pub const KEY_SPACE_LIMIT: usize = 65_536;

/// GitLab's JSON body limits (`Gitlab::Middleware::JsonValidation::DEFAULT_LIMITS`).
pub const JSON_MAX_DEPTH: usize = 32;
pub const JSON_MAX_ARRAY_SIZE: usize = 50_000;
pub const JSON_MAX_HASH_SIZE: usize = 50_000;
pub const JSON_MAX_TOTAL_ELEMENTS: usize = 100_000;

/// A parameter whose shape contradicts an earlier one (`a=1&a[]=2`); Rack rejects these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} (got {got}) for param `{key}'")]
pub struct ParameterTypeError {
    pub expected: &'static str,
    pub got: &'static str,
    pub key: String,
}

/// Why Rack (and Rails behind it) refuses a query string or form body. GitLab answers
/// every one of these the same way: `Gitlab::Middleware::HandleMalformedStrings` turns the
/// `ActionController::BadRequest` into a 400 `text/plain` `Bad Request`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error(transparent)]
    Type(#[from] ParameterTypeError),
    /// `Rack::QueryParser::ParamsTooDeepError`.
    #[error("parameters nested deeper than {PARAM_DEPTH_LIMIT} levels")]
    TooDeep,
    /// `QueryLimitError`: too many parameters.
    #[error("total number of query parameters ({0}) exceeds limit ({PARAMS_LIMIT})")]
    TooMany(usize),
    /// `QueryLimitError`: too many bytes.
    #[error("total query size exceeds limit ({BYTESIZE_LIMIT})")]
    TooLarge,
    /// `exceeded available parameter key space`.
    #[error("exceeded available parameter key space")]
    KeySpace,
    /// `InvalidParameterError`: `%` not followed by two hex digits.
    #[error("invalid %-encoding ({0})")]
    Encoding(String),
    /// Rails' `check_param_encoding` (not UTF-8) or a NUL byte in a value.
    #[error("invalid parameter encoding")]
    Malformed,
}

impl From<ParamError> for super::ApiError {
    fn from(_: ParamError) -> Self {
        super::ApiError::MalformedRequest
    }
}

/// Why GitLab refuses a JSON body (`Gitlab::Json::StreamValidator.user_facing_error_message`);
/// each is a 400 `{"error": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("Parameters nested too deeply")]
    TooDeep,
    #[error("Array parameter too large")]
    ArrayTooLarge,
    #[error("Hash parameter too large")]
    HashTooLarge,
    #[error("Too many total parameters")]
    TooManyElements,
    #[error("Invalid JSON format")]
    Invalid,
}

impl From<JsonError> for super::ApiError {
    fn from(e: JsonError) -> Self {
        super::ApiError::Validation(e.to_string())
    }
}

fn kind(p: &Param) -> &'static str {
    match p {
        Param::Str(_) | Param::Json(_) => "String",
        Param::Arr(_) => "Array",
        Param::Hash(_) => "Hash",
    }
}

/// A query string, split at `&` and `;` as Rack's `Request#GET` does.
pub fn parse_query(text: &str) -> Result<Params, ParamError> {
    parse_with(text, b"&;")
}

/// A form body (`application/x-www-form-urlencoded`), split at `&` only (Rack's `POST`).
pub fn parse_form(text: &str) -> Result<Params, ParamError> {
    parse_with(text, b"&")
}

/// A query string (kept for callers that do not care which separators apply).
pub fn parse(text: &str) -> Result<Params, ParamError> {
    parse_query(text)
}

fn parse_with(text: &str, seps: &[u8]) -> Result<Params, ParamError> {
    if text.len() > BYTESIZE_LIMIT {
        return Err(ParamError::TooLarge);
    }
    let separators = text.bytes().filter(|b| seps.contains(b)).count();
    if separators >= PARAMS_LIMIT {
        return Err(ParamError::TooMany(separators + 1));
    }
    let mut params = Params::new();
    for pair in text.split(|c: char| c.is_ascii() && seps.contains(&(c as u8))) {
        // Rack's separators swallow the spaces after them (`/& */`).
        let pair = pair.trim_start_matches(' ');
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = unescape(k)?;
        let value = unescape(v)?;
        // `HandleMalformedStrings` looks for NUL in values down to two levels of nesting.
        if value.contains('\0') && bracket_groups(&key) <= 2 {
            return Err(ParamError::Malformed);
        }
        normalize(
            &mut params,
            &key,
            Param::Str(value.into_owned()),
            PARAM_DEPTH_LIMIT,
        )?;
    }
    check_key_space(&params)?;
    Ok(params)
}

/// `URI.decode_www_form_component`: `+` is a space, `%XY` a byte, any other `%` an error;
/// the result must be UTF-8.
fn unescape(s: &str) -> Result<Cow<'_, str>, ParamError> {
    if !s.contains(['%', '+']) {
        return Ok(Cow::Borrowed(s));
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b.get(i + 1).and_then(|c| hex(*c)),
                    b.get(i + 2).and_then(|c| hex(*c)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => return Err(ParamError::Encoding(s.chars().take(64).collect())),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| ParamError::Malformed)
}

/// `HandleMalformedStrings#malformed_path?`: the unescaped path has a bad `%`, is not
/// UTF-8, or holds a NUL byte.
pub fn malformed_path(raw_path: &str) -> bool {
    match unescape(raw_path) {
        Ok(p) => p.contains('\0'),
        Err(_) => true,
    }
}

fn bracket_groups(key: &str) -> usize {
    key.bytes().filter(|b| *b == b'[').count()
}

/// Rack's `Params#[]=` limit, checked per hash once the parameters are built.
fn check_key_space(params: &Params) -> Result<(), ParamError> {
    let mut stack: Vec<&Params> = vec![params];
    while let Some(h) = stack.pop() {
        if h.keys().map(String::len).sum::<usize>() > KEY_SPACE_LIMIT {
            return Err(ParamError::KeySpace);
        }
        let mut values: Vec<&Param> = h.values().collect();
        while let Some(v) = values.pop() {
            match v {
                Param::Hash(child) => stack.push(child),
                Param::Arr(items) => values.extend(items.iter()),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Rack's `normalize_params`, for one `name=value` pair; each bracket group that opens a
/// nested hash costs one level of `depth`.
fn normalize(
    params: &mut Params,
    name: &str,
    value: Param,
    depth: usize,
) -> Result<(), ParamError> {
    if depth == 0 {
        return Err(ParamError::TooDeep);
    }
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
                }
                .into());
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
            }
            .into());
        };
        let reuse = matches!(items.last(), Some(Param::Hash(h)) if !has_key(h, child_key));
        if reuse {
            if let Some(Param::Hash(h)) = items.last_mut() {
                normalize(h, child_key, value, depth - 1)?;
            }
        } else {
            let mut h = Params::new();
            normalize(&mut h, child_key, value, depth - 1)?;
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
            }
            .into());
        };
        normalize(h, after, value, depth - 1)?;
    }
    Ok(())
}

fn has_key(h: &Params, key: &str) -> bool {
    let base = key.trim_start_matches(['[', ']']);
    let end = base.find(['[', ']']).unwrap_or(base.len());
    h.contains_key(&base[..end])
}

/// Maps a JSON body onto params (objects → hashes, arrays → arrays), after checking it
/// against GitLab's JSON limits (depth, array and hash sizes, total elements).
pub fn from_json(value: serde_json::Value) -> Result<Param, JsonError> {
    check_json(&value)?;
    Ok(convert_json(value))
}

/// Parses a JSON body and maps it onto params, with GitLab's limits and messages.
pub fn parse_json(bytes: &[u8]) -> Result<Param, JsonError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        // serde_json stops at 128 levels, long after GitLab's 32.
        if e.to_string().starts_with("recursion limit exceeded") {
            JsonError::TooDeep
        } else {
            JsonError::Invalid
        }
    })?;
    from_json(value)
}

/// `Gitlab::Json::StreamValidator`'s checks, walked with an explicit stack.
fn check_json(value: &serde_json::Value) -> Result<(), JsonError> {
    use serde_json::Value;
    let mut total = 0usize;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => {
                if a.len() > JSON_MAX_ARRAY_SIZE {
                    return Err(JsonError::ArrayTooLarge);
                }
                total += a.len();
                Box::new(a.iter())
            }
            Value::Object(o) => {
                if o.len() > JSON_MAX_HASH_SIZE {
                    return Err(JsonError::HashTooLarge);
                }
                // A key and a key/value pair each count once.
                total += 2 * o.len();
                Box::new(o.values())
            }
            _ => continue,
        };
        if depth >= JSON_MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        if total >= JSON_MAX_TOTAL_ELEMENTS {
            return Err(JsonError::TooManyElements);
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    Ok(())
}

// Depth is bounded by `check_json` (and serde_json's own limit) before this recursion.
fn convert_json(value: serde_json::Value) -> Param {
    match value {
        serde_json::Value::String(s) => Param::Str(s),
        serde_json::Value::Array(a) => Param::Arr(a.into_iter().map(convert_json).collect()),
        serde_json::Value::Object(o) => {
            Param::Hash(o.into_iter().map(|(k, v)| (k, convert_json(v))).collect())
        }
        other => Param::Json(other),
    }
}

/// The scalar text of a parameter (`None` for arrays and hashes).
pub fn scalar(p: &Param) -> Option<String> {
    scalar_str(p).map(Cow::into_owned)
}

/// `scalar`, borrowed where the parameter holds its text (strings: no copy).
pub fn scalar_str(p: &Param) -> Option<Cow<'_, str>> {
    match p {
        Param::Str(s) => Some(Cow::Borrowed(s)),
        Param::Json(serde_json::Value::Null) => None,
        Param::Json(serde_json::Value::String(s)) => Some(Cow::Borrowed(s)),
        Param::Json(v) => Some(Cow::Owned(v.to_string())),
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
        self.text(key).map(Cow::into_owned)
    }

    /// `string`, borrowed from the parameters.
    fn text(&mut self, key: &str) -> Option<Cow<'a, str>> {
        let p = self.params.get(key)?;
        match scalar_str(p) {
            Some(s) => Some(s),
            None if matches!(p, Param::Json(serde_json::Value::Null)) => None,
            None => {
                self.errors.push(format!("{key} is invalid"));
                None
            }
        }
    }

    pub fn int(&mut self, key: &str) -> Option<i64> {
        let s = self.text(key)?;
        match coerce_int(&s) {
            Some(v) => Some(v),
            None => {
                self.errors.push(format!("{key} is invalid"));
                None
            }
        }
    }

    pub fn bool(&mut self, key: &str) -> Option<bool> {
        let s = self.text(key)?;
        match coerce_bool(&s) {
            Some(v) => Some(v),
            None => {
                self.errors.push(format!("{key} is invalid"));
                None
            }
        }
    }

    pub fn datetime(&mut self, key: &str) -> Option<Timestamp> {
        let s = self.text(key)?;
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
/// escaped like `CGI.escape`. Walks with an explicit stack, so no depth of input can
/// exhaust the call stack.
pub fn to_query(params: &Params) -> String {
    let mut out = String::new();
    to_query_into(
        params
            .iter()
            .map(|(k, v)| (k.as_str(), QueryValue::Param(v))),
        &mut out,
    );
    out
}

/// A value `to_query_into` encodes: a parameter as the client sent it, or a text or an
/// integer the server sets (a path parameter, a page number), without making a `Param`
/// of it.
#[derive(Debug, Clone, Copy)]
pub enum QueryValue<'p> {
    Param(&'p Param),
    Text(&'p str),
    Int(i64),
}

/// `to_query` of pairs in key order, appended to `out` (no string per pair).
pub fn to_query_into<'p>(
    params: impl IntoIterator<Item = (&'p str, QueryValue<'p>)>,
    out: &mut String,
) {
    let start = out.len();
    let pair = |out: &mut String| {
        if out.len() > start {
            out.push('&');
        }
    };
    let mut stack: Vec<(String, &Param)> = Vec::new();
    for (k, v) in params {
        let v = match v {
            QueryValue::Param(v @ (Param::Arr(_) | Param::Hash(_))) => v,
            leaf => {
                pair(out);
                escape_into(k, out);
                out.push('=');
                match leaf {
                    QueryValue::Param(p) => push_scalar(p, out),
                    QueryValue::Text(t) => escape_into(t, out),
                    QueryValue::Int(n) => push_int(out, n),
                }
                continue;
            }
        };
        stack.push((escape(k), v));
        // Nested values: pushed in reverse so that they come off the stack in order.
        while let Some((prefix, v)) = stack.pop() {
            match v {
                Param::Arr(items) if items.is_empty() => {
                    pair(out);
                    out.push_str(&prefix);
                    out.push_str("%5B%5D=");
                }
                Param::Arr(items) => {
                    let p = format!("{prefix}%5B%5D");
                    stack.extend(items.iter().rev().map(|it| (p.clone(), it)));
                }
                Param::Hash(h) => {
                    stack.extend(
                        h.iter()
                            .rev()
                            .map(|(k, v)| (format!("{prefix}%5B{}%5D", escape(k)), v)),
                    );
                }
                leaf => {
                    pair(out);
                    out.push_str(&prefix);
                    out.push('=');
                    push_scalar(leaf, out);
                }
            }
        }
    }
}

/// Appends `n` in decimal (without the formatting machinery: several per response).
pub fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

/// A scalar's escaped value (empty for `null`).
fn push_scalar(p: &Param, out: &mut String) {
    match p {
        Param::Str(s) => escape_into(s, out),
        other => escape_into(&scalar(other).unwrap_or_default(), out),
    }
}

/// `CGI.escape`: everything but `a-zA-Z0-9_.-~` is percent-encoded, space as `+`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, &mut out);
    out
}

/// `escape`, appended to `out`.
pub fn escape_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_written_as_display_writes_them() {
        for n in [0, 7, 10, 99, 100, 12_345, -1, -40, i64::MAX, i64::MIN] {
            let mut out = String::from("x=");
            push_int(&mut out, n);
            assert_eq!(out, format!("x={n}"));
        }
    }

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
        assert!(matches!(e, ParamError::Type(_)));
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
    fn to_query_nests_arrays_and_hashes_in_order() {
        let p =
            parse("z=1&a[][b]=x y&a[][c]=2&e[]=&h[k][]=1&h[k][]=2&h[j]=%C3%A9&n=&m[]=%2B&e2[]=")
                .unwrap();
        assert_eq!(
            to_query(&p),
            "a%5B%5D%5Bb%5D=x+y&a%5B%5D%5Bc%5D=2&e%5B%5D=&e2%5B%5D=&h%5Bj%5D=%C3%A9\
             &h%5Bk%5D%5B%5D=1&h%5Bk%5D%5B%5D=2&m%5B%5D=%2B&n=&z=1"
        );
        let mut with_json = Params::new();
        with_json.insert("a".into(), Param::Json(serde_json::json!(null)));
        with_json.insert("b".into(), Param::Hash(Params::new()));
        with_json.insert("c".into(), Param::Json(serde_json::json!(1.5)));
        with_json.insert("d".into(), Param::Arr(vec![]));
        assert_eq!(to_query(&with_json), "a=&c=1.5&d%5B%5D=");
    }

    #[test]
    fn grape_booleans() {
        for t in ["true", "True", "1", "yes", "on", "t"] {
            assert_eq!(coerce_bool(t), Some(true), "{t}");
        }
        assert_eq!(coerce_bool("maybe"), None);
    }

    #[test]
    fn depth_is_bounded_as_rack_bounds_it() {
        // Rack 2.2: `foo` + 99 bracket groups parse, 100 do not.
        let ok = format!("foo{}=bar", "[a]".repeat(PARAM_DEPTH_LIMIT - 1));
        assert!(parse(&ok).is_ok());
        let deep = format!("foo{}=bar", "[a]".repeat(PARAM_DEPTH_LIMIT));
        assert_eq!(parse(&deep), Err(ParamError::TooDeep));
        // The crash repro: 16 KB of `[b]` (about 5,500 levels) is refused, not recursed into.
        let crash = format!("a{}=1", "[b]".repeat(5_500));
        assert_eq!(parse(&crash), Err(ParamError::TooDeep));
        let arrays = format!("a{}=1", "[][b]".repeat(200));
        assert_eq!(parse_form(&arrays), Err(ParamError::TooDeep));
    }

    #[test]
    fn count_size_and_encoding_limits() {
        let many = vec!["a=1"; PARAMS_LIMIT + 1].join("&");
        assert_eq!(parse(&many), Err(ParamError::TooMany(PARAMS_LIMIT + 1)));
        let fewer = vec!["a=1"; PARAMS_LIMIT].join("&");
        assert!(parse(&fewer).is_ok());
        assert_eq!(parse("a=%zz"), Err(ParamError::Encoding("%zz".into())));
        assert_eq!(parse("a=%C0"), Err(ParamError::Malformed));
        assert_eq!(parse("a=x%00y"), Err(ParamError::Malformed));
        // `;` separates query parameters (Rack's `GET`), not form fields (`POST`).
        assert_eq!(parse_query("a=1;b=2").unwrap().len(), 2);
        assert_eq!(parse_form("a=1;b=2").unwrap()["a"], s("1;b=2"));
        let keys: Vec<String> = (0..400)
            .map(|i| format!("{}{i}=1", "k".repeat(200)))
            .collect();
        assert_eq!(parse_form(&keys.join("&")), Err(ParamError::KeySpace));
        assert!(malformed_path("/api/v4/projects/100%"));
        assert!(!malformed_path("/api/v4/projects/g%2Fp/jobs"));
    }

    #[test]
    fn json_limits_follow_gitlab() {
        let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_json(nest(JSON_MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(
            parse_json(nest(JSON_MAX_DEPTH + 1).as_bytes()),
            Err(JsonError::TooDeep)
        );
        assert_eq!(parse_json(nest(5_000).as_bytes()), Err(JsonError::TooDeep));
        assert_eq!(parse_json(b"{\"a\":"), Err(JsonError::Invalid));
        let big = format!("[{}]", vec!["1"; JSON_MAX_ARRAY_SIZE + 1].join(","));
        assert_eq!(parse_json(big.as_bytes()), Err(JsonError::ArrayTooLarge));
    }

    #[test]
    fn to_query_walks_deep_params_without_recursion() {
        let mut p = Param::Str("x".into());
        for _ in 0..1_000 {
            p = Param::Hash([("b".to_owned(), p)].into());
        }
        let q = to_query(&[("a".to_owned(), p)].into());
        assert!(q.starts_with("a%5Bb%5D%5Bb%5D") && q.ends_with("=x"));
    }
}

//! Differences as data: `Mismatch { path, expected, actual, kind }`, the structural
//! comparison of a recorded answer with glmock's, masking of volatile fields, `--ignore`
//! paths, header comparison and the unified diff of the (masked, key-sorted) bodies.
//! Rendering the mismatches is `report.rs`'s job; producing the bodies is `replay.rs`'s.
//!
//! `expected` is always the recording (real GitLab), `actual` always glmock.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::record::cassette::{BASE_PLACEHOLDER, Body};

/// What kind of difference a mismatch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The HTTP status differs.
    Status,
    /// A compared header (content type, pagination, `Link`) differs.
    Header,
    /// A field the recording has and glmock lacks.
    Missing,
    /// A field glmock has and the recording lacks.
    Extra,
    /// The JSON type differs.
    Type,
    /// An array's length differs.
    Length,
    /// The value differs (unmasked fields only).
    Value,
    /// The recorded response breaks its documented schema.
    Schema,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 8] = [
        Kind::Status,
        Kind::Header,
        Kind::Missing,
        Kind::Extra,
        Kind::Type,
        Kind::Length,
        Kind::Value,
        Kind::Schema,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Status => "status",
            Kind::Header => "header",
            Kind::Missing => "missing",
            Kind::Extra => "extra",
            Kind::Type => "type",
            Kind::Length => "length",
            Kind::Value => "value",
            Kind::Schema => "schema",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference. Body paths are JSONPath (`$[2].user.name`); the others are `status` and
/// `headers.<name>` (`headers.link[rel=next]`). `None` means absent on that side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    pub kind: Kind,
    /// What the text report shows instead of the values: the validator's explanation of a
    /// schema violation, a summary of a text body that differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Mismatch {
    pub fn new(kind: Kind, path: String, expected: Option<Value>, actual: Option<Value>) -> Self {
        Mismatch {
            path,
            expected,
            actual,
            kind,
            message: None,
        }
    }
}

/// One step of a concrete path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A concrete path as JSONPath text: `$`, `.key` (or `["odd key"]`), `[N]`.
pub fn path_text(segs: &[Seg]) -> String {
    let mut out = String::from("$");
    for s in segs {
        match s {
            Seg::Key(k) if is_identifier(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Key(k) => {
                out.push('[');
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(']');
            }
            Seg::Index(i) => {
                out.push_str(&format!("[{i}]"));
            }
        }
    }
    out
}

fn is_identifier(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The steps of a JSON pointer (`/0/user/name`) into `value`: a segment is an index where
/// the value there is an array.
pub fn pointer_segs(value: &Value, pointer: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut node = Some(value);
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        match (node, key.parse::<usize>()) {
            (Some(Value::Array(a)), Ok(i)) => {
                node = a.get(i);
                out.push(Seg::Index(i));
            }
            (Some(Value::Object(m)), _) => {
                node = m.get(&key);
                out.push(Seg::Key(key));
            }
            (_, Ok(i)) => {
                node = None;
                out.push(Seg::Index(i));
            }
            (_, Err(_)) => {
                node = None;
                out.push(Seg::Key(key));
            }
        }
    }
    out
}

/// An `--ignore` path that is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--ignore {pattern:?}: {problem} (write JSONPath such as `$.user.avatar_url`, `$[*].web_url`, `$..avatar_url`, or a header as `headers.x-total`)"
)]
pub struct PatternError {
    pub pattern: String,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    AnyKey,
    Index(usize),
    AnyChild,
}

impl Step {
    fn matches(&self, seg: &Seg) -> bool {
        match (self, seg) {
            (Step::AnyChild, _) => true,
            (Step::Key(k), Seg::Key(s)) => k == s,
            (Step::AnyKey, Seg::Key(_)) => true,
            (Step::Index(i), Seg::Index(s)) => i == s,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// The next step.
    Child(Step),
    /// Any number of steps (`..`), then this one.
    Descendant(Step),
}

/// A parsed `--ignore` JSONPath: `$`, `.key`, `.*`, `[N]`, `[*]`, `['key']`, `..key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    toks: Vec<Tok>,
}

impl PathPattern {
    pub fn parse(text: &str) -> Result<PathPattern, PatternError> {
        let fail = |problem: &str| PatternError {
            pattern: text.to_owned(),
            problem: problem.to_owned(),
        };
        let rest = text
            .trim()
            .strip_prefix('$')
            .ok_or_else(|| fail("a path starts with `$`"))?;
        let chars: Vec<char> = rest.chars().collect();
        let mut i = 0;
        let mut toks = Vec::new();
        while i < chars.len() {
            let descendant = chars[i] == '.' && chars.get(i + 1) == Some(&'.');
            let step;
            if chars[i] == '.' {
                i += if descendant { 2 } else { 1 };
                if chars.get(i) == Some(&'[') {
                    if !descendant {
                        return Err(fail("`.` must be followed by a name"));
                    }
                    let (s, next) = bracket(&chars, i).map_err(|p| fail(&p))?;
                    step = s;
                    i = next;
                } else {
                    let start = i;
                    while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                        i += 1;
                    }
                    let name: String = chars[start..i].iter().collect();
                    step = match name.as_str() {
                        "" => return Err(fail("empty name after `.`")),
                        "*" => Step::AnyKey,
                        _ => Step::Key(name),
                    };
                }
            } else if chars[i] == '[' {
                let (s, next) = bracket(&chars, i).map_err(|p| fail(&p))?;
                step = s;
                i = next;
            } else {
                return Err(fail(&format!("unexpected {:?}", chars[i])));
            }
            toks.push(if descendant {
                Tok::Descendant(step)
            } else {
                Tok::Child(step)
            });
        }
        Ok(PathPattern { toks })
    }

    /// Whether the pattern names exactly this node.
    pub fn matches(&self, path: &[Seg]) -> bool {
        fn go(p: &[Tok], s: &[Seg]) -> bool {
            match p.split_first() {
                None => s.is_empty(),
                Some((Tok::Child(step), rest)) => {
                    s.first().is_some_and(|seg| step.matches(seg)) && go(rest, &s[1..])
                }
                Some((Tok::Descendant(step), rest)) => {
                    (0..s.len()).any(|i| step.matches(&s[i]) && go(rest, &s[i + 1..]))
                }
            }
        }
        go(&self.toks, path)
    }
}

/// `[N]`, `[*]`, `['key']` or `["key"]` starting at `chars[i] == '['`; the step and the index
/// after `]`.
fn bracket(chars: &[char], i: usize) -> Result<(Step, usize), String> {
    let close = chars[i..]
        .iter()
        .position(|c| *c == ']')
        .map(|p| p + i)
        .ok_or("unclosed `[`")?;
    let inner: String = chars[i + 1..close].iter().collect();
    let inner = inner.trim();
    let step = if inner == "*" {
        Step::AnyChild
    } else if let Ok(n) = inner.parse::<usize>() {
        Step::Index(n)
    } else if inner.len() >= 2
        && ((inner.starts_with('\'') && inner.ends_with('\''))
            || (inner.starts_with('"') && inner.ends_with('"')))
    {
        Step::Key(inner[1..inner.len() - 1].to_owned())
    } else {
        return Err(format!("`[{inner}]` is not an index, `*` or a quoted name"));
    };
    Ok((step, close + 1))
}

/// What is left out of, or masked in, a comparison.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    mask: HashSet<String>,
    ignore: Vec<PathPattern>,
    /// `--ignore` entries that name headers or the status (`headers.x-total`, `status`).
    ignore_other: HashSet<String>,
}

/// What masked values are replaced with in the diff.
pub const MASKED: &str = "<masked>";
/// What ignored values are replaced with in the diff (array items keep their place).
pub const IGNORED: &str = "<ignored>";

impl Rules {
    pub fn new(mask: &[String], ignore: &[String]) -> Result<Rules, PatternError> {
        let mut rules = Rules {
            mask: mask
                .iter()
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect(),
            ..Rules::default()
        };
        for i in ignore {
            let i = i.trim();
            if i.starts_with('$') {
                rules.ignore.push(PathPattern::parse(i)?);
            } else if i == "status" || i.starts_with("headers.") {
                rules.ignore_other.insert(i.to_ascii_lowercase());
            } else {
                return Err(PatternError {
                    pattern: i.to_owned(),
                    problem: "not a JSONPath".into(),
                });
            }
        }
        Ok(rules)
    }

    pub fn is_masked(&self, key: &str) -> bool {
        self.mask.contains(key)
    }

    pub fn is_ignored(&self, path: &[Seg]) -> bool {
        self.ignore.iter().any(|p| p.matches(path))
    }

    /// Whether a mismatch survives `--ignore` (body paths by pattern, others by name; a
    /// `headers.link` entry covers every `headers.link[rel=…]`).
    pub fn keeps(&self, m: &Mismatch) -> bool {
        if m.path.starts_with('$') {
            return true;
        }
        let base = m.path.split('[').next().unwrap_or(&m.path);
        !self.ignore_other.contains(&m.path) && !self.ignore_other.contains(base)
    }
}

/// JSON's name for a value's type.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Compares the recorded JSON body (`expected`) with glmock's (`actual`).
pub fn compare_json(rules: &Rules, expected: &Value, actual: &Value) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    if !rules.is_ignored(&path) {
        walk(rules, &mut path, expected, actual, false, &mut out);
    }
    out
}

fn walk(
    rules: &Rules,
    path: &mut Vec<Seg>,
    e: &Value,
    a: &Value,
    masked: bool,
    out: &mut Vec<Mismatch>,
) {
    if type_name(e) != type_name(a) {
        out.push(Mismatch::new(
            Kind::Type,
            path_text(path),
            Some(e.clone()),
            Some(a.clone()),
        ));
        return;
    }
    if masked {
        return;
    }
    match (e, a) {
        (Value::Object(em), Value::Object(am)) => {
            let keys: BTreeSet<&String> = em.keys().chain(am.keys()).collect();
            for k in keys {
                path.push(Seg::Key(k.clone()));
                if !rules.is_ignored(path) {
                    match (em.get(k), am.get(k)) {
                        (Some(ev), None) => out.push(Mismatch::new(
                            Kind::Missing,
                            path_text(path),
                            Some(ev.clone()),
                            None,
                        )),
                        (None, Some(av)) => out.push(Mismatch::new(
                            Kind::Extra,
                            path_text(path),
                            None,
                            Some(av.clone()),
                        )),
                        (Some(ev), Some(av)) => walk(rules, path, ev, av, rules.is_masked(k), out),
                        (None, None) => {}
                    }
                }
                path.pop();
            }
        }
        (Value::Array(ea), Value::Array(aa)) => {
            if ea.len() != aa.len() {
                out.push(Mismatch::new(
                    Kind::Length,
                    path_text(path),
                    Some(ea.len().into()),
                    Some(aa.len().into()),
                ));
            }
            for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
                path.push(Seg::Index(i));
                if !rules.is_ignored(path) {
                    walk(rules, path, ev, av, false, out);
                }
                path.pop();
            }
        }
        _ => {
            if !same_scalar(e, a) {
                out.push(Mismatch::new(
                    Kind::Value,
                    path_text(path),
                    Some(e.clone()),
                    Some(a.clone()),
                ));
            }
        }
    }
}

/// Longest text kept in a mismatch about a text body.
const TEXT_EXCERPT: usize = 200;

fn excerpt(text: &str) -> Value {
    if text.chars().count() <= TEXT_EXCERPT {
        return Value::String(text.to_owned());
    }
    let cut: String = text.chars().take(TEXT_EXCERPT).collect();
    Value::String(format!("{cut}… ({} bytes)", text.len()))
}

fn body_value(b: &Body) -> Value {
    match b {
        Body::Json(v) => v.clone(),
        Body::Text(t) => excerpt(t),
    }
}

/// Compares bodies of any kind: JSON structurally, text as a whole.
pub fn compare_bodies(
    rules: &Rules,
    expected: Option<&Body>,
    actual: Option<&Body>,
) -> Vec<Mismatch> {
    let root = || "$".to_owned();
    if rules.is_ignored(&[]) {
        return Vec::new();
    }
    match (expected, actual) {
        (None, None) => Vec::new(),
        (Some(e), None) => vec![Mismatch::new(
            Kind::Missing,
            root(),
            Some(body_value(e)),
            None,
        )],
        (None, Some(a)) => vec![Mismatch::new(
            Kind::Extra,
            root(),
            None,
            Some(body_value(a)),
        )],
        (Some(Body::Json(e)), Some(Body::Json(a))) => compare_json(rules, e, a),
        (Some(Body::Text(e)), Some(Body::Text(a))) => {
            if e == a {
                return Vec::new();
            }
            let mut m = Mismatch::new(Kind::Value, root(), Some(excerpt(e)), Some(excerpt(a)));
            m.message = Some(format!(
                "the text differs ({} line(s) recorded, {} from glmock)",
                e.lines().count(),
                a.lines().count()
            ));
            vec![m]
        }
        (Some(e), Some(a)) => vec![Mismatch::new(
            Kind::Type,
            root(),
            Some(body_value(e)),
            Some(body_value(a)),
        )],
    }
}

/// The pagination headers compared exactly.
pub const PAGINATION_HEADERS: &[&str] = &[
    "x-total",
    "x-total-pages",
    "x-page",
    "x-per-page",
    "x-next-page",
    "x-prev-page",
];

fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Compares content type (without parameters), the pagination headers and `Link` (rel names,
/// paths and query parameters, not hosts). Header names are lower-case on both sides.
pub fn compare_headers(
    rules: &Rules,
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let text = |v: Option<String>| v.map(Value::String);
    let (e, a) = (
        expected.get("content-type").map(|v| media_type(v)),
        actual.get("content-type").map(|v| media_type(v)),
    );
    if e != a {
        out.push(Mismatch::new(
            Kind::Header,
            "headers.content-type".into(),
            text(e),
            text(a),
        ));
    }
    for name in PAGINATION_HEADERS {
        // GitLab sends `X-Next-Page: ` (empty) on the last page; a recorder or proxy may drop
        // it, and clients read both as "none".
        let value = |h: &BTreeMap<String, String>| {
            h.get(*name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (e, a) = (value(expected), value(actual));
        if e != a {
            out.push(Mismatch::new(
                Kind::Header,
                format!("headers.{name}"),
                text(e),
                text(a),
            ));
        }
    }
    let e = links(rules, expected.get("link").map_or("", String::as_str));
    let a = links(rules, actual.get("link").map_or("", String::as_str));
    let rels: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
    for rel in rels {
        let (ev, av) = (e.get(rel), a.get(rel));
        if ev != av {
            out.push(Mismatch::new(
                Kind::Header,
                format!("headers.link[rel={rel}]"),
                text(ev.cloned()),
                text(av.cloned()),
            ));
        }
    }
    out.retain(|m| rules.keeps(m));
    out
}

/// `Link` as rel → `path?sorted-query`, hosts dropped, masked parameters (and the opaque
/// keyset `cursor`) replaced by the placeholder.
fn links(rules: &Rules, header: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|c| c + open) else {
            break;
        };
        let url = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        rest = &after[params_end..];
        let rel = params.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            (k.trim().eq_ignore_ascii_case("rel")).then(|| {
                v.trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            })
        });
        if let Some(rel) = rel {
            out.insert(rel, normalise_url(rules, url));
        }
    }
    out
}

fn normalise_url(rules: &Rules, url: &str) -> String {
    let url = if let Some(rest) = url.strip_prefix(BASE_PLACEHOLDER) {
        rest
    } else if let Some(scheme_end) = url.find("://") {
        let after = &url[scheme_end + 3..];
        after.find('/').map_or("/", |slash| &after[slash..])
    } else {
        url
    };
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let name = k.trim_end_matches("[]");
            let v = if rules.is_masked(name) || name == "cursor" {
                MASKED.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    params.sort();
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// A body as the diff shows it: JSON pretty-printed with sorted keys, masked values replaced
/// by `<masked>` (nulls kept), ignored values by `<ignored>`; text as is.
pub fn diff_text(rules: &Rules, body: Option<&Body>) -> String {
    let mut text = match body {
        None => String::new(),
        Some(Body::Text(t)) => t.clone(),
        Some(Body::Json(v)) => {
            let mut path = Vec::new();
            let shown = for_diff(rules, &mut path, v, false);
            serde_json::to_string_pretty(&shown).expect("JSON values serialize")
        }
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn for_diff(rules: &Rules, path: &mut Vec<Seg>, v: &Value, masked: bool) -> Value {
    if rules.is_ignored(path) {
        return Value::String(IGNORED.into());
    }
    if masked {
        return match v {
            Value::Null => Value::Null,
            _ => Value::String(MASKED.into()),
        };
    }
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            let mut out = Map::new();
            for (k, v) in sorted {
                path.push(Seg::Key(k.clone()));
                if !rules.is_ignored(path) {
                    out.insert(k.clone(), for_diff(rules, path, v, rules.is_masked(k)));
                }
                path.pop();
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(Seg::Index(i));
                    let shown = for_diff(rules, path, item, false);
                    path.pop();
                    shown
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The unified diff (3 lines of context) from the recording to glmock; `None` when the
/// shown texts are equal.
pub fn unified_diff(
    rules: &Rules,
    recorded: Option<&Body>,
    glmock: Option<&Body>,
) -> Option<String> {
    let (a, b) = (diff_text(rules, recorded), diff_text(rules, glmock));
    if a == b {
        return None;
    }
    Some(
        similar::TextDiff::from_lines(&a, &b)
            .unified_diff()
            .context_radius(3)
            .header("recorded", "glmock")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(mask: &[&str], ignore: &[&str]) -> Rules {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Rules::new(&s(mask), &s(ignore)).unwrap()
    }

    fn segs(p: &str) -> Vec<Seg> {
        // `a.0.b` → Key(a), Index(0), Key(b)
        p.split('.')
            .filter(|s| !s.is_empty())
            .map(|s| match s.parse() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(s.to_owned()),
            })
            .collect()
    }

    #[test]
    fn patterns_match_children_indices_and_descendants() {
        let p = |t: &str| PathPattern::parse(t).unwrap();
        assert!(p("$.user.avatar_url").matches(&segs("user.avatar_url")));
        assert!(!p("$.user.avatar_url").matches(&segs("0.user.avatar_url")));
        assert!(p("$[*].web_url").matches(&segs("3.web_url")));
        assert!(p("$[1].web_url").matches(&segs("1.web_url")));
        assert!(!p("$[1].web_url").matches(&segs("2.web_url")));
        assert!(p("$..avatar_url").matches(&segs("avatar_url")));
        assert!(p("$..avatar_url").matches(&segs("0.pipeline.user.avatar_url")));
        assert!(p("$..user.name").matches(&segs("2.user.name")));
        assert!(p("$['odd key']").matches(&[Seg::Key("odd key".into())]));
        assert!(p("$.*.id").matches(&segs("commit.id")));
        assert!(p("$").matches(&[]));
        assert!(PathPattern::parse("user.name").is_err());
        assert!(PathPattern::parse("$[x]").is_err());
        assert!(PathPattern::parse("$.a[").is_err());
    }

    #[test]
    fn paths_render_as_jsonpath() {
        let p = vec![
            Seg::Index(2),
            Seg::Key("user".into()),
            Seg::Key("a b".into()),
        ];
        assert_eq!(path_text(&p), "$[2].user[\"a b\"]");
        assert_eq!(
            pointer_segs(&json!([{"a": {"0": 1}}]), "/0/a/0"),
            vec![Seg::Index(0), Seg::Key("a".into()), Seg::Key("0".into())]
        );
    }

    #[test]
    fn structural_compare_finds_every_kind() {
        let r = rules(&["id"], &[]);
        let e = json!({"id": 1, "name": "a", "gone": true, "n": 1, "list": [1, 2], "t": "x"});
        let a = json!({"id": 2, "name": "b", "new": null, "n": 1.0, "list": [1], "t": 5});
        let found: Vec<(Kind, String)> = compare_json(&r, &e, &a)
            .into_iter()
            .map(|m| (m.kind, m.path))
            .collect();
        assert_eq!(
            found,
            vec![
                (Kind::Missing, "$.gone".into()),
                (Kind::Length, "$.list".into()),
                (Kind::Value, "$.name".into()),
                (Kind::Extra, "$.new".into()),
                (Kind::Type, "$.t".into()),
            ]
        );
    }

    #[test]
    fn masked_fields_compare_types_and_ignored_paths_nothing() {
        let r = rules(&["id", "sha"], &["$..avatar_url"]);
        let e = json!({"id": 1, "sha": null, "user": {"avatar_url": "a"}});
        let a = json!({"id": 2, "sha": "abc", "user": {}});
        let found = compare_json(&r, &e, &a);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].kind, found[0].path.as_str()),
            (Kind::Type, "$.sha")
        );
    }

    #[test]
    fn links_compare_rels_and_params_not_hosts() {
        let r = rules(&[], &[]);
        let h = |link: &str| -> BTreeMap<String, String> {
            [("link".to_owned(), link.to_owned())].into()
        };
        let e = h(
            "<{base}/api/v4/projects/1/jobs?page=2&per_page=2>; rel=\"next\", <{base}/api/v4/projects/1/jobs?page=1&per_page=2>; rel=\"first\"",
        );
        let a = h(
            "<http://127.0.0.1:9/api/v4/projects/1/jobs?per_page=2&page=1>; rel=\"first\", <http://127.0.0.1:9/api/v4/projects/1/jobs?per_page=2&page=2>; rel=\"next\"",
        );
        assert_eq!(compare_headers(&r, &e, &a), vec![]);
        let a = h("<{base}/api/v4/projects/1/jobs?page=1&per_page=2>; rel=\"first\"");
        let found = compare_headers(&r, &e, &a);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "headers.link[rel=next]");
        assert_eq!(found[0].actual, None);
        let ignoring = rules(&[], &["headers.link"]);
        assert_eq!(compare_headers(&ignoring, &e, &a), vec![]);
    }

    #[test]
    fn empty_pagination_headers_are_absent_ones() {
        let r = rules(&[], &[]);
        let e: BTreeMap<String, String> = [("x-page".into(), "2".into())].into();
        let a: BTreeMap<String, String> = [
            ("x-page".into(), "2".into()),
            ("x-next-page".into(), "".into()),
        ]
        .into();
        assert!(compare_headers(&r, &e, &a).is_empty());
        let a: BTreeMap<String, String> = [("x-page".into(), "3".into())].into();
        assert_eq!(compare_headers(&r, &e, &a)[0].path, "headers.x-page");
    }

    #[test]
    fn content_type_ignores_parameters() {
        let r = rules(&[], &[]);
        let e: BTreeMap<String, String> = [(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        )]
        .into();
        let a: BTreeMap<String, String> =
            [("content-type".into(), "application/json".into())].into();
        assert!(compare_headers(&r, &e, &a).is_empty());
    }

    #[test]
    fn diff_masks_sorts_and_shows_changes() {
        let r = rules(&["id"], &[]);
        let e = Body::Json(json!({"name": "a", "id": 1}));
        let a = Body::Json(json!({"id": 2, "name": "b"}));
        let d = unified_diff(&r, Some(&e), Some(&a)).unwrap();
        assert!(d.starts_with("--- recorded\n+++ glmock\n"), "{d}");
        assert!(d.contains("   \"id\": \"<masked>\",\n"), "{d}");
        assert!(
            d.contains("-  \"name\": \"a\"\n+  \"name\": \"b\"\n"),
            "{d}"
        );
        let same = Body::Json(json!({"id": 3, "name": "a"}));
        assert_eq!(unified_diff(&r, Some(&e), Some(&same)), None);
    }
}

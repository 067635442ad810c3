//! Typed reading of a located YAML tree, collecting every error instead of stopping at the
//! first. Each error names the file, line, column, the field path and what is allowed.

use std::collections::HashMap;

use super::ScenarioError;
use super::format::{Field, Object, Shape};
use super::node::{Loc, Node, Value};

/// Collects errors while a file is decoded.
pub struct Ctx {
    pub file: String,
    pub errors: Vec<ScenarioError>,
}

impl Ctx {
    pub fn new(file: impl Into<String>) -> Self {
        Ctx {
            file: file.into(),
            errors: Vec::new(),
        }
    }

    /// Records an error at `loc` for the field `path`.
    pub fn error(&mut self, loc: Loc, path: &str, message: impl Into<String>) {
        self.errors.push(ScenarioError {
            file: self.file.clone(),
            line: loc.line,
            column: loc.column,
            path: path.to_owned(),
            message: message.into(),
        });
    }
}

/// Joins a parent path and a key: `projects[0]` + `id` → `projects[0].id`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `, did you mean "x"?` when one allowed word is a likely typo of `word` (edit distance
/// within a third of its length), else nothing.
pub fn did_you_mean(word: &str, allowed: &[&str]) -> String {
    let limit = (word.chars().count() / 3).max(1);
    allowed
        .iter()
        .map(|a| (edit_distance(word, a), *a))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, a)| format!(", did you mean {a:?}?"))
        .unwrap_or_default()
}

/// Edit distance with transpositions (optimal string alignment), case-insensitive: `mian`
/// is one edit from `main`, `Stage` none from `stage`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Where each key's value is, for errors found after decoding.
#[derive(Debug, Clone, Default)]
pub struct FieldLocs(Vec<(String, Loc)>);

impl FieldLocs {
    /// The location of `key`'s value, or `fallback` when the key is absent.
    pub fn at(&self, key: &str, fallback: Loc) -> Loc {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| *l)
            .unwrap_or(fallback)
    }
}

/// A mapping being decoded with its table (`format.rs`): keys the table does not have are
/// reported as unknown, with the table's keys as the allowed ones. Reading a key the table
/// lacks, `req` of an optional key, `opt` of a required one, or leaving one of the table's
/// keys unread is a bug in the decoder, caught by debug assertions whenever a test decodes
/// the mapping.
pub struct Obj<'n> {
    entries: &'n [(Node, Node)],
    pub path: String,
    pub loc: Loc,
    table: &'static Object,
    read: Vec<&'static str>,
}

impl<'n> Obj<'n> {
    /// Views `node` as a mapping described by `table`; records an error and returns `None`
    /// otherwise.
    pub fn new(
        ctx: &mut Ctx,
        node: &'n Node,
        path: &str,
        table: &'static Object,
    ) -> Option<Obj<'n>> {
        match &node.value {
            Value::Map(entries) => {
                let mut seen: HashMap<&str, Loc> = HashMap::new();
                for (k, _) in entries {
                    if let Value::Str(key) = &k.value {
                        if let Some(first) = seen.get(key.as_str()) {
                            ctx.error(
                                k.loc,
                                &join(path, key),
                                format!(
                                    "{key:?} is given twice (first at line {}, column {}); keep one",
                                    first.line, first.column
                                ),
                            );
                        } else {
                            seen.insert(key, k.loc);
                        }
                    }
                }
                Some(Obj {
                    entries,
                    path: path.to_owned(),
                    loc: node.loc,
                    table,
                    read: Vec::new(),
                })
            }
            other => {
                ctx.error(
                    node.loc,
                    path,
                    format!("expected a mapping, found {}", other.kind()),
                );
                None
            }
        }
    }

    /// The table's entry for `key`, which the decoder is about to read.
    fn entry(&mut self, key: &'static str) -> Option<&'static Field> {
        let field = self.table.field(key);
        debug_assert!(
            field.is_some(),
            "the decoder reads {key:?}, which the {:?} table of src/scenario/format.rs lacks",
            self.table.name
        );
        // Only the debug assertion of `finish` needs the keys read.
        if cfg!(debug_assertions) && !self.read.contains(&key) {
            self.read.push(key);
        }
        field
    }

    /// The node under `key`, if present (a YAML `null` counts as absent).
    pub fn get(&mut self, key: &'static str) -> Option<&'n Node> {
        self.entry(key);
        self.entries
            .iter()
            .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
            .map(|(_, v)| v)
            .filter(|v| !matches!(v.value, Value::Null))
    }

    /// Whether `key` is written with a `null` value (which `get` treats as absent).
    pub fn is_null(&mut self, key: &'static str) -> bool {
        self.entry(key);
        self.entries.iter().any(|(k, v)| {
            matches!(&k.value, Value::Str(s) if s == key) && matches!(v.value, Value::Null)
        })
    }

    /// The locations of every value of this mapping.
    pub fn locs(&self) -> FieldLocs {
        FieldLocs(
            self.entries
                .iter()
                .filter_map(|(k, v)| match &k.value {
                    Value::Str(s) => Some((s.clone(), v.loc)),
                    _ => None,
                })
                .collect(),
        )
    }

    /// Path of a field of this mapping.
    pub fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Reports a required field that is missing.
    pub fn missing(&self, ctx: &mut Ctx, key: &str) {
        ctx.error(self.loc, &self.field(key), "is required but missing");
    }

    /// Reads a required field, reporting it when missing.
    pub fn req<T>(
        &mut self,
        ctx: &mut Ctx,
        key: &'static str,
        read: impl Fn(&mut Ctx, &Node, &str) -> Option<T>,
    ) -> Option<T> {
        let field = self.entry(key);
        debug_assert!(
            field.is_none_or(|f| f.required),
            "the decoder requires {key:?}, optional in the {:?} table",
            self.table.name
        );
        match self.get(key) {
            Some(n) => {
                let p = self.field(key);
                read(ctx, n, &p)
            }
            None => {
                self.missing(ctx, key);
                None
            }
        }
    }

    /// Reads an optional field.
    pub fn opt<T>(
        &mut self,
        ctx: &mut Ctx,
        key: &'static str,
        read: impl Fn(&mut Ctx, &Node, &str) -> Option<T>,
    ) -> Option<T> {
        let field = self.entry(key);
        debug_assert!(
            field.is_none_or(|f| !f.required),
            "the decoder reads {key:?} as optional, required in the {:?} table",
            self.table.name
        );
        let n = self.get(key)?;
        let p = self.field(key);
        read(ctx, n, &p)
    }

    /// Reads an optional field of fixed words: the table's list (`Shape::Word`).
    pub fn word(&mut self, ctx: &mut Ctx, key: &'static str) -> Option<String> {
        let words = match self.entry(key).map(|f| &f.shape) {
            Some(Shape::Word(words)) => *words,
            _ => {
                debug_assert!(false, "{key:?} of {:?} is not a word", self.table.name);
                &[]
            }
        };
        self.opt(ctx, key, |c, n, p| one_of(c, n, p, words))
    }

    /// Reports keys that the table does not have. Call after reading every field.
    pub fn finish(self, ctx: &mut Ctx) {
        debug_assert!(
            self.table
                .fields
                .iter()
                .all(|f| self.read.contains(&f.name)),
            "the decoder of {:?} leaves {:?} unread",
            self.table.name,
            self.table
                .fields
                .iter()
                .filter(|f| !self.read.contains(&f.name))
                .map(|f| f.name)
                .collect::<Vec<_>>()
        );
        let mut allowed: Vec<&str> = self.table.fields.iter().map(|f| f.name).collect();
        allowed.sort_unstable();
        for (k, _) in self.entries {
            let name = match &k.value {
                Value::Str(s) => s.as_str(),
                _ => {
                    ctx.error(k.loc, &self.path, "keys must be strings");
                    continue;
                }
            };
            if self.table.field(name).is_none() {
                let hint = did_you_mean(name, &allowed);
                ctx.error(
                    k.loc,
                    &join(&self.path, name),
                    format!("unknown field{hint} (allowed: {})", allowed.join(", ")),
                );
            }
        }
    }
}

pub fn string(ctx: &mut Ctx, n: &Node, path: &str) -> Option<String> {
    match &n.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => {
            ctx.error(
                n.loc,
                path,
                format!("expected a string, found {}", other.kind()),
            );
            None
        }
    }
}

/// A string that must be written as one (versions like `16.10` would lose their zero as a
/// YAML float).
pub fn strict_string(ctx: &mut Ctx, n: &Node, path: &str) -> Option<String> {
    match &n.value {
        Value::Str(s) => Some(s.clone()),
        Value::Float(f) => {
            ctx.error(
                n.loc,
                path,
                format!("expected a string, found the number {f} (quote it, e.g. \"16.10\")"),
            );
            None
        }
        _ => string(ctx, n, path),
    }
}

pub fn u64_(ctx: &mut Ctx, n: &Node, path: &str) -> Option<u64> {
    match &n.value {
        Value::Int(i) if *i >= 0 && *i <= i128::from(u64::MAX) => Some(*i as u64),
        Value::Int(i) => {
            ctx.error(
                n.loc,
                path,
                format!("expected a non-negative integer, found {i}"),
            );
            None
        }
        other => {
            ctx.error(
                n.loc,
                path,
                format!("expected a non-negative integer, found {}", other.kind()),
            );
            None
        }
    }
}

/// A positive id (GitLab ids start at 1).
pub fn id(ctx: &mut Ctx, n: &Node, path: &str) -> Option<u64> {
    let v = u64_(ctx, n, path)?;
    if v == 0 || v > i64::MAX as u64 {
        ctx.error(
            n.loc,
            path,
            format!("expected an id between 1 and {}, found {v}", i64::MAX),
        );
        return None;
    }
    Some(v)
}

pub fn f64_(ctx: &mut Ctx, n: &Node, path: &str) -> Option<f64> {
    match &n.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        other => {
            ctx.error(
                n.loc,
                path,
                format!("expected a number, found {}", other.kind()),
            );
            None
        }
    }
}

/// A number of seconds: a negative one is reported as such.
pub fn seconds(ctx: &mut Ctx, n: &Node, path: &str) -> Option<f64> {
    let v = f64_(ctx, n, path)?;
    if v < 0.0 {
        ctx.error(
            n.loc,
            path,
            format!("{v} is a negative duration (expected seconds ≥ 0)"),
        );
        return None;
    }
    if !v.is_finite() {
        ctx.error(n.loc, path, format!("expected seconds ≥ 0, found {v}"));
        return None;
    }
    Some(v)
}

pub fn bool_(ctx: &mut Ctx, n: &Node, path: &str) -> Option<bool> {
    match &n.value {
        Value::Bool(b) => Some(*b),
        other => {
            ctx.error(
                n.loc,
                path,
                format!("expected true or false, found {}", other.kind()),
            );
            None
        }
    }
}

pub fn timestamp(ctx: &mut Ctx, n: &Node, path: &str) -> Option<jiff::Timestamp> {
    let s = string(ctx, n, path)?;
    match s.parse::<jiff::Timestamp>() {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.error(n.loc, path, format!("expected an RFC 3339 timestamp like 2024-05-01T10:12:02.507Z, found {s:?} ({e})"));
            None
        }
    }
}

/// One of a fixed set of words; the error lists them all.
pub fn one_of(ctx: &mut Ctx, n: &Node, path: &str, allowed: &[&str]) -> Option<String> {
    let s = string(ctx, n, path)?;
    if allowed.contains(&s.as_str()) {
        Some(s)
    } else {
        let hint = did_you_mean(&s, allowed);
        ctx.error(
            n.loc,
            path,
            format!(
                "{s:?} is not allowed{hint} (allowed: {})",
                allowed.join(", ")
            ),
        );
        None
    }
}

pub fn list<'n>(ctx: &mut Ctx, n: &'n Node, path: &str) -> Option<Vec<(&'n Node, String)>> {
    match &n.value {
        Value::Seq(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, it)| (it, format!("{path}[{i}]")))
                .collect(),
        ),
        other => {
            ctx.error(
                n.loc,
                path,
                format!("expected a list, found {}", other.kind()),
            );
            None
        }
    }
}

/// Reads every item of a list with `read`, skipping the ones that failed.
pub fn list_of<T>(
    ctx: &mut Ctx,
    n: &Node,
    path: &str,
    read: impl Fn(&mut Ctx, &Node, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let items = list(ctx, n, path)?;
    Some(
        items
            .into_iter()
            .filter_map(|(item, p)| read(ctx, item, &p))
            .collect(),
    )
}

/// A mapping of string keys to values, e.g. `branches: {main: <sha>}`.
pub fn string_map<T>(
    ctx: &mut Ctx,
    n: &Node,
    path: &str,
    read: impl Fn(&mut Ctx, &Node, &str) -> Option<T>,
) -> Option<Vec<(String, T, Loc)>> {
    match &n.value {
        Value::Map(entries) => Some(
            entries
                .iter()
                .filter_map(|(k, v)| {
                    let key = string(ctx, k, path)?;
                    let p = join(path, &key);
                    read(ctx, v, &p).map(|val| (key, val, k.loc))
                })
                .collect(),
        ),
        other => {
            ctx.error(
                n.loc,
                path,
                format!("expected a mapping, found {}", other.kind()),
            );
            None
        }
    }
}

/// Converts a YAML node to JSON (for free-form data such as agent configuration).
pub fn json(ctx: &mut Ctx, n: &Node, path: &str) -> Option<serde_json::Value> {
    Some(match &n.value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => match i64::try_from(*i) {
            Ok(v) => v.into(),
            Err(_) => {
                ctx.error(n.loc, path, "integer out of range");
                return None;
            }
        },
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Into::into)
            .unwrap_or(serde_json::Value::Null),
        Value::Str(s) => s.clone().into(),
        Value::Seq(items) => serde_json::Value::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| json(ctx, it, &format!("{path}[{i}]")))
                .collect(),
        ),
        Value::Map(entries) => {
            let mut m = serde_json::Map::new();
            for (k, v) in entries {
                let key = string(ctx, k, path)?;
                let val = json(ctx, v, &join(path, &key))?;
                m.insert(key, val);
            }
            serde_json::Value::Object(m)
        }
    })
}

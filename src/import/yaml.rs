//! A small YAML writer for generated scenarios: block style, flow style for short
//! mappings and lists of scalars, literal blocks for multi-line text, anchors and aliases,
//! comments, and quoting wherever a plain scalar would be read back as something else.

use serde_json::Value;

/// A YAML node to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    Null,
    Bool(bool),
    /// A number, already formatted (`7`, `0.5`).
    Num(String),
    Str(String),
    /// `*name`
    Alias(String),
    Map(Vec<Entry>),
    Seq(Vec<Y>),
}

/// One `key: value` of a mapping, with an optional comment line(s) above it and an
/// optional anchor on the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Y,
    pub comment: Option<String>,
    pub anchor: Option<String>,
}

/// Widest flow collection (`{a: 1, b: 2}`) written on one line.
const FLOW_WIDTH: usize = 120;

impl Y {
    pub fn str(s: impl Into<String>) -> Y {
        Y::Str(s.into())
    }

    pub fn num(n: impl ToString) -> Y {
        Y::Num(n.to_string())
    }

    /// A JSON value as YAML (numbers as JSON wrote them, so `1.0` stays a float).
    pub fn json(v: &Value) -> Y {
        match v {
            Value::Null => Y::Null,
            Value::Bool(b) => Y::Bool(*b),
            Value::Number(n) => Y::Num(n.to_string()),
            Value::String(s) => Y::Str(s.clone()),
            Value::Array(items) => Y::Seq(items.iter().map(Y::json).collect()),
            Value::Object(m) => Y::Map(m.iter().map(|(k, v)| Entry::new(k, Y::json(v))).collect()),
        }
    }
}

impl Entry {
    pub fn new(key: impl Into<String>, value: Y) -> Entry {
        Entry {
            key: key.into(),
            value,
            comment: None,
            anchor: None,
        }
    }
}

/// Builds a mapping entry by entry.
#[derive(Debug, Default)]
pub struct MapBuilder(pub Vec<Entry>);

impl MapBuilder {
    pub fn new() -> Self {
        MapBuilder(Vec::new())
    }

    pub fn put(&mut self, key: &str, value: Y) -> &mut Self {
        self.0.push(Entry::new(key, value));
        self
    }

    pub fn put_opt(&mut self, key: &str, value: Option<Y>) -> &mut Self {
        if let Some(v) = value {
            self.put(key, v);
        }
        self
    }

    /// Puts a comment above the last entry.
    pub fn comment(&mut self, text: impl Into<String>) -> &mut Self {
        if let Some(e) = self.0.last_mut() {
            e.comment = Some(text.into());
        }
        self
    }

    pub fn build(self) -> Y {
        Y::Map(self.0)
    }
}

/// Writes a document: the header comment (each line prefixed `# `), then the root mapping.
pub fn document(header: &str, root: &[Entry]) -> String {
    let mut out = String::new();
    for line in header.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
    }
    for e in root {
        out.push('\n');
        write_entry(&mut out, e, 0, false);
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_comment(out: &mut String, text: &str, indent: usize) {
    for line in text.lines() {
        pad(out, indent);
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// `key: value`; `inline` when the line was already started (after `- `).
fn write_entry(out: &mut String, e: &Entry, indent: usize, inline: bool) {
    if let Some(c) = &e.comment {
        if inline {
            // After "- ": the item's content moves to the next lines.
            out.push('\n');
        }
        write_comment(out, c, indent);
        pad(out, indent);
    } else if !inline {
        pad(out, indent);
    }
    out.push_str(&key(&e.key));
    out.push(':');
    if let Some(a) = &e.anchor {
        out.push_str(" &");
        out.push_str(a);
    }
    write_after_indicator(out, &e.value, indent + 2);
}

/// A value after `key:` or `-`: on the same line when it fits, else on the next lines at
/// `indent`.
fn write_after_indicator(out: &mut String, v: &Y, indent: usize) {
    if let Some(s) = inline(v) {
        out.push(' ');
        out.push_str(&s);
        out.push('\n');
        return;
    }
    match v {
        Y::Str(s) => write_block(out, s, indent),
        // Top-level sections stay in block style.
        Y::Map(entries) => match flow(v).filter(|_| indent > 2) {
            Some(f) if f.len() + indent <= FLOW_WIDTH => {
                out.push(' ');
                out.push_str(&f);
                out.push('\n');
            }
            _ => {
                out.push('\n');
                for e in entries {
                    write_entry(out, e, indent, false);
                }
            }
        },
        Y::Seq(items) => match flow(v) {
            Some(f) if f.len() + indent <= FLOW_WIDTH => {
                out.push(' ');
                out.push_str(&f);
                out.push('\n');
            }
            _ => {
                out.push('\n');
                for it in items {
                    write_item(out, it, indent);
                }
            }
        },
        _ => unreachable!("scalars are inline"),
    }
}

fn write_item(out: &mut String, v: &Y, indent: usize) {
    pad(out, indent);
    out.push('-');
    match v {
        Y::Map(entries)
            if !entries.is_empty() && flow(v).is_none_or(|f| f.len() + indent + 2 > FLOW_WIDTH) =>
        {
            out.push(' ');
            for (i, e) in entries.iter().enumerate() {
                write_entry(out, e, indent + 2, i == 0);
            }
        }
        _ => write_after_indicator(out, v, indent + 2),
    }
}

/// A literal block (`|`), for multi-line text `block_safe` accepts.
fn write_block(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => " |-\n",
        1 => " |\n",
        _ => " |+\n",
    });
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// The one-line form of a scalar; `None` for collections and for text written as a block.
fn inline(v: &Y) -> Option<String> {
    Some(match v {
        Y::Null => "null".into(),
        Y::Bool(b) => b.to_string(),
        Y::Num(n) => n.clone(),
        Y::Alias(a) => format!("*{a}"),
        Y::Str(s) if block_safe(s) => return None,
        Y::Str(s) => scalar(s),
        Y::Map(m) if m.is_empty() => "{}".into(),
        Y::Seq(s) if s.is_empty() => "[]".into(),
        Y::Map(_) | Y::Seq(_) => return None,
    })
}

/// `{a: 1, b: x}` / `[a, b]` when every member is a one-line scalar.
fn flow(v: &Y) -> Option<String> {
    let one = |v: &Y| match v {
        Y::Map(_) | Y::Seq(_) => None,
        Y::Str(s) => Some(scalar(s)),
        other => inline(other),
    };
    match v {
        Y::Map(entries) => {
            let mut parts = Vec::with_capacity(entries.len());
            for e in entries {
                if e.comment.is_some() || e.anchor.is_some() {
                    return None;
                }
                parts.push(format!("{}: {}", key(&e.key), one(&e.value)?));
            }
            Some(format!("{{{}}}", parts.join(", ")))
        }
        Y::Seq(items) => {
            let parts: Option<Vec<String>> = items.iter().map(one).collect();
            Some(format!("[{}]", parts?.join(", ")))
        }
        _ => None,
    }
}

fn key(k: &str) -> String {
    scalar(k)
}

/// Multi-line text that a literal block keeps exactly.
fn block_safe(s: &str) -> bool {
    if !s.contains('\n') || s.len() < 2 {
        return false;
    }
    let first = s.split('\n').find(|l| !l.is_empty());
    match first {
        None => return false,
        Some(l) if l.starts_with([' ', '\t']) => return false,
        _ => {}
    }
    s.chars().all(|c| c == '\n' || c == '\t' || printable(c))
}

/// YAML's `c-printable` without the byte-order mark (which must be escaped inside a
/// document) and without tab, CR and LF (handled by the callers).
fn printable(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{85}'
        | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FEFE}'
        | '\u{FF00}'..='\u{FFFD}'
        | '\u{10000}'..)
}

/// A one-line scalar: plain when it reads back as the same string, else double-quoted.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) { s.to_owned() } else { quoted(s) }
}

fn plain_ok(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    match chars.peek() {
        Some(c) if c.is_alphabetic() => {}
        _ => return false,
    }
    if s.ends_with(' ') || s.len() > 200 {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "nan" | "inf"
    ) {
        return false;
    }
    while let Some(c) = chars.next() {
        let ok = match c {
            ':' => chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '/'),
            ' ' | '_' | '.' | '/' | '@' | '+' | '-' | '(' | ')' => true,
            c => c.is_alphanumeric(),
        };
        if !ok {
            return false;
        }
    }
    true
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Writes `v` under a key, reads it back with the scenario parser, compares.
    fn round_trip(v: &Value) {
        let text = document("t", &[Entry::new("v", Y::json(v))]);
        let node = crate::scenario::node::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut ctx = crate::scenario::decode::Ctx::new("t");
        let back = crate::scenario::decode::json(&mut ctx, &node, "").expect("json");
        assert!(ctx.errors.is_empty(), "{:?}", ctx.errors);
        assert_eq!(back["v"], *v, "{text}");
    }

    #[test]
    fn strings_read_back_as_written() {
        for s in [
            "",
            "plain",
            "two words",
            "true",
            "No",
            "null",
            "~",
            "1.0",
            "16.10",
            "0x1F",
            "2024-05-01T10:00:00.000Z",
            "a: b",
            "a:b",
            "https://gitlab.example.com/group/project",
            "key #comment",
            "- item",
            "[x]",
            "{x}",
            "a, b",
            "'single'",
            "\"double\"",
            "back\\slash",
            "tab\there",
            "trailing ",
            " leading",
            "\u{1b}[0Kcolour\r\n",
            "line 1\nline 2\n",
            "line 1\nline 2",
            "line 1\n\n\n",
            "\nstarts with a newline\n",
            "  indented first\nsecond\n",
            "caf\u{e9} \u{1F680}",
            "del\u{7f}",
            "bom\u{feff}",
            "nel\u{85}",
            "refs/merge-requests/1/head",
            "*alias",
            "&anchor",
            "!tag",
            "%directive",
            "@at",
            "`tick`",
            "|",
            ">",
            "?",
            "a ? b",
        ] {
            round_trip(&json!(s));
            round_trip(&json!({ s: s }));
            round_trip(&json!([s, s]));
            round_trip(&json!([{ "k": s, "other": 1 }]));
        }
    }

    #[test]
    fn numbers_and_nesting_read_back() {
        round_trip(&json!({
            "i": 7, "f": 1.0, "g": 0.192, "neg": -3, "big": 9_007_199_254_740_993u64,
            "b": true, "n": null, "e": {}, "l": [],
            "deep": [{"a": [1, 2, {"b": "c\nd\n"}]}, [[1], []]],
            "long": (0..40).map(|i| format!("item{i}")).collect::<Vec<_>>(),
        }));
    }

    #[test]
    fn short_collections_use_flow_style_and_logs_use_blocks() {
        let text = document(
            "header\n\nmore",
            &[
                Entry::new("tags", Y::json(&json!(["docker", "linux"]))),
                Entry::new("log", Y::str("a\nb\n")),
            ],
        );
        assert_eq!(
            text,
            "# header\n#\n# more\n\ntags: [docker, linux]\n\nlog: |\n  a\n  b\n"
        );
    }

    #[test]
    fn anchors_aliases_and_comments() {
        let mut a = Entry::new("u", Y::json(&json!({"id": 1, "name": "x"})));
        a.anchor = Some("u1".into());
        let mut c = Entry::new("b", Y::Alias("u1".into()));
        c.comment = Some("see above".into());
        let items = Y::Seq(vec![Y::Map(vec![c, Entry::new("z", Y::num(2))])]);
        let text = document("h", &[a, Entry::new("list", items)]);
        let node = crate::scenario::node::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut ctx = crate::scenario::decode::Ctx::new("t");
        let back = crate::scenario::decode::json(&mut ctx, &node, "").expect("json");
        assert_eq!(
            back,
            json!({"u": {"id": 1, "name": "x"}, "list": [{"b": {"id": 1, "name": "x"}, "z": 2}]}),
            "{text}"
        );
    }
}

//! A JSON document parsed for validation alone: its nodes in flat tables that are kept per
//! thread and reused, its strings borrowed from the input unless they hold escapes. Checking
//! a rendering this way allocates nothing once the tables have grown, where serde_json's
//! `Value` allocates every string, object and array (on a large heap, glibc serves such
//! bursts of small allocations slowly).
//!
//! Only "is it valid?" is answered here. A document this parser refuses (invalid UTF-8 or
//! JSON, nesting beyond serde_json's limit, a duplicate key), and a document that is not
//! valid, are checked again through `Value`, which reports what is wrong; so this parser
//! never has to agree with serde_json about a document it does not accept.

use std::cell::RefCell;

use serde_json::Number;

use super::validator::{Instance, Kind};

/// serde_json's own nesting limit: it reads 127 levels of arrays and objects, not 128.
const MAX_NESTING: usize = 128;

#[derive(Debug, Default)]
pub struct Doc {
    nodes: Vec<Node>,
    /// Members of objects and elements of arrays, each container's contiguous.
    kids: Vec<(Str, u32)>,
    /// Strings that held escapes, unescaped.
    text: String,
    /// Members of the containers being parsed.
    stack: Vec<(Str, u32)>,
}

#[derive(Debug, Clone, Copy)]
enum Str {
    /// A range of the input.
    Input(u32, u32),
    /// A range of `Doc::text`.
    Text(u32, u32),
}

#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(Str),
    /// `kids[start..start + len]`.
    Array(u32, u32),
    Object(u32, u32),
}

/// One node of a parsed document.
#[derive(Clone, Copy)]
pub struct At<'a> {
    doc: &'a Doc,
    input: &'a str,
    node: u32,
}

/// Parses `input` into this thread's document and calls `f` with its root; `None` when
/// the parser refuses the input (see the module's note).
pub fn with_parsed<R>(input: &[u8], f: impl FnOnce(At<'_>) -> R) -> Option<R> {
    thread_local! {
        static DOC: RefCell<Doc> = RefCell::new(Doc::default());
    }
    let input = std::str::from_utf8(input).ok()?;
    // Inputs beyond u32 offsets go the long way.
    u32::try_from(input.len()).ok()?;
    DOC.with(|cell| {
        let mut doc = cell.try_borrow_mut().ok()?;
        doc.nodes.clear();
        doc.kids.clear();
        doc.text.clear();
        doc.stack.clear();
        let root = {
            let mut p = Parser {
                s: input,
                b: input.as_bytes(),
                i: 0,
                doc: &mut doc,
            };
            let root = p.value(0)?;
            p.ws();
            (p.i == p.b.len()).then_some(root)?
        };
        let out = f(At {
            doc: &doc,
            input,
            node: root,
        });
        // A huge document's tables are not kept.
        doc.nodes.shrink_to(1 << 16);
        doc.kids.shrink_to(1 << 16);
        doc.text.shrink_to(1 << 20);
        Some(out)
    })
}

struct Parser<'p> {
    /// The input; `b` is its bytes. Every range cut from it ends at an ASCII byte.
    s: &'p str,
    b: &'p [u8],
    i: usize,
    doc: &'p mut Doc,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn push(&mut self, node: Node) -> u32 {
        self.doc.nodes.push(node);
        (self.doc.nodes.len() - 1) as u32
    }

    fn literal(&mut self, word: &[u8], node: Node) -> Option<u32> {
        self.b[self.i..].starts_with(word).then_some(())?;
        self.i += word.len();
        Some(self.push(node))
    }

    fn value(&mut self, depth: usize) -> Option<u32> {
        self.ws();
        match *self.b.get(self.i)? {
            b'n' => self.literal(b"null", Node::Null),
            b't' => self.literal(b"true", Node::Bool(true)),
            b'f' => self.literal(b"false", Node::Bool(false)),
            b'"' => {
                let s = self.string()?;
                Some(self.push(Node::String(s)))
            }
            b'[' | b'{' if depth + 1 >= MAX_NESTING => None,
            b'[' => self.array(depth),
            b'{' => self.object(depth),
            b'-' | b'0'..=b'9' => {
                let n = self.number()?;
                Some(self.push(Node::Number(n)))
            }
            _ => None,
        }
    }

    /// Moves the members pushed since `base` to `kids`: their `(start, len)` there.
    fn close(&mut self, base: usize) -> (u32, u32) {
        let start = self.doc.kids.len() as u32;
        let Doc { kids, stack, .. } = &mut *self.doc;
        kids.extend(stack.drain(base..));
        (start, kids.len() as u32 - start)
    }

    fn array(&mut self, depth: usize) -> Option<u32> {
        self.i += 1;
        let base = self.doc.stack.len();
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
        } else {
            loop {
                let v = self.value(depth + 1)?;
                self.doc.stack.push((Str::Input(0, 0), v));
                self.ws();
                match self.b.get(self.i)? {
                    b',' => self.i += 1,
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let (start, len) = self.close(base);
        Some(self.push(Node::Array(start, len)))
    }

    fn object(&mut self, depth: usize) -> Option<u32> {
        self.i += 1;
        let base = self.doc.stack.len();
        // Which key hashes this object has seen: a duplicate is looked for only on a hit.
        let mut seen = 0u64;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                (self.b.get(self.i) == Some(&b'"')).then_some(())?;
                let key = self.string()?;
                let bit = 1u64 << (hash(self.str_of(key)) & 63);
                if seen & bit != 0 {
                    let k = self.str_of(key);
                    let dup = self.doc.stack[base..]
                        .iter()
                        .any(|(other, _)| self.str_of(*other) == k);
                    // serde_json keeps the last of duplicate keys: leave it to `Value`.
                    if dup {
                        return None;
                    }
                }
                seen |= bit;
                self.ws();
                (self.b.get(self.i) == Some(&b':')).then_some(())?;
                self.i += 1;
                let v = self.value(depth + 1)?;
                self.doc.stack.push((key, v));
                self.ws();
                match self.b.get(self.i)? {
                    b',' => self.i += 1,
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let (start, len) = self.close(base);
        Some(self.push(Node::Object(start, len)))
    }

    fn str_of(&self, s: Str) -> &str {
        match s {
            Str::Input(a, b) => &self.s[a as usize..b as usize],
            Str::Text(a, b) => &self.doc.text[a as usize..b as usize],
        }
    }

    /// A string at the opening quote.
    fn string(&mut self) -> Option<Str> {
        self.i += 1;
        let start = self.i;
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Str::Input(start as u32, (self.i - 1) as u32));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        // Escapes: unescape into `text`.
        let from = self.doc.text.len();
        self.doc.text.push_str(&self.s[start..self.i]);
        loop {
            let run = self.i;
            while let Some(&c) = self.b.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            self.doc.text.push_str(&self.s[run..self.i]);
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Str::Text(from as u32, self.doc.text.len() as u32));
                }
                b'\\' => {
                    self.i += 1;
                    let e = *self.b.get(self.i)?;
                    let c = if e == b'u' {
                        let hi = self.hex4()?;
                        if (0xD800..0xDC00).contains(&hi) {
                            (self.b.get(self.i..self.i + 2)? == b"\\u").then_some(())?;
                            self.i += 1;
                            let lo = self.hex4()?;
                            (0xDC00..0xE000).contains(&lo).then_some(())?;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                        } else {
                            char::from_u32(hi)?
                        }
                    } else {
                        self.i += 1;
                        match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            _ => return None,
                        }
                    };
                    self.doc.text.push(c);
                }
                _ => return None,
            }
        }
    }

    /// Four hex digits after the `u` at `i`; leaves `i` after them.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.b.get(self.i + 1..self.i + 5)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.i += 5;
        Some(n)
    }

    fn number(&mut self) -> Option<Number> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while p.b.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            p.i > from
        };
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        match self.b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        let mut float = false;
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            float = true;
            digits(self).then_some(())?;
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            float = true;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            digits(self).then_some(())?;
        }
        let text = &self.s[start..self.i];
        // serde_json's own reading (integer or float, `-0` a float, out of range refused),
        // rounded as `Value` rounds it: a limit in a schema must compare alike both ways.
        if !float && let Ok(n) = text.parse::<u64>() {
            return Some(n.into());
        }
        serde_json::from_str::<Number>(text).ok()
    }
}

/// A cheap hash of a key, for the duplicate filter.
fn hash(s: &str) -> u64 {
    let b = s.as_bytes();
    let (first, last) = (
        b.first().copied().unwrap_or(0),
        b.last().copied().unwrap_or(0),
    );
    (b.len() as u64)
        .wrapping_mul(31)
        .wrapping_add(u64::from(first).wrapping_mul(7))
        .wrapping_add(u64::from(last))
        .wrapping_add(b.get(b.len() / 2).copied().map_or(0, u64::from) << 2)
}

impl<'a> At<'a> {
    fn node(self) -> &'a Node {
        &self.doc.nodes[self.node as usize]
    }

    fn at(self, node: u32) -> At<'a> {
        At { node, ..self }
    }

    fn str_of(self, s: Str) -> &'a str {
        match s {
            Str::Input(a, b) => &self.input[a as usize..b as usize],
            Str::Text(a, b) => &self.doc.text[a as usize..b as usize],
        }
    }

    fn kids(self) -> &'a [(Str, u32)] {
        match *self.node() {
            Node::Array(start, len) | Node::Object(start, len) => {
                &self.doc.kids[start as usize..(start + len) as usize]
            }
            _ => &[],
        }
    }
}

impl<'a> Instance<'a> for At<'a> {
    fn kind(self) -> Kind<'a> {
        match self.node() {
            Node::Null => Kind::Null,
            Node::Bool(b) => Kind::Bool(*b),
            Node::Number(n) => Kind::Number(n),
            Node::String(s) => Kind::String(self.str_of(*s)),
            Node::Array(..) => Kind::Array,
            Node::Object(..) => Kind::Object,
        }
    }

    fn items(self) -> impl Iterator<Item = Self> {
        let kids = match self.node() {
            Node::Array(..) => self.kids(),
            _ => &[],
        };
        kids.iter().map(move |(_, n)| self.at(*n))
    }

    fn entries(self) -> impl Iterator<Item = (&'a str, Self)> {
        let kids = match self.node() {
            Node::Object(..) => self.kids(),
            _ => &[],
        };
        kids.iter()
            .map(move |(k, n)| (self.str_of(*k), self.at(*n)))
    }

    fn size(self) -> usize {
        self.kids().len()
    }

    fn get(self, key: &str) -> Option<Self> {
        self.entries().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::contract::validator::equal;

    /// The parsed document equals serde_json's reading of the same text.
    fn same(text: &str) {
        let value: Value = serde_json::from_str(text).expect("test input is JSON");
        let ok = with_parsed(text.as_bytes(), |at| {
            // `equal` ignores member order; compare the order too.
            assert!(equal(at, &value), "{text}");
            let keys: Vec<&str> = at.entries().map(|(k, _)| k).collect();
            let expected: Vec<&str> = value
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(keys, expected, "{text}");
        });
        assert!(ok.is_some(), "refused: {text}");
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-2.5e3,"g":""}"#,
            r#"  [ 1 , 0 , -0 , 18446744073709551615 , -9223372036854775808 , 1e2 , 0.5 ]  "#,
            r#""plain""#,
            r#"{"esc":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 end","ünï":"ß"}"#,
            r#"{"big":123456789012345678901234567890}"#,
            r#"[[],{},[[{}]]]"#,
        ] {
            same(text);
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses_or_reads_differently() {
        for text in [
            "",
            "[1,]",
            "{\"a\":1,}",
            "[01]",
            "[1.]",
            "[.5]",
            "[1e]",
            "{\"a\" 1}",
            "[1] x",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "\"a\nb\"",
            "[nul]",
            "{1:2}",
            "{\"a\":1,\"a\":2}",
            "[1e400]",
        ] {
            assert!(
                with_parsed(text.as_bytes(), |_| ()).is_none(),
                "accepted: {text:?}"
            );
        }
        assert!(with_parsed(b"\"\xff\"", |_| ()).is_none());
        // Nesting: accepted exactly as deep as serde_json reads.
        for levels in MAX_NESTING - 2..MAX_NESTING + 2 {
            for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
                let text = open.repeat(levels) + "0" + &close.repeat(levels);
                let theirs = serde_json::from_str::<Value>(&text).is_ok();
                let ours = with_parsed(text.as_bytes(), |_| ()).is_some();
                assert_eq!(ours, theirs, "{levels} levels of {open}");
            }
        }
        assert!(with_parsed(("[".repeat(127) + &"]".repeat(127)).as_bytes(), |_| ()).is_some());
    }

    /// `at` is `value` exactly: the same kinds, member order and number representation.
    fn identical(at: At<'_>, value: &Value) -> Result<(), String> {
        let fail = || Err(format!("{} is not {value}", describe(at)));
        match (at.kind(), value) {
            (Kind::Null, Value::Null) => Ok(()),
            (Kind::Bool(a), Value::Bool(b)) if a == *b => Ok(()),
            (Kind::String(a), Value::String(b)) if a == b => Ok(()),
            (Kind::Number(a), Value::Number(b)) => {
                // `Number`'s equality tells integers from floats, and floats by their bits
                // but for `-0`: compare those by their bits as well.
                let same = a == b && a.as_f64().map(f64::to_bits) == b.as_f64().map(f64::to_bits);
                if same { Ok(()) } else { fail() }
            }
            (Kind::Array, Value::Array(items)) if at.size() == items.len() => {
                at.items().zip(items).try_for_each(|(a, b)| identical(a, b))
            }
            (Kind::Object, Value::Object(members)) if at.size() == members.len() => at
                .entries()
                .zip(members)
                .try_for_each(|((ka, a), (kb, b))| {
                    if ka == kb {
                        identical(a, b)
                    } else {
                        Err(format!("key {ka:?} is not {kb:?}"))
                    }
                }),
            _ => fail(),
        }
    }

    fn describe(at: At<'_>) -> String {
        match at.kind() {
            Kind::Null => "null".into(),
            Kind::Bool(b) => b.to_string(),
            Kind::Number(n) => n.to_string(),
            Kind::String(s) => format!("{s:?}"),
            Kind::Array => format!("an array of {}", at.size()),
            Kind::Object => format!("an object of {}", at.size()),
        }
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                // Few, short keys: shared hash bits, escapes and near-duplicates.
                prop::collection::vec(("[abé\"\\\\\n]{0,3}", inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// Fragments a mutation splices into a rendering: escapes of every kind, lone
    /// surrogates, number syntax, structure, control bytes, a duplicate key, an infinity.
    const FRAGMENTS: &[&str] = &[
        "\\u00e9",
        "\\ud83d\\ude00",
        "\\ud800",
        "\\udc00",
        "\\/",
        "\\",
        "\"",
        ",",
        ":",
        "[",
        "]",
        "{",
        "}",
        "-",
        "0",
        "1",
        "e",
        "E+",
        ".",
        "\u{1}",
        " ",
        "\t",
        "null",
        "tru",
        "1e400",
        "-0",
        "18446744073709551616",
        "{\"a\":1,\"a\":2}",
        "\u{e9}",
        "\u{7f}",
        // Whole elements, so that an array stays valid: the number forms that read alike.
        ",-0",
        ",-0.0",
        ",1E+2",
        ",-9223372036854775809",
        ",0.1e-3",
        ",[]",
        ",{}",
        ",\"\\u0041\"",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        /// Every text serde_json writes is accepted and read as serde_json reads it.
        #[test]
        fn accepts_what_serde_json_writes(value in any_json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            let read = with_parsed(text.as_bytes(), |at| identical(at, &value));
            prop_assert!(read.is_some(), "refused: {}", text);
            prop_assert_eq!(read.unwrap(), Ok(()), "{}", text);
        }

        /// Whatever this parser accepts, serde_json accepts too and reads the same way:
        /// a rendering with fragments spliced in or bytes cut out.
        #[test]
        fn what_it_accepts_serde_json_reads_alike(
            value in any_json(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0..FRAGMENTS.len(), 0usize..3), 1..4),
        ) {
            let mut text = value.to_string().into_bytes();
            for (at, fragment, cut) in edits {
                let i = at.index(text.len() + 1);
                let end = (i + cut).min(text.len());
                text.splice(i..end, FRAGMENTS[fragment].bytes());
            }
            let theirs = serde_json::from_slice::<Value>(&text);
            let ours = with_parsed(&text, |at| match &theirs {
                Ok(value) => identical(at, value),
                Err(e) => Err(format!("serde_json refuses it: {e}")),
            });
            if let Some(read) = ours {
                prop_assert_eq!(read, Ok(()), "{}", String::from_utf8_lossy(&text));
            }
        }
    }

    #[test]
    fn keys_that_share_a_hash_are_not_duplicates() {
        // Same length, ends and middle: same filter bit, different keys.
        same(r#"{"abxcd":1,"abycd":2,"abxcd2":3}"#);
        let v = json!({"k": [1, {"k": 2}]});
        same(&v.to_string());
    }
}

//! The JSON Schema validator the contract runs: the draft 2020-12 subset glmock's response
//! schemas use, and the common keywords a user's `--schemas DIR` may add. A schema is
//! compiled once into a table of nodes (`$ref`s resolved to indexes); any keyword outside
//! the subset makes compilation fail, naming its JSON pointer, so nothing is silently
//! ignored. Messages and schema paths are those of the `jsonschema` crate, which the
//! contract used before (42 crates for a dozen keywords); a differential test keeps the two
//! in agreement.
//!
//! Validity is read through `Instance`, so a body can be checked from a document parsed for
//! that alone (`super::doc`); errors are collected from serde_json's `Value`.
//!
//! Schema paths are the failing keyword's own location in the schema document (JSON
//! Schema's "keywordLocation" without `$ref` traversals): `/$defs/job/properties/status/enum`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::{self, Write as _};

use serde_json::{Map, Number, Value};

/// What validation reads of an instance: serde_json's `Value`, or a document parsed for
/// validation alone (`super::doc`, which allocates nothing per document).
pub trait Instance<'a>: Copy {
    fn kind(self) -> Kind<'a>;
    /// The elements of an array (nothing for other kinds).
    fn items(self) -> impl Iterator<Item = Self>;
    /// The members of an object, in document order (nothing for other kinds).
    fn entries(self) -> impl Iterator<Item = (&'a str, Self)>;
    /// How many elements an array has, or members an object.
    fn size(self) -> usize;
    /// An object's member.
    fn get(self, key: &str) -> Option<Self>;
}

/// An instance's JSON type, with its scalar value.
#[derive(Clone, Copy)]
pub enum Kind<'a> {
    Null,
    Bool(bool),
    Number(&'a Number),
    String(&'a str),
    Array,
    Object,
}

impl<'a> Instance<'a> for &'a Value {
    fn kind(self) -> Kind<'a> {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Number(n) => Kind::Number(n),
            Value::String(s) => Kind::String(s),
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }

    fn items(self) -> impl Iterator<Item = Self> {
        self.as_array().into_iter().flatten()
    }

    fn entries(self) -> impl Iterator<Item = (&'a str, Self)> {
        self.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v))
    }

    fn size(self) -> usize {
        match self {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        }
    }

    fn get(self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }
}

/// How many schema nodes one validation may nest before it gives up: a `$ref` cycle that
/// consumes no instance (`{"$defs": {"a": {"$ref": "#/$defs/a"}}}`) stops here instead of
/// overflowing the stack.
pub const MAX_DEPTH: usize = 512;

/// The keywords that constrain an instance.
pub const SUPPORTED: &[&str] = &[
    "$defs",
    "$ref",
    "additionalProperties",
    "allOf",
    "anyOf",
    "const",
    "enum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "format",
    "items",
    "maxItems",
    "maxLength",
    "maximum",
    "minItems",
    "minLength",
    "minimum",
    "not",
    "oneOf",
    "prefixItems",
    "properties",
    "required",
    "type",
    "uniqueItems",
];

/// The keywords read and ignored (annotations), besides any `x-*` extension.
pub const ANNOTATIONS: &[&str] = &[
    "$comment",
    "$id",
    "$schema",
    "default",
    "deprecated",
    "description",
    "examples",
    "readOnly",
    "title",
    "writeOnly",
];

/// The values of `format` that are checked.
pub const FORMATS: &[&str] = &["date", "date-time", "time"];

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// A schema that cannot be compiled: where (a JSON pointer into the schema) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", if pointer.is_empty() { "/" } else { pointer })]
pub struct CompileError {
    pub pointer: String,
    pub message: String,
}

/// One way an instance breaks the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError<'v> {
    /// JSON pointer into the instance.
    pub instance_path: String,
    /// JSON pointer to the failing keyword in the schema.
    pub schema_path: String,
    /// The failing part of the instance.
    pub instance: &'v Value,
    pub message: String,
}

impl fmt::Display for ValidationError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A compiled schema.
#[derive(Debug, Clone)]
pub struct Validator {
    nodes: Vec<Node>,
    root: usize,
}

#[derive(Debug, Clone)]
struct Node {
    /// JSON pointer of the subschema.
    loc: Box<str>,
    kind: NodeKind,
    /// The node's `type` (every type when it has none), tested inline by `is_valid`
    /// before any keyword is dispatched: most nodes are `{"type": …}` and little else.
    types: Types,
    /// How many leading keywords `types` stands for (1 when the first is `type`).
    skip: usize,
}

#[derive(Debug, Clone)]
enum NodeKind {
    /// `true` or `{}`.
    True,
    /// `false`.
    False,
    /// Sorted the way `jsonschema` runs them (cheap assertions first), so errors come in
    /// the same order.
    Keywords(Vec<Keyword>),
}

#[derive(Debug, Clone)]
struct Keyword {
    /// JSON pointer of the keyword (the schema path of its errors).
    loc: Box<str>,
    check: Check,
}

#[derive(Debug, Clone)]
enum Check {
    Type(Types),
    Const(Value),
    /// The values, and a table of them when they are all strings (the common case).
    Enum(Vec<Value>, Option<Names>),
    Minimum(Number),
    Maximum(Number),
    ExclusiveMinimum(Number),
    ExclusiveMaximum(Number),
    MinLength(u64),
    MaxLength(u64),
    MinItems(u64),
    MaxItems(u64),
    /// The names; `true` when they are all in the sibling `properties`, which then counts
    /// them as it walks the object (no second lookup per name).
    Required(Vec<String>, bool),
    Format(Format),
    UniqueItems,
    /// `properties` and `additionalProperties` together (at the location of `properties`,
    /// or of `additionalProperties` when there is no `properties`).
    Object {
        /// Property name → node, and whether it is required (when the sibling `required`
        /// is counted here).
        properties: Names,
        /// How many required properties an object must have (0: `required` checks itself).
        required: usize,
        additional: Additional,
        additional_loc: Box<str>,
    },
    /// `prefixItems` and `items` together.
    Array {
        prefix: Vec<usize>,
        items: Option<usize>,
    },
    AllOf(Vec<usize>),
    AnyOf(Vec<usize>),
    OneOf(Vec<usize>),
    /// The subschema, and its JSON for the message.
    Not(usize, Value),
    Ref(usize),
}

impl Check {
    /// `jsonschema`'s keyword priority (`keywords::keyword_priority`).
    fn priority(&self) -> u8 {
        match self {
            Check::Type(_) => 1,
            Check::Const(_) => 5,
            Check::Enum(..) => 6,
            Check::Minimum(_) => 10,
            Check::Maximum(_) => 11,
            Check::ExclusiveMinimum(_) => 12,
            Check::ExclusiveMaximum(_) => 13,
            Check::MinLength(_) => 20,
            Check::MaxLength(_) => 21,
            Check::MinItems(_) => 22,
            Check::MaxItems(_) => 23,
            Check::Required(..) => 26,
            Check::Format(_) => 31,
            Check::UniqueItems => 35,
            Check::Object { .. } => 40,
            Check::Array { .. } => 44,
            Check::AllOf(_) => 50,
            Check::AnyOf(_) => 51,
            Check::OneOf(_) => 52,
            Check::Not(..) => 53,
            Check::Ref(_) => 70,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Additional {
    Any,
    None,
    Schema(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Date,
    DateTime,
    Time,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Date => "date",
            Format::DateTime => "date-time",
            Format::Time => "time",
        }
    }

    fn accepts(self, s: &str) -> bool {
        match self {
            Format::Date => rfc3339::is_full_date(s),
            Format::DateTime => rfc3339::is_date_time(s),
            Format::Time => rfc3339::is_full_time(s),
        }
    }
}

/// A set of JSON types, in `jsonschema`'s order (null, boolean, integer, number, string,
/// array, object), which is the order its messages list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Types(u8);

const TYPE_NAMES: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];
const NULL: u8 = 1;
const BOOLEAN: u8 = 1 << 1;
const INTEGER: u8 = 1 << 2;
const NUMBER: u8 = 1 << 3;
const STRING: u8 = 1 << 4;
const ARRAY: u8 = 1 << 5;
const OBJECT: u8 = 1 << 6;
const ANY: u8 = (1 << 7) - 1;

impl Types {
    fn parse(name: &str) -> Option<u8> {
        TYPE_NAMES.iter().position(|n| *n == name).map(|i| 1 << i)
    }

    /// Draft 2020-12: a number with a zero fractional part (`1.0`) is an integer.
    fn accepts<'a>(self, v: impl Instance<'a>) -> bool {
        let bit = match v.kind() {
            Kind::Null => NULL,
            Kind::Bool(_) => BOOLEAN,
            Kind::Number(n) => {
                if self.0 & NUMBER != 0 {
                    return true;
                }
                return self.0 & INTEGER != 0 && is_integer(n);
            }
            Kind::String(_) => STRING,
            Kind::Array => ARRAY,
            Kind::Object => OBJECT,
        };
        self.0 & bit != 0
    }

    fn names(self) -> impl Iterator<Item = &'static str> {
        TYPE_NAMES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
    }
}

fn is_integer(n: &Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

// --- compiling --------------------------------------------------------------------------

impl Validator {
    /// Compiles `schema` (draft 2020-12; a `$schema` naming another draft is refused).
    pub fn new(schema: &Value) -> Result<Validator, CompileError> {
        let mut c = Compiler {
            root: schema,
            nodes: Vec::new(),
            at: HashMap::new(),
        };
        let root = c.node(schema, String::new())?;
        let mut nodes = c.nodes;
        // Once every node is final: a property whose schema is only a `type` is checked in
        // the object's loop, without loading its node.
        let bare: Vec<Option<Types>> = nodes
            .iter()
            .map(|n| match &n.kind {
                NodeKind::Keywords(k) if k.len() == n.skip => Some(n.types),
                _ => None,
            })
            .collect();
        for n in &mut nodes {
            let NodeKind::Keywords(k) = &mut n.kind else {
                continue;
            };
            for k in k {
                if let Check::Object { properties, .. } = &mut k.check {
                    for e in &mut properties.entries {
                        e.bare = bare[e.value >> 1];
                    }
                }
            }
        }
        Ok(Validator { nodes, root })
    }
}

struct Compiler<'s> {
    root: &'s Value,
    nodes: Vec<Node>,
    /// Node index by JSON pointer, so a `$ref` and its target share one node (and a
    /// recursive schema is a cycle of indexes).
    at: HashMap<String, usize>,
}

fn err(pointer: &str, message: impl Into<String>) -> CompileError {
    CompileError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// `/`-joins an escaped JSON pointer token.
fn join(base: &str, token: &str) -> String {
    let mut s = String::with_capacity(base.len() + token.len() + 1);
    s.push_str(base);
    s.push('/');
    escape_into(&mut s, token);
    s
}

fn escape_into(out: &mut String, token: &str) {
    for ch in token.chars() {
        match ch {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

impl Compiler<'_> {
    fn node(&mut self, schema: &Value, loc: String) -> Result<usize, CompileError> {
        if let Some(&i) = self.at.get(&loc) {
            return Ok(i);
        }
        let index = self.nodes.len();
        self.nodes.push(Node {
            loc: loc.clone().into(),
            kind: NodeKind::True,
            types: Types(ANY),
            skip: 0,
        });
        self.at.insert(loc.clone(), index);
        let kind = match schema {
            Value::Bool(true) => NodeKind::True,
            Value::Bool(false) => NodeKind::False,
            Value::Object(obj) => self.keywords(obj, &loc)?,
            _ => return Err(err(&loc, "a schema is an object or a boolean")),
        };
        if let NodeKind::Keywords(k) = &kind
            && let Some(Keyword {
                check: Check::Type(t),
                ..
            }) = k.first()
        {
            self.nodes[index].types = *t;
            self.nodes[index].skip = 1;
        }
        self.nodes[index].kind = kind;
        Ok(index)
    }

    fn keywords(&mut self, obj: &Map<String, Value>, loc: &str) -> Result<NodeKind, CompileError> {
        let mut checks: Vec<Keyword> = Vec::new();
        let push = |checks: &mut Vec<Keyword>, kw: &str, check: Check| {
            checks.push(Keyword {
                loc: join(loc, kw).into(),
                check,
            });
        };
        for (kw, value) in obj {
            let at = join(loc, kw);
            match kw.as_str() {
                "$schema" => {
                    let uri = value.as_str().unwrap_or_default();
                    if uri.trim_end_matches('#') != DRAFT_2020_12 {
                        return Err(err(
                            &at,
                            format!("only draft 2020-12 ({DRAFT_2020_12:?}) is supported"),
                        ));
                    }
                }
                "$id" if !loc.is_empty() => {
                    return Err(err(
                        &at,
                        "`$id` is supported on the root schema only (a nested `$id` would \
                         change what `#` refers to)",
                    ));
                }
                k if ANNOTATIONS.contains(&k) || k.starts_with("x-") => {}
                "$defs" => {
                    let defs = value
                        .as_object()
                        .ok_or_else(|| err(&at, "`$defs` is an object"))?;
                    for (name, def) in defs {
                        self.node(def, join(&at, name))?;
                    }
                }
                "type" => {
                    let mut set = 0;
                    let names: Vec<&Value> = match value {
                        Value::Array(a) => a.iter().collect(),
                        v => vec![v],
                    };
                    for n in names {
                        let bit = n.as_str().and_then(Types::parse).ok_or_else(|| {
                            err(
                                &at,
                                format!("{n} is not a type (one of {})", TYPE_NAMES.join(", ")),
                            )
                        })?;
                        set |= bit;
                    }
                    push(&mut checks, kw, Check::Type(Types(set)));
                }
                "const" => push(&mut checks, kw, Check::Const(value.clone())),
                "enum" => {
                    let values = value
                        .as_array()
                        .ok_or_else(|| err(&at, "`enum` is an array"))?;
                    // Strings and `null`: a table of the strings.
                    let strings: Option<Vec<(String, usize)>> = values
                        .iter()
                        .filter(|v| !v.is_null())
                        .map(|v| v.as_str().map(|s| (s.to_owned(), 0)))
                        .collect();
                    push(
                        &mut checks,
                        kw,
                        Check::Enum(values.clone(), strings.map(Names::new)),
                    );
                }
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    let n = match value {
                        Value::Number(n) => n.clone(),
                        _ => return Err(err(&at, format!("`{kw}` is a number"))),
                    };
                    let check = match kw.as_str() {
                        "minimum" => Check::Minimum(n),
                        "maximum" => Check::Maximum(n),
                        "exclusiveMinimum" => Check::ExclusiveMinimum(n),
                        _ => Check::ExclusiveMaximum(n),
                    };
                    push(&mut checks, kw, check);
                }
                "minLength" | "maxLength" | "minItems" | "maxItems" => {
                    let n = value
                        .as_u64()
                        .or_else(|| {
                            value
                                .as_f64()
                                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                                .map(|f| f as u64)
                        })
                        .ok_or_else(|| err(&at, format!("`{kw}` is a non-negative integer")))?;
                    let check = match kw.as_str() {
                        "minLength" => Check::MinLength(n),
                        "maxLength" => Check::MaxLength(n),
                        "minItems" => Check::MinItems(n),
                        _ => Check::MaxItems(n),
                    };
                    push(&mut checks, kw, check);
                }
                "uniqueItems" => match value {
                    Value::Bool(true) => push(&mut checks, kw, Check::UniqueItems),
                    Value::Bool(false) => {}
                    _ => return Err(err(&at, "`uniqueItems` is a boolean")),
                },
                "required" => {
                    let names = value
                        .as_array()
                        .and_then(|a| {
                            a.iter()
                                .map(|n| n.as_str().map(str::to_owned))
                                .collect::<Option<Vec<String>>>()
                        })
                        .ok_or_else(|| err(&at, "`required` is an array of strings"))?;
                    if !names.is_empty() {
                        push(&mut checks, kw, Check::Required(names, false));
                    }
                }
                "format" => {
                    let format = match value.as_str() {
                        Some("date-time") => Format::DateTime,
                        Some("date") => Format::Date,
                        Some("time") => Format::Time,
                        _ => {
                            return Err(err(
                                &at,
                                format!(
                                    "format {value} is not supported (supported: {})",
                                    FORMATS.join(", ")
                                ),
                            ));
                        }
                    };
                    push(&mut checks, kw, Check::Format(format));
                }
                // Compiled together below.
                "properties" | "additionalProperties" | "items" | "prefixItems" => {}
                "allOf" | "anyOf" | "oneOf" => {
                    let branches = value
                        .as_array()
                        .filter(|a| !a.is_empty())
                        .ok_or_else(|| err(&at, format!("`{kw}` is a non-empty array")))?;
                    let mut nodes = Vec::with_capacity(branches.len());
                    for (i, b) in branches.iter().enumerate() {
                        nodes.push(self.node(b, join(&at, &i.to_string()))?);
                    }
                    let check = match kw.as_str() {
                        "allOf" => Check::AllOf(nodes),
                        "anyOf" => Check::AnyOf(nodes),
                        _ => Check::OneOf(nodes),
                    };
                    push(&mut checks, kw, check);
                }
                "not" => {
                    let n = self.node(value, at)?;
                    push(&mut checks, kw, Check::Not(n, value.clone()));
                }
                "$ref" => {
                    let n = self.reference(value, &at)?;
                    push(&mut checks, kw, Check::Ref(n));
                }
                "pattern" | "patternProperties" => {
                    return Err(err(
                        &at,
                        format!(
                            "`{kw}` is not supported: it needs a regular expression engine, \
                             which glmock does not carry (supported: {})",
                            SUPPORTED.join(", ")
                        ),
                    ));
                }
                other => {
                    return Err(err(
                        &at,
                        format!(
                            "unsupported keyword {other:?} (supported: {}; annotations: {}, x-*)",
                            SUPPORTED.join(", "),
                            ANNOTATIONS.join(", ")
                        ),
                    ));
                }
            }
        }
        if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
            let object = self.object(obj, loc)?;
            if let Check::Object { required, .. } = object.check
                && required > 0
            {
                for k in &mut checks {
                    if let Check::Required(_, fused) = &mut k.check {
                        *fused = true;
                    }
                }
            }
            checks.push(object);
        }
        if obj.contains_key("items") || obj.contains_key("prefixItems") {
            checks.push(self.array(obj, loc)?);
        }
        if checks.is_empty() {
            return Ok(NodeKind::True);
        }
        checks.sort_by_key(|k| k.check.priority());
        Ok(NodeKind::Keywords(checks))
    }

    fn object(&mut self, obj: &Map<String, Value>, loc: &str) -> Result<Keyword, CompileError> {
        let mut properties = Vec::new();
        let props_at = join(loc, "properties");
        if let Some(props) = obj.get("properties") {
            let props = props
                .as_object()
                .ok_or_else(|| err(&props_at, "`properties` is an object"))?;
            for (name, schema) in props {
                properties.push((name.clone(), self.node(schema, join(&props_at, name))?));
            }
        }
        // `required` is counted by the walk when all its names are properties.
        let mut names: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        names.sort_unstable();
        names.dedup();
        let fused =
            !names.is_empty() && names.iter().all(|n| properties.iter().any(|(p, _)| p == n));
        let properties = Names::new(
            properties
                .into_iter()
                .map(|(p, n)| {
                    let req = usize::from(fused && names.contains(&p.as_str()));
                    (p, n << 1 | req)
                })
                .collect(),
        );
        let required = if fused { names.len() } else { 0 };
        let additional_at = join(loc, "additionalProperties");
        let additional = match obj.get("additionalProperties") {
            None | Some(Value::Bool(true)) => Additional::Any,
            Some(Value::Bool(false)) => Additional::None,
            Some(schema) => Additional::Schema(self.node(schema, additional_at.clone())?),
        };
        Ok(Keyword {
            loc: if obj.contains_key("properties") {
                props_at.into()
            } else {
                additional_at.clone().into()
            },
            check: Check::Object {
                properties,
                required,
                additional,
                additional_loc: additional_at.into(),
            },
        })
    }

    fn array(&mut self, obj: &Map<String, Value>, loc: &str) -> Result<Keyword, CompileError> {
        let mut prefix = Vec::new();
        let prefix_at = join(loc, "prefixItems");
        if let Some(p) = obj.get("prefixItems") {
            let p = p
                .as_array()
                .ok_or_else(|| err(&prefix_at, "`prefixItems` is an array of schemas"))?;
            for (i, s) in p.iter().enumerate() {
                prefix.push(self.node(s, join(&prefix_at, &i.to_string()))?);
            }
        }
        let items_at = join(loc, "items");
        let items = match obj.get("items") {
            None => None,
            Some(Value::Array(_)) => {
                return Err(err(
                    &items_at,
                    "`items` is one schema in draft 2020-12 (a list of schemas is `prefixItems`)",
                ));
            }
            Some(s) => Some(self.node(s, items_at.clone())?),
        };
        Ok(Keyword {
            loc: if obj.contains_key("items") {
                items_at.into()
            } else {
                prefix_at.into()
            },
            check: Check::Array { prefix, items },
        })
    }

    /// A local reference (`#` or `#/json/pointer`), compiled at its target's location.
    fn reference(&mut self, value: &Value, at: &str) -> Result<usize, CompileError> {
        let r = value
            .as_str()
            .ok_or_else(|| err(at, "`$ref` is a string"))?;
        let Some(pointer) = r.strip_prefix('#') else {
            return Err(err(
                at,
                format!("{r:?}: only local references (`#/$defs/…`) are supported"),
            ));
        };
        if !(pointer.is_empty() || pointer.starts_with('/')) || pointer.contains('%') {
            return Err(err(
                at,
                format!("{r:?}: only JSON pointer fragments without %-escapes are supported"),
            ));
        }
        let root = self.root;
        let target = root
            .pointer(pointer)
            .ok_or_else(|| err(at, format!("{r:?} points at nothing in this schema")))?;
        // The canonical location: the pointer as the tokens it names, escaped again.
        let mut loc = String::new();
        for token in pointer.split('/').skip(1) {
            loc.push('/');
            escape_into(&mut loc, &token.replace("~1", "/").replace("~0", "~"));
        }
        self.node(target, loc)
    }
}

// --- validating -------------------------------------------------------------------------

/// One step of the instance path, kept as a borrowed stack while validating and written
/// out only when an error is found.
#[derive(Clone, Copy)]
enum Seg<'v> {
    Key(&'v str),
    Index(usize),
}

fn pointer(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for seg in path {
        s.push('/');
        match seg {
            Seg::Key(k) => escape_into(&mut s, k),
            Seg::Index(i) => {
                let _ = write!(s, "{i}");
            }
        }
    }
    s
}

impl Validator {
    /// Whether `instance` is valid; allocates nothing.
    pub fn is_valid<'a>(&self, instance: impl Instance<'a>) -> bool {
        self.valid(self.root, instance, 0)
    }

    /// Whether a serialized instance is valid, read without building a `Value` (see
    /// `super::doc`); `None` when that reader refuses the text, which `Value` then has to
    /// read.
    pub fn is_valid_json(&self, text: &[u8]) -> Option<bool> {
        super::doc::with_parsed(text, |root| self.is_valid(root))
    }

    /// Every violation, in the order `jsonschema` reports them as far as practical.
    pub fn errors<'v>(&self, instance: &'v Value) -> Vec<ValidationError<'v>> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.collect(self.root, instance, &mut path, 0, &mut out);
        out
    }

    fn valid<'a, I: Instance<'a>>(&self, node: usize, v: I, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let n = &self.nodes[node];
        let keywords = match &n.kind {
            NodeKind::True => return true,
            NodeKind::False => return false,
            NodeKind::Keywords(k) => k,
        };
        n.types.accepts(v)
            && keywords[n.skip..]
                .iter()
                .all(|k| self.keyword_valid(k, v, depth))
    }

    fn keyword_valid<'a, I: Instance<'a>>(&self, k: &Keyword, v: I, depth: usize) -> bool {
        let d = depth + 1;
        match &k.check {
            Check::Object {
                properties,
                additional,
                required,
                ..
            } => {
                let Kind::Object = v.kind() else { return true };
                if v.size() < *required {
                    return false;
                }
                let mut found = 0;
                let all = v
                    .entries()
                    .all(|(name, value)| match properties.entry(name) {
                        Some(e) => {
                            found += e.value & 1;
                            match e.bare {
                                Some(t) if d <= MAX_DEPTH => t.accepts(value),
                                _ => self.valid(e.value >> 1, value, d),
                            }
                        }
                        None => match additional {
                            Additional::Any => true,
                            Additional::None => false,
                            Additional::Schema(n) => self.valid(*n, value, d),
                        },
                    });
                all && found == *required
            }
            Check::Array { prefix, items } => {
                v.items().enumerate().all(|(i, item)| match prefix.get(i) {
                    Some(n) => self.valid(*n, item, d),
                    None => items.is_none_or(|n| self.valid(n, item, d)),
                })
            }
            Check::AllOf(nodes) => nodes.iter().all(|n| self.valid(*n, v, d)),
            Check::AnyOf(nodes) => nodes.iter().any(|n| self.valid(*n, v, d)),
            Check::OneOf(nodes) => {
                nodes
                    .iter()
                    .filter(|n| self.valid(**n, v, d))
                    .take(2)
                    .count()
                    == 1
            }
            Check::Not(n, _) => !self.valid(*n, v, d),
            Check::Ref(n) => self.valid(*n, v, d),
            leaf => leaf_valid(leaf, v),
        }
    }

    fn collect<'v>(
        &self,
        node: usize,
        v: &'v Value,
        path: &mut Vec<Seg<'v>>,
        depth: usize,
        out: &mut Vec<ValidationError<'v>>,
    ) {
        let n = &self.nodes[node];
        if depth > MAX_DEPTH {
            out.push(ValidationError {
                instance_path: pointer(path),
                schema_path: n.loc.to_string(),
                instance: v,
                message: format!(
                    "the schema nests deeper than {MAX_DEPTH} levels here (a `$ref` cycle?)"
                ),
            });
            return;
        }
        let keywords = match &n.kind {
            NodeKind::True => return,
            NodeKind::False => {
                out.push(ValidationError {
                    instance_path: pointer(path),
                    schema_path: n.loc.to_string(),
                    instance: v,
                    message: format!("False schema does not allow {v}"),
                });
                return;
            }
            NodeKind::Keywords(k) => k,
        };
        let d = depth + 1;
        for k in keywords {
            let error = |message: String| ValidationError {
                instance_path: pointer(path),
                schema_path: k.loc.to_string(),
                instance: v,
                message,
            };
            match &k.check {
                Check::Object {
                    properties,
                    additional,
                    additional_loc,
                    ..
                } => {
                    let Value::Object(obj) = v else { continue };
                    let mut unexpected: Vec<&str> = Vec::new();
                    for (name, value) in obj {
                        let node = match properties.get(name) {
                            Some(n) => n >> 1,
                            None => match additional {
                                Additional::Any => continue,
                                Additional::None => {
                                    unexpected.push(name);
                                    continue;
                                }
                                Additional::Schema(n) => *n,
                            },
                        };
                        path.push(Seg::Key(name));
                        self.collect(node, value, path, d, out);
                        path.pop();
                    }
                    if !unexpected.is_empty() {
                        let mut message = String::from("Additional properties are not allowed (");
                        for (i, name) in unexpected.iter().enumerate() {
                            if i > 0 {
                                message.push_str(", ");
                            }
                            let _ = write!(message, "'{name}'");
                        }
                        message.push_str(if unexpected.len() == 1 {
                            " was unexpected)"
                        } else {
                            " were unexpected)"
                        });
                        out.push(ValidationError {
                            instance_path: pointer(path),
                            schema_path: additional_loc.to_string(),
                            instance: v,
                            message,
                        });
                    }
                }
                Check::Array { prefix, items } => {
                    let Value::Array(a) = v else { continue };
                    for (i, item) in a.iter().enumerate() {
                        let node = match prefix.get(i) {
                            Some(n) => *n,
                            None => match items {
                                Some(n) => *n,
                                None => break,
                            },
                        };
                        path.push(Seg::Index(i));
                        self.collect(node, item, path, d, out);
                        path.pop();
                    }
                }
                Check::AllOf(nodes) => {
                    for n in nodes {
                        self.collect(*n, v, path, d, out);
                    }
                }
                Check::AnyOf(nodes) => {
                    if !nodes.iter().any(|n| self.valid(*n, v, d)) {
                        out.push(error(format!(
                            "{v} is not valid under any of the schemas listed in the 'anyOf' keyword"
                        )));
                    }
                }
                Check::OneOf(nodes) => {
                    match nodes.iter().filter(|n| self.valid(**n, v, d)).take(2).count() {
                        1 => {}
                        0 => out.push(error(format!(
                            "{v} is not valid under any of the schemas listed in the 'oneOf' keyword"
                        ))),
                        _ => out.push(error(format!(
                            "{v} is valid under more than one of the schemas listed in the 'oneOf' keyword"
                        ))),
                    }
                }
                Check::Not(n, schema) => {
                    if self.valid(*n, v, d) {
                        out.push(error(format!("{schema} is not allowed for {v}")));
                    }
                }
                Check::Required(names, fused) => {
                    let Value::Object(obj) = v else { continue };
                    // Fused: count the required keys through the sibling's table (no SipHash
                    // per name); only a shortfall looks each name up to report it.
                    if *fused
                        && let Some((table, wanted)) =
                            keywords.iter().find_map(|k| match &k.check {
                                Check::Object {
                                    properties,
                                    required,
                                    ..
                                } => Some((properties, *required)),
                                _ => None,
                            })
                        && obj
                            .keys()
                            .filter(|key| table.get(key).is_some_and(|n| n & 1 == 1))
                            .count()
                            == wanted
                    {
                        continue;
                    }
                    for name in names.iter().filter(|n| !obj.contains_key(*n)) {
                        out.push(error(format!(
                            "{} is a required property",
                            Value::from(name.as_str())
                        )));
                    }
                }
                Check::Ref(n) => self.collect(*n, v, path, d, out),
                leaf => {
                    if !leaf_valid(leaf, v) {
                        out.push(error(leaf_message(leaf, v)));
                    }
                }
            }
        }
    }
}

/// Names to numbers (property name → node, enum string → 0): an open-addressing table
/// keyed by a name's length and two words that, for names of up to 16 bytes (nearly all),
/// hold every byte, so a lookup compares three integers and never calls `memcmp`.
#[derive(Debug, Clone)]
struct Names {
    /// Index into `entries` + 1; 0 is empty. A power of two at least twice the entries.
    slots: Box<[u32]>,
    entries: Box<[Entry]>,
    /// 64 − log2(slots): the shift that leaves a slot number.
    shift: u32,
}

#[derive(Debug, Clone)]
struct Entry {
    key: Key,
    /// Compared only for names longer than 16 bytes, whose key leaves out the middle.
    name: Box<str>,
    value: usize,
    /// A property's types when its schema is nothing else (set once compiled).
    bare: Option<Types>,
}

/// A name's length and its first and last eight bytes (overlapping, or packed for names
/// shorter than eight): equal keys mean equal names up to 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    len: usize,
    head: u64,
    tail: u64,
}

impl Key {
    /// Unaligned word reads, no copy into a buffer: one load per word in the common case.
    #[inline]
    fn of(s: &str) -> Key {
        let b = s.as_bytes();
        let n = b.len();
        let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
        let half = |at: usize| {
            u64::from(u32::from_le_bytes(
                b[at..at + 4].try_into().unwrap_or([0; 4]),
            ))
        };
        let (head, tail) = match n {
            8.. => (word(0), word(n - 8)),
            4..=7 => (half(0) | half(n - 4) << 32, 0),
            1..=3 => (
                u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16,
                0,
            ),
            0 => (0, 0),
        };
        Key { len: n, head, tail }
    }

    /// One multiplication mixes the words; the slot is its top bits (Fibonacci hashing),
    /// which depend on every input bit, so names alike in their first bytes do not collide.
    #[inline]
    fn slot(self, shift: u32) -> usize {
        let h = (self.head ^ self.tail.rotate_left(29) ^ (self.len as u64))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> shift) as usize
    }
}

impl Names {
    fn new(names: Vec<(String, usize)>) -> Names {
        let size = (names.len() * 2).next_power_of_two().max(4);
        let shift = 64 - size.trailing_zeros();
        let mut slots = vec![0u32; size].into_boxed_slice();
        let mut entries: Vec<Entry> = Vec::with_capacity(names.len());
        for (name, value) in names {
            let key = Key::of(&name);
            let mut i = key.slot(shift);
            loop {
                match slots[i] {
                    0 => {
                        entries.push(Entry {
                            key,
                            name: name.into(),
                            value,
                            bare: None,
                        });
                        slots[i] = u32::try_from(entries.len()).expect("fewer than 2^32 names");
                        break;
                    }
                    e if &*entries[e as usize - 1].name == name.as_str() => break,
                    _ => i = (i + 1) & (size - 1),
                }
            }
        }
        Names {
            slots,
            entries: entries.into_boxed_slice(),
            shift,
        }
    }

    #[inline]
    fn get(&self, name: &str) -> Option<usize> {
        self.entry(name).map(|e| e.value)
    }

    #[inline]
    fn entry(&self, name: &str) -> Option<&Entry> {
        if self.entries.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let key = Key::of(name);
        let mut i = key.slot(self.shift);
        loop {
            match self.slots[i] {
                0 => return None,
                e => {
                    let entry = &self.entries[e as usize - 1];
                    if entry.key == key && (key.len <= 16 || &*entry.name == name) {
                        return Some(entry);
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }
}

#[inline]
fn leaf_valid<'a>(check: &Check, v: impl Instance<'a>) -> bool {
    let text = || match v.kind() {
        Kind::String(s) => Some(s),
        _ => None,
    };
    let items = || matches!(v.kind(), Kind::Array).then(|| v.size() as u64);
    match check {
        Check::Type(t) => t.accepts(v),
        Check::Const(c) => equal(c, v),
        Check::Enum(options, strings) => match (strings, v.kind()) {
            (Some(table), Kind::String(s)) => table.get(s).is_some(),
            (Some(_), Kind::Null) => options.iter().any(Value::is_null),
            (Some(_), _) => false,
            (None, _) => options.iter().any(|o| equal(o, v)),
        },
        Check::Minimum(l) => number_cmp(v, l).is_none_or(|o| o != Ordering::Less),
        Check::Maximum(l) => number_cmp(v, l).is_none_or(|o| o != Ordering::Greater),
        Check::ExclusiveMinimum(l) => number_cmp(v, l).is_none_or(|o| o == Ordering::Greater),
        Check::ExclusiveMaximum(l) => number_cmp(v, l).is_none_or(|o| o == Ordering::Less),
        Check::MinLength(l) => text().is_none_or(|s| s.chars().count() as u64 >= *l),
        Check::MaxLength(l) => text().is_none_or(|s| s.chars().count() as u64 <= *l),
        Check::MinItems(l) => items().is_none_or(|n| n >= *l),
        Check::MaxItems(l) => items().is_none_or(|n| n <= *l),
        Check::Required(_, true) => true,
        Check::Required(names, false) => {
            !matches!(v.kind(), Kind::Object) || names.iter().all(|n| v.get(n).is_some())
        }
        Check::Format(f) => text().is_none_or(|s| f.accepts(s)),
        Check::UniqueItems => v
            .items()
            .enumerate()
            .all(|(i, x)| v.items().skip(i + 1).all(|y| !equal(x, y))),
        _ => true,
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The message `jsonschema` prints for a failed assertion (`error.rs`, `Display`).
fn leaf_message(check: &Check, v: &Value) -> String {
    match check {
        Check::Type(t) if t.0.count_ones() == 1 => {
            format!("{v} is not of type \"{}\"", t.names().next().unwrap_or(""))
        }
        Check::Type(t) => {
            let list: Vec<String> = t.names().map(|n| format!("\"{n}\"")).collect();
            format!("{v} is not of types {}", list.join(", "))
        }
        Check::Const(c) => format!("{c} was expected"),
        Check::Enum(options, _) => {
            let mut m = format!("{v} is not one of ");
            let n = options.len();
            if n <= 3 {
                for (i, o) in options.iter().enumerate() {
                    let sep = match i {
                        0 => "",
                        _ if i == n - 1 => " or ",
                        _ => ", ",
                    };
                    let _ = write!(m, "{sep}{o}");
                }
            } else {
                for (i, o) in options.iter().take(2).enumerate() {
                    let _ = write!(m, "{}{o}", if i == 0 { "" } else { ", " });
                }
                let _ = write!(m, " or {} other candidates", n - 2);
            }
            m
        }
        Check::Minimum(l) => format!("{v} is less than the minimum of {l}"),
        Check::Maximum(l) => format!("{v} is greater than the maximum of {l}"),
        Check::ExclusiveMinimum(l) => format!("{v} is less than or equal to the minimum of {l}"),
        Check::ExclusiveMaximum(l) => {
            format!("{v} is greater than or equal to the maximum of {l}")
        }
        Check::MinLength(l) => format!(
            "{v} is shorter than {}",
            plural(*l, "character", "characters")
        ),
        Check::MaxLength(l) => format!(
            "{v} is longer than {}",
            plural(*l, "character", "characters")
        ),
        Check::MinItems(l) => format!("{v} has less than {}", plural(*l, "item", "items")),
        Check::MaxItems(l) => format!("{v} has more than {}", plural(*l, "item", "items")),
        Check::Format(f) => format!("{v} is not a \"{}\"", f.name()),
        Check::UniqueItems => format!("{v} has non-unique elements"),
        _ => String::new(),
    }
}

/// `instance` against a numeric limit; `None` when the instance is not a number.
fn number_cmp<'a>(v: impl Instance<'a>, limit: &Number) -> Option<Ordering> {
    let Kind::Number(n) = v.kind() else {
        return None;
    };
    Some(cmp_numbers(n, limit))
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

fn cmp_numbers(a: &Number, b: &Number) -> Ordering {
    match (as_i128(a), as_i128(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let x = a.as_f64().unwrap_or(f64::NAN);
            let y = b.as_f64().unwrap_or(f64::NAN);
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

/// JSON Schema equality: numbers by value (`1` equals `1.0`), objects regardless of order.
pub fn equal<'a, 'b>(a: impl Instance<'a>, b: impl Instance<'b>) -> bool {
    match (a.kind(), b.kind()) {
        (Kind::Number(x), Kind::Number(y)) => cmp_numbers(x, y) == Ordering::Equal,
        (Kind::Array, Kind::Array) => {
            a.size() == b.size() && a.items().zip(b.items()).all(|(p, q)| equal(p, q))
        }
        (Kind::Object, Kind::Object) => {
            a.size() == b.size()
                && a.entries()
                    .all(|(k, p)| b.get(k).is_some_and(|q| equal(p, q)))
        }
        (Kind::Null, Kind::Null) => true,
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::String(x), Kind::String(y)) => x == y,
        _ => false,
    }
}

/// RFC 3339 `date-time`, `full-date` and `full-time` as JSON Schema draft 2020-12 reads
/// them (section 7.3.1): `T`/`t` and `Z`/`z`, any number of fraction digits, days checked
/// against the month (leap years included), and a leap second only where it is 23:59:60
/// in UTC.
pub mod rfc3339 {
    fn digits(b: &[u8]) -> Option<u32> {
        let mut n = 0;
        for &c in b {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
        }
        Some(n)
    }

    fn is_leap_year(y: u32) -> bool {
        (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
    }

    /// `YYYY-MM-DD`.
    pub fn is_full_date(s: &str) -> bool {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return false;
        }
        let (Some(y), Some(m), Some(d)) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..]))
        else {
            return false;
        };
        let last = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if is_leap_year(y) => 29,
            2 => 28,
            _ => return false,
        };
        (1..=last).contains(&d)
    }

    /// `HH:MM:SS[.frac](Z|±HH:MM)`.
    pub fn is_full_time(s: &str) -> bool {
        let b = s.as_bytes();
        if b.len() < 9 || b[2] != b':' || b[5] != b':' {
            return false;
        }
        let (Some(h), Some(m), Some(sec)) = (digits(&b[..2]), digits(&b[3..5]), digits(&b[6..8]))
        else {
            return false;
        };
        if h > 23 || m > 59 || sec > 60 {
            return false;
        }
        let mut i = 8;
        if b[i] == b'.' {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return false;
            }
        }
        // Minutes east of UTC.
        let offset: i32 = match b.get(i..) {
            Some([b'Z' | b'z']) => 0,
            Some([sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2]) => {
                let (Some(oh), Some(om)) = (digits(&[*oh1, *oh2]), digits(&[*om1, *om2])) else {
                    return false;
                };
                if oh > 23 || om > 59 {
                    return false;
                }
                let minutes = (oh * 60 + om) as i32;
                if *sign == b'+' { minutes } else { -minutes }
            }
            _ => return false,
        };
        if sec == 60 {
            // A leap second is the last second of a UTC day.
            let utc = ((h * 60 + m) as i32 - offset).rem_euclid(24 * 60);
            return utc == 23 * 60 + 59;
        }
        true
    }

    /// `full-date "T" full-time`.
    pub fn is_date_time(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() > 11
            && matches!(b[10], b'T' | b't')
            && s.is_char_boundary(10)
            && is_full_date(&s[..10])
            && is_full_time(&s[11..])
    }
}

#[cfg(test)]
mod tests;

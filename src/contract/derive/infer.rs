//! Merging examples into a schema. The rules, all from what the examples show and nothing
//! else:
//! - a property present in every example object is `required`;
//! - `null` seen makes a value nullable (`"type": [..., "null"]`);
//! - integers and floats together are `number`; integers alone `integer`;
//! - objects merge property by property, arrays merge all their items into one `items`;
//! - a string is `format: date-time` only when every string seen there is an RFC 3339
//!   timestamp;
//! - every object is closed (`additionalProperties: false`): the entities are complete in
//!   GitLab's entity classes, so an extra or misspelt key in a response is a finding. The
//!   overlay reopens the free-form objects.
//!
//! Enumerations never come from here: a value list comes from the overlay's documented
//! lists, so an example that happens to show only `failed` does not make `failed` the only
//! status.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// Marks a value the cleaning step rejected: the key stays (so presence still counts for
/// `required`) but the value says nothing about the type.
pub(crate) const REJECTED: &str = "\u{0}glmock:rejected";

/// Where a nested value is an entity of its own: `(path within the sample) → definition`.
pub(crate) type Nested<'a> = &'a dyn Fn(&str) -> Option<&'a str>;

/// The schema of the values `samples` (all seen at one place), with nested entities
/// replaced by `$ref`s to their definitions.
pub(crate) fn merge(samples: &[&Value], path: &str, nested: Nested<'_>) -> Value {
    let samples: Vec<&Value> = samples
        .iter()
        .copied()
        .filter(|v| v.as_str() != Some(REJECTED))
        .collect();
    let mut types = BTreeSet::new();
    let mut ints = false;
    let mut floats = false;
    let mut strings = Vec::new();
    let mut objects = Vec::new();
    let mut arrays = Vec::new();
    for v in &samples {
        match v {
            Value::Null => {
                types.insert("null");
            }
            Value::Bool(_) => {
                types.insert("boolean");
            }
            Value::Number(n) => {
                if n.is_f64() {
                    floats = true;
                } else {
                    ints = true;
                }
            }
            Value::String(s) => {
                types.insert("string");
                strings.push(s.as_str());
            }
            Value::Array(a) => {
                types.insert("array");
                arrays.push(a);
            }
            Value::Object(o) => {
                types.insert("object");
                objects.push(o);
            }
        }
    }
    if floats {
        types.insert("number");
    } else if ints {
        types.insert("integer");
    }

    let mut schema = Map::new();
    if types.is_empty() {
        // Nothing usable was seen (every value was rejected): say nothing.
        return Value::Object(schema);
    }
    let list: Vec<Value> = types.iter().map(|t| json!(t)).collect();
    schema.insert(
        "type".into(),
        if list.len() == 1 {
            list[0].clone()
        } else {
            Value::Array(list)
        },
    );
    if !strings.is_empty() && strings.iter().all(|s| is_date_time(s)) {
        schema.insert("format".into(), json!("date-time"));
    }
    if !objects.is_empty() {
        merge_objects(&mut schema, &objects, path, nested);
    }
    if !arrays.is_empty() {
        let items: Vec<&Value> = arrays.iter().flat_map(|a| a.iter()).collect();
        let item_path = format!("{path}[]");
        if let Some(def) = nested(&item_path) {
            schema.insert(
                "items".into(),
                reference(def, items.iter().any(|v| v.is_null())),
            );
        } else if !items.is_empty() {
            schema.insert("items".into(), merge(&items, &item_path, nested));
        }
    }
    Value::Object(schema)
}

fn merge_objects(
    schema: &mut Map<String, Value>,
    objects: &[&Map<String, Value>],
    path: &str,
    nested: Nested<'_>,
) {
    let mut seen: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for o in objects {
        for (k, v) in o.iter() {
            seen.entry(k.as_str()).or_default().push(v);
        }
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (key, values) in &seen {
        if values.len() == objects.len() {
            required.push(json!(key));
        }
        let child = if path.is_empty() {
            (*key).to_string()
        } else {
            format!("{path}.{key}")
        };
        let prop = match nested(&child) {
            Some(def) => reference(def, values.iter().any(|v| v.is_null())),
            None => merge(values, &child, nested),
        };
        properties.insert((*key).to_string(), prop);
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
}

/// `{"$ref": …}`, or `anyOf` with `null` when the value was also seen as `null`.
pub(crate) fn reference(def: &str, nullable: bool) -> Value {
    let r = json!({ "$ref": format!("#/$defs/{def}") });
    if nullable {
        json!({ "anyOf": [r, { "type": "null" }] })
    } else {
        r
    }
}

/// An RFC 3339 timestamp (`2015-12-24T15:51:21.880Z`, `2015-12-24T16:51:14.000+01:00`),
/// the form JSON Schema's `date-time` format accepts, that is also a real instant.
pub(crate) fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let offset_ok = match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    };
    offset_ok && s.parse::<jiff::Timestamp>().is_ok()
}

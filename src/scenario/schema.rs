//! The scenario format's JSON Schema, generated from the field tables of `format.rs`:
//! `glmock scenario-schema` prints it and `schemas/scenario.schema.json` is its committed
//! copy for editors (a test fails when the copy is stale; `GLMOCK_BLESS=1` rewrites it).

use serde_json::{Map, Value, json};

use super::format::{DEFS, Def, Object, SCENARIO, Shape};

/// The definitions of the fault rule format, kept beside its serde types.
const FAULT_DEFS: &str = include_str!("../faults/schema.json");

/// The schema as a JSON value.
pub fn generate() -> Value {
    let mut defs = Map::new();
    for def in DEFS {
        let (name, schema) = match def {
            Def::Object(o) => (o.name, object(o)),
            Def::Shape {
                name,
                shape: s,
                description,
            } => (*name, described(shape(s, false), description)),
        };
        defs.insert(name.to_owned(), schema);
    }
    let faults: Map<String, Value> =
        serde_json::from_str(FAULT_DEFS).expect("src/faults/schema.json is a JSON object");
    defs.extend(faults);

    let mut root = Map::new();
    root.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    root.insert(
        "$id".into(),
        "https://glmock.dev/scenario.schema.json".into(),
    );
    root.insert("title".into(), "glmock scenario".into());
    let mut top = object(&SCENARIO);
    // An empty file (or one with only comments) is an empty scenario.
    top["type"] = json!(["object", "null"]);
    root.extend(top.as_object().cloned().unwrap_or_default());
    root.insert("$defs".into(), Value::Object(defs));
    Value::Object(root)
}

/// The schema as the text of `schemas/scenario.schema.json`.
pub fn text() -> String {
    let mut s = serde_json::to_string_pretty(&generate()).expect("a JSON value serializes");
    s.push('\n');
    s
}

/// A mapping: `additionalProperties: false`, so an unknown key is an error, as in `Obj`.
fn object(o: &Object) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), "object".into());
    if !o.description.is_empty() {
        m.insert("description".into(), o.description.into());
    }
    let required: Vec<&str> = o
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    if !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    let properties: Map<String, Value> = o
        .fields
        .iter()
        .map(|f| {
            (
                f.name.to_owned(),
                described(shape(&f.shape, !f.required), f.description),
            )
        })
        .collect();
    m.insert("properties".into(), Value::Object(properties));
    m.insert("additionalProperties".into(), false.into());
    if !o.rules.is_empty() {
        let rules: Map<String, Value> = serde_json::from_str(o.rules)
            .unwrap_or_else(|e| panic!("the rules of {:?} are not a JSON object: {e}", o.name));
        m.extend(rules);
    }
    Value::Object(m)
}

fn described(mut v: Value, description: &str) -> Value {
    if !description.is_empty() {
        v["description"] = description.into();
    }
    v
}

/// `type`, with `null` added for an optional field.
fn types(names: &[&str], nullable: bool) -> Value {
    let mut names: Vec<&str> = names.to_vec();
    if nullable {
        names.push("null");
    }
    match names.as_slice() {
        [one] => (*one).into(),
        _ => json!(names),
    }
}

fn shape(s: &Shape, nullable: bool) -> Value {
    let typed = |names: &[&str]| json!({ "type": types(names, nullable) });
    match s {
        Shape::Text => typed(&["string", "integer", "boolean"]),
        Shape::Str => typed(&["string"]),
        Shape::Pattern(p) => json!({ "type": types(&["string"], nullable), "pattern": p }),
        Shape::Bool => typed(&["boolean"]),
        Shape::Number => typed(&["number"]),
        Shape::Seconds => json!({ "type": types(&["number"], nullable), "minimum": 0 }),
        Shape::Id => {
            json!({ "type": types(&["integer"], nullable), "minimum": 1, "maximum": i64::MAX })
        }
        Shape::Count => json!({ "type": types(&["integer"], nullable), "minimum": 0 }),
        Shape::Int { min, max } => {
            json!({ "type": types(&["integer"], nullable), "minimum": min, "maximum": max })
        }
        Shape::Timestamp => json!({ "type": types(&["string"], nullable), "format": "date-time" }),
        Shape::Word(words) => {
            let mut values = json!(words);
            if nullable {
                values.as_array_mut().expect("an array").push(Value::Null);
            }
            json!({ "type": types(&["string"], nullable), "enum": values })
        }
        Shape::Ref(name) => {
            let r = json!({ "$ref": format!("#/$defs/{name}") });
            if nullable {
                json!({ "anyOf": [r, { "type": "null" }] })
            } else {
                r
            }
        }
        Shape::List(item, description) => json!({
            "type": types(&["array"], nullable),
            "items": described(shape(item, false), description),
        }),
        Shape::Map(value, description) => json!({
            "type": types(&["object"], nullable),
            "additionalProperties": described(shape(value, false), description),
        }),
        Shape::Mapping => typed(&["object"]),
        Shape::Any => json!({}),
        Shape::Null => json!({ "type": "null" }),
        // Absent (`null`) is all an optional refused key may be.
        Shape::Refused if nullable => json!({ "type": "null" }),
        Shape::Refused => json!({ "not": {} }),
        Shape::Inline(o) => object(o),
        Shape::OneOf(forms) => {
            let mut alternatives: Vec<Value> = forms
                .iter()
                .map(|(s, description)| described(shape(s, false), description))
                .collect();
            if nullable {
                alternatives.push(json!({ "type": "null" }));
            }
            json!({ "oneOf": alternatives })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|c| collect_refs(c, out));
            }
            Value::Array(items) => items.iter().for_each(|c| collect_refs(c, out)),
            _ => {}
        }
    }

    #[test]
    fn every_ref_names_a_definition() {
        let schema = generate();
        let mut refs = Vec::new();
        collect_refs(&schema, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r.strip_prefix("#/$defs/").expect("a local $defs reference");
            assert!(schema["$defs"].get(name).is_some(), "{r} is not defined");
        }
    }

    fn tables(shape: &Shape, out: &mut Vec<&'static Object>) {
        match shape {
            Shape::Inline(o) => out.push(o),
            Shape::List(s, _) | Shape::Map(s, _) => tables(s, out),
            Shape::OneOf(forms) => forms.iter().for_each(|(s, _)| tables(s, out)),
            _ => {}
        }
    }

    #[test]
    fn every_table_names_each_field_once() {
        let mut all: Vec<&'static Object> = vec![&SCENARIO];
        for def in DEFS {
            match def {
                Def::Object(o) => all.push(o),
                Def::Shape { shape, .. } => tables(shape, &mut all),
            }
        }
        let mut i = 0;
        while i < all.len() {
            let o = all[i];
            o.fields.iter().for_each(|f| tables(&f.shape, &mut all));
            let mut names: Vec<&str> = o.fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(names.len(), before, "{:?} names a field twice", o.name);
            i += 1;
        }
    }
}

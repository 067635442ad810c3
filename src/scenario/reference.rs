//! The scenario field reference in the README, rendered from the scenario JSON Schema
//! (`schemas/scenario.schema.json`, generated from the decoder's field tables by
//! `schema.rs`), so the README cannot drift from the schema (a test compares them), nor the
//! schema from the decoder.

use serde_json::Value;

/// Where the generated reference sits in `README.md`.
pub const BEGIN: &str =
    "<!-- scenario-reference: generated from schemas/scenario.schema.json; do not edit -->";
pub const END: &str = "<!-- end of scenario-reference -->";

/// Markdown tables, one per object of the schema: field, type, required, description.
pub fn markdown(schema: &Value) -> String {
    let mut out = String::new();
    out.push_str(BEGIN);
    out.push('\n');
    object(&mut out, "scenario (top level)", schema);
    if let Some(defs) = schema["$defs"].as_object() {
        for (name, def) in defs {
            if def.get("properties").is_some() {
                object(&mut out, name, def);
            } else if let Some(alternatives) = def["oneOf"].as_array() {
                // A short form or a mapping (token): the mapping's fields, after the summary.
                if let Some(mapping) = alternatives.iter().find(|a| a.get("properties").is_some()) {
                    object(&mut out, name, &with_description(mapping, def));
                }
            } else {
                out.push_str(&format!("\n**{name}**: {} — {}\n", kind(def), text(def)));
            }
        }
    }
    out.push_str(END);
    out
}

fn with_description(mapping: &Value, outer: &Value) -> Value {
    let mut m = mapping.clone();
    m["description"] = outer["description"].clone();
    m
}

fn object(out: &mut String, name: &str, def: &Value) {
    out.push_str(&format!("\n**{name}**: {}\n\n", text(def)));
    out.push_str("| field | type | description |\n| --- | --- | --- |\n");
    let required: Vec<&str> = def["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = def["properties"].as_object() {
        for (field, p) in props {
            let req = if required.contains(&field.as_str()) {
                " (required)"
            } else {
                ""
            };
            out.push_str(&format!(
                "| `{field}`{req} | {} | {} |\n",
                kind(p),
                text(p).replace('|', "\\|")
            ));
        }
    }
}

fn text(v: &Value) -> String {
    v["description"].as_str().unwrap_or("").replace('\n', " ")
}

/// A short name for a schema fragment's type.
fn kind(v: &Value) -> String {
    if let Some(r) = v["$ref"].as_str() {
        return format!("[{}]", r.trim_start_matches("#/$defs/"));
    }
    if let Some(words) = v["enum"].as_array() {
        let words: Vec<String> = words
            .iter()
            .filter_map(Value::as_str)
            .map(|w| format!("`{w}`"))
            .collect();
        return format!("one of {}", words.join(", "));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = v[key].as_array() {
            let kinds: Vec<String> = alts
                .iter()
                .filter(|a| a["type"] != "null")
                .map(kind)
                .collect();
            return kinds.join(" or ");
        }
    }
    if v["type"] == "null" || v.get("not").is_some_and(|n| n == &serde_json::json!({})) {
        return "not accepted".into();
    }
    let types: Vec<&str> = match &v["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    match types.as_slice() {
        ["array"] => format!("list of {}", kind(&v["items"])),
        ["object"] => match v.get("additionalProperties") {
            Some(inner @ Value::Object(_)) => format!("map of name → {}", kind(inner)),
            _ => "mapping".into(),
        },
        ["string", "integer", "boolean"] => "text".into(),
        ["string"] if v["format"] == "date-time" => "timestamp".into(),
        ["integer"] if v.get("minimum").is_some_and(|m| m == 1) => "id".into(),
        [] => "any".into(),
        ts => ts.join(" or "),
    }
}

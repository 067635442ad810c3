//! The overlay (`schemas/overlay.json`): the documented value lists, the values the docs show
//! but GitLab never returns, and the corrections applied after inference where the docs are
//! wrong or silent (docs/gitlab-notes.md §5 and §6). Each entry carries its
//! reason, and the reason is copied into the generated schema as `$comment`.
//!
//! Shape of the file (all sections optional):
//!
//! ```text
//! { "value_lists": { NAME: [values…] },
//!   "defs": { DEF: { "$comment": …, "include": [DEF…], "additionalProperties": bool,
//!                    "reject":     { PATH: reason },   // dropped from examples before inference
//!                    "enum":       { PATH: NAME },     // value list; other values are dropped
//!                    "properties": { PATH: schema },   // JSON merge patch (RFC 7386), or added
//!                    "nullable":   { PATH: reason },
//!                    "required":   { PATH: reason },
//!                    "optional":   { PATH: reason },
//!                    "since":      { PATH: version },  // x-since: required from this version
//!                    "until":      { PATH: version } } },  // x-until: gone from this version
//!   "shapes": { SHAPE: schema } }   // shapes with no documented example (error bodies)
//! ```
//!
//! PATH is a property of the definition, `a.b` a property of an inline object, `a[]` the
//! items of an array.

use serde_json::{Map, Value, json};

use super::infer::REJECTED;
use super::{Note, NoteKind};

/// The overlay sections that apply to one definition: those it `include`s (in order,
/// recursively), then its own.
pub(crate) fn sections<'a>(overlay: &'a Value, def: &str) -> Vec<&'a Map<String, Value>> {
    fn walk<'a>(
        overlay: &'a Value,
        def: &str,
        depth: usize,
        out: &mut Vec<&'a Map<String, Value>>,
    ) {
        let Some(own) = overlay
            .get("defs")
            .and_then(|d| d.get(def))
            .and_then(Value::as_object)
        else {
            return;
        };
        if depth < 8 {
            for inc in own
                .get("include")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = inc.as_str() {
                    walk(overlay, name, depth + 1, out);
                }
            }
        }
        out.push(own);
    }
    let mut out = Vec::new();
    walk(overlay, def, 0, &mut out);
    out
}

fn entries<'a>(sections: &[&'a Map<String, Value>], key: &str) -> Vec<(&'a str, &'a Value)> {
    sections
        .iter()
        .filter_map(|s| s.get(key).and_then(Value::as_object))
        .flat_map(|m| {
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.as_str(), v))
        })
        .collect()
}

/// A documented value list by name.
fn value_list<'a>(overlay: &'a Value, name: &str) -> Option<&'a Vec<Value>> {
    overlay.get("value_lists")?.get(name)?.as_array()
}

fn reason(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Drops from one example of `def` what the overlay says GitLab never returns, and replaces
/// values outside a documented value list with the rejected marker.
pub(crate) fn clean(
    overlay: &Value,
    def: &str,
    sample: &mut Value,
    source: &str,
    notes: &mut Vec<Note>,
) {
    let section = sections(overlay, def);
    for (path, why) in entries(&section, "reject") {
        let (parent, key) = split_last(path);
        for obj in objects_at(sample, parent) {
            if obj.remove(key).is_some() {
                notes.push(Note::at(
                    source,
                    NoteKind::KnownWrong,
                    format!(
                        "{def}.{path}: dropped, GitLab never returns it ({})",
                        reason(why)
                    ),
                ));
            }
        }
    }
    for (path, list_name) in entries(&section, "enum") {
        let Some(list) = list_name.as_str().and_then(|n| value_list(overlay, n)) else {
            notes.push(Note::at(
                "overlay.json",
                NoteKind::Overlay,
                format!("{def}.{path}: value list {list_name} is not defined in value_lists"),
            ));
            continue;
        };
        let (parent, key) = split_last(path);
        for obj in objects_at(sample, parent) {
            let Some(v) = obj.get_mut(key) else { continue };
            if v.is_null() || list.contains(v) {
                continue;
            }
            notes.push(Note::at(
                source,
                NoteKind::KnownWrong,
                format!(
                    "{def}.{path}: {v} is not a documented value ({}); ignored",
                    list_name.as_str().unwrap_or_default()
                ),
            ));
            *v = json!(REJECTED);
        }
    }
}

/// `a.b[].c` → (`a.b[]`, `c`).
fn split_last(path: &str) -> (&str, &str) {
    match path.rsplit_once('.') {
        Some((parent, key)) => (parent, key),
        None => ("", path),
    }
}

/// The objects found at `path` inside `value` (`""`: the value itself).
fn objects_at<'a>(value: &'a mut Value, path: &str) -> Vec<&'a mut Map<String, Value>> {
    let mut current: Vec<&'a mut Value> = vec![value];
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (name, items) = match seg.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (seg, false),
        };
        let mut next = Vec::new();
        for v in current {
            let Some(child) = v.as_object_mut().and_then(|o| o.get_mut(name)) else {
                continue;
            };
            if items {
                if let Value::Array(a) = child {
                    next.extend(a.iter_mut());
                }
            } else {
                next.push(child);
            }
        }
        current = next;
    }
    current
        .into_iter()
        .filter_map(Value::as_object_mut)
        .collect()
}

/// Applies the corrections of `def`'s overlay section to its inferred schema.
pub(crate) fn apply(overlay: &Value, def: &str, schema: &mut Value, notes: &mut Vec<Note>) {
    let section = sections(overlay, def);
    let mut missing = |what: &str, path: &str| {
        notes.push(Note::at(
            "overlay.json",
            NoteKind::Overlay,
            format!("{def}.{path}: {what}, but the schema has no such property"),
        ));
    };

    for (path, patch) in entries(&section, "properties") {
        let (parent, key) = split_last(path);
        let Some(obj) = object_schema(schema, parent) else {
            missing("properties", path);
            continue;
        };
        let props = obj
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(props) = props.as_object_mut() else {
            continue;
        };
        match props.get_mut(key) {
            Some(existing) => merge_patch(existing, patch),
            None => {
                let mut fresh = Value::Object(Map::new());
                merge_patch(&mut fresh, patch);
                props.insert(key.to_string(), fresh);
            }
        }
    }
    for (path, why) in entries(&section, "nullable") {
        match property(schema, path) {
            Some(p) => {
                make_nullable(p);
                add_comment(p, &reason(why));
            }
            None => missing("nullable", path),
        }
    }
    for (path, list_name) in entries(&section, "enum") {
        let list = list_name
            .as_str()
            .and_then(|n| value_list(overlay, n))
            .cloned();
        match (property(schema, path), list) {
            (Some(p), Some(mut list)) => {
                if allows_null(p) {
                    list.push(Value::Null);
                }
                if let Some(o) = p.as_object_mut() {
                    o.insert("enum".into(), Value::Array(list));
                }
            }
            (None, _) => missing("enum", path),
            (Some(_), None) => {} // reported by clean()
        }
    }
    for (key, annotation) in [("since", "x-since"), ("until", "x-until")] {
        for (path, version) in entries(&section, key) {
            match property(schema, path).and_then(Value::as_object_mut) {
                Some(p) => {
                    p.insert(annotation.into(), version.clone());
                }
                None => missing(key, path),
            }
        }
    }
    for (path, why) in entries(&section, "required") {
        let (parent, key) = split_last(path);
        let present = property(schema, path).is_some();
        match object_schema(schema, parent) {
            Some(obj) if present => {
                let req = obj.entry("required").or_insert_with(|| json!([]));
                if let Some(req) = req.as_array_mut()
                    && !req.iter().any(|r| r == key)
                {
                    req.push(json!(key));
                    req.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
                if let Some(p) = property(schema, path) {
                    add_comment(p, &reason(why));
                }
            }
            _ => missing("required", path),
        }
    }
    for (path, why) in entries(&section, "optional") {
        let (parent, key) = split_last(path);
        match object_schema(schema, parent) {
            Some(obj) => {
                if let Some(req) = obj.get_mut("required").and_then(Value::as_array_mut) {
                    req.retain(|r| r != key);
                    if req.is_empty() {
                        obj.remove("required");
                    }
                }
                if let Some(p) = property(schema, path) {
                    add_comment(p, &reason(why));
                } else {
                    missing("optional", path);
                }
            }
            None => missing("optional", path),
        }
    }
    if let Some(obj) = schema.as_object_mut() {
        for sec in &section {
            if let Some(ap) = sec.get("additionalProperties") {
                obj.insert("additionalProperties".into(), ap.clone());
            }
        }
        // The definition's own comment, not those of what it includes.
        let own = overlay.get("defs").and_then(|d| d.get(def));
        if let Some(c) = own.and_then(|o| o.get("$comment")) {
            obj.insert("$comment".into(), c.clone());
        }
    }
}

/// RFC 7386: objects merge key by key, `null` deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return;
    };
    for (k, v) in patch {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// The object schema at `path` (`""`: the root), looking through `anyOf [X, null]` and
/// array `items`. Creates nothing.
fn object_schema<'a>(schema: &'a mut Value, path: &str) -> Option<&'a mut Map<String, Value>> {
    let mut current = schema;
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (name, items) = match seg.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (seg, false),
        };
        current = non_null_branch(current)
            .get_mut("properties")?
            .get_mut(name)?;
        if items {
            current = non_null_branch(current).get_mut("items")?;
        }
    }
    non_null_branch(current).as_object_mut()
}

/// The property schema at `path` (its last segment may end in `[]`: then the items).
fn property<'a>(schema: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let (parent, key) = split_last(path);
    let (name, items) = match key.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (key, false),
    };
    let prop = object_schema(schema, parent)?
        .get_mut("properties")?
        .get_mut(name)?;
    if items {
        non_null_branch(prop).get_mut("items")
    } else {
        Some(prop)
    }
}

/// For `{"anyOf": [X, {"type": "null"}]}`, X; otherwise the schema itself.
fn non_null_branch(schema: &mut Value) -> &mut Value {
    let idx = schema
        .get("anyOf")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().position(|s| s.get("type") != Some(&json!("null"))));
    match idx {
        Some(i) => &mut schema["anyOf"][i],
        None => schema,
    }
}

fn allows_null(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(a)) => a.iter().any(|t| t == "null"),
        _ => schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s.get("type") == Some(&json!("null")))),
    }
}

fn make_nullable(schema: &mut Value) {
    if allows_null(schema) {
        return;
    }
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(t) = obj.get_mut("type") {
        let mut list = match t.take() {
            Value::Array(a) => a,
            other => vec![other],
        };
        list.push(json!("null"));
        list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        *t = Value::Array(list);
        if let Some(Value::Array(values)) = obj.get_mut("enum") {
            values.push(Value::Null);
        }
    } else if let Some(Value::Array(any)) = obj.get_mut("anyOf") {
        any.push(json!({ "type": "null" }));
    } else if obj.contains_key("$ref") {
        let inner = Value::Object(std::mem::take(obj));
        obj.insert("anyOf".into(), json!([inner, { "type": "null" }]));
    }
}

fn add_comment(schema: &mut Value, why: &str) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let text = match obj.get("$comment").and_then(Value::as_str) {
        Some(old) if old.contains(why) => return,
        Some(old) => format!("{old} {why}"),
        None => why.to_string(),
    };
    obj.insert("$comment".into(), json!(text));
}

//! The recorded response against its documented schema: which endpoint a concrete path is
//! (`/api/v4/projects/g%2Fp/jobs/7` → `/projects/:id/jobs/:job_id`), which shape its body
//! has, and each violation as a `schema` mismatch pointing at the field concerned.

use serde_json::Value;

use super::diff::{Kind, Mismatch, Rules, Seg, path_text, pointer_segs};
use crate::contract::Contract;
use crate::contract::derive::{self, Endpoint};

/// The documented endpoint a concrete request path is (the most literal match wins, so
/// `pipelines/latest` is not `pipelines/:pipeline_id`).
pub fn endpoint_for(method: &str, path: &str) -> Option<&'static Endpoint> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let rel = path.strip_prefix("/api/v4")?;
    let segs: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET".to_owned()
    } else {
        method.to_ascii_uppercase()
    };
    derive::endpoints()
        .iter()
        .filter(|e| e.method == method)
        .filter_map(|e| {
            let doc: Vec<&str> = e.path.split('/').filter(|s| !s.is_empty()).collect();
            if doc.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (d, s) in doc.iter().zip(&segs) {
                if d.starts_with(':') {
                    continue;
                }
                if d != s {
                    return None;
                }
                literal += 1;
            }
            Some((literal, e))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, e)| e)
}

/// The shape a recorded JSON body should have: the endpoint's on its success status,
/// GitLab's error shapes on 4xx/5xx; `None` when no schema applies.
pub fn shape_for(method: &str, path: &str, status: u16, body: &Value) -> Option<&'static str> {
    let error_key = body.as_object().and_then(|o| {
        ["message", "error"]
            .into_iter()
            .find(|k| o.contains_key(*k))
    });
    let shape = crate::contract::shape_of(endpoint_for(method, path), status, error_key)?;
    // `play` on a bridge answers a bridge.
    if shape == "job" && body.get("downstream_pipeline").is_some() {
        return Some("bridge");
    }
    Some(shape)
}

/// How deep nested `anyOf`s are explained.
const MAX_DEPTH: usize = 4;

/// One violation, wherever it came from: the contract, or a re-check of one `anyOf` branch.
struct Found {
    /// JSON pointer into the value checked.
    pointer: String,
    /// JSON pointer into the schema used.
    schema_path: String,
    message: String,
    expected: Value,
    actual: Value,
}

/// Every violation of the recorded body, as `schema` mismatches, except under `--ignore`d
/// paths. Unexpected and missing required properties point at the property itself, also
/// inside nullable entities.
pub fn check(contract: &Contract, rules: &Rules, shape: &str, body: &Value) -> Vec<Mismatch> {
    // The compiled schema, to explain violations inside nullable entities
    // (`anyOf: [{$ref}, {type: null}]`), where the validator only says "not valid under any
    // of the schemas".
    let root = contract.schema(shape).cloned();
    let mut out = Vec::new();
    for v in contract.check(shape, body) {
        let found = Found {
            pointer: v.path,
            schema_path: v.schema,
            message: v.message,
            expected: v.expected,
            actual: v.actual,
        };
        explain(shape, root.as_ref(), found, body, &[], 0, &mut out);
    }
    out.retain(|m| {
        let segs = m.segs.as_slice();
        !(0..=segs.len()).any(|n| rules.is_ignored(&segs[..n]))
    });
    out.into_iter().map(|m| m.mismatch).collect()
}

struct Located {
    segs: Vec<Seg>,
    mismatch: Mismatch,
}

fn explain(
    shape: &str,
    schema: Option<&Value>,
    f: Found,
    checked: &Value,
    base: &[Seg],
    depth: usize,
    out: &mut Vec<Located>,
) {
    let mut at = base.to_vec();
    at.extend(pointer_segs(checked, &f.pointer));
    let keyword = f.schema_path.rsplit('/').next().unwrap_or("");
    let mut push = |segs: Vec<Seg>, expected: Value, actual: Option<Value>, message: &str| {
        out.push(Located {
            mismatch: Mismatch {
                path: path_text(&segs),
                expected: Some(expected),
                actual,
                kind: Kind::Schema,
                message: Some(format!("{shape}: {message}")),
            },
            segs,
        });
    };
    match (keyword, &f.actual) {
        ("additionalProperties", Value::Object(obj)) => {
            let listed = f.message.split_once('(').map_or("", |(_, l)| l);
            let unexpected: Vec<&String> = obj
                .keys()
                .filter(|k| listed.contains(&format!("'{k}'")))
                .collect();
            if unexpected.is_empty() {
                push(
                    at.clone(),
                    f.expected.clone(),
                    Some(f.actual.clone()),
                    &f.message,
                );
            }
            for k in unexpected {
                let mut segs = at.clone();
                segs.push(Seg::Key(k.clone()));
                push(
                    segs,
                    Value::String("not in the schema".into()),
                    obj.get(k).cloned(),
                    &format!("{k:?} is not in the schema"),
                );
            }
        }
        ("required", Value::Object(_)) => {
            let property = f
                .message
                .strip_suffix(" is a required property")
                .and_then(|p| serde_json::from_str::<String>(p).ok());
            match property {
                Some(p) => {
                    let mut segs = at;
                    segs.push(Seg::Key(p));
                    push(segs, Value::String("required".into()), None, &f.message);
                }
                None => push(at, f.expected, Some(f.actual), &f.message),
            }
        }
        ("anyOf", _) if depth < MAX_DEPTH => {
            let nested = schema.and_then(|root| {
                let branch = only_non_null_branch(resolve(root, &f.schema_path)?)?;
                let mut sub = serde_json::Map::new();
                if let Some(defs) = root.get("$defs") {
                    sub.insert("$defs".into(), defs.clone());
                }
                for (k, v) in branch.as_object()? {
                    sub.insert(k.clone(), v.clone());
                }
                let sub = Value::Object(sub);
                let found = violations(&sub, &f.actual)?;
                Some((sub, found))
            });
            match nested {
                Some((sub, found)) if !found.is_empty() => {
                    for inner in found {
                        explain(shape, Some(&sub), inner, &f.actual, &at, depth + 1, out);
                    }
                }
                _ => push(at, f.expected, Some(f.actual), &f.message),
            }
        }
        _ => push(at, f.expected, Some(f.actual), &f.message),
    }
}

/// The one branch of an `anyOf` that is not `{"type": "null"}`.
fn only_non_null_branch(any_of: &Value) -> Option<&Value> {
    let branches: Vec<&Value> = any_of
        .as_array()?
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
        .collect();
    match branches.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// The violations of `value` against `schema`; `None` when the schema does not compile.
fn violations(schema: &Value, value: &Value) -> Option<Vec<Found>> {
    let validator = crate::contract::validator::Validator::new(schema).ok()?;
    Some(
        validator
            .errors(value)
            .into_iter()
            .map(|e| Found {
                pointer: e.instance_path,
                expected: resolve(schema, &e.schema_path)
                    .cloned()
                    .unwrap_or(Value::Null),
                schema_path: e.schema_path,
                message: e.message,
                actual: e.instance.clone(),
            })
            .collect(),
    )
}

/// The schema node at a validator's schema path, following `$ref`s into `$defs`.
fn resolve<'a>(schema: &'a Value, schema_path: &str) -> Option<&'a Value> {
    let mut node = schema;
    for seg in schema_path.split('/').filter(|s| !s.is_empty()) {
        if seg == "$ref" {
            let target = node.get("$ref")?.as_str()?.strip_prefix('#')?;
            node = schema.pointer(target)?;
            continue;
        }
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(m) => m.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn concrete_paths_find_their_documented_endpoint() {
        let p = |m: &str, path: &str| endpoint_for(m, path).map(|e| e.path);
        assert_eq!(
            p("GET", "/api/v4/projects/g%2Fp/jobs/7"),
            Some("/projects/:id/jobs/:job_id")
        );
        assert_eq!(
            p("GET", "/api/v4/projects/1/pipelines/latest"),
            Some("/projects/:id/pipelines/latest")
        );
        assert_eq!(
            p("GET", "/api/v4/projects/1/pipelines/46"),
            Some("/projects/:id/pipelines/:pipeline_id")
        );
        assert_eq!(
            p("POST", "/api/v4/projects/1/jobs/7/retry"),
            Some("/projects/:id/jobs/:job_id/retry")
        );
        assert_eq!(p("GET", "/api/v4/user"), None);
        assert_eq!(p("GET", "/projects/1/jobs"), None);
    }

    #[test]
    fn shapes_follow_status_and_error_bodies() {
        let s = |m: &str, path: &str, status: u16, body: Value| shape_for(m, path, status, &body);
        assert_eq!(
            s("GET", "/api/v4/projects/1/jobs", 200, json!([])),
            Some("job_list")
        );
        assert_eq!(
            s("POST", "/api/v4/projects/1/jobs/1/retry", 200, json!({})),
            None
        );
        assert_eq!(
            s(
                "GET",
                "/api/v4/projects/1/jobs/9",
                404,
                json!({"message": "404 Job Not Found"})
            ),
            Some("error_message")
        );
        assert_eq!(
            s(
                "GET",
                "/api/v4/projects/1/jobs",
                400,
                json!({"error": "scope is invalid"})
            ),
            Some("error_error")
        );
        assert_eq!(
            s(
                "POST",
                "/api/v4/projects/1/jobs/1/play",
                200,
                json!({"downstream_pipeline": null})
            ),
            Some("bridge")
        );
    }
}

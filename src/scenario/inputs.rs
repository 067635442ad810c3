//! `spec: inputs` of CI definitions and their `$[[ inputs.name ]]` interpolation, as GitLab
//! does it when a pipeline is created:
//!
//! - declaring (`lib/gitlab/ci/config/header/input.rb`): `type` (string, the default, number,
//!   boolean, array), `default` (an input without one is required), `options` (string and
//!   number inputs), `description`; `regex` is refused at load (glmock has no regular
//!   expression engine);
//! - the values given on `POST /projects/:id/pipeline` (`lib/ci/pipeline_creation/inputs.rb`
//!   `parse_params`: a string that is JSON becomes its value, so form data
//!   `inputs[n]=3` is the number 3), checked as `lib/ci/pipeline_creation/inputs/*.rb` and
//!   `lib/gitlab/ci/config/interpolation/inputs.rb` check them, with their messages;
//! - interpolating (`lib/gitlab/ci/config/interpolation/template.rb`, `block.rb`,
//!   `access.rb`): a string that is exactly one `$[[ inputs.x ]]` becomes the typed value
//!   (a number, a boolean, a list), a block inside a longer string becomes its text. Keys
//!   are interpolated too. Interpolation functions (`| expand_vars` …) are refused at load.

use serde_json::Value as Json;

use super::decode::{self as d, Ctx, Obj};
use super::format;
use super::node::{Loc, Node, Value};

/// The input types of `Ci::PipelineCreation::Inputs::SpecInputs::TYPES`.
pub const INPUT_TYPES: &[&str] = &["array", "boolean", "number", "string"];

/// One declared input.
#[derive(Debug, Clone)]
pub struct InputDef {
    pub name: String,
    pub kind: String,
    pub default: Option<Json>,
    pub options: Option<Vec<Json>>,
    pub description: Option<String>,
}

/// `spec: {inputs: {name: {type, default, options, description}, …}}`.
pub fn read_spec(ctx: &mut Ctx, n: &Node, path: &str) -> Option<Vec<InputDef>> {
    let mut o = Obj::new(ctx, n, path, &format::CI_SPEC)?;
    let inputs = o.req(ctx, "inputs", |c, n, p| {
        // `name:` with nothing after it is a required string input.
        d::string_map(c, n, p, |c, n, p| match n.value {
            Value::Null => Some(None),
            _ => read_input(c, n, p).map(Some),
        })
    });
    o.finish(ctx);
    Some(
        inputs?
            .into_iter()
            .map(|(name, def, _)| {
                let mut def = def.unwrap_or(InputDef {
                    name: String::new(),
                    kind: "string".into(),
                    default: None,
                    options: None,
                    description: None,
                });
                def.name = name;
                def
            })
            .collect(),
    )
}

fn read_input(ctx: &mut Ctx, n: &Node, path: &str) -> Option<InputDef> {
    let mut o = Obj::new(ctx, n, path, &format::CI_INPUT)?;
    let kind = o.word(ctx, "type").unwrap_or_else(|| "string".into());
    let default = o.opt(ctx, "default", d::json);
    let default_loc = o.get("default").map(|n| n.loc);
    let options = o.opt(ctx, "options", |c, n, p| d::list_of(c, n, p, d::json));
    let options_loc = o.get("options").map(|n| n.loc);
    let description = o.opt(ctx, "description", d::string);
    if let Some(r) = o.get("regex") {
        ctx.error(
            r.loc,
            &d::join(path, "regex"),
            "regex is not supported: glmock has no regular expression engine (remove it, or \
             use options to list the allowed values)",
        );
    }
    o.finish(ctx);
    let def = InputDef {
        name: path.rsplit('.').next().unwrap_or(path).to_owned(),
        kind,
        default,
        options,
        description,
    };
    // GitLab reports these when a pipeline is created; a scenario can say them at once.
    if let Some(loc) = options_loc
        && def.kind != "string"
        && def.kind != "number"
    {
        ctx.error(
            loc,
            &d::join(path, "options"),
            "options can only be used with string and number inputs",
        );
    }
    if let (Some(loc), Some(default)) = (default_loc, &def.default)
        && let Err(e) = def.check(default, true)
    {
        ctx.error(loc, &d::join(path, "default"), e);
    }
    Some(def)
}

impl InputDef {
    /// `validate_type` and `validate_options` of the input's class, GitLab's messages.
    fn check(&self, value: &Json, default: bool) -> Result<(), String> {
        let which = if default { "default" } else { "provided" };
        let fail = |m: String| Err(format!("`{}` input: {m}", self.name));
        let type_ok = match self.kind.as_str() {
            "array" => value.is_array(),
            "boolean" => value.is_boolean(),
            "number" => value.is_number(),
            _ => value.is_string(),
        };
        if !type_ok {
            let article = if self.kind == "array" { "an" } else { "a" };
            return fail(format!("{which} value is not {article} {}", self.kind));
        }
        if let Some(options) = &self.options {
            match self.kind.as_str() {
                "string" => {
                    let v = value.as_str().unwrap_or_default();
                    if !options.iter().any(|o| text(o) == v) {
                        return fail(format!(
                            "`{v}` cannot be used because it is not in the list of allowed options"
                        ));
                    }
                }
                "number"
                    if !options
                        .iter()
                        .any(|o| o.as_f64().is_some() && o.as_f64() == value.as_f64()) =>
                {
                    return fail(format!(
                        "`{}` cannot be used because it is not in the list of the allowed options",
                        text(value)
                    ));
                }
                // Refused at load for the other types.
                _ => {}
            }
        }
        Ok(())
    }
}

/// `Ci::PipelineCreation::Inputs.parse_params`: a string value that parses as JSON becomes
/// that value (`"3"` → 3, `"true"` → true, `"[1]"` → [1]); other strings stay strings.
pub fn parse_param(value: Json) -> Json {
    match value {
        Json::String(s) => serde_json::from_str(&s).unwrap_or(Json::String(s)),
        other => other,
    }
}

/// The values to interpolate: each declared input's given value or default, checked as
/// `Gitlab::Ci::Config::Interpolation::Inputs` checks them. The error is GitLab's message
/// (at most three joined with `, `, as `Interpolator#error_message` joins them).
pub fn resolve(
    specs: &[InputDef],
    args: &serde_json::Map<String, Json>,
) -> Result<Vec<(String, Json)>, String> {
    let mut errors = Vec::new();
    let mut values = Vec::new();
    for spec in specs {
        let given = args.get(&spec.name).filter(|v| !v.is_null()).map(|v| {
            // StringInput#coerced_value: a string input given `42` (form data) is "42".
            match (spec.kind.as_str(), v) {
                ("string", Json::Number(_) | Json::Bool(_)) => Json::String(text(v)),
                _ => v.clone(),
            }
        });
        match (&given, &spec.default) {
            (None, None) => {
                errors.push(format!(
                    "`{}` input: required value has not been provided",
                    spec.name
                ));
                continue;
            }
            (Some(v), _) => {
                if let Err(e) = spec.check(v, false) {
                    errors.push(e);
                    continue;
                }
            }
            (None, Some(_)) => {}
        }
        let value = given.or_else(|| spec.default.clone()).unwrap_or(Json::Null);
        values.push((spec.name.clone(), value));
    }
    let unknown: Vec<&str> = args
        .keys()
        .filter(|k| !specs.iter().any(|s| &s.name == *k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        errors.insert(
            0,
            format!("unknown input arguments: {}", unknown.join(", ")),
        );
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors.into_iter().take(3).collect::<Vec<_>>().join(", "))
    }
}

/// The text a value takes inside a longer string.
fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// One `$[[ … ]]` block of a string: its byte range and the input it reads.
struct Block {
    start: usize,
    end: usize,
    input: Result<String, String>,
}

/// The blocks of `s`, each with the input name it reads or what is wrong with it.
fn blocks(s: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = s[from..].find("$[[") {
        let start = from + i;
        let Some(j) = s[start..].find("]]") else {
            break;
        };
        let end = start + j + 2;
        let inner = s[start + 3..end - 2].trim();
        let input = if inner.contains('|') {
            Err(format!(
                "interpolation functions are not supported by glmock ({inner:?}); write the value"
            ))
        } else {
            match inner.strip_prefix("inputs.") {
                Some(name) if !name.is_empty() && !name.contains('.') => Ok(name.to_owned()),
                _ => Err(format!(
                    "invalid interpolation block {inner:?} (write $[[ inputs.name ]])"
                )),
            }
        };
        out.push(Block { start, end, input });
        from = end;
    }
    out
}

/// Reports, located, every block in `n` that reads an undeclared input or is not a plain
/// `$[[ inputs.name ]]`; whether there was none.
pub fn check_references(ctx: &mut Ctx, n: &Node, path: &str, specs: &[InputDef]) -> bool {
    let before = ctx.errors.len();
    references_in(ctx, n, path, specs);
    ctx.errors.len() == before
}

fn references_in(ctx: &mut Ctx, n: &Node, path: &str, specs: &[InputDef]) {
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    match &n.value {
        Value::Str(s) => {
            for b in blocks(s) {
                match b.input {
                    Err(e) => ctx.error(n.loc, path, e),
                    Ok(name) if names.is_empty() => ctx.error(
                        n.loc,
                        path,
                        format!(
                            "$[[ inputs.{name} ]] reads an input, but the CI definition has no \
                             spec: inputs (declare {name} there)"
                        ),
                    ),
                    Ok(name) if !names.contains(&name.as_str()) => ctx.error(
                        n.loc,
                        path,
                        format!(
                            "unknown interpolation key: `{name}`{} (declared inputs: {})",
                            d::did_you_mean(&name, &names),
                            names.join(", ")
                        ),
                    ),
                    Ok(_) => {}
                }
            }
        }
        Value::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                references_in(ctx, it, &format!("{path}[{i}]"), specs);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let key = match &k.value {
                    Value::Str(s) => s.clone(),
                    _ => String::new(),
                };
                references_in(ctx, k, path, specs);
                references_in(ctx, v, &d::join(path, &key), specs);
            }
        }
        _ => {}
    }
}

/// The inputs `n` reads, in order, each once.
pub fn references(n: &Node) -> Vec<String> {
    fn walk(n: &Node, out: &mut Vec<String>) {
        match &n.value {
            Value::Str(s) => {
                for b in blocks(s) {
                    if let Ok(name) = b.input
                        && !out.contains(&name)
                    {
                        out.push(name);
                    }
                }
            }
            Value::Seq(items) => items.iter().for_each(|it| walk(it, out)),
            Value::Map(entries) => entries.iter().for_each(|(k, v)| {
                walk(k, out);
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(n, &mut out);
    out
}

/// `n` with every block replaced by its input's value (references were checked at load).
pub fn interpolate(n: &Node, values: &[(String, Json)]) -> Node {
    let value_of = |name: &str| {
        values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Json::Null)
    };
    let value = match &n.value {
        Value::Str(s) => {
            let bs = blocks(s);
            match bs.as_slice() {
                [] => return n.clone(),
                [b] if b.start == 0 && b.end == s.len() => {
                    let v = b.input.as_deref().map(value_of).unwrap_or(Json::Null);
                    return to_node(&v, n.loc);
                }
                _ => {
                    let mut out = String::new();
                    let mut at = 0;
                    for b in &bs {
                        out.push_str(&s[at..b.start]);
                        if let Ok(name) = &b.input {
                            out.push_str(&text(&value_of(name)));
                        }
                        at = b.end;
                    }
                    out.push_str(&s[at..]);
                    Value::Str(out)
                }
            }
        }
        Value::Seq(items) => Value::Seq(items.iter().map(|it| interpolate(it, values)).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (interpolate(k, values), interpolate(v, values)))
                .collect(),
        ),
        other => other.clone(),
    };
    Node { value, loc: n.loc }
}

/// A JSON value as a YAML node at `loc`.
fn to_node(v: &Json, loc: Loc) -> Node {
    let value = match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i.into()),
            None => Value::Float(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::Seq(items.iter().map(|it| to_node(it, loc)).collect()),
        Json::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (to_node(&Json::String(k.clone()), loc), to_node(v, loc)))
                .collect(),
        ),
    };
    Node { value, loc }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str, kind: &str, default: Option<Json>, options: Option<Vec<Json>>) -> InputDef {
        InputDef {
            name: name.into(),
            kind: kind.into(),
            default,
            options,
            description: None,
        }
    }

    #[test]
    fn resolve_reports_gitlabs_messages() {
        let specs = [
            spec("stage", "string", None, None),
            spec(
                "n",
                "number",
                Some(json!(2)),
                Some(vec![json!(2), json!(3)]),
            ),
            spec("flag", "boolean", Some(json!(false)), None),
            spec("list", "array", Some(json!([])), None),
            spec(
                "env",
                "string",
                Some(json!("a")),
                Some(vec![json!("a"), json!("b")]),
            ),
        ];
        let args = |v: Json| v.as_object().cloned().expect("object");
        assert_eq!(
            resolve(&specs, &args(json!({}))).unwrap_err(),
            "`stage` input: required value has not been provided"
        );
        assert_eq!(
            resolve(&specs, &args(json!({"stage": "x", "n": 4}))).unwrap_err(),
            "`n` input: `4` cannot be used because it is not in the list of the allowed options"
        );
        assert_eq!(
            resolve(&specs, &args(json!({"stage": "x", "env": "c"}))).unwrap_err(),
            "`env` input: `c` cannot be used because it is not in the list of allowed options"
        );
        assert_eq!(
            resolve(
                &specs,
                &args(json!({"stage": "x", "flag": "yes", "list": 1, "what": 1}))
            )
            .unwrap_err(),
            "unknown input arguments: what, `flag` input: provided value is not a boolean, \
             `list` input: provided value is not an array"
        );
        let ok = resolve(&specs, &args(json!({"stage": 7, "n": 3}))).expect("valid");
        assert_eq!(ok[0], ("stage".into(), json!("7")));
        assert_eq!(ok[1], ("n".into(), json!(3)));
        assert_eq!(ok[2], ("flag".into(), json!(false)));
    }

    #[test]
    fn parse_param_reads_json_strings() {
        assert_eq!(parse_param(json!("3")), json!(3));
        assert_eq!(parse_param(json!("true")), json!(true));
        assert_eq!(parse_param(json!("[\"a\"]")), json!(["a"]));
        assert_eq!(parse_param(json!("blue-green")), json!("blue-green"));
    }

    #[test]
    fn whole_blocks_keep_their_type_and_partial_ones_become_text() {
        let values = vec![("n".to_owned(), json!(3)), ("p".to_owned(), json!("my"))];
        let s = |t: &str| Node {
            value: Value::Str(t.into()),
            loc: Loc::default(),
        };
        assert!(matches!(
            interpolate(&s("$[[ inputs.n ]]"), &values).value,
            Value::Int(3)
        ));
        match interpolate(&s("$[[ inputs.p ]]-build $[[inputs.n]]"), &values).value {
            Value::Str(t) => assert_eq!(t, "my-build 3"),
            other => panic!("{other:?}"),
        }
    }
}

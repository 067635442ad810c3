//! glmock's own JSON Schema validator (`src/contract/validator.rs`) against the `jsonschema`
//! crate it replaced: mutated bodies (rendered by the server, and GitLab's documented
//! examples in schemas/examples/) checked against every embedded schema at several GitLab
//! versions must get the same verdict and the same errors. And a `--schemas` directory
//! with a keyword outside the subset is refused by the binary, naming the file, the
//! keyword's JSON pointer and what is supported.

use std::collections::BTreeMap;

use glmock::__internal::contract::validator::Validator;
use glmock::__internal::contract::{Contract, Mode};
use glmock::__internal::version::{NEWEST, OLDEST, Version};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::support::*;

/// Bodies the server renders from the default scenario, and the documented examples.
async fn bodies() -> Vec<Value> {
    let s = TestServer::default_scenario().await;
    let mut out = Vec::new();
    for path in [
        "/projects/1/jobs?per_page=20",
        "/projects/1/pipelines?per_page=100",
        "/projects/1/jobs/1",
        "/projects/1/pipelines/1",
        "/projects/1/pipelines/1/bridges",
        "/projects/1/pipelines/1/variables",
        "/projects/1/pipelines/1/test_report",
        "/projects/1/pipelines/1/test_report_summary",
        "/projects/1/jobs/999999",
        "/projects/1/jobs?scope=nonsense",
    ] {
        let r = s.get(path, Some(ROOT)).await;
        assert!(r.status < 500, "{path}: {} {}", r.status, r.text);
        out.push(r.json());
    }
    let examples = fixture("schemas/examples");
    for entry in std::fs::read_dir(examples).unwrap() {
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for e in file["examples"].as_array().unwrap() {
            out.push(e["body"].clone());
        }
    }
    assert!(out.len() > 25, "{} bodies", out.len());
    out
}

/// Both validators of every embedded shape at one version.
struct Pair {
    label: String,
    ours: Validator,
    theirs: jsonschema::Validator,
}

fn pairs() -> Vec<Pair> {
    let shapes = [
        "allowed_agents",
        "bridge",
        "bridge_list",
        "error_error",
        "error_message",
        "job",
        "job_list",
        "pipeline",
        "pipeline_list",
        "pipeline_variables",
        "test_report",
        "test_report_summary",
    ];
    let mut out = Vec::new();
    for version in [
        OLDEST,
        Version(15, 0),
        Version(16, 5),
        Version(17, 11),
        NEWEST,
    ] {
        let contract = Contract::load(None, version, Mode::Strict).unwrap();
        for shape in shapes {
            let schema = contract.schema(shape).unwrap();
            out.push(Pair {
                label: format!("{shape}@{}.{}", version.0, version.1),
                ours: Validator::new(schema).unwrap(),
                theirs: jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(schema)
                    .unwrap(),
            });
        }
    }
    out
}

/// `(instance path, schema path, message)`, sorted: the two may order them differently.
type Errors = Vec<(String, String, String)>;

fn ours(v: &Validator, body: &Value) -> Errors {
    let mut e: Errors = v
        .errors(body)
        .into_iter()
        .map(|e| (e.instance_path, e.schema_path, e.message))
        .collect();
    e.sort();
    e
}

fn theirs(v: &jsonschema::Validator, body: &Value) -> Errors {
    let mut e: Errors = v
        .iter_errors(body)
        .map(|e| {
            (
                e.instance_path().to_string(),
                e.schema_path().to_string(),
                e.to_string(),
            )
        })
        .collect();
    e.sort();
    e
}

/// The pointers of every value inside `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Values a mutation puts somewhere: every JSON type, numbers that are and are not
/// integers, enum values of the schemas, date-times valid and not (leap years, leap seconds).
fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        Just(json!(0)),
        Just(json!(-7)),
        Just(json!(1.0)),
        Just(json!(2.5)),
        Just(json!(18446744073709551615_u64)),
        Just(json!("")),
        Just(json!("success")),
        Just(json!("manual")),
        Just(json!("bogus")),
        Just(json!("push")),
        Just(json!("2024-02-29T12:00:00.000Z")),
        Just(json!("2023-02-29T12:00:00Z")),
        Just(json!("2016-12-31T23:59:60Z")),
        Just(json!("2016-12-31T23:59:60+01:00")),
        Just(json!("2016-12-31t15:59:60-08:00")),
        Just(json!("2016-12-31 12:00:00Z")),
        Just(json!("2016-12-31T12:00:00")),
        Just(json!([])),
        Just(json!([1, "a"])),
        Just(json!({})),
        Just(json!({"id": 1})),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value at the `n`-th pointer (modulo their count).
    Replace(usize, Value),
    /// Remove the key or element at the `n`-th pointer.
    Remove(usize),
    /// Add a key to the `n`-th object.
    Add(usize, String, Value),
    /// Replace the `n`-th date-time of the body with another, valid or not.
    Retime(usize, String),
}

/// RFC 3339 edge cases: leap years, leap seconds (only at 23:59:60 UTC), offsets,
/// fractions, case, and what ISO 8601 allows but RFC 3339 does not.
fn date_time() -> impl Strategy<Value = String> {
    let dates = prop_oneof![
        Just("2024-02-29"),
        Just("2023-02-29"),
        Just("1900-02-29"),
        Just("2000-02-29"),
        Just("2021-04-31"),
        Just("2021-12-31"),
        Just("2021-13-01"),
        Just("2021-00-10"),
    ];
    let times = prop_oneof![
        Just("23:59:60Z"),
        Just("23:59:60z"),
        Just("22:59:60Z"),
        Just("23:59:60+01:00"),
        Just("15:59:60-08:00"),
        Just("00:29:60+00:30"),
        Just("12:00:00.123456789+14:00"),
        Just("12:00:00.Z"),
        Just("12:00:00"),
        Just("24:00:00Z"),
        Just("12:60:00Z"),
        Just("12:00:00+24:00"),
        Just("12:00:00+0100"),
    ];
    (dates, prop_oneof![Just("T"), Just("t"), Just(" ")], times)
        .prop_map(|(d, sep, t)| format!("{d}{sep}{t}"))
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), replacement()).prop_map(|(n, v)| Mutation::Replace(n, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        3 => (any::<usize>(), date_time()).prop_map(|(n, d)| Mutation::Retime(n, d)),
        1 => (any::<usize>(), prop_oneof![Just("extra".to_owned()), Just("a/b~c".to_owned()), Just("id".to_owned())], replacement())
            .prop_map(|(n, k, v)| Mutation::Add(n, k, v)),
    ]
}

fn apply(body: &mut Value, m: &Mutation) {
    let mut all = Vec::new();
    pointers(body, String::new(), &mut all);
    let pick = |n: usize| all[n % all.len()].clone();
    match m {
        Mutation::Replace(n, v) => {
            if let Some(slot) = body.pointer_mut(&pick(*n)) {
                *slot = v.clone();
            }
        }
        Mutation::Remove(n) => {
            let p = pick(*n);
            let Some((parent, last)) = p.rsplit_once('/') else {
                return;
            };
            let key = last.replace("~1", "/").replace("~0", "~");
            match body.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.shift_remove(&key);
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = key.parse::<usize>()
                        && i < a.len()
                    {
                        a.remove(i);
                    }
                }
                _ => {}
            }
        }
        Mutation::Add(n, k, v) => {
            if let Some(Value::Object(m)) = body.pointer_mut(&pick(*n)) {
                m.insert(k.clone(), v.clone());
            }
        }
        Mutation::Retime(n, d) => {
            let times: Vec<&String> = all
                .iter()
                .filter(|p| {
                    body.pointer(p)
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.len() > 10 && s.as_bytes()[4] == b'-')
                })
                .collect();
            if !times.is_empty() {
                let p = times[n % times.len()].clone();
                if let Some(slot) = body.pointer_mut(&p) {
                    *slot = Value::String(d.clone());
                }
            }
        }
    }
}

fn agree(pairs: &[Pair], body: &Value) -> Result<(), TestCaseError> {
    for p in pairs {
        let (o, t) = (p.ours.is_valid(body), p.theirs.is_valid(body));
        prop_assert_eq!(o, t, "{}: is_valid differs on {}", p.label, body);
        // The same body as text, read without a `Value` (how served bodies are checked).
        let text = body.to_string();
        prop_assert_eq!(
            p.ours.is_valid_json(text.as_bytes()),
            Some(o),
            "{}: as text",
            p.label
        );
        let (o, t) = (ours(&p.ours, body), theirs(&p.theirs, body));
        prop_assert_eq!(o, t, "{}: errors differ on {}", p.label, body);
    }
    Ok(())
}

#[tokio::test]
async fn the_validator_agrees_with_jsonschema_on_mutated_bodies_for_every_schema_and_version() {
    let bodies = bodies().await;
    let pairs = pairs();
    // The unmutated bodies first: rendered ones are valid against their own shape.
    for b in &bodies {
        agree(&pairs, b).map_err(|e| e.to_string()).unwrap();
    }
    let cases: u32 = std::env::var("GLMOCK_DIFF_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0..bodies.len(), proptest::collection::vec(mutation(), 1..4));
    runner
        .run(&strategy, |(i, mutations)| {
            let mut body = bodies[i].clone();
            for m in &mutations {
                apply(&mut body, m);
            }
            agree(&pairs, &body)
        })
        .unwrap();
}

#[test]
fn the_validator_agrees_with_jsonschema_on_the_keywords_beyond_the_embedded_schemas() {
    let schema = json!({
        "$defs": {"n": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10}},
        "type": "object",
        "properties": {
            "c": {"const": [1, {"a": null}]},
            "o": {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "string", "minLength": 2}]},
            "a": {"allOf": [{"$ref": "#/$defs/n"}, {"not": {"enum": [3, 4]}}]},
            "l": {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": true,
                  "prefixItems": [{"type": "string"}], "items": {"$ref": "#/$defs/n"}},
            "m": {"maximum": 2.5, "exclusiveMinimum": -1}
        },
        "additionalProperties": {"type": "boolean"}
    });
    let ours_v = Validator::new(&schema).unwrap();
    let theirs_v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    });
    let value = prop_oneof![
        replacement(),
        (-3i64..13).prop_map(Value::from),
        prop_oneof![Just(-1.0), Just(2.5), Just(2.0), Just(9.99), Just(10.0)].prop_map(Value::from),
        "[a-zé]{0,5}".prop_map(Value::from),
        Just(json!([1, {"a": null}])),
        Just(json!([1.0, {"a": null}])),
        Just(json!(["s", 1, 1])),
        Just(json!(["s", 1, 2])),
        Just(json!([1, 2])),
        Just(json!(["s", 1, 2, 3])),
    ];
    let keys = prop_oneof![
        Just("c"),
        Just("o"),
        Just("a"),
        Just("l"),
        Just("m"),
        Just("z")
    ];
    let strategy = proptest::collection::btree_map(keys, value, 0..6);
    runner
        .run(&strategy, |members: BTreeMap<&str, Value>| {
            let body = Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            );
            prop_assert_eq!(ours_v.is_valid(&body), theirs_v.is_valid(&body), "{}", body);
            prop_assert_eq!(ours(&ours_v, &body), theirs(&theirs_v, &body), "{}", body);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_schemas_dir_with_an_unsupported_keyword_is_refused_naming_file_pointer_and_the_supported_list()
{
    let dir = std::env::temp_dir().join(format!("glmock-schemas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("job.schema.json");
    std::fs::write(
        &file,
        r#"{"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}}}"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("check")
        .arg(fixture("fixtures/default.yaml"))
        .arg("--schemas")
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let expected = format!(
        "error: loading the response schemas: schema {} does not compile: /properties/name/pattern: `pattern` is not supported: it needs a regular expression engine, which glmock does not carry (supported: $defs, $ref, additionalProperties, allOf, anyOf, const, enum, exclusiveMaximum, exclusiveMinimum, format, items, maxItems, maxLength, maximum, minItems, minLength, minimum, not, oneOf, prefixItems, properties, required, type, uniqueItems)",
        file.display()
    );
    assert!(
        stderr.lines().any(|l| l == expected),
        "expected {expected}\n{stderr}"
    );

    // Any other keyword outside the subset too, with the annotations that are ignored.
    std::fs::write(&file, r#"{"$defs": {"x": {"minProperties": 1}}}"#).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("check")
        .arg(fixture("fixtures/default.yaml"))
        .arg("--schemas")
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "schema {} does not compile: /$defs/x/minProperties: unsupported keyword \"minProperties\" (supported: $defs,",
            file.display()
        )) && stderr.contains("annotations: $comment, $id, $schema, default, deprecated, description, examples, readOnly, title, writeOnly, x-*)"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The library as a test suite depends on it (`default-features = false`) stays small: at
/// most 90 crates, and none of them is `jsonschema` (42 crates of its own).
#[test]
fn the_library_depends_on_at_most_90_crates_and_not_on_jsonschema() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crates: std::collections::BTreeSet<&str> =
        text.lines().map(|l| l.trim_end_matches(" (*)")).collect();
    assert!(crates.len() <= 90, "{} crates: {crates:#?}", crates.len());
    assert!(
        !crates.iter().any(|c| c.starts_with("jsonschema ")),
        "{crates:#?}"
    );
}

//! The scenario format: the JSON Schema (`schemas/scenario.schema.json`, generated from the
//! field tables of `src/scenario/format.rs` that the decoder reads through) describes what
//! the decoder accepts, every fixture follows it, `glmock scenario-schema` prints it, and a
//! broken scenario is reported in full (file, line, column, field path, message) by both
//! `glmock check` and `glmock serve`, which then refuses to serve.
//!

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use glmock::__internal::scenario::{self, Overrides, Source};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema_path() -> PathBuf {
    crate_dir().join("schemas/scenario.schema.json")
}

fn committed_schema() -> Value {
    let text = std::fs::read_to_string(schema_path()).expect("schemas/scenario.schema.json");
    serde_json::from_str(&text).expect("the committed schema is JSON")
}

/// The schema compiled as a draft 2020-12 validator. Formats (`date-time`) are checked too,
/// so fixture timestamps are held to RFC 3339.
fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&committed_schema())
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}"))
}

/// A YAML document as JSON, the way an editor's YAML language server sees it (anchors,
/// aliases and `<<` merge keys resolved).
fn yaml_to_json(name: &str, text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text)
        .unwrap_or_else(|e| panic!("{name} is not valid YAML for serde_saphyr: {e}"))
}

/// Every schema violation of `instance`, one per line, with its JSON pointer.
fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
        .collect()
}

/// `fixtures/default.yaml` and every `fixtures/examples/*.yaml`.
fn fixture_files() -> Vec<PathBuf> {
    let mut files = vec![crate_dir().join("fixtures/default.yaml")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(crate_dir().join("fixtures/examples"))
        .expect("fixtures/examples")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty(), "no fixtures/examples/*.yaml found");
    files.extend(examples);
    files
}

/// A scenario file in the temporary directory, removed on drop.
struct TempScenario {
    path: PathBuf,
}

impl TempScenario {
    fn new(stem: &str, text: &str) -> TempScenario {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "glmock-scenario-format-{}-{}-{stem}.yaml",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text).expect("writing a temporary scenario");
        TempScenario { path }
    }

    /// The name glmock uses for the file in its messages (the path as given).
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// One expected error line: `<file>:<line>:<col>: <field.path>: <message>`.
    fn at(&self, line: u32, column: u32, path: &str, message: &str) -> String {
        format!("{}:{line}:{column}: {path}: {message}", self.name())
    }
}

impl Drop for TempScenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The glmock binary, without any GLMOCK_* setting inherited from the environment.
fn glmock_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glmock"));
    cmd.args(args).current_dir(crate_dir()).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GLMOCK_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn glmock_check(files: &[&Path]) -> Run {
    let mut args: Vec<&OsStr> = vec![OsStr::new("check")];
    args.extend(files.iter().map(|p| p.as_os_str()));
    glmock_command(args)
        .output()
        .expect("running glmock check")
        .into()
}

/// The error lines of a report (`N errors in scenario` then one indented line each).
fn error_lines(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .collect()
}

/// Asserts that `report` lists exactly the `expected` errors (in any order), each as a
/// whole line, under the right `N error(s) in scenario` header.
fn assert_reports_exactly(report: &str, expected: &[String], context: &dyn std::fmt::Display) {
    let lines = error_lines(report);
    let missing: Vec<&String> = expected
        .iter()
        .filter(|e| !lines.contains(&e.as_str()))
        .collect();
    let unexpected: Vec<&&str> = lines
        .iter()
        .filter(|l| !expected.iter().any(|e| e == **l))
        .collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing lines:\n{missing:#?}\nunexpected lines:\n{unexpected:#?}\n{context}"
    );
    let n = expected.len();
    let header = format!("{n} error{} in scenario", if n == 1 { "" } else { "s" });
    assert!(
        report.lines().any(|l| l.ends_with(&header)),
        "no `{header}` header\n{context}"
    );
}

/// Whether glmock accepts `yaml` (decoding and cross-checks), and its errors if not.
fn decoder_verdict(name: &str, yaml: &str) -> Result<(), String> {
    let source = Source {
        name: name.to_owned(),
        text: yaml.to_owned(),
        dir: None,
    };
    scenario::build(&[source], &Overrides::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------

#[test]
fn schema_is_draft_2020_12_with_id_title_and_descriptions() {
    let schema = committed_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["$id"], "https://glmock.dev/scenario.schema.json");
    assert!(schema["title"].is_string() && schema["description"].is_string());

    // Every property of every object has a description (for editor completion). The
    // subschemas of `if` / `then` / `not` only restate constraints and are skipped.
    fn walk(v: &Value, at: &str, missing: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    for (k, p) in props {
                        if p.get("description").and_then(Value::as_str).is_none() {
                            missing.push(format!("{at}/properties/{k}"));
                        }
                    }
                }
                for (k, child) in m {
                    if !matches!(k.as_str(), "if" | "then" | "not") {
                        walk(child, &format!("{at}/{k}"), missing);
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&schema, "#", &mut missing);
    assert!(
        missing.is_empty(),
        "properties without a description: {missing:#?}"
    );
}

#[test]
fn every_fixture_validates_against_the_schema() {
    let validator = validator();
    let mut failures = Vec::new();
    for file in fixture_files() {
        let text = std::fs::read_to_string(&file).expect("fixture readable");
        let name = file.display().to_string();
        let instance = yaml_to_json(&name, &text);
        let errors = schema_errors(&validator, &instance);
        if !errors.is_empty() {
            failures.push(format!("{name}:\n  {}", errors.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures that do not follow the schema:\n{}",
        failures.join("\n")
    );
}

/// `schemas/scenario.schema.json` is generated from the field tables of
/// `src/scenario/format.rs`. Run with `GLMOCK_BLESS=1` to rewrite it after changing them.
#[test]
fn committed_schema_is_generated_from_the_field_tables() {
    let generated = scenario::schema::text();
    let committed = std::fs::read_to_string(schema_path()).expect("schemas/scenario.schema.json");
    if committed != generated {
        if std::env::var_os("GLMOCK_BLESS").is_some() {
            std::fs::write(schema_path(), &generated).expect("writing the schema");
        } else {
            panic!(
                "schemas/scenario.schema.json differs from the field tables of src/scenario/format.rs; \
                 run the test with GLMOCK_BLESS=1"
            );
        }
    }
}

/// The decoder reads every mapping through its table, and debug assertions (on in tests)
/// catch a read of a key the table lacks, `req` of an optional key or `opt` of a required
/// one, and a key of the table the decoder never reads. Decoding every fixture in process
/// runs them over every kind of object the fixtures hold.
#[test]
fn every_fixture_decodes_in_process_through_the_field_tables() {
    for file in fixture_files() {
        let text = std::fs::read_to_string(&file).expect("fixture readable");
        let name = file.display().to_string();
        let (decoded, errors) = scenario::load::parse_file(&name, &text);
        assert!(decoded.is_some() && errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn scenario_schema_subcommand_prints_the_committed_schema() {
    let run: Run = glmock_command(["scenario-schema"])
        .output()
        .expect("running glmock scenario-schema")
        .into();
    assert_eq!(run.code, Some(0), "{run}");
    let printed: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{run}"));
    assert_eq!(
        printed,
        committed_schema(),
        "glmock scenario-schema differs from schemas/scenario.schema.json"
    );
}

/// Snippets that glmock accepts: the schema must accept them too.
const ACCEPTED: &[(&str, &str)] = &[
    ("an empty document", ""),
    (
        "allowlist entries with fine-grained permissions",
        "projects: [{id: 1, path: a/b, job_token_policies_enabled: true, job_token_allowlist: [a/b, {project: a/b, default_permissions: false, job_token_policies: [read_jobs, admin_jobs]}]}]\n",
    ),
    (
        "a CI definition with inputs and rules",
        "projects: [{id: 1, path: a/b, ci: {spec: {inputs: {num: {type: number, default: 2}, s: {options: [a, b]}, r: {type: array, default: []}, f: {type: boolean, default: false}, free: null}}, jobs: [{name: 'x-$[[ inputs.s ]]', stage: '$[[ inputs.s ]]', parallel: '$[[ inputs.num ]]', allow_failure: '$[[ inputs.f ]]', rules: [{if: '$CI_PIPELINE_SOURCE == \"api\"', when: manual}, '$[[ inputs.r ]]', [{when: never}]]}]}}]\n",
    ),
    (
        "CI inputs, rules and allowlist entries with optional keys set to null",
        "projects: [{id: 1, path: a/b, job_token_policies_enabled: null, job_token_allowlist: [{project: a/b, default_permissions: null, job_token_policies: null}], ci: {spec: {inputs: {v: {type: null, default: null, options: null, description: null, regex: null}}}, jobs: [{name: x, only: null, when: null, allow_failure: null, parallel: null, rules: [{if: null, when: null, allow_failure: null}]}, {name: y, only: [main], rules: null}]}}]\n",
    ),
    ("a document with only a comment", "# nothing yet\n"),
    (
        "optional keys set to null",
        "\
gitlab: {version: null, base_url: ~, now: null, clock: null}
users:
  - {id: 1, username: root, name: null, state: null, admin: null, tokens: null}
runners: null
projects:
  - id: 1
    path: a/b
    visibility: null
    members: {root: owner}
    pipelines:
      - id: 1
        status: null
        test_report: null
        jobs:
          - {id: 1, name: x, status: success, when: null, failure_reason: null,
             log: null, log_file: null, environment: null, runner: null}
        bridges:
          - {id: 2, name: y, status: success, downstream: null}
job_tokens: ~
",
    ),
    (
        "every top-level section and most fields",
        "\
gitlab: {version: \"16.10\", base_url: https://gitlab.example.com/, now: \"2024-05-01T10:00:00Z\", clock: frozen}
users:
  - id: 1
    username: root
    name: Administrator
    state: blocked_pending_approval
    admin: true
    email: root@example.com
    created_at: \"2024-01-01T00:00:00.123+01:00\"
    bot: false
    tokens:
      - glpat-plain
      - {token: glpat-read, scopes: [read_api], expires_at: \"2030-01-01T00:00:00Z\", revoked: false}
runners:
  - id: 5
    runner_type: group_type
    paused: true
    status: never_contacted
    graceful_cancel: true
    managers:
      - {id: 50, version: \"17.10.1\", status: stale, contacted_at: \"2024-05-01T10:00:00Z\"}
projects:
  - id: 1
    path: group/sub/project
    visibility: internal
    public_builds: false
    ci_job_token_scope_enabled: true
    job_token_allowlist: [other/project]
    group_ids: [1, 2]
    branches: {main: abc123}
    tags: {v1.0.0: def456}
    commits:
      - {id: abc123, title: Initial, parent_ids: []}
    members: {root: maintainer}
    agents:
      - {id: 3, config_project: 2, configuration: {ci_access: {groups: [{id: group}]}}}
    pipelines:
      - id: 7
        iid: 1
        ref: main
        source: merge_request_event
        coverage: 81
        variables:
          - {key: A, value: b, variable_type: file, raw: true}
        jobs:
          - id: 70
            name: rspec
            status: failed
            failure_reason: runner_system_failure
            when: always
            runner: 5
            runner_manager: 50
            tag_list: [docker]
            coverage: 80.5
            duration: 12
            artifacts:
              - {file_type: archive, size: 0, filename: artifacts.zip, file_format: zip}
            environment: {name: review/main, tier: development, slug: review-main}
            log: hello
    generate:
      - {pipelines: 2, jobs_per_pipeline: 3, statuses: [success, manual], stages: [build], log: hi}
    ci:
      stages: [build, deploy]
      jobs:
        - {name: compile, stage: build, tag_list: [docker]}
        - {name: ship, stage: deploy, when: manual, allow_failure: false, only: [main]}
  - id: 2
    path: other/project
job_tokens:
  - {token: glcbt-70, job: 70}
",
    ),
    (
        "unquoted integers and booleans in text fields",
        "\
users:
  - {id: 1, username: 42, name: true}
projects:
  - id: 1
    path: a/b
    branches: {main: 1234567}
    pipelines:
      - id: 1
        user: 42
        variables:
          - {key: PERCENT, value: 25}
          - {key: ENABLED, value: false}
        jobs:
          - {id: 1, name: 2024, status: success, stage: 1}
",
    ),
    (
        "a bridge downstream as a pipeline id and as project/pipeline",
        "\
projects:
  - id: 1
    path: a/b
    pipelines:
      - id: 1
        bridges:
          - {id: 10, name: child, status: running, downstream: 2}
          - {id: 11, name: other, status: running, downstream: {project: 2, pipeline: 3}}
          - {id: 12, name: same, status: running, downstream: {pipeline: 2}}
      - id: 2
  - id: 2
    path: c/d
    pipelines:
      - id: 3
",
    ),
    (
        "timeline steps in seconds and in polls, the other one null",
        "\
projects:
  - id: 1
    path: a/b
    pipelines:
      - id: 1
        jobs:
          - id: 1
            name: x
            status: pending
            timeline: [{after: 2, after_polls: null, status: running}, {after: null, after_polls: 3, status: success}]
",
    ),
    (
        "free-form test_report, agent configuration and defaults",
        "\
defaults:
  anything: [1, {two: 3}]
  job: &job {stage: test, status: success}
projects:
  - id: 1
    path: a/b
    agents:
      - {id: 1, config_project: 1, configuration: [not, a, mapping]}
    pipelines:
      - id: 1
        test_report: {total_count: 1, test_suites: [{name: x, suite_error: null}]}
        jobs:
          - <<: *job
            id: 1
            name: merged
            stage: build
",
    ),
];

/// Snippets that glmock rejects: the schema must reject them too.
const REJECTED: &[(&str, &str)] = &[
    ("an unknown top-level key", "colour: red\n"),
    ("a top-level list", "- id: 1\n"),
    ("an unquoted float version", "gitlab: {version: 16.10}\n"),
    (
        "a version that is not major.minor",
        "gitlab: {version: sixteen}\n",
    ),
    ("an unknown clock", "gitlab: {clock: stopped}\n"),
    ("a bad timestamp", "gitlab: {now: yesterday}\n"),
    ("an unknown instance key", "gitlab: {edition: ee}\n"),
    ("a user without a username", "users: [{id: 1}]\n"),
    ("a user id of 0", "users: [{id: 0, username: a}]\n"),
    ("a negative user id", "users: [{id: -3, username: a}]\n"),
    (
        "a user id written as text",
        "users: [{id: \"3\", username: a}]\n",
    ),
    (
        "a float where text is expected",
        "users: [{id: 1, username: 1.5}]\n",
    ),
    (
        "an unknown user state",
        "users: [{id: 1, username: a, state: asleep}]\n",
    ),
    (
        "a token that is a number",
        "users: [{id: 1, username: a, tokens: [123]}]\n",
    ),
    (
        "a token mapping without its token",
        "users: [{id: 1, username: a, tokens: [{scopes: [api]}]}]\n",
    ),
    (
        "an unknown token scope",
        "users: [{id: 1, username: a, tokens: [{token: t, scopes: [write_api]}]}]\n",
    ),
    ("a null list item", "users: [null]\n"),
    (
        "an unknown runner type",
        "runners: [{id: 1, runner_type: cloud}]\n",
    ),
    (
        "an unknown runner manager status",
        "runners: [{id: 1, managers: [{id: 2, status: asleep}]}]\n",
    ),
    (
        "an unquoted float runner version",
        "runners: [{id: 1, managers: [{id: 2, version: 17.10}]}]\n",
    ),
    ("a project without a path", "projects: [{id: 1}]\n"),
    (
        "a project path without a group",
        "projects: [{id: 1, path: project}]\n",
    ),
    (
        "a project path with a leading slash",
        "projects: [{id: 1, path: /a/b}]\n",
    ),
    (
        "an unknown visibility",
        "projects: [{id: 1, path: a/b, visibility: secret}]\n",
    ),
    (
        "an unknown role",
        "projects: [{id: 1, path: a/b, members: {a: admin}}]\n",
    ),
    (
        "pipelines as a mapping",
        "projects: [{id: 1, path: a/b, pipelines: {id: 1}}]\n",
    ),
    (
        "a pipeline without an id",
        "projects: [{id: 1, path: a/b, pipelines: [{ref: main}]}]\n",
    ),
    (
        "an unknown pipeline source",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, source: cron}]}]\n",
    ),
    (
        "a job without a name",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, status: success}]}]}]\n",
    ),
    (
        "a job with an unknown status",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: bogus}]}]}]\n",
    ),
    (
        "a job with an unknown field",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, colour: red}]}]}]\n",
    ),
    (
        "a job with both log and log_file",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, log: a, log_file: b}]}]}]\n",
    ),
    (
        "a job with downstream",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, downstream: 1}]}]}]\n",
    ),
    (
        "a failure_reason on a job that did not fail",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, failure_reason: script_failure}]}]}]\n",
    ),
    (
        "an unknown failure_reason",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: failed, failure_reason: gremlins}]}]}]\n",
    ),
    (
        "an unknown when",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, when: sometimes}]}]}]\n",
    ),
    (
        "an artifact with a negative size",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, artifacts: [{file_type: archive, size: -1, filename: a.zip}]}]}]}]\n",
    ),
    (
        "an environment with an unknown tier",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, environment: {name: p, tier: prod}}]}]}]\n",
    ),
    (
        "a variable without a value",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, variables: [{key: A}]}]}]\n",
    ),
    (
        "an unknown variable type",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, variables: [{key: A, value: b, variable_type: secret}]}]}]\n",
    ),
    (
        "a downstream mapping without its pipeline",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, bridges: [{id: 1, name: x, status: success, downstream: {project: 1}}]}]}]\n",
    ),
    (
        "a downstream mapping with an unknown key",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, bridges: [{id: 1, name: x, status: success, downstream: {pipeline: 1, ref: main}}]}]}]\n",
    ),
    (
        "a generator without jobs_per_pipeline",
        "projects: [{id: 1, path: a/b, generate: [{pipelines: 2}]}]\n",
    ),
    (
        "an agent without its configuration project",
        "projects: [{id: 1, path: a/b, agents: [{id: 1}]}]\n",
    ),
    ("a job token without its job", "job_tokens: [{token: t}]\n"),
    (
        "a CI definition without jobs",
        "projects: [{id: 1, path: a/b, ci: {stages: [build]}}]\n",
    ),
    (
        "a CI job without a name",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{stage: test}]}}]\n",
    ),
    (
        "a timeline step with neither after nor after_polls",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: pending, timeline: [{status: running}]}]}]}]\n",
    ),
    (
        "a timeline step with after: null and no after_polls",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: pending, timeline: [{after: null, status: running}]}]}]}]\n",
    ),
    (
        "a timeline step with both after and after_polls",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: pending, timeline: [{after: 1, after_polls: 1, status: running}]}]}]}]\n",
    ),
    (
        "a negative duration",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, duration: -5}]}]}]\n",
    ),
    (
        "an allowlist entry with an unknown policy",
        "projects: [{id: 1, path: a/b, job_token_allowlist: [{project: a/b, job_token_policies: [read_job]}]}]\n",
    ),
    (
        "an allowlist entry without its project",
        "projects: [{id: 1, path: a/b, job_token_allowlist: [{default_permissions: false}]}]\n",
    ),
    (
        "a CI input with a regex",
        "projects: [{id: 1, path: a/b, ci: {spec: {inputs: {v: {regex: '^a$'}}}, jobs: [{name: x}]}}]\n",
    ),
    (
        "a CI input of an unknown type",
        "projects: [{id: 1, path: a/b, ci: {spec: {inputs: {v: {type: text}}}, jobs: [{name: x}]}}]\n",
    ),
    (
        "a CI job with both only and rules",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{name: x, only: [main], rules: [{when: always}]}]}}]\n",
    ),
    (
        "a CI rule with an unknown when",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{name: x, rules: [{when: sometimes}]}]}}]\n",
    ),
];

/// Job keys that bridges do not take, checked one by one below.
const BUILD_ONLY_KEYS: &[(&str, &str)] = &[
    ("runner", "1"),
    ("runner_manager", "1"),
    ("tag_list", "[docker]"),
    ("erased_at", "\"2024-05-01T10:00:00Z\""),
    ("artifacts", "[]"),
    ("artifacts_expire_at", "\"2024-05-01T10:00:00Z\""),
    ("environment", "{name: production}"),
];

fn bridge_with(key: &str, value: &str) -> String {
    format!(
        "projects: [{{id: 1, path: a/b, pipelines: [{{id: 1, bridges: [{{id: 1, name: x, status: success, {key}: {value}}}]}}]}}]\n"
    )
}

#[test]
fn schema_and_decoder_agree_on_what_is_valid() {
    let validator = validator();
    let mut disagreements = Vec::new();
    let mut judge = |name: &str, yaml: &str, accepted: bool| {
        let decoder = decoder_verdict(name, yaml);
        let instance = yaml_to_json(name, yaml);
        let schema = schema_errors(&validator, &instance);
        if decoder.is_ok() != accepted {
            disagreements.push(format!(
                "{name}: glmock {} it (expected {})\n{}",
                if decoder.is_ok() {
                    "accepts"
                } else {
                    "rejects"
                },
                if accepted { "accepted" } else { "rejected" },
                decoder.err().unwrap_or_default()
            ));
        }
        if schema.is_empty() != accepted {
            disagreements.push(format!(
                "{name}: the schema {} it (glmock {})\n  {}",
                if schema.is_empty() {
                    "accepts"
                } else {
                    "rejects"
                },
                if accepted { "accepts it" } else { "rejects it" },
                schema.join("\n  ")
            ));
        }
    };
    for (name, yaml) in ACCEPTED {
        judge(name, yaml, true);
    }
    for (name, yaml) in REJECTED {
        judge(name, yaml, false);
    }
    for (key, value) in BUILD_ONLY_KEYS {
        judge(
            &format!("a bridge with {key}"),
            &bridge_with(key, value),
            false,
        );
    }
    assert!(
        disagreements.is_empty(),
        "schema and decoder disagree:\n{}",
        disagreements.join("\n")
    );
}

/// Every mapping the decoder reads: the JSON pointer of its schema, the field path glmock
/// reports for it, and a scenario in which `{obj}` stands for it.
const OBJECTS: &[(&str, &str, &str)] = &[
    ("", "", "{obj}"),
    ("/$defs/instance", "gitlab", "gitlab: {obj}"),
    ("/$defs/user", "users[0]", "users: [{obj}]"),
    (
        "/$defs/token/oneOf/1",
        "users[0].tokens[0]",
        "users: [{id: 1, username: a, tokens: [{obj}]}]",
    ),
    ("/$defs/runner", "runners[0]", "runners: [{obj}]"),
    (
        "/$defs/runner_manager",
        "runners[0].managers[0]",
        "runners: [{id: 1, managers: [{obj}]}]",
    ),
    ("/$defs/project", "projects[0]", "projects: [{obj}]"),
    (
        "/$defs/commit",
        "projects[0].commits[0]",
        "projects: [{id: 1, path: a/b, commits: [{obj}]}]",
    ),
    (
        "/$defs/agent",
        "projects[0].agents[0]",
        "projects: [{id: 1, path: a/b, agents: [{obj}]}]",
    ),
    (
        "/$defs/generate",
        "projects[0].generate[0]",
        "projects: [{id: 1, path: a/b, generate: [{obj}]}]",
    ),
    (
        "/$defs/pipeline",
        "projects[0].pipelines[0]",
        "projects: [{id: 1, path: a/b, pipelines: [{obj}]}]",
    ),
    (
        "/$defs/variable",
        "projects[0].pipelines[0].variables[0]",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, variables: [{obj}]}]}]",
    ),
    (
        "/$defs/job",
        "projects[0].pipelines[0].jobs[0]",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{obj}]}]}]",
    ),
    (
        "/$defs/artifact",
        "projects[0].pipelines[0].jobs[0].artifacts[0]",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, artifacts: [{obj}]}]}]}]",
    ),
    (
        "/$defs/environment",
        "projects[0].pipelines[0].jobs[0].environment",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, environment: {obj}}]}]}]",
    ),
    (
        "/$defs/bridge",
        "projects[0].pipelines[0].bridges[0]",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, bridges: [{obj}]}]}]",
    ),
    (
        "/$defs/bridge/properties/downstream/oneOf/1",
        "projects[0].pipelines[0].bridges[0].downstream",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, bridges: [{id: 1, name: x, status: success, downstream: {obj}}]}]}]",
    ),
    (
        "/$defs/ci",
        "projects[0].ci",
        "projects: [{id: 1, path: a/b, ci: {obj}}]",
    ),
    (
        "/$defs/ci_job",
        "projects[0].ci.jobs[0]",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{obj}]}}]",
    ),
    (
        "/$defs/ci_rule",
        "projects[0].ci.jobs[0].rules[0]",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{name: x, rules: [{obj}]}]}}]",
    ),
    (
        "/$defs/ci_spec",
        "projects[0].ci.spec",
        "projects: [{id: 1, path: a/b, ci: {spec: {obj}, jobs: [{name: x}]}}]",
    ),
    (
        "/$defs/ci_input",
        "projects[0].ci.spec.inputs.a",
        "projects: [{id: 1, path: a/b, ci: {spec: {inputs: {a: {obj}}}, jobs: [{name: x}]}}]",
    ),
    (
        "/$defs/job_token_allowlist_entry",
        "projects[0].job_token_allowlist[0]",
        "projects: [{id: 1, path: a/b, job_token_allowlist: [{obj}]}]",
    ),
    ("/$defs/job_token", "job_tokens[0]", "job_tokens: [{obj}]"),
    (
        "/$defs/ci_job/properties/only/oneOf/1",
        "projects[0].ci.jobs[0].only",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{name: x, only: {obj}}]}}]",
    ),
    (
        "/$defs/ci_job/properties/parallel/oneOf/1",
        "projects[0].ci.jobs[0].parallel",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{name: x, parallel: {obj}}]}}]",
    ),
];

/// The decoding errors of `yaml` (no cross-checks).
fn decoding_errors(yaml: &str) -> Vec<scenario::ScenarioError> {
    scenario::load::parse_file("probe.yaml", yaml).1
}

fn field(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The words of a message ending in `(allowed: a, b, c)`.
fn allowed_list(message: &str) -> Option<Vec<String>> {
    let list = message.split_once("(allowed: ")?.1.strip_suffix(')')?;
    Some(list.split(", ").map(str::to_owned).collect())
}

fn schema_at<'s>(schema: &'s Value, pointer: &str) -> &'s Value {
    schema
        .pointer(pointer)
        .unwrap_or_else(|| panic!("the schema has nothing at {pointer:?}"))
}

#[test]
fn schema_lists_exactly_the_keys_the_decoder_allows_and_requires() {
    let schema = committed_schema();
    let mut problems = Vec::new();
    for (pointer, path, template) in OBJECTS {
        let object = schema_at(&schema, pointer);
        let properties: BTreeSet<String> = object["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{pointer} has no properties"))
            .keys()
            .cloned()
            .collect();
        if object["additionalProperties"] != Value::Bool(false) {
            problems.push(format!("{pointer}: additionalProperties is not false"));
        }

        // Allowed keys: the list of an unknown-field error.
        let unknown = field(path, "zzz_unknown");
        let errors = decoding_errors(&template.replace("{obj}", "{zzz_unknown: 1}"));
        let Some(allowed) = errors
            .iter()
            .find(|e| e.path == unknown)
            .and_then(|e| allowed_list(&e.message))
            .map(|l| l.into_iter().collect::<BTreeSet<_>>())
        else {
            problems.push(format!(
                "{pointer}: no unknown-field error for {unknown}: {errors:?}"
            ));
            continue;
        };
        if allowed != properties {
            problems.push(format!(
                "{pointer}: the decoder allows {allowed:?}, the schema has {properties:?}"
            ));
        }

        // Required keys: the is-required errors of an empty mapping.
        let required: BTreeSet<String> = decoding_errors(&template.replace("{obj}", "{}"))
            .iter()
            .filter(|e| e.message == "is required but missing")
            .filter_map(|e| e.path.strip_prefix(&field(path, "")).map(str::to_owned))
            .filter(|k| !k.contains(['.', '[']))
            .collect();
        let in_schema: BTreeSet<String> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if required != in_schema {
            problems.push(format!(
                "{pointer}: the decoder requires {required:?}, the schema {in_schema:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The serde-decoded parts of the format (`faults:`, `gitlab.rate_limits:`, described by
/// `src/faults/schema.json`): the JSON pointer of a mapping (or of a `oneOf` of externally
/// tagged forms), and a scenario in which `{obj}` stands for it.
const SERDE_OBJECTS: &[(&str, &str)] = &[
    ("/$defs/fault_rule", "faults: [{obj}]"),
    (
        "/$defs/fault_rule/properties/match",
        "faults: [{match: {obj}, then: reset}]",
    ),
    (
        "/$defs/fault_rule/properties/when",
        "faults: [{when: {obj}, then: reset}]",
    ),
    (
        "/$defs/fault_rule/properties/when/properties/window",
        "faults: [{when: {window: {obj}}, then: reset}]",
    ),
    (
        "/$defs/fault_rule/properties/delay",
        "faults: [{delay: {obj}}]",
    ),
    (
        "/$defs/fault_rule/properties/delay/oneOf/2/properties/log_normal",
        "faults: [{delay: {log_normal: {obj}}}]",
    ),
    (
        "/$defs/fault_rule/properties/then",
        "faults: [{then: {obj}}]",
    ),
    (
        "/$defs/fault_rule/properties/then/oneOf/2/properties/throttle",
        "faults: [{then: {throttle: {obj}}}]",
    ),
    (
        "/$defs/fault_rule/properties/then/oneOf/3/properties/cut",
        "faults: [{then: {cut: {obj}}}]",
    ),
    (
        "/$defs/fault_rule/properties/then/oneOf/4/properties/trickle",
        "faults: [{then: {trickle: {obj}}}]",
    ),
    ("/$defs/rate_limits", "gitlab: {rate_limits: {obj}}"),
    (
        "/$defs/throttle_settings",
        "gitlab: {rate_limits: {authenticated_api: {obj}}}",
    ),
];

/// The keys a schema fragment allows: its properties, or for a `oneOf` of forms, each
/// form's word or single key.
fn schema_keys(fragment: &Value) -> BTreeSet<String> {
    if let Some(forms) = fragment["oneOf"].as_array() {
        return forms.iter().flat_map(schema_keys).collect();
    }
    if let Some(words) = fragment["enum"].as_array() {
        return words
            .iter()
            .filter_map(|w| w.as_str().map(str::to_owned))
            .collect();
    }
    fragment["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn faults_schema_lists_exactly_the_keys_serde_allows() {
    let schema = committed_schema();
    let mut problems = Vec::new();
    for (pointer, template) in SERDE_OBJECTS {
        let errors = decoding_errors(&template.replace("{obj}", "{zzz_unknown: 1}"));
        // serde: "unknown field `zzz_unknown`, expected one of `a`, `b`" (or "expected `a`
        // or `b`", "expected `a`"; "unknown variant" for the forms of an enum).
        let Some(allowed) = errors.iter().find_map(|e| {
            let (_, expected) = e.message.split_once("expected ")?;
            e.message.contains("`zzz_unknown`").then(|| {
                expected
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect::<BTreeSet<_>>()
            })
        }) else {
            problems.push(format!("{pointer}: no unknown-key error: {errors:?}"));
            continue;
        };
        let in_schema = schema_keys(schema_at(&schema, pointer));
        if allowed != in_schema {
            problems.push(format!(
                "{pointer}: serde allows {allowed:?}, the schema has {in_schema:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every field with a fixed set of words: the JSON pointer of its schema, the field path
/// glmock reports, and a scenario in which `{value}` stands for the word.
const ENUMS: &[(&str, &str, &str)] = &[
    (
        "/$defs/instance/properties/clock",
        "gitlab.clock",
        "gitlab: {clock: {value}}",
    ),
    (
        "/$defs/token/oneOf/1/properties/scopes/items",
        "users[0].tokens[0].scopes[0]",
        "users: [{id: 1, username: a, tokens: [{token: t, scopes: [{value}]}]}]",
    ),
    (
        "/$defs/user/properties/state",
        "users[0].state",
        "users: [{id: 1, username: a, state: {value}}]",
    ),
    (
        "/$defs/runner/properties/runner_type",
        "runners[0].runner_type",
        "runners: [{id: 1, runner_type: {value}}]",
    ),
    (
        "/$defs/runner/properties/status",
        "runners[0].status",
        "runners: [{id: 1, status: {value}}]",
    ),
    (
        "/$defs/runner_manager/properties/status",
        "runners[0].managers[0].status",
        "runners: [{id: 1, managers: [{id: 2, status: {value}}]}]",
    ),
    (
        "/$defs/project/properties/visibility",
        "projects[0].visibility",
        "projects: [{id: 1, path: a/b, visibility: {value}}]",
    ),
    (
        "/$defs/project/properties/members/additionalProperties",
        "projects[0].members.a",
        "projects: [{id: 1, path: a/b, members: {a: {value}}}]",
    ),
    (
        "/$defs/project/properties/builds_access_level",
        "projects[0].builds_access_level",
        "projects: [{id: 1, path: a/b, builds_access_level: {value}}]",
    ),
    (
        "/$defs/project/properties/repository_access_level",
        "projects[0].repository_access_level",
        "projects: [{id: 1, path: a/b, repository_access_level: {value}}]",
    ),
    (
        "/$defs/pipeline/properties/source",
        "projects[0].pipelines[0].source",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, source: {value}}]}]",
    ),
    (
        "/$defs/status",
        "projects[0].pipelines[0].status",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, status: {value}}]}]",
    ),
    (
        "/$defs/status",
        "projects[0].pipelines[0].jobs[0].status",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: {value}}]}]}]",
    ),
    (
        "/$defs/job/properties/when",
        "projects[0].pipelines[0].jobs[0].when",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, when: {value}}]}]}]",
    ),
    (
        "/$defs/job/properties/failure_reason",
        "projects[0].pipelines[0].jobs[0].failure_reason",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: failed, failure_reason: {value}}]}]}]",
    ),
    (
        "/$defs/bridge/properties/when",
        "projects[0].pipelines[0].bridges[0].when",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, bridges: [{id: 1, name: x, status: success, when: {value}}]}]}]",
    ),
    (
        "/$defs/bridge/properties/failure_reason",
        "projects[0].pipelines[0].bridges[0].failure_reason",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, bridges: [{id: 1, name: x, status: failed, failure_reason: {value}}]}]}]",
    ),
    (
        "/$defs/ci_job/properties/when/oneOf/0",
        "projects[0].ci.jobs[0].when",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{name: x, when: {value}}]}}]",
    ),
    (
        "/$defs/job_token_allowlist_entry/properties/job_token_policies/items",
        "projects[0].job_token_allowlist[0].job_token_policies[0]",
        "projects: [{id: 1, path: a/b, job_token_allowlist: [{project: a/b, job_token_policies: [{value}]}]}]",
    ),
    (
        "/$defs/ci_rule/properties/when",
        "projects[0].ci.jobs[0].rules[0].when",
        "projects: [{id: 1, path: a/b, ci: {jobs: [{name: x, rules: [{when: {value}}]}]}}]",
    ),
    (
        "/$defs/ci_input/properties/type",
        "projects[0].ci.spec.inputs.a.type",
        "projects: [{id: 1, path: a/b, ci: {spec: {inputs: {a: {type: {value}}}}, jobs: [{name: x}]}}]",
    ),
    (
        "/$defs/variable/properties/variable_type",
        "projects[0].pipelines[0].variables[0].variable_type",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, variables: [{key: k, value: v, variable_type: {value}}]}]}]",
    ),
    (
        "/$defs/environment/properties/tier",
        "projects[0].pipelines[0].jobs[0].environment.tier",
        "projects: [{id: 1, path: a/b, pipelines: [{id: 1, jobs: [{id: 1, name: x, status: success, environment: {name: e, tier: {value}}}]}]}]",
    ),
    (
        "/$defs/status",
        "projects[0].generate[0].statuses[0]",
        "projects: [{id: 1, path: a/b, generate: [{pipelines: 1, jobs_per_pipeline: 1, statuses: [{value}]}]}]",
    ),
];

#[test]
fn schema_enums_list_exactly_the_words_the_decoder_allows() {
    let schema = committed_schema();
    let mut problems = Vec::new();
    for (pointer, path, template) in ENUMS {
        let in_schema: Vec<String> = schema_at(&schema, pointer)["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{pointer} has no enum"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned)) // optional fields also allow null
            .collect();
        let errors = decoding_errors(&template.replace("{value}", "zzz_bogus"));
        match errors
            .iter()
            .find(|e| e.path == *path)
            .and_then(|e| allowed_list(&e.message))
        {
            Some(allowed) if allowed == in_schema => {}
            Some(allowed) => problems.push(format!(
                "{path}: the decoder allows {allowed:?}, the schema ({pointer}) {in_schema:?}"
            )),
            None => problems.push(format!("{path}: no not-allowed error: {errors:?}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// glmock check
// ---------------------------------------------------------------------------------------

/// Independent mistakes, found while decoding and by the cross-checks. Line numbers are on
/// the right; each error points at the offending value (the key, for an unknown key; the
/// enclosing mapping, for a missing key).
const ALL_MISTAKES: &str = "\
gitlab:
  version: 16.10
users:
  - id: 1
    username: root
runners:
  - id: 32
projects:
  - id: 1
    path: foo/bar
    visibility: secret
    pipelines:
      - id: 10
        jobs:
          - id: 100
            name: build
            status: bogus
          - id: 101
            status: success
          - id: 102
            name: test
            status: success
            colour: red
          - id: 103
            name: rspec
            status: success
            runner: 99
      - id: 11
        jobs:
          - id: 100
            name: build again
            status: success
job_tokens:
  - token: glcbt-x
    job: 4242
";
//  2   version: 16.10                  a float, not a string          → 2:12
// 11     visibility: secret            not a visibility               → 11:17
// 17             status: bogus         not a status                   → 17:21
// 18           - id: 101               a job without a name           → 18:13 (its mapping)
// 23             colour: red           an unknown key                 → 23:13 (the key)
// 27             runner: 99            an unknown runner              → 27:21
// 30           - id: 100               a job id used in pipeline 10   → 30:17
// 35     job: 4242                     a token for an unknown job     → 35:10

const JOB_KEYS: &str = "allow_failure, archived, artifacts, artifacts_expire_at, coverage, \
created_at, debug_trace_enabled, duration, environment, erased_at, failure_reason, finished_at, id, log, log_file, \
name, override, queued_at, queued_duration, retried, runner, runner_manager, stage, started_at, status, \
tag_list, timeline, user, variables, when";

const BRIDGE_KEYS: &str = "allow_failure, archived, coverage, created_at, downstream, duration, \
failure_reason, finished_at, id, name, override, queued_at, queued_duration, retried, stage, \
started_at, status, timeline, user, variables, when";

const STATUSES: &str = "created, waiting_for_resource, preparing, waiting_for_callback, pending, \
running, success, failed, canceling, canceled, skipped, manual, scheduled";

fn all_mistake_lines(f: &TempScenario) -> Vec<String> {
    vec![
        f.at(
            2,
            12,
            "gitlab.version",
            "expected a string, found the number 16.1 (quote it, e.g. \"16.10\")",
        ),
        f.at(
            11,
            17,
            "projects[0].visibility",
            "\"secret\" is not allowed (allowed: private, internal, public)",
        ),
        f.at(
            17,
            21,
            "projects[0].pipelines[0].jobs[0].status",
            &format!("\"bogus\" is not allowed (allowed: {STATUSES})"),
        ),
        f.at(
            18,
            13,
            "projects[0].pipelines[0].jobs[1].name",
            "is required but missing",
        ),
        f.at(
            23,
            13,
            "projects[0].pipelines[0].jobs[2].colour",
            &format!("unknown field (allowed: {JOB_KEYS})"),
        ),
        f.at(
            27,
            21,
            "projects[0].pipelines[0].jobs[3].runner",
            "unknown runner 99 (define it under runners:)",
        ),
        f.at(
            30,
            17,
            "projects[0].pipelines[1].jobs[0].id",
            "duplicate job id 100 (builds and bridges share one id space)",
        ),
        f.at(
            35,
            10,
            "job_tokens[0].job",
            "token for unknown job 4242 (define the job under a pipeline's jobs:)",
        ),
    ]
}

#[test]
fn check_reports_every_error_with_its_location() {
    let f = TempScenario::new("all-mistakes", ALL_MISTAKES);
    let run = glmock_check(&[&f.path]);
    assert_eq!(run.code, Some(2), "{run}");
    assert_reports_exactly(&run.stdout, &all_mistake_lines(&f), &run);
}

#[test]
fn check_reports_the_errors_of_every_file_under_its_own_name() {
    let first = TempScenario::new(
        "merge-first",
        "users: [{id: 1, username: root}]\nrunners: [{id: 32}]\n",
    );
    let second = TempScenario::new(
        "merge-second",
        "\
users:
  - id: 2
    username: root
projects:
  - id: 1
    path: a/b
    pipelines:
      - id: 1
        jobs:
          - {id: 1, name: x, status: success, runner: 33}
      - id: 1
",
    );
    let run = glmock_check(&[&first.path, &second.path]);
    assert_eq!(run.code, Some(2), "{run}");
    // Runner 32 of the first file is known to the second; runner 33 is not.
    let lines = error_lines(&run.stdout);
    let runner = second.at(
        10,
        55,
        "projects[0].pipelines[0].jobs[0].runner",
        "unknown runner 33 (define it under runners:)",
    );
    let pipeline = second.at(
        11,
        13,
        "projects[0].pipelines[1].id",
        "duplicate pipeline id 1",
    );
    // The username repeats the first file's; the error names the second file. (Where it
    // points is checked by check_points_every_reference_error_at_its_field.)
    let username = lines
        .iter()
        .find(|l| l.ends_with("users[0].username: duplicate username \"root\""))
        .unwrap_or_else(|| panic!("no duplicate-username error\n{run}"));
    assert!(
        username.starts_with(&format!("{}:", second.name())),
        "{run}"
    );
    assert_reports_exactly(
        &run.stdout,
        &[runner, pipeline, (*username).to_owned()],
        &run,
    );
}

#[test]
fn check_points_field_errors_at_the_field() {
    // Each field is on a later line than its mapping starts, so a location taken from the
    // mapping would be visibly wrong.
    let f = TempScenario::new(
        "field-locations",
        "\
users:
  - {id: 1, username: a}
  - username: b
    id: 1
projects:
  - id: 1
    path: foo/bar
    pipelines:
      - id: 10
        jobs:
          - {id: 100, name: a, status: success}
          - name: b
            status: success
            id: 100
  - id: 2
    path: project
job_tokens:
  - token: glcbt-x
    job: 4242
",
    );
    let run = glmock_check(&[&f.path]);
    assert_eq!(run.code, Some(2), "{run}");
    assert_reports_exactly(
        &run.stdout,
        &[
            f.at(4, 9, "users[1].id", "duplicate user id 1"),
            f.at(
                14,
                17,
                "projects[0].pipelines[0].jobs[1].id",
                "duplicate job id 100 (builds and bridges share one id space)",
            ),
            f.at(
                16,
                11,
                "projects[1].path",
                "\"project\" is not a full path like group/project",
            ),
            f.at(
                19,
                10,
                "job_tokens[0].job",
                "token for unknown job 4242 (define the job under a pipeline's jobs:)",
            ),
        ],
        &run,
    );
}

#[test]
fn check_rejects_build_only_fields_on_bridges() {
    let f = TempScenario::new(
        "bridge-fields",
        "\
projects:
  - id: 1
    path: a/b
    pipelines:
      - id: 1
        bridges:
          - id: 1
            name: trigger
            status: success
            log: hello
            runner: 1
",
    );
    let run = glmock_check(&[&f.path]);
    assert_eq!(run.code, Some(2), "{run}");
    assert_reports_exactly(
        &run.stdout,
        &[
            f.at(
                10,
                13,
                "projects[0].pipelines[0].bridges[0].log",
                &format!("unknown field (allowed: {BRIDGE_KEYS})"),
            ),
            f.at(
                11,
                13,
                "projects[0].pipelines[0].bridges[0].runner",
                &format!("unknown field (allowed: {BRIDGE_KEYS})"),
            ),
        ],
        &run,
    );
}

#[test]
fn check_reports_invalid_yaml_with_its_location_once() {
    let f = TempScenario::new(
        "syntax-error",
        "users:\n  - id: 1\n    username: root\n   name: misindented\n",
    );
    let run = glmock_check(&[&f.path]);
    assert_eq!(run.code, Some(2), "{run}");
    let lines = error_lines(&run.stdout);
    assert_eq!(lines.len(), 1, "{run}");
    let prefix = format!("{}:4:4: ", f.name());
    let message = lines[0]
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("expected the error at {prefix}\n{run}"));
    assert!(message.starts_with("invalid YAML: "), "{run}");
    assert!(
        !message.contains("line 4") && !message.contains("column 4"),
        "the location is repeated in the message\n{run}"
    );
}

#[test]
fn check_accepts_a_valid_scenario() {
    let f = TempScenario::new(
        "valid",
        "\
gitlab: {version: \"17.2\"}
users: [{id: 1, username: root, tokens: [glpat-root]}]
projects:
  - id: 1
    path: foo/bar
    members: {root: owner}
    pipelines:
      - id: 1
        jobs: [{id: 1, name: build, status: success}, {id: 2, name: test, status: running}]
",
    );
    let run = glmock_check(&[&f.path]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.starts_with("ok:"), "{run}");
    assert!(
        run.stdout
            .contains("1 project(s), 1 pipeline(s), 2 job(s), GitLab 17.2"),
        "{run}"
    );
}

#[test]
fn check_accepts_every_fixture() {
    for file in fixture_files() {
        let run = glmock_check(&[&file]);
        assert_eq!(run.code, Some(0), "{}: {run}", file.display());
        assert!(run.stdout.starts_with("ok:"), "{}: {run}", file.display());
    }
}

// ---------------------------------------------------------------------------------------
// glmock serve
// ---------------------------------------------------------------------------------------

#[test]
fn serve_refuses_a_broken_scenario_and_reports_every_error_on_stderr() {
    let f = TempScenario::new("serve-broken", ALL_MISTAKES);
    let mut child = glmock_command([
        OsStr::new("serve"),
        OsStr::new("--scenario"),
        f.path.as_os_str(),
        OsStr::new("--listen"),
        OsStr::new("127.0.0.1:0"),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("starting glmock serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child
        .try_wait()
        .expect("waiting for glmock serve")
        .is_none()
    {
        if Instant::now() > deadline {
            let _ = child.kill();
            let run: Run = child
                .wait_with_output()
                .expect("glmock serve output")
                .into();
            panic!("glmock serve kept running with a broken scenario\n{run}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let run: Run = child
        .wait_with_output()
        .expect("glmock serve output")
        .into();
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stdout.trim().is_empty(),
        "serve printed a URL or other output on stdout\n{run}"
    );
    assert_reports_exactly(&run.stderr, &all_mistake_lines(&f), &run);
}

// ---------------------------------------------------------------------------------------
// Known bugs: these assert the intended behaviour and fail until src/ is fixed.
// ---------------------------------------------------------------------------------------

/// Cross-check errors about one field should point at that field, as the duplicate-id and
/// job-token errors now do. These still point at the enclosing mapping (the line of its
/// first key): check.rs reports them at `u.loc`, `p.loc`, `a.loc`, `t.loc`, `j.loc` and
/// `g.loc`, and read_ci in load.rs reports a CI job's stage at the `ci:` mapping (`n.loc`).
#[test]
fn check_points_every_reference_error_at_its_field() {
    let f = TempScenario::new(
        "more-field-locations",
        "\
users:
  - {id: 1, username: a, tokens: [glpat-a]}
  - id: 2
    username: a
projects:
  - {id: 1, path: g/p}
  - id: 2
    path: g/p
  - id: 3
    path: g/q
    agents:
      - id: 1
        config_project: 99
    ci:
      stages: [build]
      jobs:
        - name: x
          stage: test
    pipelines:
      - id: 10
        jobs:
          - id: 100
            name: a
            status: success
            failure_reason: script_failure
    generate:
      - pipelines: 1
        jobs_per_pipeline: 1
        first_pipeline_id: 5
job_tokens:
  - job: 100
    token: glpat-a
",
    );
    let run = glmock_check(&[&f.path]);
    assert_eq!(run.code, Some(2), "{run}");
    let lines = error_lines(&run.stdout);
    let mut wrong = Vec::new();
    for expected in [
        f.at(4, 15, "users[1].username", "duplicate username \"a\""),
        f.at(8, 11, "projects[1].path", "duplicate project path \"g/p\""),
        f.at(
            13,
            25,
            "projects[2].agents[0].config_project",
            "unknown project id 99",
        ),
        f.at(
            18,
            18,
            "projects[2].ci.jobs[0].stage",
            "stage \"test\" is not in stages (allowed: build)",
        ),
        f.at(
            25,
            29,
            "projects[2].pipelines[0].jobs[0].failure_reason",
            "failure_reason is only allowed on failed jobs (this one is success)",
        ),
        f.at(
            29,
            28,
            "projects[2].generate[0].first_pipeline_id",
            "must be above every pipeline id already defined (10)",
        ),
        f.at(
            32,
            12,
            "job_tokens[0].token",
            "this token is already used by a user or another job",
        ),
    ] {
        if !lines.contains(&expected.as_str()) {
            wrong.push(expected);
        }
    }
    assert!(
        wrong.is_empty(),
        "not reported as expected:\n{wrong:#?}\n{run}"
    );
}

/// The README's field reference is the schema's, rendered (`src/scenario/reference.rs`).
/// Run with `GLMOCK_BLESS=1` to rewrite it after changing the field tables.
#[test]
fn readme_field_reference_is_rendered_from_the_schema() {
    use glmock::__internal::scenario::reference;
    let readme_path = crate_dir().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    // The generated schema, which the committed one must equal (tested above), so one
    // GLMOCK_BLESS=1 run rewrites both.
    let expected = reference::markdown(&scenario::schema::generate());
    let (Some(start), Some(end)) = (readme.find(reference::BEGIN), readme.find(reference::END))
    else {
        panic!("README.md has no generated scenario reference (markers missing)");
    };
    let current = &readme[start..end + reference::END.len()];
    if current != expected {
        if std::env::var_os("GLMOCK_BLESS").is_some() {
            let updated = format!(
                "{}{expected}{}",
                &readme[..start],
                &readme[end + reference::END.len()..]
            );
            std::fs::write(&readme_path, updated).expect("writing README.md");
        } else {
            panic!(
                "README.md's scenario reference differs from the schema; run the test with GLMOCK_BLESS=1"
            );
        }
    }
}

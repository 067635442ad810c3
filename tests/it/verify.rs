//! `glmock verify`: cassettes recorded from real glmock servers, verified in-process and
//! through the binary; planted differences found with the right kind and path; version
//! drift; schema drift; the three report formats.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

use glmock::__internal::record::cassette::{
    BASE_PLACEHOLDER, Body, Cassette, Exchange, RecordedRequest, RecordedResponse,
};
use glmock::__internal::scenario::{Overrides, Source};
use glmock::__internal::verify::{self, Kind, Report, VerifyOptions};
use glmock::__internal::version::Version;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ROOT, TestServer};

/// The response headers a recorder keeps.
const KEPT: &[&str] = &[
    "content-type",
    "x-total",
    "x-total-pages",
    "x-page",
    "x-per-page",
    "x-next-page",
    "x-prev-page",
    "link",
];

/// Sends each request to `server` with the root token and records the exchanges the way
/// `glmock record` writes them (`Link` hosts replaced by `{base}`).
async fn record(
    server: &TestServer,
    version: &str,
    requests: &[(&str, &str, Option<Value>)],
) -> Cassette {
    let mut cassette = Cassette::new(&server.url, "proxy");
    cassette.gitlab_version = Some(version.to_owned());
    for (method, target, body) in requests {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let resp = server
            .send(
                method.clone(),
                target,
                Some(ROOT),
                body.as_ref().map(|b| ("application/json", b.to_string())),
            )
            .await;
        let mut headers = BTreeMap::new();
        for name in KEPT {
            if let Some(v) = resp.header(name) {
                headers.insert((*name).to_owned(), v.replace(&server.url, BASE_PLACEHOLDER));
            }
        }
        let json_body = headers
            .get("content-type")
            .is_some_and(|c| c.starts_with("application/json"));
        let rbody = if resp.text.is_empty() {
            None
        } else if json_body {
            Some(Body::Json(resp.json()))
        } else {
            Some(Body::Text(resp.text.clone()))
        };
        let mut req_headers = BTreeMap::new();
        if body.is_some() {
            req_headers.insert("content-type".to_owned(), "application/json".to_owned());
        }
        cassette.exchanges.push(Exchange {
            request: RecordedRequest {
                method: method.to_string(),
                path: format!("/api/v4{path}"),
                query: query.to_owned(),
                headers: req_headers,
                body: body.clone().map(Body::Json),
            },
            response: RecordedResponse {
                status: resp.status,
                headers,
                body: rbody,
            },
        });
    }
    cassette
}

/// GETs across the API, errors, and mutations whose effects later GETs read.
const TOUR: &[(&str, &str, Option<Value>)] = &[
    ("GET", "/user", None),
    ("GET", "/projects/1", None),
    ("GET", "/projects/1/jobs?per_page=2", None),
    ("GET", "/projects/1/jobs?per_page=2&page=2", None),
    (
        "GET",
        "/projects/1/jobs?scope[]=success&scope[]=failed",
        None,
    ),
    ("GET", "/projects/1/jobs/7", None),
    ("GET", "/projects/1/jobs/7/trace", None),
    ("GET", "/projects/1/pipelines?per_page=2", None),
    ("GET", "/projects/1/pipelines/46", None),
    ("GET", "/projects/1/pipelines/latest", None),
    ("GET", "/projects/1/pipelines/46/jobs", None),
    ("GET", "/projects/1/pipelines/46/bridges", None),
    ("GET", "/projects/1/pipelines/46/variables", None),
    ("GET", "/projects/1/pipelines/46/test_report", None),
    ("GET", "/projects/1/pipelines/46/test_report_summary", None),
    ("GET", "/projects/1/jobs/999999", None),
    ("GET", "/projects/1/jobs?scope=nonsense", None),
    ("POST", "/projects/1/jobs/7/retry", None),
    ("POST", "/projects/1/jobs/8/cancel", None),
    ("GET", "/projects/1/jobs/8", None),
    ("GET", "/projects/1/pipelines/46", None),
];

fn default_scenario() -> VerifyOptions {
    VerifyOptions {
        scenarios: vec![Source::embedded_default()],
        ..VerifyOptions::default()
    }
}

/// `(exchange index, kind, path)` of every mismatch.
fn found(report: &Report) -> BTreeSet<(usize, Kind, String)> {
    report
        .mismatches()
        .map(|(x, m)| (x.index, m.kind, m.path.clone()))
        .collect()
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("glmock-verify-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn glmock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glmock"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("glmock runs")
}

fn body_mut(c: &mut Cassette, index: usize) -> &mut Value {
    match c.exchanges[index - 1].response.body.as_mut() {
        Some(Body::Json(v)) => v,
        other => panic!("exchange {index} has no JSON body: {other:?}"),
    }
}

#[tokio::test]
async fn cassette_from_the_default_scenario_has_no_drift() {
    // Arrange
    let server = TestServer::default_scenario().await;
    let cassette = record(&server, "18.5", TOUR).await;

    // Act
    let report = verify::verify(std::slice::from_ref(&cassette), &default_scenario()).unwrap();

    // Assert
    assert!(!report.drifted(), "{}", report.to_text(false));
    assert_eq!(report.summary.exchanges, TOUR.len());
    assert_eq!(report.summary.replayed, TOUR.len());
    // The schema was checked where one applies.
    let job = &report.cassettes[0].exchanges[5];
    assert_eq!(job.shape.as_deref(), Some("job"));

    let path = write_temp("clean.yaml", &cassette.to_yaml());
    let out = glmock(&[
        "verify",
        path.to_str().unwrap(),
        "--scenario",
        "fixtures/default.yaml",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} exchange(s)", TOUR.len())),
        "{stdout}"
    );
    assert!(stdout.contains("0 drifted"), "{stdout}");
    std::fs::remove_file(path).ok();
}

/// The tour, recorded from the default scenario, with one planted change per exchange.
async fn planted() -> Cassette {
    let server = TestServer::default_scenario().await;
    let mut c = record(&server, "18.5", TOUR).await;
    // #6 GET jobs/7: a field glmock has that the recording lacks, and one it lacks.
    body_mut(&mut c, 6)
        .as_object_mut()
        .unwrap()
        .remove("coverage");
    body_mut(&mut c, 6)["surprise"] = json!(true);
    // #9 GET pipelines/46: another value of an unmasked field, another type.
    body_mut(&mut c, 9)["status"] = json!("failed");
    body_mut(&mut c, 9)["ref"] = json!(12);
    // #8 GET pipelines?per_page=2: one item fewer, another total.
    body_mut(&mut c, 8).as_array_mut().unwrap().pop();
    c.exchanges[7]
        .response
        .headers
        .insert("x-total".into(), "99".into());
    // #2 GET projects/1: another status.
    c.exchanges[1].response.status = 404;
    // #3 GET jobs?per_page=2: a job renamed.
    body_mut(&mut c, 3)[0]["name"] = json!("renamed");
    c
}

#[tokio::test]
async fn planted_differences_are_found_with_their_kind_and_path() {
    // Arrange: one planted change per exchange.
    let c = planted().await;

    // Act
    let report = verify::verify(std::slice::from_ref(&c), &default_scenario()).unwrap();

    // Assert
    let found = found(&report);
    let expected: BTreeSet<(usize, Kind, String)> = [
        (2, Kind::Status, "status"),
        (3, Kind::Value, "$[0].name"),
        (6, Kind::Extra, "$.coverage"),
        (6, Kind::Missing, "$.surprise"),
        (6, Kind::Schema, "$.surprise"),
        (6, Kind::Schema, "$.coverage"),
        (8, Kind::Length, "$"),
        (8, Kind::Header, "headers.x-total"),
        (9, Kind::Value, "$.status"),
        (9, Kind::Type, "$.ref"),
        (9, Kind::Schema, "$.ref"),
    ]
    .into_iter()
    .map(|(i, k, p)| (i, k, p.to_owned()))
    .collect();
    assert_eq!(found, expected, "{}", report.to_text(false));
    let name = report
        .mismatches()
        .find(|(_, m)| m.path == "$[0].name")
        .unwrap()
        .1;
    assert_eq!(name.expected, Some(json!("renamed")));
    assert_eq!(name.actual, Some(json!("rspec")));
    assert_eq!(report.summary.drifted, 5);
    assert_eq!(report.summary.by_kind[&Kind::Schema], 3);
    assert_eq!(report.summary.schema_violations, 3);
    let diff = report.cassettes[0].exchanges[8].diff.as_deref().unwrap();
    assert!(
        diff.contains("-  \"status\": \"failed\",\n+  \"status\": \"success\",\n"),
        "{diff}"
    );
    assert!(diff.contains("\"project_id\": \"<masked>\""), "{diff}");

    let path = write_temp("planted.yaml", &c.to_yaml());
    let out = glmock(&[
        "verify",
        path.to_str().unwrap(),
        "--scenario",
        "fixtures/default.yaml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn masked_and_ignored_fields_do_not_drift() {
    // Arrange: volatile values changed, and a field the user chose to ignore.
    let server = TestServer::default_scenario().await;
    let mut c = record(&server, "18.5", &TOUR[5..6]).await;
    body_mut(&mut c, 1)["id"] = json!(123_456);
    body_mut(&mut c, 1)["created_at"] = json!("2030-01-01T00:00:00.000Z");
    body_mut(&mut c, 1)["pipeline"]["sha"] = json!("0000");
    body_mut(&mut c, 1)["user"]["bio"] = json!("changed");
    let opts = VerifyOptions {
        ignore: vec!["$..bio".into()],
        ..default_scenario()
    };

    // Act
    let report = verify::verify(std::slice::from_ref(&c), &opts).unwrap();

    // Assert
    assert!(!report.drifted(), "{}", report.to_text(false));
    // A masked field still has its type compared.
    body_mut(&mut c, 1)["id"] = json!("123456");
    let report = verify::verify(std::slice::from_ref(&c), &opts).unwrap();
    assert_eq!(
        found(&report).into_iter().collect::<Vec<_>>(),
        vec![
            (1, Kind::Type, "$.id".to_owned()),
            (1, Kind::Schema, "$.id".to_owned())
        ],
        "{}",
        report.to_text(false)
    );
}

#[tokio::test]
async fn a_16_11_recording_against_18_5_shows_the_version_fields() {
    // Arrange
    let old = TestServer::from_sources(
        vec![Source::embedded_default()],
        Overrides {
            version: Version::parse("16.11"),
            ..Overrides::default()
        },
    )
    .await;
    let c = record(
        &old,
        "16.11.2",
        &[
            ("GET", "/projects/1/jobs/7", None),
            ("GET", "/projects/1/pipelines/46", None),
            ("GET", "/projects/1/jobs?per_page=2", None),
        ],
    )
    .await;
    let opts = VerifyOptions {
        gitlab_version: Version::parse("18.5"),
        ..default_scenario()
    };

    // Act
    let report = verify::verify(std::slice::from_ref(&c), &opts).unwrap();

    // Assert
    let found = found(&report);
    assert_eq!(report.cassettes[0].gitlab_version, "18.5");
    assert!(
        found.contains(&(1, Kind::Extra, "$.archived".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(2, Kind::Extra, "$.archived".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(3, Kind::Header, "headers.x-total".into())),
        "{found:?}"
    );
    // Against its own version the same cassette is clean.
    let own = verify::verify(std::slice::from_ref(&c), &default_scenario()).unwrap();
    assert_eq!(own.cassettes[0].gitlab_version, "16.11");
    assert!(!own.drifted(), "{}", own.to_text(false));
    // And the other way round: an 18.5 recording against 16.11 has what 16.11 lacks.
    let new = TestServer::default_scenario().await;
    let c = record(&new, "18.5", &[("GET", "/projects/1/jobs/7", None)]).await;
    let opts = VerifyOptions {
        gitlab_version: Version::parse("16.11"),
        ..default_scenario()
    };
    let report = verify::verify(std::slice::from_ref(&c), &opts).unwrap();
    let older = self::found(&report);
    assert!(
        older.contains(&(1, Kind::Missing, "$.archived".into())),
        "{older:?}"
    );
    // The 16.11 schema allows `archived` (versions in the docs are approximate).
    assert!(
        !older.iter().any(|(_, k, _)| *k == Kind::Schema),
        "{older:?}"
    );
}

/// A small hand-written cassette: a changed value and an undocumented field, a changed log
/// line, a control request, a changed status, and a clean error.
const SMALL: &str = r#"# glmock cassette
version: 1
recorded_at: "2025-01-01T00:00:00.000Z"
upstream: https://gitlab.example.com
gitlab_version: "18.5.1-ee"
mode: proxy
exchanges:
  - request:
      method: GET
      path: /api/v4/projects/1/pipelines/46/variables
    response:
      status: 200
      headers:
        content-type: application/json; charset=utf-8
      body:
        json:
          - key: RUN_NIGHTLY_BUILD
            value: "false"
            variable_type: env_var
            raw: false
            protected: true
          - key: foo
            value: bar
            variable_type: env_var
            raw: false
  - request:
      method: GET
      path: /api/v4/projects/1/jobs/1/trace
    response:
      status: 200
      headers:
        content-type: text/plain
      body:
        text: |
          Running with gitlab-runner 16.11.1 (535ced5f)
          Preparing the "docker" executor
          Getting source from Git repository
          Checking out 0ff3ae19 as detached HEAD (ref is main)...
          Executing "step_script" stage of the job script
          $ bundle exec rubocop
          Inspecting 43 files
          ..........C...............................
          42 files inspected, 1 offense detected
          ERROR: Job failed: exit code 1
  - request:
      method: GET
      path: /-/glmock/health
    response:
      status: 200
  - request:
      method: GET
      path: /api/v4/projects/1/pipelines/999
    response:
      status: 403
      headers:
        content-type: application/json
      body:
        json:
          message: 403 Forbidden
  - request:
      method: GET
      path: /api/v4/projects/1/jobs/999999
    response:
      status: 404
      headers:
        content-type: application/json
      body:
        json:
          message: 404 Not found
"#;

const SMALL_REPORT: &str = r#"cassette small.yaml (recorded from GitLab 18.5.1-ee, glmock emulating 18.5)
  #1 DRIFT GET /api/v4/projects/1/pipelines/46/variables (200)
      missing $[0].protected: expected true, got (absent)
      value   $[0].value: expected "false", got "true"
      schema  $[0].protected: pipeline_variables: "protected" is not in the schema
      --- recorded
      +++ glmock
      @@ -1,9 +1,8 @@
       [
         {
           "key": "RUN_NIGHTLY_BUILD",
      -    "protected": true,
           "raw": false,
      -    "value": "false",
      +    "value": "true",
           "variable_type": "env_var"
         },
         {
  #2 DRIFT GET /api/v4/projects/1/jobs/1/trace (200)
      value   $: the text differs (10 line(s) recorded, 10 from glmock)
      --- recorded
      +++ glmock
      @@ -4,7 +4,7 @@
       Checking out 0ff3ae19 as detached HEAD (ref is main)...
       Executing "step_script" stage of the job script
       $ bundle exec rubocop
      -Inspecting 43 files
      +Inspecting 42 files
       ..........C...............................
       42 files inspected, 1 offense detected
       ERROR: Job failed: exit code 1
  #3 skip  GET /-/glmock/health (glmock control API, not replayed)
  #4 DRIFT GET /api/v4/projects/1/pipelines/999 (recorded 403, glmock 404)
      status  status: expected 403, got 404
      --- recorded
      +++ glmock
      @@ -1,3 +1,3 @@
       {
      -  "message": "403 Forbidden"
      +  "message": "404 Not found"
       }
  #5 ok    GET /api/v4/projects/1/jobs/999999 (404)

summary: 5 exchange(s): 4 replayed, 1 skipped; 3 drifted, 1 ok
  differences: status 1, missing 1, value 2
  schema violations: 1
"#;

#[test]
fn text_report_of_a_small_cassette() {
    let cassette = Cassette::parse("small.yaml", SMALL).unwrap();
    let report =
        verify::verify_named(&[("small.yaml".into(), cassette)], &default_scenario()).unwrap();
    let text = report.to_text(false);
    assert_eq!(text, SMALL_REPORT, "actual:\n{text}");
}

#[tokio::test]
async fn an_undocumented_field_is_schema_drift() {
    // Arrange: real GitLab sends a field the docs do not have (and glmock does not either).
    let server = TestServer::default_scenario().await;
    let mut c = record(&server, "18.5", &TOUR[5..6]).await;
    body_mut(&mut c, 1)["runner"]["maintenance_note"] = json!("");

    // Act
    let report = verify::verify(std::slice::from_ref(&c), &default_scenario()).unwrap();

    // Assert
    let schema: Vec<_> = report
        .mismatches()
        .filter(|(_, m)| m.kind == Kind::Schema)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(schema.len(), 1, "{}", report.to_text(false));
    assert_eq!(schema[0].path, "$.runner.maintenance_note");
    assert_eq!(schema[0].actual, Some(json!("")));
    assert!(
        schema[0]
            .message
            .as_deref()
            .unwrap()
            .contains("\"maintenance_note\" is not in the schema"),
        "{:?}",
        schema[0].message
    );
    assert_eq!(report.summary.schema_violations, 1);
    assert_eq!(
        report.cassettes[0].exchanges[0].shape.as_deref(),
        Some("job")
    );
    // --ignore also silences the schema check there.
    let opts = VerifyOptions {
        ignore: vec!["$.runner.maintenance_note".into()],
        ..default_scenario()
    };
    let report = verify::verify(std::slice::from_ref(&c), &opts).unwrap();
    assert!(!report.drifted(), "{}", report.to_text(false));
}

#[tokio::test]
async fn ids_of_entities_the_recording_created_are_translated() {
    // Arrange: the recording's retry made job 5000 (glmock makes another id) and then read it.
    let server = TestServer::default_scenario().await;
    let mut c = record(
        &server,
        "18.5",
        &[
            ("POST", "/projects/1/jobs/7/retry", None),
            ("GET", "/projects/1/jobs/7", None),
        ],
    )
    .await;
    let new_id = body_mut(&mut c, 1)["id"].as_u64().unwrap();
    body_mut(&mut c, 1)["id"] = json!(5000);
    let mut read = c.exchanges[0].clone();
    read.request.method = "GET".into();
    read.request.path = "/api/v4/projects/1/jobs/5000".into();
    read.response.status = 200;
    c.exchanges.push(read);

    // Act
    let report = verify::verify(std::slice::from_ref(&c), &default_scenario()).unwrap();

    // Assert
    assert!(
        !report.drifted(),
        "new id {new_id}: {}",
        report.to_text(false)
    );
    assert_eq!(report.cassettes[0].exchanges[2].glmock_status, Some(200));
}

/// What a tiny XML reader finds in a document it checked for well-formedness.
#[derive(Debug, Default)]
struct XmlCounts {
    elements: BTreeMap<String, usize>,
}

/// Checks that `doc` is well-formed XML as far as the JUnit report needs: one root, every
/// tag closed in order, attributes quoted, only the five predefined entities, no markup
/// characters in text. Panics with the offset of the first problem.
fn check_xml(doc: &str) -> XmlCounts {
    let mut counts = XmlCounts::default();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = doc
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .expect("XML declaration");
    let check_text = |text: &str| {
        assert!(!text.contains('>'), "raw '>' in text: {text:?}");
        let mut parts = text.split('&');
        parts.next();
        for p in parts {
            assert!(
                ["amp;", "lt;", "gt;", "quot;", "apos;"]
                    .iter()
                    .any(|e| p.starts_with(e)),
                "bad entity in {text:?}"
            );
        }
        assert!(
            !text
                .chars()
                .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')),
            "control character in {text:?}"
        );
    };
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        check_text(text);
        if stack.is_empty() {
            assert!(text.trim().is_empty(), "text outside the root: {text:?}");
        }
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            continue;
        }
        let (tag, self_closing) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad element name {name:?}"
        );
        // Attributes: name="value" pairs, values without '<' or '"'.
        let mut attrs = tag[name_end..].trim();
        while !attrs.is_empty() {
            let eq = attrs
                .find("=\"")
                .unwrap_or_else(|| panic!("bad attribute in <{tag}>"));
            let aname = attrs[..eq].trim();
            assert!(
                aname.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{aname:?}"
            );
            let vend = attrs[eq + 2..].find('"').expect("unclosed attribute") + eq + 2;
            let value = &attrs[eq + 2..vend];
            assert!(!value.contains('<'), "'<' in attribute {value:?}");
            check_text(value);
            attrs = attrs[vend + 1..].trim_start();
        }
        if stack.is_empty() {
            roots += 1;
        }
        *counts.elements.entry(name.to_owned()).or_default() += 1;
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    assert!(rest.trim().is_empty(), "trailing text {rest:?}");
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    assert_eq!(roots, 1, "one root element");
    counts
}

#[tokio::test]
async fn junit_report_is_well_formed_with_a_test_case_per_exchange() {
    // Arrange
    let c = planted().await;
    let path = write_temp("junit.yaml", &c.to_yaml());

    // Act
    let out = glmock(&[
        "verify",
        path.to_str().unwrap(),
        "--scenario",
        "fixtures/default.yaml",
        "--format",
        "junit",
    ]);

    // Assert
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    let counts = check_xml(&xml);
    assert_eq!(counts.elements["testsuites"], 1);
    assert_eq!(counts.elements["testsuite"], 1);
    assert_eq!(counts.elements["testcase"], TOUR.len(), "{xml}");
    assert_eq!(counts.elements["failure"], 5, "{xml}");
    assert!(
        xml.contains("&quot;id&quot;: &quot;&lt;masked&gt;&quot;"),
        "{xml}"
    );
    assert!(
        xml.contains("name=\"#5 GET /api/v4/projects/1/jobs?scope[]=success&amp;scope[]=failed\""),
        "{xml}"
    );
    std::fs::remove_file(path).ok();
}

#[test]
fn json_report_parses_and_holds_the_mismatches_as_data() {
    // Arrange
    let path = write_temp("small.yaml", SMALL);

    // Act
    let out = glmock(&[
        "verify",
        path.to_str().unwrap(),
        "--scenario",
        "fixtures/default.yaml",
        "--format",
        "json",
    ]);

    // Assert
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("the JSON report parses");
    assert_eq!(
        report["summary"],
        json!({
            "exchanges": 5, "replayed": 4, "skipped": 1, "drifted": 3, "ok": 1,
            "by_kind": {"status": 1, "missing": 1, "value": 2, "schema": 1},
            "schema_violations": 1
        })
    );
    let first = &report["cassettes"][0]["exchanges"][0];
    assert_eq!(first["shape"], "pipeline_variables");
    assert_eq!(
        first["mismatches"][0],
        json!({"path": "$[0].protected", "expected": true, "kind": "missing"})
    );
    assert_eq!(
        first["mismatches"][1],
        json!({"path": "$[0].value", "expected": "false", "actual": "true", "kind": "value"})
    );
    assert!(
        first["diff"]
            .as_str()
            .unwrap()
            .starts_with("--- recorded\n+++ glmock\n")
    );
    assert_eq!(
        report["cassettes"][0]["exchanges"][2]["skipped"],
        "glmock control API, not replayed"
    );
    std::fs::remove_file(path).ok();
}

#[test]
fn colour_only_on_request_or_a_terminal() {
    let path = write_temp("colour.yaml", SMALL);
    let p = path.to_str().unwrap();
    let piped = glmock(&["verify", p, "--scenario", "fixtures/default.yaml"]);
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\x1b'));
    let always = glmock(&[
        "verify",
        p,
        "--scenario",
        "fixtures/default.yaml",
        "--color",
        "always",
    ]);
    let text = String::from_utf8_lossy(&always.stdout);
    assert!(text.contains("\x1b[31mDRIFT\x1b[0m"), "{text}");
    assert!(
        text.contains("\x1b[32m+    \"value\": \"true\",\x1b[0m"),
        "{text}"
    );
    std::fs::remove_file(path).ok();
}

#[test]
fn usage_and_input_errors_exit_2() {
    let path = write_temp("errors.yaml", SMALL);
    let p = path.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &[
            "verify",
            "/nonexistent/cassette.yaml",
            "--scenario",
            "fixtures/default.yaml",
        ],
        &[
            "verify",
            p,
            "--scenario",
            "fixtures/default.yaml",
            "--ignore",
            "user.name",
        ],
        &[
            "verify",
            p,
            "--scenario",
            "fixtures/default.yaml",
            "--color",
            "sometimes",
        ],
        &[
            "verify",
            p,
            "--scenario",
            "fixtures/default.yaml",
            "--gitlab-version",
            "9.0",
        ],
        &["verify", p, "--scenario", "/nonexistent/scenario.yaml"],
    ];
    for args in cases {
        let out = glmock(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    let bad = write_temp("bad.yaml", "version: 1\nexchanges: nope\n");
    let out = glmock(&[
        "verify",
        bad.to_str().unwrap(),
        "--scenario",
        "fixtures/default.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading the cassettes"));
    std::fs::remove_file(path).ok();
    std::fs::remove_file(bad).ok();
}

#[tokio::test]
async fn without_a_scenario_the_one_imported_from_the_cassettes_is_used() {
    // Arrange: only GETs, which an imported scenario answers with the recorded data. Not the
    // first page of a longer pipeline list: the import only knows the pipelines it saw, so
    // that page's totals cannot match.
    let server = TestServer::default_scenario().await;
    let gets: Vec<(&str, &str, Option<Value>)> = TOUR
        .iter()
        .filter(|(m, target, _)| *m == "GET" && *target != "/projects/1/pipelines?per_page=2")
        .cloned()
        .collect();
    let c = record(&server, "18.5", &gets).await;

    // Act
    let report = verify::verify(std::slice::from_ref(&c), &VerifyOptions::default()).unwrap();

    // Assert
    assert!(!report.drifted(), "{}", report.to_text(false));
    assert_eq!(report.summary.replayed, gets.len());
    let path = write_temp("import.yaml", &c.to_yaml());
    let out = glmock(&["verify", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(path).ok();
}

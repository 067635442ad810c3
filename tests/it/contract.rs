//! The contract through HTTP: strict, warn and off; every endpoint of the default and
//! showcase scenarios under three GitLab versions; `glmock check` and `schemas derive`.

use glmock::__internal::ServerOptions;
use glmock::__internal::contract::Mode;
use glmock::__internal::scenario::{Overrides, Source};
use serde_json::{Value, json};

use crate::support::*;

const BAD: &str = r#"
users: [{id: 1, username: root, tokens: [tok]}]
projects:
  - id: 1
    path: g/p
    members: {root: owner}
    pipelines:
      - id: 1
        jobs:
          - {id: 1, name: fine, status: success}
          - {id: 2, name: odd, status: success, override: {coverage: "high"}}
"#;

async fn server(yaml: &str, mode: Mode) -> TestServer {
    let options = ServerOptions {
        listen: ([127, 0, 0, 1], 0).into(),
        contract: mode,
        ..ServerOptions::default()
    };
    TestServer::start(
        vec![Source {
            name: "bad.yaml".into(),
            text: yaml.into(),
            dir: None,
        }],
        Overrides::default(),
        options,
    )
    .await
}

fn coverage_violation(shape: &str, path: &str) -> Value {
    json!({
        "shape": shape,
        "path": path,
        "expected": ["null", "number"],
        "actual": "high",
        "schema": "/$defs/job/properties/coverage/type",
        "message": "\"high\" is not of types \"null\", \"number\""
    })
}

#[tokio::test]
async fn strict_mode_replaces_a_violating_response_with_a_500_listing_it() {
    let s = server(BAD, Mode::Strict).await;
    let r = s.get("/projects/1/jobs/2", Some("tok")).await;
    let v = coverage_violation("job", "/coverage");
    r.assert(500, json!({"message": "500 Internal Server Error - glmock: the response breaks its schema", "violations": [v]}));
    // In a list the pointer says which item.
    let r = s.get("/projects/1/jobs", Some("tok")).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["violations"][0]["path"], "/0/coverage");
    assert_eq!(r.json()["violations"][0]["shape"], "job_list");
    // A clean job is served.
    assert_eq!(s.get("/projects/1/jobs/1", Some("tok")).await.status, 200);
}

#[tokio::test]
async fn warn_mode_serves_marks_and_records_the_violation() {
    let s = server(BAD, Mode::Warn).await;
    let r = s.get("/projects/1/jobs/2", Some("tok")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["coverage"], "high");
    assert_eq!(
        r.header("x-glmock-contract-violations"),
        Some("1 violation(s); first: job /coverage: \"high\" is not of types \"null\", \"number\"")
    );
    assert_eq!(
        s.get("/projects/1/jobs/1", Some("tok"))
            .await
            .header("x-glmock-contract-violations"),
        None
    );
    let j = s
        .send(
            reqwest::Method::GET,
            "/-/glmock/violations?session=default",
            None,
            None,
        )
        .await
        .json();
    let entries = j["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{j}");
    assert_eq!(entries[0]["path"], "/api/v4/projects/1/jobs/2");
    assert_eq!(entries[0]["violations"][0]["path"], "/coverage");
    assert_eq!(entries[0]["violations"][0]["actual"], "high");
    // The journal has it too; other sessions have none.
    let j = s
        .send(
            reqwest::Method::GET,
            "/-/glmock/violations?session=other",
            None,
            None,
        )
        .await
        .json();
    assert_eq!(j["entries"], json!([]));
}

#[tokio::test]
async fn off_mode_checks_nothing() {
    let s = server(BAD, Mode::Off).await;
    let r = s.get("/projects/1/jobs/2", Some("tok")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-glmock-contract-violations"), None);
}

/// GETs and writes over every object, in a strict server: any violation is a 500.
async fn exercise_everything(s: &TestServer, token: &str) -> usize {
    let tok = Some(token);
    let mut checked = 0;
    let mut expect_ok = |r: &Resp, what: &str| {
        assert!(r.status < 500, "{what}: {} {}", r.status, r.text);
        assert_eq!(r.header("x-glmock-contract-violations"), None, "{what}");
        checked += 1;
    };
    let projects: Vec<u64> = vec![1, 2, 10];
    for p in projects {
        let r = s.get(&format!("/projects/{p}"), tok).await;
        if r.status == 404 {
            continue;
        }
        expect_ok(&r, "project");
        let jobs = s
            .get(&format!("/projects/{p}/jobs?per_page=100"), tok)
            .await;
        expect_ok(&jobs, "jobs");
        expect_ok(
            &s.get(
                &format!("/projects/{p}/jobs?pagination=keyset&per_page=5"),
                tok,
            )
            .await,
            "keyset",
        );
        for id in jobs.ids() {
            expect_ok(
                &s.get(&format!("/projects/{p}/jobs/{id}"), tok).await,
                "job",
            );
            expect_ok(
                &s.get(&format!("/projects/{p}/jobs/{id}/trace"), tok).await,
                "trace",
            );
        }
        let pipelines = s
            .get(
                &format!("/projects/{p}/pipelines?per_page=100&source=parent_pipeline"),
                tok,
            )
            .await;
        expect_ok(&pipelines, "child pipelines");
        let pipelines = s
            .get(&format!("/projects/{p}/pipelines?per_page=100"), tok)
            .await;
        expect_ok(&pipelines, "pipelines");
        expect_ok(
            &s.get(&format!("/projects/{p}/pipelines/latest"), tok).await,
            "latest",
        );
        for id in pipelines.ids() {
            for sub in [
                "",
                "/jobs?include_retried=true",
                "/bridges",
                "/variables",
                "/test_report",
                "/test_report_summary",
            ] {
                expect_ok(
                    &s.get(&format!("/projects/{p}/pipelines/{id}{sub}"), tok)
                        .await,
                    sub,
                );
            }
        }
        // Writes, in a session of their own.
        let base = format!("{}/-/sessions/contract/api/v4/projects/{p}", s.url);
        for id in jobs.ids() {
            for action in ["play", "retry", "erase", "cancel"] {
                expect_ok(
                    &s.post(&format!("{base}/jobs/{id}/{action}"), tok).await,
                    action,
                );
            }
        }
        for id in pipelines.ids() {
            for action in ["retry", "cancel"] {
                expect_ok(
                    &s.post(&format!("{base}/pipelines/{id}/{action}"), tok)
                        .await,
                    action,
                );
            }
        }
        expect_ok(
            &s.post_json(&format!("{base}/pipeline"), tok, json!({"ref": "main"}))
                .await,
            "create",
        );
        if let Some(id) = pipelines.ids().first() {
            let r = s
                .send(
                    reqwest::Method::DELETE,
                    &format!("{base}/pipelines/{id}"),
                    tok,
                    None,
                )
                .await;
            assert_eq!(r.status, 204);
        }
    }
    // Errors have schemas too.
    for (path, token) in [
        ("/projects/1/jobs", None),
        ("/projects/999/jobs", tok),
        ("/projects/1/jobs/abc", tok),
        ("/nope", tok),
    ] {
        let r = s.get(path, token).await;
        assert!(r.status >= 400 && r.status < 500, "{path}: {}", r.status);
        assert_eq!(r.header("x-glmock-contract-violations"), None);
    }
    checked
}

#[tokio::test]
async fn every_endpoint_matches_its_schema_in_strict_mode_across_versions() {
    for version in ["13.12", "16.11", "18.5"] {
        for (files, token) in [
            (vec!["fixtures/default.yaml"], ROOT),
            (vec!["fixtures/examples/showcase.yaml"], "glpat-alice"),
        ] {
            let sources: Vec<Source> = files
                .iter()
                .map(|f| Source::read(&fixture(f)).unwrap())
                .collect();
            let overrides = Overrides {
                version: glmock::__internal::version::Version::parse(version),
                ..Overrides::default()
            };
            let s = TestServer::from_sources(sources, overrides).await;
            let n = exercise_everything(&s, token).await;
            assert!(n > 50, "{version} {files:?}: only {n} responses checked");
        }
    }
}

#[test]
fn check_reports_a_violating_scenario_with_its_location() {
    let path = std::env::temp_dir().join(format!("glmock-contract-{}.yaml", std::process::id()));
    std::fs::write(&path, BAD).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let line = format!(
        "  {}:11:13: projects[0].pipelines[0].jobs[1]: GET /projects/:id/jobs/:job_id (1 2): job /coverage: \"high\" is not of types \"null\", \"number\"",
        path.display()
    );
    assert!(
        stdout.lines().any(|l| l == line),
        "expected {line}\n{stdout}"
    );
}

#[test]
fn committed_schemas_are_what_the_seeds_derive() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    if !seeds.is_dir() {
        // The derivation from committed examples (src/contract/derive/tests.rs) still runs.
        eprintln!("skipped: {} is not here", seeds.display());
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .args(["schemas", "derive", "--check", "--out"])
        .arg(fixture("schemas"))
        .arg("--docs")
        .arg(&seeds)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

//! `glmock import`: cassettes recorded from a glmock server become a scenario from which a
//! new server answers the same GET requests with the same bodies.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use glmock::__internal::record::cassette::{
    BASE_PLACEHOLDER, Body, Cassette, Exchange, RecordedRequest, RecordedResponse,
};
use glmock::__internal::scenario::{self, Overrides, Source};
use serde_json::Value;

use crate::support::{TestServer, fixture};

/// The token every imported scenario gives its administrator.
const IMPORT_TOKEN: &str = "glmock-import";

/// A scenario file with its clock frozen, so recordings and replays see the same time.
fn frozen(path: &str, text: &str) -> Source {
    let text = if text.contains("clock: running") {
        text.replace("clock: running", "clock: frozen")
    } else {
        text.replacen("gitlab:\n", "gitlab:\n  clock: frozen\n", 1)
    };
    assert!(text.contains("clock: frozen"));
    let path = fixture(path);
    Source {
        name: path.display().to_string(),
        text,
        dir: path.parent().map(|p| p.to_path_buf()),
    }
}

async fn default_server() -> TestServer {
    TestServer::from_sources(
        vec![frozen("fixtures/default.yaml", scenario::DEFAULT_SCENARIO)],
        Overrides::default(),
    )
    .await
}

async fn showcase_server() -> TestServer {
    let text = std::fs::read_to_string(fixture("fixtures/examples/showcase.yaml")).unwrap();
    TestServer::from_sources(
        vec![frozen("fixtures/examples/showcase.yaml", &text)],
        Overrides::default(),
    )
    .await
}

/// Records GET answers the way `glmock record` stores them.
struct Recorder<'a> {
    server: &'a TestServer,
    token: &'a str,
    cassette: Cassette,
}

impl<'a> Recorder<'a> {
    async fn new(server: &'a TestServer, token: &'a str) -> Recorder<'a> {
        let clock = server.get("/-/glmock/clock", None).await.json();
        let health = server.get("/-/glmock/health", None).await.json();
        let mut cassette = Cassette::new("https://gitlab.example.com", "crawl");
        cassette.recorded_at = clock["now"].as_str().unwrap().to_owned();
        cassette.gitlab_version = Some(format!("{}.0", health["gitlab_version"].as_str().unwrap()));
        Recorder {
            server,
            token,
            cassette,
        }
    }

    /// GETs `/api/v4{path_and_query}` and stores the exchange; returns the JSON body.
    async fn get(&mut self, path_and_query: &str) -> Value {
        let resp = self.server.get(path_and_query, Some(self.token)).await;
        assert_eq!(resp.status, 200, "{path_and_query}: {}", resp.text);
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut headers = BTreeMap::new();
        for (name, value) in &resp.headers {
            let name = name.as_str();
            if name == "content-type" || name.starts_with("x-") || name == "link" {
                let value = value
                    .to_str()
                    .unwrap()
                    .replace(&self.server.url, BASE_PLACEHOLDER);
                headers.insert(name.to_owned(), value);
            }
        }
        let is_json = resp
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"));
        let body = if is_json {
            Body::Json(resp.json())
        } else {
            Body::Text(resp.text.clone())
        };
        self.cassette.exchanges.push(Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                path: format!("/api/v4{path}"),
                query: query.to_owned(),
                headers: BTreeMap::new(),
                body: None,
            },
            response: RecordedResponse {
                status: resp.status,
                headers,
                body: Some(body),
            },
        });
        if is_json { resp.json() } else { Value::Null }
    }
}

/// Replays every exchange against a server of the imported scenario and compares bodies.
/// `ignored` lists `(path, field)` pairs left out of the comparison.
async fn assert_replays(cassette: &Cassette, yaml: &str, ignored: &[(&str, &str)]) {
    let server = TestServer::with_yaml(yaml).await;
    let mut compared = 0;
    for x in &cassette.exchanges {
        let path = x.request.path.strip_prefix("/api/v4").unwrap();
        let target = if x.request.query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", x.request.query)
        };
        let resp = server.get(&target, Some(IMPORT_TOKEN)).await;
        assert_eq!(resp.status, x.response.status, "{target}: {}", resp.text);
        match x.response.body.as_ref().unwrap() {
            Body::Json(recorded) => {
                let mut recorded = recorded.clone();
                let mut served = resp.json();
                for (p, field) in ignored {
                    if *p == path {
                        for v in [&mut recorded, &mut served] {
                            v.as_object_mut().unwrap().remove(*field);
                        }
                    }
                }
                assert_eq!(served, recorded, "GET {target}:\n{yaml}");
            }
            Body::Text(recorded) => assert_eq!(&resp.text, recorded, "GET {target}"),
        }
        // Lists: the same pages.
        for h in [
            "x-total",
            "x-total-pages",
            "x-next-page",
            "x-page",
            "x-per-page",
        ] {
            let served = resp.header(h);
            let recorded = x.response.headers.get(h).map(String::as_str);
            assert_eq!(served, recorded, "{h} of GET {target}");
        }
        if let Some(link) = x.response.headers.get("link") {
            assert_eq!(
                resp.header("link")
                    .map(|l| l.replace(&server.url, BASE_PLACEHOLDER)),
                Some(link.clone()),
                "link of GET {target}"
            );
        }
        compared += 1;
    }
    assert!(compared > 10, "only {compared} exchanges compared");
}

fn import(cassettes: &[Cassette]) -> String {
    let yaml = glmock::__internal::import::to_scenario(cassettes).expect("import");
    let source = Source {
        name: "imported.yaml".into(),
        text: yaml.clone(),
        dir: None,
    };
    if let Err(e) = scenario::build(&[source], &Overrides::default()) {
        panic!("the imported scenario does not load: {e}\n{yaml}");
    }
    yaml
}

async fn record_default() -> Cassette {
    let server = default_server().await;
    let mut r = Recorder::new(&server, "glpat-root").await;
    for path in [
        "/user",
        "/projects/1",
        "/projects/foo%2Fbar",
        "/projects/1/jobs?per_page=100",
        "/projects/1/jobs?scope[]=failed&per_page=2",
        "/projects/foo%2Fbar/jobs/7",
        "/projects/1/jobs/1",
        "/projects/1/jobs/10",
        "/projects/1/jobs/1/trace",
        "/projects/1/jobs/7/trace",
        "/projects/1/jobs/8/trace",
        "/projects/1/jobs/10/trace",
        "/projects/1/pipelines",
        "/projects/1/pipelines?per_page=3&page=2",
        "/projects/1/pipelines/latest",
        "/projects/1/pipelines/2",
        "/projects/1/pipelines/6",
        "/projects/1/pipelines/46",
        "/projects/1/pipelines/287",
        "/projects/1/pipelines/6/jobs",
        "/projects/1/pipelines/6/bridges",
        "/projects/1/pipelines/46/variables",
        "/projects/1/pipelines/6/variables",
        "/projects/1/pipelines/46/test_report",
        "/projects/1/pipelines/46/test_report_summary",
        "/projects/1/pipelines/6/test_report",
        "/projects/2/pipelines",
        "/projects/2/pipelines/5",
    ] {
        r.get(path).await;
    }
    r.cassette
}

#[tokio::test]
async fn the_default_scenario_replays_from_its_import() {
    let cassette = record_default().await;
    let yaml = import(std::slice::from_ref(&cassette));
    assert!(
        yaml.starts_with("# glmock scenario imported by `glmock import`"),
        "{yaml}"
    );
    assert!(yaml.contains("token glmock-import"), "{yaml}");
    assert!(yaml.contains("clock: frozen"), "{yaml}");
    assert!(yaml.contains("version: \"18.5\""), "{yaml}");
    assert!(yaml.contains("base_url: https://example.com"), "{yaml}");
    // Pipeline 46's coverage, variables and test report; job 7's log; bridge 9 → 2/5.
    assert!(yaml.contains("coverage: 30.0"), "{yaml}");
    assert!(yaml.contains("key: RUN_NIGHTLY_BUILD"), "{yaml}");
    assert!(yaml.contains("name: Secure"), "{yaml}");
    assert!(yaml.contains("$ bundle exec teaspoon"), "{yaml}");
    assert!(
        yaml.contains("downstream: {project: 2, pipeline: 5}"),
        "{yaml}"
    );
    assert!(yaml.contains("path: diaspora/diaspora-client"), "{yaml}");
    // Every value came back from normal fields: nothing needed an override.
    assert!(
        !yaml
            .lines()
            .any(|l| l.trim_start().starts_with("override:")),
        "{yaml}"
    );
    assert_replays(&cassette, &yaml, &[]).await;
}

#[tokio::test]
async fn the_showcase_replays_from_its_import() {
    let server = showcase_server().await;
    let mut r = Recorder::new(&server, "glpat-alice").await;
    r.get("/user").await;
    r.get("/projects/10").await;
    r.get("/projects/10/pipelines?per_page=100").await;
    r.get("/projects/10/pipelines?source=parent_pipeline").await;
    r.get("/projects/10/pipelines/latest").await;
    let jobs = r.get("/projects/group%2Fproject/jobs?per_page=100").await;
    r.get("/projects/10/jobs?per_page=7&page=2").await;
    for id in 101..=106 {
        for what in ["", "/jobs", "/jobs?include_retried=true", "/bridges"] {
            r.get(&format!("/projects/10/pipelines/{id}{what}")).await;
        }
        for what in ["variables", "test_report", "test_report_summary"] {
            r.get(&format!("/projects/10/pipelines/{id}/{what}")).await;
        }
    }
    for job in jobs.as_array().unwrap() {
        let id = job["id"].as_u64().unwrap();
        r.get(&format!("/projects/10/jobs/{id}")).await;
        r.get(&format!("/projects/10/jobs/{id}/trace")).await;
    }
    let cassette = r.cassette;
    let yaml = import(std::slice::from_ref(&cassette));
    assert!(yaml.contains("retried: true"), "{yaml}");
    assert!(yaml.contains("status: canceling"), "{yaml}");
    assert!(yaml.contains("yaml_errors:"), "{yaml}");
    assert!(yaml.contains("source: parent_pipeline"), "{yaml}");
    // alice is the recorded GET /user and owns the token; she is no administrator in the
    // showcase, so GitLab sent no `is_admin`, which glmock shows for administrators.
    assert!(
        yaml.contains("`alice` owns the token glmock-import"),
        "{yaml}"
    );
    assert_replays(&cassette, &yaml, &[("/user", "is_admin")]).await;
}

/// Values a GitLab would send that glmock's renderer does not derive from normal fields go
/// into `override:`, and the replay still answers with them.
#[tokio::test]
async fn values_glmock_does_not_derive_come_back_through_override() {
    let mut cassette = record_default().await;
    for x in &mut cassette.exchanges {
        let Some(Body::Json(v)) = &mut x.response.body else {
            continue;
        };
        let path = x.request.path.as_str();
        let items: Vec<&mut Value> = match v {
            Value::Array(items) => items.iter_mut().collect(),
            v => vec![v],
        };
        for item in items {
            let Some(o) = item.as_object_mut() else {
                continue;
            };
            if path.ends_with("/jobs/7") || (path.ends_with("/jobs") && o["id"] == 7) {
                // Sub-millisecond duration (tolerated), a commit trailer and a runner
                // description GitLab changed after the fact (overridden).
                o["duration"] = serde_json::json!(0.1731234);
                o["commit"]["trailers"] = serde_json::json!({"Signed-off-by": "A <a@example.com>"});
                o["runner"]["description"] = serde_json::json!("renamed");
            }
            if path.ends_with("/pipelines/46") {
                o["duration"] = serde_json::json!(241);
                o["detailed_status"]["favicon"] =
                    serde_json::json!("/assets/ci_favicons/favicon_status_success-8451333011.png");
            }
        }
    }
    let yaml = import(std::slice::from_ref(&cassette));
    assert!(yaml.contains("    override:"), "{yaml}");
    assert!(yaml.contains("Signed-off-by"), "{yaml}");
    assert!(yaml.contains("duration: 241"), "{yaml}");
    assert!(!yaml.contains("0.1731234"), "tolerated:\n{yaml}");
    // Compare with the sub-millisecond duration put back to glmock's.
    for x in &mut cassette.exchanges {
        if let Some(Body::Json(v)) = &mut x.response.body {
            let items: Vec<&mut Value> = match v {
                Value::Array(items) => items.iter_mut().collect(),
                v => vec![v],
            };
            for item in items {
                if item["id"] == 7 && item.get("duration") == Some(&serde_json::json!(0.1731234)) {
                    item["duration"] = serde_json::json!(0.173);
                }
            }
        }
    }
    assert_replays(&cassette, &yaml, &[]).await;
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn temp(stem: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "glmock-import-{}-{}-{stem}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

#[tokio::test]
async fn the_import_command_writes_a_scenario_that_check_accepts() {
    let cassette = record_default().await;
    let cassette_path = temp("cassette.yaml");
    let out = temp("scenario.yaml");
    cassette.write(&cassette_path).unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("import")
        .arg(&cassette_path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("token: glmock-import"), "{stdout}");
    assert!(stdout.contains("2 project(s), 8 pipeline(s)"), "{stdout}");
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(
        yaml.contains(&cassette_path.display().to_string()),
        "the header names the cassette:\n{yaml}"
    );
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("check")
        .arg(&out)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&cassette_path);
    let _ = std::fs::remove_file(&out);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn the_import_command_fails_with_2_on_a_missing_cassette() {
    let out = temp("never.yaml");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .args(["import", "/nonexistent/cassette.yaml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot read cassette"));
    assert!(!out.exists());
}

#[test]
fn an_empty_cassette_still_gives_a_scenario_with_the_import_user() {
    let cassette = Cassette::new("https://gitlab.example.com", "proxy");
    let yaml = import(&[cassette]);
    assert!(yaml.contains("admin: true"), "{yaml}");
    assert!(yaml.contains("tokens: [glmock-import]"), "{yaml}");
    assert!(yaml.contains("username: glmock-import"), "{yaml}");
}

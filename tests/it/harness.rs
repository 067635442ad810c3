//! The Rust harness as a user's test suite drives it: `MockGitlab`, its builder options and
//! the session handle, each with a test that fails when the option or method is ignored;
//! the README's "Use it from Rust tests" snippet, run as written.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use glmock::{
    ContractMode, FaultError, FaultRule, HarnessError, JobStatus, MockGitlab, StartError,
};
use serde_json::Value;

use crate::support::fixture;

#[test]
fn the_readme_snippet_is_harness_readme_rs() {
    let readme = std::fs::read_to_string(fixture("README.md")).unwrap();
    let section = readme
        .split_once("\n## Use it from Rust tests\n")
        .expect("README has the section")
        .1;
    let snippet = section
        .split_once("```rust\n")
        .expect("a rust block")
        .1
        .split_once("```\n")
        .expect("closed")
        .0;
    let source = std::fs::read_to_string(fixture("tests/it/harness_readme.rs")).unwrap();
    // The file is its `//!` header, a blank line, then the snippet.
    let body = source
        .split_once("\n\n")
        .expect("a header, then the snippet")
        .1;
    assert_eq!(
        snippet, body,
        "README.md's Rust snippet differs from tests/it/harness_readme.rs"
    );
}

/// GET `{base}/api/v4{path}` as root; (status, headers, body).
async fn get(base: &str, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v4{path}"))
        .header("PRIVATE-TOKEN", token)
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

async fn post(base: &str, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v4{path}"))
        .header("PRIVATE-TOKEN", token)
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn health(base: &str) -> Value {
    let r = reqwest::get(format!("{base}/-/glmock/health"))
        .await
        .unwrap();
    json(&r.text().await.unwrap())
}

// ---- the builder ----

#[tokio::test]
async fn start_serves_the_embedded_default_scenario() {
    let gitlab = MockGitlab::start().await.unwrap();
    let (status, _, body) = get(&gitlab.uri(), "/projects/1", "glpat-root").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["path_with_namespace"], "foo/bar");
}

#[tokio::test]
async fn scenario_loads_its_file_instead_of_the_default() {
    let gitlab = MockGitlab::builder()
        .scenario(fixture("fixtures/examples/showcase.yaml"))
        .start()
        .await
        .unwrap();
    let (status, _, body) = get(&gitlab.uri(), "/projects/group%2Fproject", "glpat-alice").await;
    assert_eq!(status, 200, "the showcase's project: {body}");
    // The default scenario's token is not the showcase's.
    let (status, _, _) = get(&gitlab.uri(), "/projects/1", "glpat-root").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn scenario_files_and_yaml_merge() {
    let gitlab = MockGitlab::builder()
        .scenario(fixture("fixtures/examples/showcase.yaml"))
        .scenario_yaml(
            "projects: [{id: 777, path: extra/one, visibility: public, members: {alice: reporter}}]",
        )
        .start()
        .await
        .unwrap();
    let (status, _, body) = get(&gitlab.uri(), "/projects/777", "glpat-alice").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["path_with_namespace"], "extra/one");
    let (status, _, _) = get(&gitlab.uri(), "/projects/group%2Fproject", "glpat-alice").await;
    assert_eq!(status, 200, "the file's project is still there");
}

/// Run by `relative_scenario_paths_follow_cargo_manifest_dir` in a child process started in
/// another directory; a no-op in the normal run.
#[tokio::test]
async fn relative_scenario_child() {
    if std::env::var_os("GLMOCK_HARNESS_CHILD").is_none() {
        return;
    }
    let gitlab = MockGitlab::builder()
        .scenario("fixtures/examples/showcase.yaml")
        .start()
        .await
        .unwrap_or_else(|e| panic!("CHILD START ERROR: {e}"));
    let (status, _, _) = get(&gitlab.uri(), "/projects/group%2Fproject", "glpat-alice").await;
    assert_eq!(status, 200);
}

#[test]
fn relative_scenario_paths_follow_cargo_manifest_dir() {
    let run = |manifest_dir: Option<&str>| {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args(["harness::relative_scenario_child", "--exact", "--nocapture"])
            .current_dir(std::env::temp_dir())
            .env("GLMOCK_HARNESS_CHILD", "1");
        match manifest_dir {
            Some(d) => cmd.env("CARGO_MANIFEST_DIR", d),
            None => cmd.env_remove("CARGO_MANIFEST_DIR"),
        };
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, output) = run(Some(env!("CARGO_MANIFEST_DIR")));
    assert!(ok, "resolved against CARGO_MANIFEST_DIR: {output}");
    assert!(output.contains("1 passed"), "{output}");
    // Without it, the path is relative to the (other) current directory and not found:
    // the error names the file.
    let (ok, output) = run(None);
    assert!(!ok, "{output}");
    assert!(
        output.contains("CHILD START ERROR: 1 error in scenario")
            && output.contains("fixtures/examples/showcase.yaml: cannot read the file"),
        "{output}"
    );
}

#[tokio::test]
async fn scenario_yaml_is_served() {
    let gitlab = MockGitlab::builder()
        .scenario_yaml(
            "users: [{id: 1, username: u, tokens: [tok-u]}]\nprojects: [{id: 42, path: g/inline, members: {u: reporter}}]",
        )
        .start()
        .await
        .unwrap();
    let (status, _, body) = get(&gitlab.uri(), "/projects/42", "tok-u").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["path_with_namespace"], "g/inline");
}

const ODD_COVERAGE: &str = r#"
users: [{id: 1, username: root, tokens: [tok]}]
projects:
  - id: 1
    path: g/p
    members: {root: owner}
    pipelines:
      - id: 1
        jobs:
          - {id: 2, name: odd, status: success, override: {coverage: "high"}}
"#;

#[tokio::test]
async fn the_contract_is_strict_by_default() {
    let gitlab = MockGitlab::builder()
        .scenario_yaml(ODD_COVERAGE)
        .start()
        .await
        .unwrap();
    let (status, _, body) = get(&gitlab.uri(), "/projects/1/jobs/2", "tok").await;
    assert_eq!(status, 500, "{body}");
    let body = json(&body);
    assert_eq!(
        body["message"],
        "500 Internal Server Error - glmock: the response breaks its schema"
    );
    assert_eq!(body["violations"][0]["path"], "/coverage");
}

#[tokio::test]
async fn contract_warn_serves_and_marks_the_response() {
    let gitlab = MockGitlab::builder()
        .scenario_yaml(ODD_COVERAGE)
        .contract(ContractMode::Warn)
        .start()
        .await
        .unwrap();
    let session = gitlab.session("warned");
    let (status, headers, body) = get(&session.uri(), "/projects/1/jobs/2", "tok").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["coverage"], "high");
    let mark = headers["x-glmock-contract-violations"].to_str().unwrap();
    assert!(mark.starts_with("1 violation(s); first: "), "{mark}");
    let journal = session.received_requests();
    assert_eq!(journal.len(), 1);
    assert_eq!(
        journal[0].violations,
        ["job /coverage: \"high\" is not of types \"null\", \"number\""]
    );
}

#[tokio::test]
async fn contract_off_does_not_check() {
    let gitlab = MockGitlab::builder()
        .scenario_yaml(ODD_COVERAGE)
        .contract(ContractMode::Off)
        .start()
        .await
        .unwrap();
    let (status, headers, _) = get(&gitlab.uri(), "/projects/1/jobs/2", "tok").await;
    assert_eq!(status, 200);
    assert!(!headers.contains_key("x-glmock-contract-violations"));
}

#[tokio::test]
async fn gitlab_version_is_emulated() {
    let gitlab = MockGitlab::builder()
        .gitlab_version("16.11")
        .start()
        .await
        .unwrap();
    assert_eq!(gitlab.gitlab_version().to_string(), "16.11");
    assert_eq!(health(&gitlab.uri()).await["gitlab_version"], "16.11");
    // 16.11 still counts the jobs list (17.0 dropped the totals).
    let (status, headers, _) = get(&gitlab.uri(), "/projects/1/jobs", "glpat-root").await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-total"), "{headers:?}");
}

#[tokio::test]
async fn an_unknown_gitlab_version_fails_the_start() {
    for given in ["seventeen", "12.0", "19.0", "17"] {
        let err = MockGitlab::builder()
            .gitlab_version(given)
            .start()
            .await
            .expect_err(given);
        match &err {
            StartError::UnknownVersion {
                given: g,
                oldest,
                newest,
            } => {
                assert_eq!(g, given);
                assert_eq!(
                    (oldest.to_string(), newest.to_string()),
                    ("13.12".into(), "18.5".into())
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            format!(
                "GitLab version {given:?} is not emulated (allowed: 13.12 to 18.5, as major.minor)"
            )
        );
    }
}

#[tokio::test]
async fn listen_binds_the_given_address() {
    // Any address of the loopback range is this machine's.
    let gitlab = MockGitlab::builder()
        .listen("127.0.0.2:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(gitlab.address().ip().to_string(), "127.0.0.2");
    assert!(
        gitlab.uri().starts_with("http://127.0.0.2:"),
        "{}",
        gitlab.uri()
    );
    assert_eq!(health(&gitlab.uri()).await["status"], "ok");
    // The address taken is refused to a second server: the error says where.
    let addr = gitlab.address();
    let err = MockGitlab::builder()
        .listen(addr)
        .start()
        .await
        .unwrap_err();
    let StartError::Server { addr: at, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*at, addr);
    assert!(
        err.to_string()
            .starts_with(&format!("cannot start glmock on {addr}: ")),
        "{err}"
    );
}

#[tokio::test]
async fn scenario_errors_come_back_as_data() {
    let err = MockGitlab::builder()
        .scenario_yaml("projects:\n  - id: 1\n    path: a/b\n    visibility: secret\n")
        .scenario(fixture("does/not/exist.yaml"))
        .start()
        .await
        .unwrap_err();
    let StartError::Scenario(errors) = &err else {
        panic!("{err:?}")
    };
    // The missing file is reported first, alone: nothing is loaded until every file reads.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].file,
        fixture("does/not/exist.yaml").display().to_string()
    );
    assert_eq!((errors[0].line, errors[0].column), (0, 0));
    assert!(
        errors[0].message.starts_with("cannot read the file: "),
        "{errors:?}"
    );

    let err = MockGitlab::builder()
        .scenario_yaml("projects:\n  - id: 1\n    path: a/b\n    visibility: secret\n")
        .start()
        .await
        .unwrap_err();
    let StartError::Scenario(errors) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.column, e.path.as_str()),
        ("scenario_yaml #1", 4, 17, "projects[0].visibility")
    );
    assert!(e.message.contains("\"secret\""), "{}", e.message);
    assert_eq!(
        err.to_string(),
        format!(
            "1 error in scenario\n  scenario_yaml #1:4:17: projects[0].visibility: {}",
            e.message
        )
    );
}

#[test]
fn start_blocking_needs_no_runtime() {
    let gitlab = MockGitlab::builder().start_blocking().unwrap();
    // A plain blocking client: the server runs on its own thread.
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(gitlab.address()).unwrap();
    stream
        .write_all(b"GET /-/glmock/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

// ---- the handles ----

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let gitlab = MockGitlab::start().await.unwrap();
    let addr = gitlab.address();
    assert_eq!(health(&gitlab.uri()).await["status"], "ok");
    drop(gitlab);
    // The port is closed when drop returns.
    let refused = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert!(refused.is_err(), "still listening on {addr} after drop");
}

#[tokio::test]
async fn sessions_have_their_own_uri_state_and_journal() {
    let gitlab = MockGitlab::start().await.unwrap();
    let a = gitlab.session("a");
    let b = gitlab.session("b");
    assert_eq!(a.uri(), format!("{}/-/sessions/a", gitlab.uri()));
    assert_eq!(a.name(), "a");
    let (status, job) = post(&a.uri(), "/projects/1/jobs/7/retry", "glpat-root").await;
    assert_eq!(status, 201, "{job}");
    let new_id = job["id"].as_u64().unwrap();
    let (status, _, _) = get(
        &a.uri(),
        &format!("/projects/1/jobs/{new_id}"),
        "glpat-root",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = get(
        &b.uri(),
        &format!("/projects/1/jobs/{new_id}"),
        "glpat-root",
    )
    .await;
    assert_eq!(status, 404, "session b never sees a's retry");
    let (status, _, _) = get(
        &gitlab.uri(),
        &format!("/projects/1/jobs/{new_id}"),
        "glpat-root",
    )
    .await;
    assert_eq!(status, 404, "nor does the default session");
    assert_eq!(a.received_requests().len(), 2);
    assert_eq!(b.received_requests().len(), 1);
    assert_eq!(gitlab.session("default").received_requests().len(), 1);
}

#[tokio::test]
async fn received_requests_lists_method_path_query_and_status() {
    let gitlab = MockGitlab::start().await.unwrap();
    let s = gitlab.session("journal");
    get(
        &s.uri(),
        "/projects/1/jobs?scope[]=failed&per_page=2",
        "glpat-root",
    )
    .await;
    post(&s.uri(), "/projects/1/jobs/7/retry", "nope").await;
    let got: Vec<(String, String, String, u16)> = s
        .received_requests()
        .into_iter()
        .map(|e| (e.method, e.path, e.query, e.status))
        .collect();
    assert_eq!(
        got,
        [
            (
                "GET".to_owned(),
                "/api/v4/projects/1/jobs".to_owned(),
                "scope[]=failed&per_page=2".to_owned(),
                200
            ),
            (
                "POST".to_owned(),
                "/api/v4/projects/1/jobs/7/retry".to_owned(),
                String::new(),
                401
            ),
        ]
    );
    let seqs: Vec<u64> = s.received_requests().iter().map(|e| e.seq).collect();
    assert!(seqs[0] < seqs[1], "{seqs:?}");
}

#[tokio::test]
async fn reset_forgets_the_sessions_changes_and_journal() {
    let gitlab = MockGitlab::start().await.unwrap();
    let s = gitlab.session("r");
    let (_, job) = post(&s.uri(), "/projects/1/jobs/7/retry", "glpat-root").await;
    let new_id = job["id"].as_u64().unwrap();
    s.reset();
    assert!(s.received_requests().is_empty());
    let (status, _, _) = get(
        &s.uri(),
        &format!("/projects/1/jobs/{new_id}"),
        "glpat-root",
    )
    .await;
    assert_eq!(status, 404, "the retried job is gone with the reset");
    // The same retry again gives the same new id: the session restarted from the scenario.
    let (_, again) = post(&s.uri(), "/projects/1/jobs/7/retry", "glpat-root").await;
    assert_eq!(again["id"].as_u64(), Some(new_id));
}

const TIMELINE: &str = r#"
gitlab: {now: "2024-06-01T12:00:00Z", clock: frozen}
users: [{id: 1, username: alice, tokens: [tok-alice]}]
projects:
  - id: 1
    path: g/p
    members: {alice: owner}
    pipelines:
      - id: 1
        jobs:
          - {id: 1, name: long, status: running, timeline: [{after: 100, status: success}]}
"#;

#[tokio::test]
async fn advance_clock_moves_the_sessions_timelines() {
    let gitlab = MockGitlab::builder()
        .scenario_yaml(TIMELINE)
        .start()
        .await
        .unwrap();
    let s = gitlab.session("clock");
    let other = gitlab.session("other");
    s.advance_clock(Duration::from_secs(99));
    let (_, _, body) = get(&s.uri(), "/projects/1/jobs/1", "tok-alice").await;
    assert_eq!(json(&body)["status"], "running");
    s.advance_clock(Duration::from_secs(2));
    let (_, _, body) = get(&s.uri(), "/projects/1/jobs/1", "tok-alice").await;
    let job = json(&body);
    assert_eq!(job["status"], "success");
    assert_eq!(job["finished_at"], "2024-06-01T12:01:40.000Z");
    let (_, _, body) = get(&other.uri(), "/projects/1/jobs/1", "tok-alice").await;
    assert_eq!(
        json(&body)["status"],
        "running",
        "another session's clock did not move"
    );
}

#[tokio::test]
async fn set_job_status_moves_a_job_and_its_pipeline() {
    let gitlab = MockGitlab::builder()
        .scenario_yaml(TIMELINE)
        .start()
        .await
        .unwrap();
    let s = gitlab.session("status");
    let state = s.set_job_status(1, JobStatus::Failed).unwrap();
    assert_eq!(
        (
            state.id,
            state.status,
            state.pipeline_id,
            state.pipeline_status
        ),
        (1, JobStatus::Failed, 1, JobStatus::Failed)
    );
    let (_, _, body) = get(&s.uri(), "/projects/1/jobs/1", "tok-alice").await;
    assert_eq!(json(&body)["status"], "failed");
    let (_, _, body) = get(&s.uri(), "/projects/1/pipelines/1", "tok-alice").await;
    assert_eq!(json(&body)["status"], "failed");
    assert_eq!(
        s.set_job_status(99, JobStatus::Success),
        Err(HarnessError::NoSuchJob {
            session: "status".into(),
            job: 99
        })
    );
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[tokio::test]
async fn expectations_are_checked_when_the_session_drops() {
    let gitlab = MockGitlab::start().await.unwrap();
    let s = gitlab.session("expected");
    s.expect("POST", "/api/v4/projects/1/jobs/7/retry").times(1);
    s.expect("get", "/api/v4/projects/1/*").at_least(1);
    s.expect("DELETE", "/api/v4/projects/1/pipelines/6").never();
    post(&s.uri(), "/projects/1/jobs/7/retry", "glpat-root").await;
    get(&s.uri(), "/projects/1/jobs/7", "glpat-root").await;
    drop(s); // met: no panic

    let s = gitlab.session("unmet");
    s.expect("POST", "/api/v4/projects/1/jobs/7/retry").times(1);
    s.expect("GET", "/api/v4/user"); // at least once
    post(&s.uri(), "/projects/1/jobs/7/retry", "glpat-root").await;
    post(&s.uri(), "/projects/1/jobs/7/retry", "glpat-root").await;
    let message = panic_text(catch_unwind(AssertUnwindSafe(|| drop(s))).unwrap_err());
    assert_eq!(
        message,
        "glmock: 2 expectation(s) of session \"unmet\" not met:\n\
         \x20 POST /api/v4/projects/1/jobs/7/retry: expected exactly 1, received 2\n\
         \x20 GET /api/v4/user: expected at least 1, received 0\n\
         the session received 2 request(s):\n\
         \x20 POST /api/v4/projects/1/jobs/7/retry → 201\n\
         \x20 POST /api/v4/projects/1/jobs/7/retry → 403"
    );

    let s = gitlab.session("nothing");
    s.expect("GET", "/api/v4/user").times(1);
    let message = panic_text(catch_unwind(AssertUnwindSafe(|| s.verify())).unwrap_err());
    assert!(
        message.ends_with("expected exactly 1, received 0\nthe session received no request"),
        "{message}"
    );
    std::mem::forget(s); // verified above; its drop would panic again
}

#[tokio::test]
async fn shared_gives_a_fresh_session_of_one_server() {
    let a = MockGitlab::shared();
    let b = MockGitlab::shared();
    assert_ne!(a.name(), b.name());
    assert!(
        a.name()
            .contains("shared_gives_a_fresh_session_of_one_server"),
        "named after the test: {}",
        a.name()
    );
    let base = |s: &glmock::Session| s.uri().split("/-/").next().unwrap().to_owned();
    assert_eq!(base(&a), base(&b), "one server");
    let (status, job) = post(&a.uri(), "/projects/1/jobs/7/retry", "glpat-root").await;
    assert_eq!(status, 201);
    let new_id = job["id"].as_u64().unwrap();
    assert_eq!(a.received_requests().len(), 1);
    assert!(b.received_requests().is_empty());
    // Dropped, a shared session is forgotten: its name starts afresh from the scenario.
    let uri = a.uri();
    drop(a);
    let (status, _, _) = get(&uri, &format!("/projects/1/jobs/{new_id}"), "glpat-root").await;
    assert_eq!(status, 404, "the retried job went with the session");
}

#[tokio::test]
async fn add_fault_reaches_real_requests_of_its_session_only() {
    let gitlab = MockGitlab::start().await.unwrap();
    let flaky = gitlab.session("flaky");
    let calm = gitlab.session("calm");
    let id = flaky
        .add_fault(
            FaultRule::status(503)
                .id("user-down")
                .method("GET")
                .path("/api/v4/user")
                .times(1),
        )
        .unwrap();
    assert_eq!(id, "user-down");

    let (status, headers, body) = get(&calm.uri(), "/user", "glpat-root").await;
    assert_eq!(status, 200, "another session is untouched: {body}");
    let (status, headers_503, body) = get(&flaky.uri(), "/user", "glpat-root").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        headers_503["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "GitLab's front-end HTML, not {:?} ({headers:?})",
        headers_503["content-type"]
    );
    assert_eq!(
        get(&flaky.uri(), "/user", "glpat-root").await.0,
        200,
        "times: 1"
    );

    let faults = flaky.faults();
    assert_eq!(faults.len(), 1);
    assert_eq!((faults[0].id.as_str(), faults[0].fired), ("user-down", 1));
    assert_eq!(
        faults[0].rule,
        FaultRule::status(503)
            .id("user-down")
            .method("GET")
            .path("/api/v4/user")
            .times(1)
    );
    assert!(calm.faults().is_empty());

    flaky.remove_fault("user-down").unwrap();
    assert!(flaky.faults().is_empty());
    assert_eq!(
        flaky.remove_fault("user-down"),
        Err(FaultError::NoSuchFault {
            session: "flaky".into(),
            id: "user-down".into()
        })
    );
}

#[tokio::test]
async fn add_faults_from_json_and_yaml_and_clear_them() {
    let session = MockGitlab::shared();
    let ids = session
        .add_fault_json(r#"{"id": "boom", "match": {"path": "/api/v4/projects/1/jobs/7"}, "then": {"status": 500}}"#)
        .unwrap();
    assert_eq!(ids, ["boom"]);
    let (status, _, body) = get(&session.uri(), "/projects/1/jobs/7", "glpat-root").await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(json(&body)["message"], "500 Internal Server Error");

    let more = session
        .add_fault_yaml("- {match: {method: DELETE}, then: {status: 502}}\n- {id: late, delay: {fixed_ms: 1}}\n")
        .unwrap();
    assert_eq!(more.len(), 2);
    assert_eq!(more[1], "late");
    assert_eq!(session.faults().len(), 3);
    let typed = session
        .add_faults([
            FaultRule::reset_connection().path("/nowhere"),
            FaultRule::throttle().path("/nowhere"),
        ])
        .unwrap();
    assert_eq!(typed.len(), 2);
    assert_eq!(session.faults().len(), 5);

    let bad = session.add_fault_json(r#"[{"then": {"status": 503}}, {"then": {"status": 200}}]"#);
    assert!(
        matches!(&bad, Err(FaultError::Invalid(m)) if m.starts_with("faults[1].")),
        "{bad:?}"
    );
    assert_eq!(session.faults().len(), 5, "one bad rule adds none");
    assert!(session.add_fault_json("{").is_err());
    assert!(
        session
            .add_fault_json(r#"{"match": {"session": "x"}}"#)
            .is_err()
    );

    session.clear_faults();
    assert!(session.faults().is_empty());
    let (status, _, _) = get(&session.uri(), "/projects/1/jobs/7", "glpat-root").await;
    assert_eq!(status, 200, "cleared");
}

#[tokio::test]
async fn reset_forgets_the_sessions_faults() {
    let session = MockGitlab::shared();
    session.add_fault(FaultRule::status(500)).unwrap();
    session.reset();
    assert!(session.faults().is_empty());
    assert_eq!(get(&session.uri(), "/user", "glpat-root").await.0, 200);
}

#[tokio::test]
async fn verify_requests_counts_and_lists_near_misses() {
    let gitlab = MockGitlab::start().await.unwrap();
    let session = gitlab.session("checked");
    let other = gitlab.session("other");
    assert_eq!(
        post(&session.uri(), "/projects/1/jobs/7/retry", "glpat-root")
            .await
            .0,
        201
    );
    assert_eq!(
        get(&session.uri(), "/projects/1/jobs/8", "glpat-root")
            .await
            .0,
        200
    );
    // Job 8 is not retryable (403): journaled all the same, in another session.
    post(&other.uri(), "/projects/1/jobs/8/retry", "glpat-root").await;

    let matched = session
        .verify_requests("post", "/api/v4/projects/1/jobs/7/retry")
        .count(1)
        .unwrap();
    assert_eq!(matched.len(), 1);
    assert_eq!(matched[0].status, 201);
    session
        .verify_requests("*", "/api/v4/projects/1/jobs/*")
        .at_least(2)
        .unwrap();
    session.verify_requests("DELETE", "*").at_most(0).unwrap();
    session.verify_requests("GET", "*").between(1, 1).unwrap();

    let err = session
        .verify_requests("POST", "/api/v4/projects/1/jobs/8/retry")
        .count(1)
        .unwrap_err();
    assert!(err.matched.is_empty());
    let reasons: Vec<&str> = err.near_misses.iter().map(|n| n.reason.as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("in session \"other\"")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("1 edit(s)")),
        "the retry of job 7 is one edit away: {reasons:?}"
    );
    let text = err.to_string();
    assert!(text.starts_with("expected exactly 1 request(s) matching POST /api/v4/projects/1/jobs/8/retry in session checked, got 0"), "{text}");
    assert!(
        text.contains("near miss: POST /api/v4/projects/1/jobs/7/retry → 201"),
        "{text}"
    );

    let err = session
        .verify_requests("GET", "/api/v4/projects/1/jobs/8")
        .count(2)
        .unwrap_err();
    assert_eq!(err.matched.len(), 1, "too few: {err}");
    let err = session
        .verify_requests("GET", "/api/v4/projects/1/jobs/8")
        .at_most(0)
        .unwrap_err();
    assert_eq!(err.matched.len(), 1, "too many: {err}");
}

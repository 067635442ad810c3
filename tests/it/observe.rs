//! The control API as a client sees it: routing, JSON bodies and errors, and the rules that
//! keep it to its intended clients (Host, Origin, content types, token, one session).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use glmock::__internal::ServerOptions;
use glmock::__internal::scenario::{Overrides, Source};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

/// A control request with extra headers and an optional (content type, body).
pub async fn control(
    s: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> Resp {
    let url = if path.starts_with("/-/sessions/") {
        format!("{}{path}", s.url)
    } else {
        format!("{}/-/glmock{path}", s.url)
    };
    let mut req = s.client.request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some((ct, b)) = body {
        req = req.header("Content-Type", ct).body(b.to_owned());
    }
    s.raw(req).await
}

pub async fn control_json(s: &TestServer, method: Method, path: &str, body: Value) -> Resp {
    control(
        s,
        method,
        path,
        &[],
        Some(("application/json", &body.to_string())),
    )
    .await
}

pub async fn job_status(s: &TestServer, session: &str, id: u64) -> String {
    let r = s
        .get(
            &s.session_url(session, &format!("/projects/1/jobs/{id}")),
            Some(ROOT),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["status"].as_str().unwrap().to_owned()
}

pub async fn with_options(options: ServerOptions) -> TestServer {
    TestServer::start(
        vec![Source::embedded_default()],
        Overrides::default(),
        ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            contract: glmock::__internal::contract::Mode::Strict,
            ..options
        },
    )
    .await
}

#[tokio::test]
async fn job_status_takes_a_json_body_query_parameters_still_work_and_the_body_wins() {
    let s = TestServer::default_scenario().await;
    let r = control_json(
        &s,
        Method::POST,
        "/jobs/8/status",
        json!({"status": "success"}),
    )
    .await;
    r.assert(
        200,
        json!({"session": "default", "id": 8, "status": "success", "pipeline_id": 6,
               "pipeline_status": r.json()["pipeline_status"]}),
    );
    assert_eq!(job_status(&s, "default", 8).await, "success");

    let r = control(&s, Method::POST, "/jobs/8/status?status=failed", &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(job_status(&s, "default", 8).await, "failed");

    let r = control(
        &s,
        Method::POST,
        "/jobs/8/status?status=failed",
        &[],
        Some(("application/json", r#"{"status":"canceled"}"#)),
    )
    .await;
    assert_eq!(r.json()["status"], "canceled", "the body wins");

    let r = control_json(
        &s,
        Method::POST,
        "/clock/advance",
        json!({"seconds": 60, "session": "c"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["session"], "c");
}

#[tokio::test]
async fn control_errors_are_json_and_a_known_path_with_another_method_is_405_with_allow() {
    let s = TestServer::default_scenario().await;
    let r = control(&s, Method::DELETE, "/health", &[], None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert!(r.json()["error"].as_str().unwrap().contains("DELETE"));

    let r = control(&s, Method::GET, "/jobs/8/status", &[], None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));

    let r = control(&s, Method::PUT, "/journal", &[], None).await;
    assert_eq!(r.header("allow"), Some("GET, DELETE, HEAD"));

    let r = control(&s, Method::GET, "/nope", &[], None).await;
    assert_eq!(r.status, 404);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown control endpoint")
    );

    let r = control_json(&s, Method::POST, "/jobs/8/status", json!({})).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("status is required")
    );

    let r = control(
        &s,
        Method::POST,
        "/jobs/8/status",
        &[],
        Some(("application/json", "{nope")),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("invalid JSON"));

    let r = control_json(
        &s,
        Method::POST,
        "/jobs/999999/status",
        json!({"status": "success"}),
    )
    .await;
    r.assert(404, json!({"error": "no job 999999 in session default"}));
}

#[tokio::test]
async fn a_foreign_host_is_refused_and_ours_are_answered() {
    let s = with_options(ServerOptions {
        base_url: Some("https://mock.example:8443".into()),
        control_allowed_hosts: vec!["ci.internal".into()],
        ..ServerOptions::default()
    })
    .await;
    for host in ["evil.example", "evil.example:8080", "127.0.0.1.nip.io"] {
        let r = control(&s, Method::POST, "/reset", &[("Host", host)], None).await;
        assert_eq!(r.status, 403, "{host}: {}", r.text);
        assert!(r.json()["error"].as_str().unwrap().contains("Host"));
    }
    for host in [
        "127.0.0.1:1",
        "[::1]:8080",
        "localhost:8080",
        "glmock:8080",
        "mock.example",
        "ci.internal:80",
    ] {
        let r = control(&s, Method::GET, "/health", &[("Host", host)], None).await;
        assert_eq!(r.status, 200, "{host}: {}", r.text);
    }
    // The API itself answers any Host, as GitLab behind a proxy does.
    let r = s
        .raw(
            s.client
                .get(format!("{}/api/v4/version", s.url))
                .header("Host", "evil.example")
                .header("PRIVATE-TOKEN", ROOT),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn an_origin_other_than_the_host_is_refused() {
    let s = TestServer::default_scenario().await;
    let host = s.url.trim_start_matches("http://").to_owned();
    let r = control(
        &s,
        Method::POST,
        "/jobs/8/status?status=success",
        &[("Origin", "https://evil.example")],
        None,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.json()["error"].as_str().unwrap().contains("cross-origin"));
    let r = control(&s, Method::GET, "/health", &[("Origin", "null")], None).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        job_status(&s, "default", 8).await,
        "manual",
        "nothing changed"
    );

    let same = format!("http://{host}");
    let r = control(&s, Method::GET, "/health", &[("Origin", &same)], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn simple_cross_site_writes_are_refused() {
    let s = TestServer::default_scenario().await;
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = control(
            &s,
            Method::POST,
            "/jobs/8/status",
            &[],
            Some((ct, "status=success")),
        )
        .await;
        assert_eq!(r.status, 415, "{ct}: {}", r.text);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );
        let r = control(&s, Method::POST, "/reset", &[], Some((ct, ""))).await;
        assert_eq!(r.status, 415, "{ct} without a body: {}", r.text);
    }
    // A body with no content type at all is refused too.
    let r = s
        .raw(
            s.client
                .post(format!("{}/-/glmock/jobs/8/status", s.url))
                .body(r#"{"status":"success"}"#),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.text);
    assert_eq!(
        job_status(&s, "default", 8).await,
        "manual",
        "nothing changed"
    );
    // YAML is for scenarios only.
    let r = control(
        &s,
        Method::POST,
        "/jobs/8/status",
        &[],
        Some(("application/yaml", "status: success")),
    )
    .await;
    assert_eq!(r.status, 415);
}

#[tokio::test]
async fn the_control_token_is_checked() {
    let s = with_options(ServerOptions {
        control_token: Some("s3cret-token".into()),
        ..ServerOptions::default()
    })
    .await;
    for sent in [
        None,
        Some("s3cret-tokem"),
        Some("s3cret"),
        Some("s3cret-token-and-more"),
    ] {
        let headers: Vec<(&str, &str)> = sent
            .map(|t| vec![("X-Glmock-Control-Token", t)])
            .unwrap_or_default();
        let r = control(
            &s,
            Method::POST,
            "/jobs/8/status?status=success",
            &headers,
            None,
        )
        .await;
        r.assert(
            401,
            json!({"error": "control API token missing or wrong (send X-Glmock-Control-Token)"}),
        );
    }
    assert_eq!(job_status(&s, "default", 8).await, "manual");
    let r = control(
        &s,
        Method::POST,
        "/jobs/8/status?status=success",
        &[("X-Glmock-Control-Token", "s3cret-token")],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(job_status(&s, "default", 8).await, "success");
}

#[tokio::test]
async fn a_control_request_names_one_session() {
    let s = TestServer::default_scenario().await;
    let r = control(
        &s,
        Method::POST,
        "/-/sessions/attacker/-/glmock/jobs/8/status?status=success&session=victim",
        &[],
        None,
    )
    .await;
    r.assert(
        400,
        json!({"error": "one session per control request: the URL prefix names \"attacker\" but the session parameter names \"victim\""}),
    );
    let r = control(
        &s,
        Method::POST,
        "/jobs/8/status",
        &[("X-Glmock-Session", "a")],
        Some(("application/json", r#"{"status":"success","session":"b"}"#)),
    )
    .await;
    assert_eq!(r.status, 400);
    let msg = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("\"a\"") && msg.contains("\"b\"") && msg.contains("X-Glmock-Session"),
        "{msg}"
    );
    assert_eq!(job_status(&s, "victim", 8).await, "manual");
    assert_eq!(job_status(&s, "a", 8).await, "manual");

    // Agreeing names are fine.
    let r = control(
        &s,
        Method::POST,
        "/-/sessions/mine/-/glmock/jobs/8/status?session=mine",
        &[("X-Glmock-Session", "mine")],
        Some(("application/json", r#"{"status":"success"}"#)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["session"], "mine");
    assert_eq!(job_status(&s, "mine", 8).await, "success");
    assert_eq!(job_status(&s, "default", 8).await, "manual");
}

#[tokio::test]
async fn deleting_the_journal_forgets_its_entries() {
    let s = TestServer::default_scenario().await;
    for session in ["a", "a", "b"] {
        s.get(&s.session_url(session, "/projects/1/jobs/7"), Some(ROOT))
            .await;
    }
    let count = |r: Resp| r.json()["entries"].as_array().unwrap().len();
    assert_eq!(
        count(control(&s, Method::GET, "/journal", &[], None).await),
        3
    );
    let r = control(&s, Method::DELETE, "/journal?session=a", &[], None).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        count(control(&s, Method::GET, "/journal?session=a", &[], None).await),
        0
    );
    assert_eq!(
        count(control(&s, Method::GET, "/journal?session=b", &[], None).await),
        1
    );
    let r = control(&s, Method::DELETE, "/journal", &[], None).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        count(control(&s, Method::GET, "/journal", &[], None).await),
        0
    );
}

fn first_stderr_lines(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("serve")
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("GLMOCK_CONTROL_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("glmock starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    out.read_line(&mut url).unwrap();
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn listening_beyond_loopback_without_a_token_warns_loudly() {
    let open = first_stderr_lines(&["--listen", "0.0.0.0:0"]);
    assert!(open.contains("WITHOUT a control token"), "{open}");
    let tokened = first_stderr_lines(&["--listen", "0.0.0.0:0", "--control-token", "t"]);
    assert!(!tokened.contains("WITHOUT a control token"), "{tokened}");
    let local = first_stderr_lines(&["--listen", "127.0.0.1:0"]);
    assert!(!local.contains("WITHOUT a control token"), "{local}");
}

#[tokio::test]
async fn the_documented_create_example_creates_pipeline_jobs_on_the_default_scenario() {
    let s = TestServer::default_scenario().await;
    let r = s.post("/projects/1/pipeline?ref=main", Some(ROOT)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let p = r.json();
    assert_eq!(p["ref"], "main");
    assert_eq!(p["status"], "pending");
    let id = p["id"].as_u64().unwrap();
    let jobs = s
        .get(&format!("/projects/1/pipelines/{id}/jobs"), Some(ROOT))
        .await
        .json();
    let names: Vec<(&str, &str)> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["name"].as_str().unwrap(), j["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("deploy", "created"),
            ("rubocop", "pending"),
            ("rspec", "pending")
        ]
    );
    s.advance_clock("default", 20).await;
    let p = s
        .get(&format!("/projects/1/pipelines/{id}"), Some(ROOT))
        .await
        .json();
    // The manual deploy (allow_failure by default) does not hold the pipeline back.
    assert_eq!(p["status"], "success");
    // The documented examples are still there.
    for path in [
        "/projects/1/pipelines/61",
        "/projects/1/jobs/6",
        "/projects/1/jobs/7",
        "/projects/1/jobs/8",
    ] {
        assert_eq!(s.get(path, Some(ROOT)).await.status, 200, "{path}");
    }
}

/// A client that speaks HTTP/2 from the first byte (no upgrade).
fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

#[tokio::test]
async fn over_http2_the_authority_is_the_host() {
    let s = TestServer::default_scenario().await;
    let h2 = h2_client();
    let host = s.url.trim_start_matches("http://").to_owned();
    let r = s
        .raw(
            h2.get(format!("{}/-/glmock/health", s.url))
                .header("Origin", format!("http://{host}")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .raw(
            h2.get(format!("{}/-/glmock/health", s.url))
                .header("Origin", "https://evil.example"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn over_http2_pagination_headers_are_the_same_as_over_http1() {
    let s = TestServer::default_scenario().await;
    let h2 = h2_client();
    let h1 = reqwest::Client::new();
    let url = format!("{}/api/v4/projects/1/jobs?per_page=1&page=2", s.url);
    for _ in 0..3 {
        let a = s
            .raw(h2.get(&url).header("PRIVATE-TOKEN", "glpat-root"))
            .await;
        let b = s
            .raw(h1.get(&url).header("PRIVATE-TOKEN", "glpat-root"))
            .await;
        assert_eq!((a.status, b.status), (200, 200), "{} / {}", a.text, b.text);
        for name in ["link", "x-page", "x-per-page", "x-next-page", "x-prev-page"] {
            assert!(b.header(name).is_some(), "{name}");
            assert_eq!(a.header(name), b.header(name), "{name}");
        }
        let id = a.header("x-request-id").unwrap();
        assert!(id.starts_with("glmock-") && id.len() == 23, "{id}");
        assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
    }
}

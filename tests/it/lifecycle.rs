//! Pipelines that live: timelines moved by the session clock, stage processing, the control
//! API's clock and status endpoints, in two sessions at once.

use serde_json::json;

use crate::support::*;

const SCENARIO: &str = r#"
gitlab: {version: "18.5", now: "2024-06-01T12:00:00Z", clock: frozen}
users:
  - {id: 1, username: alice, tokens: [tok-alice]}
runners:
  - {id: 7, graceful_cancel: false}
projects:
  - id: 1
    path: g/p
    members: {alice: owner}
    branches: {main: a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1}
    ci:
      stages: [build, test]
      jobs:
        - name: compile
          stage: build
          timeline: [{after: 2, status: running}, {after: 10, status: success}]
        - name: unit
          stage: test
          timeline: [{after: 1, status: running}, {after: 5, status: success}]
    pipelines:
      - id: 1
        jobs:
          - id: 1
            name: long
            status: running
            runner: 7
            log: "line 1\nline 2\nline 3\nline 4\n"
            timeline: [{after: 100, status: success}]
"#;

#[tokio::test]
async fn a_created_pipeline_runs_to_success_while_its_log_grows() {
    let s = TestServer::with_yaml(SCENARIO).await;
    let tok = Some("tok-alice");
    // Arrange: two sessions, a pipeline created in each.
    let a = s
        .post_json(
            &s.session_url("a", "/projects/1/pipeline"),
            tok,
            json!({"ref": "main"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let pid = a.json()["id"].as_u64().unwrap();
    assert_eq!(a.json()["status"], "pending");
    let b = s
        .post_json(
            &s.session_url("b", "/projects/1/pipeline"),
            tok,
            json!({"ref": "main"}),
        )
        .await;
    assert_eq!(b.json()["id"].as_u64().unwrap(), pid, "ids are per session");

    let jobs = |session: &'static str| {
        let s = &s;
        async move {
            let r = s
                .get(
                    &s.session_url(session, &format!("/projects/1/pipelines/{pid}/jobs")),
                    tok,
                )
                .await;
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|j| {
                    (
                        j["name"].as_str().unwrap().to_owned(),
                        j["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        jobs("a").await,
        vec![
            ("unit".into(), "created".into()),
            ("compile".into(), "pending".into())
        ]
    );

    // Act + assert: move session a's clock step by step.
    s.advance_clock("a", 2).await;
    assert_eq!(jobs("a").await[1].1, "running");
    let p = s
        .get(
            &s.session_url("a", &format!("/projects/1/pipelines/{pid}")),
            tok,
        )
        .await
        .json();
    assert_eq!(p["status"], "running");
    s.advance_clock("a", 10).await;
    assert_eq!(
        jobs("a").await,
        vec![
            ("unit".into(), "pending".into()),
            ("compile".into(), "success".into())
        ]
    );
    s.advance_clock("a", 6).await;
    assert_eq!(
        jobs("a").await,
        vec![
            ("unit".into(), "success".into()),
            ("compile".into(), "success".into())
        ]
    );
    let p = s
        .get(
            &s.session_url("a", &format!("/projects/1/pipelines/{pid}")),
            tok,
        )
        .await
        .json();
    assert_eq!(p["status"], "success");
    assert!(p["finished_at"].is_string());

    // Session b never moved.
    assert_eq!(
        jobs("b").await,
        vec![
            ("unit".into(), "created".into()),
            ("compile".into(), "pending".into())
        ]
    );
}

#[tokio::test]
async fn the_log_of_a_running_job_grows_until_it_finishes() {
    let s = TestServer::with_yaml(SCENARIO).await;
    let tok = Some("tok-alice");
    let trace = |s: &TestServer| {
        let url = s.session_url("t", "/projects/1/jobs/1/trace");
        let client = s.client.clone();
        async move {
            client
                .get(url)
                .header("PRIVATE-TOKEN", "tok-alice")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let start = trace(&s).await;
    s.advance_clock("t", 60).await;
    let middle = trace(&s).await;
    assert!(
        middle.len() >= start.len() && middle.starts_with(&start),
        "{start:?} then {middle:?}"
    );
    s.advance_clock("t", 50).await;
    assert_eq!(trace(&s).await, "line 1\nline 2\nline 3\nline 4\n");
    let job = s
        .get(&s.session_url("t", "/projects/1/jobs/1"), tok)
        .await
        .json();
    assert_eq!(job["status"], "success");
}

#[tokio::test]
async fn cancel_mid_run_stops_the_timeline() {
    let s = TestServer::with_yaml(SCENARIO).await;
    let tok = Some("tok-alice");
    let r = s
        .post(&s.session_url("c", "/projects/1/pipelines/1/cancel"), tok)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "canceled");
    s.advance_clock("c", 500).await;
    let job = s
        .get(&s.session_url("c", "/projects/1/jobs/1"), tok)
        .await
        .json();
    assert_eq!(
        job["status"], "canceled",
        "the timeline does not resurrect a canceled job"
    );
}

#[tokio::test]
async fn control_api_sets_a_job_status() {
    let s = TestServer::with_yaml(SCENARIO).await;
    let r = s
        .send(
            reqwest::Method::POST,
            "/-/glmock/jobs/1/status?status=failed&session=x",
            None,
            None,
        )
        .await;
    r.assert(200, json!({"session": "x", "id": 1, "status": "failed", "pipeline_id": 1, "pipeline_status": "failed"}));
    let job = s
        .get(&s.session_url("x", "/projects/1/jobs/1"), Some("tok-alice"))
        .await
        .json();
    assert_eq!(job["failure_reason"], "script_failure");
    let r = s
        .send(
            reqwest::Method::POST,
            "/-/glmock/jobs/1/status?status=bogus",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .send(
            reqwest::Method::POST,
            "/-/glmock/jobs/999/status?status=success",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

const RETRY: &str = r#"
gitlab: {now: "2024-06-01T12:00:00Z", clock: frozen}
users: [{id: 1, username: alice, tokens: [tok-alice]}]
projects:
  - id: 1
    path: g/p
    members: {alice: owner}
    pipelines:
      - id: 1
        jobs:
          - {id: 1, name: flaky, status: failed, timeline: [{after: 1, status: running}, {after: 3, status: success}]}
"#;

#[tokio::test]
async fn a_finished_job_waits_and_its_retry_follows_the_timeline() {
    let s = TestServer::with_yaml(RETRY).await;
    let tok = Some("tok-alice");
    // A job that has already finished does not run its timeline.
    s.advance_clock("r", 10).await;
    let job = s
        .get(&s.session_url("r", "/projects/1/jobs/1"), tok)
        .await
        .json();
    assert_eq!(job["status"], "failed");
    // Its retry does, from the moment it is queued.
    let new = s
        .post(&s.session_url("r", "/projects/1/jobs/1/retry"), tok)
        .await
        .json();
    let id = new["id"].as_u64().unwrap();
    assert_eq!(new["status"], "pending");
    let url = s.session_url("r", &format!("/projects/1/jobs/{id}"));
    s.advance_clock("r", 1).await;
    assert_eq!(s.get(&url, tok).await.json()["status"], "running");
    s.advance_clock("r", 3).await;
    assert_eq!(s.get(&url, tok).await.json()["status"], "success");
    let p = s
        .get(&s.session_url("r", "/projects/1/pipelines/1"), tok)
        .await
        .json();
    assert_eq!(p["status"], "success");
    let old = s
        .get(&s.session_url("r", "/projects/1/jobs/1"), tok)
        .await
        .json();
    assert_eq!(old["status"], "failed");
}

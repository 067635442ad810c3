//! Timeline steps counted in polls (`after_polls: N`).

use crate::support::*;

const POLLED: &str = r#"
gitlab: {now: "2024-06-01T12:00:00Z", clock: frozen}
users: [{id: 1, username: root, tokens: [tok]}]
projects:
  - id: 1
    path: g/p
    members: {root: owner}
    pipelines:
      - id: 1
        jobs:
          - {id: 1, name: build, status: pending, log: "hi\n",
             timeline: [{after_polls: 2, status: running}, {after_polls: 1, status: success}]}
          - {id: 2, name: mixed, status: pending,
             timeline: [{after_polls: 1, status: running}, {after: 10, status: failed}]}
"#;

async fn status(s: &TestServer, session: &str, job: u64) -> String {
    let r = s
        .get(
            &s.session_url(session, &format!("/projects/1/jobs/{job}")),
            Some("tok"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn steps_wait_for_polls_of_the_job() {
    let s = TestServer::with_yaml(POLLED).await;
    let seen: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(status(&s, "a", 1).await);
        }
        v
    };
    assert_eq!(seen, ["pending", "pending", "running", "success"]);
    // Other sessions have their own counts.
    assert_eq!(status(&s, "b", 1).await, "pending");
}

#[tokio::test]
async fn traces_and_pipelines_count_as_polls_and_lists_do_not() {
    let s = TestServer::with_yaml(POLLED).await;
    s.get(&s.session_url("a", "/projects/1/jobs"), Some("tok"))
        .await;
    s.get(&s.session_url("a", "/projects/1/pipelines"), Some("tok"))
        .await;
    let r = s
        .get(&s.session_url("a", "/projects/1/jobs/1/trace"), Some("tok"))
        .await;
    assert_eq!(r.status, 200);
    let p = s
        .get(&s.session_url("a", "/projects/1/pipelines/1"), Some("tok"))
        .await;
    assert_eq!(p.json()["status"], "pending");
    // Trace + pipeline: two polls of job 1; the pipeline was one poll of job 2.
    let p = s
        .get(&s.session_url("a", "/projects/1/pipelines/1"), Some("tok"))
        .await;
    assert_eq!(p.json()["status"], "running");
    assert_eq!(status(&s, "a", 2).await, "running");
}

#[tokio::test]
async fn a_timed_step_after_a_polled_one_starts_when_the_poll_step_is_taken() {
    let s = TestServer::with_yaml(POLLED).await;
    s.advance_clock("m", 60).await;
    assert_eq!(
        status(&s, "m", 2).await,
        "pending",
        "seconds do not move a poll step"
    );
    assert_eq!(status(&s, "m", 2).await, "running");
    s.advance_clock("m", 9).await;
    assert_eq!(status(&s, "m", 2).await, "running");
    s.advance_clock("m", 1).await;
    assert_eq!(status(&s, "m", 2).await, "failed");
}

#[test]
fn zero_polls_is_a_located_scenario_error() {
    let yaml = POLLED.replace("after_polls: 2", "after_polls: 0");
    let e = glmock::__internal::scenario::build(
        &[glmock::__internal::scenario::Source {
            name: "p.yaml".into(),
            text: yaml,
            dir: None,
        }],
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(
        e.0[0].path,
        "projects[0].pipelines[0].jobs[0].timeline[0].after_polls"
    );
    assert!(e.0[0].message.contains("from 1 to 1000000"), "{e}");
}

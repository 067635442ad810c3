//! The whole life of pipelines as a polling client sees it, in two sessions at once.

use serde_json::json;

use crate::support::*;

const SCENARIO: &str = r#"
gitlab: {version: "18.5", now: "2024-06-01T12:00:00Z", clock: frozen}
users:
  - {id: 1, username: alice, tokens: [tok-alice]}
runners:
  - {id: 7}
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
          log: "compiling 1\ncompiling 2\ncompiling 3\ncompiling 4\n"
          timeline: [{after: 2, status: running}, {after: 8, status: success}]
        - name: unit
          stage: test
          timeline: [{after: 1, status: running}, {after: 4, status: success}]
    pipelines:
      - id: 1
        jobs:
          - {id: 1, name: slow, status: running, runner: 7, timeline: [{after: 1000, status: success}]}
      - id: 2
        jobs:
          - {id: 2, name: flaky, status: failed}
      - id: 3
        jobs:
          - {id: 3, name: old, status: success}
"#;

/// One session's story: create and poll to success with a growing log, cancel the running
/// pipeline, retry the failed one, delete the old one.
async fn story(s: &TestServer, session: &str) {
    let tok = Some("tok-alice");
    let created = s
        .post_json(
            &s.session_url(session, "/projects/1/pipeline"),
            tok,
            json!({"ref": "main"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let pid = created.json()["id"].as_u64().unwrap();
    let compile = s
        .get(
            &s.session_url(
                session,
                &format!("/projects/1/pipelines/{pid}/jobs?scope[]=pending"),
            ),
            tok,
        )
        .await
        .ids()[0];

    let mut statuses = Vec::new();
    let mut logs = Vec::new();
    for _ in 0..20 {
        let p = s
            .get(
                &s.session_url(session, &format!("/projects/1/pipelines/{pid}")),
                tok,
            )
            .await
            .json();
        let status = p["status"].as_str().unwrap().to_owned();
        if statuses.last() != Some(&status) {
            statuses.push(status.clone());
        }
        logs.push(
            s.get(
                &s.session_url(session, &format!("/projects/1/jobs/{compile}/trace")),
                tok,
            )
            .await
            .text,
        );
        if status == "success" {
            break;
        }
        s.advance_clock(session, 1).await;
    }
    assert_eq!(statuses, ["pending", "running", "success"]);
    assert!(
        logs.windows(2).all(|w| w[1].starts_with(&w[0])),
        "the log only grows: {logs:?}"
    );
    assert_eq!(logs.first().map(String::as_str), Some(""));
    assert_eq!(
        logs.last().map(String::as_str),
        Some("compiling 1\ncompiling 2\ncompiling 3\ncompiling 4\n")
    );
    assert!(
        logs.iter().any(|l| !l.is_empty() && l.len() < 48),
        "a partial log was seen: {logs:?}"
    );

    // Cancel the running pipeline 1 mid-run.
    let r = s
        .post(
            &s.session_url(session, "/projects/1/pipelines/1/cancel"),
            tok,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (200, Some("canceled"))
    );
    // Retry the failed pipeline 2: a new job, the pipeline is active again.
    let r = s
        .post(
            &s.session_url(session, "/projects/1/pipelines/2/retry"),
            tok,
        )
        .await;
    assert_eq!(r.status, 201);
    let jobs = s
        .get(&s.session_url(session, "/projects/1/pipelines/2/jobs"), tok)
        .await;
    assert_eq!(jobs.json()[0]["status"], "pending");
    assert_ne!(jobs.ids(), vec![2]);
    // Delete pipeline 3.
    let r = s
        .send(
            reqwest::Method::DELETE,
            &s.session_url(session, "/projects/1/pipelines/3"),
            tok,
            None,
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_live_their_pipelines_without_seeing_each_other() {
    let s = TestServer::with_yaml(SCENARIO).await;
    let (a, b) = tokio::join!(story(&s, "one"), story(&s, "two"));
    let _ = (a, b);
    // The default session saw none of it.
    let tok = Some("tok-alice");
    let list = s.get("/projects/1/pipelines", tok).await;
    assert_eq!(list.ids(), vec![3, 2, 1]);
    let p1 = s.get("/projects/1/pipelines/1", tok).await.json();
    assert_eq!(p1["status"], "running");
    let p2 = s.get("/projects/1/pipelines/2/jobs", tok).await;
    assert_eq!(p2.ids(), vec![2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pipeline_creations_get_distinct_ids() {
    let s = std::sync::Arc::new(TestServer::with_yaml(SCENARIO).await);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.post_json(
                "/projects/1/pipeline",
                Some("tok-alice"),
                json!({"ref": "main"}),
            )
            .await
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
        ids.insert(r.json()["id"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), 32);
    // Offset pagination over the pipelines visits each exactly once.
    let mut seen = Vec::new();
    let mut url = format!("{}/api/v4/projects/1/pipelines?per_page=7", s.url);
    loop {
        let r = s.get(&url, Some("tok-alice")).await;
        seen.extend(r.ids());
        match r.next_link() {
            Some(n) => url = n,
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, no repeats");
    assert_eq!(seen.len(), 35);
}

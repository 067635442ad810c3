//! Scale: parallel writes to one session while readers page through it, the bound on
//! sessions (least recently used idle session evicted), and sessions created by writes only.

use std::collections::HashSet;
use std::sync::Arc;

use glmock::__internal::ServerOptions;
use glmock::__internal::scenario::{Overrides, Source};
use serde_json::json;

use crate::support::TestServer;

const TOKEN: &str = "tok-root";

fn scenario(pipelines: u64, jobs: u64) -> String {
    format!(
        r#"
gitlab: {{version: "18.5", base_url: "https://gitlab.test"}}
users:
  - {{id: 1, username: root, tokens: [tok-root]}}
projects:
  - id: 1
    path: group/project
    members: {{root: owner}}
    generate:
      - {{pipelines: {pipelines}, jobs_per_pipeline: {jobs}, statuses: [failed, success, canceled]}}
"#
    )
}

async fn server(pipelines: u64, jobs: u64, max_sessions: Option<usize>) -> TestServer {
    let mut options = ServerOptions {
        listen: ([127, 0, 0, 1], 0).into(),
        contract: glmock::__internal::contract::Mode::Strict,
        ..ServerOptions::default()
    };
    if let Some(max) = max_sessions {
        options.max_sessions = max;
    }
    TestServer::start(
        vec![Source {
            name: "scale.yaml".into(),
            text: scenario(pipelines, jobs),
            dir: None,
        }],
        Overrides::default(),
        options,
    )
    .await
}

async fn sessions(s: &TestServer) -> serde_json::Value {
    let r = s
        .send(reqwest::Method::GET, "/-/glmock/sessions", None, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["sessions"].clone()
}

/// Walks every keyset page of the session's jobs list; checks each page is ordered, and
/// returns the ids seen.
async fn walk(s: &TestServer, session: &str) -> Vec<u64> {
    let mut url = s.session_url(session, "/projects/1/jobs?pagination=keyset&per_page=50");
    let mut seen = Vec::new();
    loop {
        let r = s.get(&url, Some(TOKEN)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let ids = r.ids();
        assert!(
            ids.windows(2).all(|w| w[0] > w[1]),
            "a page is newest first: {ids:?}"
        );
        if let (Some(last), Some(first)) = (seen.last(), ids.first()) {
            assert!(first < last, "pages follow each other: {last} then {first}");
        }
        seen.extend(ids);
        match r.next_link() {
            Some(next) => url = next,
            None => return seen,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_retries_in_one_session_lose_no_update_while_readers_page() {
    let s = Arc::new(server(20, 30, None).await);
    let session = "busy";
    let before = walk(&s, session).await;
    assert_eq!(before.len(), 600);
    // Every job of the generated scenario is failed, success or canceled: all retryable.
    let targets: Vec<u64> = before.iter().copied().step_by(7).take(60).collect();
    let mut tasks = Vec::new();
    for id in targets.clone() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let r = s
                .send(
                    reqwest::Method::POST,
                    &s.session_url(session, &format!("/projects/1/jobs/{id}/retry")),
                    Some(TOKEN),
                    None,
                )
                .await;
            assert_eq!(r.status, 201, "retry of {id}: {}", r.text);
            r.json()["id"].as_u64().expect("new id")
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..3 {
                let ids = walk(&s, session).await;
                let unique: HashSet<u64> = ids.iter().copied().collect();
                assert_eq!(unique.len(), ids.len(), "no job twice in one walk");
                assert!(ids.len() >= 600 && ids.len() <= 660, "{} jobs", ids.len());
            }
        }));
    }
    let mut new_ids = HashSet::new();
    for t in tasks {
        assert!(new_ids.insert(t.await.expect("retry task")));
    }
    for r in readers {
        r.await.expect("reader task");
    }
    assert_eq!(new_ids.len(), targets.len(), "one new job per retry");
    let after = walk(&s, session).await;
    assert_eq!(after.len(), 600 + targets.len(), "no retry lost");
    let after: HashSet<u64> = after.into_iter().collect();
    assert!(new_ids.iter().all(|id| after.contains(id)));
    // Every original is marked retried.
    for id in targets {
        let again = s
            .send(
                reqwest::Method::POST,
                &s.session_url(session, &format!("/projects/1/jobs/{id}/retry")),
                Some(TOKEN),
                None,
            )
            .await;
        assert_eq!(again.status, 403, "a retried job is not retryable again");
    }
    // The base world and other sessions are untouched.
    assert_eq!(walk(&s, "other").await.len(), 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_cancels_and_pipeline_list_stay_consistent() {
    let s = Arc::new(server(10, 10, None).await);
    let session = "lists";
    // Retry one job per pipeline, in parallel: each pipeline gets a pending job.
    let mut tasks = Vec::new();
    for p in 1..=10u64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let job = (p - 1) * 10 + 1;
            let r = s
                .send(
                    reqwest::Method::POST,
                    &s.session_url(session, &format!("/projects/1/jobs/{job}/retry")),
                    Some(TOKEN),
                    None,
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
        }));
    }
    for t in tasks {
        t.await.expect("retry task");
    }
    let r = s
        .get(
            &s.session_url(
                session,
                "/projects/1/pipelines?per_page=100&order_by=updated_at",
            ),
            Some(TOKEN),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let statuses: Vec<String> = r
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["status"].as_str().expect("status").to_owned())
        .collect();
    assert_eq!(statuses.len(), 10);
    assert!(
        statuses.iter().all(|s| s == "pending" || s == "running"),
        "every pipeline follows its retried job: {statuses:?}"
    );
    // The base world still has no active pipeline.
    let base = s
        .get(
            "/projects/1/pipelines?per_page=100&scope=pending",
            Some(TOKEN),
        )
        .await;
    assert_eq!(base.ids(), Vec::<u64>::new());
}

#[tokio::test]
async fn sessions_beyond_the_bound_evict_the_least_recently_used() {
    let s = server(1, 5, Some(3)).await;
    let retry = |session: &str, job: u64| {
        (
            reqwest::Method::POST,
            s.session_url(session, &format!("/projects/1/jobs/{job}/retry")),
        )
    };
    let mut new_job = std::collections::HashMap::new();
    for name in ["s1", "s2", "s3"] {
        let (m, url) = retry(name, 1);
        let r = s.send(m, &url, Some(TOKEN), None).await;
        assert_eq!(r.status, 201, "{}", r.text);
        new_job.insert(name, r.json()["id"].as_u64().expect("id"));
    }
    assert_eq!(sessions(&s).await, json!(["s1", "s2", "s3"]));
    // Reading s1 makes s2 the least recently used.
    let r = s
        .get(&s.session_url("s1", "/projects/1/jobs/1"), Some(TOKEN))
        .await;
    assert_eq!(r.status, 200);
    let (m, url) = retry("s4", 2);
    assert_eq!(s.send(m, &url, Some(TOKEN), None).await.status, 201);
    assert_eq!(sessions(&s).await, json!(["s1", "s3", "s4"]));
    // s2 restarts from the scenario: its retry is gone.
    let gone = s
        .get(
            &s.session_url("s2", &format!("/projects/1/jobs/{}", new_job["s2"])),
            Some(TOKEN),
        )
        .await;
    assert_eq!(gone.status, 404);
    let kept = s
        .get(
            &s.session_url("s1", &format!("/projects/1/jobs/{}", new_job["s1"])),
            Some(TOKEN),
        )
        .await;
    assert_eq!(kept.status, 200);
    // Reading s2 did not create it again.
    assert_eq!(sessions(&s).await, json!(["s1", "s3", "s4"]));
}

#[tokio::test]
async fn requests_that_fail_authentication_or_only_read_create_no_session() {
    let s = server(1, 5, None).await;
    let unauthenticated = s
        .send(
            reqwest::Method::POST,
            &s.session_url("intruder", "/projects/1/jobs/1/retry"),
            None,
            None,
        )
        .await;
    assert_eq!(unauthenticated.status, 401);
    let bad_token = s
        .send(
            reqwest::Method::POST,
            &s.session_url("intruder2", "/projects/1/jobs/1/retry"),
            Some("glpat-nobody"),
            None,
        )
        .await;
    assert_eq!(bad_token.status, 401);
    let read = s
        .get(&s.session_url("reader", "/projects/1/jobs"), Some(TOKEN))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(sessions(&s).await, json!([]));
    let write = s
        .send(
            reqwest::Method::POST,
            &s.session_url("writer", "/projects/1/jobs/1/retry"),
            Some(TOKEN),
            None,
        )
        .await;
    assert_eq!(write.status, 201);
    assert_eq!(sessions(&s).await, json!(["writer"]));
}

/// No write runs while its own request still holds a snapshot of the session: once the
/// session exists, job and pipeline mutations made one at a time (no reader in flight) find
/// its world unshared, so `Arc::make_mut` copies nothing it does not change.
#[tokio::test]
async fn writes_hold_no_snapshot_of_their_session() {
    let yaml = r#"
gitlab: {version: "18.5", base_url: "https://gitlab.test"}
users:
  - {id: 1, username: root, tokens: [tok-root]}
projects:
  - id: 1
    path: group/project
    members: {root: owner}
    generate:
      - {pipelines: 4, jobs_per_pipeline: 6, statuses: [failed, success, manual], log: "ok\n"}
"#;
    let s = TestServer::start(
        vec![Source {
            name: "snap.yaml".into(),
            text: yaml.into(),
            dir: None,
        }],
        Overrides::default(),
        ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            contract: glmock::__internal::contract::Mode::Strict,
            ..ServerOptions::default()
        },
    )
    .await;
    let post = |path: &str| {
        let url = s.session_url("w", path);
        let s = &s;
        async move { s.send(reqwest::Method::POST, &url, Some(TOKEN), None).await }
    };
    let jobs = s
        .get(
            &s.session_url("w", "/projects/1/jobs?per_page=100"),
            Some(TOKEN),
        )
        .await;
    assert_eq!(jobs.status, 200, "{}", jobs.text);
    let all = jobs.json();
    let of = |status: &str| -> u64 {
        all.as_array()
            .unwrap()
            .iter()
            .find(|j| j["status"] == status)
            .and_then(|j| j["id"].as_u64())
            .unwrap_or_else(|| panic!("a {status} job"))
    };
    let (failed, manual, success) = (of("failed"), of("manual"), of("success"));
    // The first write creates the session from the base world, which stays shared.
    let r = post(&format!("/projects/1/jobs/{failed}/retry")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let new = r.json()["id"].as_u64().unwrap();
    let sessions = &s.app().sessions;
    let before = sessions.shared_writes();
    let r = post(&format!("/projects/1/jobs/{new}/cancel")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post(&format!("/projects/1/jobs/{success}/erase")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post(&format!("/projects/1/jobs/{manual}/play")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post("/projects/1/pipelines/1/retry").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post("/projects/1/pipelines/2/cancel").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .send(
            reqwest::Method::DELETE,
            &s.session_url("w", "/projects/1/pipelines/3"),
            Some(TOKEN),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        sessions.shared_writes() - before,
        0,
        "a write found its session shared with a snapshot"
    );
}

/// The pipelines list counts `X-Total` from per-(source, status) counts and stops its walk
/// at the page's end: the header must still equal the number of pipelines a full walk
/// finds, for every filter those counts decide, after retries, a cancel and a delete.
#[tokio::test]
async fn pipeline_list_totals_follow_status_changes() {
    let s = server(8, 5, None).await;
    let session = "totals";
    let post = |path: String| {
        let url = s.session_url(session, &path);
        let s = &s;
        async move {
            let r = s.send(reqwest::Method::POST, &url, Some(TOKEN), None).await;
            assert!(r.status == 201 || r.status == 200, "{path}: {}", r.text);
        }
    };
    post("/projects/1/jobs/1/retry".into()).await;
    post("/projects/1/jobs/6/retry".into()).await;
    post("/projects/1/jobs/11/retry".into()).await;
    post("/projects/1/pipelines/3/cancel".into()).await;
    let r = s
        .send(
            reqwest::Method::DELETE,
            &s.session_url(session, "/projects/1/pipelines/8"),
            Some(TOKEN),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let filters = [
        "",
        "status=running",
        "status=pending",
        "status=failed",
        "status=canceled",
        "status=success",
        "scope=finished",
        "scope=running",
        "scope=pending",
        "source=push",
        "source=parent_pipeline",
        "scope=finished&status=failed",
        "order_by=updated_at&status=failed",
    ];
    let mut seen_statuses = HashSet::new();
    for f in filters {
        let all = s
            .get(
                &s.session_url(session, &format!("/projects/1/pipelines?per_page=100&{f}")),
                Some(TOKEN),
            )
            .await;
        assert_eq!(all.status, 200, "{f}: {}", all.text);
        for p in all.json().as_array().expect("list") {
            seen_statuses.insert(p["status"].as_str().expect("status").to_owned());
        }
        let n = all.ids().len();
        assert_eq!(all.header("x-total"), Some(n.to_string().as_str()), "{f}");
        let first = s
            .get(
                &s.session_url(session, &format!("/projects/1/pipelines?per_page=1&{f}")),
                Some(TOKEN),
            )
            .await;
        assert_eq!(first.header("x-total"), Some(n.to_string().as_str()), "{f}");
        assert_eq!(
            first.ids(),
            all.ids().into_iter().take(1).collect::<Vec<_>>()
        );
    }
    assert!(
        seen_statuses.len() >= 2,
        "the mutations made several statuses: {seen_statuses:?}"
    );
}

/// A pipeline's status, `updated_at` and `finished_at`.
async fn pipeline_times(s: &TestServer) -> (String, serde_json::Value, serde_json::Value) {
    let p = s.get("/projects/1/pipelines/1", Some(TOKEN)).await.json();
    (
        p["status"].as_str().unwrap().to_owned(),
        p["updated_at"].clone(),
        p["finished_at"].clone(),
    )
}

/// A retry or cancel answering 201; the job's id.
async fn mutate(s: &TestServer, job: u64, action: &str) -> u64 {
    let r = s
        .post(&format!("/projects/1/jobs/{job}/{action}"), Some(TOKEN))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_u64().unwrap()
}

/// A pipeline's times follow its latest jobs through retries and cancels without a walk of
/// its jobs (`src/world/times.rs`), and stay what the jobs say: a timestamp after "now" (a
/// scenario's, or one left by a clock moved back) does not count for `updated_at`, and when the
/// job that finished last is retried, the pipeline's next finish is the latest one left.
#[tokio::test]
async fn pipeline_times_stay_exact_through_retries_and_a_clock_moved_back() {
    let s = TestServer::with_yaml(
        r#"
gitlab: {now: "2024-06-01T12:00:00Z", clock: frozen}
users: [{id: 1, username: root, tokens: [tok-root]}]
projects:
  - id: 1
    path: g/p
    members: {root: owner}
    pipelines:
      - id: 1
        status: failed
        created_at: "2024-06-01T10:00:00Z"
        updated_at: "2024-06-01T11:00:00Z"
        jobs:
          - {id: 1, name: a, status: success, created_at: "2024-06-01T10:00:00Z", started_at: "2024-06-01T10:01:00Z", finished_at: "2024-06-01T10:05:00Z"}
          - {id: 2, name: b, status: failed, created_at: "2024-06-01T10:00:00Z", started_at: "2024-06-01T10:01:00Z", finished_at: "2024-06-01T11:00:00Z"}
          - {id: 3, name: c, status: success, created_at: "2024-06-01T10:00:00Z", started_at: "2024-06-01T10:01:00Z", finished_at: "2024-06-01T11:58:00Z"}
"#,
    )
    .await;
    let at = |t: &str| json!(format!("2024-06-01T{t}.000Z"));
    let (running, canceled) = (String::from("running"), String::from("canceled"));
    let back = |seconds: i64| {
        let s = &s;
        async move {
            let path = format!("/-/glmock/clock/advance?seconds={seconds}");
            let r = s.send(reqwest::Method::POST, &path, None, None).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    };
    // Three minutes back: job 3's finish (11:58) is after "now" (11:57).
    back(-180).await;
    // Retry job 2 at 11:57: running (a success and a pending job), not finished, updated at
    // 11:57 although job 3 finished at 11:58, after "now".
    let job = mutate(&s, 2, "retry").await;
    assert_eq!(
        pipeline_times(&s).await,
        (running.clone(), at("11:57:00"), json!(null))
    );
    // Its cancel finishes at 11:57; job 3's finish is the latest.
    mutate(&s, job, "cancel").await;
    assert_eq!(
        pipeline_times(&s).await,
        (canceled.clone(), at("11:57:00"), at("11:58:00"))
    );
    // Back to noon: retry job 3, the one that finished last, and cancel the new job at noon.
    back(180).await;
    let three = mutate(&s, 3, "retry").await;
    assert_eq!(
        pipeline_times(&s).await,
        (running.clone(), at("12:00:00"), json!(null))
    );
    mutate(&s, three, "cancel").await;
    assert_eq!(
        pipeline_times(&s).await,
        (canceled.clone(), at("12:00:00"), at("12:00:00"))
    );
    // Three hours back: retry and cancel the job canceled at noon. Its new finish (09:00) is
    // earlier than job 2's retry's (11:57), which is then the pipeline's; updated_at never
    // goes back.
    back(-10800).await;
    let three = mutate(&s, three, "retry").await;
    assert_eq!(
        pipeline_times(&s).await,
        (running, at("12:00:00"), json!(null))
    );
    mutate(&s, three, "cancel").await;
    assert_eq!(
        pipeline_times(&s).await,
        (canceled, at("12:00:00"), at("11:57:00"))
    );
}

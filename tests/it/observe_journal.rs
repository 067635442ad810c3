//! The journal through HTTP: what an entry holds (secrets masked), per-session rings and
//! the byte cap, filters and pages.

use glmock::__internal::ServerOptions;
use glmock::__internal::journal::JournalOptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::observe::{control, with_options};
use crate::support::*;

async fn journal(s: &TestServer, query: &str) -> Value {
    let r = control(s, Method::GET, &format!("/journal{query}"), &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

fn entries(v: &Value) -> &Vec<Value> {
    v["entries"].as_array().expect("entries")
}

#[tokio::test]
async fn an_entry_has_headers_bodies_route_and_latency_with_secrets_masked() {
    let s = TestServer::default_scenario().await;
    let r = s
        .raw(
            s.client
                .post(format!(
                    "{}/api/v4/projects/1/pipeline?ref=main&private_token=glpat-root",
                    s.url
                ))
                .header("Authorization", "Bearer glpat-root")
                .header("JOB-TOKEN", "glcbt-whatever")
                .header("Cookie", "_gitlab_session=abcdef123")
                .header("X-Trace", "keep-me")
                .header("Content-Type", "application/json")
                .body(r#"{"variables":[{"key":"A","value":"1"}],"token":"very-secret"}"#),
        )
        .await;
    assert!(r.status < 500, "{}", r.text);
    let j = journal(&s, "").await;
    let e = &entries(&j)[0];
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], "/api/v4/projects/1/pipeline");
    assert_eq!(e["route"], "/api/v4/projects/{id}/pipeline");
    assert_eq!(e["query"], "ref=main&private_token=[REDACTED]");
    assert_eq!(e["status"], r.status);
    assert!(e["latency_us"].as_u64().unwrap() > 0);
    let h = &e["request_headers"];
    assert_eq!(h["authorization"], "[REDACTED]");
    assert_eq!(h["job-token"], "[REDACTED]");
    assert_eq!(h["cookie"], "[REDACTED]");
    assert_eq!(h["x-trace"], "keep-me");
    assert_eq!(
        e["request_body"],
        r#"{"variables":[{"key":"A","value":"1"}],"token":"[REDACTED]"}"#
    );
    assert_eq!(e["response_body"].as_str().unwrap(), r.text);
    assert_eq!(e["faults"], json!([]));
    let all = j.to_string();
    for secret in ["glpat-root", "glcbt-whatever", "abcdef123", "very-secret"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
}

#[tokio::test]
async fn a_token_in_the_path_is_masked() {
    let s = TestServer::default_scenario().await;
    s.get("/projects/1/jobs/glpat-root/trace", Some(ROOT)).await;
    let j = journal(&s, "").await;
    assert_eq!(
        entries(&j)[0]["path"],
        "/api/v4/projects/1/jobs/[REDACTED]/trace"
    );
}

#[tokio::test]
async fn bodies_are_cut_at_the_limit_and_marked() {
    let s = with_options(ServerOptions {
        journal: JournalOptions {
            body_bytes: 100,
            ..JournalOptions::default()
        },
        ..ServerOptions::default()
    })
    .await;
    let r = s.get("/projects/1/jobs", Some(ROOT)).await;
    assert!(r.text.len() > 100);
    let j = journal(&s, "").await;
    let e = &entries(&j)[0];
    assert_eq!(e["response_body"].as_str().unwrap(), &r.text[..100]);
    assert_eq!(e["response_body_truncated"], true);
    assert!(e.get("request_body").is_none(), "no body sent, none kept");
}

#[tokio::test]
async fn each_session_has_its_own_ring_and_all_stay_under_the_byte_cap() {
    let s = with_options(ServerOptions {
        journal: JournalOptions {
            per_session: 5,
            ..JournalOptions::default()
        },
        ..ServerOptions::default()
    })
    .await;
    s.get(&s.session_url("quiet", "/projects/1/jobs/7"), Some(ROOT))
        .await;
    for _ in 0..20 {
        s.get(&s.session_url("busy", "/projects/1/jobs/7"), Some(ROOT))
            .await;
    }
    let quiet = journal(&s, "?session=quiet").await;
    assert_eq!(
        entries(&quiet).len(),
        1,
        "a busy session does not evict a quiet one"
    );
    assert_eq!(quiet["dropped"], 0);
    let busy = journal(&s, "?session=busy").await;
    assert_eq!(entries(&busy).len(), 5);
    assert_eq!(busy["dropped"], 15);

    // 40 KB of budget, ~5 KB per jobs page: never more than a handful kept.
    let s = with_options(ServerOptions {
        journal: JournalOptions {
            max_bytes: 40_000,
            ..JournalOptions::default()
        },
        ..ServerOptions::default()
    })
    .await;
    for i in 0..60 {
        s.get(
            &s.session_url(&format!("s{i}"), "/projects/1/jobs"),
            Some(ROOT),
        )
        .await;
    }
    let all = journal(&s, "?limit=1000").await;
    let kept = entries(&all);
    let bytes: usize = kept.iter().map(|e| e.to_string().len()).sum();
    assert!(bytes <= 40_000, "{bytes} bytes kept");
    assert!(!kept.is_empty() && kept.len() < 60);
    assert_eq!(kept.last().unwrap()["session"], "s59", "the newest survive");
    assert_eq!(all["dropped"].as_u64().unwrap() as usize, 60 - kept.len());
}

#[tokio::test]
async fn the_journal_filters_by_method_route_path_status_time_and_session() {
    let s = TestServer::default_scenario().await;
    let t0 = jiff::Timestamp::now();
    s.get("/projects/1/jobs/7", Some(ROOT)).await;
    s.get("/projects/1/jobs/8", Some(ROOT)).await;
    s.post("/projects/1/jobs/7/retry", Some(ROOT)).await;
    s.get("/projects/1/jobs/999", Some(ROOT)).await;
    s.get(&s.session_url("other", "/projects/1/pipelines"), Some(ROOT))
        .await;
    let paths = |v: Value| -> Vec<String> {
        entries(&v)
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        paths(journal(&s, "?method=post").await),
        ["POST /api/v4/projects/1/jobs/7/retry"]
    );
    assert_eq!(
        paths(journal(&s, "?route=/api/v4/projects/{id}/jobs/{job_id}").await).len(),
        3
    );
    assert_eq!(
        paths(journal(&s, "?path=/api/v4/projects/*/jobs/?").await),
        [
            "GET /api/v4/projects/1/jobs/7",
            "GET /api/v4/projects/1/jobs/8"
        ]
    );
    assert_eq!(
        paths(journal(&s, "?status=4xx").await),
        ["GET /api/v4/projects/1/jobs/999"]
    );
    assert_eq!(paths(journal(&s, "?status=201").await).len(), 1);
    assert_eq!(
        paths(journal(&s, "?session=other").await),
        ["GET /api/v4/projects/1/pipelines"]
    );
    let since = format!("?since={t0}");
    assert_eq!(paths(journal(&s, &since).await).len(), 5);
    let until = format!("?until={t0}");
    assert_eq!(paths(journal(&s, &until).await).len(), 0);

    let r = control(&s, Method::GET, "/journal?status=abc", &[], None).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("status must be")
    );
    let r = control(&s, Method::GET, "/journal?since=yesterday", &[], None).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn the_journal_is_paginated_with_after() {
    let s = TestServer::default_scenario().await;
    for _ in 0..7 {
        s.get("/projects/1/jobs/7", Some(ROOT)).await;
    }
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let page = journal(&s, &query).await;
        let got = entries(&page);
        assert!(got.len() <= 3);
        seen.extend(got.iter().map(|e| e["seq"].as_u64().unwrap()));
        match page["next_after"].as_u64() {
            Some(after) => query = format!("?limit=3&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    // The default page is 100 entries.
    for _ in 0..100 {
        s.get("/version", Some(ROOT)).await;
    }
    let page = journal(&s, "").await;
    assert_eq!(entries(&page).len(), 100);
    assert!(page["next_after"].is_u64());
}

#[tokio::test]
async fn with_the_journal_off_nothing_is_kept() {
    let s = with_options(ServerOptions {
        journal: JournalOptions {
            enabled: false,
            ..JournalOptions::default()
        },
        ..ServerOptions::default()
    })
    .await;
    s.get("/projects/1/jobs/7", Some(ROOT)).await;
    assert_eq!(entries(&journal(&s, "").await).len(), 0);
}

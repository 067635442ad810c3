//! `POST /-/glmock/verify`: counts, and near misses when the count is wrong.

use reqwest::Method;
use serde_json::json;

use crate::observe::control_json;
use crate::support::*;

#[tokio::test]
async fn verify_counts_matching_requests_of_a_session() {
    let s = TestServer::default_scenario().await;
    s.post(&s.session_url("s", "/projects/1/jobs/7/retry"), Some(ROOT))
        .await;
    s.post(&s.session_url("t", "/projects/1/jobs/7/retry"), Some(ROOT))
        .await;
    let path = "/api/v4/projects/1/jobs/7/retry";
    let r = control_json(
        &s,
        Method::POST,
        "/verify",
        json!({"method": "POST", "path": path, "session": "s", "count": 1}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["matched"], 1);
    assert_eq!(
        v["expected"],
        format!("exactly 1 request(s) matching POST {path} in session s")
    );
    assert_eq!(v["entries"][0]["path"], path);
    assert_eq!(v["entries"][0]["status"], 201);

    // Any session; a route instead of a path; bounds.
    let r = control_json(
        &s,
        Method::POST,
        "/verify",
        json!({"route": "/api/v4/projects/{id}/jobs/{job_id}/retry", "at_least": 2, "at_most": 2}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = control_json(
        &s,
        Method::POST,
        "/verify",
        json!({"method": "DELETE", "path": "/api/v4/*", "at_most": 0}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The URL prefix names the session too.
    let r = control_json(
        &s,
        Method::POST,
        "/-/sessions/t/-/glmock/verify",
        json!({"path": path, "count": 1}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = control_json(
        &s,
        Method::POST,
        "/verify",
        json!({"method": "POST", "path": path, "session": "s", "count": 2}),
    )
    .await;
    assert_eq!(r.status, 417, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["error"],
        format!("expected exactly 2 request(s) matching POST {path} in session s, got 1")
    );
    assert_eq!(v["matched"], 1);
}

#[tokio::test]
async fn a_failed_verification_lists_the_near_misses_closest_first() {
    let s = TestServer::default_scenario().await;
    let u = |p: &str| s.session_url("mine", p);
    s.post(&u("/projects/1/jobs/8/retry"), Some(ROOT)).await; // a nearby path
    s.get(&u("/projects/1/jobs/7/retry"), Some(ROOT)).await; // another method (405)
    s.post(
        &s.session_url("yours", "/projects/1/jobs/7/retry"),
        Some(ROOT),
    )
    .await; // another session
    s.get(&u("/projects/1/pipelines"), Some(ROOT)).await; // unrelated
    let r = control_json(
        &s,
        Method::POST,
        "/verify",
        json!({"method": "post", "path": "/api/v4/projects/1/jobs/7/retry", "session": "mine"}),
    )
    .await;
    assert_eq!(r.status, 417, "{}", r.text);
    let v = r.json();
    assert_eq!(v["matched"], 0);
    let reasons: Vec<&str> = v["near_misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "method GET instead of POST",
            "in session \"yours\", not \"mine\"",
            "path /api/v4/projects/1/jobs/8/retry is 1 edit(s) from /api/v4/projects/1/jobs/7/retry",
        ]
    );
    assert_eq!(v["near_misses"][0]["entry"]["status"], 405);
}

#[tokio::test]
async fn verify_rejects_an_incomplete_or_contradictory_request() {
    let s = TestServer::default_scenario().await;
    let r = control_json(&s, Method::POST, "/verify", json!({"method": "GET"})).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("path or route is required")
    );
    let r = control_json(
        &s,
        Method::POST,
        "/verify",
        json!({"path": "/x", "count": 1, "at_least": 1}),
    )
    .await;
    r.assert(
        400,
        json!({"error": "count cannot be combined with at_least or at_most"}),
    );
    let r = control_json(
        &s,
        Method::POST,
        "/verify",
        json!({"path": "/x", "count": -1}),
    )
    .await;
    r.assert(
        400,
        json!({"error": "count must be a non-negative integer"}),
    );
}

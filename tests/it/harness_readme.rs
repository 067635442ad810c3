//! The README's "Use it from Rust tests" snippet, as written there (a test compares the two).

use glmock::MockGitlab;

#[tokio::test]
async fn retrying_a_failed_job_creates_a_new_one() {
    // One server for this test (the embedded default scenario, strict contract checking),
    // stopped when `gitlab` drops.
    let gitlab = MockGitlab::start().await.expect("glmock starts");
    let session = gitlab.session("retry-once");
    session
        .expect("POST", "/api/v4/projects/1/jobs/7/retry")
        .times(1); // checked when `session` drops

    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/api/v4/projects/1/jobs/7/retry", session.uri()))
        .header("PRIVATE-TOKEN", "glpat-root")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let job: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(job["status"], "pending");
    assert_ne!(job["id"], 7, "a retry is a new job");
}

#[tokio::test]
async fn many_tests_share_one_server() {
    // One server per test binary, a fresh session per test: no cross-talk.
    let session = MockGitlab::shared();
    let response = reqwest::Client::new()
        .get(format!("{}/api/v4/projects/1/jobs/7", session.uri()))
        .header("PRIVATE-TOKEN", "glpat-root")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(session.received_requests().len(), 1);
}

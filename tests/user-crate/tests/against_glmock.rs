//! The user's tests: glmock through its harness, the user's own reqwest over HTTP and TLS.

use glmock::{JobStatus, MockGitlab};

#[tokio::test]
async fn the_client_retries_a_job_against_glmock() {
    let gitlab = MockGitlab::start().await.expect("glmock starts");
    let session = gitlab.session("user-crate");
    session
        .expect("POST", "/api/v4/projects/1/jobs/7/retry")
        .times(1);
    let client = reqwest::Client::new();
    let new_id = glmock_user_crate::retry_job(&client, &session.uri(), "glpat-root", 1, 7)
        .await
        .expect("retried");
    assert_ne!(new_id, 7);
    assert_eq!(session.received_requests()[0].status, 201);
    // A job that is not retryable answers GitLab's 403.
    let state = session.set_job_status(8, JobStatus::Running).unwrap();
    assert_eq!(state.status, JobStatus::Running);
    let err = glmock_user_crate::retry_job(&client, &gitlab.uri(), "nope", 1, 7)
        .await
        .unwrap_err();
    assert_eq!(err, "401 Unauthorized: {\"message\":\"401 Unauthorized\"}");
}

#[tokio::test]
async fn the_shared_server_serves_the_user_too() {
    let session = MockGitlab::shared();
    let client = reqwest::Client::new();
    let first = glmock_user_crate::retry_job(&client, &session.uri(), "glpat-root", 1, 7)
        .await
        .unwrap();
    let other = MockGitlab::shared();
    let second = glmock_user_crate::retry_job(&client, &other.uri(), "glpat-root", 1, 7)
        .await
        .unwrap();
    assert_eq!(first, second, "each session starts from the scenario");
}

#[tokio::test]
async fn the_users_rustls_still_has_a_crypto_provider() {
    // Building a rustls-backed reqwest client and speaking TLS must not panic for lack of a
    // crypto provider: glmock enables no TLS feature at all without `cli`.
    let client = reqwest::Client::builder()
        .build()
        .expect("a rustls client builds");
    let gitlab = MockGitlab::start().await.unwrap();
    let https = gitlab.uri().replace("http://", "https://");
    let err = client
        .get(format!("{https}/-/glmock/health"))
        .send()
        .await
        .expect_err("glmock speaks plain HTTP: the TLS handshake fails, as an error");
    assert!(err.is_connect(), "{err:?}");
    // rustls' own process-wide default works as well.
    let config = glmock_user_crate::tls_config();
    assert!(config.alpn_protocols.is_empty());
}

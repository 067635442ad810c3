//! Authentication, permissions and GitLab's exact error behaviour
//! (docs/gitlab-notes.md §1, §2).
//!
//! Every test starts its own server on the default scenario (or an inline one) and checks
//! the exact status, the exact JSON body, the content type and, where relevant, headers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{DEVELOPER, JOB_TOKEN, REPORTER, ROOT, ROOT_READ_ONLY, Resp, TestServer};

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

fn unauthorized() -> Value {
    json!({"message": "401 Unauthorized"})
}

fn forbidden() -> Value {
    json!({"message": "403 Forbidden"})
}

fn project_not_found() -> Value {
    json!({"message": "404 Project Not Found"})
}

fn record_not_found() -> Value {
    json!({"message": "404 Not found"})
}

fn route_not_found() -> Value {
    json!({"error": "404 Not Found"})
}

fn insufficient_scope() -> Value {
    json!({
        "error": "insufficient_scope",
        "error_description": "The request requires higher privileges than provided by the access token.",
        "scope": "api"
    })
}

const INSUFFICIENT_SCOPE_WWW_AUTHENTICATE: &str = "Bearer realm=\"The API\", error=\"insufficient_scope\", error_description=\"The request requires higher privileges than provided by the access token.\", scope=\"api\"";

/// `X-Frame-Options: SAMEORIGIN` and `X-Content-Type-Options: nosniff` (api.rb `before`).
#[track_caller]
fn assert_security_headers(r: &Resp) {
    assert_eq!(
        r.header("x-frame-options"),
        Some("SAMEORIGIN"),
        "status {} body {}",
        r.status,
        r.text
    );
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "status {} body {}",
        r.status,
        r.text
    );
}

#[track_caller]
fn assert_insufficient_scope(r: &Resp) {
    r.assert(403, insufficient_scope());
    assert_eq!(
        r.header("www-authenticate"),
        Some(INSUFFICIENT_SCOPE_WWW_AUTHENTICATE)
    );
}

fn api(s: &TestServer, path: &str) -> String {
    format!("{}/api/v4{path}", s.url)
}

/// GET with one extra header.
async fn get_with(s: &TestServer, path: &str, name: &str, value: &str) -> Resp {
    s.raw(s.client.get(api(s, path)).header(name, value)).await
}

async fn get_bearer(s: &TestServer, path: &str, token: &str) -> Resp {
    get_with(s, path, "Authorization", &format!("Bearer {token}")).await
}

async fn job_status(s: &TestServer, id: u64) -> String {
    let r = s.get(&format!("/projects/1/jobs/{id}"), Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["status"].as_str().expect("status").to_owned()
}

fn without_duration(mut v: Value) -> Value {
    v.as_object_mut().expect("an object").remove("duration");
    v
}

/// The methods of the Allow header, order-insensitive.
fn allow_set(r: &Resp) -> Vec<String> {
    let mut v: Vec<String> = r
        .header("allow")
        .unwrap_or_else(|| panic!("no Allow header: {:?}", r.headers))
        .split(',')
        .map(|m| m.trim().to_owned())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------
// 401 Unauthorized
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn no_token_on_project_jobs_is_401() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/jobs", None).await;
    r.assert(401, unauthorized());
    assert_security_headers(&r);
    // The single-job routes too.
    s.get("/projects/1/jobs/7", None)
        .await
        .assert(401, unauthorized());
    s.get("/projects/1/jobs/7/trace", None)
        .await
        .assert(401, unauthorized());
    s.post("/projects/1/jobs/7/cancel", None)
        .await
        .assert(401, unauthorized());
    s.post("/projects/1/jobs/7/retry", None)
        .await
        .assert(401, unauthorized());
    s.post("/projects/1/jobs/7/erase", None)
        .await
        .assert(401, unauthorized());
    s.post("/projects/1/jobs/8/play", None)
        .await
        .assert(401, unauthorized());
}

#[tokio::test]
async fn no_token_on_missing_project_is_401_before_the_project_lookup() {
    let s = TestServer::default_scenario().await;
    s.get("/projects/999/jobs", None)
        .await
        .assert(401, unauthorized());
    s.get("/projects/999/jobs/7", None)
        .await
        .assert(401, unauthorized());
    s.get("/projects/no%2Fsuch/jobs", None)
        .await
        .assert(401, unauthorized());
    s.post("/projects/999/jobs/7/cancel", None)
        .await
        .assert(401, unauthorized());
}

#[tokio::test]
async fn no_token_comes_before_parameter_validation() {
    // `before { authenticate! }` runs before Grape validates parameters.
    let s = TestServer::default_scenario().await;
    s.get("/projects/1/jobs?scope[]=bogus", None)
        .await
        .assert(401, unauthorized());
    s.get("/projects/1/jobs?per_page=0", None)
        .await
        .assert(401, unauthorized());
    s.get("/projects/1/jobs/abc", None)
        .await
        .assert(401, unauthorized());
    s.post("/projects/1/jobs/abc/cancel", None)
        .await
        .assert(401, unauthorized());
}

#[tokio::test]
async fn unknown_private_token_is_401() {
    let s = TestServer::default_scenario().await;
    s.get("/projects/1/jobs", Some("glpat-nope"))
        .await
        .assert(401, unauthorized());
    s.get("/projects/1/jobs/7", Some("glpat-nope"))
        .await
        .assert(401, unauthorized());
    s.get("/projects/999/jobs", Some("glpat-nope"))
        .await
        .assert(401, unauthorized());
    s.post("/projects/1/jobs/10/cancel", Some("glpat-nope"))
        .await
        .assert(401, unauthorized());
    // Nothing changed.
    assert_eq!(job_status(&s, 10).await, "running");
}

#[tokio::test]
async fn unknown_token_on_pipeline_jobs_is_401() {
    // The Pipelines API lets anonymous GETs through, but an unknown token is still 401.
    let s = TestServer::default_scenario().await;
    let r = s
        .get("/projects/1/pipelines/6/jobs", Some("glpat-nope"))
        .await;
    r.assert(401, unauthorized());
    assert_security_headers(&r);
    get_bearer(&s, "/projects/1/pipelines/6/jobs", "glpat-nope")
        .await
        .assert(401, unauthorized());
    get_with(
        &s,
        "/projects/1/pipelines/6/jobs",
        "JOB-TOKEN",
        "glcbt-nope",
    )
    .await
    .assert(401, unauthorized());
    s.get(
        "/projects/1/pipelines/6/jobs?private_token=glpat-nope",
        None,
    )
    .await
    .assert(401, unauthorized());
}

#[tokio::test]
async fn anonymous_pipeline_jobs_of_private_project_is_404() {
    // Pipelines API: only non-GET requests need authentication, so an anonymous GET on a
    // private project is 404 Project Not Found (§1.2.8).
    let s = TestServer::default_scenario().await;
    s.get("/projects/1/pipelines/6/jobs", None)
        .await
        .assert(404, project_not_found());
}

#[tokio::test]
async fn get_user_without_token_is_401() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/user", None).await;
    r.assert(401, unauthorized());
    assert_security_headers(&r);
    s.get("/user", Some("glpat-nope"))
        .await
        .assert(401, unauthorized());
    // With a token: the token's user.
    let r = s.get("/user", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["username"], "root");
}

// ---------------------------------------------------------------------------------------
// Token inputs
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn personal_token_inputs_all_work() {
    let s = TestServer::default_scenario().await;
    let reference = s.get("/projects/1/jobs/7", Some(ROOT)).await;
    assert_eq!(reference.status, 200, "{}", reference.text);
    assert_eq!(reference.json()["id"], 7);

    let upper = get_with(&s, "/projects/1/jobs/7", "PRIVATE-TOKEN", ROOT).await;
    let lower = get_with(&s, "/projects/1/jobs/7", "private-token", ROOT).await;
    let param = s
        .get(&format!("/projects/1/jobs/7?private_token={ROOT}"), None)
        .await;
    let bearer = get_bearer(&s, "/projects/1/jobs/7", ROOT).await;
    for (name, r) in [
        ("PRIVATE-TOKEN", &upper),
        ("private-token", &lower),
        ("?private_token=", &param),
        ("Bearer", &bearer),
    ] {
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"), "{name}");
        assert_eq!(r.json(), reference.json(), "{name}");
        assert_security_headers(r);
    }
}

#[tokio::test]
async fn personal_token_inputs_of_other_users() {
    let s = TestServer::default_scenario().await;
    for token in [REPORTER, DEVELOPER] {
        let r = get_bearer(&s, "/user", token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = s.get(&format!("/user?private_token={token}"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(
        get_bearer(&s, "/user", REPORTER).await.json()["username"],
        "reporter"
    );
    assert_eq!(
        s.get(&format!("/user?private_token={DEVELOPER}"), None)
            .await
            .json()["username"],
        "developer"
    );
}

#[tokio::test]
async fn read_only_token_can_read() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/jobs/7", Some(ROOT_READ_ONLY)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["id"], 7);
    let r = s.get("/projects/1/jobs", Some(ROOT_READ_ONLY)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

// ---------------------------------------------------------------------------------------
// CI job tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn job_token_header_param_and_bearer_on_job() {
    let s = TestServer::default_scenario().await;
    let header = get_with(&s, "/job", "JOB-TOKEN", JOB_TOKEN).await;
    let param = s.get(&format!("/job?job_token={JOB_TOKEN}"), None).await;
    let bearer = get_bearer(&s, "/job", JOB_TOKEN).await;
    let single = s.get("/projects/1/jobs/10", Some(ROOT)).await;
    assert_eq!(single.status, 200, "{}", single.text);
    for (name, r) in [
        ("JOB-TOKEN", &header),
        ("?job_token=", &param),
        ("Bearer", &bearer),
    ] {
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"), "{name}");
        let j = r.json();
        assert_eq!(j["id"], 10, "{name}");
        assert_eq!(j["status"], "running", "{name}");
        // The same Job entity as GET /projects/1/jobs/10 (the running job's duration grows
        // with the clock, so it is left out of the comparison).
        assert_eq!(
            without_duration(j),
            without_duration(single.json()),
            "{name}"
        );
        assert_security_headers(r);
    }
}

#[tokio::test]
async fn job_token_header_param_and_bearer_on_allowed_agents() {
    let s = TestServer::default_scenario().await;
    let header = get_with(&s, "/job/allowed_agents", "JOB-TOKEN", JOB_TOKEN).await;
    let param = s
        .get(&format!("/job/allowed_agents?job_token={JOB_TOKEN}"), None)
        .await;
    let bearer = get_bearer(&s, "/job/allowed_agents", JOB_TOKEN).await;
    for (name, r) in [
        ("JOB-TOKEN", &header),
        ("?job_token=", &param),
        ("Bearer", &bearer),
    ] {
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"), "{name}");
        let j = r.json();
        assert_eq!(j["job"], json!({"id": 10}), "{name}");
        assert_eq!(j["pipeline"], json!({"id": 6}), "{name}");
        assert_eq!(j["project"]["id"], 1, "{name}");
        assert_eq!(j["user"]["username"], "root", "{name}");
        assert_eq!(j, header.json(), "{name}");
    }
}

#[tokio::test]
async fn personal_token_on_job_is_404_job_not_found() {
    let s = TestServer::default_scenario().await;
    let body = json!({"message": "404 Job Not Found"});
    let r = s.get("/job", Some(ROOT)).await;
    r.assert(404, body.clone());
    assert_security_headers(&r);
    get_bearer(&s, "/job", ROOT).await.assert(404, body.clone());
    s.get(&format!("/job?private_token={DEVELOPER}"), None)
        .await
        .assert(404, body.clone());
    s.get("/job/allowed_agents", Some(ROOT))
        .await
        .assert(404, body.clone());
    get_bearer(&s, "/job/allowed_agents", REPORTER)
        .await
        .assert(404, body);
}

#[tokio::test]
async fn no_token_or_unknown_job_token_on_job_is_401() {
    let s = TestServer::default_scenario().await;
    s.get("/job", None).await.assert(401, unauthorized());
    s.get("/job/allowed_agents", None)
        .await
        .assert(401, unauthorized());
    get_with(&s, "/job", "JOB-TOKEN", "glcbt-nope")
        .await
        .assert(401, unauthorized());
    s.get("/job?job_token=glcbt-nope", None)
        .await
        .assert(401, unauthorized());
    get_bearer(&s, "/job", "glcbt-nope")
        .await
        .assert(401, unauthorized());
    get_with(&s, "/job/allowed_agents", "JOB-TOKEN", "glcbt-nope")
        .await
        .assert(401, unauthorized());
}

#[tokio::test]
async fn job_token_on_route_without_job_token_support_is_401() {
    // GET /projects/:id/jobs/:job_id is not `job_token_allowed`: the job token does not
    // authenticate, so `authenticate!` answers 401.
    let s = TestServer::default_scenario().await;
    let r = get_with(&s, "/projects/1/jobs/7", "JOB-TOKEN", JOB_TOKEN).await;
    r.assert(401, unauthorized());
    assert_security_headers(&r);
    s.get(&format!("/projects/1/jobs/7?job_token={JOB_TOKEN}"), None)
        .await
        .assert(401, unauthorized());
    get_bearer(&s, "/projects/1/jobs/7", JOB_TOKEN)
        .await
        .assert(401, unauthorized());
    get_with(&s, "/projects/1/jobs/7/trace", "JOB-TOKEN", JOB_TOKEN)
        .await
        .assert(401, unauthorized());
    let r = s
        .raw(
            s.client
                .post(api(&s, "/projects/1/jobs/10/cancel"))
                .header("JOB-TOKEN", JOB_TOKEN),
        )
        .await;
    r.assert(401, unauthorized());
    assert_eq!(job_status(&s, 10).await, "running");
}

#[tokio::test]
async fn job_token_is_ignored_on_routes_without_job_token_support() {
    // AuthFinders#find_user_from_job_token returns nil (no error) unless the route is
    // `job_token_allowed`, so the caller is anonymous. GET .../pipelines/:id/bridges is
    // not job_token_allowed and the Pipelines API allows anonymous GETs: anonymous on a
    // private project is 404 Project Not Found (§1.2.8), not 401.
    let s = TestServer::default_scenario().await;
    get_with(
        &s,
        "/projects/1/pipelines/6/bridges",
        "JOB-TOKEN",
        JOB_TOKEN,
    )
    .await
    .assert(404, project_not_found());
    s.get(
        &format!("/projects/1/pipelines/6/bridges?job_token={JOB_TOKEN}"),
        None,
    )
    .await
    .assert(404, project_not_found());
    // Same for an unknown job token: it is never looked up.
    get_with(
        &s,
        "/projects/1/pipelines/6/bridges",
        "JOB-TOKEN",
        "glcbt-nope",
    )
    .await
    .assert(404, project_not_found());
}

#[tokio::test]
async fn job_token_works_on_job_lists() {
    // GET /projects/:id/jobs (newest) and GET .../pipelines/:pipeline_id/jobs allow job tokens.
    let s = TestServer::default_scenario().await;
    let r = get_with(&s, "/projects/1/jobs", "JOB-TOKEN", JOB_TOKEN).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), s.get("/projects/1/jobs", Some(ROOT)).await.ids());
    let r = get_with(&s, "/projects/1/pipelines/6/jobs", "JOB-TOKEN", JOB_TOKEN).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![10, 8, 7, 6]);
}

#[tokio::test]
async fn job_token_of_a_job_that_is_no_longer_running_is_401() {
    let s = TestServer::default_scenario().await;
    assert_eq!(
        get_with(&s, "/job", "JOB-TOKEN", JOB_TOKEN).await.status,
        200
    );

    // Root cancels job 10 (runner 32 has no graceful cancellation: canceled at once).
    let r = s.post("/projects/1/jobs/10/cancel", Some(ROOT)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["id"], 10);
    assert_eq!(r.json()["status"], "canceled");
    assert_eq!(job_status(&s, 10).await, "canceled");

    get_with(&s, "/job", "JOB-TOKEN", JOB_TOKEN)
        .await
        .assert(401, unauthorized());
    s.get(&format!("/job?job_token={JOB_TOKEN}"), None)
        .await
        .assert(401, unauthorized());
    get_bearer(&s, "/job", JOB_TOKEN)
        .await
        .assert(401, unauthorized());
    get_with(&s, "/job/allowed_agents", "JOB-TOKEN", JOB_TOKEN)
        .await
        .assert(401, unauthorized());
    get_with(&s, "/projects/1/jobs", "JOB-TOKEN", JOB_TOKEN)
        .await
        .assert(401, unauthorized());
}

// ---------------------------------------------------------------------------------------
// Token scopes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn read_only_token_cannot_write() {
    let s = TestServer::default_scenario().await;
    let r = s
        .post("/projects/1/jobs/10/cancel", Some(ROOT_READ_ONLY))
        .await;
    assert_insufficient_scope(&r);
    assert_security_headers(&r);
    assert_insufficient_scope(
        &s.post("/projects/1/jobs/7/retry", Some(ROOT_READ_ONLY))
            .await,
    );
    assert_insufficient_scope(
        &s.post("/projects/1/jobs/7/erase", Some(ROOT_READ_ONLY))
            .await,
    );
    assert_insufficient_scope(
        &s.post("/projects/1/jobs/8/play", Some(ROOT_READ_ONLY))
            .await,
    );
    // Bearer and the query parameter are the same token.
    let r = s
        .raw(
            s.client
                .post(api(&s, "/projects/1/jobs/10/cancel"))
                .bearer_auth(ROOT_READ_ONLY),
        )
        .await;
    assert_insufficient_scope(&r);
    assert_insufficient_scope(
        &s.post(
            &format!("/projects/1/jobs/10/cancel?private_token={ROOT_READ_ONLY}"),
            None,
        )
        .await,
    );
    // Nothing changed.
    assert_eq!(job_status(&s, 10).await, "running");
    assert_eq!(job_status(&s, 8).await, "manual");
    let r = s.get("/projects/1/jobs/7", Some(ROOT)).await;
    assert_eq!(r.json()["erased_at"], Value::Null);
    assert_eq!(
        s.get("/projects/1/pipelines/6/jobs", Some(ROOT))
            .await
            .ids(),
        vec![10, 8, 7, 6]
    );
}

#[tokio::test]
async fn read_only_token_scope_is_checked_while_authenticating() {
    // api_guard validates the token's scopes inside `find_current_user!`, i.e. in
    // `authenticate!` (a `before` filter), so the 403 comes before the 404 project lookup
    // and before Grape's parameter validation.
    let s = TestServer::default_scenario().await;
    assert_insufficient_scope(
        &s.post("/projects/999/jobs/7/cancel", Some(ROOT_READ_ONLY))
            .await,
    );
    assert_insufficient_scope(
        &s.post("/projects/1/jobs/abc/cancel", Some(ROOT_READ_ONLY))
            .await,
    );
    assert_insufficient_scope(
        &s.post_json(
            "/projects/1/jobs/8/play",
            Some(ROOT_READ_ONLY),
            json!({"job_variables_attributes": [{"value": "x"}]}),
        )
        .await,
    );
}

// ---------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn reporter_can_read_jobs() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/jobs", Some(REPORTER)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), s.get("/projects/1/jobs", Some(ROOT)).await.ids());
    let r = s.get("/projects/1/jobs/7", Some(REPORTER)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["id"], 7);
    let r = s.get("/projects/1/pipelines/6/jobs", Some(REPORTER)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![10, 8, 7, 6]);
    let r = s.get("/projects/1/jobs/7/trace", Some(REPORTER)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/plain"));
}

#[tokio::test]
async fn reporter_cannot_cancel_retry_play_or_erase() {
    let s = TestServer::default_scenario().await;
    let r = s.post("/projects/1/jobs/10/cancel", Some(REPORTER)).await;
    r.assert(403, forbidden());
    assert_security_headers(&r);
    s.post("/projects/1/jobs/7/retry", Some(REPORTER))
        .await
        .assert(403, forbidden());
    s.post("/projects/1/jobs/8/play", Some(REPORTER))
        .await
        .assert(403, forbidden());
    s.post("/projects/1/jobs/7/erase", Some(REPORTER))
        .await
        .assert(403, forbidden());
    // Nothing changed.
    assert_eq!(job_status(&s, 10).await, "running");
    assert_eq!(job_status(&s, 8).await, "manual");
    assert_eq!(
        s.get("/projects/1/pipelines/6/jobs", Some(ROOT))
            .await
            .ids(),
        vec![10, 8, 7, 6]
    );
    assert_eq!(
        s.get("/projects/1/jobs/7", Some(ROOT)).await.json()["erased_at"],
        Value::Null
    );
}

#[tokio::test]
async fn developer_can_cancel() {
    let s = TestServer::default_scenario().await;
    let r = s.post("/projects/1/jobs/10/cancel", Some(DEVELOPER)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["id"], 10);
    assert_eq!(r.json()["status"], "canceled");
    assert_security_headers(&r);
    assert_eq!(job_status(&s, 10).await, "canceled");
}

#[tokio::test]
async fn developer_can_retry_and_play() {
    let s = TestServer::default_scenario().await;
    let r = s.post("/projects/1/jobs/7/retry", Some(DEVELOPER)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let new_id = r.json()["id"].as_u64().expect("id");
    assert_ne!(new_id, 7);
    assert_eq!(r.json()["user"]["username"], "developer");
    let r = s.post("/projects/1/jobs/8/play", Some(DEVELOPER)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["id"], 8);
    assert_eq!(r.json()["status"], "pending");
}

#[tokio::test]
async fn developer_cannot_erase_a_job_someone_else_triggered() {
    let s = TestServer::default_scenario().await;
    // Job 7 was triggered by root and is erasable (failed, artifacts and a log).
    let r = s.post("/projects/1/jobs/7/erase", Some(DEVELOPER)).await;
    r.assert(403, forbidden());
    assert_security_headers(&r);
    let r = s.get("/projects/1/jobs/7", Some(ROOT)).await;
    assert_eq!(r.json()["erased_at"], Value::Null);
    assert_eq!(r.json()["artifacts"].as_array().map(Vec::len), Some(4));
    // The owner can: it was a permission 403, not an erasability one.
    let r = s.post("/projects/1/jobs/7/erase", Some(ROOT)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(r.json()["erased_at"], Value::Null);
    assert_eq!(r.json()["artifacts"], json!([]));
}

#[tokio::test]
async fn retry_of_a_non_retryable_job_is_403() {
    let s = TestServer::default_scenario().await;
    let body = json!({"message": "403 Forbidden - Job is not retryable"});
    // Running.
    let r = s.post("/projects/1/jobs/10/retry", Some(ROOT)).await;
    r.assert(403, body.clone());
    assert_security_headers(&r);
    // Manual.
    s.post("/projects/1/jobs/8/retry", Some(ROOT))
        .await
        .assert(403, body.clone());
    s.post("/projects/1/jobs/8/retry", Some(DEVELOPER))
        .await
        .assert(403, body.clone());
    // Already retried: the old job cannot be retried again.
    let r = s.post("/projects/1/jobs/7/retry", Some(ROOT)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.post("/projects/1/jobs/7/retry", Some(ROOT))
        .await
        .assert(403, body);
    assert_eq!(job_status(&s, 10).await, "running");
    assert_eq!(job_status(&s, 8).await, "manual");
}

#[tokio::test]
async fn play_of_a_non_manual_job_is_400() {
    let s = TestServer::default_scenario().await;
    let body = json!({"message": "400 Bad request - Unplayable Job"});
    // Failed, `when: on_success`.
    let r = s.post("/projects/1/jobs/7/play", Some(ROOT)).await;
    r.assert(400, body.clone());
    assert_security_headers(&r);
    // Running.
    s.post("/projects/1/jobs/10/play", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.post("/projects/1/jobs/6/play", Some(DEVELOPER))
        .await
        .assert(400, body);
    assert_eq!(job_status(&s, 7).await, "failed");
    assert_eq!(job_status(&s, 10).await, "running");
}

#[tokio::test]
async fn erase_of_a_job_that_is_not_erasable_is_403() {
    let s = TestServer::default_scenario().await;
    let body = json!({"message": "403 Forbidden - Job is not erasable!"});
    // Manual, no artifacts, no log.
    let r = s.post("/projects/1/jobs/8/erase", Some(ROOT)).await;
    r.assert(403, body.clone());
    assert_security_headers(&r);
    // Running (has a log, but is not complete).
    s.post("/projects/1/jobs/10/erase", Some(ROOT))
        .await
        .assert(403, body.clone());
    // Failed, but neither artifacts nor a log.
    s.post("/projects/1/jobs/6/erase", Some(ROOT))
        .await
        .assert(403, body.clone());
    // Erased once: nothing left to erase.
    assert_eq!(
        s.post("/projects/1/jobs/7/erase", Some(ROOT)).await.status,
        201
    );
    s.post("/projects/1/jobs/7/erase", Some(ROOT))
        .await
        .assert(403, body);
    assert_eq!(job_status(&s, 10).await, "running");
}

// ---------------------------------------------------------------------------------------
// 404 Not Found
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_project_is_404_project_not_found() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/999/jobs", Some(ROOT)).await;
    r.assert(404, project_not_found());
    assert_security_headers(&r);
    s.get("/projects/999/jobs/7", Some(ROOT))
        .await
        .assert(404, project_not_found());
    s.get("/projects/no%2Fsuch/jobs", Some(ROOT))
        .await
        .assert(404, project_not_found());
    // A bare word without `/` is never a project path.
    s.get("/projects/bar/jobs", Some(ROOT))
        .await
        .assert(404, project_not_found());
    s.post("/projects/999/jobs/7/cancel", Some(ROOT))
        .await
        .assert(404, project_not_found());
    s.get("/projects/999/pipelines/6/jobs", Some(ROOT))
        .await
        .assert(404, project_not_found());
}

const PRIVATE_PROJECT: &str = r#"
gitlab:
  version: "18.5"
  base_url: https://example.com
users:
  - id: 1
    username: owner
    name: Owner
    state: active
    tokens: [glpat-owner]
  - id: 2
    username: outsider
    name: Outsider
    state: active
    tokens: [glpat-outsider]
  - id: 3
    username: guest
    name: Guest
    state: active
    tokens: [glpat-guest]
projects:
  - id: 1
    path: secret/project
    visibility: private
    default_branch: main
    branches:
      main: 0ff3ae198f8601a285adcf5c0fff204ee6fba5fd
    commits:
      - id: 0ff3ae198f8601a285adcf5c0fff204ee6fba5fd
    members:
      owner: owner
      guest: guest
    pipelines:
      - id: 1
        ref: main
        sha: 0ff3ae198f8601a285adcf5c0fff204ee6fba5fd
        source: push
        user: owner
        created_at: "2024-01-01T00:00:00.000Z"
        jobs:
          - id: 1
            name: build
            stage: test
            status: failed
            user: owner
            created_at: "2024-01-01T00:00:00.000Z"
            started_at: "2024-01-01T00:00:01.000Z"
            finished_at: "2024-01-01T00:00:02.000Z"
            log: "hello\n"
          - id: 2
            name: deploy
            stage: test
            status: manual
            when: manual
            user: owner
            created_at: "2024-01-01T00:00:00.000Z"
"#;

#[tokio::test]
async fn private_project_is_invisible_to_non_members() {
    let s = TestServer::with_yaml(PRIVATE_PROJECT).await;
    let outsider = Some("glpat-outsider");
    // Sanity: the owner sees it.
    let r = s.get("/projects/1/jobs", Some("glpat-owner")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![2, 1]);

    let r = s.get("/projects/1/jobs", outsider).await;
    r.assert(404, project_not_found());
    assert_security_headers(&r);
    s.get("/projects/secret%2Fproject/jobs", outsider)
        .await
        .assert(404, project_not_found());
    s.get("/projects/1/jobs/1", outsider)
        .await
        .assert(404, project_not_found());
    // Not even for a job that does not exist: the project check comes first.
    s.get("/projects/1/jobs/999", outsider)
        .await
        .assert(404, project_not_found());
    s.get("/projects/1/jobs/1/trace", outsider)
        .await
        .assert(404, project_not_found());
    s.post("/projects/1/jobs/1/retry", outsider)
        .await
        .assert(404, project_not_found());
    s.post("/projects/1/jobs/1/cancel", outsider)
        .await
        .assert(404, project_not_found());
    s.post("/projects/1/jobs/2/play", outsider)
        .await
        .assert(404, project_not_found());
    s.post("/projects/1/jobs/1/erase", outsider)
        .await
        .assert(404, project_not_found());
    s.get("/projects/1/pipelines/1/jobs", outsider)
        .await
        .assert(404, project_not_found());
    s.get("/projects/1", outsider)
        .await
        .assert(404, project_not_found());
    // Anonymous on the Pipelines API: 404 too (no 401 for GET there).
    s.get("/projects/1/pipelines/1/jobs", None)
        .await
        .assert(404, project_not_found());
}

#[tokio::test]
async fn guest_of_private_project_cannot_read_jobs() {
    // Guest on a private project without public pipelines: 403 [spec].
    let yaml = PRIVATE_PROJECT.replace(
        "visibility: private",
        "visibility: private\n    public_builds: false",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let guest = Some("glpat-guest");
    let r = s.get("/projects/1/jobs", guest).await;
    r.assert(403, forbidden());
    assert_security_headers(&r);
    s.get("/projects/1/jobs/1", guest)
        .await
        .assert(403, forbidden());
    s.get("/projects/1/pipelines/1/jobs", guest)
        .await
        .assert(403, forbidden());
    s.post("/projects/1/jobs/1/retry", guest)
        .await
        .assert(403, forbidden());
    s.post("/projects/1/jobs/2/play", guest)
        .await
        .assert(403, forbidden());
    // The owner still can.
    assert_eq!(
        s.get("/projects/1/jobs", Some("glpat-owner")).await.status,
        200
    );
}

#[tokio::test]
async fn guest_of_private_project_with_public_pipelines_reads_but_cannot_write() {
    // `public_builds` (on by default) gives guests `read_build`, not `update_build`.
    let s = TestServer::with_yaml(PRIVATE_PROJECT).await;
    let guest = Some("glpat-guest");
    let r = s.get("/projects/1/jobs", guest).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![2, 1]);
    s.post("/projects/1/jobs/1/retry", guest)
        .await
        .assert(403, forbidden());
    s.post("/projects/1/jobs/2/play", guest)
        .await
        .assert(403, forbidden());
    s.post("/projects/1/jobs/2/cancel", guest)
        .await
        .assert(403, forbidden());
    s.post("/projects/1/jobs/1/erase", guest)
        .await
        .assert(403, forbidden());
}

#[tokio::test]
async fn missing_job_is_404_not_found_lower_case() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/jobs/12345", Some(ROOT)).await;
    r.assert(404, record_not_found());
    assert_security_headers(&r);
    s.get("/projects/1/jobs/12345/trace", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/1/jobs/12345/cancel", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/1/jobs/12345/retry", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/1/jobs/12345/erase", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/1/jobs/12345/play", Some(ROOT))
        .await
        .assert(404, record_not_found());
    // Pipelines that do not exist (or belong to another project).
    s.get("/projects/1/pipelines/12345/jobs", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.get("/projects/1/pipelines/5/jobs", Some(ROOT))
        .await
        .assert(404, record_not_found());
}

#[tokio::test]
async fn bridge_id_is_404_on_build_only_routes() {
    let s = TestServer::default_scenario().await;
    // Bridge 9 of pipeline 6: `find_build!` looks at builds only.
    let r = s.get("/projects/1/jobs/9", Some(ROOT)).await;
    r.assert(404, record_not_found());
    assert_security_headers(&r);
    s.get("/projects/1/jobs/9/trace", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/1/jobs/9/cancel", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/1/jobs/9/erase", Some(ROOT))
        .await
        .assert(404, record_not_found());
    // The bridge is still there.
    let r = s.get("/projects/1/pipelines/6/bridges", Some(ROOT)).await;
    assert_eq!(r.ids(), vec![9]);
    assert_eq!(r.json()[0]["status"], "pending");
}

#[tokio::test]
async fn job_of_another_project_is_404_not_found() {
    let s = TestServer::default_scenario().await;
    // Root owns project 2 too; job 7 belongs to project 1.
    let r = s.get("/projects/2/jobs/7", Some(ROOT)).await;
    r.assert(404, record_not_found());
    assert_security_headers(&r);
    s.get("/projects/diaspora%2Fdiaspora-client/jobs/7", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/2/jobs/10/cancel", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/2/jobs/7/retry", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/2/jobs/8/play", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.post("/projects/2/jobs/7/erase", Some(ROOT))
        .await
        .assert(404, record_not_found());
    s.get("/projects/2/pipelines/6/jobs", Some(ROOT))
        .await
        .assert(404, record_not_found());
    assert_eq!(job_status(&s, 10).await, "running");
}

#[tokio::test]
async fn unknown_route_is_grape_404() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/nope", Some(ROOT)).await;
    r.assert(404, route_not_found());
    assert_security_headers(&r);
    s.get("/nope", None).await.assert(404, route_not_found());
    s.post("/nope", Some(ROOT))
        .await
        .assert(404, route_not_found());
    s.get("/projects/1/jobs/7/nope", Some(ROOT))
        .await
        .assert(404, route_not_found());
    s.get("/projects/1/jobs/7/trace/more", Some(ROOT))
        .await
        .assert(404, route_not_found());
}

#[tokio::test]
async fn raw_slash_in_project_id_matches_no_route() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/foo/bar/jobs", Some(ROOT)).await;
    r.assert(404, route_not_found());
    assert_security_headers(&r);
    s.get("/projects/foo/bar/jobs/7", Some(ROOT))
        .await
        .assert(404, route_not_found());
    s.post("/projects/foo/bar/jobs/7/cancel", Some(ROOT))
        .await
        .assert(404, route_not_found());
}

#[tokio::test]
async fn url_encoded_project_path_works_case_insensitively() {
    let s = TestServer::default_scenario().await;
    let by_id = s.get("/projects/1/jobs/7", Some(ROOT)).await;
    for path in [
        "/projects/foo%2Fbar/jobs/7",
        "/projects/FOO%2Fbar/jobs/7",
        "/projects/foo%2FBAR/jobs/7",
        "/projects/foo%2fbar/jobs/7",
    ] {
        let r = s.get(path, Some(ROOT)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.json(), by_id.json(), "{path}");
    }
    let r = s.get("/projects/foo%2Fbar/jobs", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), s.get("/projects/1/jobs", Some(ROOT)).await.ids());
    let r = s
        .get("/projects/FOO%2Fbar/pipelines/6/jobs", Some(ROOT))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![10, 8, 7, 6]);
}

// ---------------------------------------------------------------------------------------
// 405 Method Not Allowed
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_method_on_a_known_path_is_405() {
    let s = TestServer::default_scenario().await;
    let body = json!({"error": "405 Not Allowed"});

    let r = s.post("/projects/1/jobs", Some(ROOT)).await;
    r.assert(405, body.clone());
    assert_security_headers(&r);
    assert_eq!(allow_set(&r), ["GET", "HEAD", "OPTIONS"]);

    let r = s.get("/projects/1/jobs/7/cancel", Some(ROOT)).await;
    r.assert(405, body.clone());
    assert_eq!(allow_set(&r), ["OPTIONS", "POST"]);

    let r = s
        .send(Method::DELETE, "/projects/1/jobs/7", Some(ROOT), None)
        .await;
    r.assert(405, body.clone());
    assert_eq!(allow_set(&r), ["GET", "HEAD", "OPTIONS"]);

    let r = s.send(Method::PUT, "/job", Some(ROOT), None).await;
    r.assert(405, body);
    assert_eq!(allow_set(&r), ["GET", "HEAD", "OPTIONS"]);
    // Nothing was cancelled by the GET.
    assert_eq!(job_status(&s, 7).await, "failed");
}

// ---------------------------------------------------------------------------------------
// 400 Bad Request (Grape validation and bad_request!)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn job_id_not_an_integer_is_400() {
    let s = TestServer::default_scenario().await;
    let body = json!({"error": "job_id is invalid"});
    let r = s.get("/projects/1/jobs/abc", Some(ROOT)).await;
    r.assert(400, body.clone());
    assert_security_headers(&r);
    s.get("/projects/1/jobs/1.5", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.get("/projects/1/jobs/abc/trace", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.post("/projects/1/jobs/abc/cancel", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.post("/projects/1/jobs/abc/retry", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.post("/projects/1/jobs/abc/erase", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.post("/projects/1/jobs/abc/play", Some(ROOT))
        .await
        .assert(400, body);
    s.get("/projects/1/pipelines/abc/jobs", Some(ROOT))
        .await
        .assert(400, json!({"error": "pipeline_id is invalid"}));
}

#[tokio::test]
async fn invalid_scope_is_400() {
    let s = TestServer::default_scenario().await;
    let body = json!({"error": "scope does not have a valid value"});
    let r = s.get("/projects/1/jobs?scope[]=bogus", Some(ROOT)).await;
    r.assert(400, body.clone());
    assert_security_headers(&r);
    s.get("/projects/1/jobs?scope=bogus", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.get("/projects/1/jobs?scope[]=failed&scope[]=bogus", Some(ROOT))
        .await
        .assert(400, body.clone());
    s.get("/projects/1/pipelines/6/jobs?scope[]=bogus", Some(ROOT))
        .await
        .assert(400, body);
}

#[tokio::test]
async fn per_page_zero_is_400() {
    let s = TestServer::default_scenario().await;
    let body = json!({"error": "per_page has a value not allowed"});
    let r = s.get("/projects/1/jobs?per_page=0", Some(ROOT)).await;
    r.assert(400, body.clone());
    assert_security_headers(&r);
    s.get("/projects/1/pipelines/6/jobs?per_page=0", Some(ROOT))
        .await
        .assert(400, body);
}

#[tokio::test]
async fn page_not_an_integer_is_400() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/jobs?page=x", Some(ROOT)).await;
    r.assert(400, json!({"error": "page is invalid"}));
    assert_security_headers(&r);
    s.get("/projects/1/pipelines/6/jobs?page=x", Some(ROOT))
        .await
        .assert(400, json!({"error": "page is invalid"}));
    s.get("/projects/1/jobs?per_page=x", Some(ROOT))
        .await
        .assert(400, json!({"error": "per_page is invalid"}));
}

#[tokio::test]
async fn include_retried_not_a_boolean_is_400() {
    let s = TestServer::default_scenario().await;
    let r = s
        .get(
            "/projects/1/pipelines/6/jobs?include_retried=maybe",
            Some(ROOT),
        )
        .await;
    r.assert(400, json!({"error": "include_retried is invalid"}));
    assert_security_headers(&r);
    let r = s
        .get(
            "/projects/1/pipelines/6/jobs?include_retried=true",
            Some(ROOT),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn scope_hash_is_accepted_on_project_jobs_only() {
    let s = TestServer::default_scenario().await;
    // Jobs API: a hash is coerced to its values.
    let r = s.get("/projects/1/jobs?scope[a]=failed", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![7, 6, 1]);
    let r = s
        .get(
            "/projects/1/jobs?scope[a]=failed&scope[b]=running",
            Some(ROOT),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![10, 7, 6, 1]);
    // Pipelines API: a hash becomes ['unknown'] and fails.
    let r = s
        .get("/projects/1/pipelines/6/jobs?scope[a]=failed", Some(ROOT))
        .await;
    r.assert(400, json!({"error": "scope does not have a valid value"}));
    assert_security_headers(&r);
}

#[tokio::test]
async fn play_with_a_variable_without_key_is_400() {
    let s = TestServer::default_scenario().await;
    let r = s
        .post_json(
            "/projects/1/jobs/8/play",
            Some(ROOT),
            json!({"job_variables_attributes": [{"value": "x"}]}),
        )
        .await;
    r.assert(
        400,
        json!({"error": "job_variables_attributes[0][key] is missing"}),
    );
    assert_security_headers(&r);
    let r = s
        .post_json(
            "/projects/1/jobs/8/play",
            Some(ROOT),
            json!({"job_variables_attributes": [{"key": "A"}]}),
        )
        .await;
    r.assert(
        400,
        json!({"error": "job_variables_attributes[0][value] is missing"}),
    );
    // Rails-style form encoding gives the same message.
    let r = s
        .post_form(
            "/projects/1/jobs/8/play",
            Some(ROOT),
            "job_variables_attributes[][value]=x",
        )
        .await;
    r.assert(
        400,
        json!({"error": "job_variables_attributes[0][key] is missing"}),
    );
    // The job was not played.
    assert_eq!(job_status(&s, 8).await, "manual");
    // With both: 200.
    let r = s
        .post_json(
            "/projects/1/jobs/8/play",
            Some(ROOT),
            json!({"job_variables_attributes": [{"key": "A", "value": "x"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "pending");
}

// ---------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn oversized_body_is_413() {
    let s = TestServer::default_scenario().await;
    let big = format!(
        "{{\"force\":false,\"pad\":\"{}\"}}",
        "x".repeat(1024 * 1024 + 16)
    );
    let r = s
        .raw(
            s.client
                .post(api(&s, "/projects/1/jobs/10/cancel"))
                .header("PRIVATE-TOKEN", ROOT)
                .header("Content-Type", "application/json")
                .body(big),
        )
        .await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.json(), json!({"message": "413 Request Entity Too Large"}));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_security_headers(&r);
    // The request was not executed.
    assert_eq!(job_status(&s, 10).await, "running");
}

#[tokio::test]
async fn cancel_accepts_no_body_json_and_form() {
    let s = TestServer::default_scenario().await;
    // No body and no Content-Type.
    let r = s
        .raw(
            s.client
                .post(api(&s, "/projects/1/jobs/10/cancel"))
                .header("PRIVATE-TOKEN", ROOT),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["status"], "canceled");
    assert_security_headers(&r);
    // JSON `{}` (a finished job: 201 and unchanged).
    let r = s
        .post_json("/projects/1/jobs/7/cancel", Some(ROOT), json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["id"], 7);
    assert_eq!(r.json()["status"], "failed");
    // Form `force=false`.
    let r = s
        .post_form("/projects/1/jobs/6/cancel", Some(ROOT), "force=false")
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["id"], 6);
    assert_eq!(r.json()["status"], "failed");
    // A manual job is cancelable.
    let r = s
        .post_form("/projects/1/jobs/8/cancel", Some(ROOT), "force=false")
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "canceled");
}

// ---------------------------------------------------------------------------------------
// Headers on every API response
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_api_response_has_security_headers() {
    let s = TestServer::default_scenario().await;
    let responses = vec![
        s.get("/projects/1/jobs", Some(ROOT)).await,   // 200 list
        s.get("/projects/1/jobs/7", Some(ROOT)).await, // 200 entity
        s.get("/projects/1/jobs/7/trace", Some(ROOT)).await, // 200 text/plain
        s.get("/user", Some(ROOT)).await,              // 200
        s.post("/projects/1/jobs/7/cancel", Some(ROOT)).await, // 201
        s.get("/projects/1/jobs", None).await,         // 401
        s.post("/projects/1/jobs/7/cancel", Some(REPORTER)).await, // 403
        s.post("/projects/1/jobs/7/cancel", Some(ROOT_READ_ONLY))
            .await, // 403 scope
        s.get("/projects/999/jobs", Some(ROOT)).await, // 404 project
        s.get("/projects/1/jobs/12345", Some(ROOT)).await, // 404 record
        s.get("/nope", None).await,                    // 404 route
        s.post("/projects/1/jobs", Some(ROOT)).await,  // 405
        s.get("/projects/1/jobs?per_page=0", Some(ROOT)).await, // 400
        s.send(Method::HEAD, "/projects/1/jobs/7", Some(ROOT), None)
            .await, // HEAD
    ];
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            200, 200, 200, 200, 201, 401, 403, 403, 404, 404, 404, 405, 400, 200
        ]
    );
    for r in &responses {
        assert_security_headers(r);
    }
    assert_eq!(responses[2].header("content-type"), Some("text/plain"));
}

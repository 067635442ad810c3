//! Ports of `spec/requests/api/ci/jobs_spec.rb` (gitlabhq/gitlabhq) and the shared examples
//! it uses: each test names the example it mirrors, grouped by endpoint. What is not
//! ported, and why, is listed in `docs/spec-coverage.md`.

use serde_json::json;

use crate::support::TestServer;

/// `project` (public_builds: false) with a developer `user`, a `reporter` and a `guest`, a
/// finished job 1, a running job 2 (token `glcbt-running`) of `user`, and a finished job 3
/// with its own token.
const SPEC: &str = r#"
users:
  - {id: 1, username: user, tokens: [tok-user]}
  - {id: 2, username: reporter, tokens: [tok-reporter]}
  - {id: 3, username: guest, tokens: [tok-guest]}
  - {id: 4, username: maintainer, tokens: [tok-maintainer]}
  - {id: 5, username: stranger, tokens: [tok-stranger]}
  - {id: 6, username: ai, tokens: [{token: oauth-ai, kind: oauth, scopes: [ai_workflows]}]}
projects:
  - id: 1
    path: g/project
    public_builds: false
    members: {user: developer, reporter: reporter, guest: guest, maintainer: maintainer, ai: developer}
    pipelines:
      - id: 10
        user: user
        jobs:
          - {id: 1, name: build, status: success, user: user, tag_list: [docker], log: "done\n"}
          - id: 2
            name: deploy
            status: running
            user: user
            environment: {name: production}
          - {id: 3, name: review, status: success, user: user, environment: {name: review/123}}
          - {id: 4, name: manual, status: manual, when: manual, user: user}
          - {id: 5, name: canceled, status: canceled, user: user}
          - {id: 6, name: created, status: created, user: maintainer}
job_tokens:
  - {token: glcbt-running, job: 2}
  - {token: glcbt-finished, job: 3}
"#;

async fn spec_server() -> TestServer {
    TestServer::with_yaml(SPEC).await
}

async fn get_header(s: &TestServer, path: &str, name: &str, value: &str) -> crate::support::Resp {
    s.raw(
        s.client
            .get(format!("{}/api/v4{path}", s.url))
            .header(name, value),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// GET /job
// ---------------------------------------------------------------------------------------

// jobs_spec.rb: "GET /job with job token authentication header returns common job data"
#[tokio::test]
async fn job_with_job_token_header() {
    let s = spec_server().await;
    let r = get_header(&s, "/job", "JOB-TOKEN", "glcbt-running").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["id"], 2);
    assert_eq!(j["status"], "running");
    assert_eq!(j["finished_at"], serde_json::Value::Null);
    assert_eq!(j["pipeline"]["id"], 10);
}

// jobs_spec.rb: "GET /job with job token authentication params returns common job data";
// lib/gitlab/auth/auth_finders.rb reads `job_token` before the header, and an empty header
// is absent (go-gitlab's job client sends an empty JOB-TOKEN beside ?job_token=).
#[tokio::test]
async fn job_with_job_token_param_beside_an_empty_header() {
    let s = spec_server().await;
    let r = get_header(&s, "/job?job_token=glcbt-running", "JOB-TOKEN", "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["id"], 2);
    // The parameter wins over a header naming another (finished) job's token.
    let r = get_header(
        &s,
        "/job?job_token=glcbt-running",
        "JOB-TOKEN",
        "glcbt-finished",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["id"], 2);
    // An empty parameter is absent too: the header is used.
    let r = get_header(&s, "/job?job_token=", "JOB-TOKEN", "glcbt-running").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // An empty header and nothing else: no credentials at all.
    get_header(&s, "/job", "JOB-TOKEN", "")
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// jobs_spec.rb: "GET /job with non running job returns unauthorized"
#[tokio::test]
async fn job_with_token_of_a_finished_job_is_401() {
    let s = spec_server().await;
    get_header(&s, "/job", "JOB-TOKEN", "glcbt-finished")
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// jobs_spec.rb: "GET /job when token is valid but not CI_JOB_TOKEN returns not found"
#[tokio::test]
async fn job_with_a_personal_token_is_404() {
    let s = spec_server().await;
    s.get("/job", Some("tok-user"))
        .await
        .assert(404, json!({"message": "404 Job Not Found"}));
}

// jobs_spec.rb: "GET /job without authentication returns unauthorized"
#[tokio::test]
async fn job_without_authentication_is_401() {
    let s = spec_server().await;
    s.get("/job", None)
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// ---------------------------------------------------------------------------------------
// GET /job/allowed_agents
// ---------------------------------------------------------------------------------------

// jobs_spec.rb: "GET /job/allowed_agents when token is valid and user is authorized when
// deployment includes environment slug"
#[tokio::test]
async fn allowed_agents_includes_the_environment_slug() {
    let s = spec_server().await;
    let r = get_header(&s, "/job/allowed_agents", "JOB-TOKEN", "glcbt-running").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["environment"]["slug"], "production");
    // jobs_spec.rb: "… when deployment includes environment tier"
    assert_eq!(j["environment"]["tier"], "production");
    assert_eq!(
        j["user"]["roles_in_project"],
        json!(["guest", "planner", "reporter", "developer"])
    );
}

// jobs_spec.rb: "GET /job/allowed_agents … when non-deployment environment action includes
// environment slug" (`review-123-.*`) and "includes environment tier" (development);
// lib/gitlab/slug/environment.rb: a name that had to change gets a suffix from its SHA-256.
#[tokio::test]
async fn environment_slugs_follow_gitlabs_algorithm() {
    let yaml = SPEC.replace(
        "environment: {name: production}",
        "environment: {name: review/123}",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = get_header(&s, "/job/allowed_agents", "JOB-TOKEN", "glcbt-running").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["environment"]["slug"], "review-123-twxcp1");
    assert_eq!(r.json()["environment"]["tier"], "development");
}

// jobs_spec.rb: "GET /job/allowed_agents when token is invalid because job has finished
// returns unauthorized"
#[tokio::test]
async fn allowed_agents_with_a_finished_job_is_401() {
    let s = spec_server().await;
    get_header(&s, "/job/allowed_agents", "JOB-TOKEN", "glcbt-finished")
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
    get_header(&s, "/job/allowed_agents", "JOB-TOKEN", "bad_token")
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/jobs and GET /projects/:id/jobs/:job_id with a job token
// ---------------------------------------------------------------------------------------

// lib/api/ci/jobs.rb: the jobs list is `job_token_allowed` (job_token_policies: :read_jobs),
// the single job is not, so the job token is not looked at and `authenticate!` answers 401.
// That is GitLab's answer, not a glmock gap (issue 14, item 8).
#[tokio::test]
async fn job_token_reads_the_jobs_list_but_not_a_single_job() {
    let s = spec_server().await;
    let r = get_header(&s, "/projects/1/jobs", "JOB-TOKEN", "glcbt-running").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![6, 5, 4, 3, 2, 1]);
    get_header(&s, "/projects/1/jobs/1", "JOB-TOKEN", "glcbt-running")
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// jobs_spec.rb: "GET /projects/:id/jobs unauthorized user when user is guest does not
// return project jobs" / "when user is not logged in"
#[tokio::test]
async fn jobs_list_guest_is_403_anonymous_401() {
    let s = spec_server().await;
    s.get("/projects/1/jobs", Some("tok-guest"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    s.get("/projects/1/jobs", None)
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// jobs_spec.rb: "GET /projects/:id/jobs respond 400 when scope contains invalid state"
#[tokio::test]
async fn jobs_list_with_an_invalid_scope_is_400() {
    let s = spec_server().await;
    let r = s
        .get(
            "/projects/1/jobs?scope[]=unknown&scope[]=running",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

// jobs_spec.rb: "GET /projects/:id/jobs offset pagination returns second record when passed
// in offset and per_page params"
#[tokio::test]
async fn jobs_list_offset_pagination() {
    let s = spec_server().await;
    let r = s.get("/projects/1/jobs?per_page=1", Some("tok-user")).await;
    assert_eq!(r.ids(), vec![6]);
    let r = s
        .get("/projects/1/jobs?page=2&per_page=1", Some("tok-user"))
        .await;
    assert_eq!(r.ids(), vec![5]);
}

// jobs_spec.rb: "GET /projects/:id/jobs keyset pagination respects scope filters"
#[tokio::test]
async fn jobs_list_keyset_pagination_respects_scope() {
    let s = spec_server().await;
    let r = s
        .get(
            "/projects/1/jobs?pagination=keyset&scope[]=canceled",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![5]);
    assert_eq!(r.header("link"), None);
}

// jobs_spec.rb: "GET /projects/:id/jobs rate limited enforces rate limits for the endpoint".
// The spec stubs the limiter's counter to answer `threshold + 1`; here the scenario sets the
// threshold (`project_jobs_api`, GitLab's `project_jobs_api_rate_limit`) to 1 and the second
// request of the minute is the one above it.
#[tokio::test]
async fn jobs_list_rate_limited_is_429() {
    let yaml = format!("gitlab:\n  clock: frozen\n  rate_limits:\n    project_jobs_api: 1\n{SPEC}");
    let s = TestServer::with_yaml(&yaml).await;
    assert_eq!(
        s.get("/projects/1/jobs", Some("tok-user")).await.status,
        200
    );
    let r = s.get("/projects/1/jobs", Some("tok-user")).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(
        r.json()["message"]["error"],
        "This endpoint has been requested too many times. Try again later."
    );
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id when job succeeded does not return
// failure_reason"
#[tokio::test]
async fn single_job_has_no_failure_reason_when_it_succeeded() {
    let s = spec_server().await;
    let r = s.get("/projects/1/jobs/1", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json().get("failure_reason").is_none(), "{}", r.text);
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/jobs/:job_id/trace: "additional access criteria"
// ---------------------------------------------------------------------------------------

/// `(public_builds, role, status)` of the shared example "additional access criteria".
const DEBUG_TABLE: [(bool, &str, u16); 4] = [
    (true, "developer", 200),
    (true, "guest", 403),
    (false, "developer", 200),
    (false, "guest", 403),
];

/// Runs the table with `CI_DEBUG_*` set where `place` says.
async fn debug_trace_table(key: &str, place: &str) {
    for (public_builds, role, status) in DEBUG_TABLE {
        let var = format!("[{{key: {key}, value: \"true\"}}]");
        let mut yaml = SPEC
            .replace(
                "public_builds: false",
                &format!("public_builds: {public_builds}"),
            )
            .replace("guest: guest,", &format!("guest: {role},"));
        yaml = match place {
            "instance" => format!("gitlab:\n  variables: {var}\n{yaml}"),
            "project" => yaml.replace(
                "    path: g/project\n",
                &format!("    path: g/project\n    variables: {var}\n"),
            ),
            "pipeline" => yaml.replace(
                "      - id: 10\n",
                &format!("      - id: 10\n        variables: {var}\n"),
            ),
            "metadata" => yaml.replace(
                "log: \"done\\n\"}",
                "log: \"done\\n\", debug_trace_enabled: true}",
            ),
            _ => yaml.replace(
                "log: \"done\\n\"}",
                &format!("log: \"done\\n\", variables: {var}}}"),
            ),
        };
        let s = TestServer::with_yaml(&yaml).await;
        let r = s.get("/projects/1/jobs/1/trace", Some("tok-guest")).await;
        assert_eq!(
            r.status, status,
            "{key} on the {place}, public_builds {public_builds}, {role}: {}",
            r.text
        );
        if status == 200 {
            assert_eq!(r.text, "done\n");
        } else {
            r.assert(403, json!({"message": "403 Forbidden"}));
        }
    }
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id/trace when metadata debug_trace_enabled is
// set to true" it_behaves_like "additional access criteria"
#[tokio::test]
async fn debug_trace_from_the_job_metadata() {
    debug_trace_table("unused", "metadata").await;
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id/trace when ci_debug_trace is set to true"
// (an instance variable) it_behaves_like "additional access criteria"
#[tokio::test]
async fn debug_trace_from_an_instance_variable() {
    debug_trace_table("CI_DEBUG_TRACE", "instance").await;
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id/trace when ci_debug_services is set to true"
// it_behaves_like "additional access criteria"
#[tokio::test]
async fn debug_services_from_an_instance_variable() {
    debug_trace_table("CI_DEBUG_SERVICES", "instance").await;
}

// Ci::Build#debug_mode? reads the job's variables, which include the pipeline's and the
// project's: the same table with the variable at each level.
#[tokio::test]
async fn debug_services_from_project_pipeline_and_job_variables() {
    for place in ["project", "pipeline", "job"] {
        debug_trace_table("CI_DEBUG_SERVICES", place).await;
    }
    debug_trace_table("CI_DEBUG_TRACE", "project").await;
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id/trace unauthorized user does not return
// specific job log"
#[tokio::test]
async fn trace_without_authentication_is_401() {
    let s = spec_server().await;
    s.get("/projects/1/jobs/1/trace", None)
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// ---------------------------------------------------------------------------------------
// POST /projects/:id/jobs/:job_id/{cancel,retry,erase,play}
// ---------------------------------------------------------------------------------------

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/cancel authorized user user without
// :cancel_build permission does not cancel job" / "unauthorized user does not cancel job"
#[tokio::test]
async fn cancel_by_a_reporter_is_403_anonymous_401() {
    let s = spec_server().await;
    s.post("/projects/1/jobs/2/cancel", Some("tok-reporter"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    s.post("/projects/1/jobs/2/cancel", None)
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
    // jobs_spec.rb: "user with :cancel_build permission cancels running or pending job" —
    // a finished job stays as it is, 201.
    let r = s.post("/projects/1/jobs/1/cancel", Some("tok-user")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "success");
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/retry job retry API call handler authorized
// user with :update_build permission when the job is a build retries non-running job"
#[tokio::test]
async fn retry_a_canceled_job_gives_a_pending_one() {
    let s = spec_server().await;
    let r = s.post("/projects/1/jobs/5/retry", Some("tok-user")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "pending");
    assert_ne!(r.json()["id"], 5);
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/retry … when a build is not retryable
// responds with unprocessable entity"
#[tokio::test]
async fn retry_a_created_job_is_403_not_retryable() {
    let s = spec_server().await;
    s.post("/projects/1/jobs/6/retry", Some("tok-user"))
        .await
        .assert(
            403,
            json!({"message": "403 Forbidden - Job is not retryable"}),
        );
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/retry … user without :update_build
// permission does not retry job" / "unauthorized user does not retry job"
#[tokio::test]
async fn retry_by_a_reporter_is_403_anonymous_401() {
    let s = spec_server().await;
    s.post("/projects/1/jobs/5/retry", Some("tok-reporter"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    s.post("/projects/1/jobs/5/retry", None)
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/erase … job is not erasable responds with
// forbidden"; "when a developer erases a build when the build was created by another user"
#[tokio::test]
async fn erase_rules() {
    let s = spec_server().await;
    // A running job is not erasable.
    s.post("/projects/1/jobs/2/erase", Some("tok-maintainer"))
        .await
        .assert(
            403,
            json!({"message": "403 Forbidden - Job is not erasable!"}),
        );
    // The developer who triggered it may erase; another developer's build is 403.
    s.post("/projects/1/jobs/6/erase", Some("tok-user"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    let r = s.post("/projects/1/jobs/1/erase", Some("tok-user")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.json()["erased_at"].is_string());
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/play on a playable job when user is
// authorized to trigger a manual action that is a build plays the job"
#[tokio::test]
async fn play_a_manual_job() {
    let s = spec_server().await;
    let r = s.post("/projects/1/jobs/4/play", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["id"], 4);
    assert_eq!(j["user"]["id"], 1);
    assert_eq!(j["status"], "pending");
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/play … when the user provides both valid
// and invalid variables reports the invalid variables and does not run the job"
#[tokio::test]
async fn play_with_a_variable_without_a_key_is_400() {
    let s = spec_server().await;
    let r = s
        .post_json(
            "/projects/1/jobs/4/play",
            Some("tok-user"),
            json!({"job_variables_attributes": [{"key": "TEST_VAR", "value": "test"}, {"value": "test2"}]}),
        )
        .await;
    r.assert(
        400,
        json!({"error": "job_variables_attributes[1][key] is missing"}),
    );
    let r = s.get("/projects/1/jobs/4", Some("tok-user")).await;
    assert_eq!(r.json()["status"], "manual");
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/play … when user does not have access to
// the project" (404) / "when user is not allowed to trigger the manual action" (403) /
// "on a non-playable job returns a status code 400, Bad Request"
#[tokio::test]
async fn play_refusals() {
    let s = spec_server().await;
    s.post("/projects/1/jobs/4/play", Some("tok-stranger"))
        .await
        .assert(404, json!({"message": "404 Project Not Found"}));
    s.post("/projects/1/jobs/4/play", Some("tok-reporter"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    s.post("/projects/1/jobs/1/play", Some("tok-user"))
        .await
        .assert(400, json!({"message": "400 Bad request - Unplayable Job"}));
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/erase when project is undergoing stats
// refresh" it_behaves_like "preventing request because of ongoing project stats refresh"
// (409 with the helper's message), and the job keeps its log.
#[tokio::test]
async fn erase_during_a_statistics_refresh_is_409() {
    let yaml = SPEC.replace(
        "    public_builds: false\n",
        "    public_builds: false\n    statistics_refreshing: true\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    s.post("/projects/1/jobs/1/erase", Some("tok-maintainer"))
        .await
        .assert(
            409,
            json!({"message": "Action temporarily disabled. The project this pipeline belongs to is undergoing stats refresh."}),
        );
    let r = s
        .get("/projects/1/jobs/1/trace", Some("tok-maintainer"))
        .await;
    assert_eq!(r.text, "done\n");
    // Not erasable comes first (403), as in GitLab's handler.
    s.post("/projects/1/jobs/2/erase", Some("tok-maintainer"))
        .await
        .assert(
            403,
            json!({"message": "403 Forbidden - Job is not erasable!"}),
        );
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id when job failed returns failure_reason" /
// "when job is erased returns specific job data" (erased_at)
#[tokio::test]
async fn single_job_failure_reason_and_erased_at() {
    let yaml = SPEC.replace(
        "          - {id: 6, name: created, status: created, user: maintainer}",
        "          - {id: 6, name: created, status: created, user: maintainer}
          - {id: 7, name: broken, status: failed}
          - {id: 8, name: erased, status: success, erased_at: \"2024-05-01T12:00:00Z\"}",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s.get("/projects/1/jobs/7", Some("tok-user")).await;
    assert_eq!(r.json()["failure_reason"], "script_failure");
    let r = s.get("/projects/1/jobs/8", Some("tok-user")).await;
    assert_eq!(r.json()["erased_at"], "2024-05-01T12:00:00.000Z");
}

// jobs_spec.rb: "POST /projects/:id/jobs/:job_id/retry job retry API call handler authorized
// user with :update_build permission when the job is a bridge retries the bridge"
#[tokio::test]
async fn retry_a_canceled_bridge() {
    let yaml = SPEC.replace(
        "          - {id: 6, name: created, status: created, user: maintainer}",
        "          - {id: 6, name: created, status: created, user: maintainer}
        bridges:
          - {id: 9, name: trigger, status: canceled}",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s.post("/projects/1/jobs/9/retry", Some("tok-user")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "pending");
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id when trace artifact record exists with no
// stored file returns no artifacts nor trace data" and "GET …/trace when log artifact record
// exists with no stored file returns empty trace"
#[tokio::test]
async fn a_trace_artifact_without_a_log() {
    let yaml = SPEC.replace(
        "          - {id: 6, name: created, status: created, user: maintainer}",
        "          - {id: 6, name: created, status: created, user: maintainer}
          - {id: 7, name: traced, status: success, artifacts: [{file_type: trace, size: 0, filename: job.log}]}",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s.get("/projects/1/jobs/7", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let artifacts = r.json()["artifacts"].clone();
    assert_eq!(artifacts.as_array().map(Vec::len), Some(1), "{artifacts}");
    assert_eq!(artifacts[0]["file_type"], "trace");
    assert_eq!(artifacts[0]["filename"], "job.log");
    let r = s.get("/projects/1/jobs/7/trace", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
}

// jobs_spec.rb: "GET /projects/:id/jobs/:job_id/trace authorized user with oauth token that
// has ai_workflows scope allows access"
#[tokio::test]
async fn trace_with_an_oauth_token_with_ai_workflows_scope() {
    let s = spec_server().await;
    let r = s
        .raw(
            s.client
                .get(format!("{}/api/v4/projects/1/jobs/1/trace", s.url))
                .bearer_auth("oauth-ai"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "done\n");
}

// jobs_spec.rb: "GET /job/allowed_agents when user is anonymous returns unauthorized": the
// job has no user, so its token authenticates nobody (`find_user_from_job_token` returns
// `job.user`).
#[tokio::test]
async fn a_job_without_a_user_authenticates_nobody() {
    let yaml = format!(
        "{}\n  - {{token: glcbt-nobody, job: 9}}\n",
        SPEC.trim_end().replace(
            "          - {id: 6, name: created, status: created, user: maintainer}",
            "          - {id: 6, name: created, status: created, user: maintainer}
          - {id: 9, name: anonymous, status: running, user: null}",
        )
    );
    let s = TestServer::with_yaml(&yaml).await;
    for path in ["/job/allowed_agents", "/job", "/projects/1/jobs"] {
        get_header(&s, path, "JOB-TOKEN", "glcbt-nobody")
            .await
            .assert(401, json!({"message": "401 Unauthorized"}));
    }
    let r = s.get("/projects/1/jobs/9", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["user"], serde_json::Value::Null);
}

/// Project 1 in group 9 with agents of every kind the spec creates: without environments
/// (a group authorization via project 2, a project authorization, an implicit one), for
/// `production` and `review/*`, and for `staging`.
fn agents_scenario(environment: &str) -> String {
    SPEC.replace(
        "    public_builds: false\n",
        "    public_builds: false\n    group_ids: [9]\n    agents:\n      \
         - {id: 1, config_project: 2, configuration: {default_namespace: a}}\n      \
         - {id: 2, config_project: 1}\n      \
         - {id: 3, config_project: 1}\n      \
         - {id: 4, config_project: 2, environments: [production, \"review/*\"]}\n      \
         - {id: 5, config_project: 1, environments: [production, \"review/*\"]}\n      \
         - {id: 6, config_project: 2, environments: [staging]}\n      \
         - {id: 7, config_project: 1, environments: [staging]}\n",
    )
    .replace("environment: {name: production}", environment)
    .replace(
        "job_tokens:",
        "  - {id: 2, path: g/other, visibility: private}\njob_tokens:",
    )
}

async fn allowed_agent_ids(s: &TestServer) -> Vec<u64> {
    let r = get_header(s, "/job/allowed_agents", "JOB-TOKEN", "glcbt-running").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut ids: Vec<u64> = r.json()["allowed_agents"]
        .as_array()
        .expect("allowed_agents")
        .iter()
        .map(|a| a["id"].as_u64().expect("id"))
        .collect();
    ids.sort_unstable();
    ids
}

// jobs_spec.rb: "GET /job/allowed_agents when token is valid and user is authorized
// it_behaves_like valid allowed_agents request returns the agents allowed for the job" (a job
// without an environment: the authorizations without environments) and, with the token as
// params, the same
#[tokio::test]
async fn allowed_agents_without_an_environment() {
    let yaml = agents_scenario("tag_list: []");
    let s = TestServer::with_yaml(&yaml).await;
    assert_eq!(allowed_agent_ids(&s).await, vec![1, 2, 3]);
    let r = s
        .get("/job/allowed_agents?job_token=glcbt-running", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["allowed_agents"].as_array().map(Vec::len), Some(3));
    assert!(r.json().get("environment").is_none(), "{}", r.text);
}

// jobs_spec.rb: "… when deployment it_behaves_like valid allowed_agents request for a job
// with environment" and "… when non-deployment environment action it_behaves_like …" (the
// authorizations without environments and those for production and review/*)
#[tokio::test]
async fn allowed_agents_for_an_environment() {
    for env in [
        "environment: {name: production}",
        "environment: {name: review/123}",
    ] {
        let s = TestServer::with_yaml(&agents_scenario(env)).await;
        assert_eq!(allowed_agent_ids(&s).await, vec![1, 2, 3, 4, 5], "{env}");
    }
}

//! GitLab's rate limits from the scenario's `gitlab: rate_limits:`, counted on a frozen
//! session clock: exact headers at the boundary (request N and N+1), windows that turn
//! with `POST /-/glmock/clock/advance`, counters per user, IP and session.

use serde_json::json;

use crate::support::*;

/// 2026-01-01T00:00:10Z: 10 s into a minute.
fn scenario(limits: &str) -> String {
    format!(
        r#"
gitlab:
  now: "2026-01-01T00:00:10Z"
  clock: frozen
  rate_limits:
{limits}
users:
  - {{id: 1, username: alice, tokens: [glpat-alice]}}
  - {{id: 2, username: bob, tokens: [glpat-bob]}}
projects:
  - id: 1
    path: g/p
    visibility: public
    public_builds: true
    members: {{alice: owner, bob: developer}}
    pipelines:
      - id: 1
        jobs: [{{id: 1, name: a, status: success}}]
"#
    )
}

async fn get_as(s: &TestServer, session: &str, path: &str, token: Option<&str>) -> Resp {
    let mut req = s.client.get(s.session_url(session, path));
    if let Some(t) = token {
        req = req.header("PRIVATE-TOKEN", t);
    }
    s.raw(req).await
}

#[tokio::test]
async fn the_authenticated_throttle_answers_request_n_plus_1_like_rack_attack() {
    let s = TestServer::with_yaml(&scenario(
        "    authenticated_api: {requests_per_period: 3, period_in_seconds: 60}",
    ))
    .await;
    let alice = Some("glpat-alice");
    for n in 1..=3 {
        let r = get_as(&s, "a", "/projects/1/jobs", alice).await;
        assert_eq!(r.status, 200, "request {n}: {}", r.text);
        assert_eq!(
            r.header("ratelimit-name"),
            None,
            "no RateLimit headers below the limit"
        );
    }
    let r = get_as(&s, "a", "/user", alice).await;
    assert_eq!(r.status, 429, "request 4, on any API route");
    assert_eq!(r.text, "Retry later\n");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    let headers: Vec<(&str, Option<&str>)> = [
        "ratelimit-name",
        "ratelimit-limit",
        "ratelimit-observed",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-resettime",
        "retry-after",
    ]
    .into_iter()
    .map(|h| (h, r.header(h)))
    .collect();
    assert_eq!(
        headers,
        vec![
            ("ratelimit-name", Some("throttle_authenticated_api")),
            ("ratelimit-limit", Some("3")),
            ("ratelimit-observed", Some("4")),
            ("ratelimit-remaining", Some("0")),
            ("ratelimit-reset", Some("1767225660")),
            ("ratelimit-resettime", Some("Thu, 01 Jan 2026 00:01:00 GMT")),
            ("retry-after", Some("50")),
        ]
    );
    // Observed keeps counting; bob has his own counter; so has another session.
    let r = get_as(&s, "a", "/user", alice).await;
    assert_eq!(r.header("ratelimit-observed"), Some("5"));
    assert_eq!(
        get_as(&s, "a", "/user", Some("glpat-bob")).await.status,
        200
    );
    assert_eq!(get_as(&s, "b", "/user", alice).await.status, 200);
    // The window turns at the minute: 49 s later still throttled, 50 s later not.
    s.advance_clock("a", 49).await;
    let r = get_as(&s, "a", "/user", alice).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
    s.advance_clock("a", 1).await;
    assert_eq!(get_as(&s, "a", "/user", alice).await.status, 200);
    let entries = s
        .get("/-/glmock/journal?session=a&status=429", None)
        .await
        .json();
    assert_eq!(
        entries["entries"][0]["faults"],
        json!(["throttle_authenticated_api"])
    );
}

#[tokio::test]
async fn the_unauthenticated_throttle_counts_per_ip_and_rounds_the_limit_to_a_minute() {
    let s = TestServer::with_yaml(&scenario(
        "    unauthenticated_api: {requests_per_period: 2, period_in_seconds: 3600}",
    ))
    .await;
    // Rack::Attack counts before Rails authenticates: the jobs list's 401s count too.
    assert_eq!(get_as(&s, "u", "/projects/1/jobs", None).await.status, 401);
    assert_eq!(get_as(&s, "u", "/projects/1", None).await.status, 200);
    let r = get_as(&s, "u", "/projects/1/jobs", None).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("ratelimit-name"),
        Some("throttle_unauthenticated_api")
    );
    // (2 × 60 / 3600).ceil = 1; 00:00:10 is 3590 s before the hour turns.
    assert_eq!(r.header("ratelimit-limit"), Some("1"));
    assert_eq!(r.header("retry-after"), Some("3590"));
    assert_eq!(
        r.header("ratelimit-resettime"),
        Some("Thu, 01 Jan 2026 01:00:00 GMT")
    );
    // Authenticated requests are not counted by it.
    assert_eq!(
        get_as(&s, "u", "/projects/1/jobs", Some("glpat-alice"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_jobs_list_limit_is_per_user_and_answers_json() {
    let s = TestServer::with_yaml(&scenario("    project_jobs_api: 2")).await;
    let alice = Some("glpat-alice");
    assert_eq!(get_as(&s, "j", "/projects/1/jobs", alice).await.status, 200);
    assert_eq!(
        get_as(&s, "j", "/projects/g%2Fp/jobs", alice).await.status,
        200
    );
    let r = get_as(&s, "j", "/projects/1/jobs", alice).await;
    r.assert(
        429,
        json!({"message": {"error": "This endpoint has been requested too many times. Try again later."}}),
    );
    assert_eq!(
        r.header("retry-after"),
        None,
        "the application limiter sends no Retry-After"
    );
    // Only the jobs list is limited, per user; an unknown token is a 401, not a count.
    assert_eq!(
        get_as(&s, "j", "/projects/1/jobs/1", alice).await.status,
        200
    );
    assert_eq!(
        get_as(&s, "j", "/projects/1/jobs", Some("glpat-bob"))
            .await
            .status,
        200
    );
    assert_eq!(
        get_as(&s, "j", "/projects/1/jobs", Some("glpat-nobody"))
            .await
            .status,
        401
    );
    // The minute turns 50 s later.
    s.advance_clock("j", 50).await;
    assert_eq!(get_as(&s, "j", "/projects/1/jobs", alice).await.status, 200);
    let entries = s
        .get("/-/glmock/journal?session=j&status=429", None)
        .await
        .json();
    assert_eq!(entries["entries"][0]["faults"], json!(["jobs_index"]));
}

#[tokio::test]
async fn limits_are_off_unless_configured() {
    let s = TestServer::default_scenario().await;
    for _ in 0..30 {
        let r = s.get("/projects/1/jobs", Some(ROOT)).await;
        assert_eq!(r.status, 200);
    }
}

#[tokio::test]
async fn bad_limits_and_rules_in_a_scenario_name_file_line_and_field() {
    let yaml = scenario(
        "    authenticated_api: {requests_per_period: 3, period_in_seconds: 0}\n    project_jobs_api: {requests: 3}",
    ) + "faults:\n  - match: {route: /projects/:id/issues}\n    then: reset\n  - when: {tmes: 1}\n    then: reset\n  - when: {times: \"often\"}\n    then: reset\n";
    let err = glmock::__internal::scenario::build(
        &[glmock::__internal::scenario::Source {
            name: "limits.yaml".into(),
            text: yaml,
            dir: None,
        }],
        &glmock::__internal::scenario::Overrides::default(),
    )
    .expect_err("invalid");
    let text = err.to_string();
    assert!(
        text.contains("limits.yaml:6:5: gitlab.rate_limits: ")
            && text.contains("requests per minute, or {requests_per_period, period_in_seconds}"),
        "{text}"
    );
    assert!(
        text.contains("limits.yaml:21:20: faults[0].match.route: \"/projects/:id/issues\" is not one of glmock's routes (allowed: /user,"),
        "{text}"
    );
    assert!(
        text.contains(
            "limits.yaml:23:12: faults[1].when.tmes: unknown field `tmes`, expected one of `times`"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "limits.yaml:25:19: faults[2].when.times: invalid type: string \"often\", expected u64"
        ),
        "{text}"
    );
}

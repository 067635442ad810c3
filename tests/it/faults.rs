//! Fault rules through the real server: every kind of fault and trigger, per session, on the
//! routes they name only, from the control API and from a scenario.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// Adds rules to a session through `POST /-/glmock/faults`.
async fn add(s: &TestServer, session: &str, rules: Value) -> Resp {
    s.post_json(&format!("/-/glmock/faults?session={session}"), None, rules)
        .await
}

#[track_caller]
fn assert_added(r: &Resp) -> Value {
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

/// `GET {path}` in a session with root's token, status only.
async fn status_in(s: &TestServer, session: &str, path: &str) -> u16 {
    let r = s
        .client
        .get(s.session_url(session, path))
        .header("PRIVATE-TOKEN", ROOT)
        .send()
        .await
        .expect("request sent");
    r.status().as_u16()
}

async fn journal(s: &TestServer, session: &str) -> Vec<Value> {
    let r = s
        .get(&format!("/-/glmock/journal?session={session}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["entries"].as_array().expect("entries").clone()
}

#[tokio::test]
async fn a_500_is_the_apis_json_and_the_rule_stops_after_times() {
    let s = TestServer::default_scenario().await;
    let added = assert_added(
        &add(
            &s,
            "a",
            json!({"match": {"route": "/projects/:id/jobs"}, "when": {"times": 2}, "then": {"status": 500}}),
        )
        .await,
    );
    assert_eq!(added["faults"][0]["id"], "f1");
    for _ in 0..2 {
        let r = s
            .raw(
                s.client
                    .get(s.session_url("a", "/projects/1/jobs"))
                    .header("PRIVATE-TOKEN", ROOT),
            )
            .await;
        r.assert(500, json!({"message": "500 Internal Server Error"}));
    }
    assert_eq!(
        status_in(&s, "a", "/projects/1/jobs").await,
        200,
        "times: 2 is spent"
    );
    let entries = journal(&s, "a").await;
    let marks: Vec<Value> = entries.iter().map(|e| e["faults"].clone()).collect();
    assert_eq!(marks, vec![json!(["f1"]), json!(["f1"]), json!([])]);
}

#[tokio::test]
async fn front_end_errors_are_html_pages() {
    let s = TestServer::default_scenario().await;
    for (i, (code, title, ct)) in [
        (
            502,
            "<title>GitLab is not responding (502)</title>",
            "text/html; charset=utf-8",
        ),
        (
            503,
            "<title>GitLab is not responding (503)</title>",
            "text/html; charset=utf-8",
        ),
        (504, "<title>504 Gateway Time-out</title>", "text/html"),
    ]
    .into_iter()
    .enumerate()
    {
        let session = format!("page{i}");
        assert_added(&add(&s, &session, json!({"then": {"status": code}})).await);
        let r = s
            .raw(
                s.client
                    .get(s.session_url(&session, "/projects/1/jobs"))
                    .header("PRIVATE-TOKEN", ROOT),
            )
            .await;
        assert_eq!(r.status, code);
        assert_eq!(r.header("content-type"), Some(ct));
        assert!(r.text.contains(title), "{}", r.text);
        assert_eq!(
            r.header("cache-control"),
            None,
            "Rails' headers are not on a front-end page"
        );
        if code == 504 {
            assert_eq!(r.header("server"), Some("nginx"));
        }
    }
}

#[tokio::test]
async fn a_429_rule_answers_like_rack_attack() {
    let s = TestServer::default_scenario().await;
    assert_added(
        &add(
            &s,
            "t",
            json!({"then": {"throttle": {"requests_per_period": 10, "period_in_seconds": 60}}}),
        )
        .await,
    );
    let r = s
        .raw(
            s.client
                .get(s.session_url("t", "/projects/1/jobs"))
                .header("PRIVATE-TOKEN", ROOT),
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.text, "Retry later\n");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(
        r.header("ratelimit-name"),
        Some("throttle_authenticated_api")
    );
    assert_eq!(r.header("ratelimit-limit"), Some("10"));
    assert_eq!(r.header("ratelimit-observed"), Some("11"));
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Anonymous requests fall under the unauthenticated throttle.
    let r = s
        .raw(s.client.get(s.session_url("t", "/projects/1/jobs")))
        .await;
    assert_eq!(
        r.header("ratelimit-name"),
        Some("throttle_unauthenticated_api")
    );
    // `status: 429` is the same throttle with GitLab's defaults (7200 per hour: 120 a minute).
    assert_added(&add(&s, "t2", json!({"then": {"status": 429}})).await);
    let r = s
        .raw(
            s.client
                .get(s.session_url("t2", "/user"))
                .header("PRIVATE-TOKEN", ROOT),
        )
        .await;
    assert_eq!((r.status, r.header("ratelimit-limit")), (429, Some("120")));
}

#[tokio::test]
async fn reset_sends_an_rst_and_close_sends_nothing() {
    let s = TestServer::default_scenario().await;
    assert_added(&add(&s, "default", json!({"match": {"route": "/projects/:id/jobs/:job_id"}, "when": {"times": 1}, "then": "reset"})).await);
    assert_added(&add(&s, "default", json!({"match": {"route": "/projects/:id/jobs/:job_id/trace"}, "when": {"times": 1}, "then": "close"})).await);

    let reset = tokio::task::spawn_blocking({
        let url = s.url.clone();
        move || raw_get_at(&url, "/projects/1/jobs/7")
    })
    .await
    .expect("joined");
    let e = reset.expect_err("the connection is reset");
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");

    let closed = tokio::task::spawn_blocking({
        let url = s.url.clone();
        move || raw_get_at(&url, "/projects/1/jobs/7/trace")
    })
    .await
    .expect("joined")
    .expect("a clean close");
    assert!(
        closed.is_empty(),
        "nothing before the close: {:?}",
        String::from_utf8_lossy(&closed)
    );

    // The rules are spent: the same requests are answered again.
    let again = tokio::task::spawn_blocking({
        let url = s.url.clone();
        move || raw_get_at(&url, "/projects/1/jobs/7")
    })
    .await
    .expect("joined")
    .expect("answered");
    assert!(again.starts_with(b"HTTP/1.1 200 OK\r\n"));
    let statuses: Vec<(Value, Value)> = journal(&s, "default")
        .await
        .iter()
        .filter(|e| e["path"] != "/-/glmock/faults")
        .map(|e| (e["status"].clone(), e["faults"].clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (json!(0), json!(["f1"])),
            (json!(0), json!(["f2"])),
            (json!(200), json!([]))
        ],
        "no response is journaled as status 0"
    );
}

fn raw_get_at(url: &str, path: &str) -> Result<Vec<u8>, std::io::Error> {
    let addr = url.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        tcp,
        "GET /api/v4{path} HTTP/1.1\r\nHost: {addr}\r\nPRIVATE-TOKEN: {ROOT}\r\nConnection: close\r\n\r\n"
    )?;
    let mut got = Vec::new();
    tcp.read_to_end(&mut got)?;
    Ok(got)
}

/// The head and body of a raw HTTP/1.1 answer.
fn split(raw: &[u8]) -> (String, &[u8]) {
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (
        String::from_utf8_lossy(&raw[..at]).into_owned(),
        &raw[at + 4..],
    )
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("content-length")
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn a_cut_body_promises_more_than_it_sends() {
    let s = TestServer::default_scenario().await;
    let whole = s.get("/projects/1/jobs/7", Some(ROOT)).await;
    assert_eq!(whole.status, 200);
    assert_added(&add(&s, "default", json!({"match": {"route": "/projects/:id/jobs/:job_id"}, "then": {"cut": {"after_bytes": 100}}})).await);
    let url = s.url.clone();
    let raw = tokio::task::spawn_blocking(move || raw_get_at(&url, "/projects/1/jobs/7"))
        .await
        .expect("joined")
        .expect("read until the close");
    let (head, body) = split(&raw);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(
        content_length(&head),
        whole.text.len(),
        "the whole length is promised"
    );
    assert_eq!(
        body,
        &whole.text.as_bytes()[..100],
        "then 100 bytes and the close"
    );
    // Without after_bytes, half of it.
    assert_added(
        &add(
            &s,
            "half",
            json!({"match": {"route": "/projects/:id/jobs/:job_id"}, "then": {"cut": {}}}),
        )
        .await,
    );
    let url = s
        .session_url("half", "")
        .trim_end_matches("/api/v4")
        .to_owned();
    let raw = tokio::task::spawn_blocking(move || {
        let addr = url.trim_start_matches("http://").split('/').next().expect("addr").to_owned();
        let mut tcp = std::net::TcpStream::connect(&addr)?;
        write!(tcp, "GET /-/sessions/half/api/v4/projects/1/jobs/7 HTTP/1.1\r\nHost: {addr}\r\nPRIVATE-TOKEN: {ROOT}\r\n\r\n")?;
        let mut got = Vec::new();
        tcp.read_to_end(&mut got).map(|_| got)
    })
    .await
    .expect("joined")
    .expect("read");
    let (_, body) = split(&raw);
    assert_eq!(body.len(), whole.text.len() / 2);
}

#[tokio::test]
async fn a_trickled_body_arrives_whole_and_slowly() {
    let s = TestServer::default_scenario().await;
    let whole = s.get("/version", Some(ROOT)).await;
    let chunks = whole.text.len().div_ceil(40);
    assert_added(&add(&s, "default", json!({"match": {"route": "/version"}, "then": {"trickle": {"bytes": 40, "every_ms": 30}}})).await);
    let started = Instant::now();
    let r = s.get("/version", Some(ROOT)).await;
    assert_eq!((r.status, &r.text), (200, &whole.text));
    assert_eq!(
        r.header("content-length"),
        Some(whole.text.len().to_string().as_str())
    );
    let at_least = Duration::from_millis(30 * (chunks as u64 - 1));
    assert!(
        started.elapsed() >= at_least,
        "{:?} < {at_least:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn delays_come_before_the_real_answer() {
    let s = TestServer::default_scenario().await;
    assert_added(&add(&s, "default", json!([
        {"match": {"route": "/user"}, "delay": {"fixed_ms": 300}},
        {"match": {"route": "/version"}, "delay": {"uniform_ms": [150, 200]}, "seed": 1},
        {"match": {"route": "/projects/:id"}, "delay": {"log_normal": {"median_ms": 100, "sigma": 0.1, "max_ms": 400}}, "then": {"status": 504}}
    ])).await);
    for (path, min, status) in [
        ("/user", 300, 200),
        ("/version", 150, 200),
        ("/projects/1", 50, 504),
    ] {
        let started = Instant::now();
        let r = s.get(path, Some(ROOT)).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert!(
            started.elapsed() >= Duration::from_millis(min),
            "{path}: {:?}",
            started.elapsed()
        );
    }
    let r = s.get("/projects/1/jobs", Some(ROOT)).await;
    assert_eq!(r.status, 200, "other routes are not delayed or failed");
}

/// Statuses of `n` requests to the jobs list in `session`.
async fn pattern(s: &TestServer, session: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(status_in(s, session, "/projects/1/jobs").await);
    }
    out
}

#[tokio::test]
async fn after_and_every_pick_which_requests_fail() {
    let s = TestServer::default_scenario().await;
    assert_added(
        &add(
            &s,
            "after",
            json!({"when": {"after": 2}, "then": {"status": 503}}),
        )
        .await,
    );
    assert_eq!(pattern(&s, "after", 4).await, vec![200, 200, 503, 503]);
    assert_added(
        &add(
            &s,
            "every",
            json!({"when": {"every": 3}, "then": {"status": 502}}),
        )
        .await,
    );
    assert_eq!(
        pattern(&s, "every", 7).await,
        vec![200, 200, 502, 200, 200, 502, 200]
    );
    assert_added(
        &add(
            &s,
            "mix",
            json!({"when": {"after": 1, "every": 2, "times": 2}, "then": {"status": 500}}),
        )
        .await,
    );
    assert_eq!(
        pattern(&s, "mix", 7).await,
        vec![200, 200, 500, 200, 500, 200, 200]
    );
}

#[tokio::test]
async fn a_seeded_probability_repeats_its_sequence() {
    let s = TestServer::default_scenario().await;
    let rule =
        |seed: u64| json!({"when": {"probability": 0.5}, "seed": seed, "then": {"status": 502}});
    assert_added(&add(&s, "p1", rule(7)).await);
    assert_added(&add(&s, "p2", rule(7)).await);
    assert_added(&add(&s, "p3", rule(8)).await);
    let (a, b, c) = (
        pattern(&s, "p1", 40).await,
        pattern(&s, "p2", 40).await,
        pattern(&s, "p3", 40).await,
    );
    assert_eq!(a, b, "the same seed gives the same sequence");
    assert_ne!(a, c, "another seed another one");
    let failed = a.iter().filter(|s| **s == 502).count();
    assert!(
        (8..=32).contains(&failed),
        "about half fail: {failed} of 40"
    );
    // A reset session starts the sequence again.
    let r = s
        .send(
            reqwest::Method::POST,
            "/-/glmock/reset?session=p1",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_added(&add(&s, "p1", rule(7)).await);
    assert_eq!(pattern(&s, "p1", 40).await, a);
}

const FROZEN: &str = r#"
gitlab:
  now: "2026-01-01T00:00:00Z"
  clock: frozen
users:
  - {id: 1, username: alice, tokens: [glpat-alice]}
  - {id: 2, username: bob, tokens: [glpat-bob]}
projects:
  - id: 1
    path: g/p
    visibility: public
    members: {alice: owner, bob: developer}
    pipelines:
      - id: 1
        jobs: [{id: 1, name: a, status: failed}, {id: 2, name: b, status: success}]
"#;

#[tokio::test]
async fn a_window_follows_the_session_clock() {
    let s = TestServer::with_yaml(FROZEN).await;
    assert_added(
        &add(
            &s,
            "w",
            json!({"when": {"window": {"from": 10, "until": 20}}, "then": {"status": 503}}),
        )
        .await,
    );
    assert_added(
        &add(
            &s,
            "abs",
            json!({"when": {"window": {"until": "2026-01-01T00:00:05Z"}}, "then": {"status": 502}}),
        )
        .await,
    );
    let get = |session: &'static str| {
        let s = &s;
        async move {
            s.raw(
                s.client
                    .get(s.session_url(session, "/projects/1/jobs"))
                    .header("PRIVATE-TOKEN", "glpat-alice"),
            )
            .await
            .status
        }
    };
    assert_eq!(get("w").await, 200);
    s.advance_clock("w", 10).await;
    assert_eq!(get("w").await, 503);
    s.advance_clock("w", 9).await;
    assert_eq!(get("w").await, 503);
    s.advance_clock("w", 1).await;
    assert_eq!(get("w").await, 200, "until is exclusive");
    assert_eq!(get("abs").await, 502);
    s.advance_clock("abs", 5).await;
    assert_eq!(get("abs").await, 200);
}

#[tokio::test]
async fn rules_match_method_route_user_and_token_only() {
    let s = TestServer::with_yaml(FROZEN).await;
    assert_added(&add(&s, "default", json!([
        {"match": {"method": "post", "route": "/projects/:id/jobs/:job_id/retry", "user": "bob"}, "then": {"status": 502}},
        {"match": {"token": "glpat-alice", "route": "/projects/:id/pipelines/:pipeline_id"}, "then": {"status": 503}},
        {"match": {"path": "/api/v4/projects/*/pipelines/*/jobs"}, "then": {"status": 504}}
    ])).await);
    let alice = Some("glpat-alice");
    let bob = Some("glpat-bob");
    // The retry rule: POST by bob only; the job itself and alice's retry are untouched.
    assert_eq!(s.post("/projects/1/jobs/1/retry", bob).await.status, 502);
    assert_eq!(s.get("/projects/1/jobs/1", bob).await.status, 200);
    let r = s.post("/projects/1/jobs/1/retry", alice).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A 502 never reached GitLab: bob's retry made no job (alice's made job 3).
    let ids = s.get("/projects/1/jobs", alice).await.ids();
    assert_eq!(ids, vec![3, 2, 1]);
    // The pipeline route, and not /pipelines/latest next to it.
    assert_eq!(s.get("/projects/1/pipelines/1", alice).await.status, 503);
    assert_eq!(s.get("/projects/1/pipelines/1", bob).await.status, 200);
    assert_ne!(
        s.get("/projects/1/pipelines/latest", alice).await.status,
        503
    );
    // The glob.
    assert_eq!(s.get("/projects/1/pipelines/1/jobs", bob).await.status, 504);
    assert_eq!(
        s.get("/projects/1/pipelines/1/bridges", bob).await.status,
        200
    );
}

#[tokio::test]
async fn faults_stay_in_their_session() {
    let s = TestServer::default_scenario().await;
    assert_added(&add(&s, "broken", json!({"then": {"status": 500}})).await);
    assert_eq!(status_in(&s, "broken", "/projects/1/jobs").await, 500);
    assert_eq!(status_in(&s, "other", "/projects/1/jobs").await, 200);
    assert_eq!(
        s.get("/projects/1/jobs", Some(ROOT)).await.status,
        200,
        "the default session"
    );
    // The session header picks the session as the prefix does.
    let r = s
        .raw(
            s.client
                .get(format!("{}/api/v4/user", s.url))
                .header("PRIVATE-TOKEN", ROOT)
                .header("X-Glmock-Session", "broken"),
        )
        .await;
    assert_eq!(r.status, 500);
}

#[tokio::test]
async fn the_control_api_lists_deletes_and_rejects_rules() {
    let s = TestServer::default_scenario().await;
    let added = assert_added(
        &add(
            &s,
            "c",
            json!([
                {"id": "slow", "delay": {"fixed_ms": 1}},
                {"then": {"status": 502}, "when": {"times": 1}}
            ]),
        )
        .await,
    );
    assert_eq!(added["session"], "c");
    let ids: Vec<&str> = added["faults"]
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["slow", "f1"]);
    status_in(&s, "c", "/user").await;
    status_in(&s, "c", "/user").await;
    let listed = s.get("/-/glmock/faults?session=c", None).await.json();
    assert_eq!(listed["faults"][1]["seen"], 2);
    assert_eq!(listed["faults"][1]["fired"], 1);
    assert_eq!(listed["faults"][1]["then"], json!({"status": 502}));

    let dup = add(&s, "c", json!({"id": "slow", "then": "close"})).await;
    assert_eq!(dup.status, 400);
    assert_eq!(
        dup.json()["error"],
        "fault.id: a rule \"slow\" already exists in this session"
    );

    let r = s
        .send(
            reqwest::Method::DELETE,
            "/-/glmock/faults/slow?session=c",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/-/glmock/faults/slow?session=c",
            None,
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (404, json!("no fault rule \"slow\" in session c"))
    );
    // Each method of `/faults` and `/faults/ID` is its own route: the others get 405 with
    // the route's methods in `Allow`.
    for (method, path, allow) in [
        (
            reqwest::Method::GET,
            "/-/glmock/faults/fast?session=c",
            "DELETE",
        ),
        (
            reqwest::Method::PUT,
            "/-/glmock/faults?session=c",
            "GET, POST, DELETE, HEAD",
        ),
    ] {
        let r = s.send(method.clone(), path, None, None).await;
        assert_eq!(
            (r.status, r.headers["allow"].to_str().unwrap()),
            (405, allow),
            "{method} {path}: {}",
            r.text
        );
    }
    // DELETE /faults takes its session from a JSON body too, like every control endpoint.
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/-/glmock/faults",
            None,
            Some(("application/json", json!({"session": "c"}).to_string())),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        s.get("/-/glmock/faults?session=c", None).await.json()["faults"],
        json!([])
    );
    add(&s, "c", json!({"id": "slow", "then": "close"})).await;
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/-/sessions/c/-/glmock/faults",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        s.get("/-/glmock/faults?session=c", None).await.json()["faults"],
        json!([])
    );

    for (body, error) in [
        (
            json!({"then": {"status": 418}}),
            "fault.then.status: glmock does not know GitLab's answer for 418 (allowed: 429, 500, 502, 503, 504)",
        ),
        (
            json!({"then": "explode"}),
            "fault: unknown variant `explode`, expected one of `status`, `throttle`, `reset`, `close`, `cut`, `trickle`",
        ),
        (
            json!({"when": {"tmes": 1}, "then": "reset"}),
            "fault: unknown field `tmes`, expected one of `times`, `after`, `every`, `probability`, `window`",
        ),
        (
            json!({"match": {"route": "/projects/:id/issues"}, "then": "reset"}),
            "fault.match.route: \"/projects/:id/issues\" is not one of glmock's routes (allowed: /user, /version,",
        ),
        (
            json!({"match": {"session": "x"}, "then": "reset"}),
            "fault.match.session: a rule set here belongs to one session already",
        ),
        (
            json!({"match": {"route": "/user"}}),
            "fault.then: a rule needs a delay, a then, or both",
        ),
        (
            json!({"when": {"probability": 2}, "then": "reset"}),
            "fault.when.probability: 2 is not a probability (0 to 1)",
        ),
    ] {
        let r = add(&s, "c", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        let got = r.json()["error"].as_str().expect("error").to_owned();
        assert!(
            got.starts_with(error),
            "{body}:\n  got  {got}\n  want {error}"
        );
    }
}

#[tokio::test]
async fn scenario_rules_apply_to_each_session_afresh() {
    let yaml = format!(
        "{FROZEN}faults:\n  - id: flaky-list\n    match: {{route: /projects/:id/jobs}}\n    when: {{times: 1}}\n    then: {{status: 502}}\n  - match: {{session: only-me, route: /user}}\n    then: close\n"
    );
    let s = TestServer::with_yaml(&yaml).await;
    let alice = "glpat-alice";
    let get = |session: &'static str, path: &'static str| {
        let s = &s;
        async move {
            s.raw(
                s.client
                    .get(s.session_url(session, path))
                    .header("PRIVATE-TOKEN", alice),
            )
            .await
            .status
        }
    };
    // Every session gets its own `times: 1`.
    assert_eq!(get("x", "/projects/1/jobs").await, 502);
    assert_eq!(get("x", "/projects/1/jobs").await, 200);
    assert_eq!(get("y", "/projects/1/jobs").await, 502);
    // The session-bound rule is listed in its session only.
    let only = s.get("/-/glmock/faults?session=only-me", None).await.json();
    let ids: Vec<&str> = only["faults"]
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["flaky-list", "faults[1]"]);
    assert_eq!(
        s.get("/-/glmock/faults?session=x", None).await.json()["faults"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(get("y", "/user").await, 200);
    // Deleting the rules lasts until the session is reset, which brings the scenario's back.
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/-/glmock/faults?session=y",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = s
        .send(
            reqwest::Method::POST,
            "/-/glmock/reset?session=x",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        get("x", "/projects/1/jobs").await,
        502,
        "reset: the scenario's rule again"
    );
    assert_eq!(get("y", "/projects/1/jobs").await, 200, "deleted in y");
}

//! Issue #14: nothing that arrives on a socket or in a scenario can kill, hang, flood or
//! leak. Bounded parsing (Rack's limits, GitLab's answers), connection limits and timeouts,
//! graceful shutdown, and `log_file` confinement.

use serde_json::json;

use crate::support::*;

/// The crash repro of #14: `a[b][b]…=1`, 16 KB, about 5,500 levels.
fn deep_query() -> String {
    let mut q = String::from("a");
    while q.len() < 16 * 1024 {
        q.push_str("[b]");
    }
    q.push_str("=1");
    q
}

#[track_caller]
fn assert_bad_request(r: &Resp) {
    // `Gitlab::Middleware::HandleMalformedStrings`: 400, text/plain, `Bad Request`.
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.text, "Bad Request");
}

#[tokio::test]
async fn regression_issue_14_deep_query_is_a_400_and_the_server_keeps_serving() {
    let s = TestServer::default_scenario().await;
    let q = deep_query();
    let r = s.raw(s.client.get(format!("{}/?{q}", s.url))).await;
    assert_bad_request(&r);
    let r = s.get(&format!("/projects/1/jobs?{q}"), Some(ROOT)).await;
    assert_bad_request(&r);
    let r = s.post_form("/projects/1/pipeline", Some(ROOT), &q).await;
    assert_bad_request(&r);
    // Still alive, state intact.
    let r = s.get("/projects/1/jobs?per_page=1", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids().len(), 1);
}

#[tokio::test]
async fn rack_limits_apply_to_queries_and_forms() {
    let s = TestServer::default_scenario().await;
    // Depth: `a` + 99 bracket groups is the deepest Rack 2.2 parses.
    let ok = format!("per_page=1&a{}=1", "[b]".repeat(99));
    let r = s.get(&format!("/projects/1/jobs?{ok}"), Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let deep = format!("per_page=1&a{}=1", "[b]".repeat(100));
    assert_bad_request(&s.get(&format!("/projects/1/jobs?{deep}"), Some(ROOT)).await);
    // Count: 4,097 parameters.
    let many = vec!["x=1"; 4097].join("&");
    assert_bad_request(&s.get(&format!("/projects/1/jobs?{many}"), Some(ROOT)).await);
    assert_bad_request(&s.post_form("/projects/1/pipeline", Some(ROOT), &many).await);
    // A conflicting shape, a bad `%`, a NUL, a path Rack cannot unescape.
    assert_bad_request(
        &s.get("/projects/1/jobs?scope=a&scope[]=b", Some(ROOT))
            .await,
    );
    assert_bad_request(&s.get("/projects/1/jobs?scope=%zz", Some(ROOT)).await);
    assert_bad_request(&s.get("/projects/1/jobs?scope=a%00", Some(ROOT)).await);
    assert_bad_request(&s.get("/projects/1%/jobs", Some(ROOT)).await);
}

#[tokio::test]
async fn json_bodies_get_gitlabs_json_validation_answers() {
    let s = TestServer::default_scenario().await;
    let send = |body: String| {
        s.send(
            reqwest::Method::POST,
            "/projects/1/pipeline",
            Some(ROOT),
            Some(("application/json", body)),
        )
    };
    let nest = |n: usize| {
        format!(
            "{{\"ref\":\"main\",\"x\":{}1{}}}",
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    // 32 levels of containers in all (the object and 31 arrays) pass the validator.
    // (The pipeline is then refused for its own reason: the request got through.)
    let r = send(nest(31)).await;
    assert_eq!(
        r.json(),
        json!({"message": {"base": ["Missing CI config file"]}})
    );
    send(nest(32))
        .await
        .assert(400, json!({"error": "Parameters nested too deeply"}));
    // Far past serde_json's own limit too.
    send(nest(20_000))
        .await
        .assert(400, json!({"error": "Parameters nested too deeply"}));
    send("{\"ref\":".into())
        .await
        .assert(400, json!({"error": "Invalid JSON format"}));
    let big = format!(
        "{{\"ref\":\"main\",\"x\":[{}]}}",
        vec!["1"; 50_001].join(",")
    );
    send(big)
        .await
        .assert(400, json!({"error": "Array parameter too large"}));
    let r = s.get("/projects/1/jobs?per_page=1", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn link_header_of_a_deep_but_allowed_query_is_rebuilt() {
    let s = TestServer::default_scenario().await;
    let q = format!("per_page=1&a{}=1", "[b]".repeat(99));
    let r = s.get(&format!("/projects/1/jobs?{q}"), Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let next = r.next_link().expect("a next page");
    assert!(
        next.contains(&format!("a{}=1", "%5Bb%5D".repeat(99))),
        "{next}"
    );
}

//! The Jobs API through HTTP: listing, pagination, single jobs, traces, mutations,
//! sessions and concurrency.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::json;

use crate::support::*;

/// A project with `pipelines × jobs` generated builds (ids from 1000 up) and a graceful
/// runner for cancel tests.
fn generated(pipelines: u64, jobs: u64) -> String {
    format!(
        r#"
gitlab: {{version: "18.5", base_url: "https://gitlab.test"}}
users:
  - {{id: 1, username: root, tokens: [tok-root]}}
  - {{id: 2, username: dev, tokens: [tok-dev]}}
runners:
  - {{id: 5, graceful_cancel: true, managers: [{{id: 50}}]}}
  - {{id: 6}}
projects:
  - id: 1
    path: group/project
    members: {{root: owner, dev: developer}}
    pipelines:
      - id: 1
        jobs:
          - {{id: 1, name: graceful, status: running, runner: 5}}
          - {{id: 2, name: abrupt, status: running, runner: 6}}
          - {{id: 3, name: lint, stage: build, status: failed}}
          - {{id: 4, name: deploy, stage: deploy, status: skipped}}
          - {{id: 5, name: manual, stage: deploy, status: manual, variables: [{{key: OLD, value: v}}]}}
    generate:
      - {{pipelines: {pipelines}, jobs_per_pipeline: {jobs}, first_pipeline_id: 100, first_job_id: 1000}}
"#
    )
}

#[tokio::test]
async fn list_jobs_newest_first_with_limited_headers() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/jobs", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![10, 8, 7, 6, 1]);
    assert_eq!(r.header("x-page"), Some("1"));
    assert_eq!(r.header("x-per-page"), Some("20"));
    assert_eq!(r.header("x-next-page"), Some(""));
    assert_eq!(r.header("x-prev-page"), Some(""));
    // Newer GitLab never counts this endpoint.
    assert_eq!(r.header("x-total"), None);
    assert_eq!(r.header("x-total-pages"), None);
    let first = format!("{}/api/v4/projects/1/jobs?id=1&page=1&per_page=20", s.url);
    assert_eq!(
        r.header("link"),
        Some(format!("<{first}>; rel=\"first\"").as_str())
    );
}

#[tokio::test]
async fn list_jobs_by_url_encoded_path_filters_by_scope_array() {
    let s = TestServer::default_scenario().await;
    let r = s
        .get(
            "/projects/foo%2Fbar/jobs?scope%5B%5D=failed&scope[]=manual",
            Some(ROOT),
        )
        .await;
    assert_eq!(r.ids(), vec![8, 7, 6, 1]);
    // A repeated plain key keeps only its last value, as Rack does.
    let r = s
        .get("/projects/1/jobs?scope=failed&scope=manual", Some(ROOT))
        .await;
    assert_eq!(r.ids(), vec![8]);
    // A hash is accepted here: its values are the scope.
    let r = s.get("/projects/1/jobs?scope[a]=running", Some(ROOT)).await;
    assert_eq!(r.ids(), vec![10]);
}

#[tokio::test]
async fn offset_pagination_headers_and_links() {
    let s = TestServer::with_yaml(&generated(6, 10)).await;
    let r = s
        .get(
            "/projects/group%2Fproject/jobs?per_page=7&page=2&scope[]=success&scope[]=failed",
            Some("tok-root"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-page"), Some("2"));
    assert_eq!(r.header("x-per-page"), Some("7"));
    assert_eq!(r.header("x-next-page"), Some("3"));
    assert_eq!(r.header("x-prev-page"), Some("1"));
    let base = format!(
        "{}/api/v4/projects/group%2Fproject/jobs?id=group%2Fproject",
        s.url
    );
    let q = "&scope%5B%5D=success&scope%5B%5D=failed";
    assert_eq!(
        r.header("link").unwrap(),
        format!(
            "<{base}&page=1&per_page=7{q}>; rel=\"prev\", <{base}&page=3&per_page=7{q}>; rel=\"next\", <{base}&page=1&per_page=7{q}>; rel=\"first\""
        )
    );
    // per_page above 100 is capped; the page says so.
    let r = s
        .get("/projects/1/jobs?per_page=500", Some("tok-root"))
        .await;
    assert_eq!(r.header("x-per-page"), Some("100"));
    assert_eq!(r.ids().len(), 65);
}

#[tokio::test]
async fn older_versions_send_totals_on_the_jobs_list() {
    let sources = vec![glmock::__internal::scenario::Source {
        name: "g.yaml".into(),
        text: generated(2, 10),
        dir: None,
    }];
    let overrides = glmock::__internal::scenario::Overrides {
        version: glmock::__internal::version::Version::parse("16.10"),
        ..Default::default()
    };
    let s = TestServer::from_sources(sources, overrides).await;
    let r = s
        .get("/projects/1/jobs?per_page=10", Some("tok-root"))
        .await;
    assert_eq!(r.header("x-total"), Some("25"));
    assert_eq!(r.header("x-total-pages"), Some("3"));
    let last = r.link("last").expect("rel=last with totals");
    assert!(last.ends_with("page=3&per_page=10"), "{last}");
    // The 16.10 profile has no runner_manager (16.11) and no archived (17.0) on jobs.
    let job = s.get("/projects/1/jobs/1", Some("tok-root")).await.json();
    assert!(
        job.get("runner_manager").is_none() && job.get("archived").is_none(),
        "{job}"
    );
    assert!(job.get("erased_at").is_some());
}

#[tokio::test]
async fn offset_pagination_stops_at_gitlabs_offset_limit() {
    let s = TestServer::default_scenario().await;
    let r = s
        .get("/projects/1/jobs?page=501&per_page=100", Some(ROOT))
        .await;
    r.assert(405, json!({"error": "Offset pagination has a maximum allowed offset of 50000 for requests that return objects of type Ci::Build. Remaining records can be retrieved using keyset pagination."}));
}

#[tokio::test]
async fn keyset_pagination_follows_cursors_to_the_end() {
    let s = TestServer::with_yaml(&generated(2, 10)).await;
    let mut url = format!(
        "{}/api/v4/projects/1/jobs?pagination=keyset&per_page=10",
        s.url
    );
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = s.get(&url, Some("tok-root")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-page"), None, "keyset sends no X-* headers");
        seen.extend(r.ids());
        pages += 1;
        match r.next_link() {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<u64> = (1..=5).chain(1000..1020).collect();
    expected.reverse();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn keyset_rejects_other_orders() {
    let s = TestServer::default_scenario().await;
    let r = s
        .get(
            "/projects/1/jobs?pagination=keyset&order_by=id&sort=asc",
            Some(ROOT),
        )
        .await;
    r.assert(
        405,
        json!({"error": "Keyset pagination is not yet available for this type of request"}),
    );
    let r = s
        .get(
            "/projects/1/jobs?pagination=keyset&order_by=created_at",
            Some(ROOT),
        )
        .await;
    assert_eq!(r.status, 405);
}

/// Every job id, following `Link rel="next"` from the first page of `query`.
fn collect_pages(
    rt: &tokio::runtime::Runtime,
    s: &TestServer,
    query: &str,
    per_page: u64,
) -> Vec<u64> {
    rt.block_on(async {
        let mut out = Vec::new();
        let mut url = format!("{}/api/v4/projects/1/jobs?{query}", s.url);
        loop {
            let r = s.get(&url, Some("tok-root")).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let ids = r.ids();
            assert!(ids.len() as u64 <= per_page);
            out.extend(ids);
            match r.next_link() {
                Some(n) => url = n,
                None => return out,
            }
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Following `Link rel="next"` visits every job exactly once, newest first, whatever
    /// the page size and scope, in offset and keyset mode.
    #[test]
    fn pagination_never_skips_or_repeats(per_page in 1u64..40, pipelines in 1u64..6, jobs in 1u64..15, scoped in any::<bool>()) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let s = rt.block_on(TestServer::with_yaml(&generated(pipelines, jobs)));
        let scope = if scoped { "&scope[]=success&scope[]=canceled&scope[]=running" } else { "" };
        let all = rt.block_on(s.get("/projects/1/jobs?per_page=100", Some("tok-root"))).ids();
        let expected: Vec<u64> = if scoped {
            let mut v = Vec::new();
            for st in ["success", "canceled", "running"] {
                let r = rt.block_on(s.get(&format!("/projects/1/jobs?per_page=100&scope[]={st}"), Some("tok-root")));
                v.extend(r.ids());
            }
            v.sort_unstable_by(|a, b| b.cmp(a));
            v
        } else { all };
        let offset = collect_pages(&rt, &s, &format!("per_page={per_page}{scope}"), per_page);
        let keyset = collect_pages(&rt, &s, &format!("pagination=keyset&per_page={per_page}{scope}"), per_page);
        prop_assert_eq!(&offset, &expected);
        prop_assert_eq!(&keyset, &expected);
        let unique: HashSet<_> = offset.iter().collect();
        prop_assert_eq!(unique.len(), offset.len());
        drop(s);
    }
}

#[tokio::test]
async fn get_job_and_trace() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/jobs/7", Some(ROOT)).await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["id"], 7);
    assert_eq!(j["name"], "teaspoon");
    assert_eq!(j["status"], "failed");
    assert_eq!(j["failure_reason"], "script_failure");
    assert_eq!(j["web_url"], "https://example.com/foo/bar/-/jobs/7");
    assert_eq!(j["pipeline"]["id"], 6);
    assert_eq!(j["runner"]["id"], 32);
    assert_eq!(
        j["artifacts_file"],
        json!({"filename": "artifacts.zip", "size": 1000})
    );
    // A job that did not fail has no failure_reason key at all.
    let j = s.get("/projects/1/jobs/10", Some(ROOT)).await.json();
    assert!(j.get("failure_reason").is_none());

    let t = s.get("/projects/1/jobs/7/trace", Some(ROOT)).await;
    assert_eq!(t.status, 200);
    assert_eq!(t.header("content-type"), Some("text/plain"));
    assert_eq!(
        t.header("content-disposition"),
        Some("infile; filename=\"7.log\"")
    );
    assert!(!t.text.is_empty());
}

#[tokio::test]
async fn trace_of_a_job_without_log_is_empty_200() {
    let s = TestServer::with_yaml(&generated(0, 0)).await;
    let t = s.get("/projects/1/jobs/3/trace", Some("tok-root")).await;
    assert_eq!(t.status, 200);
    assert_eq!(t.text, "");
}

#[tokio::test]
async fn cancel_follows_the_runner_and_force() {
    let s = TestServer::with_yaml(&generated(0, 0)).await;
    // Graceful runner: running → canceling; force (maintainer) → canceled.
    let r = s.post("/projects/1/jobs/1/cancel", Some("tok-dev")).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"], "canceling");
    let r = s
        .post("/projects/1/jobs/1/cancel?force=true", Some("tok-dev"))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s
        .post_json(
            "/projects/1/jobs/1/cancel",
            Some("tok-root"),
            json!({"force": true}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"], "canceled");
    assert!(r.json()["finished_at"].is_string());
    // Other runner: straight to canceled.
    let r = s.post("/projects/1/jobs/2/cancel", Some("tok-dev")).await;
    assert_eq!(r.json()["status"], "canceled");
    // A finished job: 201, unchanged.
    let r = s.post("/projects/1/jobs/3/cancel", Some("tok-dev")).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"], "failed");
    // Manual jobs are cancelable too.
    let r = s.post("/projects/1/jobs/5/cancel", Some("tok-dev")).await;
    assert_eq!(r.json()["status"], "canceled");
}

#[tokio::test]
async fn retry_creates_new_job_id_and_hides_the_original() {
    let s = TestServer::with_yaml(&generated(0, 0)).await;
    let r = s.post("/projects/1/jobs/3/retry", Some("tok-dev")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let new = r.json();
    assert_eq!(new["id"], 6, "a new id after the highest one");
    assert_eq!(new["status"], "pending");
    assert_eq!(new["name"], "lint");
    assert_eq!(new["user"]["username"], "dev");
    // The original keeps its status and is retried: once, not twice.
    let old = s.get("/projects/1/jobs/3", Some("tok-root")).await.json();
    assert_eq!(old["status"], "failed");
    let r = s.post("/projects/1/jobs/3/retry", Some("tok-dev")).await;
    r.assert(
        403,
        json!({"message": "403 Forbidden - Job is not retryable"}),
    );
    // Pipeline jobs hide retried jobs unless asked; the project list shows them all.
    let r = s
        .get("/projects/1/pipelines/1/jobs", Some("tok-root"))
        .await;
    assert_eq!(r.ids(), vec![6, 5, 4, 2, 1]);
    assert_eq!(r.header("x-total"), Some("5"));
    let r = s
        .get(
            "/projects/1/pipelines/1/jobs?include_retried=True",
            Some("tok-root"),
        )
        .await;
    assert_eq!(r.ids(), vec![6, 5, 4, 3, 2, 1]);
    // `Link` carries the path's ids and the declared parameter as Grape leaves it in
    // `params`: its default when absent, coerced when sent.
    for (query, value) in [("", "false"), ("&include_retried=True", "true")] {
        let r = s
            .get(
                &format!("/projects/1/pipelines/1/jobs?per_page=9{query}"),
                Some("tok-root"),
            )
            .await;
        let first = format!(
            "{}/api/v4/projects/1/pipelines/1/jobs?id=1&include_retried={value}&page=1&per_page=9&pipeline_id=1",
            s.url
        );
        assert_eq!(
            r.header("link"),
            Some(format!("<{first}>; rel=\"first\", <{first}>; rel=\"last\"").as_str()),
            "{query}"
        );
    }
    let r = s.get("/projects/1/jobs", Some("tok-root")).await;
    assert_eq!(r.ids(), vec![6, 5, 4, 3, 2, 1]);
    // Later skipped jobs are reset to created.
    let deploy = s.get("/projects/1/jobs/4", Some("tok-root")).await.json();
    assert_eq!(deploy["status"], "created");
}

#[tokio::test]
async fn play_keeps_the_id_and_takes_variables_from_json_or_form() {
    let s = TestServer::with_yaml(&generated(0, 0)).await;
    let r = s
        .post_json(
            "/projects/1/jobs/5/play",
            Some("tok-dev"),
            json!({"job_variables_attributes": [{"key": "K", "value": "V"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["id"], 5);
    assert_eq!(j["status"], "pending");
    assert_eq!(j["user"]["username"], "dev");
    // Playing it again: not manual any more.
    let r = s
        .post_form(
            "/projects/1/jobs/5/play",
            Some("tok-dev"),
            "job_variables_attributes%5B%5D%5Bkey%5D=K&job_variables_attributes%5B%5D%5Bvalue%5D=V",
        )
        .await;
    r.assert(400, json!({"message": "400 Bad request - Unplayable Job"}));
}

#[tokio::test]
async fn erase_removes_artifacts_and_log() {
    let s = TestServer::default_scenario().await;
    let r = s.post("/projects/1/jobs/7/erase", Some(ROOT)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let j = r.json();
    assert_eq!(j["status"], "failed");
    assert_eq!(j["artifacts"], json!([]));
    assert!(j.get("artifacts_file").is_none());
    assert!(j["erased_at"].is_string());
    assert_eq!(j["artifacts_expire_at"], json!(null));
    let t = s.get("/projects/1/jobs/7/trace", Some(ROOT)).await;
    assert_eq!((t.status, t.text.as_str()), (200, ""));
    let r = s.post("/projects/1/jobs/7/erase", Some(ROOT)).await;
    r.assert(
        403,
        json!({"message": "403 Forbidden - Job is not erasable!"}),
    );
}

#[tokio::test]
async fn bridges_list_and_bridge_ids_on_build_routes() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/pipelines/6/bridges", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bridges = r.json();
    assert_eq!(bridges.as_array().map(Vec::len), Some(1));
    assert_eq!(bridges[0]["id"], 9);
    assert_eq!(bridges[0]["downstream_pipeline"]["id"], 5);
    assert!(bridges[0].get("runner").is_none(), "bridges have no runner");
    let r = s.get("/projects/1/jobs/9", Some(ROOT)).await;
    r.assert(404, json!({"message": "404 Not found"}));
    let r = s.get("/projects/1/pipelines/999/jobs", Some(ROOT)).await;
    r.assert(404, json!({"message": "404 Not found"}));
}

#[tokio::test]
async fn sessions_are_isolated_by_prefix_and_header() {
    let s = TestServer::default_scenario().await;
    let prefixed = format!("{}/-/sessions/alpha/api/v4/projects/1/jobs/7/retry", s.url);
    let r = s.post(&prefixed, Some(ROOT)).await;
    assert_eq!(r.status, 201);
    let new_id = r.json()["id"].as_u64().unwrap();
    // Same session by header sees the new job; the default and another session do not.
    let seen = s
        .raw(
            s.client
                .get(format!("{}/api/v4/projects/1/jobs/{new_id}", s.url))
                .header("PRIVATE-TOKEN", ROOT)
                .header("X-Glmock-Session", "alpha"),
        )
        .await;
    assert_eq!(seen.status, 200);
    assert_eq!(
        s.get(&format!("/projects/1/jobs/{new_id}"), Some(ROOT))
            .await
            .status,
        404
    );
    let beta = s
        .get(
            &format!("{}/-/sessions/beta/api/v4/projects/1/jobs/{new_id}", s.url),
            Some(ROOT),
        )
        .await;
    assert_eq!(beta.status, 404);
    // Link headers keep the session prefix so clients stay in their session.
    let r = s
        .get(
            &format!(
                "{}/-/sessions/alpha/api/v4/projects/1/jobs?per_page=1",
                s.url
            ),
            Some(ROOT),
        )
        .await;
    assert!(r.next_link().unwrap().starts_with(&format!(
        "{}/-/sessions/alpha/api/v4/projects/1/jobs?",
        s.url
    )));
    // Reset one session: it starts over from the scenario.
    let r = s
        .send(
            reqwest::Method::POST,
            "/-/glmock/reset?session=alpha",
            None,
            None,
        )
        .await;
    r.assert(200, json!({"reset": ["alpha"]}));
    let seen = s
        .get(
            &format!("{}/-/sessions/alpha/api/v4/projects/1/jobs/{new_id}", s.url),
            Some(ROOT),
        )
        .await;
    assert_eq!(seen.status, 404);
}

#[tokio::test]
async fn a_thousand_sessions_share_the_world() {
    let s = TestServer::with_yaml(&generated(50, 100)).await;
    for i in 0..1000 {
        let r = s
            .get(
                &format!("{}/-/sessions/s{i}/api/v4/projects/1/jobs/1000", s.url),
                Some("tok-root"),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let r = s
        .send(reqwest::Method::GET, "/-/glmock/sessions", None, None)
        .await;
    // Reads of sessions that do not exist see the base world and create nothing.
    assert_eq!(r.json()["sessions"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_make_distinct_new_jobs() {
    let s = std::sync::Arc::new(TestServer::with_yaml(&generated(30, 10)).await);
    // 64 finished jobs of the generated pipelines (statuses cycle, so pick retryable ones).
    let all = s
        .get(
            "/projects/1/jobs?per_page=100&scope[]=success&scope[]=failed&scope[]=canceled",
            Some("tok-root"),
        )
        .await
        .ids();
    assert!(all.len() >= 64, "{} retryable jobs", all.len());
    let mut tasks = Vec::new();
    for id in all.into_iter().take(64) {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.post(&format!("/projects/1/jobs/{id}/retry"), Some("tok-dev"))
                .await
        }));
    }
    let mut new_ids = HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
        new_ids.insert(r.json()["id"].as_u64().unwrap());
    }
    assert_eq!(new_ids.len(), 64);
    let pending = s
        .get(
            "/projects/1/jobs?per_page=100&scope[]=pending",
            Some("tok-root"),
        )
        .await
        .ids();
    for id in &new_ids {
        assert!(pending.contains(id), "new job {id} listed as pending");
    }
}

#[tokio::test]
async fn journal_records_requests_per_session() {
    let s = TestServer::default_scenario().await;
    s.post(
        &format!("{}/-/sessions/j/api/v4/projects/1/jobs/7/retry", s.url),
        Some(ROOT),
    )
    .await;
    s.get("/projects/1/jobs/7", Some(ROOT)).await;
    let r = s
        .send(
            reqwest::Method::GET,
            "/-/glmock/journal?session=j&method=POST",
            None,
            None,
        )
        .await;
    let body = r.json();
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["path"], "/api/v4/projects/1/jobs/7/retry");
    assert_eq!(entries[0]["status"], 201);
    assert_eq!(entries[0]["session"], "j");
    let r = s
        .send(
            reqwest::Method::GET,
            "/-/glmock/journal?path=/api/v4/projects/1/jobs/*",
            None,
            None,
        )
        .await;
    assert_eq!(r.json()["entries"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn cached_running_jobs_show_the_current_duration() {
    let s = TestServer::with_yaml(
        r#"
gitlab: {now: "2024-06-01T12:00:00Z", clock: frozen}
users: [{id: 1, username: root, tokens: [tok]}]
projects:
  - id: 1
    path: g/p
    members: {root: owner}
    pipelines:
      - id: 1
        jobs:
          - {id: 1, name: run, status: running, started_at: "2024-06-01T11:59:00Z", queued_at: "2024-06-01T11:58:58.500Z"}
          - {id: 2, name: wait, status: pending, queued_at: "2024-06-01T11:59:30Z"}
"#,
    )
    .await;
    let first = s.get("/projects/1/jobs", Some("tok")).await.json();
    assert_eq!(first[1]["duration"], json!(60.0));
    assert_eq!(first[1]["queued_duration"], json!(1.5));
    assert_eq!(first[0]["duration"], json!(null));
    assert_eq!(first[0]["queued_duration"], json!(30.0));
    s.send(
        reqwest::Method::POST,
        "/-/glmock/clock/advance?seconds=10.25",
        None,
        None,
    )
    .await;
    let second = s.get("/projects/1/jobs", Some("tok")).await.json();
    assert_eq!(second[1]["duration"], json!(70.25));
    assert_eq!(second[0]["queued_duration"], json!(40.25));
    // Everything else is the same bytes as before.
    let mut a = first.clone();
    let mut b = second.clone();
    for v in [&mut a, &mut b] {
        for j in v.as_array_mut().unwrap() {
            j["duration"] = json!(0);
            j["queued_duration"] = json!(0);
        }
    }
    assert_eq!(a, b);
    let single = s.get("/projects/1/jobs/1", Some("tok")).await.json();
    assert_eq!(single, second[1]);
}

#[tokio::test]
async fn version_names_the_emulated_gitlab() {
    let s = TestServer::default_scenario().await;
    s.get("/version", Some(ROOT)).await.assert(
        200,
        json!({"version": "18.5.0", "revision": "glmock", "kas": {"enabled": false, "externalUrl": null, "version": null}, "enterprise": false}),
    );
    s.get("/version", None)
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

/// Items rendered together share a buffer and a cached page goes out as a few large pieces;
/// whatever was cached before (one job alone, a middle page, nothing), every page is the
/// same bytes, item for item the single job's.
#[tokio::test]
async fn pages_are_the_same_bytes_whatever_was_rendered_before() {
    let s = TestServer::with_yaml(
        r#"
gitlab: {now: "2024-06-01T12:00:00Z", clock: frozen}
users: [{id: 1, username: root, tokens: [tok]}]
projects:
  - id: 1
    path: g/p
    members: {root: owner}
    generate:
      - {pipelines: 5, jobs_per_pipeline: 12, statuses: [success, running, failed, pending, canceled]}
"#,
    )
    .await;
    // A job cached alone, then a middle page (part cached, part not), then everything.
    s.get("/projects/1/jobs/17", Some("tok")).await;
    let middle = s
        .get("/projects/1/jobs?per_page=10&page=3", Some("tok"))
        .await;
    let cold = s.get("/projects/1/jobs?per_page=100", Some("tok")).await;
    let warm = s.get("/projects/1/jobs?per_page=100", Some("tok")).await;
    assert_eq!(cold.status, 200);
    assert_eq!(cold.json().as_array().unwrap().len(), 60);
    assert_eq!(warm.text, cold.text);
    let items = warm.json();
    let items = items.as_array().unwrap();
    assert!(
        items.iter().any(|j| j["status"] == "running")
            && items.iter().any(|j| j["status"] == "success")
    );
    assert_eq!(middle.json().as_array().unwrap()[..], items[20..30]);
    let small = s
        .get("/projects/1/jobs?per_page=7&page=2", Some("tok"))
        .await;
    assert_eq!(small.json().as_array().unwrap()[..], items[7..14]);
    // Items that are not neighbours in their buffer stay apart.
    let failed = s
        .get("/projects/1/jobs?scope[]=failed&per_page=100", Some("tok"))
        .await;
    let expected: Vec<_> = items
        .iter()
        .filter(|j| j["status"] == "failed")
        .cloned()
        .collect();
    assert!(expected.len() > 2);
    assert_eq!(failed.json().as_array().unwrap()[..], expected[..]);
    for (i, item) in items.iter().enumerate().step_by(5) {
        let id = item["id"].as_u64().unwrap();
        let single = s.get(&format!("/projects/1/jobs/{id}"), Some("tok")).await;
        assert_eq!(single.json(), *item, "item {i}, job {id}");
    }
    // The pipelines list too.
    let cold = s
        .get("/projects/1/pipelines?per_page=2&page=2", Some("tok"))
        .await;
    let all = s.get("/projects/1/pipelines", Some("tok")).await;
    let again = s.get("/projects/1/pipelines", Some("tok")).await;
    assert_eq!(again.text, all.text);
    assert_eq!(
        all.json().as_array().unwrap()[2..4],
        cold.json().as_array().unwrap()[..]
    );
}

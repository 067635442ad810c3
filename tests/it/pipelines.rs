//! The Pipelines API through HTTP (docs/gitlab-notes.md §3, docs/job-states.md
//! §3–§5): listing with every filter, order and pagination, single / latest pipelines,
//! variables, test reports, create, retry, cancel, delete, the composite status after
//! actions, and sessions.

use serde_json::{Value, json};

use crate::support::*;

/// Project 1 has branches `main`, `feature`, `empty` (no pipeline) and tags `v1.0`, `v2.0`,
/// plus pipelines on a deleted branch (`gone`) and a deleted tag (`v0.9`). Pipelines 10–20
/// were created on 2024-05-01 … 2024-05-11 at 10:00 and updated at 10:10 of the same day.
/// Pipeline 13 is a child pipeline (source `parent_pipeline`) of pipeline 12. Project 2
/// (`group/ordering`) has four pipelines whose status, ref, updated_at and user all differ.
const LIST: &str = r#"
gitlab: {version: "18.5", base_url: "https://gitlab.test", now: "2024-06-01T12:00:00.000Z", clock: frozen}
users:
  - {id: 1, username: root, tokens: [tok-root]}
  - {id: 2, username: dev, tokens: [tok-dev]}
  - {id: 3, username: rep, tokens: [tok-rep]}
  - {id: 4, username: maint, tokens: [tok-maint]}
projects:
  - id: 1
    path: group/project
    default_branch: main
    branches:
      main: "1111111111111111111111111111111111111111"
      feature: "2222222222222222222222222222222222222222"
      empty: "9999999999999999999999999999999999999999"
    tags:
      v1.0: "3333333333333333333333333333333333333333"
      v2.0: "4444444444444444444444444444444444444444"
    members: {root: owner, dev: developer, rep: reporter, maint: maintainer}
    pipelines:
      - {id: 10, ref: main, sha: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", status: success, user: root, name: nightly, created_at: "2024-05-01T10:00:00.000Z", updated_at: "2024-05-01T10:10:00.000Z"}
      - {id: 11, ref: feature, status: failed, user: dev, yaml_errors: "jobs:rspec config contains unknown keys: scritp", created_at: "2024-05-02T10:00:00.000Z", updated_at: "2024-05-02T10:10:00.000Z"}
      - id: 12
        ref: main
        source: web
        user: dev
        created_at: "2024-05-03T10:00:00.000Z"
        updated_at: "2024-05-03T10:10:00.000Z"
        jobs: [{id: 100, name: rspec, status: running}]
        bridges: [{id: 101, name: child, status: running, downstream: 13}]
      - id: 13
        ref: main
        user: dev
        created_at: "2024-05-04T10:00:00.000Z"
        updated_at: "2024-05-04T10:10:00.000Z"
        jobs: [{id: 102, name: child-job, status: running}]
      - {id: 14, ref: v1.0, status: pending, user: root, name: release, created_at: "2024-05-05T10:00:00.000Z", updated_at: "2024-05-05T10:10:00.000Z"}
      - {id: 15, ref: v1.0, status: canceled, source: schedule, user: root, created_at: "2024-05-06T10:00:00.000Z", updated_at: "2024-05-06T10:10:00.000Z"}
      - {id: 16, ref: feature, status: canceled, source: schedule, user: dev, created_at: "2024-05-07T10:00:00.000Z", updated_at: "2024-05-07T10:10:00.000Z"}
      - {id: 17, ref: gone, tag: false, status: success, user: root, created_at: "2024-05-08T10:00:00.000Z", updated_at: "2024-05-08T10:10:00.000Z"}
      - {id: 18, ref: v0.9, tag: true, status: skipped, user: root, created_at: "2024-05-09T10:00:00.000Z", updated_at: "2024-05-09T10:10:00.000Z"}
      - {id: 19, ref: main, status: pending, source: api, user: root, created_at: "2024-05-10T10:00:00.000Z", updated_at: "2024-05-10T10:10:00.000Z"}
      - {id: 20, ref: v2.0, status: success, user: root, created_at: "2024-05-11T10:00:00.000Z", updated_at: "2024-05-11T10:10:00.000Z"}
  - id: 2
    path: group/ordering
    members: {root: owner, dev: developer, rep: reporter, maint: maintainer}
    pipelines:
      - {id: 31, ref: c, status: success, user: dev, updated_at: "2024-01-02T00:00:00.000Z"}
      - {id: 32, ref: a, status: failed, user: rep, updated_at: "2024-01-04T00:00:00.000Z"}
      - {id: 33, ref: d, status: running, user: root, updated_at: "2024-01-01T00:00:00.000Z"}
      - {id: 34, ref: b, status: canceled, user: maint, updated_at: "2024-01-03T00:00:00.000Z"}
"#;

/// A project with a CI definition (for create) and one pipeline per action under test.
/// Runner 5 cancels gracefully, runner 6 does not. The clock is frozen, so durations of
/// running pipelines do not tick between two reads.
const ACTIONS: &str = r#"
gitlab: {version: "18.5", base_url: "https://gitlab.test", now: "2024-06-01T12:00:00.000Z", clock: frozen}
users:
  - {id: 1, username: root, tokens: [tok-root]}
  - {id: 2, username: dev, tokens: [tok-dev]}
  - {id: 3, username: rep, tokens: [tok-rep]}
  - {id: 4, username: maint, tokens: [tok-maint]}
runners:
  - {id: 5, graceful_cancel: true, managers: [{id: 50}]}
  - {id: 6}
projects:
  - id: 1
    path: group/project
    default_branch: main
    branches:
      main: "1111111111111111111111111111111111111111"
      feature: "2222222222222222222222222222222222222222"
    tags:
      v1.0: "3333333333333333333333333333333333333333"
    members: {root: owner, dev: developer, rep: reporter, maint: maintainer}
    ci:
      stages: [build, test, deploy]
      jobs:
        - {name: compile, stage: build}
        - {name: approve, stage: build, when: manual}
        - {name: rspec, stage: test}
        - {name: docs, stage: test, only: [main]}
        - {name: deploy, stage: deploy, when: manual}
    pipelines:
      # 1: failed, with a canceled and a skipped job: retry.
      - id: 1
        user: root
        jobs:
          - {id: 1, name: compile, stage: build, status: success}
          - {id: 2, name: rspec, stage: test, status: failed}
          - {id: 3, name: lint, stage: test, status: canceled}
          - {id: 4, name: deploy, stage: deploy, status: skipped}
      # 2: running on a graceful and a non-graceful runner: cancel.
      - id: 2
        user: root
        jobs:
          - {id: 10, name: graceful, stage: test, status: running, runner: 5, runner_manager: 50}
          - {id: 11, name: abrupt, stage: test, status: running, runner: 6}
          - {id: 12, name: queued, stage: test, status: pending}
          - {id: 13, name: done, stage: test, status: success}
          - {id: 14, name: later, stage: deploy, status: created}
      # 3: running on a non-graceful runner only.
      - id: 3
        user: root
        jobs:
          - {id: 20, name: abrupt, status: running, runner: 6}
          - {id: 21, name: queued, status: pending}
      # 4: finished; its test report has a broken suite.
      - id: 4
        user: root
        jobs: [{id: 30, name: ok, status: success}]
        test_report:
          test_suites:
            - name: broken
              suite_error: "JUnit XML parsing failed"
              test_cases:
                - {status: success, name: a, classname: c, execution_time: 1}
                - {status: failed, name: b, classname: c, execution_time: 2}
            - name: unit
              test_cases:
                - {status: success, name: s1, classname: k, execution_time: 0.5}
                - {status: failed, name: f1, classname: k, execution_time: 0.25, system_output: boom}
                - {status: skipped, name: k1, classname: k, execution_time: 0}
      # 5 triggers child pipeline 6 through bridge 41.
      - id: 5
        user: root
        jobs: [{id: 40, name: build, stage: build, status: success}]
        bridges: [{id: 41, name: trigger, stage: test, status: running, downstream: 6}]
      - id: 6
        user: root
        jobs:
          - {id: 50, name: child-a, status: running, runner: 6}
          - {id: 51, name: child-b, status: pending}
      # 7: success, its only failure is allowed.
      - id: 7
        user: root
        jobs:
          - {id: 60, name: ok, stage: build, status: success}
          - {id: 61, name: flaky, stage: test, status: failed, allow_failure: true}
      # 8: blocked on a manual job.
      - id: 8
        user: root
        jobs:
          - {id: 70, name: build, stage: build, status: success}
          - {id: 71, name: release, stage: deploy, status: manual, when: manual, allow_failure: false}
      # 9: a blocking and an optional manual job.
      - id: 9
        user: root
        jobs:
          - {id: 80, name: gate, stage: deploy, status: manual, when: manual, allow_failure: false}
          - {id: 81, name: optional, stage: deploy, status: manual, when: manual}
      # 10: triggered by the developer, with variables.
      - id: 10
        user: dev
        variables:
          - {key: A, value: "1"}
          - {key: CERT, value: pem, variable_type: file}
        jobs: [{id: 90, name: ok, status: success}]
      # 11: a single failed job.
      - id: 11
        user: root
        jobs: [{id: 95, name: only, status: failed}]
      # 12: a pending job and an optional manual job: cancel.
      - id: 12
        user: root
        jobs:
          - {id: 100, name: queued, stage: test, status: pending}
          - {id: 101, name: optional, stage: deploy, status: manual, when: manual}
  - id: 2
    path: group/only-main
    default_branch: main
    branches:
      main: "5555555555555555555555555555555555555555"
      other: "6666666666666666666666666666666666666666"
    members: {root: owner, dev: developer}
    ci:
      jobs:
        - {name: x, only: [main]}
"#;

const LIST_KEYS: &[&str] = &[
    "created_at",
    "id",
    "iid",
    "name",
    "project_id",
    "ref",
    "sha",
    "source",
    "status",
    "updated_at",
    "web_url",
];

/// The `Pipeline` entity (create, retry, cancel): no `name`; `archived` since 18.0.
const PIPELINE_KEYS: &[&str] = &[
    "archived",
    "before_sha",
    "committed_at",
    "coverage",
    "created_at",
    "detailed_status",
    "duration",
    "finished_at",
    "id",
    "iid",
    "project_id",
    "queued_duration",
    "ref",
    "sha",
    "source",
    "started_at",
    "status",
    "tag",
    "updated_at",
    "user",
    "web_url",
    "yaml_errors",
];

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = k.iter().map(|s| (*s).to_owned()).collect();
    k.sort();
    k
}

fn with_metadata_keys() -> Vec<String> {
    let mut k: Vec<&str> = PIPELINE_KEYS.to_vec();
    k.push("name");
    sorted(&k)
}

/// Ids of `GET /projects/{project}/pipelines{query}` as root (200 asserted).
async fn list_ids(s: &TestServer, project: u64, query: &str) -> Vec<u64> {
    let r = s
        .get(
            &format!("/projects/{project}/pipelines{query}"),
            Some("tok-root"),
        )
        .await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.ids()
}

/// `(id, name, status)` of a pipeline's jobs, newest first.
async fn pipeline_jobs(s: &TestServer, pipeline: u64, query: &str) -> Vec<(u64, String, String)> {
    let r = s
        .get(
            &format!("/projects/1/pipelines/{pipeline}/jobs?per_page=100{query}"),
            Some("tok-root"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
        .as_array()
        .expect("array")
        .iter()
        .map(|j| {
            (
                j["id"].as_u64().expect("id"),
                j["name"].as_str().expect("name").to_owned(),
                j["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

/// `name → status` of a pipeline's latest jobs.
async fn job_statuses(s: &TestServer, pipeline: u64) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pipeline_jobs(s, pipeline, "")
        .await
        .into_iter()
        .map(|(_, n, st)| (n, st))
        .collect();
    v.sort();
    v
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = p
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    v.sort();
    v
}

async fn get_pipeline(s: &TestServer, project: u64, id: u64) -> Value {
    let r = s
        .get(
            &format!("/projects/{project}/pipelines/{id}"),
            Some("tok-root"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

async fn pipeline_status(s: &TestServer, id: u64) -> String {
    get_pipeline(s, 1, id).await["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

async fn job_status(s: &TestServer, id: u64) -> String {
    let r = s
        .get(&format!("/projects/1/jobs/{id}"), Some("tok-root"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["status"].as_str().expect("status").to_owned()
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/pipelines
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_is_newest_first_with_exact_keys_and_full_headers() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/pipelines", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.ids(), vec![287, 61, 48, 47, 46, 6, 2]);
    for item in r.json().as_array().unwrap() {
        assert_eq!(keys(item), sorted(LIST_KEYS), "{item}");
    }
    assert_eq!(
        r.json()[0],
        json!({
            "id": 287,
            "iid": 144,
            "project_id": 1,
            "sha": "50f0acb76a40e34a4ff304f7347dcc6587da8a14",
            "ref": "main",
            "status": "success",
            "source": "push",
            "created_at": "2022-09-21T01:05:07.200Z",
            "updated_at": "2022-09-21T01:05:50.185Z",
            "web_url": "https://example.com/foo/bar/-/pipelines/287",
            "name": "Build pipeline"
        })
    );
    // A pipeline without a name still has the key.
    assert_eq!(r.json()[1]["name"], json!(null));
    assert_eq!(r.header("x-total"), Some("7"));
    assert_eq!(r.header("x-total-pages"), Some("1"));
    assert_eq!(r.header("x-page"), Some("1"));
    assert_eq!(r.header("x-per-page"), Some("20"));
    assert_eq!(r.header("x-next-page"), Some(""));
    assert_eq!(r.header("x-prev-page"), Some(""));
    let one = format!(
        "{}/api/v4/projects/1/pipelines?id=1&order_by=id&page=1&per_page=20&sort=desc",
        s.url
    );
    assert_eq!(
        r.header("link"),
        Some(format!("<{one}>; rel=\"first\", <{one}>; rel=\"last\"").as_str())
    );
    assert_eq!(r.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn list_offset_pagination_headers_and_links() {
    let s = TestServer::with_yaml(LIST).await;
    let r = s
        .get("/projects/1/pipelines?per_page=3&page=2", Some("tok-root"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![17, 16, 15]);
    assert_eq!(r.header("x-total"), Some("10"));
    assert_eq!(r.header("x-total-pages"), Some("4"));
    assert_eq!(r.header("x-page"), Some("2"));
    assert_eq!(r.header("x-per-page"), Some("3"));
    assert_eq!(r.header("x-next-page"), Some("3"));
    assert_eq!(r.header("x-prev-page"), Some("1"));
    let page = |n: u32| {
        format!(
            "{}/api/v4/projects/1/pipelines?id=1&order_by=id&page={n}&per_page=3&sort=desc",
            s.url
        )
    };
    assert_eq!(
        r.header("link").unwrap(),
        format!(
            "<{}>; rel=\"prev\", <{}>; rel=\"next\", <{}>; rel=\"first\", <{}>; rel=\"last\"",
            page(1),
            page(3),
            page(1),
            page(4)
        )
    );
    // Following rel="next" visits every pipeline once.
    let mut url = format!("{}/api/v4/projects/1/pipelines?per_page=3", s.url);
    let mut seen = Vec::new();
    loop {
        let r = s.get(&url, Some("tok-root")).await;
        seen.extend(r.ids());
        match r.next_link() {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(seen, vec![20, 19, 18, 17, 16, 15, 14, 12, 11, 10]);
    // The last page has no next; past the end: empty, no next and no prev.
    let r = s
        .get("/projects/1/pipelines?per_page=3&page=4", Some("tok-root"))
        .await;
    assert_eq!(r.ids(), vec![10]);
    assert_eq!(r.header("x-next-page"), Some(""));
    assert_eq!(r.header("x-prev-page"), Some("3"));
    let r = s
        .get("/projects/1/pipelines?per_page=3&page=9", Some("tok-root"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.ids(), Vec::<u64>::new());
    assert_eq!(r.header("x-total"), Some("10"));
    assert_eq!(r.header("x-next-page"), Some(""));
    assert_eq!(r.header("x-prev-page"), Some(""));
    // per_page is capped at 100; 0 is rejected.
    let r = s
        .get("/projects/1/pipelines?per_page=1000", Some("tok-root"))
        .await;
    assert_eq!(r.header("x-per-page"), Some("100"));
    let r = s
        .get("/projects/1/pipelines?per_page=0", Some("tok-root"))
        .await;
    r.assert(400, json!({"error": "per_page has a value not allowed"}));
}

#[tokio::test]
async fn list_link_keeps_filters_path_and_order() {
    let s = TestServer::with_yaml(LIST).await;
    let r = s
        .get(
            "/projects/group%2Fproject/pipelines?status=canceled&order_by=updated_at&sort=asc&per_page=1",
            Some("tok-root"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![15]);
    assert_eq!(r.header("x-total"), Some("2"));
    assert_eq!(r.header("x-total-pages"), Some("2"));
    let page = |n: u32| {
        format!(
            "{}/api/v4/projects/group%2Fproject/pipelines?id=group%2Fproject&order_by=updated_at&page={n}&per_page=1&sort=asc&status=canceled",
            s.url
        )
    };
    assert_eq!(
        r.header("link").unwrap(),
        format!(
            "<{}>; rel=\"next\", <{}>; rel=\"first\", <{}>; rel=\"last\"",
            page(2),
            page(1),
            page(2)
        )
    );
    let next = s.get(&r.next_link().unwrap(), Some("tok-root")).await;
    assert_eq!(next.ids(), vec![16]);
}

#[tokio::test]
async fn list_scopes() {
    let s = TestServer::with_yaml(LIST).await;
    assert_eq!(list_ids(&s, 1, "?scope=running").await, vec![12]);
    assert_eq!(list_ids(&s, 1, "?scope=pending").await, vec![19, 14]);
    assert_eq!(
        list_ids(&s, 1, "?scope=finished").await,
        vec![20, 17, 16, 15, 11, 10]
    );
    // The newest pipeline of each existing branch (not `gone`; `empty` has none) …
    assert_eq!(list_ids(&s, 1, "?scope=branches").await, vec![19, 16]);
    // … and of each existing tag (not the deleted v0.9).
    assert_eq!(list_ids(&s, 1, "?scope=tags").await, vec![20, 15]);
    // Scopes combine with other filters and orders.
    assert_eq!(
        list_ids(&s, 1, "?scope=finished&ref=feature").await,
        vec![16, 11]
    );
    assert_eq!(
        list_ids(&s, 1, "?scope=branches&sort=asc").await,
        vec![16, 19]
    );
}

#[tokio::test]
async fn list_status_and_source_filters_hide_child_pipelines() {
    let s = TestServer::with_yaml(LIST).await;
    assert_eq!(list_ids(&s, 1, "?status=canceled").await, vec![16, 15]);
    assert_eq!(list_ids(&s, 1, "?status=skipped").await, vec![18]);
    // The child pipeline 13 is running too, but is not listed without source.
    assert_eq!(list_ids(&s, 1, "?status=running").await, vec![12]);
    assert_eq!(list_ids(&s, 1, "?status=manual").await, Vec::<u64>::new());
    assert_eq!(list_ids(&s, 1, "?source=schedule").await, vec![16, 15]);
    assert_eq!(list_ids(&s, 1, "?source=web").await, vec![12]);
    assert_eq!(list_ids(&s, 1, "?source=api").await, vec![19]);
    assert_eq!(
        list_ids(&s, 1, "?source=push").await,
        vec![20, 18, 17, 14, 11, 10]
    );
    assert_eq!(list_ids(&s, 1, "?source=trigger").await, Vec::<u64>::new());
    // Only source=parent_pipeline lists child pipelines.
    let r = s
        .get(
            "/projects/1/pipelines?source=parent_pipeline",
            Some("tok-root"),
        )
        .await;
    assert_eq!(r.ids(), vec![13]);
    assert_eq!(r.json()[0]["source"], "parent_pipeline");
    assert_eq!(r.header("x-total"), Some("1"));
    // The child is still a pipeline of the project.
    assert_eq!(get_pipeline(&s, 1, 13).await["source"], "parent_pipeline");
}

#[tokio::test]
async fn list_ref_sha_and_name_filters() {
    let s = TestServer::with_yaml(LIST).await;
    assert_eq!(list_ids(&s, 1, "?ref=main").await, vec![19, 12, 10]);
    assert_eq!(list_ids(&s, 1, "?ref=v1.0").await, vec![15, 14]);
    assert_eq!(list_ids(&s, 1, "?ref=gone").await, vec![17]);
    assert_eq!(list_ids(&s, 1, "?ref=nope").await, Vec::<u64>::new());
    assert_eq!(
        list_ids(&s, 1, "?sha=2222222222222222222222222222222222222222").await,
        vec![16, 11]
    );
    assert_eq!(
        list_ids(&s, 1, "?sha=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").await,
        vec![10]
    );
    assert_eq!(
        list_ids(
            &s,
            1,
            "?ref=main&sha=1111111111111111111111111111111111111111"
        )
        .await,
        vec![19, 12]
    );
    assert_eq!(list_ids(&s, 1, "?sha=0000").await, Vec::<u64>::new());
    assert_eq!(list_ids(&s, 1, "?name=nightly").await, vec![10]);
    assert_eq!(list_ids(&s, 1, "?name=release").await, vec![14]);
    assert_eq!(list_ids(&s, 1, "?name=Nightly").await, Vec::<u64>::new());
}

#[tokio::test]
async fn list_yaml_errors_filter() {
    let s = TestServer::with_yaml(LIST).await;
    assert_eq!(list_ids(&s, 1, "?yaml_errors=true").await, vec![11]);
    assert_eq!(list_ids(&s, 1, "?yaml_errors=True").await, vec![11]);
    assert_eq!(list_ids(&s, 1, "?yaml_errors=1").await, vec![11]);
    assert_eq!(
        list_ids(&s, 1, "?yaml_errors=false").await,
        vec![20, 19, 18, 17, 16, 15, 14, 12, 10]
    );
    let r = s
        .get("/projects/1/pipelines?yaml_errors=maybe", Some("tok-root"))
        .await;
    r.assert(400, json!({"error": "yaml_errors is invalid"}));
}

#[tokio::test]
async fn list_username_filter() {
    let s = TestServer::with_yaml(LIST).await;
    assert_eq!(list_ids(&s, 1, "?username=dev").await, vec![16, 12, 11]);
    assert_eq!(
        list_ids(&s, 1, "?username=root").await,
        vec![20, 19, 18, 17, 15, 14, 10]
    );
    assert_eq!(list_ids(&s, 1, "?username=maint").await, Vec::<u64>::new());
    // An unknown user: an empty list, not an error.
    let r = s
        .get("/projects/1/pipelines?username=nobody", Some("tok-root"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([]));
    assert_eq!(r.header("x-total"), Some("0"));
    assert_eq!(r.header("x-total-pages"), Some("1"));
}

#[tokio::test]
async fn list_updated_filters_are_inclusive() {
    let s = TestServer::with_yaml(LIST).await;
    assert_eq!(
        list_ids(&s, 1, "?updated_after=2024-05-10T10:10:00.000Z").await,
        vec![20, 19]
    );
    assert_eq!(
        list_ids(&s, 1, "?updated_before=2024-05-02T10:10:00Z").await,
        vec![11, 10]
    );
    assert_eq!(
        list_ids(
            &s,
            1,
            "?updated_after=2024-05-02T10:10:00Z&updated_before=2024-05-03T10:10:00Z"
        )
        .await,
        vec![12, 11]
    );
    // One second past: excluded.
    assert_eq!(
        list_ids(&s, 1, "?updated_after=2024-05-10T10:10:01Z").await,
        vec![20]
    );
    // before < after: nothing.
    assert_eq!(
        list_ids(
            &s,
            1,
            "?updated_after=2024-05-05T00:00:00Z&updated_before=2024-05-04T00:00:00Z"
        )
        .await,
        Vec::<u64>::new()
    );
    let r = s
        .get(
            "/projects/1/pipelines?updated_after=yesterday",
            Some("tok-root"),
        )
        .await;
    r.assert(400, json!({"error": "updated_after is invalid"}));
    let r = s
        .get(
            "/projects/1/pipelines?updated_before=2024-13-45",
            Some("tok-root"),
        )
        .await;
    r.assert(400, json!({"error": "updated_before is invalid"}));
}

#[tokio::test]
async fn list_created_filters_are_exclusive() {
    let s = TestServer::with_yaml(LIST).await;
    assert_eq!(
        list_ids(&s, 1, "?created_after=2024-05-10T10:00:00.000Z").await,
        vec![20]
    );
    assert_eq!(
        list_ids(&s, 1, "?created_before=2024-05-02T10:00:00Z").await,
        vec![10]
    );
    assert_eq!(
        list_ids(
            &s,
            1,
            "?created_after=2024-05-01T10:00:00Z&created_before=2024-05-05T10:00:00Z"
        )
        .await,
        vec![12, 11]
    );
    assert_eq!(
        list_ids(&s, 1, "?created_after=2024-05-10T09:59:59Z").await,
        vec![20, 19]
    );
    let r = s
        .get("/projects/1/pipelines?created_after=soon", Some("tok-root"))
        .await;
    r.assert(400, json!({"error": "created_after is invalid"}));
}

#[tokio::test]
async fn list_order_by_and_sort() {
    let s = TestServer::with_yaml(LIST).await;
    let cases: &[(&str, &[u64])] = &[
        ("", &[34, 33, 32, 31]),
        ("?sort=asc", &[31, 32, 33, 34]),
        ("?order_by=id&sort=desc", &[34, 33, 32, 31]),
        ("?order_by=id&sort=asc", &[31, 32, 33, 34]),
        // canceled < failed < running < success
        ("?order_by=status&sort=asc", &[34, 32, 33, 31]),
        ("?order_by=status&sort=desc", &[31, 33, 32, 34]),
        ("?order_by=status", &[31, 33, 32, 34]),
        // a < b < c < d
        ("?order_by=ref&sort=asc", &[32, 34, 31, 33]),
        ("?order_by=ref&sort=desc", &[33, 31, 34, 32]),
        ("?order_by=updated_at&sort=asc", &[33, 31, 34, 32]),
        ("?order_by=updated_at&sort=desc", &[32, 34, 31, 33]),
        // root 1, dev 2, rep 3, maint 4
        ("?order_by=user_id&sort=asc", &[33, 31, 32, 34]),
        ("?order_by=user_id&sort=desc", &[34, 32, 31, 33]),
    ];
    for (q, expected) in cases {
        assert_eq!(&list_ids(&s, 2, q).await, expected, "{q}");
    }
}

#[tokio::test]
async fn list_invalid_values_are_400_with_grapes_bodies() {
    let s = TestServer::with_yaml(LIST).await;
    let cases = [
        ("scope=all", "scope does not have a valid value"),
        ("scope=success", "scope does not have a valid value"),
        ("status=bogus", "status does not have a valid value"),
        ("source=bogus", "source does not have a valid value"),
        ("order_by=name", "order_by does not have a valid value"),
        (
            "order_by=created_at",
            "order_by does not have a valid value",
        ),
        ("sort=up", "sort does not have a valid value"),
        ("yaml_errors=maybe", "yaml_errors is invalid"),
        ("updated_after=x", "updated_after is invalid"),
        ("created_before=x", "created_before is invalid"),
        (
            "scope=x&sort=y",
            "scope does not have a valid value, sort does not have a valid value",
        ),
    ];
    for (q, msg) in cases {
        let r = s
            .get(&format!("/projects/1/pipelines?{q}"), Some("tok-root"))
            .await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert_eq!(r.json(), json!({ "error": msg }), "{q}");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn list_needs_a_reader_of_the_project() {
    let s = TestServer::default_scenario().await;
    // Pipelines GETs may be anonymous, but a private project is not visible.
    let r = s.get("/projects/1/pipelines", None).await;
    r.assert(404, json!({"message": "404 Project Not Found"}));
    let r = s.get("/projects/999/pipelines", Some(ROOT)).await;
    r.assert(404, json!({"message": "404 Project Not Found"}));
    let r = s.get("/projects/1/pipelines", Some(REPORTER)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.ids().len(), 7);
    let r = s
        .get("/projects/foo%2Fbar/pipelines", Some(DEVELOPER))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.ids().len(), 7);
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/pipelines/:pipeline_id
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn get_pipeline_with_metadata() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/pipelines/46", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let p = r.json();
    assert_eq!(keys(&p), with_metadata_keys());
    assert_eq!(p["id"], 46);
    assert_eq!(p["iid"], 11);
    assert_eq!(p["project_id"], 1);
    assert_eq!(p["name"], "Build pipeline");
    assert_eq!(p["ref"], "main");
    assert_eq!(p["sha"], "a91957a858320c0e17f3a0eca7cfacbff50ea29a");
    assert_eq!(p["before_sha"], "a91957a858320c0e17f3a0eca7cfacbff50ea29a");
    assert_eq!(p["tag"], false);
    assert_eq!(p["yaml_errors"], json!(null));
    assert_eq!(p["status"], "success");
    assert_eq!(p["source"], "push");
    // Coverage is a string with two decimals.
    assert_eq!(p["coverage"], "30.00");
    assert_eq!(p["created_at"], "2016-08-11T11:28:34.085Z");
    assert_eq!(p["updated_at"], "2016-08-11T11:32:35.169Z");
    assert_eq!(p["finished_at"], "2016-08-11T11:32:35.145Z");
    assert_eq!(p["started_at"], json!(null));
    assert_eq!(p["committed_at"], json!(null));
    assert_eq!(p["web_url"], "https://example.com/foo/bar/-/pipelines/46");
    assert_eq!(p["user"]["id"], 1);
    assert_eq!(p["user"]["username"], "root");
    let ds = &p["detailed_status"];
    assert_eq!(
        keys(ds),
        sorted(&[
            "details_path",
            "favicon",
            "group",
            "has_details",
            "icon",
            "illustration",
            "label",
            "text",
            "tooltip"
        ])
    );
    assert_eq!(ds["icon"], "status_success");
    assert_eq!(ds["text"], "Passed");
    assert_eq!(ds["label"], "passed");
    assert_eq!(ds["group"], "success");
    assert_eq!(ds["details_path"], "/foo/bar/-/pipelines/46");
    assert_eq!(
        ds["favicon"],
        "/assets/ci_favicons/favicon_status_success.png"
    );
    // Durations are whole seconds: 287 ran from 01:05:14.197 to 01:05:50.175.
    let p = s.get("/projects/1/pipelines/287", Some(ROOT)).await.json();
    assert_eq!(p["duration"], 36);
    assert_eq!(p["queued_duration"], 7);
    assert_eq!(p["coverage"], json!(null));
    // A pipeline without a name has the key, null.
    let p = s.get("/projects/1/pipelines/6", Some(ROOT)).await.json();
    assert_eq!(keys(&p), with_metadata_keys());
    assert_eq!(p["name"], json!(null));
    assert_eq!(p["status"], "pending");
    // Readable by a reporter.
    let r = s.get("/projects/1/pipelines/46", Some(REPORTER)).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn get_pipeline_not_found() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/pipelines/999", Some(ROOT)).await;
    r.assert(404, json!({"message": "404 Not found"}));
    // Pipeline 5 exists, in project 2.
    let r = s.get("/projects/2/pipelines/5", Some(ROOT)).await;
    assert_eq!(r.status, 200);
    let r = s.get("/projects/1/pipelines/5", Some(ROOT)).await;
    r.assert(404, json!({"message": "404 Not found"}));
    let r = s.get("/projects/1/pipelines/abc", Some(ROOT)).await;
    r.assert(400, json!({"error": "pipeline_id is invalid"}));
    let r = s.get("/projects/1/pipelines/46", None).await;
    r.assert(404, json!({"message": "404 Project Not Found"}));
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/pipelines/latest
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn latest_pipeline_of_the_default_branch_or_a_ref() {
    let s = TestServer::default_scenario().await;
    let r = s.get("/projects/1/pipelines/latest", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let p = r.json();
    assert_eq!(keys(&p), with_metadata_keys());
    assert_eq!(p["id"], 287);
    assert_eq!(p["sha"], "50f0acb76a40e34a4ff304f7347dcc6587da8a14");
    // Blank ref: the default branch.
    let r = s.get("/projects/1/pipelines/latest?ref=", Some(ROOT)).await;
    assert_eq!(r.json()["id"], 287);
    let r = s
        .get("/projects/1/pipelines/latest?ref=main", Some(ROOT))
        .await;
    assert_eq!(r.json()["id"], 287);
    // new-pipeline's head is eb94b618: pipeline 48, not 47 (older sha).
    let r = s
        .get("/projects/1/pipelines/latest?ref=new-pipeline", Some(ROOT))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], 48);
    assert_eq!(r.json()["name"], "Build pipeline");
    // Unknown ref: 403, not 404.
    let r = s
        .get("/projects/1/pipelines/latest?ref=nope", Some(ROOT))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
}

#[tokio::test]
async fn latest_is_403_without_a_pipeline_at_the_head() {
    let s = TestServer::with_yaml(LIST).await;
    let r = s
        .get("/projects/1/pipelines/latest", Some("tok-root"))
        .await;
    assert_eq!(r.json()["id"], 19);
    let r = s
        .get("/projects/1/pipelines/latest?ref=feature", Some("tok-root"))
        .await;
    assert_eq!(r.json()["id"], 16);
    let r = s
        .get("/projects/1/pipelines/latest?ref=v1.0", Some("tok-root"))
        .await;
    assert_eq!(r.json()["id"], 15);
    // A branch with no pipeline at all, and a deleted branch that has pipelines.
    for q in ["?ref=empty", "?ref=gone", "?ref=v0.9"] {
        let r = s
            .get(
                &format!("/projects/1/pipelines/latest{q}"),
                Some("tok-root"),
            )
            .await;
        r.assert(403, json!({"message": "403 Forbidden"}));
    }
}

#[tokio::test]
async fn latest_is_403_when_the_head_moved_past_the_pipelines() {
    // main's head has no pipeline: the older ones do not count.
    let s = TestServer::with_yaml(
        r#"
users: [{id: 1, username: root, tokens: [tok-root]}]
projects:
  - id: 1
    path: group/project
    branches: {main: "1111111111111111111111111111111111111111"}
    members: {root: owner}
    pipelines:
      - {id: 1, ref: main, sha: "0000000000000000000000000000000000000001", status: success}
"#,
    )
    .await;
    let r = s
        .get("/projects/1/pipelines/latest", Some("tok-root"))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s.get("/projects/1/pipelines/1", Some("tok-root")).await;
    assert_eq!(r.status, 200);
}

// ---------------------------------------------------------------------------------------
// GET …/variables
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn variables_for_maintainers_only_by_default() {
    let s = TestServer::default_scenario().await;
    let r = s
        .get("/projects/1/pipelines/46/variables", Some(ROOT))
        .await;
    r.assert(
        200,
        json!([
            {"variable_type": "env_var", "key": "RUN_NIGHTLY_BUILD", "value": "true", "raw": false},
            {"variable_type": "env_var", "key": "foo", "value": "bar", "raw": false}
        ]),
    );
    // Not paginated.
    assert_eq!(r.header("x-total"), None);
    // A developer who did not trigger the pipeline, and a reporter: 403.
    let r = s
        .get("/projects/1/pipelines/46/variables", Some(DEVELOPER))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s
        .get("/projects/1/pipelines/46/variables", Some(REPORTER))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    // None: [].
    let r = s.get("/projects/1/pipelines/6/variables", Some(ROOT)).await;
    r.assert(200, json!([]));
    let r = s
        .get("/projects/1/pipelines/999/variables", Some(ROOT))
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
}

#[tokio::test]
async fn variables_for_the_developer_who_triggered() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let expected = json!([
        {"variable_type": "env_var", "key": "A", "value": "1", "raw": false},
        {"variable_type": "file", "key": "CERT", "value": "pem", "raw": false}
    ]);
    for tok in ["tok-dev", "tok-maint", "tok-root"] {
        let r = s.get("/projects/1/pipelines/10/variables", Some(tok)).await;
        r.assert(200, expected.clone());
    }
    let r = s
        .get("/projects/1/pipelines/10/variables", Some("tok-rep"))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    // The same developer on a pipeline root triggered.
    let r = s
        .get("/projects/1/pipelines/1/variables", Some("tok-dev"))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s
        .get("/projects/1/pipelines/1/variables", Some("tok-maint"))
        .await;
    r.assert(200, json!([]));
}

// ---------------------------------------------------------------------------------------
// GET …/test_report and …/test_report_summary
// ---------------------------------------------------------------------------------------

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The summary's totals and per-suite counts equal the full report's.
fn assert_report_matches_summary(report: &Value, summary: &Value) {
    let t = &summary["total"];
    assert_eq!(f(&t["time"]), f(&report["total_time"]));
    assert_eq!(t["count"], report["total_count"]);
    assert_eq!(t["success"], report["success_count"]);
    assert_eq!(t["failed"], report["failed_count"]);
    assert_eq!(t["skipped"], report["skipped_count"]);
    assert_eq!(t["error"], report["error_count"]);
    let suites = report["test_suites"].as_array().unwrap();
    let sums = summary["test_suites"].as_array().unwrap();
    assert_eq!(suites.len(), sums.len());
    for (a, b) in suites.iter().zip(sums) {
        assert_eq!(a["name"], b["name"]);
        for k in [
            "total_count",
            "success_count",
            "failed_count",
            "skipped_count",
            "error_count",
            "suite_error",
        ] {
            assert_eq!(a[k], b[k], "{k} of suite {}", a["name"]);
        }
        assert_eq!(f(&a["total_time"]), f(&b["total_time"]));
    }
}

#[tokio::test]
async fn test_report_and_summary_agree() {
    let s = TestServer::default_scenario().await;
    let r = s
        .get("/projects/1/pipelines/46/test_report", Some(ROOT))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let report = r.json();
    assert_eq!(
        keys(&report),
        sorted(&[
            "error_count",
            "failed_count",
            "skipped_count",
            "success_count",
            "test_suites",
            "total_count",
            "total_time"
        ])
    );
    assert_eq!(f(&report["total_time"]), 5.0);
    assert_eq!(report["total_count"], 1);
    assert_eq!(report["success_count"], 1);
    assert_eq!(report["failed_count"], 0);
    let suite = &report["test_suites"][0];
    assert_eq!(suite["name"], "Secure");
    assert_eq!(suite["suite_error"], json!(null));
    let case = &suite["test_cases"][0];
    assert_eq!(case["status"], "success");
    assert_eq!(
        case["name"],
        "Security Reports can create an auto-remediation MR"
    );
    assert_eq!(case["classname"], "vulnerability_management_spec");
    assert_eq!(f(&case["execution_time"]), 5.0);
    assert_eq!(case["system_output"], json!(null));
    assert_eq!(case["stack_trace"], json!(null));

    let r = s
        .get(
            "/projects/1/pipelines/46/test_report_summary",
            Some(REPORTER),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let summary = r.json();
    assert_eq!(keys(&summary), sorted(&["test_suites", "total"]));
    assert_eq!(
        keys(&summary["total"]),
        sorted(&[
            "count",
            "error",
            "failed",
            "skipped",
            "success",
            "suite_error",
            "time"
        ])
    );
    assert_eq!(
        keys(&summary["test_suites"][0]),
        sorted(&[
            "build_ids",
            "error_count",
            "failed_count",
            "name",
            "skipped_count",
            "success_count",
            "suite_error",
            "total_count",
            "total_time"
        ])
    );
    assert_report_matches_summary(&report, &summary);
    // Missing pipeline.
    let r = s
        .get("/projects/1/pipelines/999/test_report", Some(ROOT))
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
}

#[tokio::test]
async fn test_report_of_a_pipeline_without_reports_is_empty() {
    let s = TestServer::default_scenario().await;
    let r = s
        .get("/projects/1/pipelines/6/test_report", Some(ROOT))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let report = r.json();
    for k in [
        "total_count",
        "success_count",
        "failed_count",
        "skipped_count",
        "error_count",
    ] {
        assert_eq!(report[k], 0, "{k}");
    }
    assert_eq!(f(&report["total_time"]), 0.0);
    assert_eq!(report["test_suites"], json!([]));
    let r = s
        .get("/projects/1/pipelines/6/test_report_summary", Some(ROOT))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let summary = r.json();
    assert_eq!(summary["total"]["count"], 0);
    assert_eq!(summary["total"]["success"], 0);
    assert_eq!(summary["total"]["failed"], 0);
    assert_eq!(f(&summary["total"]["time"]), 0.0);
    assert_eq!(summary["test_suites"], json!([]));
}

#[tokio::test]
async fn test_report_suite_with_error_has_no_cases() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .get("/projects/1/pipelines/4/test_report", Some("tok-rep"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let report = r.json();
    let broken = &report["test_suites"][0];
    assert_eq!(broken["name"], "broken");
    assert_eq!(broken["suite_error"], "JUnit XML parsing failed");
    for k in [
        "total_count",
        "success_count",
        "failed_count",
        "skipped_count",
        "error_count",
    ] {
        assert_eq!(broken[k], 0, "{k}");
    }
    assert_eq!(broken["test_cases"], json!([]));
    let unit = &report["test_suites"][1];
    assert_eq!(unit["name"], "unit");
    assert_eq!(unit["suite_error"], json!(null));
    assert_eq!(unit["total_count"], 3);
    assert_eq!(unit["success_count"], 1);
    assert_eq!(unit["failed_count"], 1);
    assert_eq!(unit["skipped_count"], 1);
    assert_eq!(unit["error_count"], 0);
    assert_eq!(f(&unit["total_time"]), 0.75);
    let mut names: Vec<&str> = unit["test_cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, vec!["f1", "k1", "s1"]);
    // Totals count only the readable suite.
    assert_eq!(report["total_count"], 3);
    assert_eq!(report["success_count"], 1);
    assert_eq!(report["failed_count"], 1);
    assert_eq!(report["skipped_count"], 1);

    let r = s
        .get(
            "/projects/1/pipelines/4/test_report_summary",
            Some("tok-rep"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let summary = r.json();
    assert_eq!(
        summary["test_suites"][0]["suite_error"],
        "JUnit XML parsing failed"
    );
    assert_eq!(summary["test_suites"][0]["total_count"], 0);
    assert_eq!(summary["total"]["count"], 3);
    assert_report_matches_summary(&report, &summary);
}

// ---------------------------------------------------------------------------------------
// POST /projects/:id/pipeline
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_rejects_bad_requests_and_keeps_nothing() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let before = list_ids(&s, 1, "?per_page=100").await;
    let r = s.post("/projects/1/pipeline", Some("tok-dev")).await;
    r.assert(400, json!({"error": "ref is missing"}));
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-dev"),
            json!({"variables": []}),
        )
        .await;
    r.assert(400, json!({"error": "ref is missing"}));
    let r = s
        .post("/projects/1/pipeline?ref=nope", Some("tok-dev"))
        .await;
    r.assert(400, json!({"message": {"base": ["Reference not found"]}}));
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-dev"),
            json!({"ref": "nope"}),
        )
        .await;
    r.assert(400, json!({"message": {"base": ["Reference not found"]}}));
    // Every job is `only: [main]`.
    let r = s
        .post("/projects/2/pipeline?ref=other", Some("tok-dev"))
        .await;
    r.assert(
        400,
        json!({"message": {"base": ["No stages / jobs for this pipeline."]}}),
    );
    // Failed creations are not persisted.
    assert_eq!(list_ids(&s, 1, "?per_page=100").await, before);
    assert_eq!(list_ids(&s, 2, "").await, Vec::<u64>::new());
    // The POST route is singular: …/pipelines is GET only.
    let r = s
        .post("/projects/1/pipelines?ref=main", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 405, "{}", r.text);
}

#[tokio::test]
async fn create_without_ci_config() {
    // Project 2 of the default scenario has no `ci:` (project 1 has one).
    let s = TestServer::default_scenario().await;
    let r = s.post("/projects/2/pipeline?ref=main", Some(ROOT)).await;
    r.assert(
        400,
        json!({"message": {"base": ["Missing CI config file"]}}),
    );
    assert_eq!(
        s.get("/projects/2/pipelines", Some(ROOT)).await.ids().len(),
        1
    );
}

#[tokio::test]
async fn create_needs_a_developer() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s.post("/projects/1/pipeline?ref=main", None).await;
    r.assert(401, json!({"message": "401 Unauthorized"}));
    // 401 comes before parameter validation.
    let r = s.post("/projects/1/pipeline", None).await;
    r.assert(401, json!({"message": "401 Unauthorized"}));
    let r = s
        .post("/projects/1/pipeline?ref=main", Some("tok-rep"))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s.post("/projects/1/pipeline?ref=main", Some("bogus")).await;
    r.assert(401, json!({"message": "401 Unauthorized"}));
    let r = s
        .post("/projects/999/pipeline?ref=main", Some("tok-dev"))
        .await;
    r.assert(404, json!({"message": "404 Project Not Found"}));
    assert_eq!(list_ids(&s, 1, "?per_page=100").await.len(), 11);
}

#[tokio::test]
async fn create_runs_the_ci_definition() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .post("/projects/1/pipeline?ref=main", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let p = r.json();
    // The `Pipeline` entity: no `name`, never `variables`.
    assert_eq!(keys(&p), sorted(PIPELINE_KEYS));
    let id = p["id"].as_u64().unwrap();
    assert!(id > 12, "a new global id: {id}");
    assert_eq!(p["project_id"], 1);
    assert_eq!(p["source"], "api");
    assert_eq!(p["ref"], "main");
    assert_eq!(p["sha"], "1111111111111111111111111111111111111111");
    assert_eq!(p["tag"], false);
    assert_eq!(p["status"], "pending");
    assert_eq!(p["yaml_errors"], json!(null));
    assert_eq!(p["user"]["username"], "dev");
    assert_eq!(p["user"]["id"], 2);
    assert_eq!(p["coverage"], json!(null));
    assert_eq!(p["detailed_status"]["group"], "pending");
    assert_eq!(p["iid"], 13, "the project's next iid");
    // Created now (the frozen clock), not started yet.
    assert_eq!(p["created_at"], "2024-06-01T12:00:00.000Z");
    assert_eq!(p["updated_at"], "2024-06-01T12:00:00.000Z");
    assert_eq!(p["started_at"], json!(null));
    assert_eq!(p["finished_at"], json!(null));
    assert_eq!(p["duration"], json!(null));
    assert_eq!(p["before_sha"], "0000000000000000000000000000000000000000");
    assert_eq!(
        p["web_url"],
        format!("https://gitlab.test/group/project/-/pipelines/{id}")
    );

    // Stage by stage: first-stage jobs pending, later ones created, manual ones manual.
    let jobs = pipeline_jobs(&s, id, "").await;
    assert_eq!(jobs.len(), 5, "{jobs:?}");
    let by_name = |n: &str| {
        jobs.iter()
            .find(|j| j.1 == n)
            .unwrap_or_else(|| panic!("no job {n}: {jobs:?}"))
            .2
            .clone()
    };
    assert_eq!(by_name("compile"), "pending");
    assert_eq!(by_name("approve"), "manual");
    assert_eq!(by_name("rspec"), "created");
    assert_eq!(by_name("docs"), "created");
    let job = s
        .get(&format!("/projects/1/jobs/{}", jobs[0].0), Some("tok-root"))
        .await
        .json();
    assert_eq!(job["pipeline"]["id"], id);
    assert_eq!(job["user"]["username"], "dev");

    // Read back: listed first, with metadata (name null), and latest for main.
    assert_eq!(list_ids(&s, 1, "").await[0], id);
    let got = get_pipeline(&s, 1, id).await;
    assert_eq!(keys(&got), with_metadata_keys());
    assert_eq!(got["name"], json!(null));
    assert_eq!(got["status"], "pending");
    let latest = s
        .get("/projects/1/pipelines/latest", Some("tok-root"))
        .await;
    assert_eq!(latest.json()["id"], id);
    assert_eq!(list_ids(&s, 1, "?source=api").await, vec![id]);
    assert_eq!(list_ids(&s, 1, "?username=dev").await, vec![id, 10]);
    // No variables given: [].
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/variables"),
            Some("tok-dev"),
        )
        .await;
    r.assert(200, json!([]));
    // A second one: the next ids.
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-root"),
            json!({"ref": "main"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["id"].as_u64().unwrap(), id + 1);
    assert_eq!(r.json()["iid"], 14);
    assert_eq!(r.json()["user"]["username"], "root");
}

/// GitLab only processes a stage once the previous stages are complete: a `when: manual`
/// job of a later stage stays `created` until then (it is `actionize`d from created when
/// its stage is reached, docs/job-states.md §2).
#[tokio::test]
async fn create_keeps_later_stage_manual_jobs_created() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .post("/projects/1/pipeline?ref=main", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().unwrap();
    let jobs = pipeline_jobs(&s, id, "").await;
    let deploy = jobs.iter().find(|j| j.1 == "deploy").expect("deploy job");
    assert_eq!(deploy.2, "created");
}

#[tokio::test]
async fn create_takes_variables_from_json() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-dev"),
            json!({"ref": "main", "variables": [
                {"key": "A", "value": "1"},
                {"key": "KUBECONFIG", "value": "cfg", "variable_type": "file"}
            ]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let p = r.json();
    assert!(p.get("variables").is_none(), "{p}");
    let id = p["id"].as_u64().unwrap();
    let expected = json!([
        {"variable_type": "env_var", "key": "A", "value": "1", "raw": false},
        {"variable_type": "file", "key": "KUBECONFIG", "value": "cfg", "raw": false}
    ]);
    // The developer triggered it, so may read them.
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/variables"),
            Some("tok-dev"),
        )
        .await;
    r.assert(200, expected.clone());
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/variables"),
            Some("tok-maint"),
        )
        .await;
    r.assert(200, expected);
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/variables"),
            Some("tok-rep"),
        )
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
}

#[tokio::test]
async fn create_takes_variables_from_a_rails_form() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .post_form(
            "/projects/1/pipeline",
            Some("tok-dev"),
            "ref=feature&variables%5B%5D%5Bkey%5D=K&variables%5B%5D%5Bvalue%5D=V&variables%5B%5D%5Bvariable_type%5D=file&variables[][key]=K2&variables[][value]=V2",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().unwrap();
    assert_eq!(r.json()["ref"], "feature");
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/variables"),
            Some("tok-dev"),
        )
        .await;
    r.assert(
        200,
        json!([
            {"variable_type": "file", "key": "K", "value": "V", "raw": false},
            {"variable_type": "env_var", "key": "K2", "value": "V2", "raw": false}
        ]),
    );
    // An unknown variable_type is a Grape error; nothing is created.
    let before = list_ids(&s, 1, "?per_page=100").await;
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-dev"),
            json!({"ref": "main", "variables": [{"key": "A", "value": "1", "variable_type": "secret"}]}),
        )
        .await;
    r.assert(
        400,
        json!({"error": "variables[0][variable_type] does not have a valid value"}),
    );
    assert_eq!(list_ids(&s, 1, "?per_page=100").await, before);
}

#[tokio::test]
async fn create_respects_only_refs_and_tags() {
    let s = TestServer::with_yaml(ACTIONS).await;
    // `docs` is only: [main].
    let r = s
        .post("/projects/1/pipeline?ref=feature", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let p = r.json();
    assert_eq!(p["sha"], "2222222222222222222222222222222222222222");
    assert_eq!(p["tag"], false);
    let id = p["id"].as_u64().unwrap();
    let mut names: Vec<String> = pipeline_jobs(&s, id, "")
        .await
        .into_iter()
        .map(|j| j.1)
        .collect();
    names.sort();
    assert_eq!(names, vec!["approve", "compile", "deploy", "rspec"]);
    // A tag.
    let r = s
        .post("/projects/1/pipeline?ref=v1.0", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let p = r.json();
    assert_eq!(p["tag"], true);
    assert_eq!(p["ref"], "v1.0");
    assert_eq!(p["sha"], "3333333333333333333333333333333333333333");
    let id = p["id"].as_u64().unwrap();
    assert_eq!(list_ids(&s, 1, "?scope=tags").await, vec![id]);
    // Project 2: the only job runs on main.
    let r = s
        .post("/projects/2/pipeline?ref=main", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().unwrap();
    let jobs = s
        .get(
            &format!("/projects/2/pipelines/{id}/jobs"),
            Some("tok-root"),
        )
        .await
        .json();
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    assert_eq!(jobs[0]["name"], "x");
    assert_eq!(jobs[0]["status"], "pending");
}

// ---------------------------------------------------------------------------------------
// POST …/retry
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn retry_clones_failed_and_canceled_jobs() {
    let s = TestServer::with_yaml(ACTIONS).await;
    assert_eq!(pipeline_status(&s, 1).await, "failed");
    let r = s
        .post("/projects/1/pipelines/1/retry", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let p = r.json();
    assert_eq!(keys(&p), sorted(PIPELINE_KEYS));
    assert_eq!(p["id"], 1);

    let jobs = pipeline_jobs(&s, 1, "").await;
    let ids: Vec<u64> = jobs.iter().map(|j| j.0).collect();
    // Originals 2 (failed) and 3 (canceled) are replaced by new ids.
    assert!(!ids.contains(&2) && !ids.contains(&3), "{jobs:?}");
    assert_eq!(ids.len(), 4, "{jobs:?}");
    let new: Vec<&(u64, String, String)> = jobs.iter().filter(|j| j.0 > 100).collect();
    let mut new_names: Vec<&str> = new.iter().map(|j| j.1.as_str()).collect();
    new_names.sort_unstable();
    assert_eq!(new_names, vec!["lint", "rspec"], "{jobs:?}");
    for j in &new {
        assert_eq!(j.2, "pending", "{j:?}");
    }
    assert_eq!(
        job_statuses(&s, 1).await,
        pairs(&[
            ("compile", "success"),
            ("deploy", "created"),
            ("lint", "pending"),
            ("rspec", "pending")
        ])
    );
    // With include_retried the originals are there, unchanged.
    let all = pipeline_jobs(&s, 1, "&include_retried=true").await;
    assert_eq!(all.len(), 6);
    assert!(
        all.contains(&(2, "rspec".into(), "failed".into())),
        "{all:?}"
    );
    assert!(
        all.contains(&(3, "lint".into(), "canceled".into())),
        "{all:?}"
    );
    // The new jobs belong to the caller.
    let j = s
        .get(&format!("/projects/1/jobs/{}", new[0].0), Some("tok-root"))
        .await
        .json();
    assert_eq!(j["user"]["username"], "dev");
    // {success, pending, created} → running.
    assert_eq!(pipeline_status(&s, 1).await, "running");
    assert_eq!(list_ids(&s, 1, "?scope=running").await, vec![5, 3, 2, 1]);
}

#[tokio::test]
async fn retry_of_a_single_failed_job_makes_the_pipeline_pending() {
    let s = TestServer::with_yaml(ACTIONS).await;
    assert_eq!(pipeline_status(&s, 11).await, "failed");
    let r = s
        .post("/projects/1/pipelines/11/retry", Some("tok-maint"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(pipeline_status(&s, 11).await, "pending");
    let jobs = pipeline_jobs(&s, 11, "").await;
    assert_eq!(jobs.len(), 1);
    assert_ne!(jobs[0].0, 95);
    assert_eq!(jobs[0].2, "pending");
    // Retried again: nothing failed any more, still 201, same jobs.
    let r = s
        .post("/projects/1/pipelines/11/retry", Some("tok-maint"))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(pipeline_jobs(&s, 11, "").await, jobs);
}

#[tokio::test]
async fn retry_of_a_successful_pipeline_is_a_201_no_op() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let before = pipeline_jobs(&s, 4, "&include_retried=true").await;
    let r = s
        .post("/projects/1/pipelines/4/retry", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "success");
    assert_eq!(pipeline_jobs(&s, 4, "&include_retried=true").await, before);
    assert_eq!(pipeline_status(&s, 4).await, "success");
}

#[tokio::test]
async fn retry_permissions() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .post("/projects/1/pipelines/1/retry", Some("tok-rep"))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s.post("/projects/1/pipelines/1/retry", None).await;
    r.assert(401, json!({"message": "401 Unauthorized"}));
    let r = s
        .post("/projects/1/pipelines/999/retry", Some("tok-dev"))
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
    // Nothing changed.
    assert_eq!(pipeline_status(&s, 1).await, "failed");
    assert_eq!(pipeline_jobs(&s, 1, "&include_retried=true").await.len(), 4);
}

// ---------------------------------------------------------------------------------------
// POST …/cancel
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn cancel_follows_the_runners() {
    let s = TestServer::with_yaml(ACTIONS).await;
    assert_eq!(pipeline_status(&s, 2).await, "running");
    let r = s
        .post("/projects/1/pipelines/2/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let p = r.json();
    assert_eq!(keys(&p), sorted(PIPELINE_KEYS));
    // A graceful runner is still finishing: {canceling, canceled, success} → canceling.
    assert_eq!(p["status"], "canceling");
    assert_eq!(p["detailed_status"]["group"], "canceling");
    assert_eq!(
        job_statuses(&s, 2).await,
        pairs(&[
            ("graceful", "canceling"),
            ("abrupt", "canceled"),
            ("queued", "canceled"),
            ("done", "success"),
            ("later", "canceled")
        ])
    );
    assert_eq!(pipeline_status(&s, 2).await, "canceling");
    // Canceling again changes nothing, still 200.
    let r = s
        .post("/projects/1/pipelines/2/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "canceling");
    // A maintainer force-cancels the last job: the pipeline is canceled.
    let r = s
        .post("/projects/1/jobs/10/cancel?force=true", Some("tok-maint"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "canceled");
    let p = get_pipeline(&s, 1, 2).await;
    assert_eq!(p["status"], "canceled");
    assert!(p["finished_at"].is_string(), "{p}");
    assert_eq!(list_ids(&s, 1, "?status=canceled").await, vec![2]);
}

#[tokio::test]
async fn cancel_on_non_graceful_runners_is_immediate() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .post("/projects/1/pipelines/3/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "canceled");
    assert_eq!(
        job_statuses(&s, 3).await,
        pairs(&[("abrupt", "canceled"), ("queued", "canceled")])
    );
    let p = get_pipeline(&s, 1, 3).await;
    assert_eq!(p["status"], "canceled");
    assert_eq!(p["detailed_status"]["text"], "Canceled");
}

#[tokio::test]
async fn cancel_of_a_finished_pipeline_is_200_and_changes_nothing() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let before = get_pipeline(&s, 1, 4).await;
    let r = s
        .post("/projects/1/pipelines/4/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "success");
    assert_eq!(get_pipeline(&s, 1, 4).await, before);
    assert_eq!(job_status(&s, 30).await, "success");
    // Twice canceled: still 200.
    let r = s
        .post("/projects/1/pipelines/3/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .post("/projects/1/pipelines/3/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "canceled");
}

#[tokio::test]
async fn cancel_cascades_to_child_pipelines() {
    let s = TestServer::with_yaml(ACTIONS).await;
    assert_eq!(pipeline_status(&s, 6).await, "running");
    let r = s
        .post("/projects/1/pipelines/5/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "canceled");
    assert_eq!(
        job_statuses(&s, 6).await,
        pairs(&[("child-a", "canceled"), ("child-b", "canceled")])
    );
    assert_eq!(pipeline_status(&s, 6).await, "canceled");
    let bridges = s
        .get("/projects/1/pipelines/5/bridges", Some("tok-root"))
        .await
        .json();
    assert_eq!(bridges[0]["id"], 41);
    assert_eq!(bridges[0]["status"], "canceled");
    assert_eq!(bridges[0]["downstream_pipeline"]["id"], 6);
    assert_eq!(bridges[0]["downstream_pipeline"]["status"], "canceled");
    assert_eq!(job_status(&s, 40).await, "success");
    assert_eq!(pipeline_status(&s, 5).await, "canceled");
}

/// CancelPipelineService cancels the pipeline's CANCELABLE jobs, which do not include
/// `manual` (docs/job-states.md §1 and §3): a manual job keeps waiting for its play button.
#[tokio::test]
async fn cancel_leaves_manual_jobs_alone() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .post("/projects/1/pipelines/12/cancel", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        job_statuses(&s, 12).await,
        pairs(&[("queued", "canceled"), ("optional", "manual")])
    );
    // {canceled, ignored} → canceled.
    assert_eq!(pipeline_status(&s, 12).await, "canceled");
}

#[tokio::test]
async fn cancel_permissions() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let before = get_pipeline(&s, 1, 2).await;
    let jobs_before = pipeline_jobs(&s, 2, "").await;
    let r = s
        .post("/projects/1/pipelines/2/cancel", Some("tok-rep"))
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s.post("/projects/1/pipelines/2/cancel", None).await;
    r.assert(401, json!({"message": "401 Unauthorized"}));
    let r = s
        .post("/projects/1/pipelines/999/cancel", Some("tok-dev"))
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
    assert_eq!(get_pipeline(&s, 1, 2).await, before);
    assert_eq!(pipeline_jobs(&s, 2, "").await, jobs_before);
    assert_eq!(before["status"], "running");
}

// ---------------------------------------------------------------------------------------
// DELETE …/pipelines/:id
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_removes_the_pipeline_and_its_jobs_but_not_its_child() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let jobs = s
        .get("/projects/1/jobs?per_page=100", Some("tok-root"))
        .await
        .ids();
    assert!(jobs.contains(&40) && jobs.contains(&50));
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/5",
            Some("tok-root"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.text, "");
    let r = s.get("/projects/1/pipelines/5", Some("tok-root")).await;
    r.assert(404, json!({"message": "404 Not found"}));
    let r = s
        .get("/projects/1/pipelines/5/jobs", Some("tok-root"))
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
    let r = s.get("/projects/1/jobs/40", Some("tok-root")).await;
    r.assert(404, json!({"message": "404 Not found"}));
    let jobs = s
        .get("/projects/1/jobs?per_page=100", Some("tok-root"))
        .await
        .ids();
    assert!(!jobs.contains(&40), "{jobs:?}");
    assert!(!list_ids(&s, 1, "?per_page=100").await.contains(&5));
    // The child pipeline stays, with its jobs.
    let child = get_pipeline(&s, 1, 6).await;
    assert_eq!(child["status"], "running");
    assert!(jobs.contains(&50) && jobs.contains(&51), "{jobs:?}");
    assert_eq!(list_ids(&s, 1, "?source=parent_pipeline").await, vec![6]);
    // Deleted twice: 404.
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/5",
            Some("tok-root"),
            None,
        )
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
}

#[tokio::test]
async fn delete_is_for_owners_only() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let del = |tok: Option<&'static str>| {
        s.send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/4",
            tok,
            None,
        )
    };
    del(Some("tok-dev"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    del(Some("tok-maint"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    del(Some("tok-rep"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    del(None)
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
    assert_eq!(get_pipeline(&s, 1, 4).await["status"], "success");
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/999",
            Some("tok-root"),
            None,
        )
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
    // The default scenario: root owns foo/bar.
    let d = TestServer::default_scenario().await;
    let r = d
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/46",
            Some(DEVELOPER),
            None,
        )
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = d
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/46",
            None,
            None,
        )
        .await;
    r.assert(401, json!({"message": "401 Unauthorized"}));
    let r = d
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/46",
            Some(ROOT),
            None,
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    let r = d.get("/projects/1/pipelines/46", Some(ROOT)).await;
    r.assert(404, json!({"message": "404 Not found"}));
    assert_eq!(
        d.get("/projects/1/pipelines", Some(ROOT))
            .await
            .header("x-total"),
        Some("6")
    );
}

/// `authorize! :destroy_pipeline, pipeline` evaluates the `pipeline` helper first, so a
/// missing pipeline is 404 whoever asks.
#[tokio::test]
async fn delete_of_a_missing_pipeline_is_404_before_403() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/999",
            Some("tok-dev"),
            None,
        )
        .await;
    r.assert(404, json!({"message": "404 Not found"}));
}

// ---------------------------------------------------------------------------------------
// Composite status through HTTP
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn allowed_failures_leave_the_pipeline_successful() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let p = get_pipeline(&s, 1, 7).await;
    // {success, success_with_warnings} → success, shown as passed with warnings.
    assert_eq!(p["status"], "success");
    assert_eq!(p["detailed_status"]["group"], "success-with-warnings");
    assert_eq!(p["detailed_status"]["label"], "passed with warnings");
    assert_eq!(
        list_ids(&s, 1, "?status=success&per_page=100").await,
        vec![10, 7, 4]
    );
    // Retrying the pipeline retries the allowed failure too: running again.
    let r = s
        .post("/projects/1/pipelines/7/retry", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(pipeline_status(&s, 7).await, "running");
    let new = pipeline_jobs(&s, 7, "")
        .await
        .into_iter()
        .find(|j| j.1 == "flaky")
        .unwrap();
    assert_ne!(new.0, 61);
    assert_eq!(new.2, "pending");
    // Canceling that job (allowed to fail): success again, with warnings.
    let r = s
        .post(
            &format!("/projects/1/jobs/{}/cancel", new.0),
            Some("tok-dev"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "canceled");
    let p = get_pipeline(&s, 1, 7).await;
    assert_eq!(p["status"], "success");
    assert_eq!(p["detailed_status"]["group"], "success-with-warnings");
}

#[tokio::test]
async fn playing_the_blocking_manual_job_unblocks_the_pipeline() {
    let s = TestServer::with_yaml(ACTIONS).await;
    // {success, manual} → manual.
    let p = get_pipeline(&s, 1, 8).await;
    assert_eq!(p["status"], "manual");
    assert_eq!(p["detailed_status"]["group"], "manual");
    let r = s.post("/projects/1/jobs/71/play", Some("tok-dev")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "pending");
    // {success, pending} → running.
    assert_eq!(pipeline_status(&s, 8).await, "running");

    // {manual, ignored} → manual; playing the blocking one: {pending, ignored} → pending.
    assert_eq!(pipeline_status(&s, 9).await, "manual");
    let r = s.post("/projects/1/jobs/80/play", Some("tok-dev")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(pipeline_status(&s, 9).await, "pending");
    assert_eq!(
        job_statuses(&s, 9).await,
        pairs(&[("gate", "pending"), ("optional", "manual")])
    );
    assert_eq!(list_ids(&s, 1, "?scope=pending").await, vec![12, 9]);
}

#[tokio::test]
async fn job_actions_move_the_pipeline_status() {
    let s = TestServer::with_yaml(ACTIONS).await;
    // Pipeline 3 {running, pending} → running; cancel the running job → {canceled, pending}
    // → running (pending is active); cancel the pending one → canceled.
    assert_eq!(pipeline_status(&s, 3).await, "running");
    s.post("/projects/1/jobs/20/cancel", Some("tok-dev")).await;
    assert_eq!(pipeline_status(&s, 3).await, "running");
    s.post("/projects/1/jobs/21/cancel", Some("tok-dev")).await;
    assert_eq!(pipeline_status(&s, 3).await, "canceled");
    // Retrying one of them: {canceled, pending} → running.
    let r = s.post("/projects/1/jobs/20/retry", Some("tok-dev")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(pipeline_status(&s, 3).await, "running");
    // Retrying the pipeline brings the other back too: {pending} → pending.
    let r = s
        .post("/projects/1/pipelines/3/retry", Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(pipeline_status(&s, 3).await, "pending");
}

// ---------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn created_pipelines_stay_in_their_session() {
    let s = TestServer::with_yaml(ACTIONS).await;
    let a = |path: &str| format!("{}/-/sessions/a/api/v4{path}", s.url);
    let b = |path: &str| format!("{}/-/sessions/b/api/v4{path}", s.url);
    let r = s
        .post(&a("/projects/1/pipeline?ref=main"), Some("tok-dev"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().unwrap();
    let path = format!("/projects/1/pipelines/{id}");
    // Session a sees it, with its jobs.
    let r = s.get(&a(&path), Some("tok-root")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["source"], "api");
    let r = s.get(&a("/projects/1/pipelines"), Some("tok-root")).await;
    assert_eq!(r.ids()[0], id);
    assert_eq!(r.header("x-total"), Some("12"));
    let r = s.get(&a(&format!("{path}/jobs")), Some("tok-root")).await;
    assert_eq!(r.ids().len(), 5);
    // Session b and the default session do not.
    let r = s.get(&b(&path), Some("tok-root")).await;
    r.assert(404, json!({"message": "404 Not found"}));
    let r = s.get(&path, Some("tok-root")).await;
    r.assert(404, json!({"message": "404 Not found"}));
    let r = s.get(&b("/projects/1/pipelines"), Some("tok-root")).await;
    assert!(!r.ids().contains(&id));
    assert_eq!(r.header("x-total"), Some("11"));
    assert_eq!(list_ids(&s, 1, "?source=api").await, Vec::<u64>::new());
    // Mutations in b stay in b too.
    let r = s
        .post(&b("/projects/1/pipelines/3/cancel"), Some("tok-dev"))
        .await;
    assert_eq!(r.json()["status"], "canceled");
    assert_eq!(pipeline_status(&s, 3).await, "running");
    let r = s.get(&a("/projects/1/pipelines/3"), Some("tok-root")).await;
    assert_eq!(r.json()["status"], "running");
    // Link headers keep the session prefix.
    let r = s
        .get(&a("/projects/1/pipelines?per_page=1"), Some("tok-root"))
        .await;
    assert!(
        r.next_link().unwrap().starts_with(&format!(
            "{}/-/sessions/a/api/v4/projects/1/pipelines?",
            s.url
        )),
        "{:?}",
        r.header("link")
    );
}

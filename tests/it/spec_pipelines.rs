//! Ports of `spec/requests/api/ci/pipelines_spec.rb` (gitlabhq/gitlabhq) and the shared
//! examples it uses: each test names the example it mirrors, grouped by endpoint. What is
//! not ported, and why, is listed in `docs/spec-coverage.md`.

use serde_json::{Value, json};

use crate::support::TestServer;

// ---------------------------------------------------------------------------------------
// The visibility table (`spec/support/shared_examples/requests/api/pipelines/
// visibility_table_shared_examples.rb`), used by GET /projects/:id/pipelines and
// GET /projects/:id/pipelines/:pipeline_id
// ---------------------------------------------------------------------------------------

const ROLES: [&str; 5] = ["non_member", "guest", "reporter", "developer", "maintainer"];

/// `(visibility, builds_access_level, public_builds, is_admin, user_role, status)`.
type Row = (
    &'static str,
    &'static str,
    bool,
    bool,
    Option<&'static str>,
    u16,
);

/// The rows; a
/// `None` role is the anonymous caller. The table exactly as the shared example has it.
fn visibility_table() -> Vec<Row> {
    let mut rows = Vec::new();
    for vis in ["private", "internal", "public"] {
        for level in ["enabled", "private"] {
            for public_builds in [true, false] {
                for admin in [true, false] {
                    let mut roles: Vec<Option<&str>> = ROLES.iter().copied().map(Some).collect();
                    if !admin {
                        roles.insert(0, None);
                    }
                    for role in roles {
                        let status = if admin {
                            200
                        } else {
                            expected(vis, level, public_builds, role)
                        };
                        rows.push((vis, level, public_builds, admin, role, status));
                    }
                }
            }
        }
    }
    rows
}

/// The non-admin rows of the table, written out as the spec writes them.
fn expected(vis: &str, level: &str, public_builds: bool, role: Option<&str>) -> u16 {
    match (vis, level, public_builds, role) {
        (_, _, _, Some("reporter" | "developer" | "maintainer")) => 200,
        ("private", _, _, None | Some("non_member")) => 404,
        ("private", _, true, Some("guest")) => 200,
        ("private", _, false, Some("guest")) => 403,
        ("internal", _, _, None) => 404,
        ("internal", "enabled", true, Some(_)) => 200,
        ("internal", "private", true, Some("non_member")) => 403,
        ("internal", "private", true, Some("guest")) => 200,
        ("internal", _, false, Some(_)) => 403,
        ("public", "enabled", true, _) => 200,
        ("public", "private", true, None | Some("non_member")) => 403,
        ("public", "private", true, Some("guest")) => 200,
        ("public", _, false, _) => 403,
        other => panic!("no row for {other:?}"),
    }
}

/// One project per (visibility, builds_access_level, public_builds), each with pipeline
/// `100 + project id`; users `admin_<role>` and `user_<role>` hold `<role>` in every one.
fn visibility_scenario() -> String {
    let mut users = String::new();
    let mut id = 1;
    for admin in [true, false] {
        for role in ROLES {
            let name = format!("{}_{role}", if admin { "admin" } else { "user" });
            users.push_str(&format!(
                "  - {{id: {id}, username: {name}, admin: {admin}, tokens: [tok-{name}]}}\n"
            ));
            id += 1;
        }
    }
    let mut projects = String::new();
    let mut pid = 1;
    for vis in ["private", "internal", "public"] {
        for level in ["enabled", "private"] {
            for public_builds in [true, false] {
                let mut members = String::new();
                for admin in ["admin", "user"] {
                    for role in &ROLES[1..] {
                        members.push_str(&format!("{admin}_{role}: {role}, "));
                    }
                }
                projects.push_str(&format!(
                    "  - id: {pid}\n    path: g/p{pid}\n    visibility: {vis}\n    \
                     builds_access_level: {level}\n    public_builds: {public_builds}\n    \
                     members: {{{members}}}\n    pipelines:\n      - {{id: {}, status: success}}\n",
                    100 + pid
                ));
                pid += 1;
            }
        }
    }
    format!("users:\n{users}projects:\n{projects}")
}

fn project_id(vis: &str, level: &str, public_builds: bool) -> u64 {
    let v = ["private", "internal", "public"]
        .iter()
        .position(|x| *x == vis)
        .expect("visibility");
    let l = usize::from(level == "private");
    let b = usize::from(!public_builds);
    (v * 4 + l * 2 + b + 1) as u64
}

async fn run_visibility_table(single: bool) {
    let s = TestServer::with_yaml(&visibility_scenario()).await;
    let mut failures = Vec::new();
    let rows = visibility_table();
    assert_eq!(rows.len(), 132, "the shared example's table has 132 rows");
    for (vis, level, public_builds, admin, role, status) in rows {
        let pid = project_id(vis, level, public_builds);
        let path = if single {
            format!("/projects/{pid}/pipelines/{}", 100 + pid)
        } else {
            format!("/projects/{pid}/pipelines")
        };
        let token = role.map(|r| format!("tok-{}_{r}", if admin { "admin" } else { "user" }));
        let r = s.get(&path, token.as_deref()).await;
        let body = r.json();
        let shape_ok = match (status, single) {
            (200, false) => body
                .as_array()
                .is_some_and(|a| a.len() == 1 && a[0]["id"] == 100 + pid),
            (200, true) => body["id"] == 100 + pid && body["sha"].is_string(),
            _ => body["message"].is_string(),
        };
        if r.status != status || !shape_ok {
            failures.push(format!(
                "{vis} | {level} | {public_builds} | {admin} | {role:?}: expected {status}, got {} {}",
                r.status, r.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// pipelines_spec.rb: "GET /projects/:id/pipelines" it_behaves_like "pipelines visibility table"
#[tokio::test]
async fn list_follows_the_pipelines_visibility_table() {
    run_visibility_table(false).await;
}

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id" it_behaves_like
// "pipelines visibility table"
#[tokio::test]
async fn single_pipeline_follows_the_pipelines_visibility_table() {
    run_visibility_table(true).await;
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/pipelines/:pipeline_id
// ---------------------------------------------------------------------------------------

const BASIC: &str = r#"
users:
  - {id: 1, username: user, tokens: [tok-user]}
  - {id: 2, username: non_member, tokens: [tok-non-member]}
  - {id: 3, username: developer, tokens: [tok-developer]}
  - {id: 4, username: reporter, tokens: [tok-reporter]}
  - {id: 5, username: guest, tokens: [tok-guest]}
  - {id: 6, username: owner, tokens: [tok-owner]}
  - id: 7
    username: agent
    tokens: [{token: oauth-ai, kind: oauth, scopes: [ai_workflows]}]
projects:
  - id: 1
    path: g/project
    members: {user: maintainer, developer: developer, reporter: reporter, guest: guest, owner: owner, agent: maintainer}
    pipelines:
      - id: 10
        name: Build pipeline
        user: user
        jobs:
          - {id: 100, name: build, status: success, coverage: 30}
      - id: 11
        jobs:
          - {id: 110, name: a, status: success, coverage: 30}
          - {id: 111, name: b, status: success, coverage: 60.5}
          - {id: 112, name: c, status: success}
          - {id: 113, name: b, status: success, coverage: 99, retried: true}
      - id: 12
        coverage: 12.5
        jobs:
          - {id: 120, name: a, status: success, coverage: 90}
      - {id: 13, status: success}
"#;

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id authorized user with coverage
// exposes the coverage"
#[tokio::test]
async fn coverage_is_derived_from_the_builds() {
    let s = TestServer::with_yaml(BASIC).await;
    let r = s.get("/projects/1/pipelines/10", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["coverage"], "30.00");
    // The mean of the latest jobs that have one (retried ones left out): (30 + 60.5) / 2.
    let r = s.get("/projects/1/pipelines/11", Some("tok-user")).await;
    assert_eq!(r.json()["coverage"], "45.25");
    // Written on the pipeline: wins.
    let r = s.get("/projects/1/pipelines/12", Some("tok-user")).await;
    assert_eq!(r.json()["coverage"], "12.50");
    let r = s.get("/projects/1/pipelines/13", Some("tok-user")).await;
    assert_eq!(r.json()["coverage"], Value::Null);
}

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id authorized user returns 404
// when it does not exist"
#[tokio::test]
async fn single_pipeline_that_does_not_exist_is_404_not_found() {
    let s = TestServer::with_yaml(BASIC).await;
    s.get("/projects/1/pipelines/999", Some("tok-user"))
        .await
        .assert(404, json!({"message": "404 Not found"}));
    // Found before authorized: a guest (no read_build) gets the same 404, not a 403.
    s.get("/projects/1/pipelines/999", Some("tok-guest"))
        .await
        .assert(404, json!({"message": "404 Not found"}));
}

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id authorized user returns
// project pipeline"
#[tokio::test]
async fn single_pipeline_returns_sha_and_name() {
    let s = TestServer::with_yaml(BASIC).await;
    let r = s.get("/projects/1/pipelines/10", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert!(
        j["sha"]
            .as_str()
            .is_some_and(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
    );
    assert_eq!(j["name"], "Build pipeline");
}

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id unauthorized user does not
// return a project pipeline"
#[tokio::test]
async fn single_pipeline_for_a_non_member_is_404_project_not_found() {
    let s = TestServer::with_yaml(BASIC).await;
    s.get("/projects/1/pipelines/10", Some("tok-non-member"))
        .await
        .assert(404, json!({"message": "404 Project Not Found"}));
}

// ---------------------------------------------------------------------------------------
// Project feature access levels (app/policies/project_policy.rb:
// `builds_disabled | repository_disabled`)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn builds_disabled_refuses_every_pipeline_and_job_ability_even_to_owners() {
    let yaml = BASIC.replace(
        "    path: g/project\n",
        "    path: g/project\n    builds_access_level: disabled\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let forbidden = json!({"message": "403 Forbidden"});
    for path in [
        "/projects/1/pipelines",
        "/projects/1/pipelines/10",
        "/projects/1/pipelines/10/jobs",
        "/projects/1/pipelines/10/variables",
        "/projects/1/pipelines/10/test_report",
        "/projects/1/jobs",
        "/projects/1/jobs/100",
        "/projects/1/jobs/100/trace",
    ] {
        s.get(path, Some("tok-owner"))
            .await
            .assert(403, forbidden.clone());
    }
    for path in [
        "/projects/1/pipelines/10/retry",
        "/projects/1/pipelines/10/cancel",
        "/projects/1/jobs/100/retry",
        "/projects/1/jobs/100/erase",
    ] {
        s.post(path, Some("tok-owner"))
            .await
            .assert(403, forbidden.clone());
    }
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/10",
            Some("tok-owner"),
            None,
        )
        .await;
    r.assert(403, forbidden);
}

#[tokio::test]
async fn private_builds_are_for_members_only() {
    let yaml = BASIC.replace(
        "    path: g/project\n",
        "    path: g/project\n    visibility: public\n    builds_access_level: private\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let forbidden = json!({"message": "403 Forbidden"});
    s.get("/projects/1/pipelines/10", Some("tok-non-member"))
        .await
        .assert(403, forbidden.clone());
    s.get("/projects/1/jobs/100", Some("tok-non-member"))
        .await
        .assert(403, forbidden.clone());
    s.get("/projects/1/pipelines/10", None)
        .await
        .assert(403, forbidden);
    let r = s.get("/projects/1/pipelines/10", Some("tok-guest")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get("/projects/1/jobs/100", Some("tok-reporter")).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn repository_disabled_turns_ci_off_too() {
    let yaml = BASIC.replace(
        "    path: g/project\n",
        "    path: g/project\n    repository_access_level: disabled\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    s.get("/projects/1/pipelines/10", Some("tok-owner"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/pipelines/:pipeline_id/variables
// ---------------------------------------------------------------------------------------

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id/variables user is a developer
// pipeline created is not created by the developer user does not return pipeline variables"
#[tokio::test]
async fn variables_of_someone_elses_pipeline_are_forbidden_to_a_developer() {
    let s = TestServer::with_yaml(BASIC).await;
    s.get("/projects/1/pipelines/10/variables", Some("tok-developer"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    let r = s
        .get("/projects/1/pipelines/10/variables", Some("tok-user"))
        .await;
    r.assert(200, json!([]));
}

// ---------------------------------------------------------------------------------------
// DELETE /projects/:id/pipelines/:pipeline_id
// ---------------------------------------------------------------------------------------

// pipelines_spec.rb: "DELETE /projects/:id/pipelines/:pipeline_id unauthorized user when user
// is developer returns a 403"
#[tokio::test]
async fn delete_by_a_developer_is_403() {
    let s = TestServer::with_yaml(BASIC).await;
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/10",
            Some("tok-developer"),
            None,
        )
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/10",
            Some("tok-owner"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

// pipelines_spec.rb: "DELETE /projects/:id/pipelines/:pipeline_id authorized user when
// project is undergoing stats refresh" it_behaves_like "preventing request because of
// ongoing project stats refresh" … "does not delete the pipeline"
#[tokio::test]
async fn delete_during_a_statistics_refresh_is_409_and_keeps_the_pipeline() {
    let yaml = BASIC.replace(
        "    path: g/project\n",
        "    path: g/project\n    statistics_refreshing: true\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/10",
            Some("tok-owner"),
            None,
        )
        .await;
    r.assert(
        409,
        json!({"message": "Action temporarily disabled. The project this pipeline belongs to is undergoing stats refresh."}),
    );
    let r = s.get("/projects/1/pipelines/10", Some("tok-owner")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A developer is refused first (403): authorization comes before the refresh check.
    let r = s
        .send(
            reqwest::Method::DELETE,
            "/projects/1/pipelines/10",
            Some("tok-developer"),
            None,
        )
        .await;
    r.assert(403, json!({"message": "403 Forbidden"}));
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/pipelines/:pipeline_id/jobs and …/bridges (public_builds: false)
// ---------------------------------------------------------------------------------------

const LISTS: &str = r#"
users:
  - {id: 1, username: user, tokens: [tok-user]}
  - {id: 2, username: guest, tokens: [tok-guest]}
projects:
  - id: 1
    path: g/project
    public_builds: false
    members: {user: maintainer, guest: guest}
    pipelines:
      - id: 10
        jobs:
          - {id: 100, name: build, status: success, retried: true}
          - {id: 101, name: build, status: success}
          - {id: 102, name: wait, status: pending}
          - {id: 103, name: run, status: running}
        bridges:
          - {id: 104, name: trigger, status: pending}
          - {id: 105, name: trigger2, status: running}
          - {id: 106, name: trigger3, status: created}
      - id: 11
        jobs:
          - {id: 110, name: other, status: success}
        bridges:
          - {id: 111, name: other-bridge, status: success}
      - {id: 12, source: webide, status: success}
  - {id: 2, path: g/project2, members: {user: maintainer}}
  - {id: 3, path: g/project3}
"#;

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id/jobs when public_builds is
// false authorized user pipeline has retried jobs does not return retried jobs by default" /
// "when include_retried is true returns retried jobs" / "jobs in different pipelines
// excludes jobs from other pipelines"
#[tokio::test]
async fn pipeline_jobs_retried_and_other_pipelines() {
    let s = TestServer::with_yaml(LISTS).await;
    let r = s
        .get("/projects/1/pipelines/10/jobs", Some("tok-user"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![103, 102, 101]);
    for j in r.json().as_array().expect("array") {
        assert_eq!(j["pipeline"]["id"], 10);
    }
    let r = s
        .get(
            "/projects/1/pipelines/10/jobs?include_retried=false",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.ids(), vec![103, 102, 101]);
    let r = s
        .get(
            "/projects/1/pipelines/10/jobs?include_retried=true",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.ids(), vec![103, 102, 101, 100]);
}

// pipelines_spec.rb: "… filter jobs with one scope element" (duration nil, queued_duration
// ≥ 0) / "when filtering to only running jobs" / "filter jobs with hash" (400) / "respond
// 400 when scope contains invalid state"
#[tokio::test]
async fn pipeline_jobs_scope_filters() {
    let s = TestServer::with_yaml(LISTS).await;
    let r = s
        .get(
            "/projects/1/pipelines/10/jobs?scope=pending",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.ids(), vec![102]);
    let j = &r.json()[0];
    assert_eq!(j["duration"], Value::Null);
    assert!(
        j["queued_duration"].as_f64().is_some_and(|q| q >= 0.0),
        "{j}"
    );
    let r = s
        .get(
            "/projects/1/pipelines/10/jobs?scope=running",
            Some("tok-user"),
        )
        .await;
    assert!(
        r.json()[0]["duration"].as_f64().is_some_and(|d| d >= 0.0),
        "{}",
        r.text
    );
    let r = s
        .get(
            "/projects/1/pipelines/10/jobs?scope[hello]=pending&scope[world]=running",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .get(
            "/projects/1/pipelines/10/jobs?scope[]=pending&scope[]=running",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.ids(), vec![103, 102]);
    let r = s
        .get(
            "/projects/1/pipelines/10/jobs?scope[]=unknown&scope[]=running",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

// pipelines_spec.rb: "… no pipeline is found does not return jobs" / "unauthorized user when
// user is not logged in" / "when user is guest does not return jobs"; the same three for
// GET …/bridges
#[tokio::test]
async fn pipeline_jobs_and_bridges_refusals() {
    let s = TestServer::with_yaml(LISTS).await;
    for list in ["jobs", "bridges"] {
        // The spec's project2 is one the user cannot see: the project is not found.
        s.get(
            &format!("/projects/3/pipelines/10/{list}"),
            Some("tok-user"),
        )
        .await
        .assert(404, json!({"message": "404 Project Not Found"}));
        // In a project the user can read, another project's pipeline is not found.
        let r = s
            .get(
                &format!("/projects/2/pipelines/10/{list}"),
                Some("tok-user"),
            )
            .await;
        r.assert(404, json!({"message": "404 Not found"}));
        s.get(&format!("/projects/1/pipelines/10/{list}"), None)
            .await
            .assert(404, json!({"message": "404 Project Not Found"}));
        s.get(
            &format!("/projects/1/pipelines/10/{list}"),
            Some("tok-guest"),
        )
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    }
}

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id/bridges authorized user filter
// bridges with one scope element" / "with array of scope elements" / "respond 400 when
// scope contains invalid state in an array / in a hash / in a string" / "bridges in
// different pipelines excludes bridges from other pipelines" / "returns pipeline data"
#[tokio::test]
async fn bridges_scope_filters() {
    let s = TestServer::with_yaml(LISTS).await;
    let r = s
        .get("/projects/1/pipelines/10/bridges", Some("tok-user"))
        .await;
    assert_eq!(r.ids(), vec![106, 105, 104]);
    for b in r.json().as_array().expect("array") {
        assert_eq!(b["pipeline"]["id"], 10);
        assert_eq!(b["pipeline"]["project_id"], 1);
    }
    let r = s
        .get(
            "/projects/1/pipelines/10/bridges?scope=pending",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.ids(), vec![104]);
    let r = s
        .get(
            "/projects/1/pipelines/10/bridges?scope[]=pending&scope[]=running",
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.ids(), vec![105, 104]);
    for q in [
        "scope[]=unknown&scope[]=running",
        "scope[unknown]=true",
        "scope=unknown",
    ] {
        let r = s
            .get(
                &format!("/projects/1/pipelines/10/bridges?{q}"),
                Some("tok-user"),
            )
            .await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
    }
}

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id when pipeline is a dangling
// pipeline returns the specified pipeline"
#[tokio::test]
async fn a_dangling_pipeline_is_found() {
    let s = TestServer::with_yaml(LISTS).await;
    let r = s.get("/projects/1/pipelines/12", Some("tok-user")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["id"], 12);
}

// ---------------------------------------------------------------------------------------
// POST /projects/:id/pipelines/:pipeline_id/cancel
// ---------------------------------------------------------------------------------------

// pipelines_spec.rb: "POST /projects/:id/pipelines/:pipeline_id/cancel user without proper
// access rights rejects the action" (403, status unchanged)
#[tokio::test]
async fn cancel_by_a_reporter_is_403_and_changes_nothing() {
    let yaml = BASIC.replace(
        "      - {id: 13, status: success}",
        "      - {id: 13, jobs: [{id: 130, name: r, status: pending}]}",
    );
    let s = TestServer::with_yaml(&yaml).await;
    s.post("/projects/1/pipelines/13/cancel", Some("tok-reporter"))
        .await
        .assert(403, json!({"message": "403 Forbidden"}));
    let r = s
        .get("/projects/1/pipelines/13", Some("tok-reporter"))
        .await;
    assert_eq!(r.json()["status"], "pending");
}

// pipelines_spec.rb: "GET /projects/:id/pipelines authorized user when parameter is passed
// when status is #{target} returns matched pipelines", for each of
// Ci::HasStatus::AVAILABLE_STATUSES (a pipeline of that status and one of another)
#[tokio::test]
async fn list_filters_by_each_available_status() {
    const STATUSES: [&str; 13] = [
        "created",
        "waiting_for_resource",
        "preparing",
        "waiting_for_callback",
        "pending",
        "running",
        "success",
        "failed",
        "canceling",
        "canceled",
        "skipped",
        "manual",
        "scheduled",
    ];
    let pipelines: String = STATUSES
        .iter()
        .enumerate()
        .map(|(i, st)| format!("      - {{id: {}, status: {st}}}\n", i + 1))
        .collect();
    let yaml = format!(
        "users:\n  - {{id: 1, username: user, tokens: [tok-user]}}\nprojects:\n  - id: 1\n    \
         path: g/project\n    members: {{user: maintainer}}\n    pipelines:\n{pipelines}"
    );
    let s = TestServer::with_yaml(&yaml).await;
    for (i, st) in STATUSES.iter().enumerate() {
        let r = s
            .get(
                &format!("/projects/1/pipelines?status={st}"),
                Some("tok-user"),
            )
            .await;
        assert_eq!(r.status, 200, "{st}: {}", r.text);
        assert_eq!(r.ids(), vec![i as u64 + 1], "{st}");
        for p in r.json().as_array().expect("array") {
            assert_eq!(p["status"], *st);
        }
    }
}

async fn get_bearer(s: &TestServer, path: &str, token: &str) -> crate::support::Resp {
    s.raw(
        s.client
            .get(format!("{}/api/v4{path}", s.url))
            .bearer_auth(token),
    )
    .await
}

// pipelines_spec.rb: "GET /projects/:id/pipelines/:pipeline_id authorized user with oauth
// token that has ai_workflows scope allows access" and "GET …/pipelines/:pipeline_id/jobs
// when public_builds is false authorized user with oauth token that has ai_workflows scope
// allows access"
#[tokio::test]
async fn an_oauth_token_with_ai_workflows_scope_reads() {
    let s = TestServer::with_yaml(BASIC).await;
    for path in ["/projects/1/pipelines/10", "/projects/1/pipelines/10/jobs"] {
        let r = get_bearer(&s, path, "oauth-ai").await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let r = s.get(&format!("{path}?access_token=oauth-ai"), None).await;
        assert_eq!(r.status, 200, "{path} ?access_token: {}", r.text);
    }
    // `allow_access_with_scope :ai_workflows, if: GET or HEAD`: a write is refused while
    // authenticating.
    let r = s
        .raw(
            s.client
                .post(format!("{}/api/v4/projects/1/pipelines/10/retry", s.url))
                .bearer_auth("oauth-ai"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json()["error"], "insufficient_scope");
    // An OAuth token is not a personal access token: PRIVATE-TOKEN does not find it.
    s.get("/projects/1/pipelines/10", Some("oauth-ai"))
        .await
        .assert(401, json!({"message": "401 Unauthorized"}));
}

// ---------------------------------------------------------------------------------------
// POST /projects/:id/pipeline
// ---------------------------------------------------------------------------------------

// pipelines_spec.rb: "POST /projects/:id/pipeline authorized user with gitlab-ci.yml using
// variables conditions creates and returns a new pipeline using the given variables" and
// "condition unmatch doesn't create a job" (`only: {variables: ['$STAGING']}`)
#[tokio::test]
async fn create_with_only_variables() {
    let yaml = BASIC.replace(
        "    pipelines:\n      - id: 10\n",
        "    ci:\n      jobs:\n        - {name: test, only: {variables: [\"$STAGING\"]}}\n    pipelines:\n      - id: 10\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main", "variables": [{"variable_type": "env_var", "key": "STAGING", "value": "true"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.json().get("variables").is_none(), "{}", r.text);
    let id = r.json()["id"].as_u64().expect("id");
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/jobs"),
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1), "{}", r.text);
    // No STAGING: no job, and no pipeline (400).
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main"}),
        )
        .await;
    r.assert(
        400,
        json!({"message": {"base": ["No stages / jobs for this pipeline."]}}),
    );
}

// The jobs `parallel: N` and `parallel: matrix` create, named as GitLab names them
// (pipelines_spec.rb's inputs example expects `my-job-build 1/3` … `3/3`: see
// `create_with_inputs_as_json` below).
#[tokio::test]
async fn create_expands_parallel_and_matrix_jobs() {
    let yaml = BASIC.replace(
        "    pipelines:\n      - id: 10\n",
        "    ci:\n      jobs:\n        - {name: my-job-build, parallel: 3}\n        - name: deploy\n          parallel: {matrix: [{PROVIDER: [aws, gcp], STACK: app}, {PROVIDER: ovh}]}\n    pipelines:\n      - id: 10\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().expect("id");
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/jobs?per_page=100"),
            Some("tok-user"),
        )
        .await;
    let mut names: Vec<String> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|j| j["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "deploy: [aws, app]",
            "deploy: [gcp, app]",
            "deploy: [ovh]",
            "my-job-build 1/3",
            "my-job-build 2/3",
            "my-job-build 3/3",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// POST /projects/:id/pipeline with gitlab-ci.yml including inputs
// ---------------------------------------------------------------------------------------

/// `spec/lib/gitlab/ci/config/yaml/fixtures/complex-included-ci.yml` in glmock's `ci:` terms:
/// the same `spec: inputs` (without `version`'s `regex`, which glmock refuses) and the same
/// jobs, without their scripts (glmock runs none) and without the first rule's `changes:`
/// (its `if` is false for an API pipeline anyway).
const INPUTS_CI: &str = r#"
    ci:
      spec:
        inputs:
          compiler: {default: gcc}
          optimization_level: {type: number, default: 2}
          test_framework: {default: unittest}
          coverage_enabled: {type: boolean, default: false}
          environment: {default: staging}
          deploy_strategy: {type: string, options: [blue-green, rolling]}
          job_prefix: {description: Define a prefix for the job name, default: my-job}
          job_stage:
          version: {type: string, default: 1.0.0}
          parallel_jobs: {type: number, default: 2}
          allow_failure: {type: boolean, default: false}
          test_script: {type: array}
          test_rules: {type: array, default: []}
          deploy_rules: {type: array, default: []}
      jobs:
        - name: "$[[ inputs.job_prefix ]]-build"
          stage: $[[ inputs.job_stage ]]
          parallel: $[[ inputs.parallel_jobs ]]
        - name: "$[[ inputs.job_prefix ]]-test"
          stage: $[[ inputs.job_stage ]]
          allow_failure: $[[ inputs.allow_failure ]]
        - name: "$[[ inputs.job_prefix ]]-test-2"
          stage: $[[ inputs.job_stage ]]
          rules:
            - if: $CI_PIPELINE_SOURCE == "merge_request_event"
            - $[[ inputs.test_rules ]]
        - name: "$[[ inputs.job_prefix ]]-deploy"
          stage: $[[ inputs.job_stage ]]
          rules:
            - if: $CI_PIPELINE_SOURCE != "merge_request_event"
            - $[[ inputs.deploy_rules ]]
"#;

async fn inputs_server() -> TestServer {
    let yaml = BASIC.replace(
        "    pipelines:\n      - id: 10\n",
        &format!("{}    pipelines:\n      - id: 10\n", &INPUTS_CI[1..]),
    );
    TestServer::with_yaml(&yaml).await
}

/// The spec's `inputs`.
fn spec_inputs() -> Value {
    json!({
        "deploy_strategy": "blue-green",
        "job_stage": "deploy",
        "test_script": ["echo \"test\""],
        "parallel_jobs": 3,
        "allow_failure": true,
        "test_rules": [{"if": "$CI_PIPELINE_SOURCE == \"web\""}]
    })
}

/// `"#{b.name} #{b.allow_failure}"` of the jobs of pipeline `id`, sorted.
async fn names_and_allow_failure(s: &TestServer, id: u64) -> Vec<String> {
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/jobs?per_page=100"),
            Some("tok-user"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out: Vec<String> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|j| {
            format!(
                "{} {}",
                j["name"].as_str().expect("name"),
                j["allow_failure"]
            )
        })
        .collect();
    out.sort();
    out
}

const INPUTS_JOBS: [&str; 5] = [
    "my-job-build 1/3 false",
    "my-job-build 2/3 false",
    "my-job-build 3/3 false",
    "my-job-deploy false",
    "my-job-test true",
];

async fn pipeline_count(s: &TestServer) -> usize {
    let r = s
        .get("/projects/1/pipelines?per_page=100", Some("tok-user"))
        .await;
    r.json().as_array().map(Vec::len).expect("array")
}

// pipelines_spec.rb: "POST /projects/:id/pipeline with gitlab-ci.yml including inputs when
// passing parameters as JSON creates a pipeline using inputs"
#[tokio::test]
async fn create_with_inputs_as_json() {
    let s = inputs_server().await;
    let before = pipeline_count(&s).await;
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main", "inputs": spec_inputs()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(pipeline_count(&s).await, before + 1);
    let id = r.json()["id"].as_u64().expect("id");
    assert_eq!(names_and_allow_failure(&s, id).await, INPUTS_JOBS);
}

/// `application/x-www-form-urlencoded` text of `pairs`.
fn form(pairs: &[(String, String)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

// pipelines_spec.rb: "POST /projects/:id/pipeline with gitlab-ci.yml including inputs when
// passing parameters as form data creates a pipeline using inputs": every value that is not
// a string is sent as its JSON text (`value.to_json`), as the spec's `transformed_values`.
#[tokio::test]
async fn create_with_inputs_as_form_data() {
    let s = inputs_server().await;
    let before = pipeline_count(&s).await;
    let mut pairs = vec![("ref".to_owned(), "main".to_owned())];
    for (k, v) in spec_inputs().as_object().expect("object") {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        pairs.push((format!("inputs[{k}]"), v));
    }
    let r = s
        .post_form("/projects/1/pipeline", Some("tok-user"), &form(&pairs))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(pipeline_count(&s).await, before + 1);
    let id = r.json()["id"].as_u64().expect("id");
    assert_eq!(names_and_allow_failure(&s, id).await, INPUTS_JOBS);
}

// Input errors (lib/ci/pipeline_creation/inputs/*.rb, lib/gitlab/ci/config/interpolation/
// inputs.rb): a 400 with GitLab's message as the pipeline's base error, and no pipeline.
#[tokio::test]
async fn create_with_wrong_inputs_is_400_and_creates_nothing() {
    let s = inputs_server().await;
    let before = pipeline_count(&s).await;
    let mut cases = vec![
        (
            json!({"ref": "main", "inputs": {"deploy_strategy": "rolling", "test_script": []}}),
            "`job_stage` input: required value has not been provided",
        ),
        (
            json!({"ref": "main", "inputs": {"deploy_strategy": "canary", "job_stage": "d", "test_script": []}}),
            "`deploy_strategy` input: `canary` cannot be used because it is not in the list of allowed options",
        ),
        (
            json!({"ref": "main", "inputs": {"deploy_strategy": "rolling", "job_stage": "d", "test_script": "x", "parallel_jobs": "many"}}),
            "`parallel_jobs` input: provided value is not a number, `test_script` input: provided value is not an array",
        ),
        (
            json!({"ref": "main", "inputs": {"deploy_strategy": "rolling", "job_stage": "d", "test_script": [], "stage": "x"}}),
            "unknown input arguments: stage",
        ),
        (
            json!({"ref": "main", "inputs": {"deploy_strategy": "rolling", "job_stage": "d", "test_script": [], "allow_failure": "yes"}}),
            "`allow_failure` input: provided value is not a boolean",
        ),
        // The inputs are valid but make an invalid job: the decoder's error, located.
        (
            json!({"ref": "main", "inputs": {"deploy_strategy": "rolling", "job_stage": "d", "test_script": [], "parallel_jobs": 1}}),
            "projects[0].ci.jobs[0].parallel: parallel must be 2 to 200, found 1",
        ),
    ];
    for (body, message) in cases.drain(..) {
        let r = s
            .post_json("/projects/1/pipeline", Some("tok-user"), body.clone())
            .await;
        r.assert(400, json!({"message": {"base": [message]}}));
    }
    // `inputs` must be a hash (Grape's `type: Hash`).
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main", "inputs": "job_stage=d"}),
        )
        .await;
    r.assert(400, json!({"error": "inputs is invalid"}));
    assert_eq!(pipeline_count(&s).await, before);
}

// lib/gitlab/ci/config/interpolation/interpolator.rb: inputs for a definition without
// `spec:` are refused; none given, it is created as before.
#[tokio::test]
async fn create_with_inputs_but_no_spec_is_400() {
    let yaml = BASIC.replace(
        "    pipelines:\n      - id: 10\n",
        "    ci:\n      jobs:\n        - {name: build}\n    pipelines:\n      - id: 10\n",
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main", "inputs": {"a": 1}}),
        )
        .await;
    r.assert(
        400,
        json!({"message": {"base": ["Given inputs not defined in the `spec` section of the included configuration file"]}}),
    );
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main", "inputs": {}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

// `rules:` (lib/gitlab/ci/build/rules.rb): the first rule whose `if` holds decides; its
// `when: manual` makes a manual job that may not fail (unlike a job-level `when: manual`),
// `when: never` or no rule matching makes no job. CI_PIPELINE_SOURCE is `api` here.
#[tokio::test]
async fn create_follows_rules() {
    let yaml = BASIC.replace(
        "    pipelines:\n      - id: 10\n",
        r#"    ci:
      jobs:
        - name: on-main
          rules:
            - {if: '$CI_COMMIT_BRANCH == "main"', when: manual}
            - {when: always}
        - name: never-on-api
          rules:
            - {if: '$CI_PIPELINE_SOURCE == "api"', when: never}
            - {when: on_success}
        - name: only-on-tags
          rules:
            - if: $CI_COMMIT_TAG
        - {name: plain}
    pipelines:
      - id: 10
"#,
    );
    let s = TestServer::with_yaml(&yaml).await;
    let r = s
        .post_json(
            "/projects/1/pipeline",
            Some("tok-user"),
            json!({"ref": "main"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().expect("id");
    let r = s
        .get(
            &format!("/projects/1/pipelines/{id}/jobs"),
            Some("tok-user"),
        )
        .await;
    let mut jobs: Vec<String> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|j| {
            format!(
                "{} {} {}",
                j["name"].as_str().expect("name"),
                j["status"].as_str().expect("status"),
                j["allow_failure"]
            )
        })
        .collect();
    jobs.sort();
    assert_eq!(jobs, ["on-main manual false", "plain pending false"]);
}

// ---------------------------------------------------------------------------------------
// GET /projects/:id/pipelines/:pipeline_id/jobs when public_builds is true:
// it_behaves_like "enforcing job token policies", :read_jobs,
//   allow_public_access_for_enabled_project_features: [:repository, :builds]
// (spec/support/shared_examples/requests/api/ci/job_token_policies_shared_examples.rb)
// ---------------------------------------------------------------------------------------

/// The shared example's setup: `g/project` (the source project, every feature private, as
/// `enable_project_features(source_project, nil)` leaves it) with `user` as maintainer and
/// pipeline 10; the job token is from a running job of `job_user` in `other/tool`.
/// `allowlist` is the source project's allowlist entry for `other/tool` (YAML), or none.
fn policies_scenario(
    visibility: &str,
    features: &str,
    allowlist: Option<&str>,
    policies_enabled: bool,
    job_user: &str,
) -> String {
    let allowlist = allowlist
        .map(|e| format!("    job_token_allowlist: [{e}]\n"))
        .unwrap_or_default();
    format!(
        r#"
users:
  - {{id: 1, username: user, tokens: [tok-user]}}
  - {{id: 2, username: stranger, tokens: [tok-stranger]}}
projects:
  - id: 1
    path: g/project
    visibility: {visibility}
    public_builds: true
    builds_access_level: {features}
    repository_access_level: {features}
    job_token_policies_enabled: {policies_enabled}
    members: {{user: maintainer}}
{allowlist}    pipelines:
      - id: 10
        user: user
        jobs:
          - {{id: 100, name: build, status: success}}
  - id: 2
    path: other/tool
    members: {{user: developer, stranger: developer}}
    pipelines:
      - id: 20
        user: {job_user}
        jobs:
          - {{id: 200, name: target, status: running, user: {job_user}}}
job_tokens:
  - {{token: glcbt-target, job: 200}}
"#
    )
}

const READ_JOBS_ENTRY: &str =
    "{project: other/tool, default_permissions: false, job_token_policies: [read_jobs]}";
/// `(POLICIES - [:read_jobs]).take(1)`.
const OTHER_POLICY_ENTRY: &str =
    "{project: other/tool, default_permissions: false, job_token_policies: [read_containers]}";

async fn pipeline_jobs_with_job_token(yaml: &str) -> crate::support::Resp {
    let s = TestServer::with_yaml(yaml).await;
    s.get("/projects/1/pipelines/10/jobs?job_token=glcbt-target", None)
        .await
}

const POLICY_DENIED: &str = "403 Forbidden - Insufficient permissions to access this resource in \
                             project project. The following token permission is required: read_jobs.";

// pipelines_spec.rb: "GET …/pipelines/:pipeline_id/jobs when public_builds is true" /
// job_token_policies_shared_examples.rb: "when authenticating with a CI job token from another
// project" `it { is_expected.to have_gitlab_http_status(expected_success_status) }`
#[tokio::test]
async fn job_token_policies_allowlisted_with_read_jobs_reads_pipeline_jobs() {
    let r = pipeline_jobs_with_job_token(&policies_scenario(
        "private",
        "private",
        Some(READ_JOBS_ENTRY),
        true,
        "user",
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![100]);
}

// job_token_policies_shared_examples.rb: "when the target project is not allowlisted and job
// token policies are disabled denies access" (403 or 404; glmock: the allowlist's 403)
#[tokio::test]
async fn job_token_policies_not_allowlisted_is_denied() {
    let r = pipeline_jobs_with_job_token(&policies_scenario(
        "private", "private", None, false, "user",
    ))
    .await;
    r.assert(
        403,
        json!({"message": "403 Forbidden - Authentication by CI/CD job token not allowed from tool to project."}),
    );
}

// job_token_policies_shared_examples.rb: "when the policies are not allowed" `it {
// is_expected.to have_gitlab_http_status(:forbidden) }` and "returns an error message
// containing the disallowed policy" (`source_project.path`, here `project`)
#[tokio::test]
async fn job_token_policies_without_read_jobs_is_403_naming_it() {
    let r = pipeline_jobs_with_job_token(&policies_scenario(
        "private",
        "private",
        Some(OTHER_POLICY_ENTRY),
        true,
        "user",
    ))
    .await;
    r.assert(403, json!({"message": POLICY_DENIED}));
}

// job_token_policies_shared_examples.rb: "when the policies are not allowed when fine grained
// permissions are disabled" (`default_permissions: true`) and "when job token policies are
// disabled" (the group setting off): the job user's usual access.
#[tokio::test]
async fn job_token_policies_off_give_the_job_users_access() {
    let entry =
        "{project: other/tool, default_permissions: true, job_token_policies: [read_containers]}";
    for (yaml, what) in [
        (
            policies_scenario("private", "private", Some(entry), true, "user"),
            "default_permissions",
        ),
        (
            policies_scenario(
                "private",
                "private",
                Some(OTHER_POLICY_ENTRY),
                false,
                "user",
            ),
            "job_token_policies_enabled: false",
        ),
    ] {
        let r = pipeline_jobs_with_job_token(&yaml).await;
        assert_eq!(r.status, 200, "{what}: {}", r.text);
        assert_eq!(r.ids(), vec![100], "{what}");
    }
}

// job_token_policies_shared_examples.rb: "when the source project is public and the target
// job user is not a member of the source project when policies are not allowed, but the
// specified project features allow public access": "when all project features are private"
// (403) and "when the specified project features are public" (success).
#[tokio::test]
async fn job_token_policies_public_features_need_no_policy() {
    let entry = "{project: other/tool, default_permissions: false, job_token_policies: []}";
    let r = pipeline_jobs_with_job_token(&policies_scenario(
        "public",
        "private",
        Some(entry),
        true,
        "stranger",
    ))
    .await;
    r.assert(403, json!({"message": POLICY_DENIED}));
    let r = pipeline_jobs_with_job_token(&policies_scenario(
        "public",
        "enabled",
        Some(entry),
        true,
        "stranger",
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![100]);
}

// The jobs list (lib/api/ci/jobs.rb, `job_token_policies: :read_jobs`) enforces the same; a
// job token of the project itself needs no allowlist and no policy
// (`Scope#policies_allowed?`: self-referential).
#[tokio::test]
async fn job_token_policies_apply_to_the_jobs_list_too() {
    let s = TestServer::with_yaml(&policies_scenario(
        "private",
        "private",
        Some(OTHER_POLICY_ENTRY),
        true,
        "user",
    ))
    .await;
    s.get("/projects/1/jobs?job_token=glcbt-target", None)
        .await
        .assert(403, json!({"message": POLICY_DENIED}));
    let r = s.get("/projects/2/jobs?job_token=glcbt-target", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![200]);
    let s = TestServer::with_yaml(&policies_scenario(
        "private",
        "private",
        Some(READ_JOBS_ENTRY),
        true,
        "user",
    ))
    .await;
    let r = s.get("/projects/1/jobs?job_token=glcbt-target", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![100]);
}

// GitLab's default: `job_token_policies_enabled` is off (the namespace setting defaults to
// false, db/migrate/20250313142550_add_job_token_policies_enabled_column_to_namespace_settings.rb,
// and so does the add_policies_to_ci_job_token flag), so an entry with `default_permissions:
// false` and no read_jobs still has the job user's usual access.
#[tokio::test]
async fn job_token_policies_are_off_unless_enabled() {
    let yaml = policies_scenario("private", "private", Some(OTHER_POLICY_ENTRY), true, "user")
        .replace("    job_token_policies_enabled: true\n", "");
    assert!(!yaml.contains("job_token_policies_enabled"));
    let r = pipeline_jobs_with_job_token(&yaml).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![100]);
    let s = TestServer::with_yaml(&yaml).await;
    let r = s.get("/projects/1/jobs?job_token=glcbt-target", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.ids(), vec![100]);
}

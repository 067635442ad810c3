//! Live scenarios (replace, merge, show, --watch) and sessions that emulate another GitLab
//! version.

use std::time::Duration;

use glmock::__internal::ServerOptions;
use glmock::__internal::scenario::{Overrides, Source};
use reqwest::Method;
use serde_json::json;

use crate::observe::{control, control_json, job_status};
use crate::support::*;

const SMALL: &str = "users: [{id: 1, username: root, admin: true, tokens: [glpat-root]}]\nprojects:\n  - id: 1\n    path: g/p\n    members: {root: owner}\n    pipelines: [{id: 1, jobs: [{id: 1, name: a, status: failed}]}]\n";
const BROKEN: &str = "projects:\n  - id: 1\n    path: g/p\n    pipelines: [{id: 1, jobs: [{id: 1, name: a, status: nope}]}]\n";

async fn project_path(s: &TestServer, session: &str) -> String {
    let r = s
        .get(&s.session_url(session, "/projects/1"), Some(ROOT))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["path_with_namespace"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn put_replaces_the_scenario_and_resets_every_session() {
    let s = TestServer::default_scenario().await;
    let shown = control(&s, Method::GET, "/scenario", &[], None)
        .await
        .json();
    assert_eq!(
        shown["sources"][0]["name"],
        "fixtures/default.yaml (embedded)"
    );
    assert_eq!(shown["projects"], 2);
    // A session changed something before the replacement.
    control_json(
        &s,
        Method::POST,
        "/jobs/8/status",
        json!({"status": "success", "session": "a"}),
    )
    .await;
    assert_eq!(job_status(&s, "a", 8).await, "success");

    let r = control(
        &s,
        Method::PUT,
        "/scenario",
        &[],
        Some(("application/yaml", SMALL)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["sources"], json!(["scenario.yaml"]));
    assert_eq!(v["projects"], 1);
    assert_eq!(v["sessions_reset"], json!(["a"]));
    assert_eq!(project_path(&s, "a").await, "g/p");
    assert_eq!(project_path(&s, "fresh").await, "g/p");
    let shown = control(&s, Method::GET, "/scenario", &[], None)
        .await
        .json();
    assert_eq!(shown["sources"][0]["text"], SMALL);

    // JSON is a scenario too; ?name= names it.
    let as_json = json!({"users": [{"id": 1, "username": "root", "tokens": ["glpat-root"]}],
        "projects": [{"id": 1, "path": "j/son", "members": {"root": "owner"}}]});
    let r = control(
        &s,
        Method::PUT,
        "/scenario?name=mine.json",
        &[],
        Some(("application/json", &as_json.to_string())),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["sources"], json!(["mine.json"]));
    assert_eq!(project_path(&s, "a").await, "j/son");
}

#[tokio::test]
async fn a_broken_scenario_is_refused_with_located_errors_and_the_old_world_keeps_serving() {
    let s = TestServer::default_scenario().await;
    let r = control(
        &s,
        Method::PUT,
        "/scenario",
        &[],
        Some(("application/yaml", BROKEN)),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let v = r.json();
    // The same errors as `glmock check` reports.
    let expected = glmock::__internal::scenario::build(
        &[Source {
            name: "scenario.yaml".into(),
            text: BROKEN.into(),
            dir: None,
        }],
        &Overrides::default(),
    )
    .unwrap_err();
    assert_eq!(
        v["error"],
        format!(
            "{} error{} in scenario",
            expected.0.len(),
            if expected.0.len() == 1 { "" } else { "s" }
        )
    );
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), expected.0.len());
    for (got, want) in errors.iter().zip(&expected.0) {
        assert_eq!(got["file"], want.file);
        assert_eq!(got["line"], want.line);
        assert_eq!(got["column"], want.column);
        assert_eq!(got["path"], want.path);
        assert_eq!(got["message"], want.message);
    }
    assert_eq!(errors[0]["path"], "projects[0].pipelines[0].jobs[0].status");
    assert_eq!(project_path(&s, "default").await, "foo/bar");
    let r = control(
        &s,
        Method::POST,
        "/scenario/merge",
        &[],
        Some(("application/yaml", BROKEN)),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(project_path(&s, "default").await, "foo/bar");
    // Neither a form nor an empty body.
    let r = control(
        &s,
        Method::PUT,
        "/scenario",
        &[],
        Some(("text/plain", SMALL)),
    )
    .await;
    assert_eq!(r.status, 415);
    let r = control(
        &s,
        Method::PUT,
        "/scenario",
        &[],
        Some(("application/yaml", "")),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn merge_adds_to_the_loaded_scenario() {
    let s = TestServer::default_scenario().await;
    let extra = "projects:\n  - id: 77\n    path: extra/project\n    members: {root: owner}\n";
    let r = control(
        &s,
        Method::POST,
        "/scenario/merge",
        &[],
        Some(("application/yaml", extra)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["sources"],
        json!(["fixtures/default.yaml (embedded)", "merge-1.yaml"])
    );
    assert_eq!(project_path(&s, "default").await, "foo/bar");
    let r = s.get("/projects/77", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["path_with_namespace"], "extra/project");
}

#[tokio::test]
async fn watch_reloads_changed_files_and_keeps_the_old_world_when_they_break() {
    let dir = std::env::temp_dir().join(format!("glmock-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("s.yaml");
    std::fs::write(&file, SMALL).unwrap();
    let sources = vec![Source::read(&file).unwrap()];
    let world = glmock::__internal::scenario::build(&sources, &Overrides::default()).unwrap();
    let server = glmock::__internal::Server::start_with(
        world,
        Some(glmock::__internal::control::ScenarioSources {
            sources,
            overrides: Overrides::default(),
            files: vec![file.clone()],
        }),
        ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            watch: Some(Duration::from_millis(50)),
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let url = server.uri();
    let client = reqwest::Client::new();
    let path = || async {
        let r = client
            .get(format!("{url}/api/v4/projects/1"))
            .header("PRIVATE-TOKEN", ROOT)
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        v["path_with_namespace"].as_str().unwrap().to_owned()
    };
    assert_eq!(path().await, "g/p");
    std::fs::write(&file, SMALL.replace("g/p", "g/renamed-project")).unwrap();
    let mut seen = String::new();
    for _ in 0..100 {
        seen = path().await;
        if seen == "g/renamed-project" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, "g/renamed-project");
    std::fs::write(&file, BROKEN).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        path().await,
        "g/renamed-project",
        "the old world keeps serving"
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn version_of(s: &TestServer, session: &str) -> String {
    let r = s.get(&s.session_url(session, "/version"), Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["version"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sessions_emulate_their_own_gitlab_version_side_by_side() {
    let s = TestServer::default_scenario().await;
    let r = control_json(
        &s,
        Method::POST,
        "/sessions",
        json!({"name": "old", "gitlab_version": "13.12"}),
    )
    .await;
    r.assert(201, json!({"name": "old", "gitlab_version": "13.12"}));
    // The header at a session's first request.
    let r = s
        .raw(
            s.client
                .get(s.session_url("mid", "/projects/1/jobs/7"))
                .header("PRIVATE-TOKEN", ROOT)
                .header("X-Glmock-Gitlab-Version", "16.11"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mid = r.json();
    assert!(
        mid.get("runner_manager").is_some(),
        "16.11 has runner_manager"
    );
    assert!(mid.get("archived").is_none(), "archived comes with 17.0");

    assert!(version_of(&s, "old").await.starts_with("13.12"));
    assert!(version_of(&s, "mid").await.starts_with("16.11"));
    assert!(version_of(&s, "new").await.starts_with("18.5"));
    let old = s
        .get(&s.session_url("old", "/projects/1/jobs/7"), Some(ROOT))
        .await
        .json();
    let new = s
        .get(&s.session_url("new", "/projects/1/jobs/7"), Some(ROOT))
        .await
        .json();
    assert!(
        old.get("erased_at").is_none() && old.get("archived").is_none(),
        "{old}"
    );
    assert!(
        new.get("erased_at").is_some() && new.get("archived").is_some(),
        "{new}"
    );
    let p = s
        .get(
            &s.session_url("old", "/projects/1/pipelines/61"),
            Some(ROOT),
        )
        .await
        .json();
    assert!(p.get("iid").is_none(), "pipelines have iid from 14.6: {p}");
    // Statuses follow: 13.12 knows no `canceling`.
    let r = s
        .get(
            &s.session_url("old", "/projects/1/jobs?scope=canceling"),
            Some(ROOT),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .get(
            &s.session_url("new", "/projects/1/jobs?scope=canceling"),
            Some(ROOT),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A reset and a new scenario keep the session's version.
    control_json(&s, Method::POST, "/reset", json!({"session": "old"})).await;
    assert!(version_of(&s, "old").await.starts_with("13.12"));
    control_json(&s, Method::POST, "/reset", json!({})).await;
    assert!(version_of(&s, "old").await.starts_with("13.12"));
    let r = control(
        &s,
        Method::PUT,
        "/scenario",
        &[],
        Some(("application/yaml", SMALL)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(version_of(&s, "old").await.starts_with("13.12"));
    assert_eq!(project_path(&s, "old").await, "g/p");

    // Errors.
    let r = control_json(
        &s,
        Method::POST,
        "/sessions",
        json!({"name": "x", "gitlab_version": "9.0"}),
    )
    .await;
    r.assert(400, json!({"error": "gitlab_version \"9.0\" is not supported (allowed: 13.12 to 18.5, as major.minor)"}));
    let r = control_json(
        &s,
        Method::POST,
        "/sessions",
        json!({"name": "mid", "gitlab_version": "17.0"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = s
        .raw(
            s.client
                .get(s.session_url("bad", "/version"))
                .header("PRIVATE-TOKEN", ROOT)
                .header("X-Glmock-Gitlab-Version", "banana"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn a_version_header_on_a_request_that_fails_authentication_leaves_no_session() {
    let s = TestServer::default_scenario().await;
    let r = s
        .raw(
            s.client
                .get(s.session_url("intruder", "/projects/1/jobs/7"))
                .header("PRIVATE-TOKEN", "glpat-wrong")
                .header("X-Glmock-Gitlab-Version", "16.11"),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let sessions = s
        .raw(s.client.get(format!("{}/-/glmock/sessions", s.url)))
        .await
        .json();
    assert!(
        !sessions["sessions"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|n| n == "intruder"),
        "{sessions}"
    );
}

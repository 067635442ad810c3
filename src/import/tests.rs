//! Imports answers shaped like a real GitLab's (sub-millisecond durations, extra user
//! fields, a null pipeline user, a failed job that never started, ANSI traces, a subgroup
//! project named by path) and checks that the scenario reproduces them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::record::cassette::{Body, Exchange, RecordedRequest, RecordedResponse};

fn get(path: &str, body: Body) -> Exchange {
    Exchange {
        request: RecordedRequest {
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            headers: BTreeMap::new(),
            body: None,
        },
        response: RecordedResponse {
            status: 200,
            headers: BTreeMap::new(),
            body: Some(body),
        },
    }
}

fn user() -> Value {
    json!({
        "id": 5, "username": "dev", "name": "Dev Eloper", "state": "active", "locked": false,
        "avatar_url": "https://secure.gravatar.com/avatar/abc?s=80&d=identicon",
        "web_url": "https://gitlab.test/dev", "created_at": "2020-01-01T00:00:00.000Z",
        "bio": "", "location": "", "public_email": null, "skype": "", "linkedin": "",
        "twitter": "", "discord": "", "website_url": "", "organization": "", "job_title": "",
        "pronouns": null, "bot": false, "work_information": null, "followers": 0,
        "following": 0, "is_followed": false, "local_time": null
    })
}

const SHA: &str = "e83c5163316f89bfbde7d9ab23ca2e25604af290";

fn pipeline_basic() -> Value {
    json!({
        "id": 900, "iid": 12, "project_id": 77, "sha": SHA, "ref": "main",
        "status": "running", "source": "push",
        "created_at": "2024-10-01T09:59:00.000Z", "updated_at": "2024-10-01T10:05:00.456Z",
        "web_url": "https://gitlab.test/grp/sub/proj/-/pipelines/900"
    })
}

fn job(id: u64, status: &str) -> Value {
    json!({
        "id": id, "status": status, "stage": "test", "name": format!("job {id}"),
        "ref": "main", "tag": false, "coverage": null, "allow_failure": false,
        "created_at": "2024-10-01T10:00:00.123Z", "started_at": null,
        "finished_at": null, "erased_at": null, "duration": null, "queued_duration": null,
        "user": user(),
        "commit": {
            "id": SHA, "short_id": &SHA[..8], "created_at": "2024-10-01T11:58:00.000+02:00",
            "parent_ids": ["d6cb8f94d4a35c6c0f66be2d16d1ec1d2d7bb0e2"],
            "title": "Fix: the thing", "message": "Fix: the thing\n\nSigned-off-by: Dev <dev@example.com>\n",
            "author_name": "Dev Eloper", "author_email": "dev@example.com",
            "authored_date": "2024-10-01T11:58:00.000+02:00", "committer_name": "Dev Eloper",
            "committer_email": "dev@example.com", "committed_date": "2024-10-01T11:58:00.000+02:00",
            "trailers": {"Signed-off-by": "Dev <dev@example.com>"},
            "extended_trailers": {"Signed-off-by": ["Dev <dev@example.com>"]},
            "web_url": format!("https://gitlab.test/grp/sub/proj/-/commit/{SHA}")
        },
        "pipeline": pipeline_basic(),
        "web_url": format!("https://gitlab.test/grp/sub/proj/-/jobs/{id}"),
        "project": {"ci_job_token_scope_enabled": true},
        "artifacts": [], "runner": null, "runner_manager": null,
        "artifacts_expire_at": null, "archived": false, "tag_list": []
    })
}

fn cassette() -> Cassette {
    let mut c = Cassette::new("https://gitlab.test", "proxy");
    c.recorded_at = "2024-10-01T10:10:00.000Z".into();
    c.gitlab_version = Some("17.5.1-ee".into());
    let mut failed = job(8001, "failed");
    failed["finished_at"] = json!("2024-10-01T10:05:00.456Z");
    failed["queued_duration"] = json!(12.345678);
    failed["failure_reason"] = json!("stuck_or_timeout_failure");
    let mut ok = job(8002, "success");
    ok["started_at"] = json!("2024-10-01T10:00:05.000Z");
    ok["finished_at"] = json!("2024-10-01T10:01:07.250Z");
    ok["duration"] = json!(62.250113);
    ok["queued_duration"] = json!(4.876543);
    ok["coverage"] = json!(81.5);
    ok["artifacts"] =
        json!([{"file_type": "trace", "size": 2048, "filename": "job.log", "file_format": null}]);
    let mut running = job(8003, "running");
    running["started_at"] = json!("2024-10-01T10:02:00.000Z");
    running["duration"] = json!(605.123);
    running["queued_duration"] = json!(1.5);
    running["runner"] = json!({
        "id": 3, "description": "shared-runners", "ip_address": null, "active": true,
        "paused": false, "is_shared": true, "runner_type": "instance_type", "name": "gitlab-runner",
        "online": true, "status": "online"
    });
    running["runner_manager"] = json!({
        "id": 31, "system_id": "r_abc", "version": "17.5.0", "revision": "66269445",
        "platform": "linux", "architecture": "amd64", "created_at": "2024-09-01T00:00:00.000Z",
        "contacted_at": "2024-10-01T10:09:58.000Z", "ip_address": "10.1.2.3", "status": "online"
    });
    running["tag_list"] = json!(["saas-linux-small-amd64"]);
    let mut single = pipeline_basic();
    let extra = json!({
        "before_sha": "d6cb8f94d4a35c6c0f66be2d16d1ec1d2d7bb0e2", "tag": false,
        "yaml_errors": null, "user": null, "started_at": "2024-10-01T10:00:05.000Z",
        "finished_at": null, "committed_at": null, "duration": 595, "queued_duration": 65,
        "coverage": "81.50",
        "detailed_status": {
            "icon": "status_running", "text": "Running", "label": "running", "group": "running",
            "tooltip": "running", "has_details": true,
            "details_path": "/grp/sub/proj/-/pipelines/900", "illustration": null,
            "favicon": "/assets/ci_favicons/favicon_status_running-9c635b2419a8e1ec991c993061b89cc5aefc0743bb238ecd0c114d5d7a70543a.png"
        },
        "name": null
    });
    single
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    c.exchanges = vec![
        get(
            "/api/v4/projects/grp%2Fsub%2Fproj/pipelines/900/jobs",
            Body::Json(json!([running, ok, failed])),
        ),
        get(
            "/api/v4/projects/grp%2Fsub%2Fproj/pipelines/900",
            Body::Json(single),
        ),
        get(
            "/api/v4/projects/grp%2Fsub%2Fproj/pipelines/900/variables",
            Body::Json(json!([{"variable_type": "file", "key": "KUBECONFIG", "value": "apiVersion: v1\n", "raw": true}])),
        ),
        get(
            "/api/v4/projects/grp%2Fsub%2Fproj/jobs/8002/trace",
            Body::Text(
                "\u{1b}[0KRunning with gitlab-runner 17.5.0\r\n\u{1b}[0;m$ make\r\nsection_end:1727776867:step\r\n".into(),
            ),
        ),
        // Not imported: a POST, an error, and an endpoint glmock does not serve.
        Exchange {
            request: RecordedRequest {
                method: "POST".into(),
                ..get("/api/v4/projects/77/jobs/8001/retry", Body::Text(String::new())).request
            },
            ..get("/api/v4/x", Body::Json(json!({})))
        },
        get("/api/v4/projects/77/merge_requests", Body::Json(json!([]))),
    ];
    c
}

#[test]
fn real_answers_are_reproduced_with_overrides_where_needed() {
    let c = cassette();
    let imported = import(vec![("real.yaml".into(), &c)]).unwrap();
    let yaml = &imported.yaml;
    let summary = imported.summary.join("\n");

    // Normal fields.
    for want in [
        "version: \"17.5\"",
        "base_url: https://gitlab.test",
        "now: \"2024-10-01T10:10:00.000Z\"",
        "path: grp/sub/proj",
        "username: glmock-import",
        "ci_job_token_scope_enabled: true",
        "branches: {main: e83c5163316f89bfbde7d9ab23ca2e25604af290}",
        "failure_reason: stuck_or_timeout_failure",
        "- {key: KUBECONFIG, value: \"apiVersion: v1\\n\", variable_type: file, raw: true}",
        "log: \"\\u001B[0KRunning with gitlab-runner 17.5.0\\r\\n",
        "runner_manager: 31",
        "coverage: 81.5",
        "Signed-off-by: Dev <dev@example.com>",
    ] {
        assert!(yaml.contains(want), "{want:?} missing:\n{yaml}");
    }
    // Overrides: what glmock derives differently. The shared user object is written once.
    assert!(yaml.contains("user_1: &user_1"), "{yaml}");
    assert!(yaml.contains("user: *user_1"), "{yaml}");
    assert!(yaml.contains("started_at: null"), "{yaml}");
    assert!(yaml.contains("detailed_status:"), "{yaml}");
    // Sub-millisecond durations are not overrides; neither are the running job's.
    assert!(!yaml.contains("62.250113"), "{yaml}");
    assert!(!yaml.contains("605.123"), "{yaml}");

    // Everything is reproduced but the running job's duration (frozen clock).
    assert!(
        summary.contains("skipped 1 exchange(s): not a GET request"),
        "{summary}"
    );
    assert!(
        summary.contains("endpoint glmock does not import"),
        "{summary}"
    );
    assert!(summary.contains("not reproduced:"), "{summary}");
    let not_reproduced: Vec<&str> = summary
        .lines()
        .skip_while(|l| *l != "not reproduced:")
        .skip(1)
        .collect();
    assert_eq!(not_reproduced.len(), 1, "{summary}");
    assert!(not_reproduced[0].contains("1 duration(s)"), "{summary}");
}

#[test]
fn cassettes_import_deterministically() {
    let c = cassette();
    let a = to_scenario(std::slice::from_ref(&c)).unwrap();
    let b = to_scenario(std::slice::from_ref(&c)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn later_answers_win_and_every_cassette_is_named() {
    let first = cassette();
    let mut second = Cassette::new("https://gitlab.test", "proxy");
    second.recorded_at = "2024-10-01T10:20:00.000Z".into();
    let mut done = job(8003, "success");
    done["started_at"] = json!("2024-10-01T10:02:00.000Z");
    done["finished_at"] = json!("2024-10-01T10:12:00.000Z");
    done["duration"] = json!(600.0);
    done["queued_duration"] = json!(1.5);
    // A session-prefixed path, as a client of a glmock session would send.
    second.exchanges = vec![get(
        "/-/sessions/s1/api/v4/projects/77/jobs/8003",
        Body::Json(done),
    )];
    let imported = import(vec![("a.yaml".into(), &first), ("b.yaml".into(), &second)]).unwrap();
    let yaml = &imported.yaml;
    assert!(yaml.contains("#   a.yaml: https://gitlab.test"), "{yaml}");
    assert!(yaml.contains("#   b.yaml: https://gitlab.test"), "{yaml}");
    assert!(yaml.contains("now: \"2024-10-01T10:20:00.000Z\""), "{yaml}");
    let job = &yaml[yaml.find("- id: 8003").unwrap()..];
    assert!(job.contains("status: success"), "{yaml}");
    assert!(
        job.contains("finished_at: \"2024-10-01T10:12:00.000Z\""),
        "{yaml}"
    );
    // Job 8003 finished; pipeline 900 was last seen running (10:00:05 → 595 s at 10:10),
    // and the clock now stands at 10:20, so its duration is the one value that moves.
    assert!(
        imported
            .summary
            .iter()
            .any(|l| l.contains("1 duration(s) of waiting or running")),
        "{:?}",
        imported.summary
    );
}

//! Requests to GitLab endpoints glmock does not implement: marked, journaled, logged,
//! listed; and the access log.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::json;

use crate::observe::control;
use crate::support::*;

#[tokio::test]
async fn an_unimplemented_gitlab_endpoint_is_a_marked_404_and_is_listed() {
    let s = TestServer::default_scenario().await;
    for _ in 0..2 {
        let r = s.get("/projects/1/jobs/1203/artifacts", Some(ROOT)).await;
        r.assert(404, json!({"error": "404 Not Found"}));
        assert_eq!(r.header("x-glmock-unimplemented"), Some("true"));
    }
    let r = s.post("/projects/1/variables", Some(ROOT)).await;
    assert_eq!(r.header("x-glmock-unimplemented"), Some("true"));
    // A real 404 and an unknown path are not marked.
    let r = s.get("/projects/1/jobs/999999", Some(ROOT)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-glmock-unimplemented"), None);
    let r = s.get("/projects/1/no_such_thing", Some(ROOT)).await;
    r.assert(404, json!({"error": "404 Not Found"}));
    assert_eq!(r.header("x-glmock-unimplemented"), None);
    // Another method on an unimplemented path is not one of GitLab's routes either.
    let r = s
        .send(
            reqwest::Method::PATCH,
            "/projects/1/variables",
            Some(ROOT),
            None,
        )
        .await;
    assert_eq!(r.header("x-glmock-unimplemented"), None);

    let j = control(&s, Method::GET, "/journal?path=*/artifacts", &[], None)
        .await
        .json();
    assert_eq!(j["entries"][0]["unimplemented"], true);
    assert_eq!(
        j["entries"][0]["route"],
        "/api/v4/projects/:id/jobs/:job_id/artifacts"
    );
    let hits = control(&s, Method::GET, "/unimplemented", &[], None)
        .await
        .json();
    assert_eq!(hits["hits"][0]["method"], "GET");
    assert_eq!(
        hits["hits"][0]["route"],
        "/api/v4/projects/:id/jobs/:job_id/artifacts"
    );
    assert_eq!(hits["hits"][0]["count"], 2);
    assert_eq!(
        hits["hits"][0]["last_path"],
        "/api/v4/projects/1/jobs/1203/artifacts"
    );
    assert_eq!(hits["hits"][1]["route"], "/api/v4/projects/:id/variables");
    assert_eq!(hits["hits"].as_array().unwrap().len(), 2);
    assert!(hits.get("known").is_none());
    let all = control(&s, Method::GET, "/unimplemented?all=true", &[], None)
        .await
        .json();
    assert!(
        all["known"]
            .as_array()
            .unwrap()
            .contains(&json!("POST /api/v4/projects/:id/trigger/pipeline"))
    );
}

/// Runs the binary, sends API requests, and returns its stderr.
async fn stderr_after_requests(args: &[&str], envs: &[(&str, &str)], paths: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glmock"));
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("GLMOCK_ACCESS_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("glmock starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    out.read_line(&mut url).unwrap();
    let client = reqwest::Client::new();
    for p in paths {
        let r = client
            .get(format!("{}{p}", url.trim()))
            .header("PRIVATE-TOKEN", ROOT)
            .send()
            .await
            .expect("request sent");
        let _ = r.bytes().await;
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn the_access_log_and_the_unimplemented_warning_reach_the_console() {
    let log = stderr_after_requests(
        &[],
        &[],
        &[
            "/-/sessions/s1/api/v4/projects/1/jobs/7",
            "/api/v4/projects/1/jobs/1203/artifacts",
        ],
    )
    .await;
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let access_at = lines
        .iter()
        .position(|l| {
            l["target"] == "glmock::access" && l["fields"]["path"] == "/api/v4/projects/1/jobs/7"
        })
        .unwrap_or_else(|| panic!("no access line: {log}"));
    let access = &lines[access_at];
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["fields"]["method"], "GET");
    assert_eq!(access["fields"]["session"], "s1");
    assert_eq!(access["fields"]["status"], 200);
    assert!(access["fields"]["latency_us"].is_u64());
    let warn_at = lines
        .iter()
        .position(|l| {
            l["level"] == "WARN" && l["fields"]["path"] == "/api/v4/projects/1/jobs/1203/artifacts"
        })
        .unwrap_or_else(|| panic!("no unimplemented warning: {log}"));
    // Access lines are batched, but never written after a later line.
    assert!(access_at < warn_at, "{log}");
    let warn = &lines[warn_at];
    assert_eq!(warn["fields"]["method"], "GET");
    assert_eq!(
        warn["fields"]["route"],
        "/api/v4/projects/:id/jobs/:job_id/artifacts"
    );

    for (args, envs) in [
        (vec!["--no-access-log"], vec![]),
        (vec![], vec![("GLMOCK_ACCESS_LOG", "false")]),
    ] {
        let log = stderr_after_requests(&args, &envs, &["/api/v4/projects/1/jobs/7"]).await;
        assert!(!log.contains("glmock::access"), "{args:?} {envs:?}: {log}");
        assert!(log.contains("glmock listening"), "{log}");
    }
}

#[tokio::test]
async fn batched_access_lines_reach_the_console_while_the_server_runs() {
    let (mut child, url) = spawn_serve(&["--log-format", "json"]);
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let r = reqwest::Client::new()
        .get(format!("{url}/api/v4/projects/1/jobs/7"))
        .header("PRIVATE-TOKEN", ROOT)
        .send()
        .await
        .expect("request sent");
    assert_eq!(r.status(), 200);
    // No shutdown, no other line: the periodic flush (every 50 ms) writes it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut seen = Vec::new();
    let found = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("glmock::access") => break true,
            Ok(line) => seen.push(line),
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(found, "no access line within 5 s while serving: {seen:#?}");
}

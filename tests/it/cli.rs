//! The binary as users run it: flags from GLMOCK_* variables, the bound URL on stdout,
//! JSON logs on stderr, and a prompt exit on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::fixture;

#[tokio::test]
async fn serve_takes_its_flags_from_the_environment_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("serve")
        .env("GLMOCK_LISTEN", "127.0.0.1:0")
        .env(
            "GLMOCK_SCENARIO",
            fixture("fixtures/examples/showcase.yaml"),
        )
        .env("GLMOCK_GITLAB_VERSION", "16.11")
        .env("GLMOCK_CONTRACT", "strict")
        .env("GLMOCK_LOG_FORMAT", "json")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("glmock starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let url = url.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url:?}"
    );

    let client = reqwest::Client::new();
    let health = client
        .get(format!("{url}/-/glmock/health"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["gitlab_version"], "16.11");
    let project = client
        .get(format!("{url}/api/v4/projects/group%2Fproject"))
        .header("PRIVATE-TOKEN", "glpat-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        project.status(),
        200,
        "the showcase came from GLMOCK_SCENARIO"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "glmock did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let first: serde_json::Value = serde_json::from_str(stderr.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(first["fields"]["message"], "glmock listening", "{stderr}");
    assert_eq!(first["fields"]["url"], url);
}

#[test]
fn serve_rejects_a_bad_flag_value_with_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_glmock"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--gitlab-version",
            "12.0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "error: --gitlab-version \"12.0\" is not supported (allowed: 13.12 to 18.5, as major.minor)"
    );
}

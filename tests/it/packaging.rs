//! The binary as the container image runs it: scenarios from a directory
//! (`GLMOCK_SCENARIO_DIR`, `--scenario DIR`) or from a variable (`GLMOCK_SCENARIO_YAML`),
//! and `glmock healthcheck`, also when called as `/bin/sh -c "glmock healthcheck"`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use glmock::__internal::ServerOptions;
use glmock::__internal::scenario::{Overrides, Source};

use crate::support::{TestServer, fixture};

const BIN: &str = env!("CARGO_BIN_EXE_glmock");

/// A fresh, empty directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("glmock-it-packaging-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn glmock() -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("GLMOCK_") {
            c.env_remove(k);
        }
    }
    c.env_remove("RUST_LOG").env("GLMOCK_LOG_LEVEL", "warn");
    c
}

/// `glmock serve` on a free port with these variables; returns the child and its URL.
fn serve(envs: &[(&str, &str)]) -> (Child, String) {
    let mut child = glmock()
        .arg("serve")
        .env("GLMOCK_LISTEN", "127.0.0.1:0")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("glmock starts");
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    assert!(url.starts_with("http://"), "no URL on stdout: {url:?}");
    (child, url.trim().to_owned())
}

/// Runs `glmock serve` that must fail to start.
fn serve_fails(envs: &[(&str, &str)], args: &[&str]) -> Output {
    glmock()
        .arg("serve")
        .args(args)
        .env("GLMOCK_LISTEN", "127.0.0.1:0")
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

/// The status of `GET /api/v4/projects/PATH` as `token` (blocking: the server is another
/// process).
fn project_status(url: &str, path: &str, token: &str) -> u16 {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("PRIVATE-TOKEN: {token}"))
        .arg(format!(
            "{url}/api/v4/projects/{}",
            path.replace('/', "%2F")
        ))
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn copy_showcase(dir: &Path, name: &str) {
    std::fs::copy(fixture("fixtures/examples/showcase.yaml"), dir.join(name)).unwrap();
}

#[test]
fn every_yaml_file_of_the_scenario_dir_is_served_and_other_entries_are_not_read() {
    let dir = temp_dir("dir");
    copy_showcase(&dir, "10-showcase.yaml");
    std::fs::write(
        dir.join("20-more.yml"),
        "users:\n  - {id: 900, username: extra, name: Extra, tokens: [glpat-extra]}\n",
    )
    .unwrap();
    // Not scenarios: would break the load if they were read.
    std::fs::write(dir.join("README.txt"), "not: [yaml").unwrap();
    std::fs::write(dir.join(".10-showcase.yaml.swp"), "not: [yaml").unwrap();
    std::fs::write(dir.join(".hidden.yaml"), "not: [yaml").unwrap();
    std::fs::create_dir(dir.join("nested.yaml")).unwrap();

    let (child, url) = serve(&[("GLMOCK_SCENARIO_DIR", dir.to_str().unwrap())]);
    assert_eq!(project_status(&url, "group/project", "glpat-alice"), 200);
    assert_eq!(
        project_status(&url, "foo/bar", "glpat-root"),
        401,
        "the default scenario is not loaded beside the directory (its token is unknown)"
    );
    let user = Command::new("curl")
        .args(["-s", "-H", "PRIVATE-TOKEN: glpat-extra"])
        .arg(format!("{url}/api/v4/user"))
        .output()
        .unwrap();
    let user: serde_json::Value = serde_json::from_slice(&user.stdout).unwrap();
    assert_eq!(user["username"], "extra", "20-more.yml was merged");
    stop(child);
}

#[test]
fn an_absent_or_empty_scenario_dir_leaves_the_embedded_default() {
    let empty = temp_dir("empty");
    std::fs::write(empty.join("notes.txt"), "nothing here").unwrap();
    for dir in [empty.to_str().unwrap(), "/nonexistent/glmock-scenarios"] {
        let (child, url) = serve(&[("GLMOCK_SCENARIO_DIR", dir)]);
        assert_eq!(project_status(&url, "foo/bar", "glpat-root"), 200, "{dir}");
        stop(child);
    }
}

#[test]
fn scenario_files_win_over_the_scenario_dir_and_a_directory_counts_as_its_files() {
    let dir = temp_dir("given");
    copy_showcase(&dir, "showcase.yaml");
    let broken = temp_dir("ignored");
    std::fs::write(broken.join("broken.yaml"), "gitlab: [").unwrap();
    let (child, url) = serve(&[
        ("GLMOCK_SCENARIO", dir.to_str().unwrap()),
        ("GLMOCK_SCENARIO_DIR", broken.to_str().unwrap()),
    ]);
    assert_eq!(project_status(&url, "group/project", "glpat-alice"), 200);
    stop(child);

    let empty = temp_dir("given-empty");
    let out = serve_fails(&[], &["--scenario", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "error: --scenario {}: the directory holds no *.yaml or *.yml file",
            empty.display()
        )
    );
}

#[test]
fn a_broken_file_in_the_scenario_dir_stops_the_start_with_exit_2_and_its_location() {
    let dir = temp_dir("broken");
    copy_showcase(&dir, "a.yaml");
    std::fs::write(
        dir.join("b.yaml"),
        "projects:\n  - id: 77\n    path: x/y\n    pipelines:\n      - id: 1\n        jobs:\n          - {id: 2, name: n, status: bogus}\n",
    )
    .unwrap();
    let out = serve_fails(&[("GLMOCK_SCENARIO_DIR", dir.to_str().unwrap())], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let b = dir.join("b.yaml");
    assert!(
        stderr.contains(&format!(
            "{}:7:38: projects[0].pipelines[0].jobs[0].status: \"bogus\" is not allowed",
            b.display()
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing served, no URL printed");
}

#[test]
fn a_scenario_in_glmock_scenario_yaml_is_served_and_its_errors_are_located() {
    let yaml = "users:\n  - {id: 5, username: ci, name: CI, tokens: [glpat-ci]}\nprojects:\n  - {id: 3, path: ci/app, members: {ci: developer}}\n";
    let (child, url) = serve(&[("GLMOCK_SCENARIO_YAML", yaml)]);
    assert_eq!(project_status(&url, "ci/app", "glpat-ci"), 200);
    assert_eq!(
        project_status(&url, "foo/bar", "glpat-root"),
        401,
        "no default scenario beside it"
    );
    stop(child);

    let out = serve_fails(
        &[("GLMOCK_SCENARIO_YAML", "gitlab:\n  version: \"9.0\"\n")],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GLMOCK_SCENARIO_YAML:2:12: gitlab.version"),
        "{stderr}"
    );
}

async fn server_with_token(token: Option<&str>) -> TestServer {
    TestServer::start(
        vec![Source::embedded_default()],
        Overrides::default(),
        ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            control_token: token.map(str::to_owned),
            ..ServerOptions::default()
        },
    )
    .await
}

/// Runs the binary off the async runtime (the server under test runs on it).
async fn run(cmd: Command) -> Output {
    let mut cmd = cmd;
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn port(url: &str) -> &str {
    url.rsplit(':').next().unwrap()
}

#[tokio::test]
async fn healthcheck_exits_0_when_the_server_answers_and_1_when_it_does_not() {
    let server = server_with_token(None).await;
    let mut ok = glmock();
    ok.args(["healthcheck"])
        .env("GLMOCK_LISTEN", format!("0.0.0.0:{}", port(&server.url)));
    let out = run(ok).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("healthy: {\"status\":\"ok\",\"glmock\":\""),
        "{stdout}"
    );

    // A port nothing listens on: the server is gone.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let free_port = free.local_addr().unwrap().port();
    drop(free);
    let mut down = glmock();
    down.args(["healthcheck", "--listen", &format!("127.0.0.1:{free_port}")]);
    let out = run(down).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("unhealthy: connecting to 127.0.0.1:"),
        "{out:?}"
    );

    let mut bad = glmock();
    bad.args(["healthcheck", "--listen", "not an address"]);
    assert_eq!(run(bad).await.status.code(), Some(2));
}

#[tokio::test]
async fn healthcheck_sends_the_control_token_when_the_server_wants_one() {
    let server = server_with_token(Some("s3cret")).await;
    let listen = format!("127.0.0.1:{}", port(&server.url));
    let mut without = glmock();
    without.args(["healthcheck", "--listen", &listen]);
    let out = run(without).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("answered 401"),
        "{out:?}"
    );
    let mut with = glmock();
    with.args(["healthcheck", "--listen", &listen])
        .env("GLMOCK_CONTROL_TOKEN", "s3cret");
    assert_eq!(run(with).await.status.code(), Some(0));
}

#[tokio::test]
async fn called_as_sh_the_binary_runs_only_the_health_check() {
    let server = server_with_token(None).await;
    let dir = temp_dir("sh");
    let sh = dir.join("sh");
    std::os::unix::fs::symlink(BIN, &sh).unwrap();
    let listen = format!("127.0.0.1:{}", port(&server.url));

    // What `docker run --health-cmd "glmock healthcheck"` executes.
    let mut health = Command::new(&sh);
    health
        .args(["-c", "glmock healthcheck"])
        .env("GLMOCK_LISTEN", &listen);
    let out = run(health).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let mut other = Command::new(&sh);
    other.args(["-c", "curl -f http://localhost:8080/"]);
    let out = run(other).await;
    assert_eq!(out.status.code(), Some(127));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("this image has no shell"),
        "{out:?}"
    );
}

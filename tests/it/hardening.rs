//! Issue #14: nothing that arrives on a socket or in a scenario can kill, hang, flood or
//! leak. Bounded parsing (Rack's limits, GitLab's answers), connection limits and timeouts,
//! graceful shutdown, and `log_file` confinement.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    let r = s.post_form("/projects/2/pipeline", Some(ROOT), &q).await;
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
    assert_bad_request(&s.post_form("/projects/2/pipeline", Some(ROOT), &many).await);
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
            "/projects/2/pipeline",
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

// ----------------------------------------------------------------------------------------
// Connections

/// A server on loopback with the given connection options (the default scenario).
async fn server_with(options: glmock::__internal::ServerOptions) -> TestServer {
    TestServer::start(
        vec![glmock::__internal::scenario::Source::embedded_default()],
        Default::default(),
        glmock::__internal::ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            ..options
        },
    )
    .await
}

fn addr(s: &TestServer) -> String {
    s.url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes; `None` if it has not closed within `within`.
async fn read_to_close(c: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, c.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {ROOT}\r\n\r\n")
}

fn quick() -> glmock::__internal::ServerOptions {
    glmock::__internal::ServerOptions {
        first_byte_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        write_timeout: Duration::from_millis(300),
        ..glmock::__internal::ServerOptions::default()
    }
}

#[tokio::test]
async fn connections_that_never_speak_or_go_idle_are_closed() {
    let s = server_with(quick()).await;
    // Never a byte.
    let mut silent = TcpStream::connect(addr(&s)).await.unwrap();
    assert_eq!(
        read_to_close(&mut silent, Duration::from_secs(5)).await,
        Some(vec![]),
        "a silent connection is closed"
    );
    // HTTP/1 keep-alive, idle after one answer.
    let mut keep = TcpStream::connect(addr(&s)).await.unwrap();
    keep.write_all(get_request("/api/v4/projects/1").as_bytes())
        .await
        .unwrap();
    let got = read_to_close(&mut keep, Duration::from_secs(5))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(
        got.starts_with(b"HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // h2c with prior knowledge, idle after the preface.
    let mut h2 = TcpStream::connect(addr(&s)).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let got = read_to_close(&mut h2, Duration::from_secs(5))
        .await
        .expect("an idle HTTP/2 connection is closed");
    assert!(
        got.len() >= 9 && got[3] == 4,
        "the server's SETTINGS came first"
    );
}

#[tokio::test]
async fn the_connection_cap_refuses_politely_and_frees_up() {
    let s = server_with(glmock::__internal::ServerOptions {
        max_connections: 2,
        first_byte_timeout: Duration::from_secs(60),
        ..glmock::__internal::ServerOptions::default()
    })
    .await;
    let a = TcpStream::connect(addr(&s)).await.unwrap();
    let _b = TcpStream::connect(addr(&s)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    c.write_all(get_request("/api/v4/projects/1").as_bytes())
        .await
        .unwrap();
    let got = read_to_close(&mut c, Duration::from_secs(5)).await.unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nretry-after: 1\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\n{\"message\":\"503 Service Unavailable\"}"),
        "{text}"
    );
    // One slot frees: served again.
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = s.get("/projects/1", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Pipelines big answers on `c` and never reads them, until the server's writes block.
async fn stop_reading(c: &mut TcpStream) {
    let req = get_request("/api/v4/projects/1/jobs?per_page=100");
    let mut batch = String::new();
    for _ in 0..200 {
        batch.push_str(&req);
    }
    // Our own writes stall once both socket buffers are full: that is the point.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if c.write_all(batch.as_bytes()).await.is_err() {
                break;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_closed_after_the_write_timeout() {
    let s = server_with(glmock::__internal::ServerOptions {
        max_connections: 1,
        ..quick()
    })
    .await;
    let mut stuck = TcpStream::connect(addr(&s)).await.unwrap();
    stop_reading(&mut stuck).await;
    // It held the only slot; the write timeout gives it back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = s.get("/projects/1", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn shutdown_closes_keep_alive_with_connection_close_and_reports_cut_responses() {
    let world = glmock::__internal::scenario::build(
        &[glmock::__internal::scenario::Source::embedded_default()],
        &Default::default(),
    )
    .unwrap();
    let server = glmock::__internal::Server::start(
        world,
        glmock::__internal::ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            shutdown_grace: Duration::from_millis(800),
            write_timeout: Duration::from_secs(60),
            ..glmock::__internal::ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let a = server.addr();
    // A request in flight: its body is half sent when the stop comes.
    let mut inflight = TcpStream::connect(a).await.unwrap();
    let head = format!(
        "POST /api/v4/projects/2/pipeline HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {ROOT}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\n\r\nref="
    );
    inflight.write_all(head.as_bytes()).await.unwrap();
    // Never a byte, idle keep-alive, and a client that never reads.
    let _silent = TcpStream::connect(a).await.unwrap();
    let mut idle = TcpStream::connect(a).await.unwrap();
    idle.write_all(get_request("/api/v4/projects/1").as_bytes())
        .await
        .unwrap();
    let mut stuck = TcpStream::connect(a).await.unwrap();
    stop_reading(&mut stuck).await;

    let stopping = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    inflight
        .write_all(b"main\r\nGET /api/v4/projects/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let got = read_to_close(&mut inflight, Duration::from_secs(5))
        .await
        .expect("closed after its answer");
    // Both answered (the pipelined GET too: 404 without a token); only the last says the
    // connection closes.
    let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
    let answers: Vec<&str> = text.split("http/1.1 ").skip(1).collect();
    assert_eq!(answers.len(), 2, "{text}");
    assert!(answers[0].starts_with("400 bad request\r\n"), "{text}");
    assert!(!answers[0].contains("\r\nconnection: close\r\n"), "{text}");
    assert!(answers[1].starts_with("404 not found\r\n"), "{text}");
    assert!(answers[1].contains("\r\nconnection: close\r\n"), "{text}");
    let idle_got = read_to_close(&mut idle, Duration::from_secs(5)).await;
    assert!(
        idle_got.is_some(),
        "the idle keep-alive connection is closed"
    );

    let report = stopping.await.unwrap();
    assert_eq!(
        report.cut, 1,
        "the never-reading client's answer was cut: {report:?}"
    );
}

// ----------------------------------------------------------------------------------------
// `log_file:` confinement

/// A fresh directory with `scenario.yaml` naming `log_file` for job 1, plus `inside.log`.
fn scenario_dir(tag: &str, log_file: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("glmock-logfile-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("logs/inside.log"), "hello from the log\n").unwrap();
    let yaml = format!(
        "users: [{{id: 1, username: root, admin: true, tokens: [{{token: glpat-x}}]}}]\n\
         projects:\n  - id: 1\n    path: g/p\n    pipelines:\n      - id: 1\n        jobs:\n\
         \x20         - id: 1\n            name: build\n            status: success\n\
         \x20           log_file: {log_file:?}\n"
    );
    std::fs::write(dir.join("scenario.yaml"), yaml).unwrap();
    dir
}

/// `glmock check DIR/scenario.yaml`, killed if it takes more than 10 s (a FIFO must not hang).
fn check_binary(dir: &std::path::Path) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .arg("check")
        .arg(dir.join("scenario.yaml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("glmock check hung on {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn load(dir: &std::path::Path) -> Result<glmock::__internal::world::World, String> {
    glmock::__internal::scenario::load_paths(&[dir.join("scenario.yaml")], &Default::default())
        .map_err(|e| e.to_string())
}

#[track_caller]
fn assert_refused(tag: &str, log_file: &str, setup: impl Fn(&std::path::Path), expect: &str) {
    let dir = scenario_dir(tag, log_file);
    setup(&dir);
    let (code, out) = check_binary(&dir);
    assert_eq!(code, Some(2), "{tag}: {out}");
    let file = dir.join("scenario.yaml");
    let located = format!(
        "{}:11:23: projects[0].pipelines[0].jobs[0].log_file: log_file {log_file:?}",
        file.display()
    );
    assert!(
        out.contains(&located),
        "{tag}: expected {located:?} in\n{out}"
    );
    assert!(out.contains(expect), "{tag}: expected {expect:?} in\n{out}");
    assert!(
        out.contains(
            "allowed: a regular file of at most 64 MiB inside the scenario file's directory"
        ),
        "{tag}: {out}"
    );
    let err = load(&dir).expect_err(tag);
    assert!(err.contains(&located), "{tag}: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn log_file_inside_the_scenario_directory_is_served() {
    let dir = scenario_dir("ok", "logs/inside.log");
    let (code, out) = check_binary(&dir);
    assert_eq!(code, Some(0), "{out}");
    let s = TestServer::start(
        vec![glmock::__internal::scenario::Source::read(&dir.join("scenario.yaml")).unwrap()],
        Default::default(),
        glmock::__internal::ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            ..glmock::__internal::ServerOptions::default()
        },
    )
    .await;
    let r = s.get("/projects/1/jobs/1/trace", Some("glpat-x")).await;
    assert_eq!((r.status, r.text.as_str()), (200, "hello from the log\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn regression_issue_14_log_file_cannot_escape_or_block() {
    let outside = std::env::temp_dir().join(format!("glmock-outside-{}.log", std::process::id()));
    std::fs::write(&outside, "secret").unwrap();
    let rel_outside = format!("../{}", outside.file_name().unwrap().to_string_lossy());
    assert_refused(
        "dotdot",
        &rel_outside,
        |_| {},
        "outside the scenario's directory",
    );
    assert_refused(
        "abs",
        "/etc/passwd",
        |_| {},
        "outside the scenario's directory",
    );
    assert_refused(
        "proc",
        "/proc/self/environ",
        |_| {},
        "outside the scenario's directory",
    );
    assert_refused(
        "zero",
        "/dev/zero",
        |_| {},
        "outside the scenario's directory",
    );
    let target = outside.clone();
    assert_refused(
        "symlink",
        "logs/link.log",
        move |d| std::os::unix::fs::symlink(&target, d.join("logs/link.log")).unwrap(),
        "outside the scenario's directory",
    );
    assert_refused(
        "fifo",
        "logs/pipe",
        |d| {
            let ok = std::process::Command::new("mkfifo")
                .arg(d.join("logs/pipe"))
                .status()
                .unwrap()
                .success();
            assert!(ok, "mkfifo");
        },
        "is a FIFO, not a regular file",
    );
    assert_refused("dir", "logs", |_| {}, "is a directory, not a regular file");
    assert_refused(
        "big",
        "logs/big.log",
        |d| {
            let f = std::fs::File::create(d.join("logs/big.log")).unwrap();
            f.set_len(64 * 1024 * 1024 + 1).unwrap(); // sparse: costs no disk
        },
        "has 67108865 bytes, more than 67108864",
    );
    let _ = std::fs::remove_file(&outside);
}

#[test]
fn log_file_in_a_scenario_given_as_text_is_refused() {
    let yaml = "projects:\n  - id: 1\n    path: g/p\n    pipelines:\n      - id: 1\n        jobs:\n          - {id: 1, name: a, status: success, log_file: /etc/passwd}\n";
    let err = glmock::__internal::scenario::build(
        &[glmock::__internal::scenario::Source {
            name: "inline.yaml".into(),
            text: yaml.into(),
            dir: None,
        }],
        &Default::default(),
    )
    .expect_err("refused")
    .to_string();
    assert!(
        err.contains("inline.yaml:7:57: projects[0].pipelines[0].jobs[0].log_file: log_file \"/etc/passwd\" cannot be read: this scenario was given as text"),
        "{err}"
    );
}

// ----------------------------------------------------------------------------------------
// `glmock record`: secrets the redaction used to miss

/// A fake GitLab on loopback: fixed answers per path, some echoing what the client sent.
async fn leaky_upstream() -> String {
    use http_body_util::BodyExt;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                let path = req.uri().path().to_owned();
                let token = req
                    .headers()
                    .get("private-token")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let (ct, text) = match path.as_str() {
                    "/api/v4/projects/1/settings" => (
                        "application/json",
                        json!({"name": "kept", "api_key": "k-api-123456", "authToken": "t-auth-123456",
                               "secret_value": "s-value-123456", "credentials": {"pass": "p-pass-123456"},
                               "token_expires_at": "2030-01-01"})
                        .to_string(),
                    ),
                    "/api/v4/projects/1/pipelines/1/variables" => (
                        "application/json",
                        json!([{"variable_type": "env_var", "key": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
                               {"variable_type": "env_var", "key": "RUBY_VERSION", "value": "3.3.0-custom"}])
                        .to_string(),
                    ),
                    "/api/v4/echo" => {
                        let encoded: String =
                            form_urlencoded::byte_serialize(token.as_bytes()).collect();
                        let lower = percent_encoding::utf8_percent_encode(
                            &token,
                            percent_encoding::NON_ALPHANUMERIC,
                        )
                        .to_string()
                        .replace("%2B", "%2b");
                        let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        (
                            "application/json",
                            json!({"message": format!("bad token {encoded} ({lower})"),
                                   "saw": format!("body token {}", sent["private_token"].as_str().unwrap_or(""))})
                            .to_string(),
                        )
                    }
                    _ => ("text/plain", json!({"token": "plain-json-secret-1", "id": 7}).to_string()),
                };
                let mut resp =
                    hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(text)));
                resp.headers_mut()
                    .insert("content-type", ct.parse().unwrap());
                Ok::<_, std::convert::Infallible>(resp)
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    url
}

/// Sends `requests` through a recording proxy to the leaky upstream; the cassette as JSON.
async fn record_through_proxy(
    requests: impl FnOnce(String, reqwest::Client) -> futures_like::BoxFuture,
) -> (glmock::__internal::record::cassette::Cassette, String) {
    let upstream = leaky_upstream().await;
    let handle = glmock::__internal::record::proxy(
        &glmock::__internal::record::ProxyOptions::new(&upstream, "127.0.0.1:0"),
        None,
    )
    .await
    .unwrap();
    requests(handle.url(), reqwest::Client::new()).await;
    let cassette = handle.stop().await;
    let text = serde_json::to_string(&cassette).unwrap();
    (cassette, text)
}

mod futures_like {
    pub type BoxFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

fn response_json(c: &glmock::__internal::record::cassette::Cassette, i: usize) -> Value {
    match &c.exchanges[i].response.body {
        Some(glmock::__internal::record::cassette::Body::Json(v)) => v.clone(),
        Some(glmock::__internal::record::cassette::Body::Text(t)) => {
            serde_json::from_str(t).unwrap()
        }
        None => panic!("no body"),
    }
}

#[tokio::test]
async fn regression_issue_14_record_redacts_secret_looking_keys() {
    let (c, text) = record_through_proxy(|base, client| {
        Box::pin(async move {
            client
                .get(format!("{base}/api/v4/projects/1/settings"))
                .header("PRIVATE-TOKEN", "glpat-client-aaaaaa")
                .send()
                .await
                .unwrap();
        })
    })
    .await;
    assert_eq!(
        response_json(&c, 0),
        json!({"name": "kept", "api_key": "[REDACTED]", "authToken": "[REDACTED]",
               "secret_value": "[REDACTED]", "credentials": {"pass": "[REDACTED]"},
               "token_expires_at": "2030-01-01"})
    );
    assert!(!text.contains("123456"), "{text}");
}

#[tokio::test]
async fn regression_issue_14_record_redacts_every_pipeline_variable_value() {
    let (c, text) = record_through_proxy(|base, client| {
        Box::pin(async move {
            client
                .get(format!("{base}/api/v4/projects/1/pipelines/1/variables"))
                .header("PRIVATE-TOKEN", "glpat-client-aaaaaa")
                .send()
                .await
                .unwrap();
        })
    })
    .await;
    assert_eq!(
        response_json(&c, 0),
        json!([{"variable_type": "env_var", "key": "AWS_ACCESS_KEY_ID", "value": "[REDACTED]"},
               {"variable_type": "env_var", "key": "RUBY_VERSION", "value": "[REDACTED]"}])
    );
    assert!(
        !text.contains("AKIAIOSFODNN7EXAMPLE") && !text.contains("3.3.0-custom"),
        "{text}"
    );
}

#[tokio::test]
async fn regression_issue_14_record_scrubs_tokens_echoed_percent_encoded() {
    // Not GitLab-shaped (no `glpat-`), with characters that percent-encoding changes.
    let token = "my+odd/token=42xyz";
    let (c, text) = record_through_proxy(move |base, client| {
        Box::pin(async move {
            client
                .get(format!("{base}/api/v4/echo"))
                .header("PRIVATE-TOKEN", token)
                .send()
                .await
                .unwrap();
        })
    })
    .await;
    assert_eq!(
        response_json(&c, 0)["message"],
        "bad token [REDACTED] ([REDACTED])"
    );
    for spelling in [
        "my+odd/token",
        "my%2Bodd%2Ftoken",
        "my%2bodd%2ftoken",
        "odd%2Ftoken",
        "odd%2ftoken",
    ] {
        assert!(!text.contains(spelling), "{spelling} in {text}");
    }
}

#[tokio::test]
async fn regression_issue_14_record_scrubs_a_token_sent_in_a_json_body() {
    let (c, text) = record_through_proxy(|base, client| {
        Box::pin(async move {
            client
                .post(format!("{base}/api/v4/echo"))
                .header("content-type", "application/json")
                .body(json!({"private_token": "body-token-77777", "ref": "main"}).to_string())
                .send()
                .await
                .unwrap();
        })
    })
    .await;
    assert_eq!(response_json(&c, 0)["saw"], "body token [REDACTED]");
    assert!(!text.contains("body-token-77777"), "{text}");
}

#[tokio::test]
async fn regression_issue_14_record_scrubs_json_served_as_text() {
    let (c, text) = record_through_proxy(|base, client| {
        Box::pin(async move {
            client
                .get(format!("{base}/api/v4/other"))
                .header("PRIVATE-TOKEN", "glpat-client-aaaaaa")
                .send()
                .await
                .unwrap();
        })
    })
    .await;
    assert!(
        matches!(
            &c.exchanges[0].response.body,
            Some(glmock::__internal::record::cassette::Body::Text(_))
        ),
        "kept as the text it was served as"
    );
    assert_eq!(
        response_json(&c, 0),
        json!({"token": "[REDACTED]", "id": 7})
    );
    assert!(!text.contains("plain-json-secret-1"), "{text}");
}

// ----------------------------------------------------------------------------------------
// Protocol errors hyper answers itself

#[tokio::test]
async fn protocol_errors_get_nginx_shaped_bodies() {
    let s = TestServer::default_scenario().await;
    let send = |bytes: Vec<u8>| {
        let a = addr(&s);
        async move {
            let mut c = TcpStream::connect(a).await.unwrap();
            let _ = c.write_all(&bytes).await;
            let got = read_to_close(&mut c, Duration::from_secs(5)).await.unwrap();
            String::from_utf8_lossy(&got).into_owned()
        }
    };
    let bad_line = send(b"GET /api/v4/user HTTP/1.1 extra\r\nHost: x\r\n\r\n".to_vec()).await;
    assert!(
        bad_line.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{bad_line}"
    );
    assert!(
        bad_line.contains("\r\ncontent-type: text/html\r\n"),
        "{bad_line}"
    );
    assert!(
        bad_line.contains("<center><h1>400 Bad Request</h1></center>"),
        "{bad_line}"
    );
    let mut big = b"GET /api/v4/user HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        big.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "a".repeat(2000)).as_bytes());
    }
    big.extend_from_slice(b"\r\n");
    let too_big = send(big).await;
    assert!(
        too_big.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{too_big}"
    );
    assert!(
        too_big.contains("<center>Request Header Or Cookie Too Large</center>"),
        "{too_big}"
    );
    let r = s.get("/projects/1", Some(ROOT)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_body_that_stops_arriving_ends_the_request() {
    let s = server_with(quick()).await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    let head = format!(
        "POST /api/v4/projects/2/pipeline HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {ROOT}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nref="
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let got = read_to_close(&mut c, Duration::from_secs(5))
        .await
        .expect("answered and closed, not held");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
    assert!(
        text.ends_with("{\"message\":\"400 Bad request - could not read the request body\"}"),
        "{text}"
    );
}

#[test]
fn accept_errors_at_the_file_limit_are_logged_once_per_interval() {
    // 48 descriptors: the runtime takes a few, the rest fill with connections, and every
    // further accept fails with EMFILE.
    let bin = env!("CARGO_BIN_EXE_glmock");
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -n 48 && exec '{bin}' serve --listen 127.0.0.1:0"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut url,
    )
    .unwrap();
    let a = url.trim().trim_start_matches("http://").to_owned();
    let conns: Vec<_> = (0..120)
        .filter_map(|_| std::net::TcpStream::connect(&a).ok())
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    drop(conns);
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let lines = log.lines().filter(|l| l.contains("accept failed")).count();
    assert_eq!(lines, 1, "one line per 5 s, with a count:\n{log}");
}

/// VmRSS of a process, in bytes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

// glibc keeps freed memory in its arenas; a reset must hand it back (malloc_trim).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn regression_issue_14_a_reset_hands_freed_memory_back_to_the_os() {
    let (mut child, url) = spawn_serve(&["--no-access-log", "--journal-body-bytes", "120000"]);
    let client = reqwest::Client::new();
    // 500 journaled request bodies of 100 KB (50 MB, under the journal's 64 MiB), over
    // five sessions.
    let body = "x".repeat(100_000);
    for i in 0..500 {
        let r = client
            .post(format!(
                "{url}/-/sessions/m{}/api/v4/projects/1/jobs/1203/retry",
                i % 5
            ))
            .header("PRIVATE-TOKEN", "glpat-root")
            .header("Content-Type", "application/octet-stream")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_client_error() || r.status().is_success(),
            "{}",
            r.status()
        );
    }
    let full = rss_bytes(child.id());
    let r = client
        .post(format!("{url}/-/glmock/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The trim runs on a blocking thread after the answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut after = rss_bytes(child.id());
    while after > full - 30_000_000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = rss_bytes(child.id());
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        full > 50_000_000,
        "the journal should have held ~50 MB: RSS {full}"
    );
    assert!(
        after < full - 30_000_000,
        "RSS {full} before the reset, {after} after: the freed journal was not given back"
    );
}

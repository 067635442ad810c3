//! `glmock record`: crawl and proxy recording against fake upstreams on loopback (a second
//! glmock, and a tiny server that answers as GitLab's code does where the docs differ), no
//! token in any cassette, consistent pseudonyms, 429 + `Retry-After` retried.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use glmock::__internal::record::cassette::{Body, Cassette, Exchange};
use glmock::__internal::record::client::RetryPolicy;
use glmock::__internal::record::{self, CrawlOptions, ProxyOptions, RedactOptions};
use glmock::__internal::scenario::{Overrides, Source};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::support::*;

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("glmock-record-{}-{name}.yaml", std::process::id()))
}

/// `(method, path, query, status)` of each exchange.
fn summary(c: &Cassette) -> Vec<(String, String, String, u16)> {
    c.exchanges
        .iter()
        .map(|x| {
            (
                x.request.method.clone(),
                x.request.path.clone(),
                x.request.query.clone(),
                x.response.status,
            )
        })
        .collect()
}

fn json_body(x: &Exchange) -> &Value {
    match &x.response.body {
        Some(Body::Json(v)) => v,
        other => panic!("not JSON: {other:?}"),
    }
}

#[track_caller]
fn assert_no_secret(yaml: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!yaml.contains(s), "{s:?} written to the cassette:\n{yaml}");
    }
}

#[tokio::test]
async fn crawl_through_the_cli_records_the_seed_endpoints_and_no_token() {
    let upstream = TestServer::default_scenario().await;
    let out = temp_file("crawl");
    let url = upstream.url.clone();
    let out2 = out.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
            .args(["record", "--upstream", &url, "--project", "1"])
            .args(["--pipelines", "2", "--jobs", "2", "--pages", "2"])
            .args(["--trace-bytes", "100", "--rate", "1000"])
            .args(["--token-env", "GLMOCK_TEST_TOKEN_CRAWL", "--out"])
            .arg(&out2)
            .env("GLMOCK_TEST_TOKEN_CRAWL", ROOT)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let yaml = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert_no_secret(&yaml, &[ROOT, "glpat-", "private_token", "PRIVATE-TOKEN"]);
    let c = Cassette::parse("crawl.yaml", &yaml).unwrap();
    assert_eq!(c.mode, "crawl");
    assert_eq!(c.upstream, upstream.url);

    let p = "/api/v4/projects/1";
    let mut expected = vec![
        ("GET", p.to_owned(), "", 200),
        ("GET", format!("{p}/pipelines"), "per_page=2", 200),
        (
            "GET",
            format!("{p}/pipelines"),
            "id=1&order_by=id&page=2&per_page=2&sort=desc",
            200,
        ),
        ("GET", format!("{p}/pipelines/latest"), "", 200),
    ];
    for id in [287, 61] {
        let pp = format!("{p}/pipelines/{id}");
        expected.extend([
            ("GET", pp.clone(), "", 200),
            ("GET", format!("{pp}/variables"), "", 200),
            ("GET", format!("{pp}/test_report"), "", 200),
            ("GET", format!("{pp}/test_report_summary"), "", 200),
            (
                "GET",
                format!("{pp}/jobs"),
                "include_retried=true&per_page=100",
                200,
            ),
            ("GET", format!("{pp}/bridges"), "per_page=100", 200),
        ]);
    }
    expected.extend([
        ("GET", format!("{p}/jobs"), "per_page=2", 200),
        ("GET", format!("{p}/jobs"), "id=1&page=2&per_page=2", 200),
        ("GET", format!("{p}/jobs/10"), "", 200),
        ("GET", format!("{p}/jobs/10/trace"), "", 200),
        ("GET", format!("{p}/jobs/8"), "", 200),
        ("GET", format!("{p}/jobs/8/trace"), "", 200),
    ]);
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(m, p, q, s)| (m.to_owned(), p, q.to_owned(), s))
        .collect();
    assert_eq!(summary(&c), expected);

    // Pagination headers, with a host-independent Link.
    let list = &c.exchanges[1].response.headers;
    assert_eq!(list["content-type"], "application/json");
    assert_eq!(list["x-page"], "1");
    assert_eq!(list["x-per-page"], "2");
    assert_eq!(list["x-next-page"], "2");
    assert_eq!(list["x-prev-page"], "");
    assert_eq!(list["x-total"], "7");
    assert!(
        list["link"].starts_with(
            "<{base}/api/v4/projects/1/pipelines?id=1&order_by=id&page=2&per_page=2&sort=desc>; rel=\"next\""
        ),
        "{}",
        list["link"]
    );
    assert!(!yaml.contains("<http://"));
    assert!(!list.contains_key("x-request-id") && !list.contains_key("date"));
    assert_eq!(
        json_body(&c.exchanges[1])
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [287, 61]
    );

    // Traces are text, cut to --trace-bytes with the original length noted.
    let trace = &c.exchanges[19];
    assert_eq!(trace.response.headers["content-type"], "text/plain");
    let original: usize = trace.response.headers["x-glmock-truncated"]
        .parse()
        .unwrap();
    assert!(original > 100);
    let Some(Body::Text(text)) = &trace.response.body else {
        panic!("trace not text: {:?}", trace.response.body)
    };
    assert!(text.len() <= 100 && !text.is_empty());
    // Requests carry no headers worth recording in crawl mode.
    assert!(c.exchanges.iter().all(|x| x.request.headers.is_empty()));
}

#[tokio::test]
async fn crawl_cli_without_the_token_variable_fails_with_exit_2() {
    let out = temp_file("no-token");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
            .args([
                "record",
                "--upstream",
                "http://127.0.0.1:9",
                "--project",
                "1",
            ])
            .args(["--token-env", "GLMOCK_TEST_TOKEN_UNSET_XYZ", "--out"])
            .arg(&out)
            .env_remove("GLMOCK_TEST_TOKEN_UNSET_XYZ")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("GLMOCK_TEST_TOKEN_UNSET_XYZ"), "{stderr}");
}

#[tokio::test]
async fn crawl_cli_with_a_bad_token_writes_the_401_and_exits_2() {
    let upstream = TestServer::default_scenario().await;
    let out = temp_file("bad-token");
    let url = upstream.url.clone();
    let out2 = out.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
            .args(["record", "--upstream", &url, "--project", "foo/bar"])
            .args(["--rate", "1000", "--redact", "emails,ips,names,urls"])
            .args(["--token-env", "GLMOCK_TEST_TOKEN_BAD", "--out"])
            .arg(&out2)
            .env("GLMOCK_TEST_TOKEN_BAD", "glpat-wrong-secret-value")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("answered 401"), "{stderr}");
    let yaml = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert_no_secret(&yaml, &["glpat-wrong-secret-value", "glpat-", "127.0.0.1"]);
    let c = Cassette::parse("bad.yaml", &yaml).unwrap();
    assert_eq!(c.upstream, "https://gitlab.invalid");
    assert_eq!(
        summary(&c),
        [(
            "GET".to_owned(),
            "/api/v4/projects/foo%2Fbar".to_owned(),
            String::new(),
            401
        )]
    );
    assert_eq!(
        json_body(&c.exchanges[0]),
        &json!({"message": "401 Unauthorized"})
    );
}

#[tokio::test]
async fn crawl_with_redaction_uses_consistent_pseudonyms() {
    // Another glmock, emulating another GitLab version.
    let upstream = TestServer::from_sources(
        vec![Source::embedded_default()],
        Overrides {
            version: glmock::__internal::version::Version::parse("17.5"),
            ..Overrides::default()
        },
    )
    .await;
    let opts = CrawlOptions {
        pipelines: 2,
        jobs: 3,
        pages: 1,
        rate: 0.0,
        ..CrawlOptions::new(&upstream.url, "foo/bar")
    };
    let mut c = record::crawl(&opts, Some(ROOT)).await.unwrap();
    assert_eq!(c.exchanges[0].request.path, "/api/v4/projects/foo%2Fbar");
    assert_eq!(c.exchanges[0].response.status, 200);
    let before = c.to_yaml();
    assert!(before.contains("Administrator") && before.contains("admin@example.com"));

    record::redact(&mut c, &RedactOptions::parse(&["emails", "names"]).unwrap());
    let path = temp_file("redacted");
    c.write(&path).unwrap();
    let yaml = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_no_secret(
        &yaml,
        &[
            ROOT,
            "glpat-",
            "Administrator",
            "admin@example.com",
            "example.com/root",
        ],
    );
    assert_eq!(Cassette::parse("redacted.yaml", &yaml).unwrap(), c);

    // The latest pipeline's user, the jobs' users and their commit authors: one person.
    let latest = c
        .exchanges
        .iter()
        .find(|x| x.request.path.ends_with("/pipelines/latest"))
        .unwrap();
    let user = &json_body(latest)["user"];
    assert_eq!(user["username"], "user1");
    assert_eq!(user["name"], "Person 1");
    assert!(user["web_url"].as_str().unwrap().ends_with("/user1"));
    let job = c
        .exchanges
        .iter()
        .find(|x| x.request.path == "/api/v4/projects/foo%2Fbar/jobs/10")
        .unwrap();
    let job = json_body(job);
    assert_eq!(job["user"]["name"], "Person 1");
    assert_eq!(job["commit"]["author_name"], "Person 1");
    assert_eq!(job["commit"]["author_email"], "user1@example.invalid");
    assert_eq!(job["commit"]["committer_email"], "user1@example.invalid");
    // Job names, refs and project paths are not personal data.
    assert_eq!(job["name"], "rspec");
    assert_eq!(job["ref"], "main");
    assert!(
        job["web_url"]
            .as_str()
            .unwrap()
            .starts_with("https://example.com/foo/bar/")
    );
    // Only the recorded personal data changed: the rest of the cassette is untouched.
    assert_eq!(c.upstream, upstream.url);
}

#[tokio::test]
async fn proxy_records_client_traffic_in_order_with_links_through_the_proxy() {
    let upstream = TestServer::default_scenario().await;
    let handle = record::proxy(
        &ProxyOptions::new(&upstream.url, "127.0.0.1:0"),
        Some(REPORTER.to_owned()),
    )
    .await
    .unwrap();
    let base = handle.url();
    assert_ne!(base, upstream.url);
    let client = reqwest::Client::new();

    // A paginated list, followed through the Link the proxy rewrote.
    let first = client
        .get(format!("{base}/api/v4/projects/1/pipelines?per_page=3"))
        .header("PRIVATE-TOKEN", ROOT)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    let next = support_link(&link, "next");
    assert_eq!(
        next,
        format!("{base}/api/v4/projects/1/pipelines?id=1&order_by=id&page=2&per_page=3&sort=desc")
    );
    let second = client
        .get(&next)
        .header("PRIVATE-TOKEN", ROOT)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["x-page"], "2");
    let page: Vec<Value> = serde_json::from_slice(&second.bytes().await.unwrap()).unwrap();
    let ids: Vec<u64> = page.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [47, 46, 6]);

    // A mutation, with a JSON body.
    let retry = client
        .post(format!("{base}/api/v4/projects/1/jobs/7/retry"))
        .header("PRIVATE-TOKEN", ROOT)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 201);
    let new_job: Value = serde_json::from_slice(&retry.bytes().await.unwrap()).unwrap();
    assert_ne!(new_job["id"], 7);

    // No credentials from the client: the recorder's token is added.
    let job = client
        .get(format!("{base}/api/v4/projects/1/jobs/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(job.status(), 200);
    // A token in the query: forwarded, never recorded (nor in the Link that echoes it).
    let listed = client
        .get(format!(
            "{base}/api/v4/projects/1/jobs?per_page=1&private_token={DEVELOPER}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert!(
        listed.headers()["link"]
            .to_str()
            .unwrap()
            .contains(DEVELOPER)
    );
    // An error answer is recorded too.
    let missing = client
        .get(format!("{base}/api/v4/projects/1/jobs/999999"))
        .header("JOB-TOKEN", JOB_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(missing.status().is_client_error());
    assert_eq!(handle.recorded(), 6);

    let c = handle.stop().await;
    let path = temp_file("proxy");
    c.write(&path).unwrap();
    let yaml = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_no_secret(
        &yaml,
        &[
            ROOT,
            REPORTER,
            DEVELOPER,
            JOB_TOKEN,
            "glpat-",
            "private_token",
            "PRIVATE-TOKEN",
        ],
    );
    assert!(!yaml.contains(&base) && !yaml.contains(&format!("<{}", upstream.url)));
    assert_eq!(c.mode, "proxy");

    let s = summary(&c);
    let paths: Vec<(&str, &str, &str, u16)> = s
        .iter()
        .map(|(m, p, q, st)| (m.as_str(), p.as_str(), q.as_str(), *st))
        .collect();
    assert_eq!(
        paths[..5],
        [
            ("GET", "/api/v4/projects/1/pipelines", "per_page=3", 200),
            (
                "GET",
                "/api/v4/projects/1/pipelines",
                "id=1&order_by=id&page=2&per_page=3&sort=desc",
                200
            ),
            ("POST", "/api/v4/projects/1/jobs/7/retry", "", 201),
            ("GET", "/api/v4/projects/1/jobs/7", "", 200),
            ("GET", "/api/v4/projects/1/jobs", "per_page=1", 200),
        ]
    );
    assert_eq!(paths[5].1, "/api/v4/projects/1/jobs/999999");
    assert!(paths[5].3 >= 400);

    let list = &c.exchanges[0].response.headers;
    assert!(
        list["link"].starts_with(
            "<{base}/api/v4/projects/1/pipelines?id=1&order_by=id&page=2&per_page=3&sort=desc>; rel=\"next\""
        ),
        "{}",
        list["link"]
    );
    let retry = &c.exchanges[2];
    assert_eq!(retry.request.headers["content-type"], "application/json");
    assert_eq!(retry.request.body, Some(Body::Json(json!({}))));
    assert_eq!(json_body(retry)["id"], new_job["id"]);
    assert!(
        !c.exchanges[4].response.headers["link"].contains("token"),
        "{}",
        c.exchanges[4].response.headers["link"]
    );
    for x in &c.exchanges {
        for h in ["private-token", "job-token", "authorization", "cookie"] {
            assert!(!x.request.headers.contains_key(h));
        }
    }
}

fn support_link(header: &str, rel: &str) -> String {
    link(header, rel).unwrap_or_else(|| panic!("no rel={rel} in {header}"))
}

/// A tiny upstream that answers as GitLab's code does: 429 with `Retry-After` once on the
/// project, 403 on `latest` without a pipeline, and a job without a log whose trace is an
/// empty 200 (the docs say 404).
struct CodeLikeUpstream {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

async fn code_like_upstream() -> CodeLikeUpstream {
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let state = seen.clone();
    let web = url.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            let web = web.clone();
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let state = state.clone();
                let web = web.clone();
                async move {
                    let target = req
                        .uri()
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default();
                    let authed = req.headers().get("private-token").is_some();
                    let hits = {
                        let mut s = state.lock().unwrap();
                        s.push(target.clone());
                        s.iter().filter(|t| **t == target).count()
                    };
                    let json = |status: u16, v: Value| (status, "application/json", v.to_string());
                    let (status, ct, body) = match target.split('?').next().unwrap() {
                        _ if !authed => json(401, json!({"message": "401 Unauthorized"})),
                        "/api/v4/projects/1" if hits == 1 => json(
                            429,
                            json!({"message": {"error": "This endpoint has been requested too many times. Try again later."}}),
                        ),
                        "/api/v4/projects/1" => json(
                            200,
                            json!({"id": 1, "path_with_namespace": "g/p", "web_url": format!("{web}/g/p"),
                                   "runners_token": "secret-runner-registration"}),
                        ),
                        "/api/v4/projects/1/pipelines" => json(200, json!([])),
                        "/api/v4/projects/1/pipelines/latest" => {
                            json(403, json!({"message": "403 Forbidden"}))
                        }
                        "/api/v4/projects/1/jobs" => json(200, json!([{"id": 5}, {"id": 6}])),
                        "/api/v4/projects/1/jobs/5" => {
                            json(200, json!({"id": 5, "status": "created"}))
                        }
                        "/api/v4/projects/1/jobs/6" => {
                            json(200, json!({"id": 6, "status": "failed"}))
                        }
                        "/api/v4/projects/1/jobs/5/trace" => (200, "text/plain", String::new()),
                        "/api/v4/projects/1/jobs/6/trace" => (
                            200,
                            "text/plain",
                            format!("$ echo glpat-leaked0123456789 é\n{}", "x".repeat(250)),
                        ),
                        _ => json(404, json!({"error": "404 Not Found"})),
                    };
                    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
                    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                    resp.headers_mut()
                        .insert("content-type", ct.parse().unwrap());
                    if status == 429 {
                        resp.headers_mut()
                            .insert("retry-after", "1".parse().unwrap());
                    }
                    Ok::<_, Infallible>(resp)
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    CodeLikeUpstream { url, seen }
}

#[tokio::test]
async fn crawl_retries_429_after_retry_after_and_records_code_behaviour() {
    let upstream = code_like_upstream().await;
    let opts = CrawlOptions {
        pipelines: 2,
        jobs: 2,
        pages: 1,
        trace_bytes: 31,
        rate: 0.0,
        retry: RetryPolicy {
            max_tries: 3,
            backoff: Duration::from_millis(50),
        },
        ..CrawlOptions::new(&upstream.url, "1")
    };
    let started = Instant::now();
    let c = record::crawl(&opts, Some("glpat-code-like-token"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let seen = upstream.seen.lock().unwrap().clone();
    let project_hits = seen.iter().filter(|t| *t == "/api/v4/projects/1").count();
    assert_eq!(project_hits, 2, "{seen:?}");
    assert!(
        elapsed >= Duration::from_millis(950),
        "{elapsed:?}: Retry-After not honoured"
    );

    let p = "/api/v4/projects/1";
    let expected: Vec<(String, String, String, u16)> = [
        (p.to_owned(), "", 200),
        (format!("{p}/pipelines"), "per_page=2", 200),
        (format!("{p}/pipelines/latest"), "", 403),
        (format!("{p}/jobs"), "per_page=2", 200),
        (format!("{p}/jobs/5"), "", 200),
        (format!("{p}/jobs/5/trace"), "", 200),
        (format!("{p}/jobs/6"), "", 200),
        (format!("{p}/jobs/6/trace"), "", 200),
    ]
    .into_iter()
    .map(|(path, q, s)| ("GET".to_owned(), path, q.to_owned(), s))
    .collect();
    assert_eq!(summary(&c), expected);
    // Only the final answer of the retried request is recorded.
    assert_eq!(json_body(&c.exchanges[0])["id"], 1);
    assert_eq!(json_body(&c.exchanges[0])["runners_token"], "[REDACTED]");
    assert_eq!(
        json_body(&c.exchanges[2]),
        &json!({"message": "403 Forbidden"})
    );
    // A job without a log: 200 and an empty text body, as GitLab answers.
    assert_eq!(
        c.exchanges[5].response.body,
        Some(Body::Text(String::new()))
    );
    // A long trace: cut (on a character boundary), its length noted, tokens removed.
    let trace = &c.exchanges[7].response;
    assert_eq!(trace.headers["x-glmock-truncated"], "283");
    let Some(Body::Text(text)) = &trace.body else {
        panic!("{trace:?}")
    };
    assert_eq!(text, "$ echo [REDACTED] ", "cut before the 2-byte é");

    let yaml = c.to_yaml();
    assert_no_secret(
        &yaml,
        &[
            "glpat-code-like-token",
            "glpat-leaked",
            "secret-runner-registration",
        ],
    );
}

#[tokio::test]
async fn crawl_gives_up_after_the_last_try_and_records_the_answer() {
    // Every answer is a 503 without Retry-After: backoff, then the last 503 is recorded.
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0usize));
    let hits = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let hits = hits.clone();
            let service = service_fn(move |_req: hyper::Request<hyper::body::Incoming>| {
                *hits.lock().unwrap() += 1;
                async move {
                    let mut resp = hyper::Response::new(Full::new(Bytes::from_static(
                        b"{\"message\":\"503 Service Unavailable\"}",
                    )));
                    *resp.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
                    resp.headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    Ok::<_, Infallible>(resp)
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    let opts = CrawlOptions {
        rate: 0.0,
        retry: RetryPolicy {
            max_tries: 3,
            backoff: Duration::from_millis(10),
        },
        ..CrawlOptions::new(&url, "1")
    };
    let c = record::crawl(&opts, Some("glpat-x1")).await.unwrap();
    // /version (3 tries? no: asked once, not retried) + the project (3 tries); then stop.
    assert_eq!(
        summary(&c),
        [(
            "GET".to_owned(),
            "/api/v4/projects/1".to_owned(),
            String::new(),
            503
        )]
    );
    assert_eq!(*count.lock().unwrap(), 1 + 3);
}

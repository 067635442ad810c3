//! Issue #14: raw requests written to a TCP socket — methods, paths, queries (deep brackets
//! included), headers and bodies drawn by proptest. Whatever arrives: the server answers,
//! never with a 5xx, every 4xx glmock itself produces has a GitLab-shaped body, and the
//! server is still serving afterwards.
//!
//! `fuzz_raw_requests_in_ci` is the bounded run (a few seconds); `fuzz_raw_requests_large`
//! (ignored) runs `GLMOCK_FUZZ_CASES` requests (default 100,000) against the binary and
//! counts deaths: `cargo test --test it fuzz_raw_requests_large -- --ignored --nocapture`
//! (`GLMOCK_FUZZ_SECONDS` bounds its time).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::*;

/// One raw request, as bytes on the wire.
#[derive(Debug, Clone)]
struct Raw {
    bytes: Vec<u8>,
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("GET".to_owned()),
        3 => Just("POST".to_owned()),
        1 => Just("DELETE".to_owned()),
        1 => Just("HEAD".to_owned()),
        1 => Just("PUT".to_owned()),
        1 => Just("PATCH".to_owned()),
        1 => Just("OPTIONS".to_owned()),
        1 => "[A-Z]{1,10}",
    ]
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_owned()),
        Just("6".to_owned()),
        Just("group%2Fproject".to_owned()),
        Just("999999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("%00".to_owned()),
        Just("%zz".to_owned()),
        Just("%C0%AF".to_owned()),
        Just("..".to_owned()),
        Just("".to_owned()),
        "[a-z0-9_.~-]{1,12}",
        "(%[0-9A-Fa-f]{2}){1,6}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    let known = prop_oneof![
        Just("/api/v4/projects/{}/jobs".to_owned()),
        Just("/api/v4/projects/{}/jobs/{}".to_owned()),
        Just("/api/v4/projects/{}/jobs/{}/trace".to_owned()),
        Just("/api/v4/projects/{}/jobs/{}/retry".to_owned()),
        Just("/api/v4/projects/{}/jobs/{}/cancel".to_owned()),
        Just("/api/v4/projects/{}/jobs/{}/play".to_owned()),
        Just("/api/v4/projects/{}/jobs/{}/erase".to_owned()),
        Just("/api/v4/projects/{}/pipelines".to_owned()),
        Just("/api/v4/projects/{}/pipelines/{}".to_owned()),
        Just("/api/v4/projects/{}/pipelines/{}/jobs".to_owned()),
        Just("/api/v4/projects/{}/pipelines/{}/variables".to_owned()),
        Just("/api/v4/projects/{}/pipelines/{}/test_report".to_owned()),
        Just("/api/v4/projects/{}/pipelines/{}/retry".to_owned()),
        Just("/api/v4/projects/{}/pipeline".to_owned()),
        Just("/api/v4/projects/{}".to_owned()),
        Just("/api/v4/user".to_owned()),
        Just("/api/v4/job".to_owned()),
        Just("/api/v4/{}".to_owned()),
        Just("/-/glmock/health".to_owned()),
        Just("/-/glmock/journal".to_owned()),
        Just("/-/glmock/{}".to_owned()),
        Just("/-/sessions/{}/api/v4/projects/{}/jobs".to_owned()),
        Just("/".to_owned()),
        Just("/{}/{}".to_owned()),
    ];
    (known, proptest::collection::vec(segment(), 2)).prop_map(|(template, segs)| {
        let mut out = template;
        for s in segs {
            out = out.replacen("{}", &s, 1);
        }
        out
    })
}

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_owned()),
        Just("100".to_owned()),
        Just("0".to_owned()),
        Just("-5".to_owned()),
        Just("true".to_owned()),
        Just("failed".to_owned()),
        Just("2024-01-01T00:00:00Z".to_owned()),
        Just("%zz".to_owned()),
        Just("%00".to_owned()),
        Just("%C3%28".to_owned()),
        "[ -~]{0,12}".prop_map(|s| s.replace(['&', '#', ' '], "")),
    ]
}

fn query_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("scope".to_owned()),
        Just("scope[]".to_owned()),
        Just("scope%5B%5D".to_owned()),
        Just("page".to_owned()),
        Just("per_page".to_owned()),
        Just("pagination".to_owned()),
        Just("cursor".to_owned()),
        Just("status".to_owned()),
        Just("ref".to_owned()),
        Just("order_by".to_owned()),
        Just("updated_after".to_owned()),
        Just("include_retried".to_owned()),
        Just("private_token".to_owned()),
        Just("session".to_owned()),
        Just("variables[][key]".to_owned()),
        (1usize..300).prop_map(|n| format!("a{}", "[b]".repeat(n))),
        // The crash of #14 took about 5,500 levels.
        (1usize..8000).prop_map(|n| format!("a{}", "[b]".repeat(n))),
        (1usize..300).prop_map(|n| format!("a{}", "[][b]".repeat(n))),
        "[a-z\\[\\]]{1,10}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    proptest::collection::vec((query_key(), query_value()), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn body() -> impl Strategy<Value = (Option<String>, Vec<u8>)> {
    prop_oneof![
        3 => Just((None, Vec::new())),
        2 => query().prop_map(|q| (Some("application/x-www-form-urlencoded".to_owned()), q.into_bytes())),
        2 => Just((Some("application/json".to_owned()), b"{\"ref\":\"main\",\"variables\":[{\"key\":\"A\",\"value\":\"1\"}]}".to_vec())),
        1 => (1usize..3000).prop_map(|n| (Some("application/json".to_owned()), format!("{}1{}", "[".repeat(n), "]".repeat(n)).into_bytes())),
        1 => (1usize..3000).prop_map(|n| (Some("application/json".to_owned()), format!("{}{}", "{\"a\":".repeat(n), "}".repeat(n)).into_bytes())),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| (Some("application/json".to_owned()), b)),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| (None, b)),
        1 => ("[a-z]{1,8}/[a-z+.-]{1,12}", proptest::collection::vec(any::<u8>(), 0..32)).prop_map(|(ct, b)| (Some(ct), b)),
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        Just(("PRIVATE-TOKEN".to_owned(), ROOT.to_owned())),
        Just(("PRIVATE-TOKEN".to_owned(), "glpat-nope".to_owned())),
        Just(("JOB-TOKEN".to_owned(), JOB_TOKEN.to_owned())),
        Just(("Authorization".to_owned(), format!("Bearer {REPORTER}"))),
        Just(("Authorization".to_owned(), "Basic !!!".to_owned())),
        Just(("X-Glmock-Session".to_owned(), "fuzz".to_owned())),
        Just(("X-Glmock-Session".to_owned(), "bad name!".to_owned())),
        Just(("Accept".to_owned(), "*/*".to_owned())),
        Just(("Transfer-Encoding".to_owned(), "chunked".to_owned())),
        Just(("Expect".to_owned(), "100-continue".to_owned())),
        ("[A-Za-z-]{1,16}", "[ -~]{0,40}"),
    ]
}

fn raw_request() -> impl Strategy<Value = Raw> {
    (
        method(),
        path(),
        query(),
        proptest::collection::vec(header(), 0..4),
        body(),
        prop_oneof![8 => Just("HTTP/1.1"), 1 => Just("HTTP/1.0"), 1 => Just("HTTP/9.9")],
    )
        .prop_map(|(m, p, q, headers, (ct, body), version)| {
            let target = if q.is_empty() { p } else { format!("{p}?{q}") };
            let mut head = format!("{m} {target} {version}\r\nHost: fuzz\r\nConnection: close\r\n");
            let chunked = headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"));
            for (k, v) in &headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            if let Some(ct) = ct {
                head.push_str(&format!("Content-Type: {ct}\r\n"));
            }
            let mut bytes;
            if chunked {
                head.push_str("\r\n");
                bytes = head.into_bytes();
                if !body.is_empty() {
                    bytes.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                    bytes.extend_from_slice(&body);
                    bytes.extend_from_slice(b"\r\n");
                }
                bytes.extend_from_slice(b"0\r\n\r\n");
            } else {
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                bytes = head.into_bytes();
                bytes.extend_from_slice(&body);
            }
            Raw { bytes }
        })
}

/// A parsed answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Writes the request, reads to the close, parses the first response.
fn exchange(addr: &str, raw: &Raw) -> Result<Option<Answer>, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer (and close) before reading all of a bad request.
    let _ = s.write_all(&raw.bytes);
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) if out.is_empty() => return Err(format!("no answer: {e}")),
        Err(_) => {}
    }
    if out.is_empty() {
        // hyper closes without an answer only for bytes that are not HTTP at all.
        return Ok(None);
    }
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no header end in {:?}", String::from_utf8_lossy(&out)))?;
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut a = Answer {
        status,
        headers,
        body: out[end + 4..].to_vec(),
    };
    if let Some(n) = a
        .header("content-length")
        .and_then(|n| n.parse::<usize>().ok())
    {
        a.body.truncate(n);
    }
    Ok(Some(a))
}

/// The invariants of one exchange.
fn check(addr: &str, raw: &Raw) -> Result<(), TestCaseError> {
    let req = String::from_utf8_lossy(&raw.bytes[..raw.bytes.len().min(300)]).into_owned();
    let answer = exchange(addr, raw).map_err(|e| TestCaseError::fail(format!("{e}: {req}")))?;
    let Some(a) = answer else { return Ok(()) };
    prop_assert!(a.status < 500, "{} for {req}", a.status);
    // Ours (every response glmock builds carries X-Request-Id), a 4xx: GitLab-shaped.
    if a.status >= 400 && a.header("x-request-id").is_some() && !req.starts_with("HEAD ") {
        let body = String::from_utf8_lossy(&a.body).into_owned();
        let shaped = match a.header("content-type") {
            Some("application/json") => serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .is_some_and(|v| v.get("message").is_some() || v.get("error").is_some()),
            // `Gitlab::Middleware::HandleMalformedStrings`.
            Some("text/plain") => body == "Bad Request",
            _ => false,
        };
        prop_assert!(
            shaped,
            "{} {:?} {body:?} for {req}",
            a.status,
            a.header("content-type")
        );
    }
    Ok(())
}

fn alive(addr: &str) -> bool {
    let raw = Raw {
        bytes: b"GET /-/glmock/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
    };
    matches!(exchange(addr, &raw), Ok(Some(a)) if a.status == 200)
}

#[test]
fn fuzz_raw_requests_in_ci() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        TestServer::start(
            vec![glmock::__internal::scenario::Source::embedded_default()],
            Default::default(),
            glmock::__internal::ServerOptions {
                listen: ([127, 0, 0, 1], 0).into(),
                ..glmock::__internal::ServerOptions::default()
            },
        )
        .await
    });
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut runner = TestRunner::new(Config {
        cases: 1500,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&raw_request(), |raw| check(&addr, &raw));
    assert!(alive(&addr), "the server stopped serving");
    if let Err(e) = result {
        panic!("{e}");
    }
    rt.block_on(async { drop(server) });
}

#[test]
#[ignore = "long: run by hand (see the module docs)"]
fn fuzz_raw_requests_large() {
    let cases: u32 = std::env::var("GLMOCK_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let start = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "error"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        (child, line.trim().trim_start_matches("http://").to_owned())
    };
    // Optional time budget: stop early and report what was sent.
    let budget = std::env::var("GLMOCK_FUZZ_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .map(Duration::from_secs);
    let began = std::time::Instant::now();
    let (mut child, mut addr) = start();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let (mut sent, mut deaths, mut failures) = (0u64, 0u64, Vec::new());
    let strategy = raw_request();
    for _ in 0..cases {
        if budget.is_some_and(|b| began.elapsed() > b) {
            break;
        }
        if sent > 0 && sent % 5_000 == 0 {
            eprintln!(
                "fuzz: {sent} sent, {deaths} deaths, {} failures",
                failures.len()
            );
        }
        let raw = strategy.new_tree(&mut runner).expect("a request").current();
        sent += 1;
        if let Err(e) = check(&addr, &raw) {
            failures.push(e.to_string());
        }
        if let Ok(Some(status)) = child.try_wait() {
            deaths += 1;
            eprintln!("glmock died ({status}) after {sent} requests");
            (child, addr) = start();
        }
    }
    let _ = child.kill();
    eprintln!(
        "fuzz: {sent} requests sent in {:.0?}, {deaths} deaths, {} invariant failures",
        began.elapsed(),
        failures.len()
    );
    for f in failures.iter().take(10) {
        eprintln!("  {f}");
    }
    assert_eq!(deaths, 0);
    assert!(failures.is_empty());
}

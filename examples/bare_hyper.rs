//! Benchmark baseline: a bare hyper 1 + hyper-util server that answers every request
//! with the same fixed bytes. It uses the same stack as glmock (tokio multi-thread
//! runtime, `hyper_util::server::conn::auto::Builder`, `Full<Bytes>` bodies, TCP_NODELAY)
//! so the difference measured by `bench/run.sh` is glmock's own work per request.
//!
//! ```text
//! cargo run --release --example bare_hyper -- --listen 127.0.0.1:0 --body page.json \
//!     [--content-type application/json] [--header 'X-Total: 100000' ...]
//! ```
//!
//! The bound URL (`http://127.0.0.1:PORT`) is printed as the first line of stdout.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

struct Options {
    listen: SocketAddr,
    body: Bytes,
    headers: Vec<(HeaderName, HeaderValue)>,
}

const USAGE: &str =
    "usage: bare_hyper --listen ADDR --body FILE [--content-type TYPE] [--header 'Name: value']...";

fn parse_args() -> Result<Options, String> {
    let mut listen: Option<String> = None;
    let mut body: Option<String> = None;
    let mut content_type = "application/json".to_owned();
    let mut extra: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => listen = Some(value()?),
            "--body" => body = Some(value()?),
            "--content-type" => content_type = value()?,
            "--header" => extra.push(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let listen = listen
        .as_deref()
        .unwrap_or("127.0.0.1:0")
        .parse::<SocketAddr>()
        .map_err(|e| format!("--listen: {e}"))?;
    let path = body.ok_or_else(|| format!("--body is required\n{USAGE}"))?;
    let body = std::fs::read(&path).map_err(|e| format!("--body {path}: {e}"))?;
    let mut headers = vec![(
        CONTENT_TYPE,
        HeaderValue::from_str(&content_type).map_err(|e| format!("--content-type: {e}"))?,
    )];
    for h in extra {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("--header {h:?}: expected 'Name: value'"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|e| format!("--header {h:?}: {e}"))?;
        let value =
            HeaderValue::from_str(value.trim()).map_err(|e| format!("--header {h:?}: {e}"))?;
        headers.push((name, value));
    }
    Ok(Options {
        listen,
        body: Bytes::from(body),
        headers,
    })
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(options: Options) -> std::io::Result<()> {
    let listener = TcpListener::bind(options.listen).await?;
    println!("http://{}", listener.local_addr()?);
    let _ = std::io::stdout().flush();

    let body = options.body;
    let headers = std::sync::Arc::new(options.headers);
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let body = body.clone();
                let headers = headers.clone();
                let service = service_fn(move |_req: hyper::Request<hyper::body::Incoming>| {
                    let mut resp = hyper::Response::new(Full::new(body.clone()));
                    let h = resp.headers_mut();
                    for (name, value) in headers.iter() {
                        h.append(name.clone(), value.clone());
                    }
                    async move { Ok::<_, Infallible>(resp) }
                });
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

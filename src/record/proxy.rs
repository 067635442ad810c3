//! Proxy mode: forward any client's traffic to the upstream and record each exchange,
//! mutations included, in arrival order.
//!
//! The client's own credentials are forwarded but never recorded; when it sends none, the
//! recorder's token (if any) is added. `Link` headers sent back to the client point at the
//! proxy (so clients paginate through it); in the cassette they start with `{base}`.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use reqwest::header::HeaderMap;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::capture::{
    AUTH_PARAMS, REQUEST_HEADERS, RESPONSE_HEADERS, body_from_bytes, kept_headers, map_query,
    normalize_upstream, placeholder_link, rebase_link,
};
use super::cassette::{Cassette, Exchange, RecordedRequest, RecordedResponse};
use super::client::Upstream;
use super::redact::remove_secrets;

/// Headers that belong to one connection, not to the exchange.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// The GitLab's URL.
    pub upstream: String,
    /// Where to listen (`127.0.0.1:8081`; port 0 picks one).
    pub listen: String,
    /// Largest request body accepted (larger ones get 413, unrecorded).
    pub max_body_bytes: usize,
    /// Per-request timeout towards the upstream.
    pub timeout: Duration,
}

impl ProxyOptions {
    pub fn new(upstream: &str, listen: &str) -> ProxyOptions {
        ProxyOptions {
            upstream: upstream.to_owned(),
            listen: listen.to_owned(),
            max_body_bytes: 64 * 1024 * 1024,
            timeout: Duration::from_secs(300),
        }
    }
}

struct State {
    upstream: Upstream,
    /// The URL of the proxy itself, for `Link`s when a request has no `Host`.
    own_url: String,
    token: Option<String>,
    max_body: usize,
    next_seq: AtomicU64,
    exchanges: Mutex<Vec<(u64, Exchange)>>,
    /// Credentials seen in clients' requests: scrubbed from the cassette wherever they appear.
    secrets: Mutex<BTreeSet<String>>,
    version: Mutex<Option<String>>,
    /// The cassette's header (recording start time, upstream).
    header: Cassette,
}

/// A running recording proxy.
pub struct ProxyHandle {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    version_task: Option<JoinHandle<()>>,
}

/// Starts the proxy in the background. `token` is added (as `PRIVATE-TOKEN`) to requests
/// that carry no credentials of their own.
pub async fn proxy(opts: &ProxyOptions, token: Option<String>) -> anyhow::Result<ProxyHandle> {
    let base = normalize_upstream(&opts.upstream)?;
    let token = token.filter(|t| !t.is_empty());
    let upstream = Upstream::new(&base, token.clone(), 0.0, opts.timeout)?;
    let listener = TcpListener::bind(opts.listen.as_str())
        .await
        .with_context(|| format!("listening on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State {
        upstream,
        own_url: format!("http://{addr}"),
        token,
        max_body: opts.max_body_bytes,
        next_seq: AtomicU64::new(0),
        exchanges: Mutex::new(Vec::new()),
        secrets: Mutex::new(BTreeSet::new()),
        version: Mutex::new(None),
        header: Cassette::new(&base, "proxy"),
    });
    let version_task = {
        let state = state.clone();
        tokio::spawn(async move {
            let v = state.upstream.version().await;
            *state.version.lock().expect("not poisoned") = v;
        })
    };
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, state.clone(), stopped));
    Ok(ProxyHandle {
        addr,
        state,
        stop: Some(stop),
        task: Some(task),
        version_task: Some(version_task),
    })
}

impl ProxyHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`: the base URL clients should use.
    pub fn url(&self) -> String {
        self.state.own_url.clone()
    }

    /// Exchanges recorded so far.
    pub fn recorded(&self) -> usize {
        self.state.exchanges.lock().expect("not poisoned").len()
    }

    /// Stops accepting, lets requests in flight finish, and returns the cassette (exchanges
    /// in arrival order, secrets removed, not redacted).
    pub async fn stop(mut self) -> Cassette {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.version_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        let state = &self.state;
        let mut exchanges = std::mem::take(&mut *state.exchanges.lock().expect("not poisoned"));
        exchanges.sort_by_key(|(seq, _)| *seq);
        let mut cassette = state.header.clone();
        cassette.gitlab_version = state.version.lock().expect("not poisoned").clone();
        cassette.exchanges = exchanges.into_iter().map(|(_, x)| x).collect();
        let mut literals: Vec<String> = state
            .secrets
            .lock()
            .expect("not poisoned")
            .iter()
            .cloned()
            .collect();
        literals.extend(state.token.clone());
        remove_secrets(&mut cassette, &literals);
        cassette
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(&state, req).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}

fn error_response(status: u16, message: &str) -> hyper::Response<Full<Bytes>> {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("valid status");
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Credentials in a request: header values, Bearer / Basic parts, query and form parameters.
fn credentials(
    headers: &HeaderMap,
    query: &str,
    form: Option<&str>,
    json: Option<&[u8]>,
) -> (bool, Vec<String>) {
    let mut found = Vec::new();
    let mut has_auth = false;
    for name in ["private-token", "job-token", "authorization"] {
        for v in headers.get_all(name) {
            has_auth = true;
            let v = String::from_utf8_lossy(v.as_bytes()).trim().to_owned();
            if name == "authorization"
                && let Some((scheme, cred)) = v.split_once(' ')
            {
                let cred = cred.trim();
                found.push(cred.to_owned());
                if scheme.eq_ignore_ascii_case("basic")
                    && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(cred)
                {
                    let raw = String::from_utf8_lossy(&raw).into_owned();
                    if let Some((_, password)) = raw.split_once(':') {
                        found.push(password.to_owned());
                    }
                }
            }
            found.push(v);
        }
    }
    for cookie in headers.get_all("cookie") {
        for pair in String::from_utf8_lossy(cookie.as_bytes()).split(';') {
            if let Some((_, v)) = pair.split_once('=') {
                found.push(v.trim().to_owned());
            }
        }
    }
    for q in [Some(query), form].into_iter().flatten() {
        map_query(q, |k, v| {
            if AUTH_PARAMS.contains(&k) {
                has_auth = true;
                found.push(v.to_owned());
            }
            None
        });
    }
    // Tokens sent in a JSON body (`{"private_token": …}`), at the top level as GitLab reads
    // them.
    if let Some(serde_json::Value::Object(map)) =
        json.and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
    {
        for (k, v) in &map {
            if let (true, Some(s)) = (AUTH_PARAMS.contains(&k.as_str()), v.as_str()) {
                has_auth = true;
                found.push(s.to_owned());
            }
        }
    }
    // Too short to be a real credential: scrubbing them would garble the cassette.
    found.retain(|s| s.len() >= 6);
    (has_auth, found)
}

async fn handle(state: &State, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let seq = state.next_seq.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, state.max_body).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return error_response(413, "413 Request Entity Too Large");
        }
        Err(_) => return error_response(400, "400 Bad request"),
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let own_base = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .or_else(|| parts.uri.authority().map(|a| format!("http://{a}")))
        .unwrap_or_else(|| state.own_url.clone());
    let request_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let form = request_type
        .as_deref()
        .filter(|ct| ct.contains("x-www-form-urlencoded"))
        .and_then(|_| std::str::from_utf8(&body).ok());
    let json = request_type
        .as_deref()
        .filter(|ct| ct.contains("json"))
        .map(|_| &body[..]);
    let (has_auth, secrets) = credentials(&parts.headers, &query, form, json);
    state.secrets.lock().expect("not poisoned").extend(secrets);

    let mut forward = HeaderMap::new();
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n)
            || name == HOST
            || name == CONTENT_LENGTH
            || name == ACCEPT_ENCODING
        {
            continue;
        }
        forward.append(name.clone(), value.clone());
    }
    if !has_auth
        && let Some(t) = &state.token
        && let Ok(v) = HeaderValue::from_str(t)
    {
        forward.insert("private-token", v);
    }
    let target = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let answer = match state
        .upstream
        .forward(parts.method.clone(), &target, forward, body.clone())
        .await
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "glmock record: {} {path}: upstream unreachable: {e}",
                parts.method
            );
            return error_response(502, "502 Bad Gateway");
        }
    };

    let mut response_headers = kept_headers(&answer.headers, RESPONSE_HEADERS);
    if let Some(link) = response_headers.get_mut("link") {
        *link = placeholder_link(link);
    }
    let exchange = Exchange {
        request: RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path,
            query,
            headers: kept_headers(&parts.headers, REQUEST_HEADERS),
            body: body_from_bytes(request_type.as_deref(), &body),
        },
        response: RecordedResponse {
            status: answer.status,
            headers: response_headers,
            body: body_from_bytes(answer.header("content-type"), &answer.body),
        },
    };
    state
        .exchanges
        .lock()
        .expect("not poisoned")
        .push((seq, exchange));

    let mut resp = hyper::Response::new(Full::new(answer.body));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    let headers = resp.headers_mut();
    for (name, value) in &answer.headers {
        if HOP_BY_HOP.contains(&name.as_str()) || name == CONTENT_LENGTH {
            continue;
        }
        if name == "link"
            && let Ok(link) = value.to_str()
            && let Ok(v) = HeaderValue::from_str(&rebase_link(link, &own_base))
        {
            headers.append(name.clone(), v);
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("Basic dXNlcjpnbHBhdC1zZWNyZXQ="),
        );
        h.insert(
            "cookie",
            HeaderValue::from_static("_gitlab_session=abcdef123; x=1"),
        );
        let (auth, found) = credentials(&h, "private_token=glpat-qqqqqq&a=1", None, None);
        assert!(auth);
        for s in [
            "glpat-secret",
            "dXNlcjpnbHBhdC1zZWNyZXQ=",
            "abcdef123",
            "glpat-qqqqqq",
        ] {
            assert!(found.iter().any(|f| f == s), "{s} in {found:?}");
        }
        let (auth, _) = credentials(&HeaderMap::new(), "a=1", Some("job_token=x"), None);
        assert!(auth);
        let (auth, _) = credentials(&HeaderMap::new(), "a=1", None, None);
        assert!(!auth);
    }
}

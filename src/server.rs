//! The hyper-util accept loop: HTTP/1 and HTTP/2 on one port, sessions from the URL
//! prefix or header, body limits, panics turned into 500s, graceful shutdown. The only
//! module (with `record/`) that touches hyper's request and response types.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::query::{self, Params};
use crate::api::{self, ApiError, Body, Request, Response};
use crate::control::{self, ControlRequest};
use crate::journal::{Captured, Entry, Journal, JournalOptions};
use crate::world::World;
use crate::world::session::{self, Sessions};

/// How the server runs (validated; see `config.rs` for the CLI side).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    /// External URL for `Link` headers; `http://<Host>` of each request when absent.
    pub base_url: Option<String>,
    pub control_token: Option<String>,
    pub max_body_bytes: usize,
    /// What the journal keeps.
    pub journal: JournalOptions,
    pub shutdown_grace: Duration,
    /// What a response that breaks its schema gets.
    pub contract: crate::contract::Mode,
    /// Schemas to check against instead of the embedded ones.
    pub schemas_dir: Option<std::path::PathBuf>,
    /// Host names the control API answers besides IP literals, `localhost`, single-label
    /// names and the host of `base_url`.
    pub control_allowed_hosts: Vec<String>,
    /// One `info` line per API request (method, path, session, status, µs).
    pub access_log: bool,
    /// Poll the scenario files this often and reload them when they change (`--watch`).
    pub watch: Option<Duration>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            control_token: None,
            max_body_bytes: 1024 * 1024,
            journal: JournalOptions::default(),
            shutdown_grace: Duration::from_secs(10),
            contract: crate::contract::Mode::Warn,
            schemas_dir: None,
            control_allowed_hosts: Vec::new(),
            access_log: true,
            watch: None,
        }
    }
}

/// Shared by every connection.
pub struct App {
    pub sessions: Sessions,
    pub journal: Journal,
    pub options: ServerOptions,
    /// Which `Host` names the control API answers.
    pub host_policy: control::HostPolicy,
    /// The loaded scenario's sources, per-version worlds and contracts.
    pub scenario: control::ScenarioStore,
}

/// A running server. Dropping it does not stop it; call `shutdown`.
pub struct Server {
    addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Polls the scenario files (`--watch`).
    watcher: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds (port 0 allowed) and starts serving in the background. The scenario cannot be
    /// merged into or served in other GitLab versions (its sources are unknown); see
    /// `start_with`.
    pub async fn start(world: World, options: ServerOptions) -> std::io::Result<Server> {
        Self::start_with(world, None, options).await
    }

    /// Like `start`, keeping the sources `world` was built from, for live scenario changes,
    /// `--watch` and sessions in other GitLab versions.
    pub async fn start_with(
        mut world: World,
        scenario: Option<control::ScenarioSources>,
        options: ServerOptions,
    ) -> std::io::Result<Server> {
        let store =
            control::ScenarioStore::new(scenario, options.contract, options.schemas_dir.clone());
        store
            .attach(&mut world)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        let listener = TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() && options.control_token.is_none() {
            tracing::warn!(
                %addr,
                "glmock listens beyond loopback WITHOUT a control token: anyone who can reach \
                 {addr} can reset sessions, move jobs and read the journal; set \
                 --control-token (GLMOCK_CONTROL_TOKEN)"
            );
        }
        let app = Arc::new(App {
            sessions: Sessions::new(world),
            journal: Journal::new(options.journal),
            host_policy: control::HostPolicy::new(
                options.base_url.as_deref(),
                &options.control_allowed_hosts,
            ),
            scenario: store,
            options,
        });
        let watcher = app
            .options
            .watch
            .and_then(|every| control::Watcher::spawn(Arc::downgrade(&app), every));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, app.clone(), stopped));
        Ok(Server {
            addr,
            app,
            stop: Some(stop),
            task: Some(task),
            watcher,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Stops accepting, lets in-flight requests finish (bounded), and returns.
    pub async fn shutdown(mut self) {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the server stops (after `shutdown` from another handle, or never).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// A handle that stops this server when signalled.
    pub fn take_stop(&mut self) -> Option<oneshot::Sender<()>> {
        self.stop.take()
    }
}

async fn accept_loop(listener: TcpListener, app: Arc<App>, mut stopped: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(serve(&app, req).await) }
                });
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    let grace = app.options.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {grace:?}; closing them");
    }
}

/// Splits `/-/sessions/NAME/rest` into `(Some(NAME), /rest)`.
fn split_session(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/-/sessions/") {
        let (name, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        return (Some(name), tail);
    }
    (None, path)
}

fn header<'a>(req: &'a hyper::Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn serve(app: &App, req: hyper::Request<Incoming>) -> hyper::Response<Full<Parts>> {
    let started = Instant::now();
    let method = req.method().clone();
    let raw_path = req.uri().path().to_owned();
    let raw_query = req.uri().query().unwrap_or("").to_owned();
    let (url_session, path) = split_session(&raw_path);
    let prefix = url_session
        .map(|s| format!("/-/sessions/{s}"))
        .unwrap_or_default();
    let session_name = url_session
        .map(str::to_owned)
        .or_else(|| header(&req, "x-glmock-session").map(str::to_owned));
    if let Some(name) = &session_name
        && !session::valid_name(name)
    {
        let resp =
            ApiError::Validation("invalid session name (use 1-64 of A-Z a-z 0-9 _ . -)".into())
                .into_response();
        return to_hyper(resp, method == Method::HEAD);
    }
    let path = if path.is_empty() { "/" } else { path }.to_owned();
    let query = match query::parse(&raw_query) {
        Ok(q) => q,
        Err(e) => return to_hyper(ApiError::BadRequest(e.to_string()).into_response(), false),
    };

    if let Some(control_path) = path.strip_prefix("/-/glmock") {
        let (mut parts, body) = req.into_parts();
        // HTTP/2 names the host in `:authority`; the control API's Host rules apply to it.
        if !parts.headers.contains_key(hyper::header::HOST)
            && let Some(a) = parts.uri.authority()
            && let Ok(v) = HeaderValue::from_str(a.as_str())
        {
            parts.headers.insert(hyper::header::HOST, v);
        }
        let resp = match read_body(body, app.options.max_body_bytes).await {
            Err(e) => control::ControlError::new(e.status(), e.to_string()).into_response(),
            Ok(bytes) => control::handle(
                app,
                &ControlRequest {
                    method: &method,
                    path: control_path,
                    query: &query,
                    headers: &parts.headers,
                    url_session,
                    body: &bytes,
                },
            ),
        };
        return to_hyper(resp, method == Method::HEAD);
    }

    let session = session_name.unwrap_or_else(|| session::DEFAULT.to_owned());
    // A session's first request may choose the GitLab version it emulates.
    if let Some(v) = header(&req, "x-glmock-gitlab-version")
        && !app.sessions.exists(&session)
    {
        let created = control::parse_version(v)
            .map_err(control::ControlError::bad_request)
            .and_then(|v| control::create_versioned(app, &session, v));
        if let Err(e) = created {
            return to_hyper(ApiError::Validation(e.message).into_response(), false);
        }
    }
    let link_base = match &app.options.base_url {
        Some(b) => b.clone(),
        None => {
            let host = header(&req, "host")
                .map(str::to_owned)
                .or_else(|| req.uri().authority().map(|a| a.to_string()));
            format!("http://{}", host.unwrap_or_else(|| "localhost".into()))
        }
    };
    let content_type = header(&req, "content-type").map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let (parts, body) = req.into_parts();
    let mut request_body = Bytes::new();
    let mut request_headers = HeaderMap::new();
    let mut resp = match read_body(body, app.options.max_body_bytes).await {
        Err(e) => e.into_response(),
        Ok(bytes) => {
            request_body = bytes;
            match parse_body(&method, content_type.as_deref(), &request_body) {
                Err(e) => e.into_response(),
                Ok(body) => {
                    let mut api_req = Request::new(
                        method.clone(),
                        path.clone(),
                        prefix,
                        session.clone(),
                        query,
                        body,
                        parts.headers,
                        link_base,
                    );
                    let resp = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        api::handle(&app.sessions, &api_req)
                    })) {
                        Ok(r) => r,
                        Err(panic) => {
                            let msg = panic
                                .downcast_ref::<&str>()
                                .map(|s| (*s).to_owned())
                                .or_else(|| panic.downcast_ref::<String>().cloned());
                            tracing::error!(method = %method, path = %path, panic = msg.as_deref().unwrap_or("?"), "handler panicked; answering 500");
                            ApiError::Internal.into_response()
                        }
                    };
                    request_headers = std::mem::take(&mut api_req.headers);
                    resp
                }
            }
        }
    };
    let mut unimplemented = false;
    if resp.route.is_none()
        && resp.status == StatusCode::NOT_FOUND
        && let Some(route) = api::routes::unimplemented(&method, &path)
    {
        unimplemented = true;
        resp.route = Some(route);
        resp.headers
            .push(("X-Glmock-Unimplemented", "true".to_owned()));
        tracing::warn!(method = %method, path = %path, route, session = %session, "glmock does not implement this GitLab endpoint; answered 404 with X-Glmock-Unimplemented");
    }
    let latency_us = started.elapsed().as_micros() as u64;
    if app.options.access_log {
        tracing::info!(target: "glmock::access", method = %method, path = %path, session = %session, status = resp.status.as_u16(), latency_us, "request");
    }
    let journal = &app.journal;
    if journal.options().enabled {
        let cap = journal.options().body_bytes;
        let response_body = match &resp.body {
            _ if cap == 0 => Captured::default(),
            Body::Json(b) => Captured::of(std::slice::from_ref(b), cap),
            Body::JsonParts(parts) => Captured::of(parts, cap),
            Body::Text(b) => Captured::copied_if_cut(b, cap),
            Body::Empty => Captured::default(),
        };
        let request_body = if cap == 0 {
            Captured::default()
        } else {
            Captured::copied_if_cut(&request_body, cap)
        };
        journal.record(Entry {
            seq: 0,
            time: jiff::Timestamp::now(),
            session,
            method: method.clone(),
            path,
            query: raw_query,
            route: resp.route,
            status: resp.status.as_u16(),
            latency_us,
            request_headers,
            request_body,
            response_body,
            violations: std::mem::take(&mut resp.violations),
            faults: Vec::new(),
            unimplemented,
        });
    }
    to_hyper(resp, method == Method::HEAD)
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::PayloadTooLarge)
        }
        Err(_) => Err(ApiError::BadRequest(
            "could not read the request body".into(),
        )),
    }
}

/// JSON, Rails-style form, or nothing. GET/HEAD/DELETE bodies are ignored, as clients
/// send `{}` or a JSON content type with them.
fn parse_body(
    method: &Method,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Params, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace)
        || matches!(*method, Method::GET | Method::HEAD | Method::DELETE)
    {
        return Ok(Params::new());
    }
    match content_type {
        Some("application/json") | None
            if bytes.first().is_some_and(|b| *b == b'{' || *b == b'[')
                || content_type.is_some() =>
        {
            let value: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| ApiError::BadRequest(format!("invalid JSON in request body: {e}")))?;
            match query::from_json(value) {
                query::Param::Hash(h) => Ok(h),
                _ => Ok(Params::new()),
            }
        }
        Some("application/x-www-form-urlencoded") | None => {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| ApiError::BadRequest("request body is not UTF-8".into()))?;
            query::parse(text).map_err(|e| ApiError::BadRequest(e.to_string()))
        }
        Some(other) => Err(ApiError::UnsupportedContentType(other.to_owned())),
    }
}

static REQUEST_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A response body in pieces, written with vectored I/O: a page of cached entities goes to
/// the socket without being copied into one buffer first.
pub struct Parts {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: usize,
}

impl Parts {
    fn new(chunks: impl IntoIterator<Item = Bytes>) -> Parts {
        let chunks: std::collections::VecDeque<Bytes> =
            chunks.into_iter().filter(|c| !c.is_empty()).collect();
        let remaining = chunks.iter().map(Bytes::len).sum();
        Parts { chunks, remaining }
    }
}

impl bytes::Buf for Parts {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.chunks.front().map(|b| b.as_ref()).unwrap_or(&[])
    }

    fn advance(&mut self, mut cnt: usize) {
        while cnt > 0 {
            let Some(front) = self.chunks.front_mut() else {
                return;
            };
            let n = cnt.min(front.len());
            front.advance(n);
            self.remaining -= n;
            cnt -= n;
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in dst.iter_mut().zip(&self.chunks) {
            *slot = std::io::IoSlice::new(chunk);
            n += 1;
        }
        n
    }
}

fn to_hyper(resp: Response, head: bool) -> hyper::Response<Full<Parts>> {
    let (content_type, body) = match resp.body {
        Body::Json(b) => (Some("application/json"), Parts::new([b])),
        Body::JsonParts(parts) => (Some("application/json"), Parts::new(parts)),
        Body::Text(b) => (Some("text/plain"), Parts::new([b])),
        Body::Empty => (None, Parts::new([])),
    };
    let mut builder = hyper::Response::builder().status(resp.status);
    let h = builder.headers_mut().expect("builder has no error yet");
    if let Some(ct) = content_type {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    h.insert(
        "cache-control",
        HeaderValue::from_static("max-age=0, private, must-revalidate"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("SAMEORIGIN"));
    h.insert("vary", HeaderValue::from_static("Origin"));
    let id = REQUEST_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    h.insert(
        "x-request-id",
        HeaderValue::from_str(&format!("glmock-{id:016x}")).expect("hex is a valid header value"),
    );
    for (name, value) in resp.headers {
        // The String becomes the header's bytes without a copy.
        match HeaderValue::from_maybe_shared(Bytes::from(value)) {
            Ok(v) => {
                h.append(name, v);
            }
            Err(_) => tracing::error!(
                header = name,
                "dropped a header value that is not valid in HTTP"
            ),
        }
    }
    let body = if head { Parts::new([]) } else { body };
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = hyper::Response::new(Full::new(Parts::new([Bytes::from_static(
            b"{\"message\":\"500 Internal Server Error\"}",
        )])));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

#[cfg(test)]
mod tests {
    use bytes::{Buf, Bytes};

    use super::Parts;

    #[test]
    fn parts_read_as_one_buffer_across_chunk_boundaries() {
        let mut p = Parts::new([
            Bytes::from_static(b"["),
            Bytes::new(),
            Bytes::from_static(b"{\"a\":1}"),
            Bytes::from_static(b"]"),
        ]);
        assert_eq!(p.remaining(), 9);
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        assert_eq!(
            p.chunks_vectored(&mut slices),
            3,
            "empty chunks are dropped"
        );
        p.advance(3);
        assert_eq!(p.chunk(), b"a\":1}");
        let rest = p.copy_to_bytes(p.remaining());
        assert_eq!(&rest[..], b"a\":1}]");
    }
}

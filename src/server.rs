//! The hyper-util accept loop: HTTP/1 and HTTP/2 on one port, sessions from the URL
//! prefix or header, body limits, panics turned into 500s, graceful shutdown. The only
//! module (with `record/`) that touches hyper's request and response types.

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::query::{self, Params};
use crate::api::{self, ApiError, Body, Request, Response};
use crate::control::{self, ControlRequest};
use crate::journal::{Exchange, Journal, JournalOptions};
use crate::world::World;
use crate::world::session::{self, Sessions};

pub mod access;
mod conn;
mod memory;

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
    /// Open connections at most; a client past the cap gets a 503 and is closed.
    pub max_connections: usize,
    /// A connection that sends no byte this long after accept is closed.
    pub first_byte_timeout: Duration,
    /// A connection with no request being handled and no byte moving this long is closed
    /// (HTTP/1 keep-alive and HTTP/2 alike).
    pub idle_timeout: Duration,
    /// A connection whose response cannot be written for this long (the client does not
    /// read) is closed.
    pub write_timeout: Duration,
    /// What a response that breaks its schema gets.
    pub contract: crate::contract::Mode,
    /// Schemas to check against instead of the embedded ones.
    pub schemas_dir: Option<std::path::PathBuf>,
    /// Sessions kept at once; one more evicts the least recently used idle one.
    pub max_sessions: usize,
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
            max_connections: 1024,
            first_byte_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            contract: crate::contract::Mode::Warn,
            schemas_dir: None,
            max_sessions: crate::world::session::DEFAULT_MAX,
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

impl App {
    /// One session (or every session) back to the scenario: its world, fault rules and
    /// journal are forgotten, a session created in another GitLab version is recreated in
    /// it, and the memory freed is handed back to the OS. Returns the sessions reset.
    pub fn reset(&self, only: Option<&str>) -> Vec<String> {
        let reset = match only {
            Some(s) => {
                self.sessions.reset(s);
                vec![s.to_owned()]
            }
            None => {
                let names = self.sessions.names();
                self.sessions.reset_all();
                names
            }
        };
        control::faults::reset(&self.sessions, only);
        self.journal.clear(only);
        control::restore_versioned(self, only);
        memory::release_freed();
        reset
    }
}

/// A running server. Dropping it does not stop it; call `shutdown`.
pub struct Server {
    addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<ShutdownReport>>,
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
            sessions: Sessions::bounded(world, options.max_sessions),
            journal: Journal::new(options.journal),
            host_policy: control::HostPolicy::new(
                options.base_url.as_deref(),
                &options.control_allowed_hosts,
            ),
            scenario: store,
            options,
        });
        // An evicted session's journal goes with it (memory stays bounded with the sessions).
        let journal_of = Arc::downgrade(&app);
        app.sessions.set_on_evict(move |name| {
            if let Some(app) = journal_of.upgrade() {
                app.journal.clear(Some(name));
            }
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

    /// Stops accepting, lets in-flight requests finish (bounded by the grace), and says
    /// how many responses were cut at the deadline.
    pub async fn shutdown(mut self) -> ShutdownReport {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait_task().await
    }

    /// Waits until the server stops (after `shutdown` from another handle, or never).
    pub async fn wait(mut self) -> ShutdownReport {
        self.wait_task().await
    }

    async fn wait_task(&mut self) -> ShutdownReport {
        match self.task.take() {
            Some(task) => task.await.unwrap_or_default(),
            None => ShutdownReport::default(),
        }
    }

    /// A handle that stops this server when signalled.
    pub fn take_stop(&mut self) -> Option<oneshot::Sender<()>> {
        self.stop.take()
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Arc<App>,
    mut stopped: oneshot::Receiver<()>,
) -> ShutdownReport {
    // Running → Draining (stop accepting, finish what was received) → Kill (grace over).
    let (phase, phases) = tokio::sync::watch::channel(conn::Phase::Running);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    let limits = conn::Limits {
        first_byte: app.options.first_byte_timeout,
        idle: app.options.idle_timeout,
        write_stall: app.options.write_timeout,
    };
    let registry = Arc::new(conn::Registry::default());
    let refusing = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut backoff = conn::AcceptBackoff::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        let wait = backoff.failed(&e);
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => continue,
                            _ = &mut stopped => break,
                        }
                    }
                };
                backoff.succeeded();
                let _ = stream.set_nodelay(true);
                if registry.len() >= app.options.max_connections {
                    // Over the cap: a short 503, then close (never more than a few at once).
                    use std::sync::atomic::Ordering;
                    if refusing.fetch_add(1, Ordering::Relaxed) < conn::MAX_REFUSING {
                        let refusing = refusing.clone();
                        tokio::spawn(async move {
                            conn::refuse(stream).await;
                            refusing.fetch_sub(1, Ordering::Relaxed);
                        });
                    } else {
                        refusing.fetch_sub(1, Ordering::Relaxed);
                    }
                    continue;
                }
                // faults (#10): the stream's switch for reset/close rules, on every request.
                let (stream, ctl) = crate::faults::Conn::new(stream, peer.ip());
                let state = conn::ConnState::new();
                let registered = registry.add(state.clone());
                let app = app.clone();
                let conn_state = state.clone();
                let stopping_now = stopping.clone();
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let (app, ctl) = (app.clone(), ctl.clone());
                    let guard = conn_state.request();
                    let stopping = stopping_now.clone();
                    let state = conn_state.clone();
                    async move {
                        let http1 = req.version() < hyper::Version::HTTP_2;
                        let mut resp = serve(&app, req, &ctl).await;
                        if !http1 {
                            own_header_values(resp.headers_mut());
                        }
                        let n = guard.number();
                        drop(guard);
                        // Stopping: requests already received behind this one are still
                        // answered; the last answer says the connection closes.
                        if http1
                            && stopping.load(std::sync::atomic::Ordering::Relaxed)
                            && !state.queued_after(n)
                        {
                            resp.headers_mut()
                                .insert(CONNECTION, HeaderValue::from_static("close"));
                        }
                        Ok::<_, Infallible>(resp)
                    }
                });
                let io = TokioIo::new(conn::Watched::new(stream, state.clone()));
                let conn = builder.serve_connection_with_upgrades(io, service).into_owned();
                let phases = phases.clone();
                tokio::spawn(async move {
                    let _registered = registered;
                    conn::drive(conn, &state, limits, phases).await;
                });
            }
            _ = &mut stopped => break,
        }
    }
    stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(listener);
    let _ = phase.send(conn::Phase::Draining);
    let grace = app.options.shutdown_grace;
    let mut report = ShutdownReport::default();
    let drained = tokio::time::timeout(grace, async {
        while registry.len() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    if drained.is_err() {
        report.cut = registry.busy();
        report.closed = registry.len();
        if report.cut > 0 {
            tracing::warn!(
                cut = report.cut,
                open = report.closed,
                "shutdown grace of {grace:?} over: closing connections, {} response(s) cut",
                report.cut
            );
        } else {
            tracing::info!(
                open = report.closed,
                "shutdown grace of {grace:?} over: closing idle connections"
            );
        }
        let _ = phase.send(conn::Phase::Kill);
        // The connection tasks end at once on Kill; give them a moment to close sockets.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while registry.len() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
    }
    report
}

/// How a server stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Responses that were still being handled or written at the grace deadline (their
    /// connections were closed; the clients got no complete answer).
    pub cut: usize,
    /// Connections still open at the grace deadline (including `cut`).
    pub closed: usize,
}

/// Splits `/-/sessions/NAME/rest` into `(Some(NAME), /rest)`.
fn split_session(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/-/sessions/") {
        let (name, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        return (Some(name), tail);
    }
    (None, path)
}

/// Request headers glmock reads, as constants (a `&str` name is parsed on every lookup).
const X_GLMOCK_SESSION: HeaderName = HeaderName::from_static("x-glmock-session");
const X_GLMOCK_GITLAB_VERSION: HeaderName = HeaderName::from_static("x-glmock-gitlab-version");

fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Serves one request; `conn` is its connection's switch for reset/close fault rules.
async fn serve(
    app: &App,
    req: hyper::Request<Incoming>,
    conn: &crate::faults::ConnCtl,
) -> hyper::Response<Reply> {
    let started = Instant::now();
    let mut plan = crate::faults::Plan::default();
    let (mut parts, body) = req.into_parts();
    let method = parts.method.clone();
    // Borrowed from the URI for the whole request (the head's other parts move on).
    let uri = std::mem::take(&mut parts.uri);
    let (url_session, path) = split_session(uri.path());
    let prefix = url_session
        .map(|s| format!("/-/sessions/{s}"))
        .unwrap_or_default();
    let session_name = url_session.or_else(|| header(&parts.headers, &X_GLMOCK_SESSION));
    if let Some(name) = session_name
        && !session::valid_name(name)
    {
        let resp =
            ApiError::Validation("invalid session name (use 1-64 of A-Z a-z 0-9 _ . -)".into())
                .into_response();
        return to_hyper(resp, method == Method::HEAD);
    }
    let path = if path.is_empty() { "/" } else { path };
    let query = match query::parse_query(uri.query().unwrap_or("")) {
        Ok(q) if !query::malformed_path(path) => q,
        _ => {
            return to_hyper(
                ApiError::MalformedRequest.into_response(),
                method == Method::HEAD,
            );
        }
    };

    if let Some(control_path) = path.strip_prefix("/-/glmock") {
        // HTTP/2 names the host in `:authority`; the control API's Host rules apply to it.
        if !parts.headers.contains_key(hyper::header::HOST)
            && let Some(a) = uri.authority()
            && let Ok(v) = HeaderValue::from_str(a.as_str())
        {
            parts.headers.insert(hyper::header::HOST, v);
        }
        let resp = match read_body(body, app.options.max_body_bytes, app.options.idle_timeout).await
        {
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

    let mut session: Cow<'static, str> = match session_name {
        Some(name) => Cow::Owned(name.to_owned()),
        None => Cow::Borrowed(session::DEFAULT),
    };
    // A session's first request may choose the GitLab version it emulates.
    let mut versioned_here = false;
    if let Some(v) = header(&parts.headers, &X_GLMOCK_GITLAB_VERSION)
        && !app.sessions.exists(&session)
    {
        versioned_here = true;
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
            let authority = uri.authority().map(|a| a.as_str());
            let host = header(&parts.headers, &hyper::header::HOST)
                .or(authority)
                .unwrap_or("localhost");
            let mut base = String::with_capacity("http://".len() + host.len());
            base.push_str("http://");
            base.push_str(host);
            base
        }
    };
    let content_type = header(&parts.headers, &CONTENT_TYPE).map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    // The handler's request owns these while it runs; they come back for the log and the
    // journal.
    let mut path = path.to_owned();
    let mut request_body = Bytes::new();
    let mut request_headers = HeaderMap::new();
    let mut resp = match read_body(body, app.options.max_body_bytes, app.options.idle_timeout).await
    {
        Err(e) => e.into_response(),
        Ok(bytes) => {
            request_body = bytes;
            match parse_body(&method, content_type.as_deref(), &request_body) {
                Err(e) => e.into_response(),
                Ok(body) => {
                    let mut api_req = Request::new(
                        method.clone(),
                        std::mem::take(&mut path),
                        prefix,
                        std::mem::take(&mut session),
                        query,
                        body,
                        std::mem::take(&mut parts.headers),
                        link_base,
                    );
                    // --- faults hook (#10): rules and rate limits may delay the request or
                    // answer instead of the handler.
                    plan = crate::faults::decide(&app.sessions, &api_req, Some(conn));
                    plan.wait().await;
                    let faulted = plan.answer();
                    // --- end of faults hook
                    let resp = match faulted.map(Ok).unwrap_or_else(|| {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            api::handle(&app.sessions, &api_req)
                        }))
                    }) {
                        Ok(r) => r,
                        Err(panic) => {
                            let msg = panic
                                .downcast_ref::<&str>()
                                .map(|s| (*s).to_owned())
                                .or_else(|| panic.downcast_ref::<String>().cloned());
                            tracing::error!(method = %method, path = %api_req.path, panic = msg.as_deref().unwrap_or("?"), "handler panicked; answering 500");
                            ApiError::Internal.into_response()
                        }
                    };
                    request_headers = std::mem::take(&mut api_req.headers);
                    path = std::mem::take(&mut api_req.path);
                    session = std::mem::take(&mut api_req.session);
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
        resp.headers.push((
            api::names::X_GLMOCK_UNIMPLEMENTED,
            HeaderValue::from_static("true"),
        ));
        tracing::warn!(method = %method, path = %path, route, session = %session, "glmock does not implement this GitLab endpoint; answered 404 with X-Glmock-Unimplemented");
    }
    // A request that fails authentication leaves no session behind, even one its version
    // header created.
    if versioned_here && resp.status == StatusCode::UNAUTHORIZED {
        app.sessions.reset(&session);
        app.scenario.forget_session_version(&session);
    }
    // The raw query string, for the journal only.
    let raw_query = if app.journal.options().enabled {
        uri.query().unwrap_or("").to_owned()
    } else {
        String::new()
    };
    let latency_us = started.elapsed().as_micros() as u64;
    let time = jiff::Timestamp::now();
    if app.options.access_log {
        access::log(&access::Line {
            time,
            method: method.as_str(),
            path: &path,
            session: &session,
            status: resp.status.as_u16(),
            latency_us,
        });
    }
    if app.journal.options().enabled {
        app.journal.record_exchange(Exchange {
            time,
            session: &session,
            method: method.clone(),
            path,
            query: raw_query,
            route: resp.route,
            status: plan.journal_status(resp.status.as_u16()),
            latency_us,
            request_headers: &request_headers,
            request_body: &request_body,
            response_body: &resp.body,
            violations: std::mem::take(&mut resp.violations),
            faults: plan.ids(),
            unimplemented,
        });
    }
    plan.apply(to_hyper(resp, method == Method::HEAD))
}

/// The target of the access log's events (one per API request, at `info`).
pub const ACCESS_LOG_TARGET: &str = access::TARGET;

/// A response body: whole, or as a fault rule leaves it (`src/faults/body.rs`).
pub type Reply = crate::faults::FaultBody<Full<Parts>>;

/// The whole body, at most `limit` bytes; a body that stops arriving for `stall` ends the
/// request (a connection is not held by a client that sent half a body).
async fn read_body(body: Incoming, limit: usize, stall: Duration) -> Result<Bytes, ApiError> {
    // Most requests have none: no timer for them.
    if hyper::body::Body::is_end_stream(&body) {
        return Ok(Bytes::new());
    }
    let mut body = Limited::new(body, limit);
    let mut out = bytes::BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(stall, body.frame()).await {
            Err(_) => {
                return Err(ApiError::BadRequest(
                    "could not read the request body".into(),
                ));
            }
            Ok(None) => return Ok(out.freeze()),
            Ok(Some(f)) => f,
        };
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    out.extend_from_slice(&data);
                }
            }
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(ApiError::PayloadTooLarge);
            }
            Err(_) => {
                return Err(ApiError::BadRequest(
                    "could not read the request body".into(),
                ));
            }
        }
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
            match query::parse_json(bytes)? {
                query::Param::Hash(h) => Ok(h),
                _ => Ok(Params::new()),
            }
        }
        Some("application/x-www-form-urlencoded") | None => {
            let text = std::str::from_utf8(bytes).map_err(|_| ApiError::MalformedRequest)?;
            Ok(query::parse_form(text)?)
        }
        Some(other) => Err(ApiError::UnsupportedContentType(other.to_owned())),
    }
}

static REQUEST_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// HTTP/2 keeps header values in its HPACK table for as long as the connection lives; a
/// value carved from a per-thread block (`api::arena`) would keep the whole block. Those
/// connections get values of their own.
fn own_header_values(headers: &mut hyper::HeaderMap) {
    for value in headers.values_mut() {
        if let Ok(own) = HeaderValue::from_bytes(value.as_bytes()) {
            let sensitive = value.is_sensitive();
            *value = own;
            value.set_sensitive(sensitive);
        }
    }
}

/// `glmock-` and the id in 16 hex digits.
fn request_id(id: u64) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = *b"glmock-0000000000000000";
    for (i, slot) in text[7..].iter_mut().enumerate() {
        *slot = HEX[((id >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_maybe_shared(api::arena::copy(&text)).expect("hex is a valid header value")
}

/// A response body in pieces, written with vectored I/O (the page's own shared slice walked
/// with an index, not copied into a new list), or copied into one buffer when its pieces
/// are small (see [`Parts::page`]).
pub struct Parts {
    chunks: Chunks,
    /// The front chunk, and the bytes of it already written.
    at: usize,
    skip: usize,
    remaining: usize,
}

enum Chunks {
    One([Bytes; 1]),
    Many(Arc<[Bytes]>),
}

impl Chunks {
    fn as_slice(&self) -> &[Bytes] {
        match self {
            Chunks::One(b) => b,
            Chunks::Many(b) => b,
        }
    }
}

impl Parts {
    fn one(bytes: Bytes) -> Parts {
        Parts::from_chunks(Chunks::One([bytes]))
    }

    fn shared(chunks: Arc<[Bytes]>) -> Parts {
        Parts::from_chunks(Chunks::Many(chunks))
    }

    /// A page of cached entities, for the socket. `writev` costs the kernel about as much
    /// per segment as copying a few KiB (measured on a 20-job page of 36 KiB in 22 or more
    /// pieces: 2.2 µs copying from the pieces, 0.75 µs from one buffer, plus 0.8 µs to
    /// fill it), so a page of small pieces is copied into one buffer first; a page of large
    /// pieces, or a huge one, goes out vectored. Items rendered together come as one piece
    /// (see `render::page`), so a cached page is usually a few large pieces.
    fn page(chunks: Arc<[Bytes]>) -> Parts {
        /// Copy when the pieces are this small on average...
        const COPY_BELOW_AVERAGE: usize = 4 * 1024;
        /// ...and the page is no longer than this (no large transient copy).
        const COPY_AT_MOST: usize = 1024 * 1024;
        let len: usize = chunks.iter().map(Bytes::len).sum();
        if chunks.len() < 2 || len > COPY_AT_MOST || len >= chunks.len() * COPY_BELOW_AVERAGE {
            return Parts::shared(chunks);
        }
        thread_local! {
            /// What pages are copied into. A page is split off it; once hyper has written
            /// and dropped it, the next `reserve` takes the allocation back (no allocation
            /// per page). At most a page of `COPY_AT_MOST` stays per thread.
            static PAGE: std::cell::RefCell<bytes::BytesMut> =
                std::cell::RefCell::new(bytes::BytesMut::new());
        }
        let flat = PAGE.with_borrow_mut(|buf| {
            buf.reserve(len);
            for c in chunks.iter() {
                buf.extend_from_slice(c);
            }
            buf.split().freeze()
        });
        Parts::one(flat)
    }

    fn empty() -> Parts {
        Parts::one(Bytes::new())
    }

    fn from_chunks(chunks: Chunks) -> Parts {
        let remaining = chunks.as_slice().iter().map(Bytes::len).sum();
        let mut parts = Parts {
            chunks,
            at: 0,
            skip: 0,
            remaining,
        };
        parts.skip_empty();
        parts
    }

    /// Moves past empty chunks (and the consumed front one).
    fn skip_empty(&mut self) {
        let chunks = self.chunks.as_slice();
        while self.at < chunks.len() && self.skip >= chunks[self.at].len() {
            self.at += 1;
            self.skip = 0;
        }
    }
}

impl bytes::Buf for Parts {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        match self.chunks.as_slice().get(self.at) {
            Some(front) => &front[self.skip..],
            None => &[],
        }
    }

    fn advance(&mut self, mut cnt: usize) {
        while cnt > 0 {
            let Some(front) = self.chunks.as_slice().get(self.at) else {
                return;
            };
            let n = cnt.min(front.len() - self.skip);
            self.skip += n;
            self.remaining -= n;
            cnt -= n;
            self.skip_empty();
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let chunks = self.chunks.as_slice();
        let mut n = 0;
        let mut skip = self.skip;
        for chunk in chunks.iter().skip(self.at) {
            if n == dst.len() {
                break;
            }
            if chunk.len() > skip {
                dst[n] = std::io::IoSlice::new(&chunk[skip..]);
                n += 1;
            }
            skip = 0;
        }
        n
    }
}

fn to_hyper(resp: Response, head: bool) -> hyper::Response<Reply> {
    let (content_type, body) = match resp.body {
        Body::Json(b) => (Some("application/json"), Parts::one(b)),
        Body::JsonParts(parts) => (Some("application/json"), Parts::page(parts)),
        Body::Text(b) => (Some("text/plain"), Parts::one(b)),
        Body::Empty => (None, Parts::empty()),
    };
    let mut builder = hyper::Response::builder().status(resp.status);
    let h = builder.headers_mut().expect("builder has no error yet");
    // The six below, the response's own, and room for `Connection: close`.
    h.reserve(7 + resp.headers.len());
    if let Some(ct) = content_type {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    // Header names as constants: a `&str` name is parsed again on every response.
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=0, private, must-revalidate"),
    );
    h.insert(
        hyper::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        hyper::header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(hyper::header::VARY, HeaderValue::from_static("Origin"));
    let id = REQUEST_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    h.insert(api::names::X_REQUEST_ID, request_id(id));
    for (name, value) in resp.headers {
        h.append(name, value);
    }
    let body = if head { Parts::empty() } else { body };
    builder
        .body(Reply::Whole(Full::new(body)))
        .unwrap_or_else(|_| {
            let mut r = hyper::Response::new(Reply::Whole(Full::new(Parts::one(
                Bytes::from_static(b"{\"message\":\"500 Internal Server Error\"}"),
            ))));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}

#[cfg(test)]
mod tests {
    use bytes::{Buf, Bytes};

    use super::Parts;

    #[test]
    fn request_ids_are_sixteen_hex_digits() {
        assert_eq!(super::request_id(1), "glmock-0000000000000001");
        assert_eq!(
            super::request_id(0xfedc_ba98_7654_3210),
            "glmock-fedcba9876543210"
        );
        assert_eq!(super::request_id(u64::MAX), "glmock-ffffffffffffffff");
    }

    #[test]
    fn a_page_of_small_pieces_is_one_buffer_and_of_large_ones_stays_in_pieces() {
        let small: Vec<Bytes> = ["[", "{\"id\":2}", ",{\"id\":1}", "]"]
            .into_iter()
            .map(|s| Bytes::from_static(s.as_bytes()))
            .collect();
        let small: std::sync::Arc<[Bytes]> = small.into();
        let mut p = Parts::page(small.clone());
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        assert_eq!(p.chunks_vectored(&mut slices), 1);
        let at = p.chunk().as_ptr();
        assert_eq!(
            &p.copy_to_bytes(p.remaining())[..],
            b"[{\"id\":2},{\"id\":1}]"
        );
        drop(p);
        // Freed memory of that size would go to this allocation; the page keeps its own.
        let squatter = Vec::<u8>::with_capacity(19);
        let again = Parts::page(small.clone());
        assert_eq!(
            again.chunk().as_ptr(),
            at,
            "a written page's buffer is reused"
        );
        let while_in_flight = Parts::page(small);
        assert_ne!(while_in_flight.chunk().as_ptr(), again.chunk().as_ptr());
        assert_eq!(while_in_flight.chunk(), again.chunk());
        drop(squatter);

        let large: Vec<Bytes> = [vec![b'a'; 5000], vec![b'b'; 5000]]
            .into_iter()
            .map(Bytes::from)
            .collect();
        let p = Parts::page(large.into());
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        assert_eq!(p.chunks_vectored(&mut slices), 2);
        assert_eq!(p.remaining(), 10_000);

        let huge: Vec<Bytes> = (0..2048).map(|_| Bytes::from(vec![b'x'; 1000])).collect();
        let p = Parts::page(huge.into());
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        assert_eq!(p.chunks_vectored(&mut slices), 8, "over a MiB: not copied");
    }

    #[test]
    fn parts_read_as_one_buffer_across_chunk_boundaries() {
        let mut p = Parts::shared(
            [
                Bytes::new(),
                Bytes::from_static(b"["),
                Bytes::new(),
                Bytes::from_static(b"{\"a\":1}"),
                Bytes::from_static(b"]"),
                Bytes::new(),
            ]
            .into(),
        );
        assert_eq!(p.remaining(), 9);
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        assert_eq!(
            p.chunks_vectored(&mut slices),
            3,
            "empty chunks are dropped"
        );
        let mut two = [std::io::IoSlice::new(&[]); 2];
        assert_eq!(p.chunks_vectored(&mut two), 2, "no more than the slots");
        assert_eq!(&*two[1], b"{\"a\":1}");
        p.advance(3);
        assert_eq!(p.chunk(), b"a\":1}");
        let mut rest = [std::io::IoSlice::new(&[]); 8];
        assert_eq!(p.chunks_vectored(&mut rest), 2);
        assert_eq!(&*rest[0], b"a\":1}");
        assert_eq!(&*rest[1], b"]");
        let rest = p.copy_to_bytes(p.remaining());
        assert_eq!(&rest[..], b"a\":1}]");
    }
}

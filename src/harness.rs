//! The in-process harness for Rust test suites, in the spirit of wiremock-rs: a server per
//! [`MockGitlab`] (its own thread and runtime, stopped on drop), sessions steered and read
//! in-process, expectations checked when a [`Session`] drops, and one shared server per test
//! binary ([`MockGitlab::shared`]).
//!
//! Everything that reaches into the server's state (sessions, journal, world) goes through
//! the functions of `backend` at the end of this file, and nowhere else.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub use crate::contract::Mode as ContractMode;
pub use crate::scenario::ScenarioError;
pub use crate::version::Version as GitlabVersion;

/// A glmock server running inside the test process, on its own thread and tokio runtime (so
/// it serves whatever runtime, or none, the test uses, blocking clients included).
///
/// Dropping it stops the server: the port is closed when `drop` returns.
///
/// ```
/// # #[tokio::main] async fn main() -> Result<(), glmock::StartError> {
/// let gitlab = glmock::MockGitlab::start().await?;
/// let health = reqwest::get(format!("{}/-/glmock/health", gitlab.uri())).await.unwrap();
/// assert_eq!(health.status(), 200);
/// let address = gitlab.address();
/// drop(gitlab);
/// assert!(std::net::TcpStream::connect(address).is_err(), "stopped on drop");
/// # Ok(()) }
/// ```
pub struct MockGitlab {
    backend: Arc<Backend>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Builds a [`MockGitlab`]: the embedded default scenario, strict contract checking, the
/// scenario's GitLab version, `127.0.0.1:0`, unless told otherwise.
///
/// ```
/// use glmock::{ContractMode, MockGitlab};
///
/// # #[tokio::main] async fn main() -> Result<(), glmock::StartError> {
/// let gitlab = MockGitlab::builder()
///     .scenario_yaml("projects: [{id: 5, path: team/app}]")
///     .gitlab_version("17.11")
///     .contract(ContractMode::Strict)
///     .listen("127.0.0.1:0".parse().unwrap())
///     .start()
///     .await?;
/// assert_eq!(gitlab.gitlab_version().to_string(), "17.11");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MockGitlabBuilder {
    sources: Vec<SourceSpec>,
    contract: ContractMode,
    version: Option<String>,
    listen: SocketAddr,
}

#[derive(Debug, Clone)]
enum SourceSpec {
    File(PathBuf),
    Yaml(String),
}

/// Why a [`MockGitlab`] did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The scenario is broken: every error, each located (file, line, column, field path).
    #[error("{}", scenario_errors(.0))]
    Scenario(Vec<ScenarioError>),
    /// `.gitlab_version(…)` names a version glmock does not emulate.
    #[error(
        "GitLab version {given:?} is not emulated (allowed: {oldest} to {newest}, as major.minor)"
    )]
    UnknownVersion {
        /// What was asked for.
        given: String,
        /// The oldest version glmock emulates.
        oldest: GitlabVersion,
        /// The newest version glmock emulates.
        newest: GitlabVersion,
    },
    /// The server could not listen (address in use, not an address of this machine…) or
    /// load its response schemas.
    #[error("cannot start glmock on {addr}: {source}")]
    Server {
        /// The address it was to listen on.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

fn scenario_errors(errors: &[ScenarioError]) -> String {
    crate::scenario::ScenarioErrors(errors.to_vec())
        .to_string()
        .trim_end()
        .to_owned()
}

/// Why a [`Session`] could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// No job (or bridge) with this id in the session.
    #[error("no job {job} in session {session}")]
    NoSuchJob {
        /// The session asked.
        session: String,
        /// The job id asked for.
        job: u64,
    },
}

/// A job or pipeline status, as GitLab names it (`Ci::HasStatus::AVAILABLE_STATUSES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobStatus {
    /// `created`
    Created,
    /// `waiting_for_resource`
    WaitingForResource,
    /// `preparing`
    Preparing,
    /// `waiting_for_callback` (GitLab 18.0+)
    WaitingForCallback,
    /// `pending`
    Pending,
    /// `running`
    Running,
    /// `success`
    Success,
    /// `failed`
    Failed,
    /// `canceling` (GitLab 17.0+)
    Canceling,
    /// `canceled`
    Canceled,
    /// `skipped`
    Skipped,
    /// `manual`
    Manual,
    /// `scheduled`
    Scheduled,
}

impl JobStatus {
    /// Every status, in GitLab's order.
    pub const ALL: [JobStatus; 13] = [
        JobStatus::Created,
        JobStatus::WaitingForResource,
        JobStatus::Preparing,
        JobStatus::WaitingForCallback,
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Success,
        JobStatus::Failed,
        JobStatus::Canceling,
        JobStatus::Canceled,
        JobStatus::Skipped,
        JobStatus::Manual,
        JobStatus::Scheduled,
    ];

    /// GitLab's name for it (`"waiting_for_resource"`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Created => "created",
            JobStatus::WaitingForResource => "waiting_for_resource",
            JobStatus::Preparing => "preparing",
            JobStatus::WaitingForCallback => "waiting_for_callback",
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Success => "success",
            JobStatus::Failed => "failed",
            JobStatus::Canceling => "canceling",
            JobStatus::Canceled => "canceled",
            JobStatus::Skipped => "skipped",
            JobStatus::Manual => "manual",
            JobStatus::Scheduled => "scheduled",
        }
    }

    /// The status GitLab calls `name`.
    pub fn parse(name: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job after [`Session::set_job_status`], with the pipeline status that followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// The job id.
    pub id: u64,
    /// Its status now.
    pub status: JobStatus,
    /// Its pipeline.
    pub pipeline_id: u64,
    /// The pipeline's status now (recomputed from its jobs).
    pub pipeline_status: JobStatus,
}

/// One request a session received, as the journal keeps it (oldest first).
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// Order of arrival across the whole server.
    pub seq: u64,
    /// `GET`, `POST`…
    pub method: String,
    /// The path without the session prefix: `/api/v4/projects/1/jobs/7/retry`.
    pub path: String,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    /// The status glmock answered.
    pub status: u16,
    /// How the response broke its schema, one line per violation (empty when it did not).
    pub violations: Vec<String>,
}

impl fmt::Display for JournalEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if !self.query.is_empty() {
            write!(f, "?{}", self.query)?;
        }
        write!(f, " → {}", self.status)
    }
}

impl MockGitlab {
    /// Starts a server with the embedded default scenario (the documented examples: project
    /// 1 `foo/bar`, pipeline 6 with jobs 6, 7, 8, the token `glpat-root`…), strict contract.
    pub async fn start() -> Result<MockGitlab, StartError> {
        MockGitlab::builder().start().await
    }

    /// A builder, to choose the scenario, contract mode, GitLab version or address.
    pub fn builder() -> MockGitlabBuilder {
        MockGitlabBuilder::default()
    }

    /// One server for the whole test binary (default scenario, strict), started on first use
    /// on a thread of its own, and a fresh session of it for the caller.
    ///
    /// Each `#[tokio::test]` has a runtime that dies with the test, so the shared server runs
    /// on its own: hundreds of tests pay for one start, and sessions keep them apart. The
    /// session's name comes from the test's name; it is forgotten (state and journal) when the
    /// handle drops.
    ///
    /// ```
    /// # #[tokio::main] async fn main() {
    /// let session = glmock::MockGitlab::shared();
    /// let user = reqwest::Client::new()
    ///     .get(format!("{}/api/v4/user", session.uri()))
    ///     .header("PRIVATE-TOKEN", "glpat-root")
    ///     .send()
    ///     .await
    ///     .unwrap();
    /// assert_eq!(user.status(), 200);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When the shared server cannot start (it cannot bind `127.0.0.1:0`).
    pub fn shared() -> Session {
        static SHARED: OnceLock<Result<Arc<Backend>, String>> = OnceLock::new();
        let backend = SHARED.get_or_init(|| {
            let builder = MockGitlabBuilder::default();
            // Never stopped: it lives as long as the test binary.
            match builder.spawn(true) {
                Ok(server) => {
                    let backend = server.backend.clone();
                    std::mem::forget(server);
                    Ok(backend)
                }
                Err(e) => Err(e.to_string()),
            }
        });
        match backend {
            Ok(b) => Session::new(b.clone(), fresh_session_name(), true),
            Err(e) => panic!("glmock: the shared server did not start: {e}"),
        }
    }

    /// `http://127.0.0.1:<port>`: the base URL of the `default` session (append `/api/v4`).
    pub fn uri(&self) -> String {
        self.backend.uri()
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.backend.addr
    }

    /// The GitLab version it emulates.
    pub fn gitlab_version(&self) -> GitlabVersion {
        backend::gitlab_version(&self.backend.app)
    }

    /// A handle on the session `name` (created on first use from the scenario): its URL,
    /// its state, its journal, its expectations. Sessions never see each other's changes.
    /// The session keeps its state when the handle drops.
    ///
    /// # Panics
    ///
    /// When `name` is not 1–64 of `A-Z a-z 0-9 _ . -`.
    pub fn session(&self, name: &str) -> Session {
        assert!(
            backend::valid_session_name(name),
            "glmock: invalid session name {name:?} (use 1-64 of A-Z a-z 0-9 _ . -)"
        );
        Session::new(self.backend.clone(), name.to_owned(), false)
    }
}

impl Drop for MockGitlab {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for MockGitlab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockGitlab")
            .field("uri", &self.uri())
            .finish()
    }
}

impl Default for MockGitlabBuilder {
    fn default() -> Self {
        MockGitlabBuilder {
            sources: Vec::new(),
            contract: ContractMode::Strict,
            version: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl MockGitlabBuilder {
    /// Adds a scenario file (several merge, in order; none: the embedded default scenario).
    ///
    /// A relative path is resolved against the `CARGO_MANIFEST_DIR` environment variable when
    /// it is set (Cargo sets it to the tested package's directory when it runs tests), else
    /// against the current directory. To fix it at compile time instead, pass
    /// `concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gitlab.yaml")`.
    pub fn scenario(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(SourceSpec::File(path.into()));
        self
    }

    /// Adds a scenario given as YAML text (merged with the others, in order).
    pub fn scenario_yaml(mut self, yaml: &str) -> Self {
        self.sources.push(SourceSpec::Yaml(yaml.to_owned()));
        self
    }

    /// What a response that breaks its JSON Schema gets; [`ContractMode::Strict`] by default.
    ///
    /// Strict, because a test suite should fail loudly (a 500 whose body lists every
    /// violation) rather than pass against data GitLab would never send — a scenario's
    /// `override:` can put anything into an entity. `glmock serve` defaults to `warn`
    /// instead: a long-running server keeps answering and marks the response.
    pub fn contract(mut self, mode: ContractMode) -> Self {
        self.contract = mode;
        self
    }

    /// Emulates another GitLab version (`"17.11"`), overriding the scenario's
    /// `gitlab.version`. A version glmock does not emulate fails [`start`](Self::start)
    /// with [`StartError::UnknownVersion`].
    pub fn gitlab_version(mut self, version: &str) -> Self {
        self.version = Some(version.to_owned());
        self
    }

    /// Listens on `addr` instead of `127.0.0.1:0` (port 0 picks a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Loads the scenario and starts the server; every scenario error comes back at once.
    ///
    /// ```
    /// # #[tokio::main] async fn main() {
    /// let err = glmock::MockGitlab::builder()
    ///     .scenario_yaml("projects: [{id: 1, path: a/b, visibility: secret}]")
    ///     .start()
    ///     .await
    ///     .unwrap_err();
    /// let glmock::StartError::Scenario(errors) = err else { panic!("{err}") };
    /// assert_eq!(errors[0].path, "projects[0].visibility");
    /// assert_eq!((errors[0].line, errors[0].column), (1, 43));
    /// # }
    /// ```
    pub async fn start(self) -> Result<MockGitlab, StartError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("glmock-start".into())
            .spawn(move || {
                let _ = tx.send(self.spawn(false));
            })
            .map_err(|source| StartError::Server {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                source,
            })?;
        rx.await.expect("the start thread always answers")
    }

    /// [`start`](Self::start) for tests without an async runtime.
    pub fn start_blocking(self) -> Result<MockGitlab, StartError> {
        self.spawn(false)
    }

    /// Loads the scenario here, then starts the server on a thread of its own.
    fn spawn(self, shared: bool) -> Result<MockGitlab, StartError> {
        let version =
            match &self.version {
                None => None,
                Some(given) => Some(backend::parse_version(given).ok_or_else(|| {
                    StartError::UnknownVersion {
                        given: given.clone(),
                        oldest: crate::version::OLDEST,
                        newest: crate::version::NEWEST,
                    }
                })?),
            };
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        let mut inline = 0;
        for spec in &self.sources {
            match spec {
                SourceSpec::File(path) => match backend::read_source(&resolve(path)) {
                    Ok(s) => sources.push(s),
                    Err(e) => errors.push(e),
                },
                SourceSpec::Yaml(text) => {
                    inline += 1;
                    sources.push(backend::inline_source(
                        format!("scenario_yaml #{inline}"),
                        text,
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(StartError::Scenario(errors));
        }
        let kept = backend::kept_sources(&sources, version);
        let world = backend::build_world(sources, version).map_err(StartError::Scenario)?;
        let addr = self.listen;
        let options = backend::server_options(addr, self.contract, shared);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(if shared { "glmock-shared" } else { "glmock" }.into())
            .spawn(move || {
                let runtime = if shared {
                    // Many tests at once: more than one thread to answer them.
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                } else {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                };
                let runtime = match runtime {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match backend::start(world, kept, options).await {
                        Ok(server) => {
                            let _ = ready_tx.send(Ok(backend::parts(&server)));
                            let _ = stopped.await;
                            backend::stop(server).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|source| StartError::Server { addr, source })?;
        let (app, addr) = match ready_rx.recv() {
            Ok(Ok(parts)) => parts,
            Ok(Err(source)) => {
                let _ = thread.join();
                return Err(StartError::Server { addr, source });
            }
            Err(_) => {
                let _ = thread.join();
                return Err(StartError::Server {
                    addr,
                    source: std::io::Error::other("the server thread ended while starting"),
                });
            }
        };
        Ok(MockGitlab {
            backend: Arc::new(Backend { app, addr }),
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Relative scenario paths: against the tested package's directory when Cargo says which.
fn resolve(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) if !dir.is_empty() => Path::new(&dir).join(path),
        _ => path.to_path_buf(),
    }
}

/// A unique, readable session name for `shared()`: the test's name (libtest names each test's
/// thread after it) and a counter.
fn fresh_session_name() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let thread = std::thread::current();
    let base: String = thread
        .name()
        .unwrap_or("test")
        .replace("::", ".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let suffix = format!("-{n}");
    let keep = 64 - suffix.len();
    let start = base.len().saturating_sub(keep);
    format!("{}{suffix}", &base[start..])
}

/// The server as the handles see it.
struct Backend {
    app: Arc<crate::server::App>,
    addr: SocketAddr,
}

impl Backend {
    fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// One session of a [`MockGitlab`]: its own copy of the scenario's world and its own
/// journal. Use [`uri`](Self::uri) as the client's base URL.
///
/// Expectations declared with [`expect`](Self::expect) are checked when the handle drops
/// (or at [`verify`](Self::verify)); a failed one panics with the requests received.
///
/// ```
/// use glmock::{JobStatus, MockGitlab};
/// use std::time::Duration;
///
/// # #[tokio::main] async fn main() -> Result<(), glmock::StartError> {
/// let gitlab = MockGitlab::start().await?;
/// let session = gitlab.session("retry-once");
/// session.expect("POST", "/api/v4/projects/1/jobs/7/retry").times(1);
///
/// let retried = reqwest::Client::new()
///     .post(format!("{}/api/v4/projects/1/jobs/7/retry", session.uri()))
///     .header("PRIVATE-TOKEN", "glpat-root")
///     .send()
///     .await
///     .unwrap();
/// assert_eq!(retried.status(), 201);
/// assert_eq!(session.received_requests().len(), 1);
/// drop(session); // the expectation is met: no panic
///
/// let steered = gitlab.session("steered");
/// steered.advance_clock(Duration::from_secs(60));
/// let job = steered.set_job_status(8, JobStatus::Success).unwrap();
/// assert_eq!(job.status, JobStatus::Success);
/// steered.reset(); // back to the scenario as loaded
/// # Ok(()) }
/// ```
pub struct Session {
    backend: Arc<Backend>,
    name: String,
    expectations: Mutex<Vec<ExpectationSpec>>,
    /// `shared()` sessions are forgotten on drop, so a long test binary stays small.
    forget_on_drop: bool,
}

#[derive(Debug, Clone)]
struct ExpectationSpec {
    method: String,
    path: String,
    min: usize,
    max: Option<usize>,
}

impl ExpectationSpec {
    fn matches(&self, e: &JournalEntry) -> bool {
        e.method.eq_ignore_ascii_case(&self.method)
            && match self.path.strip_suffix('*') {
                Some(prefix) => e.path.starts_with(prefix),
                None => e.path == self.path,
            }
    }

    fn wanted(&self) -> String {
        match (self.min, self.max) {
            (n, Some(m)) if n == m => format!("exactly {n}"),
            (0, Some(m)) => format!("at most {m}"),
            (n, None) => format!("at least {n}"),
            (n, Some(m)) => format!("{n} to {m}"),
        }
    }
}

/// An expectation on the requests of a [`Session`], registered when this value is dropped
/// or consumed: by default "at least once"; [`times`](Self::times) makes it exact.
pub struct Expectation<'a> {
    session: &'a Session,
    spec: Option<ExpectationSpec>,
}

impl Expectation<'_> {
    /// Exactly `n` matching requests.
    pub fn times(mut self, n: usize) {
        if let Some(s) = &mut self.spec {
            s.min = n;
            s.max = Some(n);
        }
    }

    /// `n` or more matching requests.
    pub fn at_least(mut self, n: usize) {
        if let Some(s) = &mut self.spec {
            s.min = n;
            s.max = None;
        }
    }

    /// No matching request at all.
    pub fn never(self) {
        self.times(0);
    }
}

impl Drop for Expectation<'_> {
    fn drop(&mut self) {
        if let Some(spec) = self.spec.take() {
            self.session
                .expectations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(spec);
        }
    }
}

impl Session {
    fn new(backend: Arc<Backend>, name: String, forget_on_drop: bool) -> Session {
        Session {
            backend,
            name,
            expectations: Mutex::new(Vec::new()),
            forget_on_drop,
        }
    }

    /// The session's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `http://127.0.0.1:<port>/-/sessions/<name>`: the client's base URL (append `/api/v4`).
    pub fn uri(&self) -> String {
        format!("{}/-/sessions/{}", self.backend.uri(), self.name)
    }

    /// Back to the scenario as loaded: the session's changes and its journal are forgotten.
    pub fn reset(&self) {
        backend::reset(&self.backend.app, &self.name);
    }

    /// Moves the session's clock forward (job timelines advance with it).
    pub fn advance_clock(&self, by: Duration) {
        backend::advance_clock(&self.backend.app, &self.name, by);
    }

    /// Moves a job to `status` now, as a runner would: timestamps, later stages and the
    /// pipeline's status follow, and its timeline (if any) stops.
    pub fn set_job_status(&self, job: u64, status: JobStatus) -> Result<JobState, HarnessError> {
        backend::set_job_status(&self.backend.app, &self.name, job, status).ok_or_else(|| {
            HarnessError::NoSuchJob {
                session: self.name.clone(),
                job,
            }
        })
    }

    /// The API requests this session received, oldest first (control requests are not
    /// journaled). The journal keeps the server's most recent 10,000 requests.
    pub fn received_requests(&self) -> Vec<JournalEntry> {
        backend::requests(&self.backend.app, &self.name)
    }

    /// Expects requests with `method` (any case) on `path` (the path under `/api/v4`
    /// included, without the session prefix; a final `*` makes it a prefix), checked when
    /// the handle drops: `session.expect("POST", "/api/v4/projects/1/jobs/7/retry").times(1)`.
    pub fn expect(&self, method: &str, path: &str) -> Expectation<'_> {
        Expectation {
            session: self,
            spec: Some(ExpectationSpec {
                method: method.to_owned(),
                path: path.to_owned(),
                min: 1,
                max: None,
            }),
        }
    }

    /// Checks the expectations now (they are checked again on drop).
    ///
    /// # Panics
    ///
    /// When one is not met, with every request the session received.
    #[track_caller]
    pub fn verify(&self) {
        if let Err(message) = self.check() {
            panic!("{message}");
        }
    }

    fn check(&self) -> Result<(), String> {
        let expectations = self
            .expectations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if expectations.is_empty() {
            return Ok(());
        }
        let received = self.received_requests();
        let mut failed = Vec::new();
        for e in &expectations {
            let n = received.iter().filter(|r| e.matches(r)).count();
            if n < e.min || e.max.is_some_and(|m| n > m) {
                failed.push(format!(
                    "  {} {}: expected {}, received {n}",
                    e.method.to_ascii_uppercase(),
                    e.path,
                    e.wanted()
                ));
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        let mut message = format!(
            "glmock: {} expectation(s) of session {:?} not met:\n{}\n",
            failed.len(),
            self.name,
            failed.join("\n")
        );
        if received.is_empty() {
            message.push_str("the session received no request");
        } else {
            message.push_str(&format!(
                "the session received {} request(s):",
                received.len()
            ));
            for r in &received {
                message.push_str(&format!("\n  {r}"));
            }
        }
        Err(message)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let outcome = self.check();
        if self.forget_on_drop {
            self.reset();
        }
        // Never a second panic while the test is already failing.
        if let Err(message) = outcome
            && !std::thread::panicking()
        {
            panic!("{message}");
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("name", &self.name)
            .field("uri", &self.uri())
            .finish()
    }
}

/// Every call from the harness into the server's internals, in one place.
mod backend {
    use std::net::SocketAddr;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use super::{ContractMode, GitlabVersion, JobState, JobStatus, JournalEntry, ScenarioError};
    use crate::journal::Filter;
    use crate::scenario::{self, Overrides, Source};
    use crate::server::{App, Server, ServerOptions};
    use crate::world::World;
    use crate::world::progress::Cause;
    use crate::world::status::Status;

    pub(super) fn parse_version(v: &str) -> Option<GitlabVersion> {
        crate::version::Version::parse(v)
            .filter(|v| (crate::version::OLDEST..=crate::version::NEWEST).contains(v))
    }

    pub(super) fn read_source(path: &Path) -> Result<Source, ScenarioError> {
        Source::read(path)
    }

    pub(super) fn inline_source(name: String, text: &str) -> Source {
        Source {
            name,
            text: text.to_owned(),
            dir: None,
        }
    }

    pub(super) fn build_world(
        mut sources: Vec<Source>,
        version: Option<GitlabVersion>,
    ) -> Result<World, Vec<ScenarioError>> {
        if sources.is_empty() {
            sources.push(Source::embedded_default());
        }
        let overrides = Overrides {
            base_url: None,
            version,
        };
        scenario::build(&sources, &overrides).map_err(|e| e.0)
    }

    pub(super) fn server_options(
        listen: SocketAddr,
        contract: ContractMode,
        shared: bool,
    ) -> ServerOptions {
        ServerOptions {
            listen,
            contract,
            // A test's drop should not wait long for a client that keeps a request open.
            shutdown_grace: Duration::from_secs(2),
            journal: crate::journal::JournalOptions {
                per_session: 10_000,
                // The shared server's journal serves many tests at once.
                max_bytes: if shared { 256 } else { 64 } * 1024 * 1024,
                ..crate::journal::JournalOptions::default()
            },
            ..ServerOptions::default()
        }
    }

    /// What `GET /-/glmock/scenario` shows and `POST /-/glmock/scenario/merge` builds on.
    pub(super) fn kept_sources(
        sources: &[Source],
        version: Option<crate::version::Version>,
    ) -> crate::control::ScenarioSources {
        let mut sources = sources.to_vec();
        if sources.is_empty() {
            sources.push(Source::embedded_default());
        }
        crate::control::ScenarioSources {
            sources,
            overrides: Overrides {
                base_url: None,
                version,
            },
            // Only `serve --watch` polls files.
            files: Vec::new(),
        }
    }

    pub(super) async fn start(
        world: World,
        kept: crate::control::ScenarioSources,
        options: ServerOptions,
    ) -> std::io::Result<Server> {
        Server::start_with(world, Some(kept), options).await
    }

    pub(super) fn parts(server: &Server) -> (Arc<App>, SocketAddr) {
        (server.app().clone(), server.addr())
    }

    pub(super) async fn stop(server: Server) {
        server.shutdown().await;
    }

    pub(super) fn gitlab_version(app: &App) -> GitlabVersion {
        app.sessions.base().instance.profile.version
    }

    pub(super) fn valid_session_name(name: &str) -> bool {
        crate::world::session::valid_name(name)
    }

    pub(super) fn reset(app: &App, session: &str) {
        app.sessions.reset(session);
        app.journal.clear(Some(session));
    }

    pub(super) fn advance_clock(app: &App, session: &str, by: Duration) {
        let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::MAX);
        app.sessions.write(session, |w| {
            w.clock.advance(by);
            w.advance();
        });
    }

    pub(super) fn set_job_status(
        app: &App,
        session: &str,
        id: u64,
        status: JobStatus,
    ) -> Option<JobState> {
        let status = Status::parse(status.as_str())?;
        let public = |s: Status| JobStatus::parse(s.as_str()).expect("the same status names");
        app.sessions.write(session, |w| {
            w.advance();
            let project = w
                .projects
                .iter()
                .find(|(_, p)| p.job(id).is_some())
                .map(|(pid, _)| *pid)?;
            let now = w.now();
            let job = w
                .set_job_status(project, id, status, now, Cause::External)
                .ok()?;
            let pipeline = w.pipeline(project, job.pipeline_id)?.status;
            Some(JobState {
                id,
                status: public(job.status),
                pipeline_id: job.pipeline_id,
                pipeline_status: public(pipeline),
            })
        })
    }

    pub(super) fn requests(app: &App, session: &str) -> Vec<JournalEntry> {
        let filter = Filter {
            session: Some(session.to_owned()),
            ..Filter::default()
        };
        let page = app.journal.list(&filter, usize::MAX, usize::MAX);
        page.entries
            .into_iter()
            .map(|e| JournalEntry {
                seq: e.seq,
                method: e.method.to_string(),
                path: e.path.clone(),
                query: e.query.clone(),
                status: e.status,
                violations: e
                    .violations
                    .iter()
                    .map(|v| format!("{} {}: {}", v.shape, v.path, v.message))
                    .collect(),
            })
            .collect()
    }
}

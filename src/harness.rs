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

use crate::faults::spec::{Action, DelaySpec, RuleSpec};

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

/// A fault rule for [`Session::add_fault`]: which requests (method, path or route, user,
/// token), when (`after`, `every`, `times`, `probability`), and what they get (a status, a
/// throttle's 429, a reset or closed connection, a delay). The same rule as a scenario's
/// `faults:` entry or a `POST /-/glmock/faults` body, built in Rust.
///
/// ```
/// use glmock::FaultRule;
/// use std::time::Duration;
///
/// // The next two job retries get GitLab's front-end 503 (HTML).
/// let rule = FaultRule::status(503)
///     .id("retry-down")
///     .method("POST")
///     .path("/api/v4/projects/*/jobs/*/retry")
///     .times(2);
/// // Every third job list is slow.
/// let slow = FaultRule::delay(Duration::from_millis(300))
///     .route("/projects/:id/jobs")
///     .every(3);
/// // Or as text, in the scenario's format.
/// let same = FaultRule::from_json(
///     r#"{"id": "retry-down", "match": {"method": "POST",
///         "path": "/api/v4/projects/*/jobs/*/retry"}, "when": {"times": 2}, "then": {"status": 503}}"#,
/// )
/// .unwrap();
/// assert_eq!(rule, same);
/// assert_ne!(rule, slow);
/// assert!(FaultRule::from_yaml("then: {status: 999}").is_ok(), "values are checked when added");
/// assert!(FaultRule::from_yaml("then: {stauts: 503}").is_err(), "unknown fields are not");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    spec: RuleSpec,
}

impl FaultRule {
    fn then(action: Action) -> FaultRule {
        FaultRule {
            spec: RuleSpec {
                then: Some(action),
                ..RuleSpec::default()
            },
        }
    }

    /// Answers GitLab's own response for `status` instead: 500 from the API (JSON),
    /// 502/503/504 from the front end (HTML), 429 as a Rack::Attack throttle.
    pub fn status(status: u16) -> FaultRule {
        FaultRule::then(Action::Status(status))
    }

    /// A Rack::Attack throttle's 429 with its `RateLimit-*` and `Retry-After` headers, for
    /// the throttle the request falls under, with GitLab's default settings.
    pub fn throttle() -> FaultRule {
        FaultRule::then(Action::Throttle(Default::default()))
    }

    /// Resets the connection (TCP RST) instead of answering.
    pub fn reset_connection() -> FaultRule {
        FaultRule::then(Action::Reset)
    }

    /// Closes the connection before any response.
    pub fn close_connection() -> FaultRule {
        FaultRule::then(Action::Close)
    }

    /// Waits `by` (whole milliseconds), then answers the real response.
    pub fn delay(by: Duration) -> FaultRule {
        FaultRule::default().with_delay(by)
    }

    /// Also waits `by` (whole milliseconds) before answering.
    pub fn with_delay(mut self, by: Duration) -> FaultRule {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.spec.delay = Some(DelaySpec::FixedMs(ms));
        self
    }

    /// Names the rule (in [`Session::faults`], [`Session::remove_fault`] and the journal);
    /// generated when not given.
    pub fn id(mut self, id: &str) -> FaultRule {
        self.spec.id = Some(id.to_owned());
        self
    }

    /// Only requests with this method (any case).
    pub fn method(mut self, method: &str) -> FaultRule {
        self.spec.matches.method = Some(method.to_owned());
        self
    }

    /// Only requests on paths this glob matches, below the session prefix (`*` within a
    /// segment, `**` across segments): `/api/v4/projects/*/jobs/*/retry`.
    pub fn path(mut self, glob: &str) -> FaultRule {
        self.spec.matches.path = Some(glob.to_owned());
        self
    }

    /// Only requests on this GitLab route template: `/projects/:id/jobs/:job_id/retry`.
    pub fn route(mut self, template: &str) -> FaultRule {
        self.spec.matches.route = Some(template.to_owned());
        self
    }

    /// Only requests whose token belongs to this username.
    pub fn user(mut self, username: &str) -> FaultRule {
        self.spec.matches.user = Some(username.to_owned());
        self
    }

    /// Only requests sending exactly this token.
    pub fn token(mut self, token: &str) -> FaultRule {
        self.spec.matches.token = Some(token.to_owned());
        self
    }

    /// Stops after touching `n` requests.
    pub fn times(mut self, n: u64) -> FaultRule {
        self.spec.when.times = Some(n);
        self
    }

    /// Leaves the first `n` matching requests alone.
    pub fn after(mut self, n: u64) -> FaultRule {
        self.spec.when.after = Some(n);
        self
    }

    /// Touches every `n`th matching request (after [`after`](Self::after)'s).
    pub fn every(mut self, n: u64) -> FaultRule {
        self.spec.when.every = Some(n);
        self
    }

    /// Touches a share `p` (0 to 1) of the matching requests, drawn from [`seed`](Self::seed).
    pub fn probability(mut self, p: f64) -> FaultRule {
        self.spec.when.probability = Some(p);
        self
    }

    /// Seeds the probability: the same seed, the same sequence.
    pub fn seed(mut self, seed: u64) -> FaultRule {
        self.spec.seed = Some(seed);
        self
    }

    /// One rule in the scenario's `faults:` format, as JSON (fields checked; values are
    /// checked when the rule is added). A rule may not name its session.
    pub fn from_json(text: &str) -> Result<FaultRule, FaultError> {
        let value = serde_json::from_str(text)
            .map_err(|e| FaultError::Invalid(format!("the rule is not JSON: {e}")))?;
        FaultRule::from_value(value)
    }

    /// [`from_json`](Self::from_json), as YAML.
    pub fn from_yaml(text: &str) -> Result<FaultRule, FaultError> {
        FaultRule::from_value(backend::yaml_value(text)?)
    }

    fn from_value(value: serde_json::Value) -> Result<FaultRule, FaultError> {
        if !value.is_object() {
            return Err(FaultError::Invalid(format!(
                "expected a rule (an object), found {value}"
            )));
        }
        let (mut specs, _) = backend::parse_faults(value)?;
        Ok(FaultRule {
            spec: specs.remove(0),
        })
    }

    /// The rule in the scenario's `faults:` format (JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.spec).expect("rules serialize")
    }
}

impl Default for FaultRule {
    /// A rule that matches every request and does nothing to it.
    fn default() -> FaultRule {
        FaultRule {
            spec: RuleSpec::default(),
        }
    }
}

/// A rule installed in a session ([`Session::faults`]), with its counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Its id (given or generated).
    pub id: String,
    /// The rule.
    pub rule: FaultRule,
    /// Matching requests seen so far.
    pub seen: u64,
    /// Requests it touched.
    pub fired: u64,
}

/// Why a fault rule was not read, added or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultError {
    /// The rule is malformed: what and where (`fault.then.status: …`, `faults[1].when…`).
    #[error("{0}")]
    Invalid(String),
    /// No rule with this id in the session.
    #[error("no fault rule {id:?} in session {session}")]
    NoSuchFault {
        /// The session asked.
        session: String,
        /// The id asked for.
        id: String,
    },
}

/// A check of a [`Session`]'s journal, from [`Session::verify_requests`]: finish it with
/// [`count`](Self::count), [`at_least`](Self::at_least), [`at_most`](Self::at_most) or
/// [`between`](Self::between).
#[derive(Debug)]
#[must_use = "a verification checks nothing until count, at_least, at_most or between"]
pub struct Verification<'a> {
    session: &'a Session,
    method: String,
    path: String,
}

impl Verification<'_> {
    /// Exactly `n` matching requests.
    pub fn count(self, n: usize) -> Result<Vec<JournalEntry>, VerifyError> {
        self.between(n, n)
    }

    /// `n` or more matching requests.
    pub fn at_least(self, n: usize) -> Result<Vec<JournalEntry>, VerifyError> {
        self.run(n, None)
    }

    /// At most `n` matching requests (none is fine).
    pub fn at_most(self, n: usize) -> Result<Vec<JournalEntry>, VerifyError> {
        self.run(0, Some(n))
    }

    /// `min` to `max` matching requests.
    pub fn between(self, min: usize, max: usize) -> Result<Vec<JournalEntry>, VerifyError> {
        self.run(min, Some(max))
    }

    fn run(self, min: usize, max: Option<usize>) -> Result<Vec<JournalEntry>, VerifyError> {
        backend::verify(
            &self.session.backend.app,
            &self.session.name,
            &self.method,
            &self.path,
            min,
            max,
        )
    }
}

/// A [`Verification`] that failed: what was expected, what matched, and the requests that
/// nearly did (same path with another method, same method on a nearby path, the same
/// request in another session), closest first — as `POST /-/glmock/verify`'s 417.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyError {
    /// `"exactly 1 request(s) matching POST /api/v4/… in session NAME"`.
    pub expected: String,
    /// The requests that matched (too few or too many).
    pub matched: Vec<JournalEntry>,
    /// The closest requests that did not match, closest first (at most 10).
    pub near_misses: Vec<NearMiss>,
}

/// A request that nearly matched a [`Verification`].
#[derive(Debug, Clone, PartialEq)]
pub struct NearMiss {
    /// How it differs: `"method GET instead of POST"`, `"path … is 1 edit(s) from …"`.
    pub reason: String,
    /// The request.
    pub entry: JournalEntry,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got {}", self.expected, self.matched.len())?;
        for m in &self.matched {
            write!(f, "\n  matched: {m}")?;
        }
        if self.near_misses.is_empty() {
            write!(f, "\n  no near miss")?;
        }
        for n in &self.near_misses {
            write!(f, "\n  near miss: {} ({})", n.entry, n.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

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

    /// Back to the scenario as loaded: the session's changes, its fault rules and its journal
    /// are forgotten.
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

    /// Adds a fault rule to this session only, as `POST /-/glmock/faults?session=NAME`
    /// does; returns its id. Its values are checked here (a bad one is an error, and adds
    /// nothing).
    ///
    /// ```
    /// use glmock::{FaultRule, MockGitlab};
    ///
    /// # #[tokio::main] async fn main() -> Result<(), glmock::StartError> {
    /// let gitlab = MockGitlab::start().await?;
    /// let session = gitlab.session("flaky");
    /// let id = session.add_fault(FaultRule::status(503).path("/api/v4/user").times(1)).unwrap();
    ///
    /// let get = || async {
    ///     reqwest::Client::new()
    ///         .get(format!("{}/api/v4/user", session.uri()))
    ///         .header("PRIVATE-TOKEN", "glpat-root")
    ///         .send()
    ///         .await
    ///         .unwrap()
    ///         .status()
    /// };
    /// assert_eq!(get().await, 503, "GitLab's front-end 503");
    /// assert_eq!(get().await, 200, "once only");
    /// let fault = &session.faults()[0];
    /// assert_eq!((fault.id.as_str(), fault.fired), (id.as_str(), 1));
    ///
    /// session.remove_fault(&id).unwrap();
    /// assert!(session.faults().is_empty());
    /// assert!(session.add_fault(FaultRule::status(200)).is_err(), "not a fault status");
    /// # Ok(()) }
    /// ```
    pub fn add_fault(&self, rule: FaultRule) -> Result<String, FaultError> {
        let mut ids = self.add(vec![rule.spec], false)?;
        Ok(ids.remove(0))
    }

    /// Adds several fault rules at once (all checked first: one bad rule adds none); their
    /// ids, in order.
    pub fn add_faults(
        &self,
        rules: impl IntoIterator<Item = FaultRule>,
    ) -> Result<Vec<String>, FaultError> {
        self.add(rules.into_iter().map(|r| r.spec).collect(), true)
    }

    /// Adds one rule (an object) or a list of rules given as JSON, in the scenario's
    /// `faults:` format: the body of `POST /-/glmock/faults`. Their ids, in order.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), glmock::StartError> {
    /// let session = glmock::MockGitlab::shared();
    /// let ids = session
    ///     .add_fault_json(r#"[{"match": {"method": "DELETE"}, "then": {"status": 500}},
    ///                         {"id": "slow", "delay": {"fixed_ms": 10}}]"#)
    ///     .unwrap();
    /// assert_eq!(ids.len(), 2);
    /// assert_eq!(ids[1], "slow");
    /// let err = session.add_fault_json(r#"{"then": {"status": 200}}"#).unwrap_err();
    /// assert!(err.to_string().starts_with("fault.then"), "{err}");
    /// session.clear_faults();
    /// assert!(session.faults().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn add_fault_json(&self, json: &str) -> Result<Vec<String>, FaultError> {
        let value = serde_json::from_str(json).map_err(|e| {
            FaultError::Invalid(format!("not JSON (send one rule or a list of rules): {e}"))
        })?;
        let (specs, list) = backend::parse_faults(value)?;
        self.add(specs, list)
    }

    /// [`add_fault_json`](Self::add_fault_json), as YAML.
    pub fn add_fault_yaml(&self, yaml: &str) -> Result<Vec<String>, FaultError> {
        let (specs, list) = backend::parse_faults(backend::yaml_value(yaml)?)?;
        self.add(specs, list)
    }

    fn add(&self, specs: Vec<RuleSpec>, list: bool) -> Result<Vec<String>, FaultError> {
        let added = backend::add_faults(&self.backend.app, &self.name, specs, list)?;
        Ok(added.into_iter().map(|f| f.id).collect())
    }

    /// The session's fault rules (the scenario's that apply to it, then those added), with
    /// their counters.
    pub fn faults(&self) -> Vec<Fault> {
        backend::faults(&self.backend.app, &self.name)
    }

    /// Removes the rule `id` from this session.
    pub fn remove_fault(&self, id: &str) -> Result<(), FaultError> {
        if backend::remove_faults(&self.backend.app, &self.name, Some(id)) == 0 {
            return Err(FaultError::NoSuchFault {
                session: self.name.clone(),
                id: id.to_owned(),
            });
        }
        Ok(())
    }

    /// Removes every fault rule from this session (the scenario's too, until
    /// [`reset`](Self::reset)), as `DELETE /-/glmock/faults?session=NAME`.
    pub fn clear_faults(&self) {
        backend::remove_faults(&self.backend.app, &self.name, None);
    }

    /// Checks now how many requests with `method` (any case; `*` for any) on `path` (a glob:
    /// `*` and `?`; the path under `/api/v4` included, without the session prefix) the
    /// session received, as `POST /-/glmock/verify` does; on failure, the error lists the
    /// near misses.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), glmock::StartError> {
    /// let session = glmock::MockGitlab::shared();
    /// reqwest::Client::new()
    ///     .get(format!("{}/api/v4/projects/1/jobs/7", session.uri()))
    ///     .header("PRIVATE-TOKEN", "glpat-root")
    ///     .send()
    ///     .await
    ///     .unwrap();
    /// let matched = session.verify_requests("GET", "/api/v4/projects/1/jobs/*").count(1).unwrap();
    /// assert_eq!(matched[0].status, 200);
    /// session.verify_requests("POST", "*").at_most(0).unwrap();
    ///
    /// let err = session.verify_requests("POST", "/api/v4/projects/1/jobs/7").at_least(1).unwrap_err();
    /// assert_eq!(err.near_misses[0].reason, "method GET instead of POST");
    /// assert!(err.to_string().contains("near miss: GET /api/v4/projects/1/jobs/7"), "{err}");
    /// # Ok(()) }
    /// ```
    pub fn verify_requests(&self, method: &str, path: &str) -> Verification<'_> {
        Verification {
            session: self,
            method: method.to_owned(),
            path: path.to_owned(),
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

    use super::{
        ContractMode, Fault, FaultError, FaultRule, GitlabVersion, JobState, JobStatus,
        JournalEntry, NearMiss, ScenarioError, VerifyError,
    };
    use crate::faults::spec::RuleSpec;
    use crate::journal::{Entry, Filter};
    use crate::scenario::{self, Overrides, Source};
    use crate::server::{App, Server, ServerOptions};
    use crate::world::World;
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
        app.reset(Some(session));
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
            let (job, pipeline) = w.steer_job(id, status)?;
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
        page.entries.iter().map(|e| entry(e)).collect()
    }

    pub(super) fn yaml_value(text: &str) -> Result<serde_json::Value, FaultError> {
        serde_saphyr::from_str(text)
            .map_err(|e| FaultError::Invalid(format!("the rule is not YAML: {e}")))
    }

    pub(super) fn parse_faults(
        value: serde_json::Value,
    ) -> Result<(Vec<RuleSpec>, bool), FaultError> {
        crate::control::faults::parse_value(value).map_err(FaultError::Invalid)
    }

    fn fault(l: crate::faults::Listed) -> Fault {
        Fault {
            id: l.spec.id.clone().unwrap_or_default(),
            rule: FaultRule { spec: l.spec },
            seen: l.seen,
            fired: l.fired,
        }
    }

    pub(super) fn add_faults(
        app: &App,
        session: &str,
        specs: Vec<RuleSpec>,
        list: bool,
    ) -> Result<Vec<Fault>, FaultError> {
        if let Some(i) = specs.iter().position(|s| s.matches.session.is_some()) {
            let at = if list {
                format!("faults[{i}]")
            } else {
                "fault".into()
            };
            return Err(FaultError::Invalid(format!(
                "{at}.match.session: a rule added to a session belongs to it already"
            )));
        }
        crate::control::faults::add(&app.sessions, session, specs, list)
            .map(|added| added.into_iter().map(fault).collect())
            .map_err(FaultError::Invalid)
    }

    pub(super) fn faults(app: &App, session: &str) -> Vec<Fault> {
        crate::control::faults::list(&app.sessions, session)
            .into_iter()
            .map(fault)
            .collect()
    }

    pub(super) fn remove_faults(app: &App, session: &str, id: Option<&str>) -> usize {
        crate::control::faults::remove(&app.sessions, session, id)
    }

    pub(super) fn verify(
        app: &App,
        session: &str,
        method: &str,
        path: &str,
        min: usize,
        max: Option<usize>,
    ) -> Result<Vec<JournalEntry>, VerifyError> {
        let filter = Filter {
            session: Some(session.to_owned()),
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            path: Some(path.to_owned()),
            ..Filter::default()
        };
        let outcome = crate::control::verify::check(&app.journal, &filter, min, max);
        let matched = outcome.entries.iter().map(|e| entry(e)).collect();
        match outcome.near_misses {
            None => Ok(matched),
            Some(near) => Err(VerifyError {
                expected: outcome.expected,
                matched,
                near_misses: near
                    .into_iter()
                    .map(|(reason, e)| NearMiss {
                        reason,
                        entry: entry(&e),
                    })
                    .collect(),
            }),
        }
    }

    fn entry(e: &Entry) -> JournalEntry {
        JournalEntry {
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
        }
    }
}

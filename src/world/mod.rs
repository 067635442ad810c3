//! The World: the typed in-memory model of one GitLab instance, with the indexes the API
//! queries need. Sessions hold their own `Arc<World>` and copy on write: the directory
//! (users, runners, project metadata) is shared by all sessions forever; a project's jobs and
//! pipelines live in persistent ordered maps (`imbl`), so a change copies the O(log n) tree
//! nodes on its path and shares everything else with the base world, with other sessions
//! and with the snapshots readers hold.

pub mod clock;
pub mod mutate;
pub mod pipelines;
pub mod progress;
pub mod session;
pub mod status;
pub mod times;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use imbl::{OrdMap, OrdSet};

use bytes::Bytes;
use jiff::Timestamp;

use crate::version::Profile;
use clock::Clock;
use status::Status;

/// Role of a project member, ordered by access level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Guest,
    Planner,
    Reporter,
    Developer,
    Maintainer,
    Owner,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "guest" => Role::Guest,
            "planner" => Role::Planner,
            "reporter" => Role::Reporter,
            "developer" => Role::Developer,
            "maintainer" => Role::Maintainer,
            "owner" => Role::Owner,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Planner => "planner",
            Role::Reporter => "reporter",
            Role::Developer => "developer",
            Role::Maintainer => "maintainer",
            Role::Owner => "owner",
        }
    }
}

/// A project feature's access level (`ProjectFeature`): `disabled`, `private` (members
/// only) or `enabled` (everyone who can see the project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeatureAccess {
    Disabled,
    Private,
    #[default]
    Enabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Private,
    Internal,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    OnSuccess,
    OnFailure,
    Always,
    Manual,
    Delayed,
}

impl When {
    pub fn parse(s: &str) -> When {
        match s {
            "manual" => When::Manual,
            "delayed" => When::Delayed,
            "always" => When::Always,
            "on_failure" => When::OnFailure,
            _ => When::OnSuccess,
        }
    }
}

/// Settings of the emulated instance.
#[derive(Debug, Clone)]
pub struct Instance {
    /// External URL used in `web_url`s.
    pub base_url: String,
    pub version: String,
    pub profile: Profile,
    /// Instance-level CI/CD variables.
    pub variables: Vec<Variable>,
    /// The schemas every response is checked against (set by the server; `None` in
    /// tools that only build worlds).
    pub contract: Option<Arc<crate::contract::Contract>>,
    /// Fault rules and rate limits, with every session's counters (`src/faults/`).
    pub faults: Arc<crate::faults::Faults>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub state: String,
    pub admin: bool,
    pub email: String,
    pub avatar_url: String,
    pub web_url: String,
    pub created_at: Timestamp,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub public_email: String,
    pub linkedin: String,
    pub twitter: String,
    pub discord: String,
    pub website_url: String,
    pub organization: String,
    pub job_title: String,
    pub pronouns: Option<String>,
    pub bot: bool,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub user_id: u64,
    pub read_only: bool,
    pub expires_at: Option<Timestamp>,
    pub revoked: bool,
    /// An OAuth access token: sent as `Authorization: Bearer` (or `?access_token=`) only.
    pub oauth: bool,
}

#[derive(Debug, Clone)]
pub struct RunnerManager {
    pub id: u64,
    pub runner_id: u64,
    pub system_id: String,
    pub version: String,
    pub revision: String,
    pub platform: String,
    pub architecture: String,
    pub created_at: Timestamp,
    pub contacted_at: Option<Timestamp>,
    pub ip_address: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct Runner {
    pub id: u64,
    pub description: String,
    pub name: Option<String>,
    pub runner_type: String,
    pub is_shared: bool,
    pub ip_address: Option<String>,
    pub active: bool,
    pub paused: bool,
    pub online: bool,
    pub status: String,
    pub graceful_cancel: bool,
}

#[derive(Debug, Clone)]
pub struct Commit {
    pub id: String,
    pub title: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    pub authored_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: String,
    pub created_at: String,
    pub parent_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: u64,
    pub config_project: u64,
    pub configuration: serde_json::Value,
    /// Environments the authorization is limited to (`*` wildcards); empty: every job.
    pub environments: Vec<String>,
}

/// A job template of the project's CI definition.
#[derive(Debug, Clone)]
pub struct CiJob {
    pub timeline: Arc<[(f64, Status)]>,
    pub log: Option<Bytes>,
    pub name: String,
    pub stage: String,
    pub when: When,
    pub allow_failure: bool,
    /// `allow_failure:` as written (a rule's `when: manual` does not make it true).
    pub allow_failure_set: Option<bool>,
    pub only: Vec<String>,
    /// `only: variables:` expressions: created when any holds (none: always).
    pub only_variables: Vec<crate::scenario::rules::VariableExpr>,
    /// `rules:`: the first that matches decides (none, or `when: never`: not created).
    pub rules: Option<Vec<crate::scenario::model::CiRuleDef>>,
    pub tag_list: Vec<String>,
}

/// One entry of a project's inbound job token allowlist (`Ci::JobToken::ProjectScopeLink`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistEntry {
    pub project_id: u64,
    /// True: the job token has the job user's usual access; false: only `policies`.
    pub default_permissions: bool,
    pub policies: Vec<String>,
}

/// What `POST /projects/:id/pipeline` creates: stages in order and their jobs.
#[derive(Debug, Clone)]
pub struct CiConfig {
    pub stages: Vec<String>,
    pub jobs: Vec<CiJob>,
    /// With `spec: inputs`: the definition whose jobs are made for each create's inputs
    /// (`jobs` is then empty).
    pub template: Option<Arc<crate::scenario::model::CiDef>>,
}

/// What does not change while serving: a project's identity, settings, refs and members.
#[derive(Debug, Clone)]
pub struct ProjectMeta {
    pub id: u64,
    pub path_with_namespace: String,
    pub name: String,
    pub path: String,
    pub namespace: String,
    pub description: String,
    pub visibility: Visibility,
    pub default_branch: String,
    pub public_builds: bool,
    /// `builds_access_level` and `repository_access_level` (CI/CD and the repository).
    pub builds_access: FeatureAccess,
    pub repository_access: FeatureAccess,
    /// Project-level CI/CD variables.
    pub variables: Vec<Variable>,
    /// A project statistics refresh is under way: erase and pipeline delete answer 409.
    pub statistics_refreshing: bool,
    pub ci_job_token_scope_enabled: bool,
    /// The inbound allowlist: projects whose job tokens may access this one.
    pub job_token_allowlist: Vec<AllowlistEntry>,
    /// Whether allowlist entries' `job_token_policies` are enforced (GitLab's fine-grained
    /// permissions setting of the top-level group).
    pub job_token_policies_enabled: bool,
    pub created_at: Timestamp,
    pub group_ids: Vec<u64>,
    pub branches: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub commits: HashMap<String, Commit>,
    pub members: HashMap<u64, Role>,
    pub agents: Vec<Agent>,
    pub ci: Option<Arc<CiConfig>>,
    pub web_url: String,
}

/// Users, tokens, runners and projects: shared by every session, never copied.
#[derive(Debug, Default)]
pub struct Directory {
    pub users: HashMap<u64, User>,
    pub usernames: HashMap<String, u64>,
    pub tokens: HashMap<String, Token>,
    pub runners: HashMap<u64, Runner>,
    pub managers: HashMap<u64, RunnerManager>,
    pub projects: HashMap<u64, ProjectMeta>,
    /// Lower-cased full path → project id (GitLab matches paths case-insensitively).
    pub project_paths: HashMap<String, u64>,
    /// CI job token → job id.
    pub job_tokens: HashMap<String, u64>,
    /// Job id → project id, for the jobs that job tokens name.
    pub token_jobs: HashMap<u64, u64>,
    /// Where scenario objects were defined: `"job 7"` → `"file:line:col: path"`.
    pub origins: HashMap<String, String>,
}

impl Directory {
    /// The runner that picks up jobs started by a timeline: the active runner with the
    /// lowest id.
    pub fn default_runner(&self) -> Option<u64> {
        self.runners
            .values()
            .filter(|r| r.active && !r.paused)
            .map(|r| r.id)
            .min()
    }

    /// A runner's manager with the lowest id.
    pub fn first_manager(&self, runner_id: u64) -> Option<u64> {
        self.managers
            .values()
            .filter(|m| m.runner_id == runner_id)
            .map(|m| m.id)
            .min()
    }

    pub fn project_by_ref(&self, id_or_path: &str) -> Option<&ProjectMeta> {
        let id = if id_or_path.bytes().all(|b| b.is_ascii_digit()) && !id_or_path.is_empty() {
            id_or_path.parse::<u64>().ok()?
        } else if id_or_path.contains('/') {
            *self.project_paths.get(&id_or_path.to_lowercase())?
        } else {
            return None;
        };
        self.projects.get(&id)
    }
}

/// A job's kind: a build runs on a runner, a bridge triggers a downstream pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    Build,
    Bridge { downstream: Option<(u64, u64)> },
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub file_type: String,
    pub size: u64,
    pub filename: String,
    pub file_format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub tier: String,
    pub slug: String,
}

/// An entity's cached JSON (a job's or a pipeline list item's): where its bytes are, the
/// revision they embed, and for jobs that are waiting or running, where the clock-dependent
/// `duration` / `queued_duration` values sit (they are spliced in per request; everything
/// else is reused).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub rev: u64,
    /// The buffer the entity was written in. Entities rendered together (the missing items
    /// of one page) share one, in page order, so a page can send them as one piece.
    pub slab: Bytes,
    /// Where the entity is in `slab`: a comma, then its JSON (a list item after the first
    /// is the whole range; the first and a lone entity skip the comma).
    pub range: std::ops::Range<usize>,
    /// `(start, end)` of the `duration` and `queued_duration` values, in `slab`.
    pub holes: Option<[(usize, usize); 2]>,
    /// How the entity breaks its schema (checked once, when cached).
    pub violations: Arc<[crate::contract::Violation]>,
}

impl Rendered {
    /// The entity's JSON, without the comma in front.
    pub fn json(&self) -> &[u8] {
        &self.slab[self.range.start + 1..self.range.end]
    }
}

/// The cached renderings of one version of an entity, keyed by the revision they embed
/// (a job embeds its pipeline). A new revision replaces the older rendering, so a pipeline
/// change needs no new version of its jobs. Two slots: a job shared by the base world and a
/// session that changed its pipeline keeps a rendering for each. A clone starts empty.
#[derive(Debug, Default)]
pub struct RenderCache(Mutex<[Option<Arc<Rendered>>; 2]>);

impl Clone for RenderCache {
    fn clone(&self) -> Self {
        RenderCache::default()
    }
}

impl RenderCache {
    /// Calls `f` with the rendering made for revision `rev`, under the cache's lock (no
    /// reference counted); false when there is none.
    pub fn with(&self, rev: u64, f: impl FnOnce(&Rendered)) -> bool {
        let slots = self.0.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .iter()
            .flatten()
            .find(|r| r.rev == rev)
            .map(|r| f(r))
            .is_some()
    }

    /// Caches a rendering as the most recent one.
    pub fn put(&self, rendered: Rendered) -> Arc<Rendered> {
        let rendered = Arc::new(rendered);
        let mut slots = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if slots[0].as_ref().is_some_and(|r| r.rev == rendered.rev) {
            slots[0] = Some(rendered.clone());
        } else {
            slots[1] = slots[0].take();
            slots[0] = Some(rendered.clone());
        }
        rendered
    }
}

/// A job as stored. Immutable once shared: a change makes a new `Arc<Job>`, which starts
/// with an empty rendered-JSON cache.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub project_id: u64,
    pub pipeline_id: u64,
    pub kind: JobKind,
    pub name: String,
    pub stage: String,
    pub status: Status,
    pub when: When,
    pub allow_failure: bool,
    pub failure_reason: Option<String>,
    pub user_id: Option<u64>,
    pub runner_id: Option<u64>,
    pub runner_manager_id: Option<u64>,
    pub tag_list: Vec<String>,
    pub coverage: Option<f64>,
    pub created_at: Timestamp,
    pub queued_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub erased_at: Option<Timestamp>,
    pub log: Option<Bytes>,
    pub artifacts: Vec<Artifact>,
    pub artifacts_expire_at: Option<Timestamp>,
    pub retried: bool,
    pub archived: bool,
    pub environment: Option<Environment>,
    pub variables: Vec<(String, String)>,
    /// The runner's `debug_trace_enabled` job metadata: a debug trace whatever the variables.
    pub debug_trace_enabled: bool,
    /// Steps the job takes by itself: `(seconds after the previous step, status)`; a
    /// negative number `-N` waits for N polls instead (`after_polls: N`, see `progress.rs`).
    pub timeline: Arc<[(f64, Status)]>,
    /// Polls (GETs of the job, its trace or its pipeline) since the current step began.
    pub polls: u32,
    /// Fields replacing rendered ones (the scenario's `override:`).
    pub overrides: Option<Arc<serde_json::Map<String, serde_json::Value>>>,
    /// The next step of `timeline` to take.
    pub step: usize,
    /// When the wait for the next step began (`None`: not started, e.g. a job whose stage
    /// has not been reached yet).
    pub step_since: Option<Timestamp>,
    /// Rendered JSON, with the revision of the pipeline it embeds.
    pub rendered: RenderCache,
}

impl Clone for Job {
    /// A clone is a new version of the job: it starts without a rendered cache.
    fn clone(&self) -> Self {
        Job {
            id: self.id,
            project_id: self.project_id,
            pipeline_id: self.pipeline_id,
            kind: self.kind.clone(),
            name: self.name.clone(),
            stage: self.stage.clone(),
            status: self.status,
            when: self.when,
            allow_failure: self.allow_failure,
            failure_reason: self.failure_reason.clone(),
            user_id: self.user_id,
            runner_id: self.runner_id,
            runner_manager_id: self.runner_manager_id,
            tag_list: self.tag_list.clone(),
            coverage: self.coverage,
            created_at: self.created_at,
            queued_at: self.queued_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            erased_at: self.erased_at,
            log: self.log.clone(),
            artifacts: self.artifacts.clone(),
            artifacts_expire_at: self.artifacts_expire_at,
            retried: self.retried,
            archived: self.archived,
            environment: self.environment.clone(),
            variables: self.variables.clone(),
            debug_trace_enabled: self.debug_trace_enabled,
            timeline: self.timeline.clone(),
            polls: self.polls,
            overrides: self.overrides.clone(),
            step: self.step,
            step_since: self.step_since,
            rendered: RenderCache::default(),
        }
    }
}

impl Job {
    /// When the next timeline step is due, if one is waiting.
    pub fn next_step_at(&self) -> Option<Timestamp> {
        let (after, _) = self.timeline.get(self.step)?;
        if *after < 0.0 {
            return None; // counted in polls, not seconds
        }
        let since = self.step_since?;
        Some(
            since
                .saturating_add(jiff::SignedDuration::from_millis(
                    (after * 1000.0).round() as i64
                ))
                .expect("SignedDuration addition cannot fail"),
        )
    }

    pub fn is_bridge(&self) -> bool {
        matches!(self.kind, JobKind::Bridge { .. })
    }

    /// Rendering depends on "now" while the job waits or runs (durations grow).
    pub fn is_time_dependent(&self) -> bool {
        (self.started_at.is_some() && self.finished_at.is_none())
            || (self.queued_at.is_some() && self.started_at.is_none() && self.finished_at.is_none())
    }

    pub fn duration(&self, now: Timestamp) -> Option<f64> {
        let start = self.started_at?;
        let end = self.finished_at.unwrap_or(now);
        Some(seconds_between(start, end))
    }

    pub fn queued_duration(&self, now: Timestamp) -> Option<f64> {
        let queued = self.queued_at?;
        let end = self.started_at.or(self.finished_at).unwrap_or(now);
        Some(seconds_between(queued, end))
    }

    /// The part of the log a client sees: all of it, unless the job follows a timeline, in
    /// which case nothing before it starts and a growing share of the lines while it runs.
    pub fn visible_log(&self, now: Timestamp) -> Bytes {
        let log = self.log.clone().unwrap_or_default();
        if self.timeline.is_empty() || self.finished_at.is_some() {
            return log;
        }
        let Some(started) = self.started_at else {
            return Bytes::new();
        };
        let Some(end) = self.next_step_at() else {
            return log;
        };
        let total = (end.as_millisecond() - started.as_millisecond()).max(1) as f64;
        let share =
            ((now.as_millisecond() - started.as_millisecond()) as f64 / total).clamp(0.0, 1.0);
        let lines: Vec<usize> = log
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        let keep = ((lines.len() as f64) * share).ceil() as usize;
        match keep {
            0 => Bytes::new(),
            n if n >= lines.len() => log,
            n => log.slice(..lines[n - 1]),
        }
    }
}

/// Seconds between two instants, rounded to milliseconds as GitLab's values are.
pub fn seconds_between(a: Timestamp, b: Timestamp) -> f64 {
    let ms = b.as_millisecond() - a.as_millisecond();
    (ms.max(0) as f64) / 1000.0
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub key: String,
    pub value: String,
    pub variable_type: String,
    pub raw: bool,
}

static REVISIONS: AtomicU64 = AtomicU64::new(1);

/// A process-wide unique revision number: render caches key on it, so two sessions that
/// changed the same pipeline differently never share a cached rendering.
pub fn next_revision() -> u64 {
    REVISIONS.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub sha: String,
    pub before_sha: String,
    pub ref_: String,
    pub tag: bool,
    pub source: String,
    pub status: Status,
    pub yaml_errors: Option<String>,
    pub user_id: Option<u64>,
    pub name: Option<String>,
    pub coverage: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub committed_at: Option<Timestamp>,
    pub variables: Vec<Variable>,
    pub test_report: Option<Arc<serde_json::Value>>,
    /// Fields replacing rendered ones (the scenario's `override:`).
    pub overrides: Option<Arc<serde_json::Map<String, serde_json::Value>>>,
    /// The pipeline whose bridge triggered this one, `(project id, pipeline id)`.
    pub parent: Option<(u64, u64)>,
    pub rev: u64,
    /// The list item's JSON (`rev` is this version's), checked once. A clone starts empty.
    pub rendered: RenderCache,
}

/// A project's pipelines and jobs in one session, with their indexes. Every container is a
/// persistent map or set: cloning one is O(1), and a change copies only the O(log n) tree
/// nodes on its path, however many sessions or in-flight readers share the rest.
#[derive(Debug, Clone, Default)]
pub struct ProjectState {
    pub pipelines: OrdMap<u64, Arc<Pipeline>>,
    /// Builds by id (bridges are not in GitLab's `project.builds`).
    pub builds: OrdMap<u64, Arc<Job>>,
    pub bridges: OrdMap<u64, Arc<Job>>,
    /// Build ids by status, for `scope` filters (indexed by `Status::index`).
    pub builds_by_status: Vec<OrdSet<u64>>,
    /// The latest (not retried) builds and bridges by `(pipeline id, job id)`: a pipeline's
    /// latest jobs are one range, however often its jobs were retried.
    pub by_pipeline: OrdMap<(u64, u64), Arc<Job>>,
    /// The retried ones, keyed the same way.
    pub retried_by_pipeline: OrdMap<(u64, u64), Arc<Job>>,
    /// Per pipeline, what its latest (not retried) jobs contribute to its composite status
    /// and its times.
    pub tallies: OrdMap<u64, status::Tally>,
    /// How many pipelines have each `(source, status)`: the list's `X-Total` for the
    /// filters these decide, without a walk.
    pub pipeline_counts: OrdMap<(String, Status), usize>,
    /// Jobs whose timeline has a step waiting.
    pub timed: OrdSet<u64>,
    /// The pipelines in the list's other orders.
    pub pipeline_orders: PipelineOrders,
}

/// The pipelines in each `order_by` of `GET /projects/:id/pipelines` other than `id`, keyed
/// `(value, id)` as the list sorts them (the id breaks ties), so a page is an ordered walk.
#[derive(Debug, Clone, Default)]
pub struct PipelineOrders {
    /// By the status's name (GitLab orders the string column).
    pub status: OrdMap<(&'static str, u64), Arc<Pipeline>>,
    pub ref_: OrdMap<(String, u64), Arc<Pipeline>>,
    pub updated_at: OrdMap<(Timestamp, u64), Arc<Pipeline>>,
    /// `None` (no user) first, as `NULL`s sort in an ascending order.
    pub user_id: OrdMap<(Option<u64>, u64), Arc<Pipeline>>,
}

impl PipelineOrders {
    fn insert(&mut self, p: &Arc<Pipeline>) {
        self.status.insert((p.status.as_str(), p.id), p.clone());
        self.ref_.insert((p.ref_.clone(), p.id), p.clone());
        self.updated_at.insert((p.updated_at, p.id), p.clone());
        self.user_id.insert((p.user_id, p.id), p.clone());
    }

    fn remove(&mut self, p: &Pipeline) {
        self.status.remove(&(p.status.as_str(), p.id));
        self.ref_.remove(&(p.ref_.clone(), p.id));
        self.updated_at.remove(&(p.updated_at, p.id));
        self.user_id.remove(&(p.user_id, p.id));
    }

    /// A new version of a pipeline: an order whose key did not change only has its entry's
    /// value replaced (one walk of its tree instead of a removal and an insertion).
    fn replace(&mut self, old: &Pipeline, p: &Arc<Pipeline>) {
        if old.status != p.status {
            self.status.remove(&(old.status.as_str(), old.id));
        }
        self.status.insert((p.status.as_str(), p.id), p.clone());
        if old.ref_ != p.ref_ {
            self.ref_.remove(&(old.ref_.clone(), old.id));
        }
        self.ref_.insert((p.ref_.clone(), p.id), p.clone());
        if old.updated_at != p.updated_at {
            self.updated_at.remove(&(old.updated_at, old.id));
        }
        self.updated_at.insert((p.updated_at, p.id), p.clone());
        if old.user_id != p.user_id {
            self.user_id.remove(&(old.user_id, old.id));
        }
        self.user_id.insert((p.user_id, p.id), p.clone());
    }
}

impl ProjectState {
    /// A project's state from its pipelines and jobs, with every index built. The maps of
    /// a big project are built on two threads (the machine's other core builds the
    /// by-pipeline and by-status indexes while this one builds the id maps).
    pub fn new(
        pipelines: BTreeMap<u64, Arc<Pipeline>>,
        builds: BTreeMap<u64, Arc<Job>>,
        bridges: BTreeMap<u64, Arc<Job>>,
    ) -> ProjectState {
        let indexes = || {
            let jobs = || builds.values().chain(bridges.values());
            let mut by_status: Vec<Vec<u64>> = vec![Vec::new(); status::Status::ALL.len()];
            for j in builds.values() {
                by_status[j.status.index()].push(j.id);
            }
            let builds_by_status: Vec<OrdSet<u64>> = by_status
                .into_iter()
                .map(|ids| ids.into_iter().collect())
                .collect();
            let timed: OrdSet<u64> = jobs()
                .filter(|j| j.next_step_at().is_some())
                .map(|j| j.id)
                .collect();
            let by_pipeline = |retried: bool| -> OrdMap<(u64, u64), Arc<Job>> {
                let mut pairs: Vec<((u64, u64), &Arc<Job>)> = jobs()
                    .filter(|j| j.retried == retried)
                    .map(|j| ((j.pipeline_id, j.id), j))
                    .collect();
                pairs.sort_unstable_by_key(|(k, _)| *k);
                pairs.into_iter().map(|(k, j)| (k, j.clone())).collect()
            };
            let by_pipeline = (by_pipeline(false), by_pipeline(true));
            let mut tallies: BTreeMap<u64, status::Tally> = BTreeMap::new();
            for j in jobs().filter(|j| !j.retried) {
                let tally = tallies.entry(j.pipeline_id).or_default();
                tally.add(j.status, j.allow_failure);
                tally.times.add(&times::stamps(j));
            }
            (builds_by_status, timed, by_pipeline, tallies)
        };
        let maps = || {
            let ids = |m: &BTreeMap<u64, Arc<Job>>| -> OrdMap<u64, Arc<Job>> {
                m.iter().map(|(id, j)| (*id, j.clone())).collect()
            };
            (ids(&builds), ids(&bridges))
        };
        let (
            (builds_by_status, timed, (by_pipeline, retried_by_pipeline), tallies),
            (builds_map, bridges_map),
        ) = if builds.len() + bridges.len() >= 50_000 {
            std::thread::scope(|s| {
                let other = s.spawn(indexes);
                let maps = maps();
                (other.join().expect("index builder panicked"), maps)
            })
        } else {
            (indexes(), maps())
        };
        let mut orders = PipelineOrders::default();
        let mut counts: BTreeMap<(String, Status), usize> = BTreeMap::new();
        for p in pipelines.values() {
            orders.insert(p);
            *counts.entry((p.source.clone(), p.status)).or_default() += 1;
        }
        ProjectState {
            builds_by_status,
            timed,
            by_pipeline,
            retried_by_pipeline,
            tallies: tallies.into_iter().collect(),
            pipeline_counts: counts.into_iter().collect(),
            pipelines: pipelines.into_iter().collect(),
            builds: builds_map,
            bridges: bridges_map,
            pipeline_orders: orders,
        }
    }

    pub fn job(&self, id: u64) -> Option<&Arc<Job>> {
        self.builds.get(&id).or_else(|| self.bridges.get(&id))
    }

    /// Builds and bridges of a pipeline, retried ones included, ascending by id.
    pub fn pipeline_jobs(&self, pipeline_id: u64) -> impl Iterator<Item = &Arc<Job>> {
        let range = (pipeline_id, 0)..=(pipeline_id, u64::MAX);
        let mut latest = self.by_pipeline.range(range.clone()).peekable();
        let mut retried = self.retried_by_pipeline.range(range).peekable();
        std::iter::from_fn(move || match (latest.peek(), retried.peek()) {
            (Some((a, _)), Some((b, _))) if b < a => retried.next().map(|(_, j)| j),
            (Some(_), _) => latest.next().map(|(_, j)| j),
            (None, _) => retried.next().map(|(_, j)| j),
        })
    }

    /// The latest (not retried) builds and bridges of a pipeline, ascending by id.
    pub fn pipeline_latest(&self, pipeline_id: u64) -> impl Iterator<Item = &Arc<Job>> {
        self.by_pipeline
            .range((pipeline_id, 0)..=(pipeline_id, u64::MAX))
            .map(|(_, j)| j)
    }

    /// The composite status of a pipeline's latest jobs (`None`: it has none).
    pub fn pipeline_composite(&self, pipeline_id: u64) -> Option<Status> {
        self.tallies.get(&pipeline_id)?.composite()
    }

    /// Stores a new version of a pipeline, keeping the list's orders and counts in step.
    pub fn put_pipeline(&mut self, p: Arc<Pipeline>) {
        match self.pipelines.insert(p.id, p.clone()) {
            Some(old) => {
                self.pipeline_orders.replace(&old, &p);
                if (&old.source, old.status) == (&p.source, p.status) {
                    return;
                }
                self.uncount(&old);
            }
            None => self.pipeline_orders.insert(&p),
        }
        *self
            .pipeline_counts
            .entry((p.source.clone(), p.status))
            .or_default() += 1;
    }

    fn uncount(&mut self, p: &Pipeline) {
        let key = (p.source.clone(), p.status);
        if let Some(n) = self.pipeline_counts.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.pipeline_counts.remove(&key);
            }
        }
    }

    /// Removes a pipeline and its jobs; false if there was none.
    pub fn remove_pipeline(&mut self, pipeline_id: u64) -> bool {
        let Some(old) = self.pipelines.remove(&pipeline_id) else {
            return false;
        };
        self.pipeline_orders.remove(&old);
        self.uncount(&old);
        self.tallies.remove(&pipeline_id);
        let ids: Vec<u64> = self.pipeline_jobs(pipeline_id).map(|j| j.id).collect();
        for id in ids {
            self.by_pipeline.remove(&(pipeline_id, id));
            self.retried_by_pipeline.remove(&(pipeline_id, id));
            if let Some(j) = self.builds.remove(&id) {
                self.builds_by_status[j.status.index()].remove(&id);
            }
            self.bridges.remove(&id);
            self.timed.remove(&id);
        }
        true
    }
}

/// One GitLab instance's state as one session sees it.
#[derive(Debug, Clone)]
pub struct World {
    pub instance: Arc<Instance>,
    pub directory: Arc<Directory>,
    pub projects: HashMap<u64, Arc<ProjectState>>,
    pub next_job_id: u64,
    pub next_pipeline_id: u64,
    pub clock: Clock,
}

impl World {
    /// Checks every response of this world (and its sessions) against `contract`.
    pub fn attach_contract(&mut self, contract: crate::contract::Contract) {
        let mut instance = (*self.instance).clone();
        instance.contract = Some(Arc::new(contract));
        self.instance = Arc::new(instance);
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn project_state(&self, id: u64) -> Option<&Arc<ProjectState>> {
        self.projects.get(&id)
    }

    pub fn pipeline(&self, project_id: u64, pipeline_id: u64) -> Option<&Arc<Pipeline>> {
        self.projects.get(&project_id)?.pipelines.get(&pipeline_id)
    }

    /// Finds a job by id in any project (for job tokens).
    pub fn job_anywhere(&self, job_id: u64) -> Option<&Arc<Job>> {
        let project = self.directory.token_jobs.get(&job_id)?;
        self.projects.get(project)?.job(job_id)
    }
}

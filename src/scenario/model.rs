//! The scenario as written: typed, located, not yet cross-checked. `check.rs` turns a set of
//! these into a `World`. Optional fields are derived there when absent.

use jiff::Timestamp;

use super::decode::FieldLocs;
use super::node::Loc;
use crate::world::status::Status;

/// Everything read from one or more scenario files.
#[derive(Debug, Default, Clone)]
pub struct ScenarioFile {
    pub gitlab: InstanceDef,
    pub users: Vec<UserDef>,
    pub runners: Vec<RunnerDef>,
    pub projects: Vec<ProjectDef>,
    pub job_tokens: Vec<JobTokenDef>,
    /// Checked fault rules of the `faults:` list (`src/faults/`).
    pub faults: Vec<std::sync::Arc<crate::faults::rule::Rule>>,
}

#[derive(Debug, Default, Clone)]
pub struct InstanceDef {
    pub version: Option<(String, Loc)>,
    pub base_url: Option<String>,
    pub now: Option<Timestamp>,
    pub frozen: Option<bool>,
    /// `rate_limits:` (`src/faults/limits.rs`); off when absent.
    pub rate_limits: Option<crate::faults::limits::Limits>,
    pub variables: Vec<VariableDef>,
}

#[derive(Debug, Clone)]
pub struct TokenDef {
    pub token: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<Timestamp>,
    pub revoked: bool,
    pub oauth: bool,
    pub loc: Loc,
}

#[derive(Debug, Clone, Default)]
pub struct UserDef {
    pub id: u64,
    pub username: String,
    pub name: Option<String>,
    pub state: Option<String>,
    pub admin: bool,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: Option<Timestamp>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub public_email: Option<String>,
    pub linkedin: Option<String>,
    pub twitter: Option<String>,
    pub discord: Option<String>,
    pub website_url: Option<String>,
    pub organization: Option<String>,
    pub job_title: Option<String>,
    pub pronouns: Option<String>,
    pub bot: bool,
    pub tokens: Vec<TokenDef>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct RunnerManagerDef {
    pub id: u64,
    pub system_id: Option<String>,
    pub version: Option<String>,
    pub revision: Option<String>,
    pub platform: Option<String>,
    pub architecture: Option<String>,
    pub created_at: Option<Timestamp>,
    pub contacted_at: Option<Timestamp>,
    pub ip_address: Option<String>,
    pub status: Option<String>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct RunnerDef {
    pub id: u64,
    pub description: Option<String>,
    pub name: Option<String>,
    pub runner_type: Option<String>,
    pub ip_address: Option<String>,
    pub active: Option<bool>,
    pub paused: Option<bool>,
    pub online: Option<bool>,
    pub status: Option<String>,
    pub graceful_cancel: bool,
    pub managers: Vec<RunnerManagerDef>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct CommitDef {
    pub id: String,
    pub title: Option<String>,
    pub message: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub authored_date: Option<String>,
    pub committer_name: Option<String>,
    pub committer_email: Option<String>,
    pub committed_date: Option<String>,
    pub created_at: Option<String>,
    pub parent_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AgentDef {
    pub id: u64,
    pub config_project: u64,
    pub configuration: serde_json::Value,
    pub environments: Vec<String>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct VariableDef {
    pub key: String,
    pub value: String,
    pub variable_type: String,
    pub raw: bool,
}

#[derive(Debug, Clone)]
pub struct ArtifactDef {
    pub file_type: String,
    pub size: u64,
    pub filename: String,
    pub file_format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EnvironmentDef {
    pub name: String,
    pub tier: String,
    pub slug: String,
}

/// Where a job's log comes from.
#[derive(Debug, Clone)]
pub enum LogDef {
    Inline(String),
    File(String, Loc),
}

/// A build or a bridge (trigger job).
#[derive(Debug, Clone, Default)]
pub struct JobDef {
    pub id: u64,
    pub name: String,
    pub stage: Option<String>,
    pub status: Option<Status>,
    pub when: Option<String>,
    pub allow_failure: Option<bool>,
    pub failure_reason: Option<String>,
    pub user: Option<(String, Loc)>,
    /// `user: null` written out: a job without a user (not the pipeline's).
    pub no_user: bool,
    pub runner: Option<(u64, Loc)>,
    pub runner_manager: Option<(u64, Loc)>,
    pub tag_list: Vec<String>,
    pub coverage: Option<f64>,
    pub created_at: Option<Timestamp>,
    pub queued_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub erased_at: Option<Timestamp>,
    pub duration: Option<f64>,
    pub queued_duration: Option<f64>,
    pub log: Option<LogDef>,
    pub artifacts: Vec<ArtifactDef>,
    pub artifacts_expire_at: Option<Timestamp>,
    pub retried: bool,
    pub archived: bool,
    pub environment: Option<EnvironmentDef>,
    pub debug_trace_enabled: bool,
    pub variables: Vec<VariableDef>,
    /// How the job moves on by itself: `(seconds after the previous step, status)`.
    pub timeline: Vec<(f64, Status)>,
    /// Fields put into the rendered JSON as they are (`override:`).
    pub overrides: Option<serde_json::Map<String, serde_json::Value>>,
    /// Bridges only: the downstream pipeline `(project id or None for this project, pipeline id)`.
    pub downstream: Option<(Option<u64>, u64, Loc)>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct PipelineDef {
    pub id: u64,
    pub iid: Option<u64>,
    pub ref_: Option<String>,
    pub sha: Option<String>,
    pub before_sha: Option<String>,
    pub tag: Option<bool>,
    pub source: Option<String>,
    pub status: Option<Status>,
    pub user: Option<(String, Loc)>,
    pub name: Option<String>,
    pub yaml_errors: Option<String>,
    pub coverage: Option<String>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub committed_at: Option<Timestamp>,
    pub variables: Vec<VariableDef>,
    pub test_report: Option<serde_json::Value>,
    /// Fields put into the rendered JSON as they are (`override:`).
    pub overrides: Option<serde_json::Map<String, serde_json::Value>>,
    pub jobs: Vec<JobDef>,
    pub bridges: Vec<JobDef>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

/// Deterministic volume: `pipelines` × `jobs_per_pipeline` generated jobs.
#[derive(Debug, Clone)]
pub struct GenerateDef {
    pub pipelines: u64,
    pub jobs_per_pipeline: u64,
    pub first_pipeline_id: Option<u64>,
    pub first_job_id: Option<u64>,
    pub ref_: Option<String>,
    pub statuses: Vec<Status>,
    pub stages: Vec<String>,
    pub user: Option<(String, Loc)>,
    pub log: Option<String>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

/// A job of the project's CI definition: what `POST /projects/:id/pipeline` creates.
#[derive(Debug, Clone)]
pub struct CiJobDef {
    pub name: String,
    pub stage: String,
    pub when: Option<String>,
    pub allow_failure: Option<bool>,
    /// Refs (branch or tag names) the job runs on; empty = every ref.
    pub only: Vec<String>,
    pub only_variables: Vec<super::rules::VariableExpr>,
    pub stage_loc: Loc,
    pub timeline: Vec<(f64, Status)>,
    /// The log a job created from this definition writes while it runs.
    pub log: Option<String>,
    pub tag_list: Vec<String>,
    /// `parallel:`, expanded: the names of the jobs it becomes (`["build"]` without it).
    pub instances: Vec<String>,
    /// `rules:` (nested lists flattened): the first whose `if` holds decides; none, or
    /// `when: never`, and the job is not created. `None` without `rules:`.
    pub rules: Option<Vec<CiRuleDef>>,
}

/// One entry of a CI job's `rules:`.
#[derive(Debug, Clone)]
pub struct CiRuleDef {
    /// `if:`; `None` matches always.
    pub if_: Option<super::rules::VariableExpr>,
    /// `when:` (one of the job `when`s, or `never`).
    pub when: Option<String>,
    pub allow_failure: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct CiDef {
    pub stages: Vec<String>,
    pub jobs: Vec<CiJobDef>,
    /// `spec: inputs:`; with them the jobs are decoded when a pipeline is created, from
    /// `templates` interpolated with the inputs given (`jobs` is then empty).
    pub inputs: Vec<super::inputs::InputDef>,
    /// The `jobs:` entries as written, when there are inputs.
    pub templates: Vec<super::node::Node>,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectDef {
    pub id: u64,
    pub path_with_namespace: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    pub default_branch: Option<String>,
    pub public_builds: Option<bool>,
    pub builds_access_level: Option<String>,
    pub repository_access_level: Option<String>,
    pub variables: Vec<VariableDef>,
    pub statistics_refreshing: bool,
    pub ci_job_token_scope_enabled: Option<bool>,
    pub job_token_allowlist: Vec<AllowlistEntryDef>,
    /// GitLab's "fine-grained permissions for CI/CD job tokens" (the top-level group's
    /// `job_token_policies_enabled`); off unless set, as in GitLab.
    pub job_token_policies_enabled: Option<bool>,
    pub created_at: Option<Timestamp>,
    pub group_ids: Vec<u64>,
    pub branches: Vec<(String, String, Loc)>,
    pub tags: Vec<(String, String, Loc)>,
    pub commits: Vec<CommitDef>,
    pub members: Vec<(String, String, Loc)>,
    pub agents: Vec<AgentDef>,
    pub pipelines: Vec<PipelineDef>,
    pub generate: Vec<GenerateDef>,
    pub ci: Option<CiDef>,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

/// An entry of a project's inbound job token allowlist (`Ci::JobToken::ProjectScopeLink`).
#[derive(Debug, Clone)]
pub struct AllowlistEntryDef {
    /// The full path of the project whose job tokens may access this one.
    pub project: String,
    pub loc: Loc,
    /// `default_permissions` (default true): the job token gets the job user's usual
    /// access; false: only what `job_token_policies` lists.
    pub default_permissions: Option<bool>,
    pub job_token_policies: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct JobTokenDef {
    pub token: String,
    pub job: u64,
    pub job_loc: Loc,
    /// Where each field's value is.
    pub locs: FieldLocs,
    pub loc: Loc,
    pub path: String,
}

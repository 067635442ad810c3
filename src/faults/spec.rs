//! The rule format, described once: what a scenario's `faults:` list and the control API's
//! `POST /-/glmock/faults` body hold. Serde types with `deny_unknown_fields`, so a typo is
//! an error that names the allowed fields; `rule.rs` checks the values. Their JSON Schema,
//! for the scenario schema's `$defs`, is `schema.json` beside this file.

use serde::{Deserialize, Serialize};

/// One fault rule: which requests (`match`), when (`when`), and what happens (`delay`
/// before the answer, `then` instead of or to the answer).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Names the rule in the journal and in `DELETE /-/glmock/faults/ID`; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "match", default)]
    pub matches: MatchSpec,
    #[serde(default)]
    pub when: WhenSpec,
    /// Time to wait before answering (the real answer or `then`'s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<DelaySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Action>,
    /// Seeds `when.probability` and random delays: the same seed gives the same sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// Which requests a rule looks at; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// `GET`, `POST`… (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A GitLab route template such as `/projects/:id/jobs/:job_id/retry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// A path glob below the session prefix: `*` within a segment, `**` across segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only in this session (scenario rules; the control API targets one session anyway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The username the request's token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The exact token sent (`PRIVATE-TOKEN`, `JOB-TOKEN`, `Authorization: Bearer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// When a matching request is touched. Counted per rule and session: `after` skips the first
/// N matches, `every` keeps each Nth of the rest, `probability` keeps a seeded share, `times`
/// stops after N hits; `window` limits all of it to a stretch of the session clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSpec>,
}

/// A stretch of the session clock: RFC 3339 timestamps, or seconds after the rule was
/// installed (for a scenario rule: after the scenario's `now`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Moment>,
}

/// A point on the session clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "an RFC 3339 timestamp or a number of seconds")]
pub enum Moment {
    Seconds(f64),
    At(jiff::Timestamp),
}

/// How long to wait: `{fixed_ms: 200}`, `{uniform_ms: [100, 900]}` or
/// `{log_normal: {median_ms: 200, sigma: 0.5}}` (seeded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DelaySpec {
    FixedMs(u64),
    UniformMs([u64; 2]),
    LogNormal(LogNormal),
}

/// A log-normal delay: half the delays are below `median_ms`; `sigma` spreads the tail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormal {
    pub median_ms: f64,
    pub sigma: f64,
    /// Longest delay drawn (default 60 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
}

/// What a touched request gets instead of (or on top of) its real answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// GitLab's own answer for the status: 500 from the API (JSON), 502/503/504 from the
    /// front end (HTML), 429 from Rack::Attack (as `throttle` with its defaults).
    Status(u16),
    /// A Rack::Attack throttle's 429, headers computed on the session clock.
    Throttle(ThrottleSpec),
    /// The connection is reset (TCP RST) instead of answered.
    Reset,
    /// The connection is closed before any response.
    Close,
    /// The real answer, its body cut short: `Content-Length` promised, fewer bytes sent.
    Cut(CutSpec),
    /// The real answer, its body sent a few bytes at a time.
    Trickle(TrickleSpec),
}

/// Which Rack::Attack throttle answers and with what settings (GitLab's setting names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// `throttle_authenticated_api` or `throttle_unauthenticated_api`; by default the one
    /// the request falls under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_in_seconds: Option<u64>,
}

/// Where the body stops.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutSpec {
    /// Bytes sent before the connection closes (default: half the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_bytes: Option<u64>,
}

/// How slowly the body goes out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrickleSpec {
    /// Bytes per write (default 64).
    #[serde(default = "default_chunk")]
    pub bytes: u64,
    /// Pause between writes.
    pub every_ms: u64,
}

fn default_chunk() -> u64 {
    64
}

/// The scenario's `gitlab: rate_limits:`: GitLab's own limits, each off unless given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsSpec {
    /// `project_jobs_api_rate_limit`: `GET /projects/:id/jobs` requests per minute per user
    /// (GitLab's default 600), or `{requests_per_period, period_in_seconds}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_jobs_api: Option<LimitSpec>,
    /// `throttle_authenticated_api_*` (GitLab's default 7200 per 3600 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated_api: Option<ThrottleSettings>,
    /// `throttle_unauthenticated_api_*` (GitLab's default 3600 per 3600 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauthenticated_api: Option<ThrottleSettings>,
}

/// A per-minute limit, or a limit with its own period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "requests per minute, or {requests_per_period, period_in_seconds}"
)]
pub enum LimitSpec {
    PerMinute(u64),
    Settings(ThrottleSettings),
}

/// A limit and its period, named as GitLab's application settings name them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSettings {
    pub requests_per_period: u64,
    pub period_in_seconds: u64,
}

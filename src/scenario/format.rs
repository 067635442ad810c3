//! The scenario format, described once: one table per mapping the decoder reads (its
//! fields, their shapes, which are required, what they mean). `decode::Obj` takes a table,
//! so the keys it accepts, reports as unknown or as missing come from here; `schema.rs`
//! turns the tables into `schemas/scenario.schema.json` (`glmock scenario-schema`), and the
//! README's field reference is rendered from that (`reference.rs`).
//!
//! Not here: the values' own checks (ranges, cross-references), which stay in `load.rs`
//! and `check.rs`, and the `faults:` / `rate_limits:` format, which is serde types in
//! `src/faults/spec.rs` with its schema beside them (`src/faults/schema.json`).

use super::inputs::INPUT_TYPES;
use super::load::{
    ACCESS_LEVELS, CLOCKS, FAILURE_REASONS, JOB_TOKEN_POLICIES, ROLES, RULE_WHENS,
    RUNNER_STATUSES, RUNNER_TYPES, SOURCES, TIERS, TOKEN_KINDS, TOKEN_SCOPES, USER_STATES,
    VARIABLE_TYPES, VISIBILITIES, WHENS,
};
use crate::world::status::Status;
use Shape::*;

/// A mapping of the format: its fields, and JSON Schema keywords for rules across fields.
#[derive(Debug)]
pub struct Object {
    /// Its name under `$defs` (empty for the top level), also used in messages.
    pub name: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
    /// JSON Schema keywords merged into the object's schema (`if`/`then`, `not`, `oneOf`),
    /// as a JSON object; empty when there are none. The decoder checks the same rules in
    /// `load.rs`.
    pub rules: &'static str,
}

/// One key of a mapping.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    pub description: &'static str,
}

/// What a value looks like. An optional field also takes `null` (the decoder reads it as
/// absent); list items, map values and alternatives do not.
#[derive(Debug)]
pub enum Shape {
    /// Text: a string, or an unquoted integer or boolean (`d::string`).
    Text,
    /// A string only.
    Str,
    /// A string matching a regular expression.
    Pattern(&'static str),
    Bool,
    Number,
    /// A number ≥ 0 (`d::seconds`).
    Seconds,
    /// A GitLab id: 1 to i64::MAX (`d::id`).
    Id,
    /// An integer ≥ 0 (`d::u64_`).
    Count,
    /// An integer from `min` to `max`.
    Int {
        min: i64,
        max: i64,
    },
    /// An RFC 3339 timestamp (`d::timestamp`).
    Timestamp,
    /// One of a fixed set of words (`d::one_of` with the same list).
    Word(&'static [&'static str]),
    /// A named object or shape of `DEFS`.
    Ref(&'static str),
    /// A list, its items' shape and description.
    List(&'static Shape, &'static str),
    /// A mapping of names to values, the values' shape and description.
    Map(&'static Shape, &'static str),
    /// A free-form mapping (`override:`).
    Mapping,
    /// Anything (free-form data, YAML anchors).
    Any,
    /// `null` only: a key written with nothing after it (`name:`), as an alternative.
    Null,
    /// A key the decoder knows but refuses with its own message (`regex:` of a CI input);
    /// only `null` (absent) is valid.
    Refused,
    /// A mapping described in place rather than under `$defs`.
    Inline(&'static Object),
    /// Exactly one of these forms, each with its description: a short form and the mapping
    /// it stands for (`downstream: 12` or `downstream: {project: 2, pipeline: 12}`).
    OneOf(&'static [(Shape, &'static str)]),
}

const fn req(name: &'static str, shape: Shape, description: &'static str) -> Field {
    Field {
        name,
        shape,
        required: true,
        description,
    }
}

const fn opt(name: &'static str, shape: Shape, description: &'static str) -> Field {
    Field {
        name,
        shape,
        required: false,
        description,
    }
}

impl Object {
    /// The field called `name`, if the table has one.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// An entry of the schema's `$defs`.
#[derive(Debug)]
pub enum Def {
    Object(&'static Object),
    /// A shape used in several places that is not a mapping of its own.
    Shape {
        name: &'static str,
        shape: Shape,
        description: &'static str,
    },
}

/// `$defs`, in the order the schema and the README list them (the faults' definitions
/// follow, from `src/faults/schema.json`).
pub const DEFS: &[Def] = &[
    Def::Object(&INSTANCE),
    Def::Shape {
        name: "token",
        shape: OneOf(&[
            (Str, "Token text, with the api scope"),
            (Inline(&TOKEN), ""),
        ]),
        description: "A personal access token: the token text (scope api), or a mapping with its details",
    },
    Def::Object(&USER),
    Def::Object(&RUNNER_MANAGER),
    Def::Object(&RUNNER),
    Def::Object(&COMMIT),
    Def::Object(&VARIABLE),
    Def::Object(&ARTIFACT),
    Def::Object(&ENVIRONMENT),
    Def::Shape {
        name: "status",
        shape: Word(&Status::NAMES),
        description: "A job or pipeline status",
    },
    Def::Object(&JOB),
    Def::Object(&BRIDGE),
    Def::Object(&PIPELINE),
    Def::Object(&GENERATE),
    Def::Object(&CI_JOB),
    Def::Object(&CI_RULE),
    Def::Object(&CI),
    Def::Object(&CI_SPEC),
    Def::Object(&CI_INPUT),
    Def::Shape {
        name: "interpolation",
        shape: Pattern(INTERPOLATION),
        description: "$[[ inputs.name ]] (only with spec: inputs): the input's value, typed (a number, a boolean, a list), when the pipeline is created",
    },
    Def::Object(&AGENT),
    Def::Object(&PROJECT),
    Def::Object(&JOB_TOKEN_ALLOWLIST_ENTRY),
    Def::Object(&JOB_TOKEN),
    Def::Object(&TIMELINE_STEP),
];

/// `failure_reason` only on failed jobs (`check.rs` reports it).
const FAILED_ONLY: &str = r#"{
        "if": {"required": ["failure_reason"], "properties": {"failure_reason": {"type": "string"}}},
        "then": {"properties": {"status": {"const": "failed"}}}
    }"#;

/// An `only: variables:` expression (`rules.rs` parses them).
const VARIABLE_EXPRESSION: &str =
    r#"^\s*\$[A-Za-z0-9_]+\s*((==|!=)\s*(null|"[^"]*"|'[^']*')\s*)?$"#;

/// A whole value that is one `$[[ inputs.name ]]` (`inputs.rs` reads them), which a
/// pipeline's inputs replace with a typed value.
const INTERPOLATION: &str = r"^\$\[\[\s*inputs\.[^\s.|\]]+\s*\]\]$";

/// The top level of a scenario file.
pub const SCENARIO: Object = Object {
    name: "",
    description: "A glmock scenario: a GitLab instance with its users, runners, projects, pipelines and jobs. Check a file with `glmock check FILE`. A key set to null counts as absent; text fields also take unquoted integers and booleans.",
    fields: &[
        opt("gitlab", Ref("instance"), "The emulated GitLab instance"),
        opt("users", List(&Ref("user"), "A user"), "Users"),
        opt("runners", List(&Ref("runner"), "A runner"), "Runners"),
        opt("projects", List(&Ref("project"), "A project"), "Projects"),
        opt("job_tokens", List(&Ref("job_token"), "A job token"), "CI job tokens"),
        opt("defaults", Any, "Free space for YAML anchors (&name) merged elsewhere with <<: *name; otherwise ignored"),
        opt("faults", List(&Ref("fault_rule"), ""), "Fault rules: make matching requests slow, fail or break (see the README, Faults and rate limits)"),
    ],
    rules: "",
};

pub const INSTANCE: Object = Object {
    name: "instance",
    description: "The emulated GitLab instance. When several files are loaded, later files win.",
    fields: &[
        opt("version", Pattern("^[0-9]+\\.[0-9]+(\\.[0-9]+)?$"), "GitLab version to emulate, major.minor, quoted (\"16.10\"), from 13.12 to 18.5 (default: 18.5)"),
        opt("base_url", Text, "External URL used in web_url fields (default: https://gitlab.example.com)"),
        opt("now", Timestamp, "Start time of the mock clock (default: the real time), RFC 3339"),
        opt("clock", Word(CLOCKS), "Whether the mock clock stands still at `now` or runs (default: running)"),
        opt("rate_limits", Ref("rate_limits"), "GitLab's rate limits, each off unless given; counted on the session clock"),
        opt("variables", List(&Ref("variable"), "A variable"), "Instance-level CI/CD variables (e.g. CI_DEBUG_TRACE: \"true\" makes every job's trace a debug trace)"),
    ],
    rules: "",
};

pub const USER: Object = Object {
    name: "user",
    description: "A user",
    fields: &[
        req("id", Id, "User id (unique)"),
        req("username", Text, "Username (unique); other fields refer to users by it"),
        opt("name", Text, "Display name (default: the username)"),
        opt("state", Word(USER_STATES), "Account state (default: active)"),
        opt("admin", Bool, "Instance administrator (default: false)"),
        opt("email", Text, "E-mail (default: <username>@example.com)"),
        opt("avatar_url", Text, "Avatar URL (default: derived from base_url and id)"),
        opt("created_at", Timestamp, "Creation time, RFC 3339"),
        opt("bio", Text, "Bio"),
        opt("location", Text, "Location"),
        opt("public_email", Text, "Public e-mail"),
        opt("linkedin", Text, "LinkedIn handle"),
        opt("twitter", Text, "Twitter handle"),
        opt("discord", Text, "Discord handle"),
        opt("website_url", Text, "Website URL"),
        opt("organization", Text, "Organization"),
        opt("job_title", Text, "Job title"),
        opt("pronouns", Text, "Pronouns"),
        opt("bot", Bool, "Bot user (default: false)"),
        opt("tokens", List(&Ref("token"), "A personal access token"), "Personal access tokens (unique across users and jobs)"),
    ],
    rules: "",
};

pub const RUNNER_MANAGER: Object = Object {
    name: "runner_manager",
    description: "A runner manager (one machine running the runner)",
    fields: &[
        req("id", Id, "Runner manager id (unique)"),
        opt("system_id", Text, "System id (default: derived from the id)"),
        opt("version", Text, "Runner version, quoted (\"17.10.1\"): an unquoted 17.10 is a number (default: 17.0.0)"),
        opt("revision", Text, "Runner revision (default: derived from the id)"),
        opt("platform", Text, "Platform (default: linux)"),
        opt("architecture", Text, "Architecture (default: amd64)"),
        opt("created_at", Timestamp, "Creation time, RFC 3339"),
        opt("contacted_at", Timestamp, "Last contact time, RFC 3339"),
        opt("ip_address", Text, "IP address"),
        opt("status", Word(RUNNER_STATUSES), "Status (default: online if the runner is online, else offline)"),
    ],
    rules: "",
};

pub const RUNNER: Object = Object {
    name: "runner",
    description: "A runner",
    fields: &[
        req("id", Id, "Runner id (unique); jobs refer to it with runner:"),
        opt("description", Text, "Description"),
        opt("name", Text, "Name"),
        opt("runner_type", Word(RUNNER_TYPES), "Runner type (default: instance_type, i.e. shared)"),
        opt("ip_address", Text, "IP address"),
        opt("active", Bool, "Active (default: not paused)"),
        opt("paused", Bool, "Paused (default: not active)"),
        opt("online", Bool, "Online (default: false)"),
        opt("status", Word(RUNNER_STATUSES), "Status (default: online or offline, from online)"),
        opt("graceful_cancel", Bool, "Canceling a running job goes through canceling (default: false: straight to canceled)"),
        opt("managers", List(&Ref("runner_manager"), "A runner manager"), "Runner managers; jobs refer to them with runner_manager:"),
    ],
    rules: "",
};

pub const COMMIT: Object = Object {
    name: "commit",
    description: "A commit",
    fields: &[
        req("id", Text, "Full SHA"),
        opt("title", Text, "Title (default: Commit <short sha>)"),
        opt("message", Text, "Message (default: the title)"),
        opt("author_name", Text, "Author name (default: Administrator)"),
        opt("author_email", Text, "Author e-mail (default: admin@example.com)"),
        opt("authored_date", Text, "Authored date, as GitLab prints it (default: created_at)"),
        opt("committer_name", Text, "Committer name (default: the author name)"),
        opt("committer_email", Text, "Committer e-mail (default: the author e-mail)"),
        opt("committed_date", Text, "Committed date, as GitLab prints it (default: created_at)"),
        opt("created_at", Text, "Creation date, as GitLab prints it, e.g. 2024-05-01T09:55:00.000+00:00"),
        opt("parent_ids", List(&Text, "Parent SHA"), "Parent SHAs"),
    ],
    rules: "",
};

pub const VARIABLE: Object = Object {
    name: "variable",
    description: "A CI/CD variable",
    fields: &[
        req("key", Text, "Variable name"),
        req("value", Text, "Value"),
        opt("variable_type", Word(VARIABLE_TYPES), "Variable type (default: env_var)"),
        opt("raw", Bool, "Value is not expanded (default: false)"),
    ],
    rules: "",
};

pub const ARTIFACT: Object = Object {
    name: "artifact",
    description: "A job artifact",
    fields: &[
        req("file_type", Text, "Artifact type, e.g. archive, metadata, trace, junit"),
        req("size", Count, "Size in bytes"),
        req("filename", Text, "File name, e.g. artifacts.zip"),
        opt("file_format", Text, "File format, e.g. zip, gzip, raw"),
    ],
    rules: "",
};

pub const ENVIRONMENT: Object = Object {
    name: "environment",
    description: "The environment a job deploys to",
    fields: &[
        req("name", Text, "Environment name, e.g. production or review/main"),
        opt("tier", Word(TIERS), "Deployment tier (default: guessed from the name as GitLab does: review/dev → development, test/qa → testing, staging/pre/demo → staging, prod/live → production, else other)"),
        opt("slug", Text, "URL-safe slug (default: GitLab's Gitlab::Slug::Environment, e.g. review/123 → review-123-twxcp1)"),
    ],
    rules: "",
};

pub const JOB: Object = Object {
    name: "job",
    description: "A job (build) of a pipeline",
    fields: &[
        opt("allow_failure", Bool, "May fail without failing the pipeline (default: true for manual jobs, else false)"),
        opt("archived", Bool, "Archived (default: false)"),
        opt("artifacts", List(&Ref("artifact"), "An artifact"), "Artifacts"),
        opt("artifacts_expire_at", Timestamp, "Artifact expiry time (default: 30 days after finishing, if it has artifacts), RFC 3339"),
        opt("coverage", Number, "Coverage percentage"),
        opt("created_at", Timestamp, "Creation time (default: just after the pipeline's), RFC 3339"),
        opt("debug_trace_enabled", Bool, "The runner reported a debug trace (job metadata debug_trace_enabled): the trace is for developers and up (default: false)"),
        opt("duration", Seconds, "Run time in seconds (default: derived from the id)"),
        opt("environment", Ref("environment"), "Environment it deploys to"),
        opt("erased_at", Timestamp, "Time its log and artifacts were erased, RFC 3339"),
        opt("failure_reason", Word(FAILURE_REASONS), "Why the job failed; failed jobs only (default: script_failure)"),
        opt("finished_at", Timestamp, "Finish time (default: derived from the status and duration), RFC 3339"),
        req("id", Id, "Job id (unique across all pipelines; builds and bridges share one id space)"),
        opt("log", Text, "Log text (give either log or log_file)"),
        opt("log_file", Text, "Log file, relative to the scenario file (give either log or log_file)"),
        req("name", Text, "Job name"),
        opt("override", Mapping, "Fields put into the rendered JSON as they are, replacing derived ones — for testing clients against unusual data. The contract check reports what GitLab never sends."),
        opt("queued_at", Timestamp, "Time it was queued (default: derived from the status), RFC 3339"),
        opt("queued_duration", Seconds, "Time spent queued in seconds (default: derived from the id)"),
        opt("retried", Bool, "Superseded by a retry: hidden unless include_retried=true (default: false)"),
        opt("runner", Id, "Id of the runner that ran it (see runners:)"),
        opt("runner_manager", Id, "Id of the runner manager that ran it (one of the runner's managers:)"),
        opt("stage", Text, "Stage (default: test)"),
        opt("started_at", Timestamp, "Start time (default: derived from the status), RFC 3339"),
        req("status", Ref("status"), "Status"),
        opt("tag_list", List(&Text, "Runner tag"), "Runner tags"),
        opt("timeline", List(&Ref("timeline_step"), ""), "How the job moves on by itself, driven by the session clock (advance it with POST /-/glmock/clock/advance)."),
        opt("user", Text, "Username of the user who started it (default: the pipeline's user; null written out: no user, whose job token then authenticates nobody)"),
        opt("variables", List(&Ref("variable"), "A variable"), "Job variables"),
        opt("when", Word(WHENS), "When the job runs (default: manual for manual jobs, delayed for scheduled ones, else on_success)"),
    ],
    rules: r#"{
        "if": {"required": ["failure_reason"], "properties": {"failure_reason": {"type": "string"}}},
        "then": {"properties": {"status": {"const": "failed"}}},
        "not": {"description": "give either log or log_file, not both", "required": ["log", "log_file"], "properties": {"log": {"not": {"type": "null"}}, "log_file": {"not": {"type": "null"}}}}}"#,
};

/// A token with its details (the mapping form of `token`).
pub const TOKEN: Object = Object {
    name: "token",
    description: "A personal access token with details",
    fields: &[
        req("token", Text, "Token text, sent as PRIVATE-TOKEN or Bearer"),
        opt("scopes", List(&Word(TOKEN_SCOPES), "Scope"), "Scopes (default: [api]; read_api and ai_workflows are read-only: GET and HEAD)"),
        opt("expires_at", Timestamp, "Expiry time; the token is refused afterwards, RFC 3339"),
        opt("revoked", Bool, "Revoked tokens are refused (default: false)"),
        opt("kind", Word(TOKEN_KINDS), "personal (default: PRIVATE-TOKEN, private_token or Bearer) or oauth (an OAuth access token: Bearer or access_token only)"),
    ],
    rules: "",
};

/// A bridge's `downstream:` as a mapping.
pub const DOWNSTREAM: Object = Object {
    name: "downstream",
    description: "Downstream pipeline in any project",
    fields: &[
        opt("project", Id, "Project id of the downstream pipeline (default: the bridge's project)"),
        req("pipeline", Id, "Downstream pipeline id"),
    ],
    rules: "",
};

/// A CI job's `only:` as a mapping.
pub const ONLY: Object = Object {
    name: "only",
    description: "Refs and variable expressions",
    fields: &[
        opt("refs", List(&Text, "Ref"), "Branch or tag names"),
        opt(
            "variables",
            List(
                &Pattern(VARIABLE_EXPRESSION),
                "An expression: $VAR, $VAR == \"value\", $VAR != \"value\" (or null)",
            ),
            "Variable expressions",
        ),
    ],
    rules: "",
};

/// A CI job's `parallel:` as a mapping.
pub const PARALLEL: Object = Object {
    name: "parallel",
    description: "A matrix of variables",
    fields: &[
        req(
            "matrix",
            List(
                &Map(
                    &OneOf(&[(Text, "One value"), (List(&Text, "A value"), "Values")]),
                    "A value or a list of values",
                ),
                "Variable → value or list of values",
            ),
            "Entries; each makes every combination of its values, keys in order",
        ),
    ],
    rules: "",
};

pub const BRIDGE: Object = Object {
    name: "bridge",
    description: "A bridge (trigger job) of a pipeline",
    fields: &[
        opt("allow_failure", Bool, "May fail without failing the pipeline (default: true for manual jobs, else false)"),
        opt("archived", Bool, "Archived (default: false)"),
        opt("coverage", Number, "Coverage percentage"),
        opt("created_at", Timestamp, "Creation time (default: just after the pipeline's), RFC 3339"),
        opt(
            "downstream",
            OneOf(&[
                (Id, "Downstream pipeline id, in the bridge's project"),
                (Inline(&DOWNSTREAM), ""),
            ]),
            "The downstream pipeline it triggered: a pipeline id of the same project, or {project, pipeline}",
        ),
        opt("duration", Seconds, "Run time in seconds (default: derived from the id)"),
        opt("failure_reason", Word(FAILURE_REASONS), "Why the job failed; failed jobs only (default: script_failure)"),
        opt("finished_at", Timestamp, "Finish time (default: derived from the status and duration), RFC 3339"),
        req("id", Id, "Job id (unique across all pipelines; builds and bridges share one id space)"),
        req("name", Text, "Job name"),
        opt("override", Mapping, "Fields put into the rendered JSON as they are, replacing derived ones — for testing clients against unusual data. The contract check reports what GitLab never sends."),
        opt("queued_at", Timestamp, "Time it was queued (default: derived from the status), RFC 3339"),
        opt("queued_duration", Seconds, "Time spent queued in seconds (default: derived from the id)"),
        opt("retried", Bool, "Superseded by a retry: hidden unless include_retried=true (default: false)"),
        opt("stage", Text, "Stage (default: test)"),
        opt("started_at", Timestamp, "Start time (default: derived from the status), RFC 3339"),
        req("status", Ref("status"), "Status"),
        opt("timeline", List(&Ref("timeline_step"), ""), "How the job moves on by itself, driven by the session clock (advance it with POST /-/glmock/clock/advance)."),
        opt("user", Text, "Username of the user who started it (default: the pipeline's user)"),
        opt("variables", List(&Ref("variable"), "A variable"), "Job variables"),
        opt("when", Word(WHENS), "When the job runs (default: manual for manual jobs, delayed for scheduled ones, else on_success)"),
    ],
    rules: FAILED_ONLY,
};

pub const PIPELINE: Object = Object {
    name: "pipeline",
    description: "A pipeline",
    fields: &[
        opt("before_sha", Text, "Previous SHA (default: 40 zeros)"),
        opt("bridges", List(&Ref("bridge"), "A bridge"), "Bridges (trigger jobs)"),
        opt("committed_at", Timestamp, "Commit time, RFC 3339"),
        opt("coverage", Number, "Coverage percentage"),
        opt("created_at", Timestamp, "Creation time (default: derived from the id), RFC 3339"),
        opt("finished_at", Timestamp, "Finish time (default: derived from the jobs), RFC 3339"),
        req("id", Id, "Pipeline id (unique across all projects)"),
        opt("iid", Id, "Id within the project (default: position by id)"),
        opt("jobs", List(&Ref("job"), "A job"), "Jobs (builds)"),
        opt("name", Text, "Pipeline name"),
        opt("override", Mapping, "Fields put into the rendered JSON as they are, replacing derived ones — for testing clients against unusual data. The contract check reports what GitLab never sends."),
        opt("ref", Text, "Branch or tag (default: the project's default branch)"),
        opt("sha", Text, "Commit SHA (default: the head of ref)"),
        opt("source", Word(SOURCES), "What started it (default: push, or parent_pipeline / pipeline for a downstream pipeline)"),
        opt("started_at", Timestamp, "Start time (default: the first job's start), RFC 3339"),
        opt("status", Ref("status"), "Status (default: derived from its jobs)"),
        opt("tag", Bool, "ref is a tag (default: whether ref is under the project's tags:)"),
        opt("test_report", Any, "Test report, free-form, as GET .../pipelines/:id/test_report returns it"),
        opt("updated_at", Timestamp, "Update time (default: derived from the jobs), RFC 3339"),
        opt("user", Text, "Username of the user who started it (default: the project's highest-ranked member)"),
        opt("variables", List(&Ref("variable"), "A variable"), "Pipeline variables"),
        opt("yaml_errors", Text, "Errors of an invalid .gitlab-ci.yml"),
    ],
    rules: "",
};

pub const GENERATE: Object = Object {
    name: "generate",
    description: "Generated pipelines, for volume (at most 5,000,000 jobs per generator)",
    fields: &[
        req("pipelines", Count, "Number of pipelines"),
        req("jobs_per_pipeline", Count, "Jobs in each pipeline"),
        opt("first_pipeline_id", Id, "First pipeline id, above every defined one (default: the next free id)"),
        opt("first_job_id", Id, "First job id, above every defined one (default: the next free id)"),
        opt("ref", Text, "Branch or tag (default: the project's default branch)"),
        opt("statuses", List(&Ref("status"), "A status"), "Job statuses, cycled (default: a realistic mix)"),
        opt("stages", List(&Text, "Stage"), "Stages, spread over the jobs (default: build, test, deploy)"),
        opt("user", Text, "Username of the pipelines' user (default: the project's highest-ranked member)"),
        opt("log", Text, "Log text of every started job"),
    ],
    rules: "",
};

pub const CI_JOB: Object = Object {
    name: "ci_job",
    description: "A job of the CI definition",
    fields: &[
        opt(
            "allow_failure",
            OneOf(&[(Bool, "Allowed to fail"), (Ref("interpolation"), "")]),
            "May fail without failing the pipeline (default: true for manual jobs, else false)",
        ),
        opt("log", Str, "The log a job created from this definition writes while it runs (shown growing along its timeline)."),
        req("name", Text, "Job name"),
        opt(
            "only",
            OneOf(&[
                (List(&Text, "Ref"), "Refs it is created for (default: every ref)"),
                (Inline(&ONLY), ""),
            ]),
            "Create the job only on these refs (a list), or {refs, variables}: variables are expressions such as $STAGING, $VAR == \"x\", $VAR != null; the job is created when any holds (default: always)",
        ),
        opt("stage", Text, "Stage; one of stages: when they are given (default: test)"),
        opt("tag_list", List(&Text, "Runner tag"), "Runner tags"),
        opt("timeline", List(&Ref("timeline_step"), ""), "How the job moves on by itself, driven by the session clock (advance it with POST /-/glmock/clock/advance)."),
        opt(
            "when",
            OneOf(&[(Word(WHENS), "When"), (Ref("interpolation"), "")]),
            "When the job runs (default: on_success)",
        ),
        opt(
            "parallel",
            OneOf(&[
                (Int { min: 2, max: 200 }, "Number of parallel jobs"),
                (Inline(&PARALLEL), ""),
                (Ref("interpolation"), ""),
            ]),
            "Run the job N times (2 to 200: name 1/N … name N/N), or once per combination of a matrix (name: [a, b])",
        ),
        opt(
            "rules",
            List(
                &OneOf(&[
                    (Ref("ci_rule"), ""),
                    (Ref("interpolation"), ""),
                    (List(&Ref("ci_rule"), ""), "Rules"),
                ]),
                "A rule",
            ),
            "Rules deciding whether and how the job is created (nested lists are flattened, so an array input can add rules)",
        ),
    ],
    // lib/gitlab/ci/config/entry/job.rb: `only` may not be used with `rules`.
    rules: r#"{
        "not": {
            "description": "only may not be used with rules",
            "required": ["only", "rules"],
            "properties": {"only": {"not": {"type": "null"}}, "rules": {"not": {"type": "null"}}}
        }
    }"#,
};

/// An entry of a CI job's `rules:`.
pub const CI_RULE: Object = Object {
    name: "ci_rule",
    description: "A rule of a CI job's rules: (lib/gitlab/ci/build/rules.rb): the first rule whose if holds decides the job; when: never, or no rule matching, and the job is not created",
    fields: &[
        opt("if", Pattern(VARIABLE_EXPRESSION), "An expression: $VAR, $VAR == \"value\", $VAR != \"value\" (or null); predefined CI_PIPELINE_SOURCE (api), CI_COMMIT_REF_NAME, CI_COMMIT_BRANCH or CI_COMMIT_TAG, CI_DEFAULT_BRANCH, CI_PROJECT_PATH are set (default: always matches)"),
        opt("when", Word(RULE_WHENS), "The job's when if this rule matches; never: the job is not created (default: the job's when)"),
        opt("allow_failure", Bool, "The job's allow_failure if this rule matches (default: the job's, false when the rule sets when)"),
    ],
    rules: "",
};

pub const CI: Object = Object {
    name: "ci",
    description: "The project's CI definition: what POST /projects/:id/pipeline creates",
    fields: &[
        opt("stages", List(&Text, "Stage"), "Stages in order (default: those of the jobs, in order)"),
        opt("spec", Ref("ci_spec"), "spec: inputs, as GitLab's CI header; with it, job fields may read inputs with $[[ inputs.name ]] (whole value: typed; inside text: as text), interpolated when POST /projects/:id/pipeline gives inputs"),
        req("jobs", List(&Ref("ci_job"), "A job"), "Jobs created in each new pipeline"),
    ],
    rules: "",
};

/// A CI definition's `spec:` header.
pub const CI_SPEC: Object = Object {
    name: "ci_spec",
    description: "The CI definition's header (lib/gitlab/ci/config/header/): the inputs a pipeline is created with",
    fields: &[
        req(
            "inputs",
            Map(
                &OneOf(&[(Null, "A required string input"), (Ref("ci_input"), "")]),
                "An input",
            ),
            "Inputs by name; an input with nothing after its name is a required string",
        ),
    ],
    rules: "",
};

/// One input of `spec: inputs`.
pub const CI_INPUT: Object = Object {
    name: "ci_input",
    description: "An input (lib/ci/pipeline_creation/inputs/): required unless it has a default; values given on create are checked against its type and options, with GitLab's messages",
    fields: &[
        opt("type", Word(INPUT_TYPES), "The type of its value (default: string)"),
        opt("default", Any, "Its value when none is given; must be of its type and one of its options (default: none, the input is required)"),
        opt("options", List(&Any, "An allowed value"), "The allowed values (string and number inputs only)"),
        opt("description", Text, "What it is for"),
        opt("regex", Refused, "Not supported: glmock has no regular expression engine (list the allowed values under options instead)"),
    ],
    rules: "",
};

pub const AGENT: Object = Object {
    name: "agent",
    description: "A Kubernetes agent",
    fields: &[
        req("id", Id, "Agent id"),
        req("config_project", Id, "Id of the project holding its configuration"),
        opt("configuration", Any, "Agent configuration, free-form (default: {})"),
        opt("environments", List(&Text, "Environment name or pattern with * (review/*)"), "Environments this ci_access authorization is limited to: the agent is allowed only for jobs deploying to one of them (default: every job)"),
    ],
    rules: "",
};

pub const PROJECT: Object = Object {
    name: "project",
    description: "A project",
    fields: &[
        req("id", Id, "Project id (unique)"),
        req("path", Pattern("^[^/].*/.*[^/]$"), "Full path like group/project (unique)"),
        opt("name", Text, "Name (default: the last part of path)"),
        opt("description", Text, "Description"),
        opt("visibility", Word(VISIBILITIES), "Visibility (default: private)"),
        opt("default_branch", Text, "Default branch (default: main)"),
        opt("public_builds", Bool, "Pipelines visible to non-members (default: true)"),
        opt("builds_access_level", Word(ACCESS_LEVELS), "CI/CD feature: disabled (every job and pipeline ability refused), private (members only) or enabled (default)"),
        opt("repository_access_level", Word(ACCESS_LEVELS), "Repository feature: disabled, private (members only; reporters and up in a private project) or enabled (default); off turns CI/CD off too"),
        opt("variables", List(&Ref("variable"), "A variable"), "Project-level CI/CD variables"),
        opt("statistics_refreshing", Bool, "A project statistics refresh is under way: job erase and pipeline delete answer 409 (default: false)"),
        opt("ci_job_token_scope_enabled", Bool, "Limit job token access to the allowlist (default: false)"),
        opt(
            "job_token_allowlist",
            List(
                &OneOf(&[
                    (Text, "Project full path"),
                    (Ref("job_token_allowlist_entry"), ""),
                ]),
                "A project whose job tokens may access this one: its full path (default_permissions), or an entry with fine-grained permissions",
            ),
            "Projects whose job tokens may access this one",
        ),
        opt("job_token_policies_enabled", Bool, "Enforce the allowlist entries' job_token_policies: GitLab's fine-grained permissions for CI/CD job tokens, the top-level group's job_token_policies_enabled setting (default: false, as in GitLab: an entry with default_permissions: false then has the job user's usual access)"),
        opt("created_at", Timestamp, "Creation time, RFC 3339"),
        opt("group_ids", List(&Id, "Group id"), "Ids of the groups it belongs to"),
        opt("branches", Map(&Text, "Head SHA"), "Branches: name → head SHA (default: the default branch)"),
        opt("tags", Map(&Text, "SHA"), "Tags: name → SHA"),
        opt("commits", List(&Ref("commit"), "A commit"), "Commits, for pipeline commit details"),
        opt("members", Map(&Word(ROLES), "Role"), "Members: username → role"),
        opt("agents", List(&Ref("agent"), "An agent"), "Kubernetes agents"),
        opt("pipelines", List(&Ref("pipeline"), "A pipeline"), "Pipelines"),
        opt("generate", List(&Ref("generate"), "A generator"), "Generated pipelines"),
        opt("ci", Ref("ci"), "CI definition used when a pipeline is created through the API"),
    ],
    rules: "",
};

/// An allowlist entry as a mapping.
pub const JOB_TOKEN_ALLOWLIST_ENTRY: Object = Object {
    name: "job_token_allowlist_entry",
    description: "An inbound allowlist entry with its permissions (app/models/ci/job_token/project_scope_link.rb)",
    fields: &[
        req("project", Text, "Full path of the project whose job tokens may access this one"),
        opt("default_permissions", Bool, "True: the job token has its job user's usual access; false: only what job_token_policies allow on routes that name a policy, when the project's job_token_policies_enabled is true (default: true)"),
        opt(
            "job_token_policies",
            List(&Word(JOB_TOKEN_POLICIES), "A policy (lib/ci/job_token/policies.rb)"),
            "What the job token may do when default_permissions is false: GET /projects/:id/jobs and …/pipelines/:pipeline_id/jobs need read_jobs",
        ),
    ],
    rules: "",
};

pub const JOB_TOKEN: Object = Object {
    name: "job_token",
    description: "A CI job token (CI_JOB_TOKEN); it works while its job runs",
    fields: &[
        req("token", Text, "Token text, sent as JOB-TOKEN"),
        req("job", Id, "Id of a build (not a bridge)"),
    ],
    rules: "",
};

pub const TIMELINE_STEP: Object = Object {
    name: "timeline_step",
    description: "One step of a timeline: after `after` seconds (from the previous step, or from when the job is queued), or after `after_polls` GETs of the job, its trace or its pipeline, the job moves to `status`.",
    fields: &[
        opt("after", Seconds, "Seconds to wait before this step."),
        opt(
            "after_polls",
            Int { min: 1, max: 1_000_000 },
            "Polls (GETs of the job, its trace or its pipeline) to wait for before this step.",
        ),
        req("status", Ref("status"), "The status the job moves to."),
    ],
    rules: r#"{
        "if": {
            "description": "neither after nor after_polls",
            "properties": {"after": {"type": "null"}, "after_polls": {"type": "null"}}
        },
        "then": false,
        "not": {
            "description": "give either after or after_polls, not both",
            "required": ["after", "after_polls"],
            "properties": {"after": {"not": {"type": "null"}}, "after_polls": {"not": {"type": "null"}}}
        }
    }"#,
};

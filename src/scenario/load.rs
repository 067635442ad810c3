//! Reads scenario files into `ScenarioFile`s, reporting every problem with its location.

use super::decode::{self as d, Ctx, Obj};
use super::format;
use super::model::*;
use super::node::{self, Node};
use crate::world::status::Status;

pub const VISIBILITIES: &[&str] = &["private", "internal", "public"];
pub const ROLES: &[&str] = &[
    "guest",
    "planner",
    "reporter",
    "developer",
    "maintainer",
    "owner",
];
/// A project feature's access level (`ProjectFeature`; `public` is for pages only).
pub const ACCESS_LEVELS: &[&str] = &["disabled", "private", "enabled"];
/// Token scopes: `api` writes; `read_api` and `ai_workflows` read (the Jobs and Pipelines
/// APIs `allow_access_with_scope :ai_workflows` on GET and HEAD).
pub const TOKEN_SCOPES: &[&str] = &["api", "read_api", "ai_workflows"];
/// `gitlab.clock`.
pub const CLOCKS: &[&str] = &["frozen", "running"];
/// A token's `kind`: a personal access token or an OAuth access token.
pub const TOKEN_KINDS: &[&str] = &["personal", "oauth"];
/// A runner's or runner manager's `status`.
pub const RUNNER_STATUSES: &[&str] = &["online", "offline", "stale", "never_contacted"];
/// An environment's deployment tier.
pub const TIERS: &[&str] = &["production", "staging", "testing", "development", "other"];
pub const WHENS: &[&str] = &["on_success", "on_failure", "always", "manual", "delayed"];
/// The `when:` of a CI job's rule: the job `when`s and `never`.
pub const RULE_WHENS: &[&str] = &[
    "on_success",
    "on_failure",
    "always",
    "manual",
    "delayed",
    "never",
];
pub const RUNNER_TYPES: &[&str] = &["instance_type", "group_type", "project_type"];
pub const VARIABLE_TYPES: &[&str] = &["env_var", "file"];
/// `Ci::JobToken::Policies::POLICIES` (`lib/ci/job_token/policies.rb`).
pub const JOB_TOKEN_POLICIES: &[&str] = &[
    "read_containers",
    "admin_containers",
    "read_deployments",
    "admin_deployments",
    "read_environments",
    "admin_environments",
    "read_jobs",
    "admin_jobs",
    "read_packages",
    "admin_packages",
    "read_releases",
    "admin_releases",
    "read_secure_files",
    "admin_secure_files",
    "read_terraform_state",
    "admin_terraform_state",
];
pub const USER_STATES: &[&str] = &[
    "active",
    "blocked",
    "deactivated",
    "banned",
    "ldap_blocked",
    "blocked_pending_approval",
];
pub const SOURCES: &[&str] = &[
    "unknown",
    "push",
    "web",
    "trigger",
    "schedule",
    "api",
    "external",
    "pipeline",
    "chat",
    "webide",
    "merge_request_event",
    "external_pull_request_event",
    "parent_pipeline",
    "ondemand_dast_scan",
    "ondemand_dast_validation",
    "security_orchestration_policy",
    "container_registry_push",
    "duo_workflow",
    "pipeline_execution_policy_schedule",
];
pub const FAILURE_REASONS: &[&str] = &[
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "missing_dependency_failure",
    "runner_unsupported",
    "stale_schedule",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
    "forward_deployment_failure",
    "user_blocked",
    "project_deleted",
    "ci_quota_exceeded",
    "pipeline_loop_detected",
    "no_matching_runner",
    "trace_size_exceeded",
    "builds_disabled",
    "environment_creation_failure",
    "deployment_rejected",
    "failed_outdated_deployment_job",
    "protected_environment_failure",
    "insufficient_bridge_permissions",
    "downstream_bridge_project_not_found",
    "invalid_bridge_trigger",
    "upstream_bridge_project_not_found",
    "insufficient_upstream_permissions",
    "bridge_pipeline_is_child_pipeline",
    "downstream_pipeline_creation_failed",
    "secrets_provider_not_found",
    "reached_max_descendant_pipelines_depth",
    "ip_restriction_failure",
    "reached_max_pipeline_hierarchy_size",
    "reached_downstream_pipeline_trigger_rate_limit",
];

/// Parses one scenario text. `file` names it in errors. A YAML syntax error gives no file;
/// decoding errors still give what could be read, so references can be checked too.
pub fn parse_file(file: &str, text: &str) -> (Option<ScenarioFile>, Vec<super::ScenarioError>) {
    let mut ctx = Ctx::new(file);
    let root = match node::parse(text) {
        Ok(n) => n,
        Err(e) => {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            let message = e.to_string();
            // serde-saphyr writes "error: line L column C: <what>" and a source snippet; our
            // prefix already has the location, so keep only <what>.
            let first = message.lines().next().unwrap_or("invalid YAML");
            let message = first
                .split_once(&format!("line {line} column {column}: "))
                .map(|(_, m)| m)
                .unwrap_or(first)
                .to_owned();
            let error = super::ScenarioError {
                file: file.to_owned(),
                line,
                column,
                path: String::new(),
                message: format!("invalid YAML: {message}"),
            };
            return (None, vec![error]);
        }
    };
    let scenario = if matches!(root.value, node::Value::Null) {
        ScenarioFile::default()
    } else {
        read_root(&mut ctx, &root).unwrap_or_default()
    };
    (Some(scenario), ctx.errors)
}

fn read_root(ctx: &mut Ctx, n: &Node) -> Option<ScenarioFile> {
    let mut o = Obj::new(ctx, n, "", &format::SCENARIO)?;
    let mut s = ScenarioFile::default();
    if let Some(g) = o.get("gitlab") {
        s.gitlab = read_instance(ctx, g, "gitlab").unwrap_or_default();
    }
    s.users = o
        .opt(ctx, "users", |c, n, p| d::list_of(c, n, p, read_user))
        .unwrap_or_default();
    s.runners = o
        .opt(ctx, "runners", |c, n, p| d::list_of(c, n, p, read_runner))
        .unwrap_or_default();
    s.projects = o
        .opt(ctx, "projects", |c, n, p| d::list_of(c, n, p, read_project))
        .unwrap_or_default();
    s.job_tokens = o
        .opt(ctx, "job_tokens", |c, n, p| {
            d::list_of(c, n, p, read_job_token)
        })
        .unwrap_or_default();
    s.faults = o.opt(ctx, "faults", read_faults).unwrap_or_default();
    // Free space for YAML anchors shared by the rest of the file.
    o.get("defaults");
    o.finish(ctx);
    Some(s)
}

fn read_instance(ctx: &mut Ctx, n: &Node, path: &str) -> Option<InstanceDef> {
    let mut o = Obj::new(ctx, n, path, &format::INSTANCE)?;
    let version = o.get("version").and_then(|v| {
        let p = o.field("version");
        d::strict_string(ctx, v, &p).map(|s| (s, v.loc))
    });
    let def = InstanceDef {
        version,
        base_url: o
            .opt(ctx, "base_url", d::string)
            .map(|s| s.trim_end_matches('/').to_owned()),
        now: o.opt(ctx, "now", d::timestamp),
        frozen: o.word(ctx, "clock").map(|s| s == "frozen"),
        rate_limits: o.opt(ctx, "rate_limits", read_rate_limits),
        variables: o
            .opt(ctx, "variables", |c, n, p| {
                d::list_of(c, n, p, read_variable)
            })
            .unwrap_or_default(),
    };
    o.finish(ctx);
    Some(def)
}

fn read_token(ctx: &mut Ctx, n: &Node, path: &str) -> Option<TokenDef> {
    if let node::Value::Str(s) = &n.value {
        return Some(TokenDef {
            token: s.clone(),
            scopes: vec!["api".into()],
            expires_at: None,
            revoked: false,
            oauth: false,
            loc: n.loc,
        });
    }
    let mut o = Obj::new(ctx, n, path, &format::TOKEN)?;
    let token = o.req(ctx, "token", d::string);
    let scopes = o
        .opt(ctx, "scopes", |c, n, p| {
            d::list_of(c, n, p, |c, n, p| d::one_of(c, n, p, TOKEN_SCOPES))
        })
        .unwrap_or_else(|| vec!["api".into()]);
    let expires_at = o.opt(ctx, "expires_at", d::timestamp);
    let revoked = o.opt(ctx, "revoked", d::bool_).unwrap_or(false);
    let oauth = o.word(ctx, "kind").is_some_and(|k| k == "oauth");
    o.finish(ctx);
    Some(TokenDef {
        token: token?,
        scopes,
        expires_at,
        revoked,
        oauth,
        loc: n.loc,
    })
}

fn read_user(ctx: &mut Ctx, n: &Node, path: &str) -> Option<UserDef> {
    let mut o = Obj::new(ctx, n, path, &format::USER)?;
    let id = o.req(ctx, "id", d::id);
    let username = o.req(ctx, "username", d::string);
    let u = UserDef {
        id: id.unwrap_or(0),
        username: username.clone().unwrap_or_default(),
        name: o.opt(ctx, "name", d::string),
        state: o.word(ctx, "state"),
        admin: o.opt(ctx, "admin", d::bool_).unwrap_or(false),
        email: o.opt(ctx, "email", d::string),
        avatar_url: o.opt(ctx, "avatar_url", d::string),
        created_at: o.opt(ctx, "created_at", d::timestamp),
        bio: o.opt(ctx, "bio", d::string),
        location: o.opt(ctx, "location", d::string),
        public_email: o.opt(ctx, "public_email", d::string),
        linkedin: o.opt(ctx, "linkedin", d::string),
        twitter: o.opt(ctx, "twitter", d::string),
        discord: o.opt(ctx, "discord", d::string),
        website_url: o.opt(ctx, "website_url", d::string),
        organization: o.opt(ctx, "organization", d::string),
        job_title: o.opt(ctx, "job_title", d::string),
        pronouns: o.opt(ctx, "pronouns", d::string),
        bot: o.opt(ctx, "bot", d::bool_).unwrap_or(false),
        tokens: o
            .opt(ctx, "tokens", |c, n, p| d::list_of(c, n, p, read_token))
            .unwrap_or_default(),
        locs: o.locs(),
        loc: n.loc,
        path: path.to_owned(),
    };
    o.finish(ctx);
    id?;
    username?;
    Some(u)
}

fn read_manager(ctx: &mut Ctx, n: &Node, path: &str) -> Option<RunnerManagerDef> {
    let mut o = Obj::new(ctx, n, path, &format::RUNNER_MANAGER)?;
    let id = o.req(ctx, "id", d::id);
    let m = RunnerManagerDef {
        id: id.unwrap_or(0),
        system_id: o.opt(ctx, "system_id", d::string),
        version: o.opt(ctx, "version", d::strict_string),
        revision: o.opt(ctx, "revision", d::string),
        platform: o.opt(ctx, "platform", d::string),
        architecture: o.opt(ctx, "architecture", d::string),
        created_at: o.opt(ctx, "created_at", d::timestamp),
        contacted_at: o.opt(ctx, "contacted_at", d::timestamp),
        ip_address: o.opt(ctx, "ip_address", d::string),
        status: o.word(ctx, "status"),
        locs: o.locs(),
        loc: n.loc,
        path: path.to_owned(),
    };
    o.finish(ctx);
    id?;
    Some(m)
}

fn read_runner(ctx: &mut Ctx, n: &Node, path: &str) -> Option<RunnerDef> {
    let mut o = Obj::new(ctx, n, path, &format::RUNNER)?;
    let id = o.req(ctx, "id", d::id);
    let r = RunnerDef {
        id: id.unwrap_or(0),
        description: o.opt(ctx, "description", d::string),
        name: o.opt(ctx, "name", d::string),
        runner_type: o.word(ctx, "runner_type"),
        ip_address: o.opt(ctx, "ip_address", d::string),
        active: o.opt(ctx, "active", d::bool_),
        paused: o.opt(ctx, "paused", d::bool_),
        online: o.opt(ctx, "online", d::bool_),
        status: o.word(ctx, "status"),
        graceful_cancel: o.opt(ctx, "graceful_cancel", d::bool_).unwrap_or(false),
        managers: o
            .opt(ctx, "managers", |c, n, p| d::list_of(c, n, p, read_manager))
            .unwrap_or_default(),
        locs: o.locs(),
        loc: n.loc,
        path: path.to_owned(),
    };
    o.finish(ctx);
    id?;
    Some(r)
}

fn read_commit(ctx: &mut Ctx, n: &Node, path: &str) -> Option<CommitDef> {
    let mut o = Obj::new(ctx, n, path, &format::COMMIT)?;
    let id = o.req(ctx, "id", d::string);
    let c = CommitDef {
        id: id.clone().unwrap_or_default(),
        title: o.opt(ctx, "title", d::string),
        message: o.opt(ctx, "message", d::string),
        author_name: o.opt(ctx, "author_name", d::string),
        author_email: o.opt(ctx, "author_email", d::string),
        authored_date: o.opt(ctx, "authored_date", d::string),
        committer_name: o.opt(ctx, "committer_name", d::string),
        committer_email: o.opt(ctx, "committer_email", d::string),
        committed_date: o.opt(ctx, "committed_date", d::string),
        created_at: o.opt(ctx, "created_at", d::string),
        parent_ids: o
            .opt(ctx, "parent_ids", |c, n, p| d::list_of(c, n, p, d::string))
            .unwrap_or_default(),
    };
    o.finish(ctx);
    id?;
    Some(c)
}

fn read_variable(ctx: &mut Ctx, n: &Node, path: &str) -> Option<VariableDef> {
    let mut o = Obj::new(ctx, n, path, &format::VARIABLE)?;
    let key = o.req(ctx, "key", d::string);
    let value = o.req(ctx, "value", d::string);
    let variable_type = o
        .word(ctx, "variable_type")
        .unwrap_or_else(|| "env_var".into());
    let raw = o.opt(ctx, "raw", d::bool_).unwrap_or(false);
    o.finish(ctx);
    Some(VariableDef {
        key: key?,
        value: value?,
        variable_type,
        raw,
    })
}

fn read_artifact(ctx: &mut Ctx, n: &Node, path: &str) -> Option<ArtifactDef> {
    let mut o = Obj::new(ctx, n, path, &format::ARTIFACT)?;
    let file_type = o.req(ctx, "file_type", d::string);
    let size = o.req(ctx, "size", d::u64_);
    let filename = o.req(ctx, "filename", d::string);
    let file_format = o.opt(ctx, "file_format", d::string);
    o.finish(ctx);
    Some(ArtifactDef {
        file_type: file_type?,
        size: size?,
        filename: filename?,
        file_format,
    })
}

fn read_environment(ctx: &mut Ctx, n: &Node, path: &str) -> Option<EnvironmentDef> {
    let mut o = Obj::new(ctx, n, path, &format::ENVIRONMENT)?;
    let name = o.req(ctx, "name", d::string);
    let tier = o.word(ctx, "tier");
    let slug = o.opt(ctx, "slug", d::string);
    o.finish(ctx);
    let name = name?;
    let slug = slug.unwrap_or_else(|| super::slug::environment(&name));
    let tier = tier.unwrap_or_else(|| super::slug::tier(&name).to_owned());
    Some(EnvironmentDef { name, tier, slug })
}

fn status(ctx: &mut Ctx, n: &Node, path: &str) -> Option<Status> {
    d::one_of(ctx, n, path, &Status::NAMES).and_then(|s| Status::parse(&s))
}

fn username_ref(ctx: &mut Ctx, n: &Node, path: &str) -> Option<(String, node::Loc)> {
    d::string(ctx, n, path).map(|s| (s, n.loc))
}

fn id_ref(ctx: &mut Ctx, n: &Node, path: &str) -> Option<(u64, node::Loc)> {
    d::id(ctx, n, path).map(|i| (i, n.loc))
}

fn read_job(ctx: &mut Ctx, n: &Node, path: &str, bridge: bool) -> Option<JobDef> {
    let table = if bridge {
        &format::BRIDGE
    } else {
        &format::JOB
    };
    let mut o = Obj::new(ctx, n, path, table)?;
    let id = o.req(ctx, "id", d::id);
    let name = o.req(ctx, "name", d::string);
    let status = o.req(ctx, "status", status);
    let log_nodes = if bridge {
        (None, None)
    } else {
        (o.get("log"), o.get("log_file"))
    };
    let log = match log_nodes {
        (Some(l), None) => d::string(ctx, l, &o.field("log")).map(LogDef::Inline),
        (None, Some(f)) => d::string(ctx, f, &o.field("log_file")).map(|s| LogDef::File(s, f.loc)),
        (Some(_), Some(f)) => {
            ctx.error(
                f.loc,
                &o.field("log_file"),
                "give either log or log_file, not both",
            );
            None
        }
        (None, None) => None,
    };
    let downstream = if bridge {
        o.get("downstream").and_then(|dn| {
            let p = o.field("downstream");
            match &dn.value {
                node::Value::Map(_) => {
                    let mut m = Obj::new(ctx, dn, &p, &format::DOWNSTREAM)?;
                    let project = m.opt(ctx, "project", d::id);
                    let pipeline = m.req(ctx, "pipeline", d::id);
                    m.finish(ctx);
                    Some((project, pipeline?, dn.loc))
                }
                _ => d::id(ctx, dn, &p).map(|pl| (None, pl, dn.loc)),
            }
        })
    } else {
        None
    };
    let j = JobDef {
        id: id.unwrap_or(0),
        name: name.clone().unwrap_or_default(),
        stage: o.opt(ctx, "stage", d::string),
        // An invalid status was reported; keep the job so references to it resolve.
        status: status.or(Some(Status::Created)),
        when: o.word(ctx, "when"),
        allow_failure: o.opt(ctx, "allow_failure", d::bool_),
        failure_reason: o.word(ctx, "failure_reason"),
        user: o.opt(ctx, "user", username_ref),
        no_user: o.is_null("user"),
        runner: if bridge {
            None
        } else {
            o.opt(ctx, "runner", id_ref)
        },
        runner_manager: if bridge {
            None
        } else {
            o.opt(ctx, "runner_manager", id_ref)
        },
        tag_list: if bridge {
            Vec::new()
        } else {
            o.opt(ctx, "tag_list", |c, n, p| d::list_of(c, n, p, d::string))
                .unwrap_or_default()
        },
        coverage: o.opt(ctx, "coverage", d::f64_),
        created_at: o.opt(ctx, "created_at", d::timestamp),
        queued_at: o.opt(ctx, "queued_at", d::timestamp),
        started_at: o.opt(ctx, "started_at", d::timestamp),
        finished_at: o.opt(ctx, "finished_at", d::timestamp),
        erased_at: if bridge {
            None
        } else {
            o.opt(ctx, "erased_at", d::timestamp)
        },
        duration: o.opt(ctx, "duration", d::seconds),
        queued_duration: o.opt(ctx, "queued_duration", d::seconds),
        log: if bridge { None } else { log },
        artifacts: if bridge {
            Vec::new()
        } else {
            o.opt(ctx, "artifacts", |c, n, p| {
                d::list_of(c, n, p, read_artifact)
            })
            .unwrap_or_default()
        },
        artifacts_expire_at: if bridge {
            None
        } else {
            o.opt(ctx, "artifacts_expire_at", d::timestamp)
        },
        retried: o.opt(ctx, "retried", d::bool_).unwrap_or(false),
        debug_trace_enabled: !bridge
            && o.opt(ctx, "debug_trace_enabled", d::bool_).unwrap_or(false),
        archived: o.opt(ctx, "archived", d::bool_).unwrap_or(false),
        environment: if bridge {
            None
        } else {
            o.opt(ctx, "environment", read_environment)
        },
        variables: o
            .opt(ctx, "variables", |c, n, p| {
                d::list_of(c, n, p, read_variable)
            })
            .unwrap_or_default(),
        overrides: o.opt(ctx, "override", read_override),
        timeline: o.opt(ctx, "timeline", read_timeline).unwrap_or_default(),
        downstream,
        locs: o.locs(),
        loc: n.loc,
        path: path.to_owned(),
    };
    o.finish(ctx);
    id?;
    Some(j)
}

fn read_pipeline(ctx: &mut Ctx, n: &Node, path: &str) -> Option<PipelineDef> {
    let mut o = Obj::new(ctx, n, path, &format::PIPELINE)?;
    let id = o.req(ctx, "id", d::id);
    let p = PipelineDef {
        id: id.unwrap_or(0),
        iid: o.opt(ctx, "iid", d::id),
        ref_: o.opt(ctx, "ref", d::string),
        sha: o.opt(ctx, "sha", d::string),
        before_sha: o.opt(ctx, "before_sha", d::string),
        tag: o.opt(ctx, "tag", d::bool_),
        source: o.word(ctx, "source"),
        status: o.opt(ctx, "status", status),
        user: o.opt(ctx, "user", username_ref),
        name: o.opt(ctx, "name", d::string),
        yaml_errors: o.opt(ctx, "yaml_errors", d::string),
        coverage: o.opt(ctx, "coverage", |c, n, p| {
            d::f64_(c, n, p).map(|f| format!("{f:.2}"))
        }),
        created_at: o.opt(ctx, "created_at", d::timestamp),
        updated_at: o.opt(ctx, "updated_at", d::timestamp),
        started_at: o.opt(ctx, "started_at", d::timestamp),
        finished_at: o.opt(ctx, "finished_at", d::timestamp),
        committed_at: o.opt(ctx, "committed_at", d::timestamp),
        variables: o
            .opt(ctx, "variables", |c, n, p| {
                d::list_of(c, n, p, read_variable)
            })
            .unwrap_or_default(),
        test_report: o.opt(ctx, "test_report", d::json),
        overrides: o.opt(ctx, "override", read_override),
        jobs: o
            .opt(ctx, "jobs", |c, n, p| {
                d::list_of(c, n, p, |c, n, p| read_job(c, n, p, false))
            })
            .unwrap_or_default(),
        bridges: o
            .opt(ctx, "bridges", |c, n, p| {
                d::list_of(c, n, p, |c, n, p| read_job(c, n, p, true))
            })
            .unwrap_or_default(),
        locs: o.locs(),
        loc: n.loc,
        path: path.to_owned(),
    };
    o.finish(ctx);
    id?;
    Some(p)
}

fn read_generate(ctx: &mut Ctx, n: &Node, path: &str) -> Option<GenerateDef> {
    let mut o = Obj::new(ctx, n, path, &format::GENERATE)?;
    let pipelines = o.req(ctx, "pipelines", d::u64_);
    let jobs_per_pipeline = o.req(ctx, "jobs_per_pipeline", d::u64_);
    let g = GenerateDef {
        pipelines: pipelines.unwrap_or(0),
        jobs_per_pipeline: jobs_per_pipeline.unwrap_or(0),
        first_pipeline_id: o.opt(ctx, "first_pipeline_id", d::id),
        first_job_id: o.opt(ctx, "first_job_id", d::id),
        ref_: o.opt(ctx, "ref", d::string),
        statuses: o
            .opt(ctx, "statuses", |c, n, p| d::list_of(c, n, p, status))
            .unwrap_or_default(),
        stages: o
            .opt(ctx, "stages", |c, n, p| d::list_of(c, n, p, d::string))
            .unwrap_or_default(),
        user: o.opt(ctx, "user", username_ref),
        log: o.opt(ctx, "log", d::string),
        locs: o.locs(),
        loc: n.loc,
        path: path.to_owned(),
    };
    o.finish(ctx);
    if let (Some(p), Some(j)) = (pipelines, jobs_per_pipeline)
        && p.saturating_mul(j) > 5_000_000
    {
        ctx.error(
            n.loc,
            path,
            format!("{p} × {j} jobs is more than the 5,000,000 a generator may create"),
        );
        return None;
    }
    Some(g)
}

fn read_agent(ctx: &mut Ctx, n: &Node, path: &str) -> Option<AgentDef> {
    let mut o = Obj::new(ctx, n, path, &format::AGENT)?;
    let id = o.req(ctx, "id", d::id);
    let config_project = o.req(ctx, "config_project", d::id);
    let configuration = o
        .opt(ctx, "configuration", d::json)
        .unwrap_or_else(|| serde_json::json!({}));
    let environments = o
        .opt(ctx, "environments", |c, n, p| {
            d::list_of(c, n, p, d::string)
        })
        .unwrap_or_default();
    let locs = o.locs();
    o.finish(ctx);
    Some(AgentDef {
        id: id?,
        config_project: config_project?,
        configuration,
        environments,
        locs,
        loc: n.loc,
        path: path.to_owned(),
    })
}

fn read_project(ctx: &mut Ctx, n: &Node, path: &str) -> Option<ProjectDef> {
    let mut o = Obj::new(ctx, n, path, &format::PROJECT)?;
    let id = o.req(ctx, "id", d::id);
    let full_path = o.req(ctx, "path", d::string);
    if let Some(fp) = &full_path
        && (!fp.contains('/') || fp.starts_with('/') || fp.ends_with('/'))
    {
        ctx.error(
            o.get("path").map(|n| n.loc).unwrap_or(o.loc),
            &o.field("path"),
            format!("{fp:?} is not a full path like group/project"),
        );
    }
    let sha_map = |c: &mut Ctx, n: &Node, p: &str| d::string_map(c, n, p, d::string);
    let p = ProjectDef {
        id: id.unwrap_or(0),
        path_with_namespace: full_path.clone().unwrap_or_default(),
        name: o.opt(ctx, "name", d::string),
        description: o.opt(ctx, "description", d::string),
        visibility: o.word(ctx, "visibility"),
        default_branch: o.opt(ctx, "default_branch", d::string),
        public_builds: o.opt(ctx, "public_builds", d::bool_),
        builds_access_level: o.word(ctx, "builds_access_level"),
        repository_access_level: o.word(ctx, "repository_access_level"),
        variables: o
            .opt(ctx, "variables", |c, n, p| {
                d::list_of(c, n, p, read_variable)
            })
            .unwrap_or_default(),
        statistics_refreshing: o
            .opt(ctx, "statistics_refreshing", d::bool_)
            .unwrap_or(false),
        ci_job_token_scope_enabled: o.opt(ctx, "ci_job_token_scope_enabled", d::bool_),
        job_token_allowlist: o
            .opt(ctx, "job_token_allowlist", |c, n, p| {
                d::list_of(c, n, p, read_allowlist_entry)
            })
            .unwrap_or_default(),
        job_token_policies_enabled: o.opt(ctx, "job_token_policies_enabled", d::bool_),
        created_at: o.opt(ctx, "created_at", d::timestamp),
        group_ids: o
            .opt(ctx, "group_ids", |c, n, p| d::list_of(c, n, p, d::id))
            .unwrap_or_default(),
        branches: o.opt(ctx, "branches", sha_map).unwrap_or_default(),
        tags: o.opt(ctx, "tags", sha_map).unwrap_or_default(),
        commits: o
            .opt(ctx, "commits", |c, n, p| d::list_of(c, n, p, read_commit))
            .unwrap_or_default(),
        members: o
            .opt(ctx, "members", |c, n, p| {
                d::string_map(c, n, p, |c, n, p| d::one_of(c, n, p, ROLES))
            })
            .unwrap_or_default(),
        agents: o
            .opt(ctx, "agents", |c, n, p| d::list_of(c, n, p, read_agent))
            .unwrap_or_default(),
        pipelines: o
            .opt(ctx, "pipelines", |c, n, p| {
                d::list_of(c, n, p, read_pipeline)
            })
            .unwrap_or_default(),
        generate: o
            .opt(ctx, "generate", |c, n, p| {
                d::list_of(c, n, p, read_generate)
            })
            .unwrap_or_default(),
        ci: o.opt(ctx, "ci", read_ci),
        locs: o.locs(),
        loc: n.loc,
        path: path.to_owned(),
    };
    o.finish(ctx);
    id?;
    full_path?;
    Some(p)
}

fn read_step(ctx: &mut Ctx, n: &Node, path: &str) -> Option<(f64, Status)> {
    let mut o = Obj::new(ctx, n, path, &format::TIMELINE_STEP)?;
    // `after_polls: N` instead of `after`: N GETs of the job, its trace or its pipeline
    // (stored as -N; see world/progress.rs).
    let polls = o.opt(ctx, "after_polls", d::u64_);
    let after = o.opt(ctx, "after", d::seconds);
    match (o.get("after_polls"), o.get("after")) {
        (Some(_), Some(a)) => ctx.error(
            a.loc,
            &o.field("after"),
            "give either after or after_polls, not both",
        ),
        (None, None) => o.missing(ctx, "after"),
        _ => {}
    }
    let to = o.req(ctx, "status", status);
    o.finish(ctx);
    if let Some(p) = polls {
        if p == 0 || p > 1_000_000 {
            ctx.error(
                n.loc,
                &format!("{path}.after_polls"),
                format!("expected a number of polls from 1 to 1000000, found {p}"),
            );
            return None;
        }
        return Some((-(p as f64), to?));
    }
    let after = after?;
    if after < 0.0 || !after.is_finite() {
        ctx.error(
            n.loc,
            &format!("{path}.after"),
            format!("expected seconds ≥ 0, found {after}"),
        );
        return None;
    }
    Some((after, to?))
}

/// `timeline: [{after: 2, status: running}, {after: 10, status: success}]`: each step
/// waits `after` seconds from the previous one (the first from when the job is queued).
fn read_timeline(ctx: &mut Ctx, n: &Node, path: &str) -> Option<Vec<(f64, Status)>> {
    d::list_of(ctx, n, path, read_step)
}

/// `override: {field: value}`: JSON fields replacing the rendered ones, for testing clients
/// against unusual data (the contract check reports what GitLab never sends).
fn read_override(
    ctx: &mut Ctx,
    n: &Node,
    path: &str,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    match d::json(ctx, n, path)? {
        serde_json::Value::Object(m) => Some(m),
        other => {
            ctx.error(
                n.loc,
                path,
                format!("expected a mapping of fields, found {other}"),
            );
            None
        }
    }
}

/// `only:` as a list of refs, or `{refs: [...], variables: ["$VAR == \"x\"", ...]}`.
fn read_only(
    ctx: &mut Ctx,
    n: &Node,
    path: &str,
) -> Option<(Vec<String>, Vec<super::rules::VariableExpr>)> {
    if !matches!(n.value, node::Value::Map(_)) {
        return d::list_of(ctx, n, path, d::string).map(|refs| (refs, Vec::new()));
    }
    let mut o = Obj::new(ctx, n, path, &format::ONLY)?;
    let refs = o
        .opt(ctx, "refs", |c, n, p| d::list_of(c, n, p, d::string))
        .unwrap_or_default();
    let variables = o
        .opt(ctx, "variables", |c, n, p| {
            d::list_of(c, n, p, |c, n, p| {
                let text = d::string(c, n, p)?;
                super::rules::VariableExpr::parse(&text)
                    .map_err(|e| c.error(n.loc, p, e))
                    .ok()
            })
        })
        .unwrap_or_default();
    o.finish(ctx);
    Some((refs, variables))
}

fn read_ci_job(ctx: &mut Ctx, n: &Node, path: &str) -> Option<CiJobDef> {
    let mut o = Obj::new(ctx, n, path, &format::CI_JOB)?;
    let name = o.req(ctx, "name", d::string);
    let only = o.opt(ctx, "only", read_only).unwrap_or_default();
    let mut j = CiJobDef {
        name: name.clone().unwrap_or_default(),
        stage: o
            .opt(ctx, "stage", d::string)
            .unwrap_or_else(|| "test".into()),
        // A word, or `$[[ inputs.x ]]` (interpolated before this reads it, or reported).
        when: o.opt(ctx, "when", |c, n, p| d::one_of(c, n, p, WHENS)),
        allow_failure: o.opt(ctx, "allow_failure", d::bool_),
        only: only.0,
        only_variables: only.1,
        timeline: o.opt(ctx, "timeline", read_timeline).unwrap_or_default(),
        log: o.opt(ctx, "log", d::string),
        stage_loc: o.get("stage").map(|n| n.loc).unwrap_or(n.loc),
        tag_list: o
            .opt(ctx, "tag_list", |c, n, p| d::list_of(c, n, p, d::string))
            .unwrap_or_default(),
        instances: Vec::new(),
        rules: None,
    };
    let base = j.name.clone();
    j.instances = o
        .opt(ctx, "parallel", |c, n, p| read_parallel(c, n, p, &base))
        .unwrap_or_else(|| vec![base.clone()]);
    j.rules = o.opt(ctx, "rules", |c, n, p| {
        let mut rules = Vec::new();
        read_rules(c, n, p, &mut rules);
        Some(rules)
    });
    // lib/gitlab/ci/config/entry/job.rb: `config key may not be used with `rules`: only`.
    if j.rules.is_some()
        && let Some(only) = o.get("only")
    {
        ctx.error(
            only.loc,
            &o.field("only"),
            "only may not be used with rules (write the condition as a rule)",
        );
    }
    o.finish(ctx);
    name?;
    Some(j)
}

/// `rules:` entries, nested lists flattened (as `Gitlab::Ci::Config::Entry::Rules` does,
/// which is what lets `- $[[ inputs.rules ]]` add a list of rules).
fn read_rules(ctx: &mut Ctx, n: &Node, path: &str, out: &mut Vec<CiRuleDef>) {
    let Some(items) = d::list(ctx, n, path) else {
        return;
    };
    for (item, p) in items {
        if let node::Value::Seq(_) = item.value {
            read_rules(ctx, item, &p, out);
            continue;
        }
        let Some(mut o) = Obj::new(ctx, item, &p, &format::CI_RULE) else {
            continue;
        };
        let if_ = o.opt(ctx, "if", |c, n, p| {
            let text = d::string(c, n, p)?;
            super::rules::VariableExpr::parse(&text)
                .map_err(|e| c.error(n.loc, p, e))
                .ok()
        });
        let when = o.word(ctx, "when");
        let allow_failure = o.opt(ctx, "allow_failure", d::bool_);
        o.finish(ctx);
        out.push(CiRuleDef {
            if_,
            when,
            allow_failure,
        });
    }
}

/// `parallel: N` (2 to 200) makes `name 1/N` … `name N/N`; `parallel: {matrix: [{A: [x, y],
/// B: z}, …]}` makes `name: [x, z]`, `name: [y, z]`, … (each entry's combinations, keys in
/// order), as `Gitlab::Ci::Config::Normalizer` names them.
fn read_parallel(ctx: &mut Ctx, n: &Node, path: &str, name: &str) -> Option<Vec<String>> {
    if let node::Value::Int(_) = n.value {
        let count = d::u64_(ctx, n, path)?;
        if !(2..=200).contains(&count) {
            ctx.error(
                n.loc,
                path,
                format!("parallel must be 2 to 200, found {count}"),
            );
            return None;
        }
        return Some((1..=count).map(|i| format!("{name} {i}/{count}")).collect());
    }
    let mut o = Obj::new(ctx, n, path, &format::PARALLEL)?;
    let entries = o.req(ctx, "matrix", |c, n, p| {
        d::list_of(c, n, p, |c, n, p| {
            d::string_map(c, n, p, |c, n, p| match &n.value {
                node::Value::Seq(_) => d::list_of(c, n, p, d::string),
                _ => d::string(c, n, p).map(|v| vec![v]),
            })
        })
    });
    o.finish(ctx);
    let mut names = Vec::new();
    for entry in entries? {
        let mut combos: Vec<Vec<String>> = vec![Vec::new()];
        for (_, values, _) in entry {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push(v.clone());
                        c
                    })
                })
                .collect();
        }
        names.extend(
            combos
                .into_iter()
                .map(|c| format!("{name}: [{}]", c.join(", "))),
        );
    }
    Some(names)
}

fn read_ci(ctx: &mut Ctx, n: &Node, path: &str) -> Option<CiDef> {
    let mut o = Obj::new(ctx, n, path, &format::CI)?;
    let stages: Vec<String> = o
        .opt(ctx, "stages", |c, n, p| d::list_of(c, n, p, d::string))
        .unwrap_or_default();
    let inputs = o.opt(ctx, "spec", super::inputs::read_spec);
    let mut templates = Vec::new();
    let mut broken = Vec::new();
    let jobs = match &inputs {
        None => {
            // `$[[ … ]]` without `spec: inputs` reads nothing: say so where it is.
            if let Some(jobs) = o.get("jobs") {
                super::inputs::check_references(ctx, jobs, &o.field("jobs"), &[]);
            }
            o.req(ctx, "jobs", |c, n, p| d::list_of(c, n, p, read_ci_job))
                .unwrap_or_default()
        }
        // With inputs the jobs are decoded when a pipeline is created, interpolated with
        // the inputs given; here every `$[[ … ]]` must name a declared input, and with
        // every input defaulted the defaults must make valid jobs.
        Some(specs) => {
            let items = o.req(ctx, "jobs", |c, n, p| {
                Some(
                    d::list(c, n, p)?
                        .into_iter()
                        .map(|(item, p)| (item.clone(), p))
                        .collect::<Vec<_>>(),
                )
            });
            for (item, p) in items.unwrap_or_default() {
                if !super::inputs::check_references(ctx, &item, &p, specs) {
                    broken.push(templates.len());
                }
                templates.push(item);
            }
            Vec::new()
        }
    };
    o.finish(ctx);
    check_stages(ctx, &stages, &jobs, path);
    let ci = CiDef {
        stages,
        jobs,
        inputs: inputs.unwrap_or_default(),
        templates,
        loc: n.loc,
        path: path.to_owned(),
    };
    // A job that reads only inputs with defaults is checked now, with the defaults (its
    // errors located in the file); the others when a pipeline is created.
    let defaults: Vec<(String, serde_json::Value)> = ci
        .inputs
        .iter()
        .filter_map(|i| Some((i.name.clone(), i.default.clone()?)))
        .collect();
    for (i, t) in ci.templates.iter().enumerate() {
        let refs = super::inputs::references(t);
        if !broken.contains(&i) && refs.iter().all(|r| defaults.iter().any(|(n, _)| n == r)) {
            let node = super::inputs::interpolate(t, &defaults);
            if let Some(job) = read_ci_job(ctx, &node, &format!("{path}.jobs[{i}]")) {
                check_stage(ctx, &ci.stages, &job, &format!("{path}.jobs[{i}].stage"));
            }
        }
    }
    Some(ci)
}

fn check_stages(ctx: &mut Ctx, stages: &[String], jobs: &[CiJobDef], path: &str) {
    if stages.is_empty() {
        return;
    }
    for (i, j) in jobs.iter().enumerate() {
        check_stage(ctx, stages, j, &format!("{path}.jobs[{i}].stage"));
    }
}

fn check_stage(ctx: &mut Ctx, stages: &[String], j: &CiJobDef, path: &str) {
    if !stages.is_empty() && !stages.contains(&j.stage) {
        ctx.error(
            j.stage_loc,
            path,
            format!(
                "stage {:?} is not in stages (allowed: {})",
                j.stage,
                stages.join(", ")
            ),
        );
    }
}

fn instantiate_into(
    ctx: &mut Ctx,
    ci: &CiDef,
    values: &[(String, serde_json::Value)],
) -> Vec<CiJobDef> {
    let jobs: Vec<CiJobDef> = ci
        .templates
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let node = super::inputs::interpolate(t, values);
            read_ci_job(ctx, &node, &format!("{}.jobs[{i}]", ci.path))
        })
        .collect();
    check_stages(ctx, &ci.stages, &jobs, &ci.path);
    jobs
}

/// The jobs of a CI definition with `spec: inputs`, for the inputs given on create
/// (`args`, after `inputs::parse_param`): GitLab's input error, or the first error the
/// interpolated jobs have (`path: message`), or the jobs.
pub fn instantiate_ci(
    ci: &CiDef,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<CiJobDef>, String> {
    let values = super::inputs::resolve(&ci.inputs, args)?;
    let mut ctx = Ctx::new("inputs");
    let jobs = instantiate_into(&mut ctx, ci, &values);
    match ctx.errors.first() {
        Some(e) => Err(format!("{}: {}", e.path, e.message)),
        None => Ok(jobs),
    }
}

/// An allowlist entry: a project's full path, or `{project, default_permissions,
/// job_token_policies}` (`app/models/ci/job_token/project_scope_link.rb`).
fn read_allowlist_entry(ctx: &mut Ctx, n: &Node, path: &str) -> Option<AllowlistEntryDef> {
    if !matches!(n.value, node::Value::Map(_)) {
        return d::string(ctx, n, path).map(|project| AllowlistEntryDef {
            project,
            loc: n.loc,
            default_permissions: None,
            job_token_policies: Vec::new(),
        });
    }
    let mut o = Obj::new(ctx, n, path, &format::JOB_TOKEN_ALLOWLIST_ENTRY)?;
    let project = o.req(ctx, "project", d::string);
    let loc = o.get("project").map(|n| n.loc).unwrap_or(n.loc);
    let default_permissions = o.opt(ctx, "default_permissions", d::bool_);
    let job_token_policies = o
        .opt(ctx, "job_token_policies", |c, n, p| {
            d::list_of(c, n, p, |c, n, p| d::one_of(c, n, p, JOB_TOKEN_POLICIES))
        })
        .unwrap_or_default();
    o.finish(ctx);
    Some(AllowlistEntryDef {
        project: project?,
        loc,
        default_permissions,
        job_token_policies,
    })
}

fn read_job_token(ctx: &mut Ctx, n: &Node, path: &str) -> Option<JobTokenDef> {
    let mut o = Obj::new(ctx, n, path, &format::JOB_TOKEN)?;
    let token = o.req(ctx, "token", d::string);
    let job = o.req(ctx, "job", d::id);
    let job_loc = o.get("job").map(|n| n.loc).unwrap_or(n.loc);
    let locs = o.locs();
    o.finish(ctx);
    Some(JobTokenDef {
        token: token?,
        job: job?,
        job_loc,
        locs,
        loc: n.loc,
        path: path.to_owned(),
    })
}

// --- faults: and gitlab.rate_limits: (`src/faults/`): serde types shared with the control
// API, read from the node's JSON; errors point at the field they name when it can be found.

/// The node of a dotted field path (`match.route`) or of a key or value named `name`.
fn locate(n: &Node, path: &str, field: &str, name: Option<&str>) -> (node::Loc, String) {
    let mut node = n;
    let mut at = path.to_owned();
    for key in field.split('.').filter(|k| !k.is_empty()) {
        let node::Value::Map(entries) = &node.value else {
            break;
        };
        match entries
            .iter()
            .find(|(k, _)| matches!(&k.value, node::Value::Str(s) if s == key))
        {
            Some((_, v)) => {
                node = v;
                at = d::join(&at, key);
            }
            None => break,
        }
    }
    if let Some(name) = name
        && let Some(found) = find_named(node, &at, name)
    {
        return found;
    }
    (node.loc, at)
}

fn find_named(n: &Node, path: &str, name: &str) -> Option<(node::Loc, String)> {
    match &n.value {
        node::Value::Str(s) if s == name => Some((n.loc, path.to_owned())),
        node::Value::Map(entries) => entries.iter().find_map(|(k, v)| {
            let key = match &k.value {
                node::Value::Str(s) => s.as_str(),
                _ => return None,
            };
            if key == name {
                return Some((k.loc, d::join(path, key)));
            }
            find_named(v, &d::join(path, key), name)
        }),
        node::Value::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_named(v, &format!("{path}[{i}]"), name)),
        _ => None,
    }
}

/// Decodes a node into a serde type, reporting serde's message at the field it names.
fn serde_node<T: serde::de::DeserializeOwned>(ctx: &mut Ctx, n: &Node, path: &str) -> Option<T> {
    let value = d::json(ctx, n, path)?;
    match serde_json::from_value::<T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let message = e.to_string();
            // serde names the culprit in backticks (a field, a variant) or quotes a string.
            let name = message.split('`').nth(1).or_else(|| {
                message
                    .split_once("string \"")
                    .and_then(|(_, rest)| rest.split('"').next())
            });
            let (loc, at) = locate(n, path, "", name);
            ctx.error(loc, &at, message);
            None
        }
    }
}

fn read_faults(
    ctx: &mut Ctx,
    n: &Node,
    path: &str,
) -> Option<Vec<std::sync::Arc<crate::faults::rule::Rule>>> {
    let node::Value::Seq(items) = &n.value else {
        ctx.error(
            n.loc,
            path,
            format!("expected a list of fault rules, found {}", n.value.kind()),
        );
        return None;
    };
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let Some(spec) = serde_node::<crate::faults::spec::RuleSpec>(ctx, item, &at) else {
            continue;
        };
        match crate::faults::rule::Rule::compile(spec, at.clone()) {
            Ok(r) => rules.push(std::sync::Arc::new(r)),
            Err(e) => {
                let (loc, field) = locate(item, &at, &e.field, None);
                ctx.error(loc, &field, e.message);
            }
        }
    }
    Some(rules)
}

fn read_rate_limits(ctx: &mut Ctx, n: &Node, path: &str) -> Option<crate::faults::limits::Limits> {
    let spec = serde_node::<crate::faults::spec::RateLimitsSpec>(ctx, n, path)?;
    match crate::faults::limits::Limits::from_spec(&spec) {
        Ok(l) => Some(l),
        Err(e) => {
            let (loc, field) = locate(n, path, &e.field, None);
            ctx.error(loc, &field, e.message);
            None
        }
    }
}

//! The entity shapes, as serde structs borrowing from the World.

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::world::{Job, JobKind, Pipeline, ProjectMeta, Role, User, World};

/// A timestamp as GitLab writes it: milliseconds, UTC, `Z`.
#[derive(Clone, Copy)]
pub struct Ts(pub Timestamp);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.3}", self.0))
    }
}

fn ts(t: Option<Timestamp>) -> Option<Ts> {
    t.map(Ts)
}

/// A field that a version may not have at all: `None` → key absent.
type Versioned<T> = Option<T>;

fn when<T>(present: bool, value: impl FnOnce() -> T) -> Versioned<T> {
    present.then(value)
}

#[derive(Serialize)]
pub struct UserEntity<'a> {
    #[serde(flatten)]
    basic: UserBasic<'a>,
    created_at: Ts,
    bio: &'a str,
    location: &'a str,
    public_email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    skype: Versioned<&'a str>,
    linkedin: &'a str,
    twitter: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    discord: Versioned<&'a str>,
    website_url: &'a str,
    organization: &'a str,
    job_title: &'a str,
    pronouns: Option<&'a str>,
    bot: bool,
    work_information: Option<&'a str>,
    local_time: Option<&'a str>,
}

impl<'a> UserEntity<'a> {
    pub fn new(world: &World, u: &'a User) -> Self {
        let p = world.instance.profile;
        UserEntity {
            basic: UserBasic::new(u),
            created_at: Ts(u.created_at),
            bio: u.bio.as_deref().unwrap_or(""),
            location: u.location.as_deref().unwrap_or(""),
            public_email: &u.public_email,
            skype: when(p.user_skype, || ""),
            linkedin: &u.linkedin,
            twitter: &u.twitter,
            discord: when(p.user_discord, || u.discord.as_str()),
            website_url: &u.website_url,
            organization: &u.organization,
            job_title: &u.job_title,
            pronouns: u.pronouns.as_deref(),
            bot: u.bot,
            work_information: None,
            local_time: None,
        }
    }
}

/// `GET /user`: `UserPublic` (plus `is_admin` for administrators, as `UserWithAdmin`).
#[derive(Serialize)]
pub struct CurrentUser<'a> {
    #[serde(flatten)]
    user: UserEntity<'a>,
    last_sign_in_at: Ts,
    confirmed_at: Ts,
    last_activity_on: String,
    email: &'a str,
    theme_id: u32,
    color_scheme_id: u32,
    projects_limit: u32,
    current_sign_in_at: Ts,
    identities: [(); 0],
    can_create_group: bool,
    can_create_project: bool,
    two_factor_enabled: bool,
    external: bool,
    private_profile: bool,
    commit_email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_admin: Option<bool>,
}

impl<'a> CurrentUser<'a> {
    pub fn new(world: &World, u: &'a User) -> Self {
        CurrentUser {
            user: UserEntity::new(world, u),
            last_sign_in_at: Ts(u.created_at),
            confirmed_at: Ts(u.created_at),
            last_activity_on: u.created_at.strftime("%Y-%m-%d").to_string(),
            email: &u.email,
            theme_id: 1,
            color_scheme_id: 1,
            projects_limit: 100_000,
            current_sign_in_at: Ts(u.created_at),
            identities: [],
            can_create_group: true,
            can_create_project: true,
            two_factor_enabled: false,
            external: false,
            private_profile: false,
            commit_email: &u.email,
            is_admin: u.admin.then_some(true),
        }
    }
}

#[derive(Serialize)]
struct CommitEntity<'a> {
    id: &'a str,
    short_id: &'a str,
    created_at: &'a str,
    parent_ids: &'a [String],
    title: &'a str,
    message: &'a str,
    author_name: &'a str,
    author_email: &'a str,
    authored_date: &'a str,
    committer_name: &'a str,
    committer_email: &'a str,
    committed_date: &'a str,
    trailers: Empty,
    extended_trailers: Empty,
    web_url: String,
}

/// `{}`
struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

#[derive(Serialize)]
pub struct PipelineBasic<'a> {
    id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iid: Versioned<u64>,
    project_id: u64,
    sha: &'a str,
    #[serde(rename = "ref")]
    ref_: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Versioned<&'a str>,
    created_at: Ts,
    updated_at: Ts,
    web_url: String,
}

impl<'a> PipelineBasic<'a> {
    pub fn new(world: &World, meta: &ProjectMeta, p: &'a Pipeline) -> Self {
        let prof = world.instance.profile;
        PipelineBasic {
            id: p.id,
            iid: when(prof.pipeline_iid, || p.iid),
            project_id: p.project_id,
            sha: &p.sha,
            ref_: &p.ref_,
            status: p.status.as_str(),
            source: when(prof.pipeline_basic_source, || p.source.as_str()),
            created_at: Ts(p.created_at),
            updated_at: Ts(p.updated_at),
            web_url: format!("{}/-/pipelines/{}", meta.web_url, p.id),
        }
    }
}

#[derive(Serialize)]
struct ArtifactFile<'a> {
    filename: &'a str,
    size: u64,
}

#[derive(Serialize)]
struct ArtifactEntity<'a> {
    file_type: &'a str,
    size: u64,
    filename: &'a str,
    file_format: Option<&'a str>,
}

#[derive(Serialize)]
struct RunnerEntity<'a> {
    id: u64,
    description: &'a str,
    ip_address: Option<&'a str>,
    active: bool,
    paused: bool,
    is_shared: bool,
    runner_type: &'a str,
    name: Option<&'a str>,
    online: bool,
    status: &'a str,
}

#[derive(Serialize)]
struct RunnerManagerEntity<'a> {
    id: u64,
    system_id: &'a str,
    version: &'a str,
    revision: &'a str,
    platform: &'a str,
    architecture: &'a str,
    created_at: Ts,
    contacted_at: Option<Ts>,
    ip_address: Option<&'a str>,
    status: &'a str,
}

#[derive(Serialize)]
struct JobProject {
    ci_job_token_scope_enabled: bool,
}

/// Fields shared by `Job` and `Bridge` (`JobBasic`).
#[derive(Serialize)]
pub struct JobBasic<'a> {
    id: u64,
    status: &'static str,
    stage: &'a str,
    name: &'a str,
    #[serde(rename = "ref")]
    ref_: &'a str,
    tag: bool,
    coverage: Option<f64>,
    allow_failure: bool,
    created_at: Ts,
    started_at: Option<Ts>,
    finished_at: Option<Ts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    erased_at: Versioned<Option<Ts>>,
    duration: Option<f64>,
    queued_duration: Option<f64>,
    user: Option<UserEntity<'a>>,
    commit: Option<CommitEntity<'a>>,
    pipeline: Option<PipelineBasic<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<&'a str>,
    web_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Versioned<JobProject>,
}

#[derive(Serialize)]
pub struct BuildEntity<'a> {
    #[serde(flatten)]
    basic: JobBasic<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifacts_file: Option<ArtifactFile<'a>>,
    artifacts: Vec<ArtifactEntity<'a>>,
    runner: Option<RunnerEntity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runner_manager: Versioned<Option<RunnerManagerEntity<'a>>>,
    artifacts_expire_at: Option<Ts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archived: Versioned<bool>,
    tag_list: &'a [String],
}

#[derive(Serialize)]
pub struct BridgeEntity<'a> {
    #[serde(flatten)]
    basic: JobBasic<'a>,
    downstream_pipeline: Option<PipelineBasic<'a>>,
}

/// Everything a job rendering needs.
pub struct JobView<'a> {
    pub world: &'a World,
    pub meta: &'a ProjectMeta,
    pub job: &'a Job,
    pub pipeline: Option<&'a Pipeline>,
    pub now: Timestamp,
}

impl<'a> JobView<'a> {
    fn commit(&self) -> Option<CommitEntity<'a>> {
        let p = self.pipeline?;
        let commit_url = format!("{}/-/commit/{}", self.meta.web_url, p.sha);
        let short = &p.sha[..p.sha.len().min(8)];
        if let Some(c) = self.meta.commits.get(&p.sha) {
            return Some(CommitEntity {
                id: &c.id,
                short_id: &c.id[..c.id.len().min(8)],
                created_at: &c.created_at,
                parent_ids: &c.parent_ids,
                title: &c.title,
                message: &c.message,
                author_name: &c.author_name,
                author_email: &c.author_email,
                authored_date: &c.authored_date,
                committer_name: &c.committer_name,
                committer_email: &c.committer_email,
                committed_date: &c.committed_date,
                trailers: Empty,
                extended_trailers: Empty,
                web_url: commit_url,
            });
        }
        // No commit details in the scenario: a plain commit by the pipeline's user.
        let user = p.user_id.and_then(|id| self.world.directory.users.get(&id));
        let (name, email) = user
            .map(|u| (u.name.as_str(), u.email.as_str()))
            .unwrap_or(("Administrator", "admin@example.com"));
        Some(CommitEntity {
            id: &p.sha,
            short_id: short,
            created_at: DERIVED_COMMIT_DATE,
            parent_ids: &[],
            title: &p.ref_,
            message: &p.ref_,
            author_name: name,
            author_email: email,
            authored_date: DERIVED_COMMIT_DATE,
            committer_name: name,
            committer_email: email,
            committed_date: DERIVED_COMMIT_DATE,
            trailers: Empty,
            extended_trailers: Empty,
            web_url: commit_url,
        })
    }

    fn basic(&self) -> JobBasic<'a> {
        let j = self.job;
        let prof = self.world.instance.profile;
        let p = self.pipeline;
        JobBasic {
            id: j.id,
            status: j.status.as_str(),
            stage: &j.stage,
            name: &j.name,
            ref_: p.map(|p| p.ref_.as_str()).unwrap_or(""),
            tag: p.is_some_and(|p| p.tag),
            coverage: j.coverage,
            allow_failure: j.allow_failure,
            created_at: Ts(j.created_at),
            started_at: ts(j.started_at),
            finished_at: ts(j.finished_at),
            erased_at: when(prof.job_erased_at, || ts(j.erased_at)),
            duration: j.duration(self.now),
            queued_duration: j.queued_duration(self.now),
            user: j
                .user_id
                .and_then(|id| self.world.directory.users.get(&id))
                .map(|u| UserEntity::new(self.world, u)),
            commit: self.commit(),
            pipeline: p.map(|p| PipelineBasic::new(self.world, self.meta, p)),
            failure_reason: j.failure_reason.as_deref(),
            web_url: format!("{}/-/jobs/{}", self.meta.web_url, j.id),
            project: when(prof.job_project, || JobProject {
                ci_job_token_scope_enabled: self.meta.ci_job_token_scope_enabled,
            }),
        }
    }

    pub fn build(&self) -> BuildEntity<'a> {
        let j = self.job;
        let dir = &self.world.directory;
        let prof = self.world.instance.profile;
        let archive = j.artifacts.iter().find(|a| a.file_type == "archive");
        BuildEntity {
            basic: self.basic(),
            artifacts_file: archive.map(|a| ArtifactFile {
                filename: &a.filename,
                size: a.size,
            }),
            artifacts: j
                .artifacts
                .iter()
                .map(|a| ArtifactEntity {
                    file_type: &a.file_type,
                    size: a.size,
                    filename: &a.filename,
                    file_format: a.file_format.as_deref(),
                })
                .collect(),
            runner: j
                .runner_id
                .and_then(|id| dir.runners.get(&id))
                .map(|r| RunnerEntity {
                    id: r.id,
                    description: &r.description,
                    ip_address: r.ip_address.as_deref(),
                    active: r.active,
                    paused: r.paused,
                    is_shared: r.is_shared,
                    runner_type: &r.runner_type,
                    name: r.name.as_deref(),
                    online: r.online,
                    status: &r.status,
                }),
            runner_manager: when(prof.job_runner_manager, || {
                j.runner_manager_id
                    .and_then(|id| dir.managers.get(&id))
                    .map(|m| RunnerManagerEntity {
                        id: m.id,
                        system_id: &m.system_id,
                        version: &m.version,
                        revision: &m.revision,
                        platform: &m.platform,
                        architecture: &m.architecture,
                        created_at: Ts(m.created_at),
                        contacted_at: ts(m.contacted_at),
                        ip_address: m.ip_address.as_deref(),
                        status: &m.status,
                    })
            }),
            artifacts_expire_at: ts(j.artifacts_expire_at),
            archived: when(prof.job_archived, || j.archived),
            tag_list: &j.tag_list,
        }
    }

    pub fn bridge(&self) -> BridgeEntity<'a> {
        let downstream = match &self.job.kind {
            JobKind::Bridge {
                downstream: Some((project, pipeline)),
            } => self
                .world
                .pipeline(*project, *pipeline)
                .zip(self.world.directory.projects.get(project))
                .map(|(p, meta)| PipelineBasic::new(self.world, meta, p)),
            _ => None,
        };
        BridgeEntity {
            basic: self.basic(),
            downstream_pipeline: downstream,
        }
    }
}

/// Commit date shown for scenario pipelines whose commit has no details.
const DERIVED_COMMIT_DATE: &str = "2024-05-01T09:55:00.000+00:00";

#[derive(Serialize)]
struct NamespaceEntity<'a> {
    id: u64,
    name: &'a str,
    path: &'a str,
    kind: &'static str,
    full_path: &'a str,
    parent_id: Option<u64>,
    avatar_url: Option<&'a str>,
    web_url: String,
}

/// `GET /projects/:id`: the fields clients read before anything else.
#[derive(Serialize)]
pub struct ProjectEntity<'a> {
    id: u64,
    description: &'a str,
    name: &'a str,
    name_with_namespace: String,
    path: &'a str,
    path_with_namespace: &'a str,
    created_at: Ts,
    default_branch: &'a str,
    tag_list: [(); 0],
    topics: [(); 0],
    ssh_url_to_repo: String,
    http_url_to_repo: String,
    web_url: &'a str,
    readme_url: Option<String>,
    forks_count: u32,
    avatar_url: Option<String>,
    star_count: u32,
    last_activity_at: Ts,
    namespace: NamespaceEntity<'a>,
    visibility: &'static str,
    jobs_enabled: bool,
    public_jobs: bool,
    ci_job_token_scope_enabled: bool,
    archived: bool,
}

impl<'a> ProjectEntity<'a> {
    pub fn new(world: &World, m: &'a ProjectMeta) -> Self {
        let base = &world.instance.base_url;
        let host = base.split("://").nth(1).unwrap_or(base);
        let ns_name = m.namespace.rsplit('/').next().unwrap_or(&m.namespace);
        ProjectEntity {
            id: m.id,
            description: &m.description,
            name: &m.name,
            name_with_namespace: m.path_with_namespace.replace('/', " / "),
            path: &m.path,
            path_with_namespace: &m.path_with_namespace,
            created_at: Ts(m.created_at),
            default_branch: &m.default_branch,
            tag_list: [],
            topics: [],
            ssh_url_to_repo: format!("git@{host}:{}.git", m.path_with_namespace),
            http_url_to_repo: format!("{}.git", m.web_url),
            web_url: &m.web_url,
            readme_url: None,
            forks_count: 0,
            avatar_url: None,
            star_count: 0,
            last_activity_at: Ts(m.created_at),
            namespace: NamespaceEntity {
                id: m.group_ids.last().copied().unwrap_or(m.id),
                name: ns_name,
                path: ns_name,
                kind: if m.group_ids.is_empty() {
                    "user"
                } else {
                    "group"
                },
                full_path: &m.namespace,
                parent_id: None,
                avatar_url: None,
                web_url: format!("{base}/{}", m.namespace),
            },
            visibility: m.visibility.as_str(),
            jobs_enabled: true,
            public_jobs: m.public_builds,
            ci_job_token_scope_enabled: m.ci_job_token_scope_enabled,
            archived: false,
        }
    }
}

#[derive(Serialize)]
struct ProjectIdentity<'a> {
    id: u64,
    description: &'a str,
    name: &'a str,
    name_with_namespace: String,
    path: &'a str,
    path_with_namespace: &'a str,
    created_at: Ts,
}

#[derive(Serialize)]
struct AllowedAgent<'a> {
    id: u64,
    config_project: Option<ProjectIdentity<'a>>,
    configuration: &'a serde_json::Value,
}

#[derive(Serialize)]
struct IdOnly {
    id: u64,
}

#[derive(Serialize)]
struct AgentsProject {
    id: u64,
    groups: Vec<IdOnly>,
}

#[derive(Serialize)]
struct AgentsUser<'a> {
    id: u64,
    username: &'a str,
    roles_in_project: Vec<&'static str>,
}

#[derive(Serialize)]
struct AgentsEnvironment<'a> {
    tier: &'a str,
    slug: &'a str,
}

/// `GET /job/allowed_agents`, the hand-built object of `lib/api/ci/jobs.rb`.
#[derive(Serialize)]
pub struct AllowedAgents<'a> {
    allowed_agents: Vec<AllowedAgent<'a>>,
    job: IdOnly,
    pipeline: IdOnly,
    project: AgentsProject,
    user: Option<AgentsUser<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<AgentsEnvironment<'a>>,
}

/// An environment pattern: `*` stands for any run of characters (`review/*`).
fn glob_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob_matches(rest, &tail[i..]))
        }
    }
}

impl<'a> AllowedAgents<'a> {
    pub fn new(world: &'a World, job: &'a Job, user: Option<&'a User>) -> Self {
        let dir = &world.directory;
        let meta = dir
            .projects
            .get(&job.project_id)
            .expect("a job's project exists");
        // `Clusters::Agents::Authorizations::CiAccess::FilterService`: an authorization
        // limited to environments counts only for a job deploying to one of them.
        let environment = job.environment.as_ref().map(|e| e.name.as_str());
        let agents = meta
            .agents
            .iter()
            .filter(|a| {
                a.environments.is_empty()
                    || environment
                        .is_some_and(|env| a.environments.iter().any(|p| glob_matches(p, env)))
            })
            .map(|a| AllowedAgent {
                id: a.id,
                config_project: dir
                    .projects
                    .get(&a.config_project)
                    .map(|c| ProjectIdentity {
                        id: c.id,
                        description: &c.description,
                        name: &c.name,
                        name_with_namespace: c.path_with_namespace.replace('/', " / "),
                        path: &c.path,
                        path_with_namespace: &c.path_with_namespace,
                        created_at: Ts(c.created_at),
                    }),
                configuration: &a.configuration,
            })
            .collect();
        let role = user.and_then(|u| meta.members.get(&u.id).copied());
        let roles = [
            Role::Guest,
            Role::Planner,
            Role::Reporter,
            Role::Developer,
            Role::Maintainer,
            Role::Owner,
        ]
        .into_iter()
        .filter(|r| role.is_some_and(|mine| *r <= mine))
        .map(Role::as_str)
        .collect();
        AllowedAgents {
            allowed_agents: agents,
            job: IdOnly { id: job.id },
            pipeline: IdOnly {
                id: job.pipeline_id,
            },
            project: AgentsProject {
                id: meta.id,
                groups: meta.group_ids.iter().map(|id| IdOnly { id: *id }).collect(),
            },
            user: user.map(|u| AgentsUser {
                id: u.id,
                username: &u.username,
                roles_in_project: roles,
            }),
            environment: job.environment.as_ref().map(|e| AgentsEnvironment {
                tier: &e.tier,
                slug: &e.slug,
            }),
        }
    }
}

/// `UserBasic`, as in a pipeline's `user`.
#[derive(Serialize)]
pub struct UserBasic<'a> {
    id: u64,
    username: &'a str,
    name: &'a str,
    state: &'a str,
    locked: bool,
    avatar_url: &'a str,
    web_url: &'a str,
}

impl<'a> UserBasic<'a> {
    pub fn new(u: &'a User) -> Self {
        UserBasic {
            id: u.id,
            username: &u.username,
            name: &u.name,
            state: &u.state,
            locked: false,
            avatar_url: &u.avatar_url,
            web_url: &u.web_url,
        }
    }
}

/// `PipelineBasicWithMetadata`: the pipelines list item (exactly these keys).
#[derive(Serialize)]
pub struct PipelineListItem<'a> {
    #[serde(flatten)]
    basic: PipelineBasic<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Versioned<Option<&'a str>>,
}

impl<'a> PipelineListItem<'a> {
    pub fn new(world: &World, meta: &ProjectMeta, p: &'a Pipeline) -> Self {
        PipelineListItem {
            basic: PipelineBasic::new(world, meta, p),
            name: when(world.instance.profile.pipeline_name, || p.name.as_deref()),
        }
    }
}

/// `Gitlab::Ci::Status::*` as the API shows it.
#[derive(Serialize)]
pub struct DetailedStatus {
    icon: &'static str,
    text: &'static str,
    label: &'static str,
    group: &'static str,
    tooltip: &'static str,
    has_details: bool,
    details_path: String,
    illustration: Option<()>,
    favicon: String,
}

impl DetailedStatus {
    pub fn new(status: crate::world::status::Status, warnings: bool, details_path: String) -> Self {
        use crate::world::status::Status as S;
        let (icon, text, label, group) = match status {
            S::Success if warnings => (
                "status_warning",
                "Warning",
                "passed with warnings",
                "success-with-warnings",
            ),
            S::Success => ("status_success", "Passed", "passed", "success"),
            S::Failed => ("status_failed", "Failed", "failed", "failed"),
            S::Running => ("status_running", "Running", "running", "running"),
            S::Pending => ("status_pending", "Pending", "pending", "pending"),
            S::Canceled => ("status_canceled", "Canceled", "canceled", "canceled"),
            S::Canceling => ("status_canceled", "Canceling", "canceling", "canceling"),
            S::Skipped => ("status_skipped", "Skipped", "skipped", "skipped"),
            S::Manual => ("status_manual", "Blocked", "manual action", "manual"),
            S::Scheduled => ("status_scheduled", "Scheduled", "scheduled", "scheduled"),
            S::Created => ("status_created", "Created", "created", "created"),
            S::Preparing => ("status_preparing", "Preparing", "preparing", "preparing"),
            S::WaitingForResource => (
                "status_pending",
                "Waiting",
                "waiting for resource",
                "waiting-for-resource",
            ),
            S::WaitingForCallback => (
                "status_pending",
                "Waiting",
                "waiting for callback",
                "waiting-for-callback",
            ),
        };
        DetailedStatus {
            icon,
            text,
            label,
            group,
            tooltip: label,
            has_details: false,
            details_path,
            illustration: None,
            favicon: format!("/assets/ci_favicons/favicon_{icon}.png"),
        }
    }
}

/// `Pipeline` (create, retry, cancel) and `PipelineWithMetadata` (get, latest: adds `name`).
#[derive(Serialize)]
pub struct PipelineEntity<'a> {
    #[serde(flatten)]
    basic: PipelineBasic<'a>,
    before_sha: &'a str,
    tag: bool,
    yaml_errors: Option<&'a str>,
    user: Option<UserBasic<'a>>,
    started_at: Option<Ts>,
    finished_at: Option<Ts>,
    committed_at: Option<Ts>,
    duration: Option<i64>,
    queued_duration: Option<i64>,
    coverage: Option<std::borrow::Cow<'a, str>>,
    detailed_status: DetailedStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    archived: Versioned<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Versioned<Option<&'a str>>,
}

impl<'a> PipelineEntity<'a> {
    pub fn new(
        world: &'a World,
        meta: &'a ProjectMeta,
        p: &'a Pipeline,
        with_metadata: bool,
    ) -> Self {
        let warnings = p.status == crate::world::status::Status::Success
            && world
                .project_state(p.project_id)
                .and_then(|s| s.tallies.get(&p.id))
                .is_some_and(|t| t.has_warnings());
        let now = world.now();
        let duration = p
            .started_at
            .map(|s| (p.finished_at.unwrap_or(now).as_second() - s.as_second()).max(0));
        let queued = p
            .started_at
            .map(|s| s.as_second() - p.created_at.as_second())
            .filter(|q| *q > 0);
        let details_path = format!("/{}/-/pipelines/{}", meta.path_with_namespace, p.id);
        PipelineEntity {
            basic: PipelineBasic::new(world, meta, p),
            before_sha: &p.before_sha,
            tag: p.tag,
            yaml_errors: p.yaml_errors.as_deref(),
            user: p
                .user_id
                .and_then(|id| world.directory.users.get(&id))
                .map(UserBasic::new),
            started_at: ts(p.started_at),
            finished_at: ts(p.finished_at),
            committed_at: ts(p.committed_at),
            duration,
            queued_duration: queued,
            coverage: p
                .coverage
                .as_deref()
                .map(std::borrow::Cow::Borrowed)
                .or_else(|| derived_coverage(world, p).map(std::borrow::Cow::Owned)),
            detailed_status: DetailedStatus::new(p.status, warnings, details_path),
            archived: when(world.instance.profile.pipeline_archived, || false),
            name: when(
                with_metadata && world.instance.profile.pipeline_name,
                || p.name.as_deref(),
            ),
        }
    }
}

/// `Ci::Pipeline#coverage`: the mean of the latest jobs' coverage (retried ones left
/// out), as GitLab presents it, with two decimals; `None` when no job has one.
fn derived_coverage(world: &World, p: &Pipeline) -> Option<String> {
    let state = world.project_state(p.project_id)?;
    let (sum, n) = state
        .pipeline_latest(p.id)
        .filter_map(|j| j.coverage)
        .fold((0.0, 0u32), |(s, n), c| (s + c, n + 1));
    (n > 0).then(|| format!("{:.2}", sum / f64::from(n)))
}

/// `PipelineVariable`: always the four keys.
#[derive(Serialize)]
pub struct VariableEntity<'a> {
    variable_type: &'a str,
    key: &'a str,
    value: &'a str,
    raw: bool,
}

impl<'a> VariableEntity<'a> {
    pub fn new(v: &'a crate::world::Variable) -> Self {
        VariableEntity {
            variable_type: &v.variable_type,
            key: &v.key,
            value: &v.value,
            raw: v.raw,
        }
    }
}

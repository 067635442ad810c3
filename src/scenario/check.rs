//! Cross-checks decoded scenario files and builds the World: unique ids, references that
//! resolve, and every derived value (timestamps, durations, web URLs, iids, statuses).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};

use super::model::*;
use super::node::Loc;
use super::{ScenarioError, Source};
use crate::version::{self, Profile, Version};
use crate::world::clock::Clock;
use crate::world::status::{self, Status};
use crate::world::*;

/// Default creation time of scenario objects without one: pipelines are spaced a minute
/// apart from here by id, so derived timestamps are deterministic.
const EPOCH: &str = "2024-05-01T10:00:00Z";
const DEFAULT_BASE_URL: &str = "https://gitlab.example.com";

struct Errors<'a> {
    file: &'a str,
    list: &'a mut Vec<ScenarioError>,
}

impl Errors<'_> {
    fn at(&mut self, loc: Loc, path: &str, message: impl Into<String>) {
        self.list.push(ScenarioError {
            file: self.file.to_owned(),
            line: loc.line,
            column: loc.column,
            path: path.to_owned(),
            message: message.into(),
        });
    }
}

fn epoch() -> Timestamp {
    EPOCH.parse().expect("EPOCH is a valid timestamp")
}

fn secs(s: f64) -> SignedDuration {
    SignedDuration::from_millis((s * 1000.0).round() as i64)
}

fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.saturating_add(d)
        .expect("SignedDuration addition cannot fail")
}

/// A stable 40-hex-digit stand-in for a commit SHA.
pub fn fake_sha(seed: &str) -> String {
    // FNV-1a, widened to 160 bits by re-seeding; stable across runs and platforms.
    let mut out = String::with_capacity(40);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0..3u8 {
        for b in seed.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(40);
    out
}

/// Deterministic default run time of a job, in seconds with milliseconds.
fn default_duration(id: u64) -> f64 {
    20.0 + (id.wrapping_mul(37) % 600) as f64 + (id.wrapping_mul(13) % 1000) as f64 / 1000.0
}

fn default_queued(id: u64) -> f64 {
    0.5 + (id % 7) as f64 * 0.25
}

fn variable(v: &VariableDef) -> Variable {
    Variable {
        key: v.key.clone(),
        value: v.value.clone(),
        variable_type: v.variable_type.clone(),
        raw: v.raw,
    }
}

fn feature_access(level: Option<&str>) -> FeatureAccess {
    match level {
        Some("disabled") => FeatureAccess::Disabled,
        Some("private") => FeatureAccess::Private,
        _ => FeatureAccess::Enabled,
    }
}

/// Builds the World from decoded files (in load order) or returns every error. One
/// function per phase, each collecting its errors: the instance, users and their tokens,
/// runners, projects, links between projects, global ids, downstream pipelines, each
/// project's pipelines and jobs, job tokens.
pub fn build_world(
    files: &[(Source, ScenarioFile)],
    overrides: &super::Overrides,
) -> Result<World, Vec<ScenarioError>> {
    let mut errors = Vec::new();
    let (instance, now, frozen) = read_instance(files, overrides, &mut errors);
    let load_time = now.unwrap_or_else(Timestamp::now);
    let mut dir = Directory::default();
    let mut token_seen: HashSet<String> = HashSet::new();
    add_users(
        files,
        &instance.base_url,
        &mut dir,
        &mut token_seen,
        &mut errors,
    );
    add_runners(files, &mut dir, &mut errors);
    let project_files = add_projects(files, &instance.base_url, &mut dir, &mut errors);
    link_projects(&project_files, &mut dir, &mut errors);
    let (pipeline_ids, job_ids) = register_ids(&project_files, &mut errors);
    let parents = downstream_parents(&project_files, &pipeline_ids, &mut errors);
    let (projects, origins, max_pipeline, max_job) = build_projects(
        &project_files,
        &dir,
        &parents,
        (&pipeline_ids, &job_ids),
        load_time,
        &mut errors,
    );
    add_job_tokens(
        files,
        &job_ids,
        &projects,
        &mut dir,
        &mut token_seen,
        &mut errors,
    );

    dir.origins = origins.into_iter().collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(World {
        instance: Arc::new(instance),
        directory: Arc::new(dir),
        projects,
        next_job_id: max_job + 1,
        next_pipeline_id: max_pipeline + 1,
        clock: Clock::new(load_time, frozen),
    })
}

/// Global ids: project of each pipeline, project of each job.
type Ids = (HashMap<u64, u64>, HashMap<u64, u64>);

/// What the pipelines phase makes: project states, origins, highest pipeline and job ids.
type Built = (
    HashMap<u64, Arc<ProjectState>>,
    Vec<(String, String)>,
    u64,
    u64,
);

/// The instance: later files override earlier ones; the command line wins.
fn read_instance(
    files: &[(Source, ScenarioFile)],
    overrides: &super::Overrides,
    errors: &mut Vec<ScenarioError>,
) -> (Instance, Option<Timestamp>, bool) {
    // Instance: later files override earlier ones.
    let mut base_url = DEFAULT_BASE_URL.to_owned();
    let mut version = version::NEWEST;
    let mut now = None;
    let mut frozen = false;
    let mut rate_limits = None;
    for (src, f) in files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        if let Some(b) = &f.gitlab.base_url {
            base_url = b.clone();
        }
        if let Some((v, loc)) = &f.gitlab.version {
            match Version::parse(v) {
                Some(parsed) if parsed >= version::OLDEST && parsed <= version::NEWEST => {
                    version = parsed
                }
                _ => err.at(
                    *loc,
                    "gitlab.version",
                    format!(
                        "{v:?} is not a supported version (allowed: {} to {}, as major.minor)",
                        version::OLDEST,
                        version::NEWEST
                    ),
                ),
            }
        }
        if f.gitlab.now.is_some() {
            now = f.gitlab.now;
        }
        if let Some(fz) = f.gitlab.frozen {
            frozen = fz;
        }
        if f.gitlab.rate_limits.is_some() {
            rate_limits = f.gitlab.rate_limits;
        }
    }
    if let Some(b) = &overrides.base_url {
        base_url = b.trim_end_matches('/').to_owned();
    }
    if let Some(v) = overrides.version {
        version = v;
    }
    let instance = Instance {
        base_url: base_url.clone(),
        version: version.to_string(),
        profile: Profile::for_version(version),
        variables: files
            .iter()
            .flat_map(|(_, f)| &f.gitlab.variables)
            .map(variable)
            .collect(),
        contract: None,
        faults: std::sync::Arc::new(crate::faults::Faults::new(
            files
                .iter()
                .flat_map(|(_, f)| f.faults.iter().cloned())
                .collect(),
            rate_limits.unwrap_or_default(),
        )),
    };
    (instance, now, frozen)
}

/// Users and their personal tokens.
fn add_users(
    files: &[(Source, ScenarioFile)],
    base_url: &str,
    dir: &mut Directory,
    token_seen: &mut HashSet<String>,
    errors: &mut Vec<ScenarioError>,
) {
    // Users and their tokens.
    for (src, f) in files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        for u in &f.users {
            if dir.users.contains_key(&u.id) {
                err.at(
                    u.locs.at("id", u.loc),
                    &format!("{}.id", u.path),
                    format!("duplicate user id {}", u.id),
                );
                continue;
            }
            if dir.usernames.contains_key(&u.username) {
                err.at(
                    u.locs.at("username", u.loc),
                    &format!("{}.username", u.path),
                    format!("duplicate username {:?}", u.username),
                );
                continue;
            }
            for (i, t) in u.tokens.iter().enumerate() {
                if !token_seen.insert(t.token.clone()) {
                    err.at(
                        t.loc,
                        &format!("{}.tokens[{i}]", u.path),
                        "this token is already used by another user or job",
                    );
                    continue;
                }
                dir.tokens.insert(
                    t.token.clone(),
                    Token {
                        user_id: u.id,
                        read_only: !t.scopes.iter().any(|s| s == "api"),
                        expires_at: t.expires_at,
                        revoked: t.revoked,
                        oauth: t.oauth,
                    },
                );
            }
            dir.usernames.insert(u.username.clone(), u.id);
            dir.users.insert(
                u.id,
                User {
                    id: u.id,
                    username: u.username.clone(),
                    name: u.name.clone().unwrap_or_else(|| u.username.clone()),
                    state: u.state.clone().unwrap_or_else(|| "active".into()),
                    admin: u.admin,
                    email: u
                        .email
                        .clone()
                        .unwrap_or_else(|| format!("{}@example.com", u.username)),
                    avatar_url: u.avatar_url.clone().unwrap_or_else(|| {
                        format!(
                            "{base_url}/uploads/-/system/user/avatar/{}/avatar.png",
                            u.id
                        )
                    }),
                    web_url: format!("{base_url}/{}", u.username),
                    created_at: u.created_at.unwrap_or_else(epoch),
                    bio: u.bio.clone(),
                    location: u.location.clone(),
                    public_email: u.public_email.clone().unwrap_or_default(),
                    linkedin: u.linkedin.clone().unwrap_or_default(),
                    twitter: u.twitter.clone().unwrap_or_default(),
                    discord: u.discord.clone().unwrap_or_default(),
                    website_url: u.website_url.clone().unwrap_or_default(),
                    organization: u.organization.clone().unwrap_or_default(),
                    job_title: u.job_title.clone().unwrap_or_default(),
                    pronouns: u.pronouns.clone(),
                    bot: u.bot,
                },
            );
        }
    }
}

/// Runners and their managers.
fn add_runners(
    files: &[(Source, ScenarioFile)],
    dir: &mut Directory,
    errors: &mut Vec<ScenarioError>,
) {
    // Runners and managers.
    for (src, f) in files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        for r in &f.runners {
            if dir.runners.contains_key(&r.id) {
                err.at(
                    r.locs.at("id", r.loc),
                    &format!("{}.id", r.path),
                    format!("duplicate runner id {}", r.id),
                );
                continue;
            }
            let active = r.active.unwrap_or(!r.paused.unwrap_or(false));
            let online = r.online.unwrap_or(false);
            let runner_type = r
                .runner_type
                .clone()
                .unwrap_or_else(|| "instance_type".into());
            dir.runners.insert(
                r.id,
                Runner {
                    id: r.id,
                    description: r.description.clone().unwrap_or_default(),
                    name: r.name.clone(),
                    is_shared: runner_type == "instance_type",
                    runner_type,
                    ip_address: r.ip_address.clone(),
                    active,
                    paused: r.paused.unwrap_or(!active),
                    online,
                    status: r.status.clone().unwrap_or_else(|| {
                        if online {
                            "online".into()
                        } else {
                            "offline".into()
                        }
                    }),
                    graceful_cancel: r.graceful_cancel,
                },
            );
            for m in &r.managers {
                if dir.managers.contains_key(&m.id) {
                    err.at(
                        m.locs.at("id", m.loc),
                        &format!("{}.id", m.path),
                        format!("duplicate runner manager id {}", m.id),
                    );
                    continue;
                }
                dir.managers.insert(
                    m.id,
                    RunnerManager {
                        id: m.id,
                        runner_id: r.id,
                        system_id: m.system_id.clone().unwrap_or_else(|| {
                            format!("s_{}", &fake_sha(&format!("manager{}", m.id))[..12])
                        }),
                        version: m.version.clone().unwrap_or_else(|| "17.0.0".into()),
                        revision: m
                            .revision
                            .clone()
                            .unwrap_or_else(|| fake_sha(&format!("rev{}", m.id))[..8].to_owned()),
                        platform: m.platform.clone().unwrap_or_else(|| "linux".into()),
                        architecture: m.architecture.clone().unwrap_or_else(|| "amd64".into()),
                        created_at: m.created_at.unwrap_or_else(epoch),
                        contacted_at: m.contacted_at,
                        ip_address: m.ip_address.clone(),
                        status: m.status.clone().unwrap_or_else(|| {
                            if online {
                                "online".into()
                            } else {
                                "offline".into()
                            }
                        }),
                    },
                );
            }
        }
    }
}

/// Projects' metadata (before anything refers to them, so references resolve in any order).
fn add_projects<'a>(
    files: &'a [(Source, ScenarioFile)],
    base_url: &str,
    dir: &mut Directory,
    errors: &mut Vec<ScenarioError>,
) -> Vec<(&'a Source, &'a ProjectDef)> {
    // Projects (metadata first, so references between projects resolve in any order).
    let mut project_files: Vec<(&Source, &ProjectDef)> = Vec::new();
    for (src, f) in files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        for p in &f.projects {
            if dir.projects.contains_key(&p.id) {
                err.at(
                    p.locs.at("id", p.loc),
                    &format!("{}.id", p.path),
                    format!("duplicate project id {}", p.id),
                );
                continue;
            }
            let lower = p.path_with_namespace.to_lowercase();
            if dir.project_paths.contains_key(&lower) {
                err.at(
                    p.locs.at("path", p.loc),
                    &format!("{}.path", p.path),
                    format!("duplicate project path {:?}", p.path_with_namespace),
                );
                continue;
            }
            let (namespace, short) = p
                .path_with_namespace
                .rsplit_once('/')
                .unwrap_or(("", &p.path_with_namespace));
            let default_branch = p.default_branch.clone().unwrap_or_else(|| "main".into());
            let mut branches: BTreeMap<String, String> = p
                .branches
                .iter()
                .map(|(k, v, _)| (k.clone(), v.clone()))
                .collect();
            if branches.is_empty() {
                branches.insert(
                    default_branch.clone(),
                    fake_sha(&format!("{}:{default_branch}", p.id)),
                );
            }
            let mut members = HashMap::new();
            for (username, role, loc) in &p.members {
                match dir.usernames.get(username) {
                    Some(uid) => {
                        members.insert(
                            *uid,
                            Role::parse(role).expect("roles were validated when read"),
                        );
                    }
                    None => err.at(
                        *loc,
                        &format!("{}.members.{username}", p.path),
                        format!("unknown user {username:?} (define it under users:)"),
                    ),
                }
            }
            let commits = p
                .commits
                .iter()
                .map(|c| {
                    let title = c
                        .title
                        .clone()
                        .unwrap_or_else(|| format!("Commit {}", &c.id[..c.id.len().min(8)]));
                    (
                        c.id.clone(),
                        Commit {
                            id: c.id.clone(),
                            message: c.message.clone().unwrap_or_else(|| title.clone()),
                            title,
                            author_name: c
                                .author_name
                                .clone()
                                .unwrap_or_else(|| "Administrator".into()),
                            author_email: c
                                .author_email
                                .clone()
                                .unwrap_or_else(|| "admin@example.com".into()),
                            authored_date: c
                                .authored_date
                                .clone()
                                .or_else(|| c.created_at.clone())
                                .unwrap_or_else(|| "2024-05-01T09:55:00.000+00:00".into()),
                            committer_name: c
                                .committer_name
                                .clone()
                                .or_else(|| c.author_name.clone())
                                .unwrap_or_else(|| "Administrator".into()),
                            committer_email: c
                                .committer_email
                                .clone()
                                .or_else(|| c.author_email.clone())
                                .unwrap_or_else(|| "admin@example.com".into()),
                            committed_date: c
                                .committed_date
                                .clone()
                                .or_else(|| c.created_at.clone())
                                .unwrap_or_else(|| "2024-05-01T09:55:00.000+00:00".into()),
                            created_at: c
                                .created_at
                                .clone()
                                .unwrap_or_else(|| "2024-05-01T09:55:00.000+00:00".into()),
                            parent_ids: c.parent_ids.clone(),
                        },
                    )
                })
                .collect();
            dir.project_paths.insert(lower, p.id);
            dir.projects.insert(
                p.id,
                ProjectMeta {
                    id: p.id,
                    path_with_namespace: p.path_with_namespace.clone(),
                    name: p.name.clone().unwrap_or_else(|| short.to_owned()),
                    path: short.to_owned(),
                    namespace: namespace.to_owned(),
                    description: p.description.clone().unwrap_or_default(),
                    visibility: match p.visibility.as_deref() {
                        Some("public") => Visibility::Public,
                        Some("internal") => Visibility::Internal,
                        _ => Visibility::Private,
                    },
                    default_branch,
                    public_builds: p.public_builds.unwrap_or(true),
                    builds_access: feature_access(p.builds_access_level.as_deref()),
                    repository_access: feature_access(p.repository_access_level.as_deref()),
                    variables: p.variables.iter().map(variable).collect(),
                    statistics_refreshing: p.statistics_refreshing,
                    ci_job_token_scope_enabled: p.ci_job_token_scope_enabled.unwrap_or(false),
                    job_token_allowlist: Vec::new(),
                    // GitLab's default is off: `namespace_settings.job_token_policies_enabled`
                    // defaults to false (db/migrate/20250313142550_add_job_token_policies_
                    // enabled_column_to_namespace_settings.rb), as does the feature flag that
                    // `Project#job_token_policies_enabled?` also reads (app/models/project.rb).
                    job_token_policies_enabled: p.job_token_policies_enabled.unwrap_or(false),
                    created_at: p.created_at.unwrap_or_else(epoch),
                    group_ids: p.group_ids.clone(),
                    branches,
                    tags: p
                        .tags
                        .iter()
                        .map(|(k, v, _)| (k.clone(), v.clone()))
                        .collect(),
                    commits,
                    members,
                    agents: Vec::new(),
                    ci: p.ci.as_ref().map(ci_config),
                    web_url: format!("{base_url}/{}", p.path_with_namespace),
                },
            );
            project_files.push((src, p));
        }
    }
    project_files
}

/// Job token allowlists and agents: references between projects.
fn link_projects(
    project_files: &[(&Source, &ProjectDef)],
    dir: &mut Directory,
    errors: &mut Vec<ScenarioError>,
) {
    // References between projects.
    for (src, p) in project_files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        let mut allow = Vec::new();
        for (i, e) in p.job_token_allowlist.iter().enumerate() {
            match dir.project_paths.get(&e.project.to_lowercase()) {
                Some(id) => allow.push(AllowlistEntry {
                    project_id: *id,
                    default_permissions: e.default_permissions.unwrap_or(true),
                    policies: e.job_token_policies.clone(),
                }),
                None => err.at(
                    e.loc,
                    &format!("{}.job_token_allowlist[{i}]", p.path),
                    format!("unknown project {:?}", e.project),
                ),
            }
        }
        let mut agents = Vec::new();
        for a in &p.agents {
            if !dir.projects.contains_key(&a.config_project) {
                err.at(
                    a.locs.at("config_project", a.loc),
                    &format!("{}.config_project", a.path),
                    format!("unknown project id {}", a.config_project),
                );
            }
            agents.push(Agent {
                id: a.id,
                config_project: a.config_project,
                configuration: a.configuration.clone(),
                environments: a.environments.clone(),
            });
        }
        let meta = dir
            .projects
            .get_mut(&p.id)
            .expect("project was inserted above");
        meta.job_token_allowlist = allow;
        meta.agents = agents;
    }
}

fn register_ids(project_files: &[(&Source, &ProjectDef)], errors: &mut Vec<ScenarioError>) -> Ids {
    // Pipelines, jobs and bridges: ids are global, as in GitLab.
    let mut pipeline_ids: HashMap<u64, u64> = HashMap::new();
    let mut job_ids: HashMap<u64, u64> = HashMap::new();
    for (src, p) in project_files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        for pl in &p.pipelines {
            if pipeline_ids.insert(pl.id, p.id).is_some() {
                err.at(
                    pl.locs.at("id", pl.loc),
                    &format!("{}.id", pl.path),
                    format!("duplicate pipeline id {}", pl.id),
                );
            }
            for j in pl.jobs.iter().chain(&pl.bridges) {
                if job_ids.insert(j.id, p.id).is_some() {
                    err.at(
                        j.locs.at("id", j.loc),
                        &format!("{}.id", j.path),
                        format!(
                            "duplicate job id {} (builds and bridges share one id space)",
                            j.id
                        ),
                    );
                }
            }
        }
    }
    (pipeline_ids, job_ids)
}

fn downstream_parents(
    project_files: &[(&Source, &ProjectDef)],
    pipeline_ids: &HashMap<u64, u64>,
    errors: &mut Vec<ScenarioError>,
) -> HashMap<u64, (u64, u64)> {
    // Downstream pipelines of bridges: the child learns its parent.
    let mut parents: HashMap<u64, (u64, u64)> = HashMap::new();
    for (src, p) in project_files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        for pl in &p.pipelines {
            for b in &pl.bridges {
                if let Some((proj, dpl, loc)) = b.downstream {
                    let target_project = proj.unwrap_or(p.id);
                    match pipeline_ids.get(&dpl) {
                        Some(owner) if *owner == target_project => {
                            parents.insert(dpl, (p.id, pl.id));
                        }
                        Some(owner) => err.at(
                            loc,
                            &format!("{}.downstream", b.path),
                            format!(
                                "pipeline {dpl} belongs to project {owner}, not {target_project}"
                            ),
                        ),
                        None => err.at(
                            loc,
                            &format!("{}.downstream", b.path),
                            format!(
                                "unknown pipeline {dpl} (define it under the project's pipelines:)"
                            ),
                        ),
                    }
                }
            }
        }
    }
    parents
}

/// Each project's pipelines, jobs and generated volume.
fn build_projects(
    project_files: &[(&Source, &ProjectDef)],
    dir: &Directory,
    parents: &HashMap<u64, (u64, u64)>,
    (pipeline_ids, job_ids): (&HashMap<u64, u64>, &HashMap<u64, u64>),
    load_time: Timestamp,
    errors: &mut Vec<ScenarioError>,
) -> Built {
    let mut projects: HashMap<u64, Arc<ProjectState>> = HashMap::new();
    let mut origins: Vec<(String, String)> = Vec::new();
    let mut max_pipeline = pipeline_ids.keys().copied().max().unwrap_or(0);
    let mut max_job = job_ids.keys().copied().max().unwrap_or(0);
    for (src, p) in project_files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        let meta = &dir.projects[&p.id];
        let mut state = ProjectBuilder::default();
        let mut sorted: Vec<&PipelineDef> = p.pipelines.iter().collect();
        sorted.sort_by_key(|pl| pl.id);
        let mut iid = 0;
        for pl in sorted {
            iid += 1;
            build_pipeline(
                &mut err,
                dir,
                meta,
                src,
                pl,
                pl.iid.unwrap_or(iid),
                parents.get(&pl.id).copied(),
                &mut state,
                load_time,
            );
        }
        for g in &p.generate {
            generate(
                &mut err,
                dir,
                meta,
                g,
                &mut max_pipeline,
                &mut max_job,
                &mut iid,
                &mut state,
            );
        }
        origins.append(&mut state.origins);
        projects.insert(p.id, Arc::new(state.finish()));
    }
    (projects, origins, max_pipeline, max_job)
}

fn add_job_tokens(
    files: &[(Source, ScenarioFile)],
    job_ids: &HashMap<u64, u64>,
    projects: &HashMap<u64, Arc<ProjectState>>,
    dir: &mut Directory,
    token_seen: &mut HashSet<String>,
    errors: &mut Vec<ScenarioError>,
) {
    // Job tokens.
    for (src, f) in files {
        let mut err = Errors {
            file: &src.name,
            list: errors,
        };
        for t in &f.job_tokens {
            match job_ids.get(&t.job) {
                Some(project) => {
                    if !token_seen.insert(t.token.clone()) {
                        err.at(
                            t.locs.at("token", t.loc),
                            &format!("{}.token", t.path),
                            "this token is already used by a user or another job",
                        );
                        continue;
                    }
                    let is_bridge = projects[project].bridges.contains_key(&t.job);
                    if is_bridge {
                        err.at(
                            t.job_loc,
                            &format!("{}.job", t.path),
                            format!("job {} is a bridge; only builds have job tokens", t.job),
                        );
                        continue;
                    }
                    dir.job_tokens.insert(t.token.clone(), t.job);
                    dir.token_jobs.insert(t.job, *project);
                }
                None => err.at(
                    t.job_loc,
                    &format!("{}.job", t.path),
                    format!(
                        "token for unknown job {} (define the job under a pipeline's jobs:)",
                        t.job
                    ),
                ),
            }
        }
    }
}

#[derive(Default)]
struct ProjectBuilder {
    /// `("job 7", "file:line:col: path")` for every object, for `glmock check`'s reports.
    origins: Vec<(String, String)>,
    pipelines: BTreeMap<u64, Arc<Pipeline>>,
    builds: BTreeMap<u64, Arc<Job>>,
    bridges: BTreeMap<u64, Arc<Job>>,
}

impl ProjectBuilder {
    fn finish(self) -> ProjectState {
        ProjectState::new(self.pipelines, self.builds, self.bridges)
    }
}

fn user_ref(
    err: &mut Errors,
    dir: &Directory,
    r: &Option<(String, Loc)>,
    path: &str,
) -> Option<u64> {
    let (name, loc) = r.as_ref()?;
    match dir.usernames.get(name) {
        Some(id) => Some(*id),
        None => {
            err.at(
                *loc,
                path,
                format!("unknown user {name:?} (define it under users:)"),
            );
            None
        }
    }
}

/// The user a pipeline defaults to: the project's highest-ranked member.
fn default_user(meta: &ProjectMeta) -> Option<u64> {
    meta.members
        .iter()
        .max_by_key(|(id, role)| (**role, std::cmp::Reverse(**id)))
        .map(|(id, _)| *id)
}

#[allow(clippy::too_many_arguments)]
fn build_pipeline(
    err: &mut Errors,
    dir: &Directory,
    meta: &ProjectMeta,
    src: &Source,
    pl: &PipelineDef,
    iid: u64,
    parent: Option<(u64, u64)>,
    out: &mut ProjectBuilder,
    load_time: Timestamp,
) {
    let ref_ = pl
        .ref_
        .clone()
        .unwrap_or_else(|| meta.default_branch.clone());
    let tag = pl.tag.unwrap_or_else(|| meta.tags.contains_key(&ref_));
    let head = if tag {
        meta.tags.get(&ref_)
    } else {
        meta.branches.get(&ref_)
    };
    // A pipeline on a ref the project does not have is one of a deleted branch or tag
    // (GitLab keeps those), unless the name is a near miss of a ref it has: then it is a
    // typo, and reported.
    if pl.ref_.is_some() && head.is_none() && !ref_.starts_with("refs/") {
        let (kind, plural, names) = if tag {
            ("tag", "tags", &meta.tags)
        } else {
            ("branch", "branches", &meta.branches)
        };
        let known: Vec<&str> = names.keys().map(String::as_str).collect();
        let hint = super::decode::did_you_mean(&ref_, &known);
        if !hint.is_empty() {
            err.at(
                pl.locs.at("ref", pl.loc),
                &format!("{}.ref", pl.path),
                format!(
                    "the project has no {kind} {ref_:?}{hint} (its {plural}: {}; add it under \
                     the project's {plural}: if it is meant)",
                    known.join(", ")
                ),
            );
        }
    }
    let sha = pl
        .sha
        .clone()
        .or_else(|| head.cloned())
        .unwrap_or_else(|| fake_sha(&format!("{}:{ref_}", meta.id)));
    let user_id = user_ref(err, dir, &pl.user, &format!("{}.user", pl.path)).or_else(|| {
        if pl.user.is_none() {
            default_user(meta)
        } else {
            None
        }
    });
    let created_at = pl
        .created_at
        .unwrap_or_else(|| add(epoch(), SignedDuration::from_secs(pl.id as i64 * 60)));
    let source = pl.source.clone().unwrap_or_else(|| {
        match parent {
            Some((proj, _)) if proj == meta.id => "parent_pipeline",
            Some(_) => "pipeline",
            None => "push",
        }
        .to_owned()
    });

    let mut jobs = Vec::new();
    for (i, j) in pl.jobs.iter().chain(&pl.bridges).enumerate() {
        let is_bridge = i >= pl.jobs.len();
        if let Some(job) = build_job(
            err, dir, meta, src, pl, j, is_bridge, i, created_at, user_id, load_time,
        ) {
            jobs.push(job);
        }
    }
    let latest: Vec<(Status, bool)> = jobs
        .iter()
        .filter(|j| !j.retried)
        .map(|j| (j.status, j.allow_failure))
        .collect();
    let status = pl
        .status
        .or_else(|| status::composite(latest))
        .unwrap_or(Status::Created);
    let started_at = pl
        .started_at
        .or_else(|| jobs.iter().filter_map(|j| j.started_at).min());
    let finished_at = pl.finished_at.or_else(|| {
        if status.is_completed() {
            jobs.iter()
                .filter_map(|j| j.finished_at)
                .max()
                .or(Some(created_at))
        } else {
            None
        }
    });
    let updated_at = pl.updated_at.unwrap_or_else(|| {
        [Some(created_at), started_at, finished_at]
            .into_iter()
            .flatten()
            .chain(jobs.iter().filter_map(|j| j.finished_at))
            .max()
            .unwrap_or(created_at)
    });
    let pipeline = Pipeline {
        id: pl.id,
        overrides: pl.overrides.clone().map(Arc::new),
        iid,
        project_id: meta.id,
        sha,
        before_sha: pl.before_sha.clone().unwrap_or_else(|| "0".repeat(40)),
        ref_,
        tag,
        source,
        status,
        yaml_errors: pl.yaml_errors.clone(),
        user_id,
        name: pl.name.clone(),
        coverage: pl.coverage.clone(),
        created_at,
        updated_at,
        started_at,
        finished_at,
        committed_at: pl.committed_at,
        variables: pl.variables.iter().map(variable).collect(),
        test_report: pl.test_report.clone().map(Arc::new),
        parent,
        rev: next_revision(),
        rendered: Default::default(),
    };
    let origin = |loc: Loc, path: &str| format!("{}:{}:{}: {path}", src.name, loc.line, loc.column);
    out.origins
        .push((format!("pipeline {}", pl.id), origin(pl.loc, &pl.path)));
    for j in pl.jobs.iter().chain(&pl.bridges) {
        out.origins
            .push((format!("job {}", j.id), origin(j.loc, &j.path)));
    }
    for j in jobs {
        let j = Arc::new(j);
        if j.is_bridge() {
            out.bridges.insert(j.id, j)
        } else {
            out.builds.insert(j.id, j)
        };
    }
    out.pipelines.insert(pl.id, Arc::new(pipeline));
}

#[allow(clippy::too_many_arguments)]
fn build_job(
    err: &mut Errors,
    dir: &Directory,
    meta: &ProjectMeta,
    src: &Source,
    pl: &PipelineDef,
    j: &JobDef,
    is_bridge: bool,
    index: usize,
    pipeline_created: Timestamp,
    pipeline_user: Option<u64>,
    load_time: Timestamp,
) -> Option<Job> {
    let status = j.status.expect("status is required when reading");
    let user_id = if j.user.is_some() {
        user_ref(err, dir, &j.user, &format!("{}.user", j.path))
    } else if j.no_user {
        None
    } else {
        pipeline_user
    };
    let runner_id = j.runner.as_ref().and_then(|(id, loc)| {
        if dir.runners.contains_key(id) {
            Some(*id)
        } else {
            err.at(
                *loc,
                &format!("{}.runner", j.path),
                format!("unknown runner {id} (define it under runners:)"),
            );
            None
        }
    });
    let runner_manager_id =
        j.runner_manager
            .as_ref()
            .and_then(|(id, loc)| match dir.managers.get(id) {
                Some(m)
                    if Some(m.runner_id) == runner_id
                        || runner_id.is_none() && j.runner.is_none() =>
                {
                    Some(*id)
                }
                Some(m) => {
                    err.at(
                        *loc,
                        &format!("{}.runner_manager", j.path),
                        format!(
                            "runner manager {id} belongs to runner {}, not to this job's runner",
                            m.runner_id
                        ),
                    );
                    None
                }
                None => {
                    err.at(
                        *loc,
                        &format!("{}.runner_manager", j.path),
                        format!(
                            "unknown runner manager {id} (define it under a runner's managers:)"
                        ),
                    );
                    None
                }
            });
    let runner_id = runner_id.or_else(|| runner_manager_id.map(|m| dir.managers[&m].runner_id));
    if j.failure_reason.is_some() && status != Status::Failed {
        err.at(
            j.locs.at("failure_reason", j.loc),
            &format!("{}.failure_reason", j.path),
            format!("failure_reason is only allowed on failed jobs (this one is {status})"),
        );
    }
    let log = match &j.log {
        Some(LogDef::Inline(s)) => Some(Bytes::from(s.clone())),
        Some(LogDef::File(f, loc)) => match super::log_file::read(src.dir.as_deref(), f) {
            Ok(b) => Some(Bytes::from(b)),
            Err(message) => {
                err.at(*loc, &format!("{}.log_file", j.path), message);
                None
            }
        },
        None => None,
    };

    // Timestamps: given values win; the rest follow from the status, deterministically.
    let created_at = j.created_at.unwrap_or_else(|| {
        add(
            pipeline_created,
            SignedDuration::from_millis(100 * index as i64),
        )
    });
    let qd = j.queued_duration.unwrap_or_else(|| default_queued(j.id));
    let dur = j.duration.unwrap_or_else(|| default_duration(j.id));
    let started_needed = status.has_started()
        || (status == Status::Canceled && (j.duration.is_some() || j.started_at.is_some()));
    let mut started_at = j.started_at;
    let mut finished_at = j.finished_at;
    if started_at.is_none() && started_needed {
        started_at = match (finished_at, j.duration) {
            (Some(f), Some(d)) => Some(add(f, -secs(d))),
            _ => Some(add(
                j.queued_at
                    .unwrap_or_else(|| add(created_at, SignedDuration::from_secs(1))),
                secs(qd),
            )),
        };
    }
    let queued_at = j.queued_at.or_else(|| {
        if status.was_queued() || started_at.is_some() {
            Some(add(
                started_at.unwrap_or(add(created_at, SignedDuration::from_secs(1))),
                -secs(if started_at.is_some() { qd } else { 0.0 }),
            ))
        } else {
            None
        }
    });
    if finished_at.is_none()
        && matches!(status, Status::Success | Status::Failed | Status::Canceled)
    {
        finished_at = Some(match started_at {
            Some(s) => add(s, secs(dur)),
            None => add(created_at, SignedDuration::from_secs(5)),
        });
    }
    if let (Some(s), Some(f)) = (started_at, finished_at)
        && f < s
    {
        err.at(
            j.loc,
            &j.path,
            format!("finished_at ({f}) is before started_at ({s})"),
        );
    }
    let when = match j.when.as_deref() {
        Some(w) => When::parse(w),
        None if status == Status::Manual => When::Manual,
        None if status == Status::Scheduled => When::Delayed,
        None => When::OnSuccess,
    };
    let artifacts: Vec<Artifact> = j
        .artifacts
        .iter()
        .map(|a| Artifact {
            file_type: a.file_type.clone(),
            size: a.size,
            filename: a.filename.clone(),
            file_format: a.file_format.clone(),
        })
        .collect();
    let artifacts_expire_at = j.artifacts_expire_at.or_else(|| {
        if artifacts.is_empty() {
            None
        } else {
            finished_at.map(|f| add(f, SignedDuration::from_hours(24 * 30)))
        }
    });
    let kind = if is_bridge {
        JobKind::Bridge {
            downstream: j
                .downstream
                .map(|(proj, dpl, _)| (proj.unwrap_or(meta.id), dpl)),
        }
    } else {
        JobKind::Build
    };
    let _ = pl;
    Some(Job {
        id: j.id,
        overrides: j.overrides.clone().map(Arc::new),
        project_id: meta.id,
        pipeline_id: pl.id,
        kind,
        name: j.name.clone(),
        stage: j.stage.clone().unwrap_or_else(|| "test".into()),
        status,
        when,
        allow_failure: j.allow_failure.unwrap_or(when == When::Manual),
        failure_reason: if status == Status::Failed {
            Some(
                j.failure_reason
                    .clone()
                    .unwrap_or_else(|| "script_failure".into()),
            )
        } else {
            None
        },
        user_id,
        runner_id,
        runner_manager_id,
        tag_list: j.tag_list.clone(),
        coverage: j.coverage,
        created_at,
        queued_at,
        started_at,
        finished_at,
        erased_at: j.erased_at,
        log,
        artifacts,
        artifacts_expire_at,
        retried: j.retried,
        archived: j.archived,
        environment: j.environment.as_ref().map(|e| Environment {
            name: e.name.clone(),
            tier: e.tier.clone(),
            slug: e.slug.clone(),
        }),
        variables: j
            .variables
            .iter()
            .map(|v| (v.key.clone(), v.value.clone()))
            .collect(),
        debug_trace_enabled: j.debug_trace_enabled,
        timeline: j.timeline.clone().into(),
        polls: 0,
        step: 0,
        // Jobs already waiting for or on a runner start their timeline when the scenario
        // loads; finished ones only when retried, manual ones when played, created ones when
        // their stage starts.
        step_since: (!j.timeline.is_empty() && status.is_active()).then_some(load_time),
        rendered: Default::default(),
    })
}

#[allow(clippy::too_many_arguments)]
fn generate(
    err: &mut Errors,
    dir: &Directory,
    meta: &ProjectMeta,
    g: &GenerateDef,
    max_pipeline: &mut u64,
    max_job: &mut u64,
    iid: &mut u64,
    out: &mut ProjectBuilder,
) {
    let user_id =
        user_ref(err, dir, &g.user, &format!("{}.user", g.path)).or_else(|| default_user(meta));
    let ref_ = g
        .ref_
        .clone()
        .unwrap_or_else(|| meta.default_branch.clone());
    let statuses = if g.statuses.is_empty() {
        vec![
            Status::Success,
            Status::Success,
            Status::Failed,
            Status::Success,
            Status::Canceled,
            Status::Running,
            Status::Pending,
            Status::Manual,
            Status::Skipped,
            Status::Created,
        ]
    } else {
        g.statuses.clone()
    };
    let stages = if g.stages.is_empty() {
        vec!["build".to_owned(), "test".to_owned(), "deploy".to_owned()]
    } else {
        g.stages.clone()
    };
    let first_pipeline = g.first_pipeline_id.unwrap_or(*max_pipeline + 1);
    let first_job = g.first_job_id.unwrap_or(*max_job + 1);
    if first_pipeline <= *max_pipeline && g.first_pipeline_id.is_some() {
        err.at(
            g.locs.at("first_pipeline_id", g.loc),
            &format!("{}.first_pipeline_id", g.path),
            format!(
                "must be above every pipeline id already defined ({})",
                *max_pipeline
            ),
        );
        return;
    }
    if first_job <= *max_job && g.first_job_id.is_some() {
        err.at(
            g.locs.at("first_job_id", g.loc),
            &format!("{}.first_job_id", g.path),
            format!("must be above every job id already defined ({})", *max_job),
        );
        return;
    }
    let log = g.log.clone().map(Bytes::from);
    let mut job_id = first_job;
    let sha = meta
        .branches
        .get(&ref_)
        .or_else(|| meta.tags.get(&ref_))
        .cloned()
        .unwrap_or_else(|| fake_sha(&format!("{}:{ref_}", meta.id)));
    for n in 0..g.pipelines {
        let pid = first_pipeline + n;
        *iid += 1;
        let created_at = add(epoch(), SignedDuration::from_secs(pid as i64 * 60));
        let mut latest = Vec::with_capacity(g.jobs_per_pipeline as usize);
        for k in 0..g.jobs_per_pipeline {
            let status = statuses[((n + k) % statuses.len() as u64) as usize];
            let stage = &stages[(k * stages.len() as u64 / g.jobs_per_pipeline.max(1)) as usize];
            let started = status
                .has_started()
                .then(|| add(created_at, secs(1.0 + default_queued(job_id))));
            let queued = (status.was_queued() || started.is_some())
                .then(|| add(created_at, SignedDuration::from_secs(1)));
            let finished = matches!(status, Status::Success | Status::Failed | Status::Canceled)
                .then(|| {
                    add(
                        started.unwrap_or(created_at),
                        secs(default_duration(job_id)),
                    )
                });
            let when = if status == Status::Manual {
                When::Manual
            } else {
                When::OnSuccess
            };
            let job = Job {
                id: job_id,
                overrides: None,
                project_id: meta.id,
                pipeline_id: pid,
                kind: JobKind::Build,
                name: format!("{stage}:{k}"),
                stage: stage.clone(),
                status,
                when,
                allow_failure: when == When::Manual,
                failure_reason: (status == Status::Failed).then(|| "script_failure".to_owned()),
                user_id,
                runner_id: None,
                runner_manager_id: None,
                tag_list: Vec::new(),
                coverage: None,
                created_at,
                queued_at: queued,
                started_at: started,
                finished_at: finished,
                erased_at: None,
                log: if started.is_some() { log.clone() } else { None },
                artifacts: Vec::new(),
                artifacts_expire_at: None,
                retried: false,
                archived: false,
                environment: None,
                variables: Vec::new(),
                debug_trace_enabled: false,
                timeline: Arc::from(Vec::new()),
                polls: 0,
                step: 0,
                step_since: None,
                rendered: Default::default(),
            };
            latest.push((job.status, job.allow_failure));
            out.builds.insert(job_id, Arc::new(job));
            job_id += 1;
        }
        let status = status::composite(latest).unwrap_or(Status::Created);
        out.pipelines.insert(
            pid,
            Arc::new(Pipeline {
                id: pid,
                overrides: None,
                iid: *iid,
                project_id: meta.id,
                sha: sha.clone(),
                before_sha: "0".repeat(40),
                ref_: ref_.clone(),
                tag: meta.tags.contains_key(&ref_),
                source: "push".into(),
                status,
                yaml_errors: None,
                user_id,
                name: None,
                coverage: None,
                created_at,
                updated_at: created_at,
                started_at: None,
                finished_at: None,
                committed_at: None,
                variables: Vec::new(),
                test_report: None,
                parent: None,
                rev: next_revision(),
                rendered: Default::default(),
            }),
        );
    }
    if g.pipelines > 0 {
        *max_pipeline = (*max_pipeline).max(first_pipeline + g.pipelines - 1);
    }
    if job_id > first_job {
        *max_job = (*max_job).max(job_id - 1);
    }
}

fn ci_config(c: &CiDef) -> Arc<CiConfig> {
    let (stages, jobs) = ci_jobs(&c.stages, &c.jobs);
    Arc::new(CiConfig {
        stages,
        jobs,
        template: (!c.inputs.is_empty()).then(|| Arc::new(c.clone())),
    })
}

/// The stages (declared ones, then the jobs' others in order) and the jobs of `defs`, with
/// `parallel:` expanded.
pub fn ci_jobs(declared: &[String], defs: &[CiJobDef]) -> (Vec<String>, Vec<CiJob>) {
    let mut stages = declared.to_vec();
    for j in defs {
        if !stages.contains(&j.stage) {
            stages.push(j.stage.clone());
        }
    }
    let jobs = defs
        .iter()
        .flat_map(|j| j.instances.iter().map(move |name| (j, name)))
        .map(|(j, name)| {
            let when = j
                .when
                .as_deref()
                .map(When::parse)
                .unwrap_or(When::OnSuccess);
            CiJob {
                timeline: j.timeline.clone().into(),
                log: j.log.clone().map(Bytes::from),
                name: name.clone(),
                stage: j.stage.clone(),
                when,
                allow_failure: j.allow_failure.unwrap_or(when == When::Manual),
                allow_failure_set: j.allow_failure,
                only: j.only.clone(),
                only_variables: j.only_variables.clone(),
                rules: j.rules.clone(),
                tag_list: j.tag_list.clone(),
            }
        })
        .collect();
    (stages, jobs)
}

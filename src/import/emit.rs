//! Recorded objects → the scenario, in glmock's normal fields. Decisions that do not depend
//! on overrides (base URL, version, clock, the import user, project paths, which pipelines
//! and jobs can be placed) are made once in `Plan::new`; `Plan::yaml` writes the scenario
//! with a given set of `override:` values.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::collect::{JobRec, Obj, PipelineRec, Recorded};
use super::yaml::{self, Entry, MapBuilder, Y};
use crate::record::cassette::Cassette;
use crate::scenario::load::{
    FAILURE_REASONS, RUNNER_TYPES, SOURCES, USER_STATES, VARIABLE_TYPES, VISIBILITIES,
};
use crate::version::{self, Version};
use crate::world::status::Status;

/// The personal access token of the import user.
pub const IMPORT_TOKEN: &str = "glmock-import";

/// `override:` values: job id / pipeline id → recorded fields.
#[derive(Debug, Default, Clone)]
pub struct OverrideSet {
    pub jobs: BTreeMap<u64, Obj>,
    pub pipelines: BTreeMap<u64, Obj>,
}

pub struct Plan<'a> {
    pub rec: &'a Recorded,
    pub cassettes: Vec<(String, &'a Cassette)>,
    pub base_url: Option<String>,
    pub version: Option<Version>,
    pub now: Option<(String, Timestamp)>,
    /// The user owning the `glmock-import` token: (id, username, added by the import).
    pub import_user: (u64, String, bool),
    /// Project id → full path.
    pub projects: BTreeMap<u64, String>,
    /// Project id → its pipelines, ascending.
    pub project_pipelines: BTreeMap<u64, Vec<u64>>,
    /// Pipeline id → project id.
    pub pipeline_project: BTreeMap<u64, u64>,
    /// Pipeline id → its builds and bridges, ascending.
    pub pipeline_jobs: BTreeMap<u64, Vec<u64>>,
    /// Jobs with a newer job of the same name in their pipeline.
    pub retried: BTreeSet<u64>,
    /// What the summary should mention.
    pub notes: Vec<String>,
}

fn s<'o>(o: &'o Obj, k: &str) -> Option<&'o str> {
    o.get(k).and_then(Value::as_str)
}

fn u(o: &Obj, k: &str) -> Option<u64> {
    o.get(k).and_then(Value::as_u64)
}

fn b(o: &Obj, k: &str) -> Option<bool> {
    o.get(k).and_then(Value::as_bool)
}

fn obj<'o>(o: &'o Obj, k: &str) -> Option<&'o Obj> {
    o.get(k).and_then(Value::as_object)
}

/// A timestamp field glmock can read, as recorded.
fn ts(o: &Obj, k: &str) -> Option<(String, Timestamp)> {
    let v = s(o, k)?;
    v.parse::<Timestamp>().ok().map(|t| (v.to_owned(), t))
}

fn one_of(v: Option<&str>, allowed: &[&str]) -> Option<String> {
    v.filter(|v| allowed.contains(v)).map(str::to_owned)
}

fn nonempty(v: Option<&str>) -> Option<Y> {
    v.filter(|v| !v.is_empty()).map(Y::str)
}

/// `17.5.1-ee` → 17.5.
fn major_minor(v: &str) -> Option<Version> {
    let digits: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = digits.split('.');
    Some(Version(
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

fn most_common(items: &[String]) -> Option<String> {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for i in items {
        match counts.iter_mut().find(|(s, _)| *s == i) {
            Some((_, n)) => *n += 1,
            None => counts.push((i, 1)),
        }
    }
    // The first of the most frequent, so the result is stable.
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(s, _)| s.clone())
}

impl<'a> Plan<'a> {
    pub fn new(rec: &'a Recorded, cassettes: Vec<(String, &'a Cassette)>) -> Plan<'a> {
        let mut notes = Vec::new();

        // Clock and version: from the newest recording.
        let mut by_time: Vec<&(String, &Cassette)> = cassettes.iter().collect();
        by_time.sort_by_key(|(_, c)| c.recorded_at.parse::<Timestamp>().ok());
        let now = by_time.iter().rev().find_map(|(_, c)| {
            c.recorded_at
                .parse::<Timestamp>()
                .ok()
                .map(|t| (c.recorded_at.clone(), t))
        });
        let recorded_version = by_time
            .iter()
            .rev()
            .find_map(|(_, c)| c.gitlab_version.as_deref());
        let version = recorded_version.and_then(|v| match major_minor(v) {
            Some(m) if m < version::OLDEST => {
                notes.push(format!(
                    "GitLab {v} is older than glmock emulates; the scenario says {}",
                    version::OLDEST
                ));
                Some(version::OLDEST)
            }
            Some(m) if m > version::NEWEST => {
                notes.push(format!(
                    "GitLab {v} is newer than glmock emulates; the scenario says {}",
                    version::NEWEST
                ));
                Some(version::NEWEST)
            }
            Some(m) => Some(m),
            None => {
                notes.push(format!("GitLab version {v:?} not understood; left out"));
                None
            }
        });

        // Base URL: users' web_url minus the username, projects' minus their path; else the
        // upstream the cassette names.
        let web_urls: Vec<&str> = rec
            .projects
            .values()
            .filter_map(|p| p.web_url.as_deref())
            .collect();
        let base_url = most_common(&rec.bases)
            .or_else(|| {
                rec.upstreams
                    .iter()
                    .find(|up| web_urls.iter().all(|w| w.starts_with(up.as_str())))
                    .cloned()
            })
            .or_else(|| {
                // scheme://host of a project's web_url.
                let w = web_urls.first()?;
                let (scheme, rest) = w.split_once("://")?;
                Some(format!("{scheme}://{}", rest.split('/').next()?))
            });

        // The import user: the recorded `GET /user`, else a new one.
        let import_user = match &rec.current_user {
            Some((id, o)) => (*id, s(o, "username").unwrap_or_default().to_owned(), false),
            None => {
                let id = rec.users.keys().max().map_or(1, |m| m + 1);
                let taken: BTreeSet<&str> = rec
                    .users
                    .values()
                    .filter_map(|u| s(u, "username"))
                    .collect();
                let mut name = "glmock-import".to_owned();
                let mut n = 1;
                while taken.contains(name.as_str()) {
                    n += 1;
                    name = format!("glmock-import-{n}");
                }
                (id, name, true)
            }
        };

        // Pipelines that can be placed in a project.
        let mut pipeline_project = BTreeMap::new();
        for (id, p) in &rec.pipelines {
            let project = p.project.or_else(|| {
                p.project_path
                    .as_ref()
                    .and_then(|path| rec.aliases.get(&path.to_lowercase()).copied())
            });
            match project {
                Some(project) => {
                    pipeline_project.insert(*id, project);
                }
                None => notes.push(format!("pipeline {id}: its project is unknown; left out")),
            }
        }
        let mut pipeline_jobs: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        let mut left_out = 0;
        for (id, j) in &rec.jobs {
            match j.pipeline.filter(|p| pipeline_project.contains_key(p)) {
                Some(p) => pipeline_jobs.entry(p).or_default().push(*id),
                None => left_out += 1,
            }
        }
        if left_out > 0 {
            notes.push(format!(
                "{left_out} job(s) without a known pipeline left out"
            ));
        }
        let mut project_pipelines: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for (pl, project) in &pipeline_project {
            project_pipelines.entry(*project).or_default().push(*pl);
        }

        // Project paths.
        let mut ids: BTreeSet<u64> = rec.projects.keys().copied().collect();
        ids.extend(project_pipelines.keys());
        let mut projects = BTreeMap::new();
        let mut taken = BTreeSet::new();
        for id in ids {
            let r = rec.projects.get(&id).cloned().unwrap_or_default();
            let from_web = r.web_url.as_deref().and_then(|w| {
                let rest = match &base_url {
                    Some(base) => w.strip_prefix(base.as_str())?,
                    None => w.split_once("://")?.1.split_once('/')?.1,
                };
                Some(rest.trim_start_matches('/').to_owned())
            });
            let path = [r.path, from_web, r.request_path]
                .into_iter()
                .flatten()
                .find(|p| {
                    p.contains('/')
                        && !p.starts_with('/')
                        && !p.ends_with('/')
                        && !taken.contains(&p.to_lowercase())
                })
                .unwrap_or_else(|| format!("imported/project-{id}"));
            taken.insert(path.to_lowercase());
            projects.insert(id, path);
        }

        // A job is retried when its pipeline has a newer one of the same name and kind.
        let mut retried = BTreeSet::new();
        for jobs in pipeline_jobs.values() {
            let mut newest: HashMap<(bool, &str), u64> = HashMap::new();
            for id in jobs {
                let j = &rec.jobs[id];
                let name = s(&j.obs, "name").unwrap_or_default();
                if let Some(older) = newest.insert((j.bridge, name), *id) {
                    retried.insert(older.min(*id));
                }
            }
        }

        Plan {
            rec,
            cassettes,
            base_url,
            version,
            now,
            import_user,
            projects,
            project_pipelines,
            pipeline_project,
            pipeline_jobs,
            retried,
            notes,
        }
    }

    pub fn job_count(&self) -> usize {
        self.pipeline_jobs.values().map(Vec::len).sum()
    }

    /// The scenario's text with these overrides.
    pub fn yaml(&self, overrides: &OverrideSet) -> String {
        let shared = Shared::find(overrides);
        let mut root = Vec::new();

        let mut g = MapBuilder::new();
        if let Some(v) = self.version {
            g.put("version", Y::Str(v.to_string()));
        }
        g.put_opt("base_url", self.base_url.clone().map(Y::Str));
        if let Some((now, _)) = &self.now {
            g.put("now", Y::str(now));
        }
        g.put("clock", Y::str("frozen"));
        let mut gitlab = Entry::new("gitlab", g.build());
        gitlab.comment = Some(
            "The clock stands still at the recording time, so running jobs show the durations\n\
             they had then (POST /-/glmock/clock/advance?seconds=N moves it)."
                .into(),
        );
        root.push(gitlab);

        if !shared.entries.is_empty() {
            let mut d = Entry::new("defaults", Y::Map(shared.entries.clone()));
            d.comment =
                Some("Recorded values that several `override:` entries below share.".into());
            root.push(d);
        }

        let mut users = Entry::new("users", Y::Seq(self.users()));
        users.comment = Some(format!(
            "`{}` owns the token {IMPORT_TOKEN} and is an administrator here.",
            self.import_user.1
        ));
        root.push(users);
        let runners = self.runners();
        if !runners.is_empty() {
            root.push(Entry::new("runners", Y::Seq(runners)));
        }
        root.push(Entry::new(
            "projects",
            Y::Seq(
                self.projects
                    .keys()
                    .map(|id| self.project(*id, overrides, &shared))
                    .collect(),
            ),
        ));
        yaml::document(&self.header(), &root)
    }

    fn header(&self) -> String {
        let mut h = String::from(
            "glmock scenario imported by `glmock import` from recorded GitLab answers:\n",
        );
        for (name, c) in &self.cassettes {
            h.push_str(&format!(
                "  {name}: {}, recorded {}, GitLab {}, {} mode, {} exchange(s)\n",
                c.upstream,
                c.recorded_at,
                c.gitlab_version.as_deref().unwrap_or("(version unknown)"),
                c.mode,
                c.exchanges.len()
            ));
        }
        let (id, name, added) = &self.import_user;
        h.push_str(&format!(
            "\nAuthenticate with the personal access token `{IMPORT_TOKEN}`\n\
             (PRIVATE-TOKEN: {IMPORT_TOKEN}). It belongs to user `{name}` (id {id}, {}),\n\
             made an administrator so that it reads every imported project.\n",
            if *added {
                "added by the import"
            } else {
                "the recorded GET /user"
            }
        ));
        h.push_str(
            "\nEvery value below was recorded. Where glmock would derive a different answer\n\
             from the normal fields, `override:` on the job or pipeline holds the recorded one.\n",
        );
        h
    }

    fn users(&self) -> Vec<Y> {
        let mut out = Vec::new();
        let (import_id, import_name, added) = &self.import_user;
        let mut ids: BTreeSet<u64> = self.rec.users.keys().copied().collect();
        ids.insert(*import_id);
        // Usernames are unique in a scenario; a second user with a name already taken (a
        // rename between answers, or pseudonyms that collide) gets its id appended.
        let mut seen = BTreeSet::new();
        for id in ids {
            let mut m = MapBuilder::new();
            m.put("id", Y::num(id));
            let empty = Obj::new();
            let o = self.rec.users.get(&id).unwrap_or(&empty);
            if id == *import_id && *added {
                m.put("username", Y::str(import_name));
                m.put("name", Y::str("glmock import"));
            } else {
                let mut name = s(o, "username").unwrap_or_default().to_owned();
                if seen.contains(&name) {
                    name = format!("{name}-{id}");
                }
                seen.insert(name.clone());
                m.put("username", Y::Str(name));
                m.put_opt("name", s(o, "name").map(Y::str));
                m.put_opt("state", one_of(s(o, "state"), USER_STATES).map(Y::Str));
            }
            if id == *import_id {
                m.put("admin", Y::Bool(true));
                if let Some((_, cur)) = &self.rec.current_user {
                    m.put_opt("email", nonempty(s(cur, "email")));
                }
            }
            m.put_opt("avatar_url", s(o, "avatar_url").map(Y::str));
            m.put_opt("created_at", ts(o, "created_at").map(|(v, _)| Y::Str(v)));
            for k in [
                "bio",
                "location",
                "public_email",
                "linkedin",
                "twitter",
                "discord",
                "website_url",
                "organization",
                "job_title",
            ] {
                m.put_opt(k, nonempty(s(o, k)));
            }
            m.put_opt("pronouns", s(o, "pronouns").map(Y::str));
            if b(o, "bot") == Some(true) {
                m.put("bot", Y::Bool(true));
            }
            if id == *import_id {
                m.put("tokens", Y::Seq(vec![Y::str(IMPORT_TOKEN)]));
            }
            out.push(m.build());
        }
        out
    }

    fn runners(&self) -> Vec<Y> {
        let mut out = Vec::new();
        for (id, o) in &self.rec.runners {
            let mut m = MapBuilder::new();
            m.put("id", Y::num(id));
            m.put_opt("description", nonempty(s(o, "description")));
            m.put_opt("name", s(o, "name").map(Y::str));
            m.put_opt(
                "runner_type",
                one_of(s(o, "runner_type"), RUNNER_TYPES).map(Y::Str),
            );
            m.put_opt("ip_address", s(o, "ip_address").map(Y::str));
            for k in ["active", "paused", "online"] {
                m.put_opt(k, b(o, k).map(Y::Bool));
            }
            let statuses = ["online", "offline", "stale", "never_contacted"];
            m.put_opt("status", one_of(s(o, "status"), &statuses).map(Y::Str));
            let managers: Vec<Y> = self
                .rec
                .managers
                .iter()
                .filter(|(_, (runner, _))| runner == id)
                .map(|(mid, (_, mo))| {
                    let mut mm = MapBuilder::new();
                    mm.put("id", Y::num(mid));
                    for k in [
                        "system_id",
                        "version",
                        "revision",
                        "platform",
                        "architecture",
                    ] {
                        mm.put_opt(k, s(mo, k).map(Y::str));
                    }
                    for k in ["created_at", "contacted_at"] {
                        mm.put_opt(k, ts(mo, k).map(|(v, _)| Y::Str(v)));
                    }
                    mm.put_opt("ip_address", s(mo, "ip_address").map(Y::str));
                    mm.put_opt("status", one_of(s(mo, "status"), &statuses).map(Y::Str));
                    mm.build()
                })
                .collect();
            if !managers.is_empty() {
                m.put("managers", Y::Seq(managers));
            }
            out.push(m.build());
        }
        out
    }

    fn project(&self, id: u64, overrides: &OverrideSet, shared: &Shared) -> Y {
        let empty = Default::default();
        let r = self.rec.projects.get(&id).unwrap_or(&empty);
        let e = r.entity.clone().unwrap_or_default();
        let path = &self.projects[&id];
        let mut m = MapBuilder::new();
        m.put("id", Y::num(id));
        m.put("path", Y::str(path));
        let short = path.rsplit('/').next().unwrap_or(path);
        m.put_opt("name", s(&e, "name").filter(|n| *n != short).map(Y::str));
        m.put_opt("description", nonempty(s(&e, "description")));
        m.put_opt(
            "visibility",
            one_of(s(&e, "visibility"), VISIBILITIES).map(Y::Str),
        );
        m.put_opt("default_branch", s(&e, "default_branch").map(Y::str));
        if b(&e, "public_jobs") == Some(false) {
            m.put("public_builds", Y::Bool(false));
        }
        if b(&e, "ci_job_token_scope_enabled")
            .or(r.job_token_scope)
            .unwrap_or(false)
        {
            m.put("ci_job_token_scope_enabled", Y::Bool(true));
        }
        m.put_opt("created_at", ts(&e, "created_at").map(|(v, _)| Y::Str(v)));
        if let Some(ns) = obj(&e, "namespace")
            && s(ns, "kind") == Some("group")
            && let Some(gid) = u(ns, "id")
        {
            m.put("group_ids", Y::Seq(vec![Y::num(gid)]));
        }

        // Heads: the newest pipeline of each ref.
        let pipelines = self.project_pipelines.get(&id).cloned().unwrap_or_default();
        let mut branches = BTreeMap::new();
        let mut tags = BTreeMap::new();
        for pl in &pipelines {
            let f = &self.rec.pipelines[pl].fields;
            if let (Some(r), Some(sha)) = (s(f, "ref"), s(f, "sha")) {
                if b(f, "tag") == Some(true) {
                    tags.insert(r.to_owned(), sha.to_owned());
                } else if !r.starts_with("refs/") {
                    branches.insert(r.to_owned(), sha.to_owned());
                }
            }
        }
        let heads = |h: &BTreeMap<String, String>| {
            Y::Map(h.iter().map(|(k, v)| Entry::new(k, Y::str(v))).collect())
        };
        if !branches.is_empty() {
            m.put("branches", heads(&branches));
            m.comment("Heads: the SHA of the newest recorded pipeline of each ref.");
        }
        if !tags.is_empty() {
            m.put("tags", heads(&tags));
        }
        m.put(
            "members",
            Y::Map(vec![Entry::new(&self.import_user.1, Y::str("owner"))]),
        );
        if let Some(commits) = self.rec.commits.get(&id)
            && !commits.is_empty()
        {
            m.put("commits", Y::Seq(commits.values().map(commit).collect()));
        }
        if !pipelines.is_empty() {
            m.put(
                "pipelines",
                Y::Seq(
                    pipelines
                        .iter()
                        .map(|pl| self.pipeline(*pl, &tags, overrides, shared))
                        .collect(),
                ),
            );
        }
        m.build()
    }

    /// The user a pipeline is shown with: its recorded user, else its first job's.
    fn pipeline_user(&self, id: u64) -> Option<String> {
        let f = &self.rec.pipelines[&id].fields;
        if let Some(u) = f.get("user") {
            return self.username(u);
        }
        self.pipeline_jobs
            .get(&id)?
            .iter()
            .find_map(|j| self.username(self.rec.jobs[j].obs.get("user")?))
    }

    /// The username of a recorded user object that became a scenario user.
    fn username(&self, u: &Value) -> Option<String> {
        let id = u.get("id")?.as_u64()?;
        let name = u.get("username")?.as_str()?;
        self.rec.users.contains_key(&id).then(|| name.to_owned())
    }

    fn pipeline(
        &self,
        id: u64,
        tags: &BTreeMap<String, String>,
        overrides: &OverrideSet,
        shared: &Shared,
    ) -> Y {
        let p: &PipelineRec = &self.rec.pipelines[&id];
        let f = &p.fields;
        let mut m = MapBuilder::new();
        m.put("id", Y::num(id));
        m.put_opt("iid", u(f, "iid").filter(|i| *i > 0).map(Y::num));
        m.put_opt("ref", s(f, "ref").map(Y::str));
        m.put_opt("sha", s(f, "sha").map(Y::str));
        m.put_opt(
            "before_sha",
            s(f, "before_sha")
                .filter(|b| *b != "0".repeat(40))
                .map(Y::str),
        );
        let tag = b(f, "tag");
        let on_tag_name = s(f, "ref").is_some_and(|r| tags.contains_key(r));
        if tag == Some(true) && !on_tag_name || tag == Some(false) && on_tag_name {
            m.put("tag", Y::Bool(tag == Some(true)));
        }
        m.put_opt("source", one_of(s(f, "source"), SOURCES).map(Y::Str));
        m.put_opt(
            "status",
            s(f, "status")
                .and_then(Status::parse)
                .map(|st| Y::str(st.as_str())),
        );
        let user = self.pipeline_user(id);
        m.put_opt("user", user.clone().map(Y::Str));
        m.put_opt("name", s(f, "name").map(Y::str));
        m.put_opt("yaml_errors", s(f, "yaml_errors").map(Y::str));
        let coverage = match f.get("coverage") {
            Some(Value::String(c)) => c.parse::<f64>().ok(),
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        };
        m.put_opt("coverage", coverage.map(|c| Y::Num(format!("{c:?}"))));
        for k in [
            "created_at",
            "updated_at",
            "started_at",
            "finished_at",
            "committed_at",
        ] {
            m.put_opt(k, ts(f, k).map(|(v, _)| Y::Str(v)));
        }
        if let Some(vars) = &p.variables
            && !vars.is_empty()
        {
            m.put(
                "variables",
                Y::Seq(vars.iter().filter_map(variable).collect()),
            );
        }
        if let Some(report) = &p.test_report {
            m.put_opt(
                "test_report",
                test_report(report, p.test_report_summary.as_ref()),
            );
        }
        if let Some(o) = overrides.pipelines.get(&id) {
            m.put("override", shared.value(o));
        }
        let pipeline_user = user.unwrap_or_else(|| self.import_user.1.clone());
        let jobs = self.pipeline_jobs.get(&id).cloned().unwrap_or_default();
        let (bridges, builds): (Vec<u64>, Vec<u64>) =
            jobs.into_iter().partition(|j| self.rec.jobs[j].bridge);
        for (key, list) in [("jobs", builds), ("bridges", bridges)] {
            if !list.is_empty() {
                m.put(
                    key,
                    Y::Seq(
                        list.iter()
                            .map(|j| self.job(*j, &pipeline_user, overrides, shared))
                            .collect(),
                    ),
                );
            }
        }
        m.build()
    }

    fn job(&self, id: u64, pipeline_user: &str, overrides: &OverrideSet, shared: &Shared) -> Y {
        let j: &JobRec = &self.rec.jobs[&id];
        let o = &j.obs;
        let mut m = MapBuilder::new();
        m.put("id", Y::num(id));
        m.put(
            "name",
            Y::str(s(o, "name").map_or_else(|| format!("job-{id}"), str::to_owned)),
        );
        m.put_opt("stage", s(o, "stage").map(Y::str));
        let status = s(o, "status")
            .and_then(Status::parse)
            .unwrap_or(Status::Created);
        m.put("status", Y::str(status.as_str()));
        if let Some(af) = b(o, "allow_failure")
            && af != (status == Status::Manual)
        {
            m.put("allow_failure", Y::Bool(af));
        }
        if status == Status::Failed {
            m.put_opt(
                "failure_reason",
                one_of(s(o, "failure_reason"), FAILURE_REASONS).map(Y::Str),
            );
        }
        if let Some(user) = o.get("user").and_then(|u| self.username(u))
            && user != pipeline_user
        {
            m.put("user", Y::str(user));
        }
        if !j.bridge {
            let runner = o.get("runner").and_then(|r| r.get("id")?.as_u64());
            m.put_opt("runner", runner.map(Y::num));
            let manager = o
                .get("runner_manager")
                .and_then(|r| r.get("id")?.as_u64())
                .filter(|mid| {
                    self.rec.managers.get(mid).map(|(r, _)| *r) == runner && runner.is_some()
                });
            m.put_opt("runner_manager", manager.map(Y::num));
            if let Some(tags) = o.get("tag_list").and_then(Value::as_array) {
                let tags: Vec<Y> = tags.iter().filter_map(Value::as_str).map(Y::str).collect();
                if !tags.is_empty() {
                    m.put("tag_list", Y::Seq(tags));
                }
            }
        }
        m.put_opt(
            "coverage",
            o.get("coverage")
                .and_then(Value::as_f64)
                .map(|c| Y::Num(format!("{c:?}"))),
        );

        // Timestamps as recorded; queued_at from queued_duration (glmock stores the time,
        // GitLab shows the wait).
        let created = ts(o, "created_at");
        let mut started = ts(o, "started_at");
        let mut finished = ts(o, "finished_at");
        if started.is_none() && status.has_started() {
            // glmock gives a started job a start time; keep the derived one consistent (the
            // recorded null goes back in through override).
            started = finished.clone().or_else(|| created.clone());
        }
        if let (Some((_, st)), Some((_, fi))) = (&started, &finished)
            && fi < st
        {
            finished = None;
        }
        let end = started
            .as_ref()
            .or(finished.as_ref())
            .map(|(_, t)| *t)
            .or(self.now.as_ref().map(|(_, t)| *t));
        let queued_at = o
            .get("queued_duration")
            .and_then(Value::as_f64)
            .zip(end)
            .and_then(|(q, end)| {
                let ms = (q * 1000.0).round() as i64;
                end.checked_sub(SignedDuration::from_millis(ms)).ok()
            });
        m.put_opt("created_at", created.map(|(v, _)| Y::Str(v)));
        m.put_opt("queued_at", queued_at.map(|t| Y::Str(format!("{t:.3}"))));
        m.put_opt("started_at", started.map(|(v, _)| Y::Str(v)));
        m.put_opt("finished_at", finished.map(|(v, _)| Y::Str(v)));
        if !j.bridge {
            m.put_opt("erased_at", ts(o, "erased_at").map(|(v, _)| Y::Str(v)));
            if let Some(log) = self.rec.traces.get(&id).filter(|l| !l.is_empty()) {
                m.put("log", Y::str(log));
            }
            if let Some(list) = o.get("artifacts").and_then(Value::as_array) {
                let items: Vec<Y> = list.iter().filter_map(artifact).collect();
                if !items.is_empty() {
                    m.put("artifacts", Y::Seq(items));
                }
            }
            m.put_opt(
                "artifacts_expire_at",
                ts(o, "artifacts_expire_at").map(|(v, _)| Y::Str(v)),
            );
        }
        if self.retried.contains(&id) {
            m.put("retried", Y::Bool(true));
        }
        if b(o, "archived") == Some(true) {
            m.put("archived", Y::Bool(true));
        }
        if j.bridge
            && let Some(d) = o
                .get("downstream_pipeline")
                .and_then(|d| d.get("id")?.as_u64())
            && let Some(dp) = self.pipeline_project.get(&d)
        {
            let own = j.pipeline.and_then(|p| self.pipeline_project.get(&p));
            m.put(
                "downstream",
                if own == Some(dp) {
                    Y::num(d)
                } else {
                    Y::Map(vec![
                        Entry::new("project", Y::num(dp)),
                        Entry::new("pipeline", Y::num(d)),
                    ])
                },
            );
        }
        if let Some(ov) = overrides.jobs.get(&id) {
            m.put("override", shared.value(ov));
        }
        m.build()
    }
}

fn commit(c: &Obj) -> Y {
    let mut m = MapBuilder::new();
    m.put("id", Y::str(s(c, "id").unwrap_or_default()));
    let title = s(c, "title");
    m.put_opt("title", title.map(Y::str));
    m.put_opt(
        "message",
        s(c, "message")
            .filter(|msg| Some(*msg) != title)
            .map(Y::str),
    );
    for k in [
        "author_name",
        "author_email",
        "authored_date",
        "committer_name",
        "committer_email",
        "committed_date",
        "created_at",
    ] {
        m.put_opt(k, s(c, k).map(Y::str));
    }
    if let Some(parents) = c.get("parent_ids").and_then(Value::as_array) {
        let ids: Vec<Y> = parents
            .iter()
            .filter_map(Value::as_str)
            .map(Y::str)
            .collect();
        if !ids.is_empty() {
            m.put("parent_ids", Y::Seq(ids));
        }
    }
    m.build()
}

fn variable(v: &Value) -> Option<Y> {
    let o = v.as_object()?;
    let mut m = MapBuilder::new();
    m.put("key", Y::str(s(o, "key")?));
    let value = match o.get("value") {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    m.put("value", Y::Str(value));
    if let Some(t) = one_of(s(o, "variable_type"), VARIABLE_TYPES).filter(|t| t != "env_var") {
        m.put("variable_type", Y::Str(t));
    }
    if b(o, "raw") == Some(true) {
        m.put("raw", Y::Bool(true));
    }
    Some(m.build())
}

fn artifact(v: &Value) -> Option<Y> {
    let o = v.as_object()?;
    let mut m = MapBuilder::new();
    m.put("file_type", Y::str(s(o, "file_type")?));
    m.put("size", Y::num(u(o, "size")?));
    m.put("filename", Y::str(s(o, "filename")?));
    m.put_opt("file_format", s(o, "file_format").map(Y::str));
    Some(m.build())
}

/// The recorded full report, without the counts glmock fills in from the cases, with the
/// summary's job ids per suite.
fn test_report(report: &Value, summary: Option<&Value>) -> Option<Y> {
    let suites = report
        .get("test_suites")?
        .as_array()
        .filter(|s| !s.is_empty())?;
    let summary_ids = |name: &str| -> Option<Value> {
        summary?
            .get("test_suites")?
            .as_array()?
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(name))?
            .get("build_ids")
            .filter(|ids| ids.as_array().is_some_and(|a| !a.is_empty()))
            .cloned()
    };
    let mut out = Vec::new();
    for suite in suites {
        let o = suite.as_object()?;
        let mut m = MapBuilder::new();
        let name = s(o, "name").unwrap_or_default();
        m.put("name", Y::str(name));
        m.put_opt("total_time", o.get("total_time").map(Y::json));
        if let Some(e) = o.get("suite_error").filter(|e| !e.is_null()) {
            m.put("suite_error", Y::json(e));
        }
        m.put_opt("build_ids", summary_ids(name).as_ref().map(Y::json));
        // Nulls are what glmock shows for a case field left out.
        let cases: Vec<Value> = o
            .get("test_cases")
            .and_then(Value::as_array)
            .map(|cases| {
                cases
                    .iter()
                    .map(|c| match c {
                        Value::Object(m) => Value::Object(
                            m.iter()
                                .filter(|(_, v)| !v.is_null())
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        ),
                        other => other.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        m.put("test_cases", Y::json(&Value::Array(cases)));
        out.push(m.build());
    }
    Some(Y::Map(vec![Entry::new("test_suites", Y::Seq(out))]))
}

/// Override values (objects and lists) used more than once: written once under
/// `defaults:` with an anchor, then as aliases.
pub struct Shared {
    names: HashMap<String, String>,
    entries: Vec<Entry>,
}

impl Shared {
    fn find(o: &OverrideSet) -> Shared {
        let mut counts: Vec<(String, String, &Value, usize)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for map in o.pipelines.values().chain(o.jobs.values()) {
            for (k, v) in map {
                if !(v.is_object() || v.is_array()) {
                    continue;
                }
                let text = v.to_string();
                if text.len() < 60 {
                    continue;
                }
                match index.get(&text) {
                    Some(i) => counts[*i].3 += 1,
                    None => {
                        index.insert(text.clone(), counts.len());
                        counts.push((text, k.clone(), v, 1));
                    }
                }
            }
        }
        let mut names = HashMap::new();
        let mut entries = Vec::new();
        let mut per_key: HashMap<String, usize> = HashMap::new();
        for (text, key, value, n) in counts {
            if n < 2 {
                continue;
            }
            let base: String = key
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let k = per_key.entry(base.clone()).or_default();
            *k += 1;
            let name = format!("{base}_{k}");
            let mut e = Entry::new(&name, Y::json(value));
            e.anchor = Some(name.clone());
            entries.push(e);
            names.insert(text, name);
        }
        Shared { names, entries }
    }

    fn value(&self, o: &Obj) -> Y {
        Y::Map(
            o.iter()
                .map(|(k, v)| {
                    let y = match self.names.get(&v.to_string()) {
                        Some(name) if v.is_object() || v.is_array() => Y::Alias(name.clone()),
                        _ => Y::json(v),
                    };
                    Entry::new(k, y)
                })
                .collect(),
        )
    }
}

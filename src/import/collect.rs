//! Reads cassettes' GET answers into what they say about each object: users, runners,
//! projects, commits, pipelines and jobs, keyed by id. Later answers win field by field
//! (a recording shows the newest state last).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::record::cassette::{Body, Cassette, Exchange};

pub type Obj = Map<String, Value>;

#[derive(Debug, Default, Clone)]
pub struct ProjectRec {
    /// `GET /projects/:id` as recorded.
    pub entity: Option<Obj>,
    /// Full path, from the entity.
    pub path: Option<String>,
    /// `{base}/{full path}`, from web_urls of its pipelines and jobs.
    pub web_url: Option<String>,
    /// Full path as a request named it (`projects/group%2Fproject/...`).
    pub request_path: Option<String>,
    /// A job's `project.ci_job_token_scope_enabled`.
    pub job_token_scope: Option<bool>,
}

#[derive(Debug, Default, Clone)]
pub struct PipelineRec {
    pub project: Option<u64>,
    /// A project named by path in a request, when the project id is not known.
    pub project_path: Option<String>,
    /// Every field any answer showed (later answers win).
    pub fields: Obj,
    /// The last `GET …/pipelines/:id` (or `latest`) answer.
    pub single: Option<Obj>,
    /// The last pipelines-list item.
    pub item: Option<Obj>,
    pub variables: Option<Vec<Value>>,
    pub test_report: Option<Value>,
    pub test_report_summary: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct JobRec {
    pub pipeline: Option<u64>,
    pub bridge: bool,
    /// The last answer showing the job.
    pub obs: Obj,
}

#[derive(Debug, Default)]
pub struct Recorded {
    pub users: BTreeMap<u64, Obj>,
    /// The user of the last `GET /user`, with that answer.
    pub current_user: Option<(u64, Obj)>,
    pub runners: BTreeMap<u64, Obj>,
    /// Manager id → (runner id, fields).
    pub managers: BTreeMap<u64, (u64, Obj)>,
    pub projects: BTreeMap<u64, ProjectRec>,
    pub pipelines: BTreeMap<u64, PipelineRec>,
    pub jobs: BTreeMap<u64, JobRec>,
    /// Job id → log.
    pub traces: BTreeMap<u64, String>,
    /// Project id → commit SHA → commit.
    pub commits: BTreeMap<u64, BTreeMap<String, Obj>>,
    /// Request paths naming projects (lower case) → project id, learnt from the answers.
    pub aliases: BTreeMap<String, u64>,
    /// Base URLs seen: `web_url` of a user minus `/username`, of a project minus its path.
    pub bases: Vec<String>,
    /// Why exchanges were left out → how many.
    pub skipped: BTreeMap<String, usize>,
    pub used: usize,
    pub upstreams: BTreeSet<String>,
}

/// How a request named a project.
#[derive(Debug, Clone, PartialEq)]
pub enum ProjectRef {
    Id(u64),
    Path(String),
}

fn id_of(v: &Value) -> Option<u64> {
    v.get("id")?.as_u64()
}

impl Recorded {
    pub fn read(cassettes: &[&Cassette]) -> Recorded {
        let mut r = Recorded::default();
        for c in cassettes {
            r.upstreams
                .insert(c.upstream.trim_end_matches('/').to_owned());
            for x in &c.exchanges {
                if let Err(why) = r.exchange(x) {
                    *r.skipped.entry(why.to_owned()).or_default() += 1;
                } else {
                    r.used += 1;
                }
            }
        }
        r
    }

    /// The project a request named, as an id when it can be told.
    pub fn resolve(&self, p: &ProjectRef) -> Option<u64> {
        match p {
            ProjectRef::Id(id) => Some(*id),
            ProjectRef::Path(path) => self.aliases.get(&path.to_lowercase()).copied(),
        }
    }

    fn exchange(&mut self, x: &Exchange) -> Result<(), &'static str> {
        if !x.request.method.eq_ignore_ascii_case("GET") {
            return Err("not a GET request");
        }
        if !(200..300).contains(&x.response.status) {
            return Err("not a 2xx answer");
        }
        let Some(at) = x.request.path.find("/api/v4/") else {
            return Err("not under /api/v4");
        };
        let segments: Vec<String> = x.request.path[at + "/api/v4/".len()..]
            .trim_end_matches('/')
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        let body = match &x.response.body {
            Some(Body::Json(v)) => Some(v),
            _ => None,
        };
        let text = || match &x.response.body {
            Some(Body::Text(t)) => t.clone(),
            Some(Body::Json(Value::String(s))) => s.clone(),
            Some(Body::Json(v)) => v.to_string(),
            None => String::new(),
        };
        let project = |s: &str| match s.parse::<u64>() {
            Ok(id) => ProjectRef::Id(id),
            Err(_) => ProjectRef::Path(s.to_owned()),
        };
        let json = || body.ok_or("answer is not JSON");
        match seg.as_slice() {
            ["user"] => {
                let v = json()?;
                let id = self.user(v).ok_or("user without id")?;
                self.current_user = Some((id, v.as_object().cloned().unwrap_or_default()));
            }
            ["job"] => {
                self.job(json()?, None, false).ok_or("job without id")?;
            }
            ["projects", p] => {
                let v = json()?;
                let obj = v.as_object().ok_or("project is not an object")?;
                let id = id_of(v).ok_or("project without id")?;
                self.learn_alias(&project(p), id);
                let path = obj
                    .get("path_with_namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let (Some(path), Some(web)) = (&path, obj.get("web_url").and_then(Value::as_str))
                    && let Some(base) = web.strip_suffix(&format!("/{path}"))
                {
                    self.bases.push(base.to_owned());
                }
                if let Some(path) = &path {
                    self.aliases.insert(path.to_lowercase(), id);
                }
                let rec = self.projects.entry(id).or_default();
                rec.entity = Some(obj.clone());
                if path.is_some() {
                    rec.path = path;
                }
            }
            ["projects", p, "jobs"] => {
                let p = project(p);
                for j in json()?.as_array().ok_or("job list is not a list")? {
                    if let Some((_, Some(pid))) = self.job(j, self.resolve(&p), false) {
                        self.learn_alias(&p, pid);
                    }
                }
            }
            ["projects", p, "jobs", job] => {
                let p = project(p);
                job.parse::<u64>().map_err(|_| "job id is not a number")?;
                if let Some((_, Some(pid))) = self.job(json()?, self.resolve(&p), false) {
                    self.learn_alias(&p, pid);
                }
            }
            ["projects", _, "jobs", job, "trace"] => {
                let job = job.parse::<u64>().map_err(|_| "job id is not a number")?;
                self.traces.insert(job, text());
            }
            ["projects", p, "pipelines"] => {
                let p = project(p);
                for item in json()?.as_array().ok_or("pipeline list is not a list")? {
                    if let Some(pid) = self.pipeline(item, Some(&p), Kind::Item) {
                        self.learn_alias(&p, pid);
                    }
                }
            }
            ["projects", p, "pipelines", id] => {
                let p = project(p);
                if *id != "latest" {
                    id.parse::<u64>()
                        .map_err(|_| "pipeline id is not a number")?;
                }
                let pid = self
                    .pipeline(json()?, Some(&p), Kind::Single)
                    .ok_or("pipeline without id")?;
                self.learn_alias(&p, pid);
            }
            ["projects", p, "pipelines", id, what] => {
                let p = project(p);
                let id = id
                    .parse::<u64>()
                    .map_err(|_| "pipeline id is not a number")?;
                let v = json()?;
                match *what {
                    "jobs" | "bridges" => {
                        for j in v.as_array().ok_or("job list is not a list")? {
                            if let Some((_, Some(pid))) =
                                self.job(j, self.resolve(&p), *what == "bridges")
                            {
                                self.learn_alias(&p, pid);
                            }
                        }
                    }
                    "variables" => {
                        let list = v.as_array().ok_or("variables are not a list")?;
                        self.pipeline_rec(id, &p).variables = Some(list.clone());
                    }
                    "test_report" => self.pipeline_rec(id, &p).test_report = Some(v.clone()),
                    "test_report_summary" => {
                        self.pipeline_rec(id, &p).test_report_summary = Some(v.clone())
                    }
                    _ => return Err("endpoint glmock does not import"),
                }
            }
            _ => return Err("endpoint glmock does not import"),
        }
        Ok(())
    }

    fn learn_alias(&mut self, p: &ProjectRef, id: u64) {
        if let ProjectRef::Path(path) = p {
            self.aliases.insert(path.to_lowercase(), id);
            let rec = self.projects.entry(id).or_default();
            rec.request_path.get_or_insert_with(|| path.clone());
        }
    }

    fn pipeline_rec(&mut self, id: u64, p: &ProjectRef) -> &mut PipelineRec {
        let project = self.resolve(p);
        let rec = self.pipelines.entry(id).or_default();
        rec.fields.insert("id".into(), id.into());
        if rec.project.is_none() {
            rec.project = project;
            if let ProjectRef::Path(path) = p {
                rec.project_path = Some(path.clone());
            }
        }
        rec
    }

    /// A user object (any shape); returns its id.
    fn user(&mut self, v: &Value) -> Option<u64> {
        let obj = v.as_object()?;
        let id = id_of(v)?;
        obj.get("username").and_then(Value::as_str)?;
        if let (Some(name), Some(web)) = (
            obj.get("username").and_then(Value::as_str),
            obj.get("web_url").and_then(Value::as_str),
        ) && let Some(base) = web.strip_suffix(&format!("/{name}"))
        {
            self.bases.push(base.to_owned());
        }
        let rec = self.users.entry(id).or_default();
        for (k, v) in obj {
            rec.insert(k.clone(), v.clone());
        }
        Some(id)
    }

    /// A pipeline object (PipelineBasic, list item or full); returns its project id.
    fn pipeline(&mut self, v: &Value, p: Option<&ProjectRef>, kind: Kind) -> Option<u64> {
        let obj = v.as_object()?;
        let id = id_of(v)?;
        let project = obj
            .get("project_id")
            .and_then(Value::as_u64)
            .or_else(|| p.and_then(|p| self.resolve(p)));
        if let Some(u) = obj.get("user").filter(|u| u.is_object()) {
            self.user(u);
        }
        if let (Some(project), Some(web)) = (project, obj.get("web_url").and_then(Value::as_str))
            && let Some(url) = project_url(web, "pipelines", id)
        {
            self.projects.entry(project).or_default().web_url = Some(url);
        }
        let rec = self.pipelines.entry(id).or_default();
        if project.is_some() {
            rec.project = project;
        } else if let Some(ProjectRef::Path(path)) = p {
            rec.project_path.get_or_insert_with(|| path.clone());
        }
        for (k, v) in obj {
            rec.fields.insert(k.clone(), v.clone());
        }
        match kind {
            Kind::Single => rec.single = Some(obj.clone()),
            Kind::Item => rec.item = Some(obj.clone()),
            Kind::Basic => {}
        }
        project
    }

    /// A job or bridge; returns (its id, its project id).
    fn job(&mut self, v: &Value, project: Option<u64>, bridge: bool) -> Option<(u64, Option<u64>)> {
        let obj = v.as_object()?;
        let id = id_of(v)?;
        let pipeline = obj.get("pipeline").filter(|p| p.is_object());
        let hint = project.map(ProjectRef::Id);
        let project = match pipeline {
            Some(p) => self.pipeline(p, hint.as_ref(), Kind::Basic),
            None => project,
        };
        let pipeline_id = pipeline.and_then(id_of);
        if let Some(u) = obj.get("user").filter(|u| u.is_object()) {
            self.user(u);
        }
        let runner = obj.get("runner").filter(|r| r.is_object()).and_then(|r| {
            let rid = id_of(r)?;
            let rec = self.runners.entry(rid).or_default();
            for (k, v) in r.as_object()? {
                rec.insert(k.clone(), v.clone());
            }
            Some(rid)
        });
        if let (Some(rid), Some(m)) = (runner, obj.get("runner_manager").and_then(Value::as_object))
            && let Some(mid) = m.get("id").and_then(Value::as_u64)
        {
            let rec = self
                .managers
                .entry(mid)
                .or_insert_with(|| (rid, Obj::new()));
            for (k, v) in m {
                rec.1.insert(k.clone(), v.clone());
            }
        }
        if let (Some(project), Some(c)) = (project, obj.get("commit").and_then(Value::as_object))
            && let Some(sha) = c.get("id").and_then(Value::as_str)
        {
            self.commits
                .entry(project)
                .or_default()
                .insert(sha.to_owned(), c.clone());
        }
        if let Some(project) = project {
            let rec = self.projects.entry(project).or_default();
            if let Some(scope) = obj
                .get("project")
                .and_then(|p| p.get("ci_job_token_scope_enabled"))
                .and_then(Value::as_bool)
            {
                rec.job_token_scope = Some(scope);
            }
            if let Some(url) = obj
                .get("web_url")
                .and_then(Value::as_str)
                .and_then(|w| project_url(w, "jobs", id))
            {
                rec.web_url = Some(url);
            }
        }
        if let Some(d) = obj.get("downstream_pipeline").filter(|d| d.is_object()) {
            self.pipeline(d, None, Kind::Basic);
        }
        self.jobs.insert(
            id,
            JobRec {
                pipeline: pipeline_id,
                bridge,
                obs: obj.clone(),
            },
        );
        Some((id, project))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Basic,
    Item,
    Single,
}

/// `{base}/{path}/-/jobs/7` (or without `/-`) → `{base}/{path}`.
fn project_url(web_url: &str, what: &str, id: u64) -> Option<String> {
    let rest = web_url.strip_suffix(&format!("/{what}/{id}"))?;
    Some(rest.strip_suffix("/-").unwrap_or(rest).to_owned())
}

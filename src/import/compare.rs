//! Renders the imported objects the way glmock serves them and compares each with what was
//! recorded: the differences on jobs and pipelines become `override:` values; whatever is
//! left afterwards is reported.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::collect::Obj;
use super::emit::{OverrideSet, Plan};
use crate::world::World;

/// Two durations closer than this are the same value: GitLab computes durations from
/// timestamps with sub-millisecond precision, glmock from the millisecond timestamps it shows.
const DURATION_TOLERANCE: f64 = 0.002;

fn is_duration(k: &str) -> bool {
    k == "duration" || k == "queued_duration"
}

fn same(k: &str, recorded: &Value, rendered: Option<&Value>) -> bool {
    let Some(rendered) = rendered else {
        return false;
    };
    if recorded == rendered {
        return true;
    }
    if is_duration(k)
        && let (Some(a), Some(b)) = (recorded.as_f64(), rendered.as_f64())
    {
        return (a - b).abs() < DURATION_TOLERANCE;
    }
    false
}

/// Keys whose recorded value the rendering does not have, and keys only the rendering has.
fn diff(recorded: &Obj, rendered: &Value) -> (Vec<String>, Vec<String>) {
    let empty = Obj::new();
    let r = rendered.as_object().unwrap_or(&empty);
    let differ = recorded
        .iter()
        .filter(|(k, v)| !same(k, v, r.get(k.as_str())))
        .map(|(k, _)| k.clone())
        .collect();
    let extra = r
        .keys()
        .filter(|k| !recorded.contains_key(k.as_str()))
        .cloned()
        .collect();
    (differ, extra)
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

fn rendered_job(world: &World, project: u64, id: u64) -> Option<(Value, bool)> {
    let job = world.project_state(project)?.job(id)?;
    Some((
        parse(&crate::render::job(world, job)),
        job.is_time_dependent(),
    ))
}

/// (single, list item, still running) renderings of a pipeline.
fn rendered_pipeline(world: &World, project: u64, id: u64) -> Option<(Value, Value, bool)> {
    let p = world.pipeline(project, id)?;
    let meta = world.directory.projects.get(&project)?;
    let single = parse(&crate::render::pipeline(world, meta, p, true));
    let item = parse(&crate::render::pipeline_list(world, meta, &[p]))
        .get(0)
        .cloned()
        .unwrap_or(Value::Null);
    Some((
        single,
        item,
        p.started_at.is_some() && p.finished_at.is_none(),
    ))
}

/// The recorded values glmock does not reproduce from the scenario's normal fields.
pub fn overrides(world: &World, plan: &Plan) -> OverrideSet {
    let mut out = OverrideSet::default();
    for (pipeline, jobs) in &plan.pipeline_jobs {
        let project = plan.pipeline_project[pipeline];
        for id in jobs {
            let Some((rendered, moving)) = rendered_job(world, project, *id) else {
                continue;
            };
            let rec = &plan.rec.jobs[id].obs;
            let (differ, _) = diff(rec, &rendered);
            let o: Obj = differ
                .into_iter()
                // A waiting or running job's durations follow the clock (glmock splices them).
                .filter(|k| !(moving && is_duration(k)))
                .map(|k| {
                    let v = rec[&k].clone();
                    (k, v)
                })
                .collect();
            if !o.is_empty() {
                out.jobs.insert(*id, o);
            }
        }
    }
    for (id, project) in &plan.pipeline_project {
        let Some((single, item, moving)) = rendered_pipeline(world, *project, *id) else {
            continue;
        };
        let rec = &plan.rec.pipelines[id];
        let mut o = Obj::new();
        for (recorded, rendered) in [(&rec.single, &single), (&rec.item, &item)] {
            let Some(recorded) = recorded else { continue };
            for k in diff(recorded, rendered).0 {
                if moving && is_duration(&k) {
                    continue;
                }
                o.entry(k.clone()).or_insert_with(|| recorded[&k].clone());
            }
        }
        if !o.is_empty() {
            out.pipelines.insert(*id, o);
        }
    }
    out
}

/// What still differs, by endpoint.
#[derive(Debug, Default)]
pub struct Residuals {
    /// Endpoint → (objects compared, objects differing, fields that differ or are extra).
    pub by_endpoint: BTreeMap<&'static str, (usize, usize, BTreeSet<String>)>,
    /// Waiting or running jobs and pipelines whose recorded durations differ from the
    /// frozen clock's.
    pub clock: usize,
}

impl Residuals {
    fn add(&mut self, endpoint: &'static str, fields: BTreeSet<String>) {
        let e = self.by_endpoint.entry(endpoint).or_default();
        e.0 += 1;
        if !fields.is_empty() {
            e.1 += 1;
            e.2.extend(fields);
        }
    }

    fn add_diff(&mut self, endpoint: &'static str, recorded: &Obj, rendered: &Value, moving: bool) {
        let (differ, extra) = diff(recorded, rendered);
        let mut fields = BTreeSet::new();
        for k in differ {
            if moving && is_duration(&k) {
                self.clock += 1;
            } else {
                fields.insert(k);
            }
        }
        fields.extend(extra.into_iter().map(|k| format!("{k} (not recorded)")));
        self.add(endpoint, fields);
    }

    /// Lines for the summary.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (endpoint, (n, bad, fields)) in &self.by_endpoint {
            if *bad > 0 {
                let mut list: Vec<&str> = fields.iter().map(String::as_str).collect();
                let more = list.len().saturating_sub(12);
                list.truncate(12);
                out.push(format!(
                    "{endpoint}: {bad} of {n} answer(s) differ in {}{}",
                    list.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
        }
        if self.clock > 0 {
            out.push(format!(
                "{} duration(s) of waiting or running jobs and pipelines follow the frozen clock, \
                 not the moment each answer was recorded",
                self.clock
            ));
        }
        out
    }
}

/// Compares every recorded answer with glmock's rendering of the final scenario.
pub fn residuals(world: &World, plan: &Plan) -> Residuals {
    let mut r = Residuals::default();
    for (pipeline, jobs) in &plan.pipeline_jobs {
        let project = plan.pipeline_project[pipeline];
        for id in jobs {
            let rec = &plan.rec.jobs[id];
            let endpoint = if rec.bridge {
                "GET /projects/:id/pipelines/:pipeline_id/bridges"
            } else {
                "GET /projects/:id/jobs/:job_id"
            };
            match rendered_job(world, project, *id) {
                Some((rendered, moving)) => r.add_diff(endpoint, &rec.obs, &rendered, moving),
                None => r.add(endpoint, ["(missing)".to_owned()].into()),
            }
            if let Some(log) = plan.rec.traces.get(id) {
                let served = world
                    .project_state(project)
                    .and_then(|s| s.job(*id))
                    .and_then(|j| j.log.clone())
                    .unwrap_or_default();
                let fields = if served.as_ref() == log.as_bytes() {
                    BTreeSet::new()
                } else {
                    ["(log text)".to_owned()].into()
                };
                r.add("GET /projects/:id/jobs/:job_id/trace", fields);
            }
        }
    }
    for (id, project) in &plan.pipeline_project {
        let rec = &plan.rec.pipelines[id];
        let Some((single, item, moving)) = rendered_pipeline(world, *project, *id) else {
            continue;
        };
        if let Some(s) = &rec.single {
            r.add_diff(
                "GET /projects/:id/pipelines/:pipeline_id",
                s,
                &single,
                moving,
            );
        }
        if let Some(i) = &rec.item {
            r.add_diff("GET /projects/:id/pipelines", i, &item, moving);
        }
        let Some(p) = world.pipeline(*project, *id) else {
            continue;
        };
        let whole = |endpoint: &'static str, recorded: &Value, served: Value, r: &mut Residuals| {
            let fields = if *recorded == served {
                BTreeSet::new()
            } else {
                ["(body)".to_owned()].into()
            };
            r.add(endpoint, fields);
        };
        if let Some(v) = &rec.variables {
            let served = parse(&crate::render::variables(p));
            whole(
                "GET /projects/:id/pipelines/:pipeline_id/variables",
                &Value::Array(v.clone()),
                served,
                &mut r,
            );
        }
        if let Some(t) = &rec.test_report {
            let served = parse(&crate::render::test_report(p));
            whole(
                "GET /projects/:id/pipelines/:pipeline_id/test_report",
                t,
                served,
                &mut r,
            );
        }
        if let Some(t) = &rec.test_report_summary {
            let served = parse(&crate::render::test_report_summary(world, p));
            whole(
                "GET /projects/:id/pipelines/:pipeline_id/test_report_summary",
                t,
                served,
                &mut r,
            );
        }
    }
    if let Some((id, recorded)) = &plan.rec.current_user
        && let Some(user) = world.directory.users.get(id)
    {
        let served = parse(&crate::render::current_user(world, user));
        r.add_diff("GET /user", recorded, &served, false);
    }
    for (id, p) in &plan.rec.projects {
        if let (Some(e), Some(meta)) = (&p.entity, world.directory.projects.get(id)) {
            let served = parse(&crate::render::project(world, meta));
            r.add_diff("GET /projects/:id", e, &served, false);
        }
    }
    r
}

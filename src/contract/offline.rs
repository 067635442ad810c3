//! `glmock check`: render every endpoint for every object of a scenario, offline, and check
//! each rendering against its schema, reporting where in the scenario the object is.

use crate::contract::Violation;
use crate::render;
use crate::world::World;

/// A violation and the scenario object that produced it.
#[derive(Debug, Clone)]
pub struct Located {
    /// `file:line:col: path` of the object, or a description when generated.
    pub origin: String,
    /// What was rendered (`GET /projects/1/jobs/7`).
    pub endpoint: String,
    pub violation: Violation,
}

/// Every violation of every rendering the API can produce for the world's objects. The
/// world must have a contract attached; without one there is nothing to check.
pub fn check_world(world: &World) -> Vec<Located> {
    let Some(contract) = world.instance.contract.clone() else {
        return Vec::new();
    };
    let dir = &world.directory;
    let origin = |key: String| {
        dir.origins
            .get(&key)
            .cloned()
            .unwrap_or_else(|| format!("{key} (generated)"))
    };
    let mut out = Vec::new();
    let mut push = |origin: String, endpoint: String, vs: Vec<Violation>| {
        out.extend(vs.into_iter().map(|violation| Located {
            origin: origin.clone(),
            endpoint: endpoint.clone(),
            violation,
        }));
    };
    let mut project_ids: Vec<u64> = world.projects.keys().copied().collect();
    project_ids.sort_unstable();
    for pid in project_ids {
        let state = &world.projects[&pid];
        let Some(meta) = dir.projects.get(&pid) else {
            continue;
        };
        for job in state.builds.values().chain(state.bridges.values()) {
            let (_, vs) = render::job_checked(world, job);
            let what = if job.is_bridge() {
                "bridge in GET …/bridges"
            } else {
                "GET /projects/:id/jobs/:job_id"
            };
            push(
                origin(format!("job {}", job.id)),
                format!("{what} ({} {})", pid, job.id),
                vs.to_vec(),
            );
        }
        for p in state.pipelines.values() {
            let o = origin(format!("pipeline {}", p.id));
            let at = |e: &str| format!("{e} (project {pid}, pipeline {})", p.id);
            push(
                o.clone(),
                at("GET /projects/:id/pipelines/:pipeline_id"),
                contract.check_bytes("pipeline", &render::pipeline(world, meta, p, true)),
            );
            push(
                o.clone(),
                at("POST /projects/:id/pipelines/:pipeline_id/retry"),
                contract.check_bytes("pipeline", &render::pipeline(world, meta, p, false)),
            );
            push(
                o.clone(),
                at("GET /projects/:id/pipelines"),
                contract.check_bytes(
                    "pipeline_list",
                    &render::pipeline_list(world, meta, &[p.as_ref()]),
                ),
            );
            push(
                o.clone(),
                at("GET …/variables"),
                contract.check_bytes("pipeline_variables", &render::variables(p)),
            );
            push(
                o.clone(),
                at("GET …/test_report"),
                contract.check_bytes("test_report", &render::test_report(p)),
            );
            push(
                o,
                at("GET …/test_report_summary"),
                contract.check_bytes(
                    "test_report_summary",
                    &render::test_report_summary(world, p),
                ),
            );
        }
    }
    let mut tokens: Vec<(&String, &u64)> = dir.job_tokens.iter().collect();
    tokens.sort();
    for (_, job_id) in tokens {
        if let Some(job) = world.job_anywhere(*job_id) {
            let user = job.user_id.and_then(|u| dir.users.get(&u));
            let bytes = render::allowed_agents(world, job, user);
            push(
                origin(format!("job {job_id}")),
                format!("GET /job/allowed_agents (job {job_id})"),
                contract.check_bytes("allowed_agents", &bytes),
            );
        }
    }
    out
}

//! Jobs that move on by themselves: timeline steps due by the session's clock or by polls
//! (`after_polls: N`: the step is taken once the job, its trace or its pipeline has been
//! fetched N times since the step began), and GitLab's stage processing (a stage starts
//! when the stages before it are complete; after a real failure later `on_success` jobs
//! are skipped).

use std::sync::Arc;

use jiff::Timestamp;

use super::mutate::MutationError;
use super::status::Status;
use super::{Job, When, World};

/// Where a status change comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The job's own timeline: the timeline moves to its next step.
    Timeline,
    /// The control API or processing: the timeline stops.
    External,
}

impl World {
    /// Is any timeline step due at `now`? Cheap; run before taking the write lock.
    pub fn due(&self, now: Timestamp) -> bool {
        self.projects.values().any(|p| {
            p.timed.iter().any(|id| {
                p.job(*id)
                    .and_then(|j| j.next_step_at())
                    .is_some_and(|t| t <= now)
            })
        })
    }

    /// Applies every timeline step due by now, oldest first, with stage processing.
    pub fn advance(&mut self) {
        let now = self.now();
        // Bounded: each step consumes one timeline entry.
        for _ in 0..100_000 {
            let mut next: Option<(Timestamp, u64, u64, Status)> = None;
            for (pid, p) in &self.projects {
                for id in p.timed.iter() {
                    let Some(j) = p.job(*id) else { continue };
                    let Some(at) = j.next_step_at().filter(|t| *t <= now) else {
                        continue;
                    };
                    if next.is_none_or(|(t, ..)| at < t) {
                        next = Some((at, *pid, *id, j.timeline[j.step].1));
                    }
                }
            }
            let Some((at, project, job, status)) = next else {
                return;
            };
            let _ = self.set_job_status(project, job, status, at, Cause::Timeline);
        }
    }

    /// Counts one poll of a job; takes its step when the step's polls are reached.
    pub fn poll(&mut self, project_id: u64, job_id: u64) {
        let Some(job) = self
            .projects
            .get(&project_id)
            .and_then(|p| p.job(job_id))
            .cloned()
        else {
            return;
        };
        let Some(wanted) = polls_wanted(&job) else {
            return;
        };
        let mut j = (*job).clone();
        j.polls += 1;
        let status = j.timeline[j.step].1;
        let due = j.polls >= wanted;
        if self.put_job(j).is_ok() && due {
            let now = self.now();
            let _ = self.set_job_status(project_id, job_id, status, now, Cause::Timeline);
        }
    }

    /// Moves job `job_id`, in whichever project has it, to `status` now (a test steering the
    /// world: the control API and the harness). Due timeline steps are applied first.
    /// Returns the job's new version and its pipeline's status; `None` for an unknown job.
    pub fn steer_job(&mut self, job_id: u64, status: Status) -> Option<(Arc<Job>, Status)> {
        self.advance();
        let project = self
            .projects
            .iter()
            .find(|(_, p)| p.job(job_id).is_some())
            .map(|(pid, _)| *pid)?;
        let now = self.now();
        let job = self
            .set_job_status(project, job_id, status, now, Cause::External)
            .ok()?;
        let pipeline = self.pipeline(project, job.pipeline_id)?.status;
        Some((job, pipeline))
    }

    /// Moves a job to `status` at `at`, with the timestamps GitLab would set, then lets the
    /// pipeline's later stages start and recomputes its status.
    pub fn set_job_status(
        &mut self,
        project_id: u64,
        job_id: u64,
        status: Status,
        at: Timestamp,
        cause: Cause,
    ) -> Result<Arc<Job>, MutationError> {
        let job = self
            .projects
            .get(&project_id)
            .and_then(|p| p.job(job_id))
            .cloned()
            .ok_or(MutationError::NotFound)?;
        let mut j = (*job).clone();
        apply_status(&mut j, status, at);
        // A job only runs once a runner picks it up.
        if j.started_at.is_some() && j.runner_id.is_none() && !j.is_bridge() {
            j.runner_id = self.directory.default_runner();
            j.runner_manager_id = j.runner_id.and_then(|r| self.directory.first_manager(r));
        }
        match cause {
            Cause::Timeline => {
                j.step += 1;
                j.step_since = Some(at);
            }
            Cause::External => j.step = j.timeline.len(),
        }
        j.polls = 0;
        let pipeline_id = j.pipeline_id;
        let job = self.put_job(j)?;
        self.process_stages(project_id, pipeline_id, at);
        self.recompute_pipeline(project_id, pipeline_id);
        Ok(job)
    }

    /// GitLab's stage processing over a pipeline's latest jobs.
    pub fn process_stages(&mut self, project_id: u64, pipeline_id: u64, at: Timestamp) {
        let Some(state) = self.projects.get(&project_id) else {
            return;
        };
        let mut jobs: Vec<Job> = state
            .pipeline_jobs(pipeline_id)
            .filter(|j| !j.retried)
            .map(|j| (**j).clone())
            .collect();
        let mut stages: Vec<String> = Vec::new();
        for j in &jobs {
            if !stages.contains(&j.stage) {
                stages.push(j.stage.clone());
            }
        }
        let mut changed = Vec::new();
        for (k, stage) in stages.iter().enumerate() {
            let before: Vec<&Job> = jobs
                .iter()
                .filter(|j| stages[..k].contains(&j.stage))
                .collect();
            let complete = before.iter().all(|j| {
                j.status.is_completed() || (j.status == Status::Manual && j.allow_failure)
            });
            if !complete {
                break;
            }
            let failed = before
                .iter()
                .any(|j| j.status == Status::Failed && !j.allow_failure);
            for j in jobs
                .iter_mut()
                .filter(|j| &j.stage == stage && j.status == Status::Created)
            {
                let next = match j.when {
                    When::Always => Status::Pending,
                    When::OnFailure if failed => Status::Pending,
                    When::OnFailure => Status::Skipped,
                    _ if failed => Status::Skipped,
                    When::Manual => Status::Manual,
                    When::Delayed => Status::Scheduled,
                    _ => Status::Pending,
                };
                apply_status(j, next, at);
                if next == Status::Pending && !j.timeline.is_empty() {
                    j.step_since = Some(at);
                }
                changed.push(j.id);
            }
        }
        for j in jobs.into_iter().filter(|j| changed.contains(&j.id)) {
            let _ = self.put_job(j);
        }
    }
}

/// The timestamps a status change sets.
fn apply_status(j: &mut Job, status: Status, at: Timestamp) {
    j.status = status;
    match status {
        Status::Pending => {
            j.queued_at.get_or_insert(at);
        }
        Status::Running => {
            j.queued_at.get_or_insert(at);
            j.started_at.get_or_insert(at);
        }
        Status::Success | Status::Failed | Status::Canceled => {
            j.finished_at = Some(at);
        }
        _ => {}
    }
    j.failure_reason = match status {
        Status::Failed => j
            .failure_reason
            .take()
            .or_else(|| Some("script_failure".into())),
        _ => None,
    };
}

/// The polls a job's current step waits for, if it waits for polls and has begun.
pub fn polls_wanted(j: &Job) -> Option<u32> {
    let (after, _) = j.timeline.get(j.step)?;
    (*after < 0.0 && j.step_since.is_some()).then_some((-after) as u32)
}

/// After a successful GET: counts a poll for the jobs it returned that wait for polls
/// (`route` is the matched template; only the job, its trace, its pipeline and the
/// pipeline's jobs count).
pub fn count_polls(
    sessions: &super::session::Sessions,
    session: &str,
    world: &World,
    route: &str,
    params: &crate::api::routes::RouteParams,
) {
    let mut polled: Vec<(u64, u64)> = Vec::new();
    match route {
        "/api/v4/projects/{id}/jobs/{job_id}" | "/api/v4/projects/{id}/jobs/{job_id}/trace" => {
            let Ok(id) = params.get("job_id").parse::<u64>() else {
                return;
            };
            for (pid, p) in &world.projects {
                if let Some(j) = p.job(id) {
                    if polls_wanted(j).is_some() {
                        polled.push((*pid, id));
                    }
                    break;
                }
            }
        }
        "/api/v4/projects/{id}/pipelines/{pipeline_id}"
        | "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs" => {
            let Ok(id) = params.get("pipeline_id").parse::<u64>() else {
                return;
            };
            for (pid, p) in &world.projects {
                polled.extend(
                    p.pipeline_jobs(id)
                        .filter(|j| polls_wanted(j).is_some())
                        .map(|j| (*pid, j.id)),
                );
            }
        }
        _ => return,
    }
    if polled.is_empty() {
        return;
    }
    sessions.write(session, |w| {
        for (project, job) in polled {
            w.poll(project, job);
        }
    });
}

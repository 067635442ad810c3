//! State changes, exactly as GitLab's services make them (docs/job-states.md §2–§3).
//! Permission checks are the API's job; these methods only know the state machine.

use std::sync::Arc;

use jiff::Timestamp;

use super::status::Status;
use super::times::stamps;
use super::{Job, JobKind, Pipeline, ProjectState, RenderCache, When, World, next_revision};

/// Why a mutation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MutationError {
    #[error("job not found")]
    NotFound,
    #[error("Job is not retryable")]
    NotRetryable,
    #[error("Job is not erasable!")]
    NotErasable,
    #[error("Unplayable Job")]
    Unplayable,
}

/// What `play` did: GitLab answers with the played job, even when playing a finished
/// manual job fell back to a retry.
pub struct Played {
    pub job: Arc<Job>,
}

impl World {
    fn project_mut(&mut self, project_id: u64) -> Result<&mut ProjectState, MutationError> {
        self.projects
            .get_mut(&project_id)
            .map(Arc::make_mut)
            .ok_or(MutationError::NotFound)
    }

    fn job_of(&self, project_id: u64, job_id: u64) -> Result<Arc<Job>, MutationError> {
        self.projects
            .get(&project_id)
            .and_then(|p| p.job(job_id))
            .cloned()
            .ok_or(MutationError::NotFound)
    }

    /// Stores a new version of a job, keeping the indexes in step.
    pub(crate) fn put_job(&mut self, job: Job) -> Result<Arc<Job>, MutationError> {
        let project = self.project_mut(job.project_id)?;
        let job = Arc::new(job);
        let waiting = job.next_step_at().is_some();
        if waiting != project.timed.contains(&job.id) {
            if waiting {
                project.timed.insert(job.id);
            } else {
                project.timed.remove(&job.id);
            }
        }
        let old = if job.is_bridge() {
            project.bridges.insert(job.id, job.clone())
        } else {
            project.builds.insert(job.id, job.clone())
        };
        if let Some(old) = &old {
            debug_assert_eq!(old.pipeline_id, job.pipeline_id);
        }
        if !job.is_bridge() {
            match &old {
                Some(old) if old.status != job.status => {
                    project.builds_by_status[old.status.index()].remove(&job.id);
                    project.builds_by_status[job.status.index()].insert(job.id);
                }
                Some(_) => {}
                None => {
                    project.builds_by_status[job.status.index()].insert(job.id);
                }
            }
        }
        let key = (job.pipeline_id, job.id);
        if job.retried {
            project.by_pipeline.remove(&key);
            project.retried_by_pipeline.insert(key, job.clone());
        } else {
            if old.as_ref().is_some_and(|o| o.retried) {
                project.retried_by_pipeline.remove(&key);
            }
            project.by_pipeline.insert(key, job.clone());
        }
        // The composite and the times count latest jobs only.
        let counted = |j: &Job| (!j.retried).then(|| (j.status, j.allow_failure, stamps(j)));
        let before = old.as_deref().and_then(counted);
        let after = counted(&job);
        if before != after {
            let tally = project.tallies.entry(job.pipeline_id).or_default();
            if let Some((s, a, t)) = &before {
                tally.remove(*s, *a);
                tally.times.remove(t);
            }
            if let Some((s, a, t)) = &after {
                tally.add(*s, *a);
                tally.times.add(t);
            }
        }
        Ok(job)
    }

    /// Recomputes a pipeline's status and times from its latest jobs (composite rules).
    /// The pipeline gets a new revision only if something visible changed (its jobs' cached
    /// renderings are keyed by that revision, so they need no new version) and a bridge that
    /// triggered it follows its status.
    pub fn recompute_pipeline(&mut self, project_id: u64, pipeline_id: u64) {
        self.recompute_pipeline_depth(project_id, pipeline_id, 0);
    }

    fn recompute_pipeline_depth(&mut self, project_id: u64, pipeline_id: u64, depth: usize) {
        let now = self.now();
        let Some(state) = self.projects.get(&project_id) else {
            return;
        };
        let Some(pipeline) = state.pipelines.get(&pipeline_id) else {
            return;
        };
        let Some(tally) = state.tallies.get(&pipeline_id) else {
            return;
        };
        // The status from the tally; the times from it too when its bounds are exact (the
        // jobs are walked otherwise, and the walk's result kept).
        let Some(new_status) = tally.composite() else {
            return;
        };
        if new_status == pipeline.status {
            return;
        }
        let mut times = tally.times;
        let completed = new_status.is_completed();
        let starts = pipeline.started_at.is_none()
            && !matches!(new_status, Status::Created | Status::Pending);
        // The latest timestamp up to now: the bound's, when every timestamp is that old.
        let known_change = times.any.exact().filter(|m| m.is_none_or(|t| t <= now));
        let known_finish = times.finished.exact();
        let walked = (known_change.is_none() || (completed && known_finish.is_none()) || starts)
            .then(|| walk_times(state.pipeline_latest(pipeline_id), now));
        if let Some(w) = &walked {
            times.any.set(w.latest);
            times.finished.set(w.finished);
        }
        #[cfg(debug_assertions)]
        {
            let w = walk_times(state.pipeline_latest(pipeline_id), now);
            debug_assert_eq!(
                super::status::composite(
                    state
                        .pipeline_latest(pipeline_id)
                        .map(|j| (j.status, j.allow_failure))
                ),
                Some(new_status),
                "the tally of pipeline {pipeline_id} is out of step"
            );
            if let Some(c) = known_change {
                debug_assert_eq!(c, w.change, "pipeline {pipeline_id}: latest change");
            }
            if let (true, Some(f)) = (completed, known_finish) {
                debug_assert_eq!(f, w.finished, "pipeline {pipeline_id}: latest finish");
            }
        }
        // What the bounds do not know, the walk does.
        let last_change = known_change.or(walked.as_ref().map(|w| w.change)).flatten();
        let mut p: Pipeline = (**pipeline).clone();
        p.status = new_status;
        // Times follow the jobs (a timeline step may be applied after the fact), capped by now.
        p.updated_at = last_change.unwrap_or(now).max(p.updated_at);
        if starts {
            p.started_at = walked.as_ref().and_then(|w| w.first_start).or(Some(now));
        }
        p.finished_at = if completed {
            let finished = known_finish.or(walked.as_ref().map(|w| w.finished));
            Some(finished.flatten().unwrap_or(now))
        } else {
            None
        };
        p.rev = next_revision();
        let parent = p.parent;
        let project = Arc::make_mut(
            self.projects
                .get_mut(&project_id)
                .expect("project exists: looked up above"),
        );
        if walked.is_some()
            && let Some(tally) = project.tallies.get_mut(&pipeline_id)
        {
            tally.times = times;
        }
        project.put_pipeline(Arc::new(p));
        if let (Some((pp, ppl)), true) = (parent, depth < 16) {
            self.follow_downstream(pp, ppl, (project_id, pipeline_id), new_status, depth);
        }
    }

    /// A bridge mirrors its downstream pipeline: finished statuses as they are, anything
    /// still active as `running`.
    fn follow_downstream(
        &mut self,
        project_id: u64,
        pipeline_id: u64,
        downstream: (u64, u64),
        status: Status,
        depth: usize,
    ) {
        let bridges: Vec<Arc<Job>> = match self.projects.get(&project_id) {
            Some(s) => s
                .pipeline_latest(pipeline_id)
                .filter(|j| matches!(j.kind, JobKind::Bridge { downstream: Some(d) } if d == downstream))
                .cloned()
                .collect(),
            None => return,
        };
        let now = self.now();
        let mirrored = match status {
            s if s.is_completed() || s == Status::Canceling || s == Status::Manual => s,
            _ => Status::Running,
        };
        let mut changed = false;
        for b in bridges {
            if b.status != mirrored {
                let mut c = (*b).clone();
                c.status = mirrored;
                if mirrored.is_completed() {
                    c.finished_at = Some(now);
                }
                let _ = self.put_job(c);
                changed = true;
            }
        }
        if changed {
            self.recompute_pipeline_depth(project_id, pipeline_id, depth + 1);
        }
    }

    /// `POST /jobs/:id/cancel`: never an error for a wrong state (GitLab fires the
    /// non-bang event); `force` only moves `canceling` to `canceled`.
    pub fn cancel_job(
        &mut self,
        project_id: u64,
        job_id: u64,
        force: bool,
    ) -> Result<Arc<Job>, MutationError> {
        let job = self.job_of(project_id, job_id)?;
        let now = self.now();
        let graceful = self.instance.profile.canceling
            && job
                .runner_id
                .and_then(|r| self.directory.runners.get(&r))
                .is_some_and(|r| r.graceful_cancel);
        let next = match (force, job.status) {
            (true, Status::Canceling) => Some(Status::Canceled),
            (true, _) => None,
            (false, Status::Running) if graceful && !job.is_bridge() => Some(Status::Canceling),
            (false, s) if s.is_cancelable() => Some(Status::Canceled),
            (false, _) => None,
        };
        let Some(next) = next else { return Ok(job) };
        let mut j = (*job).clone();
        j.status = next;
        // A canceled job's timeline is over.
        j.step = j.timeline.len();
        if next == Status::Canceled {
            j.finished_at = Some(now);
        }
        let job = self.put_job(j)?;
        self.recompute_pipeline(project_id, job.pipeline_id);
        Ok(job)
    }

    /// `POST /jobs/:id/retry`: a new job with a new id; the original is marked retried.
    pub fn retry_job(
        &mut self,
        project_id: u64,
        job_id: u64,
        user_id: Option<u64>,
    ) -> Result<Arc<Job>, MutationError> {
        let job = self.job_of(project_id, job_id)?;
        if job.retried || job.archived || !job.status.is_retryable() {
            return Err(MutationError::NotRetryable);
        }
        let now = self.now();
        let mut old = (*job).clone();
        old.retried = true;
        self.put_job(old)?;

        let id = self.next_job_id;
        self.next_job_id += 1;
        let mut new = (*job).clone();
        new.id = id;
        new.status = Status::Pending;
        new.user_id = user_id;
        new.created_at = now;
        new.queued_at = Some(now);
        new.started_at = None;
        new.finished_at = None;
        new.erased_at = None;
        new.failure_reason = None;
        new.coverage = None;
        // A job that runs again along a timeline writes its log again.
        new.log = if new.timeline.is_empty() {
            None
        } else {
            job.log.clone()
        };
        new.artifacts = Vec::new();
        new.artifacts_expire_at = None;
        new.runner_id = None;
        new.runner_manager_id = None;
        new.retried = false;
        new.step = 0;
        new.step_since = (!new.timeline.is_empty()).then_some(now);
        if let JobKind::Bridge { downstream } = &mut new.kind {
            *downstream = None;
        }
        new.rendered = RenderCache::default();
        let pipeline_id = new.pipeline_id;
        // Later skipped jobs go back to created; the tally tells whether there are any.
        let any_skipped = self
            .projects
            .get(&project_id)
            .and_then(|p| p.tallies.get(&pipeline_id))
            .is_some_and(|t| t.count(Status::Skipped) > 0);
        let stage_index =
            any_skipped.then(|| self.stage_index(project_id, pipeline_id, &new.stage));
        let new = self.put_job(new)?;
        if let Some(stage_index) = stage_index {
            self.reset_later_skipped(project_id, pipeline_id, stage_index)?;
        }
        self.recompute_pipeline(project_id, pipeline_id);
        Ok(new)
    }

    /// Position of a stage in its pipeline (stages in order of first appearance).
    fn stage_index(&self, project_id: u64, pipeline_id: u64, stage: &str) -> usize {
        self.stages(project_id, pipeline_id)
            .iter()
            .position(|s| *s == stage)
            .unwrap_or(usize::MAX)
    }

    /// A pipeline's stages in order of first appearance.
    fn stages(&self, project_id: u64, pipeline_id: u64) -> Vec<&str> {
        let mut stages: Vec<&str> = Vec::new();
        if let Some(p) = self.projects.get(&project_id) {
            for j in p.pipeline_jobs(pipeline_id) {
                if !stages.contains(&j.stage.as_str()) {
                    stages.push(&j.stage);
                }
            }
        }
        stages
    }

    /// After a retry, skipped jobs of later stages go back to `created` to be re-evaluated.
    fn reset_later_skipped(
        &mut self,
        project_id: u64,
        pipeline_id: u64,
        stage_index: usize,
    ) -> Result<(), MutationError> {
        let skipped: Vec<Job> = {
            let Some(p) = self.projects.get(&project_id) else {
                return Ok(());
            };
            let stages = self.stages(project_id, pipeline_id);
            let later = |stage: &str| stages.iter().position(|s| *s == stage) > Some(stage_index);
            p.pipeline_latest(pipeline_id)
                .filter(|j| j.status == Status::Skipped && later(&j.stage))
                .map(|j| (**j).clone())
                .collect()
        };
        for mut c in skipped {
            c.status = Status::Created;
            self.put_job(c)?;
        }
        Ok(())
    }

    /// `POST /jobs/:id/erase`: artifacts and log gone, `erased_at` set, status unchanged.
    pub fn erase_job(&mut self, project_id: u64, job_id: u64) -> Result<Arc<Job>, MutationError> {
        let job = self.job_of(project_id, job_id)?;
        if !job.is_erasable() {
            return Err(MutationError::NotErasable);
        }
        let mut j = (*job).clone();
        j.artifacts.clear();
        j.log = None;
        j.artifacts_expire_at = None;
        j.erased_at = Some(self.now());
        self.put_job(j)
    }

    /// `POST /jobs/:id/play`: manual or scheduled → pending, same id, user = caller.
    pub fn play_job(
        &mut self,
        project_id: u64,
        job_id: u64,
        user_id: Option<u64>,
        variables: Vec<(String, String)>,
    ) -> Result<Played, MutationError> {
        let job = self.job_of(project_id, job_id)?;
        let action = matches!(job.when, When::Manual | When::Delayed);
        let waiting = matches!(job.status, Status::Manual | Status::Scheduled);
        let retryable = !job.retried && job.status.is_retryable();
        let playable = if job.is_bridge() {
            job.when == When::Manual && !job.archived && job.status == Status::Manual
        } else {
            action && !job.archived && (waiting || retryable)
        };
        if !playable {
            return Err(MutationError::Unplayable);
        }
        if !waiting {
            // A finished manual job: GitLab retries it but answers with the original.
            self.retry_job(project_id, job_id, user_id)?;
            let original = self.job_of(project_id, job_id)?;
            return Ok(Played { job: original });
        }
        let now = self.now();
        let mut j = (*job).clone();
        j.status = Status::Pending;
        j.user_id = user_id;
        j.queued_at = Some(now);
        j.step = 0;
        j.step_since = (!j.timeline.is_empty()).then_some(now);
        if !variables.is_empty() {
            j.variables = variables;
        }
        let job = self.put_job(j)?;
        self.recompute_pipeline(project_id, job.pipeline_id);
        Ok(Played { job })
    }
}

impl Job {
    /// `Ci::Build#erasable?`: a finished build with a log or artifacts.
    pub fn is_erasable(&self) -> bool {
        let has_content =
            !self.artifacts.is_empty() || self.log.as_ref().is_some_and(|l| !l.is_empty());
        !self.is_bridge() && self.status.is_completed() && has_content
    }
}

/// What a walk of a pipeline's latest jobs finds for its times.
struct Walked {
    /// The latest timestamp up to `now`.
    change: Option<Timestamp>,
    /// The latest timestamp, and the latest `finished_at`, whenever they are.
    latest: Option<Timestamp>,
    finished: Option<Timestamp>,
    /// The first `started_at`.
    first_start: Option<Timestamp>,
}

fn walk_times<'a>(jobs: impl Iterator<Item = &'a Arc<Job>>, now: Timestamp) -> Walked {
    let mut w = Walked {
        change: None,
        latest: None,
        finished: None,
        first_start: None,
    };
    for j in jobs {
        for t in stamps(j).into_iter().flatten() {
            w.latest = w.latest.max(Some(t));
            if t <= now {
                w.change = w.change.max(Some(t));
            }
        }
        w.finished = w.finished.max(j.finished_at);
        if let Some(s) = j.started_at {
            w.first_start = Some(w.first_start.map_or(s, |f| f.min(s)));
        }
    }
    w
}

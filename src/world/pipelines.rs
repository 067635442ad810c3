//! Pipeline-level changes (docs/job-states.md §3): create from the CI definition, retry,
//! cancel (cascading to child pipelines), delete.

use std::sync::Arc;

use super::status::Status;
use super::{
    CiConfig, CiJob, Job, JobKind, Pipeline, RenderCache, Variable, When, World, next_revision,
};

/// Why a pipeline could not be created: GitLab's `{"message":{"base":[…]}}` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    #[error("Reference not found")]
    ReferenceNotFound,
    #[error("Missing CI config file")]
    MissingConfig,
    #[error("No stages / jobs for this pipeline.")]
    NoJobs,
    /// The CI definition could not be made with the inputs given (GitLab's message).
    #[error("{0}")]
    Config(String),
}

impl World {
    /// `POST /projects/:id/pipeline`: a new pipeline on `ref_` from the project's CI
    /// definition; first-stage jobs are pending (manual ones manual), later stages wait as created.
    pub fn create_pipeline(
        &mut self,
        project_id: u64,
        ref_: &str,
        user_id: Option<u64>,
        variables: Vec<Variable>,
        inputs: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Arc<Pipeline>, CreateError> {
        let meta = self
            .directory
            .projects
            .get(&project_id)
            .ok_or(CreateError::ReferenceNotFound)?;
        let (sha, tag) = match (meta.branches.get(ref_), meta.tags.get(ref_)) {
            (Some(sha), _) => (sha.clone(), false),
            (None, Some(sha)) => (sha.clone(), true),
            (None, None) => return Err(CreateError::ReferenceNotFound),
        };
        let mut ci = meta.ci.clone().ok_or(CreateError::MissingConfig)?;
        // lib/gitlab/ci/config/interpolation/interpolator.rb: inputs need a `spec:` header.
        let inputs = inputs.filter(|m| !m.is_empty());
        match (&ci.template, inputs) {
            (None, Some(_)) => {
                return Err(CreateError::Config(
                    "Given inputs not defined in the `spec` section of the included configuration file"
                        .into(),
                ));
            }
            (Some(t), args) => {
                let defs = crate::scenario::load::instantiate_ci(t, &args.unwrap_or_default())
                    .map_err(CreateError::Config)?;
                let (stages, jobs) = crate::scenario::check::ci_jobs(&t.stages, &defs);
                ci = Arc::new(CiConfig {
                    stages,
                    jobs,
                    template: None,
                });
            }
            (None, None) => {}
        }
        // Predefined variables the expressions can read (lib/gitlab/ci/variables/builder.rb).
        let mut predefined = vec![
            ("CI_PIPELINE_SOURCE", "api".to_owned()),
            ("CI_COMMIT_REF_NAME", ref_.to_owned()),
            ("CI_DEFAULT_BRANCH", meta.default_branch.clone()),
            ("CI_PROJECT_PATH", meta.path_with_namespace.clone()),
        ];
        predefined.push(if tag {
            ("CI_COMMIT_TAG", ref_.to_owned())
        } else {
            ("CI_COMMIT_BRANCH", ref_.to_owned())
        });
        let lookup = |k: &str| {
            variables
                .iter()
                .chain(&meta.variables)
                .chain(&self.instance.variables)
                .find(|v| v.key == k)
                .map(|v| v.value.as_str())
                .or_else(|| {
                    predefined
                        .iter()
                        .find(|(n, _)| *n == k)
                        .map(|(_, v)| v.as_str())
                })
        };
        let jobs: Vec<CiJob> = ci
            .jobs
            .iter()
            .filter(|j| j.only.is_empty() || j.only.iter().any(|r| r == ref_))
            .filter(|j| {
                j.only_variables.is_empty() || j.only_variables.iter().any(|e| e.holds(lookup))
            })
            .filter_map(|j| {
                let Some(rules) = &j.rules else {
                    return Some(j.clone());
                };
                // The first rule whose `if` holds decides; none and the job is not made.
                let rule = rules
                    .iter()
                    .find(|r| r.if_.as_ref().is_none_or(|e| e.holds(lookup)))?;
                if rule.when.as_deref() == Some("never") {
                    return None;
                }
                let mut j = j.clone();
                if let Some(w) = &rule.when {
                    j.when = When::parse(w);
                    j.allow_failure = j.allow_failure_set.unwrap_or(false);
                }
                if let Some(a) = rule.allow_failure {
                    j.allow_failure = a;
                }
                Some(j)
            })
            .collect();
        let jobs: Vec<&CiJob> = jobs.iter().collect();
        if jobs.is_empty() {
            return Err(CreateError::NoJobs);
        }
        let now = self.now();
        let id = self.next_pipeline_id;
        self.next_pipeline_id += 1;
        let state = self.projects.get(&project_id).cloned().unwrap_or_default();
        let iid = state.pipelines.values().map(|p| p.iid).max().unwrap_or(0) + 1;
        let first_stage = ci
            .stages
            .iter()
            .find(|s| jobs.iter().any(|j| &j.stage == *s))
            .cloned();
        let mut new_jobs = Vec::new();
        for t in &jobs {
            let job_id = self.next_job_id;
            self.next_job_id += 1;
            // Only the first stage starts; later ones wait for stage processing, which
            // also turns manual jobs `manual` when their stage is reached.
            let status = match t.when {
                _ if Some(&t.stage) != first_stage.as_ref() => Status::Created,
                When::Manual => Status::Manual,
                When::Delayed => Status::Scheduled,
                _ => Status::Pending,
            };
            new_jobs.push(Job {
                overrides: None,
                id: job_id,
                project_id,
                pipeline_id: id,
                kind: JobKind::Build,
                name: t.name.clone(),
                stage: t.stage.clone(),
                status,
                when: t.when,
                allow_failure: t.allow_failure,
                failure_reason: None,
                user_id,
                runner_id: None,
                runner_manager_id: None,
                tag_list: t.tag_list.clone(),
                coverage: None,
                created_at: now,
                queued_at: (status == Status::Pending).then_some(now),
                started_at: None,
                finished_at: None,
                erased_at: None,
                log: t.log.clone(),
                artifacts: Vec::new(),
                artifacts_expire_at: None,
                retried: false,
                archived: false,
                environment: None,
                variables: Vec::new(),
                debug_trace_enabled: false,
                timeline: t.timeline.clone(),
                polls: 0,
                step: 0,
                step_since: (status == Status::Pending && !t.timeline.is_empty()).then_some(now),
                rendered: RenderCache::default(),
            });
        }
        let status = super::status::composite(new_jobs.iter().map(|j| (j.status, j.allow_failure)))
            .unwrap_or(Status::Created);
        let pipeline = Arc::new(Pipeline {
            overrides: None,
            id,
            iid,
            project_id,
            sha,
            before_sha: "0".repeat(40),
            ref_: ref_.to_owned(),
            tag,
            source: "api".into(),
            status,
            yaml_errors: None,
            user_id,
            name: None,
            coverage: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
            committed_at: None,
            variables,
            test_report: None,
            parent: None,
            rev: next_revision(),
            rendered: RenderCache::default(),
        });
        let project = Arc::make_mut(self.projects.entry(project_id).or_default());
        project.put_pipeline(pipeline.clone());
        for j in new_jobs {
            self.put_job(j)
                .expect("the project exists: it was just made");
        }
        Ok(pipeline)
    }

    /// `POST …/pipelines/:id/retry`: every latest failed or canceled job is retried,
    /// skipped ones go back to created. A pipeline with nothing to retry is unchanged.
    pub fn retry_pipeline(
        &mut self,
        project_id: u64,
        pipeline_id: u64,
        user_id: Option<u64>,
    ) -> Option<Arc<Pipeline>> {
        let state = self.projects.get(&project_id)?;
        state.pipelines.get(&pipeline_id)?;
        let (retry, skipped): (Vec<Arc<Job>>, Vec<Arc<Job>>) = state
            .pipeline_latest(pipeline_id)
            .filter(|j| {
                matches!(
                    j.status,
                    Status::Failed | Status::Canceled | Status::Canceling | Status::Skipped
                )
            })
            .cloned()
            .partition(|j| j.status != Status::Skipped);
        for j in retry {
            let _ = self.retry_job(project_id, j.id, user_id);
        }
        for j in skipped {
            let mut c = (*j).clone();
            c.status = Status::Created;
            self.put_job(c)
                .expect("the project exists: its pipeline was found");
        }
        self.recompute_pipeline(project_id, pipeline_id);
        self.pipeline(project_id, pipeline_id).cloned()
    }

    /// `POST …/pipelines/:id/cancel`: cancels every cancelable job, and child pipelines
    /// through their bridges.
    pub fn cancel_pipeline(&mut self, project_id: u64, pipeline_id: u64) -> Option<Arc<Pipeline>> {
        self.cancel_pipeline_depth(project_id, pipeline_id, 0);
        self.pipeline(project_id, pipeline_id).cloned()
    }

    fn cancel_pipeline_depth(&mut self, project_id: u64, pipeline_id: u64, depth: usize) {
        let Some(state) = self.projects.get(&project_id) else {
            return;
        };
        let jobs: Vec<Arc<Job>> = state
            .pipeline_latest(pipeline_id)
            .filter(|j| j.status.is_cancelable() && j.status != Status::Manual)
            .cloned()
            .collect();
        for j in &jobs {
            if let JobKind::Bridge {
                downstream: Some((dp, dpl)),
            } = j.kind
                && depth < 16
            {
                self.cancel_pipeline_depth(dp, dpl, depth + 1);
            }
            let _ = self.cancel_job(project_id, j.id, false);
        }
        self.recompute_pipeline(project_id, pipeline_id);
    }

    /// `DELETE …/pipelines/:id`: the pipeline and its jobs are gone; child pipelines stay.
    pub fn delete_pipeline(&mut self, project_id: u64, pipeline_id: u64) -> bool {
        let Some(state) = self.projects.get_mut(&project_id) else {
            return false;
        };
        if !state.pipelines.contains_key(&pipeline_id) {
            return false;
        }
        Arc::make_mut(state).remove_pipeline(pipeline_id);
        true
    }
}

//! Who is calling, and what they may do (docs/gitlab-notes.md §1.2–§1.4).
//!
//! Tokens: `PRIVATE-TOKEN` / `private_token`, `Authorization: Bearer`, and CI job tokens
//! (`JOB-TOKEN` / `job_token` / Bearer) — the latter only on routes GitLab marks
//! `job_token_allowed` and only while their job runs.

use std::borrow::Cow;

use hyper::header::HeaderName;

use super::query::{Params, scalar};
use super::{ApiError, Request};
use crate::world::status::Status;
use crate::world::{FeatureAccess, Job, ProjectMeta, Role, Visibility, World};

/// The authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User {
        user_id: u64,
        read_only: bool,
    },
    /// A CI job token: acts as the job's user, within the job token's scope.
    Job {
        job_id: u64,
        project_id: u64,
        user_id: Option<u64>,
    },
}

impl Caller {
    pub fn user_id(&self) -> Option<u64> {
        match self {
            Caller::Anonymous => None,
            Caller::User { user_id, .. } => Some(*user_id),
            Caller::Job { user_id, .. } => *user_id,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Caller::Anonymous)
    }
}

/// The token headers, as constants (a `&str` name is parsed on every lookup).
pub const PRIVATE_TOKEN: HeaderName = HeaderName::from_static("private-token");
pub const JOB_TOKEN: HeaderName = HeaderName::from_static("job-token");

fn param(params: &Params, key: &str) -> Option<String> {
    params.get(key).and_then(scalar)
}

/// Resolves the caller. Unknown tokens are 401 everywhere (GitLab's `initial_current_user`).
pub fn authenticate(
    world: &World,
    req: &Request,
    job_token_allowed: bool,
) -> Result<Caller, ApiError> {
    let params = req.params();
    // `lib/gitlab/auth/auth_finders.rb`: the query parameter before the header, and an
    // empty value counts as absent (`.presence`): go-gitlab's job client sends an empty
    // `JOB-TOKEN` header beside `?job_token=…`. `token` is the runner's name for it.
    fn present(v: Option<Cow<'_, str>>) -> Option<Cow<'_, str>> {
        v.filter(|t| !t.is_empty())
    }
    let param = |key: &str| param(params, key).map(Cow::Owned);
    let private = present(param("private_token"))
        .or_else(|| present(req.header(&PRIVATE_TOKEN).map(Cow::Borrowed)));
    let job = present(param("job_token"))
        .or_else(|| present(param("token")))
        .or_else(|| present(req.header(&JOB_TOKEN).map(Cow::Borrowed)));
    let bearer = req
        .header(&hyper::header::AUTHORIZATION)
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(|t| Cow::Borrowed(t.trim()));

    let write = !matches!(req.method, hyper::Method::GET | hyper::Method::HEAD);
    if let Some(t) = private {
        // `private_token` / `PRIVATE-TOKEN` find personal access tokens only.
        if world.directory.tokens.get(&*t).is_some_and(|t| t.oauth) {
            return Err(ApiError::Unauthorized);
        }
        return personal(world, &t, write);
    }
    // Doorkeeper's `access_token` parameter: an OAuth token, like `Bearer`.
    let bearer = bearer.or_else(|| {
        present(param("access_token"))
            .filter(|t| world.directory.tokens.get(&**t).is_some_and(|t| t.oauth))
    });
    // GitLab's finders ignore a job token on routes that do not allow one: anonymous.
    if let Some(t) = job.filter(|_| job_token_allowed) {
        return job_token(world, &t);
    }
    if let Some(t) = bearer {
        if world.directory.tokens.contains_key(&*t) {
            return personal(world, &t, write);
        }
        if job_token_allowed && world.directory.job_tokens.contains_key(&*t) {
            return job_token(world, &t);
        }
        return Err(ApiError::Unauthorized);
    }
    Ok(Caller::Anonymous)
}

/// A personal token; a `read_api` one on a write request fails here, while authenticating,
/// before any parameter or project check (GitLab's `api_guard`).
fn personal(world: &World, token: &str, write: bool) -> Result<Caller, ApiError> {
    let t = world
        .directory
        .tokens
        .get(token)
        .ok_or(ApiError::Unauthorized)?;
    if t.revoked {
        return Err(ApiError::TokenRevoked);
    }
    if t.expires_at.is_some_and(|e| e <= world.now()) {
        return Err(ApiError::TokenExpired);
    }
    let user = world
        .directory
        .users
        .get(&t.user_id)
        .ok_or(ApiError::Unauthorized)?;
    if user.state != "active" {
        return Err(ApiError::Unauthorized);
    }
    if write && t.read_only {
        return Err(ApiError::InsufficientScope);
    }
    Ok(Caller::User {
        user_id: t.user_id,
        read_only: t.read_only,
    })
}

fn job_token(world: &World, token: &str) -> Result<Caller, ApiError> {
    let job_id = *world
        .directory
        .job_tokens
        .get(token)
        .ok_or(ApiError::Unauthorized)?;
    let job = world.job_anywhere(job_id).ok_or(ApiError::Unauthorized)?;
    // A job token is valid only while its job runs.
    if job.status != Status::Running {
        return Err(ApiError::Unauthorized);
    }
    // The caller is the job's user (`find_user_from_job_token` returns `job.user`): a job
    // without one authenticates nobody, and `authenticate!` answers 401.
    if job.user_id.is_none() {
        return Ok(Caller::Anonymous);
    }
    Ok(Caller::Job {
        job_id,
        project_id: job.project_id,
        user_id: job.user_id,
    })
}

/// `authenticate!`: anonymous callers get 401.
pub fn require_user(caller: Caller) -> Result<Caller, ApiError> {
    if caller.is_anonymous() {
        Err(ApiError::Unauthorized)
    } else {
        Ok(caller)
    }
}

/// Write requests with a `read_api` token: 403 `insufficient_scope`.
pub fn require_write_scope(caller: Caller) -> Result<(), ApiError> {
    match caller {
        Caller::User {
            read_only: true, ..
        } => Err(ApiError::InsufficientScope),
        _ => Ok(()),
    }
}

/// The caller's access level in a project (administrators count as owners).
pub fn role(world: &World, caller: Caller, meta: &ProjectMeta) -> Option<Role> {
    let uid = caller.user_id()?;
    if world.directory.users.get(&uid).is_some_and(|u| u.admin) {
        return Some(Role::Owner);
    }
    meta.members.get(&uid).copied()
}

pub fn can_read_project(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    match meta.visibility {
        Visibility::Public => true,
        Visibility::Internal => caller.user_id().is_some() || matches!(caller, Caller::Job { .. }),
        Visibility::Private => role(world, caller, meta).is_some(),
    }
}

/// What a route that takes job tokens asks of them (`route_setting :authorization,
/// job_token_policies: …, allow_public_access_for_enabled_project_features: …`).
#[derive(Debug, Clone, Copy)]
pub struct JobTokenRoute {
    pub policies: &'static [&'static str],
    /// Public features that make the policies unnecessary in a public project.
    pub public_features: &'static [ProjectFeature],
}

/// A project feature a route may name (`ProjectFeature::FEATURES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectFeature {
    Repository,
    Builds,
}

/// `GET /projects/:id/jobs` and `GET …/pipelines/:pipeline_id/jobs` (`lib/api/ci/jobs.rb`,
/// `lib/api/ci/pipelines.rb`): `job_token_policies: :read_jobs`,
/// `allow_public_access_for_enabled_project_features: [:repository, :builds]`.
pub const READ_JOBS: JobTokenRoute = JobTokenRoute {
    policies: &["read_jobs"],
    public_features: &[ProjectFeature::Repository, ProjectFeature::Builds],
};

/// `find_project!` on a route that takes no job token: 404 when missing or invisible.
pub fn find_project<'w>(
    world: &'w World,
    caller: Caller,
    id: &str,
) -> Result<&'w ProjectMeta, ApiError> {
    find_project_for(world, caller, id, None)
}

/// `find_project!` (`lib/api/helpers.rb`): 404 when missing or invisible; a job token from
/// a project the target's allowlist does not name is 403 (`handle_job_token_failure!`),
/// and one whose allowlist entry lacks the route's policies too
/// (`authorize_job_token_policies!`).
pub fn find_project_for<'w>(
    world: &'w World,
    caller: Caller,
    id: &str,
    route: Option<&JobTokenRoute>,
) -> Result<&'w ProjectMeta, ApiError> {
    let meta = world
        .directory
        .project_by_ref(id)
        .ok_or(ApiError::ProjectNotFound)?;
    let entry = match caller {
        Caller::Job { project_id, .. } if project_id != meta.id => {
            match meta
                .job_token_allowlist
                .iter()
                .find(|e| e.project_id == project_id)
            {
                Some(e) => Some(e),
                None => {
                    let from = world
                        .directory
                        .projects
                        .get(&project_id)
                        .map(|p| p.path.as_str())
                        .unwrap_or("");
                    return Err(ApiError::Forbidden(Some(format!(
                        "Authentication by CI/CD job token not allowed from {from} to {}.",
                        meta.path
                    ))));
                }
            }
        }
        _ => None,
    };
    if !can_read_project(world, caller, meta) {
        return Err(ApiError::ProjectNotFound);
    }
    if let (Some(entry), Some(route)) = (entry, route)
        && !job_token_policies_allowed(meta, entry, route)
    {
        return Err(ApiError::Forbidden(Some(job_token_policies_message(
            meta,
            route.policies,
        ))));
    }
    Ok(meta)
}

/// `job_token_policies_authorized?` (`lib/api/helpers.rb`) and `Scope#policies_allowed?`
/// (`app/models/ci/job_token/scope.rb`), for a job token from another, allowlisted project.
fn job_token_policies_allowed(
    meta: &ProjectMeta,
    entry: &crate::world::AllowlistEntry,
    route: &JobTokenRoute,
) -> bool {
    if !meta.job_token_policies_enabled || entry.default_permissions {
        return true;
    }
    // What everyone may read needs no permission: a public project whose named features
    // are public too.
    let public = |f: &ProjectFeature| match f {
        ProjectFeature::Repository => meta.repository_access == FeatureAccess::Enabled,
        ProjectFeature::Builds => meta.builds_access == FeatureAccess::Enabled,
    };
    if meta.visibility == Visibility::Public
        && !route.public_features.is_empty()
        && route.public_features.iter().all(public)
    {
        return true;
    }
    if entry.policies.is_empty() {
        return false;
    }
    route
        .policies
        .iter()
        .all(|p| entry.policies.iter().any(|a| a == p))
}

/// `job_token_policies_unauthorized_message`: the policies joined as Rails' `to_sentence`.
fn job_token_policies_message(meta: &ProjectMeta, policies: &[&str]) -> String {
    match policies {
        [] => "This action is unauthorized for CI/CD job tokens.".into(),
        [one] => format!(
            "Insufficient permissions to access this resource in project {}. The following \
             token permission is required: {one}.",
            meta.path
        ),
        many => {
            let (last, rest) = many.split_last().expect("two or more");
            let list = if rest.len() == 1 {
                format!("{} and {last}", rest[0])
            } else {
                format!("{}, and {last}", rest.join(", "))
            };
            format!(
                "Insufficient permissions to access this resource in project {}. The \
                 following token permissions are required: {list}.",
                meta.path
            )
        }
    }
}

/// `ProjectFeature#feature_available?`: a `private` feature is for members with at least
/// `min` (administrators count as owners, as `can_read_all_resources?` lets them in).
fn feature_available(
    world: &World,
    caller: Caller,
    meta: &ProjectMeta,
    level: FeatureAccess,
    min: Role,
) -> bool {
    match level {
        FeatureAccess::Disabled => false,
        FeatureAccess::Enabled => true,
        FeatureAccess::Private => role(world, caller, meta).is_some_and(|r| r >= min),
    }
}

/// Not `builds_disabled | repository_disabled` (`app/policies/project_policy.rb`): the rule
/// that prevents every build and pipeline ability when CI/CD or the repository is off for
/// the caller. A private repository needs reporters in a private project
/// (`PRIVATE_FEATURES_MIN_ACCESS_LEVEL_FOR_PRIVATE_PROJECT`), guests elsewhere.
pub fn ci_available(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    let repository_min = if meta.visibility == Visibility::Private {
        Role::Reporter
    } else {
        Role::Guest
    };
    feature_available(world, caller, meta, meta.builds_access, Role::Guest)
        && feature_available(world, caller, meta, meta.repository_access, repository_min)
}

/// `read_build`: reporters and up, or anyone who can see the project when its pipelines
/// are public.
pub fn can_read_build(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    (role(world, caller, meta).is_some_and(|r| r >= Role::Reporter)
        || (meta.public_builds && can_read_project(world, caller, meta)))
        && ci_available(world, caller, meta)
}

/// `read_pipeline`: reporters and up; anyone with access to a public or internal project;
/// guests when pipelines are public.
pub fn can_read_pipeline(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    let r = role(world, caller, meta);
    (r.is_some_and(|r| r >= Role::Reporter)
        || (meta.visibility != Visibility::Private && can_read_project(world, caller, meta))
        || (r.is_some() && meta.public_builds))
        && ci_available(world, caller, meta)
}

/// `read_pipeline` on one pipeline (`app/policies/ci/pipeline_policy.rb`): the project's
/// `read_pipeline`, prevented when the caller cannot `read_build` (the rule that keeps
/// non-members of projects with non-public pipelines out, as the list does).
pub fn can_read_pipeline_of(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    can_read_pipeline(world, caller, meta) && can_read_build(world, caller, meta)
}

/// `reject_if_build_artifacts_size_refreshing!` (`lib/api/helpers/
/// project_stats_refresh_conflicts_helpers.rb`): 409 while project statistics refresh.
pub fn reject_if_statistics_refreshing(meta: &ProjectMeta) -> Result<(), ApiError> {
    if meta.statistics_refreshing {
        return Err(ApiError::Conflict(
            "Action temporarily disabled. The project this pipeline belongs to is undergoing \
             stats refresh."
                .into(),
        ));
    }
    Ok(())
}

/// `update_build` / `cancel_build` / `retry_job` / `play_job`: developers and up.
pub fn can_update_build(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    role(world, caller, meta).is_some_and(|r| r >= Role::Developer)
        && ci_available(world, caller, meta)
}

/// `destroy_pipeline`: owners, while CI/CD is available to them.
pub fn can_destroy_pipeline(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    role(world, caller, meta) == Some(Role::Owner) && ci_available(world, caller, meta)
}

/// `read_pipeline_variable` (`app/policies/ci/pipeline_policy.rb`): `admin_pipeline`
/// (maintainers), or `update_pipeline` for the user who triggered the pipeline.
pub fn can_read_pipeline_variables(
    world: &World,
    caller: Caller,
    meta: &ProjectMeta,
    triggered_by: Option<u64>,
) -> bool {
    let r = role(world, caller, meta);
    (r.is_some_and(|r| r >= Role::Maintainer)
        || (r.is_some_and(|r| r >= Role::Developer)
            && caller.user_id().is_some()
            && triggered_by == caller.user_id()))
        && ci_available(world, caller, meta)
}

/// `erase_build`: maintainers, or the developer who triggered the job.
pub fn can_erase(world: &World, caller: Caller, meta: &ProjectMeta, job: &Job) -> bool {
    if !ci_available(world, caller, meta) {
        return false;
    }
    match role(world, caller, meta) {
        Some(r) if r >= Role::Maintainer => true,
        Some(Role::Developer) => caller.user_id().is_some() && job.user_id == caller.user_id(),
        _ => false,
    }
}

pub fn is_maintainer(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    role(world, caller, meta).is_some_and(|r| r >= Role::Maintainer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_messages_join_the_policies_as_a_sentence() {
        let world = crate::scenario::build(
            &[crate::scenario::Source {
                name: "t.yaml".into(),
                text: "projects: [{id: 1, path: g/proj}]\n".into(),
                dir: None,
            }],
            &crate::scenario::Overrides::default(),
        )
        .expect("valid");
        let meta = world.directory.projects.get(&1).expect("project 1");
        let msg = |p: &[&str]| job_token_policies_message(meta, p);
        assert_eq!(
            msg(&[]),
            "This action is unauthorized for CI/CD job tokens."
        );
        assert_eq!(
            msg(&["read_jobs"]),
            "Insufficient permissions to access this resource in project proj. The following \
             token permission is required: read_jobs."
        );
        assert_eq!(
            msg(&["read_jobs", "admin_jobs"]),
            "Insufficient permissions to access this resource in project proj. The following \
             token permissions are required: read_jobs and admin_jobs."
        );
        assert!(msg(&["a", "b", "c"]).ends_with("required: a, b, and c."));
    }
}

//! Who is calling, and what they may do (docs/gitlab-behaviour.md §1.2–§1.4).
//!
//! Tokens: `PRIVATE-TOKEN` / `private_token`, `Authorization: Bearer`, and CI job tokens
//! (`JOB-TOKEN` / `job_token` / Bearer) — the latter only on routes GitLab marks
//! `job_token_allowed` and only while their job runs.

use super::query::{Params, scalar};
use super::{ApiError, Request};
use crate::world::status::Status;
use crate::world::{Job, ProjectMeta, Role, Visibility, World};

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
    let private = req
        .header("private-token")
        .map(str::to_owned)
        .or_else(|| param(params, "private_token"));
    let job = req
        .header("job-token")
        .map(str::to_owned)
        .or_else(|| param(params, "job_token"));
    let bearer = req
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());

    let write = !matches!(req.method, hyper::Method::GET | hyper::Method::HEAD);
    if let Some(t) = private {
        return personal(world, &t, write);
    }
    // GitLab's finders ignore a job token on routes that do not allow one: anonymous.
    if let Some(t) = job.filter(|_| job_token_allowed) {
        return job_token(world, &t);
    }
    if let Some(t) = bearer {
        if world.directory.tokens.contains_key(&t) {
            return personal(world, &t, write);
        }
        if job_token_allowed && world.directory.job_tokens.contains_key(&t) {
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

/// `find_project!`: 404 when missing or invisible; a job token from a project the target
/// does not allow is 403.
pub fn find_project<'w>(
    world: &'w World,
    caller: Caller,
    id: &str,
) -> Result<&'w ProjectMeta, ApiError> {
    let meta = world
        .directory
        .project_by_ref(id)
        .ok_or(ApiError::ProjectNotFound)?;
    if let Caller::Job { project_id, .. } = caller
        && project_id != meta.id
        && !meta.job_token_allowlist.contains(&project_id)
    {
        let from = world
            .directory
            .projects
            .get(&project_id)
            .map(|p| p.path_with_namespace.as_str())
            .unwrap_or("");
        return Err(ApiError::Forbidden(Some(format!(
            "Authentication by CI/CD job token not allowed from {from} to {}.",
            meta.path_with_namespace
        ))));
    }
    if !can_read_project(world, caller, meta) {
        return Err(ApiError::ProjectNotFound);
    }
    Ok(meta)
}

/// `read_build`: reporters and up, or anyone who can see the project when its pipelines
/// are public.
pub fn can_read_build(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    role(world, caller, meta).is_some_and(|r| r >= Role::Reporter)
        || (meta.public_builds && can_read_project(world, caller, meta))
}

/// `read_pipeline`: reporters and up; anyone with access to a public or internal project;
/// guests when pipelines are public.
pub fn can_read_pipeline(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    let r = role(world, caller, meta);
    r.is_some_and(|r| r >= Role::Reporter)
        || (meta.visibility != Visibility::Private && can_read_project(world, caller, meta))
        || (r.is_some() && meta.public_builds)
}

/// `update_build` / `cancel_build` / `retry_job` / `play_job`: developers and up.
pub fn can_update_build(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    role(world, caller, meta).is_some_and(|r| r >= Role::Developer)
}

/// `erase_build`: maintainers, or the developer who triggered the job.
pub fn can_erase(world: &World, caller: Caller, meta: &ProjectMeta, job: &Job) -> bool {
    match role(world, caller, meta) {
        Some(r) if r >= Role::Maintainer => true,
        Some(Role::Developer) => caller.user_id().is_some() && job.user_id == caller.user_id(),
        _ => false,
    }
}

pub fn is_maintainer(world: &World, caller: Caller, meta: &ProjectMeta) -> bool {
    role(world, caller, meta).is_some_and(|r| r >= Role::Maintainer)
}

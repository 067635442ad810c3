//! The Jobs API (`lib/api/ci/jobs.rb`, plus the pipeline jobs and bridges lists that live
//! in `pipelines.rb`), in GitLab's order of checks: authenticate, validate parameters,
//! find the project, authorize, find the job.

use std::collections::BTreeSet;
use std::sync::Arc;

use hyper::StatusCode;

use super::{ok_json, path_int, project, validate};
use crate::api::auth::{self, Caller};
use crate::api::pagination::{self, Cursor, LinkValue, Page};
use crate::api::query::{Param, Reader, scalar, scalar_str};
use crate::api::{ApiError, Body, Ctx, Response};
use crate::render;
use crate::world::mutate::MutationError;
use crate::world::status::Status;
use crate::world::{Job, ProjectMeta, ProjectState, World};

fn read_scope(r: &mut Reader, world: &World, accept_hash: bool) -> Option<Vec<Status>> {
    r.string_array("scope", world.instance.profile.statuses(), accept_hash)
        .map(|v| v.iter().filter_map(|s| Status::parse(s)).collect())
}

/// Build ids in descending order, optionally limited to some statuses and to ids below a
/// keyset cursor. Uses the per-status indexes, merged, so a deep keyset page costs the
/// same as the first.
/// The project's builds, newest first, below `below` and in `scope` when given. The
/// unfiltered walk hands out the jobs it passes (no lookup by id).
fn builds_desc<'a>(
    state: &'a ProjectState,
    scope: Option<&[Status]>,
    below: Option<u64>,
) -> impl Iterator<Item = &'a Arc<Job>> + 'a {
    let upper = below.unwrap_or(u64::MAX);
    match scope {
        None => Either::Left(state.builds.range(..upper).rev().map(|(_, job)| job)),
        Some(statuses) => {
            let sets: BTreeSet<Status> = statuses.iter().copied().collect();
            let iters: Vec<_> = sets
                .into_iter()
                .map(|s| {
                    state.builds_by_status[s.index()]
                        .range(..upper)
                        .rev()
                        .copied()
                        .peekable()
                })
                .collect();
            Either::Right(MergeDesc { iters }.filter_map(|id| state.job(id)))
        }
    }
}

/// One of two iterators (no box for the unfiltered walk).
enum Either<L, R> {
    Left(L),
    Right(R),
}

impl<T, L: Iterator<Item = T>, R: Iterator<Item = T>> Iterator for Either<L, R> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Left(l) => l.next(),
            Either::Right(r) => r.next(),
        }
    }
}

/// k-way merge of descending iterators.
struct MergeDesc<I: Iterator<Item = u64>> {
    iters: Vec<std::iter::Peekable<I>>,
}

impl<I: Iterator<Item = u64>> Iterator for MergeDesc<I> {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        let (best, _) = self
            .iters
            .iter_mut()
            .enumerate()
            .filter_map(|(i, it)| it.peek().map(|v| (i, *v)))
            .max_by_key(|(_, v)| *v)?;
        self.iters[best].next()
    }
}

fn count_builds(state: &ProjectState, scope: Option<&[Status]>) -> usize {
    match scope {
        None => state.builds.len(),
        Some(s) => s
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|st| state.builds_by_status[st.index()].len())
            .sum(),
    }
}

/// A 200 page of jobs, with the contract check of its cached entities.
fn job_page<'a, I>(world: &World, jobs: I) -> Response
where
    I: IntoIterator<Item = &'a Job>,
    I::IntoIter: Clone,
{
    let (parts, violations) = render::job_list(world, "job_list", jobs);
    Response::new(StatusCode::OK, Body::JsonParts(parts)).checked("job_list", violations)
}

fn render_jobs<'a, I>(world: &World, jobs: I) -> Response
where
    I: IntoIterator<Item = &'a Arc<Job>>,
    I::IntoIter: Clone,
{
    job_page(world, jobs.into_iter().map(|j| j.as_ref()))
}

fn state<'w>(world: &'w World, meta: &ProjectMeta) -> Result<&'w Arc<ProjectState>, ApiError> {
    world.project_state(meta.id).ok_or(ApiError::Internal)
}

/// `GET /projects/:id/jobs`: builds of every pipeline (retried ones too), newest first.
pub fn list_project_jobs(ctx: &Ctx) -> Result<Response, ApiError> {
    let world = &ctx.world;
    let caller = auth::require_user(auth::authenticate(world, ctx.req, true)?)?;
    let params = ctx.req.params();
    let keyset = params.get("pagination").and_then(scalar_str).as_deref() == Some("keyset");
    let (scope, page) = validate(ctx, |r| (read_scope(r, world, true), Page::read(r)))?;
    let page = page.ok_or(ApiError::Internal)?;
    let meta = auth::find_project_for(world, caller, ctx.route.get("id"), Some(&auth::READ_JOBS))?;
    if !auth::can_read_build(world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let state = state(world, meta)?;
    let scope = scope.as_deref();
    let path = [("id", LinkValue::text(ctx.route.get("id")))];

    if keyset {
        let order_by = params
            .get("order_by")
            .and_then(scalar)
            .unwrap_or_else(|| "id".into());
        let sort = params
            .get("sort")
            .and_then(scalar)
            .unwrap_or_else(|| "desc".into());
        if order_by != "id" || sort != "desc" {
            return Err(ApiError::NotAllowedWithMessage(
                "Keyset pagination is not yet available for this type of request".into(),
            ));
        }
        let below = match params.get("cursor").and_then(scalar) {
            Some(c) => Some(
                Cursor::decode(&c)
                    .ok_or_else(|| ApiError::BadRequest("Invalid cursor parameter".into()))?
                    .id(),
            ),
            None => None,
        };
        let mut jobs: Vec<&Arc<Job>> = Vec::with_capacity(page.per_page as usize + 1);
        jobs.extend(builds_desc(state, scope, below).take(page.per_page as usize + 1));
        let has_more = jobs.len() > page.per_page as usize;
        jobs.truncate(page.per_page as usize);
        let next = if has_more {
            jobs.last().map(|j| Cursor::next_after(j.id))
        } else {
            None
        };
        let resp = render_jobs(world, jobs);
        let mut link = pagination::link_params(ctx.req, &path, &[]);
        link.set("per_page", LinkValue::Int(page.per_page));
        return Ok(pagination::keyset_headers(resp, ctx.req, link, next));
    }

    page.check_offset_limit("Ci::Build")?;
    let mut jobs: Vec<&Arc<Job>> = Vec::with_capacity(page.per_page as usize + 1);
    jobs.extend(
        builds_desc(state, scope, None)
            .skip(page.offset())
            .take(page.per_page as usize + 1),
    );
    let has_next = jobs.len() > page.per_page as usize;
    jobs.truncate(page.per_page as usize);
    let total = world
        .instance
        .profile
        .jobs_list_totals
        .then(|| count_builds(state, scope));
    let resp = render_jobs(world, jobs);
    let link = pagination::link_params(ctx.req, &path, &[]);
    Ok(pagination::offset_headers(
        resp, ctx.req, link, page, total, has_next,
    ))
}

/// Shared by the pipeline jobs and bridges lists.
struct PipelineList {
    caller: Caller,
    pipeline_id: u64,
    scope: Option<Vec<Status>>,
    include_retried: bool,
    page: Page,
}

fn read_pipeline_list(
    ctx: &Ctx,
    job_token_allowed: bool,
    retried_param: bool,
) -> Result<PipelineList, ApiError> {
    let world = &ctx.world;
    let caller = auth::authenticate(world, ctx.req, job_token_allowed)?;
    let pipeline_id = path_int(ctx, "pipeline_id")?;
    let (scope, include_retried, page) = validate(ctx, |r| {
        let retried = if retried_param {
            r.bool("include_retried")
        } else {
            None
        };
        (read_scope(r, world, false), retried, Page::read(r))
    })?;
    Ok(PipelineList {
        caller,
        pipeline_id,
        scope,
        include_retried: include_retried.unwrap_or(false),
        page: page.ok_or(ApiError::Internal)?,
    })
}

/// A page of a pipeline's jobs (`job_list`) or bridges (`bridge_list`).
fn respond_pipeline_list(
    ctx: &Ctx,
    list: &PipelineList,
    shape: &'static str,
    jobs: Vec<&Arc<Job>>,
    defaults: &[(&str, LinkValue)],
) -> Response {
    let page = list.page;
    let total = jobs.len();
    let shown = jobs
        .iter()
        .skip(page.offset())
        .take(page.per_page as usize)
        .map(|j| j.as_ref());
    let (parts, violations) = render::job_list(&ctx.world, shape, shown);
    let path = [
        ("id", LinkValue::text(ctx.route.get("id"))),
        ("pipeline_id", LinkValue::Int(list.pipeline_id as i64)),
    ];
    let link = pagination::link_params(ctx.req, &path, defaults);
    pagination::offset_headers(
        Response::new(StatusCode::OK, Body::JsonParts(parts)).checked(shape, violations),
        ctx.req,
        link,
        page,
        Some(total),
        false,
    )
}

/// `GET /projects/:id/pipelines/:pipeline_id/jobs`.
pub fn list_pipeline_jobs(ctx: &Ctx) -> Result<Response, ApiError> {
    let world = &ctx.world;
    let list = read_pipeline_list(ctx, true, true)?;
    let meta = auth::find_project_for(
        world,
        list.caller,
        ctx.route.get("id"),
        Some(&auth::READ_JOBS),
    )?;
    if !auth::can_read_pipeline(world, list.caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let state = state(world, meta)?;
    if !state.pipelines.contains_key(&list.pipeline_id) {
        return Err(ApiError::RecordNotFound);
    }
    // The finder swallows a missing read_build: 200 with an empty list.
    let readable = auth::can_read_build(world, list.caller, meta);
    let mut jobs: Vec<&Arc<Job>> = state
        .pipeline_jobs(list.pipeline_id)
        .filter(|j| readable && !j.is_bridge())
        .filter(|j| list.include_retried || !j.retried)
        .filter(|j| list.scope.as_ref().is_none_or(|s| s.contains(&j.status)))
        .collect();
    jobs.reverse();
    let defaults = [(
        "include_retried",
        LinkValue::text(if list.include_retried {
            "true"
        } else {
            "false"
        }),
    )];
    Ok(respond_pipeline_list(
        ctx, &list, "job_list", jobs, &defaults,
    ))
}

/// `GET /projects/:id/pipelines/:pipeline_id/bridges`: latest bridges only.
pub fn list_pipeline_bridges(ctx: &Ctx) -> Result<Response, ApiError> {
    let world = &ctx.world;
    let list = read_pipeline_list(ctx, false, false)?;
    let meta = project(ctx, list.caller)?;
    if !auth::can_read_build(world, list.caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let state = state(world, meta)?;
    if !state.pipelines.contains_key(&list.pipeline_id) {
        return Err(ApiError::RecordNotFound);
    }
    let mut jobs: Vec<&Arc<Job>> = state
        .pipeline_jobs(list.pipeline_id)
        .filter(|j| j.is_bridge() && !j.retried)
        .filter(|j| list.scope.as_ref().is_none_or(|s| s.contains(&j.status)))
        .collect();
    jobs.reverse();
    Ok(respond_pipeline_list(ctx, &list, "bridge_list", jobs, &[]))
}

/// The running job behind a CI job token (`GET /job`, `/job/allowed_agents`).
fn token_job_of(ctx: &Ctx) -> Result<(Caller, Arc<Job>), ApiError> {
    let caller = auth::authenticate(&ctx.world, ctx.req, true)?;
    match caller {
        Caller::Anonymous => Err(ApiError::Unauthorized),
        Caller::User { .. } => Err(ApiError::NotFound("Job")),
        Caller::Job { job_id, .. } => Ok((
            caller,
            ctx.world
                .job_anywhere(job_id)
                .cloned()
                .ok_or(ApiError::NotFound("Job"))?,
        )),
    }
}

/// `GET /job`.
pub fn token_job(ctx: &Ctx) -> Result<Response, ApiError> {
    let (_, job) = token_job_of(ctx)?;
    Ok(single_job(&ctx.world, &job, StatusCode::OK))
}

/// `GET /job/allowed_agents`.
pub fn allowed_agents(ctx: &Ctx) -> Result<Response, ApiError> {
    let (caller, job) = token_job_of(ctx)?;
    let user = caller
        .user_id()
        .and_then(|id| ctx.world.directory.users.get(&id));
    Ok(ok_json(render::allowed_agents(&ctx.world, &job, user)))
}

/// Common start of the single-job routes: 401, 400 (`job_id`), 404 project.
fn single<'w>(ctx: &'w Ctx) -> Result<(Caller, u64, &'w ProjectMeta), ApiError> {
    let caller = auth::require_user(auth::authenticate(&ctx.world, ctx.req, false)?)?;
    let job_id = path_int(ctx, "job_id")?;
    let meta = project(ctx, caller)?;
    Ok((caller, job_id, meta))
}

/// `find_build!`: builds only — a bridge id is 404 too.
fn find_build(world: &World, meta: &ProjectMeta, job_id: u64) -> Result<Arc<Job>, ApiError> {
    world
        .project_state(meta.id)
        .and_then(|s| s.builds.get(&job_id))
        .cloned()
        .ok_or(ApiError::RecordNotFound)
}

/// `find_job!`: builds and bridges.
fn find_job(world: &World, meta: &ProjectMeta, job_id: u64) -> Result<Arc<Job>, ApiError> {
    world
        .project_state(meta.id)
        .and_then(|s| s.job(job_id))
        .cloned()
        .ok_or(ApiError::RecordNotFound)
}

/// `GET /projects/:id/jobs/:job_id`.
pub fn get_job(ctx: &Ctx) -> Result<Response, ApiError> {
    let (caller, job_id, meta) = single(ctx)?;
    if !auth::can_read_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let job = find_build(&ctx.world, meta, job_id)?;
    Ok(single_job(&ctx.world, &job, StatusCode::OK))
}

/// `GET /projects/:id/jobs/:job_id/trace`: the raw log as `text/plain`; 200 and empty
/// when there is none.
pub fn trace(ctx: &Ctx) -> Result<Response, ApiError> {
    let (caller, job_id, meta) = single(ctx)?;
    if !auth::can_read_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let job = find_build(&ctx.world, meta, job_id)?;
    if debug_mode(&ctx.world, meta, &job) && !auth::can_update_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let body = job.visible_log(ctx.world.now());
    Ok(Response::new(StatusCode::OK, Body::Text(body)).with_header(
        hyper::header::CONTENT_DISPOSITION,
        format!("infile; filename=\"{job_id}.log\""),
    ))
}

/// `Ci::Build#debug_mode?`: the runner's `debug_trace_enabled` metadata, or `CI_DEBUG_TRACE`
/// or `CI_DEBUG_SERVICES` true among the job's
/// variables, which take the job's, then the pipeline's, project's and instance's
/// (`Gitlab::Utils.to_boolean`: `true`, `t`, `yes`, `y`, `1`, `on`, any case).
fn debug_mode(world: &World, meta: &ProjectMeta, job: &Job) -> bool {
    if job.debug_trace_enabled {
        return true;
    }
    let pipeline = world.pipeline(meta.id, job.pipeline_id);
    let scoped = job
        .variables
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(
            pipeline
                .iter()
                .flat_map(|p| &p.variables)
                .chain(&meta.variables)
                .chain(&world.instance.variables)
                .map(|v| (v.key.as_str(), v.value.as_str())),
        );
    let mut seen = std::collections::HashSet::new();
    scoped
        // The innermost definition of a key wins.
        .filter(|(k, _)| seen.insert(*k))
        .any(|(k, v)| {
            matches!(k, "CI_DEBUG_TRACE" | "CI_DEBUG_SERVICES")
                && matches!(
                    v.to_ascii_lowercase().as_str(),
                    "true" | "t" | "yes" | "y" | "1" | "on"
                )
        })
}

fn mutation_error(e: MutationError) -> ApiError {
    match e {
        MutationError::NotFound => ApiError::RecordNotFound,
        MutationError::NotRetryable | MutationError::NotErasable => {
            ApiError::Forbidden(Some(e.to_string()))
        }
        MutationError::Unplayable => ApiError::BadRequest(e.to_string()),
    }
}

/// One job entity (or bridge), with its cached contract check.
fn single_job(world: &World, job: &Job, status: StatusCode) -> Response {
    let (parts, violations) = render::job_parts(world, job);
    let shape = if job.is_bridge() { "bridge" } else { "job" };
    Response::new(status, Body::JsonParts(parts.into())).checked(shape, violations.to_vec())
}

/// Runs a change on the caller's session (the request's snapshot dropped first) and renders
/// the job it returns, under the lock.
fn write_job(
    ctx: Ctx,
    status: StatusCode,
    change: impl FnOnce(&mut World) -> Result<Arc<Job>, MutationError>,
) -> Result<Response, ApiError> {
    super::write(ctx, |w| {
        let job = change(w).map_err(mutation_error)?;
        Ok(single_job(w, &job, status))
    })
}

/// `POST /projects/:id/jobs/:job_id/cancel`: 201 for any state.
pub fn cancel(ctx: Ctx) -> Result<Response, ApiError> {
    let (caller, job_id, meta) = single(&ctx)?;
    let force = if ctx.world.instance.profile.force_cancel {
        validate(&ctx, |r| r.bool("force"))?.unwrap_or(false)
    } else {
        false
    };
    if !auth::can_update_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    find_build(&ctx.world, meta, job_id)?;
    if force && !auth::is_maintainer(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let project_id = meta.id;
    write_job(ctx, StatusCode::CREATED, |w| {
        w.cancel_job(project_id, job_id, force)
    })
}

/// `POST /projects/:id/jobs/:job_id/retry`: 201 with the **new** job.
pub fn retry(ctx: Ctx) -> Result<Response, ApiError> {
    let (caller, job_id, meta) = single(&ctx)?;
    find_job(&ctx.world, meta, job_id)?;
    if !auth::can_update_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let (project_id, user) = (meta.id, caller.user_id());
    write_job(ctx, StatusCode::CREATED, |w| {
        w.retry_job(project_id, job_id, user)
    })
}

/// `POST /projects/:id/jobs/:job_id/erase`: builds only.
pub fn erase(ctx: Ctx) -> Result<Response, ApiError> {
    let (caller, job_id, meta) = single(&ctx)?;
    let job = find_build(&ctx.world, meta, job_id)?;
    if !auth::can_erase(&ctx.world, caller, meta, &job) {
        return Err(ApiError::Forbidden(None));
    }
    // GitLab's order: erasable (403), then the statistics refresh (409).
    if !job.is_erasable() {
        return Err(mutation_error(MutationError::NotErasable));
    }
    auth::reject_if_statistics_refreshing(meta)?;
    let project_id = meta.id;
    write_job(ctx, StatusCode::CREATED, |w| {
        w.erase_job(project_id, job_id)
    })
}

/// `job_variables_attributes`: an array of `{key, value}`, each required (Grape's
/// `job_variables_attributes[0][key] is missing`).
fn read_job_variables(r: &mut Reader) -> Vec<(String, String)> {
    let Some(p) = r.params.get("job_variables_attributes") else {
        return Vec::new();
    };
    let items: Vec<&Param> = match p {
        Param::Arr(items) => items.iter().collect(),
        Param::Hash(h) => h.values().collect(),
        _ => {
            r.errors.push("job_variables_attributes is invalid".into());
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Param::Hash(h) = item else {
            r.errors
                .push(format!("job_variables_attributes[{i}] is invalid"));
            continue;
        };
        let key = h.get("key").and_then(scalar);
        let value = h.get("value").and_then(scalar);
        if key.is_none() {
            r.errors
                .push(format!("job_variables_attributes[{i}][key] is missing"));
        }
        if value.is_none() {
            r.errors
                .push(format!("job_variables_attributes[{i}][value] is missing"));
        }
        if let (Some(k), Some(v)) = (key, value) {
            out.push((k, v));
        }
    }
    out
}

/// `POST /projects/:id/jobs/:job_id/play`: 200, same id, user = caller.
pub fn play(ctx: Ctx) -> Result<Response, ApiError> {
    let caller = auth::require_user(auth::authenticate(&ctx.world, ctx.req, false)?)?;
    let job_id = path_int(&ctx, "job_id")?;
    let variables = validate(&ctx, read_job_variables)?;
    let meta = project(&ctx, caller)?;
    if !auth::can_read_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    find_job(&ctx.world, meta, job_id)?;
    if !auth::can_update_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let (project_id, user) = (meta.id, caller.user_id());
    write_job(ctx, StatusCode::OK, |w| {
        w.play_job(project_id, job_id, user, variables)
            .map(|p| p.job)
    })
}

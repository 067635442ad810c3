//! The Pipelines API (`lib/api/ci/pipelines.rb`). GETs may be anonymous
//! (`authenticate_non_get!`); everything else needs a user.

use std::sync::Arc;

use hyper::StatusCode;

use super::{ok_json, path_int, project, validate};
use crate::api::auth::{self, Caller};
use crate::api::pagination::{self, LinkValue, Page};
use crate::api::query::{Param, Reader, scalar};
use crate::api::{ApiError, Body, Ctx, Response};
use crate::render;
use crate::scenario::load::SOURCES;
use crate::world::pipelines::CreateError;
use crate::world::status::Status;
use crate::world::{Pipeline, ProjectMeta, ProjectState, Variable, World};

const SCOPES: &[&str] = &["running", "pending", "finished", "branches", "tags"];
const ORDER_BY: &[&str] = &["id", "status", "ref", "updated_at", "user_id"];
const SORT: &[&str] = &["asc", "desc"];

/// Anonymous GETs are fine here; writes need a user.
fn caller(ctx: &Ctx) -> Result<Caller, ApiError> {
    let c = auth::authenticate(&ctx.world, ctx.req, false)?;
    if ctx.req.method != hyper::Method::GET && ctx.req.method != hyper::Method::HEAD {
        return auth::require_user(c);
    }
    Ok(c)
}

fn find_pipeline<'w>(
    world: &'w World,
    meta: &ProjectMeta,
    id: u64,
) -> Result<&'w Arc<Pipeline>, ApiError> {
    world.pipeline(meta.id, id).ok_or(ApiError::RecordNotFound)
}

struct ListFilters {
    scope: Option<String>,
    status: Option<String>,
    source: Option<String>,
    ref_: Option<String>,
    sha: Option<String>,
    yaml_errors: Option<bool>,
    username: Option<String>,
    updated_after: Option<jiff::Timestamp>,
    updated_before: Option<jiff::Timestamp>,
    created_after: Option<jiff::Timestamp>,
    created_before: Option<jiff::Timestamp>,
    name: Option<String>,
    order_by: String,
    sort: String,
    page: Option<Page>,
}

fn read_filters(r: &mut Reader, world: &World) -> ListFilters {
    ListFilters {
        scope: r.choice("scope", SCOPES),
        status: r.choice("status", world.instance.profile.statuses()),
        source: r.choice("source", SOURCES),
        ref_: r.string("ref"),
        sha: r.string("sha"),
        yaml_errors: r.bool("yaml_errors"),
        username: r.string("username"),
        updated_after: r.datetime("updated_after"),
        updated_before: r.datetime("updated_before"),
        created_after: r.datetime("created_after"),
        created_before: r.datetime("created_before"),
        name: r.string("name"),
        order_by: r
            .choice("order_by", ORDER_BY)
            .unwrap_or_else(|| "id".into()),
        sort: r.choice("sort", SORT).unwrap_or_else(|| "desc".into()),
        page: Page::read(r),
    }
}

/// `GET /projects/:id/pipelines`.
pub fn list(ctx: &Ctx) -> Result<Response, ApiError> {
    let world = &ctx.world;
    let caller = caller(ctx)?;
    let f = validate(ctx, |r| read_filters(r, world))?;
    let page = f.page.ok_or(ApiError::Internal)?;
    let meta = project(ctx, caller)?;
    if !auth::can_read_pipeline(world, caller, meta) || !auth::can_read_build(world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let state = world.project_state(meta.id).ok_or(ApiError::Internal)?;
    let user_filter = f
        .username
        .as_ref()
        .map(|u| world.directory.usernames.get(u).copied());
    let matches = |p: &Pipeline| {
        (match f.scope.as_deref() {
            Some("running") => p.status == Status::Running,
            Some("pending") => p.status == Status::Pending,
            Some("finished") => matches!(
                p.status,
                Status::Success | Status::Failed | Status::Canceled
            ),
            _ => true,
        }) && f.status.as_deref().is_none_or(|s| p.status.as_str() == s)
            // Child pipelines only when asked for by source (GitLab 17.0+).
            && (match f.source.as_deref() {
                Some(s) => p.source == s,
                None => p.source != "parent_pipeline",
            })
            && f.ref_.as_deref().is_none_or(|r| p.ref_ == r)
            && f.sha.as_deref().is_none_or(|s| p.sha == s)
            && f.yaml_errors.is_none_or(|y| p.yaml_errors.is_some() == y)
            && user_filter.is_none_or(|u| u.is_some() && p.user_id == u)
            && f.updated_after.is_none_or(|t| p.updated_at >= t)
            && f.updated_before.is_none_or(|t| p.updated_at <= t)
            && f.created_after.is_none_or(|t| p.created_at > t)
            && f.created_before.is_none_or(|t| p.created_at < t)
            && f
                .name
                .as_deref()
                .is_none_or(|n| p.name.as_deref() == Some(n))
    };
    let desc = f.sort != "asc";
    let (skip, take) = (page.offset(), page.per_page as usize);
    let mut shown: Vec<&Pipeline> = Vec::with_capacity(take.min(100));
    let total;
    if let Some(kind @ ("branches" | "tags")) = f.scope.as_deref() {
        // branches / tags: the newest pipeline of each existing branch or tag.
        let tags = kind == "tags";
        let names = if tags { &meta.tags } else { &meta.branches };
        let mut newest: std::collections::BTreeMap<&str, &Arc<Pipeline>> = Default::default();
        for p in state
            .pipelines
            .values()
            .filter(|p| matches(p) && p.tag == tags && names.contains_key(&p.ref_))
        {
            let e = newest.entry(p.ref_.as_str()).or_insert(p);
            if p.id > e.id {
                *e = p;
            }
        }
        let mut rows: Vec<&Arc<Pipeline>> = newest.into_values().collect();
        rows.sort_by(|a, b| {
            let ord = match f.order_by.as_str() {
                "status" => a.status.as_str().cmp(b.status.as_str()),
                "ref" => a.ref_.cmp(&b.ref_),
                "updated_at" => a.updated_at.cmp(&b.updated_at),
                "user_id" => a.user_id.cmp(&b.user_id),
                _ => std::cmp::Ordering::Equal,
            }
            .then(a.id.cmp(&b.id));
            if desc { ord.reverse() } else { ord }
        });
        total = rows.len();
        shown.extend(rows.into_iter().skip(skip).take(take).map(|p| p.as_ref()));
    } else {
        // Every order is an index keyed (value, id): one ordered walk, no sort.
        let orders = &state.pipeline_orders;
        let walk: Box<dyn Iterator<Item = &Arc<Pipeline>>> = match f.order_by.as_str() {
            "status" => ordered(orders.status.values(), desc),
            "ref" => ordered(orders.ref_.values(), desc),
            "updated_at" => ordered(orders.updated_at.values(), desc),
            "user_id" => ordered(orders.user_id.values(), desc),
            _ => ordered(state.pipelines.values(), desc),
        };
        // X-Total from the per-(source, status) counts when the filters are those two
        // alone: the walk then stops at the page's end.
        let counted = count_pipelines(state, &f);
        let mut n = 0;
        for p in walk.filter(|p| matches(p)) {
            if n >= skip && shown.len() < take {
                shown.push(p);
            }
            n += 1;
            if counted.is_some() && n >= skip.saturating_add(take) {
                break;
            }
        }
        total = counted.unwrap_or(n);
    }
    let (parts, violations) = render::pipeline_page(world, meta, shown);
    let resp =
        Response::new(StatusCode::OK, Body::JsonParts(parts)).checked("pipeline_list", violations);
    let path = [("id", LinkValue::text(ctx.route.get("id")))];
    let defaults = [
        ("order_by", LinkValue::text(&f.order_by)),
        ("sort", LinkValue::text(&f.sort)),
    ];
    let link = pagination::link_params(ctx.req, &path, &defaults);
    Ok(pagination::offset_headers(
        resp,
        ctx.req,
        link,
        page,
        Some(total),
        false,
    ))
}

/// How many pipelines the list's filters keep, from the per-`(source, status)` counts, when
/// no other filter is set (`None`: only a walk can tell).
fn count_pipelines(state: &ProjectState, f: &ListFilters) -> Option<usize> {
    let others = f.ref_.is_some()
        || f.sha.is_some()
        || f.yaml_errors.is_some()
        || f.username.is_some()
        || f.updated_after.is_some()
        || f.updated_before.is_some()
        || f.created_after.is_some()
        || f.created_before.is_some()
        || f.name.is_some();
    if others {
        return None;
    }
    let scope = |s: Status| match f.scope.as_deref() {
        Some("running") => s == Status::Running,
        Some("pending") => s == Status::Pending,
        Some("finished") => matches!(s, Status::Success | Status::Failed | Status::Canceled),
        _ => true,
    };
    Some(
        state
            .pipeline_counts
            .iter()
            .filter(|((source, status), _)| {
                scope(*status)
                    && f.status.as_deref().is_none_or(|s| status.as_str() == s)
                    && match f.source.as_deref() {
                        Some(s) => source == s,
                        None => source != "parent_pipeline",
                    }
            })
            .map(|(_, n)| *n)
            .sum(),
    )
}

/// An index walked ascending or descending.
fn ordered<'a, I>(it: I, desc: bool) -> Box<dyn Iterator<Item = &'a Arc<Pipeline>> + 'a>
where
    I: DoubleEndedIterator<Item = &'a Arc<Pipeline>> + 'a,
{
    if desc {
        Box::new(it.rev())
    } else {
        Box::new(it)
    }
}

/// `GET /projects/:id/pipelines/:pipeline_id`.
pub fn get(ctx: &Ctx) -> Result<Response, ApiError> {
    let caller = caller(ctx)?;
    let id = path_int(ctx, "pipeline_id")?;
    let meta = project(ctx, caller)?;
    // `authorize! :read_pipeline, pipeline`: the pipeline is found (404) before the check.
    let p = find_pipeline(&ctx.world, meta, id)?;
    if !auth::can_read_pipeline_of(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    Ok(ok_json(render::pipeline(&ctx.world, meta, p, true)))
}

/// `GET /projects/:id/pipelines/latest`: the newest pipeline of the ref at its current
/// head; 403 when there is none.
pub fn latest(ctx: &Ctx) -> Result<Response, ApiError> {
    let world = &ctx.world;
    let caller = caller(ctx)?;
    let ref_ = validate(ctx, |r| r.string("ref"))?;
    let meta = project(ctx, caller)?;
    let ref_ = ref_
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| meta.default_branch.clone());
    let head = meta.branches.get(&ref_).or_else(|| meta.tags.get(&ref_));
    let state = world.project_state(meta.id).ok_or(ApiError::Internal)?;
    let found = head.and_then(|sha| {
        state
            .pipelines
            .values()
            .rev()
            .find(|p| p.ref_ == ref_ && &p.sha == sha && p.source != "parent_pipeline")
    });
    match found {
        Some(p) if auth::can_read_pipeline_of(world, caller, meta) => {
            Ok(ok_json(render::pipeline(world, meta, p, true)))
        }
        _ => Err(ApiError::Forbidden(None)),
    }
}

/// `GET …/variables`: maintainers, or the developer who triggered the pipeline.
pub fn variables(ctx: &Ctx) -> Result<Response, ApiError> {
    let caller = caller(ctx)?;
    let id = path_int(ctx, "pipeline_id")?;
    let meta = project(ctx, caller)?;
    let p = find_pipeline(&ctx.world, meta, id)?;
    if !auth::can_read_pipeline_variables(&ctx.world, caller, meta, p.user_id) {
        return Err(ApiError::Forbidden(None));
    }
    Ok(ok_json(render::variables(p)))
}

fn report(ctx: &Ctx, summary: bool) -> Result<Response, ApiError> {
    let caller = caller(ctx)?;
    let id = path_int(ctx, "pipeline_id")?;
    let meta = project(ctx, caller)?;
    let p = find_pipeline(&ctx.world, meta, id)?;
    if !auth::can_read_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    Ok(ok_json(if summary {
        render::test_report_summary(&ctx.world, p)
    } else {
        render::test_report(p)
    }))
}

/// `GET …/test_report`.
pub fn test_report(ctx: &Ctx) -> Result<Response, ApiError> {
    report(ctx, false)
}

/// `GET …/test_report_summary`.
pub fn test_report_summary(ctx: &Ctx) -> Result<Response, ApiError> {
    report(ctx, true)
}

fn read_variables(r: &mut Reader) -> Vec<Variable> {
    let Some(p) = r.params.get("variables") else {
        return Vec::new();
    };
    let items: Vec<&Param> = match p {
        Param::Arr(items) => items.iter().collect(),
        Param::Hash(h) => h.values().collect(),
        _ => {
            r.errors.push("variables is invalid".into());
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Param::Hash(h) = item else {
            r.errors.push(format!("variables[{i}] is invalid"));
            continue;
        };
        let key = h.get("key").and_then(scalar);
        let value = h.get("value").and_then(scalar);
        let vt = h
            .get("variable_type")
            .and_then(scalar)
            .unwrap_or_else(|| "env_var".into());
        if key.is_none() {
            r.errors.push(format!("variables[{i}][key] is missing"));
        }
        if value.is_none() {
            r.errors.push(format!("variables[{i}][value] is missing"));
        }
        if vt != "env_var" && vt != "file" {
            r.errors.push(format!(
                "variables[{i}][variable_type] does not have a valid value"
            ));
        }
        if let (Some(key), Some(value)) = (key, value) {
            out.push(Variable {
                key,
                value,
                variable_type: vt,
                raw: false,
            });
        }
    }
    out
}

/// `inputs` (`optional :inputs, type: Hash` in lib/api/ci/helpers/pipelines_helpers.rb): a
/// JSON object or form data `inputs[name]=value`; each string value that is JSON becomes
/// that value (`Ci::PipelineCreation::Inputs.parse_params`), so form data can give numbers,
/// booleans and arrays.
fn read_inputs(r: &mut Reader) -> Option<serde_json::Map<String, serde_json::Value>> {
    let p = r.params.get("inputs")?;
    let Param::Hash(h) = p else {
        r.errors.push("inputs is invalid".into());
        return None;
    };
    Some(
        h.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    crate::scenario::inputs::parse_param(param_json(v)),
                )
            })
            .collect(),
    )
}

/// A parameter as the JSON value it stands for.
fn param_json(p: &Param) -> serde_json::Value {
    match p {
        Param::Str(s) => serde_json::Value::String(s.clone()),
        Param::Json(v) => v.clone(),
        Param::Arr(items) => items.iter().map(param_json).collect(),
        Param::Hash(h) => {
            serde_json::Value::Object(h.iter().map(|(k, v)| (k.clone(), param_json(v))).collect())
        }
    }
}

/// `POST /projects/:id/pipeline` (singular).
pub fn create(ctx: Ctx) -> Result<Response, ApiError> {
    let caller = caller(&ctx)?;
    let (ref_, variables, inputs) = validate(&ctx, |r| {
        let ref_ = r.string("ref");
        if ref_.is_none() {
            r.errors.push("ref is missing".into());
        }
        (ref_, read_variables(r), read_inputs(r))
    })?;
    let ref_ = ref_.ok_or(ApiError::Internal)?;
    let meta = project(&ctx, caller)?;
    if !auth::can_update_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let project_id = meta.id;
    let user = caller.user_id();
    super::write(ctx, |w| {
        let p = w
            .create_pipeline(project_id, &ref_, user, variables, inputs)
            .map_err(|e: CreateError| ApiError::BaseValidation(vec![e.to_string()]))?;
        let meta = w
            .directory
            .projects
            .get(&project_id)
            .ok_or(ApiError::Internal)?;
        Ok(Response::json(
            StatusCode::CREATED,
            render::pipeline(w, meta, &p, false),
        ))
    })
}

fn write_pipeline(
    ctx: Ctx,
    status: StatusCode,
    change: impl FnOnce(&mut World, u64, u64) -> Option<Arc<Pipeline>>,
) -> Result<Response, ApiError> {
    let caller = caller(&ctx)?;
    let id = path_int(&ctx, "pipeline_id")?;
    let meta = project(&ctx, caller)?;
    find_pipeline(&ctx.world, meta, id)?;
    if !auth::can_update_build(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    let project_id = meta.id;
    super::write(ctx, |w| {
        let p = change(w, project_id, id).ok_or(ApiError::RecordNotFound)?;
        let meta = w
            .directory
            .projects
            .get(&project_id)
            .ok_or(ApiError::Internal)?;
        Ok(Response::json(status, render::pipeline(w, meta, &p, false)))
    })
}

/// `POST …/pipelines/:id/retry`: 201, even when there was nothing to retry.
pub fn retry(ctx: Ctx) -> Result<Response, ApiError> {
    let user = auth::authenticate(&ctx.world, ctx.req, false)?.user_id();
    write_pipeline(ctx, StatusCode::CREATED, |w, project, id| {
        w.retry_pipeline(project, id, user)
    })
}

/// `POST …/pipelines/:id/cancel`: 200 whatever the state.
pub fn cancel(ctx: Ctx) -> Result<Response, ApiError> {
    write_pipeline(ctx, StatusCode::OK, |w, project, id| {
        w.cancel_pipeline(project, id)
    })
}

/// `DELETE …/pipelines/:id`: owners only; 204 with no body.
pub fn delete(ctx: Ctx) -> Result<Response, ApiError> {
    let caller = caller(&ctx)?;
    let id = path_int(&ctx, "pipeline_id")?;
    let meta = project(&ctx, caller)?;
    find_pipeline(&ctx.world, meta, id)?;
    if !auth::can_destroy_pipeline(&ctx.world, caller, meta) {
        return Err(ApiError::Forbidden(None));
    }
    auth::reject_if_statistics_refreshing(meta)?;
    let project_id = meta.id;
    if super::write(ctx, |w| w.delete_pipeline(project_id, id)) {
        Ok(Response::new(StatusCode::NO_CONTENT, Body::Empty))
    } else {
        Err(ApiError::RecordNotFound)
    }
}

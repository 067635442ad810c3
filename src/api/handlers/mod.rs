//! Endpoint handlers: authenticate, read parameters, ask `world/` to query or change
//! state, ask `render/` for the body. No JSON is built here.

pub mod jobs;
pub mod misc;
pub mod pipelines;

use hyper::StatusCode;

use super::auth::{self, Caller};
use super::query::{Reader, coerce_int};
use super::{ApiError, Ctx, Response};
use crate::world::{ProjectMeta, World};

/// Parses an Integer path parameter with Grape's message (`job_id is invalid`).
pub fn path_int(ctx: &Ctx, key: &str) -> Result<u64, ApiError> {
    coerce_int(ctx.route.get(key))
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| ApiError::Validation(format!("{key} is invalid")))
}

/// Runs Grape-style parameter validation over the merged params.
pub fn validate<T>(ctx: &Ctx, read: impl FnOnce(&mut Reader) -> T) -> Result<T, ApiError> {
    let params = ctx.req.params();
    let mut r = Reader::new(params);
    let out = read(&mut r);
    r.finish().map_err(ApiError::Validation)?;
    Ok(out)
}

pub fn project<'w>(ctx: &'w Ctx, caller: Caller) -> Result<&'w ProjectMeta, ApiError> {
    auth::find_project(&ctx.world, caller, ctx.route.get("id"))
}

pub fn ok_json(bytes: bytes::Bytes) -> Response {
    Response::json(StatusCode::OK, bytes)
}

/// Runs `change` on the caller's session under its lock, after dropping the request's
/// snapshot: a write never runs while its own request still holds the world it replaces, so
/// `Arc::make_mut` shares what it does not change instead of copying the session.
pub fn write<T>(ctx: Ctx, change: impl FnOnce(&mut World) -> T) -> T {
    let Ctx {
        req,
        world,
        sessions,
        ..
    } = ctx;
    drop(world);
    sessions.write(&req.session, change)
}

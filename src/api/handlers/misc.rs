//! What clients call before anything else: `GET /user` and `GET /projects/:id`.

use super::{ok_json, project as find_project};
use crate::api::auth;
use crate::api::{ApiError, Ctx, Response};
use crate::render;

/// `GET /user`: the token's own user; 401 without a personal token.
pub fn current_user(ctx: &Ctx) -> Result<Response, ApiError> {
    let caller = auth::require_user(auth::authenticate(&ctx.world, ctx.req, false)?)?;
    let uid = caller.user_id().ok_or(ApiError::Unauthorized)?;
    let user = ctx
        .world
        .directory
        .users
        .get(&uid)
        .ok_or(ApiError::Unauthorized)?;
    Ok(ok_json(render::current_user(&ctx.world, user)))
}

/// `GET /projects/:id`: anonymous on public projects, 404 when not visible.
pub fn project(ctx: &Ctx) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&ctx.world, ctx.req, false)?;
    let meta = find_project(ctx, caller)?;
    Ok(ok_json(render::project(&ctx.world, meta)))
}

/// `GET /version`: the emulated version (any authenticated user, as on GitLab).
pub fn version(ctx: &Ctx) -> Result<Response, ApiError> {
    auth::require_user(auth::authenticate(&ctx.world, ctx.req, true)?)?;
    Ok(ok_json(render::version(&ctx.world)))
}

//! The journal endpoints: list, clear, violations.

use hyper::StatusCode;
use serde::Serialize;

use super::{ControlError, Ctx, json, no_content};
use crate::api::Response;
use crate::journal::{Entry, Filter};

#[derive(Serialize)]
struct JournalPage {
    entries: Vec<Entry>,
    dropped: u64,
}

fn page(ctx: &Ctx, violations_only: bool) -> Result<Response, ControlError> {
    let filter = Filter {
        session: ctx.session.clone(),
        path: ctx.param("path"),
        method: ctx.param("method"),
        status: ctx.parsed("status", "an HTTP status code")?,
        limit: ctx.parsed("limit", "a non-negative integer")?,
        violations_only,
    };
    let (entries, dropped) = ctx.app.journal.list(&filter);
    Ok(json(StatusCode::OK, &JournalPage { entries, dropped }))
}

/// `GET /journal`
pub fn list(ctx: &Ctx) -> Result<Response, ControlError> {
    page(ctx, false)
}

/// `GET /violations`
pub fn violations(ctx: &Ctx) -> Result<Response, ControlError> {
    page(ctx, true)
}

/// `DELETE /journal`
pub fn clear(ctx: &Ctx) -> Result<Response, ControlError> {
    ctx.app.journal.clear(ctx.session.as_deref());
    Ok(no_content())
}

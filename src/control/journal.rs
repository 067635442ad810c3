//! The journal endpoints: list (filtered, paginated), clear, violations.

use std::sync::Arc;

use hyper::StatusCode;
use serde::Serialize;

use super::{ControlError, Ctx, json, no_content};
use crate::api::Response;
use crate::journal::{Entry, Filter, StatusFilter};

/// Entries per page unless `limit` says otherwise, and the most a page holds.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// About the largest journal response, in bytes (a page stops early; `next_after` goes on).
pub const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

#[derive(Serialize)]
struct JournalPage<'a> {
    entries: Vec<&'a Entry>,
    dropped: u64,
    next_after: Option<u64>,
}

fn timestamp(ctx: &Ctx, key: &str) -> Result<Option<jiff::Timestamp>, ControlError> {
    ctx.parsed(key, "an RFC 3339 timestamp such as 2024-06-01T12:00:00Z")
}

/// The filter a request's parameters describe.
pub fn filter(ctx: &Ctx) -> Result<Filter, ControlError> {
    Ok(Filter {
        session: ctx.session.clone(),
        path: ctx.param("path"),
        method: ctx.param("method"),
        route: ctx.param("route"),
        status: ctx.parsed::<StatusFilter>("status", "an HTTP status code or a class like 4xx")?,
        since: timestamp(ctx, "since")?,
        until: timestamp(ctx, "until")?,
        after: ctx.parsed("after", "a sequence number (the seq of an entry)")?,
        violations_only: false,
        unimplemented_only: false,
    })
}

fn page(ctx: &Ctx, filter: Filter) -> Result<Response, ControlError> {
    let limit = ctx
        .parsed::<usize>("limit", "a non-negative integer")?
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let page = ctx.app.journal.list(&filter, limit, MAX_PAGE_BYTES);
    Ok(json(
        StatusCode::OK,
        &JournalPage {
            entries: page.entries.iter().map(Arc::as_ref).collect(),
            dropped: page.dropped,
            next_after: page.next_after,
        },
    ))
}

/// `GET /journal`
pub fn list(ctx: &Ctx) -> Result<Response, ControlError> {
    page(ctx, filter(ctx)?)
}

/// `GET /violations`
pub fn violations(ctx: &Ctx) -> Result<Response, ControlError> {
    let filter = Filter {
        violations_only: true,
        ..filter(ctx)?
    };
    page(ctx, filter)
}

/// `DELETE /journal`
pub fn clear(ctx: &Ctx) -> Result<Response, ControlError> {
    ctx.app.journal.clear(ctx.session.as_deref());
    Ok(no_content())
}

#[derive(Serialize)]
struct Unimplemented {
    hits: Vec<crate::journal::Hit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    known: Option<Vec<String>>,
}

/// `GET /unimplemented[?all=true]`: the unimplemented GitLab routes requested (per method
/// and route, with counts), and with `all` every route glmock knows it does not implement.
pub fn unimplemented(ctx: &Ctx) -> Result<Response, ControlError> {
    let all = ctx
        .param("all")
        .is_some_and(|v| crate::api::query::coerce_bool(&v) == Some(true));
    let mut hits = ctx.app.journal.unimplemented();
    hits.sort_by(|a, b| b.count.cmp(&a.count).then(a.route.cmp(b.route)));
    Ok(json(
        StatusCode::OK,
        &Unimplemented {
            hits,
            known: all.then(crate::api::routes::unimplemented_routes),
        },
    ))
}

//! Offset pagination (Kaminari + GitLab's `OffsetHeaderBuilder`) and keyset pagination
//! (`Gitlab::Pagination::Keyset`, only `GET /projects/:id/jobs`).

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::query::{Param, Params, Reader, to_query};
use super::{ApiError, Request, Response};

/// Kaminari's `max_per_page`.
pub const MAX_PER_PAGE: i64 = 100;
pub const DEFAULT_PER_PAGE: i64 = 20;
/// Above this many rows GitLab stops counting (`Kaminari::MAX_COUNT_LIMIT`).
pub const MAX_COUNT: usize = 10_000;
/// Default `offset_pagination_limit` for types that support keyset pagination.
pub const MAX_OFFSET: i64 = 50_000;

/// A validated offset page request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
    /// `per_page` as the client sent it, for the offset limit check.
    pub raw_per_page: i64,
    pub raw_page: i64,
}

impl Page {
    /// Reads `page` and `per_page` with Grape's messages.
    pub fn read(r: &mut Reader) -> Option<Page> {
        let page = r.int("page");
        let per_page = r.int("per_page");
        if per_page == Some(0) {
            r.errors.push("per_page has a value not allowed".into());
            return None;
        }
        let raw_page = page.unwrap_or(1);
        let raw_per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        // Kaminari: page ≤ 0 is the first page; a negative per_page is the default.
        let per_page = if raw_per_page < 0 {
            DEFAULT_PER_PAGE
        } else {
            raw_per_page.min(MAX_PER_PAGE)
        };
        Some(Page {
            page: raw_page.max(1),
            per_page,
            raw_per_page,
            raw_page,
        })
    }

    pub fn offset(&self) -> usize {
        ((self.page - 1) as usize).saturating_mul(self.per_page as usize)
    }

    /// 405 when an offset page reaches past GitLab's limit for keyset-capable types.
    pub fn check_offset_limit(&self, type_name: &str) -> Result<(), ApiError> {
        if self.raw_page.saturating_mul(self.raw_per_page) > MAX_OFFSET {
            return Err(ApiError::NotAllowedWithMessage(format!(
                "Offset pagination has a maximum allowed offset of {MAX_OFFSET} for requests that return objects of type {type_name}. Remaining records can be retrieved using keyset pagination."
            )));
        }
        Ok(())
    }
}

/// The URL of this request with other parameters, for `Link`.
fn url(req: &Request, params: &Params) -> String {
    format!(
        "{}{}{}?{}",
        req.link_base,
        req.prefix,
        req.path,
        to_query(params)
    )
}

/// The parameters GitLab rebuilds `Link` URLs from: everything the client sent, path
/// parameters and declared defaults, with coerced values.
pub fn link_params(req: &Request, path: &[(&str, String)], defaults: &[(&str, String)]) -> Params {
    let mut p = req.query.clone();
    for (k, v) in path.iter().chain(defaults) {
        p.entry((*k).to_owned())
            .or_insert_with(|| Param::Str(v.clone()));
    }
    for (k, v) in path {
        p.insert((*k).to_owned(), Param::Str(v.clone()));
    }
    p
}

/// Adds `X-*` pagination headers and `Link` to a response. `total` is `None` when the
/// endpoint does not count; `has_next` decides the next page then.
pub fn offset_headers(
    mut resp: Response,
    req: &Request,
    mut params: Params,
    page: Page,
    total: Option<usize>,
    has_next: bool,
) -> Response {
    let total = total.filter(|t| *t <= MAX_COUNT);
    let per = page.per_page;
    let total_pages = total.map(|t| ((t as i64 + per - 1) / per).max(1));
    let out_of_range = total_pages.is_some_and(|tp| page.page > tp);
    let next = match total_pages {
        Some(tp) => (page.page < tp).then_some(page.page + 1),
        None => has_next.then_some(page.page + 1),
    };
    let prev = (page.page > 1 && !out_of_range).then_some(page.page - 1);
    params.insert("per_page".into(), Param::Str(per.to_string()));
    // The query is the same for every page but `page`: encode it once, around a gap.
    params.insert("page".into(), Param::Str(String::new()));
    let query = to_query(&params);
    let gap = page_gap(&query);
    let (before, after) = query.split_at(gap);
    let base = format!("{}{}{}?{before}", req.link_base, req.prefix, req.path);
    let mut link = String::with_capacity(4 * (base.len() + after.len() + 24));
    let mut add = |n: i64, rel: &str| {
        if !link.is_empty() {
            link.push_str(", ");
        }
        link.push('<');
        link.push_str(&base);
        link.push_str(&n.to_string());
        link.push_str(after);
        link.push_str(">; rel=\"");
        link.push_str(rel);
        link.push('"');
    };
    if let Some(p) = prev {
        add(p, "prev");
    }
    if let Some(n) = next {
        add(n, "next");
    }
    add(1, "first");
    if let Some(tp) = total_pages {
        add(tp, "last");
    }
    resp = resp
        .with_header("Link", link)
        .with_header(
            "X-Next-Page",
            next.map(|n| n.to_string()).unwrap_or_default(),
        )
        .with_header("X-Page", page.page.to_string())
        .with_header("X-Per-Page", per.to_string())
        .with_header(
            "X-Prev-Page",
            prev.map(|n| n.to_string()).unwrap_or_default(),
        );
    if let (Some(t), Some(tp)) = (total, total_pages) {
        resp = resp
            .with_header("X-Total", t.to_string())
            .with_header("X-Total-Pages", tp.to_string());
    }
    resp
}

/// Where the value of the (empty) `page` parameter goes in an encoded query.
fn page_gap(query: &str) -> usize {
    let mut at = 0;
    for pair in query.split('&') {
        if pair == "page=" {
            return at + pair.len();
        }
        at += pair.len() + 1;
    }
    query.len()
}

/// The decoded keyset cursor: the last row's id, and the direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub id: String,
    #[serde(rename = "_kd")]
    pub kd: String,
}

impl Cursor {
    pub fn next_after(id: u64) -> Cursor {
        Cursor {
            id: id.to_string(),
            kd: "n".into(),
        }
    }

    /// URL-safe Base64 of the JSON, as GitLab's `Base64CursorConverter` writes it.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serializes");
        base64::engine::general_purpose::URL_SAFE.encode(json)
    }

    /// Reads a cursor; padding is optional (clients strip it).
    pub fn decode(s: &str) -> Option<Cursor> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .ok()?;
        let c: Cursor = serde_json::from_slice(&bytes).ok()?;
        c.id.parse::<u64>().ok()?;
        Some(c)
    }

    pub fn id(&self) -> u64 {
        self.id.parse().unwrap_or(0)
    }
}

/// Adds the keyset `Link` (only when there is a next page; no `X-*` headers at all).
pub fn keyset_headers(
    resp: Response,
    req: &Request,
    mut params: Params,
    next: Option<Cursor>,
) -> Response {
    match next {
        Some(c) => {
            params.insert("cursor".into(), Param::Str(c.encode()));
            let link = format!("<{}>; rel=\"next\"", url(req, &params));
            resp.with_header("Link", link)
        }
        None => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_with_or_without_padding() {
        let c = Cursor::next_after(1234);
        let enc = c.encode();
        assert_eq!(Cursor::decode(&enc), Some(c.clone()));
        assert_eq!(Cursor::decode(enc.trim_end_matches('=')), Some(c));
        assert_eq!(Cursor::decode("not-base64!"), None);
    }
}

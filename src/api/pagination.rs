//! Offset pagination (Kaminari + GitLab's `OffsetHeaderBuilder`) and keyset pagination
//! (`Gitlab::Pagination::Keyset`, only `GET /projects/:id/jobs`).

use std::borrow::Cow;

use base64::Engine;
use serde::{Deserialize, Serialize};

use hyper::header::HeaderValue;

use super::query::{Params, QueryValue, Reader, push_int, to_query_into};
use super::{ApiError, Request, Response, arena, names};

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

/// The URL of this request up to its query (`?` included), appended to `out`.
fn url_to_query(req: &Request, out: &mut String) {
    out.reserve(req.link_base.len() + req.prefix.len() + req.path.len() + 64);
    out.push_str(&req.link_base);
    out.push_str(&req.prefix);
    out.push_str(&req.path);
    out.push('?');
}

/// The URL of this request with other parameters, for `Link`.
fn url(req: &Request, params: &LinkParams) -> String {
    let mut url = String::new();
    url_to_query(req, &mut url);
    to_query_into(params.pairs(), &mut url);
    url
}

/// A `Link` parameter the server sets: a path parameter, a declared default, the page's
/// own `page`, `per_page` or `cursor`.
#[derive(Debug, Clone)]
pub enum LinkValue<'a> {
    Text(Cow<'a, str>),
    Int(i64),
}

impl<'a> LinkValue<'a> {
    /// Borrowed text (a route parameter, a filter's value).
    pub fn text(s: &'a str) -> Self {
        LinkValue::Text(Cow::Borrowed(s))
    }

    fn as_query(&self) -> QueryValue<'_> {
        match self {
            LinkValue::Text(t) => QueryValue::Text(t),
            LinkValue::Int(n) => QueryValue::Int(*n),
        }
    }
}

/// The parameters GitLab rebuilds `Link` URLs from: everything the client sent, with the
/// path parameters and the declared parameters' values over it. Grape's validators write
/// each declared parameter back as coerced, or its default when absent, before
/// `OffsetHeaderBuilder` reads `params` (`include_retried=True` links as
/// `include_retried=true`). The client's are borrowed from the request and the rest mostly
/// from the handler: nothing is copied but into the URL.
pub struct LinkParams<'a> {
    query: &'a Params,
    /// Path parameters, declared values and the page's own: they replace the client's.
    /// Sorted by key, one value per key.
    set: Vec<(&'a str, LinkValue<'a>)>,
}

impl<'a> LinkParams<'a> {
    /// Sets `key` (over the client's value).
    pub fn set(&mut self, key: &'a str, value: LinkValue<'a>) {
        match self.set.binary_search_by(|(k, _)| (*k).cmp(key)) {
            Ok(i) => self.set[i].1 = value,
            Err(i) => self.set.insert(i, (key, value)),
        }
    }

    /// Every parameter once, in key order (`to_query`'s order), what was set over the
    /// client's: a merge of two sorted lists.
    fn pairs(&self) -> impl Iterator<Item = (&str, QueryValue<'_>)> {
        let mut set = self.set.iter().peekable();
        let mut query = self.query.iter().peekable();
        std::iter::from_fn(move || {
            let ours = set.peek().map(|&(k, _)| *k);
            let theirs = query.peek().map(|&(k, _)| k.as_str());
            match (ours, theirs) {
                (Some(o), Some(t)) if t < o => query
                    .next()
                    .map(|(k, v)| (k.as_str(), QueryValue::Param(v))),
                (Some(o), t) => {
                    if t == Some(o) {
                        query.next();
                    }
                    set.next().map(|(k, v)| (*k, v.as_query()))
                }
                (None, _) => query
                    .next()
                    .map(|(k, v)| (k.as_str(), QueryValue::Param(v))),
            }
        })
    }
}

/// The `Link` parameters of a request (see [`LinkParams`]): `path` holds the route's
/// parameters, `declared` the values the endpoint settled on for the parameters it
/// declares.
pub fn link_params<'a>(
    req: &'a Request,
    path: &[(&'a str, LinkValue<'a>)],
    declared: &[(&'a str, LinkValue<'a>)],
) -> LinkParams<'a> {
    // Room for what the page sets (`per_page`, `page` or `cursor`).
    let mut set = Vec::with_capacity(path.len() + declared.len() + 2);
    set.extend(path.iter().chain(declared).cloned());
    // Stable: of one key, the first stays.
    set.sort_by(|a, b| a.0.cmp(b.0));
    set.dedup_by(|later, first| later.0 == first.0);
    LinkParams {
        query: &req.query,
        set,
    }
}

/// Adds `X-*` pagination headers and `Link` to a response. `total` is `None` when the
/// endpoint does not count; `has_next` decides the next page then.
pub fn offset_headers(
    mut resp: Response,
    req: &Request,
    mut params: LinkParams,
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
    params.set("per_page", LinkValue::Int(per));
    // The query is the same for every page but `page`: encode it once, around a gap.
    params.set("page", LinkValue::text(""));
    // Every value in one buffer, each header a slice of it (no allocation of their own,
    // see `arena`): the URL is written first, as working space, then the values, which
    // copy it around page numbers.
    let (buf, (link, next_page, this_page, per_page, prev_page, counts)) = arena::text(|buf| {
        url_to_query(req, buf);
        let query_at = buf.len();
        to_query_into(params.pairs(), buf);
        let url_len = buf.len();
        let gap = query_at + page_gap(&buf[query_at..]);
        let add = |buf: &mut String, n: i64, rel: &str| {
            if buf.len() > url_len {
                buf.push_str(", ");
            }
            buf.push('<');
            buf.extend_from_within(..gap);
            push_int(buf, n);
            buf.extend_from_within(gap..url_len);
            buf.push_str(">; rel=\"");
            buf.push_str(rel);
            buf.push('"');
        };
        if let Some(p) = prev {
            add(buf, p, "prev");
        }
        if let Some(n) = next {
            add(buf, n, "next");
        }
        add(buf, 1, "first");
        if let Some(tp) = total_pages {
            add(buf, tp, "last");
        }
        // Ranges in what is kept (the values, after the URL).
        let link = 0..buf.len() - url_len;
        let mut value = |n: Option<i64>| {
            let start = buf.len() - url_len;
            if let Some(n) = n {
                push_int(buf, n);
            }
            start..buf.len() - url_len
        };
        let next_page = value(next);
        let this_page = value(Some(page.page));
        let per_page = value(Some(per));
        let prev_page = value(prev);
        let counts = match (total, total_pages) {
            (Some(t), Some(tp)) => Some((value(Some(t as i64)), value(Some(tp)))),
            _ => None,
        };
        (
            url_len,
            (link, next_page, this_page, per_page, prev_page, counts),
        )
    });
    resp.headers.reserve(7);
    let slice = |r: std::ops::Range<usize>| {
        HeaderValue::from_maybe_shared(buf.slice(r)).expect("digits are a valid header value")
    };
    // The URL comes from the request's own header and path, escaped: valid, but checked.
    match HeaderValue::from_maybe_shared(buf.slice(link)) {
        Ok(v) => resp = resp.with_value(hyper::header::LINK, v),
        Err(_) => tracing::error!(
            header = "link",
            "dropped a header value that is not valid in HTTP"
        ),
    }
    resp = resp
        .with_value(names::X_NEXT_PAGE, slice(next_page))
        .with_value(names::X_PAGE, slice(this_page))
        .with_value(names::X_PER_PAGE, slice(per_page))
        .with_value(names::X_PREV_PAGE, slice(prev_page));
    if let Some((t, tp)) = counts {
        resp = resp
            .with_value(names::X_TOTAL, slice(t))
            .with_value(names::X_TOTAL_PAGES, slice(tp));
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
    mut params: LinkParams,
    next: Option<Cursor>,
) -> Response {
    match next {
        Some(c) => {
            params.set("cursor", LinkValue::Text(Cow::Owned(c.encode())));
            let link = format!("<{}>; rel=\"next\"", url(req, &params));
            resp.with_header(hyper::header::LINK, link)
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

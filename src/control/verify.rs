//! `POST /-/glmock/verify`: "did my code send this, this many times?" — 200 with the
//! matching requests, or 417 with them and the closest requests that did not match (same
//! path with another method, same method on a nearby path, the same request in another
//! session): WireMock's near misses, per session.

use std::sync::Arc;

use hyper::StatusCode;
use serde::Serialize;

use super::{ControlError, Ctx, json};
use crate::api::Response;
use crate::journal::{Entry, Filter, Journal, StatusFilter, glob};

/// Matching entries returned at most (the count is exact).
const MAX_SHOWN: usize = 100;
/// Near misses returned at most.
const MAX_NEAR: usize = 10;

#[derive(Serialize)]
struct Verified<'a> {
    matched: usize,
    expected: String,
    entries: Vec<&'a Entry>,
}

#[derive(Serialize)]
struct NearMiss<'a> {
    reason: String,
    entry: &'a Entry,
}

#[derive(Serialize)]
struct Failed<'a> {
    error: String,
    matched: usize,
    expected: String,
    entries: Vec<&'a Entry>,
    near_misses: Vec<NearMiss<'a>>,
}

/// How many matches are wanted.
struct Count {
    at_least: usize,
    at_most: Option<usize>,
}

impl Count {
    fn holds(&self, n: usize) -> bool {
        n >= self.at_least && self.at_most.is_none_or(|m| n <= m)
    }

    fn describe(&self) -> String {
        match self.at_most {
            Some(m) if m == self.at_least => format!("exactly {m}"),
            Some(m) if self.at_least == 0 => format!("at most {m}"),
            Some(m) => format!("between {} and {m}", self.at_least),
            None => format!("at least {}", self.at_least),
        }
    }
}

/// `POST /verify {"method","path"|"route","session","count"|"at_least"|"at_most","status"}`
pub fn verify(ctx: &Ctx) -> Result<Response, ControlError> {
    let path = ctx.param("path");
    let route = ctx.param("route");
    let method = ctx.param("method").map(|m| m.to_ascii_uppercase());
    if path.is_none() && route.is_none() {
        return Err(ControlError::bad_request(
            "path or route is required: the request to look for (path may use * and ?)",
        ));
    }
    let count = ctx.parsed::<usize>("count", "a non-negative integer")?;
    let at_least = ctx.parsed::<usize>("at_least", "a non-negative integer")?;
    let at_most = ctx.parsed::<usize>("at_most", "a non-negative integer")?;
    let count = match (count, at_least, at_most) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ControlError::bad_request(
                "count cannot be combined with at_least or at_most",
            ));
        }
        (Some(n), None, None) => Count {
            at_least: n,
            at_most: Some(n),
        },
        (None, None, None) => Count {
            at_least: 1,
            at_most: None,
        },
        (None, l, m) => Count {
            at_least: l.unwrap_or(0),
            at_most: m,
        },
    };
    let filter = Filter {
        session: ctx.session.clone(),
        method: method.clone(),
        path: path.clone(),
        route: route.clone(),
        status: ctx.parsed::<StatusFilter>("status", "an HTTP status code or a class like 4xx")?,
        ..Filter::default()
    };
    let outcome = check(&ctx.app.journal, &filter, count.at_least, count.at_most);
    let shown: Vec<&Entry> = outcome
        .entries
        .iter()
        .take(MAX_SHOWN)
        .map(Arc::as_ref)
        .collect();
    let Some(near) = &outcome.near_misses else {
        return Ok(json(
            StatusCode::OK,
            &Verified {
                matched: outcome.entries.len(),
                expected: outcome.expected.clone(),
                entries: shown,
            },
        ));
    };
    Ok(json(
        StatusCode::EXPECTATION_FAILED,
        &Failed {
            error: outcome.error(),
            matched: outcome.entries.len(),
            expected: outcome.expected.clone(),
            entries: shown,
            near_misses: near
                .iter()
                .map(|(reason, e)| NearMiss {
                    reason: reason.clone(),
                    entry: e,
                })
                .collect(),
        },
    ))
}

/// What a verification found.
pub struct Outcome {
    /// `"exactly 1 request(s) matching POST /api/v4/… in session s"`.
    pub expected: String,
    /// Every matching entry, oldest first.
    pub entries: Vec<Arc<Entry>>,
    /// `None` when the count holds; else the closest entries that did not match, closest
    /// first, each with why.
    pub near_misses: Option<Vec<(String, Arc<Entry>)>>,
}

impl Outcome {
    /// `"expected …, got N"`.
    pub fn error(&self) -> String {
        format!("expected {}, got {}", self.expected, self.entries.len())
    }
}

/// Counts the entries `filter` matches against `at_least..=at_most`, with near misses when
/// the count does not hold: `POST /verify`'s logic.
pub fn check(
    journal: &Journal,
    filter: &Filter,
    at_least: usize,
    at_most: Option<usize>,
) -> Outcome {
    let count = Count { at_least, at_most };
    let matches = journal.matching(filter);
    let expected = format!("{} request(s) {}", count.describe(), describe(filter));
    if count.holds(matches.len()) {
        return Outcome {
            expected,
            entries: matches,
            near_misses: None,
        };
    }
    let everything = journal.matching(&Filter::default());
    let near = near_misses(filter, &everything)
        .into_iter()
        .map(|(_, reason, e)| (reason, e.clone()))
        .collect();
    Outcome {
        expected,
        entries: matches,
        near_misses: Some(near),
    }
}

fn describe(f: &Filter) -> String {
    let mut s = String::from("matching ");
    s.push_str(f.method.as_deref().unwrap_or("any method"));
    s.push(' ');
    match (&f.path, &f.route) {
        (Some(p), _) => s.push_str(p),
        (None, Some(r)) => {
            s.push_str("route ");
            s.push_str(r);
        }
        (None, None) => s.push('*'),
    }
    if let Some(st) = &f.status {
        s.push_str(&format!(" with status {st:?}"));
    }
    match &f.session {
        Some(name) => s.push_str(&format!(" in session {name}")),
        None => s.push_str(" in any session"),
    }
    s
}

/// Entries that fail exactly one way, closest first.
fn near_misses<'a>(f: &Filter, all: &'a [Arc<Entry>]) -> Vec<(usize, String, &'a Arc<Entry>)> {
    let path_ok = |e: &Entry| {
        f.path.as_ref().is_none_or(|p| glob(p, &e.path))
            && f.route.as_ref().is_none_or(|r| Some(r.as_str()) == e.route)
    };
    let method_ok = |e: &Entry| {
        f.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(e.method.as_str()))
    };
    let session_ok = |e: &Entry| f.session.as_ref().is_none_or(|s| **s == *e.session);
    let target = f.path.as_deref().or(f.route.as_deref()).unwrap_or("");
    let mut out: Vec<(usize, String, &Arc<Entry>)> = Vec::new();
    // Newest first: the latest attempts are the likeliest culprits.
    for e in all.iter().rev().take(10_000) {
        let (p, m, s) = (path_ok(e), method_ok(e), session_ok(e));
        if p && m && s {
            continue; // a match (it failed on the count or the status)
        }
        if p && s && !m {
            out.push((
                0,
                format!(
                    "method {} instead of {}",
                    e.method,
                    f.method.as_deref().unwrap_or("")
                ),
                e,
            ));
        } else if p && m && !s {
            out.push((
                1,
                format!(
                    "in session {:?}, not {:?}",
                    e.session,
                    f.session.as_deref().unwrap_or("")
                ),
                e,
            ));
        } else if m && s && !p {
            let actual = if f.path.is_some() {
                e.path.as_str()
            } else {
                e.route.unwrap_or("")
            };
            let d = distance(target, actual);
            if d <= (target.len() / 4).max(3) {
                out.push((
                    2 + d,
                    format!("path {actual} is {d} edit(s) from {target}"),
                    e,
                ));
            }
        }
    }
    out.sort_by_key(|(rank, ..)| *rank);
    out.truncate(MAX_NEAR);
    out
}

/// Levenshtein distance over bytes (inputs cut at 512 bytes).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (
        &a.as_bytes()[..a.len().min(512)],
        &b.as_bytes()[..b.len().min(512)],
    );
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance() {
        assert_eq!(super::distance("/jobs/7", "/jobs/7"), 0);
        assert_eq!(super::distance("/jobs/7", "/job/7"), 1);
        assert_eq!(super::distance("", "abc"), 3);
    }
}

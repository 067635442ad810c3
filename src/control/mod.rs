//! The control API under `/-/glmock/` (never under `/api/v4`): health, sessions, reset,
//! the request journal and the clock. Optionally protected by a token
//! (`X-Glmock-Control-Token`).

mod faults;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::Serialize;

use crate::api::query::{Params, scalar};
use crate::api::{ApiError, Body, Response};
use crate::journal::{Entry, Filter, Journal};
use crate::world::progress::Cause;
use crate::world::session::{self, Sessions};
use crate::world::status::Status;

/// A control request, already split from the API traffic.
pub struct ControlRequest<'a> {
    pub method: &'a Method,
    /// Path below `/-/glmock`.
    pub path: &'a str,
    pub query: &'a Params,
    /// Session named by the URL prefix or header, if any.
    pub session: Option<&'a str>,
    pub token: Option<&'a str>,
    /// The request body (JSON for the endpoints that take one).
    pub body: &'a [u8],
}

fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    Response::json(
        status,
        Bytes::from(serde_json::to_vec(v).expect("control bodies serialize")),
    )
}

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    glmock: &'static str,
    gitlab_version: &'a str,
}

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<String>,
}

#[derive(Serialize)]
struct ResetResult {
    reset: Vec<String>,
}

#[derive(Serialize)]
struct JournalPage {
    entries: Vec<Entry>,
    dropped: u64,
}

#[derive(Serialize)]
struct ClockState {
    session: String,
    now: String,
    frozen: bool,
}

#[derive(Serialize)]
struct JobState {
    session: String,
    id: u64,
    status: &'static str,
    pipeline_id: u64,
    pipeline_status: &'static str,
}

#[derive(Serialize)]
struct ControlError<'a> {
    error: &'a str,
}

fn bad(status: StatusCode, msg: &str) -> Response {
    json(status, &ControlError { error: msg })
}

fn q(query: &Params, key: &str) -> Option<String> {
    query.get(key).and_then(scalar)
}

/// Serves one control request.
pub fn handle(
    sessions: &Sessions,
    journal: &Journal,
    token: Option<&str>,
    req: &ControlRequest,
) -> Response {
    if let Some(expected) = token
        && req.token != Some(expected)
    {
        return bad(
            StatusCode::UNAUTHORIZED,
            "control API token missing or wrong (send X-Glmock-Control-Token)",
        );
    }
    let session = q(req.query, "session").or_else(|| req.session.map(str::to_owned));
    if let Some(s) = &session
        && !session::valid_name(s)
    {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid session name (use 1-64 of A-Z a-z 0-9 _ . -)",
        );
    }
    let m = req.method;
    match req.path {
        "/health" if m == Method::GET || m == Method::HEAD => {
            let base = sessions.base();
            json(
                StatusCode::OK,
                &Health {
                    status: "ok",
                    glmock: env!("CARGO_PKG_VERSION"),
                    gitlab_version: &base.instance.version,
                },
            )
        }
        "/sessions" if m == Method::GET => json(
            StatusCode::OK,
            &SessionList {
                sessions: sessions.names(),
            },
        ),
        "/reset" if m == Method::POST => {
            let reset = match &session {
                Some(s) => {
                    sessions.reset(s);
                    faults::reset(sessions, Some(s));
                    journal.clear(Some(s));
                    vec![s.clone()]
                }
                None => {
                    let names = sessions.names();
                    sessions.reset_all();
                    faults::reset(sessions, None);
                    journal.clear(None);
                    names
                }
            };
            json(StatusCode::OK, &ResetResult { reset })
        }
        "/journal" | "/violations" if m == Method::GET => {
            let status = match q(req.query, "status").map(|s| s.parse::<u16>()) {
                Some(Ok(s)) => Some(s),
                Some(Err(_)) => {
                    return bad(
                        StatusCode::BAD_REQUEST,
                        "status must be an HTTP status code",
                    );
                }
                None => None,
            };
            let limit = match q(req.query, "limit").map(|s| s.parse::<usize>()) {
                Some(Ok(l)) => Some(l),
                Some(Err(_)) => {
                    return bad(
                        StatusCode::BAD_REQUEST,
                        "limit must be a non-negative integer",
                    );
                }
                None => None,
            };
            let filter = Filter {
                session,
                path: q(req.query, "path"),
                method: q(req.query, "method"),
                status,
                limit,
                violations_only: req.path == "/violations",
            };
            let (entries, dropped) = journal.list(&filter);
            json(StatusCode::OK, &JournalPage { entries, dropped })
        }
        "/journal" if m == Method::DELETE => {
            journal.clear(session.as_deref());
            Response::new(StatusCode::NO_CONTENT, Body::Empty)
        }
        "/clock" | "/clock/advance" if m == Method::GET || m == Method::POST => {
            let name = session.unwrap_or_else(|| session::DEFAULT.to_owned());
            let by = if m == Method::POST && req.path == "/clock/advance" {
                match q(req.query, "seconds").map(|s| s.parse::<f64>()) {
                    Some(Ok(s)) if s.is_finite() => Some(s),
                    _ => {
                        return bad(
                            StatusCode::BAD_REQUEST,
                            "seconds is required: a number of seconds to move the clock by",
                        );
                    }
                }
            } else {
                None
            };
            let (now, frozen) = sessions.write(&name, |w| {
                if let Some(s) = by {
                    w.clock.advance(jiff::SignedDuration::from_millis(
                        (s * 1000.0).round() as i64
                    ));
                }
                w.advance();
                (w.now(), w.clock.is_frozen())
            });
            json(
                StatusCode::OK,
                &ClockState {
                    session: name,
                    now: format!("{now:.3}"),
                    frozen,
                },
            )
        }
        p if p.starts_with("/jobs/") && p.ends_with("/status") => {
            if m != Method::POST {
                return ApiError::MethodNotAllowed {
                    allow: "POST".into(),
                }
                .into_response();
            }
            let Ok(id) = p
                .trim_start_matches("/jobs/")
                .trim_end_matches("/status")
                .parse::<u64>()
            else {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "the job id must be a number: /-/glmock/jobs/ID/status?status=success",
                );
            };
            let Some(status) = q(req.query, "status").and_then(|s| Status::parse(&s)) else {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                return bad(
                    StatusCode::BAD_REQUEST,
                    &format!("status is required, one of: {}", names.join(", ")),
                );
            };
            let name = session.unwrap_or_else(|| session::DEFAULT.to_owned());
            let result = sessions.write(&name, |w| {
                w.advance();
                let project = w
                    .projects
                    .iter()
                    .find(|(_, p)| p.job(id).is_some())
                    .map(|(pid, _)| *pid)?;
                let now = w.now();
                let job = w
                    .set_job_status(project, id, status, now, Cause::External)
                    .ok()?;
                let pipeline = w.pipeline(project, job.pipeline_id)?.status;
                Some((job.status, job.pipeline_id, pipeline))
            });
            match result {
                Some((status, pipeline_id, pipeline_status)) => json(
                    StatusCode::OK,
                    &JobState {
                        session: name,
                        id,
                        status: status.as_str(),
                        pipeline_id,
                        pipeline_status: pipeline_status.as_str(),
                    },
                ),
                None => bad(
                    StatusCode::NOT_FOUND,
                    &format!("no job {id} in session {name}"),
                ),
            }
        }
        p if p == "/faults" || p.starts_with("/faults/") => faults::handle(sessions, req, session),
        "/health" | "/sessions" | "/reset" | "/journal" | "/violations" | "/clock"
        | "/clock/advance" => ApiError::MethodNotAllowed {
            allow: match req.path {
                "/reset" | "/clock/advance" => "POST",
                "/journal" => "GET, DELETE",
                "/violations" => "GET",
                "/clock" => "GET, POST",
                _ => "GET, HEAD",
            }
            .into(),
        }
        .into_response(),
        _ => bad(
            StatusCode::NOT_FOUND,
            "unknown control endpoint (see the README: health, sessions, reset, journal, violations, clock, jobs/ID/status)",
        ),
    }
}

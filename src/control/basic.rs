//! Health, sessions, reset, the clock and job statuses.

use hyper::StatusCode;
use serde::Serialize;

use super::scenario::BuildError;
use super::{ControlError, Ctx, json, routes};
use crate::api::Response;
use crate::server::App;
use crate::version::{self, Version};
use crate::world::status::Status;

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    glmock: &'static str,
    gitlab_version: &'a str,
}

/// `GET /health`
pub fn health(ctx: &Ctx) -> Result<Response, ControlError> {
    let base = ctx.app.sessions.base();
    Ok(json(
        StatusCode::OK,
        &Health {
            status: "ok",
            glmock: env!("CARGO_PKG_VERSION"),
            gitlab_version: &base.instance.version,
        },
    ))
}

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<String>,
}

/// `GET /sessions`
pub fn list_sessions(ctx: &Ctx) -> Result<Response, ControlError> {
    Ok(json(
        StatusCode::OK,
        &SessionList {
            sessions: ctx.app.sessions.names(),
        },
    ))
}

#[derive(Serialize)]
struct SessionState {
    name: String,
    gitlab_version: String,
}

/// Parses a `major.minor` GitLab version within the supported range.
pub fn parse_version(v: &str) -> Result<Version, String> {
    match Version::parse(v) {
        Some(p) if p >= version::OLDEST && p <= version::NEWEST => Ok(p),
        _ => Err(format!(
            "gitlab_version {v:?} is not supported (allowed: {} to {}, as major.minor)",
            version::OLDEST,
            version::NEWEST
        )),
    }
}

/// Creates session `name` emulating `version` (the scenario's when it is the same).
/// Returns the version it emulates.
pub fn create_versioned(app: &App, name: &str, v: Version) -> Result<String, ControlError> {
    let base = app.sessions.base();
    if v == base.instance.profile.version {
        return Ok(app.sessions.snapshot(name).instance.version.clone());
    }
    let world = app
        .scenario
        .versioned_base(v)
        .map_err(BuildError::into_control)?;
    let emulated = world.instance.version.clone();
    if !app.sessions.create(name, world) {
        let current = app.sessions.snapshot(name).instance.version.clone();
        if current != emulated {
            return Err(ControlError::new(
                StatusCode::CONFLICT,
                format!(
                    "session {name} exists and emulates GitLab {current}: reset it first to give it another version"
                ),
            ));
        }
    }
    app.scenario.set_session_version(name, v);
    Ok(emulated)
}

/// `POST /sessions {"name","gitlab_version"}`: creates a session now (it would be created
/// on first use), optionally emulating another GitLab version.
pub fn create_session(ctx: &Ctx) -> Result<Response, ControlError> {
    let name = ctx
        .param("name")
        .or_else(|| ctx.session.clone())
        .ok_or_else(|| ControlError::bad_request("name is required: the session to create"))?;
    if !crate::world::session::valid_name(&name) {
        return Err(ControlError::bad_request(format!(
            "invalid session name {name:?} (use 1-64 of A-Z a-z 0-9 _ . -)"
        )));
    }
    let gitlab_version = match ctx.param("gitlab_version") {
        Some(v) => {
            let v = parse_version(&v).map_err(ControlError::bad_request)?;
            create_versioned(ctx.app, &name, v)?
        }
        None => ctx.app.sessions.snapshot(&name).instance.version.clone(),
    };
    Ok(json(
        StatusCode::CREATED,
        &SessionState {
            name,
            gitlab_version,
        },
    ))
}

#[derive(Serialize)]
struct ResetResult {
    reset: Vec<String>,
}

/// `POST /reset`: one session (or all) back to the scenario, with its journal.
pub fn reset(ctx: &Ctx) -> Result<Response, ControlError> {
    let reset = ctx.app.reset(ctx.session.as_deref());
    Ok(json(StatusCode::OK, &ResetResult { reset }))
}

#[derive(Serialize)]
struct ClockState {
    session: String,
    now: String,
    frozen: bool,
}

fn clock_by(ctx: &Ctx, seconds: Option<f64>) -> Result<Response, ControlError> {
    let name = ctx.session_or_default();
    let (now, frozen) = ctx.app.sessions.write(&name, |w| {
        if let Some(s) = seconds {
            w.clock.advance(jiff::SignedDuration::from_millis(
                (s * 1000.0).round() as i64
            ));
        }
        w.advance();
        (w.now(), w.clock.is_frozen())
    });
    Ok(json(
        StatusCode::OK,
        &ClockState {
            session: name,
            now: format!("{now:.3}"),
            frozen,
        },
    ))
}

/// `GET|POST /clock`: a session's clock (due timeline steps are applied).
pub fn clock(ctx: &Ctx) -> Result<Response, ControlError> {
    clock_by(ctx, None)
}

/// `POST /clock/advance {"seconds"}`
pub fn advance_clock(ctx: &Ctx) -> Result<Response, ControlError> {
    let seconds = ctx
        .param("seconds")
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && s.abs() < 1e12)
        .ok_or_else(|| {
            ControlError::bad_request(
                "seconds is required: a number of seconds to move the clock by",
            )
        })?;
    clock_by(ctx, Some(seconds))
}

#[derive(Serialize)]
struct JobState {
    session: String,
    id: u64,
    status: &'static str,
    pipeline_id: u64,
    pipeline_status: &'static str,
}

/// `POST /jobs/{job_id}/status {"status"}`: moves a job to a status now.
pub fn job_status(ctx: &Ctx) -> Result<Response, ControlError> {
    let Some(id) = routes::job_id(ctx.req.path).and_then(|s| s.parse::<u64>().ok()) else {
        return Err(ControlError::bad_request(
            "the job id must be a number: /-/glmock/jobs/ID/status",
        ));
    };
    let Some(status) = ctx.param("status").and_then(|s| Status::parse(&s)) else {
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        return Err(ControlError::bad_request(format!(
            "status is required, one of: {}",
            names.join(", ")
        )));
    };
    let name = ctx.session_or_default();
    let result = ctx.app.sessions.write(&name, |w| {
        w.steer_job(id, status)
            .map(|(job, pipeline)| (job.status, job.pipeline_id, pipeline))
    });
    match result {
        Some((status, pipeline_id, pipeline_status)) => Ok(json(
            StatusCode::OK,
            &JobState {
                session: name,
                id,
                status: status.as_str(),
                pipeline_id,
                pipeline_status: pipeline_status.as_str(),
            },
        )),
        None => Err(ControlError::new(
            StatusCode::NOT_FOUND,
            format!("no job {id} in session {name}"),
        )),
    }
}

//! The control API under `/-/glmock/` (never under `/api/v4`): health, sessions, reset,
//! the request journal and verification, the clock, job statuses and live scenarios.
//!
//! Requests are routed by a matchit table (`routes.rs`) with a handler per method, so a
//! known path with another method is 405 with `Allow`. Every endpoint reads its parameters
//! from the query string and from a JSON body (the body wins). Errors are JSON:
//! `{"error": "..."}`. Before anything runs, `guard.rs` refuses foreign `Host` / `Origin`
//! headers, simple cross-site requests, a wrong token and a request naming two sessions.

mod basic;
mod guard;
mod journal;
mod routes;
mod scenario;
pub mod verify;

pub mod faults;

use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use serde::Serialize;

use crate::api::query::{self, Param, Params, scalar};
use crate::api::{Body, Response};
use crate::server::App;
use crate::world::session;

pub use basic::{create_versioned, parse_version};
pub use guard::{HostPolicy, tokens_equal};
pub use scenario::{ScenarioSources, ScenarioStore, Watcher, read_sources, restore_versioned};

/// A control request, already split from the API traffic.
pub struct ControlRequest<'a> {
    pub method: &'a Method,
    /// Path below `/-/glmock`.
    pub path: &'a str,
    pub query: &'a Params,
    pub headers: &'a HeaderMap,
    /// Session named by the `/-/sessions/NAME` URL prefix, if any.
    pub url_session: Option<&'a str>,
    /// The raw request body.
    pub body: &'a Bytes,
}

/// What a handler sees: the request, its merged parameters and its one session.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub req: &'a ControlRequest<'a>,
    /// Query and JSON body parameters, the body winning.
    pub params: Params,
    /// The session the request names (prefix, header, `session` parameter), if any.
    pub session: Option<String>,
}

impl Ctx<'_> {
    /// A scalar parameter.
    pub fn param(&self, key: &str) -> Option<String> {
        self.params.get(key).and_then(scalar)
    }

    /// The named session, or `default`.
    pub fn session_or_default(&self) -> String {
        self.session
            .clone()
            .unwrap_or_else(|| session::DEFAULT.to_owned())
    }

    /// A parameter that must parse, when present.
    pub fn parsed<T: std::str::FromStr>(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<T>, ControlError> {
        match self.param(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<T>()
                .map(Some)
                .map_err(|_| ControlError::bad_request(format!("{key} must be {what}"))),
        }
    }
}

/// A control API error: a status and a message, sent as `{"error": message}`.
#[derive(Debug, Clone)]
pub struct ControlError {
    pub status: StatusCode,
    pub message: String,
    /// Extra headers (`Allow` on 405).
    pub headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
}

impl ControlError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ControlError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct ErrorBody<'a> {
            error: &'a str,
        }
        let mut resp = json(
            self.status,
            &ErrorBody {
                error: &self.message,
            },
        );
        resp.headers = self.headers;
        resp
    }
}

/// A JSON response from a serde value.
pub fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    Response::json(
        status,
        Bytes::from(serde_json::to_vec(v).expect("control bodies serialize")),
    )
}

/// 204 with no body.
pub fn no_content() -> Response {
    Response::new(StatusCode::NO_CONTENT, Body::Empty)
}

/// Serves one control request.
pub fn handle(app: &App, req: &ControlRequest) -> Response {
    match run(app, req) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

fn run(app: &App, req: &ControlRequest) -> Result<Response, ControlError> {
    guard::host_and_origin(&app.host_policy, req.headers)?;
    guard::token(app.options.control_token.as_deref(), req.headers)?;
    let route = routes::find(req.method, req.path)?;
    guard::content_type(req.method, req.headers, req.body, route.raw_body)?;
    let mut params = req.query.clone();
    if !route.raw_body {
        params.extend(body_params(req.body)?);
    }
    let session = guard::one_session(req, &params)?;
    let ctx = Ctx {
        app,
        req,
        params,
        session,
    };
    (route.handler)(&ctx)
}

/// A JSON object body as parameters (empty when there is no body).
fn body_params(body: &Bytes) -> Result<Params, ControlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::new());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ControlError::bad_request(format!("invalid JSON in request body: {e}")))?;
    match query::from_json(value).map_err(|e| ControlError::bad_request(e.to_string()))? {
        Param::Hash(h) => Ok(h),
        _ => Err(ControlError::bad_request(
            "the request body must be a JSON object",
        )),
    }
}

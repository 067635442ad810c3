//! `/-/glmock/faults`: a session's fault rules. `POST` adds one rule or a list (JSON, the
//! format of the scenario's `faults:`), `GET` lists them with their counters, `DELETE`
//! removes all of them or `/faults/ID`. Self-contained: `control/mod.rs` dispatches here.

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::Serialize;

use super::ControlRequest;
use crate::api::{ApiError, Body, Response};
use crate::faults::Listed;
use crate::faults::spec::RuleSpec;
use crate::world::session::{self, Sessions};

#[derive(Serialize)]
struct Rules<'a> {
    session: &'a str,
    faults: Vec<Listed>,
}

#[derive(Serialize)]
struct Failure {
    error: String,
}

fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    Response::json(
        status,
        Bytes::from(serde_json::to_vec(v).expect("control bodies serialize")),
    )
}

fn bad(status: StatusCode, error: String) -> Response {
    json(status, &Failure { error })
}

/// Forgets a session's rules and counters (or every session's), with `/-/glmock/reset`.
pub fn reset(sessions: &Sessions, name: Option<&str>) {
    sessions.base().instance.faults.reset(name);
}

/// Reads one rule or a list of rules.
fn parse(body: &[u8]) -> Result<(Vec<RuleSpec>, bool), String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not JSON (send one rule or a list of rules): {e}"))?;
    parse_value(value)
}

/// Reads one rule (an object) or a list of rules from parsed JSON (or YAML); `true` when a
/// list. A rule may not name its session: the caller chooses it.
pub fn parse_value(value: serde_json::Value) -> Result<(Vec<RuleSpec>, bool), String> {
    let (items, list) = match value {
        serde_json::Value::Array(items) => (items, true),
        one @ serde_json::Value::Object(_) => (vec![one], false),
        other => {
            return Err(format!(
                "expected a rule (an object) or a list of rules, found {other}"
            ));
        }
    };
    let specs = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = if list { format!("faults[{i}]") } else { "fault".into() };
            let spec: RuleSpec = serde_json::from_value(item).map_err(|e| format!("{at}: {e}"))?;
            if spec.matches.session.is_some() {
                return Err(format!(
                    "{at}.match.session: a rule set here belongs to one session already; choose it with ?session=NAME or the /-/sessions/NAME prefix"
                ));
            }
            Ok(spec)
        })
        .collect::<Result<_, _>>()?;
    Ok((specs, list))
}

/// Adds rules to session `name` (all checked first: one bad rule adds none), as `POST
/// /faults` does; the error names the rule (`faults[1].` in a list, `fault.` alone).
pub fn add(
    sessions: &Sessions,
    name: &str,
    specs: Vec<RuleSpec>,
    list: bool,
) -> Result<Vec<Listed>, String> {
    let faults = sessions.base().instance.faults.clone();
    let now = sessions.snapshot(name).now();
    match faults.session(name, || now).add(specs, now) {
        Ok(added) => {
            faults.activate();
            Ok(added)
        }
        Err((i, e)) if list => Err(format!("faults[{i}].{e}")),
        Err((_, e)) => Err(format!("fault.{e}")),
    }
}

/// The rules of session `name`, with their counters.
pub fn list(sessions: &Sessions, name: &str) -> Vec<Listed> {
    faults_of(sessions, name).list()
}

/// Removes one rule of session `name` (`Some(id)`) or all; how many went.
pub fn remove(sessions: &Sessions, name: &str, id: Option<&str>) -> usize {
    faults_of(sessions, name).remove(id)
}

fn faults_of(sessions: &Sessions, name: &str) -> std::sync::Arc<crate::faults::SessionFaults> {
    sessions
        .base()
        .instance
        .faults
        .session(name, || sessions.snapshot(name).now())
}

/// The control route: `/faults` and `/faults/ID` in the session the request names.
pub fn route(ctx: &super::Ctx) -> Result<Response, super::ControlError> {
    Ok(handle(&ctx.app.sessions, ctx.req, ctx.session.clone()))
}

/// Serves `/faults` and `/faults/ID`.
pub fn handle(sessions: &Sessions, req: &ControlRequest, session: Option<String>) -> Response {
    let name = session.unwrap_or_else(|| session::DEFAULT.to_owned());
    let faults = sessions.base().instance.faults.clone();
    let state = || faults.session(&name, || sessions.snapshot(&name).now());
    let m = req.method;
    match req.path.strip_prefix("/faults").unwrap_or("") {
        "" | "/" if m == Method::POST => {
            let (specs, list) = match parse(req.body) {
                Ok(s) => s,
                Err(e) => return bad(StatusCode::BAD_REQUEST, e),
            };
            match add(sessions, &name, specs, list) {
                Ok(added) => json(
                    StatusCode::CREATED,
                    &Rules {
                        session: &name,
                        faults: added,
                    },
                ),
                Err(e) => bad(StatusCode::BAD_REQUEST, e),
            }
        }
        "" | "/" if m == Method::GET || m == Method::HEAD => json(
            StatusCode::OK,
            &Rules {
                session: &name,
                faults: state().list(),
            },
        ),
        "" | "/" if m == Method::DELETE => {
            state().remove(None);
            Response::new(StatusCode::NO_CONTENT, Body::Empty)
        }
        "" | "/" => ApiError::MethodNotAllowed {
            allow: "GET, HEAD, POST, DELETE".into(),
        }
        .into_response(),
        id if m == Method::DELETE => {
            let id = id.trim_start_matches('/');
            if state().remove(Some(id)) == 0 {
                bad(
                    StatusCode::NOT_FOUND,
                    format!("no fault rule {id:?} in session {name}"),
                )
            } else {
                Response::new(StatusCode::NO_CONTENT, Body::Empty)
            }
        }
        _ => ApiError::MethodNotAllowed {
            allow: "DELETE".into(),
        }
        .into_response(),
    }
}

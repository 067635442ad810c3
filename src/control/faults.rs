//! `/-/glmock/faults`: a session's fault rules. `POST` adds one rule or a list (JSON, the
//! format of the scenario's `faults:`), `GET` lists them with their counters, `DELETE`
//! removes all of them or `/faults/ID`; `control/routes.rs` routes each method here.

use bytes::Bytes;
use hyper::StatusCode;
use serde::Serialize;

use crate::api::{Body, Response};
use crate::faults::Listed;
use crate::faults::spec::RuleSpec;
use crate::world::session::Sessions;

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

/// `POST /faults`: adds a rule or a list of them to the session the request names.
pub fn add_rules(ctx: &super::Ctx) -> Result<Response, super::ControlError> {
    let name = ctx.session_or_default();
    let (specs, list) = match parse(ctx.req.body) {
        Ok(s) => s,
        Err(e) => return Ok(bad(StatusCode::BAD_REQUEST, e)),
    };
    Ok(match add(&ctx.app.sessions, &name, specs, list) {
        Ok(added) => json(
            StatusCode::CREATED,
            &Rules {
                session: &name,
                faults: added,
            },
        ),
        Err(e) => bad(StatusCode::BAD_REQUEST, e),
    })
}

/// `GET /faults`: the session's rules with their counters.
pub fn list_rules(ctx: &super::Ctx) -> Result<Response, super::ControlError> {
    let name = ctx.session_or_default();
    Ok(json(
        StatusCode::OK,
        &Rules {
            session: &name,
            faults: list(&ctx.app.sessions, &name),
        },
    ))
}

/// `DELETE /faults`: removes every rule of the session.
pub fn clear_rules(ctx: &super::Ctx) -> Result<Response, super::ControlError> {
    remove(&ctx.app.sessions, &ctx.session_or_default(), None);
    Ok(Response::new(StatusCode::NO_CONTENT, Body::Empty))
}

/// `DELETE /faults/{id}`: removes one rule of the session (404 if it has none by that id).
pub fn remove_rule(ctx: &super::Ctx) -> Result<Response, super::ControlError> {
    let name = ctx.session_or_default();
    let id = super::routes::param(ctx.req.path, "id").unwrap_or_default();
    Ok(if remove(&ctx.app.sessions, &name, Some(id)) == 0 {
        bad(
            StatusCode::NOT_FOUND,
            format!("no fault rule {id:?} in session {name}"),
        )
    } else {
        Response::new(StatusCode::NO_CONTENT, Body::Empty)
    })
}

//! The control API's route table (matchit, as `/api/v4`'s): a handler per method, 405
//! with `Allow` when the path is known but the method is not, 404 otherwise.

use std::sync::LazyLock;

use hyper::{Method, StatusCode};

use super::{ControlError, Ctx, basic, faults, journal, scenario, verify};
use crate::api::Response;

pub type Handler = fn(&Ctx) -> Result<Response, ControlError>;

/// A matched control route.
#[derive(Clone, Copy)]
pub struct Route {
    pub handler: Handler,
    /// The body is a document (a scenario), not JSON parameters.
    pub raw_body: bool,
}

struct Entry {
    methods: Vec<(Method, Route)>,
}

fn params(handler: Handler) -> Route {
    Route {
        handler,
        raw_body: false,
    }
}

fn document(handler: Handler) -> Route {
    Route {
        handler,
        raw_body: true,
    }
}

static TABLE: LazyLock<matchit::Router<Entry>> = LazyLock::new(|| {
    let mut r = matchit::Router::new();
    let mut add = |path: &'static str, methods: Vec<(Method, Route)>| {
        r.insert(path, Entry { methods })
            .expect("control route table has no conflicts");
    };
    add("/health", vec![(Method::GET, params(basic::health))]);
    add(
        "/sessions",
        vec![
            (Method::GET, params(basic::list_sessions)),
            (Method::POST, params(basic::create_session)),
        ],
    );
    add("/reset", vec![(Method::POST, params(basic::reset))]);
    add(
        "/journal",
        vec![
            (Method::GET, params(journal::list)),
            (Method::DELETE, params(journal::clear)),
        ],
    );
    add(
        "/violations",
        vec![(Method::GET, params(journal::violations))],
    );
    add("/verify", vec![(Method::POST, params(verify::verify))]);
    add(
        "/unimplemented",
        vec![(Method::GET, params(journal::unimplemented))],
    );
    add(
        "/clock",
        vec![
            (Method::GET, params(basic::clock)),
            (Method::POST, params(basic::clock)),
        ],
    );
    add(
        "/clock/advance",
        vec![(Method::POST, params(basic::advance_clock))],
    );
    add(
        "/jobs/{job_id}/status",
        vec![(Method::POST, params(basic::job_status))],
    );
    add(
        "/scenario",
        vec![
            (Method::GET, params(scenario::show)),
            (Method::PUT, document(scenario::replace)),
        ],
    );
    // Fault rules: a JSON rule or a list of them (not an object of parameters).
    add(
        "/faults",
        vec![
            (Method::GET, params(faults::list_rules)),
            (Method::POST, document(faults::add_rules)),
            (Method::DELETE, params(faults::clear_rules)),
        ],
    );
    add(
        "/faults/{id}",
        vec![(Method::DELETE, params(faults::remove_rule))],
    );
    add(
        "/scenario/merge",
        vec![(Method::POST, document(scenario::merge))],
    );
    r
});

/// The route for a method and a path below `/-/glmock`.
pub fn find(method: &Method, path: &str) -> Result<Route, ControlError> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let m = TABLE.at(path).map_err(|_| {
        ControlError::new(
            StatusCode::NOT_FOUND,
            "unknown control endpoint (see the README: health, sessions, reset, journal, \
             violations, verify, unimplemented, clock, clock/advance, jobs/ID/status, faults, \
             scenario, scenario/merge)",
        )
    })?;
    // HEAD is served by GET routes.
    let wanted = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    if let Some((_, route)) = m.value.methods.iter().find(|(mm, _)| mm == wanted) {
        return Ok(*route);
    }
    let mut allow: Vec<&str> = m.value.methods.iter().map(|(mm, _)| mm.as_str()).collect();
    if allow.contains(&"GET") {
        allow.push("HEAD");
    }
    let allow = allow.join(", ");
    let mut e = ControlError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed here (allowed: {allow})"),
    );
    if let Some(allow) = crate::api::header_value(&hyper::header::ALLOW, allow) {
        e.headers.push((hyper::header::ALLOW, allow));
    }
    Err(e)
}

/// The job id of `/jobs/{job_id}/status`.
pub fn job_id(path: &str) -> Option<&str> {
    param(path, "job_id")
}

/// A parameter of the route a control path matches (`{id}` of `/faults/{id}`).
pub fn param<'p>(path: &'p str, name: &str) -> Option<&'p str> {
    TABLE
        .at(path.trim_end_matches('/'))
        .ok()
        .and_then(|m| m.params.get(name))
}

//! The HTTP layer of `/api/v4`: our own request and response values (hyper stays in
//! `server.rs`), the route table, authentication, parameters, pagination and the handlers.

pub mod auth;
pub mod error;
pub mod handlers;
pub mod pagination;
pub mod query;
pub mod routes;

use std::sync::Arc;

use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};

use crate::world::World;
pub use error::ApiError;
use query::Params;

/// A request as the handlers see it: body already read and parsed.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// Path below the session prefix, still percent-encoded (`/api/v4/projects/a%2Fb/jobs`).
    pub path: String,
    /// `/-/sessions/NAME` when the session came from the URL, else empty.
    pub prefix: String,
    pub session: String,
    pub query: Params,
    /// Query and body merged (see `Request::new`).
    params: Params,
    pub headers: HeaderMap,
    /// `scheme://host[:port]` used for absolute `Link` URLs.
    pub link_base: String,
}

impl Request {
    /// A request; `body` parameters win over `query` ones, as Grape merges them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        method: Method,
        path: String,
        prefix: String,
        session: String,
        query: Params,
        body: Params,
        headers: HeaderMap,
        link_base: String,
    ) -> Self {
        let mut params = query.clone();
        params.extend(body);
        Request {
            method,
            path,
            prefix,
            session,
            query,
            params,
            headers,
            link_base,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Query and body parameters merged, body winning (as Grape merges them).
    pub fn params(&self) -> &Params {
        &self.params
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    Json(Bytes),
    Text(Bytes),
    Empty,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

impl Response {
    pub fn new(status: StatusCode, body: Body) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body,
        }
    }

    pub fn json(status: StatusCode, bytes: Bytes) -> Self {
        Response::new(status, Body::Json(bytes))
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Everything a handler may use.
pub struct Ctx<'a> {
    pub req: &'a Request,
    pub world: Arc<World>,
    pub sessions: &'a crate::world::session::Sessions,
    pub route: &'a routes::RouteParams,
}

/// Serves one `/api/v4` request.
pub fn handle(sessions: &crate::world::session::Sessions, req: &Request) -> Response {
    let found = routes::find(&req.method, &req.path);
    let (handler, params) = match found {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut world = sessions.snapshot(&req.session);
    // Timelines move on lazily: apply what is due before answering.
    if world.due(world.now()) {
        sessions.write(&req.session, |w| w.advance());
        world = sessions.snapshot(&req.session);
    }
    let ctx = Ctx {
        req,
        world,
        sessions,
        route: &params,
    };
    match handler(&ctx) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

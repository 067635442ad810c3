//! The HTTP layer of `/api/v4`: our own request and response values (hyper stays in
//! `server.rs`), the route table, authentication, parameters, pagination and the handlers.

pub mod arena;
pub mod auth;
pub mod error;
pub mod handlers;
pub mod pagination;
pub mod query;
pub mod routes;

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, StatusCode};

use crate::contract::{Contract, Mode};
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
    /// The session's name (`default` borrowed, not copied per request).
    pub session: std::borrow::Cow<'static, str>,
    pub query: Params,
    /// Query and body merged (see `Request::new`); `None` when the body has no parameters
    /// (the query is the merged set, and is not copied).
    params: Option<Params>,
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
        session: std::borrow::Cow<'static, str>,
        query: Params,
        body: Params,
        headers: HeaderMap,
        link_base: String,
    ) -> Self {
        let params = (!body.is_empty()).then(|| {
            let mut params = query.clone();
            params.extend(body);
            params
        });
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

    pub fn header<K: hyper::header::AsHeaderName>(&self, name: K) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Query and body parameters merged, body winning (as Grape merges them).
    pub fn params(&self) -> &Params {
        self.params.as_ref().unwrap_or(&self.query)
    }
}

/// The response header names `hyper::header` has no constant for.
pub mod names {
    use hyper::header::HeaderName;

    pub const X_NEXT_PAGE: HeaderName = HeaderName::from_static("x-next-page");
    pub const X_PAGE: HeaderName = HeaderName::from_static("x-page");
    pub const X_PER_PAGE: HeaderName = HeaderName::from_static("x-per-page");
    pub const X_PREV_PAGE: HeaderName = HeaderName::from_static("x-prev-page");
    pub const X_TOTAL: HeaderName = HeaderName::from_static("x-total");
    pub const X_TOTAL_PAGES: HeaderName = HeaderName::from_static("x-total-pages");
    pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
    pub const X_GLMOCK_CONTRACT_VIOLATIONS: HeaderName =
        HeaderName::from_static("x-glmock-contract-violations");
    pub const X_GLMOCK_UNIMPLEMENTED: HeaderName =
        HeaderName::from_static("x-glmock-unimplemented");
    pub const RATELIMIT_NAME: HeaderName = HeaderName::from_static("ratelimit-name");
    pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
    pub const RATELIMIT_OBSERVED: HeaderName = HeaderName::from_static("ratelimit-observed");
    pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
    pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
    pub const RATELIMIT_RESETTIME: HeaderName = HeaderName::from_static("ratelimit-resettime");
}

#[derive(Debug, Clone)]
pub enum Body {
    Json(Bytes),
    /// JSON in pieces that are sent as they are (a page of cached entities is not copied
    /// into one buffer). Shared: the journal keeps the page with one reference count.
    JsonParts(std::sync::Arc<[Bytes]>),
    Text(Bytes),
    Empty,
}

impl Body {
    /// The JSON of the body in one piece (`None` for text and empty bodies).
    pub fn json(&self) -> Option<Bytes> {
        match self {
            Body::Json(b) => Some(b.clone()),
            Body::JsonParts(parts) => Some(Bytes::from(parts.concat())),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    /// Names as constants (`names`, `hyper::header`): a `&str` name would be parsed again
    /// on every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Body,
    /// The schema the body follows, when the route's documented one does not say
    /// (`play` on a bridge answers a bridge).
    pub shape: Option<&'static str>,
    /// Violations already known (cached job entities); `None`: check the body.
    pub checked: Option<Vec<crate::contract::Violation>>,
    /// The contract's verdict, for the journal.
    pub violations: Vec<crate::contract::Violation>,
    /// The route template that answered, for the journal (`None`: no route matched).
    pub route: Option<&'static str>,
}

impl Response {
    pub fn new(status: StatusCode, body: Body) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body,
            shape: None,
            checked: None,
            violations: Vec::new(),
            route: None,
        }
    }

    pub fn json(status: StatusCode, bytes: Bytes) -> Self {
        Response::new(status, Body::Json(bytes))
    }

    /// A body whose contract check is already done.
    pub fn checked(
        mut self,
        shape: &'static str,
        violations: Vec<crate::contract::Violation>,
    ) -> Self {
        self.shape = Some(shape);
        self.checked = Some(violations);
        self
    }

    /// Adds a header; a value that is not valid in HTTP is dropped (and logged).
    pub fn with_header(self, name: HeaderName, value: String) -> Self {
        match header_value(&name, value) {
            Some(v) => self.with_value(name, v),
            None => self,
        }
    }

    pub fn with_value(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A header value from a string (its bytes, not copied); `None`, logged, when it is not
/// valid in HTTP.
pub fn header_value(name: &HeaderName, value: String) -> Option<HeaderValue> {
    match HeaderValue::from_maybe_shared(Bytes::from(value)) {
        Ok(v) => Some(v),
        Err(_) => {
            tracing::error!(
                header = name.as_str(),
                "dropped a header value that is not valid in HTTP"
            );
            None
        }
    }
}

/// Everything a handler may use.
pub struct Ctx<'a> {
    pub req: &'a Request,
    pub world: Arc<World>,
    pub sessions: &'a crate::world::session::Sessions,
    pub route: &'a routes::RouteParams<'a>,
}

/// Serves one `/api/v4` request; the response leaves through the contract check.
pub fn handle(sessions: &crate::world::session::Sessions, req: &Request) -> Response {
    let (handler, params) = match routes::find(&req.method, &req.path) {
        Ok(v) => v,
        Err(e) => {
            let contract = sessions.base().instance.contract.clone();
            return enforce(contract.as_deref(), req, None, e.into_response());
        }
    };
    let mut world = sessions.snapshot(&req.session);
    // Timelines move on lazily: apply what is due before answering. A session that does not
    // exist yet is not created by a read: it is the base world moved on for this request.
    if world.due(world.now()) {
        if sessions.exists(&req.session) {
            drop(world);
            sessions.write(&req.session, |w| w.advance());
            world = sessions.snapshot(&req.session);
        } else {
            let mut moved = (*world).clone();
            moved.advance();
            world = Arc::new(moved);
        }
    }
    let contract = world.instance.contract.clone();
    let ctx = Ctx {
        req,
        world,
        sessions,
        route: &params,
    };
    let mut resp = match handler {
        routes::Handler::Read(h) => {
            let resp = h(&ctx).unwrap_or_else(ApiError::into_response);
            if resp.status == StatusCode::OK && matches!(req.method, Method::GET | Method::HEAD) {
                crate::world::progress::count_polls(
                    sessions,
                    &req.session,
                    &ctx.world,
                    params.pattern(),
                    &params,
                );
            }
            resp
        }
        // A write takes the snapshot and drops it before it locks the session.
        routes::Handler::Write(h) => h(ctx).unwrap_or_else(ApiError::into_response),
    };
    resp.route = Some(params.pattern());
    enforce(contract.as_deref(), req, Some(params.pattern()), resp)
}

/// Checks a response against its schema and applies the contract mode.
fn enforce(
    contract: Option<&Contract>,
    req: &Request,
    route: Option<&'static str>,
    mut resp: Response,
) -> Response {
    let Some(contract) = contract.filter(|c| c.is_on()) else {
        return resp;
    };
    // Pre-checked bodies (pages of cached jobs) need neither their bytes nor a shape lookup.
    let violations = match resp.checked.take() {
        Some(v) => v,
        None => {
            let Some(bytes) = resp.body.json() else {
                return resp;
            };
            let status = resp.status.as_u16();
            let Some(shape) = resp.shape.or_else(|| {
                crate::contract::shape_for_response(req.method.as_str(), route, status, &bytes)
            }) else {
                return resp;
            };
            contract.check_bytes(shape, &bytes)
        }
    };
    if violations.is_empty() {
        return resp;
    }
    for v in &violations {
        tracing::warn!(method = %req.method, path = %req.path, shape = %v.shape, pointer = %v.path, "contract violation: {}", v.message);
    }
    match contract.mode {
        Mode::Strict => {
            let mut failed = Response::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::contract::strict_body(&violations),
            );
            failed.violations = violations;
            failed.route = resp.route;
            failed
        }
        _ => {
            let summary = format!(
                "{} violation(s); first: {}",
                violations.len(),
                violations[0]
            );
            resp = resp.with_header(names::X_GLMOCK_CONTRACT_VIOLATIONS, header_safe(&summary));
            resp.violations = violations;
            resp
        }
    }
}

/// A header value: printable ASCII only, at most 512 bytes.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(512)
        .collect()
}

//! Replays recorded requests against an in-process glmock (no sockets): one session, in
//! cassette order, so mutations line up with the recording. Ids of entities the recording
//! created (retries, new pipelines) are translated to the ids glmock gave them, so later
//! requests for them find them.

use std::collections::{BTreeMap, HashMap};

use hyper::Method;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};

use crate::api::{self, ApiError, query};
use crate::record::cassette::{BASE_PLACEHOLDER, Body, RecordedRequest};
use crate::world::session::Sessions;
use crate::world::{Role, World};

/// The session every replayed request belongs to.
pub const SESSION: &str = "verify";

/// glmock's answer, in the cassette's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub status: u16,
    /// Lower-case names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    pub body: Option<Body>,
}

/// An in-process glmock serving one cassette's requests.
#[derive(Debug)]
pub struct Replayer {
    sessions: Sessions,
    token: Option<String>,
    /// Recorded id → glmock id, for jobs and pipelines created while replaying.
    jobs: HashMap<String, String>,
    pipelines: HashMap<String, String>,
}

impl Replayer {
    pub fn new(world: World) -> Replayer {
        let token = token_for(&world);
        Replayer {
            sessions: Sessions::new(world),
            token,
            jobs: HashMap::new(),
            pipelines: HashMap::new(),
        }
    }

    /// The token requests are sent with (`None`: the scenario has no admin or owner).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Sends one recorded request.
    pub fn replay(&mut self, req: &RecordedRequest) -> Replayed {
        let method =
            Method::from_bytes(req.method.to_ascii_uppercase().as_bytes()).unwrap_or(Method::GET);
        let path = self.translate(&req.path);
        let mut headers = HeaderMap::new();
        for (k, v) in &req.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.insert(k, v);
            }
        }
        if let Some(t) = self
            .token
            .as_deref()
            .and_then(|t| HeaderValue::from_str(t).ok())
        {
            headers.insert("private-token", t);
        }
        let resp = match (query::parse(&req.query), body_params(&method, req)) {
            (Ok(q), Ok(body)) => {
                let api_req = api::Request::new(
                    method,
                    path,
                    String::new(),
                    SESSION.into(),
                    q,
                    body,
                    headers,
                    BASE_PLACEHOLDER.to_owned(),
                );
                api::handle(&self.sessions, &api_req)
            }
            (Err(e), _) => ApiError::from(e).into_response(),
            (_, Err(e)) => e.into_response(),
        };
        let mut out = Replayed {
            status: resp.status.as_u16(),
            headers: BTreeMap::new(),
            body: None,
        };
        match resp.body {
            api::Body::Json(_) | api::Body::JsonParts(_) => {
                let bytes = resp.body.json().unwrap_or_default();
                out.headers
                    .insert("content-type".into(), "application/json".into());
                out.body = Some(match serde_json::from_slice(&bytes) {
                    Ok(v) => Body::Json(v),
                    Err(_) => Body::Text(String::from_utf8_lossy(&bytes).into_owned()),
                });
            }
            api::Body::Text(bytes) => {
                out.headers
                    .insert("content-type".into(), "text/plain".into());
                out.body = Some(Body::Text(String::from_utf8_lossy(&bytes).into_owned()));
            }
            api::Body::Empty => {}
        }
        // The server answers HEAD with the GET headers and no body.
        if req.method.eq_ignore_ascii_case("HEAD") {
            out.body = None;
        }
        for (name, value) in resp.headers {
            let name = name.as_str().to_owned();
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name.starts_with("x-glmock-") {
                continue;
            }
            out.headers
                .entry(name)
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        out
    }

    /// Remembers the id glmock gave an entity the recording created (a `POST` that answered
    /// a job or pipeline with another id), so later paths naming it are translated.
    pub fn learn(&mut self, req: &RecordedRequest, recorded: Option<&Body>, glmock: &Replayed) {
        if !req.method.eq_ignore_ascii_case("POST") {
            return;
        }
        let (Some(Body::Json(r)), Some(Body::Json(g))) = (recorded, glmock.body.as_ref()) else {
            return;
        };
        let id = |v: &serde_json::Value| v.get("id").and_then(serde_json::Value::as_u64);
        let (Some(rid), Some(gid)) = (id(r), id(g)) else {
            return;
        };
        if rid == gid {
            return;
        }
        // A pipeline has no `pipeline` field; jobs and bridges do.
        let map = if r.get("pipeline").is_some() || r.get("stage").is_some() {
            &mut self.jobs
        } else {
            &mut self.pipelines
        };
        map.insert(rid.to_string(), gid.to_string());
    }

    fn translate(&self, path: &str) -> String {
        let mut out: Vec<String> = Vec::new();
        for seg in path.split('/') {
            let mapped = match out.last().map(String::as_str) {
                Some("jobs") => self.jobs.get(seg),
                Some("pipelines") => self.pipelines.get(seg),
                _ => None,
            };
            out.push(mapped.map_or(seg, String::as_str).to_owned());
        }
        out.join("/")
    }
}

/// The request body as parameters, the way the server reads it: JSON, or a form; ignored
/// for GET, HEAD and DELETE.
fn body_params(method: &Method, req: &RecordedRequest) -> Result<query::Params, ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::DELETE) {
        return Ok(query::Params::new());
    }
    match &req.body {
        None => Ok(query::Params::new()),
        Some(Body::Json(v)) => match query::from_json(v.clone())? {
            query::Param::Hash(h) => Ok(h),
            _ => Ok(query::Params::new()),
        },
        Some(Body::Text(t)) => Ok(query::parse_form(t)?),
    }
}

/// The token to replay with: the first admin's, else a project owner's (lowest ids first;
/// read-only, revoked and expired tokens are skipped).
fn token_for(world: &World) -> Option<String> {
    let dir = &world.directory;
    let now = world.now();
    let mut tokens: Vec<(&String, u64)> = dir
        .tokens
        .iter()
        .filter(|(_, t)| !t.read_only && !t.revoked && t.expires_at.is_none_or(|e| e > now))
        .map(|(name, t)| (name, t.user_id))
        .collect();
    tokens.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    let is_admin = |user: u64| dir.users.get(&user).is_some_and(|u| u.admin);
    let is_owner = |user: u64| {
        dir.projects
            .values()
            .any(|p| p.members.get(&user) == Some(&Role::Owner))
    };
    tokens
        .iter()
        .find(|(_, user)| is_admin(*user))
        .or_else(|| tokens.iter().find(|(_, user)| is_owner(*user)))
        .map(|(name, _)| (*name).clone())
}

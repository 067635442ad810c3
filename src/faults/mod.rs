//! Faults and GitLab's rate limits: rules that make matching requests slow, fail or break
//! (declared in a scenario's `faults:` or set per session through `/-/glmock/faults`), and
//! the limits of the scenario's `gitlab: rate_limits:`, counted on the session clock.
//!
//! `decide` looks at a request before its handler runs and returns a `Plan`: a delay, an
//! answer that replaces the handler's, or something done to the connection or the body.
//! A request no rule matches costs a lookup or two and no allocation. This module does not
//! parse HTTP or own the accept loop: `server.rs` calls it at one marked hook.

pub mod answer;
pub mod body;
pub mod limits;
pub mod rng;
pub mod rule;
pub mod spec;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hyper::Method;
use jiff::Timestamp;

use crate::api::auth::{self, Caller};
use crate::api::{Request, Response};
use crate::world::World;
use crate::world::session::Sessions;
use answer::{Answer, Layer};
pub use body::{Conn, ConnCtl, FaultBody};
use limits::{Counters, Key, Limit, Limits};
use rule::{Armed, Rule, RuleError};
use spec::{Action, RuleSpec};

/// The rules of one session, in order, indexed by route.
#[derive(Debug, Default)]
struct RuleSet {
    armed: Vec<Arc<Armed>>,
    /// Route pattern → positions in `armed` (ascending).
    by_route: HashMap<&'static str, Vec<usize>>,
    /// Positions of rules without a route (path globs, or every request).
    loose: Vec<usize>,
}

impl RuleSet {
    fn new(armed: Vec<Arc<Armed>>) -> RuleSet {
        let mut by_route: HashMap<&'static str, Vec<usize>> = HashMap::new();
        let mut loose = Vec::new();
        for (i, a) in armed.iter().enumerate() {
            match a.rule.route {
                Some(r) => by_route.entry(r).or_default().push(i),
                None => loose.push(i),
            }
        }
        RuleSet {
            armed,
            by_route,
            loose,
        }
    }
}

/// One session's rules and counters.
#[derive(Debug, Default)]
pub struct SessionFaults {
    rules: RwLock<Arc<RuleSet>>,
    next_id: AtomicU64,
    counters: Counters,
    /// Serialises adds and deletes (readers never wait on it).
    edit: Mutex<()>,
}

/// A rule as the control API lists it: its spec and its counters in this session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub spec: RuleSpec,
    /// Matching requests seen so far.
    pub seen: u64,
    /// Requests the rule touched.
    pub fired: u64,
}

impl SessionFaults {
    fn with(rules: Vec<Arc<Armed>>) -> SessionFaults {
        SessionFaults {
            rules: RwLock::new(Arc::new(RuleSet::new(rules))),
            ..SessionFaults::default()
        }
    }

    fn set(&self) -> Arc<RuleSet> {
        self.rules.read().expect("fault rules poisoned").clone()
    }

    /// Adds rules (checked all first: one bad rule adds none) and returns them.
    pub fn add(
        &self,
        specs: Vec<RuleSpec>,
        now: Timestamp,
    ) -> Result<Vec<Listed>, (usize, RuleError)> {
        let _edit = self.edit.lock().expect("fault edit lock poisoned");
        let current = self.set();
        let mut taken: Vec<Arc<str>> = current.armed.iter().map(|a| a.rule.id.clone()).collect();
        let mut new = Vec::new();
        for (i, spec) in specs.into_iter().enumerate() {
            let id = if let Some(given) = &spec.id {
                given.clone()
            } else {
                loop {
                    let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
                    let id = format!("f{n}");
                    if !taken.iter().any(|t| **t == *id) {
                        break id;
                    }
                }
            };
            let rule = Rule::compile(spec, id).map_err(|e| (i, e))?;
            if taken.contains(&rule.id) {
                return Err((
                    i,
                    RuleError {
                        field: "id".into(),
                        message: format!("a rule {:?} already exists in this session", &*rule.id),
                    },
                ));
            }
            taken.push(rule.id.clone());
            new.push(Arc::new(Armed::new(Arc::new(rule), now)));
        }
        let listed = new.iter().map(|a| listed(a)).collect();
        let mut all = current.armed.clone();
        all.extend(new);
        *self.rules.write().expect("fault rules poisoned") = Arc::new(RuleSet::new(all));
        Ok(listed)
    }

    pub fn list(&self) -> Vec<Listed> {
        self.set().armed.iter().map(|a| listed(a)).collect()
    }

    /// Removes one rule (`Some(id)`) or all; returns how many went.
    pub fn remove(&self, id: Option<&str>) -> usize {
        let _edit = self.edit.lock().expect("fault edit lock poisoned");
        let current = self.set();
        let keep: Vec<Arc<Armed>> = match id {
            Some(id) => current
                .armed
                .iter()
                .filter(|a| &*a.rule.id != id)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let gone = current.armed.len() - keep.len();
        *self.rules.write().expect("fault rules poisoned") = Arc::new(RuleSet::new(keep));
        gone
    }
}

fn listed(a: &Armed) -> Listed {
    Listed {
        spec: a.rule.spec.clone(),
        seen: a.seen.load(Ordering::Relaxed),
        fired: a.fired.load(Ordering::Relaxed),
    }
}

/// The faults of one loaded scenario: its rules and limits, and every session's state.
/// Lives in the World's `Instance`, so loading a new scenario starts it afresh.
#[derive(Debug, Default)]
pub struct Faults {
    scenario: Vec<Arc<Rule>>,
    limits: Limits,
    sessions: RwLock<HashMap<String, Arc<SessionFaults>>>,
    /// False while nothing can fault: requests then skip everything.
    active: AtomicBool,
}

impl Faults {
    /// The scenario's rules (checked) and rate limits.
    pub fn new(scenario: Vec<Arc<Rule>>, limits: Limits) -> Faults {
        let active = !scenario.is_empty() || !limits.is_empty();
        Faults {
            scenario,
            limits,
            sessions: RwLock::default(),
            active: AtomicBool::new(active),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A session's state, made on first use from the scenario's rules for that session.
    pub fn session(&self, name: &str, now: impl FnOnce() -> Timestamp) -> Arc<SessionFaults> {
        if let Some(s) = self
            .sessions
            .read()
            .expect("fault sessions poisoned")
            .get(name)
        {
            return s.clone();
        }
        let mut map = self.sessions.write().expect("fault sessions poisoned");
        map.entry(name.to_owned())
            .or_insert_with(|| {
                let now = now();
                Arc::new(SessionFaults::with(
                    self.scenario
                        .iter()
                        .filter(|r| r.session.as_deref().is_none_or(|s| s == name))
                        .map(|r| Arc::new(Armed::new(r.clone(), now)))
                        .collect(),
                ))
            })
            .clone()
    }

    /// Marks that runtime rules exist, so requests look for them.
    pub fn activate(&self) {
        self.active.store(true, Ordering::Relaxed);
    }

    /// Forgets one session's rules and counters (or every session's): they start again
    /// from the scenario.
    pub fn reset(&self, name: Option<&str>) {
        let mut map = self.sessions.write().expect("fault sessions poisoned");
        match name {
            Some(n) => {
                map.remove(n);
            }
            None => map.clear(),
        }
    }
}

/// What happens to one request.
enum Outcome {
    Answer(Answer),
    Reset,
    Close,
    Cut(Option<u64>),
    Trickle(u64, Duration),
}

/// What the faults decided for one request. `Plan::default()` does nothing.
#[derive(Default)]
pub struct Plan {
    ids: Vec<Arc<str>>,
    delay: Duration,
    outcome: Option<Outcome>,
    conn: Option<ConnCtl>,
}

impl Plan {
    /// Waits out the delay the rules drew (no lock is held here).
    pub async fn wait(&self) {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
    }

    /// The answer that replaces the handler's, if any. A reset or close switches the
    /// connection off; the response returned then is never sent.
    pub fn answer(&self) -> Option<Response> {
        match self.outcome.as_ref()? {
            Outcome::Answer(a) => Some(a.response.clone()),
            Outcome::Reset | Outcome::Close => {
                match (&self.outcome, &self.conn) {
                    (Some(Outcome::Reset), Some(c)) => c.reset(),
                    (_, Some(c)) => c.close(),
                    _ => tracing::warn!("a reset/close fault on a request without a connection"),
                }
                Some(Response::new(
                    hyper::StatusCode::BAD_GATEWAY,
                    crate::api::Body::Empty,
                ))
            }
            _ => None,
        }
    }

    /// The status the journal records: 0 when no response was sent.
    pub fn journal_status(&self, status: u16) -> u16 {
        match self.outcome {
            Some(Outcome::Reset | Outcome::Close) => 0,
            _ => status,
        }
    }

    /// Ids of the rules (and limits) that touched the request.
    pub fn ids(&self) -> Vec<String> {
        self.ids.iter().map(|s| s.to_string()).collect()
    }

    /// Dresses the response as its layer sends it and wraps the body as the fault wants.
    pub fn apply<B: hyper::body::Body>(
        &self,
        resp: hyper::Response<FaultBody<B>>,
    ) -> hyper::Response<FaultBody<B>> {
        let Some(outcome) = &self.outcome else {
            return resp;
        };
        let (mut parts, body) = resp.into_parts();
        let FaultBody::Whole(inner) = body else {
            return hyper::Response::from_parts(parts, body);
        };
        let body = match outcome {
            Outcome::Cut(after) => FaultBody::cut(inner, *after),
            Outcome::Trickle(bytes, every) => FaultBody::trickle(inner, *bytes, *every),
            Outcome::Answer(a) => {
                let h = &mut parts.headers;
                if a.layer != Layer::Api {
                    for name in [
                        "cache-control",
                        "vary",
                        "x-frame-options",
                        "x-content-type-options",
                    ] {
                        h.remove(name);
                    }
                }
                if let Layer::FrontEnd { nginx } = a.layer {
                    h.insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static(if nginx {
                            "text/html"
                        } else {
                            "text/html; charset=utf-8"
                        }),
                    );
                    if nginx {
                        h.insert(
                            hyper::header::SERVER,
                            hyper::header::HeaderValue::from_static("nginx"),
                        );
                    }
                }
                FaultBody::Whole(inner)
            }
            _ => FaultBody::Whole(inner),
        };
        hyper::Response::from_parts(parts, body)
    }
}

/// The token a request carries, as GitLab reads it.
fn token_of(req: &Request) -> Option<String> {
    req.header(&crate::api::auth::PRIVATE_TOKEN)
        .or_else(|| req.header(&crate::api::auth::JOB_TOKEN))
        .or_else(|| {
            req.header(&hyper::header::AUTHORIZATION).and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
        })
        .map(|t| t.trim().to_owned())
        .or_else(|| {
            ["private_token", "job_token"]
                .iter()
                .find_map(|k| req.params().get(*k).and_then(crate::api::query::scalar))
        })
}

/// Decides what the faults do to one API request. `conn` is the request's connection.
pub fn decide(sessions: &Sessions, req: &Request, conn: Option<&ConnCtl>) -> Plan {
    let base = sessions.base();
    let faults = &base.instance.faults;
    if !faults.active.load(Ordering::Relaxed) {
        return Plan::default();
    }
    let world: OnceCell<Arc<World>> = OnceCell::new();
    let world = || world.get_or_init(|| sessions.snapshot(&req.session));
    let state = faults.session(&req.session, || world().now());
    let set = state.set();
    let mut plan = Plan::default();
    let caller: OnceCell<Option<Caller>> = OnceCell::new();
    let caller = || *caller.get_or_init(|| auth::authenticate(world(), req, true).ok());

    if !set.armed.is_empty() {
        let routed: &[usize] = if set.by_route.is_empty() {
            &[]
        } else {
            crate::api::routes::pattern(&req.path)
                .and_then(|p| set.by_route.get(p))
                .map(Vec::as_slice)
                .unwrap_or(&[])
        };
        let token: OnceCell<Option<String>> = OnceCell::new();
        // Both lists ascend: merge them to keep the rules' order.
        let (mut i, mut j) = (0, 0);
        while i < routed.len() || j < set.loose.len() {
            let at = match (routed.get(i), set.loose.get(j)) {
                (Some(a), Some(b)) if a < b => {
                    i += 1;
                    *a
                }
                (Some(a), None) => {
                    i += 1;
                    *a
                }
                (_, Some(b)) => {
                    j += 1;
                    *b
                }
                (None, None) => break,
            };
            let armed = &set.armed[at];
            let rule = &armed.rule;
            let tok = || token.get_or_init(|| token_of(req)).as_deref();
            if !rule.matches_shape(&req.method, &req.path, tok) {
                continue;
            }
            if let Some(user) = &rule.user {
                let name = caller()
                    .and_then(|c| c.user_id())
                    .and_then(|id| world().directory.users.get(&id))
                    .map(|u| u.username.as_str());
                if name != Some(user.as_str()) {
                    continue;
                }
            }
            let now = armed.has_window().then(|| world().now());
            if !armed.fire(now) {
                continue;
            }
            plan.ids.push(rule.id.clone());
            if let Some(d) = armed.draw_delay() {
                plan.delay += d;
            }
            if let Some(action) = &rule.action {
                plan.outcome = Some(match action {
                    Action::Status(429) => {
                        throttle(faults, None, None, None, caller(), world().now())
                    }
                    Action::Status(s) => Outcome::Answer(answer::status(*s)),
                    Action::Throttle(t) => throttle(
                        faults,
                        t.name.as_deref(),
                        t.requests_per_period,
                        t.period_in_seconds,
                        caller(),
                        world().now(),
                    ),
                    Action::Reset => Outcome::Reset,
                    Action::Close => Outcome::Close,
                    Action::Cut(c) => Outcome::Cut(c.after_bytes),
                    Action::Trickle(t) => {
                        Outcome::Trickle(t.bytes, Duration::from_millis(t.every_ms))
                    }
                });
                break;
            }
        }
    }
    let answered = matches!(
        plan.outcome,
        Some(Outcome::Answer(_) | Outcome::Reset | Outcome::Close)
    );
    let limits = faults.limits;
    if !answered
        && !limits.is_empty()
        && let Some((id, a)) = rate_limit(&state.counters, limits, req, conn, caller, world)
    {
        plan.ids.push(Arc::from(id));
        plan.outcome = Some(Outcome::Answer(a));
    }
    plan.conn = conn.cloned();
    plan
}

/// A Rack::Attack 429 for a rule; unset values come from the scenario's limits, then
/// GitLab's defaults (7200 per hour authenticated, 3600 per hour unauthenticated).
fn throttle(
    faults: &Faults,
    name: Option<&str>,
    limit: Option<u64>,
    period: Option<u64>,
    caller: Option<Caller>,
    now: Timestamp,
) -> Outcome {
    let authenticated = match name {
        Some(n) => n == "throttle_authenticated_api",
        None => caller.is_some_and(|c| c.user_id().is_some()),
    };
    let configured = if authenticated {
        faults.limits.authenticated_api
    } else {
        faults.limits.unauthenticated_api
    };
    let default = if authenticated {
        Limit {
            limit: 7200,
            period: 3600,
        }
    } else {
        Limit {
            limit: 3600,
            period: 3600,
        }
    };
    let base = configured.unwrap_or(default);
    let limit = limit.unwrap_or(base.limit);
    let period = period.unwrap_or(base.period).max(1);
    let name = if authenticated {
        "throttle_authenticated_api"
    } else {
        "throttle_unauthenticated_api"
    };
    Outcome::Answer(answer::throttled(name, limit, period, limit + 1, now))
}

/// GitLab's own limits, in GitLab's order: Rack::Attack before Rails, then the jobs list's
/// application limit after `authenticate!`.
fn rate_limit<'w>(
    counters: &Counters,
    limits: Limits,
    req: &Request,
    conn: Option<&ConnCtl>,
    caller: impl Fn() -> Option<Caller>,
    world: impl Fn() -> &'w Arc<World>,
) -> Option<(&'static str, Answer)> {
    let user = caller().and_then(|c| c.user_id());
    let now = world().now();
    match (user, limits.authenticated_api, limits.unauthenticated_api) {
        (Some(id), Some(l), _) => {
            let n = counters.hit(Key::AuthenticatedApi(id), l, now);
            if n > l.limit {
                return Some((
                    "throttle_authenticated_api",
                    answer::throttled("throttle_authenticated_api", l.limit, l.period, n, now),
                ));
            }
        }
        (None, _, Some(l)) => {
            let ip = conn
                .map(|c| c.peer)
                .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
            let n = counters.hit(Key::UnauthenticatedApi(ip), l, now);
            if n > l.limit {
                return Some((
                    "throttle_unauthenticated_api",
                    answer::throttled("throttle_unauthenticated_api", l.limit, l.period, n, now),
                ));
            }
        }
        _ => {}
    }
    if let Some(l) = limits.jobs_index
        && (req.method == Method::GET || req.method == Method::HEAD)
        && crate::api::routes::pattern(&req.path) == Some("/api/v4/projects/{id}/jobs")
    {
        // `authenticate!` runs first: an unknown token is a 401, not a count. The list
        // takes no job token.
        let id = auth::authenticate(world(), req, false)
            .ok()
            .and_then(|c| c.user_id())?;
        if counters.hit(Key::JobsIndex(id), l, now) > l.limit {
            return Some(("jobs_index", answer::endpoint_limited()));
        }
    }
    None
}

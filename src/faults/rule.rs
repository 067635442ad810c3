//! Checked rules: a `RuleSpec` whose route is resolved against the route table, whose
//! values are in range, and whose triggers count per session (`Armed`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hyper::Method;
use jiff::{SignedDuration, Timestamp};

use super::rng::SplitMix64;
use super::spec::{Action, DelaySpec, Moment, RuleSpec};

/// The routes a rule may name, as GitLab's API docs write them.
pub const ROUTES: &[&str] = &[
    "/user",
    "/version",
    "/projects/:id",
    "/job",
    "/job/allowed_agents",
    "/projects/:id/jobs",
    "/projects/:id/jobs/:job_id",
    "/projects/:id/jobs/:job_id/trace",
    "/projects/:id/jobs/:job_id/cancel",
    "/projects/:id/jobs/:job_id/retry",
    "/projects/:id/jobs/:job_id/erase",
    "/projects/:id/jobs/:job_id/play",
    "/projects/:id/pipelines/:pipeline_id/jobs",
    "/projects/:id/pipelines/:pipeline_id/bridges",
    "/projects/:id/pipelines",
    "/projects/:id/pipeline",
    "/projects/:id/pipelines/latest",
    "/projects/:id/pipelines/:pipeline_id",
    "/projects/:id/pipelines/:pipeline_id/variables",
    "/projects/:id/pipelines/:pipeline_id/test_report",
    "/projects/:id/pipelines/:pipeline_id/test_report_summary",
    "/projects/:id/pipelines/:pipeline_id/retry",
    "/projects/:id/pipelines/:pipeline_id/cancel",
];

/// The statuses `then: {status: N}` knows GitLab's answer for.
pub const STATUSES: &[u16] = &[429, 500, 502, 503, 504];

/// The Rack::Attack throttles a `throttle` action may name.
pub const THROTTLES: &[&str] = &["throttle_authenticated_api", "throttle_unauthenticated_api"];

/// A rule that does not make sense: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    /// Dotted path inside the rule (`match.route`).
    pub field: String,
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> RuleError {
    RuleError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A window bound, resolved when a session arms the rule.
#[derive(Debug, Clone, Copy)]
enum Bound {
    At(Timestamp),
    After(SignedDuration),
}

/// A delay distribution.
#[derive(Debug, Clone, Copy)]
pub enum Delay {
    Fixed(u64),
    Uniform(u64, u64),
    LogNormal { mu: f64, sigma: f64, max_ms: u64 },
}

/// A checked rule, shared by every session that has it.
#[derive(Debug)]
pub struct Rule {
    pub id: Arc<str>,
    /// As given, with its id: what `GET /-/glmock/faults` shows.
    pub spec: RuleSpec,
    method: Option<Method>,
    /// The route table's pattern (`/api/v4/projects/{id}/jobs`).
    pub route: Option<&'static str>,
    glob: Option<String>,
    /// The glob's bytes before its first `*`: a cheap first test.
    glob_prefix: usize,
    pub session: Option<String>,
    pub user: Option<String>,
    token: Option<String>,
    times: Option<u64>,
    after: u64,
    every: u64,
    probability: Option<f64>,
    window: Option<(Option<Bound>, Option<Bound>)>,
    pub delay: Option<Delay>,
    pub action: Option<Action>,
    seed: u64,
}

/// `/projects/:id/jobs` or `/api/v4/projects/{id}/jobs` → `/api/v4/projects/{id}/jobs`.
fn route_pattern(template: &str) -> Result<&'static str, String> {
    let t = template.strip_prefix("/api/v4").unwrap_or(template);
    if !t.starts_with('/') {
        return Err(format!(
            "{template:?} is not a route template (it starts with /)"
        ));
    }
    let mut sample = String::from("/api/v4");
    let mut wanted = String::from("/api/v4");
    for seg in t.split('/').skip(1) {
        let param = seg.starts_with(':') || (seg.starts_with('{') && seg.ends_with('}'));
        sample.push('/');
        wanted.push('/');
        if param {
            sample.push('1');
            wanted.push('*');
        } else {
            sample.push_str(seg);
            wanted.push_str(seg);
        }
    }
    let unknown = || {
        format!(
            "{template:?} is not one of glmock's routes (allowed: {})",
            ROUTES.join(", ")
        )
    };
    let found = crate::api::routes::pattern(&sample).ok_or_else(unknown)?;
    // Parameter names may differ (`:project_id` for `:id`); the shape may not.
    let shape: String = found
        .split('/')
        .map(|s| if s.starts_with('{') { "*" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    if shape == wanted {
        Ok(found)
    } else {
        Err(unknown())
    }
}

fn window_bound(m: &Moment) -> Bound {
    match m {
        Moment::At(t) => Bound::At(*t),
        Moment::Seconds(s) => {
            Bound::After(SignedDuration::from_millis((s * 1000.0).round() as i64))
        }
    }
}

impl Rule {
    /// Checks a spec; `id` is used when the spec names none.
    pub fn compile(mut spec: RuleSpec, id: String) -> Result<Rule, RuleError> {
        let id: Arc<str> = match &spec.id {
            Some(given) if given.is_empty() || given.len() > 64 || given.contains('/') => {
                return Err(err("id", "an id is 1-64 characters without /"));
            }
            Some(given) => given.as_str().into(),
            None => id.as_str().into(),
        };
        spec.id = Some(id.to_string());
        let m = &spec.matches;
        let method = match &m.method {
            None => None,
            Some(s) => {
                let upper = s.to_ascii_uppercase();
                Some(
                    Method::from_bytes(upper.as_bytes())
                        .map_err(|_| err("match.method", format!("{s:?} is not an HTTP method")))?,
                )
            }
        };
        if m.route.is_some() && m.path.is_some() {
            return Err(err("match", "give either route or path, not both"));
        }
        let route = match &m.route {
            None => None,
            Some(t) => Some(route_pattern(t).map_err(|e| err("match.route", e))?),
        };
        if let Some(p) = &m.path
            && !p.starts_with('/')
        {
            return Err(err(
                "match.path",
                format!("{p:?} is not a path glob (it starts with /)"),
            ));
        }
        let glob_prefix = m
            .path
            .as_deref()
            .map(|p| p.find('*').unwrap_or(p.len()))
            .unwrap_or(0);
        let w = &spec.when;
        if w.times == Some(0) {
            return Err(err(
                "when.times",
                "times must be at least 1 (remove the rule instead)",
            ));
        }
        if w.every == Some(0) {
            return Err(err("when.every", "every must be at least 1"));
        }
        if let Some(p) = w.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(err(
                "when.probability",
                format!("{p} is not a probability (0 to 1)"),
            ));
        }
        let window = w.window.as_ref().map(|win| {
            (
                win.from.as_ref().map(window_bound),
                win.until.as_ref().map(window_bound),
            )
        });
        let delay = match &spec.delay {
            None => None,
            Some(DelaySpec::FixedMs(ms)) => Some(Delay::Fixed(*ms)),
            Some(DelaySpec::UniformMs([lo, hi])) if lo <= hi => Some(Delay::Uniform(*lo, *hi)),
            Some(DelaySpec::UniformMs([lo, hi])) => {
                return Err(err(
                    "delay.uniform_ms",
                    format!("[{lo}, {hi}]: the first bound is the lower one"),
                ));
            }
            Some(DelaySpec::LogNormal(l)) => {
                if !(l.median_ms > 0.0 && l.median_ms.is_finite()) {
                    return Err(err(
                        "delay.log_normal.median_ms",
                        "median_ms must be a positive number",
                    ));
                }
                if !(l.sigma >= 0.0 && l.sigma.is_finite()) {
                    return Err(err("delay.log_normal.sigma", "sigma must be a number ≥ 0"));
                }
                Some(Delay::LogNormal {
                    mu: l.median_ms.ln(),
                    sigma: l.sigma,
                    max_ms: l.max_ms.unwrap_or(60_000),
                })
            }
        };
        match &spec.then {
            Some(Action::Status(s)) if !STATUSES.contains(s) => {
                return Err(err(
                    "then.status",
                    format!(
                        "glmock does not know GitLab's answer for {s} (allowed: {})",
                        STATUSES
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            Some(Action::Throttle(t)) => {
                if let Some(n) = &t.name
                    && !THROTTLES.contains(&n.as_str())
                {
                    return Err(err(
                        "then.throttle.name",
                        format!(
                            "{n:?} is not a throttle glmock answers for (allowed: {})",
                            THROTTLES.join(", ")
                        ),
                    ));
                }
                if t.period_in_seconds == Some(0) {
                    return Err(err(
                        "then.throttle.period_in_seconds",
                        "the period must be at least 1 second",
                    ));
                }
            }
            Some(Action::Trickle(t)) if t.bytes == 0 => {
                return Err(err("then.trickle.bytes", "bytes must be at least 1"));
            }
            _ => {}
        }
        if spec.delay.is_none() && spec.then.is_none() {
            return Err(err("then", "a rule needs a delay, a then, or both"));
        }
        let seed = spec.seed.unwrap_or(0);
        Ok(Rule {
            id,
            method,
            route,
            glob: m.path.clone(),
            glob_prefix,
            session: m.session.clone(),
            user: m.user.clone(),
            token: m.token.clone(),
            times: w.times,
            after: w.after.unwrap_or(0),
            every: w.every.unwrap_or(1),
            probability: w.probability.filter(|p| *p < 1.0),
            window,
            delay,
            action: spec.then.clone(),
            seed,
            spec,
        })
    }

    /// Whether the rule's route and path glob leave it out of the route index.
    pub fn is_loose(&self) -> bool {
        self.route.is_none()
    }

    /// The request-shape part of matching (method, path glob, token); no allocation.
    pub fn matches_shape<'t>(
        &self,
        method: &Method,
        path: &str,
        token: impl FnOnce() -> Option<&'t str>,
    ) -> bool {
        if let Some(m) = &self.method
            && m != method
            && !(*m == Method::GET && *method == Method::HEAD)
        {
            return false;
        }
        if let Some(g) = &self.glob
            && (!path
                .as_bytes()
                .starts_with(&g.as_bytes()[..self.glob_prefix])
                || !glob(g.as_bytes(), path.as_bytes()))
        {
            return false;
        }
        if let Some(t) = &self.token
            && token() != Some(t.as_str())
        {
            return false;
        }
        true
    }
}

/// `*` matches within one path segment, `**` across segments. Iterative: the set of
/// positions in `s` the pattern so far can end at is carried token by token, so the cost is
/// O(tokens × len(s)) whatever the pattern (no backtracking, no recursion).
fn glob(p: &[u8], s: &[u8]) -> bool {
    // at[i]: the pattern read so far can match s[..i].
    let mut at = vec![false; s.len() + 1];
    at[0] = true;
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'*' {
            let across = p.get(i + 1) == Some(&b'*');
            i += if across { 2 } else { 1 };
            // Every position from a reachable one up to the end (`**`) or up to the next
            // `/` (`*`) becomes reachable.
            let mut open = false;
            for (k, byte) in s.iter().copied().map(Some).chain([None]).enumerate() {
                open |= at[k];
                at[k] = open;
                if !across && byte == Some(b'/') {
                    open = false;
                }
            }
        } else {
            let end = p[i..]
                .iter()
                .position(|b| *b == b'*')
                .map_or(p.len(), |n| i + n);
            let lit = &p[i..end];
            i = end;
            for k in (0..at.len()).rev() {
                at[k] = k >= lit.len() && at[k - lit.len()] && s[k - lit.len()..k] == *lit;
            }
        }
        if !at.contains(&true) {
            return false;
        }
    }
    at[s.len()]
}

/// A rule in one session: its counters and generators.
#[derive(Debug)]
pub struct Armed {
    pub rule: Arc<Rule>,
    /// Matching requests seen (inside the window).
    pub seen: AtomicU64,
    /// Requests the rule touched.
    pub fired: AtomicU64,
    chance: SplitMix64,
    jitter: SplitMix64,
    window: Option<(Option<Timestamp>, Option<Timestamp>)>,
}

impl Armed {
    /// The rule as a session starts it, `installed` being the session clock's "now".
    pub fn new(rule: Arc<Rule>, installed: Timestamp) -> Armed {
        let at = |b: Option<Bound>| {
            b.map(|b| match b {
                Bound::At(t) => t,
                Bound::After(d) => installed
                    .saturating_add(d)
                    .expect("SignedDuration addition"),
            })
        };
        let window = rule.window.map(|(f, u)| (at(f), at(u)));
        Armed {
            chance: SplitMix64::new(rule.seed),
            jitter: SplitMix64::new(rule.seed ^ 0x6A09_E667_F3BC_C908),
            rule,
            seen: AtomicU64::new(0),
            fired: AtomicU64::new(0),
            window,
        }
    }

    pub fn has_window(&self) -> bool {
        self.window.is_some()
    }

    /// Counts a matching request and says whether the rule touches it.
    pub fn fire(&self, now: Option<Timestamp>) -> bool {
        if let (Some((from, until)), Some(now)) = (self.window, now)
            && (from.is_some_and(|f| now < f) || until.is_some_and(|u| now >= u))
        {
            return false;
        }
        let r = &self.rule;
        let k = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        if k <= r.after || !(k - r.after).is_multiple_of(r.every) {
            return false;
        }
        if let Some(p) = r.probability
            && self.chance.next_f64() >= p
        {
            return false;
        }
        match r.times {
            None => {
                self.fired.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(max) => self
                .fired
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| {
                    (f < max).then_some(f + 1)
                })
                .is_ok(),
        }
    }

    /// A delay drawn from the rule's distribution.
    pub fn draw_delay(&self) -> Option<std::time::Duration> {
        let ms = match self.rule.delay? {
            Delay::Fixed(ms) => ms,
            Delay::Uniform(lo, hi) => lo + (self.jitter.next_f64() * (hi - lo + 1) as f64) as u64,
            Delay::LogNormal { mu, sigma, max_ms } => {
                let x = (mu + sigma * self.jitter.next_normal()).exp();
                (x.round() as u64).min(max_ms)
            }
        };
        Some(std::time::Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_route_is_in_the_route_table() {
        for r in ROUTES {
            route_pattern(r).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
        assert_eq!(
            route_pattern("/projects/:project_id/pipelines/latest"),
            Ok("/api/v4/projects/{id}/pipelines/latest")
        );
        assert!(route_pattern("/projects/:id/issues").is_err());
        assert!(
            route_pattern("/projects/:id/jobs/retry").is_err(),
            "a literal is not a parameter"
        );
    }

    fn armed(json: serde_json::Value) -> Armed {
        let spec: RuleSpec = serde_json::from_value(json).expect("a rule");
        let rule = Rule::compile(spec, "r".into()).expect("valid");
        Armed::new(Arc::new(rule), Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn seeded_delays_repeat_and_follow_their_distribution() {
        let draws = |seed: u64| {
            let a = armed(serde_json::json!({"delay": {"uniform_ms": [100, 200]}, "seed": seed}));
            (0..200)
                .map(|_| a.draw_delay().expect("a delay").as_millis() as u64)
                .collect::<Vec<_>>()
        };
        let (a, b) = (draws(5), draws(5));
        assert_eq!(a, b);
        assert_ne!(a, draws(6));
        assert!(a.iter().all(|d| (100..=200).contains(d)));
        assert!(
            a.iter().any(|d| *d < 110) && a.iter().any(|d| *d > 190),
            "the range is covered"
        );

        let ln = armed(
            serde_json::json!({"delay": {"log_normal": {"median_ms": 200, "sigma": 0.5, "max_ms": 1000}}, "seed": 1}),
        );
        let mut xs: Vec<u128> = (0..1001)
            .map(|_| ln.draw_delay().expect("a delay").as_millis())
            .collect();
        xs.sort();
        assert!((170..=230).contains(&xs[500]), "median {}", xs[500]);
        assert!(*xs.last().expect("draws") <= 1000, "max_ms caps it");
    }

    #[test]
    fn globs_keep_single_stars_inside_a_segment() {
        assert!(glob(b"/api/v4/projects/*/jobs", b"/api/v4/projects/1/jobs"));
        assert!(!glob(
            b"/api/v4/projects/*/jobs",
            b"/api/v4/projects/a/b/jobs"
        ));
        assert!(glob(b"/api/v4/**", b"/api/v4/projects/a/b/jobs"));
        assert!(glob(
            b"/api/v4/projects/*/jobs/*",
            b"/api/v4/projects/1/jobs/7"
        ));
        assert!(!glob(
            b"/api/v4/projects/*/jobs/*",
            b"/api/v4/projects/1/jobs"
        ));
        assert!(glob(b"/a/*/c", b"/a//c"));
        assert!(!glob(b"/a/*", b"/a/b/"));
        assert!(glob(b"**", b""));
        assert!(glob(b"/x**y", b"/x/a/b/y"));
        assert!(!glob(b"/x*y", b"/x/a/y"));
        assert!(glob(b"*.json", b"report.json"));
    }

    #[test]
    fn globs_stay_linear_on_adversarial_patterns() {
        // Recursive matching takes exponential time here; the position set does not.
        let pattern = "/**".repeat(40) + "/z";
        let path = "/a".repeat(4000);
        assert!(!glob(pattern.as_bytes(), path.as_bytes()));
        assert!(glob(pattern.as_bytes(), (path + "/z").as_bytes()));
    }
}

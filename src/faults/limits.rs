//! GitLab's rate limits, counted on the session clock: the Rack::Attack API throttles
//! (`lib/gitlab/rack_attack.rb`: fixed windows of `period` seconds, per user when the
//! request is authenticated, per IP when not) and the application limit on
//! `GET /projects/:id/jobs` (`lib/gitlab/application_rate_limiter.rb`: `jobs_index`, the
//! `project_jobs_api_rate_limit` setting, per minute, scoped to the current user).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::Timestamp;

use super::spec::{LimitSpec, RateLimitsSpec, ThrottleSettings};

/// A limit: at most `limit` requests per `period` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub limit: u64,
    pub period: u64,
}

impl From<&ThrottleSettings> for Limit {
    fn from(s: &ThrottleSettings) -> Self {
        Limit {
            limit: s.requests_per_period,
            period: s.period_in_seconds.max(1),
        }
    }
}

/// The limits a scenario turned on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub jobs_index: Option<Limit>,
    pub authenticated_api: Option<Limit>,
    pub unauthenticated_api: Option<Limit>,
}

impl Limits {
    pub fn from_spec(s: &RateLimitsSpec) -> Result<Limits, super::rule::RuleError> {
        let check = |field: &str, l: Limit| {
            if l.period == 0 {
                Err(super::rule::RuleError {
                    field: field.to_owned(),
                    message: "period_in_seconds must be at least 1".into(),
                })
            } else {
                Ok(l)
            }
        };
        let jobs_index = match &s.project_jobs_api {
            None => None,
            Some(LimitSpec::PerMinute(n)) => Some(Limit {
                limit: *n,
                period: 60,
            }),
            Some(LimitSpec::Settings(t)) => Some(check(
                "project_jobs_api.period_in_seconds",
                Limit {
                    limit: t.requests_per_period,
                    period: t.period_in_seconds,
                },
            )?),
        };
        let throttle = |field: &str, t: &Option<ThrottleSettings>| match t {
            None => Ok(None),
            Some(t) => check(
                field,
                Limit {
                    limit: t.requests_per_period,
                    period: t.period_in_seconds,
                },
            )
            .map(Some),
        };
        Ok(Limits {
            jobs_index,
            authenticated_api: throttle(
                "authenticated_api.period_in_seconds",
                &s.authenticated_api,
            )?,
            unauthenticated_api: throttle(
                "unauthenticated_api.period_in_seconds",
                &s.unauthenticated_api,
            )?,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }
}

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    JobsIndex(u64),
    AuthenticatedApi(u64),
    UnauthenticatedApi(IpAddr),
}

/// One session's counters: `(window number, count)` per key.
#[derive(Debug, Default)]
pub struct Counters {
    map: Mutex<HashMap<Key, (i64, u64)>>,
}

impl Counters {
    /// Counts one request in the current window and returns the count (this one included).
    pub fn hit(&self, key: Key, limit: Limit, now: Timestamp) -> u64 {
        let window = now.as_second().div_euclid(limit.period as i64);
        let mut map = self.map.lock().expect("rate limit counters poisoned");
        let slot = map.entry(key).or_insert((window, 0));
        if slot.0 != window {
            *slot = (window, 0);
        }
        slot.1 += 1;
        slot.1
    }
}

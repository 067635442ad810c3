//! The request journal: every API request with its session and status, newest last,
//! bounded in size (the oldest entries are dropped), for "was retry called exactly once?"
//! assertions.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub seq: u64,
    /// When the request arrived (real time, not the session clock).
    pub time: jiff::Timestamp,
    pub session: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub duration_ms: f64,
    /// How the response broke its schema (empty when it did not, or checking is off).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<crate::contract::Violation>,
    /// Ids of the fault rules and rate limits that touched the request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
}

#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<Entry>,
    next_seq: u64,
    dropped: u64,
}

/// Which entries to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub session: Option<String>,
    /// Exact path, or a prefix when it ends with `*`.
    pub path: Option<String>,
    pub method: Option<String>,
    pub status: Option<u16>,
    pub limit: Option<usize>,
    /// Only requests whose response broke its schema.
    pub violations_only: bool,
}

impl Filter {
    fn matches(&self, e: &Entry) -> bool {
        self.session.as_ref().is_none_or(|s| *s == e.session)
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            && self.status.is_none_or(|s| s == e.status)
            && (!self.violations_only || !e.violations.is_empty())
            && self
                .path
                .as_ref()
                .is_none_or(|p| match p.strip_suffix('*') {
                    Some(prefix) => e.path.starts_with(prefix),
                    None => *p == e.path,
                })
    }
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Journal {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    pub fn record(&self, mut entry: Entry) {
        let mut inner = self.inner.lock().expect("journal lock poisoned");
        inner.next_seq += 1;
        entry.seq = inner.next_seq;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
            inner.dropped += 1;
        }
        inner.entries.push_back(entry);
    }

    /// Matching entries (oldest first; with a limit, the newest `limit`) and how many
    /// entries were dropped for space since the last clear.
    pub fn list(&self, filter: &Filter) -> (Vec<Entry>, u64) {
        let inner = self.inner.lock().expect("journal lock poisoned");
        let mut out: Vec<Entry> = inner
            .entries
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect();
        if let Some(limit) = filter.limit {
            let skip = out.len().saturating_sub(limit);
            out.drain(..skip);
        }
        (out, inner.dropped)
    }

    /// Forgets entries: those of one session, or all.
    pub fn clear(&self, session: Option<&str>) {
        let mut inner = self.inner.lock().expect("journal lock poisoned");
        match session {
            Some(s) => inner.entries.retain(|e| e.session != s),
            None => {
                inner.entries.clear();
                inner.dropped = 0;
            }
        }
    }
}

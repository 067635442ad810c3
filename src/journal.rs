//! The request journal: every API request with its session, headers (secrets masked, see
//! `mask`), bodies (bounded, truncation marked), the route it matched, its status, latency,
//! contract violations and the faults applied — for "what did my code send?" assertions.
//!
//! Bounded twice: each session keeps its own ring (`per_session` entries; a busy session
//! never evicts a quiet one's history), and all sessions together stay under `max_bytes`
//! (the oldest entry of any session goes first). Evictions are counted per session.
//!
//! Cheap on the hot path: headers are copied once, into one buffer per entry, with
//! credentials replaced on the way (an entry never pins the connection's read buffer);
//! bodies are kept as `Bytes` slices of the buffers the request and response already own (a
//! response page of cached jobs costs one reference count); JSON is written only when the
//! journal is read. `examples/journal_bench.rs` measures what it costs.

pub mod mask;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::{HeaderMap, Method};
use jiff::Timestamp;
use serde::Serialize;

use crate::api::Body;

/// How much the journal keeps.
#[derive(Debug, Clone, Copy)]
pub struct JournalOptions {
    /// Off: nothing is recorded (and nothing can be verified).
    pub enabled: bool,
    /// Entries kept per session (its oldest dropped first).
    pub per_session: usize,
    /// All entries of all sessions together, in (estimated) bytes.
    pub max_bytes: usize,
    /// Bytes of each request and response body kept (0: no bodies).
    pub body_bytes: usize,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            enabled: true,
            per_session: 10_000,
            max_bytes: 64 * 1024 * 1024,
            body_bytes: 16 * 1024,
        }
    }
}

/// Request headers as journaled: names and values in one buffer (one allocation per
/// entry, however many headers), credentials already replaced (see `mask::headers`).
#[derive(Debug, Clone, Default)]
pub struct Headers {
    /// Per header: the name's length (u16 LE), the value's length (u32 LE), the name, the
    /// value.
    buf: Vec<u8>,
}

impl Headers {
    fn clear_and_reserve(&mut self, headers: usize, bytes: usize) {
        self.buf.clear();
        self.buf.reserve(bytes + 6 * headers);
    }

    fn push(&mut self, name: &str, value: &[u8]) {
        // hyper refuses longer names and heads far shorter than 4 GiB.
        let (Ok(n), Ok(v)) = (u16::try_from(name.len()), u32::try_from(value.len())) else {
            return;
        };
        self.buf.extend_from_slice(&n.to_le_bytes());
        self.buf.extend_from_slice(&v.to_le_bytes());
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(value);
    }

    /// The headers in the order they arrived (a name's values one after the other).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let mut rest = self.buf.as_slice();
        std::iter::from_fn(move || {
            let (n, tail) = rest.split_first_chunk::<2>()?;
            let (v, tail) = tail.split_first_chunk::<4>()?;
            let (n, v) = (
                usize::from(u16::from_le_bytes(*n)),
                u32::from_le_bytes(*v) as usize,
            );
            let (name, tail) = tail.split_at_checked(n)?;
            let (value, tail) = tail.split_at_checked(v)?;
            rest = tail;
            Some((std::str::from_utf8(name).unwrap_or("?"), value))
        })
    }

    fn bytes(&self) -> usize {
        self.buf.len()
    }
}

/// A body as journaled: its first bytes and its full length.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// The body's pieces (possibly more than is kept: a shared page is not cut).
    parts: Pieces,
    /// Bytes of `parts` kept (the first ones).
    kept: usize,
    /// The body's whole length.
    pub len: usize,
}

/// Nothing, one piece, or a list of them shared with the response.
#[derive(Debug, Clone, Default)]
enum Pieces {
    #[default]
    None,
    One(Bytes),
    Many(Arc<[Bytes]>),
}

impl Captured {
    /// The first `cap` bytes of a body in pieces, without copying them.
    pub fn of(parts: &[Bytes], cap: usize) -> Captured {
        let len: usize = parts.iter().map(Bytes::len).sum();
        let kept = len.min(cap);
        let parts = match parts {
            _ if kept == 0 => Pieces::None,
            [one] => Pieces::One(one.slice(..kept)),
            _ => {
                let mut pieces = Vec::new();
                let mut room = kept;
                for p in parts {
                    if room == 0 {
                        break;
                    }
                    let n = p.len().min(room);
                    pieces.push(p.slice(..n));
                    room -= n;
                }
                Pieces::Many(pieces.into())
            }
        };
        Captured { parts, kept, len }
    }

    /// The first `cap` bytes of a body whose pieces are already shared: one reference
    /// count, no per-piece clone. A body much longer than `cap` is cut as `of` cuts it, so
    /// the journal does not keep a large page alive for its first bytes.
    pub fn shared(parts: &Arc<[Bytes]>, cap: usize) -> Captured {
        let len: usize = parts.iter().map(Bytes::len).sum();
        if len > cap.saturating_mul(4) || len == 0 {
            return Captured::of(parts, cap);
        }
        Captured {
            parts: Pieces::Many(parts.clone()),
            kept: len.min(cap),
            len,
        }
    }

    /// Like `of`, but copies a truncated piece, so a short prefix does not keep a large
    /// buffer (a whole trace, a 1 MiB request) alive.
    pub fn copied_if_cut(body: &Bytes, cap: usize) -> Captured {
        if body.len() <= cap {
            return Captured::of(std::slice::from_ref(body), cap);
        }
        Captured {
            parts: Pieces::One(Bytes::copy_from_slice(&body[..cap])),
            kept: cap,
            len: body.len(),
        }
    }

    fn kept(&self) -> usize {
        self.kept
    }

    fn all(&self) -> &[Bytes] {
        match &self.parts {
            Pieces::None => &[],
            Pieces::One(b) => std::slice::from_ref(b),
            Pieces::Many(parts) => parts,
        }
    }

    /// The kept pieces (the last one cut to what is kept).
    fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        let mut room = self.kept;
        self.all().iter().map_while(move |p| {
            if room == 0 {
                return None;
            }
            let n = p.len().min(room);
            room -= n;
            Some(&p[..n])
        })
    }

    fn text(&self) -> Option<Cow<'_, str>> {
        if self.len == 0 {
            return None;
        }
        let mut pieces = self.pieces().filter(|p| !p.is_empty());
        let first = pieces.next().unwrap_or(&[]);
        Some(match pieces.next() {
            None => String::from_utf8_lossy(first),
            Some(second) => {
                let mut all = Vec::with_capacity(self.kept);
                all.extend_from_slice(first);
                all.extend_from_slice(second);
                pieces.for_each(|p| all.extend_from_slice(p));
                Cow::Owned(String::from_utf8_lossy(&all).into_owned())
            }
        })
    }
}

/// One request and its answer, as the server hands them to the journal.
pub struct Exchange<'a> {
    /// When the request arrived (real time, not the session clock).
    pub time: Timestamp,
    pub session: &'a str,
    pub method: Method,
    /// The path below the session prefix.
    pub path: String,
    /// The raw query string.
    pub query: String,
    pub route: Option<&'static str>,
    pub status: u16,
    pub latency_us: u64,
    pub request_headers: &'a HeaderMap,
    pub request_body: &'a Bytes,
    pub response_body: &'a Body,
    pub violations: Vec<crate::contract::Violation>,
    pub faults: Vec<String>,
    pub unimplemented: bool,
}

/// One request and what it got.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Set by the journal: increasing over the whole server.
    pub seq: u64,
    /// When the request arrived (real time, not the session clock).
    pub time: Timestamp,
    /// The session's name, shared with its ring (not a copy per entry).
    pub session: Arc<str>,
    pub method: Method,
    /// The path below the session prefix (secrets masked).
    pub path: String,
    /// The raw query string (token-like parameters masked).
    pub query: String,
    /// The route template matched (`/api/v4/projects/{id}/jobs`), or the unimplemented
    /// GitLab route, or none.
    pub route: Option<&'static str>,
    pub status: u16,
    pub latency_us: u64,
    /// Request headers (credentials masked).
    pub request_headers: Headers,
    pub request_body: Captured,
    pub response_body: Captured,
    /// How the response broke its schema (empty when it did not, or checking is off).
    pub violations: Vec<crate::contract::Violation>,
    /// Ids of the fault rules and rate limits that touched the request.
    pub faults: Vec<String>,
    /// A GitLab route glmock does not implement.
    pub unimplemented: bool,
}

impl Entry {
    /// Masks the secrets of the request that `secrets` (from its headers) and its query
    /// and body reveal, in the query, the path and the body.
    fn mask(&mut self, mut secrets: mask::Secrets<'_>) {
        let query = std::mem::take(&mut self.query);
        let masked = mask::query(&query, &mut secrets);
        if self.request_body.kept > 0 {
            let mut room = self.request_body.kept;
            let mut masked: Vec<Bytes> = Vec::new();
            for p in self.request_body.all() {
                if room == 0 {
                    break;
                }
                let n = p.len().min(room);
                room -= n;
                masked.push(mask::body(&p.slice(..n), &mut secrets));
            }
            self.request_body.kept = masked.iter().map(Bytes::len).sum();
            self.request_body.parts = match <[Bytes; 1]>::try_from(masked) {
                Ok([one]) => Pieces::One(one),
                Err(many) => Pieces::Many(many.into()),
            };
        }
        let masked = match mask::text(&masked, &secrets) {
            Cow::Owned(q) => Some(q),
            Cow::Borrowed(_) => match masked {
                Cow::Owned(q) => Some(q),
                Cow::Borrowed(_) => None,
            },
        };
        self.query = masked.unwrap_or(query);
        if let Cow::Owned(p) = mask::text(&self.path, &secrets) {
            self.path = p;
        }
    }

    /// Estimated memory (and JSON) size.
    fn size(&self) -> usize {
        let headers = self.request_headers.bytes();
        256 + self.session.len()
            + self.path.len()
            + self.query.len()
            + headers
            + self.request_body.kept()
            + self.response_body.kept()
            + self.violations.len() * 256
            + self.faults.iter().map(|f| f.len() + 8).sum::<usize>()
    }
}

#[derive(Serialize)]
struct View<'a> {
    seq: u64,
    time: Timestamp,
    session: &'a str,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    route: Option<&'a str>,
    status: u16,
    latency_us: u64,
    request_headers: BTreeMap<&'a str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_body: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    request_body_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_body: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    response_body_truncated: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    violations: &'a [crate::contract::Violation],
    faults: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unimplemented: bool,
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut request_headers: BTreeMap<&str, String> = BTreeMap::new();
        for (k, v) in self.request_headers.iter() {
            let v = String::from_utf8_lossy(v);
            request_headers
                .entry(k)
                .and_modify(|old| {
                    old.push_str(", ");
                    old.push_str(&v);
                })
                .or_insert_with(|| v.into_owned());
        }
        View {
            seq: self.seq,
            time: self.time,
            session: &self.session,
            method: self.method.as_str(),
            path: &self.path,
            query: &self.query,
            route: self.route,
            status: self.status,
            latency_us: self.latency_us,
            request_headers,
            request_body: self.request_body.text(),
            request_body_truncated: self.request_body.kept() < self.request_body.len,
            response_body: self.response_body.text(),
            response_body_truncated: self.response_body.kept() < self.response_body.len,
            violations: &self.violations,
            faults: &self.faults,
            unimplemented: self.unimplemented,
        }
        .serialize(s)
    }
}

/// Which entries to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub session: Option<String>,
    /// A glob over the path: `*` matches any run of characters (`/` included), `?` one.
    pub path: Option<String>,
    pub method: Option<String>,
    /// The route template, exactly.
    pub route: Option<String>,
    /// An exact status, or a class such as `4xx`.
    pub status: Option<StatusFilter>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Only entries after this sequence number.
    pub after: Option<u64>,
    /// Only requests whose response broke its schema.
    pub violations_only: bool,
    /// Only requests to unimplemented GitLab routes.
    pub unimplemented_only: bool,
}

/// `404` or `4xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Exact(u16),
    Class(u16),
}

impl std::str::FromStr for StatusFilter {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        if let Some(d) = s.strip_suffix("xx").or_else(|| s.strip_suffix("XX")) {
            return match d.parse::<u16>() {
                Ok(c @ 1..=5) if d.len() == 1 => Ok(StatusFilter::Class(c)),
                _ => Err(()),
            };
        }
        match s.parse::<u16>() {
            Ok(c @ 100..=599) => Ok(StatusFilter::Exact(c)),
            _ => Err(()),
        }
    }
}

impl StatusFilter {
    fn matches(self, status: u16) -> bool {
        match self {
            StatusFilter::Exact(c) => c == status,
            StatusFilter::Class(c) => status / 100 == c,
        }
    }
}

/// Does `text` match the glob `pattern` (`*` any run, `?` one character)?
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative with one backtrack point: linear in practice, never recursive.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl Filter {
    /// Does an entry pass every criterion?
    pub fn matches(&self, e: &Entry) -> bool {
        self.session.as_ref().is_none_or(|s| **s == *e.session)
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(e.method.as_str()))
            && self.status.is_none_or(|s| s.matches(e.status))
            && self
                .route
                .as_ref()
                .is_none_or(|r| Some(r.as_str()) == e.route)
            && self.since.is_none_or(|t| e.time >= t)
            && self.until.is_none_or(|t| e.time <= t)
            && self.after.is_none_or(|a| e.seq > a)
            && (!self.violations_only || !e.violations.is_empty())
            && (!self.unimplemented_only || e.unimplemented)
            && self.path.as_ref().is_none_or(|p| glob(p, &e.path))
    }
}

/// A page of entries.
#[derive(Debug)]
pub struct Page {
    pub entries: Vec<Arc<Entry>>,
    /// Entries evicted for space (of the filtered session, or of all).
    pub dropped: u64,
    /// The `after` for the next page, when more entries match.
    pub next_after: Option<u64>,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<(Arc<Entry>, usize)>,
    dropped: u64,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<Arc<str>, Ring>,
    /// Every live entry's (seq, session), oldest first, plus stale ones from per-session
    /// evictions (compacted when they pile up).
    order: VecDeque<(u64, Arc<str>)>,
    live: usize,
    bytes: usize,
    next_seq: u64,
    /// Dropped by sessions that no longer have entries.
    dropped_gone: u64,
    unimplemented: BTreeMap<(String, &'static str), Hit>,
}

/// Requests to one unimplemented route.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub method: String,
    pub route: &'static str,
    pub count: u64,
    pub last_path: String,
    pub last_session: String,
    pub last_time: Timestamp,
}

/// The session of an entry not yet in its ring (one shared empty name, no allocation).
fn unnamed() -> Arc<str> {
    static EMPTY: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(""));
    EMPTY.clone()
}

/// The journal of one server.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Inner>,
    options: JournalOptions,
}

impl Journal {
    pub fn new(options: JournalOptions) -> Self {
        Journal {
            inner: Mutex::new(Inner::default()),
            options: JournalOptions {
                per_session: options.per_session.max(1),
                ..options
            },
        }
    }

    pub fn options(&self) -> &JournalOptions {
        &self.options
    }

    /// Records what the server saw and answered (bodies cut to `body_bytes`, secrets
    /// masked).
    pub fn record_exchange(&self, x: Exchange<'_>) {
        if !self.options.enabled {
            return;
        }
        let cap = self.options.body_bytes;
        let response_body = match x.response_body {
            _ if cap == 0 => Captured::default(),
            Body::Json(b) => Captured::of(std::slice::from_ref(b), cap),
            Body::JsonParts(parts) => Captured::shared(parts, cap),
            Body::Text(b) => Captured::copied_if_cut(b, cap),
            Body::Empty => Captured::default(),
        };
        let request_body = if cap == 0 {
            Captured::default()
        } else {
            Captured::copied_if_cut(x.request_body, cap)
        };
        let mut secrets = mask::Secrets::new();
        let mut request_headers = Headers::default();
        mask::headers(x.request_headers, &mut request_headers, &mut secrets);
        let mut entry = Entry {
            seq: 0,
            time: x.time,
            session: unnamed(),
            method: x.method,
            path: x.path,
            query: x.query,
            route: x.route,
            status: x.status,
            latency_us: x.latency_us,
            request_headers,
            request_body,
            response_body,
            violations: x.violations,
            faults: x.faults,
            unimplemented: x.unimplemented,
        };
        entry.mask(secrets);
        self.push(x.session, entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("journal lock poisoned")
    }

    /// Keeps a masked entry: in the ring of `session`, within the byte cap.
    fn push(&self, session: &str, mut entry: Entry) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let key = match inner.sessions.get_key_value(session) {
            Some((k, _)) => k.clone(),
            None => {
                let k: Arc<str> = Arc::from(session);
                inner.sessions.insert(k.clone(), Ring::default());
                k
            }
        };
        entry.session = key.clone();
        let size = entry.size();
        if entry.unimplemented
            && let Some(route) = entry.route
        {
            let method = entry.method.as_str();
            let method = if Method::from_bytes(method.as_bytes()).is_ok() && method.len() <= 16 {
                method.to_owned()
            } else {
                "OTHER".to_owned()
            };
            let hit = inner
                .unimplemented
                .entry((method.clone(), route))
                .or_insert_with(|| Hit {
                    method,
                    route,
                    count: 0,
                    last_path: String::new(),
                    last_session: String::new(),
                    last_time: entry.time,
                });
            hit.count += 1;
            hit.last_path.clone_from(&entry.path);
            hit.last_session.clear();
            hit.last_session.push_str(&entry.session);
            hit.last_time = entry.time;
        }
        inner.next_seq += 1;
        let seq = inner.next_seq;
        entry.seq = seq;
        let ring = inner.sessions.get_mut(&key).expect("ring just ensured");
        ring.entries.push_back((Arc::new(entry), size));
        inner.bytes += size;
        inner.live += 1;
        if ring.entries.len() > self.options.per_session {
            if let Some((_, n)) = ring.entries.pop_front() {
                inner.bytes -= n;
                inner.live -= 1;
            }
            ring.dropped += 1;
        }
        inner.order.push_back((seq, key));
        while inner.bytes > self.options.max_bytes && inner.live > 1 {
            let Some((seq, session)) = inner.order.pop_front() else {
                break;
            };
            let Some(ring) = inner.sessions.get_mut(&session) else {
                continue;
            };
            if ring.entries.front().is_some_and(|(e, _)| e.seq == seq) {
                let (_, n) = ring.entries.pop_front().expect("front checked");
                inner.bytes -= n;
                inner.live -= 1;
                ring.dropped += 1;
                if ring.entries.is_empty() {
                    inner.dropped_gone += ring.dropped;
                    inner.sessions.remove(&session);
                }
            }
        }
        if inner.order.len() > 2 * inner.live + 1024 {
            let Inner {
                order, sessions, ..
            } = inner;
            order.retain(|(seq, s)| {
                sessions
                    .get(s)
                    .and_then(|r| r.entries.front())
                    .is_some_and(|(e, _)| e.seq <= *seq)
            });
        }
    }

    /// Matching entries, oldest first: at most `limit` of them and about `max_bytes` of
    /// JSON (at least one entry).
    pub fn list(&self, filter: &Filter, limit: usize, max_bytes: usize) -> Page {
        let inner = self.lock();
        let mut matching: Vec<(&Arc<Entry>, usize)> = match &filter.session {
            Some(s) => inner
                .sessions
                .get(s.as_str())
                .map(|r| {
                    r.entries
                        .iter()
                        .filter(|(e, _)| filter.matches(e))
                        .map(|(e, n)| (e, *n))
                        .collect()
                })
                .unwrap_or_default(),
            None => {
                let mut all: Vec<(&Arc<Entry>, usize)> = inner
                    .sessions
                    .values()
                    .flat_map(|r| r.entries.iter())
                    .filter(|(e, _)| filter.matches(e))
                    .map(|(e, n)| (e, *n))
                    .collect();
                all.sort_by_key(|(e, _)| e.seq);
                all
            }
        };
        let mut bytes = 0;
        let mut take = 0;
        for (_, n) in &matching {
            if take == limit || (take > 0 && bytes + n > max_bytes) {
                break;
            }
            bytes += n;
            take += 1;
        }
        let next_after = (take < matching.len()).then(|| matching[take - 1].0.seq);
        matching.truncate(take);
        let dropped = match &filter.session {
            Some(s) => inner.sessions.get(s.as_str()).map_or(0, |r| r.dropped),
            None => inner.dropped_gone + inner.sessions.values().map(|r| r.dropped).sum::<u64>(),
        };
        Page {
            entries: matching.into_iter().map(|(e, _)| e.clone()).collect(),
            dropped,
            next_after,
        }
    }

    /// Every retained entry that passes `filter` (for verification).
    pub fn matching(&self, filter: &Filter) -> Vec<Arc<Entry>> {
        self.list(filter, usize::MAX, usize::MAX).entries
    }

    /// Forgets entries: those of one session, or all (and the unimplemented counts).
    pub fn clear(&self, session: Option<&str>) {
        let mut inner = self.lock();
        match session {
            Some(s) => {
                if let Some(ring) = inner.sessions.remove(s) {
                    let freed: usize = ring.entries.iter().map(|(_, n)| n).sum();
                    inner.bytes -= freed;
                    inner.live -= ring.entries.len();
                }
            }
            None => {
                let next_seq = inner.next_seq;
                *inner = Inner {
                    next_seq,
                    ..Inner::default()
                };
            }
        }
    }

    /// Requests to unimplemented GitLab routes since the last clear, per method and route.
    pub fn unimplemented(&self) -> Vec<Hit> {
        let inner = self.lock();
        inner.unimplemented.values().cloned().collect()
    }

    /// Entries and estimated bytes held (all sessions).
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.live, inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(j: &Journal, session: &str, body: usize) {
        let response = Body::Json(Bytes::from(vec![b'x'; body]));
        j.record_exchange(Exchange {
            time: Timestamp::now(),
            session,
            method: Method::GET,
            path: "/api/v4/projects/1/jobs".to_owned(),
            query: String::new(),
            route: None,
            status: 200,
            latency_us: 1,
            request_headers: &HeaderMap::new(),
            request_body: &Bytes::new(),
            response_body: &response,
            violations: Vec::new(),
            faults: Vec::new(),
            unimplemented: false,
        });
    }

    #[test]
    fn globs() {
        assert!(glob("/api/v4/projects/*/jobs", "/api/v4/projects/1/jobs"));
        assert!(glob(
            "/api/v4/projects/1/jobs/*",
            "/api/v4/projects/1/jobs/7/retry"
        ));
        assert!(glob("/a?c", "/abc"));
        assert!(!glob("/a?c", "/abbc"));
        assert!(!glob(
            "/api/v4/projects/*/jobs",
            "/api/v4/projects/1/jobs/7"
        ));
        assert!(glob("*", ""));
    }

    #[test]
    fn a_busy_session_never_evicts_a_quiet_one_and_bytes_stay_capped() {
        let j = Journal::new(JournalOptions {
            per_session: 10,
            max_bytes: 100_000,
            ..JournalOptions::default()
        });
        record(&j, "quiet", 10);
        for _ in 0..1000 {
            record(&j, "busy", 10);
        }
        let all = |s: &str| Filter {
            session: Some(s.into()),
            ..Filter::default()
        };
        assert_eq!(j.list(&all("quiet"), 100, usize::MAX).entries.len(), 1);
        let busy = j.list(&all("busy"), 100, usize::MAX);
        assert_eq!(busy.entries.len(), 10);
        assert_eq!(busy.dropped, 990);
        for i in 0..1000 {
            record(&j, &format!("s{i}"), 2000);
            assert!(j.usage().1 <= 100_000, "over the byte cap");
        }
        let inner = j.inner.lock().unwrap();
        assert!(inner.order.len() <= 2 * inner.live + 1024);
    }
}

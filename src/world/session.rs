//! Sessions: named, isolated copies of the loaded World, created by their first write.
//!
//! A new session is one `Arc` clone of the base world. Reads take a snapshot (`Arc<World>`)
//! and render without holding any lock; a read of a session that does not exist sees the
//! base world and creates nothing. Writes lock only their own session and change it through
//! `Arc::make_mut`: the World's containers are persistent, so a write copies O(log n) of
//! what it touches whether or not readers still hold snapshots (it never needs unique
//! ownership to be cheap).
//!
//! At most `max` sessions exist: creating one more evicts the least recently used idle
//! session (no write in progress), which restarts from the scenario on its next use, as a
//! reset one does. Evicted names are reported to the `on_evict` hook (the journal drops
//! their entries).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use super::World;

/// The default session's name (requests with neither prefix nor header).
pub const DEFAULT: &str = "default";

/// Sessions kept by default (`--max-sessions`).
pub const DEFAULT_MAX: usize = 10_000;

/// Called with each evicted session's name.
pub type EvictHook = Box<dyn Fn(&str) + Send + Sync>;

#[derive(Debug)]
struct Slot {
    world: Mutex<Arc<World>>,
    /// The tick of the last request that used the session (for LRU eviction).
    used: AtomicU64,
}

/// Every session of one server.
pub struct Sessions {
    base: RwLock<Arc<World>>,
    map: RwLock<HashMap<String, Arc<Slot>>>,
    max: usize,
    tick: AtomicU64,
    on_evict: OnceLock<EvictHook>,
    /// Writes that found their session's world shared with a snapshot (a reader in flight,
    /// or the base world a new session starts from), so `Arc::make_mut` copied its top.
    shared_writes: AtomicU64,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("max", &self.max)
            .field("sessions", &self.len())
            .finish_non_exhaustive()
    }
}

/// Valid session names: 1–64 of `A-Z a-z 0-9 _ . -`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl Sessions {
    /// Sessions of `base`, at most `DEFAULT_MAX` of them.
    pub fn new(base: World) -> Self {
        Self::bounded(base, DEFAULT_MAX)
    }

    /// Sessions of `base`, at most `max` (at least 1) of them.
    pub fn bounded(base: World, max: usize) -> Self {
        Sessions {
            base: RwLock::new(Arc::new(base)),
            map: RwLock::new(HashMap::new()),
            max: max.max(1),
            tick: AtomicU64::new(0),
            on_evict: OnceLock::new(),
            shared_writes: AtomicU64::new(0),
        }
    }

    /// Sets the hook told about evicted sessions (once; later calls are ignored and
    /// return false).
    pub fn set_on_evict(&self, hook: impl Fn(&str) + Send + Sync + 'static) -> bool {
        self.on_evict.set(Box::new(hook)).is_ok()
    }

    /// The most sessions kept at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many sessions exist.
    pub fn len(&self) -> usize {
        self.map.read().expect("sessions lock poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn touch(&self, slot: &Slot) {
        slot.used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    }

    /// The session's slot if it exists.
    fn existing(&self, name: &str) -> Option<Arc<Slot>> {
        let slot = self
            .map
            .read()
            .expect("sessions lock poisoned")
            .get(name)
            .cloned()?;
        self.touch(&slot);
        Some(slot)
    }

    /// The session's slot, created from `world` (the base when `None`) if it does not
    /// exist, evicting the least recently used idle session when the map is full.
    fn slot(&self, name: &str, world: Option<Arc<World>>) -> Arc<Slot> {
        let replace = world.is_some();
        if !replace && let Some(slot) = self.existing(name) {
            return slot;
        }
        let base = match world {
            Some(w) => w,
            None => self.base.read().expect("base lock poisoned").clone(),
        };
        let mut evicted = Vec::new();
        let slot = {
            let mut map = self.map.write().expect("sessions lock poisoned");
            if let Some(slot) = map.get(name).cloned() {
                // Created by another request meanwhile (use it), or replaced on purpose.
                if replace {
                    *slot.world.lock().expect("session lock poisoned") = base;
                }
                slot
            } else {
                while map.len() >= self.max {
                    // Idle: only the map holds the slot (no write in progress).
                    let lru = map
                        .iter()
                        .filter(|(_, s)| Arc::strong_count(s) == 1)
                        .min_by_key(|(_, s)| s.used.load(Ordering::Relaxed))
                        .map(|(n, _)| n.clone());
                    let Some(lru) = lru else { break };
                    map.remove(&lru);
                    evicted.push(lru);
                }
                let slot = Arc::new(Slot {
                    world: Mutex::new(base),
                    used: AtomicU64::new(0),
                });
                map.insert(name.to_owned(), slot.clone());
                slot
            }
        };
        self.touch(&slot);
        if let Some(hook) = self.on_evict.get() {
            for name in &evicted {
                hook(name);
            }
        }
        for name in &evicted {
            tracing::debug!(session = %name, "session evicted (least recently used)");
        }
        slot
    }

    /// A consistent view of a session, to read without holding a lock. A session that
    /// does not exist reads as the base world and is not created.
    pub fn snapshot(&self, name: &str) -> Arc<World> {
        match self.existing(name) {
            Some(slot) => slot.world.lock().expect("session lock poisoned").clone(),
            None => self.base(),
        }
    }

    /// Whether the session exists.
    pub fn exists(&self, name: &str) -> bool {
        self.map
            .read()
            .expect("sessions lock poisoned")
            .contains_key(name)
    }

    /// Runs `change` on the session's world under the session's lock, creating the session
    /// from the scenario if needed.
    pub fn write<T>(&self, name: &str, change: impl FnOnce(&mut World) -> T) -> T {
        let slot = self.slot(name, None);
        let mut guard = slot.world.lock().expect("session lock poisoned");
        if Arc::strong_count(&guard) > 1 {
            self.shared_writes.fetch_add(1, Ordering::Relaxed);
        }
        change(Arc::make_mut(&mut guard))
    }

    /// How many writes so far found their session's world shared with a snapshot (see
    /// `write`): with no reader in flight, only a session's first write does.
    pub fn shared_writes(&self) -> u64 {
        self.shared_writes.load(Ordering::Relaxed)
    }

    /// Creates a session that starts from `world` instead of the scenario's base world (a
    /// session emulating another GitLab version); false, and nothing changes, if the session
    /// exists.
    pub fn create(&self, name: &str, world: Arc<World>) -> bool {
        if self.exists(name) {
            return false;
        }
        self.slot(name, Some(world));
        true
    }

    /// Forgets one session (it restarts from the scenario on next use); true if it existed.
    pub fn reset(&self, name: &str) -> bool {
        self.map
            .write()
            .expect("sessions lock poisoned")
            .remove(name)
            .is_some()
    }

    /// Forgets every session.
    pub fn reset_all(&self) -> usize {
        let mut map = self.map.write().expect("sessions lock poisoned");
        let n = map.len();
        map.clear();
        n
    }

    /// Replaces the scenario every session starts from, and resets all sessions.
    pub fn replace_base(&self, world: World) {
        *self.base.write().expect("base lock poisoned") = Arc::new(world);
        self.reset_all();
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .map
            .read()
            .expect("sessions lock poisoned")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    pub fn base(&self) -> Arc<World> {
        self.base.read().expect("base lock poisoned").clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::scenario::{Overrides, Source};

    fn world() -> World {
        let yaml = "users: [{id: 1, username: u}]\nprojects:\n  - id: 1\n    path: g/p\n    pipelines: [{id: 1, jobs: [{id: 1, name: a, status: failed}]}]\n";
        crate::scenario::build(
            &[Source {
                name: "s.yaml".into(),
                text: yaml.into(),
                dir: None,
            }],
            &Overrides::default(),
        )
        .expect("valid scenario")
    }

    #[test]
    fn sessions_share_the_world_until_they_change_it() {
        let sessions = Sessions::new(world());
        let base = sessions.base();
        for i in 0..1000 {
            let s = sessions.snapshot(&format!("s{i}"));
            assert!(
                Arc::ptr_eq(&s, &base),
                "a new session is the base world, not a copy"
            );
        }
        sessions
            .write("s7", |w| w.retry_job(1, 1, Some(1)).map(|_| ()))
            .expect("retryable");
        let changed = sessions.snapshot("s7");
        assert!(
            !Arc::ptr_eq(&changed.projects[&1], &base.projects[&1]),
            "the changed project is copied"
        );
        assert!(
            Arc::ptr_eq(&changed.directory, &base.directory),
            "the directory never is"
        );
        assert!(
            Arc::ptr_eq(&sessions.snapshot("s8"), &base),
            "other sessions still share the base"
        );
        assert_eq!(base.projects[&1].builds.len(), 1);
        assert_eq!(changed.projects[&1].builds.len(), 2);
    }

    #[test]
    fn eviction_reports_the_least_recently_used_idle_session() {
        let sessions = Sessions::bounded(world(), 2);
        let evicted = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = evicted.clone();
        assert!(sessions.set_on_evict(move |name| seen.lock().unwrap().push(name.to_owned())));
        sessions.write("a", |_| ());
        sessions.write("b", |_| ());
        // Reading "a" makes "b" the least recently used.
        let _ = sessions.snapshot("a");
        sessions.write("c", |_| ());
        assert_eq!(sessions.names(), ["a", "c"]);
        assert_eq!(*evicted.lock().unwrap(), ["b"]);
        // A read of an unknown session creates nothing and evicts nothing.
        let _ = sessions.snapshot("d");
        assert_eq!(sessions.names(), ["a", "c"]);
        assert_eq!(evicted.lock().unwrap().len(), 1);
    }
}

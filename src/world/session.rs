//! Sessions: named, isolated copies of the loaded World, created on first use.
//!
//! A new session is one `Arc` clone of the base world. Reads take a snapshot (`Arc<World>`)
//! and render without holding any lock; writes lock only their own session and change it
//! through `Arc::make_mut`, which copies what is shared with other sessions and nothing else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::World;

/// The default session's name (requests with neither prefix nor header).
pub const DEFAULT: &str = "default";

/// Every session of one server.
#[derive(Debug)]
pub struct Sessions {
    base: RwLock<Arc<World>>,
    map: RwLock<HashMap<String, Arc<Mutex<Arc<World>>>>>,
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
    pub fn new(base: World) -> Self {
        Sessions {
            base: RwLock::new(Arc::new(base)),
            map: RwLock::new(HashMap::new()),
        }
    }

    fn slot(&self, name: &str) -> Arc<Mutex<Arc<World>>> {
        if let Some(slot) = self.map.read().expect("sessions lock poisoned").get(name) {
            return slot.clone();
        }
        let base = self.base.read().expect("base lock poisoned").clone();
        let mut map = self.map.write().expect("sessions lock poisoned");
        map.entry(name.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(base)))
            .clone()
    }

    /// Creates a session that starts from `world` instead of the base (a session emulating
    /// another GitLab version); false, and nothing changes, if the session exists.
    pub fn create(&self, name: &str, world: Arc<World>) -> bool {
        let mut map = self.map.write().expect("sessions lock poisoned");
        if map.contains_key(name) {
            return false;
        }
        map.insert(name.to_owned(), Arc::new(Mutex::new(world)));
        true
    }

    /// Does the session exist (has it been used since its last reset)?
    pub fn exists(&self, name: &str) -> bool {
        self.map
            .read()
            .expect("sessions lock poisoned")
            .contains_key(name)
    }

    /// A consistent view of a session, to read without holding a lock.
    pub fn snapshot(&self, name: &str) -> Arc<World> {
        self.slot(name)
            .lock()
            .expect("session lock poisoned")
            .clone()
    }

    /// Runs `change` on the session's world under the session's lock.
    pub fn write<T>(&self, name: &str, change: impl FnOnce(&mut World) -> T) -> T {
        let slot = self.slot(name);
        let mut guard = slot.lock().expect("session lock poisoned");
        change(Arc::make_mut(&mut guard))
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
}

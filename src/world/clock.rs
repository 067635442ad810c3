//! The clock a session reads "now" from: starts at the scenario's `now` (or the real time
//! at load), runs with real time unless frozen, and can be advanced by the control API.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

#[derive(Debug, Clone)]
pub struct Clock {
    base: Timestamp,
    anchor: Instant,
    frozen: bool,
    advanced: SignedDuration,
}

impl Clock {
    pub fn new(base: Timestamp, frozen: bool) -> Self {
        Clock {
            base,
            anchor: Instant::now(),
            frozen,
            advanced: SignedDuration::ZERO,
        }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = if self.frozen {
            SignedDuration::ZERO
        } else {
            SignedDuration::try_from(self.anchor.elapsed()).unwrap_or(SignedDuration::MAX)
        };
        self.base
            .saturating_add(self.advanced.saturating_add(elapsed))
            .expect("timestamp arithmetic with SignedDuration cannot fail")
    }

    /// Moves this clock forward (or back) by `by`.
    pub fn advance(&mut self, by: SignedDuration) {
        self.advanced = self.advanced.saturating_add(by);
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen
    }
}

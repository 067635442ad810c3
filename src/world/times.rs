//! What a pipeline's latest jobs contribute to its times, kept in step with every change
//! (beside the status tally) so that recomputing a pipeline after a job changed needs no walk
//! of its jobs in the usual case.
//!
//! A pipeline's `updated_at` follows the latest of its latest jobs' timestamps and its
//! `finished_at` the latest of their `finished_at`s. A maximum cannot be kept exactly under
//! removals without the whole multiset, so each is kept as an upper bound that is exact
//! until a job holding it leaves (is retried, changes or is removed); a later, larger
//! timestamp makes it exact again. While it is not exact, the next recompute walks the jobs
//! once and stores the exact value. In a retry → cancel loop the bound is always exact when
//! it is read: the retry's new job and the cancel's `finished_at` are the latest timestamps.

use jiff::Timestamp;

use super::Job;

/// An upper bound of the largest timestamp of a multiset, exact unless `stale`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaxBound {
    /// Not below any timestamp of the multiset (`None`: it is empty, or only ever was).
    bound: Option<Timestamp>,
    /// The timestamp equal to `bound` may have left: `bound` may be above the largest.
    stale: bool,
}

impl MaxBound {
    /// A timestamp joins the multiset.
    pub fn add(&mut self, t: Timestamp) {
        if self.bound.is_none_or(|b| t >= b) {
            self.bound = Some(t);
            self.stale = false;
        }
    }

    /// A timestamp leaves the multiset; the bound stays exact unless it was the largest.
    pub fn remove(&mut self, t: Timestamp) {
        if self.bound.is_none_or(|b| t >= b) {
            self.stale = true;
        }
    }

    /// The largest timestamp (`Some(None)`: there is none), if the bound is exact.
    pub fn exact(&self) -> Option<Option<Timestamp>> {
        (!self.stale).then_some(self.bound)
    }

    /// Makes the bound exact: `max` is the largest timestamp, found by a walk.
    pub fn set(&mut self, max: Option<Timestamp>) {
        self.bound = max;
        self.stale = false;
    }
}

/// Bounds of a pipeline's latest jobs' timestamps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    /// Every `created_at`, `queued_at`, `started_at` and `finished_at`.
    pub any: MaxBound,
    /// Every `finished_at`.
    pub finished: MaxBound,
}

/// The timestamps of a job that [`Times`] counts, `created_at` first.
pub fn stamps(j: &Job) -> [Option<Timestamp>; 4] {
    [Some(j.created_at), j.queued_at, j.started_at, j.finished_at]
}

impl Times {
    /// A latest job's timestamps join the pipeline's.
    pub fn add(&mut self, stamps: &[Option<Timestamp>; 4]) {
        for t in stamps.iter().flatten() {
            self.any.add(*t);
        }
        if let Some(t) = stamps[3] {
            self.finished.add(t);
        }
    }

    /// A latest job's timestamps leave the pipeline's.
    pub fn remove(&mut self, stamps: &[Option<Timestamp>; 4]) {
        for t in stamps.iter().flatten() {
            self.any.remove(*t);
        }
        if let Some(t) = stamps[3] {
            self.finished.remove(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("valid timestamp")
    }

    #[test]
    fn the_bound_goes_stale_only_when_the_largest_leaves() {
        let mut b = MaxBound::default();
        assert_eq!(b.exact(), Some(None));
        b.add(ts(5));
        b.add(ts(9));
        b.add(ts(7));
        assert_eq!(b.exact(), Some(Some(ts(9))));
        b.remove(ts(7));
        assert_eq!(b.exact(), Some(Some(ts(9))), "a smaller one left");
        b.remove(ts(9));
        assert_eq!(b.exact(), None, "the largest left: unknown until a walk");
        b.add(ts(8));
        assert_eq!(
            b.exact(),
            None,
            "8 may not be the largest of a stale bound 9"
        );
        b.add(ts(10));
        assert_eq!(
            b.exact(),
            Some(Some(ts(10))),
            "a new largest is exact again"
        );
        b.set(Some(ts(3)));
        assert_eq!(b.exact(), Some(Some(ts(3))));
    }

    proptest::proptest! {
        /// Whatever joins and leaves, an exact bound is the largest timestamp left and a
        /// stale one is not below it.
        #[test]
        fn the_bound_agrees_with_the_multiset(
            ops in proptest::collection::vec((0i64..20, proptest::bool::ANY), 0..40),
        ) {
            let mut b = MaxBound::default();
            let mut held: Vec<i64> = Vec::new();
            for (s, join) in ops {
                if join {
                    held.push(s);
                    b.add(ts(s));
                } else if let Some(i) = held.iter().position(|h| *h == s) {
                    held.swap_remove(i);
                    b.remove(ts(s));
                }
                let max = held.iter().max().map(|s| ts(*s));
                match b.exact() {
                    Some(exact) => proptest::prop_assert_eq!(exact, max),
                    None => proptest::prop_assert!(b.bound >= max),
                }
            }
        }
    }
}

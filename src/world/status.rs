//! Job and pipeline statuses, their groups, and GitLab's composite-status rules
//! (`lib/gitlab/ci/status/composite.rb`, see docs/job-states.md §5).

use std::fmt;

/// Every status GitLab's `Ci::HasStatus::AVAILABLE_STATUSES` knows (newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Created,
    WaitingForResource,
    Preparing,
    WaitingForCallback,
    Pending,
    Running,
    Success,
    Failed,
    Canceling,
    Canceled,
    Skipped,
    Manual,
    Scheduled,
}

impl Status {
    /// All statuses in GitLab's declaration order.
    pub const ALL: [Status; 13] = [
        Status::Created,
        Status::WaitingForResource,
        Status::Preparing,
        Status::WaitingForCallback,
        Status::Pending,
        Status::Running,
        Status::Success,
        Status::Failed,
        Status::Canceling,
        Status::Canceled,
        Status::Skipped,
        Status::Manual,
        Status::Scheduled,
    ];

    /// The names of `ALL`, in the same order (the scenario format's word list).
    pub const NAMES: [&'static str; 13] = {
        let mut names = [""; 13];
        let mut i = 0;
        while i < names.len() {
            names[i] = Status::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::WaitingForResource => "waiting_for_resource",
            Status::Preparing => "preparing",
            Status::WaitingForCallback => "waiting_for_callback",
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Success => "success",
            Status::Failed => "failed",
            Status::Canceling => "canceling",
            Status::Canceled => "canceled",
            Status::Skipped => "skipped",
            Status::Manual => "manual",
            Status::Scheduled => "scheduled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Index into per-status tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// success, failed, canceled, skipped.
    pub fn is_completed(self) -> bool {
        matches!(
            self,
            Status::Success | Status::Failed | Status::Canceled | Status::Skipped
        )
    }

    /// Has the job ever been picked up by a runner (so it has a start time)?
    pub fn has_started(self) -> bool {
        matches!(
            self,
            Status::Running | Status::Success | Status::Failed | Status::Canceling
        )
    }

    /// Has the job been queued (so it has a queue time)?
    pub fn was_queued(self) -> bool {
        self.has_started() || matches!(self, Status::Pending)
    }

    /// ACTIVE: waiting for or on a runner (docs/job-states.md §1).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Status::WaitingForResource
                | Status::Preparing
                | Status::WaitingForCallback
                | Status::Pending
                | Status::Running
        )
    }

    /// States the `cancel` event leaves (docs/job-states.md §2: CANCELABLE + manual).
    pub fn is_cancelable(self) -> bool {
        matches!(
            self,
            Status::Created
                | Status::WaitingForResource
                | Status::Preparing
                | Status::WaitingForCallback
                | Status::Pending
                | Status::Running
                | Status::Scheduled
                | Status::Manual
        )
    }

    /// Statuses a retry accepts.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Status::Success | Status::Failed | Status::Canceled | Status::Canceling
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one job contributes to a composite status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Contribution {
    Status(Status),
    SuccessWithWarnings,
    Ignored,
}

impl Contribution {
    fn of(status: Status, allow_failure: bool) -> Contribution {
        match (status, allow_failure) {
            (Status::Failed | Status::Canceled, true) => Contribution::SuccessWithWarnings,
            (Status::Manual, true) => Contribution::Ignored,
            (s, _) => Contribution::Status(s),
        }
    }

    /// Index into a [`Tally`].
    fn index(self) -> usize {
        match self {
            Contribution::Status(s) => s.index(),
            Contribution::SuccessWithWarnings => Status::ALL.len(),
            Contribution::Ignored => Status::ALL.len() + 1,
        }
    }

    const ALL: [Contribution; Status::ALL.len() + 2] = {
        let mut all = [Contribution::Ignored; Status::ALL.len() + 2];
        let mut i = 0;
        while i < Status::ALL.len() {
            all[i] = Contribution::Status(Status::ALL[i]);
            i += 1;
        }
        all[Status::ALL.len()] = Contribution::SuccessWithWarnings;
        all
    };
}

/// How many of a pipeline's latest jobs contribute each kind of status to its composite
/// status, kept in step with every change so the composite needs no walk of the jobs; and
/// what they contribute to its times (`super::times`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    counts: [u32; Status::ALL.len() + 2],
    pub times: super::times::Times,
}

impl Tally {
    /// Counts one more latest job.
    pub fn add(&mut self, status: Status, allow_failure: bool) {
        self.counts[Contribution::of(status, allow_failure).index()] += 1;
    }

    /// Counts one latest job less (it was retried, changed or removed).
    pub fn remove(&mut self, status: Status, allow_failure: bool) {
        let n = &mut self.counts[Contribution::of(status, allow_failure).index()];
        debug_assert!(*n > 0, "tally underflow");
        *n = n.saturating_sub(1);
    }

    /// How many counted jobs contribute `status` as such (not as a warning or ignored).
    pub fn count(&self, status: Status) -> u32 {
        self.counts[status.index()]
    }

    /// Whether a counted job failed or was canceled with `allow_failure` (a success
    /// "with warnings").
    pub fn has_warnings(&self) -> bool {
        self.counts[Contribution::SuccessWithWarnings.index()] > 0
    }

    /// The composite status of the counted jobs (`None`: no jobs), as [`composite`].
    pub fn composite(&self) -> Option<Status> {
        composite_of(
            Contribution::ALL
                .into_iter()
                .filter(|c| self.counts[c.index()] > 0)
                .collect(),
        )
    }
}

/// The composite status of a set of latest jobs, given as `(status, allow_failure)`.
/// `None` for an empty set (the pipeline keeps its status).
pub fn composite(jobs: impl IntoIterator<Item = (Status, bool)>) -> Option<Status> {
    let mut set: Vec<Contribution> = Vec::new();
    for (status, allow_failure) in jobs {
        let c = Contribution::of(status, allow_failure);
        if !set.contains(&c) {
            set.push(c);
        }
    }
    composite_of(set)
}

/// The composite status of a set of distinct contributions.
fn composite_of(set: Vec<Contribution>) -> Option<Status> {
    use Contribution as C;
    use Status as S;
    if set.is_empty() {
        return None;
    }
    let only = |allowed: &[C]| set.iter().all(|c| allowed.contains(c));
    let any = |s: Status| set.contains(&C::Status(s));
    let (sww, ign) = (C::SuccessWithWarnings, C::Ignored);
    Some(if only(&[C::Status(S::Skipped), ign]) {
        S::Skipped
    } else if only(&[C::Status(S::Success), C::Status(S::Skipped), sww, ign]) {
        S::Success
    } else if only(&[C::Status(S::Created), sww, ign]) {
        S::Created
    } else if only(&[C::Status(S::Preparing), sww, ign]) {
        S::Preparing
    } else if only(&[
        C::Status(S::Canceled),
        C::Status(S::Success),
        C::Status(S::Skipped),
        sww,
        ign,
    ]) {
        S::Canceled
    } else if only(&[
        C::Status(S::Pending),
        C::Status(S::Created),
        C::Status(S::Skipped),
        sww,
        ign,
    ]) {
        S::Pending
    } else if any(S::Running) || any(S::Pending) {
        S::Running
    } else if any(S::WaitingForResource) {
        S::WaitingForResource
    } else if any(S::WaitingForCallback) {
        S::WaitingForCallback
    } else if any(S::Manual) {
        S::Manual
    } else if any(S::Scheduled) {
        S::Scheduled
    } else if any(S::Preparing) {
        S::Preparing
    } else if any(S::Created) {
        S::Running
    } else if any(S::Canceling) {
        S::Canceling
    } else {
        S::Failed
    })
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn composite_follows_the_worked_examples() {
        type Case = (&'static [(Status, bool)], Option<Status>);
        let cases: &[Case] = &[
            (&[], None),
            (&[(Success, false), (Success, false)], Some(Success)),
            (&[(Success, false), (Failed, true)], Some(Success)),
            (&[(Success, false), (Failed, false)], Some(Failed)),
            (&[(Success, false), (Manual, true)], Some(Success)),
            (&[(Success, false), (Manual, false)], Some(Manual)),
            (&[(Created, false), (Created, false)], Some(Created)),
            (&[(Pending, false), (Created, false)], Some(Pending)),
            (&[(Running, false), (Created, false)], Some(Running)),
            (&[(Success, false), (Created, false)], Some(Running)),
            (&[(Success, false), (Pending, false)], Some(Running)),
            (&[(Canceled, false), (Success, false)], Some(Canceled)),
            (&[(Canceled, true), (Success, false)], Some(Success)),
            (&[(Canceling, false), (Canceled, false)], Some(Canceling)),
            (&[(Canceling, false), (Running, false)], Some(Running)),
            (&[(Failed, false), (Running, false)], Some(Running)),
            (&[(Failed, false), (Canceled, false)], Some(Failed)),
            (&[(Skipped, false), (Skipped, false)], Some(Skipped)),
            (
                &[(WaitingForResource, false), (Success, false)],
                Some(WaitingForResource),
            ),
            (&[(Scheduled, false), (Success, false)], Some(Scheduled)),
            (&[(Preparing, false), (Success, false)], Some(Preparing)),
            (&[(Manual, true)], Some(Skipped)),
        ];
        for (jobs, want) in cases {
            assert_eq!(composite(jobs.iter().copied()), *want, "{jobs:?}");
        }
    }

    fn any_status() -> impl proptest::strategy::Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }

    proptest::proptest! {
        /// The composite status depends on the set of jobs, not on their order.
        #[test]
        fn composite_does_not_depend_on_job_order(
            jobs in proptest::collection::vec((any_status(), proptest::bool::ANY), 0..12),
            seed in proptest::num::u64::ANY,
        ) {
            let mut shuffled = jobs.clone();
            // A deterministic shuffle from the seed (Fisher–Yates with an LCG).
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (x >> 33) as usize % (i + 1));
            }
            let mut reversed = jobs.clone();
            reversed.reverse();
            proptest::prop_assert_eq!(composite(jobs.iter().copied()), composite(shuffled));
            proptest::prop_assert_eq!(composite(jobs.iter().copied()), composite(reversed));
        }

        /// A tally kept by adding and removing jobs gives the composite of the jobs it holds.
        #[test]
        fn tally_agrees_with_composite(
            jobs in proptest::collection::vec((any_status(), proptest::bool::ANY), 0..12),
            removed in proptest::collection::vec(proptest::bool::ANY, 12),
        ) {
            let mut tally = Tally::default();
            for (s, a) in &jobs {
                tally.add(*s, *a);
            }
            let mut kept = Vec::new();
            for (i, (s, a)) in jobs.iter().enumerate() {
                if removed[i] {
                    tally.remove(*s, *a);
                } else {
                    kept.push((*s, *a));
                }
            }
            proptest::prop_assert_eq!(tally.composite(), composite(kept));
        }
    }
}

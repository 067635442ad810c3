//! GitLab version profiles: which fields and behaviours the emulated version has.
//! Versions from GitLab's entities and models (docs/versions.md); where GitLab's history
//! only gives a range the earliest plausible minor is used and the README says so.

use std::fmt;

/// The oldest and newest versions glmock emulates.
pub const OLDEST: Version = Version(13, 12);
pub const NEWEST: Version = Version(18, 5);

/// A GitLab version as `major.minor` (`Version(17, 11)` is 17.11), ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(
    /// Major.
    pub u32,
    /// Minor.
    pub u32,
);

impl Version {
    /// Parses `major.minor` (a patch part is accepted and ignored).
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        if let Some(patch) = parts.next() {
            patch.parse::<u32>().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(Version(major, minor))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// What differs between versions, as flags the renderers and handlers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub version: Version,
    /// Pipeline `iid` (14.6).
    pub pipeline_iid: bool,
    /// Pipeline `name` in `PipelineWithMetadata` (16.3 GA).
    pub pipeline_name: bool,
    /// `source` in `PipelineBasic` (14.0; `created_at`, `updated_at`, `web_url` are older).
    pub pipeline_basic_source: bool,
    /// Job `erased_at` (15.x).
    pub job_erased_at: bool,
    /// Job `runner_manager` (16.11).
    pub job_runner_manager: bool,
    /// Job `archived` (17.x).
    pub job_archived: bool,
    /// Pipeline `archived` (18.0).
    pub pipeline_archived: bool,
    /// Job `project.ci_job_token_scope_enabled` (14.x).
    pub job_project: bool,
    /// The `canceling` status and graceful cancellation (17.0).
    pub canceling: bool,
    /// The `waiting_for_callback` status (18.0).
    pub waiting_for_callback: bool,
    /// `force` on job cancel (17.11).
    pub force_cancel: bool,
    /// `GET /projects/:id/jobs` sends `X-Total` and `X-Total-Pages` (dropped in 17.0).
    pub jobs_list_totals: bool,
    /// The user entity still has `skype` (removed in 16.x in favour of `discord`).
    pub user_skype: bool,
    pub user_discord: bool,
}

impl Profile {
    /// The statuses this version knows, in GitLab's order: the values `scope` and `status`
    /// filters accept.
    pub fn statuses(&self) -> &'static [&'static str] {
        use crate::world::status::Status;
        use std::sync::LazyLock;
        // Status::ALL filtered, once per combination: (canceling, waiting_for_callback).
        static LISTS: LazyLock<[Vec<&'static str>; 4]> = LazyLock::new(|| {
            [(false, false), (false, true), (true, false), (true, true)].map(
                |(canceling, callback)| {
                    Status::ALL
                        .iter()
                        .filter(|s| {
                            (**s != Status::Canceling || canceling)
                                && (**s != Status::WaitingForCallback || callback)
                        })
                        .map(|s| s.as_str())
                        .collect()
                },
            )
        });
        &LISTS[usize::from(self.canceling) * 2 + usize::from(self.waiting_for_callback)]
    }

    pub fn for_version(v: Version) -> Profile {
        Profile {
            version: v,
            pipeline_iid: v >= Version(14, 6),
            pipeline_name: v >= Version(16, 3),
            pipeline_basic_source: v >= Version(14, 0),
            job_erased_at: v >= Version(15, 0),
            job_runner_manager: v >= Version(16, 11),
            job_archived: v >= Version(17, 0),
            pipeline_archived: v >= Version(18, 0),
            job_project: v >= Version(14, 0),
            canceling: v >= Version(17, 0),
            waiting_for_callback: v >= Version(18, 0),
            force_cancel: v >= Version(17, 11),
            jobs_list_totals: v < Version(17, 0),
            user_skype: v < Version(16, 0),
            user_discord: v >= Version(15, 9),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists_follow_the_profile_and_gitlabs_order() {
        let of = |v| Profile::for_version(v).statuses().join(",");
        let older = "created,waiting_for_resource,preparing,pending,running,success,failed,canceled,skipped,manual,scheduled";
        assert_eq!(of(Version(13, 12)), older);
        assert_eq!(of(Version(16, 11)), older);
        assert_eq!(
            of(Version(17, 0)),
            older.replace("failed,canceled", "failed,canceling,canceled")
        );
        assert_eq!(
            of(Version(18, 5)),
            "created,waiting_for_resource,preparing,waiting_for_callback,pending,running,success,failed,canceling,canceled,skipped,manual,scheduled"
        );
    }

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("16.10"), Some(Version(16, 10)));
        assert_eq!(Version::parse("17.0.3"), Some(Version(17, 0)));
        assert_eq!(Version::parse("17"), None);
        assert!(Version(16, 10) > Version(16, 9));
    }
}

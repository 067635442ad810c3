//! glmock: an offline, stateful, contract-checked stand-in for GitLab's CI Jobs and
//! Pipelines REST API (v4), to start inside Rust test suites.
//!
//! ```
//! use glmock::MockGitlab;
//!
//! # #[tokio::main] async fn main() -> Result<(), glmock::StartError> {
//! let gitlab = MockGitlab::start().await?; // the embedded default scenario, strict contract
//! let session = gitlab.session("my-test"); // state of its own, a journal of its own
//! let base_url = session.uri(); // http://127.0.0.1:<port>/-/sessions/my-test
//! assert!(base_url.starts_with("http://127.0.0.1:"));
//! # Ok(()) }
//! ```
//!
//! - [`MockGitlab`] is one server, on an ephemeral loopback port, stopped when dropped;
//!   [`MockGitlab::builder`] sets the scenario, the contract mode, the GitLab version and the
//!   address.
//! - [`Session`] is an isolated copy of the scenario's world: steer it (clock, job statuses),
//!   read what it received, and declare expectations checked when it is dropped.
//! - [`MockGitlab::shared`] is one server for the whole test binary, with a fresh session per
//!   test, so hundreds of parallel tests pay for one start.
//!
//! With `default-features = false` the crate is the server and this harness only; the default
//! `cli` feature adds the `glmock` binary and its `record`, `verify`, `import` and schema
//! derivation subsystems.

#![warn(missing_docs)]

// The modules are the implementation, not the interface: the harness re-exports below are
// the public API. `missing_docs` is the interface's lint; inside, `///` is the style's rule.
#[allow(missing_docs)]
pub(crate) mod api;
#[cfg(feature = "cli")]
#[allow(missing_docs)]
pub(crate) mod cli;
#[cfg(feature = "cli")]
#[allow(missing_docs)]
pub(crate) mod config;
#[cfg(feature = "cli")]
#[allow(missing_docs)]
pub(crate) mod console;
#[allow(missing_docs)]
pub(crate) mod contract;
#[allow(missing_docs)]
pub(crate) mod control;
#[allow(missing_docs)]
pub(crate) mod faults;
#[cfg(feature = "cli")]
#[cfg(feature = "cli")]
#[allow(missing_docs)]
pub(crate) mod healthcheck;
#[cfg(feature = "cli")]
#[allow(missing_docs)]
pub(crate) mod import;
#[allow(missing_docs)]
pub(crate) mod journal;
#[cfg(feature = "cli")]
#[allow(missing_docs)]
pub(crate) mod record;
#[allow(missing_docs)]
pub(crate) mod render;
#[allow(missing_docs)]
pub(crate) mod scenario;
#[allow(missing_docs)]
pub(crate) mod server;
#[cfg(feature = "cli")]
#[allow(missing_docs)]
pub(crate) mod verify;
#[allow(missing_docs)]
pub(crate) mod version;
#[allow(missing_docs)]
pub(crate) mod world;

mod harness;

pub use harness::{
    ContractMode, Expectation, Fault, FaultError, FaultRule, GitlabVersion, HarnessError, JobState,
    JobStatus, JournalEntry, MockGitlab, MockGitlabBuilder, NearMiss, ScenarioError, Session,
    StartError, Verification, VerifyError,
};

/// The implementation's modules, for glmock's own binary, integration tests and benchmarks.
///
/// **Unstable**: not part of the public API, may change in any release. Use the types at the
/// crate root.
#[doc(hidden)]
pub mod __internal {
    /// `crate::api`
    pub mod api {
        pub use crate::api::*;
    }
    /// `crate::cli`
    #[cfg(feature = "cli")]
    pub mod cli {
        pub use crate::cli::*;
    }
    /// `crate::console`
    #[cfg(feature = "cli")]
    pub mod console {
        pub use crate::console::*;
    }
    /// `crate::config`
    #[cfg(feature = "cli")]
    pub mod config {
        pub use crate::config::*;
    }
    /// `crate::contract`
    pub mod contract {
        pub use crate::contract::*;
    }
    /// `crate::control`
    pub mod control {
        pub use crate::control::*;
    }
    /// `crate::healthcheck`
    #[cfg(feature = "cli")]
    pub mod healthcheck {
        pub use crate::healthcheck::*;
    }
    /// `crate::import`
    #[cfg(feature = "cli")]
    pub mod import {
        pub use crate::import::*;
    }
    /// `crate::faults`
    pub mod faults {
        pub use crate::faults::*;
    }
    /// `crate::journal`
    pub mod journal {
        pub use crate::journal::*;
    }
    /// `crate::record`
    #[cfg(feature = "cli")]
    pub mod record {
        pub use crate::record::*;
    }
    /// `crate::render`
    pub mod render {
        pub use crate::render::*;
    }
    /// `crate::scenario`
    pub mod scenario {
        pub use crate::scenario::*;
    }
    /// `crate::server`
    pub mod server {
        pub use crate::server::*;
    }
    /// `crate::verify`
    #[cfg(feature = "cli")]
    pub mod verify {
        pub use crate::verify::*;
    }
    /// `crate::version`
    pub mod version {
        pub use crate::version::*;
    }
    /// `crate::world`
    pub mod world {
        pub use crate::world::*;
    }
    pub use crate::server::{App, Server, ServerOptions};
}

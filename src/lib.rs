//! glmock: an offline, stateful, contract-checked stand-in for GitLab's CI Jobs and
//! Pipelines REST API (v4).
//!
//! Start it in-process from Rust tests:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = glmock::MockGitlab::builder().start().await?;
//! let url = server.uri(); // http://127.0.0.1:<port>, use it as the client's base URL
//! # Ok(()) }
//! ```

pub mod api;
pub mod cli;
pub mod config;
pub mod contract;
pub mod control;
pub mod journal;
pub mod render;
pub mod scenario;
pub mod server;
pub mod version;
pub mod world;

mod harness;

pub use harness::{MockGitlab, MockGitlabBuilder};
pub use server::{Server, ServerOptions};

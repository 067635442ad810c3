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
pub mod healthcheck;
pub mod import;
pub mod journal;
pub mod record;
pub mod render;
pub mod scenario;
pub mod server;
pub mod verify;
pub mod version;
pub mod world;

mod harness;

pub use harness::{MockGitlab, MockGitlabBuilder};
pub use server::{Server, ServerOptions};

/// Installs rustls' `ring` provider for the HTTP client (`record`, `verify`); call once before
/// creating clients. Harmless when already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

//! `glmock record`: crawl a live GitLab project's CI endpoints, or proxy a client's traffic,
//! into a cassette with every secret removed.

pub mod cassette;

use std::process::ExitCode;

use crate::cli::RecordArgs;

/// Runs `glmock record`.
pub fn run(_args: &RecordArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("glmock record is not implemented yet")
}

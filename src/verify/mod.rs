//! `glmock verify`: check recorded answers against the schemas and against glmock's own.

use std::process::ExitCode;

use crate::cli::VerifyArgs;

/// Runs `glmock verify`.
pub fn run(_args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("glmock verify is not implemented yet")
}

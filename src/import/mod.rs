//! `glmock import`: cassettes → a scenario (in the normal format) that answers their GETs.

use std::process::ExitCode;

use crate::cli::ImportArgs;
use crate::record::cassette::Cassette;

/// A scenario (YAML text) from which glmock answers the cassettes' GET requests with the
/// recorded data.
pub fn to_scenario(_cassettes: &[Cassette]) -> anyhow::Result<String> {
    anyhow::bail!("import is not implemented yet")
}

/// Runs `glmock import`.
pub fn run(_args: &ImportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("glmock import is not implemented yet")
}

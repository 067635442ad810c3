//! Command-line arguments as the user typed them (clap derive). Every flag has a
//! `GLMOCK_*` environment variable.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// An offline, stateful, contract-checked stand-in for GitLab's CI Jobs and Pipelines API.
#[derive(Debug, Parser)]
#[command(name = "glmock", version, about)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the embedded default scenario unless --scenario is given).
    Serve(ServeArgs),
    /// Load scenarios and report every error (exit 0: fine, 2: errors).
    Check(CheckArgs),
    /// Print the JSON Schema of the scenario format (for editors).
    ScenarioSchema,
    /// Work with the response schemas.
    #[command(subcommand)]
    Schemas(SchemasCommand),
}

#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// Derive the response schemas from GitLab API documentation pages (exit 1 with --check
    /// when the output directory is stale).
    Derive(DeriveArgs),
}

#[derive(Debug, clap::Args)]
pub struct DeriveArgs {
    /// Documentation pages: GitLab's Markdown (doc/api/jobs.md …) or plain-text renderings;
    /// a directory stands for the files in it.
    #[arg(long = "docs", required = true, num_args = 1..)]
    pub docs: Vec<PathBuf>,
    /// Where to write `<shape>.schema.json` and `examples/`.
    #[arg(long, default_value = "schemas")]
    pub out: PathBuf,
    /// The corrections applied after inference (default: OUT/overlay.json).
    #[arg(long)]
    pub overlay: Option<PathBuf>,
    /// Write nothing; report the files that would change and exit 1 if any.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The bound URL is printed on stdout.
    #[arg(long, env = "GLMOCK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Scenario file to load; repeat to merge several files.
    #[arg(long = "scenario", env = "GLMOCK_SCENARIO", value_delimiter = ',')]
    pub scenarios: Vec<PathBuf>,
    /// External URL of this server, used in web_url fields and Link headers
    /// (default: the scenario's gitlab.base_url for web_url, the request's Host for Link).
    #[arg(long, env = "GLMOCK_BASE_URL")]
    pub base_url: Option<String>,
    /// GitLab version to emulate (major.minor), overriding the scenario's gitlab.version.
    #[arg(long, env = "GLMOCK_GITLAB_VERSION")]
    pub gitlab_version: Option<String>,
    /// Log level or filter (e.g. debug, or glmock=debug,hyper=info); RUST_LOG also works.
    #[arg(long, env = "GLMOCK_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Log line format on stderr.
    #[arg(long, env = "GLMOCK_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Require this token in X-Glmock-Control-Token on /-/glmock/ requests.
    #[arg(long, env = "GLMOCK_CONTROL_TOKEN")]
    pub control_token: Option<String>,
    /// Largest request body accepted; larger ones get 413.
    #[arg(long, env = "GLMOCK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// What a response that breaks its schema gets: strict (a 500 listing the violations),
    /// warn (served, logged, X-Glmock-Contract-Violations header, journal), off.
    #[arg(long, env = "GLMOCK_CONTRACT", value_enum, default_value = "warn")]
    pub contract: crate::contract::Mode,
    /// Directory of *.schema.json files to check against instead of the embedded schemas.
    #[arg(long, env = "GLMOCK_SCHEMAS")]
    pub schemas: Option<PathBuf>,
    /// Requests kept in the journal (oldest dropped first).
    #[arg(long, env = "GLMOCK_JOURNAL_SIZE", default_value_t = 10_000)]
    pub journal_size: usize,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario files (checked together, as `serve` would merge them).
    #[arg(required = true, env = "GLMOCK_SCENARIO", value_delimiter = ',')]
    pub paths: Vec<PathBuf>,
    /// GitLab version to check against (major.minor).
    #[arg(long, env = "GLMOCK_GITLAB_VERSION")]
    pub gitlab_version: Option<String>,
    /// Directory of *.schema.json files to check against instead of the embedded schemas.
    #[arg(long, env = "GLMOCK_SCHEMAS")]
    pub schemas: Option<PathBuf>,
}

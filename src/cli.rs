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
    /// Record a live GitLab's answers into a cassette (crawl a project, or proxy a client).
    Record(RecordArgs),
    /// Check recorded answers against the schemas and against glmock's own answers.
    Verify(VerifyArgs),
    /// Turn cassettes into a scenario that answers their GET requests.
    Import(ImportArgs),
    /// Ask a running glmock for GET /-/glmock/health (exit 0: it answered 200, 1: it did
    /// not); for container health checks.
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// The address the server listens on (0.0.0.0 and :: are called through loopback).
    #[arg(long, env = "GLMOCK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Sent as X-Glmock-Control-Token when the server requires one.
    #[arg(long, env = "GLMOCK_CONTROL_TOKEN")]
    pub control_token: Option<String>,
    /// Give up after this many milliseconds (connect and answer together).
    #[arg(long, env = "GLMOCK_HEALTHCHECK_TIMEOUT_MS", default_value_t = 2000)]
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Junit,
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The GitLab to record, e.g. https://gitlab.example.com
    #[arg(long, env = "GLMOCK_UPSTREAM")]
    pub upstream: String,
    /// Name of the environment variable holding the access token (never a flag).
    #[arg(long, env = "GLMOCK_TOKEN_ENV", default_value = "GITLAB_TOKEN")]
    pub token_env: String,
    /// Cassette to write.
    #[arg(long, env = "GLMOCK_OUT")]
    pub out: PathBuf,
    /// Crawl mode: the project (id or full path) whose CI endpoints to walk.
    #[arg(long, conflicts_with = "listen")]
    pub project: Option<String>,
    /// Proxy mode: listen here and forward every request to the upstream, recording it.
    #[arg(long, conflicts_with = "project")]
    pub listen: Option<String>,
    /// Crawl: pipelines to visit.
    #[arg(long, default_value_t = 5)]
    pub pipelines: usize,
    /// Crawl: jobs to visit (and read the trace of).
    #[arg(long, default_value_t = 10)]
    pub jobs: usize,
    /// Crawl: pages of each list to read.
    #[arg(long, default_value_t = 2)]
    pub pages: usize,
    /// Crawl: largest trace kept, in bytes (longer ones are cut).
    #[arg(long, default_value_t = 65_536)]
    pub trace_bytes: usize,
    /// Requests per second at most.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Replace personal data with consistent pseudonyms: any of emails, ips, names, urls.
    #[arg(long, value_delimiter = ',')]
    pub redact: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Cassettes to verify.
    #[arg(required = true)]
    pub cassettes: Vec<PathBuf>,
    /// Scenario(s) to replay against (default: one imported from the cassettes).
    #[arg(long = "scenario")]
    pub scenarios: Vec<PathBuf>,
    /// GitLab version to emulate and check the schemas for (default: the cassette's).
    #[arg(long, env = "GLMOCK_GITLAB_VERSION")]
    pub gitlab_version: Option<String>,
    /// Paths to leave out of the comparison, e.g. `$[*].user.avatar_url` or `$.web_url`.
    #[arg(long = "ignore")]
    pub ignore: Vec<String>,
    /// Field names whose values are masked before comparing (types still compared).
    #[arg(long, value_delimiter = ',', default_value = crate::verify::DEFAULT_MASK)]
    pub mask: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Colour in the text report: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto")]
    pub color: String,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Cassettes to import.
    #[arg(required = true)]
    pub cassettes: Vec<PathBuf>,
    /// Scenario file to write.
    #[arg(long)]
    pub out: PathBuf,
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
    /// Scenario file to load; repeat to merge several files. A directory stands for its
    /// *.yaml and *.yml files, merged in name order.
    #[arg(long = "scenario", env = "GLMOCK_SCENARIO", value_delimiter = ',')]
    pub scenarios: Vec<PathBuf>,
    /// Directory whose *.yaml and *.yml files are loaded (merged in name order) when no
    /// --scenario is given; skipped when it does not exist or holds none (the container
    /// image sets /scenarios).
    #[arg(long, env = "GLMOCK_SCENARIO_DIR")]
    pub scenario_dir: Option<PathBuf>,
    /// A scenario as YAML text, merged after the files (alone when there are none): for CI
    /// service containers, which start before the repository is checked out.
    #[arg(long, env = "GLMOCK_SCENARIO_YAML")]
    pub scenario_yaml: Option<String>,
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
    /// Host names the control API answers besides IP addresses, localhost, single-label
    /// names (a Docker service alias) and the host of --base-url (comma-separated).
    #[arg(long, env = "GLMOCK_CONTROL_ALLOWED_HOSTS", value_delimiter = ',')]
    pub control_allowed_hosts: Vec<String>,
    /// Requests kept in the journal per session (its oldest dropped first).
    #[arg(long, env = "GLMOCK_JOURNAL_SIZE", default_value_t = 10_000)]
    pub journal_size: usize,
    /// Open connections at most; a client past the cap gets a 503 and is closed.
    #[arg(long, env = "GLMOCK_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds a connection may sit with no request and no byte moving (HTTP/1 keep-alive,
    /// HTTP/2) before it is closed.
    #[arg(long, env = "GLMOCK_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Sessions kept at once; creating one more evicts the least recently used idle
    /// session, which restarts from the scenario on its next use.
    #[arg(long, env = "GLMOCK_MAX_SESSIONS", default_value_t = crate::world::session::DEFAULT_MAX, value_parser = clap::value_parser!(usize))]
    pub max_sessions: usize,
    /// Memory the journal may use for all sessions together, in bytes (oldest dropped first).
    #[arg(long, env = "GLMOCK_JOURNAL_MAX_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub journal_max_bytes: usize,
    /// Bytes of each request and response body the journal keeps (0: no bodies).
    #[arg(long, env = "GLMOCK_JOURNAL_BODY_BYTES", default_value_t = 16 * 1024)]
    pub journal_body_bytes: usize,
    /// Log one info line per API request (method, path, session, status, µs); `false` turns
    /// it off, as does --no-access-log.
    #[arg(long, env = "GLMOCK_ACCESS_LOG", default_value_t = true, action = clap::ArgAction::Set, hide = true)]
    pub access_log: bool,
    /// No access log (the same as GLMOCK_ACCESS_LOG=false).
    #[arg(long)]
    pub no_access_log: bool,
    /// Reload the --scenario files when they change (polled every second); a broken
    /// change is logged and the old world keeps serving.
    #[arg(long, env = "GLMOCK_WATCH")]
    pub watch: bool,
    /// Keep no journal (nothing to list or verify; the cheapest setting).
    #[arg(long, env = "GLMOCK_NO_JOURNAL")]
    pub no_journal: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario files (checked together, as `serve` would merge them); a directory stands
    /// for its *.yaml and *.yml files.
    #[arg(required = true, env = "GLMOCK_SCENARIO", value_delimiter = ',')]
    pub paths: Vec<PathBuf>,
    /// GitLab version to check against (major.minor).
    #[arg(long, env = "GLMOCK_GITLAB_VERSION")]
    pub gitlab_version: Option<String>,
    /// Directory of *.schema.json files to check against instead of the embedded schemas.
    #[arg(long, env = "GLMOCK_SCHEMAS")]
    pub schemas: Option<PathBuf>,
}

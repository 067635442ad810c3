//! `Args` → `Config`: validated, defaulted, ready to run.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::{ImportArgs, LogFormat, RecordArgs, ReportFormat, ServeArgs, VerifyArgs};
use crate::scenario::{Overrides, ScenarioErrors, Source};
use crate::server::ServerOptions;
use crate::version::{self, Version};

/// What `serve` runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerOptions,
    pub scenarios: Vec<std::path::PathBuf>,
    /// `--scenario-yaml`: scenario text merged after the files.
    pub scenario_yaml: Option<String>,
    pub overrides: Overrides,
    pub log_level: String,
    pub log_format: LogFormat,
}

/// Parses `--gitlab-version`.
pub fn parse_version(v: Option<&str>) -> anyhow::Result<Option<Version>> {
    let Some(v) = v else { return Ok(None) };
    match Version::parse(v) {
        Some(p) if p >= version::OLDEST && p <= version::NEWEST => Ok(Some(p)),
        _ => bail!(
            "--gitlab-version {v:?} is not supported (allowed: {} to {}, as major.minor)",
            version::OLDEST,
            version::NEWEST
        ),
    }
}

impl Config {
    pub fn from_args(a: &ServeArgs) -> anyhow::Result<Config> {
        let listen: SocketAddr = a
            .listen
            .to_socket_addrs()
            .with_context(|| {
                format!(
                    "--listen {:?} is not an address like 127.0.0.1:8080",
                    a.listen
                )
            })?
            .next()
            .with_context(|| format!("--listen {:?} resolves to no address", a.listen))?;
        if let Some(b) = &a.base_url
            && !(b.starts_with("http://") || b.starts_with("https://"))
        {
            bail!("--base-url {b:?} must start with http:// or https://");
        }
        let base_url = a
            .base_url
            .as_ref()
            .map(|b| b.trim_end_matches('/').to_owned());
        Ok(Config {
            server: ServerOptions {
                listen,
                base_url: base_url.clone(),
                control_token: a.control_token.clone().filter(|t| !t.is_empty()),
                max_body_bytes: a.max_body_bytes,
                journal: crate::journal::JournalOptions {
                    enabled: !a.no_journal,
                    per_session: a.journal_size,
                    max_bytes: a.journal_max_bytes,
                    body_bytes: a.journal_body_bytes,
                },
                contract: a.contract,
                schemas_dir: a.schemas.clone(),
                max_connections: a.max_connections as usize,
                idle_timeout: std::time::Duration::from_secs(a.idle_timeout),
                max_sessions: a.max_sessions.max(1),
                control_allowed_hosts: a.control_allowed_hosts.clone(),
                access_log: a.access_log && !a.no_access_log,
                watch: a.watch.then_some(std::time::Duration::from_secs(1)),
                ..ServerOptions::default()
            },
            scenarios: scenario_files(&a.scenarios, a.scenario_dir.as_deref())?,
            scenario_yaml: a.scenario_yaml.clone().filter(|y| !y.trim().is_empty()),
            overrides: Overrides {
                base_url,
                version: parse_version(a.gitlab_version.as_deref())?,
            },
            log_level: a.log_level.clone(),
            log_format: a.log_format,
        })
    }
}

/// `glmock record`'s arguments as the recorder's options.
pub fn record_options(a: &RecordArgs) -> anyhow::Result<crate::record::Options> {
    use crate::record::{CrawlOptions, Mode, ProxyOptions, RedactOptions};
    let mode = match (&a.project, &a.listen) {
        (Some(project), None) => Mode::Crawl(CrawlOptions {
            pipelines: a.pipelines,
            jobs: a.jobs,
            pages: a.pages,
            trace_bytes: a.trace_bytes,
            rate: a.rate,
            progress: true,
            ..CrawlOptions::new(&a.upstream, project)
        }),
        (None, Some(listen)) => Mode::Proxy(ProxyOptions::new(&a.upstream, listen)),
        (Some(_), Some(_)) => bail!("give either --project (crawl) or --listen (proxy)"),
        (None, None) => bail!("give --project ID_OR_PATH (crawl) or --listen ADDR (proxy)"),
    };
    let token = std::env::var(&a.token_env)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    Ok(crate::record::Options {
        mode,
        token,
        token_source: format!("the environment variable {}", a.token_env),
        out: a.out.clone(),
        redact: RedactOptions::parse(&a.redact)?,
    })
}

/// `glmock verify`'s arguments as the verifier's options.
pub fn verify_options(a: &VerifyArgs) -> anyhow::Result<crate::verify::RunOptions> {
    use std::io::IsTerminal;
    let color = match a.color.as_str() {
        "always" => true,
        "never" => false,
        "auto" => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        other => bail!("--color {other:?} is not one of auto, always, never"),
    };
    Ok(crate::verify::RunOptions {
        cassettes: a.cassettes.clone(),
        scenario_files: a.scenarios.clone(),
        compare: crate::verify::Options {
            scenarios: Vec::new(),
            gitlab_version: parse_version(a.gitlab_version.as_deref())?,
            ignore: a.ignore.clone(),
            mask: a.mask.clone(),
        },
        format: match a.format {
            ReportFormat::Text => crate::verify::Format::Text,
            ReportFormat::Json => crate::verify::Format::Json,
            ReportFormat::Junit => crate::verify::Format::Junit,
        },
        color,
    })
}

/// `glmock import`'s arguments as the importer's options.
pub fn import_options(a: &ImportArgs) -> crate::import::Options {
    crate::import::Options {
        cassettes: a.cassettes.clone(),
        out: a.out.clone(),
    }
}

impl Config {
    /// The scenario sources `serve` starts with: the scenario files (the embedded default
    /// scenario when there are none), then `--scenario-yaml`, which replaces the default.
    pub fn scenario_sources(&self) -> Result<crate::control::ScenarioSources, ScenarioErrors> {
        let mut loaded =
            crate::control::ScenarioSources::read(&self.scenarios, self.overrides.clone())?;
        if let Some(yaml) = &self.scenario_yaml {
            if self.scenarios.is_empty() {
                loaded.sources.clear();
            }
            loaded.sources.push(Source {
                name: "GLMOCK_SCENARIO_YAML".into(),
                text: yaml.clone(),
                dir: None,
            });
        }
        Ok(loaded)
    }
}

/// The scenario files to load: `--scenario` paths (a directory stands for its `*.yaml` /
/// `*.yml` files in name order), else the files of `--scenario-dir` when it exists and
/// holds some, else none (the embedded default scenario).
pub fn scenario_files(paths: &[PathBuf], dir: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    if !paths.is_empty() {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                let inside = yaml_files_in(p)?;
                if inside.is_empty() {
                    bail!(
                        "--scenario {}: the directory holds no *.yaml or *.yml file",
                        p.display()
                    );
                }
                files.extend(inside);
            } else {
                // Missing files are reported by the loader, with the others.
                files.push(p.clone());
            }
        }
        return Ok(files);
    }
    match dir {
        Some(d) if d.exists() => {
            if !d.is_dir() {
                bail!("--scenario-dir {} is not a directory", d.display());
            }
            yaml_files_in(d)
        }
        _ => Ok(Vec::new()),
    }
}

/// `*.yaml` and `*.yml` files directly in `dir`, sorted by name. Hidden entries are left
/// out (editors' swap files, and the `..data` links of a Kubernetes ConfigMap volume, whose
/// visible names are links to the same files).
fn yaml_files_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if !yaml || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // `is_file` follows links, so a mounted link to a file counts.
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

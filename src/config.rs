//! `Args` → `Config`: validated, defaulted, ready to run.

use std::net::{SocketAddr, ToSocketAddrs};

use anyhow::{Context, bail};

use crate::cli::{LogFormat, ServeArgs};
use crate::scenario::Overrides;
use crate::server::ServerOptions;
use crate::version::{self, Version};

/// What `serve` runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerOptions,
    pub scenarios: Vec<std::path::PathBuf>,
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
                control_allowed_hosts: a.control_allowed_hosts.clone(),
                access_log: a.access_log && !a.no_access_log,
                watch: a.watch.then_some(std::time::Duration::from_secs(1)),
                ..ServerOptions::default()
            },
            scenarios: a.scenarios.clone(),
            overrides: Overrides {
                base_url,
                version: parse_version(a.gitlab_version.as_deref())?,
            },
            log_level: a.log_level.clone(),
            log_format: a.log_format,
        })
    }
}

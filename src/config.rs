//! `Args` → `Config`: validated, defaulted, ready to run.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::{LogFormat, ServeArgs};
use crate::scenario::{self, Overrides, ScenarioErrors, Source};
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
                journal_size: a.journal_size,
                contract: a.contract,
                schemas_dir: a.schemas.clone(),
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

impl Config {
    /// The world `serve` starts with: the scenario files, then `--scenario-yaml`; the
    /// embedded default scenario when there is neither.
    pub fn load_world(&self) -> Result<crate::world::World, ScenarioErrors> {
        let Some(yaml) = &self.scenario_yaml else {
            return scenario::load_paths(&self.scenarios, &self.overrides);
        };
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        for p in &self.scenarios {
            match Source::read(p) {
                Ok(s) => sources.push(s),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(ScenarioErrors(errors));
        }
        sources.push(Source {
            name: "GLMOCK_SCENARIO_YAML".into(),
            text: yaml.clone(),
            dir: None,
        });
        scenario::build(&sources, &self.overrides)
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

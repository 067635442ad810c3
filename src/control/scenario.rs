//! Live scenarios: the sources the world was built from are kept, so the control API can
//! show them, replace them (`PUT /scenario`), add to them (`POST /scenario/merge`: a rebuild
//! from the stored sources plus the new one), and `--watch` can reload changed files. A
//! broken scenario is refused with the located errors of `glmock check`; the old world
//! keeps serving. After a change every session is reset to the new world (a session that
//! emulates another GitLab version keeps its version). Per-version worlds and contracts are
//! built here too, and cached.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use hyper::StatusCode;
use serde::Serialize;

use super::{ControlError, Ctx, json};
use crate::api::Response;
use crate::contract::{Contract, Mode};
use crate::scenario::{self, Overrides, ScenarioError, ScenarioErrors, Source};
use crate::server::App;
use crate::version::Version;
use crate::world::World;

/// What a server's world was built from.
#[derive(Debug, Clone, Default)]
pub struct ScenarioSources {
    pub sources: Vec<Source>,
    pub overrides: Overrides,
    /// Files on disk behind `sources` (what `--watch` polls).
    pub files: Vec<PathBuf>,
}

impl ScenarioSources {
    /// Reads scenario files (the embedded default when there are none).
    pub fn read(paths: &[PathBuf], overrides: Overrides) -> Result<Self, ScenarioErrors> {
        Ok(ScenarioSources {
            sources: read_sources(paths)?,
            overrides,
            files: paths.to_vec(),
        })
    }
}

/// Reads every file, or the embedded default when `paths` is empty.
pub fn read_sources(paths: &[PathBuf]) -> Result<Vec<Source>, ScenarioErrors> {
    if paths.is_empty() {
        return Ok(vec![Source::embedded_default()]);
    }
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match Source::read(p) {
            Ok(s) => sources.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(ScenarioErrors(errors))
    }
}

#[derive(Debug, Default)]
struct Stored {
    /// `None`: the server was started from a built World only.
    scenario: Option<ScenarioSources>,
    /// Bases of sessions that emulate another version than the scenario's.
    versioned: BTreeMap<Version, Arc<World>>,
    /// Sessions created with a version, so resets and reloads keep it.
    session_versions: BTreeMap<String, Version>,
    merges: usize,
}

/// The loaded scenario of one server, its per-version worlds and contracts.
#[derive(Debug)]
pub struct ScenarioStore {
    stored: Mutex<Stored>,
    contracts: Mutex<BTreeMap<Version, Arc<Contract>>>,
    mode: Mode,
    schemas_dir: Option<PathBuf>,
}

/// Why a world could not be built.
#[derive(Debug)]
pub enum BuildError {
    Scenario(ScenarioErrors),
    Contract(String),
    NoSources,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Scenario(e) => write!(f, "{e}"),
            BuildError::Contract(e) => f.write_str(e),
            BuildError::NoSources => f.write_str("no scenario sources are known"),
        }
    }
}

impl BuildError {
    pub fn into_control(self) -> ControlError {
        match self {
            BuildError::Scenario(e) => ControlError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{} error{} in scenario",
                    e.0.len(),
                    if e.0.len() == 1 { "" } else { "s" }
                ),
            ),
            BuildError::Contract(e) => ControlError::new(StatusCode::INTERNAL_SERVER_ERROR, e),
            BuildError::NoSources => ControlError::new(
                StatusCode::CONFLICT,
                "this server was started from a built World, not from scenario sources: PUT /-/glmock/scenario first",
            ),
        }
    }
}

#[derive(Serialize)]
struct Located<'a> {
    file: &'a str,
    line: u64,
    column: u64,
    path: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct Refused<'a> {
    error: String,
    errors: Vec<Located<'a>>,
}

fn refused(e: BuildError) -> Response {
    match e {
        BuildError::Scenario(errors) => {
            let located = errors
                .0
                .iter()
                .map(|e: &ScenarioError| Located {
                    file: &e.file,
                    line: e.line,
                    column: e.column,
                    path: &e.path,
                    message: &e.message,
                })
                .collect();
            let error = BuildError::Scenario(errors.clone()).into_control().message;
            json(
                StatusCode::UNPROCESSABLE_ENTITY,
                &Refused {
                    error,
                    errors: located,
                },
            )
        }
        other => other.into_control().into_response(),
    }
}

impl ScenarioStore {
    pub fn new(
        scenario: Option<ScenarioSources>,
        mode: Mode,
        schemas_dir: Option<PathBuf>,
    ) -> Self {
        ScenarioStore {
            stored: Mutex::new(Stored {
                scenario,
                ..Stored::default()
            }),
            contracts: Mutex::new(BTreeMap::new()),
            mode,
            schemas_dir,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stored> {
        self.stored.lock().expect("scenario lock poisoned")
    }

    /// The contract for a version (loaded once), or none when checking is off.
    pub fn contract(&self, version: Version) -> Result<Option<Arc<Contract>>, BuildError> {
        if self.mode == Mode::Off {
            return Ok(None);
        }
        let mut cache = self.contracts.lock().expect("contracts lock poisoned");
        if let Some(c) = cache.get(&version) {
            return Ok(Some(c.clone()));
        }
        let c = Arc::new(
            Contract::load(self.schemas_dir.as_deref(), version, self.mode)
                .map_err(|e| BuildError::Contract(format!("{e:#}")))?,
        );
        cache.insert(version, c.clone());
        Ok(Some(c))
    }

    /// Gives a world its version's contract.
    pub fn attach(&self, world: &mut World) -> Result<(), BuildError> {
        let contract = self.contract(world.instance.profile.version)?;
        let mut instance = (*world.instance).clone();
        instance.contract = contract;
        world.instance = Arc::new(instance);
        Ok(())
    }

    /// Builds a world from sources (for a version other than the scenario's, if given).
    pub fn build(
        &self,
        sources: &[Source],
        overrides: &Overrides,
        version: Option<Version>,
    ) -> Result<World, BuildError> {
        let overrides = Overrides {
            version: version.or(overrides.version),
            ..overrides.clone()
        };
        let mut world = scenario::build(sources, &overrides).map_err(BuildError::Scenario)?;
        self.attach(&mut world)?;
        Ok(world)
    }

    /// The base world of sessions emulating `version` (built once per scenario).
    pub fn versioned_base(&self, version: Version) -> Result<Arc<World>, BuildError> {
        let stored = self.lock();
        if let Some(w) = stored.versioned.get(&version) {
            return Ok(w.clone());
        }
        let Some(s) = &stored.scenario else {
            return Err(BuildError::NoSources);
        };
        let (sources, overrides) = (s.sources.clone(), s.overrides.clone());
        drop(stored);
        let world = Arc::new(self.build(&sources, &overrides, Some(version))?);
        self.lock().versioned.insert(version, world.clone());
        Ok(world)
    }

    /// Remembers that a session emulates `version`.
    pub fn set_session_version(&self, name: &str, version: Version) {
        self.lock()
            .session_versions
            .insert(name.to_owned(), version);
    }

    /// Forgets the version a session was created with.
    pub fn forget_session_version(&self, name: &str) {
        self.lock().session_versions.remove(name);
    }

    /// The version a session was created with, if it was.
    pub fn session_version(&self, name: &str) -> Option<Version> {
        self.lock().session_versions.get(name).copied()
    }

    /// Every session created with a version.
    pub fn session_versions(&self) -> Vec<(String, Version)> {
        self.lock()
            .session_versions
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    fn current(&self) -> Result<ScenarioSources, BuildError> {
        self.lock().scenario.clone().ok_or(BuildError::NoSources)
    }
}

/// Re-creates the sessions that emulate another version, from their version's base.
pub fn restore_versioned(app: &App, only: Option<&str>) {
    for (name, version) in app.scenario.session_versions() {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        match app.scenario.versioned_base(version) {
            Ok(base) => {
                app.sessions.reset(&name);
                app.sessions.create(&name, base);
            }
            Err(e) => {
                tracing::warn!(session = %name, %version, error = %e, "the session's GitLab version cannot be built from this scenario; it now follows the scenario's")
            }
        }
    }
}

/// Builds a world from `scenario` and, if it builds, makes it the one every session starts
/// from. Returns the sessions reset.
pub fn install(app: &App, scenario: ScenarioSources) -> Result<Installed, BuildError> {
    let world = app
        .scenario
        .build(&scenario.sources, &scenario.overrides, None)?;
    let summary = Installed {
        gitlab_version: world.instance.version.clone(),
        projects: world.projects.len(),
        reset: Vec::new(),
    };
    let reset = app.sessions.names();
    {
        let mut stored = app.scenario.lock();
        stored.scenario = Some(scenario);
        stored.versioned.clear();
    }
    app.sessions.replace_base(world);
    restore_versioned(app, None);
    Ok(Installed { reset, ..summary })
}

/// What a scenario change did.
#[derive(Debug)]
pub struct Installed {
    pub gitlab_version: String,
    pub projects: usize,
    /// The sessions that were reset.
    pub reset: Vec<String>,
}

#[derive(Serialize)]
struct SourceInfo<'a> {
    name: &'a str,
    bytes: usize,
    text: &'a str,
}

#[derive(Serialize)]
struct Shown<'a> {
    sources: Vec<SourceInfo<'a>>,
    gitlab_version: String,
    projects: usize,
    sessions_reset_on_change: bool,
}

/// `GET /scenario`: the sources loaded.
pub fn show(ctx: &Ctx) -> Result<Response, ControlError> {
    let stored = ctx.app.scenario.lock();
    let base = ctx.app.sessions.base();
    let sources = stored
        .scenario
        .as_ref()
        .map(|s| {
            s.sources
                .iter()
                .map(|s| SourceInfo {
                    name: &s.name,
                    bytes: s.text.len(),
                    text: &s.text,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json(
        StatusCode::OK,
        &Shown {
            sources,
            gitlab_version: base.instance.version.clone(),
            projects: base.projects.len(),
            sessions_reset_on_change: true,
        },
    ))
}

#[derive(Serialize)]
struct Changed {
    sources: Vec<String>,
    gitlab_version: String,
    projects: usize,
    sessions_reset: Vec<String>,
}

fn body_source(ctx: &Ctx, default_name: &str) -> Result<Source, ControlError> {
    let text = std::str::from_utf8(ctx.req.body)
        .map_err(|_| ControlError::bad_request("the scenario is not UTF-8"))?;
    if text.trim().is_empty() {
        return Err(ControlError::bad_request(
            "the request body must be a scenario (YAML or JSON)",
        ));
    }
    let name = ctx.param("name").unwrap_or_else(|| default_name.to_owned());
    Ok(Source {
        name,
        text: text.to_owned(),
        dir: None,
    })
}

fn changed(app: &App, scenario: ScenarioSources) -> Result<Response, ControlError> {
    let names: Vec<String> = scenario.sources.iter().map(|s| s.name.clone()).collect();
    match install(app, scenario) {
        Ok(done) => {
            tracing::info!(sources = ?names, "scenario changed through the control API; sessions reset");
            Ok(json(
                StatusCode::OK,
                &Changed {
                    sources: names,
                    gitlab_version: done.gitlab_version,
                    projects: done.projects,
                    sessions_reset: done.reset,
                },
            ))
        }
        Err(e) => Ok(refused(e)),
    }
}

/// `PUT /scenario`: replaces the scenario.
pub fn replace(ctx: &Ctx) -> Result<Response, ControlError> {
    let source = body_source(ctx, "scenario.yaml")?;
    let overrides = ctx
        .app
        .scenario
        .current()
        .map(|s| s.overrides)
        .unwrap_or_default();
    changed(
        ctx.app,
        ScenarioSources {
            sources: vec![source],
            overrides,
            files: Vec::new(),
        },
    )
}

/// `POST /scenario/merge`: adds a source to the scenario.
pub fn merge(ctx: &Ctx) -> Result<Response, ControlError> {
    let n = {
        let mut stored = ctx.app.scenario.lock();
        stored.merges += 1;
        stored.merges
    };
    let source = body_source(ctx, &format!("merge-{n}.yaml"))?;
    let mut current = ctx
        .app
        .scenario
        .current()
        .map_err(BuildError::into_control)?;
    current.sources.push(source);
    changed(ctx.app, current)
}

/// Polls the scenario files and reloads them when one changes.
pub struct Watcher;

impl Watcher {
    /// Starts polling every `interval` while the app lives.
    pub fn spawn(app: Weak<App>, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
        let files = app.upgrade()?.scenario.current().ok()?.files;
        if files.is_empty() {
            return None;
        }
        let stamp = move |files: &[PathBuf]| -> Vec<Option<(SystemTime, u64)>> {
            files
                .iter()
                .map(|f| {
                    std::fs::metadata(f)
                        .ok()
                        .and_then(|m| Some((m.modified().ok()?, m.len())))
                })
                .collect()
        };
        let mut last = stamp(&files);
        Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(app) = app.upgrade() else { return };
                let now = stamp(&files);
                if now == last {
                    continue;
                }
                last = now;
                let overrides = app
                    .scenario
                    .current()
                    .map(|s| s.overrides)
                    .unwrap_or_default();
                let result = ScenarioSources::read(&files, overrides)
                    .map_err(BuildError::Scenario)
                    .and_then(|s| install(&app, s));
                match result {
                    Ok(done) => tracing::info!(
                        files = ?files,
                        projects = done.projects,
                        sessions_reset = done.reset.len(),
                        "scenario files changed: reloaded, sessions reset"
                    ),
                    Err(BuildError::Scenario(e)) => tracing::warn!(
                        "scenario files changed but do not load; still serving the old world:\n{e}"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "scenario reload failed; still serving the old world")
                    }
                }
            }
        }))
    }
}

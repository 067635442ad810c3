//! Scenarios: YAML files that describe a GitLab instance (users, runners, projects,
//! pipelines, jobs…). `load` reads and decodes them, `check` cross-checks them and builds
//! the `World`. A broken scenario never serves: every error is collected and reported with
//! its file, line, column and field path.

pub mod check;
pub mod decode;
// The field tables read best one field per line.
#[rustfmt::skip]
pub mod format;
pub mod inputs;
pub mod load;
pub mod log_file;
pub mod model;
pub mod node;
pub mod reference;
pub mod rules;
pub mod schema;
pub mod slug;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::world::World;

/// The scenario compiled into the binary: the documented examples.
pub const DEFAULT_SCENARIO: &str = include_str!("../../fixtures/default.yaml");
pub const DEFAULT_SCENARIO_NAME: &str = "fixtures/default.yaml (embedded)";

/// One problem in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or inline source) name.
    pub file: String,
    /// 1-based line; 0 when the error is about the whole file.
    pub line: u64,
    /// 1-based column; 0 when the error is about the whole file.
    pub column: u64,
    /// Field path such as `projects[0].pipelines[2].jobs[1].status`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An error about a whole file (unreadable, empty) has no position: `file: …`.
        if self.line == 0 {
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// All the errors of a failed load.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl ScenarioErrors {
    /// The errors in reading order: files as given, then line and column (decoding and
    /// cross-check errors interleave where they are).
    fn sorted(mut errors: Vec<ScenarioError>, files: &[&str]) -> ScenarioErrors {
        let rank = |file: &str| files.iter().position(|f| *f == file).unwrap_or(usize::MAX);
        errors.sort_by(|a, b| {
            (rank(&a.file), a.line, a.column).cmp(&(rank(&b.file), b.line, b.column))
        });
        ScenarioErrors(errors)
    }
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} error{} in scenario", if n == 1 { "" } else { "s" })?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

/// A scenario source: a file on disk or text with a name.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
    /// Directory that relative `log_file`s are read from.
    pub dir: Option<PathBuf>,
}

impl Source {
    pub fn embedded_default() -> Source {
        Source {
            name: DEFAULT_SCENARIO_NAME.into(),
            text: DEFAULT_SCENARIO.into(),
            dir: None,
        }
    }

    pub fn read(path: &Path) -> Result<Source, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            path: String::new(),
            message: format!("cannot read the file: {e}"),
        })?;
        Ok(Source {
            name: path.display().to_string(),
            text,
            dir: path.parent().map(Path::to_path_buf),
        })
    }
}

/// Settings from the command line that win over the scenario's `gitlab:` section.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub base_url: Option<String>,
    pub version: Option<crate::version::Version>,
}

/// Loads and merges scenario sources into a World, or returns every error found.
pub fn build(sources: &[Source], overrides: &Overrides) -> Result<World, ScenarioErrors> {
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    build_unsorted(sources, overrides).map_err(|e| ScenarioErrors::sorted(e, &names))
}

fn build_unsorted(sources: &[Source], overrides: &Overrides) -> Result<World, Vec<ScenarioError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut unreadable = false;
    for s in sources {
        let (file, mut e) = load::parse_file(&s.name, &s.text);
        errors.append(&mut e);
        match file {
            Some(f) => files.push((s.clone(), f)),
            None => unreadable = true,
        }
    }
    // Cross-checks run on whatever decoded, so one run reports both kinds of error; a
    // file that is not YAML at all would only add noise.
    if unreadable {
        return Err(errors);
    }
    match check::build_world(&files, overrides) {
        Ok(world) if errors.is_empty() => Ok(world),
        Ok(_) => Err(errors),
        Err(mut more) => {
            errors.append(&mut more);
            Err(errors)
        }
    }
}

/// Loads scenario files from disk (or the embedded default when `paths` is empty).
pub fn load_paths(paths: &[PathBuf], overrides: &Overrides) -> Result<World, ScenarioErrors> {
    if paths.is_empty() {
        return build(&[Source::embedded_default()], overrides);
    }
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match Source::read(p) {
            Ok(s) => sources.push(s),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ScenarioErrors(errors));
    }
    build(&sources, overrides)
}

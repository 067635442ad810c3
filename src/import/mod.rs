//! `glmock import`: cassettes → a scenario (in the normal format) that answers their GETs.
//!
//! 1. `collect` reads every recorded `GET` answer glmock serves (jobs, pipelines, bridges,
//!    variables, test reports, traces, `/user`, `/projects/:id`) into objects by id; later
//!    answers win field by field.
//! 2. `emit` writes them as scenario fields: users, runners and managers from the jobs'
//!    objects, projects with heads and commits, pipelines, jobs and bridges.
//! 3. `compare` loads that scenario, renders every recorded object as glmock serves it, and
//!    puts each recorded value glmock derives differently into the object's `override:`;
//!    the scenario is written again and compared once more for the summary.
//!
//! The scenario has a user with `admin: true` and the personal token `glmock-import`, so a
//! replay can authenticate.

mod collect;
mod compare;
mod emit;
pub mod yaml;

use std::process::ExitCode;

use anyhow::Context;

use crate::record::cassette::Cassette;
use crate::scenario::{self, Source};

pub use emit::IMPORT_TOKEN;

/// A scenario (YAML text) from which glmock answers the cassettes' GET requests with the
/// recorded data.
pub fn to_scenario(cassettes: &[Cassette]) -> anyhow::Result<String> {
    let named: Vec<(String, &Cassette)> = cassettes
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("cassette {}", i + 1), c))
        .collect();
    Ok(import(named)?.yaml)
}

/// An import's result: the scenario and what to tell about it.
pub struct Imported {
    pub yaml: String,
    pub summary: Vec<String>,
}

/// Imports named cassettes (the names go into the header comment).
pub fn import(cassettes: Vec<(String, &Cassette)>) -> anyhow::Result<Imported> {
    let refs: Vec<&Cassette> = cassettes.iter().map(|(_, c)| *c).collect();
    let rec = collect::Recorded::read(&refs);
    let plan = emit::Plan::new(&rec, cassettes);

    let plain = plan.yaml(&emit::OverrideSet::default());
    let world = load(&plain).context("the imported scenario (before overrides) does not load")?;
    let overrides = compare::overrides(&world, &plan);
    let yaml = plan.yaml(&overrides);
    let world = load(&yaml).context("the imported scenario does not load")?;
    let residuals = compare::residuals(&world, &plan);

    let mut summary = vec![format!(
        "{} project(s), {} pipeline(s), {} job(s), {} user(s), {} runner(s) from {} answer(s)",
        plan.projects.len(),
        plan.pipeline_project.len(),
        plan.job_count(),
        world.directory.users.len(),
        rec.runners.len(),
        rec.used
    )];
    summary.push(format!(
        "token: {IMPORT_TOKEN} (user {}, administrator)",
        plan.import_user.1
    ));
    if !overrides.jobs.is_empty() || !overrides.pipelines.is_empty() {
        summary.push(format!(
            "override: on {} job(s) and {} pipeline(s), for recorded values glmock derives differently",
            overrides.jobs.len(),
            overrides.pipelines.len()
        ));
    }
    for (why, n) in &rec.skipped {
        summary.push(format!("skipped {n} exchange(s): {why}"));
    }
    summary.extend(plan.notes.iter().cloned());
    let lines = residuals.lines();
    if !lines.is_empty() {
        summary.push("not reproduced:".to_owned());
        summary.extend(lines.into_iter().map(|l| format!("  {l}")));
    }
    Ok(Imported { yaml, summary })
}

fn load(yaml: &str) -> anyhow::Result<crate::world::World> {
    let source = Source {
        name: "imported scenario".into(),
        text: yaml.to_owned(),
        dir: None,
    };
    scenario::build(&[source], &scenario::Overrides::default()).map_err(|e| anyhow::anyhow!("{e}"))
}

/// What `glmock import` runs with (the CLI maps its arguments to this).
#[derive(Debug, Clone)]
pub struct Options {
    /// Cassettes to import.
    pub cassettes: Vec<std::path::PathBuf>,
    /// Scenario file to write.
    pub out: std::path::PathBuf,
}

/// Runs `glmock import`.
pub fn run(args: &Options) -> anyhow::Result<ExitCode> {
    let mut cassettes = Vec::new();
    for path in &args.cassettes {
        cassettes.push((path.display().to_string(), Cassette::read(path)?));
    }
    let named = cassettes.iter().map(|(n, c)| (n.clone(), c)).collect();
    let imported = import(named)?;
    std::fs::write(&args.out, &imported.yaml)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote {} from {} cassette(s)",
        args.out.display(),
        cassettes.len()
    );
    for line in &imported.summary {
        println!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests;

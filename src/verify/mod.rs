//! `glmock verify`: check recorded answers against the schemas and against glmock's own.
//!
//! For each exchange of each cassette: the recorded body is checked against its documented
//! schema (`schema.rs`); the request is replayed, in cassette order and in one session,
//! against an in-process glmock (`replay.rs`) loaded with the given scenarios or, by
//! default, one imported from the cassettes; the two answers are compared (`diff.rs`) and
//! the differences reported as text, JSON or JUnit XML (`report.rs`). Recording is not done
//! here (`record/`), nor turning cassettes into scenarios (`import/`).

pub mod diff;
pub mod replay;
pub mod report;
pub mod schema;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::contract::{Contract, Mode};
use crate::record::cassette::{Body, Cassette, Exchange};
use crate::scenario::{self, Overrides, Source};
use crate::version::{self, Version};
pub use diff::{Kind, Mismatch, Rules};
pub use report::{CassetteReport, ExchangeReport, Report, Summary};

/// What to verify against and how to compare.
#[derive(Debug, Clone)]
pub struct Options {
    /// Scenarios to replay against; empty: one imported from the cassettes.
    pub scenarios: Vec<Source>,
    /// The version to emulate and check the schemas for (default: each cassette's, else the
    /// scenario's).
    pub gitlab_version: Option<Version>,
    /// JSONPaths (or `status`, `headers.NAME`) left out of the comparison.
    pub ignore: Vec<String>,
    /// Field names whose values are masked (presence and type still compared).
    pub mask: Vec<String>,
}

/// The former name of [`Options`].
pub type VerifyOptions = Options;

impl Default for Options {
    /// No scenario (import), no version, nothing ignored, the default mask.
    fn default() -> Self {
        Options {
            scenarios: Vec::new(),
            gitlab_version: None,
            ignore: Vec::new(),
            mask: default_mask(),
        }
    }
}

/// The fields masked by default (`--mask`'s default), comma-separated.
pub const DEFAULT_MASK: &str = "id,iid,sha,short_id,before_sha,created_at,updated_at,started_at,finished_at,erased_at,queued_at,committed_at,authored_date,committed_date,artifacts_expire_at,duration,queued_duration,web_url,avatar_url,contacted_at,system_id,revision,ip_address,project_id,pipeline_id";

/// [`DEFAULT_MASK`] as a list.
pub fn default_mask() -> Vec<String> {
    DEFAULT_MASK.split(',').map(str::to_owned).collect()
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people (a unified diff per drifted exchange).
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, for CI dashboards.
    Junit,
}

/// What `glmock verify` runs with (the CLI maps its arguments to this).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cassettes to verify.
    pub cassettes: Vec<PathBuf>,
    /// Scenario files to replay against (read into `compare.scenarios`); none: imported.
    pub scenario_files: Vec<PathBuf>,
    /// How to compare (its `scenarios` are added to the files').
    pub compare: Options,
    /// Report format.
    pub format: Format,
    /// Colour in the text report.
    pub color: bool,
}

/// Runs `glmock verify`: exit 0 when nothing drifted, 1 when something did.
pub fn run(opts: &RunOptions) -> anyhow::Result<ExitCode> {
    let mut cassettes = Vec::new();
    for path in &opts.cassettes {
        let c = Cassette::read(path).context("reading the cassettes")?;
        cassettes.push((path.display().to_string(), c));
    }
    let mut compare = opts.compare.clone();
    for path in &opts.scenario_files {
        compare
            .scenarios
            .push(Source::read(path).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let report = verify_named(&cassettes, &compare)?;
    let out = match opts.format {
        Format::Text => report.to_text(opts.color),
        Format::Json => report.to_json() + "\n",
        Format::Junit => {
            for n in &report.notes {
                eprintln!("note: {n}");
            }
            report.to_junit()
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the report")?;
    Ok(if report.drifted() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Verifies cassettes named `#1`, `#2`…
pub fn verify(cassettes: &[Cassette], opts: &Options) -> anyhow::Result<Report> {
    let named: Vec<(String, Cassette)> = cassettes
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("#{}", i + 1), c.clone()))
        .collect();
    verify_named(&named, opts)
}

/// Verifies `(name, cassette)` pairs. Each cassette is replayed against its own fresh
/// glmock, so one cassette's mutations never reach another's.
pub fn verify_named(cassettes: &[(String, Cassette)], opts: &Options) -> anyhow::Result<Report> {
    let rules = Rules::new(&opts.mask, &opts.ignore)?;
    let sources = if opts.scenarios.is_empty() {
        let all: Vec<Cassette> = cassettes.iter().map(|(_, c)| c.clone()).collect();
        let text = crate::import::to_scenario(&all)
            .context("importing a scenario from the cassettes (or give one with --scenario)")?;
        vec![Source {
            name: "scenario imported from the cassettes".into(),
            text,
            dir: None,
        }]
    } else {
        opts.scenarios.clone()
    };
    let mut notes = Vec::new();
    let mut contracts: BTreeMap<Version, Contract> = BTreeMap::new();
    let mut reports = Vec::new();
    for (name, cassette) in cassettes {
        let version = opts.gitlab_version.or_else(|| {
            let recorded = cassette.gitlab_version.as_deref()?;
            match recorded_version(recorded) {
                Some(v) if (version::OLDEST..=version::NEWEST).contains(&v) => Some(v),
                _ => {
                    notes.push(format!(
                        "{name}: recorded from GitLab {recorded:?}, which glmock does not emulate ({} to {}); using the scenario's version",
                        version::OLDEST,
                        version::NEWEST
                    ));
                    None
                }
            }
        });
        let world = scenario::build(
            &sources,
            &Overrides {
                base_url: None,
                version,
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("loading the scenario to replay against")?;
        let emulated = world.instance.profile.version;
        if let std::collections::btree_map::Entry::Vacant(slot) = contracts.entry(emulated) {
            slot.insert(
                Contract::load(None, emulated, Mode::Warn)
                    .context("loading the response schemas")?,
            );
        }
        let contract = &contracts[&emulated];
        let mut replayer = replay::Replayer::new(world);
        if replayer.token().is_none() {
            notes.push(format!(
                "{name}: the scenario has no admin or project owner with a token; requests were replayed without one"
            ));
        }
        let exchanges = cassette
            .exchanges
            .iter()
            .enumerate()
            .map(|(i, x)| verify_exchange(i + 1, x, &rules, contract, &mut replayer))
            .collect();
        reports.push(CassetteReport {
            name: name.clone(),
            gitlab_version: emulated.to_string(),
            recorded_version: cassette.gitlab_version.clone(),
            exchanges,
        });
    }
    Ok(Report::new(reports, notes))
}

/// `17.5.1-ee` → 17.5 (the first two numbers).
fn recorded_version(s: &str) -> Option<Version> {
    let mut numbers = s
        .trim()
        .trim_start_matches(['v', 'V'])
        .split(|c: char| !c.is_ascii_digit());
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next()?.parse().ok()?;
    Some(Version(major, minor))
}

fn verify_exchange(
    index: usize,
    x: &Exchange,
    rules: &Rules,
    contract: &Contract,
    replayer: &mut replay::Replayer,
) -> ExchangeReport {
    let req = &x.request;
    let rec = &x.response;
    let mut report = ExchangeReport {
        index,
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        recorded_status: rec.status,
        glmock_status: None,
        skipped: None,
        shape: None,
        mismatches: Vec::new(),
        diff: None,
    };
    if req.path.starts_with("/-/glmock") || req.path.contains("/-/glmock/") {
        report.skipped = Some("glmock control API, not replayed".into());
        return report;
    }

    // (1) The real answer against the documented contract.
    let mut schema_mismatches = Vec::new();
    if let Some(Body::Json(body)) = &rec.body
        && let Some(shape) = schema::shape_for(&req.method, &req.path, rec.status, body)
    {
        report.shape = Some(shape.to_owned());
        schema_mismatches = schema::check(contract, rules, shape, body);
    }

    // (2) The same request against glmock.
    let got = replayer.replay(req);
    replayer.learn(req, rec.body.as_ref(), &got);
    report.glmock_status = Some(got.status);
    let mut found = Vec::new();
    let same_status = got.status == rec.status;
    if !same_status {
        found.push(Mismatch::new(
            Kind::Status,
            "status".into(),
            Some(rec.status.into()),
            Some(got.status.into()),
        ));
    }
    // On another status only the content type is worth comparing: the rest follows.
    found.extend(
        diff::compare_headers(rules, &rec.headers, &got.headers)
            .into_iter()
            .filter(|m| same_status || m.path == "headers.content-type"),
    );
    if same_status {
        found.extend(diff::compare_bodies(
            rules,
            rec.body.as_ref(),
            got.body.as_ref(),
        ));
    }
    found.retain(|m| rules.keeps(m));

    // (3) A readable diff when the bodies or the status differ.
    if found
        .iter()
        .any(|m| !matches!(m.kind, Kind::Header | Kind::Schema))
    {
        report.diff = diff::unified_diff(rules, rec.body.as_ref(), got.body.as_ref());
    }
    found.extend(schema_mismatches);
    report.mismatches = found;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_versions_are_read_leniently() {
        assert_eq!(recorded_version("17.5.1-ee"), Some(Version(17, 5)));
        assert_eq!(recorded_version("v16.11.0"), Some(Version(16, 11)));
        assert_eq!(recorded_version("18"), None);
    }

    #[test]
    fn the_default_mask_is_the_cli_default() {
        let mask = default_mask();
        assert!(mask.contains(&"id".to_owned()), "{mask:?}");
        assert!(mask.contains(&"pipeline_id".to_owned()), "{mask:?}");
    }
}

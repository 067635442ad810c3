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
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::cli::{ReportFormat, VerifyArgs};
use crate::contract::{Contract, Mode};
use crate::record::cassette::{Body, Cassette, Exchange};
use crate::scenario::{self, Overrides, Source};
use crate::version::{self, Version};
pub use diff::{Kind, Mismatch, Rules};
pub use report::{CassetteReport, ExchangeReport, Report, Summary};

/// What to verify against and how to compare.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
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

impl Default for VerifyOptions {
    /// No scenario (import), no version, nothing ignored, the CLI's default mask.
    fn default() -> Self {
        VerifyOptions {
            scenarios: Vec::new(),
            gitlab_version: None,
            ignore: Vec::new(),
            mask: default_mask(),
        }
    }
}

/// The default `--mask` list, as `glmock verify --help` shows it.
pub fn default_mask() -> Vec<String> {
    use clap::CommandFactory;
    let cmd = crate::cli::Args::command();
    cmd.find_subcommand("verify")
        .and_then(|v| v.get_arguments().find(|a| a.get_id() == "mask"))
        .map(|a| {
            a.get_default_values()
                .iter()
                .flat_map(|d| {
                    d.to_string_lossy()
                        .split(',')
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `glmock verify`: exit 0 when nothing drifted, 1 when something did.
pub fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        "auto" => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        other => bail!("--color {other:?} is not one of auto, always, never"),
    };
    let mut cassettes = Vec::new();
    for path in &args.cassettes {
        let c = Cassette::read(path).context("reading the cassettes")?;
        cassettes.push((path.display().to_string(), c));
    }
    let mut scenarios = Vec::new();
    for path in &args.scenarios {
        scenarios.push(Source::read(path).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let opts = VerifyOptions {
        scenarios,
        gitlab_version: crate::config::parse_version(args.gitlab_version.as_deref())?,
        ignore: args.ignore.clone(),
        mask: args.mask.clone(),
    };
    let report = verify_named(&cassettes, &opts)?;
    let out = match args.format {
        ReportFormat::Text => report.to_text(color),
        ReportFormat::Json => report.to_json() + "\n",
        ReportFormat::Junit => {
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
pub fn verify(cassettes: &[Cassette], opts: &VerifyOptions) -> anyhow::Result<Report> {
    let named: Vec<(String, Cassette)> = cassettes
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("#{}", i + 1), c.clone()))
        .collect();
    verify_named(&named, opts)
}

/// Verifies `(name, cassette)` pairs. Each cassette is replayed against its own fresh
/// glmock, so one cassette's mutations never reach another's.
pub fn verify_named(
    cassettes: &[(String, Cassette)],
    opts: &VerifyOptions,
) -> anyhow::Result<Report> {
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

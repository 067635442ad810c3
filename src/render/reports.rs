//! Test reports: the scenario gives suites and cases in GitLab's shape; counts and times
//! are filled in from the cases where the scenario leaves them out, so the full report and
//! its summary always agree.

use serde::{Deserialize, Serialize};

use crate::world::{Pipeline, World};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TestCase {
    pub status: String,
    pub name: String,
    pub classname: String,
    pub file: Option<String>,
    pub execution_time: f64,
    pub system_output: Option<String>,
    pub stack_trace: Option<String>,
    pub recent_failures: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct SuiteIn {
    name: String,
    total_time: Option<f64>,
    suite_error: Option<String>,
    test_cases: Vec<TestCase>,
    build_ids: Vec<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ReportIn {
    test_suites: Vec<SuiteIn>,
}

#[derive(Serialize, Default)]
pub struct Counts {
    total_time: f64,
    total_count: u64,
    success_count: u64,
    failed_count: u64,
    skipped_count: u64,
    error_count: u64,
}

#[derive(Serialize)]
pub struct Suite {
    name: String,
    #[serde(flatten)]
    counts: Counts,
    suite_error: Option<String>,
    test_cases: Vec<TestCase>,
}

#[derive(Serialize)]
pub struct Full {
    #[serde(flatten)]
    counts: Counts,
    test_suites: Vec<Suite>,
}

#[derive(Serialize)]
pub struct SummaryTotal {
    time: f64,
    count: u64,
    success: u64,
    failed: u64,
    skipped: u64,
    error: u64,
    suite_error: Option<String>,
}

#[derive(Serialize)]
pub struct SuiteSummary {
    name: String,
    #[serde(flatten)]
    counts: Counts,
    build_ids: Vec<u64>,
    suite_error: Option<String>,
}

#[derive(Serialize)]
pub struct Summary {
    total: SummaryTotal,
    test_suites: Vec<SuiteSummary>,
}

fn read(p: &Pipeline) -> ReportIn {
    p.test_report
        .as_deref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn counts(s: &SuiteIn) -> Counts {
    // A broken suite (suite_error) reports no cases.
    let cases: &[TestCase] = if s.suite_error.is_some() {
        &[]
    } else {
        &s.test_cases
    };
    let n = |st: &str| cases.iter().filter(|c| c.status == st).count() as u64;
    Counts {
        total_time: round3(
            s.total_time
                .unwrap_or_else(|| cases.iter().map(|c| c.execution_time).sum()),
        ),
        total_count: cases.len() as u64,
        success_count: n("success"),
        failed_count: n("failed"),
        skipped_count: n("skipped"),
        error_count: n("error"),
    }
}

fn add(total: &mut Counts, c: &Counts) {
    total.total_time = round3(total.total_time + c.total_time);
    total.total_count += c.total_count;
    total.success_count += c.success_count;
    total.failed_count += c.failed_count;
    total.skipped_count += c.skipped_count;
    total.error_count += c.error_count;
}

pub fn full(p: &Pipeline) -> Full {
    let report = read(p);
    let mut total = Counts::default();
    let mut suites = Vec::new();
    for s in report.test_suites {
        let c = counts(&s);
        add(&mut total, &c);
        let cases = if s.suite_error.is_some() {
            Vec::new()
        } else {
            s.test_cases
        };
        suites.push(Suite {
            name: s.name,
            counts: c,
            suite_error: s.suite_error,
            test_cases: cases,
        });
    }
    Full {
        counts: total,
        test_suites: suites,
    }
}

pub fn summary(world: &World, p: &Pipeline) -> Summary {
    let report = read(p);
    let mut total = Counts::default();
    let mut suites = Vec::new();
    for s in report.test_suites {
        let c = counts(&s);
        add(&mut total, &c);
        // Without explicit build ids, the suite comes from the pipeline's jobs of that name.
        let build_ids = if s.build_ids.is_empty() {
            world
                .project_state(p.project_id)
                .map(|st| {
                    st.pipeline_jobs(p.id)
                        .filter(|j| !j.is_bridge() && j.name == s.name)
                        .map(|j| j.id)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            s.build_ids
        };
        suites.push(SuiteSummary {
            name: s.name,
            counts: c,
            build_ids,
            suite_error: s.suite_error,
        });
    }
    Summary {
        total: SummaryTotal {
            time: total.total_time,
            count: total.total_count,
            success: total.success_count,
            failed: total.failed_count,
            skipped: total.skipped_count,
            error: total.error_count,
            suite_error: None,
        },
        test_suites: suites,
    }
}

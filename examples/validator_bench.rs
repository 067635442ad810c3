//! The contract check's cost with glmock's validator (`src/contract/validator.rs`) against
//! the `jsonschema` crate it replaced, in the same run: the 20-job page and the 100-pipeline
//! page of `bench/scenario.yaml` as the server renders them, checked against the
//! `job_list` and `pipeline_list` schemas of 18.5. `is_valid` is what every clean response
//! costs; `errors` is the report for a page with one bad field. Batches of the two are
//! interleaved; medians of the batches.
//!
//! `cargo run --release --example validator_bench`

use std::hint::black_box;
use std::time::Instant;

use glmock::__internal::api::query::{self, Params};
use glmock::__internal::api::{self, Body, Request};
use glmock::__internal::contract::validator::Validator;
use glmock::__internal::contract::{Contract, Mode};
use glmock::__internal::scenario::{self, Overrides};
use glmock::__internal::version::NEWEST;
use glmock::__internal::world::session::Sessions;
use serde_json::Value;

fn page(sessions: &Sessions, path: &str, query: &str) -> Value {
    let mut headers = hyper::HeaderMap::new();
    headers.insert("private-token", "glpat-bench".parse().expect("header"));
    let req = Request::new(
        hyper::Method::GET,
        path.into(),
        query.into(),
        "default".into(),
        query::parse_query(query).expect("query"),
        Params::new(),
        headers,
        "http://127.0.0.1".into(),
    );
    let bytes: Vec<u8> = match api::handle(sessions, &req).body {
        Body::Json(b) => b.to_vec(),
        Body::JsonParts(parts) => parts.iter().flat_map(|p| p.to_vec()).collect(),
        _ => panic!("{path}: not JSON"),
    };
    serde_json::from_slice(&bytes).expect("a JSON page")
}

/// Median nanoseconds per call over `batches` batches of `n` calls, `a` and `b` interleaved.
fn medians(n: u32, batches: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(n)
    };
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..batches {
        ta.push(time(&mut a));
        tb.push(time(&mut b));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb))
}

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/scenario.yaml");
    let world = scenario::load_paths(&[path], &Overrides::default()).expect("bench scenario loads");
    let sessions = Sessions::new(world);
    let contract = Contract::load(None, NEWEST, Mode::Strict).expect("schemas");
    let pages = [
        (
            "the 20-job page",
            "job_list",
            page(&sessions, "/api/v4/projects/1/jobs", ""),
        ),
        (
            "the 100-pipeline page",
            "pipeline_list",
            page(&sessions, "/api/v4/projects/1/pipelines", "per_page=100"),
        ),
    ];
    println!("| check, median of 31 batches | glmock's validator, µs | jsonschema, µs | ratio |");
    println!("|---|---:|---:|---:|");
    for (name, shape, body) in &pages {
        let schema = contract.schema(shape).expect("shape");
        let ours = Validator::new(schema).expect("compiles");
        let theirs = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(schema)
            .expect("compiles");
        assert!(
            ours.is_valid(body) && theirs.is_valid(body),
            "{name} is clean"
        );
        let mut bad = body.clone();
        bad[3]["status"] = Value::from("bogus");
        assert_eq!(ours.errors(&bad).len(), 1);
        assert_eq!(theirs.iter_errors(&bad).count(), 1);

        let n = if shape == &"job_list" { 2_000 } else { 200 };
        let (o, t) = medians(
            n,
            31,
            || assert!(ours.is_valid(black_box(body))),
            || assert!(theirs.is_valid(black_box(body))),
        );
        println!(
            "| {name}, `is_valid` | {:.1} | {:.1} | {:.2}× |",
            o / 1000.0,
            t / 1000.0,
            o / t
        );
        let (o, t) = medians(
            n,
            31,
            || drop(black_box(ours.errors(black_box(&bad)))),
            || {
                black_box(theirs.iter_errors(black_box(&bad)).count());
            },
        );
        println!(
            "| {name}, one violation reported | {:.1} | {:.1} | {:.2}× |",
            o / 1000.0,
            t / 1000.0,
            o / t
        );
    }
}

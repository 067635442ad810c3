//! The cost of fault matching in process: `faults::decide` for the 20-job page with no
//! rules and with 100 rules that match nothing, next to the cost of answering the page
//! (`api::handle`). Best of several batches, configurations interleaved (run by
//! `bench/faults.sh`; the wrk figures there include the whole server).

mod common;

use std::hint::black_box;

use common::best;
use glmock::__internal::api;
use glmock::__internal::world::session::Sessions;

fn sessions(rules: bool) -> Sessions {
    let sessions = common::bench_sessions();
    if rules {
        let other = [
            "/user",
            "/version",
            "/projects/:id",
            "/projects/:id/jobs/:job_id",
            "/projects/:id/pipelines",
        ];
        let mut specs = Vec::new();
        for i in 0..100 {
            let json = match i {
                0..60 => {
                    serde_json::json!({"match": {"route": other[i % other.len()]}, "then": {"status": 502}})
                }
                60..80 => {
                    serde_json::json!({"match": {"method": "POST", "route": "/projects/:id/jobs"}, "then": "reset"})
                }
                _ => {
                    serde_json::json!({"match": {"path": format!("/api/v4/groups/{i}/**")}, "then": {"status": 503}})
                }
            };
            specs.push(serde_json::from_value(json).expect("a rule"));
        }
        let faults = sessions.base().instance.faults.clone();
        let now = sessions.base().now();
        faults
            .session("default", || now)
            .add(specs, now)
            .expect("rules");
        faults.activate();
    }
    sessions
}

fn main() {
    let (none, rules) = (sessions(false), sessions(true));
    let req = common::page_request();
    let (mut d0, mut d1, mut h) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..5 {
        d0 = d0.min(best(100_000, 5, || {
            drop(black_box(glmock::__internal::faults::decide(
                &none, &req, None,
            )))
        }));
        d1 = d1.min(best(100_000, 5, || {
            drop(black_box(glmock::__internal::faults::decide(
                &rules, &req, None,
            )))
        }));
        h = h.min(best(2_000, 5, || drop(black_box(api::handle(&none, &req)))));
    }
    println!("| in process, best of 25 batches | ns |\n|---|---:|");
    println!("| `faults::decide`, no rules | {d0:.0} |");
    println!("| `faults::decide`, 100 rules that match nothing | {d1:.0} |");
    println!("| `api::handle`, the 20-job page (no faults) | {h:.0} |");
    println!(
        "\nThe 100 rules add {:.0} ns, {:.2} % of answering the page.",
        d1 - d0,
        100.0 * (d1 - d0) / h
    );
}

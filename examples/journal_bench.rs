//! What journaling a request costs, in process: `api::handle` answering the 20-job page of
//! `bench/scenario.yaml` (the request headers wrk sends) alone, and followed by
//! `Journal::record_exchange` of its response with the journal's default options in steady
//! state (every record evicts an entry), with bodies and without. Best of several batches,
//! configurations interleaved (run by `bench/journal.sh`; the wrk figures there include the
//! whole server).

mod common;

use std::hint::black_box;

use bytes::Bytes;
use common::best;
use glmock::__internal::api;
use glmock::__internal::journal::{Exchange, Journal, JournalOptions};

fn main() {
    let sessions = common::bench_sessions();
    let req = common::page_request();
    let resp = api::handle(&sessions, &req);
    assert_eq!(resp.status, 200, "the 20-job page answers");
    let empty = Bytes::new();
    // Each request's own response, as the server has it: the page's pieces are shared with
    // the cached jobs, the list of them is the request's.
    let record = |j: &Journal| {
        let resp = api::handle(&sessions, &req);
        j.record_exchange(Exchange {
            time: jiff::Timestamp::now(),
            session: "default",
            method: hyper::Method::GET,
            path: "/api/v4/projects/1/jobs".to_owned(),
            query: String::new(),
            route: resp.route,
            status: 200,
            latency_us: 25,
            request_headers: &req.headers,
            request_body: &empty,
            response_body: &resp.body,
            violations: Vec::new(),
            faults: Vec::new(),
            unimplemented: false,
        })
    };
    let bodies = Journal::new(JournalOptions::default());
    let no_bodies = Journal::new(JournalOptions {
        body_bytes: 0,
        ..JournalOptions::default()
    });
    // Steady state: full rings, so every record below evicts an entry.
    for _ in 0..30_000 {
        record(&bodies);
        record(&no_bodies);
    }
    let (mut b, mut nb, mut h) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..5 {
        b = b.min(best(20_000, 5, || record(&bodies)));
        nb = nb.min(best(20_000, 5, || record(&no_bodies)));
        h = h.min(best(20_000, 5, || {
            drop(black_box(api::handle(&sessions, &req)))
        }));
    }
    let (live, bytes) = bodies.usage();
    println!("| in process, best of 25 batches | ns | journal's share |\n|---|---:|---:|");
    println!("| `api::handle`, the 20-job page, journal off | {h:.0} | |");
    println!(
        "| the same + `Journal::record_exchange`, bodies (16 KiB cap, the default) | {b:.0} | {:.0} ns |",
        b - h
    );
    println!(
        "| the same + `Journal::record_exchange`, no bodies | {nb:.0} | {:.0} ns |",
        nb - h
    );
    println!(
        "\nSteady state with bodies: {live} entries, {:.1} MiB estimated.",
        bytes as f64 / (1024.0 * 1024.0)
    );
}

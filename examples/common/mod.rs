//! What the in-process benchmarks share: the bench scenario, the 20-job page request, and
//! the best-of-batches timer.

use std::time::Instant;

use glmock::__internal::api::Request;
use glmock::__internal::api::query::Params;
use glmock::__internal::scenario::{self, Overrides};
use glmock::__internal::world::session::Sessions;

/// `bench/scenario.yaml` (100,000 jobs), loaded as the CLI loads it.
pub fn bench_sessions() -> Sessions {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/scenario.yaml");
    Sessions::new(
        scenario::load_paths(&[path], &Overrides::default()).expect("bench scenario loads"),
    )
}

/// `GET /api/v4/projects/1/jobs` with the headers wrk sends.
pub fn page_request() -> Request {
    let mut headers = hyper::HeaderMap::new();
    headers.insert("host", "127.0.0.1:41234".parse().expect("header"));
    headers.insert("private-token", "glpat-bench".parse().expect("header"));
    Request::new(
        hyper::Method::GET,
        "/api/v4/projects/1/jobs".into(),
        String::new(),
        "default".into(),
        Params::new(),
        Params::new(),
        headers,
        "http://127.0.0.1:41234".into(),
    )
}

/// Best nanoseconds per call of `f` over `batches` batches of `n` calls.
pub fn best(n: u32, batches: u32, mut f: impl FnMut()) -> f64 {
    (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min)
}

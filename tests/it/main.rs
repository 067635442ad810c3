//! Integration tests: each starts the real server on 127.0.0.1:0 and talks HTTP to it.

mod support;

mod auth_errors;
mod ci_recipes;
mod cli;
mod contract;
mod control;
mod faults;
mod fuzz;
mod hardening;
mod harness;
mod harness_readme;
mod harness_shared;
mod import;
mod jobs;
mod lifecycle;
mod lifecycle_full;
mod packaging;
mod pipelines;
mod rate_limits;
mod record;
mod roundtrip;
mod scenario_errors;
mod scale;
mod scenario_format;
mod spec_jobs;
mod spec_pipelines;
mod verify;

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
mod observe;
mod observe_journal;
mod observe_live;
mod observe_polls;
mod observe_readme;
mod observe_unimplemented;
mod observe_verify;
mod packaging;
mod pipelines;
mod rate_limits;
mod record;
mod roundtrip;
mod scale;
mod scenario_errors;
mod scenario_format;
mod spec_jobs;
mod spec_pipelines;
mod validator;
mod verify;

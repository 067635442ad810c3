//! Integration tests: each starts the real server on 127.0.0.1:0 and talks HTTP to it.

mod support;

mod auth_errors;
mod cli;
mod contract;
mod control;
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
mod pipelines;
mod record;
mod roundtrip;
mod scenario_format;
mod verify;

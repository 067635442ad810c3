//! record → import → serve → verify: a crawl of a live (here: another glmock) GitLab,
//! imported as a scenario, replays without drift.

use glmock::__internal::record::{CrawlOptions, crawl};
use glmock::__internal::verify::{VerifyOptions, verify};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawled_project_imports_and_verifies_without_drift() {
    for (files, project, token) in [
        (vec!["fixtures/default.yaml"], "foo/bar", ROOT),
        (
            vec!["fixtures/examples/showcase.yaml"],
            "group/project",
            "glpat-alice",
        ),
    ] {
        // Record.
        let upstream = TestServer::with_files(&files).await;
        let mut opts = CrawlOptions::new(&upstream.url, project);
        opts.rate = 1000.0;
        opts.progress = false;
        opts.pipelines = 3;
        opts.jobs = 5;
        let cassette = crawl(&opts, Some(token)).await.expect("crawl");
        assert!(
            cassette.exchanges.len() > 10,
            "{} exchanges",
            cassette.exchanges.len()
        );
        let yaml = cassette.to_yaml();
        assert!(!yaml.contains(token), "the token was written");

        // Import and verify against the imported scenario (the default of `verify`).
        let cassettes = vec![cassette];
        let report =
            tokio::task::spawn_blocking(move || verify(&cassettes, &VerifyOptions::default()))
                .await
                .unwrap()
                .expect("verify");
        let drifted: Vec<_> = report
            .cassettes
            .iter()
            .flat_map(|c| &c.exchanges)
            .filter(|e| !e.mismatches.is_empty())
            .map(|e| format!("{} {}: {:?}", e.method, e.path, e.mismatches))
            .collect();
        assert!(
            drifted.is_empty(),
            "{files:?} drifted:\n{}",
            drifted.join("\n")
        );
        assert_eq!(report.summary.drifted, 0);
    }
}

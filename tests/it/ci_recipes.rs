//! The CI recipes in `examples/ci/` and the Dockerfile, read as their tools read them: every
//! key of the GitLab CI job is one GitLab's CI configuration schema allows, every `GLMOCK_*`
//! variable is one glmock reads, and every scenario they carry loads.
//!
//! The key lists are GitLab's, from `app/assets/javascripts/editor/schema/ci.json` in
//! gitlabhq/gitlabhq (`definitions.job_template.properties`, the object form of
//! `definitions.services.items`, the top-level `properties`).

use std::collections::BTreeSet;

use clap::CommandFactory;
use glmock::__internal::scenario::{self, Overrides, Source};
use serde_json::Value;

use crate::support::fixture;

/// Keys a GitLab CI job may have (`definitions.job_template`, `additionalProperties: false`).
const JOB_KEYS: &[&str] = &[
    "image",
    "services",
    "before_script",
    "after_script",
    "hooks",
    "rules",
    "variables",
    "cache",
    "id_tokens",
    "identity",
    "inputs",
    "secrets",
    "script",
    "run",
    "stage",
    "only",
    "extends",
    "needs",
    "except",
    "tags",
    "allow_failure",
    "timeout",
    "when",
    "start_in",
    "manual_confirmation",
    "dependencies",
    "artifacts",
    "environment",
    "release",
    "coverage",
    "retry",
    "parallel",
    "interruptible",
    "resource_group",
    "trigger",
    "inherit",
    "publish",
    "pages",
];

/// Keys of a `services:` entry in its object form (`name` required).
const SERVICE_KEYS: &[&str] = &[
    "name",
    "entrypoint",
    "docker",
    "kubernetes",
    "pull_policy",
    "command",
    "alias",
    "variables",
];

/// Top-level keys that are not jobs. Any other key is a job; `.name` is a hidden one.
const GLOBAL_KEYS: &[&str] = &[
    "$schema",
    "spec",
    "image",
    "services",
    "before_script",
    "after_script",
    "variables",
    "cache",
    "!reference",
    "default",
    "stages",
    "include",
    "workflow",
];

/// GitLab's stages when a file does not list its own.
const DEFAULT_STAGES: &[&str] = &[".pre", "build", "test", "deploy", ".post"];

fn read_yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The environment variables `glmock serve` reads (from clap's definition of the flags).
fn serve_env_vars() -> BTreeSet<String> {
    let cmd = glmock::__internal::cli::Args::command();
    let serve = cmd.find_subcommand("serve").expect("serve exists");
    serve
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

/// Loads a scenario the way `GLMOCK_SCENARIO_YAML` does, and checks it is the one
/// `examples/ci/test_with_python_gitlab.py` expects.
fn assert_demo_scenario(origin: &str, yaml: &str) {
    let world = scenario::build(
        &[Source {
            name: "GLMOCK_SCENARIO_YAML".into(),
            text: yaml.into(),
            dir: None,
        }],
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{origin}: the scenario does not load: {e}"));
    let paths: Vec<_> = world
        .directory
        .projects
        .values()
        .map(|p| p.path_with_namespace.clone())
        .collect();
    assert_eq!(paths, ["demo/app"], "{origin}");
}

fn assert_glmock_vars(origin: &str, vars: &Value) {
    let known = serve_env_vars();
    for key in keys(vars) {
        if key.starts_with("GLMOCK_") {
            assert!(
                known.contains(key),
                "{origin}: glmock serve does not read {key} (it reads {known:?})"
            );
        }
        assert!(
            vars[key].is_string(),
            "{origin}: {key} must be a string, as CI variables are"
        );
    }
}

#[test]
fn the_gitlab_ci_recipe_uses_only_keys_gitlab_allows() {
    let doc = read_yaml("examples/ci/gitlab-ci.yml");
    let stages: Vec<String> = match doc.get("stages") {
        Some(s) => serde_json::from_value(s.clone()).unwrap(),
        None => DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
    };
    let mut jobs = 0;
    for key in keys(&doc) {
        if GLOBAL_KEYS.contains(&key) || key.starts_with('.') {
            continue;
        }
        jobs += 1;
        let job = &doc[key];
        for k in keys(job) {
            assert!(
                JOB_KEYS.contains(&k),
                "job {key}: `{k}` is not a GitLab CI job keyword"
            );
        }
        assert!(
            job.get("script").is_some() || job.get("trigger").is_some(),
            "job {key}: GitLab requires script (or trigger)"
        );
        if let Some(stage) = job.get("stage").and_then(Value::as_str) {
            assert!(
                stages.iter().any(|s| s == stage),
                "job {key}: stage {stage} not in {stages:?}"
            );
        }
        assert_glmock_vars(&format!("job {key}"), &job["variables"]);

        let services = job["services"].as_array().expect("the job has services");
        let glmock = services
            .iter()
            .find(|s| s["alias"] == "glmock")
            .unwrap_or_else(|| panic!("job {key}: no service with alias glmock"));
        for k in keys(glmock) {
            assert!(
                SERVICE_KEYS.contains(&k),
                "job {key}: `{k}` is not a GitLab CI services: keyword"
            );
        }
        assert!(glmock["name"].as_str().is_some_and(|n| !n.is_empty()));
        let vars = &glmock["variables"];
        assert_glmock_vars(&format!("job {key}, service glmock"), vars);
        assert_demo_scenario(
            &format!("job {key}"),
            vars["GLMOCK_SCENARIO_YAML"].as_str().expect("a scenario"),
        );
        assert_eq!(
            job["variables"]["GITLAB_URL"], "http://glmock:8080/-/sessions/$CI_JOB_ID",
            "job {key}: the tests talk to their own session"
        );
        assert_eq!(vars["GLMOCK_BASE_URL"], "http://glmock:8080");
    }
    assert_eq!(jobs, 1);
    for k in keys(&doc["variables"]) {
        assert!(doc["variables"][k].is_string(), "variables.{k}");
    }
}

#[test]
fn the_github_actions_recipe_has_a_service_with_ports_and_a_health_command() {
    let doc = read_yaml("examples/ci/github-actions.yml");
    let job = &doc["jobs"]["client-tests"];
    let service = &job["services"]["glmock"];
    for k in keys(service) {
        assert!(
            ["image", "credentials", "env", "ports", "volumes", "options"].contains(&k),
            "`{k}` is not a key of a GitHub Actions service container"
        );
    }
    assert_eq!(service["ports"], serde_json::json!(["8080:8080"]));
    let options = service["options"].as_str().unwrap();
    assert!(
        options.contains("--health-cmd \"glmock healthcheck\""),
        "{options}"
    );
    assert_glmock_vars("services.glmock.env", &service["env"]);
    assert_demo_scenario(
        "github-actions.yml",
        service["env"]["GLMOCK_SCENARIO_YAML"].as_str().unwrap(),
    );
    let steps = job["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["run"] == "python3 examples/ci/test_with_python_gitlab.py"),
        "{steps:?}"
    );
}

#[test]
fn the_compose_recipe_mounts_a_scenario_directory_that_loads() {
    let doc = read_yaml("examples/ci/docker-compose.yml");
    let glmock = &doc["services"]["glmock"];
    assert_eq!(
        glmock["volumes"],
        serde_json::json!(["./scenarios:/scenarios:ro"])
    );
    assert_glmock_vars("services.glmock.environment", &glmock["environment"]);
    assert_eq!(
        doc["services"]["tests"]["depends_on"]["glmock"]["condition"],
        "service_healthy"
    );
    // What the container does with the mounted directory.
    let dir = fixture("examples/ci/scenarios");
    let files = glmock::__internal::config::scenario_files(&[], Some(&dir)).unwrap();
    assert_eq!(files, [dir.join("demo.yaml")]);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_demo_scenario("examples/ci/scenarios/demo.yaml", &text);
}

#[test]
fn the_image_labels_the_crate_version_and_licence() {
    let dockerfile = std::fs::read_to_string(fixture("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("ARG VERSION={}\n", env!("CARGO_PKG_VERSION"))),
        "the Dockerfile's VERSION must be Cargo.toml's {}",
        env!("CARGO_PKG_VERSION")
    );
    let licence = env!("CARGO_PKG_LICENSE");
    assert!(dockerfile.contains(&format!("org.opencontainers.image.licenses=\"{licence}\"")));
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            fixture(file).is_file(),
            "{file}, named by Cargo.toml's licence, is missing"
        );
    }
    let ignore = std::fs::read_to_string(fixture(".dockerignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l == "target/"),
        "target/ stays out of the build context"
    );
}

//! How a broken scenario is reported: in reading order, with "did you mean" for near
//! misses, repeated keys and negative durations in the author's terms, a near-miss ref
//! caught, and an unreadable file named with its OS error and no made-up position.

use glmock::__internal::scenario::{self, Overrides, Source};

/// The report lines (`file:line:col: path: message`) of `yaml`, in the order given.
fn report(yaml: &str) -> Vec<String> {
    let source = Source {
        name: "s.yaml".into(),
        text: yaml.into(),
        dir: None,
    };
    match scenario::build(&[source], &Overrides::default()) {
        Ok(_) => panic!("the scenario was accepted"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn errors_come_in_file_and_position_order() {
    // Line 6 is a cross-check error (found after decoding), line 9 a decoding error: the
    // report lists them as they stand in the file, not in the order they were found.
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    pipelines:
      - id: 1
        user: nobody
        jobs:
          - id: 2
            status: bogus
            name: x
",
    );
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with("s.yaml:6:15: projects[0].pipelines[0].user: unknown user"),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("s.yaml:9:21: projects[0].pipelines[0].jobs[0].status:"),
        "{lines:#?}"
    );
}

#[test]
fn errors_of_several_files_follow_the_files_order() {
    let a = Source {
        name: "b-first.yaml".into(),
        text: "gitlab: {clock: stopped}\n".into(),
        dir: None,
    };
    let b = Source {
        name: "a-second.yaml".into(),
        text: "users: [{id: 1}]\n".into(),
        dir: None,
    };
    let e = scenario::build(&[a, b], &Overrides::default()).expect_err("broken");
    let files: Vec<&str> = e.0.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(files, ["b-first.yaml", "a-second.yaml"]);
}

#[test]
fn unknown_keys_and_values_suggest_the_near_miss() {
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    visibilty: public
    pipelines:
      - id: 1
        jobs:
          - {id: 2, name: x, status: sucess}
",
    );
    assert!(
        lines.contains(&format!(
            "s.yaml:4:5: projects[0].visibilty: unknown field, did you mean \"visibility\"? (allowed: {})",
            PROJECT_KEYS
        )),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "s.yaml:8:38: projects[0].pipelines[0].jobs[0].status: \"sucess\" is not allowed, did you mean \"success\"? (allowed: created,"
        )),
        "{lines:#?}"
    );
}

const PROJECT_KEYS: &str = "agents, branches, builds_access_level, ci, ci_job_token_scope_enabled, \
commits, created_at, default_branch, description, generate, group_ids, id, job_token_allowlist, \
job_token_policies_enabled, \
members, name, path, pipelines, public_builds, repository_access_level, statistics_refreshing, tags, \
variables, visibility";

#[test]
fn a_repeated_key_is_named_with_both_places() {
    let lines = report("projects:\n  - id: 1\n    path: a/b\n    id: 2\n");
    assert_eq!(
        lines,
        ["s.yaml:4:5: projects[0].id: \"id\" is given twice (first at line 2, column 5); keep one"]
    );
}

#[test]
fn a_negative_duration_is_called_one() {
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    pipelines:
      - id: 1
        jobs:
          - {id: 2, name: x, status: success, duration: -5, queued_duration: -0.5}
          - {id: 3, name: y, status: running, timeline: [{after: -1, status: success}]}
",
    );
    assert_eq!(
        lines,
        [
            "s.yaml:7:57: projects[0].pipelines[0].jobs[0].duration: -5 is a negative duration (expected seconds ≥ 0)",
            "s.yaml:7:78: projects[0].pipelines[0].jobs[0].queued_duration: -0.5 is a negative duration (expected seconds ≥ 0)",
            "s.yaml:8:66: projects[0].pipelines[0].jobs[1].timeline[0].after: -1 is a negative duration (expected seconds ≥ 0)",
        ]
    );
}

#[test]
fn a_pipeline_on_a_near_miss_of_a_ref_is_reported() {
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    branches: {main: 0ff3ae198f8601a285adcf5c0fff204ee6fba5fd, develop: 0ff3ae198f8601a285adcf5c0fff204ee6fba5fe}
    pipelines:
      - {id: 1, ref: mian}
      - {id: 2, ref: removed-long-ago}
",
    );
    // `removed-long-ago` is taken as a deleted branch, whose pipelines GitLab keeps.
    assert_eq!(
        lines,
        [
            "s.yaml:6:22: projects[0].pipelines[0].ref: the project has no branch \"mian\", did you mean \"main\"? (its branches: develop, main; add it under the project's branches: if it is meant)"
        ]
    );
}

#[test]
fn an_unreadable_file_is_named_with_its_os_error_and_no_position() {
    let path = std::env::temp_dir().join("glmock-no-such-scenario.yaml");
    let e = scenario::load_paths(std::slice::from_ref(&path), &Overrides::default())
        .expect_err("missing");
    let text = e.to_string();
    let line = format!(
        "  {}: cannot read the file: No such file or directory (os error 2)",
        path.display()
    );
    assert!(text.lines().any(|l| l == line), "{text}");
    assert!(!text.contains(":0:0"), "{text}");
}

#[test]
fn a_bad_only_variables_expression_is_located() {
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    ci:
      jobs:
        - {name: t, only: {variables: [STAGING]}}
",
    );
    assert_eq!(
        lines,
        [
            "s.yaml:6:40: projects[0].ci.jobs[0].only.variables[0]: \"STAGING\" is not a variable (write $NAME)"
        ]
    );
}

#[test]
fn a_timeline_step_takes_after_or_after_polls_not_both() {
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    pipelines:
      - id: 1
        jobs:
          - id: 2
            name: x
            status: pending
            timeline:
              - {after_polls: 2, after: 5, status: running}
              - {status: success}
",
    );
    assert_eq!(
        lines,
        [
            "s.yaml:11:41: projects[0].pipelines[0].jobs[0].timeline[0].after: give either after or after_polls, not both",
            "s.yaml:12:17: projects[0].pipelines[0].jobs[0].timeline[1].after: is required but missing",
        ]
    );
}

#[test]
fn ci_inputs_errors_are_located() {
    let lines = report(
        r#"projects:
  - id: 1
    path: a/b
    ci:
      stages: [build]
      spec:
        inputs:
          prefix: {default: my}
          count: {type: number, default: "2"}
          version: {regex: '^\d+$', default: "1"}
          flag: {type: boolean, options: [true]}
          level: {type: level}
          one: {type: number, default: 1}
      jobs:
        - name: "$[[ inputs.prefx ]]-build"
        - name: "$[[ inputs.prefix | expand_vars ]]"
        - {name: x, stage: build, parallel: "$[[ inputs.one ]]"}
        - {name: y, stage: "$[[ inputs.prefix ]]"}
        - {name: z, stage: build, only: [main], rules: [{when: always}]}
"#,
    );
    let expected = [
        "s.yaml:9:42: projects[0].ci.spec.inputs.count.default: `count` input: default value is not a number",
        "s.yaml:10:28: projects[0].ci.spec.inputs.version.regex: regex is not supported: glmock has no regular expression engine (remove it, or use options to list the allowed values)",
        "s.yaml:11:42: projects[0].ci.spec.inputs.flag.options: options can only be used with string and number inputs",
        "s.yaml:12:25: projects[0].ci.spec.inputs.level.type: \"level\" is not allowed (allowed: array, boolean, number, string)",
        "s.yaml:15:17: projects[0].ci.jobs[0].name: unknown interpolation key: `prefx`, did you mean \"prefix\"? (declared inputs: prefix, count, version, flag, level, one)",
        "s.yaml:16:17: projects[0].ci.jobs[1].name: interpolation functions are not supported by glmock (\"inputs.prefix | expand_vars\"); write the value",
        "s.yaml:17:45: projects[0].ci.jobs[2].parallel: parallel must be 2 to 200, found 1",
        "s.yaml:18:28: projects[0].ci.jobs[3].stage: stage \"my\" is not in stages (allowed: build)",
        "s.yaml:19:41: projects[0].ci.jobs[4].only: only may not be used with rules (write the condition as a rule)",
    ];
    for (got, want) in lines.iter().zip(expected) {
        assert!(
            got.starts_with(want),
            "got  {got}\nwant {want}\nall {lines:#?}"
        );
    }
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
}

#[test]
fn ci_interpolation_without_inputs_is_located() {
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    ci:
      jobs:
        - {name: build, parallel: \"$[[ inputs.n ]]\"}
",
    );
    assert!(
        lines[0].starts_with(
            "s.yaml:6:35: projects[0].ci.jobs[0].parallel: $[[ inputs.n ]] reads an input, but the CI definition has no spec: inputs (declare n there)"
        ),
        "{lines:#?}"
    );
}

#[test]
fn an_unknown_job_token_policy_suggests_the_near_miss() {
    let lines = report(
        "projects:
  - id: 1
    path: a/b
    job_token_allowlist:
      - {project: a/b, default_permissions: false, job_token_policies: [read_job]}
",
    );
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with(
            "s.yaml:5:73: projects[0].job_token_allowlist[0].job_token_policies[0]: \"read_job\" is not allowed, did you mean \"read_jobs\"? (allowed: read_containers, admin_containers,"
        ),
        "{lines:#?}"
    );
}

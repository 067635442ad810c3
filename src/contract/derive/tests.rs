use super::*;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed_overlay() -> Value {
    let text = std::fs::read_to_string(crate_dir().join("schemas/overlay.json"))
        .expect("schemas/overlay.json");
    serde_json::from_str(&text).expect("the overlay is JSON")
}

fn kinds(notes: &[Note]) -> Vec<NoteKind> {
    notes.iter().map(|n| n.kind).collect()
}

fn prop<'a>(schema: &'a Value, name: &str) -> &'a Value {
    &schema["properties"][name]
}

fn required(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

// --- extraction ---------------------------------------------------------------------

const MARKDOWN: &str = r#"---
stage: Verify
---

# Jobs API

## Get a single job

```plaintext
GET /projects/:id/jobs/:job_id
```

```shell
curl --header "PRIVATE-TOKEN: <your_access_token>" "https://gitlab.example.com/api/v4/projects/1/jobs/8"
```

Example of response

```json
{
  "id": 8,
  "status": "failed"
}
```

## Run a job

```plaintext
POST /projects/:id/jobs/:job_id/play
```

```shell
curl --request POST --data @variables.json "https://gitlab.example.com/api/v4/projects/1/jobs/1/play"
```

`@variables.json` is structured like:

```json
{ "job_variables_attributes": [{ "key": "A", "value": "1" }] }
```

Example response:

```json
{ "id": 1, "status": "pending" }
```

## Get a log file

```plaintext
GET /projects/:id/jobs/:job_id/trace
```
"#;

#[test]
fn extracts_markdown_examples_under_their_endpoint() {
    let (examples, notes) = extract_with_notes("jobs.md", MARKDOWN);

    assert_eq!(examples.len(), 2, "{examples:#?}");
    let single = &examples[0];
    assert_eq!(
        (single.method.as_str(), single.path.as_str()),
        ("GET", "/projects/:id/jobs/:job_id")
    );
    assert_eq!(single.status, 200);
    assert_eq!(single.json, json!({ "id": 8, "status": "failed" }));
    assert_eq!(single.source, "jobs.md:20");
    assert_eq!(single.shape(), Some("job"));
    let play = &examples[1];
    assert_eq!(play.path, "/projects/:id/jobs/:job_id/play");
    assert_eq!(play.status, 200, "play answers 200, not 201");
    assert_eq!(play.json["status"], "pending");
    assert_eq!(kinds(&notes), vec![NoteKind::RequestBody], "{notes:#?}");
}

/// The shape of GitLab's current Markdown: Hugo shortcodes, tables, shell fences holding
/// JSON request data, and `Example of response` fences.
const MARKDOWN_NEW: &str = r#"---
title: Pipelines API
---

{{< details >}}

- Tier: Free

{{< /details >}}

## Create a new pipeline

{{< history >}}

- `iid` in response introduced in GitLab 14.6.

{{< /history >}}

```plaintext
POST /projects/:id/pipeline
```

| Attribute | Type   | Required | Description |
|-----------|--------|----------|-------------|
| `ref`     | string | Yes      | The branch. |

```shell
curl --request POST \
  --data '{"inputs": {"level": 3}}' \
  "https://gitlab.example.com/api/v4/projects/1/pipeline?ref=main"
```

Example of response

```json
{
  "id": 61,
  "status": "pending"
}
```
"#;

#[test]
fn extracts_current_gitlab_markdown_with_shortcodes() {
    let (examples, notes) = extract_with_notes("pipelines.md", MARKDOWN_NEW);

    assert!(notes.is_empty(), "{notes:#?}");
    assert_eq!(examples.len(), 1);
    assert_eq!(examples[0].path, "/projects/:id/pipeline");
    assert_eq!(examples[0].status, 201);
    assert_eq!(examples[0].shape(), Some("pipeline"));
    assert_eq!(examples[0].json, json!({ "id": 61, "status": "pending" }));
}

#[test]
fn extracts_plain_text_renderings_without_fences() {
    let page = "ジョブをキャンセルする\n\nPOST /projects/:id/jobs/:job_id/cancel\n属性必須説明\n\
                curl --request POST \\\n  --url \"https://gitlab.example.com/api/v4/projects/1/jobs/1/cancel\"\n\n\
                応答の例:\n\n{\n  \"id\": 1,\n  \"status\": \"canceled\"\n}\n\nパイプラインの取得\n\n\
                GET /projects/:id/pipelines/:pipeline_id\n\nレスポンスの例\n\n[\n  {\"id\": 46}\n]\n";

    let examples = extract("page.txt", page);

    assert_eq!(examples.len(), 2);
    assert_eq!(examples[0].method, "POST");
    assert_eq!(examples[0].status, 201, "cancel answers 201");
    assert_eq!(examples[0].json, json!({ "id": 1, "status": "canceled" }));
    assert_eq!(examples[0].source, "page.txt:10");
    assert_eq!(examples[1].path, "/projects/:id/pipelines/:pipeline_id");
    assert_eq!(examples[1].json, json!([{ "id": 46 }]));
}

#[test]
fn strips_timestamp_lines_of_a_blame_view() {
    let page = "2017-03-06 04:24:03 -05:00\n# Jobs API\n2020-02-27 04:09:01 -05:00\n```plaintext\n\
                2017-03-06 04:24:03 -05:00\nGET /job\n2016-01-05 10:36:14 -05:00\n```\nExample of response\n\
                2017-03-06 10:56:05 -05:00\n```json\n{\n\"id\": 8,\n2019-05-21 05:21:53 -04:00\n\"allow_failure\": false\n}\n```\n";

    let (examples, notes) = extract_with_notes("blame.md", page);

    assert_eq!(examples.len(), 1, "{notes:#?}");
    assert_eq!(examples[0].path, "/job");
    assert_eq!(examples[0].json, json!({ "id": 8, "allow_failure": false }));
    assert_eq!(
        examples[0].source, "blame.md:12",
        "lines of the page as given"
    );
    assert_eq!(kinds(&notes), vec![NoteKind::TimestampLines]);
}

#[test]
fn a_page_that_mentions_one_date_keeps_it() {
    let page = "GET /job\n\n2020-08-04 02:10:16 -04:00\n\n{\"id\": 1}\n";
    let (examples, notes) = extract_with_notes("p.txt", page);
    assert_eq!(examples.len(), 1);
    assert!(notes.is_empty(), "{notes:#?}");
}

#[test]
fn timestamp_lines_are_recognised_in_their_usual_forms() {
    for yes in [
        "2020-08-04 02:10:16 -04:00",
        "2020-08-04T02:10:16Z",
        "2020-08-04 02:10:16.123 +0200",
        " 2020-08-04 02:10:16 ",
    ] {
        assert!(extract::is_timestamp_line(yes), "{yes}");
    }
    for no in [
        "2020-08-04",
        "\"created_at\": \"2020-08-04T02:10:16Z\"",
        "2020-08-04 02:10:16 hello",
    ] {
        assert!(!extract::is_timestamp_line(no), "{no}");
    }
}

#[test]
fn endpoint_lines_are_normalised() {
    let page = "GET /api/v4/projects/{id}/jobs?scope=running\n\n{\"a\": 1}\n";
    let examples = extract("p.txt", page);
    assert_eq!(examples[0].path, "/projects/:id/jobs");
    assert_eq!(
        shape_for("GET", "/api/v4/projects/{id}/jobs"),
        Some("job_list")
    );
    assert_eq!(shape_for("GET", "/projects/:id/jobs/:job_id/trace"), None);
}

#[test]
fn json_before_any_endpoint_is_skipped_with_a_note() {
    let (examples, notes) = extract_with_notes("p.txt", "Example response\n{\"id\": 1}\n");
    assert!(examples.is_empty());
    assert_eq!(kinds(&notes), vec![NoteKind::NoEndpoint]);
}

#[test]
fn prose_lines_in_brackets_are_not_taken_for_json() {
    let page = "GET /job\n[Introduced](https://example.com) in GitLab 13.10.\n\n{\"id\": 1}\n";
    let (examples, notes) = extract_with_notes("p.txt", page);
    assert_eq!(examples.len(), 1);
    assert!(notes.is_empty(), "{notes:#?}");
}

// --- document defects -----------------------------------------------------------------

#[test]
fn repairs_a_trailing_comma_and_says_where() {
    let page = "GET /job\n\n{\n  \"runner_manager\": {\n    \"ip_address\": \"127.0.0.1\",\n  },\n  \"tags\": [1, 2,]\n}\n";

    let (examples, notes) = extract_with_notes("p.txt", page);

    assert_eq!(
        examples[0].json,
        json!({ "runner_manager": { "ip_address": "127.0.0.1" }, "tags": [1, 2] })
    );
    let commas: Vec<&str> = notes
        .iter()
        .filter(|n| n.kind == NoteKind::TrailingComma)
        .map(|n| n.source.as_str())
        .collect();
    assert_eq!(commas, vec!["p.txt:5", "p.txt:7"]);
}

#[test]
fn keeps_the_last_value_of_a_duplicate_key() {
    let page = "GET /job\n\n{\n\"artifacts\": [{\"file_type\": \"archive\"}],\n\"id\": 7,\n\"artifacts\": []\n}\n";

    let (examples, notes) = extract_with_notes("p.txt", page);

    assert_eq!(examples[0].json, json!({ "id": 7, "artifacts": [] }));
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].kind, NoteKind::DuplicateKey);
    assert_eq!(notes[0].source, "p.txt:6");
    assert!(notes[0].message.contains("\"artifacts\""));
}

#[test]
fn broken_json_is_reported_not_guessed() {
    let page = "GET /job\n\n```json\n{\n  \"id\": 1\n  \"name\": \"x\"\n}\n```\n";
    let (examples, notes) = extract_with_notes("p.md", page);
    assert!(examples.is_empty());
    assert_eq!(kinds(&notes), vec![NoteKind::NotJson]);
    assert_eq!(notes[0].source, "p.md:6");
}

#[test]
fn lenient_parser_keeps_numbers_as_written() {
    let (v, repairs) = lenient::parse(
        "{\"a\": 8, \"b\": 97.0, \"c\": 0.010, \"d\": -1, \"e\": 1e3, \"s\": \"\\u00e9\\n\"}",
    )
    .expect("JSON");
    assert!(repairs.is_empty());
    assert!(v["a"].is_i64() && v["d"].is_i64());
    assert!(v["b"].is_f64() && v["c"].is_f64() && v["e"].is_f64());
    assert_eq!(v["s"], "é\n");
    assert!(lenient::parse("{\"a\": 1} trailing").is_err());
    assert!(lenient::parse("[1, , 2]").is_err());
}

fn one_shape_overlay() -> Value {
    json!({
        "value_lists": { "status_values": ["pending", "failed", "success"] },
        "defs": {
            "job": {
                "enum": { "status": "status_values" },
                "reject": { "download_url": "never exposed" }
            }
        }
    })
}

fn job_example(source: &str, body: Value) -> Example {
    Example {
        method: "GET".into(),
        path: "/projects/:id/jobs/:job_id".into(),
        status: 200,
        json: body,
        source: source.into(),
    }
}

#[test]
fn drops_known_wrong_values_without_learning_them() {
    let examples = vec![
        job_example(
            "a:1",
            json!({ "id": 1, "status": "started", "download_url": null }),
        ),
        job_example("a:2", json!({ "id": 2, "status": "failed" })),
    ];

    let derived = derive_from_examples(&examples, &one_shape_overlay());

    let job = &derived.schemas["job"]["$defs"]["job"];
    assert!(
        prop(job, "download_url").is_null(),
        "rejected property is not in the schema"
    );
    assert_eq!(job["additionalProperties"], json!(false));
    assert_eq!(
        prop(job, "status")["enum"],
        json!(["pending", "failed", "success"])
    );
    assert_eq!(prop(job, "status")["type"], "string");
    assert!(
        required(job).contains(&"status"),
        "a rejected value still counts as present"
    );
    let wrong: Vec<&str> = derived
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::KnownWrong)
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(wrong.len(), 2, "{wrong:#?}");
    assert!(wrong.iter().any(|m| m.contains("download_url")));
    assert!(wrong.iter().any(|m| m.contains("\"started\"")));
    // The examples file keeps what the docs printed.
    assert_eq!(
        derived.examples["job"]["examples"][0]["body"]["status"],
        "started"
    );
}

// --- merge rules ------------------------------------------------------------------------

#[test]
fn a_field_in_every_example_is_required() {
    let a = json!({ "id": 1, "name": "a" });
    let b = json!({ "id": 2 });
    let s = infer(&[&a, &b]);
    assert_eq!(required(&s), vec!["id"]);
    assert_eq!(prop(&s, "name")["type"], "string");
    assert_eq!(s["additionalProperties"], json!(false));
}

#[test]
fn null_seen_makes_a_field_nullable() {
    let a = json!({ "finished_at": null });
    let b = json!({ "finished_at": "2016-01-11T10:15:10.506Z" });
    let s = infer(&[&a, &b]);
    assert_eq!(prop(&s, "finished_at")["type"], json!(["null", "string"]));
    assert_eq!(prop(&s, "finished_at")["format"], "date-time");
    let only_null = infer(&[&a]);
    assert_eq!(prop(&only_null, "finished_at"), &json!({ "type": "null" }));
}

#[test]
fn integer_and_float_merge_to_number() {
    let (a, b, c) = (
        json!({ "d": 8 }),
        json!({ "d": 0.173 }),
        json!({ "d": 97.0 }),
    );
    assert_eq!(prop(&infer(&[&a, &b]), "d")["type"], "number");
    assert_eq!(prop(&infer(&[&a]), "d")["type"], "integer");
    assert_eq!(
        prop(&infer(&[&c]), "d")["type"],
        "number",
        "97.0 is written as a float"
    );
}

#[test]
fn nested_objects_merge_recursively() {
    let a = json!({ "pipeline": { "id": 6, "ref": "main" } });
    let b = json!({ "pipeline": { "id": 7, "web_url": "https://example.com/p/7" } });
    let s = infer(&[&a, &b]);
    let p = prop(&s, "pipeline");
    assert_eq!(p["type"], "object");
    assert_eq!(required(p), vec!["id"]);
    assert_eq!(p["properties"].as_object().map(|o| o.len()), Some(3));
    assert_eq!(p["additionalProperties"], json!(false));
}

#[test]
fn arrays_of_objects_merge_their_items() {
    let a = json!({ "artifacts": [{ "file_type": "archive", "size": 1000 }, { "file_type": "trace", "size": null }] });
    let b = json!({ "artifacts": [] });
    let c = json!({ "artifacts": [{ "file_type": "junit", "file_format": "gzip" }] });
    let s = infer(&[&a, &b, &c]);
    let items = &prop(&s, "artifacts")["items"];
    assert_eq!(prop(&s, "artifacts")["type"], "array");
    assert_eq!(required(items), vec!["file_type"]);
    assert_eq!(prop(items, "size")["type"], json!(["integer", "null"]));
    assert_eq!(prop(items, "file_format")["type"], "string");
}

#[test]
fn date_time_only_when_every_string_fits() {
    let ok = [
        json!("2015-12-24T15:51:21.880Z"),
        json!("2015-12-24T16:51:14.000+01:00"),
        json!("2022-09-21T01:05:07Z"),
    ];
    let refs: Vec<&Value> = ok.iter().collect();
    assert_eq!(infer(&refs)["format"], "date-time");
    let mixed = [json!("2015-12-24T15:51:21.880Z"), json!("yesterday")];
    let refs: Vec<&Value> = mixed.iter().collect();
    assert!(infer(&refs).get("format").is_none());
    for no in [
        "2015-12-24 15:51:21Z",
        "2015-13-24T15:51:21Z",
        "2015-12-24T15:51:21",
        "16.11.1",
        "",
    ] {
        assert!(!infer::is_date_time(no), "{no}");
    }
}

#[test]
fn enumerations_come_from_the_documented_list_not_the_examples() {
    let inferred = infer(&[
        &json!({ "status": "failed" }),
        &json!({ "status": "failed" }),
    ]);
    assert!(
        prop(&inferred, "status").get("enum").is_none(),
        "inference never makes an enum"
    );

    let examples = vec![job_example("a:1", json!({ "status": "failed" }))];
    let derived = derive_from_examples(&examples, &one_shape_overlay());
    let status = prop(&derived.schemas["job"]["$defs"]["job"], "status");
    assert_eq!(status["enum"], json!(["pending", "failed", "success"]));
}

#[test]
fn nested_entities_share_one_definition() {
    let list = Example {
        method: "GET".into(),
        path: "/projects/:id/jobs".into(),
        status: 200,
        json: json!([{ "id": 1, "user": { "id": 1, "bio": null } }]),
        source: "a:1".into(),
    };
    let single = job_example("a:9", json!({ "id": 2, "user": null, "extra": true }));
    let bridges = Example {
        method: "GET".into(),
        path: "/projects/:id/pipelines/:pipeline_id/bridges".into(),
        status: 200,
        json: json!([{ "id": 3, "user": { "id": 2, "bio": "hi" } }]),
        source: "a:20".into(),
    };

    let derived = derive_from_examples(&[list, single, bridges], &json!({}));

    let job_list = &derived.schemas["job_list"];
    assert_eq!(job_list["type"], "array");
    assert_eq!(job_list["items"], json!({ "$ref": "#/$defs/job" }));
    let job = &job_list["$defs"]["job"];
    assert_eq!(
        required(job),
        vec!["id", "user"],
        "both the list item and the single job feed `job`"
    );
    assert!(job["properties"].get("extra").is_some());
    assert_eq!(
        prop(job, "user"),
        &json!({ "anyOf": [{ "$ref": "#/$defs/user" }, { "type": "null" }] })
    );
    // The user definition merges the users of jobs and bridges.
    let user = &job_list["$defs"]["user"];
    assert_eq!(prop(user, "bio")["type"], json!(["null", "string"]));
    assert_eq!(derived.schemas["job"]["$ref"], "#/$defs/job");
    assert_eq!(derived.schemas["job"]["$defs"]["user"], *user);
    assert!(
        job_list["$defs"].get("pipeline").is_none(),
        "only reachable definitions are embedded"
    );
}

// --- overlay ----------------------------------------------------------------------------

#[test]
fn overlay_corrections_apply_after_inference() {
    let examples = vec![
        job_example(
            "a:1",
            json!({ "id": 1, "queued_duration": 0.01, "user": { "id": 1 }, "project": { "x": true }, "runner": null }),
        ),
        job_example(
            "a:2",
            json!({ "id": 2, "queued_duration": 0.02, "user": { "id": 2 }, "project": { "x": false }, "runner": null }),
        ),
    ];
    let overlay = json!({
        "defs": {
            "shared": {
                "nullable": { "user": "no user" },
                "optional": { "queued_duration": "old versions" }
            },
            "job": {
                "$comment": "the job",
                "include": ["shared"],
                "properties": {
                    "queued_duration": { "type": ["integer", "null"] },
                    "archived": { "type": "boolean" },
                    "project.y": { "type": "string" },
                    "runner": { "type": ["null", "object"] }
                },
                "required": { "archived": "always there", "project.y": "always there" },
                "since": { "archived": "17.0" },
                "until": { "queued_duration": "99.0" }
            }
        }
    });

    let derived = derive_from_examples(&examples, &overlay);

    let job = &derived.schemas["job"]["$defs"]["job"];
    assert_eq!(job["$comment"], "the job");
    assert_eq!(
        prop(job, "queued_duration")["type"],
        json!(["integer", "null"])
    );
    assert_eq!(prop(job, "queued_duration")["x-until"], "99.0");
    assert!(!required(job).contains(&"queued_duration"));
    assert_eq!(
        prop(job, "archived"),
        &json!({ "type": "boolean", "x-since": "17.0", "$comment": "always there" })
    );
    assert!(required(job).contains(&"archived"));
    assert_eq!(required(prop(job, "project")), vec!["x", "y"]);
    assert_eq!(
        prop(job, "user"),
        &json!({ "anyOf": [{ "$ref": "#/$defs/user" }, { "type": "null" }], "$comment": "no user" })
    );
    assert!(
        derived.notes.iter().all(|n| n.kind != NoteKind::Overlay),
        "{:#?}",
        derived.notes
    );
}

#[test]
fn overlay_entries_that_name_nothing_are_reported() {
    let examples = vec![job_example("a:1", json!({ "id": 1 }))];
    let overlay = json!({ "defs": { "job": { "required": { "idd": "typo" }, "enum": { "id": "no_such_list" } } } });
    let derived = derive_from_examples(&examples, &overlay);
    let overlay_notes: Vec<&Note> = derived
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::Overlay)
        .collect();
    assert_eq!(overlay_notes.len(), 2, "{overlay_notes:#?}");
}

#[test]
fn overlay_shapes_are_written_with_the_common_header() {
    let overlay =
        json!({ "shapes": { "error_error": { "type": "object", "required": ["error"] } } });
    let derived = derive_from_examples(&[], &overlay);
    let s = &derived.schemas["error_error"];
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(
        s["$id"],
        "https://glmock.dev/schemas/error_error.schema.json"
    );
    assert_eq!(s["title"], "GitLab API response: error_error");
    assert_eq!(s["required"], json!(["error"]));
}

#[test]
fn versioned_properties_leave_required_before_their_version() {
    let schema = json!({
        "type": "object",
        "properties": {
            "a": { "type": "string", "x-since": "17.0" },
            "b": { "type": "string", "x-until": "16.0" },
            "n": { "type": "object", "properties": { "c": { "x-since": "14.6" } }, "required": ["c"] }
        },
        "required": ["a", "b", "n"]
    });
    assert_eq!(
        required(&schema_for_version(&schema, 15, 9)),
        vec!["b", "n"]
    );
    assert_eq!(required(&schema_for_version(&schema, 16, 11)), vec!["n"]);
    assert_eq!(
        required(&schema_for_version(&schema, 17, 0)),
        vec!["a", "n"]
    );
    assert_eq!(
        required(prop(&schema_for_version(&schema, 14, 5), "n")),
        Vec::<&str>::new()
    );
    assert_eq!(
        required(prop(&schema_for_version(&schema, 14, 6), "n")),
        vec!["c"]
    );
}

// --- output -----------------------------------------------------------------------------

#[test]
fn canonical_output_sorts_keys_and_ends_with_a_newline() {
    let text =
        to_canonical_string(&json!({ "b": 1, "a": { "d": [3, { "z": 1, "y": 2 }], "c": null } }));
    assert_eq!(
        text,
        "{\n  \"a\": {\n    \"c\": null,\n    \"d\": [\n      3,\n      {\n        \"y\": 2,\n        \"z\": 1\n      }\n    ]\n  },\n  \"b\": 1\n}\n"
    );
}

#[test]
fn derivation_is_deterministic() {
    let overlay = committed_overlay();
    let examples = read_examples(&crate_dir().join("schemas")).expect("committed examples");
    let mut shuffled = examples.clone();
    shuffled.reverse();

    let first = files(&derive_from_examples(&examples, &overlay));
    let second = files(&derive_from_examples(&shuffled, &overlay));

    assert_eq!(first, second);
}

#[test]
fn write_round_trips_through_the_examples_directory() {
    let dir = std::env::temp_dir().join(format!("glmock-derive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("scenario.schema.json"), "{}\n").expect("a file derive must not touch");
    std::fs::write(
        dir.join("gone.schema.json"),
        format!("{{\"$comment\": {}}}\n", json!(GENERATED)),
    )
    .expect("a stale generated file");
    let overlay = committed_overlay();
    let derived = derive(&[("001.md".into(), MARKDOWN.into())], &overlay);

    write(&dir, &derived).expect("write");
    let again = derive_from_examples(&read_examples(&dir).expect("read back"), &overlay);

    assert_eq!(files(&again), files(&derived));
    assert!(stale(&dir, &again).expect("stale").is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.join("scenario.schema.json")).expect("kept"),
        "{}\n"
    );
    assert!(
        !dir.join("gone.schema.json").exists(),
        "generated files of vanished shapes are removed"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// The committed schemas are exactly what the committed examples and overlay derive.
#[test]
fn committed_schemas_are_up_to_date() {
    let dir = crate_dir().join("schemas");
    let examples = read_examples(&dir).expect("schemas/examples/");
    assert!(
        examples.len() >= 20,
        "the documented examples are committed ({} found)",
        examples.len()
    );

    let derived = derive_from_examples(&examples, &committed_overlay());
    let stale = stale(&dir, &derived).expect("reading schemas/");

    assert!(
        stale.is_empty(),
        "schemas/ is stale: {stale:?}. Derive again (`glmock schemas derive --docs … --out schemas/`)."
    );
    let problems: Vec<String> = derived
        .notes
        .iter()
        .filter(|n| matches!(n.kind, NoteKind::Overlay | NoteKind::Inference))
        .map(ToString::to_string)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn committed_schemas_compile_as_draft_2020_12() {
    let dir = crate_dir().join("schemas");
    let derived = derive_from_examples(
        &read_examples(&dir).expect("examples"),
        &committed_overlay(),
    );
    for (shape, schema) in &derived.schemas {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(schema)
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
    }
    let expected = [
        "allowed_agents",
        "bridge",
        "bridge_list",
        "error_error",
        "error_message",
        "job",
        "job_list",
        "pipeline",
        "pipeline_list",
        "pipeline_variables",
        "test_report",
        "test_report_summary",
    ];
    assert_eq!(
        derived
            .schemas
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        expected
    );
}

// --- by hand ----------------------------------------------------------------------------

/// Derives from the documentation pages in `GLMOCK_DOCS` (a directory; default
/// `../shared/seeds`) and writes `GLMOCK_OUT` (default `schemas/`), printing the notes:
/// `cargo test --lib derive_from_docs_and_write -- --ignored --nocapture`.
#[test]
#[ignore = "writes schemas/; run by hand after changing the overlay or the pages"]
fn derive_from_docs_and_write() {
    let dir = std::env::var("GLMOCK_DOCS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate_dir().join("../shared/seeds"));
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("docs directory") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".txt") || (name.ends_with(".md") && name != "README.md") {
            docs.push((name, std::fs::read_to_string(&path).expect("page")));
        }
    }
    let overlay = match std::env::var("GLMOCK_OVERLAY") {
        Ok(p) => serde_json::from_str(&std::fs::read_to_string(p).expect("overlay"))
            .expect("overlay JSON"),
        Err(_) => committed_overlay(),
    };
    let out = std::env::var("GLMOCK_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate_dir().join("schemas"));
    let derived = derive(&docs, &overlay);
    for n in &derived.notes {
        println!("note: {n}");
    }
    write(&out, &derived).expect("write");
}

/// Validates saved responses against the committed schemas. `GLMOCK_RESPONSES` lists
/// directories (`:`-separated), each optionally `DIR@MAJOR.MINOR`; every file in them is
/// `<shape>__<anything>.json`:
/// `GLMOCK_RESPONSES=/tmp/resp@18.5 cargo test --lib validate_saved_responses -- --ignored --nocapture`.
#[test]
#[ignore = "needs saved responses; run by hand"]
fn validate_saved_responses() {
    let spec = std::env::var("GLMOCK_RESPONSES").expect("GLMOCK_RESPONSES");
    let schemas = crate_dir().join("schemas");
    let mut violations = 0;
    for entry in spec.split(':') {
        let (dir, version) = match entry.split_once('@') {
            Some((d, v)) => {
                let (ma, mi) = v.split_once('.').expect("MAJOR.MINOR");
                (
                    d,
                    Some((
                        ma.parse::<u32>().expect("major"),
                        mi.parse::<u32>().expect("minor"),
                    )),
                )
            }
            None => (entry, None),
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("responses directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let name = file
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let shape = name.split("__").next().expect("shape prefix");
            let schema_text = std::fs::read_to_string(schemas.join(format!("{shape}.schema.json")))
                .expect("schema");
            let mut schema: Value = serde_json::from_str(&schema_text).expect("schema JSON");
            if let Some((ma, mi)) = version {
                schema = schema_for_version(&schema, ma, mi);
            }
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&schema)
                .expect("schema compiles");
            let body: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("body"))
                .expect("body JSON");
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| format!("{} {}", e.instance_path(), e))
                .collect();
            println!(
                "{} {dir}/{name}: {}",
                if errors.is_empty() { "ok  " } else { "FAIL" },
                errors.len()
            );
            for e in &errors {
                println!("      {e}");
            }
            violations += errors.len();
        }
    }
    println!("{violations} violations");
}

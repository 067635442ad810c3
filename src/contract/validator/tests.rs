use serde_json::json;

use super::*;

fn compile(schema: Value) -> Validator {
    Validator::new(&schema).unwrap_or_else(|e| panic!("{schema}: {e}"))
}

/// Whether `instance` is valid; `is_valid` and `errors` must agree, and so must
/// `is_valid` on the instance's text parsed as a `doc::Doc`.
fn valid(schema: Value, instance: Value) -> bool {
    let v = compile(schema);
    let fast = v.is_valid(&instance);
    assert_eq!(fast, v.errors(&instance).is_empty(), "{instance}");
    assert_eq!(from_text(&v, &instance), fast, "{instance} as text");
    fast
}

/// `is_valid` of the instance's serialized text, read by the validation-only parser.
fn from_text(v: &Validator, instance: &Value) -> bool {
    v.is_valid_json(instance.to_string().as_bytes())
        .unwrap_or_else(|| panic!("the parser refused {instance}"))
}

/// `(instance path, schema path, message)` of every error.
fn errors(schema: Value, instance: Value) -> Vec<(String, String, String)> {
    let v = compile(schema);
    let found: Vec<_> = v
        .errors(&instance)
        .into_iter()
        .map(|e| (e.instance_path, e.schema_path, e.message))
        .collect();
    assert_eq!(v.is_valid(&instance), found.is_empty());
    assert_eq!(
        from_text(&v, &instance),
        found.is_empty(),
        "{instance} as text"
    );
    found
}

fn one(path: &str, schema: &str, message: &str) -> Vec<(String, String, String)> {
    vec![(path.to_owned(), schema.to_owned(), message.to_owned())]
}

fn refused(schema: Value) -> CompileError {
    Validator::new(&schema).expect_err("refused")
}

#[test]
fn type_single_and_several_with_integers_the_draft_2020_12_way() {
    assert!(valid(json!({"type": "integer"}), json!(1)));
    assert!(valid(json!({"type": "integer"}), json!(1.0)));
    assert!(valid(json!({"type": "integer"}), json!(-3)));
    assert!(!valid(json!({"type": "integer"}), json!(1.5)));
    assert!(valid(json!({"type": "number"}), json!(1)));
    assert!(!valid(json!({"type": "number"}), json!("1")));
    assert!(valid(json!({"type": ["null", "string"]}), json!(null)));
    assert!(!valid(json!({"type": "object"}), json!([])));
    assert!(!valid(json!({"type": "array"}), json!({})));
    assert!(!valid(json!({"type": "boolean"}), json!(0)));
    assert_eq!(
        errors(json!({"type": "string"}), json!(null)),
        one("", "/type", "null is not of type \"string\"")
    );
    // Listed in jsonschema's order, whatever the schema's.
    assert_eq!(
        errors(json!({"type": ["number", "null"]}), json!("high")),
        one("", "/type", "\"high\" is not of types \"null\", \"number\"")
    );
    assert_eq!(
        errors(json!({"type": ["string"]}), json!(1)),
        one("", "/type", "1 is not of type \"string\"")
    );
}

#[test]
fn properties_required_and_additional_properties() {
    let schema = json!({
        "type": "object",
        "properties": {"a": {"type": "string"}, "b/c": {"type": "integer"}},
        "required": ["a", "z"],
        "additionalProperties": false
    });
    assert!(!valid(schema.clone(), json!({"a": "x", "z": 1})));
    assert_eq!(
        errors(schema.clone(), json!({"a": 1, "b/c": "no", "x": 1, "y": 2})),
        vec![
            (
                "".into(),
                "/required".into(),
                "\"z\" is a required property".into()
            ),
            (
                "/a".into(),
                "/properties/a/type".into(),
                "1 is not of type \"string\"".into()
            ),
            (
                "/b~1c".into(),
                "/properties/b~1c/type".into(),
                "\"no\" is not of type \"integer\"".into()
            ),
            (
                "".into(),
                "/additionalProperties".into(),
                "Additional properties are not allowed ('x', 'y' were unexpected)".into()
            ),
        ]
    );
    assert_eq!(
        errors(
            json!({"properties": {}, "additionalProperties": false}),
            json!({"x": 1})
        ),
        one(
            "",
            "/additionalProperties",
            "Additional properties are not allowed ('x' was unexpected)"
        )
    );
    // A schema for the others; `true` allows anything; non-objects pass.
    let typed = json!({"properties": {"a": true}, "additionalProperties": {"type": "string"}});
    assert!(valid(typed.clone(), json!({"a": 1, "b": "s"})));
    assert_eq!(
        errors(typed, json!({"b": 2})),
        one(
            "/b",
            "/additionalProperties/type",
            "2 is not of type \"string\""
        )
    );
    assert!(valid(
        json!({"additionalProperties": true}),
        json!({"q": 1})
    ));
    assert!(valid(json!({"required": ["a"]}), json!([1])));
}

#[test]
fn items_and_prefix_items() {
    let schema = json!({"items": {"type": "integer"}});
    assert!(valid(schema.clone(), json!([1, 2])));
    assert_eq!(
        errors(schema, json!([1, "x"])),
        one("/1", "/items/type", "\"x\" is not of type \"integer\"")
    );
    let tuple = json!({"prefixItems": [{"type": "string"}], "items": {"type": "null"}});
    assert!(valid(tuple.clone(), json!(["a", null, null])));
    assert!(!valid(tuple.clone(), json!([1])));
    assert_eq!(
        errors(tuple, json!(["a", 1])),
        one("/1", "/items/type", "1 is not of type \"null\"")
    );
    assert!(valid(
        json!({"prefixItems": [{"type": "string"}]}),
        json!(["a", 1])
    ));
    assert_eq!(
        errors(json!({"items": false}), json!([1])),
        one("/0", "/items", "False schema does not allow 1")
    );
}

#[test]
fn enum_and_const_compare_numbers_by_value() {
    assert!(valid(json!({"enum": ["a", 1]}), json!(1.0)));
    assert!(valid(
        json!({"const": {"a": [1, 2]}}),
        json!({"a": [1.0, 2]})
    ));
    assert!(!valid(json!({"const": [1, 2]}), json!([2, 1])));
    assert_eq!(
        errors(json!({"enum": ["a", "b"]}), json!("x")),
        one("", "/enum", "\"x\" is not one of \"a\" or \"b\"")
    );
    assert_eq!(
        errors(json!({"enum": ["a", "b", "c"]}), json!("x")),
        one("", "/enum", "\"x\" is not one of \"a\", \"b\" or \"c\"")
    );
    assert_eq!(
        errors(json!({"enum": ["a", "b", "c", "d", "e"]}), json!(null)),
        one(
            "",
            "/enum",
            "null is not one of \"a\", \"b\" or 3 other candidates"
        )
    );
    assert_eq!(
        errors(json!({"const": "a"}), json!("b")),
        one("", "/const", "\"a\" was expected")
    );
}

#[test]
fn any_of_one_of_all_of_not() {
    let any = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
    assert!(valid(any.clone(), json!(null)));
    assert_eq!(
        errors(any, json!(1)),
        one(
            "",
            "/anyOf",
            "1 is not valid under any of the schemas listed in the 'anyOf' keyword"
        )
    );
    let one_of = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
    assert!(valid(one_of.clone(), json!(1.5)));
    assert_eq!(
        errors(one_of.clone(), json!(1)),
        one(
            "",
            "/oneOf",
            "1 is valid under more than one of the schemas listed in the 'oneOf' keyword"
        )
    );
    assert_eq!(
        errors(one_of, json!("s")),
        one(
            "",
            "/oneOf",
            "\"s\" is not valid under any of the schemas listed in the 'oneOf' keyword"
        )
    );
    let all = json!({"allOf": [{"type": "integer"}, {"minimum": 3}]});
    assert!(valid(all.clone(), json!(3)));
    assert_eq!(
        errors(all, json!(2.5)),
        vec![
            (
                "".into(),
                "/allOf/0/type".into(),
                "2.5 is not of type \"integer\"".into()
            ),
            (
                "".into(),
                "/allOf/1/minimum".into(),
                "2.5 is less than the minimum of 3".into()
            ),
        ]
    );
    assert!(valid(json!({"not": {"type": "null"}}), json!(1)));
    assert_eq!(
        errors(json!({"not": {"type": "null"}}), json!(null)),
        one("", "/not", "{\"type\":\"null\"} is not allowed for null")
    );
}

#[test]
fn numeric_limits() {
    assert!(valid(json!({"minimum": 1}), json!(1)));
    assert!(!valid(json!({"exclusiveMinimum": 1}), json!(1)));
    assert!(valid(json!({"exclusiveMinimum": 1}), json!(1.01)));
    assert!(valid(json!({"maximum": 1.5}), json!(1)));
    assert!(!valid(json!({"exclusiveMaximum": 1.5}), json!(1.5)));
    // Exact for large integers, where f64 would round.
    assert!(!valid(
        json!({"maximum": 9007199254740992_u64}),
        json!(9007199254740993_u64)
    ));
    assert!(valid(json!({"minimum": 5}), json!("not a number")));
    assert_eq!(
        errors(json!({"maximum": 10}), json!(11)),
        one("", "/maximum", "11 is greater than the maximum of 10")
    );
    assert_eq!(
        errors(json!({"exclusiveMaximum": 10}), json!(10)),
        one(
            "",
            "/exclusiveMaximum",
            "10 is greater than or equal to the maximum of 10"
        )
    );
    assert_eq!(
        errors(json!({"exclusiveMinimum": 0}), json!(-1)),
        one(
            "",
            "/exclusiveMinimum",
            "-1 is less than or equal to the minimum of 0"
        )
    );
}

#[test]
fn lengths_count_characters_and_sizes_count_items() {
    assert!(valid(json!({"maxLength": 2}), json!("éé")));
    assert!(!valid(json!({"maxLength": 1}), json!("éé")));
    assert!(valid(json!({"minLength": 2}), json!("ab")));
    assert_eq!(
        errors(json!({"minLength": 1}), json!("")),
        one("", "/minLength", "\"\" is shorter than 1 character")
    );
    assert_eq!(
        errors(json!({"maxLength": 2}), json!("abc")),
        one("", "/maxLength", "\"abc\" is longer than 2 characters")
    );
    assert!(valid(json!({"minItems": 1, "maxItems": 2}), json!([1, 2])));
    assert_eq!(
        errors(json!({"minItems": 2}), json!([1])),
        one("", "/minItems", "[1] has less than 2 items")
    );
    assert_eq!(
        errors(json!({"maxItems": 1}), json!([1, 2])),
        one("", "/maxItems", "[1,2] has more than 1 item")
    );
    assert!(valid(json!({"uniqueItems": true}), json!([1, "1", [1]])));
    assert!(valid(json!({"uniqueItems": false}), json!([1, 1])));
    assert_eq!(
        errors(json!({"uniqueItems": true}), json!([{"a": 1}, {"a": 1.0}])),
        one(
            "",
            "/uniqueItems",
            "[{\"a\":1},{\"a\":1.0}] has non-unique elements"
        )
    );
}

#[test]
fn refs_resolve_to_their_target_and_paths_are_where_the_keyword_is() {
    let schema = json!({
        "$ref": "#/$defs/job",
        "$defs": {
            "job": {"properties": {"status": {"enum": ["a", "b"]}, "user": {"$ref": "#/$defs/us~1er"}}},
            "us/er": {"required": ["id"]}
        }
    });
    assert_eq!(
        errors(schema.clone(), json!({"status": "x", "user": {}})),
        vec![
            (
                "/status".into(),
                "/$defs/job/properties/status/enum".into(),
                "\"x\" is not one of \"a\" or \"b\"".into()
            ),
            (
                "/user".into(),
                "/$defs/us~1er/required".into(),
                "\"id\" is a required property".into()
            ),
        ]
    );
    // A recursive schema is fine; its depth is the instance's.
    let tree = json!({"$defs": {"n": {"properties": {"kids": {"items": {"$ref": "#/$defs/n"}}, "v": {"type": "integer"}}}}, "$ref": "#/$defs/n"});
    assert!(valid(tree.clone(), json!({"kids": [{"kids": [{"v": 1}]}]})));
    assert_eq!(
        errors(tree, json!({"kids": [{"kids": [{"v": "x"}]}]})),
        one(
            "/kids/0/kids/0/v",
            "/$defs/n/properties/v/type",
            "\"x\" is not of type \"integer\""
        )
    );
    // `#` is the root.
    let list = json!({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#"}}]});
    assert!(valid(list.clone(), json!([1, [2, [3]]])));
    assert!(!valid(list, json!([1, ["x"]])));
}

#[test]
fn a_ref_cycle_stops_at_the_depth_cap() {
    let schema = json!({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"});
    let v = compile(schema);
    assert!(!v.is_valid(&json!(1)));
    let one_value = json!(1);
    let e = v.errors(&one_value);
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("deeper than 512"), "{}", e[0].message);
    // A deep but finite instance still validates (three nodes a level here).
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!([deep]);
    }
    let list = json!({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#"}}]});
    assert!(valid(list.clone(), deep.clone()));
    // Past the cap (200 levels, 600 nodes) it is refused rather than overflowing the stack.
    let mut deeper = deep;
    for _ in 0..100 {
        deeper = json!([deeper]);
    }
    assert!(!compile(list).is_valid(&deeper));
}

#[test]
fn format_date_time_date_and_time() {
    let dt = json!({"format": "date-time"});
    assert!(valid(dt.clone(), json!("2015-12-24T15:51:21.802Z")));
    assert!(
        valid(dt.clone(), json!(12)),
        "formats apply to strings only"
    );
    assert_eq!(
        errors(dt, json!("2015-12-24 15:51:21Z")),
        one(
            "",
            "/format",
            "\"2015-12-24 15:51:21Z\" is not a \"date-time\""
        )
    );
    assert!(valid(json!({"format": "date"}), json!("2024-02-29")));
    assert!(!valid(json!({"format": "date"}), json!("2023-02-29")));
    assert!(valid(json!({"format": "time"}), json!("23:59:60Z")));
    assert!(!valid(json!({"format": "time"}), json!("12:00:00")));
}

#[test]
fn rfc3339_edge_cases() {
    let ok = [
        "1985-04-12T23:20:50.52Z",
        "1996-12-19T16:39:57-08:00",
        "1990-12-31T23:59:60Z",
        "1990-12-31T15:59:60-08:00",
        "1990-12-31t23:59:60z",
        "1937-01-01T12:00:27.87+00:20",
        "2000-02-29T00:00:00Z",
        "2400-02-29T00:00:00Z",
        "2015-12-24T15:51:21.123456789+14:00",
        "0000-01-01T00:00:00Z",
        "2020-01-31T00:00:00+23:59",
    ];
    for s in ok {
        assert!(rfc3339::is_date_time(s), "{s} is valid");
    }
    let bad = [
        "1990-12-31T23:59:60+01:00", // a leap second not at 23:59 UTC
        "1990-12-31T22:59:60Z",
        "1998-12-31T23:58:60Z",
        "1900-02-29T00:00:00Z", // not a leap year (century)
        "2021-02-29T00:00:00Z",
        "2020-04-31T00:00:00Z",
        "2020-13-01T00:00:00Z",
        "2020-00-01T00:00:00Z",
        "2020-01-00T00:00:00Z",
        "2020-01-01T24:00:00Z",
        "2020-01-01T23:60:00Z",
        "2020-01-01T23:59:61Z",
        "2020-01-01T12:00:00",        // no offset
        "2020-01-01T12:00:00.Z",      // empty fraction
        "2020-01-01T12:00:00+24:00",  // offset hour
        "2020-01-01T12:00:00+01:60",  // offset minute
        "2020-01-01T12:00:00+0100",   // offset without colon
        "2020-01-01T12:00:00Z+01:00", // two offsets
        "2020-01-01 12:00:00Z",       // ISO 8601's space
        "2020-1-01T12:00:00Z",
        "20200101T120000Z",
        "2013-350T01:01:01Z", // ordinal date
        "２０２０-01-01T12:00:00Z",
        "2020-01-01T1২:00:00Z",
        "2020-01-01T12:00:00Zjunk",
        "",
        "2020-01-01",
        "2020-01-01T",
    ];
    for s in bad {
        assert!(!rfc3339::is_date_time(s), "{s} is invalid");
    }
    assert!(rfc3339::is_full_time("15:59:60-08:00"));
    assert!(rfc3339::is_full_time("00:29:60+00:30"));
    assert!(!rfc3339::is_full_time("12:30:60+01:00"));
}

#[test]
fn annotations_and_extensions_are_read_and_ignored() {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://glmock.dev/schemas/x.schema.json",
        "title": "t", "description": "d", "$comment": "c", "examples": [1],
        "default": 1, "deprecated": false, "readOnly": true, "writeOnly": false,
        "x-since": "17.0", "x-endpoints": ["GET /x"]
    });
    assert!(valid(schema, json!("anything")));
}

#[test]
fn unsupported_keywords_are_refused_with_their_pointer_and_the_supported_list() {
    let e = refused(json!({"$defs": {"x": {"properties": {"a": {"minProperties": 1}}}}}));
    assert_eq!(e.pointer, "/$defs/x/properties/a/minProperties");
    assert!(
        e.message.starts_with("unsupported keyword \"minProperties\" (supported: $defs, $ref, additionalProperties, allOf, anyOf, const,"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("annotations: $comment, $id"),
        "{}",
        e.message
    );
    assert_eq!(
        e.to_string(),
        format!("/$defs/x/properties/a/minProperties: {}", e.message)
    );
    let e = refused(json!({"properties": {"a": {"pattern": "^a"}}}));
    assert_eq!(e.pointer, "/properties/a/pattern");
    assert!(e.message.contains("regular expression"), "{}", e.message);
    let e = refused(json!({"format": "email"}));
    assert_eq!(
        (e.pointer.as_str(), e.message.as_str()),
        (
            "/format",
            "format \"email\" is not supported (supported: date, date-time, time)"
        )
    );
    for (schema, pointer) in [
        (json!({"$ref": "other.json#/a"}), "/$ref"),
        (json!({"$ref": "#/$defs/missing"}), "/$ref"),
        (json!({"$ref": "#anchor"}), "/$ref"),
        (json!({"type": "float"}), "/type"),
        (json!({"items": [{}]}), "/items"),
        (json!({"minLength": -1}), "/minLength"),
        (json!({"enum": "a"}), "/enum"),
        (json!({"anyOf": []}), "/anyOf"),
        (
            json!({"$schema": "http://json-schema.org/draft-07/schema#"}),
            "/$schema",
        ),
        (
            json!({"properties": {"a": {"$id": "a"}}}),
            "/properties/a/$id",
        ),
        (json!({"properties": {"a": 3}}), "/properties/a"),
        (json!({"if": {}}), "/if"),
    ] {
        assert_eq!(refused(schema.clone()).pointer, pointer, "{schema}");
    }
}

#[test]
fn the_embedded_schemas_compile_at_every_version() {
    use crate::version::{NEWEST, OLDEST, Version};
    for version in [OLDEST, Version(16, 0), Version(17, 11), NEWEST] {
        let c = crate::contract::Contract::load(None, version, crate::contract::Mode::Strict)
            .expect("the embedded schemas compile");
        assert!(c.has_shape("job"));
    }
}

#[test]
fn names_that_hash_alike_are_still_told_apart() {
    // Same length, same first and last eight bytes: one hash for all of them.
    let names: Vec<String> = (0..40).map(|i| format!("abcdefgh{i:02}stuvwxyz")).collect();
    let table = Names::new(names.iter().cloned().zip(0..).collect());
    for (i, n) in names.iter().enumerate() {
        assert_eq!(table.get(n), Some(i), "{n}");
    }
    assert_eq!(table.get("abcdefgh40stuvwxyz"), None);
    assert_eq!(table.get(""), None);
    let properties: Map<String, Value> = names
        .iter()
        .map(|n| (n.clone(), json!({"type": "integer"})))
        .collect();
    let schema =
        json!({"properties": properties, "required": names, "additionalProperties": false});
    let mut instance: Map<String, Value> = names.iter().map(|n| (n.clone(), json!(1))).collect();
    assert!(valid(schema.clone(), Value::Object(instance.clone())));
    instance.insert(names[7].clone(), json!("x"));
    assert_eq!(
        errors(schema.clone(), Value::Object(instance.clone())),
        one(
            "/abcdefgh07stuvwxyz",
            "/properties/abcdefgh07stuvwxyz/type",
            "\"x\" is not of type \"integer\""
        )
    );
    instance.remove(&names[7]);
    assert_eq!(
        errors(schema, Value::Object(instance)),
        one(
            "",
            "/required",
            "\"abcdefgh07stuvwxyz\" is a required property"
        )
    );
}

/// The name tables key names by length and first/last words: names alike in those (same
/// head, same tail, or differing only in the middle) must still reach their own schemas,
/// and an enum must not accept a look-alike.
#[test]
fn property_and_enum_names_that_share_their_first_or_last_bytes_stay_apart() {
    let names = [
        "a",
        "b",
        "abc",
        "aXc",
        "abcd",
        "abce",
        "created_at",
        "created_by",
        "x_created_at",
        "y_created_at",
        "pipeline_source_aa",
        "pipeline_target_aa",
        "aaaaaaaa_X_bbbbbbbb",
        "aaaaaaaa_Y_bbbbbbbb",
    ];
    let mut properties = serde_json::Map::new();
    for (i, n) in names.iter().enumerate() {
        properties.insert((*n).to_owned(), json!({"const": i}));
    }
    let schema = json!({"properties": properties, "additionalProperties": false});
    for (i, n) in names.iter().enumerate() {
        assert!(valid(schema.clone(), json!({ *n: i })), "{n}");
        assert!(!valid(schema.clone(), json!({ *n: i + 100 })), "{n}");
    }
    for stranger in ["c", "aYc", "abcf", "created_on", "aaaaaaaa_Z_bbbbbbbb", ""] {
        assert!(!valid(schema.clone(), json!({ stranger: 0 })), "{stranger}");
    }
    let e = json!({"enum": names});
    for n in names {
        assert!(valid(e.clone(), json!(n)), "{n}");
    }
    for stranger in ["c", "aYc", "abcf", "created_on", "aaaaaaaa_Z_bbbbbbbb", ""] {
        assert!(!valid(e.clone(), json!(stranger)), "{stranger}");
    }
}

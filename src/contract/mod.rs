//! The contract: JSON Schemas derived from GitLab's documented examples (`derive`), loaded
//! once, compiled once per emulated version, and checked against every JSON response.
//! Job entities are checked when their rendering is cached, so a page of cached jobs costs
//! no validation at all; everything else is checked as it leaves.

pub mod derive;
mod doc;
pub mod offline;
pub mod validator;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::version::Version;

/// What happens to a response that breaks its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Mode {
    /// Replace it with a 500 whose body lists every violation.
    Strict,
    /// Serve it, log it, mark it with a header and record it in the journal.
    Warn,
    /// Do not check.
    Off,
}

/// One way a response breaks its schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The response shape (`job`, `pipeline_list`, …).
    pub shape: String,
    /// JSON pointer into the response body.
    pub path: String,
    /// What the schema expects there (the failing keyword's value, when it has one).
    pub expected: Value,
    /// What the response has there.
    pub actual: Value,
    /// JSON pointer into the schema (through `$ref`s).
    pub schema: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{} {path}: {}", self.shape, self.message)
    }
}

impl Violation {
    /// The same violation, found inside element `index` of a list.
    pub fn in_item(mut self, shape: &str, index: usize) -> Violation {
        self.shape = shape.to_owned();
        self.path = format!("/{index}{}", self.path);
        self
    }
}

/// Schemas could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("cannot read schema {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("schema {path} is not JSON")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("schema {path} does not compile: {message}")]
    Compile { path: String, message: String },
}

/// The shapes whose schemas ship with glmock, embedded at build time.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "allowed_agents",
        include_str!("../../schemas/allowed_agents.schema.json"),
    ),
    ("bridge", include_str!("../../schemas/bridge.schema.json")),
    (
        "bridge_list",
        include_str!("../../schemas/bridge_list.schema.json"),
    ),
    (
        "error_error",
        include_str!("../../schemas/error_error.schema.json"),
    ),
    (
        "error_message",
        include_str!("../../schemas/error_message.schema.json"),
    ),
    ("job", include_str!("../../schemas/job.schema.json")),
    (
        "job_list",
        include_str!("../../schemas/job_list.schema.json"),
    ),
    (
        "pipeline",
        include_str!("../../schemas/pipeline.schema.json"),
    ),
    (
        "pipeline_list",
        include_str!("../../schemas/pipeline_list.schema.json"),
    ),
    (
        "pipeline_variables",
        include_str!("../../schemas/pipeline_variables.schema.json"),
    ),
    (
        "test_report",
        include_str!("../../schemas/test_report.schema.json"),
    ),
    (
        "test_report_summary",
        include_str!("../../schemas/test_report_summary.schema.json"),
    ),
];

struct Compiled {
    schema: Value,
    validator: validator::Validator,
}

/// Compiled validators for one GitLab version.
pub struct Contract {
    pub mode: Mode,
    pub version: Version,
    shapes: HashMap<String, Compiled>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("mode", &self.mode)
            .field("version", &self.version)
            .field("shapes", &self.shapes.len())
            .finish()
    }
}

impl Contract {
    /// Loads the embedded schemas, or every `*.schema.json` of `dir` (except the scenario
    /// schema), for `version`.
    pub fn load(
        dir: Option<&Path>,
        version: Version,
        mode: Mode,
    ) -> Result<Contract, ContractError> {
        let mut sources: Vec<(String, String, String)> = Vec::new();
        match dir {
            None => {
                for (shape, text) in EMBEDDED {
                    sources.push((
                        (*shape).to_owned(),
                        format!("schemas/{shape}.schema.json (embedded)"),
                        (*text).to_owned(),
                    ));
                }
            }
            Some(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|source| ContractError::Read {
                    path: dir.display().to_string(),
                    source,
                })?;
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let Some(shape) = name.strip_suffix(".schema.json") else {
                        continue;
                    };
                    if shape == "scenario" {
                        continue;
                    }
                    let path = e.path().display().to_string();
                    let text = std::fs::read_to_string(e.path()).map_err(|source| {
                        ContractError::Read {
                            path: path.clone(),
                            source,
                        }
                    })?;
                    sources.push((shape.to_owned(), path, text));
                }
            }
        }
        let mut shapes = HashMap::new();
        for (shape, path, text) in sources {
            let raw: Value =
                serde_json::from_str(&text).map_err(|source| ContractError::Parse {
                    path: path.clone(),
                    source,
                })?;
            let schema = derive::schema_for_version(&raw, version.0, version.1);
            let validator =
                validator::Validator::new(&schema).map_err(|e| ContractError::Compile {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            shapes.insert(shape, Compiled { schema, validator });
        }
        Ok(Contract {
            mode,
            version,
            shapes,
        })
    }

    pub fn is_on(&self) -> bool {
        self.mode != Mode::Off
    }

    /// The schema of `shape` as compiled for this version.
    pub fn schema(&self, shape: &str) -> Option<&Value> {
        self.shapes.get(shape).map(|c| &c.schema)
    }

    pub fn has_shape(&self, shape: &str) -> bool {
        self.shapes.contains_key(shape)
    }

    /// Every violation of `value` against `shape` (none when the shape is unknown).
    pub fn check(&self, shape: &str, value: &Value) -> Vec<Violation> {
        let Some(c) = self.shapes.get(shape) else {
            return Vec::new();
        };
        if c.validator.is_valid(value) {
            return Vec::new();
        }
        c.validator
            .errors(value)
            .into_iter()
            .map(|e| Violation {
                shape: shape.to_owned(),
                path: e.instance_path,
                expected: expected_at(&c.schema, &e.schema_path),
                actual: e.instance.clone(),
                schema: e.schema_path,
                message: e.message,
            })
            .collect()
    }

    /// Checks a serialized body; a body that is not JSON is one violation.
    pub fn check_bytes(&self, shape: &str, body: &[u8]) -> Vec<Violation> {
        let Some(c) = self.shapes.get(shape) else {
            return Vec::new();
        };
        // The usual case, a valid body, is answered without building a `Value`; anything
        // else is read again as one, which says what is wrong.
        if c.validator.is_valid_json(body) == Some(true) {
            return Vec::new();
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => self.check(shape, &v),
            Err(e) => vec![Violation {
                shape: shape.to_owned(),
                path: String::new(),
                expected: Value::String("JSON".into()),
                actual: Value::String(
                    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
                ),
                schema: String::new(),
                message: format!("the body is not JSON: {e}"),
            }],
        }
    }
}

/// The value of the failing keyword, found by following the schema path through `$ref`s
/// into `$defs`; `null` when it cannot be resolved.
fn expected_at(schema: &Value, schema_path: &str) -> Value {
    let mut node = schema;
    for seg in schema_path.split('/').filter(|s| !s.is_empty()) {
        if seg == "$ref" {
            let Some(target) = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            else {
                return Value::Null;
            };
            match schema.pointer(target) {
                Some(n) => node = n,
                None => return Value::Null,
            }
            continue;
        }
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(m) => match m.get(&seg) {
                Some(n) => n,
                None => return Value::Null,
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(n) => n,
                None => return Value::Null,
            },
            _ => return Value::Null,
        };
    }
    node.clone()
}

#[derive(Serialize)]
struct StrictFailure<'a> {
    message: &'static str,
    violations: &'a [Violation],
}

/// The body of a response replaced in strict mode.
pub fn strict_body(violations: &[Violation]) -> bytes::Bytes {
    let body = StrictFailure {
        message: "500 Internal Server Error - glmock: the response breaks its schema",
        violations,
    };
    bytes::Bytes::from(serde_json::to_vec(&body).expect("violations serialize"))
}

/// Which shape a response has, given its documented endpoint (if any), its status and the
/// top-level key of a JSON error body: the endpoint's shape on its success status, GitLab's
/// two error shapes on 4xx/5xx, `None` when nothing applies (traces, 204s, `/user`). The one
/// rule for the server and for `verify`.
pub fn shape_of(
    endpoint: Option<&derive::Endpoint>,
    status: u16,
    error_key: Option<&str>,
) -> Option<&'static str> {
    if status >= 400 {
        return match error_key? {
            "message" => Some("error_message"),
            "error" => Some("error_error"),
            _ => None,
        };
    }
    let endpoint = endpoint?;
    (endpoint.status == status)
        .then_some(endpoint.shape)
        .flatten()
}

/// The shape of one of glmock's own responses, from its route pattern
/// (`/api/v4/projects/{id}/jobs`) and body.
pub fn shape_for_response(
    method: &str,
    route: Option<&str>,
    status: u16,
    body: &[u8],
) -> Option<&'static str> {
    // Our error bodies are serialized with their one key first.
    let error_key = if body.starts_with(b"{\"message\"") {
        Some("message")
    } else if body.starts_with(b"{\"error\"") {
        Some("error")
    } else {
        None
    };
    let method = if method == "HEAD" { "GET" } else { method };
    let endpoint = route.and_then(|r| {
        let docs_path = r
            .strip_prefix("/api/v4")?
            .replace('{', ":")
            .replace('}', "");
        derive::endpoints()
            .iter()
            .find(|e| e.method == method && e.path == docs_path)
    });
    shape_of(endpoint, status, error_key)
}

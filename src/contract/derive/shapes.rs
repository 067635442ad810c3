//! Which endpoint answers with which response shape, and which entity definitions a shape
//! is built from. Entities follow GitLab's Grape entities (docs/gitlab-notes.md §6): a job's
//! `user` is `User`, a pipeline's `user` is `UserBasic`, a job's `pipeline` and a bridge's
//! `downstream_pipeline` are both `PipelineBasic`, and so on. Every example of an entity,
//! wherever it appears, feeds that entity's one definition.

/// One documented endpoint: its success status (docs/gitlab-notes.md §4) and the shape of
/// its body (`None`: not JSON, or no body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    /// As the docs write it, relative to `/api/v4`, e.g. `/projects/:id/jobs/:job_id`.
    pub path: &'static str,
    pub status: u16,
    pub shape: Option<&'static str>,
}

const fn ep(
    method: &'static str,
    path: &'static str,
    status: u16,
    shape: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        status,
        shape: Some(shape),
    }
}

const fn bare(method: &'static str, path: &'static str, status: u16) -> Endpoint {
    Endpoint {
        method,
        path,
        status,
        shape: None,
    }
}

/// The Jobs and Pipelines endpoints, with the status GitLab's code answers on success.
pub(crate) const ENDPOINTS: &[Endpoint] = &[
    ep("GET", "/projects/:id/jobs", 200, "job_list"),
    ep(
        "GET",
        "/projects/:id/pipelines/:pipeline_id/jobs",
        200,
        "job_list",
    ),
    ep(
        "GET",
        "/projects/:id/pipelines/:pipeline_id/bridges",
        200,
        "bridge_list",
    ),
    ep("GET", "/job", 200, "job"),
    ep("GET", "/job/allowed_agents", 200, "allowed_agents"),
    ep("GET", "/projects/:id/jobs/:job_id", 200, "job"),
    bare("GET", "/projects/:id/jobs/:job_id/trace", 200),
    ep("POST", "/projects/:id/jobs/:job_id/cancel", 201, "job"),
    ep("POST", "/projects/:id/jobs/:job_id/retry", 201, "job"),
    ep("POST", "/projects/:id/jobs/:job_id/erase", 201, "job"),
    // 200, not 201: the endpoint sets the status explicitly. A bridge answers `bridge`.
    ep("POST", "/projects/:id/jobs/:job_id/play", 200, "job"),
    ep("GET", "/projects/:id/pipelines", 200, "pipeline_list"),
    ep("GET", "/projects/:id/pipelines/latest", 200, "pipeline"),
    ep(
        "GET",
        "/projects/:id/pipelines/:pipeline_id",
        200,
        "pipeline",
    ),
    ep(
        "GET",
        "/projects/:id/pipelines/:pipeline_id/variables",
        200,
        "pipeline_variables",
    ),
    ep(
        "GET",
        "/projects/:id/pipelines/:pipeline_id/test_report",
        200,
        "test_report",
    ),
    ep(
        "GET",
        "/projects/:id/pipelines/:pipeline_id/test_report_summary",
        200,
        "test_report_summary",
    ),
    ep("POST", "/projects/:id/pipeline", 201, "pipeline"),
    ep(
        "POST",
        "/projects/:id/pipelines/:pipeline_id/retry",
        201,
        "pipeline",
    ),
    // 200 "regardless of the pipeline's state".
    ep(
        "POST",
        "/projects/:id/pipelines/:pipeline_id/cancel",
        200,
        "pipeline",
    ),
    ep(
        "PUT",
        "/projects/:id/pipelines/:pipeline_id/metadata",
        200,
        "pipeline",
    ),
    bare("DELETE", "/projects/:id/pipelines/:pipeline_id", 204),
];

/// How a shape's body is built from an entity definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// The body is one entity.
    One(&'static str),
    /// The body is an array of entities.
    ListOf(&'static str),
}

/// Every derived shape and its root. `bridge` has no endpoint of its own in the docs' examples
/// (it is what `play` answers for a bridge); its definition comes from `bridge_list`.
pub(crate) const SHAPES: &[(&str, Root)] = &[
    ("allowed_agents", Root::One("allowed_agents")),
    ("bridge", Root::One("bridge")),
    ("bridge_list", Root::ListOf("bridge")),
    ("job", Root::One("job")),
    ("job_list", Root::ListOf("job")),
    ("pipeline", Root::One("pipeline")),
    ("pipeline_list", Root::ListOf("pipeline_list_item")),
    ("pipeline_variables", Root::ListOf("pipeline_variable")),
    ("test_report", Root::One("test_report")),
    ("test_report_summary", Root::One("test_report_summary")),
];

/// Nested entities that get a definition of their own: (entity, property path, entity of
/// the value). `[]` marks array items.
pub(crate) const NESTED: &[(&str, &str, &str)] = &[
    ("allowed_agents", "allowed_agents[]", "allowed_agent"),
    ("allowed_agent", "config_project", "project_identity"),
    ("bridge", "commit", "commit"),
    ("bridge", "downstream_pipeline", "pipeline_basic"),
    ("bridge", "pipeline", "pipeline_basic"),
    ("bridge", "user", "user"),
    ("job", "artifacts[]", "job_artifact"),
    ("job", "artifacts_file", "job_artifact_file"),
    ("job", "commit", "commit"),
    ("job", "pipeline", "pipeline_basic"),
    ("job", "runner", "runner"),
    ("job", "runner_manager", "runner_manager"),
    ("job", "user", "user"),
    ("pipeline", "detailed_status", "detailed_status"),
    ("pipeline", "user", "user_basic"),
    ("test_report", "test_suites[]", "test_suite"),
    ("test_suite", "test_cases[]", "test_case"),
    ("test_report_summary", "test_suites[]", "test_suite_summary"),
];

/// The definition for `path` inside entity `def`, if that value is an entity of its own.
pub(crate) fn nested(def: &str, path: &str) -> Option<&'static str> {
    NESTED
        .iter()
        .find(|(d, p, _)| *d == def && *p == path)
        .map(|(_, _, target)| *target)
}

/// The root of a shape.
pub(crate) fn root(shape: &str) -> Option<Root> {
    SHAPES.iter().find(|(s, _)| *s == shape).map(|(_, r)| *r)
}

/// The documented endpoint for `method` and `path` (already normalised).
pub(crate) fn endpoint(method: &str, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.method == method && e.path == path)
}

/// The success status for an endpoint the table does not know, by HTTP convention.
pub(crate) fn default_status(method: &str) -> u16 {
    match method {
        "POST" => 201,
        "DELETE" => 204,
        _ => 200,
    }
}

/// A documented path as the table writes it: no `/api/v4` prefix, no query, no trailing
/// slash, `{param}` written `:param`.
pub(crate) fn normalise_path(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = path.strip_prefix("/api/v4").unwrap_or(path);
    let mut out = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                out.push(':');
                out.push_str(name);
            }
            None => out.push_str(seg),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

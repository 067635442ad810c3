//! The route table (matchit) with a handler per method. A path that matches with another
//! method is 405 with `Allow`; no match is GitLab's catch-all 404 `{"error":"404 Not Found"}`.
//! `:id` segments cannot contain a raw `/` (GitLab's `[^/]+` requirement), so an unencoded
//! `group/project` matches no route.

use std::sync::LazyLock;

use hyper::Method;

use super::handlers::{jobs, misc, pipelines};
use super::{ApiError, Ctx, Response};

pub type Handler = fn(&Ctx) -> Result<Response, ApiError>;

/// Path parameters of the matched route, percent-decoded.
#[derive(Debug, Default, Clone)]
pub struct RouteParams(pub Vec<(String, String)>, pub &'static str);

impl RouteParams {
    /// The matched route, e.g. `/api/v4/projects/{id}/jobs`.
    pub fn pattern(&self) -> &'static str {
        self.1
    }

    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

struct Route {
    pattern: &'static str,
    methods: Vec<(Method, Handler)>,
}

static TABLE: LazyLock<matchit::Router<Route>> = LazyLock::new(|| {
    let mut r = matchit::Router::new();
    let mut add = |path: &'static str, methods: Vec<(Method, Handler)>| {
        r.insert(
            path,
            Route {
                pattern: path,
                methods,
            },
        )
        .expect("route table has no conflicts");
    };
    add("/api/v4/user", vec![(Method::GET, misc::current_user)]);
    add("/api/v4/version", vec![(Method::GET, misc::version)]);
    add("/api/v4/projects/{id}", vec![(Method::GET, misc::project)]);
    add("/api/v4/job", vec![(Method::GET, jobs::token_job)]);
    add(
        "/api/v4/job/allowed_agents",
        vec![(Method::GET, jobs::allowed_agents)],
    );
    add(
        "/api/v4/projects/{id}/jobs",
        vec![(Method::GET, jobs::list_project_jobs)],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}",
        vec![(Method::GET, jobs::get_job)],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/trace",
        vec![(Method::GET, jobs::trace)],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/cancel",
        vec![(Method::POST, jobs::cancel)],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/retry",
        vec![(Method::POST, jobs::retry)],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/erase",
        vec![(Method::POST, jobs::erase)],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/play",
        vec![(Method::POST, jobs::play)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs",
        vec![(Method::GET, jobs::list_pipeline_jobs)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/bridges",
        vec![(Method::GET, jobs::list_pipeline_bridges)],
    );
    add(
        "/api/v4/projects/{id}/pipelines",
        vec![(Method::GET, pipelines::list)],
    );
    add(
        "/api/v4/projects/{id}/pipeline",
        vec![(Method::POST, pipelines::create)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/latest",
        vec![(Method::GET, pipelines::latest)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}",
        vec![
            (Method::GET, pipelines::get),
            (Method::DELETE, pipelines::delete),
        ],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables",
        vec![(Method::GET, pipelines::variables)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report",
        vec![(Method::GET, pipelines::test_report)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report_summary",
        vec![(Method::GET, pipelines::test_report_summary)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/retry",
        vec![(Method::POST, pipelines::retry)],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/cancel",
        vec![(Method::POST, pipelines::cancel)],
    );
    r
});

/// The route a raw path matches (`/api/v4/projects/{id}/jobs`), without decoding its
/// parameters or looking at the method: for fault rules.
pub fn pattern(path: &str) -> Option<&'static str> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    TABLE.at(path).ok().map(|m| m.value.pattern)
}

/// Finds the handler for a method and raw path.
pub fn find(method: &Method, path: &str) -> Result<(Handler, RouteParams), ApiError> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let m = TABLE.at(path).map_err(|_| ApiError::RouteNotFound)?;
    let params = RouteParams(
        m.params
            .iter()
            .map(|(k, v)| {
                (
                    k.to_owned(),
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned(),
                )
            })
            .collect(),
        m.value.pattern,
    );
    // HEAD is served by GET routes, as in Grape.
    let wanted = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    match m.value.methods.iter().find(|(mm, _)| mm == wanted) {
        Some((_, h)) => Ok((*h, params)),
        None => {
            let mut allow: Vec<&str> = m.value.methods.iter().map(|(mm, _)| mm.as_str()).collect();
            if allow.contains(&"GET") {
                allow.push("HEAD");
            }
            allow.push("OPTIONS");
            Err(ApiError::MethodNotAllowed {
                allow: allow.join(", "),
            })
        }
    }
}

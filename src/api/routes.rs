//! The route table (matchit) with a handler per method. A path that matches with another
//! method is 405 with `Allow`; no match is GitLab's catch-all 404 `{"error":"404 Not Found"}`.
//! `:id` segments cannot contain a raw `/` (GitLab's `[^/]+` requirement), so an unencoded
//! `group/project` matches no route.

use std::borrow::Cow;
use std::sync::LazyLock;

use hyper::Method;

use super::handlers::{jobs, misc, pipelines};
use super::{ApiError, Ctx, Response};

/// An endpoint. A read borrows the request's snapshot of its session; a write owns it, so it
/// can let the snapshot go before it locks the session: no write runs while the request's
/// own snapshot is alive (an `Arc::make_mut` that copies nothing it does not change).
#[derive(Clone, Copy)]
pub enum Handler {
    Read(fn(&Ctx) -> Result<Response, ApiError>),
    Write(fn(Ctx) -> Result<Response, ApiError>),
}

/// Path parameters of the matched route, percent-decoded.
#[derive(Debug, Default, Clone)]
pub struct RouteParams<'p>(pub Vec<(&'static str, Cow<'p, str>)>, pub &'static str);

impl RouteParams<'_> {
    /// The matched route, e.g. `/api/v4/projects/{id}/jobs`.
    pub fn pattern(&self) -> &'static str {
        self.1
    }

    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
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
    add(
        "/api/v4/user",
        vec![(Method::GET, Handler::Read(misc::current_user))],
    );
    add(
        "/api/v4/version",
        vec![(Method::GET, Handler::Read(misc::version))],
    );
    add(
        "/api/v4/projects/{id}",
        vec![(Method::GET, Handler::Read(misc::project))],
    );
    add(
        "/api/v4/job",
        vec![(Method::GET, Handler::Read(jobs::token_job))],
    );
    add(
        "/api/v4/job/allowed_agents",
        vec![(Method::GET, Handler::Read(jobs::allowed_agents))],
    );
    add(
        "/api/v4/projects/{id}/jobs",
        vec![(Method::GET, Handler::Read(jobs::list_project_jobs))],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}",
        vec![(Method::GET, Handler::Read(jobs::get_job))],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/trace",
        vec![(Method::GET, Handler::Read(jobs::trace))],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/cancel",
        vec![(Method::POST, Handler::Write(jobs::cancel))],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/retry",
        vec![(Method::POST, Handler::Write(jobs::retry))],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/erase",
        vec![(Method::POST, Handler::Write(jobs::erase))],
    );
    add(
        "/api/v4/projects/{id}/jobs/{job_id}/play",
        vec![(Method::POST, Handler::Write(jobs::play))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs",
        vec![(Method::GET, Handler::Read(jobs::list_pipeline_jobs))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/bridges",
        vec![(Method::GET, Handler::Read(jobs::list_pipeline_bridges))],
    );
    add(
        "/api/v4/projects/{id}/pipelines",
        vec![(Method::GET, Handler::Read(pipelines::list))],
    );
    add(
        "/api/v4/projects/{id}/pipeline",
        vec![(Method::POST, Handler::Write(pipelines::create))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/latest",
        vec![(Method::GET, Handler::Read(pipelines::latest))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}",
        vec![
            (Method::GET, Handler::Read(pipelines::get)),
            (Method::DELETE, Handler::Write(pipelines::delete)),
        ],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables",
        vec![(Method::GET, Handler::Read(pipelines::variables))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report",
        vec![(Method::GET, Handler::Read(pipelines::test_report))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report_summary",
        vec![(Method::GET, Handler::Read(pipelines::test_report_summary))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/retry",
        vec![(Method::POST, Handler::Write(pipelines::retry))],
    );
    add(
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/cancel",
        vec![(Method::POST, Handler::Write(pipelines::cancel))],
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
pub fn find<'p>(method: &Method, path: &'p str) -> Result<(Handler, RouteParams<'p>), ApiError> {
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
                    k,
                    percent_encoding::percent_decode_str(v).decode_utf8_lossy(),
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

/// GitLab API v4 routes that glmock does not implement (from `lib/api/ci/*.rb`,
/// `lib/api/*.rb`: job artifacts, pipeline schedules, triggers, variables, runners,
/// resource groups, secure files, environments, deployments, merge request pipelines,
/// commit statuses, lint…), as (matchit pattern, methods). A request to one gets GitLab's
/// catch-all 404 marked `X-Glmock-Unimplemented: true`, so a gap in glmock is not
/// mistaken for a bug in the client.
const UNIMPLEMENTED: &[(&str, &[&str])] = &[
    // lib/api/ci/job_artifacts.rb
    ("/api/v4/projects/{id}/jobs/artifacts/{*ref_name}", &["GET"]),
    (
        "/api/v4/projects/{id}/jobs/{job_id}/artifacts",
        &["GET", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/jobs/{job_id}/artifacts/keep",
        &["POST"],
    ),
    (
        "/api/v4/projects/{id}/jobs/{job_id}/artifacts/{*artifact_path}",
        &["GET"],
    ),
    ("/api/v4/projects/{id}/artifacts", &["DELETE"]),
    // lib/api/ci/pipelines.rb
    (
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/metadata",
        &["PUT"],
    ),
    // lib/api/ci/pipeline_schedules.rb
    ("/api/v4/projects/{id}/pipeline_schedules", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/pipeline_schedules/{pipeline_schedule_id}",
        &["GET", "PUT", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/pipeline_schedules/{pipeline_schedule_id}/pipelines",
        &["GET"],
    ),
    (
        "/api/v4/projects/{id}/pipeline_schedules/{pipeline_schedule_id}/take_ownership",
        &["POST"],
    ),
    (
        "/api/v4/projects/{id}/pipeline_schedules/{pipeline_schedule_id}/play",
        &["POST"],
    ),
    (
        "/api/v4/projects/{id}/pipeline_schedules/{pipeline_schedule_id}/variables",
        &["POST"],
    ),
    (
        "/api/v4/projects/{id}/pipeline_schedules/{pipeline_schedule_id}/variables/{key}",
        &["PUT", "DELETE"],
    ),
    // lib/api/ci/triggers.rb
    ("/api/v4/projects/{id}/trigger/pipeline", &["POST"]),
    (
        "/api/v4/projects/{id}/ref/{ref}/trigger/pipeline",
        &["POST"],
    ),
    ("/api/v4/projects/{id}/triggers", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/triggers/{trigger_id}",
        &["GET", "PUT", "DELETE"],
    ),
    // lib/api/ci/variables.rb, lib/api/group_variables.rb, lib/api/admin/ci/variables.rb
    ("/api/v4/projects/{id}/variables", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/variables/{key}",
        &["GET", "PUT", "DELETE"],
    ),
    ("/api/v4/groups/{id}/variables", &["GET", "POST"]),
    (
        "/api/v4/groups/{id}/variables/{key}",
        &["GET", "PUT", "DELETE"],
    ),
    ("/api/v4/admin/ci/variables", &["GET", "POST"]),
    (
        "/api/v4/admin/ci/variables/{key}",
        &["GET", "PUT", "DELETE"],
    ),
    // lib/api/ci/runners.rb
    ("/api/v4/runners", &["GET", "POST", "DELETE"]),
    ("/api/v4/runners/all", &["GET"]),
    ("/api/v4/runners/verify", &["POST"]),
    ("/api/v4/runners/managers", &["DELETE"]),
    ("/api/v4/runners/reset_registration_token", &["POST"]),
    ("/api/v4/runners/{runner_id}", &["GET", "PUT", "DELETE"]),
    ("/api/v4/runners/{runner_id}/jobs", &["GET"]),
    ("/api/v4/runners/{runner_id}/managers", &["GET"]),
    (
        "/api/v4/runners/{runner_id}/reset_authentication_token",
        &["POST"],
    ),
    ("/api/v4/projects/{id}/runners", &["GET", "POST"]),
    ("/api/v4/projects/{id}/runners/{runner_id}", &["DELETE"]),
    (
        "/api/v4/projects/{id}/runners/reset_registration_token",
        &["POST"],
    ),
    ("/api/v4/groups/{id}/runners", &["GET"]),
    (
        "/api/v4/groups/{id}/runners/reset_registration_token",
        &["POST"],
    ),
    // lib/api/ci/runner.rb (what a runner calls)
    ("/api/v4/jobs/request", &["POST"]),
    ("/api/v4/jobs/{job_id}", &["PUT"]),
    ("/api/v4/jobs/{job_id}/trace", &["PATCH"]),
    ("/api/v4/jobs/{job_id}/artifacts", &["GET", "POST"]),
    ("/api/v4/jobs/{job_id}/artifacts/authorize", &["POST"]),
    // lib/api/ci/resource_groups.rb
    ("/api/v4/projects/{id}/resource_groups", &["GET"]),
    (
        "/api/v4/projects/{id}/resource_groups/{key}",
        &["GET", "PUT"],
    ),
    (
        "/api/v4/projects/{id}/resource_groups/{key}/upcoming_jobs",
        &["GET"],
    ),
    // lib/api/ci/secure_files.rb
    ("/api/v4/projects/{id}/secure_files", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/secure_files/{secure_file_id}",
        &["GET", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/secure_files/{secure_file_id}/download",
        &["GET"],
    ),
    // lib/api/lint.rb
    ("/api/v4/projects/{id}/ci/lint", &["GET", "POST"]),
    // lib/api/environments.rb
    ("/api/v4/projects/{id}/environments", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/environments/review_apps",
        &["DELETE"],
    ),
    ("/api/v4/projects/{id}/environments/stop_stale", &["POST"]),
    (
        "/api/v4/projects/{id}/environments/{environment_id}",
        &["GET", "PUT", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/environments/{environment_id}/stop",
        &["POST"],
    ),
    // lib/api/deployments.rb
    ("/api/v4/projects/{id}/deployments", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/deployments/{deployment_id}",
        &["GET", "PUT", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/deployments/{deployment_id}/merge_requests",
        &["GET"],
    ),
    (
        "/api/v4/projects/{id}/deployments/{deployment_id}/approval",
        &["POST"],
    ),
    // lib/api/merge_requests.rb
    ("/api/v4/projects/{id}/merge_requests", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/merge_requests/{merge_request_iid}",
        &["GET", "PUT", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/merge_requests/{merge_request_iid}/pipelines",
        &["GET", "POST"],
    ),
    // lib/api/commit_statuses.rb, lib/api/commits.rb
    (
        "/api/v4/projects/{id}/repository/commits/{sha}/statuses",
        &["GET"],
    ),
    ("/api/v4/projects/{id}/statuses/{sha}", &["POST"]),
    ("/api/v4/projects/{id}/repository/commits", &["GET", "POST"]),
    ("/api/v4/projects/{id}/repository/commits/{sha}", &["GET"]),
    (
        "/api/v4/projects/{id}/repository/commits/{sha}/merge_requests",
        &["GET"],
    ),
    // lib/api/branches.rb, lib/api/tags.rb, lib/api/files.rb
    (
        "/api/v4/projects/{id}/repository/branches",
        &["GET", "POST"],
    ),
    (
        "/api/v4/projects/{id}/repository/branches/{branch}",
        &["GET", "DELETE"],
    ),
    ("/api/v4/projects/{id}/repository/tags", &["GET", "POST"]),
    (
        "/api/v4/projects/{id}/repository/tags/{tag_name}",
        &["GET", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/repository/files/{file_path}",
        &["GET", "HEAD", "POST", "PUT", "DELETE"],
    ),
    (
        "/api/v4/projects/{id}/repository/files/{file_path}/raw",
        &["GET"],
    ),
    // lib/api/projects.rb, lib/api/groups.rb
    ("/api/v4/projects", &["GET", "POST"]),
    ("/api/v4/groups", &["GET", "POST"]),
    ("/api/v4/groups/{id}", &["GET", "PUT", "DELETE"]),
    ("/api/v4/groups/{id}/projects", &["GET"]),
];

/// An unimplemented route: GitLab's template (`/api/v4/projects/:id/variables`) and methods.
struct Unimplemented {
    template: &'static str,
    methods: &'static [&'static str],
}

static UNIMPLEMENTED_TABLE: LazyLock<matchit::Router<Unimplemented>> = LazyLock::new(|| {
    let mut r = matchit::Router::new();
    for (pattern, methods) in UNIMPLEMENTED {
        // Shown in GitLab's notation: `{id}` → `:id`, `{*path}` → `*path`.
        let template: &'static str = Box::leak(
            pattern
                .replace("{*", "*")
                .replace('{', ":")
                .replace('}', "")
                .into_boxed_str(),
        );
        r.insert(*pattern, Unimplemented { template, methods })
            .expect("unimplemented route table has no conflicts");
    }
    r
});

/// The GitLab route template of a request glmock does not implement, if it is one.
pub fn unimplemented(method: &Method, path: &str) -> Option<&'static str> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let m = UNIMPLEMENTED_TABLE.at(path).ok()?;
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    m.value
        .methods
        .contains(&method)
        .then_some(m.value.template)
}

/// Every unimplemented route, as `METHOD template`.
pub fn unimplemented_routes() -> Vec<String> {
    let mut out = Vec::new();
    for (pattern, methods) in UNIMPLEMENTED {
        let template = UNIMPLEMENTED_TABLE
            .at(pattern)
            .map(|m| m.value.template)
            .unwrap_or(pattern);
        for m in *methods {
            out.push(format!("{m} {template}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unimplemented_routes_match_gitlab_paths_only_where_glmock_has_none() {
        assert_eq!(
            unimplemented_routes().len(),
            UNIMPLEMENTED.iter().map(|(_, m)| m.len()).sum::<usize>()
        );
        let m = |method: Method, p: &str| unimplemented(&method, p);
        assert_eq!(
            m(Method::GET, "/api/v4/projects/1/jobs/1203/artifacts"),
            Some("/api/v4/projects/:id/jobs/:job_id/artifacts")
        );
        assert_eq!(
            m(
                Method::GET,
                "/api/v4/projects/1/jobs/artifacts/feature/x/download"
            ),
            Some("/api/v4/projects/:id/jobs/artifacts/*ref_name")
        );
        assert_eq!(
            m(Method::POST, "/api/v4/projects/1/jobs/9/artifacts/keep"),
            Some("/api/v4/projects/:id/jobs/:job_id/artifacts/keep")
        );
        assert_eq!(m(Method::PATCH, "/api/v4/projects/1/variables"), None);
        assert_eq!(m(Method::GET, "/api/v4/nothing"), None);
        // No implemented route is listed as unimplemented.
        for (pattern, methods) in UNIMPLEMENTED {
            let sample = pattern
                .split('/')
                .map(|seg| if seg.starts_with('{') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for method in *methods {
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                assert!(
                    find(&method, &sample).is_err(),
                    "{method} {sample} is implemented"
                );
            }
        }
    }
}

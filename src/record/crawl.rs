//! Crawl mode: walk the seed GET endpoints of one project, in a fixed order.
//!
//! `/version` (for the cassette header, not recorded), the project, its pipelines (up to
//! `pages` pages), the latest pipeline, then for each of the first `pipelines` pipelines:
//! the pipeline, its variables, test report and summary, jobs (retried included) and
//! bridges; then the project's jobs (up to `pages` pages) and for each of the first `jobs`
//! jobs: the job and its trace (cut to `trace_bytes`). Error answers are recorded like any
//! other.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::header::HeaderValue;
use serde_json::Value;

use super::capture::{
    RESPONSE_HEADERS, TRUNCATED_HEADER, body_from_bytes, kept_headers, next_link, placeholder_link,
    set_param, split_api_url,
};
use super::cassette::{Body, Cassette, Exchange, RecordedRequest, RecordedResponse};
use super::client::{Answer, RetryPolicy, Upstream};
use super::redact::remove_secrets;

/// What to crawl.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// The GitLab's URL (`https://gitlab.example.com`).
    pub upstream: String,
    /// Project id or full path (`42`, `group/project`).
    pub project: String,
    /// Pipelines to visit.
    pub pipelines: usize,
    /// Jobs to visit (and read the trace of).
    pub jobs: usize,
    /// Pages of each list to read.
    pub pages: usize,
    /// Largest trace kept, in bytes.
    pub trace_bytes: usize,
    /// Requests per second at most (`0`: no limit).
    pub rate: f64,
    /// Show a progress bar on stderr (it hides itself when stderr is not a terminal).
    pub progress: bool,
    /// Retries on 429 / 502 / 503 / 504 and unreachable upstreams.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl CrawlOptions {
    pub fn new(upstream: &str, project: &str) -> CrawlOptions {
        CrawlOptions {
            upstream: upstream.to_owned(),
            project: project.to_owned(),
            pipelines: 5,
            jobs: 10,
            pages: 2,
            trace_bytes: 65_536,
            rate: 5.0,
            progress: false,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The project id as a path segment: numbers as they are, full paths with `/` as `%2F`.
pub fn project_segment(project: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let p = project.trim().trim_matches('/');
    // A path given already encoded stays as it is.
    let decoded = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
    percent_encoding::utf8_percent_encode(&decoded, SEGMENT).to_string()
}

/// Crawls the project and returns the cassette, with secrets removed (and not redacted:
/// see `redact::redact`). `token` is sent as `PRIVATE-TOKEN`.
pub async fn crawl(opts: &CrawlOptions, token: Option<&str>) -> anyhow::Result<Cassette> {
    let base = super::capture::normalize_upstream(&opts.upstream)?;
    let mut upstream = Upstream::new(&base, token.map(str::to_owned), opts.rate, opts.timeout)?;
    upstream.retry = opts.retry.clone();
    let bar = if opts.progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} requests, {elapsed} {wide_msg}")
                .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut c = Crawler {
        upstream,
        cassette: Cassette::new(&base, "crawl"),
        bar,
        trace_bytes: opts.trace_bytes,
    };
    let result = c.run(opts).await;
    c.bar.finish_and_clear();
    result?;
    let mut cassette = c.cassette;
    let literals: Vec<String> = token.map(str::to_owned).into_iter().collect();
    remove_secrets(&mut cassette, &literals);
    Ok(cassette)
}

struct Crawler {
    upstream: Upstream,
    cassette: Cassette,
    bar: ProgressBar,
    trace_bytes: usize,
}

/// What the crawler needs from an answer after recording it.
struct Seen {
    status: u16,
    json: Option<Value>,
    /// Path and query of the next page.
    next: Option<(String, String)>,
}

impl Crawler {
    async fn run(&mut self, opts: &CrawlOptions) -> anyhow::Result<()> {
        self.bar.set_message("GET /version");
        self.cassette.gitlab_version = self.upstream.version().await;
        let project = format!("/api/v4/projects/{}", project_segment(&opts.project));
        let seen = self.get(&project, "", false).await?;
        if !(200..300).contains(&seen.status) {
            // Nothing else can be read: the caller sees the single exchange.
            return Ok(());
        }
        let pages = opts.pages.max(1);
        let per_page = |n: usize| n.clamp(1, 100).to_string();

        let pipelines = self
            .list(
                &format!("{project}/pipelines"),
                &format!("per_page={}", per_page(opts.pipelines)),
                pages,
            )
            .await?;
        self.get(&format!("{project}/pipelines/latest"), "", false)
            .await?;
        for id in ids(&pipelines).into_iter().take(opts.pipelines) {
            let p = format!("{project}/pipelines/{id}");
            self.get(&p, "", false).await?;
            for tail in ["variables", "test_report", "test_report_summary"] {
                self.get(&format!("{p}/{tail}"), "", false).await?;
            }
            self.list(
                &format!("{p}/jobs"),
                "include_retried=true&per_page=100",
                pages,
            )
            .await?;
            self.list(&format!("{p}/bridges"), "per_page=100", pages)
                .await?;
        }

        let jobs = self
            .list(
                &format!("{project}/jobs"),
                &format!("per_page={}", per_page(opts.jobs)),
                pages,
            )
            .await?;
        for id in ids(&jobs).into_iter().take(opts.jobs) {
            let j = format!("{project}/jobs/{id}");
            self.get(&j, "", false).await?;
            self.get(&format!("{j}/trace"), "", true).await?;
        }
        Ok(())
    }

    /// Reads up to `pages` pages of a list (following `rel="next"`, or `X-Next-Page`), and
    /// returns the items of the pages that were arrays.
    async fn list(&mut self, path: &str, query: &str, pages: usize) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut path = path.to_owned();
        let mut query = query.to_owned();
        for _ in 0..pages {
            let seen = self.get(&path, &query, false).await?;
            if let Some(Value::Array(a)) = seen.json {
                items.extend(a);
            }
            let Some(next) = seen.next else { break };
            (path, query) = next;
        }
        Ok(items)
    }

    /// GETs and records one request.
    async fn get(&mut self, path: &str, query: &str, trace: bool) -> anyhow::Result<Seen> {
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        self.bar.set_message(format!("GET {target}"));
        let answer = self.upstream.get(&target).await?;
        self.bar.inc(1);
        if answer.tries > 1 {
            tracing::info!(tries = answer.tries, "GET {target}: answered after retries");
        }
        let next = next_target(&answer, path, query);
        let (exchange, json) = record(path, query, answer, trace.then_some(self.trace_bytes));
        let status = exchange.response.status;
        self.cassette.exchanges.push(exchange);
        Ok(Seen { status, json, next })
    }
}

/// Path and query of the next page, from `Link: <…>; rel="next"` or `X-Next-Page`.
fn next_target(answer: &Answer, path: &str, query: &str) -> Option<(String, String)> {
    if !(200..300).contains(&answer.status) {
        return None;
    }
    if let Some(link) = answer.header("link")
        && let Some(url) = next_link(link)
        && let Some((_, rest)) = split_api_url(&url)
    {
        let (p, q) = rest.split_once('?').unwrap_or((rest, ""));
        return Some((p.to_owned(), q.to_owned()));
    }
    let page = answer.header("x-next-page")?.trim();
    if page.is_empty() {
        return None;
    }
    Some((path.to_owned(), set_param(query, "page", page)))
}

/// The ids of a list's items.
fn ids(items: &[Value]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|i| i.get("id").and_then(Value::as_u64))
        .collect()
}

/// The cassette entry for a GET and its answer (a trace cut to `trace_cap` bytes), and the
/// answer's JSON.
fn record(
    path: &str,
    query: &str,
    answer: Answer,
    trace_cap: Option<usize>,
) -> (Exchange, Option<Value>) {
    let mut headers = answer.headers;
    let mut bytes = answer.body;
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A trace: a successful answer that is not JSON (an error is recorded as it is).
    let trace_cap = trace_cap.filter(|_| {
        (200..300).contains(&answer.status)
            && !content_type.as_deref().unwrap_or("").contains("json")
    });
    if let Some(cap) = trace_cap
        && bytes.len() > cap
    {
        let original = bytes.len();
        // Cut on a character boundary.
        let mut end = cap;
        while end > 0 && (bytes[end] & 0xC0) == 0x80 {
            end -= 1;
        }
        bytes = bytes.slice(..end);
        headers.insert(TRUNCATED_HEADER, HeaderValue::from(original as u64));
    }
    let mut kept = kept_headers(&headers, RESPONSE_HEADERS);
    if let Some(link) = kept.get_mut("link") {
        *link = placeholder_link(link);
    }
    let body = if trace_cap.is_some() && !bytes.is_empty() {
        Some(Body::Text(String::from_utf8_lossy(&bytes).into_owned()))
    } else {
        body_from_bytes(content_type.as_deref(), &bytes)
    };
    let json = match &body {
        Some(Body::Json(v)) => Some(v.clone()),
        _ => None,
    };
    let exchange = Exchange {
        request: RecordedRequest {
            method: "GET".into(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Default::default(),
            body: None,
        },
        response: RecordedResponse {
            status: answer.status,
            headers: kept,
            body,
        },
    };
    (exchange, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_and_paths_become_segments() {
        assert_eq!(project_segment("42"), "42");
        assert_eq!(
            project_segment("group/sub/project"),
            "group%2Fsub%2Fproject"
        );
        assert_eq!(project_segment("group%2Fproject"), "group%2Fproject");
        assert_eq!(
            project_segment("my.group/pro-ject_1"),
            "my.group%2Fpro-ject_1"
        );
    }
}

//! Test support: a real glmock server on 127.0.0.1:0 and a small HTTP client.

#![allow(dead_code)]

use std::path::PathBuf;

use glmock::__internal::scenario::{self, Overrides, Source};
use glmock::__internal::{Server, ServerOptions};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Personal tokens of the default scenario (`fixtures/default.yaml`).
pub const ROOT: &str = "glpat-root";
pub const REPORTER: &str = "glpat-reporter";
pub const DEVELOPER: &str = "glpat-developer";
pub const ROOT_READ_ONLY: &str = "glpat-root-read";
pub const JOB_TOKEN: &str = "glcbt-default-job-10";

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A running server, shut down on drop.
pub struct TestServer {
    server: Option<Server>,
    pub url: String,
    pub client: reqwest::Client,
}

impl TestServer {
    /// The embedded default scenario.
    pub async fn default_scenario() -> TestServer {
        Self::from_sources(vec![Source::embedded_default()], Overrides::default()).await
    }

    pub async fn with_files(paths: &[&str]) -> TestServer {
        let sources = paths
            .iter()
            .map(|p| Source::read(&fixture(p)).expect("fixture readable"))
            .collect();
        Self::from_sources(sources, Overrides::default()).await
    }

    pub async fn with_yaml(yaml: &str) -> TestServer {
        Self::from_sources(
            vec![Source {
                name: "inline.yaml".into(),
                text: yaml.into(),
                dir: None,
            }],
            Overrides::default(),
        )
        .await
    }

    pub async fn from_sources(sources: Vec<Source>, overrides: Overrides) -> TestServer {
        Self::start(
            sources,
            overrides,
            // Strict contract: every response of every test must match its schema.
            ServerOptions {
                listen: ([127, 0, 0, 1], 0).into(),
                contract: glmock::__internal::contract::Mode::Strict,
                ..ServerOptions::default()
            },
        )
        .await
    }

    pub async fn start(
        sources: Vec<Source>,
        overrides: Overrides,
        options: ServerOptions,
    ) -> TestServer {
        let world =
            scenario::build(&sources, &overrides).unwrap_or_else(|e| panic!("scenario: {e}"));
        // The sources are kept, so live scenario changes and per-version sessions work.
        let kept = glmock::__internal::control::ScenarioSources {
            sources,
            overrides,
            files: Vec::new(),
        };
        let server = Server::start_with(world, Some(kept), options)
            .await
            .expect("server starts");
        let url = server.uri();
        TestServer {
            server: Some(server),
            url,
            client: reqwest::Client::new(),
        }
    }

    /// The running server's state, for tests that look at what requests did inside it.
    pub fn app(&self) -> &std::sync::Arc<glmock::__internal::App> {
        self.server.as_ref().expect("server running").app()
    }

    /// GET `/api/v4{path}` with an optional private token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(reqwest::Method::POST, path, token, None).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(
            reqwest::Method::POST,
            path,
            token,
            Some(("application/json", body.to_string())),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, token: Option<&str>, body: &str) -> Resp {
        self.send(
            reqwest::Method::POST,
            path,
            token,
            Some(("application/x-www-form-urlencoded", body.to_owned())),
        )
        .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else if path.starts_with("/-/") {
            format!("{}{path}", self.url)
        } else {
            format!("{}/api/v4{path}", self.url)
        };
        let mut req = self.client.request(method, url);
        if let Some(t) = token {
            req = req.header("PRIVATE-TOKEN", t);
        }
        if let Some((ct, b)) = body {
            req = req.header("Content-Type", ct).body(b);
        }
        Resp::from(req.send().await.expect("request sent")).await
    }

    /// An API URL inside a session: `{url}/-/sessions/{session}/api/v4{path}`.
    pub fn session_url(&self, session: &str, path: &str) -> String {
        format!("{}/-/sessions/{session}/api/v4{path}", self.url)
    }

    /// Moves a session's clock forward through the control API.
    pub async fn advance_clock(&self, session: &str, seconds: u64) -> Value {
        let path = format!("/-/glmock/clock/advance?seconds={seconds}&session={session}");
        let r = self.send(reqwest::Method::POST, &path, None, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    /// Sends a prepared request.
    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Resp {
        Resp::from(req.send().await.expect("request sent")).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            // Stop it in the background; the runtime outlives the test body.
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(server.shutdown());
            }
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    async fn from(r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body read");
        Resp {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Ids of a JSON array of objects.
    pub fn ids(&self) -> Vec<u64> {
        self.json()
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {}", self.text))
            .iter()
            .map(|j| j["id"].as_u64().expect("id"))
            .collect()
    }

    /// The `rel="next"` URL of the Link header.
    pub fn next_link(&self) -> Option<String> {
        link(self.header("link")?, "next")
    }

    pub fn link(&self, rel: &str) -> Option<String> {
        link(self.header("link")?, rel)
    }

    #[track_caller]
    pub fn assert(&self, status: u16, body: Value) {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.json(), body);
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

pub fn link(header: &str, rel: &str) -> Option<String> {
    header.split(", ").find_map(|part| {
        let (url, r) = part.split_once("; ")?;
        (r == format!("rel=\"{rel}\""))
            .then(|| url.trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

/// `glmock serve --listen 127.0.0.1:0 ARGS…` as a child process (no `RUST_LOG`,
/// `GLMOCK_ACCESS_LOG` or `GLMOCK_CONTROL_TOKEN` from the environment; stdout read up to the URL it prints, stderr
/// piped), with its base URL.
pub fn spawn_serve(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_glmock"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("GLMOCK_ACCESS_LOG")
        .env_remove("GLMOCK_CONTROL_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("glmock starts");
    let mut url = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut url)
        .expect("glmock prints its URL");
    (child, url.trim().to_owned())
}

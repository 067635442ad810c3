//! The in-process harness for Rust test suites, in the spirit of wiremock-rs.

use std::path::PathBuf;

use crate::scenario::{self, Overrides, Source};
use crate::server::{Server, ServerOptions};

/// A glmock server running inside the test process.
pub struct MockGitlab {
    server: Server,
}

/// Builds a `MockGitlab`: defaults first, knobs when needed.
#[derive(Default)]
pub struct MockGitlabBuilder {
    files: Vec<PathBuf>,
    texts: Vec<(String, String)>,
    overrides: Overrides,
}

impl MockGitlab {
    pub fn builder() -> MockGitlabBuilder {
        MockGitlabBuilder::default()
    }

    /// `http://127.0.0.1:<port>`
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

impl MockGitlabBuilder {
    /// Adds a scenario file (several merge).
    pub fn scenario(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// Adds scenario YAML given inline.
    pub fn scenario_yaml(mut self, name: &str, yaml: &str) -> Self {
        self.texts.push((name.to_owned(), yaml.to_owned()));
        self
    }

    /// Emulates another GitLab version (`"16.11"`).
    pub fn gitlab_version(mut self, v: &str) -> Self {
        self.overrides.version = crate::version::Version::parse(v);
        self
    }

    /// Starts on an ephemeral loopback port. Scenario errors become `InvalidData`.
    pub async fn start(self) -> std::io::Result<MockGitlab> {
        let mut sources = Vec::new();
        for f in &self.files {
            sources.push(Source::read(f).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
            })?);
        }
        for (name, text) in self.texts {
            sources.push(Source {
                name,
                text,
                dir: None,
            });
        }
        if sources.is_empty() {
            sources.push(Source::embedded_default());
        }
        let world = scenario::build(&sources, &self.overrides)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        let options = ServerOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            ..ServerOptions::default()
        };
        let kept = crate::control::ScenarioSources {
            sources,
            overrides: self.overrides,
            // Only `serve --watch` polls files.
            files: Vec::new(),
        };
        Ok(MockGitlab {
            server: Server::start_with(world, Some(kept), options).await?,
        })
    }
}

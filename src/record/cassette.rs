//! Cassettes: recorded exchanges with a real GitLab, as human-diffable YAML. Secrets are
//! removed before anything is written (see `redact.rs`); `Link` headers are rewritten to be
//! host-independent (`{base}` stands for the upstream's URL).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The current cassette format.
pub const FORMAT_VERSION: u32 = 1;

/// What `Link` URLs start with in a cassette instead of the upstream's URL.
pub const BASE_PLACEHOLDER: &str = "{base}";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cassette {
    /// Cassette format version (`FORMAT_VERSION`).
    pub version: u32,
    /// When the recording started (RFC 3339).
    pub recorded_at: String,
    /// The upstream's URL, or a pseudonym when URLs were redacted.
    pub upstream: String,
    /// The upstream's GitLab version (`GET /version`), when it told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitlab_version: Option<String>,
    /// `crawl` or `proxy`.
    pub mode: String,
    pub exchanges: Vec<Exchange>,
}

/// One request and its response, in the order they happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    pub response: RecordedResponse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    /// Path from `/api/v4` on, percent-encoding kept (`/api/v4/projects/g%2Fp/jobs`).
    pub path: String,
    /// Raw query string without secrets (`private_token`, `job_token` removed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// The request headers that matter (content type, accept), lower-case names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    /// The response headers that matter: content type, pagination (`x-*`), `link` (with
    /// `{base}`), `content-disposition`, `retry-after`; lower-case names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A body: parsed JSON when it is JSON, else text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    Json(serde_json::Value),
    Text(String),
}

/// Reading or writing a cassette failed.
#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    #[error("cannot read cassette {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cassette {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("cannot write cassette {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Cassette {
    pub fn new(upstream: &str, mode: &str) -> Cassette {
        Cassette {
            version: FORMAT_VERSION,
            recorded_at: format!("{:.3}", jiff::Timestamp::now()),
            upstream: upstream.to_owned(),
            gitlab_version: None,
            mode: mode.to_owned(),
            exchanges: Vec::new(),
        }
    }

    pub fn read(path: &Path) -> Result<Cassette, CassetteError> {
        let text = std::fs::read_to_string(path).map_err(|source| CassetteError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Cassette::parse(&path.display().to_string(), &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Cassette, CassetteError> {
        let options = serde_saphyr::options! { budget: None };
        serde_saphyr::from_str_with_options(text, options).map_err(|e| CassetteError::Parse {
            path: name.to_owned(),
            message: e.to_string(),
        })
    }

    /// The cassette as YAML (stable: struct fields in declaration order, maps sorted).
    pub fn to_yaml(&self) -> String {
        let mut out =
            String::from("# glmock cassette: recorded GitLab API exchanges (secrets removed)\n");
        out.push_str(&serde_saphyr::to_string(self).expect("cassettes serialize"));
        out
    }

    pub fn write(&self, path: &Path) -> Result<(), CassetteError> {
        std::fs::write(path, self.to_yaml()).map_err(|source| CassetteError::Write {
            path: path.display().to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cassettes_round_trip_through_yaml() {
        let mut c = Cassette::new("https://gitlab.example.com", "crawl");
        c.gitlab_version = Some("17.5.1".into());
        c.exchanges.push(Exchange {
            request: RecordedRequest { method: "GET".into(), path: "/api/v4/projects/1/jobs".into(), query: "per_page=2".into(), headers: BTreeMap::new(), body: None },
            response: RecordedResponse {
                status: 200,
                headers: [("x-page".to_owned(), "1".to_owned()), ("link".to_owned(), "<{base}/api/v4/projects/1/jobs?page=2>; rel=\"next\"".to_owned())].into(),
                body: Some(Body::Json(serde_json::json!([{"id": 7, "coverage": null, "duration": 0.5, "name": "a: b"}]))),
            },
        });
        c.exchanges.push(Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                path: "/api/v4/projects/1/jobs/7/trace".into(),
                query: String::new(),
                headers: BTreeMap::new(),
                body: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: BTreeMap::new(),
                body: Some(Body::Text("line 1\nline 2\n".into())),
            },
        });
        let yaml = c.to_yaml();
        assert_eq!(Cassette::parse("c.yaml", &yaml).unwrap(), c, "{yaml}");
    }
}

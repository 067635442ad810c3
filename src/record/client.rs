//! The HTTP client that talks to the upstream GitLab: a request rate limit, and retries with
//! backoff on 429 and 5xx (honouring `Retry-After`) for the crawler.

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Statuses worth another try.
pub const RETRY_STATUSES: &[u16] = &[429, 502, 503, 504];

/// The longest `Retry-After` honoured; longer waits are cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// An upstream answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many requests it took (1 when the first one was answered for good).
    pub tries: u32,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How retries are spaced.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Requests at most, the first included.
    pub max_tries: u32,
    /// First wait without `Retry-After`; doubled after each try.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 5,
            backoff: Duration::from_millis(500),
        }
    }
}

/// The upstream GitLab.
pub struct Upstream {
    /// Normalized URL (see `capture::normalize_upstream`), no trailing `/`.
    pub base: String,
    client: reqwest::Client,
    token: Option<String>,
    interval: Option<Duration>,
    next_slot: Mutex<Option<Instant>>,
    pub retry: RetryPolicy,
}

impl Upstream {
    /// `rate`: requests per second at most (`0` or infinite: no limit).
    pub fn new(
        base: &str,
        token: Option<String>,
        rate: f64,
        timeout: Duration,
    ) -> anyhow::Result<Upstream> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(15))
            .user_agent(concat!("glmock-record/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("creating the HTTP client")?;
        let interval =
            (rate.is_finite() && rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
        Ok(Upstream {
            base: base.to_owned(),
            client,
            token: token.filter(|t| !t.is_empty()),
            interval,
            next_slot: Mutex::new(None),
            retry: RetryPolicy::default(),
        })
    }

    /// Waits for the next request slot of the rate limit.
    async fn pace(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let mut slot = self.next_slot.lock().await;
        let now = Instant::now();
        if let Some(at) = *slot
            && at > now
        {
            tokio::time::sleep_until(at).await;
        }
        *slot = Some(Instant::now().max(slot.unwrap_or(now)) + interval);
    }

    /// GET `path_and_query` (from `/api/v4` on) with the token, paced and retried. Answers
    /// with the final response; fails only when the upstream could not be reached at all.
    pub async fn get(&self, path_and_query: &str) -> anyhow::Result<Answer> {
        let url = format!("{}{path_and_query}", self.base);
        let mut tries = 0;
        loop {
            tries += 1;
            self.pace().await;
            let mut req = self.client.get(&url);
            if let Some(t) = &self.token {
                req = req.header("PRIVATE-TOKEN", t);
            }
            let last = tries >= self.retry.max_tries;
            let wait = match read(req).await {
                Ok(mut answer) => {
                    if last || !RETRY_STATUSES.contains(&answer.status) {
                        answer.tries = tries;
                        return Ok(answer);
                    }
                    retry_after(answer.header("retry-after")).unwrap_or_else(|| self.backoff(tries))
                }
                Err(e) if last => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("GET {path_and_query}: upstream unreachable")));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "GET {path_and_query} failed; retrying");
                    self.backoff(tries)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, tries: u32) -> Duration {
        self.retry.backoff * 2u32.saturating_pow(tries.saturating_sub(1).min(16))
    }

    /// Sends one request as is (the proxy): no pacing, no retries, no token added.
    pub async fn forward(
        &self,
        method: Method,
        path_and_query: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Answer, reqwest::Error> {
        let url = format!("{}{path_and_query}", self.base);
        let mut req = self.client.request(method, url).headers(headers);
        if !body.is_empty() {
            req = req.body(body);
        }
        read(req).await
    }

    /// GET `/api/v4/version` once; the upstream's version when it tells.
    pub async fn version(&self) -> Option<String> {
        let mut req = self.client.get(format!("{}/api/v4/version", self.base));
        if let Some(t) = &self.token {
            req = req.header("PRIVATE-TOKEN", t);
        }
        self.pace().await;
        let answer = read(req).await.ok()?;
        if answer.status != 200 {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
        v.get("version")?.as_str().map(str::to_owned)
    }
}

async fn read(req: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?;
    Ok(Answer {
        status,
        headers,
        body,
        tries: 1,
    })
}

/// A `Retry-After` value (seconds or an HTTP date) as a wait, capped at `MAX_RETRY_AFTER`.
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    let value = value?.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64()))
    } else {
        let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
        let now = jiff::Timestamp::now();
        let ms = at.as_millisecond() - now.as_millisecond();
        Duration::from_millis(ms.max(0) as u64)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A header value from text, or `None` when it cannot be one.
pub fn header_value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("0.5")), Some(Duration::from_millis(500)));
        assert_eq!(retry_after(Some("100000")), Some(MAX_RETRY_AFTER));
        assert_eq!(
            retry_after(Some("Sun, 06 Nov 1994 08:49:37 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(Some("soon")), None);
        assert_eq!(retry_after(None), None);
    }
}

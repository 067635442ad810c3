//! The answers a fault or a limit gives, shaped as GitLab's layers give them: the API's
//! JSON 500 (Grape's `rescue_from :all`), the front end's HTML 502/503 (Workhorse serving
//! `public/502.html` / `public/503.html`) and 504 (nginx's own page), Rack::Attack's
//! `text/plain` 429 (`lib/gitlab/rack_attack.rb`) and the application limiter's JSON 429
//! (`lib/api/helpers/rate_limiter.rb`).

use bytes::Bytes;
use hyper::StatusCode;
use jiff::Timestamp;

use crate::api::{Body, Response, names};

/// Which layer answered: decides the headers around the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Rails/Grape: the usual API headers.
    Api,
    /// Workhorse or nginx in front of Rails: `text/html`, none of Rails' headers.
    FrontEnd { nginx: bool },
    /// Rack::Attack, before Rails' own middleware adds its headers.
    RackAttack,
}

/// An answer and the layer it comes from.
#[derive(Debug, Clone)]
pub struct Answer {
    pub response: Response,
    pub layer: Layer,
}

// The pages keep what a client can meet in GitLab's: the status line, `text/html`, the
// title and the message. (GitLab's own files add inline CSS and a logo.)
const PAGE_502: &str = "<!DOCTYPE html>\n<html>\n<head>\n  <meta content=\"width=device-width, initial-scale=1, maximum-scale=1\" name=\"viewport\">\n  <title>GitLab is not responding (502)</title>\n</head>\n<body>\n  <h1>\n    502\n  </h1>\n  <div class=\"container\">\n    <h3>Whoops, GitLab is taking too much time to respond.</h3>\n    <hr />\n    <p>Try refreshing the page, or going back and attempting the action again.</p>\n    <p>Please contact your GitLab administrator if this problem persists.</p>\n  </div>\n</body>\n</html>\n";
const PAGE_503: &str = "<!DOCTYPE html>\n<html>\n<head>\n  <meta content=\"width=device-width, initial-scale=1, maximum-scale=1\" name=\"viewport\">\n  <title>GitLab is not responding (503)</title>\n</head>\n<body>\n  <h1>\n    503\n  </h1>\n  <div class=\"container\">\n    <h3>Whoops, GitLab is currently unavailable.</h3>\n    <hr />\n    <p>Try refreshing the page, or going back and attempting the action again.</p>\n    <p>Please contact your GitLab administrator if this problem persists.</p>\n  </div>\n</body>\n</html>\n";
// nginx's built-in error page (ngx_http_special_response.c), as GitLab's bundled nginx sends it.
const PAGE_504: &str = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// GitLab's answer for `status` (one of `rule::STATUSES` except 429).
pub fn status(status: u16) -> Answer {
    let page = |code: StatusCode, html: &'static str, nginx: bool| Answer {
        response: Response::new(code, Body::Text(Bytes::from_static(html.as_bytes()))),
        layer: Layer::FrontEnd { nginx },
    };
    match status {
        502 => page(StatusCode::BAD_GATEWAY, PAGE_502, false),
        503 => page(StatusCode::SERVICE_UNAVAILABLE, PAGE_503, false),
        504 => page(StatusCode::GATEWAY_TIMEOUT, PAGE_504, true),
        _ => Answer {
            response: crate::api::ApiError::Internal.into_response(),
            layer: Layer::Api,
        },
    }
}

/// Rack::Attack's 429 for a throttle: `Gitlab::RackAttack.throttled_response_headers`.
pub fn throttled(name: &str, limit: u64, period: u64, observed: u64, now: Timestamp) -> Answer {
    let now_s = now.as_second();
    let period_i = period.max(1) as i64;
    let retry_after = period_i - now_s.rem_euclid(period_i);
    let reset = now_s + retry_after;
    // (limit * 1.minute / period).ceil
    let rounded_limit = (limit * 60).div_ceil(period.max(1));
    let reset_time = Timestamp::from_second(reset)
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default();
    let response = Response::new(
        StatusCode::TOO_MANY_REQUESTS,
        Body::Text(Bytes::from_static(b"Retry later\n")),
    )
    .with_header(names::RATELIMIT_NAME, name.to_owned())
    .with_header(names::RATELIMIT_LIMIT, rounded_limit.to_string())
    .with_header(names::RATELIMIT_OBSERVED, observed.to_string())
    .with_header(
        names::RATELIMIT_REMAINING,
        limit.saturating_sub(observed).to_string(),
    )
    .with_header(names::RATELIMIT_RESET, reset.to_string())
    .with_header(names::RATELIMIT_RESETTIME, reset_time)
    .with_header(hyper::header::RETRY_AFTER, retry_after.to_string());
    Answer {
        response,
        layer: Layer::RackAttack,
    }
}

/// The application limiter's 429 (`render_api_error!({error: …}, 429)`).
pub fn endpoint_limited() -> Answer {
    #[derive(serde::Serialize)]
    struct Message {
        error: &'static str,
    }
    #[derive(serde::Serialize)]
    struct Body429 {
        message: Message,
    }
    let body = serde_json::to_vec(&Body429 {
        message: Message {
            error: "This endpoint has been requested too many times. Try again later.",
        },
    })
    .expect("a static body serializes");
    Answer {
        response: Response::json(StatusCode::TOO_MANY_REQUESTS, Bytes::from(body)),
        layer: Layer::Api,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_headers_follow_rack_attack() {
        // 2026-12-03T13:00:10Z, a 60 s period: 50 s until the window turns.
        let now: Timestamp = "2026-12-03T13:00:10Z".parse().expect("timestamp");
        let a = throttled("throttle_authenticated_api", 10, 60, 11, now);
        let h: Vec<(&str, &str)> = a
            .response
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().expect("ASCII")))
            .collect();
        assert_eq!(
            h,
            vec![
                ("ratelimit-name", "throttle_authenticated_api"),
                ("ratelimit-limit", "10"),
                ("ratelimit-observed", "11"),
                ("ratelimit-remaining", "0"),
                ("ratelimit-reset", "1796302860"),
                ("ratelimit-resettime", "Thu, 03 Dec 2026 13:01:00 GMT"),
                ("retry-after", "50"),
            ]
        );
        // 7200 per hour is 120 per minute.
        let b = throttled("throttle_authenticated_api", 7200, 3600, 7201, now);
        assert_eq!(b.response.headers[1].1, "120");
    }
}

//! The one place API errors become statuses and GitLab-shaped bodies
//! (docs/gitlab-notes.md §1.1).
//! GitLab has two shapes: `{"message": …}` from its own helpers and `{"error": …}` from
//! Grape (validation, unknown routes, wrong methods).

use bytes::Bytes;
use hyper::StatusCode;
use serde::Serialize;

use super::{Body, Response};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("401 Unauthorized")]
    Unauthorized,
    #[error("token expired")]
    TokenExpired,
    #[error("token revoked")]
    TokenRevoked,
    #[error("insufficient scope")]
    InsufficientScope,
    /// `forbidden!`, optionally with a reason.
    #[error("403 Forbidden")]
    Forbidden(Option<String>),
    #[error("404 Project Not Found")]
    ProjectNotFound,
    /// `ActiveRecord::RecordNotFound`: lower-case "f".
    #[error("404 Not found")]
    RecordNotFound,
    /// `not_found!('Job')` and friends.
    #[error("404 {0} Not Found")]
    NotFound(&'static str),
    #[error("404 Not Found")]
    RouteNotFound,
    #[error("405 Not Allowed")]
    MethodNotAllowed { allow: String },
    /// Grape parameter validation: `{"error": "scope does not have a valid value"}`.
    #[error("{0}")]
    Validation(String),
    /// `bad_request!(reason)`.
    #[error("400 Bad request - {0}")]
    BadRequest(String),
    /// A 405 with a Grape-style message (pagination limits).
    #[error("{0}")]
    NotAllowedWithMessage(String),
    /// `render_validation_error!`: `{"message":{"base":["Reference not found"]}}`.
    #[error("{0:?}")]
    BaseValidation(Vec<String>),
    #[error("413 Request Entity Too Large")]
    PayloadTooLarge,
    /// A query or form Rack cannot parse (too deep, too many parameters, bad `%`, not
    /// UTF-8, NUL): `Gitlab::Middleware::HandleMalformedStrings` answers `text/plain`.
    #[error("Bad Request")]
    MalformedRequest,
    /// `conflict!(message)`: `{"message": message}`.
    #[error("{0}")]
    Conflict(String),
    #[error("unsupported content type {0}")]
    UnsupportedContentType(String),
    #[error("500 Internal Server Error")]
    Internal,
}

#[derive(Serialize)]
struct Message<'a> {
    message: &'a str,
}

#[derive(Serialize)]
struct Base<'a> {
    base: &'a [String],
}

#[derive(Serialize)]
struct ModelErrors<'a> {
    message: Base<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    Response::new(
        status,
        Body::Json(Bytes::from(
            serde_json::to_vec(body).expect("error bodies serialize"),
        )),
    )
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::TokenExpired | ApiError::TokenRevoked => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::InsufficientScope | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::ProjectNotFound
            | ApiError::RecordNotFound
            | ApiError::NotFound(_)
            | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } | ApiError::NotAllowedWithMessage(_) => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            ApiError::Validation(_)
            | ApiError::BadRequest(_)
            | ApiError::BaseValidation(_)
            | ApiError::MalformedRequest => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedContentType(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response GitLab would send.
    pub fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::MalformedRequest => {
                Response::new(status, Body::Text(Bytes::from_static(b"Bad Request")))
            }
            ApiError::BaseValidation(messages) => json(
                status,
                &ModelErrors {
                    message: Base { base: messages },
                },
            ),
            ApiError::Forbidden(Some(reason)) => json(
                status,
                &Message {
                    message: &format!("403 Forbidden - {reason}"),
                },
            ),
            ApiError::Unauthorized
            | ApiError::Forbidden(None)
            | ApiError::ProjectNotFound
            | ApiError::RecordNotFound
            | ApiError::NotFound(_)
            | ApiError::BadRequest(_)
            | ApiError::PayloadTooLarge
            | ApiError::Conflict(_)
            | ApiError::Internal => json(
                status,
                &Message {
                    message: &self.to_string(),
                },
            ),
            ApiError::RouteNotFound
            | ApiError::Validation(_)
            | ApiError::NotAllowedWithMessage(_) => json(
                status,
                &ErrorBody {
                    error: &self.to_string(),
                },
            ),
            ApiError::MethodNotAllowed { allow } => json(
                status,
                &ErrorBody {
                    error: &self.to_string(),
                },
            )
            .with_header(hyper::header::ALLOW, allow.clone()),
            ApiError::UnsupportedContentType(ct) => json(
                status,
                &ErrorBody {
                    error: &format!("The provided content-type '{ct}' is not supported."),
                },
            ),
            ApiError::TokenExpired | ApiError::TokenRevoked => {
                let description = if self == ApiError::TokenExpired {
                    "Token is expired. You can either do re-authorization or token refresh."
                } else {
                    "Token was revoked. You have to re-authorize from the user."
                };
                json(status, &OAuthError { error: "invalid_token", error_description: description, scope: None })
                    .with_header(hyper::header::WWW_AUTHENTICATE, format!("Bearer realm=\"The API\", error=\"invalid_token\", error_description=\"{description}\""))
            }
            ApiError::InsufficientScope => {
                let description =
                    "The request requires higher privileges than provided by the access token.";
                json(status, &OAuthError { error: "insufficient_scope", error_description: description, scope: Some("api") })
                    .with_header(hyper::header::WWW_AUTHENTICATE, format!("Bearer realm=\"The API\", error=\"insufficient_scope\", error_description=\"{description}\", scope=\"api\""))
            }
        }
    }
}

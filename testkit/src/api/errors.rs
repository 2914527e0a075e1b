//! Attio's error bodies, as the fake and the wiremock fixtures send them.
//!
//! Attio documents the bodies of 400, 404 and 409 (type
//! `invalid_request_error`, codes `validation_type`, `not_found`,
//! `uniqueness_conflict`) and 429 (`rate_limit_error`,
//! `rate_limit_exceeded`). For the statuses it does not document, the
//! testkit uses the same shape with these choices (listed in the crate docs):
//!
//! | status | `type` | `code` |
//! |---|---|---|
//! | 401 | `authentication_error` | `unauthorized` |
//! | 403 | `authorization_error` | `missing_scope` |
//! | 405 | `invalid_request_error` | `method_not_allowed` (with an `Allow` header) |
//! | 408 | `invalid_request_error` | `request_timeout` |
//! | 413 | `invalid_request_error` | `payload_too_large` |
//! | 503 (HTTP door at its connection cap) | `internal_server_error` | `at_capacity` |
//! | other 5xx | `internal_server_error` | `internal_error` |

use attio_webhooks::{error::ApiErrorBody, error::ErrorType, ErrorCode};

use crate::workspace::WorkspaceError;

/// 400 `validation_type`: the body or query is not valid.
pub(crate) fn validation(message: impl Into<String>) -> ApiErrorBody {
    ApiErrorBody::new(
        400,
        ErrorType::InvalidRequest,
        ErrorCode::ValidationType,
        message,
    )
}

/// 404 `not_found` for a webhook id, with Attio's message:
/// `Webhook with ID "<id>" was not found.`
pub(crate) fn not_found(webhook_id: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        404,
        ErrorType::InvalidRequest,
        ErrorCode::NotFound,
        format!("Webhook with ID \"{webhook_id}\" was not found."),
    )
}

/// 404 `not_found` for a path the API does not have.
pub(crate) fn no_such_route(method: &str, path: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        404,
        ErrorType::InvalidRequest,
        ErrorCode::NotFound,
        format!("No route for {method} {path}."),
    )
}

/// 405: `path` exists, not for `method`; it allows `allow`.
pub(crate) fn method_not_allowed(method: &str, path: &str, allow: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        405,
        ErrorType::InvalidRequest,
        ErrorCode::from("method_not_allowed"),
        format!("{path} does not allow {method}; it allows {allow}."),
    )
}

/// 409 `uniqueness_conflict`.
pub(crate) fn conflict(message: impl Into<String>) -> ApiErrorBody {
    ApiErrorBody::new(
        409,
        ErrorType::InvalidRequest,
        ErrorCode::UniquenessConflict,
        message,
    )
}

/// 401: missing, malformed or unknown bearer token.
pub(crate) fn unauthorized(message: impl Into<String>) -> ApiErrorBody {
    ApiErrorBody::new(
        401,
        ErrorType::from("authentication_error"),
        ErrorCode::from("unauthorized"),
        message,
    )
}

/// 403: the token lacks `scope`.
pub(crate) fn forbidden(scope: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        403,
        ErrorType::from("authorization_error"),
        ErrorCode::from("missing_scope"),
        format!("This request requires the \"{scope}\" scope."),
    )
}

/// 429 `rate_limit_exceeded`.
pub(crate) fn rate_limited() -> ApiErrorBody {
    ApiErrorBody::new(
        429,
        ErrorType::RateLimit,
        ErrorCode::RateLimitExceeded,
        "Rate limit exceeded, please try again later",
    )
}

/// 413: the request body is over `limit` bytes.
pub(crate) fn payload_too_large(limit: usize) -> ApiErrorBody {
    ApiErrorBody::new(
        413,
        ErrorType::InvalidRequest,
        ErrorCode::from("payload_too_large"),
        format!("The request body is larger than {limit} bytes."),
    )
}

/// 408: the request body did not arrive in time.
#[cfg(feature = "server")]
pub(crate) fn request_timeout() -> ApiErrorBody {
    ApiErrorBody::new(
        408,
        ErrorType::InvalidRequest,
        ErrorCode::from("request_timeout"),
        "The request body did not arrive in time.",
    )
}

/// 503: an API request on a connection the HTTP door admitted beyond its
/// cap of `max` connections, which is kept for the control plane.
#[cfg(feature = "server")]
pub(crate) fn at_capacity(max: usize) -> ApiErrorBody {
    ApiErrorBody::new(
        503,
        ErrorType::from("internal_server_error"),
        ErrorCode::from("at_capacity"),
        format!(
            "All {max} of the fake's connections are running a request; this connection is kept for the control routes ({}) and the health route. Retry shortly.",
            super::route::CONTROL_PREFIX
        ),
    )
}

/// 5xx `internal_error`.
pub(crate) fn server_error(status: u16) -> ApiErrorBody {
    ApiErrorBody::new(
        status,
        ErrorType::from("internal_server_error"),
        ErrorCode::from("internal_error"),
        "An unexpected error occurred.",
    )
}

/// 404 `unknown_idempotency_key` from the redeliver control route: the
/// delivery log holds no message with `key`.
pub(crate) fn unknown_idempotency_key(key: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        404,
        ErrorType::InvalidRequest,
        ErrorCode::from(UNKNOWN_IDEMPOTENCY_KEY),
        crate::delivery::RedeliveryError::UnknownKey {
            key: key.to_owned(),
        }
        .to_string(),
    )
}

/// The `code` of [`unknown_idempotency_key`].
pub(crate) const UNKNOWN_IDEMPOTENCY_KEY: &str = "unknown_idempotency_key";

/// A 5xx `internal_error` with `message`.
pub(crate) fn server_error_with(status: u16, message: String) -> ApiErrorBody {
    ApiErrorBody::new(
        status,
        ErrorType::from("internal_server_error"),
        ErrorCode::from("internal_error"),
        message,
    )
}

/// The body the testkit sends for any error `status` when nothing more
/// specific is known (fault injection, fixtures).
pub(crate) fn for_status(status: u16) -> ApiErrorBody {
    match status {
        400 => validation("Body payload validation error."),
        401 => unauthorized("Invalid or missing bearer token."),
        403 => forbidden("webhook:read-write"),
        404 => ApiErrorBody::new(
            404,
            ErrorType::InvalidRequest,
            ErrorCode::NotFound,
            "Webhook not found",
        ),
        409 => conflict("A webhook with this target URL, event type and filter already exists."),
        413 => payload_too_large(crate::limits::MAX_BODY_BYTES),
        429 => rate_limited(),
        s if s >= 500 => server_error(s),
        s => ApiErrorBody::new(
            s,
            ErrorType::InvalidRequest,
            ErrorCode::from("error"),
            "Request failed.",
        ),
    }
}

/// Attio's answer to a refusal of the workspace. `prefix` is the JSON path
/// of the webhook in the request body (`data` for create and update,
/// `data[2]` for the third seed).
pub(crate) fn from_workspace(error: WorkspaceError, prefix: &str) -> ApiErrorBody {
    match error {
        WorkspaceError::Invalid { at, reason } => validation(format!(
            "Body payload validation error at {prefix}.{at}: {reason}"
        )),
        WorkspaceError::Conflict(message) => conflict(message),
        WorkspaceError::NotFound(id) => not_found(&id),
        WorkspaceError::Refused(message) => validation(message),
    }
}

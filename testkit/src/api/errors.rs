//! Attio's error bodies, as the fake and the wiremock fixtures send them.
//!
//! Every row says where its body comes from (FIDELITY.md keeps them all):
//!
//! | status | `type` | `code` | `message` | source |
//! |---|---|---|---|---|
//! | 400 (body) | `invalid_request_error` | `validation_type` | `Body payload validation error.`, with `validation_errors` | observed live (rbeene/attio_ruby, 2025-07-27) |
//! | 400 (query) | `invalid_request_error` | `validation_type` | the fake's wording | the fake's choice |
//! | 401 (unknown token) | `auth_error` | `unauthorized` | `The API Key provided could not be found. This is most commonly caused by the token having been revoked.` | observed live (segevsh/w6w-apps README, 2026-08-03) |
//! | 401 (no header) | `auth_error` | `unauthorized` | `The Authorization header was not provided.` | observed live (segevsh/w6w-apps `lib/client.ts`, 2026-08-03) |
//! | 401 (malformed header) | `auth_error` | `unauthorized` | the fake's wording | the fake's choice |
//! | 403 | `auth_error` | `unauthorized` | `The API Key provided is not authorized to perform the requested action. This request requires scopes: Read-Write access to the Webhooks scope.` | type and code observed live on `POST /v2/webhooks` (amp-labs/connectors PR 3231); the message as observed on other endpoints, with the fake's wording for webhooks |
//! | 404 (get, update) | `invalid_request_error` | `not_found` | `Webhook with ID "<id>" was not found.` | documented (OpenAPI) |
//! | 404 (delete) | `invalid_request_error` | `not_found` | `Webhook not found` | documented (OpenAPI) |
//! | 404 (no such route) | `invalid_request_error` | `not_found` | `Could not find endpoint "GET /v2/…".` | observed live (rbeene/attio_ruby) |
//! | 405 | `invalid_request_error` | `method_not_allowed` (with an `Allow` header) | | the fake's choice |
//! | 408 | `invalid_request_error` | `request_timeout` | | the fake's choice |
//! | 409 | `invalid_request_error` | `uniqueness_conflict` | | the fake's choice (Attio documents no 409) |
//! | 413 | `invalid_request_error` | `payload_too_large` | | the fake's choice |
//! | 429 | `rate_limit_error` | `rate_limit_exceeded` | | documented |
//! | 503 (HTTP door at its connection cap) | `internal_server_error` | `at_capacity` | | the fake's choice |
//! | 401 (a workspace token that is not, or no longer, valid; a workspace's token on a route it does not open) | `auth_error` | `unauthorized` | the fake's wording | the fake's choice (workspaces are the fake's own) |
//! | 404 (`DELETE /__fake/workspaces/{id}` of no workspace) | `invalid_request_error` | `unknown_workspace` | | the fake's choice |
//! | 503 (no room for another workspace) | `internal_server_error` | `workspace_limit` | | the fake's choice |
//! | 504 (`POST /__fake/deliveries/settle` past its timeout) | `internal_server_error` | `settle_timeout` | | the fake's choice |
//! | other 5xx | `internal_server_error` | `internal_error` | | the fake's choice |

use attio_webhooks::error::{ApiErrorBody, ErrorType, PathSegment, ValidationError};
use attio_webhooks::ErrorCode;

use super::validation::segments;
use crate::workspace::WorkspaceError;

/// Attio's `message` for a webhook body it refuses.
pub(crate) const BODY_INVALID: &str = "Body payload validation error.";

/// 400 `validation_type` with a message of its own and no
/// `validation_errors`: a query, a body that is not JSON, a control route.
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

/// 400 `validation_type` for a body: Attio's message and one entry per
/// refused field.
pub(crate) fn invalid_body(errors: Vec<ValidationError>) -> ApiErrorBody {
    validation(BODY_INVALID).with_validation_errors(errors)
}

/// 404 `not_found` for a `DELETE` of a webhook that is not there, with the
/// message Attio documents for it: `Webhook not found`.
pub(crate) fn not_found_to_delete() -> ApiErrorBody {
    ApiErrorBody::new(
        404,
        ErrorType::InvalidRequest,
        ErrorCode::NotFound,
        "Webhook not found",
    )
}

/// 404 `not_found` for a path the API does not have, as Attio answers it:
/// `Could not find endpoint "GET /v2/attributes/non-existent-id".`
pub(crate) fn no_such_route(method: &str, path: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        404,
        ErrorType::InvalidRequest,
        ErrorCode::NotFound,
        format!("Could not find endpoint \"{method} {path}\"."),
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

/// Attio's 401 message for a token it does not know, observed live
/// (rbeene/attio_ruby's capture, 2025-07-27; segevsh/w6w-apps).
pub(crate) const UNKNOWN_TOKEN: &str = "The API Key provided could not be found. This is most commonly caused by the token having been revoked.";

/// The 401 message for a workspace token the fake does not hold: its
/// workspace was deleted (or dropped for idleness), or it was never issued.
pub(crate) const UNKNOWN_WORKSPACE_TOKEN: &str =
    "This workspace token is not valid: its workspace was deleted, or it was never issued.";

/// The 401 message for a workspace's token on the server-wide workspace routes.
pub(crate) const SERVER_ROUTE: &str =
    "The workspace routes (/__fake/workspaces) need the server's control token, not a workspace's.";

/// The 401 message for a workspace's API token on a control route.
pub(crate) const API_TOKEN_ON_CONTROL: &str =
    "The control routes need the workspace's control token, not an API token.";

/// 401 `auth_error`/`unauthorized`: missing, malformed or unknown bearer
/// token.
pub(crate) fn unauthorized(message: impl Into<String>) -> ApiErrorBody {
    ApiErrorBody::new(401, ErrorType::Auth, ErrorCode::Unauthorized, message)
}

/// Attio's 401 message when no `Authorization` header came, observed live
/// (segevsh/w6w-apps `apps/attio/lib/client.ts`, 2026-08-03).
pub(crate) const NO_AUTHORIZATION: &str = "The Authorization header was not provided.";

/// 403 `auth_error`/`unauthorized` (observed live on `POST /v2/webhooks`,
/// amp-labs/connectors PR 3231): the token lacks the scope whose access
/// `access` names (`Read`, `Read-Write`). The message follows the live
/// 403s of other endpoints ("... This request requires scopes: Read-Write
/// access to the Records scope."); its webhooks wording is the fake's
/// extrapolation.
pub(crate) fn forbidden(access: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        403,
        ErrorType::Auth,
        ErrorCode::Unauthorized,
        format!("The API Key provided is not authorized to perform the requested action. This request requires scopes: {access} access to the Webhooks scope."),
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

/// 404 `unknown_workspace`: `DELETE /__fake/workspaces/{id}` of no workspace.
pub(crate) fn unknown_workspace(id: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        404,
        ErrorType::InvalidRequest,
        ErrorCode::from("unknown_workspace"),
        format!("The fake holds no workspace {id:?} (deleted, expired, or never created)."),
    )
}

/// 503 `workspace_limit`: no room for another workspace, and why.
pub(crate) fn workspace_limit(refused: &super::workspaces::CreateWorkspaceError) -> ApiErrorBody {
    ApiErrorBody::new(
        503,
        ErrorType::from("internal_server_error"),
        ErrorCode::from("workspace_limit"),
        refused.to_string(),
    )
}

/// 504 `settle_timeout`: deliveries still due after `timeout`.
pub(crate) fn settle_timeout(timeout: std::time::Duration) -> ApiErrorBody {
    ApiErrorBody::new(
        504,
        ErrorType::from("internal_server_error"),
        ErrorCode::from("settle_timeout"),
        format!(
            "Deliveries were still due or in flight after {} s.",
            timeout.as_secs_f64()
        ),
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
        400 => validation(BODY_INVALID),
        401 => unauthorized(UNKNOWN_TOKEN),
        403 => forbidden("Read-Write"),
        404 => not_found_to_delete(),
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
/// `data[2]` for the third seed). A refusal by Attio's rules is one
/// `custom` entry of `validation_errors` with the reason as its message
/// (the code is the fake's choice: no live answer shows one).
pub(crate) fn from_workspace(error: WorkspaceError, prefix: &str) -> ApiErrorBody {
    match error {
        WorkspaceError::Invalid { at, reason } => {
            let mut path: Vec<PathSegment> = segments(prefix);
            path.extend(segments(&at));
            invalid_body(vec![ValidationError::new("custom", path, reason)])
        }
        WorkspaceError::Conflict(message) => conflict(message),
        WorkspaceError::NotFound(id) => not_found(&id),
        WorkspaceError::Refused(message) => validation(message),
    }
}

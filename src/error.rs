//! The one error type of the crate, and the evidence each variant keeps.

use core::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;

/// A boxed error from a transport or another source outside this crate.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong talking to Attio.
///
/// Each variant keeps what a caller needs to act or to report: the parsed
/// Attio error body, the `Retry-After` of a 429, the transport's own error,
/// or the raw bytes and JSON path of a response that did not decode. The
/// `is_*` helpers answer the usual questions without a `match`.
///
/// ```
/// # use attio_webhooks::{Error, error::InvalidInput};
/// let err = Error::from(InvalidInput::EmptyToken);
/// assert!(!err.is_not_found());
/// assert_eq!(err.status(), None);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Attio answered with an error status and an Attio error body.
    #[error("Attio answered {}: {}", .0.status, .0.body)]
    Api(ApiError),
    /// Attio answered 429 and the retry policy gave up (or was off).
    #[error("rate limited by Attio{}", .0.retry_after.map(|r| format!(" (retry after {r})")).unwrap_or_default())]
    RateLimited(RateLimited),
    /// The transport could not exchange the request for a response
    /// (connection refused or reset, DNS, TLS, body too large, ...).
    ///
    /// Displays as the transport error itself, one line that says what
    /// happened (the crate's transports use [`crate::TransportError`]:
    /// `could not connect to api.attio.com:443: Connection refused (os
    /// error 111)`); its source chain is the transport error's.
    #[error(transparent)]
    Transport(BoxError),
    /// One attempt got no response within the per-attempt timeout (and the
    /// retry policy gave up, or was off).
    #[error("no response within the {0:?} attempt timeout")]
    Timeout(Duration),
    /// The whole call (every attempt and the waits between them) did not
    /// finish within its overall deadline
    /// ([`ClientBuilder::deadline`](crate::ClientBuilder::deadline)).
    #[error("the call did not finish within its {0:?} overall deadline (attempts and retry waits included)")]
    Deadline(Duration),
    /// A response arrived but its body was not what the operation expects.
    #[error(transparent)]
    Decode(DecodeError),
    /// The request was rejected before sending; nothing went over the wire.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
}

impl Error {
    /// The HTTP status of the response behind this error, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::RateLimited(_) => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::Decode(e) => Some(e.status),
            _ => None,
        }
    }

    /// Attio's error body, when the response carried one.
    pub fn api_error(&self) -> Option<&ApiErrorBody> {
        match self {
            Error::Api(e) => Some(&e.body),
            Error::RateLimited(e) => e.body.as_ref(),
            _ => None,
        }
    }

    /// 404: the webhook does not exist (or the id was not a UUID).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// 400: Attio rejected the request body or query (`validation_type`).
    pub fn is_validation(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }

    /// 409: a (target URL, event type, filter) triple already exists (`uniqueness_conflict`).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// 429: too many requests; see [`Error::retry_after`].
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RateLimited(_))
    }

    /// 401: the token is missing, unknown or revoked.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// 403: the token lacks the scope the operation needs.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// Any 5xx answer.
    pub fn is_server_error(&self) -> bool {
        self.status().is_some_and(|s| s.is_server_error())
    }

    /// An attempt timed out, the whole call ran past its deadline, or the
    /// transport's own time limit ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_) | Error::Deadline(_))
            || self
                .transport_error()
                .is_some_and(|e| e.kind() == crate::transport::TransportErrorKind::Timeout)
    }

    /// The transport's error, when it is a [`crate::TransportError`] (as
    /// with every transport of this crate).
    pub fn transport_error(&self) -> Option<&crate::TransportError> {
        match self {
            Error::Transport(e) => e.downcast_ref(),
            _ => None,
        }
    }

    /// No connection could be made (DNS, refused, unreachable, TLS, proxy):
    /// the request never reached Attio.
    pub fn is_connect(&self) -> bool {
        self.transport_error()
            .is_some_and(|e| !e.request_may_have_been_sent())
    }

    /// The `Retry-After` of a 429, if Attio sent a readable one.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            Error::RateLimited(e) => e.retry_after,
            _ => None,
        }
    }
}

/// An error status from Attio together with its parsed body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The `{status_code, type, code, message}` body.
    pub body: ApiErrorBody,
}

impl ApiError {
    /// An answer with `status` and `body` (for test doubles that return
    /// [`Error::Api`]).
    pub fn new(status: StatusCode, body: ApiErrorBody) -> Self {
        Self { status, body }
    }
}

/// Attio's error body: `{"status_code","type","code","message"}`.
///
/// ```
/// use attio_webhooks::{error::ApiErrorBody, ErrorCode};
/// let body: ApiErrorBody = serde_json::from_str(
///     r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Webhook with ID \"x\" was not found."}"#,
/// )?;
/// assert_eq!(body.code, ErrorCode::NotFound);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiErrorBody {
    /// The HTTP status, repeated in the body.
    pub status_code: u16,
    /// The broad class of error.
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// The specific error.
    pub code: ErrorCode,
    /// A human-readable explanation.
    pub message: String,
}

impl ApiErrorBody {
    /// Builds a body.
    pub fn new(
        status_code: u16,
        kind: ErrorType,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status_code,
            kind,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.kind, self.message)
    }
}

open_enum! {
    /// The `type` of an Attio error body.
    ///
    /// Attio documents `invalid_request_error` and `rate_limit_error`.
    /// Anything else (the types of 401, 403 and 5xx bodies, which Attio does
    /// not document, or a type Attio adds later) is kept in `Unknown` and
    /// written back unchanged.
    pub enum ErrorType {
        /// `invalid_request_error`: 400, 404, 409.
        InvalidRequest => "invalid_request_error",
        /// `rate_limit_error`: 429.
        RateLimit => "rate_limit_error",
    }
}

open_enum! {
    /// The `code` of an Attio error body.
    ///
    /// These are the codes Attio's webhooks spec documents. Any other
    /// (the codes of 401, 403 and 5xx bodies, or one Attio adds later) is
    /// kept in `Unknown` and written back unchanged:
    /// `ErrorCode::from("missing_scope")`.
    pub enum ErrorCode {
        /// `validation_type`: the request body or query is not valid (400).
        ValidationType => "validation_type",
        /// `uniqueness_conflict`: a duplicate (target URL, event type, filter) triple (409).
        UniquenessConflict => "uniqueness_conflict",
        /// `not_found`: no such webhook (404).
        NotFound => "not_found",
        /// `rate_limit_exceeded`: too many requests (429).
        RateLimitExceeded => "rate_limit_exceeded",
    }
}

/// What a 429 said: its `Retry-After` (if readable) and body (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimited {
    /// When Attio will take requests again.
    pub retry_after: Option<RetryAfter>,
    /// The `rate_limit_error` body, if it parsed.
    pub body: Option<ApiErrorBody>,
}

impl RateLimited {
    /// A 429 with this `Retry-After` and body (for test doubles that
    /// return [`Error::RateLimited`]).
    pub fn new(retry_after: Option<RetryAfter>, body: Option<ApiErrorBody>) -> Self {
        Self { retry_after, body }
    }
}

/// A parsed `Retry-After` header: either an HTTP date (what Attio sends,
/// e.g. `Tue, 23 May 2023 14:42:01 GMT`) or a number of seconds.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use attio_webhooks::error::RetryAfter;
/// let at = RetryAfter::parse("Tue, 23 May 2023 14:42:01 GMT").unwrap();
/// let now = UNIX_EPOCH + Duration::from_secs(1_684_852_920); // 14:42:00
/// assert_eq!(at.delay_from(now), Duration::from_secs(1));
/// assert_eq!(RetryAfter::parse("3").unwrap().delay_from(now), Duration::from_secs(3));
/// assert_eq!(RetryAfter::parse("soon"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Delay(Duration),
    /// `Retry-After: <HTTP-date>`.
    At(SystemTime),
}

impl RetryAfter {
    /// Parses a header value; `None` if it is neither form.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(RetryAfter::Delay(Duration::from_secs(seconds)));
        }
        httpdate::parse_http_date(value).ok().map(RetryAfter::At)
    }

    /// Reads the `Retry-After` header of a response.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Self> {
        headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(Self::parse)
    }

    /// How long to wait, counted from `now`; zero for a date in the past.
    pub fn delay_from(&self, now: SystemTime) -> Duration {
        match *self {
            RetryAfter::Delay(d) => d,
            RetryAfter::At(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RetryAfter::Delay(d) => write!(f, "{}s", d.as_secs()),
            RetryAfter::At(at) => f.write_str(&httpdate::fmt_http_date(at)),
        }
    }
}

/// A response whose body could not be decoded into what the operation
/// expects: malformed or truncated JSON, a wrong type, a missing key.
/// Keeps the raw bytes and the JSON path where decoding stopped.
///
/// `Debug` shows the body's length, not its bytes: the body of a create
/// answer holds the new webhook's secret, and errors end up in logs and
/// panic messages. Read [`DecodeError::body`] to see the bytes.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not decode the {status} response at `{path}`: {message}")]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The body exactly as received.
    pub body: Bytes,
    /// Where decoding failed, e.g. `data[3].subscriptions[0].filter`;
    /// `.` for the whole document.
    pub path: String,
    /// What the JSON parser said.
    pub message: String,
    /// `true` when the bytes are not JSON at all (bad syntax, cut short,
    /// trailing bytes); `false` when they are JSON of the wrong shape.
    pub malformed: bool,
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("status", &self.status)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("path", &self.path)
            .field("message", &self.message)
            .field("malformed", &self.malformed)
            .finish()
    }
}

/// Input rejected before anything was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// The target URL is not one Attio accepts.
    #[error("target_url {url:?} rejected: {reason}")]
    TargetUrl {
        /// The URL given.
        url: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A webhook needs at least one subscription.
    #[error("a webhook needs at least one subscription")]
    NoSubscriptions,
    /// The API token is empty.
    #[error("the API token is empty")]
    EmptyToken,
    /// The API token cannot be sent in a header (control characters, non-ASCII).
    #[error("the API token contains characters not allowed in an HTTP header")]
    TokenNotAHeaderValue,
    /// A list `limit` or page size outside Attio's 10..=100.
    #[error("limit {0} is outside Attio's 10..=100")]
    Limit(u32),
    /// An id that is not a UUID.
    #[error("{kind} {value:?} is not a UUID")]
    Id {
        /// Which id it was meant to be.
        kind: &'static str,
        /// The text given.
        value: String,
    },
    /// A timestamp that is not RFC 3339.
    #[error("{value:?} is not an RFC 3339 timestamp: {reason}")]
    Timestamp {
        /// The text given.
        value: String,
        /// What the parser said.
        reason: String,
    },
    /// A base URL that is not an absolute http(s) URL.
    #[error("base URL {url:?} rejected: {reason}")]
    BaseUrl {
        /// The URL given.
        url: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The request body could not be encoded as JSON.
    #[error("the request body could not be encoded: {0}")]
    Body(String),
    /// The client was built without a timer (see [`crate::runtime::AsyncSleep`]).
    #[error("no timer: enable the `tokio` feature or pass one with `ClientBuilder::sleep`")]
    NoTimer,
    /// The client was built without a clock on a target that has none,
    /// `wasm32-unknown-unknown` (see [`crate::runtime::Clock`]).
    #[error("no clock: this target has none, pass one with `ClientBuilder::clock`")]
    NoClock,
}

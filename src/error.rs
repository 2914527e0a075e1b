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
/// let err = Error::from(InvalidInput::NoSubscriptions);
/// assert!(!err.is_not_found());
/// assert_eq!(err.status(), None);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Attio answered with an error status and an Attio error body.
    ///
    /// Displays the status and the body; a 400 names each field Attio
    /// refused (`data.target_url: Required (expected string, received
    /// undefined)`).
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
    /// The client could not be built as configured (so that `?` on
    /// [`ClientBuilder::build`](crate::ClientBuilder::build) works in a
    /// function returning [`Error`]).
    #[error("invalid client configuration: {0}")]
    Config(#[from] ConfigError),
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
            Error::RateLimited(e) => e.body.as_deref(),
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

    /// The `Retry-After` of a 429, if Attio sent a readable one.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            Error::RateLimited(e) => e.retry_after,
            _ => None,
        }
    }

    /// The `X-Attio-Execution-Id` of the answer behind this error: the id
    /// Attio's support asks for. Attio sends one (a fresh UUID) with every
    /// answer; `None` when there was no answer or it carried none.
    ///
    /// ```
    /// use attio_webhooks::{operations::GetWebhook, RequestExt, WebhookId};
    /// let answer = http::Response::builder()
    ///     .status(404)
    ///     .header("x-attio-execution-id", "6efd6d02-9ba7-467a-bdc1-d1361327f446")
    ///     .body(bytes::Bytes::from_static(
    ///         br#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Webhook not found"}"#,
    ///     ))?;
    /// let err = GetWebhook::decode(answer).unwrap_err();
    /// assert_eq!(err.execution_id(), Some("6efd6d02-9ba7-467a-bdc1-d1361327f446"));
    /// # Ok::<(), http::Error>(())
    /// ```
    pub fn execution_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.execution_id.as_deref(),
            Error::RateLimited(e) => e.execution_id.as_deref(),
            Error::Decode(e) => e.execution_id.as_deref(),
            _ => None,
        }
    }

    /// The fields Attio refused, for a 400 that listed them (empty
    /// otherwise): each with its path (`data.target_url`), code and message.
    pub fn validation_errors(&self) -> &[ValidationError] {
        self.api_error().map_or(&[], |body| &body.validation_errors)
    }
}

/// The header in which Attio names each answer: `X-Attio-Execution-Id`, a
/// fresh UUID per answer, which Attio's support asks for (seen on every
/// live answer, e.g. rbeene/attio_ruby's `api_response_documentation.md`,
/// captured 2025-07-27).
pub const EXECUTION_ID_HEADER: &str = "x-attio-execution-id";

/// The execution id of an answer, if it carries a readable one.
pub(crate) fn execution_id(headers: &http::HeaderMap) -> Option<Box<str>> {
    headers
        .get(EXECUTION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(Box::from)
}

/// An error status from Attio together with its parsed body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The `{status_code, type, code, message}` body.
    pub body: ApiErrorBody,
    /// The answer's `X-Attio-Execution-Id`, if it had one (boxed, which
    /// keeps [`Error`] small).
    pub execution_id: Option<Box<str>>,
}

impl ApiError {
    /// An answer with `status` and `body` (for test doubles that return
    /// [`Error::Api`]).
    pub fn new(status: StatusCode, body: ApiErrorBody) -> Self {
        Self {
            status,
            body,
            execution_id: None,
        }
    }

    /// The same answer, naming its `X-Attio-Execution-Id`.
    pub fn with_execution_id(mut self, id: impl Into<String>) -> Self {
        self.execution_id = Some(id.into().into_boxed_str());
        self
    }
}

/// Attio's error body: `{"status_code","type","code","message"}`, and on
/// a 400 the `validation_errors` that name each refused field.
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
    /// What a 400 refused, field by field (empty when the body has none).
    /// Attio answers a webhook body it refuses with
    /// `"message":"Body payload validation error."` and one entry per
    /// field here.
    /// (A boxed slice, which keeps [`Error`] small: index and iterate it
    /// as a slice.)
    ///
    /// Read leniently, so that an odd diagnostic never costs the status,
    /// type and code: a `null` or a value that is not an array reads as
    /// empty, and an entry that is not an object is skipped (both are
    /// dropped: written back, the body lacks them). An entry that is an
    /// object is kept, however its keys look (see [`ValidationError`]).
    #[serde(
        default,
        deserialize_with = "lenient_entries",
        skip_serializing_if = "no_entries"
    )]
    pub validation_errors: Box<[ValidationError]>,
}

/// `validation_errors` as [`ApiErrorBody`] documents it: the entries that
/// are objects, nothing for any other value.
fn lenient_entries<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Box<[ValidationError]>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Array(entries) => entries
            .into_iter()
            .filter_map(|entry| match entry {
                serde_json::Value::Object(entry) => Some(ValidationError::from_entry(entry)),
                _ => None,
            })
            .collect(),
        _ => Box::default(),
    })
}

fn no_entries(errors: &[ValidationError]) -> bool {
    errors.is_empty()
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
            validation_errors: Box::default(),
        }
    }

    /// The same body, listing `errors` in `validation_errors`.
    pub fn with_validation_errors(mut self, errors: Vec<ValidationError>) -> Self {
        self.validation_errors = errors.into_boxed_slice();
        self
    }
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.kind, self.message)?;
        for (i, error) in self.validation_errors.iter().enumerate() {
            f.write_str(if i == 0 { " [" } else { "; " })?;
            write!(f, "{error}")?;
        }
        if !self.validation_errors.is_empty() {
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// One refused field of a 400: where (`path`), Attio's `code` for the
/// problem (`invalid_type`, `invalid_option`, ...) and its `message`, plus
/// whatever else Attio said of it (`expected` and `received` for
/// `invalid_type`, `options` for `invalid_option`), kept in `details`.
///
/// Seen live: `{"code":"invalid_type","path":["data","target_url"],
/// "message":"Required","expected":"string","received":"undefined"}`
/// (rbeene/attio_ruby's `api_response_documentation.md`, 2025-07-27).
///
/// Any JSON object reads as an entry, and nothing it holds is lost: a
/// `code` or `message` that is not a string, or a `path` that is not an
/// array, is kept in `details` under its own key (the field is then
/// empty), and a path element that is neither a key nor an index is kept
/// as [`PathSegment::Other`]. Written back, an empty `code`, `path` or
/// `message` gives way to the `details` entry of the same key, if any; a
/// field that is set wins over it.
///
/// ```
/// use attio_webhooks::error::ApiErrorBody;
/// let body: ApiErrorBody = serde_json::from_str(
///     r#"{"status_code":400,"type":"invalid_request_error","code":"validation_type","message":"Body payload validation error.","validation_errors":[{"code":"invalid_type","path":["data","target_url"],"message":"Required","expected":"string","received":"undefined"}]}"#,
/// )?;
/// let refused = &body.validation_errors[0];
/// assert_eq!(refused.path_string(), "data.target_url");
/// assert_eq!(refused.expected(), Some("string"));
/// assert_eq!(
///     body.to_string(),
///     "validation_type (invalid_request_error): Body payload validation error. \
///      [data.target_url: Required (invalid_type; expected string, received undefined)]"
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationError {
    /// The kind of problem, e.g. `invalid_type` (empty when the entry had
    /// none, or one that is not a string: that one is in `details`).
    pub code: String,
    /// Where, from the body's root: `["data", "subscriptions", 0, "filter"]`
    /// (empty when the entry had none, or one that is not an array: that
    /// one is in `details`).
    pub path: Vec<PathSegment>,
    /// What Attio said, e.g. `Required` (empty when the entry had none, or
    /// one that is not a string: that one is in `details`).
    pub message: String,
    /// Every other key of the entry, as sent (`expected`, `received`,
    /// `options`, ...), and a `code`, `path` or `message` of another type
    /// than the field's.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Serialize for ValidationError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // A field written by its own name; the details entry of that name
        // only stands in for an empty field.
        let code = !self.code.is_empty() || !self.details.contains_key("code");
        let path = !self.path.is_empty() || !self.details.contains_key("path");
        let message = !self.message.is_empty() || !self.details.contains_key("message");
        let shadowed = |key: &str| match key {
            "code" => code,
            "path" => path,
            "message" => message,
            _ => false,
        };
        let len = usize::from(code)
            + usize::from(path)
            + usize::from(message)
            + self.details.keys().filter(|k| !shadowed(k)).count();
        let mut map = serializer.serialize_map(Some(len))?;
        if code {
            map.serialize_entry("code", &self.code)?;
        }
        if path {
            map.serialize_entry("path", &self.path)?;
        }
        if message {
            map.serialize_entry("message", &self.message)?;
        }
        for (key, value) in &self.details {
            if !shadowed(key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ValidationError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Map::deserialize(deserializer).map(Self::from_entry)
    }
}

impl ValidationError {
    /// An entry with no details.
    pub fn new(
        code: impl Into<String>,
        path: Vec<PathSegment>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            path,
            message: message.into(),
            details: serde_json::Map::new(),
        }
    }

    /// The entry a JSON object holds (see [`ValidationError`] for what
    /// becomes of a key of an unexpected type).
    fn from_entry(mut details: serde_json::Map<String, serde_json::Value>) -> Self {
        use serde_json::Value;
        let mut string = |key: &str| match details.remove(key) {
            Some(Value::String(text)) => text,
            Some(other) => {
                details.insert(key.to_owned(), other);
                String::new()
            }
            None => String::new(),
        };
        let code = string("code");
        let message = string("message");
        let path = match details.remove("path") {
            Some(Value::Array(segments)) => segments.into_iter().map(PathSegment::from).collect(),
            Some(other) => {
                details.insert("path".to_owned(), other);
                Vec::new()
            }
            None => Vec::new(),
        };
        Self {
            code,
            path,
            message,
            details,
        }
    }

    /// The same entry with `key` set to `value` in its details.
    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// The type Attio expected (`string`, `array`), for `invalid_type`.
    pub fn expected(&self) -> Option<&str> {
        self.details.get("expected").and_then(|v| v.as_str())
    }

    /// The type Attio found (`undefined` for a missing key), for `invalid_type`.
    pub fn received(&self) -> Option<&str> {
        self.details.get("received").and_then(|v| v.as_str())
    }

    /// The path as one string: `data.subscriptions[0].event_type`.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            match segment {
                PathSegment::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                PathSegment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
                PathSegment::Other(value) => {
                    out.push('[');
                    out.push_str(&value.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path_string();
        let path = if path.is_empty() { "(body)" } else { &path };
        write!(f, "{path}: {} ({}", self.message, self.code)?;
        match (self.expected(), self.received()) {
            (Some(expected), Some(received)) => {
                write!(f, "; expected {expected}, received {received}")?
            }
            (Some(expected), None) => write!(f, "; expected {expected}")?,
            _ => {}
        }
        f.write_str(")")
    }
}

/// One step of a [`ValidationError`]'s path: an object key or an array
/// index, or any other JSON value the path held, kept as sent.
///
/// ```
/// use attio_webhooks::error::{ApiErrorBody, PathSegment};
/// let body: ApiErrorBody = serde_json::from_str(
///     r#"{"status_code":400,"type":"invalid_request_error","code":"validation_type","message":"m","validation_errors":[{"code":"c","path":["data",-1,null],"message":"m"}]}"#,
/// )?;
/// let path = &body.validation_errors[0].path;
/// assert_eq!(path[1], PathSegment::Other(serde_json::json!(-1)));
/// assert_eq!(body.validation_errors[0].path_string(), "data[-1][null]");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum PathSegment {
    /// An array index.
    Index(u64),
    /// An object key.
    Key(String),
    /// Anything else (`null`, a negative or fractional number, an object,
    /// an array, a boolean), as sent. `path_string` writes it in brackets,
    /// as JSON.
    Other(serde_json::Value),
}

impl From<serde_json::Value> for PathSegment {
    /// A string is a key, a non-negative integer an index, anything else
    /// [`PathSegment::Other`].
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::String(key) => PathSegment::Key(key),
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(index) => PathSegment::Index(index),
                None => PathSegment::Other(serde_json::Value::Number(n)),
            },
            other => PathSegment::Other(other),
        }
    }
}

impl From<&str> for PathSegment {
    fn from(key: &str) -> Self {
        PathSegment::Key(key.to_owned())
    }
}

impl From<u64> for PathSegment {
    fn from(index: u64) -> Self {
        PathSegment::Index(index)
    }
}

open_enum! {
    /// The `type` of an Attio error body.
    ///
    /// Attio documents `invalid_request_error` and `rate_limit_error`;
    /// live 401 and 403 answers say `auth_error` (rbeene/attio_ruby,
    /// 2025-07-27; amp-labs/connectors PR 3231, 2026-07-22). Anything else
    /// (the types of 5xx bodies, or a type Attio adds later) is kept in
    /// `Unknown` and written back unchanged.
    pub enum ErrorType {
        /// `invalid_request_error`: 400, 404, 409.
        InvalidRequest => "invalid_request_error",
        /// `rate_limit_error`: 429.
        RateLimit => "rate_limit_error",
        /// `auth_error`: 401 and 403, as Attio answers them live.
        Auth => "auth_error",
    }
}

open_enum! {
    /// The `code` of an Attio error body.
    ///
    /// These are the codes Attio's webhooks spec documents, and
    /// `unauthorized`, which live 401 and 403 answers carry. Any other (the
    /// codes of 5xx bodies, or one Attio adds later) is kept in `Unknown`
    /// and written back unchanged: `ErrorCode::from("missing_scope")`.
    pub enum ErrorCode {
        /// `validation_type`: the request body or query is not valid (400).
        ValidationType => "validation_type",
        /// `uniqueness_conflict`: a duplicate (target URL, event type, filter) triple (409).
        UniquenessConflict => "uniqueness_conflict",
        /// `not_found`: no such webhook (404).
        NotFound => "not_found",
        /// `rate_limit_exceeded`: too many requests (429).
        RateLimitExceeded => "rate_limit_exceeded",
        /// `unauthorized`: the token is missing, unknown, revoked, or lacks
        /// a scope (401 and 403, as Attio answers them live).
        Unauthorized => "unauthorized",
    }
}

/// What a 429 said: its `Retry-After` (if readable) and body (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimited {
    /// When Attio will take requests again.
    pub retry_after: Option<RetryAfter>,
    /// The `rate_limit_error` body, if it parsed (boxed, which keeps
    /// [`Error`] small).
    pub body: Option<Box<ApiErrorBody>>,
    /// The answer's `X-Attio-Execution-Id`, if it had one.
    pub execution_id: Option<Box<str>>,
}

impl RateLimited {
    /// A 429 with this `Retry-After` and body (for test doubles that
    /// return [`Error::RateLimited`]).
    pub fn new(retry_after: Option<RetryAfter>, body: Option<ApiErrorBody>) -> Self {
        Self {
            retry_after,
            body: body.map(Box::new),
            execution_id: None,
        }
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
    /// The answer's `X-Attio-Execution-Id`, if it had one.
    pub execution_id: Option<Box<str>>,
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("status", &self.status)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("path", &self.path)
            .field("message", &self.message)
            .field("malformed", &self.malformed)
            .field("execution_id", &self.execution_id)
            .finish()
    }
}

/// A request's input, rejected before anything was sent: the call's own
/// arguments (target URL, subscriptions, ids, limits), never the client's
/// set-up ([`ConfigError`]).
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
    /// The request body could not be encoded as JSON.
    #[error("the request body could not be encoded: {0}")]
    Body(String),
}

/// A client or endpoint that cannot be built as configured: the token, the
/// base URL, or a timer or clock the target lacks. Returned by
/// [`Endpoint::new`](crate::client::Endpoint::new),
/// [`ClientBuilder::build`](crate::ClientBuilder::build) and
/// [`Client::new`](crate::Client::new), before any request exists.
///
/// ```
/// use attio_webhooks::{error::ConfigError, client::Endpoint};
/// assert_eq!(Endpoint::new("").unwrap_err(), ConfigError::EmptyToken);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The API token is empty.
    #[error("the API token is empty")]
    EmptyToken,
    /// The API token cannot be sent in a header (control characters, non-ASCII).
    #[error("the API token contains characters not allowed in an HTTP header")]
    TokenNotAHeaderValue,
    /// A base URL that is not an absolute http(s) URL.
    #[error("base URL {url:?} rejected: {reason}")]
    BaseUrl {
        /// The URL given.
        url: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The client was built without a timer (see [`crate::runtime::AsyncSleep`]).
    #[error("no timer: enable the `tokio` feature or pass one with `ClientBuilder::sleep`")]
    NoTimer,
    /// The client was built without a clock on a target that has none,
    /// `wasm32-unknown-unknown` (see [`crate::runtime::Clock`]).
    #[error("no clock: this target has none, pass one with `ClientBuilder::clock`")]
    NoClock,
}

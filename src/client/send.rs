//! The one send path: validate, build, send with a timeout, retry, decode.

use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures::future::{select, Either};
use http::StatusCode;
use tracing::field::Empty;
use tracing::{Instrument, Span};

use super::retry::StopReason;
use super::retry::{AttemptFailure, RetryDecision};
use super::{Client, SendOptions};
use crate::error::{ApiErrorBody, BoxError, Error, ErrorCode, EXECUTION_ID_HEADER};
use crate::metrics::{self, AttemptLabels};
use crate::operations::{decode_json, Request, RequestExt};
use crate::transport::{Transport, TransportError, TransportErrorKind};

impl<T: Transport> Client<T> {
    /// Sends any operation with the client's timeout, deadline and retry policy.
    pub async fn send<R: Request + Sync>(&self, request: &R) -> Result<R::Response, Error> {
        self.send_with(request, &SendOptions::default()).await
    }

    /// Sends any operation, with per-call overrides.
    ///
    /// The request is validated and built once. Each attempt gets the
    /// timeout; after a failure the [`crate::RetryPolicy`] decides whether
    /// to wait and try again. The last response (or failure) is decoded
    /// into the result.
    ///
    /// # Spans
    ///
    /// Each call is an INFO span by the OpenTelemetry HTTP client
    /// conventions, with one child INFO span per attempt, through
    /// `tracing` (bridge them to OpenTelemetry with `tracing-opentelemetry`,
    /// which reads the `otel.*` fields; the client adds no exporter). The
    /// token, the `Authorization` header and query values other than
    /// `limit` and `offset` appear in none of them. A request refused
    /// before anything is sent (invalid input) opens none.
    ///
    /// The call span, `attio.webhooks.call`, is named (`otel.name`) after
    /// the operation ([`Request::NAME`]: `attio.webhooks.create`, `.list`,
    /// `.get`, `.update`, `.delete`) and has:
    ///
    /// | field | value |
    /// |---|---|
    /// | `attio.operation` | [`Request::NAME`] |
    /// | `http.request.method` | `GET`, `POST`, ... |
    /// | `server.address`, `server.port` | from the base URL |
    /// | `url.template` | [`Request::URL_TEMPLATE`], e.g. `/v2/webhooks/{webhook_id}` |
    /// | `attio.attempts` | attempts made |
    /// | `attio.retry.backoff_total_s` | the retry waits, summed, in seconds |
    /// | `http.response.status_code` | the last answer's status |
    /// | `attio.execution_id` | the last answer's `X-Attio-Execution-Id` |
    /// | `error.type` | when the call fails: the status (`"503"`), `timeout`, `deadline`, `decode`, or the transport's [`crate::transport::TransportErrorKind`] (`connect`, `tls`, ...) |
    /// | `otel.status_code` | `ERROR` when it fails |
    ///
    /// Each attempt span, `attio.webhooks.attempt` (`otel.kind` `client`),
    /// is named `{method} {url.template}` (`GET /v2/webhooks/{webhook_id}`,
    /// or the method alone for an operation without a template), covers
    /// the exchange, and has `http.request.method`, `server.address`,
    /// `server.port`, `url.full` (no user info; query values other than
    /// `limit` and `offset` read `REDACTED`), `url.template`,
    /// `http.request.resend_count` (1 on the first retry, absent on the
    /// first attempt), `http.response.status_code`, `attio.execution_id`,
    /// `error.type` (the status for 4xx and 5xx answers, or as above) with
    /// `otel.status_code` `ERROR`, and after a failure the retry decision:
    /// `attio.retry.decision` (`retry`, `stop` or `deadline`: the wait
    /// would pass the deadline), `attio.retry.stop_reason`
    /// (`attempts_exhausted`, `wait_budget_exhausted`,
    /// `retry_after_too_long`, `not_idempotent`) and
    /// `attio.retry.backoff_s`, the wait in seconds before the next attempt (which
    /// runs outside the attempt span).
    ///
    /// With no subscriber (or one that does not want them), the spans cost
    /// a cached callsite check each and no field is computed.
    ///
    /// The deadline bounds the whole call: an attempt still running when it
    /// passes is abandoned with [`Error::Deadline`], and a retry whose wait
    /// would end past it is not made (the last failure is returned).
    ///
    /// When an attempt's outcome is unknown (a 5xx, a timeout, a connection
    /// lost after the request may have been sent) and a later attempt gets
    /// Attio's 404 `not_found`, [`Request::already_done`] decides: a
    /// `DELETE` counts as done, since the earlier attempt is what removed the
    /// webhook. A 404 on the first attempt is always an error.
    pub async fn send_with<R: Request + Sync>(
        &self,
        request: &R,
        options: &SendOptions,
    ) -> Result<R::Response, Error> {
        let shared = &*self.shared;
        let first = shared.endpoint.build(request)?;
        let policy = options.retry.as_ref().unwrap_or(&shared.retry);
        let timeout = options.timeout.unwrap_or(shared.timeout);
        let deadline = options
            .deadline
            .unwrap_or(shared.deadline)
            .map(|overall| Deadline {
                overall,
                ends: shared.clock.monotonic().checked_add(overall),
            });
        let now = || shared.clock.monotonic();
        // The clock is read for the durations only when metrics record.
        let call_started = metrics::ON.then(now);
        let idempotent = request.idempotent();
        // The field values are computed only when a subscriber wants the span.
        let call = tracing::info_span!(
            "attio.webhooks.call",
            "otel.name" = R::NAME,
            "otel.status_code" = Empty,
            "attio.operation" = R::NAME,
            "http.request.method" = first.method().as_str(),
            "server.address" = first.uri().host(),
            "server.port" = server_port(first.uri()),
            "url.template" = R::URL_TEMPLATE,
            "attio.attempts" = Empty,
            "attio.retry.backoff_total_s" = Empty,
            "http.response.status_code" = Empty,
            "attio.execution_id" = Empty,
            "error.type" = Empty,
        );
        let traced = !call.is_disabled();
        let call_handle = call.clone();

        async move {
            let mut attempts = 0u32;
            let mut waited = Duration::ZERO;
            // The last answer's status and execution id, for the call span
            // (kept only when it is recorded).
            let mut last_status = None;
            let mut last_execution_id = None;
            let result = async {
                let mut prebuilt = Some(first);
                // Whether an earlier attempt may have been carried out although
                // no success came back.
                let mut outcome_unknown = false;
                loop {
                    attempts += 1;
                    // Building is pure and cheap next to a backoff, so a retry
                    // builds the request again instead of keeping a copy around.
                    let http_request = match prebuilt.take() {
                        Some(built) => built,
                        None => shared.endpoint.build(request)?,
                    };
                    let attempt = tracing::info_span!(
                        "attio.webhooks.attempt",
                        "otel.name" = %AttemptName(http_request.method(), R::URL_TEMPLATE),
                        "otel.kind" = "client",
                        "otel.status_code" = Empty,
                        "http.request.method" = http_request.method().as_str(),
                        "server.address" = http_request.uri().host(),
                        "server.port" = server_port(http_request.uri()),
                        "url.full" = %FullUrl(http_request.uri()),
                        "url.template" = R::URL_TEMPLATE,
                        "http.request.resend_count" = attempts.checked_sub(1).filter(|&n| n > 0).map(i64::from),
                        "http.response.status_code" = Empty,
                        "attio.execution_id" = Empty,
                        "error.type" = Empty,
                        "attio.retry.decision" = Empty,
                        "attio.retry.stop_reason" = Empty,
                        "attio.retry.backoff_s" = Empty,
                    );
                    let method = metrics::ON.then(|| http_request.method().clone());
                    let attempt_started = metrics::ON.then(now);
                    let outcome = self
                        .exchange(http_request, timeout, deadline)
                        .instrument(attempt.clone())
                        .await;
                    if let (Some(method), Some(started)) = (method, attempt_started) {
                        let error_type = AttemptError::of(&outcome);
                        let labels = AttemptLabels {
                            operation: R::NAME,
                            method: &method,
                            server: &shared.server_labels,
                            url_template: R::URL_TEMPLATE,
                            status: outcome.as_ref().ok().map(|r| r.status()),
                            error_type: error_type.as_ref().map(AttemptError::as_str),
                        };
                        metrics::attempt(&labels, now().saturating_sub(started));
                    }
                    if traced {
                        record_attempt(&attempt, &outcome);
                        if let Ok(response) = &outcome {
                            last_status = Some(response.status());
                            last_execution_id =
                                response.headers().get(EXECUTION_ID_HEADER).cloned();
                        }
                    }
                    let failure = match &outcome {
                        Ok(response) => {
                            if outcome_unknown && is_not_found(response) {
                                if let Some(done) = request.already_done() {
                                    tracing::debug!(
                                        parent: &attempt,
                                        "404 after an attempt with unknown outcome: done"
                                    );
                                    return Ok(done);
                                }
                            }
                            // Most answers are successes: skip the clock read for them.
                            (!response.status().is_success())
                                .then(|| {
                                    AttemptFailure::from_response(
                                        response.status(),
                                        response.headers(),
                                        shared.clock.wall(),
                                    )
                                })
                                .flatten()
                        }
                        Err(Failed::Deadline(overall)) => return Err(Error::Deadline(*overall)),
                        Err(Failed::Timeout(_)) => Some(AttemptFailure::Timeout),
                        Err(Failed::Transport {
                            retryable: true, ..
                        }) => Some(AttemptFailure::Connection),
                        Err(Failed::Transport {
                            retryable: false, ..
                        }) => None,
                    };
                    let Some(failure) = failure else {
                        return R::decode(outcome.map_err(Error::from)?);
                    };
                    outcome_unknown |= match &outcome {
                        Ok(response) => response.status().is_server_error(),
                        Err(Failed::Transport { maybe_sent, .. }) => *maybe_sent,
                        Err(Failed::Timeout(_)) => true,
                        Err(Failed::Deadline(_)) => false,
                    };
                    match policy.decide(&failure, idempotent, attempts, waited, crate::runtime::jitter()) {
                        RetryDecision::Retry(delay)
                            if deadline.is_some_and(|d| d.passed_after(delay, now())) =>
                        {
                            attempt.record("attio.retry.decision", "deadline");
                            tracing::debug!(
                                parent: &attempt,
                                ?failure,
                                ?delay,
                                "giving up: the wait would pass the deadline"
                            );
                            return R::decode(outcome.map_err(Error::from)?);
                        }
                        RetryDecision::Retry(delay) => {
                            metrics::retry(R::NAME, retry_reason(&failure));
                            if traced {
                                attempt.record("attio.retry.decision", "retry");
                                attempt.record("attio.retry.backoff_s", delay.as_secs_f64());
                            }
                            tracing::debug!(parent: &attempt, ?failure, ?delay, "retrying");
                            // The attempt span ends here: the wait is the call's.
                            drop(attempt);
                            shared.sleep.sleep(delay).await;
                            waited += delay;
                        }
                        RetryDecision::Stop(reason) => {
                            if traced {
                                attempt.record("attio.retry.decision", "stop");
                                attempt.record("attio.retry.stop_reason", stop_reason(reason));
                            }
                            tracing::debug!(parent: &attempt, ?failure, ?reason, "giving up");
                            return R::decode(outcome.map_err(Error::from)?);
                        }
                    }
                }
            }
            .await;
            if let Some(started) = call_started {
                let error_type = result.as_ref().err().map(error_type);
                metrics::call(R::NAME, error_type, now().saturating_sub(started));
            }
            if traced {
                let call = call_handle;
                call.record("attio.attempts", i64::from(attempts));
                call.record("attio.retry.backoff_total_s", waited.as_secs_f64());
                if let Some(status) = last_status {
                    call.record("http.response.status_code", i64::from(status.as_u16()));
                }
                if let Some(id) = last_execution_id.as_ref().and_then(|v| v.to_str().ok()) {
                    call.record("attio.execution_id", id);
                }
                if let Err(error) = &result {
                    call.record("error.type", error_type(error));
                    call.record("otel.status_code", "ERROR");
                }
            }
            result
        }
        .instrument(call)
        .await
    }

    /// One attempt: the transport's exchange, bounded by `timeout` and by
    /// what is left of the call's deadline, whichever ends first.
    async fn exchange(
        &self,
        request: http::Request<Bytes>,
        timeout: Option<Duration>,
        deadline: Option<Deadline>,
    ) -> Result<http::Response<Bytes>, Failed> {
        let clock = &*self.shared.clock;
        let started = clock.monotonic();
        let left = deadline.map(|d| (d, d.left(started)));
        // The bound that ends first, and the error it makes.
        let limit = match (timeout, left) {
            (Some(t), Some((d, left))) if left < t => Some((left, Failed::Deadline(d.overall))),
            (Some(t), _) => Some((t, Failed::Timeout(t))),
            (None, Some((d, left))) => Some((left, Failed::Deadline(d.overall))),
            (None, None) => None,
        };
        let mut send = self.transport.send(request);
        let result = match limit {
            None => send.await,
            // A transport that answers on the first poll (an in-process fake,
            // a cache) never needs the timer; only a pending send arms it,
            // for what is left of the limit.
            Some((limit, expired)) => match futures::poll!(&mut send) {
                Poll::Ready(result) => result,
                Poll::Pending => match select(
                    send,
                    self.shared
                        .sleep
                        .sleep(limit.saturating_sub(clock.monotonic().saturating_sub(started))),
                )
                .await
                {
                    Either::Left((result, _)) => result,
                    Either::Right(_) => return Err(expired),
                },
            },
        };
        result.map_err(|error| Failed::Transport {
            retryable: T::is_retryable(&error),
            maybe_sent: T::request_may_have_been_sent(&error),
            error: Box::new(error),
        })
    }
}

/// Records an attempt's answer (or failure) on its span.
fn record_attempt(span: &Span, outcome: &Result<http::Response<Bytes>, Failed>) {
    if let Ok(response) = outcome {
        span.record(
            "http.response.status_code",
            i64::from(response.status().as_u16()),
        );
        if let Some(id) = response
            .headers()
            .get(EXECUTION_ID_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            span.record("attio.execution_id", id);
        }
    }
    if let Some(error_type) = AttemptError::of(outcome) {
        span.record("error.type", error_type.as_str());
        span.record("otel.status_code", "ERROR");
    }
}

/// An attempt's `error.type`: the status of a 4xx or 5xx answer, or why no
/// answer came.
enum AttemptError {
    Status(StatusCode),
    Class(&'static str),
}

impl AttemptError {
    /// `None` for an answer below 400.
    fn of(outcome: &Result<http::Response<Bytes>, Failed>) -> Option<Self> {
        match outcome {
            Ok(response) if response.status().as_u16() < 400 => None,
            Ok(response) => Some(Self::Status(response.status())),
            Err(Failed::Timeout(_)) => Some(Self::Class("timeout")),
            Err(Failed::Deadline(_)) => Some(Self::Class("deadline")),
            Err(Failed::Transport { error, .. }) => Some(Self::Class(transport_error_type(error))),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Status(status) => status.as_str(),
            Self::Class(class) => class,
        }
    }
}

/// `attio.retry.reason` of a retry: the status, `timeout` or `connection`.
fn retry_reason(failure: &AttemptFailure) -> &'static str {
    match failure {
        AttemptFailure::RateLimited { .. } => "429",
        AttemptFailure::ServerError(500) => "500",
        AttemptFailure::ServerError(502) => "502",
        AttemptFailure::ServerError(503) => "503",
        AttemptFailure::ServerError(504) => "504",
        AttemptFailure::ServerError(_) => "5xx",
        AttemptFailure::Connection => "connection",
        AttemptFailure::Timeout => "timeout",
    }
}

/// `error.type` of a failed call: the status of an answer, or a class.
fn error_type(error: &Error) -> &str {
    match error {
        Error::Api(e) => e.status.as_str(),
        Error::RateLimited(_) => "429",
        Error::Transport(e) => transport_error_type(e),
        Error::Timeout(_) => "timeout",
        Error::Deadline(_) => "deadline",
        Error::Decode(_) => "decode",
        Error::InvalidInput(_) => "invalid_input",
        Error::Config(_) => "config",
    }
}

/// A transport failure's class: its [`TransportErrorKind`] when it is a
/// [`TransportError`], `transport` otherwise.
fn transport_error_type(error: &BoxError) -> &'static str {
    let Some(error) = error.downcast_ref::<TransportError>() else {
        return "transport";
    };
    match error.kind() {
        TransportErrorKind::Dns => "dns",
        TransportErrorKind::Connect => "connect",
        TransportErrorKind::Proxy => "proxy",
        TransportErrorKind::Tls => "tls",
        TransportErrorKind::Timeout => "timeout",
        TransportErrorKind::ConnectionClosed => "connection_closed",
        TransportErrorKind::BodyTooLarge => "body_too_large",
        TransportErrorKind::Protocol => "protocol",
        TransportErrorKind::Unsupported => "unsupported",
        TransportErrorKind::Other => "transport",
    }
}

fn stop_reason(reason: StopReason) -> &'static str {
    match reason {
        StopReason::AttemptsExhausted => "attempts_exhausted",
        StopReason::WaitBudgetExhausted => "wait_budget_exhausted",
        StopReason::RetryAfterTooLong => "retry_after_too_long",
        StopReason::NotIdempotent => "not_idempotent",
    }
}

/// `server.port`: the URI's, or its scheme's default. (Integers go into
/// the spans as `i64`: `tracing-opentelemetry` makes an unsigned one a
/// string attribute.)
fn server_port(uri: &http::Uri) -> Option<i64> {
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    port.map(i64::from)
}

/// An attempt span's name by the conventions: `{method} {url.template}`,
/// or the method alone.
struct AttemptName<'a>(&'a http::Method, Option<&'static str>);

impl std::fmt::Display for AttemptName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(template) => write!(f, "{} {template}", self.0),
            None => f.write_str(self.0.as_str()),
        }
    }
}

/// Query parameters whose values `url.full` shows; every other value reads
/// `REDACTED` (an operation of your own may carry a secret in its query).
const SHOWN_QUERY: &[&str] = &["limit", "offset"];

/// `url.full`: scheme, host, port, path and query, without user info.
struct FullUrl<'a>(&'a http::Uri);

impl std::fmt::Display for FullUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uri = self.0;
        if let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) {
            write!(f, "{scheme}://{host}")?;
            if let Some(port) = uri.port_u16() {
                write!(f, ":{port}")?;
            }
        }
        f.write_str(uri.path())?;
        if let Some(query) = uri.query() {
            for (i, pair) in query.split('&').enumerate() {
                f.write_str(if i == 0 { "?" } else { "&" })?;
                match pair.split_once('=') {
                    Some((key, value)) if SHOWN_QUERY.contains(&key) => write!(f, "{key}={value}")?,
                    Some((key, _)) => write!(f, "{key}=REDACTED")?,
                    None => f.write_str(pair)?,
                }
            }
        }
        Ok(())
    }
}

/// Attio's 404 `not_found`: the webhook is not there.
fn is_not_found(response: &http::Response<Bytes>) -> bool {
    response.status() == StatusCode::NOT_FOUND
        && decode_json::<ApiErrorBody>(StatusCode::NOT_FOUND, response.body())
            .is_ok_and(|body| body.code == ErrorCode::NotFound)
}

/// The bound of a whole call.
#[derive(Clone, Copy)]
struct Deadline {
    overall: Duration,
    /// When it passes on the client's [`Clock::monotonic`](crate::runtime::Clock::monotonic);
    /// `None` when `overall` is too far away to represent: never.
    ends: Option<Duration>,
}

impl Deadline {
    /// What is left of it at `now` (a monotonic reading).
    fn left(&self, now: Duration) -> Duration {
        self.ends
            .map_or(Duration::MAX, |ends| ends.saturating_sub(now))
    }

    /// Whether waiting `delay` from `now` would end at or past it.
    fn passed_after(&self, delay: Duration, now: Duration) -> bool {
        delay >= self.left(now)
    }
}

/// An attempt that got no response.
enum Failed {
    Timeout(Duration),
    Deadline(Duration),
    Transport {
        error: BoxError,
        retryable: bool,
        maybe_sent: bool,
    },
}

impl From<Failed> for Error {
    fn from(failed: Failed) -> Self {
        match failed {
            Failed::Timeout(limit) => Error::Timeout(limit),
            Failed::Deadline(overall) => Error::Deadline(overall),
            Failed::Transport { error, .. } => Error::Transport(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::runtime::{AsyncSleep, Sleep};
    use crate::transport::TransportError;
    use crate::{ClientBuilder, WebhookId};

    /// Plays back a script of outcomes.
    struct Scripted(Mutex<VecDeque<Result<http::Response<Bytes>, TransportError>>>);

    #[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
    #[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
    impl Transport for Scripted {
        type Error = TransportError;
        async fn send(
            &self,
            _: http::Request<Bytes>,
        ) -> Result<http::Response<Bytes>, TransportError> {
            self.0.lock().unwrap().pop_front().expect("no more answers")
        }
        // is_retryable and request_may_have_been_sent: the trait's
        // defaults, which read a TransportError.
    }

    #[derive(Debug)]
    struct NoWait;
    impl AsyncSleep for NoWait {
        fn sleep(&self, _: Duration) -> Sleep {
            Box::pin(std::future::ready(()))
        }
    }

    /// A builder that never waits. On wasm32-unknown-unknown, which has no
    /// standard clock, the client needs one (`InvalidInput::NoClock`
    /// otherwise): it gets the manual clock there, and the default elsewhere.
    fn no_wait() -> ClientBuilder {
        let builder = ClientBuilder::new("t").sleep(NoWait);
        if cfg!(all(target_family = "wasm", target_os = "unknown")) {
            builder.clock(Manual::default())
        } else {
            builder
        }
    }

    fn not_found() -> http::Response<Bytes> {
        let body = r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Webhook with ID \"00000000-0000-0000-0000-000000000001\" was not found."}"#;
        http::Response::builder()
            .status(404)
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    fn delete_after(first: TransportError) -> (Result<(), Error>, usize) {
        let script = Scripted(Mutex::new(VecDeque::from([Err(first), Ok(not_found())])));
        let client = no_wait().build(script).unwrap();
        let result = futures::executor::block_on(client.delete_webhook(WebhookId::from_u128(1)));
        let left = client.transport().0.lock().unwrap().len();
        (result, 2 - left)
    }

    #[test]
    fn a_connection_lost_after_sending_makes_a_later_404_a_success() {
        let reset = TransportError::from_source(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(reset.request_may_have_been_sent());
        let (result, attempts) = delete_after(reset);
        assert_eq!(attempts, 2);
        result.unwrap();
    }

    #[test]
    fn a_refused_connection_sent_nothing_so_a_later_404_stands() {
        let refused =
            TransportError::from_source(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(!refused.request_may_have_been_sent());
        let (result, attempts) = delete_after(refused);
        assert_eq!(attempts, 2);
        assert!(result.unwrap_err().is_not_found());
    }

    #[test]
    fn a_404_without_attios_not_found_body_stands() {
        let reset = TransportError::from_source(io::Error::from(io::ErrorKind::ConnectionReset));
        let proxy_404 = http::Response::builder()
            .status(404)
            .body(Bytes::from_static(b"<html>no such route</html>"))
            .unwrap();
        let script = Scripted(Mutex::new(VecDeque::from([Err(reset), Ok(proxy_404)])));
        let client = no_wait().build(script).unwrap();
        let result = futures::executor::block_on(client.delete_webhook(WebhookId::from_u128(1)));
        assert!(matches!(result, Err(Error::Decode(_))), "{result:?}");
    }

    /// A clock that moves only when told to, shared by a test's sleep and
    /// transport.
    #[derive(Debug, Default)]
    struct Manual(Mutex<Duration>);

    impl Manual {
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl crate::runtime::Clock for Manual {
        fn monotonic(&self) -> Duration {
            *self.0.lock().unwrap()
        }
        fn wall(&self) -> std::time::SystemTime {
            // 2024-01-01T00:00:00Z, then as far on as the clock moved.
            std::time::SystemTime::UNIX_EPOCH
                + Duration::from_secs(1_704_067_200)
                + self.monotonic()
        }
    }

    /// Sleeps by moving the clock, and notes each wait.
    #[derive(Debug)]
    struct ClockSleep(Arc<Manual>, Arc<Mutex<Vec<Duration>>>);
    impl AsyncSleep for ClockSleep {
        fn sleep(&self, duration: Duration) -> Sleep {
            self.0.advance(duration);
            self.1.lock().unwrap().push(duration);
            Box::pin(std::future::ready(()))
        }
    }

    /// Plays back a script, each answer taking `step` on the clock.
    struct Slow {
        clock: Arc<Manual>,
        step: Duration,
        script: Scripted,
    }

    #[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
    #[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
    impl Transport for Slow {
        type Error = TransportError;
        async fn send(
            &self,
            request: http::Request<Bytes>,
        ) -> Result<http::Response<Bytes>, TransportError> {
            self.clock.advance(self.step);
            self.script.send(request).await
        }
    }

    fn slow_client(
        step: Duration,
        answers: Vec<http::Response<Bytes>>,
    ) -> (Client<Slow>, Arc<Mutex<Vec<Duration>>>) {
        let clock = Arc::new(Manual::default());
        let waits = Arc::new(Mutex::new(Vec::new()));
        let transport = Slow {
            clock: Arc::clone(&clock),
            step,
            script: Scripted(Mutex::new(answers.into_iter().map(Ok).collect())),
        };
        let client = ClientBuilder::new("t")
            .clock(Arc::clone(&clock))
            .sleep(ClockSleep(clock, Arc::clone(&waits)))
            .build(transport)
            .unwrap();
        (client, waits)
    }

    fn status(code: u16, headers: &[(&str, String)]) -> http::Response<Bytes> {
        let mut response = http::Response::builder().status(code);
        for (name, value) in headers {
            response = response.header(*name, value);
        }
        response
            .body(Bytes::from_static(br#"{"data":[]}"#))
            .unwrap()
    }

    #[test]
    fn an_http_date_retry_after_is_read_on_the_clients_clock() {
        let clock = Manual::default();
        let at =
            httpdate::fmt_http_date(crate::runtime::Clock::wall(&clock) + Duration::from_secs(7));
        let (client, waits) = slow_client(
            Duration::ZERO,
            vec![status(429, &[("retry-after", at)]), status(200, &[])],
        );
        let listed = futures::executor::block_on(
            client.list_webhooks(crate::operations::ListWebhooks::new()),
        );
        assert!(listed.unwrap().is_empty());
        assert_eq!(*waits.lock().unwrap(), [Duration::from_secs(7)]);
    }

    #[test]
    fn the_deadline_passes_on_the_clients_clock() {
        // Each answer takes 40 s of the 60 s deadline: after the second
        // there is no time left to wait for a third.
        let (client, waits) = slow_client(
            Duration::from_secs(40),
            vec![status(503, &[]), status(503, &[]), status(200, &[])],
        );
        let listed = futures::executor::block_on(
            client.list_webhooks(crate::operations::ListWebhooks::new()),
        );
        assert!(listed.is_err(), "{listed:?}");
        assert_eq!(waits.lock().unwrap().len(), 1);
        assert_eq!(client.transport().script.0.lock().unwrap().len(), 1);
    }
}

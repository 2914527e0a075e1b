//! The one send path: validate, build, send with a timeout, retry, decode.

use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures::future::{select, Either};
use http::StatusCode;
use tracing::Instrument;

use super::retry::{AttemptFailure, RetryDecision};
use super::{Client, SendOptions};
use crate::error::{ApiErrorBody, BoxError, Error, ErrorCode};
use crate::operations::{decode_json, Request, RequestExt};
use crate::transport::Transport;

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
    /// into the result. Everything runs inside an `attio.request` tracing
    /// span with the method, path, attempt count and final status; the
    /// token never appears in it.
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
        let idempotent = request.idempotent();
        let span = tracing::debug_span!(
            "attio.request",
            method = %first.method(),
            path = %first.uri().path(),
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
        );

        async move {
            let mut prebuilt = Some(first);
            let mut attempts = 0u32;
            let mut waited = Duration::ZERO;
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
                let outcome = self.exchange(http_request, timeout, deadline).await;
                let span = tracing::Span::current();
                span.record("attempts", attempts);
                let failure = match &outcome {
                    Ok(response) => {
                        span.record("status", response.status().as_u16());
                        if outcome_unknown && is_not_found(response) {
                            if let Some(done) = request.already_done() {
                                tracing::debug!("404 after an attempt with unknown outcome: done");
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
                match policy.decide(&failure, idempotent, attempts, waited, fastrand::f64()) {
                    RetryDecision::Retry(delay)
                        if deadline.is_some_and(|d| d.passed_after(delay, now())) =>
                    {
                        tracing::debug!(
                            ?failure,
                            ?delay,
                            "giving up: the wait would pass the deadline"
                        );
                        return R::decode(outcome.map_err(Error::from)?);
                    }
                    RetryDecision::Retry(delay) => {
                        tracing::debug!(?failure, ?delay, "retrying");
                        shared.sleep.sleep(delay).await;
                        waited += delay;
                    }
                    RetryDecision::Stop(reason) => {
                        tracing::debug!(?failure, ?reason, "giving up");
                        return R::decode(outcome.map_err(Error::from)?);
                    }
                }
            }
        }
        .instrument(span)
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

//! The one send path: validate, build, send with a timeout, retry, decode.

use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::future::{select, Either};
use tracing::Instrument;

use super::{Client, Failure, RetryDecision, SendOptions};
use crate::error::{BoxError, Error};
use crate::request::Request;
use crate::transport::Transport;

impl<T: Transport> Client<T> {
    /// Sends any operation with the client's timeout and retry policy.
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
    pub async fn send_with<R: Request + Sync>(
        &self,
        request: &R,
        options: &SendOptions,
    ) -> Result<R::Response, Error> {
        let shared = &*self.shared;
        let first = shared.endpoint.build(request)?;
        let policy = options.retry.as_ref().unwrap_or(&shared.retry);
        let timeout = options.timeout.unwrap_or(shared.timeout);
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
            loop {
                attempts += 1;
                // Building is pure and cheap next to a backoff, so a retry
                // builds the request again instead of keeping a copy around.
                let http_request = match prebuilt.take() {
                    Some(built) => built,
                    None => shared.endpoint.build(request)?,
                };
                let outcome = self.exchange(http_request, timeout).await;
                let span = tracing::Span::current();
                span.record("attempts", attempts);
                let failure = match &outcome {
                    Ok(response) => {
                        span.record("status", response.status().as_u16());
                        // Most answers are successes: skip the clock read for them.
                        (!response.status().is_success())
                            .then(|| {
                                Failure::from_response(
                                    response.status(),
                                    response.headers(),
                                    SystemTime::now(),
                                )
                            })
                            .flatten()
                    }
                    Err(Failed::Timeout(_)) => Some(Failure::Timeout),
                    Err(Failed::Transport {
                        retryable: true, ..
                    }) => Some(Failure::Connection),
                    Err(Failed::Transport {
                        retryable: false, ..
                    }) => None,
                };
                let Some(failure) = failure else {
                    return R::decode(outcome.map_err(Error::from)?);
                };
                match policy.decide(&failure, idempotent, attempts, waited, fastrand::f64()) {
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

    /// One attempt: the transport's exchange, bounded by `timeout`.
    async fn exchange(
        &self,
        request: http::Request<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<http::Response<Bytes>, Failed> {
        let started = Instant::now();
        let mut send = self.transport.send(request);
        let result = match timeout {
            None => send.await,
            // A transport that answers on the first poll (an in-process fake,
            // a cache) never needs the timer; only a pending send arms it,
            // for what is left of the limit.
            Some(limit) => match futures::poll!(&mut send) {
                Poll::Ready(result) => result,
                Poll::Pending => match select(
                    send,
                    self.shared
                        .sleep
                        .sleep(limit.saturating_sub(started.elapsed())),
                )
                .await
                {
                    Either::Left((result, _)) => result,
                    Either::Right(_) => return Err(Failed::Timeout(limit)),
                },
            },
        };
        result.map_err(|error| Failed::Transport {
            retryable: T::is_retryable(&error),
            error: Box::new(error),
        })
    }
}

/// An attempt that got no response.
enum Failed {
    Timeout(Duration),
    Transport { error: BoxError, retryable: bool },
}

impl From<Failed> for Error {
    fn from(failed: Failed) -> Self {
        match failed {
            Failed::Timeout(limit) => Error::Timeout(limit),
            Failed::Transport { error, .. } => Error::Transport(error),
        }
    }
}

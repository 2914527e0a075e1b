//! Running a handler once per `Idempotency-Key`.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;

use crate::error::BoxError;
use crate::metrics::{self, Stopwatch};
use crate::receive::rejection::{json_response, ErrorBody, StatusBody};
#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
use crate::receive::seen_keys::MemorySeenKeys;
use crate::receive::seen_keys::{Claim, SeenKeys, Settled};
#[cfg(feature = "metrics")]
use crate::receive::timed_keys::TimedKeys;
use crate::receive::trace;
use crate::receive::verifier::VerifiedDelivery;
use tracing::field::Empty;
use tracing::{Instrument, Span};

/// Runs a delivery handler at most once per `Idempotency-Key`, across
/// Attio's retries.
///
/// - A key seen for the first time runs the handler. If it succeeds the
///   key is marked done; if it fails the claim is dropped, so Attio's next
///   retry runs the handler again.
/// - A retry of a key already done answers [`Outcome::AlreadyHandled`]
///   (200) without running the handler.
/// - A second delivery of a key while the first is still being handled
///   (two attempts racing) answers [`Outcome::InProgress`] (409): Attio
///   retries it later, and by then the first has either finished (so the
///   retry gets 200) or failed (so the retry runs the handler).
/// - A delivery without a key cannot be deduplicated: the handler runs.
///
/// **A key is a message, not an event.** Attio may put several events in
/// one delivery (several changes of one record, seen on live workspaces),
/// and the `Idempotency-Key` names that whole message: the same across its
/// retries and its redeliveries. So the handler is given the delivery and
/// handles every event in it; "once" means the whole batch once. A
/// handler that fails half-way through a batch fails the message, and the
/// retry brings the whole batch again: make each event's effect idempotent
/// (or keep per-event progress in the same transaction) if a batch can
/// fail part-way. A follow-up event Attio sends later (a `system`
/// `record.updated` about a second after a user's change) comes as a new
/// message with its own key, and runs the handler again.
///
/// "Once" holds as far as the [`SeenKeys`] store remembers: within its
/// time-to-live and capacity, and, for [`MemorySeenKeys`], within one
/// process. A handler that succeeds but whose process dies before the key
/// is recorded runs again on the retry, so side effects that must never
/// repeat need their own transaction keyed by the same key.
///
/// The `Idempotency-Key` is not signed: keyed on it, this guards against
/// Attio's retries, not against someone replaying a captured delivery
/// under a new key. Keying on the signed body
/// ([`DedupeBy::SignedBody`](crate::receive::DedupeBy)) stops that replay
/// within the time-to-live, at a price the [`DedupeBy`](crate::receive::DedupeBy)
/// table shows.
///
/// ```
/// use attio_webhooks::receive::{Once, Outcome};
/// # futures::executor::block_on(async {
/// let once = Once::in_memory();
/// let runs = std::cell::Cell::new(0);
/// let handler = || async { runs.set(runs.get() + 1); Ok::<_, ()>(()) };
/// let first = once.run(Some("key-1"), handler).await;
/// assert!(matches!(first, Outcome::Handled(())));
/// let retry = once.run(Some("key-1"), handler).await;
/// assert!(matches!(retry, Outcome::AlreadyHandled));
/// assert_eq!((runs.get(), retry.status().as_u16()), (1, 200));
/// # });
/// ```
#[derive(Clone)]
pub struct Once {
    keys: Arc<dyn SeenKeys>,
}

impl core::fmt::Debug for Once {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}

#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
impl Default for Once {
    fn default() -> Self {
        Self::in_memory()
    }
}

impl Once {
    /// Deduplicates with `keys`.
    pub fn new(keys: impl SeenKeys + 'static) -> Self {
        Self::from_arc(Arc::new(keys))
    }

    /// Deduplicates with a shared store.
    pub fn from_arc(keys: Arc<dyn SeenKeys>) -> Self {
        // With metrics on, every store call is timed.
        #[cfg(feature = "metrics")]
        let keys: Arc<dyn SeenKeys> = Arc::new(TimedKeys(keys));
        Self { keys }
    }

    /// Deduplicates in this process's memory, with [`MemorySeenKeys`]'s
    /// defaults.
    ///
    /// Not on `wasm32-unknown-unknown`, which has no standard clock: use
    /// `Once::new(MemorySeenKeys::new_with_clock(clock))` there.
    #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
    pub fn in_memory() -> Self {
        Self::new(MemorySeenKeys::new())
    }

    /// Runs `handler` unless the delivery with `key` was handled already or
    /// is being handled now; see [`Once`] for the rules.
    ///
    /// The store's claim and its settling (complete or release) each get
    /// a span, `attio.once.claim` and `attio.once.settle`, inside the
    /// current one; the outcome goes in the current span's
    /// `attio.receive.outcome` when it is a delivery's
    /// `attio.webhook.receive` span (as inside [`VerifyLayer`](crate::receive)'s
    /// inner service, or with [`Once::run_verified`]).
    pub async fn run<T, E, F, Fut>(&self, key: Option<&str>, handler: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let timed = || {
            let watch = Stopwatch::start();
            let running = handler();
            async move {
                let result = running.await;
                if let Some(took) = watch.elapsed() {
                    metrics::handler(if result.is_ok() { "handled" } else { "failed" }, took);
                }
                result
            }
        };
        let outcome = self.run_untraced(key, timed).await;
        metrics::once_outcome(outcome.trace_code());
        Span::current().record(trace::OUTCOME, outcome.trace_code());
        outcome
    }

    /// [`Once::run`] inside the delivery's span
    /// ([`VerifiedDelivery::span`]), keyed by
    /// [`VerifiedDelivery::dedupe_key`]: what an axum handler taking the
    /// [`VerifiedDelivery`] extractor calls, so the claim, the settle and
    /// the outcome land in the delivery's span.
    pub async fn run_verified<T, E, F, Fut>(
        &self,
        verified: &VerifiedDelivery,
        handler: F,
    ) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run(verified.dedupe_key(), handler)
            .instrument(verified.span().clone())
            .await
    }

    async fn run_untraced<T, E, F, Fut>(&self, key: Option<&str>, handler: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let Some(key) = key else {
            return match handler().await {
                Ok(value) => Outcome::Handled(value),
                Err(error) => Outcome::Failed(error),
            };
        };
        let claim_span = tracing::debug_span!("attio.once.claim", "attio.once.claim" = Empty);
        let claimed = self.keys.claim(key).instrument(claim_span.clone()).await;
        claim_span.record("attio.once.claim", trace::claim_code(&claimed));
        drop(claim_span);
        let token = match claimed {
            Ok(Claim::Claimed(token)) => token,
            Ok(Claim::Done) => return Outcome::AlreadyHandled,
            Ok(Claim::InProgress) => return Outcome::InProgress,
            Err(error) => return Outcome::Unavailable(error),
        };
        let result = handler().await;
        let settle_span = tracing::debug_span!(
            "attio.once.settle",
            "attio.once.settle" = if result.is_ok() {
                "complete"
            } else {
                "release"
            },
            "attio.once.settled" = Empty,
        );
        let record = |settled: &Result<Settled, BoxError>| {
            settle_span.record("attio.once.settled", trace::settle_code(settled));
        };
        match result {
            Ok(value) => {
                let settled = self
                    .keys
                    .complete(key, &token)
                    .instrument(settle_span.clone())
                    .await;
                record(&settled);
                let _in_settle = settle_span.enter();
                match settled {
                    Ok(Settled::Held) => {}
                    Ok(Settled::Lost) => tracing::warn!(
                        "attio.idempotency_key.sha256" = trace::key_digest(key),
                        "handled a delivery after its claim ran out (the store's lease is shorter than the handler took); another delivery of the key may run too"
                    ),
                    Err(error) => tracing::warn!(
                        "attio.idempotency_key.sha256" = trace::key_digest(key),
                        %error,
                        "handled a delivery but could not record its key; a retry would run again"
                    ),
                }
                Outcome::Handled(value)
            }
            Err(failure) => {
                let settled = self
                    .keys
                    .release(key, &token)
                    .instrument(settle_span.clone())
                    .await;
                record(&settled);
                let _in_settle = settle_span.enter();
                match settled {
                    // Lost: the lease ran out, the key is someone else's now.
                    Ok(Settled::Held | Settled::Lost) => {}
                    Err(error) => tracing::warn!(
                        "attio.idempotency_key.sha256" = trace::key_digest(key),
                        %error,
                        "could not release the key of a failed delivery; its retry waits for the lease"
                    ),
                }
                Outcome::Failed(failure)
            }
        }
    }
}

/// What [`Once::run`] did, and what to answer Attio.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<T, E> {
    /// The handler ran and succeeded; the key is recorded. Answer 200.
    Handled(T),
    /// The key was handled before; the handler did not run. Answer 200 so
    /// Attio stops retrying.
    AlreadyHandled,
    /// Another delivery with the key is being handled; the handler did not
    /// run. Answer 409 so Attio retries later.
    InProgress,
    /// The handler ran and failed; the key is free again. Answer an error
    /// (500) so Attio retries.
    Failed(E),
    /// The [`SeenKeys`] store failed before the handler could run; it did
    /// not run. Answer 503 so Attio retries.
    Unavailable(BoxError),
}

impl<T, E> Outcome<T, E> {
    /// The status to answer: 200 for [`Outcome::Handled`] and
    /// [`Outcome::AlreadyHandled`], 409 for [`Outcome::InProgress`], 500 for
    /// [`Outcome::Failed`], 503 for [`Outcome::Unavailable`].
    pub fn status(&self) -> StatusCode {
        match self {
            Outcome::Handled(_) | Outcome::AlreadyHandled => StatusCode::OK,
            Outcome::InProgress => StatusCode::CONFLICT,
            Outcome::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Outcome::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The outcome as the delivery span records it: [`Outcome::code`], but
    /// `store_error` for [`Outcome::Unavailable`].
    fn trace_code(&self) -> &'static str {
        match self {
            Outcome::Unavailable(_) => "store_error",
            other => other.code(),
        }
    }

    /// A short machine-readable name: `handled`, `already_handled`,
    /// `in_progress`, `failed` or `unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Handled(_) => "handled",
            Outcome::AlreadyHandled => "already_handled",
            Outcome::InProgress => "in_progress",
            Outcome::Failed(_) => "failed",
            Outcome::Unavailable(_) => "unavailable",
        }
    }

    /// A plain answer: [`Outcome::status`] with `{"status": code}` for the
    /// two successes and `{"error": code, "message": ...}` otherwise. It
    /// does not show the handler's value or error (the `axum` feature's
    /// `IntoResponse` does).
    ///
    /// ```
    /// use attio_webhooks::receive::Outcome;
    /// let response = Outcome::<(), ()>::AlreadyHandled.to_response();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.body().as_ref(), br#"{"status":"already_handled"}"#);
    /// assert_eq!(Outcome::<(), ()>::InProgress.to_response().status(), 409);
    /// ```
    pub fn to_response(&self) -> http::Response<Bytes> {
        let message = match self {
            Outcome::Handled(_) | Outcome::AlreadyHandled => {
                return json_response(
                    self.status(),
                    &StatusBody {
                        status: self.code(),
                    },
                )
            }
            Outcome::InProgress => {
                "a delivery with this Idempotency-Key is being handled; retry later"
            }
            Outcome::Failed(_) => "the delivery could not be handled; retry later",
            Outcome::Unavailable(_) => "the store of handled deliveries failed; retry later",
        };
        json_response(
            self.status(),
            &ErrorBody {
                error: self.code(),
                message,
            },
        )
    }
}

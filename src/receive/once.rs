//! Running a handler once per `Idempotency-Key`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::error::BoxError;
use crate::metrics::{self, Stopwatch};
use crate::receive::rejection::{json_response, ErrorBody, StatusBody};
#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
use crate::receive::seen_keys::MemorySeenKeys;
use crate::receive::seen_keys::{Claim, ClaimToken, SeenKeys, Settled};
#[cfg(feature = "metrics")]
use crate::receive::timed_keys::TimedKeys;
use crate::receive::trace;
use crate::receive::verifier::VerifiedDelivery;
use crate::runtime::AsyncSleep;
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
/// **A slow handler keeps its claim.** While the handler runs, `Once`
/// renews the claim every third of the store's lease
/// ([`SeenKeys::lease`], [`SeenKeys::renew`]), so a handler may take
/// longer than the lease: a retry meanwhile answers 409, and one after it
/// finished answers 200 without running it again. A process that dies
/// (or a handler future that is dropped) stops renewing, and its claim
/// runs out a lease later, so Attio's retry runs the handler then.
/// Renewing needs a timer: with the `tokio` feature, tokio's, when `run`
/// is called inside a tokio runtime (with its timer enabled, as
/// `#[tokio::main]` does); elsewhere give one with
/// [`Once::with_timer`]. Without a timer, or with a store that does not
/// renew, the claim lasts the lease and no longer.
///
/// When a renewal fails:
///
/// - the store answers that the claim is lost (its lease ran out before
///   the renewal reached the store, as after a long pause of the process):
///   `Once` logs a warning and stops renewing; the handler keeps running,
///   and at the end the store refuses to mark the key handled by the
///   stale token (`attio.once.settled` = `lost`, and a warning), because
///   another delivery may hold the key by then;
/// - the store fails (unreachable): `Once` logs a warning and tries again
///   a third of a lease later, until the lease runs out.
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
    timer: Timer,
}

/// What `Once` waits on between renewals.
#[derive(Clone)]
enum Timer {
    /// The user's.
    Given(Arc<dyn AsyncSleep>),
    /// Tokio's, when `run` is called inside a tokio runtime.
    #[cfg(feature = "tokio")]
    TokioWhenRunning,
    /// None: claims are not renewed.
    #[cfg(not(feature = "tokio"))]
    None,
}

impl Timer {
    fn default_timer() -> Self {
        #[cfg(feature = "tokio")]
        return Timer::TokioWhenRunning;
        #[cfg(not(feature = "tokio"))]
        return Timer::None;
    }

    /// The timer to renew with now, if any.
    fn now(&self) -> Option<&dyn AsyncSleep> {
        match self {
            Timer::Given(sleep) => Some(&**sleep),
            #[cfg(feature = "tokio")]
            Timer::TokioWhenRunning => tokio::runtime::Handle::try_current()
                .ok()
                .map(|_| &crate::runtime::TokioSleep as &dyn AsyncSleep),
            #[cfg(not(feature = "tokio"))]
            Timer::None => None,
        }
    }
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
        Self {
            keys,
            timer: Timer::default_timer(),
        }
    }

    /// Renews claims while handlers run with `timer` (see [`Once`]): for
    /// runtimes other than tokio, and for builds without the `tokio`
    /// feature, where `Once` has no timer of its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use attio_webhooks::receive::{MemorySeenKeys, Once, Outcome};
    /// use attio_webhooks::runtime::{AsyncSleep, Sleep};
    ///
    /// /// A timer that needs no runtime: a thread per sleep.
    /// #[derive(Debug)]
    /// struct ThreadSleep;
    /// impl AsyncSleep for ThreadSleep {
    ///     fn sleep(&self, duration: Duration) -> Sleep {
    ///         let (done, wait) = futures::channel::oneshot::channel::<()>();
    ///         std::thread::spawn(move || {
    ///             std::thread::sleep(duration);
    ///             let _ = done.send(());
    ///         });
    ///         Box::pin(async move {
    ///             let _ = wait.await;
    ///         })
    ///     }
    /// }
    /// let keys = MemorySeenKeys::new().with_lease(Duration::from_millis(300));
    /// let once = Once::new(keys).with_timer(ThreadSleep);
    /// # futures::executor::block_on(async {
    /// // The handler takes three leases; renewed, its claim holds throughout.
    /// let slow = || ThreadSleep.sleep(Duration::from_millis(900));
    /// let first = once.run(Some("key-1"), || async { slow().await; Ok::<_, ()>(()) });
    /// let retry = async {
    ///     ThreadSleep.sleep(Duration::from_millis(600)).await;
    ///     once.run(Some("key-1"), || async { Ok::<_, ()>(()) }).await
    /// };
    /// let (first, retry) = futures::join!(first, retry);
    /// assert!(matches!(first, Outcome::Handled(())));
    /// assert!(matches!(retry, Outcome::InProgress));
    /// # });
    /// ```
    pub fn with_timer(mut self, timer: impl AsyncSleep) -> Self {
        self.timer = Timer::Given(Arc::new(timer));
        self
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
        let result = self.run_renewing(key, &token, handler).await;
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

impl Once {
    /// Runs `handler`, renewing the claim `token` holds on `key` every
    /// third of the store's lease meanwhile, if the store renews and a
    /// timer is at hand.
    async fn run_renewing<T, E, F, Fut>(
        &self,
        key: &str,
        token: &ClaimToken,
        handler: F,
    ) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let (Some(lease), Some(timer)) = (self.keys.lease(), self.timer.now()) else {
            return handler().await;
        };
        let handler = pin!(handler());
        let renewing = pin!(self.renew_every(key, token, lease, timer));
        match futures::future::select(handler, renewing).await {
            futures::future::Either::Left((result, _)) => result,
            futures::future::Either::Right((never, _)) => match never {},
        }
    }

    /// Renews the claim every third of `lease` until the store says it is
    /// lost, then waits forever (the handler's end stops it).
    async fn renew_every(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
        timer: &dyn AsyncSleep,
    ) -> Infallible {
        let every = (lease / 3).max(Duration::from_millis(1));
        loop {
            timer.sleep(every).await;
            match self.keys.renew(key, token).await {
                Ok(Settled::Held) => {}
                Ok(Settled::Lost) => {
                    tracing::warn!(
                        "attio.idempotency_key.sha256" = trace::key_digest(key),
                        "lost the claim on a delivery's key while its handler runs (the lease ran out before a renewal); another delivery of the key may run too"
                    );
                    return futures::future::pending().await;
                }
                Err(error) => tracing::warn!(
                    "attio.idempotency_key.sha256" = trace::key_digest(key),
                    %error,
                    "could not renew the claim on a delivery's key; trying again until its lease runs out"
                ),
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

/// Renewal in real time, with a thread per sleep (no runtime): not on
/// wasm, which has neither threads nor std's clock.
#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::runtime::Sleep;

    /// A timer that needs no runtime: a thread per sleep.
    #[derive(Debug)]
    struct ThreadSleep;
    impl AsyncSleep for ThreadSleep {
        fn sleep(&self, duration: Duration) -> Sleep {
            let (done, wait) = futures::channel::oneshot::channel::<()>();
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                let _ = done.send(());
            });
            Box::pin(async move {
                let _ = wait.await;
            })
        }
    }

    const LEASE: Duration = Duration::from_millis(300);

    #[test]
    fn a_handler_three_leases_long_runs_once_and_is_recorded_handled() {
        let once = Once::new(MemorySeenKeys::new().with_lease(LEASE)).with_timer(ThreadSleep);
        let runs = AtomicU32::new(0);
        let handler = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            ThreadSleep.sleep(LEASE * 3).await;
            Ok::<_, ()>(())
        };
        futures::executor::block_on(async {
            let first = once.run(Some("slow"), handler);
            // Redeliveries past the first lease and the second, while the
            // first still runs.
            let during = async {
                let mut seen = Vec::new();
                for _ in 0..2 {
                    ThreadSleep.sleep(LEASE + LEASE / 4).await;
                    seen.push(once.run(Some("slow"), handler).await.code());
                }
                seen
            };
            let (first, during) = futures::join!(first, during);
            assert_eq!(first.code(), "handled");
            assert_eq!(during, ["in_progress", "in_progress"]);
            let after = once.run(Some("slow"), handler).await;
            assert_eq!(after.code(), "already_handled");
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    /// A memory store whose renewals answer `answer` and are counted.
    struct Renewals {
        keys: MemorySeenKeys,
        answer: fn() -> Result<Settled, BoxError>,
        count: Arc<AtomicU32>,
    }

    #[async_trait::async_trait]
    impl SeenKeys for Renewals {
        async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
            self.keys.claim(key).await
        }
        async fn complete(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
            self.keys.complete(key, token).await
        }
        async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
            self.keys.release(key, token).await
        }
        fn lease(&self) -> Option<Duration> {
            self.keys.lease()
        }
        async fn renew(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
            self.count.fetch_add(1, Ordering::SeqCst);
            (self.answer)()
        }
    }

    /// Runs a handler of two leases on a store whose renewals answer
    /// `answer`; returns the outcome's code and how many renewals were
    /// asked for.
    fn renewals_answering(answer: fn() -> Result<Settled, BoxError>) -> (&'static str, u32) {
        let count = Arc::new(AtomicU32::new(0));
        let keys = MemorySeenKeys::new().with_lease(LEASE);
        let store = Renewals {
            keys,
            answer,
            count: Arc::clone(&count),
        };
        let once = Once::new(store).with_timer(ThreadSleep);
        let outcome = futures::executor::block_on(once.run(Some("k"), || async {
            ThreadSleep.sleep(LEASE * 2).await;
            Ok::<_, ()>(())
        }));
        (outcome.code(), count.load(Ordering::SeqCst))
    }

    #[test]
    fn a_lost_claim_stops_renewing_and_a_failing_store_is_asked_again() {
        // Lost: asked once, never again; the handler still finishes.
        assert_eq!(renewals_answering(|| Ok(Settled::Lost)), ("handled", 1));
        // Store errors: asked every third of the lease (about 6 times in
        // two leases; at least 3 even on a slow machine).
        let (code, asked) = renewals_answering(|| Err("store down".into()));
        assert_eq!(code, "handled");
        assert!(asked >= 3, "asked {asked} times");
    }
}

//! Event delivery: the fake POSTs signed events to webhook targets, retries
//! failures on Attio's schedule, and turns webhooks degraded and inactive.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

use attio_webhooks::{
    is_loopback_http_url, signature, Delivery, Event, Timestamp, WebhookId, WebhookStatus,
};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::fake::{FakeAttio, Inner};

/// The `User-Agent` of the fake's deliveries.
pub const DELIVERY_USER_AGENT: &str = concat!(
    "Attio-Webhooks/1.0 (attio-webhooks-testkit ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

/// When deliveries are retried and when failing webhooks change status.
///
/// The default is Attio's: a failed delivery (any status but 200 or 202, a
/// timeout, a refused connection) is retried up to 10 times, waiting
/// 255 s, then twice as long before each next retry (about 3 days in all);
/// after the last failure the webhook turns `degraded`, and after 7 days
/// degraded, `inactive`. Use a manual [`crate::Clock`] to run it in
/// milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The wait before the first retry; each next wait doubles.
    pub first_retry_after: Duration,
    /// How long one attempt may take, in real time.
    pub attempt_timeout: Duration,
    /// How long a webhook stays degraded before it turns inactive.
    pub inactive_after: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            retries: 10,
            first_retry_after: Duration::from_secs(255),
            attempt_timeout: Duration::from_secs(10),
            inactive_after: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl DeliveryPolicy {
    /// Sets the number of retries.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets the first wait (each next one doubles).
    pub fn first_retry_after(mut self, wait: Duration) -> Self {
        self.first_retry_after = wait;
        self
    }

    /// Sets the real-time limit of one attempt.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets how long a webhook stays degraded before turning inactive.
    pub fn inactive_after(mut self, after: Duration) -> Self {
        self.inactive_after = after;
        self
    }

    /// The wait before retry number `retry` (1 for the first).
    pub fn wait_before_retry(&self, retry: u32) -> Duration {
        self.first_retry_after
            .saturating_mul(1u32 << retry.saturating_sub(1).min(31))
    }
}

/// One delivery attempt, as the fake logs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    /// The webhook delivered to.
    pub webhook_id: WebhookId,
    /// The `Idempotency-Key`: one per message, the same on every retry.
    pub idempotency_key: String,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    /// Where it went.
    pub target_url: String,
    /// When the schedule said to make it, by the fake's clock.
    pub scheduled_at: Timestamp,
    /// When it was made, by the fake's clock.
    pub attempted_at: Timestamp,
    /// What happened.
    pub outcome: DeliveryOutcome,
    /// The body sent (UTF-8 JSON).
    #[serde(serialize_with = "crate::recorded::lossy_utf8")]
    pub body: Bytes,
    /// The `Attio-Signature` sent.
    pub signature: String,
}

/// The result of one attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The receiver answered 200 or 202.
    Delivered {
        /// The status.
        status: u16,
    },
    /// Another status, a timeout or a connection failure; retried while
    /// retries last.
    Failed {
        /// The status, if there was an answer.
        status: Option<u16>,
        /// What went wrong without an answer.
        error: Option<String>,
    },
    /// Not sent, not retried: the target is not a plain-HTTP loopback URL
    /// (the fake never opens connections beyond this machine), or the
    /// webhook was deleted or turned inactive before the attempt.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// A message queued by [`FakeAttio::emit`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueuedDelivery {
    /// The webhook it goes to.
    pub webhook_id: WebhookId,
    /// Its `Idempotency-Key`.
    pub idempotency_key: String,
}

struct Job {
    webhook_id: WebhookId,
    key: String,
    target_url: String,
    body: Bytes,
    signature: String,
    attempts_made: u32,
    next_at: Timestamp,
    generation: u64,
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    in_flight: usize,
    log: Vec<DeliveryAttempt>,
    /// Bumped by reset, so attempts in flight from before are dropped.
    generation: u64,
}

/// The delivery queue and log of one fake, shared with its worker task.
#[derive(Default)]
pub(crate) struct Deliveries {
    queue: Mutex<Queue>,
    changed: Notify,
    worker: Mutex<Option<JoinHandle<()>>>,
    client: OnceLock<HyperClient<HttpConnector, Full<Bytes>>>,
}

impl std::fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.queue();
        f.debug_struct("Deliveries")
            .field("queued", &queue.jobs.len())
            .field("in_flight", &queue.in_flight)
            .field("attempts", &queue.log.len())
            .finish()
    }
}

impl Deliveries {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn clear(&self) {
        let mut queue = self.queue();
        queue.jobs.clear();
        queue.log.clear();
        queue.generation += 1;
        drop(queue);
        self.changed.notify_waiters();
    }

    /// Wakes the worker (and settle) so they notice a change or a drop.
    pub(crate) fn wake(&self) {
        self.changed.notify_waiters();
    }

    fn client(&self) -> &HyperClient<HttpConnector, Full<Bytes>> {
        self.client
            .get_or_init(|| HyperClient::builder(TokioExecutor::new()).build_http())
    }

    /// Starts the worker if it is not running and a tokio runtime is.
    fn ensure_worker(self: &Arc<Self>, fake: &FakeAttio) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        if worker.as_ref().is_none_or(JoinHandle::is_finished) {
            *worker = Some(runtime.spawn(run(Arc::clone(self), fake.downgrade())));
        }
    }
}

impl FakeAttio {
    /// Delivers `event` the way Attio would: to every `active` or
    /// `degraded` webhook with a subscription of the event's type whose
    /// filter passes ([`attio_webhooks::Subscription::accepts`]), once per
    /// webhook, as `{"webhook_id", "events": [event]}` signed with the
    /// webhook's secret. Returns the queued messages; the POSTs happen on a
    /// background task (see [`FakeAttio::settle_deliveries`]).
    ///
    /// The fake only connects to `http://` targets on loopback hosts (see
    /// [`crate::FakeAttioBuilder::allow_loopback_http_targets`]); any other
    /// target gets a [`DeliveryOutcome::Skipped`] log entry with the signed
    /// body, so tests can still see what would have been sent.
    ///
    /// Must be called inside a tokio runtime for the deliveries to start
    /// at once; otherwise they start at the next `settle_deliveries`.
    pub fn emit(&self, event: Event) -> Vec<QueuedDelivery> {
        let deliveries = self.deliveries();
        // Taken before the snapshot: a reset after it makes these jobs stale.
        let generation = deliveries.queue().generation;
        let now = self.clock().now();
        let mut jobs = Vec::new();
        {
            let state = self.state();
            for stored in state.store.all() {
                let webhook = stored.webhook();
                if !webhook.status.receives_events()
                    || !webhook.subscriptions.iter().any(|s| s.accepts(&event))
                {
                    continue;
                }
                let body = serde_json::to_vec(&Delivery::new(webhook.webhook_id(), event.clone()))
                    .map(Bytes::from)
                    .unwrap_or_default();
                jobs.push(Job {
                    webhook_id: webhook.webhook_id(),
                    key: uuid::Uuid::new_v4().to_string(),
                    target_url: webhook.target_url.clone(),
                    signature: signature::sign(stored.secret(), &body),
                    body,
                    attempts_made: 0,
                    next_at: now,
                    generation,
                });
            }
        }
        let queued = {
            let mut queue = deliveries.queue();
            if queue.generation != generation {
                return Vec::new();
            }
            let queued: Vec<QueuedDelivery> = jobs
                .iter()
                .map(|j| QueuedDelivery {
                    webhook_id: j.webhook_id,
                    idempotency_key: j.key.clone(),
                })
                .collect();
            queue.jobs.extend(jobs);
            queued
        };
        deliveries.ensure_worker(self);
        deliveries.wake();
        queued
    }

    /// Every delivery attempt so far, in the order they finished.
    pub fn delivery_log(&self) -> Vec<DeliveryAttempt> {
        self.deliveries().queue().log.clone()
    }

    /// Waits until every attempt that is due by the fake's clock has been
    /// made: nothing in flight, nothing overdue. With a manual clock,
    /// `clock.advance(...)` then `settle_deliveries().await` runs every
    /// retry the jump made due.
    pub async fn settle_deliveries(&self) {
        let deliveries = self.deliveries();
        deliveries.ensure_worker(self);
        loop {
            let changed = deliveries.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = self.clock().now();
            {
                let queue = deliveries.queue();
                if queue.in_flight == 0 && queue.jobs.iter().all(|j| j.next_at > now) {
                    return;
                }
            }
            changed.await;
        }
    }
}

/// The worker: starts each due attempt, then sleeps until the next one is
/// due or something changes. Ends when the fake is dropped.
async fn run(deliveries: Arc<Deliveries>, fake: Weak<Inner>) {
    loop {
        let changed = deliveries.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let Some(fake) = FakeAttio::upgrade(&fake) else {
            return;
        };
        let clock = fake.clock().clone();
        let now = clock.now();
        let (due, next_at) = {
            let mut queue = deliveries.queue();
            let (due, waiting): (Vec<Job>, Vec<Job>) =
                queue.jobs.drain(..).partition(|j| j.next_at <= now);
            queue.jobs = waiting;
            queue.in_flight += due.len();
            (due, queue.jobs.iter().map(|j| j.next_at).min())
        };
        for job in due {
            tokio::spawn(attempt(fake.clone(), Arc::clone(&deliveries), job));
        }
        drop(fake);
        match next_at {
            Some(at) => {
                tokio::select! {
                    _ = clock.sleep_until(at) => {}
                    _ = changed => {}
                }
            }
            None => changed.await,
        }
    }
}

async fn attempt(fake: FakeAttio, deliveries: Arc<Deliveries>, mut job: Job) {
    let policy = fake.delivery_policy().clone();
    let status = fake
        .state()
        .store
        .get(&job.webhook_id.to_string())
        .map(|s| s.webhook().status.clone());
    let outcome = match status {
        Err(_) => skipped("the webhook was deleted"),
        Ok(WebhookStatus::Inactive) => skipped("the webhook is inactive"),
        Ok(_) if !is_loopback_http_url(&job.target_url) => {
            skipped("the fake only connects to http:// targets on loopback hosts")
        }
        Ok(_) => post(deliveries.client(), &job, policy.attempt_timeout).await,
    };
    let attempted_at = fake.clock().now();
    job.attempts_made += 1;
    let webhook_id = job.webhook_id;
    let scheduled_at = job.next_at;
    let succeeded = matches!(outcome, DeliveryOutcome::Delivered { .. });
    let failed = matches!(outcome, DeliveryOutcome::Failed { .. });
    let gave_up = {
        let mut queue = deliveries.queue();
        queue.in_flight -= 1;
        if job.generation != queue.generation {
            // A reset happened meanwhile: forget this attempt.
            None
        } else {
            queue.log.push(DeliveryAttempt {
                webhook_id,
                idempotency_key: job.key.clone(),
                attempt: job.attempts_made,
                target_url: job.target_url.clone(),
                scheduled_at,
                attempted_at,
                outcome,
                body: job.body.clone(),
                signature: job.signature.clone(),
            });
            let retry = failed && job.attempts_made <= policy.retries;
            if retry {
                job.next_at =
                    scheduled_at.saturating_add(policy.wait_before_retry(job.attempts_made));
                queue.jobs.push(job);
            }
            Some(failed && !retry)
        }
    };
    // Status changes take the fake's state lock, never while holding the queue's.
    match gave_up {
        Some(true) => fake.delivery_gave_up(webhook_id, scheduled_at),
        Some(false) if succeeded => fake.delivery_succeeded(webhook_id),
        _ => {}
    }
    deliveries.wake();
}

fn skipped(reason: &str) -> DeliveryOutcome {
    DeliveryOutcome::Skipped {
        reason: reason.to_owned(),
    }
}

async fn post(
    client: &HyperClient<HttpConnector, Full<Bytes>>,
    job: &Job,
    timeout: Duration,
) -> DeliveryOutcome {
    let request = http::Request::post(job.target_url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, DELIVERY_USER_AGENT)
        .header(signature::SIGNATURE_HEADER, job.signature.as_str())
        .header(signature::X_SIGNATURE_HEADER, job.signature.as_str())
        .header("idempotency-key", job.key.as_str())
        .body(Full::new(job.body.clone()));
    let request = match request {
        Ok(request) => request,
        Err(e) => {
            return DeliveryOutcome::Failed {
                status: None,
                error: Some(format!("invalid target: {e}")),
            }
        }
    };
    match tokio::time::timeout(timeout, client.request(request)).await {
        Err(_) => DeliveryOutcome::Failed {
            status: None,
            error: Some(format!("no answer within {timeout:?}")),
        },
        Ok(Err(e)) => DeliveryOutcome::Failed {
            status: None,
            error: Some(e.to_string()),
        },
        Ok(Ok(response)) => match response.status().as_u16() {
            status @ (200 | 202) => DeliveryOutcome::Delivered { status },
            status => DeliveryOutcome::Failed {
                status: Some(status),
                error: None,
            },
        },
    }
}

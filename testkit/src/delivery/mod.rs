//! Event delivery: the fake POSTs signed events to webhook targets, retries
//! failures on Attio's schedule, and turns webhooks degraded and inactive.
//!
//! Delivery sees the workspace (to find recipients and change statuses)
//! and the clock; it knows nothing of the dispatcher or the HTTP doors.

mod attempt;
mod emitted;
mod policy;
mod queue;
mod send;

use std::sync::{Arc, OnceLock, Weak};

use attio_webhooks::{
    model::Timestamp, receive::signature, receive::Delivery, receive::Event, WebhookStatus,
};
use bytes::Bytes;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use attempt::{DeliveryAttempt, DeliveryOutcome, QueuedDelivery, DELIVERY_USER_AGENT};
pub use emitted::{Emitted, UnknownEventType};
pub use policy::DeliveryPolicy;

use crate::bounded::{BoundedLog, LogSnapshot};
use crate::clock::Clock;
use crate::locked::Locked;
use crate::workspace::{NearMiss, NearMissReason, Workspace};
use queue::{Job, Queue};
use send::Sender;
pub(crate) use send::{DeliveryRoots, Targets};

/// The limits of the delivery queue and log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeliveryLimits {
    pub(crate) queued: usize,
    pub(crate) log_entries: usize,
    pub(crate) log_bytes: usize,
}

/// The queue and the log, under one lock so that a reset clears both at once.
#[derive(Debug)]
struct State {
    queue: Queue,
    log: BoundedLog<DeliveryAttempt>,
}

/// The delivery side of one fake: queue, log, worker and sender.
#[derive(Debug)]
pub(crate) struct Deliveries {
    workspace: Arc<Locked<Workspace>>,
    clock: Clock,
    policy: DeliveryPolicy,
    targets: Targets,
    state: Locked<State>,
    own_ports: Locked<Vec<u16>>,
    changed: Arc<Notify>,
    worker: Locked<Option<JoinHandle<()>>>,
    sender: OnceLock<Sender>,
}

impl Drop for Deliveries {
    fn drop(&mut self) {
        // Lets the worker notice that the fake is gone and stop.
        self.changed.notify_waiters();
    }
}

impl Deliveries {
    pub(crate) fn new(
        workspace: Arc<Locked<Workspace>>,
        clock: Clock,
        policy: DeliveryPolicy,
        targets: Targets,
        limits: DeliveryLimits,
    ) -> Self {
        Self {
            workspace,
            clock,
            policy,
            targets,
            state: Locked::new(
                "delivery queue",
                State {
                    queue: Queue::new(limits.queued),
                    log: BoundedLog::new(limits.log_entries, limits.log_bytes),
                },
            ),
            own_ports: Locked::new("own ports", Vec::new()),
            changed: Arc::new(Notify::new()),
            worker: Locked::new("delivery worker", None),
            sender: OnceLock::new(),
        }
    }

    pub(crate) fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    /// A port the fake listens on: never a delivery target.
    #[cfg(feature = "server")]
    pub(crate) fn add_own_port(&self, port: u16) {
        self.own_ports.with(|ports| ports.push(port));
    }

    /// The fake stopped listening on `port`.
    #[cfg(feature = "server")]
    pub(crate) fn remove_own_port(&self, port: u16) {
        self.own_ports.with(|ports| {
            if let Some(i) = ports.iter().position(|p| *p == port) {
                ports.swap_remove(i);
            }
        });
    }

    /// Queues `event` for every webhook it goes to (see
    /// [`Workspace::route`]), signed with each webhook's secret; says why
    /// each other webhook does not get it, and which recipients' targets
    /// the fake will not send to.
    pub(crate) fn emit(self: &Arc<Self>, event: &Event, now: Timestamp) -> Emitted {
        // Taken first: a reset after it makes these jobs stale.
        let generation = self.state.with(|s| s.queue.generation);
        let routed = self.workspace.with(|ws| ws.route(now, event));
        let mut near_misses = routed.near_misses;
        let own_ports = self.own_ports.with(|ports| ports.clone());
        for recipient in &routed.recipients {
            if let Some(reason) = send::refusal(&recipient.target_url, &self.targets, &own_ports) {
                near_misses.push(NearMiss {
                    webhook_id: recipient.webhook_id,
                    target_url: recipient.target_url.clone(),
                    reason: NearMissReason::TargetRefused { reason },
                });
            }
        }
        let jobs: Vec<Job> = routed
            .recipients
            .into_iter()
            .map(|recipient| {
                let body = serde_json::to_vec(&Delivery::new(recipient.webhook_id, event.clone()))
                    .map(Bytes::from)
                    .unwrap_or_default();
                Job {
                    webhook_id: recipient.webhook_id,
                    key: uuid::Uuid::new_v4().to_string(),
                    target_url: recipient.target_url,
                    signature: signature::sign(&recipient.secret, &body),
                    body,
                    attempts_made: 0,
                    next_at: now,
                    generation,
                }
            })
            .collect();
        let queued = self.state.with(|state| {
            if state.queue.generation != generation {
                return Vec::new();
            }
            let mut queued = Vec::with_capacity(jobs.len());
            for job in jobs {
                let entry = QueuedDelivery {
                    webhook_id: job.webhook_id,
                    idempotency_key: job.key.clone(),
                };
                match state.queue.push(job) {
                    None => queued.push(entry),
                    Some(job) => {
                        let reason = format!(
                            "the delivery queue is full ({} messages)",
                            state.queue.waiting() + state.queue.in_flight
                        );
                        let attempt = log_entry(&job, now, now, skipped(&reason));
                        let size = attempt.size();
                        state.log.push(attempt, size);
                    }
                }
            }
            queued
        });
        self.ensure_worker();
        self.changed.notify_waiters();
        Emitted {
            deliveries: queued,
            near_misses,
        }
    }

    /// Every logged attempt, in the order they finished.
    pub(crate) fn log(&self) -> LogSnapshot<DeliveryAttempt> {
        self.state.with(|s| s.log.snapshot(DeliveryAttempt::clone))
    }

    /// Drops queued messages and the log; attempts in flight are forgotten
    /// when they end.
    pub(crate) fn clear(&self) {
        self.state.with(|s| {
            s.queue.clear();
            s.log.clear();
        });
        self.changed.notify_waiters();
    }

    /// Waits until every attempt due by the fake's clock has been made.
    pub(crate) async fn settle(self: &Arc<Self>) {
        self.ensure_worker();
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = self.clock.now();
            if self.state.with(|s| s.queue.settled(now)) {
                return;
            }
            changed.await;
        }
    }

    /// Starts the worker if it is not running and a tokio runtime is.
    pub(crate) fn ensure_worker(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.worker.with(|worker| {
            if worker.as_ref().is_none_or(JoinHandle::is_finished) {
                *worker = Some(runtime.spawn(run(Arc::downgrade(self), Arc::clone(&self.changed))));
            }
        });
    }

    fn sender(&self) -> &Sender {
        self.sender.get_or_init(|| send::sender(&self.targets))
    }
}

/// The worker: starts each due attempt, then sleeps until the next one is
/// due or something changes. Ends when the fake is dropped.
async fn run(deliveries: Weak<Deliveries>, changed: Arc<Notify>) {
    loop {
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let Some(this) = deliveries.upgrade() else {
            return;
        };
        let clock = this.clock.clone();
        let now = clock.now();
        let (due, next_at) = this.state.with(|s| s.queue.take_due(now));
        for job in due {
            tokio::spawn(attempt(Arc::clone(&this), job));
        }
        drop(this);
        match next_at {
            Some(at) => {
                tokio::select! {
                    _ = clock.sleep_until(at) => {}
                    _ = notified => {}
                }
            }
            None => notified.await,
        }
    }
}

async fn attempt(deliveries: Arc<Deliveries>, mut job: Job) {
    let now = deliveries.clock.now();
    let status = deliveries
        .workspace
        .with(|ws| ws.status(now, job.webhook_id));
    let own_ports = deliveries.own_ports.with(|ports| ports.clone());
    let outcome = match status {
        None => skipped("the webhook was deleted"),
        Some(WebhookStatus::Inactive) => skipped("the webhook is inactive"),
        Some(_) => match send::refusal(&job.target_url, &deliveries.targets, &own_ports) {
            Some(reason) => skipped(&reason),
            None => send::post(deliveries.sender(), &job, deliveries.policy.attempt_timeout).await,
        },
    };
    let attempted_at = deliveries.clock.now();
    job.attempts_made += 1;
    let webhook_id = job.webhook_id;
    let scheduled_at = job.next_at;
    let succeeded = matches!(outcome, DeliveryOutcome::Delivered { .. });
    let failed = matches!(outcome, DeliveryOutcome::Failed { .. });
    let entry = log_entry(&job, scheduled_at, attempted_at, outcome);
    let retries = deliveries.policy.retries;
    let wait = deliveries.policy.wait_before_retry(job.attempts_made);
    let gave_up = deliveries.state.with(|state| {
        state.queue.in_flight -= 1;
        if job.generation != state.queue.generation {
            // A reset happened meanwhile: forget this attempt.
            return None;
        }
        let size = entry.size();
        state.log.push(entry, size);
        let retry = failed && job.attempts_made <= retries;
        if retry {
            job.next_at = scheduled_at.saturating_add(wait);
            state.queue.requeue(job);
        }
        Some(failed && !retry)
    });
    let now = deliveries.clock.now();
    match gave_up {
        Some(true) => deliveries
            .workspace
            .with(|ws| ws.gave_up(now, webhook_id, scheduled_at)),
        Some(false) if succeeded => deliveries
            .workspace
            .with(|ws| ws.delivered(now, webhook_id)),
        _ => {}
    }
    deliveries.changed.notify_waiters();
}

fn log_entry(
    job: &Job,
    scheduled_at: Timestamp,
    attempted_at: Timestamp,
    outcome: DeliveryOutcome,
) -> DeliveryAttempt {
    DeliveryAttempt {
        webhook_id: job.webhook_id,
        idempotency_key: job.key.clone(),
        attempt: job.attempts_made.max(1),
        target_url: job.target_url.clone(),
        scheduled_at,
        attempted_at,
        outcome,
        body: job.body.clone(),
        signature: job.signature.clone(),
    }
}

fn skipped(reason: &str) -> DeliveryOutcome {
    DeliveryOutcome::Skipped {
        reason: reason.to_owned(),
    }
}

//! Event delivery: the fake POSTs signed events to webhook targets, retries
//! failures on Attio's schedule, and turns webhooks degraded and inactive.
//!
//! What a test reads here: the delivery log ([`DeliveryAttempt`]), what an
//! emit did ([`Emitted`], with a [`NearMiss`] for each webhook the event
//! almost reached), and how deliveries are shaped and retried
//! ([`DeliveryProfile`], [`DeliveryPolicy`]).
//!
//! Delivery sees the workspace (to find recipients and change statuses)
//! and the clock; it knows nothing of the dispatcher or the HTTP doors.

mod attempt;
mod emitted;
mod message;
mod policy;
mod profile;
mod queue;
mod redelivery;
mod send;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

use attio_webhooks::{model::Timestamp, receive::Event, WebhookId, WebhookStatus};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use crate::workspace::{ConditionMiss, FilterMiss, Found, NearMiss, NearMissReason};
pub use attempt::{
    DeliveryAttempt, DeliveryOrigin, DeliveryOutcome, QueuedDelivery, DELIVERY_USER_AGENT,
};
pub use emitted::{Emitted, UnknownEventType, MAX_NEAR_MISSES};
pub use policy::DeliveryPolicy;
pub use profile::{DeliveryProfile, OVERRUN_LIMIT};
pub use redelivery::RedeliveryError;

use crate::bounded::{BoundedLog, LogSnapshot};
use crate::clock::Clock;
use crate::locked::Locked;
use crate::workspace::Workspace;
use message::{Addressed, Job, Open};
use profile::{record_of, Draws};
use queue::Queue;
use send::Sender;
pub(crate) use send::{DeliveryRoots, Targets};

/// The limits of the delivery queue and log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeliveryLimits {
    pub(crate) queued: usize,
    pub(crate) log_entries: usize,
    pub(crate) log_bytes: usize,
}

/// The queue, the log and the profile's generator, under one lock so that
/// a reset clears the first two at once.
#[derive(Debug)]
struct State {
    queue: Queue,
    log: BoundedLog<DeliveryAttempt>,
    draws: Draws,
}

/// The delivery side of one fake: queue, log, worker and sender.
#[derive(Debug)]
pub(crate) struct Deliveries {
    workspace: Arc<Locked<Workspace>>,
    clock: Clock,
    policy: DeliveryPolicy,
    profile: DeliveryProfile,
    targets: Targets,
    state: Locked<State>,
    own_ports: Locked<Vec<u16>>,
    changed: Arc<Notify>,
    worker: Locked<Option<JoinHandle<()>>>,
    sender: OnceLock<Sender>,
    /// Requests left running past their timeout (overlapping attempts):
    /// at most [`MAX_OVERRUNS`] at once; a reset or the fake's drop ends
    /// them.
    overruns: Arc<tokio::sync::Semaphore>,
    stop_overruns: Arc<Notify>,
    /// Where each attempt's log line goes, if anywhere.
    log: OnceLock<crate::log_lines::LogFormat>,
}

/// The most requests left running past their timeout at once, under the
/// profile's overlapping attempts; past it an attempt is cut off at its
/// timeout as usual (the fake's bound on the sockets it holds).
const MAX_OVERRUNS: usize = 64;

impl Drop for Deliveries {
    fn drop(&mut self) {
        // Lets the worker notice that the fake is gone and stop, and ends
        // the requests left running.
        self.changed.notify_waiters();
        self.stop_overruns.notify_waiters();
    }
}

impl Deliveries {
    pub(crate) fn new(
        workspace: Arc<Locked<Workspace>>,
        clock: Clock,
        policy: DeliveryPolicy,
        profile: DeliveryProfile,
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
                    draws: Draws::new(profile.seed),
                },
            ),
            profile,
            own_ports: Locked::new("own ports", Vec::new()),
            changed: Arc::new(Notify::new()),
            worker: Locked::new("delivery worker", None),
            sender: OnceLock::new(),
            overruns: Arc::new(tokio::sync::Semaphore::new(MAX_OVERRUNS)),
            stop_overruns: Arc::new(Notify::new()),
            log: OnceLock::new(),
        }
    }

    /// Writes one line per attempt to stderr, in `format`, from now on.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn log_attempts(&self, format: crate::log_lines::LogFormat) {
        let _ = self.log.set(format);
    }

    pub(crate) fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    pub(crate) fn profile(&self) -> &DeliveryProfile {
        &self.profile
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

    /// Queues `events` for every webhook they go to (see
    /// [`Workspace::route`]): one message per webhook with the events it
    /// accepts, in order, signed with its secret. `joinable` lets a message
    /// about one record take later events under the profile's batch window
    /// (a single emit); an explicit batch is sent as it is. Under the
    /// profile, a user's record change also queues a `system` follow-up.
    /// Returns the messages that carry `events`, and why each other webhook
    /// does not get each event (or will not be sent it: its target).
    pub(crate) fn emit(
        self: &Arc<Self>,
        events: &[Event],
        joinable: bool,
        now: Timestamp,
    ) -> Emitted {
        // Taken first: a reset after it makes these messages stale.
        let (generation, follow_ups) = self.state.with(|s| {
            let follow_ups = match self.profile.system_follow_up_after {
                Some(_) => follow_ups(&mut s.draws, events),
                None => Vec::new(),
            };
            (s.queue.generation, follow_ups)
        });
        let ((messages, mut emitted), follow_ups) = self.workspace.with(|ws| {
            let follow_ups: Vec<Vec<Addressed>> = follow_ups
                .iter()
                .map(|event| address(ws, now, std::slice::from_ref(event)).0)
                .collect();
            (address(ws, now, events), follow_ups)
        });
        let own_ports = self.own_ports.with(|ports| ports.clone());
        emitted.note_misses(messages.iter().filter_map(|to| {
            send::refusal(&to.target_url, &self.targets, &own_ports).map(|reason| NearMiss {
                webhook_id: to.webhook_id,
                target_url: to.target_url.clone(),
                reason: NearMissReason::TargetRefused { reason },
            })
        }));
        let queued = self.state.with(|state| {
            if state.queue.generation != generation {
                return Vec::new();
            }
            let mut queued = Vec::with_capacity(messages.len());
            for to in messages {
                let origin = DeliveryOrigin::Emitted;
                queued.extend(self.queue_message(state, to, origin, joinable, now, generation));
            }
            let after = self.profile.system_follow_up_after.unwrap_or_default();
            for to in follow_ups.into_iter().flatten() {
                let at = now.saturating_add(after);
                let origin = DeliveryOrigin::FollowUp;
                self.queue_message(state, to, origin, false, at, generation);
            }
            queued
        });
        self.ensure_worker();
        self.changed.notify_waiters();
        emitted.deliveries = queued;
        emitted
    }

    /// Refuses `events` when one has a type this version does not know
    /// that no webhook subscribes to (see [`UnknownEventType`]): it can
    /// reach no one and is most likely a misspelling. Routes only such
    /// events; known types cost nothing here.
    pub(crate) fn check_types(
        &self,
        events: &[Event],
        now: Timestamp,
    ) -> Result<(), UnknownEventType> {
        for event in events.iter().filter(|e| !e.event_type.is_known()) {
            let routed = self.workspace.with(|ws| ws.route(now, event));
            if routed.recipients.is_empty() {
                // Decided on every webhook's verdict, then capped.
                let probe = Emitted {
                    near_misses: routed.near_misses,
                    ..Emitted::default()
                };
                probe.check_type(&event.event_type).map_err(|mut refused| {
                    refused.near_misses.truncate(MAX_NEAR_MISSES);
                    refused
                })?;
            }
        }
        Ok(())
    }

    /// Queues one message, or adds its events to an open one about the
    /// same record; its key, or `None` when the queue is full (logged as
    /// skipped). `at` is when it would go out without the profile.
    fn queue_message(
        &self,
        state: &mut State,
        to: Addressed,
        origin: DeliveryOrigin,
        joinable: bool,
        at: Timestamp,
        generation: u64,
    ) -> Option<QueuedDelivery> {
        let webhook_id = to.webhook_id;
        let window = self.profile.batch_window.filter(|_| joinable);
        let joins = window.and_then(|_| one_record(&to.events));
        if let Some(record) = &joins {
            if let Some(key) = state.queue.join(webhook_id, record, &to.events, at) {
                return Some(QueuedDelivery {
                    webhook_id,
                    idempotency_key: key,
                });
            }
        }
        let timing = state.draws.timing(&self.profile);
        // Only a message that later events may join waits out the window.
        let window = joins.as_ref().and(window).unwrap_or_default();
        let key = uuid::Uuid::new_v4().to_string();
        let message = Open {
            to,
            key: key.clone(),
            joins,
            joins_until: at.saturating_add(window),
            origin,
            sends_at: at.saturating_add(window.saturating_add(timing.held_back)),
            duplicate_after: timing.duplicate_after,
            generation,
        };
        match state.queue.add(message, at) {
            None => Some(QueuedDelivery {
                webhook_id,
                idempotency_key: key,
            }),
            Some(job) => {
                let reason = format!(
                    "the delivery queue is full ({} messages)",
                    state.queue.len()
                );
                let attempt = log_entry(&job, at, at, skipped(&reason));
                let size = attempt.size();
                state.log.push(attempt, size);
                None
            }
        }
    }

    /// Queues the message the log holds under `key` again, now: the same
    /// body, signature and `Idempotency-Key`, to the same target, attempts
    /// counted from 1.
    pub(crate) fn redeliver(
        self: &Arc<Self>,
        key: &str,
        now: Timestamp,
    ) -> Result<QueuedDelivery, RedeliveryError> {
        let queued = self.state.with(|state| {
            let past = state
                .log
                .newest(|a| a.idempotency_key == key)
                .ok_or_else(|| RedeliveryError::UnknownKey {
                    key: key.to_owned(),
                })?;
            let job = Job {
                webhook_id: past.webhook_id,
                key: past.idempotency_key.clone(),
                target_url: past.target_url.clone(),
                body: past.body.clone(),
                signature: past.signature.clone(),
                attempts_made: 0,
                next_at: now,
                generation: state.queue.generation,
                origin: DeliveryOrigin::Redelivery,
            };
            let queued = QueuedDelivery {
                webhook_id: job.webhook_id,
                idempotency_key: job.key.clone(),
            };
            match state.queue.push(job) {
                None => Ok(queued),
                Some(_) => Err(RedeliveryError::QueueFull {
                    queued: state.queue.len(),
                }),
            }
        })?;
        self.ensure_worker();
        self.changed.notify_waiters();
        Ok(queued)
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
            // A reset starts the profile's choices over: the same seed and
            // the same emits after a reset give the same messages.
            s.draws = Draws::new(self.profile.seed);
        });
        // A request of the test before the reset stops reaching its receiver.
        self.stop_overruns.notify_waiters();
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

    /// One POST of `job`: cut off at the attempt timeout, or, with the
    /// profile's overlapping attempts, failed at the timeout but left
    /// running (up to [`OVERRUN_LIMIT`], at most [`MAX_OVERRUNS`] at once,
    /// until a reset or the fake's drop) while its retry goes out.
    async fn post(&self, job: &Job) -> DeliveryOutcome {
        let timeout = self.policy.attempt_timeout;
        let permit = match self.profile.overlapping_attempts {
            true => Arc::clone(&self.overruns).try_acquire_owned().ok(),
            false => None,
        };
        let Some(permit) = permit else {
            return send::post(self.sender(), job, timeout).await;
        };
        let (sender, job) = (self.sender().clone(), job.clone());
        let stop = Arc::clone(&self.stop_overruns);
        let mut request = tokio::spawn(async move {
            let stopped = stop.notified();
            let outcome = tokio::select! {
                outcome = send::post(&sender, &job, OVERRUN_LIMIT) => outcome,
                () = stopped => DeliveryOutcome::Failed {
                    status: None,
                    error: Some("the fake was reset or dropped".to_owned()),
                },
            };
            drop(permit);
            outcome
        });
        match tokio::time::timeout(timeout, &mut request).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => DeliveryOutcome::Failed {
                status: None,
                error: Some(format!("the attempt's task ended: {e}")),
            },
            // Dropping the handle leaves the request running.
            Err(_) => DeliveryOutcome::Failed {
                status: None,
                error: Some(format!(
                    "no answer within {timeout:?}; the request was left running (overlapping attempts)"
                )),
            },
        }
    }
}

/// Each webhook's share of `events`: the events it accepts, in order, one
/// entry per webhook in the order they first accept one; and, for each
/// event in turn, why each other webhook does not get it (its
/// `deliveries` empty: they are queued later).
fn address(ws: &mut Workspace, now: Timestamp, events: &[Event]) -> (Vec<Addressed>, Emitted) {
    let mut messages: Vec<Addressed> = Vec::new();
    let mut explained = Emitted::default();
    let mut index: HashMap<WebhookId, usize> = HashMap::new();
    for event in events {
        let routed = ws.route(now, event);
        explained.note_misses(routed.near_misses);
        let shared = Arc::new(event.clone());
        for recipient in routed.recipients {
            let i = *index.entry(recipient.webhook_id).or_insert_with(|| {
                messages.push(Addressed {
                    webhook_id: recipient.webhook_id,
                    target_url: recipient.target_url,
                    secret: recipient.secret,
                    events: Vec::new(),
                });
                messages.len() - 1
            });
            messages[i].events.push(Arc::clone(&shared));
        }
    }
    (messages, explained)
}

/// The `system` follow-ups of `events`: one per record that a user created
/// or updated among them.
fn follow_ups(draws: &mut Draws, events: &[Event]) -> Vec<Event> {
    let mut follow_ups: Vec<Event> = Vec::new();
    let mut records = std::collections::HashSet::new();
    for event in events {
        let Some(follow_up) = draws.follow_up(event) else {
            continue;
        };
        if records.insert(record_of(&follow_up)) {
            follow_ups.push(follow_up);
        }
    }
    follow_ups
}

/// The record every one of `events` is about, if they share one.
fn one_record(events: &[Arc<Event>]) -> Option<(String, String)> {
    let first = record_of(events.first()?)?;
    events
        .iter()
        .all(|e| record_of(e).as_ref() == Some(&first))
        .then_some(first)
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
            None => deliveries.post(&job).await,
        },
    };
    let attempted_at = deliveries.clock.now();
    job.attempts_made += 1;
    let webhook_id = job.webhook_id;
    let scheduled_at = job.next_at;
    // A duplicate is an extra copy: never retried, no status change.
    let counts = job.origin != DeliveryOrigin::Duplicate;
    let succeeded = counts && matches!(outcome, DeliveryOutcome::Delivered { .. });
    let failed = counts && matches!(outcome, DeliveryOutcome::Failed { .. });
    let entry = log_entry(&job, scheduled_at, attempted_at, outcome);
    if let Some(format) = deliveries.log.get() {
        log_attempt(*format, &entry);
    }
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
        origin: job.origin,
        execution_id: crate::execution_id::text(),
    }
}

fn skipped(reason: &str) -> DeliveryOutcome {
    DeliveryOutcome::Skipped {
        reason: reason.to_owned(),
    }
}

/// Writes the log line of one attempt (`fake-attio --log-requests`).
fn log_attempt(format: crate::log_lines::LogFormat, entry: &DeliveryAttempt) {
    let (outcome, status) = match &entry.outcome {
        DeliveryOutcome::Delivered { status } => ("delivered", Some(*status)),
        DeliveryOutcome::Failed { status, .. } => ("failed", *status),
        DeliveryOutcome::Skipped { .. } => ("skipped", None),
    };
    let origin = serde_json::to_value(entry.origin)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    crate::log_lines::delivery(
        format,
        &crate::log_lines::DeliveryLine {
            webhook_id: &entry.webhook_id,
            attempt: entry.attempt,
            origin: &origin,
            target_url: &entry.target_url,
            outcome,
            status,
            execution_id: &entry.execution_id,
        },
    );
}

//! The messages waiting for their next attempt, and those still open for
//! more events (under a [`crate::delivery::DeliveryProfile`] batch window).

use std::sync::Arc;

use attio_webhooks::{model::Timestamp, receive::Event, WebhookId};

use super::message::{Job, Open};

/// Jobs waiting, open messages, attempts in flight, and a generation that
/// a reset bumps so that jobs from before it are dropped when they come back.
#[derive(Debug)]
pub(crate) struct Queue {
    jobs: Vec<Job>,
    open: Vec<Open>,
    capacity: usize,
    pub(crate) in_flight: usize,
    pub(crate) generation: u64,
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            jobs: Vec::new(),
            open: Vec::new(),
            capacity,
            in_flight: 0,
            generation: 0,
        }
    }

    /// Waiting, open and in-flight messages: what counts against the capacity.
    pub(crate) fn len(&self) -> usize {
        self.jobs.len() + self.open.len() + self.in_flight
    }

    /// Queues `job`, or gives it back when the queue is full.
    pub(crate) fn push(&mut self, job: Job) -> Option<Job> {
        if self.len() >= self.capacity {
            return Some(job);
        }
        self.jobs.push(job);
        None
    }

    /// Queues a new message: signed at once when it goes out now and takes
    /// no more events, else kept open until `sends_at`. When the queue is
    /// full, gives back its signed job (to be logged as skipped), as
    /// [`Queue::push`] does.
    pub(crate) fn add(&mut self, message: Open, now: Timestamp) -> Option<Job> {
        if self.len() >= self.capacity {
            return Some(message.seal().0);
        }
        if message.joins.is_none() && message.sends_at <= now {
            self.seal(message);
        } else {
            self.open.push(message);
        }
        None
    }

    /// Adds `events` to the open message to `webhook_id` about `record`
    /// that is still taking events at `now`, if there is one; its key.
    pub(crate) fn join(
        &mut self,
        webhook_id: WebhookId,
        record: &(String, String),
        events: &[Arc<Event>],
        now: Timestamp,
    ) -> Option<String> {
        let open = self
            .open
            .iter_mut()
            .find(|m| m.takes(webhook_id, record, events.len(), now))?;
        open.to.events.extend_from_slice(events);
        Some(open.key.clone())
    }

    /// Signs `message` into the waiting jobs (its duplicate too, while the
    /// queue has room).
    fn seal(&mut self, message: Open) {
        let (job, duplicate) = message.seal();
        self.jobs.push(job);
        if let Some(duplicate) = duplicate {
            // A random extra: dropped rather than grow past the capacity.
            let _ = self.push(duplicate);
        }
    }

    /// Puts a job back after an attempt (the slot it had is still counted
    /// in `in_flight`, so it always fits).
    pub(crate) fn requeue(&mut self, job: Job) {
        self.jobs.push(job);
    }

    /// Seals the open messages due at `now`, takes the jobs due (counting
    /// them in flight), and tells when the next remaining one is due.
    pub(crate) fn take_due(&mut self, now: Timestamp) -> (Vec<Job>, Option<Timestamp>) {
        let (due, open): (Vec<Open>, Vec<Open>) =
            self.open.drain(..).partition(|m| m.sends_at <= now);
        self.open = open;
        for message in due {
            self.seal(message);
        }
        let (due, waiting): (Vec<Job>, Vec<Job>) =
            self.jobs.drain(..).partition(|j| j.next_at <= now);
        self.jobs = waiting;
        self.in_flight += due.len();
        let next = self
            .jobs
            .iter()
            .map(|j| j.next_at)
            .chain(self.open.iter().map(|m| m.sends_at))
            .min();
        (due, next)
    }

    /// `true` when nothing is in flight and nothing is due at `now`.
    pub(crate) fn settled(&self, now: Timestamp) -> bool {
        self.in_flight == 0
            && self.jobs.iter().all(|j| j.next_at > now)
            && self.open.iter().all(|m| m.sends_at > now)
    }

    /// Drops every waiting job and open message; attempts in flight are
    /// dropped when they end.
    pub(crate) fn clear(&mut self) {
        self.jobs.clear();
        self.open.clear();
        self.generation += 1;
    }
}

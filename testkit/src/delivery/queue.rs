//! The messages waiting for their next attempt.

use attio_webhooks::{model::Timestamp, WebhookId};
use bytes::Bytes;

/// One message to one webhook, between attempts.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) webhook_id: WebhookId,
    pub(crate) key: String,
    /// The target URL the webhook had when the event was emitted.
    pub(crate) target_url: String,
    pub(crate) body: Bytes,
    pub(crate) signature: String,
    pub(crate) attempts_made: u32,
    pub(crate) next_at: Timestamp,
    /// The queue generation the job belongs to (see [`Queue::generation`]).
    pub(crate) generation: u64,
}

/// Jobs waiting, attempts in flight, and a generation that a reset bumps
/// so that jobs from before it are dropped when they come back.
#[derive(Debug)]
pub(crate) struct Queue {
    jobs: Vec<Job>,
    capacity: usize,
    pub(crate) in_flight: usize,
    pub(crate) generation: u64,
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            jobs: Vec::new(),
            capacity,
            in_flight: 0,
            generation: 0,
        }
    }

    /// Queues `job`, or gives it back when the queue is full (waiting and
    /// in-flight messages count alike).
    pub(crate) fn push(&mut self, job: Job) -> Option<Job> {
        if self.jobs.len() + self.in_flight >= self.capacity {
            return Some(job);
        }
        self.jobs.push(job);
        None
    }

    /// Puts a job back after an attempt (the slot it had is still counted
    /// in `in_flight`, so it always fits).
    pub(crate) fn requeue(&mut self, job: Job) {
        self.jobs.push(job);
    }

    /// Takes the jobs due at `now` (counting them in flight), and tells
    /// when the next remaining one is due.
    pub(crate) fn take_due(&mut self, now: Timestamp) -> (Vec<Job>, Option<Timestamp>) {
        let (due, waiting): (Vec<Job>, Vec<Job>) =
            self.jobs.drain(..).partition(|j| j.next_at <= now);
        self.jobs = waiting;
        self.in_flight += due.len();
        (due, self.jobs.iter().map(|j| j.next_at).min())
    }

    /// `true` when nothing is in flight and nothing is due at `now`.
    pub(crate) fn settled(&self, now: Timestamp) -> bool {
        self.in_flight == 0 && self.jobs.iter().all(|j| j.next_at > now)
    }

    /// Drops every waiting job; attempts in flight are dropped when they end.
    pub(crate) fn clear(&mut self) {
        self.jobs.clear();
        self.generation += 1;
    }

    pub(crate) fn waiting(&self) -> usize {
        self.jobs.len()
    }
}

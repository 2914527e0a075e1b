//! A message before it is signed (its recipient, its events, when it goes
//! out, and whether later events about the same record may still join it)
//! and after: the signed job that each attempt sends.

use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::{model::Timestamp, receive::signature, receive::Event, Secret, WebhookId};
use bytes::Bytes;

use super::attempt::DeliveryOrigin;

/// One message to one webhook, between attempts.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) webhook_id: WebhookId,
    pub(crate) key: String,
    /// The target URL the webhook had when the event was emitted.
    pub(crate) target_url: String,
    pub(crate) body: Bytes,
    pub(crate) signature: String,
    pub(crate) attempts_made: u32,
    pub(crate) next_at: Timestamp,
    /// The queue generation the job belongs to (see the queue's `generation`).
    pub(crate) generation: u64,
    /// Why it is sent; a [`DeliveryOrigin::Duplicate`] is not retried.
    pub(crate) origin: DeliveryOrigin,
}

/// One webhook's share of an emit: where it goes and the events it accepts, in emit order.
#[derive(Debug)]
pub(crate) struct Addressed {
    pub(crate) webhook_id: WebhookId,
    pub(crate) target_url: String,
    pub(crate) secret: Secret,
    /// Shared with the other webhooks' shares of the same emit: a batch to
    /// many webhooks holds each event once.
    pub(crate) events: Vec<Arc<Event>>,
}

/// The most events one message carries: past it, events about the same
/// record open a new message (the fake's bound on a body that grows while
/// it waits to be signed).
pub(crate) const MAX_EVENTS_PER_MESSAGE: usize = 100;

/// A message waiting to be signed and sent at `sends_at`.
#[derive(Debug)]
pub(crate) struct Open {
    pub(crate) to: Addressed,
    pub(crate) key: String,
    /// The record (object id, record id) every event is about, when later
    /// events about it may join the message until `joins_until`.
    pub(crate) joins: Option<(String, String)>,
    /// The end of the batch window: a message held back past it (the
    /// profile's reordering) takes no more events.
    pub(crate) joins_until: Timestamp,
    pub(crate) origin: DeliveryOrigin,
    pub(crate) sends_at: Timestamp,
    /// A duplicate goes out this long after the first attempt.
    pub(crate) duplicate_after: Option<Duration>,
    pub(crate) generation: u64,
}

impl Open {
    /// Whether `adding` events about `record`, for `webhook_id`, may join
    /// this message at `now`: within its batch window, and up to
    /// [`MAX_EVENTS_PER_MESSAGE`] events in all.
    pub(crate) fn takes(
        &self,
        webhook_id: WebhookId,
        record: &(String, String),
        adding: usize,
        now: Timestamp,
    ) -> bool {
        self.to.webhook_id == webhook_id
            && self.joins.as_ref() == Some(record)
            && now < self.joins_until
            && self.to.events.len().saturating_add(adding) <= MAX_EVENTS_PER_MESSAGE
    }

    /// Signs the body: the message's job, and its duplicate's if it has one.
    pub(crate) fn seal(self) -> (Job, Option<Job>) {
        let body = serde_json::to_vec(&Body {
            webhook_id: self.to.webhook_id,
            events: Events(&self.to.events),
        })
        .map(Bytes::from)
        .unwrap_or_default();
        let job = Job {
            webhook_id: self.to.webhook_id,
            key: self.key,
            target_url: self.to.target_url,
            signature: signature::sign(&self.to.secret, &body),
            body,
            attempts_made: 0,
            next_at: self.sends_at,
            generation: self.generation,
            origin: self.origin,
        };
        let duplicate = self.duplicate_after.map(|after| Job {
            next_at: self.sends_at.saturating_add(after),
            origin: DeliveryOrigin::Duplicate,
            ..job.clone()
        });
        (job, duplicate)
    }
}

/// A delivery body, `{"webhook_id", "events"}`, written as the core's
/// [`attio_webhooks::receive::Delivery`] writes it, from events shared
/// between messages.
#[derive(serde::Serialize)]
struct Body<'a> {
    webhook_id: WebhookId,
    events: Events<'a>,
}

struct Events<'a>(&'a [Arc<Event>]);

impl serde::Serialize for Events<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|event| &**event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attio_webhooks::receive::{Actor, Delivery};
    use attio_webhooks::{EventType, WorkspaceId};

    #[test]
    fn a_body_from_shared_events_is_the_bytes_delivery_writes() {
        let ws = WorkspaceId::from_u128(7);
        let events = vec![
            Event::new(EventType::RecordUpdated, ws, Actor::system()).with_id("record_id", "r1"),
            Event::new(EventType::NoteCreated, ws, Actor::system())
                .with_id("note_id", "n1")
                .with_field("parent_object_id", "o1"),
        ];
        let webhook_id = WebhookId::from_u128(9);
        let shared: Vec<Arc<Event>> = events.iter().cloned().map(Arc::new).collect();
        let ours = serde_json::to_vec(&Body {
            webhook_id,
            events: Events(&shared),
        })
        .unwrap();
        let core = serde_json::to_vec(&Delivery::batch(webhook_id, events)).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(core).unwrap()
        );
    }
}

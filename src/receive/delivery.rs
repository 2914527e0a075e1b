//! The body of a delivery: `{"webhook_id", "events"}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::WebhookId;
use crate::receive::event::Event;

/// The body of one delivery: `{"webhook_id": "...", "events": [Event, ...]}`.
///
/// A delivery can carry several events: Attio's reference shows one, but on
/// live workspaces it batches several events about one record into one
/// delivery (activepieces issue 15057 and PR 15064, where reading only
/// `events[0]` dropped the rest). Handle every event of `events`, in order.
/// The `Idempotency-Key` names the delivery as a whole (one message, all
/// its events), so deduplicating by key handles the batch once.
/// Unknown top-level keys are kept.
///
/// ```
/// use attio_webhooks::receive::Delivery;
/// let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[
///   {"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"o","record_id":"r","attribute_id":"a1"},"actor":{"type":"workspace-member","id":"m"}},
///   {"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"o","record_id":"r","attribute_id":"a2"},"actor":{"type":"workspace-member","id":"m"}}]}"#;
/// let delivery = Delivery::parse(body)?;
/// let changed: Vec<&str> = delivery.events.iter().filter_map(|e| e.attribute_id()).collect();
/// assert_eq!(changed, ["a1", "a2"]);
/// # Ok::<(), attio_webhooks::receive::PayloadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Delivery {
    /// The webhook this delivery is for.
    pub webhook_id: WebhookId,
    /// The events.
    pub events: Vec<Event>,
    /// Any other keys, verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A delivery body that is not what Attio sends.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the delivery body does not decode at `{path}`: {message}")]
#[non_exhaustive]
pub struct PayloadError {
    /// Where decoding failed, e.g. `events[0].actor.type`.
    pub path: String,
    /// What the parser said.
    pub message: String,
}

impl Delivery {
    /// A delivery of one event.
    pub fn new(webhook_id: WebhookId, event: Event) -> Self {
        Self::batch(webhook_id, vec![event])
    }

    /// A delivery of several events, as Attio batches them (events about one
    /// record, in order).
    pub fn batch(webhook_id: WebhookId, events: Vec<Event>) -> Self {
        Self {
            webhook_id,
            events,
            other: Map::new(),
        }
    }

    /// Parses a delivery body.
    pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
        crate::json::parse(body).map_err(|f| PayloadError {
            path: f.path,
            message: f.message,
        })
    }
}

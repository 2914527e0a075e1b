//! The body of a delivery: `{"webhook_id", "events"}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::WebhookId;
use crate::receive::event::Event;

/// The body of one delivery: `{"webhook_id": "...", "events": [Event]}`.
/// Attio sends one event per delivery today; the list is ready for batches.
/// Unknown top-level keys are kept.
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

    /// A delivery of several events (Attio sends one at a time today).
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

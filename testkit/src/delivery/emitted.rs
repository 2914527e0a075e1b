//! [`Emitted`]: what emitting an event did, and why it missed the
//! webhooks it missed.

use attio_webhooks::EventType;
use serde::{Deserialize, Serialize};

use super::QueuedDelivery;
use crate::workspace::{NearMiss, NearMissReason};

/// The answer of [`crate::FakeAttio::emit_explained`] and of
/// `POST /__fake/events`: `{"data": [queued], "near_misses": [NearMiss]}`.
///
/// `data` is what `POST /__fake/events` always answered (one entry per
/// queued message); `near_misses` names each webhook that did not get the
/// event, or will not be sent it, and why (the fake's choice: Attio has
/// no such report).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Emitted {
    /// The messages queued, one per webhook that gets the event.
    #[serde(rename = "data")]
    pub deliveries: Vec<QueuedDelivery>,
    /// Each webhook that does not get it (or whose target the fake will
    /// not send to), in creation order, with why.
    ///
    /// At most [`MAX_NEAR_MISSES`] for one emit (a batch to a full
    /// workspace could otherwise answer events × webhooks of them); the
    /// rest are counted in `near_misses_omitted`.
    #[serde(default)]
    pub near_misses: Vec<NearMiss>,
    /// How many near misses past [`MAX_NEAR_MISSES`] were left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub near_misses_omitted: usize,
}

/// The most near misses one emit reports (the fake's bound: each can hold
/// a webhook's filters and the values found, and a batch multiplies them).
pub const MAX_NEAR_MISSES: usize = 100;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Emitted {
    /// Adds `misses`, keeping at most [`MAX_NEAR_MISSES`] and counting
    /// the rest.
    pub(crate) fn note_misses(&mut self, misses: impl IntoIterator<Item = NearMiss>) {
        for miss in misses {
            if self.near_misses.len() < MAX_NEAR_MISSES {
                self.near_misses.push(miss);
            } else {
                self.near_misses_omitted += 1;
            }
        }
    }
}

/// An event whose `event_type` this version does not know, which no
/// webhook subscribes to: refused (`POST /__fake/events` answers 400 with
/// this message and the near misses), because it can reach no one and is
/// most likely a misspelling.
///
/// The fake's choice: Attio emits its own events, so it has no such
/// answer. Attio adds event types over time, so a type this version does
/// not know is still emitted when some webhook subscribes to exactly that
/// type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event type \"{}\": no webhook subscribes to it, and it is none of the {} types this version knows ({})",
    event_type.as_str(),
    EventType::KNOWN.len(),
    known_types()
)]
#[non_exhaustive]
pub struct UnknownEventType {
    /// The type as sent.
    pub event_type: EventType,
    /// Why each webhook did not get it (each says which types it
    /// subscribes to).
    pub near_misses: Vec<NearMiss>,
}

/// The known event types, comma-separated.
fn known_types() -> String {
    EventType::KNOWN
        .iter()
        .map(EventType::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Emitted {
    /// `Err` when `event_type` is unknown to this version and no webhook
    /// subscribes to it (see [`UnknownEventType`]).
    pub(crate) fn check_type(self, event_type: &EventType) -> Result<Self, UnknownEventType> {
        let subscribed = !self.deliveries.is_empty()
            || self
                .near_misses
                .iter()
                .any(|m| !matches!(m.reason, NearMissReason::NoSubscriptionForType { .. }));
        if event_type.is_known() || subscribed {
            return Ok(self);
        }
        Err(UnknownEventType {
            event_type: event_type.clone(),
            near_misses: self.near_misses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attio_webhooks::WebhookId;

    fn miss(reason: NearMissReason) -> NearMiss {
        NearMiss {
            webhook_id: WebhookId::from_u128(1),
            target_url: "https://example.com/".into(),
            reason,
        }
    }

    #[test]
    fn an_unknown_type_passes_only_when_some_webhook_subscribes_to_it() {
        let unknown = EventType::from("meeting.created");
        let no_type = || {
            miss(NearMissReason::NoSubscriptionForType {
                subscribed: vec![EventType::NoteCreated],
            })
        };
        let emitted = |deliveries: Vec<QueuedDelivery>, near_misses| Emitted {
            deliveries,
            near_misses,
            near_misses_omitted: 0,
        };
        // Nobody has the type (or there is nobody): refused, near misses kept.
        let refused = emitted(vec![], vec![no_type()]).check_type(&unknown);
        assert_eq!(refused.unwrap_err().near_misses, vec![no_type()]);
        assert!(emitted(vec![], vec![]).check_type(&unknown).is_err());
        // A known type is never refused, even when it reaches nobody.
        assert!(emitted(vec![], vec![no_type()])
            .check_type(&EventType::NoteCreated)
            .is_ok());
        // Some webhook subscribes to the unknown type: delivered, or missed
        // for its filter or status, it passes.
        let queued = QueuedDelivery {
            webhook_id: WebhookId::from_u128(2),
            idempotency_key: "k".into(),
        };
        assert!(emitted(vec![queued], vec![no_type()])
            .check_type(&unknown)
            .is_ok());
        assert!(
            emitted(vec![], vec![no_type(), miss(NearMissReason::Inactive)])
                .check_type(&unknown)
                .is_ok()
        );
    }
}

//! What the delivery log holds: one entry per attempt.

use attio_webhooks::{model::Timestamp, WebhookId};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::bytes_as_text::{lossy_utf8, utf8_bytes};

/// The `User-Agent` of the fake's deliveries: Attio's, as its payload
/// reference shows a delivery request
/// (attio.com/developers/reference/webhooks), so a receiver that looks at
/// it sees what Attio sends.
pub const DELIVERY_USER_AGENT: &str = "Attio 2.0 (https://attio.com/developers/using-webhooks)";

/// One delivery attempt, as the fake logs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
    #[serde(serialize_with = "lossy_utf8", deserialize_with = "utf8_bytes")]
    pub body: Bytes,
    /// The `Attio-Signature` sent.
    pub signature: String,
    /// Why this message was sent: emitted, a `system` follow-up, a
    /// duplicate or a redelivery (`emitted` when absent, as older fakes log).
    #[serde(default)]
    pub origin: DeliveryOrigin,
    /// The fake's name for this attempt: a fresh id in the form of the
    /// `X-Attio-Execution-Id` it answers API requests with, also in the
    /// `--log-requests` line of the attempt. Not sent to the receiver
    /// (no execution id on Attio's deliveries has been observed). Empty in
    /// logs of older fakes.
    #[serde(default)]
    pub execution_id: String,
}

impl DeliveryAttempt {
    /// The bytes this entry holds, for the log's budget.
    pub(crate) fn size(&self) -> usize {
        self.body.len()
            + self.idempotency_key.len()
            + self.target_url.len()
            + self.signature.len()
            + self.execution_id.len()
            + 128
    }
}

/// The result of one attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
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
    /// Not sent, not retried: the webhook was deleted or turned inactive,
    /// the target is not one the fake connects to (see
    /// [`crate::FakeAttio::emit`]), or the queue was full.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// Why a message was sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryOrigin {
    /// It carries emitted events ([`crate::FakeAttio::emit`] and
    /// [`crate::FakeAttio::emit_batch`]).
    #[default]
    Emitted,
    /// A `system` `record.updated` that followed a user's change (see
    /// [`crate::delivery::DeliveryProfile::system_follow_up_after`]).
    FollowUp,
    /// A second copy of a message: same `Idempotency-Key`, body and
    /// signature (see [`crate::delivery::DeliveryProfile::duplicate_rate`]); it is not
    /// retried and does not change the webhook's status.
    Duplicate,
    /// A message sent again by [`crate::FakeAttio::redeliver`]: same
    /// `Idempotency-Key`, body and signature, attempts counted from 1.
    Redelivery,
}

/// A message queued by [`crate::FakeAttio::emit`], [`crate::FakeAttio::emit_batch`]
/// or [`crate::FakeAttio::redeliver`]. Under a [`crate::delivery::DeliveryProfile`]
/// with a batch window, an event that joins a message still waiting gets
/// that message's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueuedDelivery {
    /// The webhook it goes to.
    pub webhook_id: WebhookId,
    /// Its `Idempotency-Key`.
    pub idempotency_key: String,
}

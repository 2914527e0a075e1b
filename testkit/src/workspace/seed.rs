//! Webhooks put into the fake directly, to arrange a test's starting state.

use attio_webhooks::{model::Timestamp, Secret, Subscription, WebhookId, WebhookStatus};
use serde::{Deserialize, Serialize};

/// A webhook to put into the fake directly ([`crate::FakeAttio::seed`],
/// `POST /__fake/webhooks`), with fields create cannot set: status, id,
/// creation time and secret. Unset fields are filled in as create would
/// (fresh id, the clock's now, a random secret, `active`).
///
/// A seed passes the same checks as a create (target URL policy, at least
/// one subscription, known event types and operators, uniqueness), and a
/// batch of seeds is stored whole or not at all.
///
/// ```
/// use attio_webhooks::{EventType, Subscription, WebhookStatus};
/// use attio_webhooks_testkit::{FakeAttio, Seed};
/// let fake = FakeAttio::new();
/// let seeded = fake.seed([Seed::new("https://example.com/a", vec![Subscription::new(EventType::NoteCreated)])
///     .status(WebhookStatus::Degraded)])?;
/// assert_eq!(fake.webhooks()[0].status, WebhookStatus::Degraded);
/// assert_eq!(seeded[0].secret.expose().len(), 64);
/// assert!(fake.seed([Seed::new("not a url", vec![])]).is_err());
/// # Ok::<(), attio_webhooks::error::ApiErrorBody>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Seed {
    /// The target URL.
    pub target_url: String,
    /// The subscriptions.
    pub subscriptions: Vec<Subscription>,
    /// The status; `active` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    /// The id; random when unset. An id already taken is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<WebhookId>,
    /// The creation time; the clock's now when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// The secret; random when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

impl Seed {
    /// A seed with a target and subscriptions; everything else defaulted.
    pub fn new(target_url: impl Into<String>, subscriptions: Vec<Subscription>) -> Self {
        Self {
            target_url: target_url.into(),
            subscriptions,
            status: None,
            webhook_id: None,
            created_at: None,
            secret: None,
        }
    }

    /// Sets the status.
    pub fn status(mut self, status: WebhookStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the id.
    pub fn webhook_id(mut self, id: WebhookId) -> Self {
        self.webhook_id = Some(id);
        self
    }

    /// Sets the creation time.
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.created_at = Some(at);
        self
    }

    /// Sets the secret.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secret = Some(secret);
        self
    }
}

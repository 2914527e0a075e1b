//! Webhooks and their subscriptions, as Attio sends them.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    EventType, FieldValue, Fields, Filter, Secret, Timestamp, WebhookId, WebhookStatus, WorkspaceId,
};

/// One event type a webhook receives, narrowed by an optional filter.
///
/// The `filter` key is always written, as `null` when there is no filter,
/// and must be present when read: Attio requires it.
///
/// ```
/// use attio_webhooks::{Condition, EventType, Filter, Subscription};
/// let all = Subscription::new(EventType::NoteCreated);
/// assert_eq!(serde_json::to_string(&all)?, r#"{"event_type":"note.created","filter":null}"#);
/// let some = Subscription::new(EventType::RecordUpdated)
///     .with_filter(Filter::Or(vec![Condition::equals("id.object_id", "people")]));
/// assert!(some.filter.is_some());
/// assert!(serde_json::from_str::<Subscription>(r#"{"event_type":"note.created"}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subscription {
    /// The type of event delivered.
    pub event_type: EventType,
    /// `None` (`null` on the wire) delivers every event of the type.
    #[serde(deserialize_with = "required_nullable")]
    pub filter: Option<Filter>,
}

impl Subscription {
    /// A subscription to every event of `event_type` (filter `null`).
    pub fn new(event_type: EventType) -> Self {
        Self::from_parts(event_type, None)
    }

    /// A subscription to `event_type` with an optional filter, as it reads
    /// on the wire (`None` is `null`).
    pub fn from_parts(event_type: EventType, filter: Option<Filter>) -> Self {
        Self { event_type, filter }
    }

    /// The same subscription, delivering only events that pass `filter`.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Whether this subscription receives `event`: the same `event_type`,
    /// and the filter passes.
    pub fn accepts<E: Fields + ?Sized>(&self, event: &E) -> bool {
        matches!(event.field("event_type"), FieldValue::String(t) if t == self.event_type.as_str())
            && Filter::passes(self.filter.as_ref(), event)
    }

    /// The same subscription as Attio sees it when it checks uniqueness:
    /// same event type and [`equivalent`](Filter::equivalent) filters, a
    /// `null` filter being equivalent only to `null`. Two subscriptions
    /// for one target URL that are equivalent conflict (409); a tool that
    /// reconciles webhooks compares them this way.
    ///
    /// ```
    /// use attio_webhooks::{Condition, EventType, Filter, Subscription};
    /// let (a, b) = (Condition::equals("a", "1"), Condition::equals("b", "2"));
    /// let ab = Subscription::new(EventType::NoteCreated).with_filter(Filter::Or(vec![a.clone(), b.clone()]));
    /// let ba = Subscription::new(EventType::NoteCreated).with_filter(Filter::Or(vec![b, a]));
    /// assert!(ab.equivalent(&ba));
    /// assert!(!ab.equivalent(&Subscription::new(EventType::NoteCreated)));
    /// ```
    pub fn equivalent(&self, other: &Subscription) -> bool {
        self.event_type == other.event_type
            && match (&self.filter, &other.filter) {
                (None, None) => true,
                (Some(a), Some(b)) => a.equivalent(b),
                _ => false,
            }
    }
}

/// Reads an `Option` whose key must be present (its value may be `null`).
/// Using `deserialize_with` turns off serde's "missing means None" default.
fn required_nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// The pair of ids under a webhook's `id` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookIdentifier {
    /// The workspace the webhook belongs to.
    pub workspace_id: WorkspaceId,
    /// The webhook itself.
    pub webhook_id: WebhookId,
}

impl WebhookIdentifier {
    /// The ids of webhook `webhook_id` in workspace `workspace_id`.
    pub fn new(workspace_id: WorkspaceId, webhook_id: WebhookId) -> Self {
        Self {
            workspace_id,
            webhook_id,
        }
    }
}

/// A webhook as returned by list, get and update.
///
/// Fields are written in Attio's order: `target_url`, `subscriptions`, `id`,
/// `status`, `created_at`. Unknown keys in a response are ignored.
///
/// The struct is `#[non_exhaustive]` so that a field Attio adds can be
/// added here without a breaking release: build one (in tests, in a fake)
/// with [`Webhook::new`] and the `with_*` setters.
///
/// ```
/// use attio_webhooks::{EventType, Subscription, model::Timestamp, Webhook, WebhookId, model::WebhookIdentifier, WebhookStatus, WorkspaceId};
/// let id = WebhookIdentifier::new(WorkspaceId::from_u128(1), WebhookId::from_u128(2));
/// let created_at: Timestamp = "2023-04-27T13:22:49.061281000Z".parse()?;
/// let webhook = Webhook::new(id, "https://example.com/hook", vec![Subscription::new(EventType::NoteCreated)], created_at)
///     .with_status(WebhookStatus::Degraded);
/// assert_eq!(webhook.webhook_id(), WebhookId::from_u128(2));
/// assert!(webhook.status.receives_events());
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Webhook {
    // The fields in the order Attio writes them (recorded answers,
    // amp-labs/connectors `providers/attio/test/create_subscribe_*.json`),
    // so that a webhook written back is the bytes Attio sent.
    /// Workspace and webhook ids.
    pub id: WebhookIdentifier,
    /// Where events are delivered (an `https://` URL).
    pub target_url: String,
    /// Whether the webhook receives events.
    pub status: WebhookStatus,
    /// The events the webhook receives.
    pub subscriptions: Vec<Subscription>,
    /// When the webhook was created.
    pub created_at: Timestamp,
}

impl Webhook {
    /// An `active` webhook with these ids, target, subscriptions and
    /// creation time.
    pub fn new(
        id: WebhookIdentifier,
        target_url: impl Into<String>,
        subscriptions: Vec<Subscription>,
        created_at: Timestamp,
    ) -> Self {
        Self {
            target_url: target_url.into(),
            subscriptions,
            id,
            status: WebhookStatus::Active,
            created_at,
        }
    }

    /// The same webhook with another status.
    pub fn with_status(mut self, status: WebhookStatus) -> Self {
        self.status = status;
        self
    }

    /// Shorthand for `self.id.webhook_id`.
    pub fn webhook_id(&self) -> WebhookId {
        self.id.webhook_id
    }
}

/// The answer to create: the new webhook plus its signing secret, which
/// Attio shows only this once.
///
/// On the wire this is one flat object, the webhook's keys followed by
/// `secret`; [`Secret`] keeps the value out of `Debug` output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedWebhook {
    /// The webhook as created.
    pub webhook: Webhook,
    /// The key that signs every delivery to this webhook.
    pub secret: Secret,
}

impl CreatedWebhook {
    /// `webhook` together with its signing `secret`.
    pub fn new(webhook: Webhook, secret: Secret) -> Self {
        Self { webhook, secret }
    }
}

impl Serialize for CreatedWebhook {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let w = &self.webhook;
        let mut s = serializer.serialize_struct("CreatedWebhook", 6)?;
        // Attio's order: the webhook's keys, then `secret`.
        s.serialize_field("id", &w.id)?;
        s.serialize_field("target_url", &w.target_url)?;
        s.serialize_field("status", &w.status)?;
        s.serialize_field("subscriptions", &w.subscriptions)?;
        s.serialize_field("created_at", &w.created_at)?;
        s.serialize_field("secret", &self.secret)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for CreatedWebhook {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            target_url: String,
            subscriptions: Vec<Subscription>,
            id: WebhookIdentifier,
            status: WebhookStatus,
            created_at: Timestamp,
            secret: Secret,
        }
        let w = Wire::deserialize(deserializer)?;
        let webhook =
            Webhook::new(w.id, w.target_url, w.subscriptions, w.created_at).with_status(w.status);
        Ok(CreatedWebhook::new(webhook, w.secret))
    }
}

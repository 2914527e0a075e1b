//! A webhook as the workspace keeps it, with its JSON already written.

use attio_webhooks::{
    model::Timestamp, model::WebhookIdentifier, CreatedWebhook, Secret, Webhook, WebhookId,
    WebhookStatus, WorkspaceId,
};
use std::mem;

use bytes::Bytes;

use super::error::WorkspaceError;
use super::footprint::{allocation, per_key, per_webhook, Footprint};
use super::rules::{CheckedWebhook, SubscriptionKey};

/// What Attio shows of a webhook, also kept serialized (reads copy bytes
/// instead of serializing again), its secret, its uniqueness keys and
/// delivery bookkeeping. Every change goes through a method that keeps the
/// serialized form in step.
#[derive(Clone, Debug)]
pub(crate) struct StoredWebhook {
    webhook: Webhook,
    json: Bytes,
    secret: Secret,
    keys: Vec<SubscriptionKey>,
    degraded_since: Option<Timestamp>,
    /// What it holds in memory ([`StoredWebhook::size`]), kept in step
    /// with every change.
    footprint: usize,
}

/// A webhook built and serialized before the workspace is locked, ready to
/// be inserted, with the 409 its request earned by repeating a subscription.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// The webhook as it will be stored.
    pub(crate) webhook: StoredWebhook,
    /// The 409 its own subscriptions earned (two equivalent ones), if any.
    pub(crate) repeat: Option<WorkspaceError>,
}

impl Prepared {
    /// Builds the webhook a create or seed stores: `status` (`active` unless
    /// seeded otherwise), degraded from `now` when degraded.
    pub(crate) fn new(
        workspace_id: WorkspaceId,
        webhook_id: WebhookId,
        checked: CheckedWebhook,
        status: WebhookStatus,
        created_at: Timestamp,
        secret: Secret,
        now: Timestamp,
    ) -> Self {
        let degraded_since = (status == WebhookStatus::Degraded).then_some(now);
        let webhook = Webhook::new(
            WebhookIdentifier::new(workspace_id, webhook_id),
            checked.target_url,
            checked.subscriptions,
            created_at,
        )
        .with_status(status);
        let mut stored = StoredWebhook {
            json: serialize(&webhook),
            webhook,
            secret,
            keys: checked.keys,
            degraded_since,
            footprint: 0,
        };
        stored.footprint = stored.measure();
        Prepared {
            webhook: stored,
            repeat: checked.repeat,
        }
    }
}

impl StoredWebhook {
    /// The webhook's JSON object, as Attio writes it: what get, list and
    /// update answer inside `{"data": ...}`.
    pub(crate) fn json(&self) -> &Bytes {
        &self.json
    }

    pub(crate) fn webhook(&self) -> &Webhook {
        &self.webhook
    }

    pub(crate) fn id(&self) -> WebhookId {
        self.webhook.id.webhook_id
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    pub(crate) fn keys(&self) -> &[SubscriptionKey] {
        &self.keys
    }

    pub(crate) fn degraded_since(&self) -> Option<Timestamp> {
        self.degraded_since
    }

    /// The bytes this webhook takes in the workspace's budget: an estimate
    /// of the memory it holds (see `footprint`), not its JSON length.
    pub(crate) fn size(&self) -> usize {
        self.footprint
    }

    /// Every allocation this webhook holds, and its share of the
    /// workspace's maps.
    fn measure(&self) -> usize {
        allocation(self.json.len())
            + self.webhook.heap()
            + allocation(self.secret.expose().len())
            + self.keys.heap()
            + self.keys.len() * per_key::<SubscriptionKey>()
            + per_webhook::<StoredWebhook>(&self.webhook.target_url)
    }

    /// The webhook with its secret, as create answers.
    pub(crate) fn created(&self) -> CreatedWebhook {
        CreatedWebhook::new(self.webhook.clone(), self.secret.clone())
    }

    pub(crate) fn set_status(&mut self, status: WebhookStatus, degraded_since: Option<Timestamp>) {
        self.webhook.status = status;
        self.degraded_since = degraded_since;
        self.json = serialize(&self.webhook);
        self.footprint = self.measure();
    }

    /// Applies an update whose rules were checked, and returns what it
    /// replaced so that [`StoredWebhook::restore`] can undo it.
    pub(crate) fn apply(
        &mut self,
        target_url: Option<String>,
        subscriptions: Option<(Vec<attio_webhooks::Subscription>, Vec<SubscriptionKey>)>,
    ) -> Replaced {
        let target_url = target_url.map(|url| mem::replace(&mut self.webhook.target_url, url));
        let subscriptions = subscriptions.map(|(subscriptions, keys)| {
            (
                mem::replace(&mut self.webhook.subscriptions, subscriptions),
                mem::replace(&mut self.keys, keys),
            )
        });
        let json = mem::replace(&mut self.json, serialize(&self.webhook));
        let footprint = mem::replace(&mut self.footprint, 0);
        self.footprint = self.measure();
        Replaced {
            target_url,
            subscriptions,
            json,
            footprint,
        }
    }

    /// Undoes [`StoredWebhook::apply`].
    pub(crate) fn restore(&mut self, replaced: Replaced) {
        if let Some(url) = replaced.target_url {
            self.webhook.target_url = url;
        }
        if let Some((subscriptions, keys)) = replaced.subscriptions {
            self.webhook.subscriptions = subscriptions;
            self.keys = keys;
        }
        self.json = replaced.json;
        self.footprint = replaced.footprint;
    }
}

/// What an update replaced: the old target URL and subscriptions (when
/// they changed) and the old JSON.
#[derive(Debug)]
pub(crate) struct Replaced {
    target_url: Option<String>,
    subscriptions: Option<(Vec<attio_webhooks::Subscription>, Vec<SubscriptionKey>)>,
    json: Bytes,
    footprint: usize,
}

impl Replaced {
    /// The target URL before the update, if it changed.
    pub(crate) fn target_url(&self) -> Option<&str> {
        self.target_url.as_deref()
    }

    /// The uniqueness keys before the update, if they changed.
    pub(crate) fn keys(&self) -> Option<&[SubscriptionKey]> {
        self.subscriptions.as_ref().map(|(_, keys)| keys.as_slice())
    }
}

fn serialize(webhook: &Webhook) -> Bytes {
    // A webhook is plain data with string keys: serializing cannot fail.
    let mut json = serde_json::to_vec(webhook).unwrap_or_default();
    // Held as long as the webhook: no growth slack (the budget charges
    // the length).
    json.shrink_to_fit();
    Bytes::from(json)
}

/// 32 random bytes as 64 lowercase hex characters, like Attio's secrets.
pub(crate) fn random_secret() -> Secret {
    let mut bytes = [0u8; 32];
    // One getrandom call (a fraction of a microsecond), as uuid v4 does.
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    Secret::new(const_hex::encode(bytes))
}

/// A webhook whose URL and secret need escaping in JSON, for tests of
/// the bytes the fake answers.
#[cfg(test)]
pub(crate) fn odd_webhook() -> Prepared {
    use crate::workspace::rules::check_new;
    use attio_webhooks::{model::TargetUrlPolicy, EventType, Subscription};
    let checked = check_new(
        "https://example.com/a?b=c&d=%22".into(),
        vec![Subscription::new(EventType::NoteCreated)],
        &TargetUrlPolicy::HttpsOnly,
    )
    .unwrap();
    Prepared::new(
        WorkspaceId::from_u128(7),
        WebhookId::from_u128(9),
        checked,
        WebhookStatus::Active,
        Timestamp::UNIX_EPOCH,
        Secret::new("odd \"secret\" \\ value"),
        Timestamp::UNIX_EPOCH,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_bytes_are_exactly_what_serializing_gives() {
        let prepared = odd_webhook();
        let stored = &prepared.webhook;
        let json: serde_json::Value = serde_json::from_slice(stored.json()).unwrap();
        assert_eq!(json, serde_json::json!(stored.webhook()));
    }

    #[test]
    fn the_budget_counts_what_is_held_and_follows_every_change() {
        let mut stored = odd_webhook().webhook;
        let size = stored.size();
        // At least the JSON, the secret and the webhook's own strings.
        let json = stored.json().len();
        assert!(
            size > json + stored.webhook().target_url.len() + 20,
            "{size}"
        );
        assert_eq!(size, stored.measure());
        stored.set_status(WebhookStatus::Degraded, Some(Timestamp::UNIX_EPOCH));
        assert_eq!(stored.size(), stored.measure());
        let replaced = stored.apply(
            Some("https://example.com/a-much-longer-target-url".into()),
            None,
        );
        assert!(stored.size() > size);
        assert_eq!(stored.size(), stored.measure());
        stored.restore(replaced);
        assert_eq!(stored.size(), stored.measure());
    }
}

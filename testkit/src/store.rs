//! The in-memory webhook store, with Attio's rules.

use attio_webhooks::{
    ApiErrorBody, CreatedWebhook, Filter, Secret, Subscription, Timestamp, Webhook, WebhookId,
    WebhookIdentifier, WebhookStatus, WorkspaceId,
};
use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::errors;
use crate::validate::{NewWebhook, WebhookChanges};

/// A webhook as the fake keeps it: what Attio shows (also kept serialized,
/// so reads copy bytes instead of serializing again), its secret, and
/// delivery bookkeeping. Every change goes through a method that keeps the
/// serialized form in step.
#[derive(Clone, Debug)]
pub(crate) struct StoredWebhook {
    webhook: Webhook,
    json: Bytes,
    secret: Secret,
    degraded_since: Option<Timestamp>,
}

impl StoredWebhook {
    fn new(webhook: Webhook, secret: Secret, degraded_since: Option<Timestamp>) -> Self {
        let json = serialize(&webhook);
        Self {
            webhook,
            json,
            secret,
            degraded_since,
        }
    }

    /// The webhook as list, get and update show it.
    pub(crate) fn webhook(&self) -> &Webhook {
        &self.webhook
    }

    /// The signing secret.
    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The webhook with its secret, as create answers.
    pub(crate) fn created(&self) -> CreatedWebhook {
        CreatedWebhook::new(self.webhook.clone(), self.secret.clone())
    }

    fn set_status(&mut self, status: WebhookStatus, degraded_since: Option<Timestamp>) {
        self.webhook.status = status;
        self.degraded_since = degraded_since;
        self.json = serialize(&self.webhook);
    }

    fn apply(&mut self, changes: WebhookChanges) {
        if let Some(url) = changes.target_url {
            self.webhook.target_url = url;
        }
        if let Some(subscriptions) = changes.subscriptions {
            self.webhook.subscriptions = subscriptions;
        }
        self.json = serialize(&self.webhook);
    }
}

fn serialize(webhook: &Webhook) -> Bytes {
    // A webhook is plain data with string keys: serializing cannot fail.
    Bytes::from(serde_json::to_vec(webhook).unwrap_or_default())
}

/// `{"data":<webhook>}` from the stored bytes.
pub(crate) fn data_one(stored: &StoredWebhook) -> Bytes {
    let mut out = BytesMut::with_capacity(stored.json.len() + 9);
    out.put_slice(b"{\"data\":");
    out.put_slice(&stored.json);
    out.put_u8(b'}');
    out.freeze()
}

/// `{"data":<webhook with "secret">}` (create's answer) from the stored
/// bytes: the webhook object with `"secret":"..."` as its last key.
pub(crate) fn data_created(stored: &StoredWebhook) -> Bytes {
    // The stored JSON is an object, so it ends with `}`.
    let object = &stored.json[..stored.json.len().saturating_sub(1)];
    let secret = stored.secret.expose();
    let mut out = BytesMut::with_capacity(object.len() + secret.len() + 24);
    out.put_slice(b"{\"data\":");
    out.put_slice(object);
    out.put_slice(b",\"secret\":");
    // A hex secret needs no escaping, but a seeded one might.
    let quoted = serde_json::to_vec(secret).unwrap_or_else(|_| b"\"\"".to_vec());
    out.put_slice(&quoted);
    out.put_slice(b"}}");
    out.freeze()
}

/// `{"data":[<webhook>,...]}` from the stored bytes.
pub(crate) fn data_list<'a>(page: impl Iterator<Item = &'a StoredWebhook> + Clone) -> Bytes {
    let size: usize = page.clone().map(|s| s.json.len() + 1).sum();
    let mut out = BytesMut::with_capacity(size + 11);
    out.put_slice(b"{\"data\":[");
    for (i, stored) in page.enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(&stored.json);
    }
    out.put_slice(b"]}");
    out.freeze()
}

/// A webhook to put into the fake directly, bypassing validation: for
/// arranging a test's starting state. Unset fields are filled in as create
/// would (fresh id, the clock's now, a random secret, `active`).
///
/// ```
/// use attio_webhooks::{EventType, Subscription, WebhookStatus};
/// use attio_webhooks_testkit::{FakeAttio, Seed};
/// let fake = FakeAttio::new();
/// let seeded = fake.seed([Seed::new("https://example.com/a", vec![Subscription::new(EventType::NoteCreated)])
///     .status(WebhookStatus::Degraded)])?;
/// assert_eq!(fake.webhooks()[0].status, WebhookStatus::Degraded);
/// assert_eq!(seeded[0].secret.expose().len(), 64);
/// # Ok::<(), attio_webhooks::ApiErrorBody>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seed {
    /// The target URL (not checked).
    pub target_url: String,
    /// The subscriptions (not checked).
    pub subscriptions: Vec<Subscription>,
    /// The status; `active` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    /// The id; random when unset. A duplicate id is refused.
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

/// All webhooks of the fake's one workspace, in creation order.
#[derive(Debug)]
pub(crate) struct Store {
    workspace_id: WorkspaceId,
    webhooks: Vec<StoredWebhook>,
    /// How many webhooks have `degraded_since` set, so that the check for
    /// expired ones costs nothing while there are none.
    degraded: usize,
}

impl Store {
    pub(crate) fn new(workspace_id: WorkspaceId) -> Self {
        Self {
            workspace_id,
            webhooks: Vec::new(),
            degraded: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.webhooks.clear();
        self.degraded = 0;
    }

    /// Moves webhook `id` from status `from` to `to` (with the time it
    /// turned degraded, if it did); `false` if it is not in status `from`.
    pub(crate) fn change_status(
        &mut self,
        id: WebhookId,
        from: WebhookStatus,
        to: WebhookStatus,
        degraded_since: Option<Timestamp>,
    ) -> bool {
        let Some(index) = self.position(id) else {
            return false;
        };
        let stored = &mut self.webhooks[index];
        if stored.webhook.status != from {
            return false;
        }
        let was_degraded = stored.degraded_since.is_some();
        stored.set_status(to, degraded_since);
        self.degraded =
            self.degraded + usize::from(degraded_since.is_some()) - usize::from(was_degraded);
        true
    }

    /// Turns every webhook degraded for `limit` or longer inactive. `now`
    /// is only asked for when some webhook is degraded.
    pub(crate) fn expire_degraded(
        &mut self,
        now: impl FnOnce() -> Timestamp,
        limit: std::time::Duration,
    ) {
        if self.degraded == 0 {
            return;
        }
        let now = now();
        for stored in &mut self.webhooks {
            if stored
                .degraded_since
                .is_some_and(|since| since.saturating_add(limit) <= now)
            {
                stored.set_status(WebhookStatus::Inactive, None);
                self.degraded -= 1;
            }
        }
    }

    pub(crate) fn all(&self) -> &[StoredWebhook] {
        &self.webhooks
    }

    /// `{"data":[...]}` for one page.
    pub(crate) fn list(&self, limit: usize, offset: usize) -> Bytes {
        data_list(self.webhooks.iter().skip(offset).take(limit))
    }

    pub(crate) fn create(
        &mut self,
        new: NewWebhook,
        now: Timestamp,
    ) -> Result<&StoredWebhook, ApiErrorBody> {
        self.check_unique(&new.target_url, &new.subscriptions, None)?;
        self.seed(Seed::new(new.target_url, new.subscriptions), now)
    }

    pub(crate) fn seed(
        &mut self,
        seed: Seed,
        now: Timestamp,
    ) -> Result<&StoredWebhook, ApiErrorBody> {
        let webhook_id = seed
            .webhook_id
            .unwrap_or_else(|| WebhookId::from_uuid(uuid::Uuid::new_v4()));
        if self.position(webhook_id).is_some() {
            return Err(errors::validation(format!(
                "A webhook with ID \"{webhook_id}\" already exists."
            )));
        }
        let status = seed.status.unwrap_or(WebhookStatus::Active);
        let degraded_since = (status == WebhookStatus::Degraded).then_some(now);
        let webhook = Webhook::new(
            WebhookIdentifier::new(self.workspace_id, webhook_id),
            seed.target_url,
            seed.subscriptions,
            seed.created_at.unwrap_or(now),
        )
        .with_status(status);
        let secret = seed.secret.unwrap_or_else(random_secret);
        self.degraded += usize::from(degraded_since.is_some());
        self.webhooks
            .push(StoredWebhook::new(webhook, secret, degraded_since));
        Ok(&self.webhooks[self.webhooks.len() - 1])
    }

    pub(crate) fn get(&self, id: &str) -> Result<&StoredWebhook, ApiErrorBody> {
        let index = self.find(id)?;
        Ok(&self.webhooks[index])
    }

    pub(crate) fn update(
        &mut self,
        id: &str,
        changes: WebhookChanges,
    ) -> Result<&StoredWebhook, ApiErrorBody> {
        let index = self.find(id)?;
        let current = &self.webhooks[index].webhook;
        let target_url = changes.target_url.as_ref().unwrap_or(&current.target_url);
        let subscriptions = changes
            .subscriptions
            .as_ref()
            .unwrap_or(&current.subscriptions);
        self.check_unique(target_url, subscriptions, Some(current.id.webhook_id))?;
        self.webhooks[index].apply(changes);
        Ok(&self.webhooks[index])
    }

    pub(crate) fn delete(&mut self, id: &str) -> Result<(), ApiErrorBody> {
        let index = self.find(id)?;
        let removed = self.webhooks.remove(index);
        self.degraded -= usize::from(removed.degraded_since.is_some());
        Ok(())
    }

    fn position(&self, id: WebhookId) -> Option<usize> {
        self.webhooks
            .iter()
            .position(|s| s.webhook.id.webhook_id == id)
    }

    /// The index of the webhook with this path id; 404 with Attio's message
    /// for an unknown id or one that is not a UUID.
    fn find(&self, id: &str) -> Result<usize, ApiErrorBody> {
        WebhookId::parse(id)
            .ok()
            .and_then(|id| self.position(id))
            .ok_or_else(|| errors::not_found(id))
    }

    /// 409 when a (target URL, event type, filter) triple of `subscriptions`
    /// repeats within the list, or exists on another webhook than `except`.
    fn check_unique(
        &self,
        target_url: &str,
        subscriptions: &[Subscription],
        except: Option<WebhookId>,
    ) -> Result<(), ApiErrorBody> {
        let same = |a: &Subscription, b: &Subscription| {
            a.event_type == b.event_type
                && Filter::equivalent_opt(a.filter.as_ref(), b.filter.as_ref())
        };
        for (i, sub) in subscriptions.iter().enumerate() {
            if subscriptions[..i].iter().any(|earlier| same(earlier, sub)) {
                return Err(errors::conflict(format!(
                    "The request repeats a subscription to \"{}\" with the same filter for target URL \"{target_url}\".",
                    sub.event_type
                )));
            }
            let clash = self.webhooks.iter().find(|s| {
                Some(s.webhook.id.webhook_id) != except
                    && s.webhook.target_url == target_url
                    && s.webhook.subscriptions.iter().any(|other| same(other, sub))
            });
            if let Some(clash) = clash {
                return Err(errors::conflict(format!(
                    "Webhook with ID \"{}\" already subscribes target URL \"{target_url}\" to \"{}\" with the same filter.",
                    clash.webhook.id.webhook_id, sub.event_type
                )));
            }
        }
        Ok(())
    }
}

/// 32 random bytes as 64 lowercase hex characters, like Attio's secrets.
fn random_secret() -> Secret {
    let mut bytes = [0u8; 32];
    // ThreadRng: ChaCha seeded from the OS, without a system call per secret.
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    Secret::new(const_hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use attio_webhooks::EventType;

    #[test]
    fn the_stored_bytes_answer_exactly_what_serializing_would() {
        let mut store = Store::new(WorkspaceId::from_u128(7));
        let seed = Seed::new(
            "https://example.com/\"quoted\"",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .secret(Secret::new("odd \"secret\" \\ value"));
        let stored = store.seed(seed, Timestamp::UNIX_EPOCH).unwrap().clone();
        let created: serde_json::Value = serde_json::from_slice(&data_created(&stored)).unwrap();
        assert_eq!(created, serde_json::json!({"data": stored.created()}));
        let one: serde_json::Value = serde_json::from_slice(&data_one(&stored)).unwrap();
        assert_eq!(one, serde_json::json!({"data": stored.webhook()}));
        let list: serde_json::Value = serde_json::from_slice(&store.list(10, 0)).unwrap();
        assert_eq!(list, serde_json::json!({"data": [stored.webhook()]}));
        let empty: serde_json::Value = serde_json::from_slice(&store.list(10, 1)).unwrap();
        assert_eq!(empty, serde_json::json!({"data": []}));
    }
}

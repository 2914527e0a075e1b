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

    /// When it turned degraded, if it is degraded.
    pub(crate) fn degraded_since(&self) -> Option<Timestamp> {
        self.degraded_since
    }

    /// The webhook with its secret, as create answers.
    pub(crate) fn created(&self) -> CreatedWebhook {
        CreatedWebhook {
            webhook: self.webhook.clone(),
            secret: self.secret.clone(),
        }
    }

    /// Sets the status (and when it turned degraded).
    pub(crate) fn set_status(&mut self, status: WebhookStatus, degraded_since: Option<Timestamp>) {
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
}

impl Store {
    pub(crate) fn new(workspace_id: WorkspaceId) -> Self {
        Self {
            workspace_id,
            webhooks: Vec::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.webhooks.clear();
    }

    pub(crate) fn all(&self) -> &[StoredWebhook] {
        &self.webhooks
    }

    pub(crate) fn all_mut(&mut self) -> &mut [StoredWebhook] {
        &mut self.webhooks
    }

    pub(crate) fn find_mut(&mut self, id: WebhookId) -> Option<&mut StoredWebhook> {
        self.webhooks
            .iter_mut()
            .find(|s| s.webhook.id.webhook_id == id)
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
        let webhook = Webhook {
            target_url: seed.target_url,
            subscriptions: seed.subscriptions,
            id: WebhookIdentifier {
                workspace_id: self.workspace_id,
                webhook_id,
            },
            status,
            created_at: seed.created_at.unwrap_or(now),
        };
        let secret = seed.secret.unwrap_or_else(random_secret);
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
        self.webhooks.remove(index);
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
    Secret::new(hex::encode(bytes))
}

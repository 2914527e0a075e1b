//! `PATCH /v2/webhooks/{webhook_id}`: change a webhook's target or subscriptions.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Serialize;

use super::request::{body_size_hint, decode_data, encode_data, Request};
use crate::error::{DecodeError, InvalidInput};
use crate::model::{Subscription, TargetUrlPolicy, Webhook, WebhookId};

/// Updates a webhook. Only the fields that were set are sent; new
/// subscriptions replace the old ones.
///
/// Attio answers 404 for an unknown id and 409 when the change would
/// duplicate a (target URL, event type, filter) triple.
///
/// ```
/// use attio_webhooks::{operations::UpdateWebhook, Request, WebhookId};
/// let update = UpdateWebhook::new(WebhookId::from_u128(1)).target_url("https://example.com/new");
/// assert_eq!(update.body()?.unwrap(), r#"{"data":{"target_url":"https://example.com/new"}}"#);
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct UpdateWebhook {
    /// The webhook to change (sent in the path, not the body).
    #[serde(skip)]
    pub webhook_id: WebhookId,
    /// A new target URL, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
    /// New subscriptions replacing the old ones, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<Subscription>>,
}

impl UpdateWebhook {
    /// An update of `webhook_id` that changes nothing until a setter is called.
    pub fn new(webhook_id: WebhookId) -> Self {
        Self {
            webhook_id,
            target_url: None,
            subscriptions: None,
        }
    }

    /// Sets a new target URL (must be `https://`).
    pub fn target_url(mut self, target_url: impl Into<String>) -> Self {
        self.target_url = Some(target_url.into());
        self
    }

    /// Replaces the subscriptions (at least one).
    pub fn subscriptions(mut self, subscriptions: Vec<Subscription>) -> Self {
        self.subscriptions = Some(subscriptions);
        self
    }
}

impl Request for UpdateWebhook {
    type Response = Webhook;
    const NAME: &'static str = "attio.webhooks.update";
    const URL_TEMPLATE: Option<&'static str> = Some("/v2/webhooks/{webhook_id}");

    fn method(&self) -> Method {
        Method::PATCH
    }

    fn write_path(&self, out: &mut String) {
        super::write_webhook_path(self.webhook_id, out);
    }

    fn body(&self) -> Result<Option<Bytes>, InvalidInput> {
        encode_data(
            self,
            body_size_hint(self.target_url.as_deref(), self.subscriptions.as_deref()),
        )
    }

    fn validate(&self, targets: &TargetUrlPolicy) -> Result<(), InvalidInput> {
        if let Some(url) = &self.target_url {
            targets.check(url)?;
        }
        if self.subscriptions.as_ref().is_some_and(Vec::is_empty) {
            return Err(InvalidInput::NoSubscriptions);
        }
        Ok(())
    }

    fn decode_success(status: StatusCode, body: &Bytes) -> Result<Webhook, DecodeError> {
        decode_data(status, body)
    }
}

//! `GET /v2/webhooks/{webhook_id}`: one webhook.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::request::{decode_data, Request};
use crate::error::DecodeError;
use crate::model::{Webhook, WebhookId};

/// Fetches one webhook. Attio answers 404 `not_found` for an unknown id.
///
/// ```
/// use attio_webhooks::{operations::GetWebhook, RequestExt, WebhookId};
/// let id: WebhookId = "23e42eaf-323a-41da-b5bb-fd67eebda553".parse()?;
/// assert_eq!(GetWebhook::new(id).path(), "/v2/webhooks/23e42eaf-323a-41da-b5bb-fd67eebda553");
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetWebhook {
    /// The webhook to fetch.
    pub webhook_id: WebhookId,
}

impl GetWebhook {
    /// Fetches `webhook_id`.
    pub fn new(webhook_id: WebhookId) -> Self {
        Self { webhook_id }
    }
}

impl Request for GetWebhook {
    type Response = Webhook;
    const NAME: &'static str = "attio.webhooks.get";
    const URL_TEMPLATE: Option<&'static str> = Some("/v2/webhooks/{webhook_id}");

    fn method(&self) -> Method {
        Method::GET
    }

    fn write_path(&self, out: &mut String) {
        super::write_webhook_path(self.webhook_id, out);
    }

    fn decode_success(status: StatusCode, body: &Bytes) -> Result<Webhook, DecodeError> {
        decode_data(status, body)
    }
}

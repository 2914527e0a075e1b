//! `DELETE /v2/webhooks/{webhook_id}`: remove a webhook.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Deserialize;

use super::request::{decode_json, Request};
use crate::error::DecodeError;
use crate::model::WebhookId;

/// Deletes a webhook. Attio answers `{}`; an unknown id gets 404.
///
/// A 404 that follows an attempt with an unknown outcome (a 5xx, a timeout,
/// a dropped connection) counts as success: the earlier attempt deleted
/// the webhook ([`Request::already_done`]). A 404 on the first attempt
/// stays an error.
///
/// ```
/// use attio_webhooks::{operations::DeleteWebhook, Request, WebhookId};
/// use attio_webhooks::http::Method;
/// let delete = DeleteWebhook::new(WebhookId::from_u128(1));
/// assert_eq!(delete.method(), Method::DELETE);
/// assert_eq!(delete.body()?, None);
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteWebhook {
    /// The webhook to delete.
    pub webhook_id: WebhookId,
}

impl DeleteWebhook {
    /// Deletes `webhook_id`.
    pub fn new(webhook_id: WebhookId) -> Self {
        Self { webhook_id }
    }
}

/// The `{}` body of a successful delete.
#[derive(Deserialize)]
struct Empty {}

impl Request for DeleteWebhook {
    type Response = ();
    const NAME: &'static str = "attio.webhooks.delete";
    const URL_TEMPLATE: Option<&'static str> = Some("/v2/webhooks/{webhook_id}");

    fn method(&self) -> Method {
        Method::DELETE
    }

    fn write_path(&self, out: &mut String) {
        super::write_webhook_path(self.webhook_id, out);
    }

    fn already_done(&self) -> Option<()> {
        Some(())
    }

    fn decode_success(status: StatusCode, body: &Bytes) -> Result<(), DecodeError> {
        decode_json::<Empty>(status, body).map(|Empty {}| ())
    }
}

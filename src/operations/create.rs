//! `POST /v2/webhooks`: create a webhook.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Serialize;

use super::request::{body_size_hint, decode_data, encode_data, Request};
use crate::error::{DecodeError, InvalidInput};
use crate::model::{CreatedWebhook, Subscription, TargetUrlPolicy};

/// Creates a webhook with its subscriptions. The answer carries the signing
/// secret, which Attio never shows again.
///
/// Fails before sending with [`InvalidInput::TargetUrl`] for a target that is
/// not `https://`, and [`InvalidInput::NoSubscriptions`] for an empty list.
/// Attio answers 409 `uniqueness_conflict` when a (target URL, event type,
/// filter) triple already exists, also within this one request.
///
/// ```
/// use attio_webhooks::{operations::CreateWebhook, EventType, Request, Subscription};
/// let create = CreateWebhook::new(
///     "https://example.com/hook",
///     vec![Subscription::new(EventType::NoteCreated)],
/// );
/// assert_eq!(
///     create.body()?.unwrap(),
///     r#"{"data":{"target_url":"https://example.com/hook","subscriptions":[{"event_type":"note.created","filter":null}]}}"#
/// );
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CreateWebhook {
    /// Where events will be delivered; must be `https://`.
    pub target_url: String,
    /// One or more subscriptions.
    pub subscriptions: Vec<Subscription>,
}

impl CreateWebhook {
    /// A webhook delivering `subscriptions` to `target_url`.
    pub fn new(target_url: impl Into<String>, subscriptions: Vec<Subscription>) -> Self {
        Self {
            target_url: target_url.into(),
            subscriptions,
        }
    }

    /// Adds one more subscription.
    pub fn subscription(mut self, subscription: Subscription) -> Self {
        self.subscriptions.push(subscription);
        self
    }
}

impl Request for CreateWebhook {
    type Response = CreatedWebhook;
    const NAME: &'static str = "attio.webhooks.create";
    const URL_TEMPLATE: Option<&'static str> = Some("/v2/webhooks");

    fn method(&self) -> Method {
        Method::POST
    }

    fn write_path(&self, out: &mut String) {
        out.push_str("/v2/webhooks");
    }

    fn body(&self) -> Result<Option<Bytes>, InvalidInput> {
        encode_data(
            self,
            body_size_hint(Some(&self.target_url), Some(&self.subscriptions)),
        )
    }

    fn validate(&self, targets: &TargetUrlPolicy) -> Result<(), InvalidInput> {
        targets.check(&self.target_url)?;
        if self.subscriptions.is_empty() {
            return Err(InvalidInput::NoSubscriptions);
        }
        Ok(())
    }

    fn decode_success(status: StatusCode, body: &Bytes) -> Result<CreatedWebhook, DecodeError> {
        decode_data(status, body)
    }
}

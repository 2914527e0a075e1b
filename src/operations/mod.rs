//! The five webhook operations, one file each, and the [`Request`] trait
//! they implement, with the helpers to decode Attio's responses.

mod create;
mod delete;
mod get;
mod list;
mod update;

mod request;

pub use create::CreateWebhook;
pub use delete::DeleteWebhook;
pub use get::GetWebhook;
pub use list::{ListWebhooks, DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT};
pub use request::{decode_json, Envelope, Request, RequestExt};
pub use update::UpdateWebhook;

/// Appends `/v2/webhooks/{webhook_id}`, shared by get, update and delete.
fn write_webhook_path(webhook_id: crate::WebhookId, out: &mut String) {
    let mut id = uuid::Uuid::encode_buffer();
    out.push_str("/v2/webhooks/");
    out.push_str(webhook_id.as_uuid().hyphenated().encode_lower(&mut id));
}

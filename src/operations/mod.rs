//! The five webhook operations, one file each. Each is a [`crate::Request`].

mod create;
mod delete;
mod get;
mod list;
mod update;

pub use create::CreateWebhook;
pub use delete::DeleteWebhook;
pub use get::GetWebhook;
pub use list::{ListWebhooks, MAX_LIMIT, MIN_LIMIT};
pub use update::UpdateWebhook;

/// `/v2/webhooks/{webhook_id}`, shared by get, update and delete.
fn webhook_path(webhook_id: crate::WebhookId) -> String {
    format!("/v2/webhooks/{webhook_id}")
}

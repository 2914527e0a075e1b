//! The types Attio's webhooks API sends and receives. The common ones are
//! also at the crate root.

mod event_type;
pub(crate) mod field_path;
mod filter;
mod ids;
mod redacted;
mod status;
mod target_url;
mod timestamp;
mod webhook;

pub use event_type::EventType;
pub use field_path::{FieldValue, Fields};
pub use filter::{Condition, Filter, Operator};
pub use ids::{WebhookId, WorkspaceId};
pub use redacted::{ApiToken, Secret};
pub use status::WebhookStatus;
pub(crate) use target_url::is_loopback_http_url;
pub use target_url::TargetUrlPolicy;
pub use timestamp::Timestamp;
pub use webhook::{CreatedWebhook, Subscription, Webhook, WebhookIdentifier};

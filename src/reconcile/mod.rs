//! Declarative webhooks: say which webhooks should exist and which target
//! URLs you own; get a [`Plan`] of what it takes, with the reason for each
//! change; [`apply`] it. [`ensure`] is the one call for the common start-up
//! case ("a webhook with this URL exists with these subscriptions"), safe
//! when several replicas make it at once.
//!
//! The engine is pure where it can be: [`plan`] compares a [`Desired`] set
//! with a listing and does no I/O; [`apply`] and [`ensure`] run on any
//! [`Client`](crate::Client). The `attio-webhooks` CLI's `plan` and `apply`
//! are a thin layer over this module.
//!
//! Ownership: a desired set names the target-URL prefixes it
//! [`owns`](Desired::owns). Pruning ([`Prune::Owned`]) deletes only owned
//! webhooks the set does not want, never one outside the scope, and a set
//! that owns nothing cannot prune ([`PlanError::PruneWithoutScope`]).
//!
//! ```
//! use attio_webhooks::reconcile::{plan, Change, Desired, DesiredWebhook, Prune};
//! use attio_webhooks::{EventType, Subscription, Webhook};
//! # fn listed() -> Vec<Webhook> { serde_json::from_str(r#"[
//! #   {"target_url":"https://hooks.example.com/old","subscriptions":[{"event_type":"note.created","filter":null}],
//! #    "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"},
//! #    "status":"active","created_at":"2023-04-27T13:22:49.061281000Z"},
//! #   {"target_url":"https://zapier.example.com/x","subscriptions":[{"event_type":"note.created","filter":null}],
//! #    "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","webhook_id":"33e42eaf-323a-41da-b5bb-fd67eebda553"},
//! #    "status":"active","created_at":"2023-04-27T13:22:49.061281000Z"}]"#).unwrap() }
//! let desired = Desired::new()
//!     .owns("https://hooks.example.com/")
//!     .with(DesiredWebhook::new("https://hooks.example.com/attio", vec![Subscription::new(EventType::RecordCreated)]));
//! let plan = plan(&desired, &listed(), Prune::Owned)?;
//! // Deletes first: the old owned webhook; then the create. Zapier's is not ours.
//! assert!(matches!(&plan.changes[..], [Change::Delete { .. }, Change::Create { .. }]));
//! assert_eq!(plan.unmanaged[0].target_url, "https://zapier.example.com/x");
//! assert_eq!(plan.changes[0].reason(), "owned (under https://hooks.example.com/) and not wanted");
//! # Ok::<(), attio_webhooks::reconcile::PlanError>(())
//! ```

mod apply;
mod desired;
mod ensure;
mod plan;

pub use apply::{apply, Applied, ApplyError, Done};
pub use desired::{Desired, DesiredError, DesiredWebhook};
pub use ensure::{ensure, Ensured};
pub use plan::{fingerprint, plan, Change, Plan, PlanError, Prune};

//! Making a workspace match a [`Plan`], one change at a time.

use std::ops::ControlFlow;

use crate::operations::UpdateWebhook;
use crate::reconcile::plan::{Change, Plan};
use crate::{Client, CreatedWebhook, Error, Transport, Webhook};

/// What one change did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Done {
    /// The webhook was created; its secret is shown only this once.
    Created(CreatedWebhook),
    /// The webhook was updated, as Attio answered.
    Updated(Webhook),
    /// The webhook was deleted (as it was before).
    Deleted(Webhook),
}

/// What [`apply`] did, in order.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Applied {
    /// Each change made, in the plan's order.
    pub done: Vec<Done>,
}

impl Applied {
    /// The webhooks created, with their secrets.
    pub fn created(&self) -> impl Iterator<Item = &CreatedWebhook> {
        self.done.iter().filter_map(|d| match d {
            Done::Created(c) => Some(c),
            _ => None,
        })
    }
}

/// Where [`apply`] stopped.
#[derive(Debug, thiserror::Error)]
#[error("change {index} of the plan ({target}) failed: {error}; {made} made before it", made = .applied.done.len(), target = .target_url)]
#[non_exhaustive]
pub struct ApplyError {
    /// What was done before the failure (created webhooks' secrets
    /// included: they cannot be had again).
    pub applied: Applied,
    /// The position in the plan of the change that failed.
    pub index: usize,
    /// Its target URL.
    pub target_url: String,
    /// Why.
    #[source]
    pub error: Error,
}

/// Makes the plan's changes in its order, calling `after` with each one
/// as it is done (to show it, or to keep a created webhook's secret before
/// anything else can fail). Stops at the first failure, or when `after`
/// answers [`ControlFlow::Break`], and reports what was done so far.
pub async fn apply<T: Transport>(
    client: &Client<T>,
    plan: &Plan,
    mut after: impl FnMut(usize, &Done) -> ControlFlow<()>,
) -> Result<Applied, ApplyError> {
    let mut applied = Applied::default();
    for (index, change) in plan.changes.iter().enumerate() {
        let done = match change {
            Change::Create {
                target_url,
                subscriptions,
            } => client
                .create_webhook(target_url.clone(), subscriptions.clone())
                .await
                .map(Done::Created),
            Change::Update {
                current,
                subscriptions,
                ..
            } => client
                .update_webhook(
                    UpdateWebhook::new(current.webhook_id()).subscriptions(subscriptions.clone()),
                )
                .await
                .map(Done::Updated),
            Change::Delete { current, .. } => client
                .delete_webhook(current.webhook_id())
                .await
                .map(|()| Done::Deleted(current.clone())),
        };
        match done {
            Ok(done) => {
                let flow = after(index, &done);
                applied.done.push(done);
                if flow.is_break() {
                    break;
                }
            }
            Err(error) => {
                return Err(ApplyError {
                    applied,
                    index,
                    target_url: change.target_url().to_owned(),
                    error,
                })
            }
        }
    }
    Ok(applied)
}

//! The start-up case: make sure one webhook exists as wanted.

use futures::TryStreamExt;

use crate::operations::UpdateWebhook;
use crate::reconcile::desired::DesiredWebhook;
use crate::reconcile::plan::{plan, Change, Prune};
use crate::reconcile::Desired;
use crate::{Client, CreatedWebhook, Error, Transport, Webhook};

/// How many times [`ensure`] lists the workspace again after losing a race.
const ROUNDS: usize = 4;

/// What [`ensure`] found or did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Ensured {
    /// No webhook had the target URL; this call created it. Keep the
    /// secret: Attio shows it only this once.
    Created(CreatedWebhook),
    /// The webhook existed with other subscriptions; this call replaced
    /// them.
    Updated(Webhook),
    /// The webhook existed as wanted (perhaps just made by another
    /// replica); nothing changed.
    Unchanged(Webhook),
}

impl Ensured {
    /// The webhook as it now is.
    pub fn webhook(&self) -> &Webhook {
        match self {
            Ensured::Created(created) => &created.webhook,
            Ensured::Updated(webhook) | Ensured::Unchanged(webhook) => webhook,
        }
    }
}

/// Makes sure a webhook to `want.target_url` exists with exactly
/// `want.subscriptions` (compared as sets, as Attio compares them),
/// creating or updating it. Never deletes.
///
/// Safe when several replicas call it at once: a create answered 409
/// (another replica made it first) or an update answered 404 (someone
/// deleted it meanwhile) lists the workspace again and goes on from what
/// it finds, so the calls end with one webhook with the wanted
/// subscriptions, not an error and not two webhooks. Only the replica
/// whose create won gets [`Ensured::Created`] and the secret; give the
/// others the secret through your configuration.
///
/// ```
/// # async fn demo<T: attio_webhooks::Transport>(client: attio_webhooks::Client<T>) -> Result<(), attio_webhooks::Error> {
/// use attio_webhooks::reconcile::{ensure, DesiredWebhook, Ensured};
/// use attio_webhooks::{EventType, Subscription};
/// let want = DesiredWebhook::new("https://hooks.example.com/attio", vec![Subscription::new(EventType::RecordCreated)]);
/// if let Ensured::Created(created) = ensure(&client, &want).await? {
///     println!("store this secret: {}", created.secret.expose());
/// }
/// # Ok(()) }
/// ```
pub async fn ensure<T: Transport>(
    client: &Client<T>,
    want: &DesiredWebhook,
) -> Result<Ensured, Error> {
    let desired = Desired::new().with(want.clone());
    let mut last = None;
    for _ in 0..ROUNDS {
        let current: Vec<Webhook> = client.list_all(100).try_collect().await?;
        let planned = plan(&desired, &current, Prune::No).expect("no pruning, no scope needed");
        let attempt = match planned.changes.into_iter().next() {
            None => {
                let webhook = planned.unchanged.into_iter().next();
                return Ok(Ensured::Unchanged(webhook.expect("matched, so unchanged")));
            }
            Some(Change::Create {
                target_url,
                subscriptions,
            }) => client
                .create_webhook(target_url, subscriptions)
                .await
                .map(Ensured::Created),
            Some(Change::Update {
                current,
                subscriptions,
                ..
            }) => client
                .update_webhook(
                    UpdateWebhook::new(current.webhook_id()).subscriptions(subscriptions),
                )
                .await
                .map(Ensured::Updated),
            Some(Change::Delete { .. }) => unreachable!("a plan without pruning deletes nothing"),
        };
        match attempt {
            Ok(done) => return Ok(done),
            // Lost a race: someone created, changed or deleted it since
            // the listing. Look again.
            Err(error) if error.is_conflict() || error.is_not_found() => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.expect("every round ended in a race"))
}

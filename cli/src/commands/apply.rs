//! `apply -f FILE [--prune] [--secrets-out FILE]`: make the workspace match.

use attio_webhooks::operations::UpdateWebhook;
use attio_webhooks::{transport::HyperTransport, Client, Webhook};
use serde::Serialize;
use serde_json::Value;

use super::{Ctx, Status};
use crate::args::ApplyArgs;
use crate::cli_error::CliError;
use crate::output::line;
use crate::reconcile::Change;
use crate::secrets_file::SecretsFile;

/// What apply did, as `--json` prints it.
#[derive(Debug, Default, Serialize)]
struct Applied {
    /// Created webhooks; with their `secret` unless it went to --secrets-out.
    created: Vec<Value>,
    /// Updated webhooks, as Attio answered.
    updated: Vec<Webhook>,
    /// Deleted webhooks, as they were.
    deleted: Vec<Webhook>,
}

/// Makes the changes `plan` lists, in its order, stopping at the first failure
/// (after printing what was done, secrets included).
pub async fn run(args: ApplyArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    // An unreadable secrets file stops the run before anything changes.
    let mut secrets = SecretsFile::open_if_given(args.secrets_out.as_deref())?;
    let (client, plan) = super::plan::compute(&args.plan, ctx).await?;

    let mut applied = Applied::default();
    let total = plan.changes.len();
    let mut failure = None;
    for (i, change) in plan.changes.iter().enumerate() {
        ctx.out
            .progress(&format!("[{}/{total}] {}", i + 1, first_line(change)));
        if let Err(e) = apply_one(&client, change, secrets.as_mut(), &mut applied, ctx).await {
            failure = Some(e);
            break;
        }
    }

    if ctx.out.json {
        ctx.out.json(&applied)?;
    } else if total == 0 {
        line(&super::plan::no_changes(&plan));
    } else {
        line(&format!(
            "Apply {}: {} created, {} updated, {} deleted.",
            if failure.is_some() {
                "stopped"
            } else {
                "complete"
            },
            applied.created.len(),
            applied.updated.len(),
            applied.deleted.len()
        ));
    }
    if let Some(note) = super::plan::unmanaged_note(&plan) {
        ctx.out.progress(&format!("{note}."));
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(Status::Done),
    }
}

fn first_line(change: &Change) -> String {
    let text = super::plan::describe_change(change);
    text.lines().next().unwrap_or_default().to_owned()
}

/// Makes one change and records it; in table mode prints it at once (with
/// a new webhook's secret, unless it goes to the secrets file).
async fn apply_one(
    client: &Client<HyperTransport>,
    change: &Change,
    secrets: Option<&mut SecretsFile>,
    applied: &mut Applied,
    ctx: &Ctx<'_>,
) -> Result<(), CliError> {
    match change {
        Change::Create {
            target_url,
            subscriptions,
        } => {
            let created = client
                .create_webhook(target_url.clone(), subscriptions.clone())
                .await?;
            // If the secrets file cannot be written, the secret is shown
            // instead (it cannot be fetched again) and apply stops.
            let kept = secrets.map(|file| file.add(&created));
            let shown = match kept {
                Some(Ok(())) => encode(&created.webhook)?,
                _ => encode(&created)?,
            };
            if !ctx.out.json {
                line(&format!(
                    "created  {}  {}",
                    created.webhook.webhook_id(),
                    target_url
                ));
                if shown.get("secret").is_some() {
                    line(&format!("  secret  {}", created.secret.expose()));
                }
            }
            applied.created.push(shown);
            if let Some(Err(e)) = kept {
                return Err(CliError::Local(format!(
                    "{e}; the secret was printed instead"
                )));
            }
        }
        Change::Update {
            current,
            subscriptions,
            ..
        } => {
            let webhook = client
                .update_webhook(
                    UpdateWebhook::new(current.webhook_id()).subscriptions(subscriptions.clone()),
                )
                .await?;
            if !ctx.out.json {
                line(&format!(
                    "updated  {}  {}",
                    webhook.webhook_id(),
                    webhook.target_url
                ));
            }
            applied.updated.push(webhook);
        }
        Change::Delete { current } => {
            client.delete_webhook(current.webhook_id()).await?;
            if !ctx.out.json {
                line(&format!(
                    "deleted  {}  {}",
                    current.webhook_id(),
                    current.target_url
                ));
            }
            applied.deleted.push(current.clone());
        }
    }
    Ok(())
}

fn encode<T: Serialize>(value: &T) -> Result<Value, CliError> {
    serde_json::to_value(value)
        .map_err(|e| CliError::Local(format!("could not encode a webhook: {e}")))
}

//! `update ID [--url URL] [--event TYPE[:FILTER]]...`.

use attio_webhooks::operations::UpdateWebhook;

use super::{warn_unknown_event_types, Ctx, Status};
use crate::args::UpdateArgs;
use crate::cli_error::CliError;
use crate::connect;
use crate::output::{line, webhook_details};

/// Changes a webhook's target URL and/or replaces its subscriptions.
pub async fn run(args: UpdateArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let client = connect::client(ctx.global)?;
    let mut update = UpdateWebhook::new(args.id);
    if let Some(url) = args.url {
        update = update.target_url(url);
    }
    if !args.event.is_empty() {
        warn_unknown_event_types(&args.event, ctx.out);
        update = update.subscriptions(args.event);
    }
    let webhook = client.update_webhook(update).await?;
    if ctx.out.json {
        ctx.out.json(&webhook)?;
    } else {
        line(&webhook_details(&webhook));
    }
    Ok(Status::Done)
}

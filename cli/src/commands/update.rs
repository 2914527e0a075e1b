//! `update ID [--url URL] [--event TYPE[:FILTER]]...`.

use attio_webhooks::operations::UpdateWebhook;
use attio_webhooks::{Subscription, WebhookId};
use clap::{ArgGroup, Args};

use crate::cli_error::CliError;
use crate::connect;
use crate::context::{Ctx, Status};
use crate::filter_syntax::{filter_syntax_help, parse_subscription};
use crate::output::{line, webhook_details};

/// The arguments of `update`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true).args(["url", "event"])))]
#[command(after_help = concat!(
        "--event replaces all subscriptions.\n\n",
        filter_syntax_help!(),
        "\n\nExamples:
  attio-webhooks update 23e42eaf-323a-41da-b5bb-fd67eebda553 --url https://example.com/v2
  attio-webhooks update 23e42eaf-323a-41da-b5bb-fd67eebda553 --event note.created --event task.created"
    ))]
pub struct UpdateArgs {
    /// The webhook's id (a UUID).
    #[arg(value_name = "ID", value_parser = WebhookId::parse)]
    pub id: WebhookId,
    /// A new target URL (https://).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A subscription: an event type, then optionally `:FILTER`; repeat for more. Replaces all subscriptions.
    #[arg(long = "event", value_name = "TYPE[:FILTER]", value_parser = parse_subscription)]
    pub event: Vec<Subscription>,
}

/// Changes a webhook's target URL and/or replaces its subscriptions.
pub async fn run(args: UpdateArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let client = connect::client(ctx.global)?;
    let mut update = UpdateWebhook::new(args.id);
    if let Some(url) = args.url {
        update = update.target_url(url);
    }
    if !args.event.is_empty() {
        ctx.out.warn_unknown_event_types(&args.event);
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

//! `get ID`.

use attio_webhooks::WebhookId;
use clap::Args;

use crate::cli_error::CliError;
use crate::connect;
use crate::context::{Ctx, Status};
use crate::output::{line, webhook_details};

/// The arguments of `get`.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  attio-webhooks get 23e42eaf-323a-41da-b5bb-fd67eebda553")]
pub struct GetArgs {
    /// The webhook's id (a UUID).
    #[arg(value_name = "ID", value_parser = WebhookId::parse)]
    pub id: WebhookId,
}

/// Shows one webhook.
pub async fn run(args: GetArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let webhook = connect::client(ctx.global)?.get_webhook(args.id).await?;
    if ctx.out.json {
        ctx.out.json(&webhook)?;
    } else {
        line(&webhook_details(&webhook));
    }
    Ok(Status::Done)
}

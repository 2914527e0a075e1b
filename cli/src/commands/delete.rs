//! `delete ID`.

use attio_webhooks::WebhookId;
use clap::Args;

use crate::cli_error::CliError;
use crate::connect;
use crate::context::{Ctx, Status};
use crate::output::line;

/// The arguments of `delete`.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  attio-webhooks delete 23e42eaf-323a-41da-b5bb-fd67eebda553")]
pub struct DeleteArgs {
    /// The webhook's id (a UUID).
    #[arg(value_name = "ID", value_parser = WebhookId::parse)]
    pub id: WebhookId,
}

/// Deletes one webhook.
pub async fn run(args: DeleteArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    connect::client(ctx.global)?.delete_webhook(args.id).await?;
    if ctx.out.json {
        // Attio's answer to a delete, exactly.
        ctx.out.json(&serde_json::json!({}))?;
    } else {
        line(&format!("Deleted {}.", args.id));
    }
    Ok(Status::Done)
}

//! `delete ID`.

use super::{Ctx, Status};
use crate::args::IdArg;
use crate::cli_error::CliError;
use crate::connect;
use crate::output::line;

/// Deletes one webhook.
pub async fn run(args: IdArg, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    connect::client(ctx.global)?.delete_webhook(args.id).await?;
    if ctx.out.json {
        // Attio's answer to a delete, exactly.
        ctx.out.json(&serde_json::json!({}))?;
    } else {
        line(&format!("Deleted {}.", args.id));
    }
    Ok(Status::Done)
}

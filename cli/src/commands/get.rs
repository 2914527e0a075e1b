//! `get ID`.

use super::{Ctx, Status};
use crate::args::IdArg;
use crate::cli_error::CliError;
use crate::connect;
use crate::output::{line, webhook_details};

/// Shows one webhook.
pub async fn run(args: IdArg, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let webhook = connect::client(ctx.global)?.get_webhook(args.id).await?;
    if ctx.out.json {
        ctx.out.json(&webhook)?;
    } else {
        line(&webhook_details(&webhook));
    }
    Ok(Status::Done)
}

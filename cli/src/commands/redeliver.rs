//! `redeliver KEY`: send a past message of a running `dev` again, with the
//! same body, signature and `Idempotency-Key`, as Attio's redeliveries do.

use clap::Args;

use super::{Ctx, Status};
use crate::cli_error::CliError;
use crate::dev_control::{self, DevTargetArgs};
use crate::output::line;

/// `redeliver`.
#[derive(Debug, Args)]
pub struct RedeliverArgs {
    /// The message's Idempotency-Key, as `dev` or `trigger` printed it.
    #[arg(value_name = "IDEMPOTENCY_KEY")]
    pub idempotency_key: String,
    /// Where the running dev is.
    #[command(flatten)]
    pub dev: DevTargetArgs,
}

/// Asks the running `dev` to send the message again.
pub async fn run(args: RedeliverArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let (control, url) = dev_control::connect(&args.dev)?;
    let queued = dev_control::answer(
        &url,
        "the redelivery",
        control.redeliver(&args.idempotency_key),
    )
    .await?;
    if ctx.out.json {
        ctx.out.json(&queued)?;
    } else {
        line(&format!(
            "Redelivering to webhook {} with Idempotency-Key {}; `dev` shows the attempt.",
            queued.webhook_id, queued.idempotency_key
        ));
    }
    Ok(Status::Done)
}

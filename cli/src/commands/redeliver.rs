//! `redeliver KEY`: send a past message of a running `dev` again, with the
//! same body, signature and `Idempotency-Key`, as Attio's redeliveries do.

use clap::Args;

use crate::cli_error::CliError;
use crate::context::{Ctx, Status};
use crate::dev_control::{self, DevTargetArgs};
use crate::output::line;

/// The arguments of `redeliver`.
#[derive(Debug, Args)]
#[command(
    after_help = "As Attio's redeliveries: the receiver gets the same bytes under the same
Idempotency-Key, so a receiver that handles each message once answers 200 and does
nothing more. Only messages `dev`'s bounded delivery log still holds can be redelivered.

Examples:
  attio-webhooks redeliver 0b7c4a51-6a0e-4d4e-9a57-3f1b2c8d9e10   # a key `dev` or `trigger` printed
  attio-webhooks redeliver KEY --dev-url http://127.0.0.1:4455 --control-token TOKEN"
)]
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

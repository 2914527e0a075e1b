//! `plan -f FILE [--prune] [--out PLAN] [--detailed-exitcode]`: what
//! `apply` would change, computed by the library's reconcile engine.

use std::path::PathBuf;

use clap::Args;

use crate::cli_error::CliError;
use crate::context::{Ctx, Status};
use crate::output::line;
use crate::planning;

/// The arguments of `plan`.
#[derive(Debug, Args)]
#[command(
    after_help = "Webhooks are matched by target URL; subscriptions and filter conditions
compare as sets, regardless of order, as Attio compares them. The file is JSON or
YAML in the API's shape (see `apply --help`). Each change says why; webhooks the
file does not own are listed and never touched.

Exit 0 when the plan was made, whatever it found; with --detailed-exitcode, 5 when
there is something to change.

Examples:
  attio-webhooks plan -f webhooks.yaml
  attio-webhooks plan -f webhooks.yaml --prune --out plan.json   # save it for apply --plan
  attio-webhooks plan -f webhooks.json --json --detailed-exitcode   # for CI"
)]
pub struct PlanArgs {
    /// The webhooks file (JSON or YAML; `-` reads standard input).
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
    /// Also delete webhooks the file owns (its `owns:` prefixes) and does not list.
    #[arg(long)]
    pub prune: bool,
    /// Save the plan, with a fingerprint of the workspace, for `apply --plan`.
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,
    /// Exit 5 when there is something to change (0 otherwise), as Terraform does.
    #[arg(long)]
    pub detailed_exitcode: bool,
}
/// Prints what `apply` would change; with `--detailed-exitcode`,
/// `Differences` (exit 5) when there is anything.
pub async fn run(args: PlanArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let (_, plan) = planning::compute(&args.file, args.prune, ctx).await?;
    if let Some(out) = &args.out {
        planning::save(out, &ctx.global.base_url, &plan)?;
    }
    if ctx.out.json {
        ctx.out.json(&plan)?;
    } else {
        line(&planning::describe(&plan));
        if let Some(out) = &args.out {
            line(&format!(
                "Saved to {}; `attio-webhooks apply --plan {}` applies exactly this.",
                out.display(),
                out.display()
            ));
        }
    }
    Ok(if args.detailed_exitcode && !plan.changes.is_empty() {
        Status::Differences
    } else {
        Status::Done
    })
}

//! `list`: every webhook (page after page), or one page.

use attio_webhooks::operations::ListWebhooks;
use clap::Args;

use crate::cli_error::CliError;
use crate::connect;
use crate::context::{Ctx, Status};
use crate::listing;
use crate::output::{line, webhook_table};

/// The arguments of `list`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  attio-webhooks list
  attio-webhooks list --json > webhooks.json     # a file `plan` and `apply` can read
  attio-webhooks list --limit 10 --offset 20     # one page")]
pub struct ListArgs {
    /// Fetch one page of this many webhooks (10..=100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(10..=100))]
    pub limit: Option<u32>,
    /// Fetch one page starting after this many webhooks.
    #[arg(long)]
    pub offset: Option<u32>,
    /// Page size when fetching every page (10..=100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(10..=100))]
    pub page_size: u32,
}

/// Lists every webhook (or one page) as a table or JSON.
pub async fn run(args: ListArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let client = connect::client(ctx.global)?;
    let webhooks = if args.limit.is_some() || args.offset.is_some() {
        let mut page = ListWebhooks::new();
        if let Some(limit) = args.limit {
            page = page.limit(limit);
        }
        if let Some(offset) = args.offset {
            page = page.offset(offset);
        }
        client.list_webhooks(page).await?
    } else {
        listing::every_webhook(&client, args.page_size, ctx.out).await?
    };
    if ctx.out.json {
        ctx.out.json(&webhooks)?;
    } else if webhooks.is_empty() {
        line("No webhooks.");
    } else {
        line(&webhook_table(&webhooks));
    }
    Ok(Status::Done)
}

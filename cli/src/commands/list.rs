//! `list`: every webhook (page after page), or one page.

use std::pin::pin;

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{transport::HyperTransport, Client, Webhook};
use futures::TryStreamExt;

use super::{Ctx, Status};
use crate::args::ListArgs;
use crate::cli_error::CliError;
use crate::connect;
use crate::output::{line, webhook_table, Output};

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
        fetch_all(&client, args.page_size, ctx.out).await?
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

/// Every webhook in the workspace, oldest first, `page_size` at a time;
/// after each full page (another follows) a progress line on stderr.
pub async fn fetch_all(
    client: &Client<HyperTransport>,
    page_size: u32,
    out: Output,
) -> Result<Vec<Webhook>, CliError> {
    let mut stream = pin!(client.list_all(page_size));
    let mut webhooks = Vec::new();
    while let Some(webhook) = stream.try_next().await? {
        webhooks.push(webhook);
        if webhooks.len() % page_size as usize == 0 {
            out.progress(&format!(
                "listed {} webhooks, fetching the next page...",
                webhooks.len()
            ));
        }
    }
    Ok(webhooks)
}

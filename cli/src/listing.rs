//! Reading a whole workspace: every webhook, page after page, with
//! progress on stderr (`list`, and the plans of `plan` and `apply`).

use std::pin::pin;

use attio_webhooks::{transport::HyperTransport, Client, Webhook};
use futures::TryStreamExt;

use crate::cli_error::CliError;
use crate::output::Output;

/// Every webhook in the workspace, oldest first, `page_size` at a time;
/// after each full page (another follows) a progress line on stderr.
pub async fn every_webhook(
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

//! `list_all`: every webhook, page after page.

use futures::stream::{self, Stream, TryStreamExt};

use super::Client;
use crate::error::Error;
use crate::model::Webhook;
use crate::operations::ListWebhooks;
use crate::transport::Transport;

impl<T: Transport + 'static> Client<T> {
    /// Streams every webhook in the workspace, oldest first.
    ///
    /// Pages of `page_size` (10..=100) are fetched one at a time, each
    /// through [`Client::send`] with its retries; each next offset is the
    /// number of webhooks received so far, and a page shorter than
    /// `page_size` ends the stream (so a total that is a multiple of the
    /// page size costs one last, empty page). An error ends it too, after being yielded; a page
    /// size outside 10..=100 yields [`crate::InvalidInput::Limit`] without a
    /// request.
    ///
    /// Offsets are positions, so webhooks created or deleted while the
    /// stream runs can be skipped or seen twice, as with any offset paging.
    pub fn list_all(
        &self,
        page_size: u32,
    ) -> impl Stream<Item = Result<Webhook, Error>> + Send + 'static {
        let client = self.clone();
        stream::try_unfold(Some(0u32), move |offset| {
            let client = client.clone();
            async move {
                let Some(offset) = offset else {
                    return Ok::<_, Error>(None);
                };
                let page = client
                    .send(&ListWebhooks::new().limit(page_size).offset(offset))
                    .await?;
                // A full page may have more after it; step by what arrived.
                let got = u32::try_from(page.len()).unwrap_or(u32::MAX);
                let next = (got >= page_size).then(|| offset.saturating_add(got));
                Ok(Some((stream::iter(page.into_iter().map(Ok)), next)))
            }
        })
        .try_flatten()
    }
}

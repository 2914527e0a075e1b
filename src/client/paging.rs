//! `list_all`: every webhook, page after page.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{self, Stream, TryStreamExt};

use super::Client;
use crate::error::Error;
use crate::model::Webhook;
use crate::operations::ListWebhooks;
use crate::transport::Transport;

/// The stream [`Client::list_all`] returns: every webhook, oldest first,
/// fetched a page at a time.
///
/// It is `Unpin` and (except on `wasm32`, where transports' futures need
/// not be) `Send`, and borrows the client, so it works with
/// `futures::TryStreamExt::try_next` and `?` in code generic over the
/// transport, and can be dropped early: no request is made past the page
/// that holds the webhook being looked for.
///
/// ```
/// use attio_webhooks::{Client, Error, Transport, Webhook};
/// use futures::TryStreamExt;
///
/// /// The webhook that delivers to `url`, if there is one.
/// async fn find<T: Transport>(client: &Client<T>, url: &str) -> Result<Option<Webhook>, Error> {
///     let mut webhooks = client.list_all(100);
///     while let Some(webhook) = webhooks.try_next().await? {
///         if webhook.target_url == url {
///             return Ok(Some(webhook));
///         }
///     }
///     Ok(None)
/// }
///
/// fn assert_send<S: Send + Unpin>(_: &S) {}
/// # fn check<T: Transport>(client: &Client<T>) { assert_send(&client.list_all(10)); }
/// ```
#[must_use = "a stream does nothing unless polled"]
pub struct WebhookStream<'a> {
    inner: Pages<'a>,
}

/// The boxed stream: `Send` where transports' futures are, so everywhere
/// but `wasm32`.
#[cfg(not(target_arch = "wasm32"))]
type Pages<'a> = Pin<Box<dyn Stream<Item = Result<Webhook, Error>> + Send + 'a>>;
#[cfg(target_arch = "wasm32")]
type Pages<'a> = Pin<Box<dyn Stream<Item = Result<Webhook, Error>> + 'a>>;

impl std::fmt::Debug for WebhookStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookStream").finish_non_exhaustive()
    }
}

impl Stream for WebhookStream<'_> {
    type Item = Result<Webhook, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T: Transport> Client<T> {
    /// Streams every webhook in the workspace, oldest first.
    ///
    /// Pages of `page_size` (10..=100) are fetched one at a time, each
    /// through [`Client::send`] with its retries; each next offset is the
    /// number of webhooks received so far, and a page shorter than
    /// `page_size` ends the stream (so a total that is a multiple of the
    /// page size costs one last, empty page). An error ends it too, after
    /// being yielded; a page size outside 10..=100 yields
    /// [`crate::error::InvalidInput::Limit`] without a request.
    ///
    /// Offsets are positions, so webhooks created or deleted while the
    /// stream runs can be skipped or seen twice, as with any offset paging.
    /// See [`WebhookStream`] for finding one webhook and stopping there.
    pub fn list_all(&self, page_size: u32) -> WebhookStream<'_> {
        let pages = stream::try_unfold(Some(0u32), move |offset| async move {
            let Some(offset) = offset else {
                return Ok::<_, Error>(None);
            };
            let page = self
                .send(&ListWebhooks::new().limit(page_size).offset(offset))
                .await?;
            // A full page may have more after it; step by what arrived.
            let got = u32::try_from(page.len()).unwrap_or(u32::MAX);
            let next = (got >= page_size).then(|| offset.saturating_add(got));
            Ok(Some((stream::iter(page.into_iter().map(Ok)), next)))
        });
        WebhookStream {
            inner: Box::pin(pages.try_flatten()),
        }
    }
}

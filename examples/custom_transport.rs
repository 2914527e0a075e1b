//! A hand-written `Transport`: logs every exchange and forwards it to the
//! default `HyperTransport`. The same shape fits any HTTP stack: turn the
//! `http::Request<Bytes>` into your client's request, and its answer back
//! into an `http::Response<Bytes>`.
//!
//! Everything a transport needs comes from this crate's re-exports
//! (`http`, `bytes`, `async_trait`): no other dependency to line up.
//!
//! ```sh
//! cargo run --example custom_transport
//! ```

use std::time::Instant;

use attio_webhooks::bytes::Bytes;
use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{async_trait, http};
use attio_webhooks::{transport::HyperTransport, Client, EventType, Subscription, Transport};
use attio_webhooks_testkit::{FakeAttio, Fault, FaultRule};

/// Logs method, URI, status and time of each exchange, then forwards.
struct Logging<T> {
    inner: T,
}

#[async_trait]
impl<T: Transport> Transport for Logging<T> {
    type Error = T::Error;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let started = Instant::now();
        let result = self.inner.send(request).await;
        match &result {
            Ok(response) => println!(
                "{method} {uri} -> {} in {:?}",
                response.status(),
                started.elapsed()
            ),
            Err(error) => println!(
                "{method} {uri} -> failed after {:?}: {error}",
                started.elapsed()
            ),
        }
        result
    }

    // Keep the inner transport's view of its own failures.
    fn is_retryable(error: &Self::Error) -> bool {
        T::is_retryable(error)
    }

    fn request_may_have_been_sent(error: &Self::Error) -> bool {
        T::request_may_have_been_sent(error)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeAttio::start().await;
    let transport = Logging {
        inner: HyperTransport::new()?,
    };
    let client = Client::builder(server.token())
        .base_url(server.base_url())
        .build(transport)?;

    let created = client
        .create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::TaskCreated)],
        )
        .await?;
    // The transport sees every attempt: make the next GET fail once with 503.
    server.inject(FaultRule::new(Fault::status(503)).method("GET"));
    client.get_webhook(created.webhook.webhook_id()).await?;
    client.list_webhooks(ListWebhooks::new()).await?;
    client.delete_webhook(created.webhook.webhook_id()).await?;
    Ok(())
}

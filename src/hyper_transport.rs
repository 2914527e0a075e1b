//! The default transport: hyper-util's pooled client with rustls.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use crate::error::BoxError;
use crate::transport::Transport;

/// The default largest response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// [`Transport`] over hyper-util's pooled client: keep-alive connection
/// reuse, HTTP/1.1 and HTTP/2 (negotiated by ALPN over TLS), HTTPS through
/// rustls with the Mozilla root certificates bundled (no system store
/// needed), and plain HTTP, which [`crate::Endpoint`] only lets through to
/// loopback hosts (for fakes).
///
/// Clones share the connection pool. Must be used inside a tokio runtime.
///
/// ```no_run
/// # async fn demo() -> Result<(), attio_webhooks::Error> {
/// use attio_webhooks::{Client, HyperTransport};
/// let client = Client::new(HyperTransport::new()?, "sk_live_...")?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct HyperTransport {
    client: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    max_response_bytes: usize,
}

impl HyperTransport {
    /// A transport with the defaults: 90 s idle pool timeout, 16 MiB
    /// response limit.
    pub fn new() -> Result<Self, HyperTransportError> {
        Self::with_max_response_bytes(DEFAULT_MAX_RESPONSE_BYTES)
    }

    /// A transport that refuses response bodies over `limit` bytes with
    /// [`HyperTransportError::BodyTooLarge`].
    pub fn with_max_response_bytes(limit: usize) -> Result<Self, HyperTransportError> {
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| HyperTransportError::Tls(Box::new(e)))?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(tls);
        Ok(Self {
            client,
            max_response_bytes: limit,
        })
    }
}

/// Why [`HyperTransport`] got no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HyperTransportError {
    /// TLS could not be set up.
    #[error("could not set up TLS")]
    Tls(#[source] BoxError),
    /// Connecting, sending or receiving the head failed.
    #[error("the HTTP exchange failed")]
    Request(#[source] BoxError),
    /// Reading the response body failed.
    #[error("reading the response body failed")]
    Body(#[source] BoxError),
    /// The response body was longer than the limit.
    #[error("the response body is over the {limit}-byte limit")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl From<HyperTransportError> for crate::Error {
    fn from(error: HyperTransportError) -> Self {
        crate::Error::Transport(Box::new(error))
    }
}

#[async_trait::async_trait]
impl Transport for HyperTransport {
    type Error = HyperTransportError;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        let response = self
            .client
            .request(request.map(Full::new))
            .await
            .map_err(|e| HyperTransportError::Request(Box::new(e)))?;
        let (parts, body) = response.into_parts();
        let limit = self.max_response_bytes;
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    HyperTransportError::BodyTooLarge { limit }
                } else {
                    HyperTransportError::Body(e)
                }
            })?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }

    /// A body over the limit or a TLS setup failure would happen again;
    /// connection and protocol errors may not.
    fn is_retryable(error: &HyperTransportError) -> bool {
        matches!(
            error,
            HyperTransportError::Request(_) | HyperTransportError::Body(_)
        )
    }
}

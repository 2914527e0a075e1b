//! The default transport: hyper-util's pooled client with rustls.

mod builder;
mod proxy;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::Connect;
use hyper_util::client::legacy::{Client as HyperClient, ResponseFuture};
use hyper_util::client::proxy::matcher::Matcher;

pub use builder::{HyperBuildError, HyperTransportBuilder};

use super::body::read_response;
use super::error::server_of;
use super::{Transport, TransportError};

/// The default largest response body: 16 MiB.
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-transport")))]
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// [`Transport`] over hyper-util's pooled client: keep-alive connection
/// reuse, HTTP/1.1 and HTTP/2 (negotiated by ALPN over TLS), HTTPS through
/// rustls with the `ring` provider, and plain HTTP (which
/// [`crate::client::Endpoint`] only lets through to loopback hosts unless the
/// client was built with
/// [`allow_insecure_http`](crate::ClientBuilder::allow_insecure_http)).
///
/// [`HyperTransport::new`] has the defaults; [`HyperTransport::builder`]
/// sets connect timeout, connection pool, root certificates, proxy and
/// body limit; [`HyperTransport::from_client`] takes a hyper-util client
/// you built yourself.
///
/// A response whose `Content-Length` is over the body limit is refused
/// before its body is read; one without a length is refused as soon as
/// the bytes received pass the limit.
///
/// Clones share the connection pool. Must be used inside a tokio runtime.
///
/// ```no_run
/// # async fn demo() -> Result<(), attio_webhooks::Error> {
/// use attio_webhooks::{Client, transport::HyperTransport};
/// let client = Client::new(HyperTransport::new()?, "sk_live_...")?;
/// # Ok(()) }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-transport")))]
#[derive(Clone)]
pub struct HyperTransport {
    client: Arc<dyn SendRequest>,
    max_response_bytes: usize,
    /// The proxies of a builder-made transport, to add `Proxy-Authorization`
    /// to requests that go through a forwarding proxy.
    proxy: Option<Arc<Matcher>>,
}

/// A hyper-util client whatever its connector, behind one object type.
trait SendRequest: Send + Sync {
    fn request(&self, request: http::Request<Full<Bytes>>) -> ResponseFuture;
}

impl<C> SendRequest for HyperClient<C, Full<Bytes>>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn request(&self, request: http::Request<Full<Bytes>>) -> ResponseFuture {
        HyperClient::request(self, request)
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("max_response_bytes", &self.max_response_bytes)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with the defaults of [`HyperTransport::builder`]:
    /// Mozilla's root certificates (bundled), 10 s connect timeout, 90 s
    /// pool idle timeout, no proxy, 16 MiB body limit.
    pub fn new() -> Result<Self, HyperBuildError> {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::new()
    }

    /// A default transport that refuses response bodies over `limit` bytes
    /// (shorthand for `builder().max_response_bytes(limit).build()`).
    pub fn with_max_response_bytes(limit: usize) -> Result<Self, HyperBuildError> {
        Self::builder().max_response_bytes(limit).build()
    }

    /// A transport over a hyper-util client you built, with your own
    /// connector (TLS setup, resolver, proxy, socket options...). Its
    /// request body type must be `Full<Bytes>`. The body limit is
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]; change it with
    /// [`HyperTransport::max_response_bytes`].
    ///
    /// ```
    /// use attio_webhooks::{bytes, transport::HyperTransport};
    /// use hyper_util::client::legacy::{connect::HttpConnector, Client};
    /// use hyper_util::rt::TokioExecutor;
    ///
    /// // Plain HTTP only, e.g. for a fake on loopback.
    /// let client = Client::builder(TokioExecutor::new())
    ///     .build::<_, http_body_util::Full<bytes::Bytes>>(HttpConnector::new());
    /// let transport = HyperTransport::from_client(client).max_response_bytes(1 << 20);
    /// # let _ = transport;
    /// ```
    pub fn from_client<C>(client: HyperClient<C, Full<Bytes>>) -> Self
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        Self {
            client: Arc::new(client),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            proxy: None,
        }
    }

    /// The same transport with another response body limit.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Transport for HyperTransport {
    type Error = TransportError;

    async fn send(
        &self,
        mut request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        let server = server_of(request.uri());
        if request.uri().scheme_str() == Some("http") {
            // Through a forwarding proxy the request itself carries the
            // proxy's credentials (a tunnel sends them with CONNECT).
            let auth = self
                .proxy
                .as_ref()
                .and_then(|m| m.intercept(request.uri()))
                .and_then(|i| i.basic_auth().cloned());
            if let Some(auth) = auth {
                request
                    .headers_mut()
                    .insert(http::header::PROXY_AUTHORIZATION, auth);
            }
        }
        let response = self
            .client
            .request(request.map(Full::new))
            .await
            .map_err(|e| TransportError::from_source(e).or_server(&server))?;
        read_response(response, self.max_response_bytes)
            .await
            .map_err(|e| e.or_server(&server))
    }
}

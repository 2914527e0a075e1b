//! A transport over any tower `Service` of HTTP requests.

use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use http_body::Body;
use tower_service::Service;

use super::body::read_response;
use super::error::server_of;
use super::{Transport, TransportError};
use crate::error::BoxError;

/// The default largest response body of a [`TowerTransport`]: 16 MiB.
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub const TOWER_DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// [`Transport`] over any [`tower_service::Service`] that answers an
/// `http::Request` with an `http::Response`: a hyper-util client you set
/// up yourself, wrapped in whatever tower middleware you use (timeouts,
/// concurrency limits, tracing, auth, metrics), or a test double made with
/// `tower::service_fn`.
///
/// - **Request body**: any type that can be made from [`Bytes`] (`Bytes`
///   itself, `http_body_util::Full<Bytes>` as hyper-util's client takes,
///   ...); the type parameter `B` is inferred from the service.
/// - **Response body**: any [`http_body::Body`]; it is read whole, within
///   the body limit (a `Content-Length` over the limit is refused before
///   reading).
/// - **Errors**: anything that converts into a boxed error; they become
///   [`TransportError`]s, classified by their source chain (so a
///   hyper-util connection error is still told apart from a timeout).
///
/// # Clone, not a lock
///
/// A tower service is called through `&mut self` (`poll_ready`, then
/// `call`) while [`Transport::send`] takes `&self` and runs concurrently.
/// `TowerTransport` clones the service for every request and drives the
/// clone, as tower's own `oneshot` does; that is why `S: Clone`. Cloning
/// is cheap for the services this is meant for, and their shared state
/// stays shared: hyper-util's client keeps one connection pool across
/// clones, and tower's `ConcurrencyLimit` one semaphore, so a limit of 4
/// holds across every concurrent call of the client. A service that is
/// not `Clone` (tower's `RateLimit`, for one) goes behind
/// `tower::buffer::Buffer`, which is `Clone` and queues requests for the
/// single service behind it; a `Mutex` would instead hold every request
/// while one is in flight, so this crate does not offer one.
///
/// ```
/// use attio_webhooks::bytes::Bytes;
/// use attio_webhooks::{http, Client, transport::TowerTransport};
/// use std::convert::Infallible;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), attio_webhooks::Error> {
/// // Any Clone service; here a closure that answers an empty list.
/// let service = tower::service_fn(|_request: http::Request<Bytes>| async {
///     let body = http_body_util::Full::new(Bytes::from_static(br#"{"data":[]}"#));
///     Ok::<_, Infallible>(http::Response::new(body))
/// });
/// let client = Client::new(TowerTransport::new(service), "sk_test")?;
/// assert!(client.list_webhooks(Default::default()).await?.is_empty());
/// # Ok(()) }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub struct TowerTransport<S, B = Bytes> {
    service: S,
    max_response_bytes: usize,
    _request_body: PhantomData<fn() -> B>,
}

impl<S: Clone, B> Clone for TowerTransport<S, B> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            max_response_bytes: self.max_response_bytes,
            _request_body: PhantomData,
        }
    }
}

impl<S, B> fmt::Debug for TowerTransport<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransport")
            .field("service", &std::any::type_name::<S>())
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl<S, B> TowerTransport<S, B> {
    /// A transport over `service`, with the 16 MiB body limit.
    pub fn new(service: S) -> Self {
        Self {
            service,
            max_response_bytes: TOWER_DEFAULT_MAX_RESPONSE_BYTES,
            _request_body: PhantomData,
        }
    }

    /// The same transport with another response body limit.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The service requests go through.
    pub fn service(&self) -> &S {
        &self.service
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<S, B, RB> Transport for TowerTransport<S, B>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + Sync + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: From<Bytes> + Send + 'static,
    RB: Body + Send,
    RB::Data: Send,
    RB::Error: Into<BoxError>,
{
    type Error = TransportError;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        let server = server_of(request.uri());
        let fail = |e: S::Error| TransportError::from_source(e).or_server(&server);
        let mut service = self.service.clone();
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(fail)?;
        let response = service.call(request.map(B::from)).await.map_err(fail)?;
        read_response(response, self.max_response_bytes)
            .await
            .map_err(|e| e.or_server(&server))
    }
}

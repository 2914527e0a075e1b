//! Serving the fake over HTTP: [`FakeServer`] (also at the crate root),
//! and the plumbing a program that serves it needs, which the
//! `fake-attio` binary and the CLI's receivers share: a cap on open
//! connections ([`ConnectionCap`]) and the signals that stop a server
//! ([`StopSignals`]).

mod stop;

pub use crate::doors::{Admission, ConnectionCap, RequestCounter, RequestGuard, TrackedStream};
pub use stop::{stop_requested, StopSignals};

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;

use attio_webhooks::{transport::HyperTransport, Client};

use crate::doors::Listening;
use crate::fake::{test_retry_policy, FakeAttio};

#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
impl FakeAttio {
    /// A default fake ([`FakeAttio::new`]) served on `127.0.0.1` with an
    /// OS-chosen port.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound; use [`FakeAttio::serve`] to get the error.
    pub async fn start() -> FakeServer {
        FakeAttio::new()
            .serve()
            .await
            .expect("could not bind a loopback port for the fake")
    }

    /// Serves this fake on `127.0.0.1` with an OS-chosen port.
    pub async fn serve(&self) -> io::Result<FakeServer> {
        self.serve_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves this fake on `addr` (port 0 picks a free one). The server
    /// applies the connection limits of [`crate::Limits`].
    pub async fn serve_on(&self, addr: SocketAddr) -> io::Result<FakeServer> {
        let listening =
            Listening::bind(Arc::clone(self.dispatcher()), addr, self.log_requests()).await?;
        let bound = listening.addr();
        let reachable = match bound.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Ok(FakeServer {
            fake: self.clone(),
            base_url: format!("http://{}", SocketAddr::new(reachable, bound.port())),
            listening: Some(listening),
            addr: bound,
        })
    }
}

/// A [`FakeAttio`] served over HTTP/1.1 and HTTP/2 (cleartext).
/// Dereferences to the fake, so its controls work on the server too. The
/// server stops when this is dropped, or gracefully with
/// [`FakeServer::shutdown`].
///
/// ```
/// use attio_webhooks_testkit::FakeAttio;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), attio_webhooks::Error> {
/// let server = FakeAttio::start().await;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// let webhooks = server.client().list_webhooks(Default::default()).await?;
/// assert!(webhooks.is_empty());
/// assert_eq!(server.requests().len(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub struct FakeServer {
    fake: FakeAttio,
    addr: SocketAddr,
    base_url: String,
    listening: Option<Listening>,
}

impl FakeServer {
    /// The base URL to give a client: `http://127.0.0.1:<port>`. When
    /// bound to all interfaces (`0.0.0.0` or `::`), the loopback address of
    /// the same family, which a client on the same host can use.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fake behind the server.
    pub fn fake(&self) -> &FakeAttio {
        &self.fake
    }

    /// A `Client<HyperTransport>` for this server with the fake's first
    /// token, its target URL policy and short-backoff retries.
    pub fn client(&self) -> Client<HyperTransport> {
        self.client_with_token(self.fake.token())
    }

    /// Like [`FakeServer::client`], with another token.
    ///
    /// # Panics
    ///
    /// If `token` is empty or cannot be a header value.
    pub fn client_with_token(&self, token: &str) -> Client<HyperTransport> {
        Client::builder(token)
            .base_url(self.base_url.as_str())
            .target_url_policy(self.fake.target_url_policy().clone())
            .retry_policy(test_retry_policy())
            .build(HyperTransport::new().expect("rustls with the ring provider sets up"))
            .expect("the fake's own client settings are valid")
    }

    /// Stops accepting connections, lets requests in flight finish (for at
    /// most [`crate::Limits::shutdown_grace`]) and closes every connection.
    pub async fn shutdown(mut self) {
        if let Some(listening) = self.listening.take() {
            listening.shutdown().await;
        }
    }
}

impl Deref for FakeServer {
    type Target = FakeAttio;
    fn deref(&self) -> &FakeAttio {
        &self.fake
    }
}

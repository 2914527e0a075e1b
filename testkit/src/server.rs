//! Serving a `FakeAttio` over real HTTP on loopback.

use std::io;
use std::net::SocketAddr;
use std::ops::Deref;

use attio_webhooks::{Client, HyperTransport};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::fake::{test_retry_policy, FakeAttio, Reply, MAX_BODY_BYTES};
use crate::{errors, responses};

/// A [`FakeAttio`] served over HTTP/1.1 and HTTP/2 (cleartext) on a
/// loopback port. Dereferences to the fake, so its controls work on the
/// server too. The server stops when this is dropped.
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
pub struct FakeServer {
    fake: FakeAttio,
    addr: SocketAddr,
    base_url: String,
    task: JoinHandle<()>,
}

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

    /// Serves this fake on `addr` (port 0 picks a free one).
    pub async fn serve_on(&self, addr: SocketAddr) -> io::Result<FakeServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let fake = self.clone();
        let task = tokio::spawn(accept_loop(listener, fake));
        Ok(FakeServer {
            fake: self.clone(),
            addr,
            base_url: format!("http://{addr}"),
            task,
        })
    }
}

impl FakeServer {
    /// `http://127.0.0.1:<port>`: the base URL to give a client.
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
            .target_url_policy(self.fake.target_url_policy())
            .retry_policy(test_retry_policy())
            .build(HyperTransport::new().expect("rustls with the ring provider sets up"))
            .expect("the fake's own client settings are valid")
    }
}

impl Deref for FakeServer {
    type Target = FakeAttio;
    fn deref(&self) -> &FakeAttio {
        &self.fake
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every
        // connection task: nothing keeps serving.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, fake: FakeAttio) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: back off briefly.
                tracing::warn!(%error, "fake-attio: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let fake = fake.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| serve_one(fake.clone(), request));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

/// Why a connection was closed without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct Dropped;

async fn serve_one(
    fake: FakeAttio,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return Ok(responses::error(&errors::payload_too_large(MAX_BODY_BYTES)).map(Full::new));
        }
        Err(_) => return Err(Dropped),
    };
    match fake.handle(http::Request::from_parts(parts, body)) {
        Reply::Respond(response, delay) => {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            Ok(response.map(Full::new))
        }
        Reply::Drop => Err(Dropped),
    }
}

//! The process-wide shared server: one loopback fake on a runtime of its
//! own, started on first use, from which each test takes a workspace.

use std::ops::Deref;
use std::sync::OnceLock;

use attio_webhooks::transport::{HyperTransport, TransportError};
use attio_webhooks::{Client, Transport};
use bytes::Bytes;

use super::handle::Workspace;
use crate::api::{CreateWorkspaceError, WorkspaceOptions};
use crate::control::ControlClient;
use crate::fake::{test_retry_policy, FakeAttio};
use crate::server::FakeServer;

/// The fake every test of this process shares ([`shared`]): served on
/// `127.0.0.1` by a tokio runtime of its own on a thread of its own, so it
/// outlives each `#[tokio::test]` runtime; the connections of its
/// clients run there too, beside the server's, so a request crosses
/// threads only on its way in and out. It accepts `http://` targets
/// on loopback, for receivers in the tests.
#[derive(Debug)]
pub struct SharedServer {
    server: FakeServer,
    transport: SharedTransport,
}

static SHARED: OnceLock<SharedServer> = OnceLock::new();

/// The process's shared fake, started on the first call.
///
/// ```
/// use attio_webhooks_testkit::workspaces;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let ws = workspaces::shared().workspace();
/// assert!(ws.client().list_webhooks(Default::default()).await?.is_empty());
/// assert_eq!(ws.requests().len(), 1, "this workspace's journal alone");
/// drop(ws); // deletes the workspace: its tokens get 401 from now on
/// # Ok(()) }
/// ```
///
/// # Panics
///
/// If no runtime or loopback port can be had; [`SharedServer::start`]
/// returns the error instead (and is not shared).
pub fn shared() -> &'static SharedServer {
    SHARED.get_or_init(|| SharedServer::start().expect("could not start the shared fake"))
}

impl SharedServer {
    /// A new server of the same kind, not the shared one: its own runtime
    /// and port (for a program that wants one, or a test of this one).
    pub fn start() -> std::io::Result<SharedServer> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let fake = FakeAttio::builder().allow_loopback_http_targets().build();
        let (sent, served) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fake-attio-shared".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let _ = sent.send(fake.serve().await);
                    std::future::pending::<()>().await
                })
            })?;
        let server = served
            .recv()
            .map_err(|_| std::io::Error::other("the shared fake's thread stopped"))??;
        let transport = SharedTransport {
            inner: HyperTransport::new().map_err(std::io::Error::other)?,
            runtime: handle,
        };
        Ok(SharedServer { server, transport })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// The server's own fake: its default workspace, and the registry
    /// every workspace here is made in.
    pub fn fake(&self) -> &FakeAttio {
        self.server.fake()
    }

    /// A transport whose connections (pooled, kept across tests) run on
    /// the server's runtime.
    pub fn transport(&self) -> SharedTransport {
        self.transport.clone()
    }

    /// A fresh workspace with the defaults.
    ///
    /// # Panics
    ///
    /// At the server's workspace limits ([`SharedServer::try_workspace`]
    /// returns the error): a test suite holding a thousand workspaces at
    /// once is leaking them.
    pub fn workspace(&'static self) -> SharedWorkspace {
        self.try_workspace(WorkspaceOptions::new())
            .unwrap_or_else(|refused| panic!("{refused}"))
    }

    /// A fresh workspace with `options`.
    pub fn try_workspace(
        &'static self,
        options: WorkspaceOptions,
    ) -> Result<SharedWorkspace, CreateWorkspaceError> {
        Ok(SharedWorkspace {
            workspace: self.fake().workspace_with(options)?,
            server: self,
        })
    }
}

/// A workspace on the [`shared`] server, held by one test; dropping it
/// deletes the workspace. Dereferences to [`Workspace`] (and so to a
/// [`FakeAttio`] of this workspace alone, for seeding, faults, the
/// journal, emits and the clock from Rust).
#[derive(Debug)]
pub struct SharedWorkspace {
    workspace: Workspace,
    server: &'static SharedServer,
}

impl SharedWorkspace {
    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// A client over HTTP with the workspace's read-write token, its
    /// target URL policy and short-backoff retries, on the shared pooled
    /// transport.
    pub fn client(&self) -> Client<SharedTransport> {
        self.client_with_token(self.workspace.token())
    }

    /// Like [`SharedWorkspace::client`], with another token.
    ///
    /// # Panics
    ///
    /// If `token` is empty or cannot be a header value.
    pub fn client_with_token(&self, token: &str) -> Client<SharedTransport> {
        Client::builder(token)
            .base_url(self.base_url())
            .target_url_policy(self.workspace.target_url_policy().clone())
            .retry_policy(test_retry_policy())
            .build(self.server.transport())
            .expect("the fake's own client settings are valid")
    }

    /// The workspace's control routes over HTTP, with its control token.
    pub fn control(&self) -> ControlClient<SharedTransport> {
        ControlClient::with_transport(
            self.server.transport(),
            self.base_url(),
            Some(self.workspace.control_token()),
        )
    }
}

impl Deref for SharedWorkspace {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.workspace
    }
}

/// A [`HyperTransport`] whose every request runs on the shared server's
/// runtime: its pooled connections belong to no test's runtime, so a
/// test that ends cannot take a connection another test is using with it.
#[derive(Clone, Debug)]
pub struct SharedTransport {
    inner: HyperTransport,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl Transport for SharedTransport {
    type Error = TransportError;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let inner = self.inner.clone();
        self.runtime
            .spawn(async move { inner.send(request).await })
            .await
            .map_err(TransportError::from_source)?
    }
}

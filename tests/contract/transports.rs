//! The contract suite over the transports of the `reqwest` and `tower`
//! features, each against the fake served on loopback: the same
//! lifecycle, errors, pagination and retries as the default transport.

use std::marker::PhantomData;
use std::time::Duration;

use attio_webhooks::{Client, Transport, WorkspaceId};
use attio_webhooks_testkit::fixtures::Route;
use attio_webhooks_testkit::{test_retry_policy, FakeServer};

use crate::backends::{fake, fault_rule, Backend};

/// How a backend makes its transport, as an application would.
pub trait MakeTransport: Send + Sync + 'static {
    type Transport: Transport + 'static;
    fn make() -> Self::Transport;
}

/// The fake on loopback, reached through `M`'s transport.
pub struct Served<M>(FakeServer, PhantomData<M>);

#[async_trait::async_trait]
impl<M: MakeTransport> Backend for Served<M> {
    type Transport = M::Transport;

    async fn start() -> Self {
        Served(fake().serve().await.unwrap(), PhantomData)
    }
    fn client_with_token(&self, token: &str) -> Client<M::Transport> {
        Client::builder(token)
            .base_url(self.0.base_url())
            .retry_policy(test_retry_policy())
            .build(M::make())
            .unwrap()
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.0.workspace_id()
    }
    async fn request_count(&self) -> usize {
        self.0.requests().len()
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.0.inject(fault_rule(route, status, times));
    }
}

/// A reqwest client as an application would have one (no TLS: loopback).
#[cfg(feature = "reqwest")]
pub struct ReqwestClient;

#[cfg(feature = "reqwest")]
impl MakeTransport for ReqwestClient {
    type Transport = attio_webhooks::ReqwestTransport;
    fn make() -> Self::Transport {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        attio_webhooks::ReqwestTransport::new(http)
    }
}

#[cfg(feature = "reqwest")]
pub type Reqwest = Served<ReqwestClient>;

/// tower middleware (a timeout and a concurrency limit) around a
/// hyper-util client built by hand: the shape of a user's own stack.
#[cfg(feature = "tower")]
pub struct TowerStack;

#[cfg(feature = "tower")]
type HyperClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<attio_webhooks::bytes::Bytes>,
>;

#[cfg(feature = "tower")]
impl MakeTransport for TowerStack {
    type Transport = attio_webhooks::TowerTransport<
        tower::timeout::Timeout<tower::limit::ConcurrencyLimit<HyperClient>>,
        http_body_util::Full<attio_webhooks::bytes::Bytes>,
    >;
    fn make() -> Self::Transport {
        let hyper: HyperClient =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(hyper_util::client::legacy::connect::HttpConnector::new());
        let stack = tower::ServiceBuilder::new()
            .timeout(Duration::from_secs(5))
            .concurrency_limit(4)
            .service(hyper);
        attio_webhooks::TowerTransport::new(stack)
    }
}

#[cfg(feature = "tower")]
pub type Tower = Served<TowerStack>;

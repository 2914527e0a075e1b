//! The contract suite over the transports of the `reqwest` and `tower`
//! features, each against the fake served on loopback: the same
//! lifecycle, errors, pagination and retries as the default transport.

use std::time::Duration;

use attio_webhooks::{Client, WorkspaceId};
use attio_webhooks_testkit::fixtures::Route;
use attio_webhooks_testkit::{test_retry_policy, FakeServer};

use crate::backends::{fake, fault_rule, Backend};

#[cfg(feature = "reqwest")]
pub use self::reqwest_backend::Reqwest;
#[cfg(feature = "tower")]
pub use self::tower_backend::Tower;

#[cfg(feature = "reqwest")]
mod reqwest_backend {
    use super::*;
    use attio_webhooks::ReqwestTransport;

    /// A reqwest client as an application would have one (no TLS: loopback).
    pub struct Reqwest(FakeServer);

    #[async_trait::async_trait]
    impl Backend for Reqwest {
        type Transport = ReqwestTransport;

        async fn start() -> Self {
            Reqwest(fake().serve().await.unwrap())
        }
        fn client_with_token(&self, token: &str) -> Client<ReqwestTransport> {
            let http = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            Client::builder(token)
                .base_url(self.0.base_url())
                .retry_policy(test_retry_policy())
                .build(ReqwestTransport::new(http))
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
}

#[cfg(feature = "tower")]
mod tower_backend {
    use super::*;
    use attio_webhooks::bytes::Bytes;
    use attio_webhooks::TowerTransport;
    use http_body_util::Full;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    /// tower middleware (a shared concurrency limit and a timeout) around a
    /// hyper-util client built by hand: the shape of a user's own stack.
    pub type TowerStack = tower::timeout::Timeout<
        tower::limit::ConcurrencyLimit<
            hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
        >,
    >;

    pub struct Tower(FakeServer);

    #[async_trait::async_trait]
    impl Backend for Tower {
        type Transport = TowerTransport<TowerStack, Full<Bytes>>;

        async fn start() -> Self {
            Tower(fake().serve().await.unwrap())
        }
        fn client_with_token(&self, token: &str) -> Client<Self::Transport> {
            let hyper = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .build::<_, Full<Bytes>>(HttpConnector::new());
            let stack = tower::ServiceBuilder::new()
                .timeout(Duration::from_secs(5))
                .concurrency_limit(4)
                .service(hyper);
            Client::builder(token)
                .base_url(self.0.base_url())
                .retry_policy(test_retry_policy())
                .build(TowerTransport::new(stack))
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
}

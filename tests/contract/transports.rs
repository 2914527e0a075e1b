//! The contract suite over the transports of the `reqwest` and `tower`
//! features, each against the fake served on loopback: the same
//! lifecycle, errors, pagination and retries as the default transport.

use std::time::Duration;

use crate::backends::{MakeTransport, Served};

/// A reqwest client as an application would have one (no TLS: loopback).
#[cfg(feature = "reqwest")]
pub struct ReqwestClient;

#[cfg(feature = "reqwest")]
impl MakeTransport for ReqwestClient {
    type Transport = attio_webhooks::transport::ReqwestTransport;
    fn make() -> Self::Transport {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        attio_webhooks::transport::ReqwestTransport::new(http)
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
    type Transport = attio_webhooks::transport::TowerTransport<
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
        attio_webhooks::transport::TowerTransport::new(stack)
    }
}

#[cfg(feature = "tower")]
pub type Tower = Served<TowerStack>;

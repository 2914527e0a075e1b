//! End to end: the fake Attio delivers over loopback to a plain hyper
//! server whose service is a `tower::service_fn` wrapped in `VerifyLayer`,
//! adapted with hyper-util's `TowerToHyperService`.

use crate::receive_common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use attio_webhooks::receive::{Once, VerifiedDelivery, Verifier, VerifyLayer};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use receive_common::Probe;
use tower::ServiceBuilder;

async fn start(verifier: Verifier, once: Once, probe: Arc<Probe>) -> SocketAddr {
    let service = ServiceBuilder::new()
        .layer(VerifyLayer::new(verifier))
        .service_fn(move |request: http::Request<Full<Bytes>>| {
            let (once, probe) = (once.clone(), probe.clone());
            async move {
                // The layer put it there; the body is the raw bytes it verified.
                let verified = request
                    .extensions()
                    .get::<VerifiedDelivery>()
                    .expect("VerifyLayer adds the delivery")
                    .clone();
                let outcome = once
                    .run(verified.idempotency_key(), || probe.handle(&verified))
                    .await;
                let mut response = outcome.to_response().map(Full::new);
                if probe.lose_answer() {
                    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                Ok::<_, Infallible>(response)
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Ends with the test's runtime.
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    addr
}

crate::scenarios!(start);

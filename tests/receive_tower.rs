//! End to end: the fake Attio delivers over loopback to a plain hyper
//! server whose service is a `tower::service_fn` wrapped in `VerifyLayer`,
//! adapted with hyper-util's `TowerToHyperService`.

mod receive_common;

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

#[tokio::test]
async fn valid_deliveries_reach_the_handler_typed() {
    receive_common::valid_deliveries_reach_the_handler_typed(start).await;
}

#[tokio::test]
async fn bad_requests_are_refused_before_the_handler() {
    receive_common::bad_requests_are_refused_before_the_handler(start).await;
}

#[tokio::test]
async fn an_oversized_delivery_from_the_fake_gets_413() {
    receive_common::an_oversized_delivery_from_the_fake_gets_413(start).await;
}

#[tokio::test]
async fn a_handler_failing_twice_handles_the_message_once() {
    receive_common::a_handler_failing_twice_handles_the_message_once(start).await;
}

#[tokio::test]
async fn retries_of_a_handled_message_do_not_run_it_again() {
    receive_common::retries_of_a_handled_message_do_not_run_it_again(start).await;
}

#[tokio::test]
async fn deliveries_signed_by_either_of_two_secrets_pass() {
    receive_common::deliveries_signed_by_either_of_two_secrets_pass(start).await;
}

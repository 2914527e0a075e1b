//! End to end: the fake Attio delivers over loopback to an axum app whose
//! handler takes `VerifiedDelivery` and runs through `Once`.

mod receive_common;

use std::net::SocketAddr;
use std::sync::Arc;

use attio_webhooks::receive::{Once, VerifiedDelivery, Verifier};
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use receive_common::Probe;

#[derive(Clone)]
struct App {
    verifier: Verifier,
    once: Once,
    probe: Arc<Probe>,
}

impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

async fn hook(State(app): State<App>, verified: VerifiedDelivery) -> Response {
    let outcome = app
        .once
        .run(verified.idempotency_key(), || async {
            app.probe
                .handle(&verified)
                .await
                .map(|()| StatusCode::OK)
                .map_err(|()| (StatusCode::INTERNAL_SERVER_ERROR, "handler failed"))
        })
        .await;
    if app.probe.lose_answer() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    outcome.into_response()
}

async fn start(verifier: Verifier, once: Once, probe: Arc<Probe>) -> SocketAddr {
    let app = Router::new().route("/attio", post(hook)).with_state(App {
        verifier,
        once,
        probe,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Ends with the test's runtime.
    tokio::spawn(async move { axum::serve(listener, app).await });
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

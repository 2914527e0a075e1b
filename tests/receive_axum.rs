//! End to end: the fake Attio delivers over loopback to an axum app whose
//! handler takes `VerifiedDelivery` and runs through `Once`.

use crate::receive_common;

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

crate::scenarios!(start);

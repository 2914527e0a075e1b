//! An axum webhook receiver: the `VerifiedDelivery` extractor checks the
//! signature against the secrets in the app state, `Once` handles each
//! message once across Attio's retries, and the secret is rotated without
//! refusing a single valid delivery.
//!
//! ```sh
//! cargo run --example axum_receiver --features axum
//! ```
//!
//! The demo serves the app on 127.0.0.1 and drives it with the testkit's
//! fake Attio (manual clock, so the retry schedule runs at once). `App`,
//! `FromRef`, `hook` and `serve` are the parts to copy.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::operations::UpdateWebhook;
use attio_webhooks::receive::{MemorySeenKeys, Once, VerifiedDelivery, Verifier};
use attio_webhooks::{
    model::Timestamp, receive::Actor, receive::ActorType, receive::Event, receive::Secrets,
    Condition, EventType, Filter, Subscription,
};
use attio_webhooks_testkit::{delivery::DeliveryOutcome, Clock, FakeAttio};
use axum::extract::{FromRef, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// What the handlers share. Cloned per request; the clones share state.
#[derive(Clone)]
struct App {
    verifier: Verifier,
    once: Once,
    /// Makes the first run fail, to show a retry (a real app has no such thing).
    fail_next: Arc<AtomicBool>,
}

/// The extractor finds the secrets here.
impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

/// The whole receiver. By the time it runs, the body was read (up to the
/// verifier's limit), the signature checked and the delivery parsed;
/// refusals were answered 401 / 400 / 413.
async fn hook(State(app): State<App>, verified: VerifiedDelivery) -> Response {
    // `run_verified` keys `Once` by the delivery's dedupe key and runs it
    // inside the delivery's span, so the claim, the settle and the outcome
    // show in the `attio.webhook.receive` span.
    app.once
        .run_verified(&verified, || async {
            if app.fail_next.swap(false, Ordering::SeqCst) {
                println!("  receiver: the database is down; answering 500 so Attio retries");
                return Err((StatusCode::INTERNAL_SERVER_ERROR, "try again later"));
            }
            // A delivery can hold several events (Attio batches events about
            // one record): handle each. `Once` covers the whole message, so a
            // retry or redelivery of the batch (same Idempotency-Key) runs
            // none of them again.
            for event in &verified.delivery().events {
                println!(
                    "  receiver: handled {} on record {:?} (webhook {}, secret #{})",
                    event.event_type,
                    event.record_id(),
                    verified.delivery().webhook_id,
                    verified.secret_index(),
                );
            }
            Ok(StatusCode::OK)
        })
        .await
        .into_response()
}

/// Bounds a whole request, body included.
async fn deadline(request: Request, next: Next) -> Response {
    match tokio::time::timeout(Duration::from_secs(10), next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Serves `app` with a header-read timeout and at most 256 connections.
async fn serve(listener: TcpListener, app: Router) {
    let connections = Arc::new(Semaphore::new(256));
    loop {
        let Ok(permit) = connections.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

fn report(fake: &FakeAttio, from: usize) -> usize {
    let log = fake.delivery_log();
    for attempt in &log[from..] {
        let status = match &attempt.outcome {
            DeliveryOutcome::Delivered { status } => status.to_string(),
            DeliveryOutcome::Failed {
                status: Some(status),
                ..
            } => status.to_string(),
            other => format!("{other:?}"),
        };
        println!(
            "fake-attio: {} attempt {} -> {status}",
            &attempt.idempotency_key[..8],
            attempt.attempt
        );
    }
    log.len()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    let url = format!("http://{addr}/attio");

    // A fake Attio on a manual clock that may deliver to loopback over HTTP.
    let clock = Clock::manual(Timestamp::now());
    let fake = FakeAttio::builder()
        .allow_loopback_http_targets()
        .clock(clock.clone())
        .build();
    let client = fake.client();
    let subscriptions = vec![Subscription::new(EventType::RecordCreated)];
    let old = client.create_webhook(&url, subscriptions.clone()).await?;
    println!("created webhook {} -> {url}", old.webhook.webhook_id());

    let verifier = Verifier::new(old.secret.clone()).with_max_body_bytes(256 * 1024);
    let app = App {
        verifier: verifier.clone(),
        once: Once::new(MemorySeenKeys::new().with_capacity(10_000)),
        fail_next: Arc::new(AtomicBool::new(true)),
    };
    let router = Router::new()
        .route("/attio", post(hook))
        .with_state(app)
        .layer(middleware::from_fn(deadline));
    tokio::spawn(serve(listener, router));

    let member = Actor::new(
        ActorType::WorkspaceMember,
        Some("50cf242c-7fa3-4cad-87d0-75b1af71c57b".into()),
    );
    let record = |id: &str| {
        Event::new(
            EventType::RecordCreated,
            fake.workspace_id(),
            member.clone(),
        )
        .with_id("object_id", "people")
        .with_id("record_id", id)
    };

    println!("\n1. a delivery whose first attempt fails is retried and handled once");
    fake.emit(record("rec-1"));
    fake.settle_deliveries().await;
    clock.advance(Duration::from_secs(255)); // Attio's first retry
    fake.settle_deliveries().await;
    let mut seen = report(&fake, 0);

    println!("\n2. rotating the secret: a new webhook, both secrets accepted meanwhile");
    let never = Filter::And(vec![Condition::equals("id.object_id", "never")]);
    let new = client
        .create_webhook(
            format!("{url}?v=2"),
            vec![Subscription::new(EventType::RecordCreated).with_filter(never)],
        )
        .await?;
    verifier.set_secrets(Secrets::new(new.secret.clone()).and(old.secret.clone()));
    client
        .update_webhook(UpdateWebhook::new(new.webhook.webhook_id()).subscriptions(subscriptions))
        .await?;
    fake.emit(record("rec-2")); // both webhooks deliver it
    fake.settle_deliveries().await;
    seen = report(&fake, seen);
    client.delete_webhook(old.webhook.webhook_id()).await?;
    verifier.set_secrets(new.secret.clone());
    fake.emit(record("rec-3"));
    fake.settle_deliveries().await;
    report(&fake, seen);

    println!("\n3. a forged delivery");
    let forged = http::Request::post(&url)
        .header("attio-signature", "00".repeat(32))
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#,
        )))?;
    let http: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let status = http.request(forged).await?.status();
    println!("answered {status}");

    let delivered = fake
        .delivery_log()
        .iter()
        .filter(|a| matches!(a.outcome, DeliveryOutcome::Delivered { .. }))
        .count();
    assert_eq!((delivered, status), (4, StatusCode::UNAUTHORIZED));
    Ok(())
}

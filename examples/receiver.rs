//! A webhook receiver: verifies the signature of each delivery against the
//! raw body, parses the events, answers 200; answers 401 to a missing or
//! wrong signature and 400 to a body that is not a delivery.
//!
//! ```sh
//! cargo run --example receiver
//! ```
//!
//! The demo starts the receiver on 127.0.0.1, a fake Attio that may deliver
//! to it, creates a webhook through the client, emits events, and finally
//! sends a forged request. `receive` is the part to copy.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use attio_webhooks::receive::{Actor, ActorType, Event, Verifier};
use attio_webhooks::{Condition, EventType, Filter, Subscription};
use attio_webhooks_testkit::FakeAttio;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Handles one delivery. `Verifier::read_and_verify` reads the body (at
/// most 1 MiB), checks the signature on the bytes exactly as received and
/// parses; a refusal comes with its answer (401, 400 or 413 with a JSON
/// body). Nothing else in the request is trusted.
async fn receive(verifier: Option<&Verifier>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let Some(verifier) = verifier else {
        let mut busy = Response::new(Full::new(Bytes::from_static(b"no webhook secret yet")));
        *busy.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return busy;
    };
    let (parts, body) = request.into_parts();
    match verifier.read_and_verify(&parts.headers, body).await {
        Ok(verified) => {
            let key = verified.idempotency_key().unwrap_or("-");
            let delivery = verified.delivery();
            for event in &delivery.events {
                // A real receiver would skip keys it has already processed
                // (`receive::Once`).
                println!(
                    "  receiver: {} (record {:?}, by {}) for webhook {}, Idempotency-Key {key}",
                    event.event_type,
                    event.record_id(),
                    event.actor.kind,
                    delivery.webhook_id
                );
            }
            Response::new(Full::new(Bytes::from_static(b"ok")))
        }
        Err(refused) => {
            println!("  receiver: refused a request: {refused}");
            refused.to_response().map(Full::new)
        }
    }
}

/// Serves `receive` on 127.0.0.1 with an OS-chosen port.
async fn serve(verifier: Arc<OnceLock<Verifier>>) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let verifier = verifier.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let verifier = verifier.clone();
                    async move { Ok::<_, Infallible>(receive(verifier.get(), request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let verifier = Arc::new(OnceLock::new());
    let addr = serve(verifier.clone()).await?;
    println!("receiver listening on http://{addr}/attio");

    // A fake Attio that may deliver to plain-HTTP loopback targets.
    let fake = FakeAttio::builder().allow_loopback_http_targets().build();
    let client = fake.client();
    let people = Filter::And(vec![Condition::equals("id.object_id", "people")]);
    let created = client
        .create_webhook(
            format!("http://{addr}/attio"),
            vec![Subscription::new(EventType::RecordCreated).with_filter(people)],
        )
        .await?;
    verifier.set(Verifier::new(created.secret.clone())).ok();
    println!("created webhook {}", created.webhook.webhook_id());

    let member = Actor::new(
        ActorType::WorkspaceMember,
        Some("50cf242c-7fa3-4cad-87d0-75b1af71c57b".into()),
    );
    for object in ["people", "companies"] {
        let event = Event::new(
            EventType::RecordCreated,
            fake.workspace_id(),
            member.clone(),
        )
        .with_id("object_id", object)
        .with_id("record_id", format!("{object}-record"));
        let queued = fake.emit(event);
        println!(
            "emitted record.created on {object}: {} delivery(ies) queued",
            queued.len()
        );
    }
    fake.settle_deliveries().await;
    for attempt in fake.delivery_log() {
        println!(
            "fake-attio log: attempt {} to {} -> {:?}",
            attempt.attempt, attempt.target_url, attempt.outcome
        );
    }

    // A forged delivery: right shape, wrong signature.
    let forged = http::Request::post(format!("http://{addr}/attio"))
        .header("content-type", "application/json")
        .header("attio-signature", "00".repeat(32))
        .body(Full::new(Bytes::from_static(
            br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#,
        )))?;
    let http: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let status = http.request(forged).await?.status();
    println!("a forged delivery got {status}");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    Ok(())
}

//! Scenarios shared by the axum and tower receiver tests: the fake Attio
//! delivers over loopback to a receiver built by the test file, and
//! hand-made requests probe its refusals.
//!
//! Expected signatures are computed here with `hmac` + `sha2` directly,
//! never with the crate's signer.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::receive::{Once, VerifiedDelivery, Verifier};
use attio_webhooks::{
    model::Timestamp, receive::Actor, receive::ActorType, receive::Event, receive::Secrets,
    EventType, Secret, Subscription,
};
use attio_webhooks_testkit::{
    delivery::DeliveryAttempt, delivery::DeliveryOutcome, delivery::DeliveryPolicy, Clock,
    FakeAttio, Seed,
};
use bytes::Bytes;
use futures::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

pub const SECRET_A: &str = "3f1c9a7e5b2d4f6081a3c5e7f9b1d3f5a7c9e1b3d5f7092b4d6f8a0c2e4a6c8e";
pub const SECRET_B: &str = "b8d0f2a4c6e8092b4d6f8a0c2e4a6c8e3f1c9a7e5b2d4f6081a3c5e7f9b1d3f5";
/// The receivers' body limit in these tests.
pub const LIMIT: usize = 8 * 1024;

/// What the handler saw and what it should do, shared with the receiver.
#[derive(Default)]
pub struct Probe {
    /// Every run of the handler, failed or not.
    pub runs: AtomicU32,
    /// Deliveries the handler finished, in order.
    pub handled: Mutex<Vec<VerifiedDelivery>>,
    /// The handler fails (500) this many runs before it succeeds.
    pub fail_runs: AtomicU32,
    /// After handling, the receiver answers 500 anyway this many times (as
    /// if the answer were lost on its way back to Attio).
    pub lose_answers: AtomicU32,
}

fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Probe {
    /// The handler: counts the run, fails while told to, records otherwise.
    pub async fn handle(&self, verified: &VerifiedDelivery) -> Result<(), ()> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        if take_one(&self.fail_runs) {
            return Err(());
        }
        self.handled.lock().unwrap().push(verified.clone());
        Ok(())
    }

    /// Whether to replace this answer with a 500.
    pub fn lose_answer(&self) -> bool {
        take_one(&self.lose_answers)
    }

    pub fn runs(&self) -> u32 {
        self.runs.load(Ordering::SeqCst)
    }

    pub fn handled(&self) -> Vec<VerifiedDelivery> {
        self.handled.lock().unwrap().clone()
    }
}

/// How a test file starts its receiver: POST `/attio` on 127.0.0.1,
/// verifying with `Verifier`, deduplicating with `Once`, handling with
/// `Probe::handle`. Returns the bound address.
pub trait Start: Fn(Verifier, Once, Arc<Probe>) -> Self::Fut {
    type Fut: Future<Output = SocketAddr>;
}

impl<F, Fut> Start for F
where
    F: Fn(Verifier, Once, Arc<Probe>) -> Fut,
    Fut: Future<Output = SocketAddr>,
{
    type Fut = Fut;
}

/// Lowercase hex HMAC-SHA256, computed here as the oracle.
pub use crate::oracle::sign as oracle_sign;

/// A fake that may deliver to loopback, with `retries` retries 60 s
/// apart (then doubling) on a manual clock.
pub fn fake_attio(retries: u32) -> (FakeAttio, Clock) {
    let clock = Clock::manual(Timestamp::now());
    let fake = FakeAttio::builder()
        .allow_loopback_http_targets()
        .clock(clock.clone())
        .delivery_policy(
            DeliveryPolicy::default()
                .first_retry_after(Duration::from_secs(60))
                .retries(retries)
                .attempt_timeout(Duration::from_secs(10)),
        )
        .build();
    (fake, clock)
}

/// Seeds one webhook for `record.created` at `url`, signing with `secret`.
pub fn seed(fake: &FakeAttio, url: String, secret: &str) -> attio_webhooks::WebhookId {
    let created = fake
        .seed([
            Seed::new(url, vec![Subscription::new(EventType::RecordCreated)])
                .secret(Secret::new(secret)),
        ])
        .unwrap();
    created[0].webhook.webhook_id()
}

pub fn record_created(fake: &FakeAttio, record: &str) -> Event {
    Event::new(
        EventType::RecordCreated,
        fake.workspace_id(),
        Actor::new(
            ActorType::WorkspaceMember,
            Some("50cf242c-7fa3-4cad-87d0-75b1af71c57b".into()),
        ),
    )
    .with_id("object_id", "people")
    .with_id("record_id", record)
}

/// Emits, lets every retry come due, and waits for all of them.
pub async fn deliver(fake: &FakeAttio, clock: &Clock, event: Event) {
    fake.emit(event);
    fake.settle_deliveries().await;
    clock.advance(Duration::from_secs(30 * 24 * 3600));
    fake.settle_deliveries().await;
}

/// The status each attempt got, in order, for one webhook.
pub fn statuses(log: &[DeliveryAttempt], webhook: attio_webhooks::WebhookId) -> Vec<u16> {
    log.iter()
        .filter(|a| a.webhook_id == webhook)
        .map(|a| match &a.outcome {
            DeliveryOutcome::Delivered { status } => *status,
            DeliveryOutcome::Failed {
                status: Some(status),
                ..
            } => *status,
            other => panic!("attempt without an answer: {other:?}"),
        })
        .collect()
}

type Body = BoxBody<Bytes, Infallible>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A body sent in chunks with no `Content-Length` (chunked encoding).
fn chunked(bytes: Bytes, chunk: usize) -> Body {
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = bytes
        .chunks(chunk)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    StreamBody::new(stream::iter(frames)).boxed()
}

/// POSTs `body` to the receiver with the given headers; the status and
/// the answer's JSON (`Null` when empty).
pub async fn post(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    body: Body,
) -> (u16, Value, http::HeaderMap) {
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::post(format!("http://{addr}/attio"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        client.request(request.body(body).unwrap()),
    )
    .await
    .expect("the receiver answers within 10 s")
    .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, json, headers)
}

/// A fake with `retries`, a receiver started with `verifier` and `once`,
/// and one webhook to it signing with [`SECRET_A`].
pub async fn one_webhook(
    start: &impl Start,
    verifier: Verifier,
    once: Once,
    probe: &Arc<Probe>,
    retries: u32,
) -> (FakeAttio, Clock, attio_webhooks::WebhookId) {
    let (fake, clock) = fake_attio(retries);
    let addr = start(verifier, once, probe.clone()).await;
    let webhook = seed(&fake, format!("http://{addr}/attio"), SECRET_A);
    (fake, clock, webhook)
}

fn accepting_a() -> Verifier {
    Verifier::new(Secret::new(SECRET_A))
}

/// One `#[tokio::test]` per scenario, for a test file's `start`.
#[macro_export]
macro_rules! scenarios {
    ($start:path) => {
        $crate::scenarios!(@each $start,
            valid_deliveries_reach_the_handler_typed,
            bad_requests_are_refused_before_the_handler,
            an_oversized_delivery_from_the_fake_gets_413,
            a_handler_failing_twice_handles_the_message_once,
            retries_of_a_handled_message_do_not_run_it_again,
            deliveries_signed_by_either_of_two_secrets_pass
        );
    };
    (@each $start:path, $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                receive_common::$name($start).await;
            }
        )*
    };
}

// ---------------------------------------------------------------- scenarios

/// Two events from the fake reach the handler as typed deliveries.
pub async fn valid_deliveries_reach_the_handler_typed(start: impl Start) {
    let probe = Arc::new(Probe::default());
    let (fake, clock, webhook) =
        one_webhook(&start, accepting_a(), Once::in_memory(), &probe, 2).await;

    deliver(&fake, &clock, record_created(&fake, "rec-1")).await;
    let note = Event::new(EventType::NoteCreated, fake.workspace_id(), Actor::system())
        .with_id("note_id", "note-1")
        .with_field("parent_object_id", "people");
    // Not subscribed: the fake sends nothing for it.
    deliver(&fake, &clock, note).await;
    deliver(&fake, &clock, record_created(&fake, "rec-2")).await;

    assert_eq!(statuses(&fake.delivery_log(), webhook), [200, 200]);
    let handled = probe.handled();
    assert_eq!(handled.len(), 2);
    for (verified, record) in handled.iter().zip(["rec-1", "rec-2"]) {
        let delivery = verified.delivery();
        assert_eq!(delivery.webhook_id, webhook);
        assert_eq!(delivery.events.len(), 1);
        let event = &delivery.events[0];
        assert_eq!(event.event_type, EventType::RecordCreated);
        assert_eq!(event.record_id(), Some(record));
        assert_eq!(event.object_id(), Some("people"));
        assert_eq!(event.actor.kind, ActorType::WorkspaceMember);
        assert_eq!(event.id.workspace_id, fake.workspace_id());
        assert_eq!(verified.secret_index(), 0);
    }
    let keys: Vec<_> = fake
        .delivery_log()
        .into_iter()
        .map(|a| Some(a.idempotency_key))
        .collect();
    let seen: Vec<_> = handled
        .iter()
        .map(|v| v.idempotency_key().map(str::to_owned))
        .collect();
    assert_eq!(seen, keys);
}

/// Tampered body, wrong secret, missing header: 401; oversized: 413, by
/// `Content-Length` and chunked; signed but not a delivery: 400. None of
/// them reaches the handler.
pub async fn bad_requests_are_refused_before_the_handler(start: impl Start) {
    let probe = Arc::new(Probe::default());
    let (fake, clock) = fake_attio(0);
    let verifier = Verifier::new(Secret::new(SECRET_A)).with_max_body_bytes(LIMIT);
    let addr = start(verifier, Once::in_memory(), probe.clone()).await;

    // Wrong secret, delivered by the fake itself.
    let wrong = seed(&fake, format!("http://{addr}/attio"), SECRET_B);
    deliver(&fake, &clock, record_created(&fake, "rec-1")).await;
    assert_eq!(statuses(&fake.delivery_log(), wrong), [401]);

    // What the fake sent, to replay altered.
    let sent = fake.delivery_log()[0].clone();
    assert_eq!(sent.signature, oracle_sign(SECRET_B, &sent.body));
    let body = sent.body.clone();
    let good = oracle_sign(SECRET_A, &body);

    // The control: the same bytes signed with the right secret pass.
    let (status, _, _) = post(addr, &[("attio-signature", &good)], full(body.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(probe.runs(), 1);

    // Tampered: one byte of the body changed, signature kept.
    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("rec-1", "rec-2");
    let (status, json, headers) = post(addr, &[("attio-signature", &good)], full(tampered)).await;
    assert_eq!(status, 401);
    assert_eq!(json["error"], "invalid_signature");
    assert_eq!(json["message"], "the signature does not match the body");
    assert_eq!(headers["content-type"], "application/json");

    // Missing header.
    let (status, json, _) = post(addr, &[], full(body.clone())).await;
    assert_eq!(status, 401);
    assert_eq!(
        json["message"],
        "neither Attio-Signature nor X-Attio-Signature is present"
    );

    // Oversized, correctly signed: by Content-Length, and chunked.
    let big = format!(
        r#"{{"webhook_id":"{}","events":[],"padding":"{}"}}"#,
        wrong,
        "x".repeat(LIMIT)
    );
    let big_sig = oracle_sign(SECRET_A, big.as_bytes());
    let (status, json, _) = post(addr, &[("attio-signature", &big_sig)], full(big.clone())).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (413, Some("body_too_large"))
    );
    let (status, _, _) = post(
        addr,
        &[("attio-signature", &big_sig)],
        chunked(Bytes::from(big), 1000),
    )
    .await;
    assert_eq!(status, 413);
    // Just under the limit, chunked, passes: the limit is not off by one.
    let frame = format!(r#"{{"webhook_id":"{wrong}","events":[],"padding":""}}"#);
    let fits = format!(
        r#"{{"webhook_id":"{wrong}","events":[],"padding":"{}"}}"#,
        "x".repeat(LIMIT - frame.len())
    );
    assert_eq!(fits.len(), LIMIT);
    let fits_sig = oracle_sign(SECRET_A, fits.as_bytes());
    let (status, _, _) = post(
        addr,
        &[("x-attio-signature", &fits_sig)],
        chunked(Bytes::from(fits), 1000),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(probe.runs(), 2);

    // Signed, but not a delivery.
    let not_delivery = br#"{"webhook_id":"not-a-uuid","events":[]}"#;
    let sig = oracle_sign(SECRET_A, not_delivery);
    let (status, json, _) = post(addr, &[("attio-signature", &sig)], full(&not_delivery[..])).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("invalid_delivery"))
    );

    // Only the two good requests ran the handler.
    assert_eq!(probe.runs(), 2);
    assert_eq!(probe.handled().len(), 2);
}

/// The fake's own oversized delivery gets 413 and no handler run.
pub async fn an_oversized_delivery_from_the_fake_gets_413(start: impl Start) {
    let probe = Arc::new(Probe::default());
    let verifier = accepting_a().with_max_body_bytes(LIMIT);
    let (fake, clock, webhook) = one_webhook(&start, verifier, Once::in_memory(), &probe, 1).await;
    let event = record_created(&fake, "rec-1").with_field("notes", "y".repeat(LIMIT));
    deliver(&fake, &clock, event).await;
    assert_eq!(statuses(&fake.delivery_log(), webhook), [413, 413]);
    assert_eq!(probe.runs(), 0);
}

/// A handler that fails twice: Attio's third attempt runs it, and it has
/// then handled the message exactly once.
pub async fn a_handler_failing_twice_handles_the_message_once(start: impl Start) {
    let probe = Arc::new(Probe::default());
    probe.fail_runs.store(2, Ordering::SeqCst);
    let (fake, clock, webhook) =
        one_webhook(&start, accepting_a(), Once::in_memory(), &probe, 5).await;
    deliver(&fake, &clock, record_created(&fake, "rec-1")).await;

    let log = fake.delivery_log();
    assert_eq!(statuses(&log, webhook), [500, 500, 200]);
    assert!(log
        .iter()
        .all(|a| a.idempotency_key == log[0].idempotency_key));
    assert_eq!(probe.runs(), 3);
    let handled = probe.handled();
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].delivery().events[0].record_id(), Some("rec-1"));
}

/// A receiver that handled the message but whose answer failed twice:
/// the retries get 200 without running the handler again.
pub async fn retries_of_a_handled_message_do_not_run_it_again(start: impl Start) {
    let probe = Arc::new(Probe::default());
    probe.lose_answers.store(2, Ordering::SeqCst);
    let (fake, clock, webhook) =
        one_webhook(&start, accepting_a(), Once::in_memory(), &probe, 5).await;
    deliver(&fake, &clock, record_created(&fake, "rec-1")).await;

    assert_eq!(statuses(&fake.delivery_log(), webhook), [500, 500, 200]);
    assert_eq!(probe.runs(), 1);
    assert_eq!(probe.handled().len(), 1);

    // Without dedupe the same receiver would have run it three times.
    let plain = Arc::new(Probe::default());
    plain.lose_answers.store(2, Ordering::SeqCst);
    let (fake, clock, _) =
        one_webhook(&start, accepting_a(), Once::new(NeverSeen), &plain, 5).await;
    deliver(&fake, &clock, record_created(&fake, "rec-1")).await;
    assert_eq!(plain.runs(), 3);
}

/// A [`SeenKeys`] that remembers nothing: every delivery runs.
pub struct NeverSeen;

#[async_trait::async_trait]
impl attio_webhooks::receive::SeenKeys for NeverSeen {
    async fn claim(
        &self,
        _: &str,
    ) -> Result<attio_webhooks::receive::Claim, attio_webhooks::error::BoxError> {
        Ok(attio_webhooks::receive::Claim::Claimed(
            attio_webhooks::receive::ClaimToken::random(),
        ))
    }
    async fn complete(
        &self,
        _: &str,
        _: &attio_webhooks::receive::ClaimToken,
    ) -> Result<attio_webhooks::receive::Settled, attio_webhooks::error::BoxError> {
        Ok(attio_webhooks::receive::Settled::Held)
    }
    async fn release(
        &self,
        _: &str,
        _: &attio_webhooks::receive::ClaimToken,
    ) -> Result<attio_webhooks::receive::Settled, attio_webhooks::error::BoxError> {
        Ok(attio_webhooks::receive::Settled::Held)
    }
}

/// Two webhooks signing with different secrets deliver to one receiver
/// that accepts both; after the old secret is dropped, its deliveries
/// get 401.
pub async fn deliveries_signed_by_either_of_two_secrets_pass(start: impl Start) {
    let probe = Arc::new(Probe::default());
    let (fake, clock) = fake_attio(0);
    let verifier = Verifier::new(Secrets::new(Secret::new(SECRET_B)).and(Secret::new(SECRET_A)));
    let addr = start(verifier.clone(), Once::in_memory(), probe.clone()).await;
    let old = seed(&fake, format!("http://{addr}/attio"), SECRET_A);
    let new = seed(&fake, format!("http://{addr}/attio?v=2"), SECRET_B);

    deliver(&fake, &clock, record_created(&fake, "rec-1")).await;
    let log = fake.delivery_log();
    assert_eq!(statuses(&log, old), [200]);
    assert_eq!(statuses(&log, new), [200]);
    let mut by_secret: Vec<_> = probe
        .handled()
        .iter()
        .map(|v| (v.delivery().webhook_id, v.secret_index()))
        .collect();
    by_secret.sort_by_key(|(_, index)| *index);
    assert_eq!(by_secret, [(new, 0), (old, 1)]);

    // Rotation done: only the new secret is accepted.
    verifier.set_secrets(Secret::new(SECRET_B));
    deliver(&fake, &clock, record_created(&fake, "rec-2")).await;
    let log = fake.delivery_log();
    assert_eq!(statuses(&log, old), [200, 401]);
    assert_eq!(statuses(&log, new), [200, 200]);
    assert_eq!(probe.runs(), 3);
}

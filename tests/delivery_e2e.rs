//! End to end: a receiver on loopback, webhooks created through the client
//! against the fake over HTTP, events emitted, deliveries checked.

use crate::oracle;

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::receive::{Once, Verifier};
use attio_webhooks::{
    model::Timestamp, receive::Actor, receive::ActorType, receive::Event, Condition,
    CreatedWebhook, EventType, Filter, Subscription, WebhookStatus,
};
use attio_webhooks_testkit::{
    delivery::DeliveryOrigin, delivery::DeliveryOutcome, delivery::DeliveryPolicy,
    delivery::DeliveryProfile, Clock, FakeAttio, FakeServer,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// What one request to the receiver looked like.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// A receiver on 127.0.0.1 that records every request and fails the first
/// `fail_first` of them with 500. A slow one takes `first_delay` to answer
/// its first request, and tells whether that answer reached a client still
/// waiting for it.
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    /// The most requests that were being handled at once.
    most_at_once: Arc<AtomicU32>,
    /// Whether the first request's (late) answer was written to its client.
    first_answer_written: Arc<Mutex<Option<bool>>>,
    task: tokio::task::JoinHandle<()>,
}

/// Counts a request out of the in-flight count when its handler ends, even
/// when hyper drops it.
struct InFlight(Arc<AtomicU32>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Receiver {
    async fn start(fail_first: u32) -> Self {
        Self::start_with(fail_first, Duration::ZERO).await
    }

    async fn start_with(fail_first: u32, first_delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let failures_left = Arc::new(AtomicU32::new(fail_first));
        let (in_flight, most_at_once) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let first_answer_written = Arc::new(Mutex::new(None));
        let log = received.clone();
        let (most, written) = (most_at_once.clone(), first_answer_written.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (log, failures_left) = (log.clone(), failures_left.clone());
                let (in_flight, most, written) = (in_flight.clone(), most.clone(), written.clone());
                let is_first = Arc::new(AtomicBool::new(false));
                let first_on_this_connection = is_first.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let (log, failures_left) = (log.clone(), failures_left.clone());
                            let (in_flight, most) = (in_flight.clone(), most.clone());
                            let is_first = is_first.clone();
                            async move {
                                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(now, Ordering::SeqCst);
                                let _counted = InFlight(in_flight);
                                let (parts, body) = request.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                let first = {
                                    let mut log = log.lock().unwrap();
                                    log.push(Received {
                                        path: parts.uri.path().to_owned(),
                                        headers: parts.headers,
                                        body,
                                    });
                                    log.len() == 1
                                };
                                if first && !first_delay.is_zero() {
                                    is_first.store(true, Ordering::SeqCst);
                                    tokio::time::sleep(first_delay).await;
                                }
                                let fail = failures_left
                                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                        n.checked_sub(1)
                                    })
                                    .is_ok();
                                let status = if fail { 500 } else { 200 };
                                Ok::<_, Infallible>(
                                    hyper::Response::builder()
                                        .status(status)
                                        .header("connection", "close")
                                        .body(Full::new(Bytes::new()))
                                        .unwrap(),
                                )
                            }
                        });
                    let served = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    if first_on_this_connection.load(Ordering::SeqCst) {
                        *written.lock().unwrap() = Some(served.is_ok());
                    }
                });
            }
        });
        Receiver {
            addr,
            received,
            most_at_once,
            first_answer_written,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn received(&self, path: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn fake_server(clock: Option<Clock>) -> FakeServer {
    let mut builder = FakeAttio::builder().allow_loopback_http_targets();
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    builder.build().serve().await.unwrap()
}

fn event(event_type: EventType, server: &FakeServer, actor: ActorType) -> Event {
    Event::new(
        event_type,
        server.workspace_id(),
        Actor::new(actor, Some("actor-1".into())),
    )
}

/// The signature Attio documents, computed here with `hmac` and `sha2`
/// directly rather than with the crate's `signature::sign`: lowercase hex of
/// Checks each received request as a careful receiver would, and returns the events.
fn verified_events(received: &[Received], created: &CreatedWebhook) -> Vec<Event> {
    received
        .iter()
        .map(|r| {
            let sig = r.headers["attio-signature"].to_str().unwrap();
            assert_eq!(
                r.headers["x-attio-signature"], sig,
                "both headers carry the signature"
            );
            assert_eq!(sig, oracle::sign(created.secret.expose(), &r.body));
            // FIDELITY.md, "Delivery `Content-Type`" and "Delivery
            // `User-Agent`": the example request of Attio's payload
            // reference (attio.com/developers/reference/webhooks).
            assert_eq!(r.headers["content-type"], "application/json");
            assert_eq!(
                r.headers["user-agent"],
                "Attio 2.0 (https://attio.com/developers/using-webhooks)"
            );
            assert!(r.headers.contains_key("idempotency-key"));
            let delivery = Verifier::new(created.secret.clone())
                .verify(&r.headers, &r.body)
                .unwrap()
                .into_delivery();
            assert_eq!(delivery.webhook_id, created.webhook.webhook_id());
            assert_eq!(delivery.events.len(), 1);
            delivery.events.into_iter().next().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_receiver_gets_exactly_the_events_that_pass_each_validly_signed() {
    let server = fake_server(None).await;
    let receiver = Receiver::start(0).await;
    let client = server.client();

    let filtered = client
        .create_webhook(
            receiver.url("/filtered"),
            vec![
                Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
                    Condition::equals("id.object_id", "people"),
                    Condition::equals("actor.type", "workspace-member"),
                ])),
                Subscription::new(EventType::NoteCreated).with_filter(Filter::Or(vec![
                    Condition::equals("parent_object_id", "companies"),
                    Condition::equals("parent_object_id", "people"),
                ])),
            ],
        )
        .await
        .unwrap();
    let everything = client
        .create_webhook(
            receiver.url("/all-records"),
            vec![Subscription::new(EventType::RecordCreated)],
        )
        .await
        .unwrap();

    let member = ActorType::WorkspaceMember;
    let events = [
        event(EventType::RecordCreated, &server, member.clone())
            .with_id("object_id", "people")
            .with_id("record_id", "r1"),
        event(EventType::RecordCreated, &server, ActorType::System)
            .with_id("object_id", "people")
            .with_id("record_id", "r2"),
        event(EventType::RecordCreated, &server, member.clone())
            .with_id("object_id", "deals")
            .with_id("record_id", "r3"),
        event(EventType::NoteCreated, &server, member.clone())
            .with_id("note_id", "n1")
            .with_field("parent_object_id", "companies"),
        event(EventType::NoteCreated, &server, member.clone())
            .with_id("note_id", "n2")
            .with_field("parent_object_id", "deals"),
        event(EventType::TaskCreated, &server, member.clone()).with_id("task_id", "t1"),
    ];
    let mut queued = 0;
    for event in &events[..5] {
        queued += server.emit(event.clone()).len();
    }
    // The last one through the HTTP control endpoint, as another language would.
    let http: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let request = http::Request::post(format!("{}/__fake/events", server.base_url()))
        .body(Full::new(Bytes::from(
            json!({"data": events[5]}).to_string(),
        )))
        .unwrap();
    let answer = http
        .request(request)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    // Nothing queued, and each webhook says why: neither has task.created.
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["data"], json!([]));
    let reasons: Vec<&str> = answer["near_misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["no_subscription_for_type"; 2]);
    assert_eq!(queued, 5);

    tokio::time::timeout(Duration::from_secs(10), server.settle_deliveries())
        .await
        .unwrap();

    let got = verified_events(&receiver.received("/filtered"), &filtered);
    let mut expected = vec![events[0].clone(), events[3].clone()];
    let sort = |v: &mut Vec<Event>| v.sort_by_key(|e| serde_json::to_string(e).unwrap());
    let mut got_sorted = got.clone();
    sort(&mut got_sorted);
    sort(&mut expected);
    assert_eq!(
        got_sorted, expected,
        "only the events that pass the $and / $or filters"
    );

    let mut got = verified_events(&receiver.received("/all-records"), &everything);
    let mut expected = events[..3].to_vec();
    sort(&mut got);
    sort(&mut expected);
    assert_eq!(got, expected);

    let keys: HashSet<String> = receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 5, "one Idempotency-Key per message");
    assert!(server
        .delivery_log()
        .iter()
        .all(|a| a.outcome == DeliveryOutcome::Delivered { status: 200 }));
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_sees_one_idempotency_key() {
    let clock = Clock::manual(Timestamp::parse("2026-03-01T00:00:00Z").unwrap());
    let server = fake_server(Some(clock.clone())).await;
    let receiver = Receiver::start(3).await;
    let created = server
        .client()
        .create_webhook(
            receiver.url("/hook"),
            vec![Subscription::new(EventType::CommentCreated)],
        )
        .await
        .unwrap();
    let comment = event(
        EventType::CommentCreated,
        &server,
        ActorType::WorkspaceMember,
    )
    .with_id("comment_id", "c1")
    .with_field("thread_id", "th1");
    let queued = server.emit(comment.clone());
    assert_eq!(queued.len(), 1);

    server.settle_deliveries().await;
    assert_eq!(
        receiver.received("/hook").len(),
        1,
        "the first attempt is immediate; retries wait for the clock"
    );

    // Each retry comes due only when the clock reaches it: 255 s, then 510 s, then 1020 s.
    for (wait, attempts) in [(254, 1), (1, 2), (510, 3), (1020, 4)] {
        clock.advance(Duration::from_secs(wait));
        tokio::time::timeout(Duration::from_secs(10), server.settle_deliveries())
            .await
            .unwrap();
        assert_eq!(receiver.received("/hook").len(), attempts, "after +{wait}s");
    }

    let received = receiver.received("/hook");
    let keys: HashSet<&str> = received
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap())
        .collect();
    assert_eq!(
        keys.len(),
        1,
        "one Idempotency-Key across all four attempts"
    );
    assert_eq!(keys.into_iter().next().unwrap(), queued[0].idempotency_key);
    assert!(received.iter().all(|r| r.body == received[0].body));
    assert_eq!(verified_events(&received, &created), vec![comment; 4]);

    let log = server.delivery_log();
    let outcomes: Vec<_> = log.iter().map(|a| (a.attempt, a.outcome.clone())).collect();
    let failed = DeliveryOutcome::Failed {
        status: Some(500),
        error: None,
    };
    assert_eq!(
        outcomes,
        [
            (1, failed.clone()),
            (2, failed.clone()),
            (3, failed),
            (4, DeliveryOutcome::Delivered { status: 200 })
        ]
    );
    let gaps: Vec<u64> = log
        .windows(2)
        .map(|w| {
            w[1].scheduled_at
                .duration_since(w[0].scheduled_at)
                .as_secs()
        })
        .collect();
    assert_eq!(gaps, [255, 510, 1020]);
    assert_eq!(
        server
            .client()
            .get_webhook(created.webhook.webhook_id())
            .await
            .unwrap()
            .status,
        WebhookStatus::Active
    );
}

#[tokio::test]
async fn an_always_failing_receiver_drives_the_webhook_to_degraded_then_inactive() {
    let clock = Clock::manual(Timestamp::parse("2026-03-01T00:00:00Z").unwrap());
    let server = fake_server(Some(clock.clone())).await;
    let receiver = Receiver::start(u32::MAX).await;
    let client = server.client();
    let created = client
        .create_webhook(
            receiver.url("/down"),
            vec![Subscription::new(EventType::TaskUpdated)],
        )
        .await
        .unwrap();
    let id = created.webhook.webhook_id();
    server
        .emit(event(EventType::TaskUpdated, &server, ActorType::ApiToken).with_id("task_id", "t1"));

    // The whole ~3-day schedule at once: 1 attempt + 10 retries.
    clock.advance(Duration::from_secs(4 * 24 * 3600));
    tokio::time::timeout(Duration::from_secs(10), server.settle_deliveries())
        .await
        .unwrap();
    let log = server.delivery_log();
    assert_eq!(log.len(), 11);
    assert_eq!(receiver.received("/down").len(), 11);
    let span = log[10].scheduled_at.duration_since(log[0].scheduled_at);
    assert_eq!(span, Duration::from_secs(255 * 1023), "about three days");
    assert_eq!(
        client.get_webhook(id).await.unwrap().status,
        WebhookStatus::Degraded
    );

    // Seven days after turning degraded, it turns inactive; until then it
    // still receives events.
    let degraded_at = log[10].scheduled_at;
    let week = Duration::from_secs(7 * 24 * 3600);
    clock.set(degraded_at.saturating_add(week - Duration::from_secs(1000)));
    assert_eq!(
        client.get_webhook(id).await.unwrap().status,
        WebhookStatus::Degraded
    );
    assert_eq!(
        server
            .emit(event(EventType::TaskUpdated, &server, ActorType::ApiToken))
            .len(),
        1
    );
    server.settle_deliveries().await;
    assert_eq!(receiver.received("/down").len(), 12);

    clock.set(degraded_at.saturating_add(week - Duration::from_secs(1)));
    server.settle_deliveries().await;
    assert_eq!(
        client.get_webhook(id).await.unwrap().status,
        WebhookStatus::Degraded
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        client.get_webhook(id).await.unwrap().status,
        WebhookStatus::Inactive
    );

    // Inactive webhooks get nothing: no new messages, no more retries.
    let before = receiver.received("/down").len();
    assert!(server
        .emit(event(EventType::TaskUpdated, &server, ActorType::ApiToken))
        .is_empty());
    clock.advance(Duration::from_secs(30 * 24 * 3600));
    server.settle_deliveries().await;
    assert_eq!(receiver.received("/down").len(), before);
    assert!(matches!(
        server.delivery_log().last().unwrap().outcome,
        DeliveryOutcome::Skipped { ref reason } if reason.contains("inactive")
    ));
}

#[tokio::test]
async fn refused_connections_fail_and_remote_targets_are_never_contacted() {
    let clock = Clock::manual(Timestamp::parse("2026-03-01T00:00:00Z").unwrap());
    let server = fake_server(Some(clock.clone())).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = server.client();
    let refused = client
        .create_webhook(
            format!("http://{closed}/gone"),
            vec![Subscription::new(EventType::ListCreated)],
        )
        .await
        .unwrap();
    let remote = client
        .create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::ListCreated)],
        )
        .await
        .unwrap();
    server.emit(event(EventType::ListCreated, &server, ActorType::App).with_id("list_id", "l1"));
    server.settle_deliveries().await;

    let log = server.delivery_log();
    assert_eq!(log.len(), 2);
    let refused_attempt = log
        .iter()
        .find(|a| a.webhook_id == refused.webhook.webhook_id())
        .unwrap();
    assert!(matches!(
        refused_attempt.outcome,
        DeliveryOutcome::Failed {
            status: None,
            error: Some(_)
        }
    ));
    let remote_attempt = log
        .iter()
        .find(|a| a.webhook_id == remote.webhook.webhook_id())
        .unwrap();
    assert!(matches!(
        remote_attempt.outcome,
        DeliveryOutcome::Skipped { .. }
    ));
    // The skipped entry still shows what would have been sent, signed.
    assert_eq!(
        remote_attempt.signature,
        oracle::sign(remote.secret.expose(), &remote_attempt.body)
    );

    // The refused one is retried when its time comes; the skipped one is not.
    clock.advance(Duration::from_secs(255));
    server.settle_deliveries().await;
    let log = server.delivery_log();
    assert_eq!(log.len(), 3);
    assert_eq!(log[2].webhook_id, refused.webhook.webhook_id());
    assert_eq!(log[2].attempt, 2);
}

/// A record.updated from the workspace member `m-1`, as in the deliveries
/// activepieces captured on a live workspace (PR 15056: `id` with
/// `object_id`, `record_id` and the changed `attribute_id`; `actor`
/// `{"type": "workspace-member", "id": ...}`), written out by hand.
fn captured_update(server: &FakeServer, attribute_id: &str) -> Value {
    json!({
        "event_type": "record.updated",
        "id": {
            "workspace_id": server.workspace_id().to_string(),
            "object_id": "deals",
            "record_id": "4f2c8d3e-9b1a-4c6e-8f7d-2a5b3c1d0e9f",
            "attribute_id": attribute_id,
        },
        "actor": {"type": "workspace-member", "id": "m-1"},
    })
}

/// Several events for one record arrive in ONE delivery (activepieces issue
/// 15057 and PR 15064, seen on a live workspace): a receiver verifies it
/// with the core's `Verifier` and handles all three, once; a redelivery
/// (Attio's webhooks guide: the `Idempotency-Key` is "the same between
/// retries and redeliveries") carries the same key, body and signature, and
/// `Once` runs none of them again.
#[tokio::test]
async fn a_batch_of_three_arrives_as_one_delivery_and_a_redelivery_repeats_it_exactly() {
    let clock = Clock::manual(Timestamp::parse("2026-03-01T00:00:00Z").unwrap());
    let server = fake_server(Some(clock.clone())).await;
    let receiver = Receiver::start(0).await;
    let client = server.client();
    let deals = client
        .create_webhook(
            receiver.url("/deals"),
            vec![
                Subscription::new(EventType::RecordUpdated).with_filter(Filter::And(vec![
                    Condition::equals("id.object_id", "deals"),
                ])),
            ],
        )
        .await
        .unwrap();
    let stage = client
        .create_webhook(
            receiver.url("/stage"),
            vec![
                Subscription::new(EventType::RecordUpdated).with_filter(Filter::And(vec![
                    Condition::equals("id.attribute_id", "a-stage"),
                ])),
            ],
        )
        .await
        .unwrap();

    let batch = [
        captured_update(&server, "a-stage"),
        captured_update(&server, "a-amount"),
        captured_update(&server, "a-owner"),
    ];
    let mut people = captured_update(&server, "a-name");
    people["id"]["object_id"] = json!("people");
    let events: Vec<Event> = batch
        .iter()
        .chain([&people])
        .map(|e| serde_json::from_value(e.clone()).unwrap())
        .collect();
    let queued = server.emit_batch(events);
    assert_eq!(queued.len(), 2, "one message per webhook: {queued:?}");
    tokio::time::timeout(Duration::from_secs(10), server.settle_deliveries())
        .await
        .unwrap();

    let received = receiver.received("/deals");
    assert_eq!(received.len(), 1, "three events, one delivery");
    let delivery = &received[0];
    assert_eq!(
        serde_json::from_slice::<Value>(&delivery.body).unwrap(),
        json!({"webhook_id": deals.webhook.webhook_id().to_string(), "events": batch}),
        "every event of the batch the webhook accepts, in order, and no other"
    );
    assert_eq!(
        delivery.headers["attio-signature"],
        oracle::sign(deals.secret.expose(), &delivery.body)
    );
    let stage_only = receiver.received("/stage");
    assert_eq!(stage_only.len(), 1);
    assert_eq!(
        serde_json::from_slice::<Value>(&stage_only[0].body).unwrap()["events"],
        json!([batch[0]])
    );
    let key = delivery.headers["idempotency-key"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(queued.iter().any(|q| q.idempotency_key == key));

    let again = server.redeliver(&key).unwrap();
    assert_eq!(again.idempotency_key, key);
    tokio::time::timeout(Duration::from_secs(10), server.settle_deliveries())
        .await
        .unwrap();
    let received = receiver.received("/deals");
    assert_eq!(received.len(), 2, "the redelivery arrived");
    let redelivered = &received[1];
    assert_eq!(redelivered.body, delivery.body, "the same bytes");
    for header in ["attio-signature", "x-attio-signature", "idempotency-key"] {
        assert_eq!(
            redelivered.headers[header], delivery.headers[header],
            "{header}"
        );
    }
    assert!(matches!(
        server.redeliver("not-a-key"),
        Err(attio_webhooks_testkit::delivery::RedeliveryError::UnknownKey { .. })
    ));

    // A receiver as the README writes it: verify, then handle every event
    // of the delivery once per Idempotency-Key.
    let verifier = Verifier::new(deals.secret.clone());
    let once = Once::in_memory();
    let handled = Mutex::new(Vec::new());
    let mut outcomes = Vec::new();
    for request in &received {
        let verified = verifier.verify(&request.headers, &request.body).unwrap();
        let outcome = once
            .run(verified.dedupe_key(), || async {
                for event in &verified.delivery().events {
                    handled
                        .lock()
                        .unwrap()
                        .push(event.attribute_id().unwrap().to_owned());
                }
                Ok::<_, std::io::Error>(())
            })
            .await;
        outcomes.push(outcome.code());
    }
    assert_eq!(outcomes, ["handled", "already_handled"]);
    assert_eq!(*handled.lock().unwrap(), ["a-stage", "a-amount", "a-owner"]);
    let origins: Vec<DeliveryOrigin> = server
        .delivery_log()
        .iter()
        .filter(|a| a.webhook_id == deals.webhook.webhook_id())
        .map(|a| a.origin)
        .collect();
    assert_eq!(
        origins,
        [DeliveryOrigin::Emitted, DeliveryOrigin::Redelivery]
    );
    let _ = stage;
}

/// With overlapping attempts on (part of `DeliveryProfile::attio_like`, the
/// fake's choice where Attio's attempt timeout is unknown), a retry starts
/// while the timed-out first attempt still waits for a slow receiver: the
/// receiver handles two requests with one Idempotency-Key at once, and the
/// late answer still reaches the fake. By default the timed-out request is
/// cut off.
#[tokio::test]
async fn a_retry_overlaps_a_timed_out_attempt_that_still_runs() {
    assert!(DeliveryProfile::attio_like(1).overlapping_attempts);
    for overlapping in [true, false] {
        let clock = Clock::manual(Timestamp::parse("2026-03-01T00:00:00Z").unwrap());
        let server = FakeAttio::builder()
            .allow_loopback_http_targets()
            .clock(clock.clone())
            .delivery_policy(
                DeliveryPolicy::default()
                    .attempt_timeout(Duration::from_millis(300))
                    .first_retry_after(Duration::from_secs(1)),
            )
            .delivery_profile(DeliveryProfile::default().overlapping_attempts(overlapping))
            .build()
            .serve()
            .await
            .unwrap();
        let receiver = Receiver::start_with(0, Duration::from_millis(1500)).await;
        server
            .client()
            .create_webhook(
                receiver.url("/slow"),
                vec![Subscription::new(EventType::TaskCreated)],
            )
            .await
            .unwrap();
        server.emit(
            event(EventType::TaskCreated, &server, ActorType::ApiToken).with_id("task_id", "t1"),
        );
        tokio::time::timeout(Duration::from_secs(10), server.settle_deliveries())
            .await
            .unwrap();
        assert!(matches!(
            server.delivery_log()[0].outcome,
            DeliveryOutcome::Failed { status: None, .. }
        ));
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(10), server.settle_deliveries())
            .await
            .unwrap();
        // Let the first request's slow answer come (or not).
        tokio::time::sleep(Duration::from_millis(1800)).await;

        let received = receiver.received("/slow");
        assert_eq!(received.len(), 2, "overlapping: {overlapping}");
        assert_eq!(
            received[0].headers["idempotency-key"],
            received[1].headers["idempotency-key"]
        );
        assert_eq!(
            *receiver.first_answer_written.lock().unwrap(),
            Some(overlapping),
            "the first request was still open for its answer: overlapping {overlapping}"
        );
        if overlapping {
            assert_eq!(receiver.most_at_once.load(Ordering::SeqCst), 2);
        }
    }
}

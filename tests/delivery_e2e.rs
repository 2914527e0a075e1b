//! End to end: a receiver on loopback, webhooks created through the client
//! against the fake over HTTP, events emitted, deliveries checked.

use crate::oracle;

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::receive::Verifier;
use attio_webhooks::{
    model::Timestamp, receive::Actor, receive::ActorType, receive::Event, Condition,
    CreatedWebhook, EventType, Filter, Subscription, WebhookStatus,
};
use attio_webhooks_testkit::{Clock, DeliveryOutcome, FakeAttio, FakeServer, DELIVERY_USER_AGENT};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

/// What one request to the receiver looked like.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// A receiver on 127.0.0.1 that records every request and fails the first
/// `fail_first` of them with 500.
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(fail_first: u32) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let failures_left = Arc::new(AtomicU32::new(fail_first));
        let log = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (log, failures_left) = (log.clone(), failures_left.clone());
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let (log, failures_left) = (log.clone(), failures_left.clone());
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                log.lock().unwrap().push(Received {
                                    path: parts.uri.path().to_owned(),
                                    headers: parts.headers,
                                    body,
                                });
                                let fail = failures_left
                                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                        n.checked_sub(1)
                                    })
                                    .is_ok();
                                let status = if fail { 500 } else { 200 };
                                Ok::<_, Infallible>(
                                    hyper::Response::builder()
                                        .status(status)
                                        .body(Full::new(Bytes::new()))
                                        .unwrap(),
                                )
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            addr,
            received,
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
            assert_eq!(r.headers["content-type"], "application/json");
            assert_eq!(r.headers["user-agent"], DELIVERY_USER_AGENT);
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

//! Receivers on two replicas sharing one store (Redis, then PostgreSQL),
//! behind a round-robin proxy, fed by the fake's real signed deliveries
//! and its retries. The handlers count their runs in a ledger outside the
//! code under test: every message must succeed exactly once, whatever
//! fails on the way.
//!
//! Needs the servers of `scripts/test-servers.sh start` (Redis on
//! 127.0.0.1:6390, PostgreSQL on 127.0.0.1:5440); without them each test
//! says it skipped, except under `CI=true`, where it fails.

mod proxy;
mod relay;
mod replica;
mod stores;

use std::sync::Arc;
use std::time::{Duration, Instant};

use attio_webhooks::receive::{signature, Actor, ActorType, Event};
use attio_webhooks::{CreatedWebhook, EventType, Subscription};
use attio_webhooks_testkit::{
    delivery::DeliveryOutcome, delivery::DeliveryPolicy, delivery::QueuedDelivery, FakeAttio,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use proxy::Proxy;
use replica::{Ledger, Replica};
use stores::{Backend, Shared};

/// The fake, retrying quickly: 50 ms, then twice as long each time.
fn fake() -> FakeAttio {
    FakeAttio::builder()
        .allow_loopback_http_targets()
        .delivery_policy(
            DeliveryPolicy::default()
                .retries(10)
                .first_retry_after(Duration::from_millis(50))
                .attempt_timeout(Duration::from_secs(5)),
        )
        .build()
}

/// Everything one test runs: the fake, a webhook to the proxy, two
/// replicas "a" and "b" (the proxy sends the first request to "a").
struct Cluster {
    fake: FakeAttio,
    webhook: CreatedWebhook,
    ledger: Arc<Ledger>,
    replicas: Vec<Replica>,
    _proxy: Proxy,
}

impl Cluster {
    async fn start(shared: &Shared, name: &str, lease: Duration) -> Self {
        let fake = fake();
        let ledger = Arc::new(Ledger::default());
        // The webhook's secret is only known once it exists; replicas are
        // started behind the proxy's address, so make the webhook first
        // with a placeholder and point it at the proxy after.
        let webhook = fake
            .client()
            .create_webhook(
                "http://127.0.0.1:9/attio",
                vec![Subscription::new(EventType::RecordCreated)],
            )
            .await
            .unwrap();
        let mut replicas = Vec::new();
        for replica in ["a", "b"] {
            let store = shared.store(name, lease).await;
            replicas.push(Replica::start(
                replica,
                webhook.secret.clone(),
                store,
                ledger.clone(),
            ));
        }
        let proxy = Proxy::start(replicas.iter().map(|r| r.addr).collect()).await;
        let mut update =
            attio_webhooks::operations::UpdateWebhook::new(webhook.webhook.webhook_id());
        update.target_url = Some(proxy.url());
        fake.client().update_webhook(update).await.unwrap();
        Self {
            fake,
            webhook,
            ledger,
            replicas,
            _proxy: proxy,
        }
    }

    fn emit(&self, record: &str) -> String {
        let event = Event::new(
            EventType::RecordCreated,
            self.fake.workspace_id(),
            Actor::new(ActorType::System, None),
        )
        .with_id("record_id", record);
        let queued: Vec<QueuedDelivery> = self.fake.emit(event);
        assert_eq!(queued.len(), 1);
        queued[0].idempotency_key.clone()
    }

    /// The attempts made for the message `key`, in order.
    fn attempts(&self, key: &str) -> Vec<DeliveryOutcome> {
        self.fake
            .delivery_log()
            .iter()
            .filter(|a| a.idempotency_key == key)
            .map(|a| a.outcome.clone())
            .collect()
    }

    fn delivered(&self, key: &str) -> bool {
        self.attempts(key)
            .iter()
            .any(|o| matches!(o, DeliveryOutcome::Delivered { .. }))
    }

    /// Sends the message `key` again, byte for byte as the fake last sent
    /// it, straight to `replica`: a late retry of Attio's.
    async fn resend(&self, key: &str, replica: &Replica) -> (u16, String) {
        let log = self.fake.delivery_log();
        let last = log.iter().rev().find(|a| a.idempotency_key == key).unwrap();
        post(replica, &last.body, &last.signature, key).await
    }

    /// Waits (up to 30 s) until `done` holds.
    async fn until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what}: not within 30 s; ledger {:?}",
                self.ledger.runs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn a_message_failed_on_one_replica_is_handled_once_after_the_retry_lands_on_the_other(
    backend: Backend,
) {
    let Some(shared) = backend.relay().await else {
        return;
    };
    let cluster = Cluster::start(&shared, "retry", Duration::from_secs(10)).await;
    cluster.ledger.script.lock().unwrap().fail_first_run = true;
    for record in ["r1", "r2", "r3", "r4"] {
        // One message at a time, so the round-robin sends its retry to
        // the other replica.
        let key = cluster.emit(record);
        cluster.until("delivered", |c| c.delivered(&key)).await;
        let runs = &cluster.ledger.runs()[&key];
        assert_eq!((runs.started, runs.succeeded), (2, 1), "{key}: {runs:?}");
        assert_ne!(runs.on[0], runs.on[1], "the retry ran on the other replica");
        assert!(matches!(
            cluster.attempts(&key)[..],
            [
                DeliveryOutcome::Failed {
                    status: Some(500),
                    ..
                },
                DeliveryOutcome::Delivered { status: 200 }
            ]
        ));
        // A late retry, on either replica (the one that failed too), finds
        // the message handled: only a shared store knows.
        for replica in &cluster.replicas {
            let answer = cluster.resend(&key, replica).await;
            assert_eq!(answer, (200, r#"{"status":"already_handled"}"#.to_owned()));
        }
        assert_eq!(cluster.ledger.runs()[&key].succeeded, 1);
    }
}

async fn the_same_message_on_both_replicas_at_once_runs_once(backend: Backend) {
    let Some(shared) = backend.relay().await else {
        return;
    };
    let cluster = Cluster::start(&shared, "race", Duration::from_secs(10)).await;
    cluster.ledger.script.lock().unwrap().takes = Duration::from_millis(300);
    // One delivery, sent as Attio would, to each replica directly.
    let body = format!(
        r#"{{"webhook_id":"{}","events":[{{"event_type":"record.created","id":{{"workspace_id":"{}","object_id":"people","record_id":"r-race"}},"actor":{{"type":"system","id":null}}}}]}}"#,
        cluster.webhook.webhook.webhook_id(),
        cluster.fake.workspace_id(),
    );
    let tag = signature::sign(&cluster.webhook.secret, body.as_bytes());
    let post = |replica| post(replica, body.as_bytes(), &tag, "race-1");
    let (a, b) = tokio::join!(post(&cluster.replicas[0]), post(&cluster.replicas[1]));
    let mut answers = [a, b];
    answers.sort();
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(
        answers[1].0, 409,
        "the loser asks Attio to retry: {answers:?}"
    );
    assert!(answers[1].1.contains("in_progress"), "{answers:?}");
    // Attio's retry of the loser, on either replica: already handled.
    for replica in &cluster.replicas {
        let (status, body) = post(replica).await;
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"status":"already_handled"}"#)
        );
    }
    let runs = &cluster.ledger.runs()["race-1"];
    assert_eq!((runs.started, runs.succeeded), (1, 1), "{runs:?}");
}

/// POSTs a signed delivery to `replica`, as Attio does; the answer's
/// status and body.
async fn post(replica: &Replica, body: &[u8], tag: &str, key: &str) -> (u16, String) {
    let request = hyper::Request::post(format!("http://{}/attio", replica.addr))
        .header("content-type", "application/json")
        .header("attio-signature", tag)
        .header("idempotency-key", key)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn a_replica_killed_mid_handler_leaves_a_claim_that_runs_out(backend: Backend) {
    let Some(shared) = backend.relay().await else {
        return;
    };
    let lease = Duration::from_secs(1);
    let mut cluster = Cluster::start(&shared, "killed", lease).await;
    cluster.ledger.script.lock().unwrap().hang_on = Some("a");
    let key = cluster.emit("r-killed");
    cluster
        .until("the handler runs on a", |c| {
            c.ledger.runs().contains_key(&key)
        })
        .await;
    let killed_at = Instant::now();
    cluster.replicas[0].kill();
    cluster.until("delivered", |c| c.delivered(&key)).await;
    let runs = &cluster.ledger.runs()[&key];
    assert_eq!(runs.on, ["a", "b"], "{runs:?}");
    assert_eq!(runs.succeeded, 1);
    // Until the lease ran out, b answered 409 and left the claim alone.
    let attempts = cluster.attempts(&key);
    assert!(
        attempts.iter().any(|o| matches!(
            o,
            DeliveryOutcome::Failed {
                status: Some(409),
                ..
            }
        )),
        "{attempts:?}"
    );
    assert!(
        killed_at.elapsed() >= lease / 2,
        "handled only after the lease ran out"
    );
}

async fn the_store_gone_mid_run_answers_503_and_every_message_is_handled_once_after(
    backend: Backend,
) {
    let Some(shared) = backend.relay().await else {
        return;
    };
    let cluster = Cluster::start(&shared, "outage", Duration::from_secs(10)).await;
    let before = cluster.emit("r-before");
    cluster.until("delivered", |c| c.delivered(&before)).await;

    shared.relay.cut();
    let keys: Vec<String> = (0..6).map(|i| cluster.emit(&format!("r-{i}"))).collect();
    // Every message is refused with 503 at least once while the store is
    // gone, and no handler runs.
    cluster
        .until("a 503 for each message", |c| {
            keys.iter().all(|k| {
                c.attempts(k).iter().any(|o| {
                    matches!(
                        o,
                        DeliveryOutcome::Failed {
                            status: Some(503),
                            ..
                        }
                    )
                })
            })
        })
        .await;
    assert_eq!(
        cluster.ledger.runs().len(),
        1,
        "only the message before the outage ran"
    );

    shared.relay.restore();
    cluster
        .until("all delivered", |c| keys.iter().all(|k| c.delivered(k)))
        .await;
    for key in keys.iter().chain([&before]) {
        let runs = &cluster.ledger.runs()[key];
        assert_eq!((runs.started, runs.succeeded), (1, 1), "{key}: {runs:?}");
    }
}

macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Backend::Redis).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_stores!(
    a_message_failed_on_one_replica_is_handled_once_after_the_retry_lands_on_the_other,
    the_same_message_on_both_replicas_at_once_runs_once,
    a_replica_killed_mid_handler_leaves_a_claim_that_runs_out,
    the_store_gone_mid_run_answers_503_and_every_message_is_handled_once_after,
);

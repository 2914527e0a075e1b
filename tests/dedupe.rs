//! `Once` over `MemorySeenKeys` and over custom stores: at most one run
//! per `Idempotency-Key`, retries after failures, races, time-to-live,
//! capacity, and failing stores.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::error::BoxError;
use attio_webhooks::receive::{
    signature, Claim, ClaimToken, DedupeBy, MemorySeenKeys, Once, Outcome, SeenKeys, Settled,
    Verifier,
};
use attio_webhooks::Secret;
use tokio::sync::oneshot;

/// A handler that counts its runs and succeeds.
async fn count(runs: &AtomicU32) -> Result<u32, &'static str> {
    Ok(runs.fetch_add(1, Ordering::SeqCst) + 1)
}

fn code<T, E>(outcome: &Outcome<T, E>) -> (&'static str, u16) {
    (outcome.code(), outcome.status().as_u16())
}

#[tokio::test]
async fn a_failed_run_lets_the_next_retry_run_and_a_success_ends_it() {
    let once = Once::in_memory();
    let runs = AtomicU32::new(0);
    let failing = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Err::<(), _>("downstream unavailable")
    };
    let first = once.run(Some("k"), failing).await;
    assert!(matches!(first, Outcome::Failed("downstream unavailable")));
    assert_eq!(code(&first), ("failed", 500));
    let second = once.run(Some("k"), failing).await;
    assert_eq!(code(&second), ("failed", 500));
    let third = once.run(Some("k"), || count(&runs)).await;
    assert!(matches!(third, Outcome::Handled(3)));
    for _ in 0..3 {
        let retry = once.run(Some("k"), || count(&runs)).await;
        assert_eq!(code(&retry), ("already_handled", 200));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    // Another key is another message.
    assert!(matches!(
        once.run(Some("other"), || count(&runs)).await,
        Outcome::Handled(4)
    ));
}

#[tokio::test]
async fn a_delivery_racing_one_in_flight_gets_409_and_does_not_run() {
    let once = Once::in_memory();
    let runs = Arc::new(AtomicU32::new(0));
    let (entered_tx, entered_rx) = oneshot::channel();
    let (finish_tx, finish_rx) = oneshot::channel::<Result<(), &'static str>>();
    let first = tokio::spawn({
        let (once, runs) = (once.clone(), runs.clone());
        async move {
            once.run(Some("k"), || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                entered_tx.send(()).unwrap();
                finish_rx.await.unwrap()
            })
            .await
        }
    });
    entered_rx.await.unwrap();
    let racing = once.run(Some("k"), || count(&runs)).await;
    assert_eq!(code(&racing), ("in_progress", 409));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // The first one fails: the racer's retry now runs the handler.
    finish_tx.send(Err("boom")).unwrap();
    assert!(matches!(first.await.unwrap(), Outcome::Failed("boom")));
    let retry = once.run(Some("k"), || count(&runs)).await;
    assert!(matches!(retry, Outcome::Handled(2)));
    let again = once.run(Some("k"), || count(&runs)).await;
    assert_eq!(code(&again), ("already_handled", 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_deliveries_of_one_key_run_the_handler_once() {
    let once = Once::in_memory();
    let runs = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (once, runs) = (once.clone(), runs.clone());
            tokio::spawn(async move {
                let outcome = once
                    .run(Some("same"), || async {
                        tokio::task::yield_now().await;
                        count(&runs).await
                    })
                    .await;
                outcome.code()
            })
        })
        .collect();
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(task.await.unwrap());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(codes.iter().filter(|c| **c == "handled").count(), 1);
    assert!(codes
        .iter()
        .all(|c| ["handled", "in_progress", "already_handled"].contains(c)));
}

#[tokio::test]
async fn without_a_key_the_handler_runs_every_time() {
    let once = Once::in_memory();
    let runs = AtomicU32::new(0);
    for expected in 1..=3 {
        assert!(matches!(
            once.run(None, || count(&runs)).await,
            Outcome::Handled(n) if n == expected
        ));
    }
}

#[tokio::test]
async fn a_handled_key_is_forgotten_after_its_time_to_live() {
    let keys = MemorySeenKeys::new().with_ttl(Duration::from_millis(50));
    let token = claimed(keys.claim("k").await.unwrap());
    assert_eq!(keys.complete("k", &token).await.unwrap(), Settled::Held);
    assert_eq!(keys.claim("k").await.unwrap(), Claim::Done);
    tokio::time::sleep(Duration::from_millis(120)).await;
    claimed(keys.claim("k").await.unwrap());

    // A long time-to-live keeps it.
    let keys = MemorySeenKeys::new().with_ttl(Duration::from_secs(3600));
    let token = claimed(keys.claim("k").await.unwrap());
    keys.complete("k", &token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(keys.claim("k").await.unwrap(), Claim::Done);
}

#[tokio::test]
async fn a_dropped_handler_keeps_its_claim_until_the_lease_runs_out() {
    let once = Once::new(MemorySeenKeys::new().with_lease(Duration::from_millis(50)));
    let runs = AtomicU32::new(0);
    // The sender hangs up mid-handling: the server drops the future.
    let abandoned = once.run(Some("k"), || async {
        runs.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<Result<u32, &str>>().await
    });
    assert!(tokio::time::timeout(Duration::from_millis(10), abandoned)
        .await
        .is_err());
    assert_eq!(
        code(&once.run(Some("k"), || count(&runs)).await),
        ("in_progress", 409)
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(matches!(
        once.run(Some("k"), || count(&runs)).await,
        Outcome::Handled(2)
    ));
}

#[tokio::test]
async fn memory_is_bounded_by_the_capacity_and_the_oldest_key_goes_first() {
    let keys = MemorySeenKeys::new().with_capacity(1000);
    for i in 0..50_000 {
        let key = format!("key-{i}-{}", "long".repeat(i % 50));
        let token = claimed(keys.claim(&key).await.unwrap());
        if i % 3 == 0 {
            keys.release(&key, &token).await.unwrap();
        } else {
            keys.complete(&key, &token).await.unwrap();
        }
        assert!(keys.len() <= 1000);
    }
    // The newest handled key is remembered; the oldest ones were forgotten.
    assert_eq!(
        keys.claim(&format!("key-49999-{}", "long".repeat(49999 % 50)))
            .await
            .unwrap(),
        Claim::Done
    );
    claimed(keys.claim("key-1-long").await.unwrap());

    let once = Once::new(MemorySeenKeys::new().with_capacity(3));
    let runs = AtomicU32::new(0);
    for key in ["a", "b", "c", "d"] {
        once.run(Some(key), || count(&runs)).await;
    }
    // "a" was pushed out by "d": its retry runs again; "d" does not.
    assert!(matches!(
        once.run(Some("a"), || count(&runs)).await,
        Outcome::Handled(5)
    ));
    assert_eq!(
        code(&once.run(Some("d"), || count(&runs)).await).0,
        "already_handled"
    );
}

/// A store whose every call fails, as a shared store does when it is down.
struct Down;

#[async_trait::async_trait]
impl SeenKeys for Down {
    async fn claim(&self, _: &str) -> Result<Claim, BoxError> {
        Err("connection refused".into())
    }
    async fn complete(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
        Err("connection refused".into())
    }
    async fn release(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
        Err("connection refused".into())
    }
}

/// Claims work, recording does not.
struct CannotRecord(MemorySeenKeys);

#[async_trait::async_trait]
impl SeenKeys for CannotRecord {
    async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
        self.0.claim(key).await
    }
    async fn complete(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
        Err("disk full".into())
    }
    async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        self.0.release(key, token).await
    }
}

#[tokio::test]
async fn a_failing_store_answers_503_without_running_the_handler() {
    let once = Once::new(Down);
    let runs = AtomicU32::new(0);
    let outcome = once.run(Some("k"), || count(&runs)).await;
    assert_eq!(code(&outcome), ("unavailable", 503));
    match outcome {
        Outcome::Unavailable(error) => assert_eq!(error.to_string(), "connection refused"),
        other => panic!("{other:?}"),
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    let response = Outcome::<(), ()>::Unavailable("x".into()).to_response();
    assert_eq!(response.status(), 503);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(response.body()).unwrap()["error"],
        "unavailable"
    );
}

#[tokio::test]
async fn a_success_that_cannot_be_recorded_still_answers_200() {
    let once = Once::new(CannotRecord(MemorySeenKeys::new()));
    let runs = AtomicU32::new(0);
    let outcome = once.run(Some("k"), || count(&runs)).await;
    assert!(matches!(outcome, Outcome::Handled(1)));
    assert_eq!(outcome.to_response().status(), 200);
    // Not recorded: the claim is still held, so a racing retry waits (409).
    assert_eq!(
        code(&once.run(Some("k"), || count(&runs)).await),
        ("in_progress", 409)
    );
}

/// The token of a successful claim; panics on any other answer.
#[track_caller]
fn claimed(claim: Claim) -> ClaimToken {
    match claim {
        Claim::Claimed(token) => token,
        other => panic!("expected the claim to succeed, got {other:?}"),
    }
}

/// A `record.updated` delivery, byte for byte; its SHA-256 is from
/// Python's hashlib.
const UPDATED: &[u8] = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b","attribute_id":"41252299-f8c7-4b5e-99c9-4ff8321d2f96"},"actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}]}"#;
const UPDATED_SHA256: &str =
    "sha256:405c7fa2838fa3119c1afbb1d82386fbf90be297a4891bc480b15db83948a514";

/// Runs `UPDATED` through `verifier` and `once` three times: Attio's
/// delivery, its retry (same key), and a replay under a new key.
async fn deliver_and_replay(verifier: &Verifier, once: &Once) -> (u32, Vec<Option<String>>) {
    let secret = Secret::new("whsec");
    verifier.set_secrets(secret.clone());
    let runs = AtomicU32::new(0);
    let mut keys = Vec::new();
    for idempotency_key in ["msg-1", "msg-1", "replayed-under-a-new-key"] {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "attio-signature",
            signature::sign(&secret, UPDATED).parse().unwrap(),
        );
        headers.insert("idempotency-key", idempotency_key.parse().unwrap());
        let verified = verifier.verify(&headers, UPDATED).unwrap();
        keys.push(verified.dedupe_key().map(str::to_owned));
        let outcome = once.run(verified.dedupe_key(), || count(&runs)).await;
        assert_eq!(outcome.status(), 200);
    }
    (runs.load(Ordering::SeqCst), keys)
}

#[tokio::test]
async fn keyed_on_the_signed_body_a_replay_under_a_new_key_does_not_run_again() {
    let by_header = Verifier::new(Secret::new("unused"));
    let (runs, keys) = deliver_and_replay(&by_header, &Once::in_memory()).await;
    assert_eq!(runs, 2, "the default keys on the header: the replay runs");
    assert_eq!(keys[2].as_deref(), Some("replayed-under-a-new-key"));

    let by_body = Verifier::new(Secret::new("unused")).dedupe_by(DedupeBy::SignedBody);
    let (runs, keys) = deliver_and_replay(&by_body, &Once::in_memory()).await;
    assert_eq!(
        runs, 1,
        "keyed on the body: retry and replay are one message"
    );
    assert!(
        keys.iter().all(|k| k.as_deref() == Some(UPDATED_SHA256)),
        "{keys:?}"
    );
}

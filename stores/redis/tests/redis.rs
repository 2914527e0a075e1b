//! `RedisSeenKeys` against a real Redis on loopback: the testkit's
//! conformance suite, and two replicas (two stores, two connections)
//! sharing one server.
//!
//! Needs a Redis at `ATTIO_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6390/`); `scripts/test-servers.sh start` starts
//! one. Without it the
//! tests print that they skipped, except under `CI=true`, where they fail.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::receive::{Claim, Once, Outcome, SeenKeys};
use attio_webhooks_testkit::seen_keys_conformance::{check, StoreTimes};

mod common;

use common::store;

#[tokio::test]
async fn the_redis_store_keeps_the_protocol() {
    let Some(base) = store().await else { return };
    let result = check(|times: StoreTimes| {
        let store = base.clone().with_lease(times.lease).with_ttl(times.ttl);
        async move { store }
    })
    .await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn two_replicas_sharing_redis_handle_a_message_once() {
    let Some(first) = store().await else { return };
    let Some(second) = store().await else { return };
    let key = format!("replicas-{}", std::process::id());
    // Both replicas claim at once, over two connections: one wins.
    let (a, b) = tokio::join!(first.claim(&key), second.claim(&key));
    let claims = [a.unwrap(), b.unwrap()];
    let winners = claims
        .iter()
        .filter(|c| matches!(c, Claim::Claimed(_)))
        .count();
    assert_eq!(winners, 1, "{claims:?}");
    assert!(claims.contains(&Claim::InProgress));

    // Through Once: replica A's handler fails, Attio's retry lands on B and
    // runs there; a later retry on A is already handled. Two runs in all,
    // one success.
    let runs = Arc::new(AtomicU32::new(0));
    let once_a = Once::new(first.with_lease(Duration::from_secs(5)));
    let once_b = Once::new(second.with_lease(Duration::from_secs(5)));
    let message = format!("message-{}", std::process::id());
    let fail = once_a
        .run(Some(&message), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>("database down")
        })
        .await;
    assert!(matches!(fail, Outcome::Failed("database down")));
    let retry = once_b
        .run(Some(&message), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>("handled on B")
        })
        .await;
    assert!(matches!(retry, Outcome::Handled("handled on B")));
    let late = once_a
        .run(Some(&message), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>("again")
        })
        .await;
    assert!(matches!(late, Outcome::AlreadyHandled), "{late:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

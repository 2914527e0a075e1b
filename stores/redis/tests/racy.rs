//! The conformance suite catches a non-atomic claim on a real Redis every
//! run (issue 32 saw a GET-then-SET claim pass `one_winner` in 4 and 11 of
//! 20 runs when the claims only interleaved on two workers): 20 runs of
//! `one_winner` against a store that reads the key, then writes it (the
//! network round trip between is the gap) must fail 20 times, and against
//! `RedisSeenKeys` pass 20 times. The suite's own worker threads make
//! the claims overlap whatever runtime the test runs on (here one thread).
//!
//! Needs a Redis at `ATTIO_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6390/`); `scripts/test-servers.sh start` starts
//! one. Without it the test says it skipped, except under `CI=true`, where
//! it fails.

use std::time::Duration;

use attio_webhooks::error::BoxError;
use attio_webhooks::receive::{Claim, ClaimToken, SeenKeys, Settled};
use attio_webhooks_testkit::seen_keys_conformance::{check_properties, StoreTimes};
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

mod common;

const RUNS: usize = 20;

/// A claim as a hand-rolled Redis store might write it: `GET`, then `SET`
/// if nothing was there. Only `claim` matters here.
#[derive(Clone)]
struct GetThenSet {
    connection: ConnectionManager,
    lease: Duration,
}

#[async_trait::async_trait]
impl SeenKeys for GetThenSet {
    async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
        let mut connection = self.connection.clone();
        let key = format!("attio-webhooks-racy:{key}");
        let found: Option<String> = connection.get(&key).await?;
        Ok(match found.as_deref() {
            Some("done") => Claim::Done,
            Some(_) => Claim::InProgress,
            None => {
                let token = ClaimToken::random();
                let lease = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
                let () = connection.pset_ex(&key, token.as_str(), lease).await?;
                Claim::Claimed(token)
            }
        })
    }

    async fn complete(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
        Ok(Settled::Lost)
    }

    async fn release(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
        Ok(Settled::Lost)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_get_then_set_claim_fails_one_winner_every_run_and_the_store_never() {
    let Some(store) = common::store().await else {
        return;
    };
    let url = common::url();
    let connection = ConnectionManager::new(redis::Client::open(url.as_str()).unwrap())
        .await
        .unwrap();
    let mut racy_failed = 0;
    let mut store_failed = Vec::new();
    for _ in 0..RUNS {
        let racy = GetThenSet {
            connection: connection.clone(),
            lease: Duration::ZERO,
        };
        let found = check_properties(&["one_winner"], StoreTimes::default(), |times| {
            let racy = GetThenSet {
                lease: times.lease,
                ..racy.clone()
            };
            async move { racy }
        })
        .await;
        if found.is_err() {
            racy_failed += 1;
        }
        let real = check_properties(&["one_winner"], StoreTimes::default(), |times| {
            let store = store.clone().with_lease(times.lease).with_ttl(times.ttl);
            async move { store }
        })
        .await;
        if let Err(violations) = real {
            store_failed.push(violations);
        }
    }
    assert_eq!(
        racy_failed, RUNS,
        "runs of {RUNS} that caught the racy claim"
    );
    assert!(
        store_failed.is_empty(),
        "the real store failed: {store_failed:?}"
    );
}

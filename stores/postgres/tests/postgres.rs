//! `PostgresSeenKeys` against a real PostgreSQL on loopback: the
//! testkit's conformance suite, two replicas (two pools) sharing one
//! table, the exactly-once recipe in the handler's own transaction, the
//! sweeper, and a server that is not there.
//!
//! Needs a PostgreSQL at `ATTIO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5440/postgres`); `scripts/test-servers.sh
//! start` starts one. Without it the tests print that they skipped, except
//! under `CI=true`, where they fail.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::receive::{Claim, Once, Outcome, SeenKeys};
use attio_webhooks_postgres::{PostgresSeenKeys, Recorded};
use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;
use attio_webhooks_testkit::seen_keys_conformance::{check, StoreTimes};

use common::url;

#[allow(dead_code)]
mod common;

/// A store on the test database with a table of its own (`name` and this
/// process), created, or `None` (after saying so) when no PostgreSQL
/// answers and this is not CI.
async fn store(name: &str) -> Option<PostgresSeenKeys> {
    let url = url();
    let table = format!("seen_{name}_{}", std::process::id());
    let store = PostgresSeenKeys::connect(&url)
        .unwrap()
        .with_table(&table)
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), store.migrate()).await {
        Ok(Ok(())) => Some(store),
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 5 s".to_owned(),
            };
            skip_without_server(
                &format!("PostgreSQL at {url}"),
                why,
                "scripts/test-servers.sh start",
            );
            None
        }
    }
}

/// A plain connection for the test's own statements (the oracle).
async fn sql() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn the_postgres_store_keeps_the_protocol() {
    let Some(base) = store("conformance").await else {
        return;
    };
    let result = check(|times: StoreTimes| {
        let store = base.clone().with_lease(times.lease).with_ttl(times.ttl);
        async move { store }
    })
    .await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn two_replicas_sharing_a_table_handle_a_message_once() {
    let Some(first) = store("replicas").await else {
        return;
    };
    // A second replica: its own pool, the same table.
    let second = PostgresSeenKeys::connect(&url())
        .unwrap()
        .with_table(&format!("seen_replicas_{}", std::process::id()))
        .unwrap();
    let (a, b) = tokio::join!(first.claim("both"), second.claim("both"));
    let claims = [a.unwrap(), b.unwrap()];
    let winners = claims
        .iter()
        .filter(|c| matches!(c, Claim::Claimed(_)))
        .count();
    assert_eq!(winners, 1, "{claims:?}");
    assert!(claims.contains(&Claim::InProgress));

    let runs = AtomicU32::new(0);
    let once_a = Once::new(first);
    let once_b = Once::new(second);
    let fail = once_a
        .run(Some("message"), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>("database down")
        })
        .await;
    assert!(matches!(fail, Outcome::Failed("database down")));
    let retry = once_b
        .run(Some("message"), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>("handled on B")
        })
        .await;
    assert!(matches!(retry, Outcome::Handled("handled on B")));
    let late = once_a
        .run(Some("message"), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>("again")
        })
        .await;
    assert!(matches!(late, Outcome::AlreadyHandled), "{late:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// The recipe as a handler would write it: the effect (a row in the
/// user's own table) and the key in one transaction. `crash` ends the
/// connection's server process after the effect is written, before the
/// commit, as a replica dying there would.
async fn handle(store: &PostgresSeenKeys, key: &str, effects: &str, crash: bool) -> Recorded {
    let mut connection = store.pool().get().await.unwrap();
    let transaction = connection.transaction().await.unwrap();
    let recorded = store.record_in(&transaction, key).await.unwrap();
    if recorded == Recorded::First {
        transaction
            .execute(&format!("INSERT INTO {effects} (key) VALUES ($1)"), &[&key])
            .await
            .unwrap();
        if crash {
            let pid: i32 = transaction
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get(0);
            sql()
                .await
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .unwrap();
            assert!(transaction.commit().await.is_err(), "the commit must fail");
            return recorded;
        }
        transaction.commit().await.unwrap();
    }
    recorded
}

async fn effects_of(effects: &str, key: &str) -> i64 {
    sql()
        .await
        .query_one(
            &format!("SELECT count(*) FROM {effects} WHERE key = $1"),
            &[&key],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_crash_between_the_effect_and_the_commit_cannot_run_the_effect_twice() {
    let Some(store) = store("exactly_once").await else {
        return;
    };
    let effects = format!("effects_crash_{}", std::process::id());
    sql()
        .await
        .batch_execute(&format!(
            "CREATE TABLE {effects} (id serial PRIMARY KEY, key text NOT NULL)"
        ))
        .await
        .unwrap();

    // The first attempt writes its effect and dies before committing:
    // neither the effect nor the key remains.
    assert_eq!(handle(&store, "k1", &effects, true).await, Recorded::First);
    assert_eq!(effects_of(&effects, "k1").await, 0);
    // Attio's retry runs it, once; later retries find it handled.
    assert_eq!(handle(&store, "k1", &effects, false).await, Recorded::First);
    assert_eq!(
        handle(&store, "k1", &effects, false).await,
        Recorded::AlreadyHandled
    );
    assert_eq!(
        handle(&store, "k1", &effects, false).await,
        Recorded::AlreadyHandled
    );
    assert_eq!(effects_of(&effects, "k1").await, 1);
    // The key recorded in the transaction is done for `Once` too.
    assert_eq!(store.claim("k1").await.unwrap(), Claim::Done);
}

#[tokio::test]
async fn concurrent_deliveries_in_transactions_make_one_effect() {
    let Some(store) = store("concurrent").await else {
        return;
    };
    let effects = format!("effects_concurrent_{}", std::process::id());
    sql()
        .await
        .batch_execute(&format!(
            "CREATE TABLE {effects} (id serial PRIMARY KEY, key text NOT NULL)"
        ))
        .await
        .unwrap();
    let store = Arc::new(store);
    for round in 0..5 {
        let key = format!("k{round}");
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (store, key, effects) = (store.clone(), key.clone(), effects.clone());
                tokio::spawn(async move { handle(&store, &key, &effects, false).await })
            })
            .collect();
        let mut firsts = 0;
        for task in tasks {
            match task.await.unwrap() {
                Recorded::First => firsts += 1,
                Recorded::AlreadyHandled => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(firsts, 1, "round {round}");
        assert_eq!(effects_of(&effects, &key).await, 1, "round {round}");
    }
}

#[tokio::test]
async fn the_sweeper_deletes_what_ran_out_in_bounded_batches_and_nothing_else() {
    let Some(store) = store("sweep").await else {
        return;
    };
    let table = format!("seen_sweep_{}", std::process::id());
    let short = store
        .clone()
        .with_lease(Duration::from_millis(1))
        .with_ttl(Duration::from_millis(1));
    for i in 0..5 {
        assert!(matches!(
            short.claim(&format!("gone-{i}")).await.unwrap(),
            Claim::Claimed(_)
        ));
    }
    let Claim::Claimed(token) = store.claim("kept-claim").await.unwrap() else {
        panic!()
    };
    let Claim::Claimed(done) = store.claim("kept-done").await.unwrap() else {
        panic!()
    };
    store.complete("kept-done", &done).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;

    let rows = || async {
        sql()
            .await
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    assert_eq!(rows().await, 7);
    assert_eq!(store.sweep_expired(2).await.unwrap(), 2);
    assert_eq!(store.sweep_expired(2).await.unwrap(), 2);
    assert_eq!(store.sweep_expired(2).await.unwrap(), 1);
    assert_eq!(store.sweep_expired(2).await.unwrap(), 0);
    assert_eq!(rows().await, 2);
    assert_eq!(store.claim("kept-claim").await.unwrap(), Claim::InProgress);
    assert_eq!(store.claim("kept-done").await.unwrap(), Claim::Done);
    store.release("kept-claim", &token).await.unwrap();

    // The background sweeper does the same on its own.
    for i in 0..3 {
        short.claim(&format!("later-{i}")).await.unwrap();
    }
    let sweeper = store.spawn_sweeper(Duration::from_millis(10), 1);
    let mut left = rows().await;
    for _ in 0..200 {
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        left = rows().await;
    }
    sweeper.abort();
    assert_eq!(left, 1, "only kept-done remains");
}

#[tokio::test]
async fn replicas_starting_together_all_migrate() {
    if store("probe").await.is_none() {
        return;
    }
    let table = format!("seen_migrate_{}", std::process::id());
    let stores: Vec<_> = (0..4)
        .map(|_| {
            PostgresSeenKeys::connect(&url())
                .unwrap()
                .with_table(&table)
                .unwrap()
        })
        .collect();
    let results = futures::future::join_all(stores.iter().map(|s| s.migrate())).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

#[tokio::test]
async fn a_store_that_is_not_there_fails_closed() {
    // A port nothing listens on: the handler must not run, and Once
    // answers 503 so Attio retries.
    let store = PostgresSeenKeys::connect("postgres://postgres@127.0.0.1:1/postgres").unwrap();
    let runs = AtomicU32::new(0);
    let outcome = Once::new(store)
        .run(Some("k"), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(())
        })
        .await;
    assert!(matches!(outcome, Outcome::Unavailable(_)), "{outcome:?}");
    assert_eq!(outcome.status(), 503);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

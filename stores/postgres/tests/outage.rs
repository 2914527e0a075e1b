//! A stalled PostgreSQL costs a delivery a bounded wait, then a 503: the
//! stores reach the test PostgreSQL through a proxy on loopback that the
//! test silences (it accepts and reads, and never answers: PostgreSQL is
//! stalled, or the network drops packets), then heals for new connections
//! only (the old ones stay black-holed, as a dropped flow does).
//!
//! Time is measured here because the bound is the point: without it a
//! stalled server held every delivery until Attio gave up (no answer in
//! 10 s, the test's guard), and a connection whose answer never came was
//! handed to the next call.
//!
//! Needs a PostgreSQL at `ATTIO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5440/postgres`); `scripts/test-servers.sh
//! start` starts one. Without it the tests print that they skipped, except
//! under `CI=true`, where they fail.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use attio_webhooks::receive::{Accepted, Inbox, Once, Outcome};
use attio_webhooks_postgres::{PostgresInbox, PostgresSeenKeys};
use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;
use tokio::net::TcpStream;

mod common;

#[allow(dead_code)]
#[path = "../../common/fault_proxy.rs"]
mod fault_proxy;

use fault_proxy::FaultProxy;

/// How long the test waits for any one answer: a call that takes longer
/// is one the store did not bound.
const GUARD: Duration = Duration::from_secs(10);

/// A proxy to the test PostgreSQL and a URL through it, or `None` (after
/// saying so) when no PostgreSQL answers and this is not CI.
async fn proxy() -> Option<(FaultProxy, String)> {
    let url = common::url();
    let config: tokio_postgres::Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(host) => host.clone(),
        other => panic!("a TCP host, not {other:?}"),
    };
    let upstream = format!("{host}:{}", config.get_ports().first().unwrap_or(&5432));
    let reachable =
        tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&upstream)).await;
    if !matches!(reachable, Ok(Ok(_))) {
        skip_without_server(
            &format!("PostgreSQL at {url}"),
            "no connection within 2 s",
            "scripts/test-servers.sh start",
        );
        return None;
    }
    let proxy = FaultProxy::start(&upstream).await;
    let mut through = format!("postgres://{}", config.get_user().unwrap_or("postgres"));
    if let Some(password) = config.get_password() {
        through += &format!(":{}", String::from_utf8_lossy(password));
    }
    through += &format!(
        "@{}/{}",
        proxy.addr(),
        config.get_dbname().unwrap_or("postgres")
    );
    Some((proxy, through))
}

/// Runs a delivery through `once` and returns what it answered and how
/// long it took, or fails the test past [`GUARD`].
async fn deliver(once: &Once, key: &str, runs: &AtomicU32) -> (Outcome<(), ()>, Duration) {
    let started = Instant::now();
    let outcome = tokio::time::timeout(
        GUARD,
        once.run(Some(key), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(())
        }),
    )
    .await
    .unwrap_or_else(|_| panic!("{key}: no answer within {GUARD:?}"));
    (outcome, started.elapsed())
}

/// Accepts a one-event delivery into `inbox`: what it answered and how
/// long it took, or fails the test past [`GUARD`].
async fn accept(inbox: &PostgresInbox, key: &str) -> (Accepted, Duration) {
    let body = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"record.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"people","record_id":"r"},"actor":{"type":"system","id":null}}]}"#;
    let verified = common::verified(body, key);
    let started = Instant::now();
    let accepted = tokio::time::timeout(GUARD, inbox.accept(&verified))
        .await
        .unwrap_or_else(|_| panic!("{key}: no answer within {GUARD:?}"));
    (accepted, started.elapsed())
}

fn table(name: &str) -> String {
    format!("outage_{name}_{}", std::process::id())
}

/// Drops the test's tables, straight to the server (not through the proxy).
async fn drop_tables(names: &[&str]) {
    for name in names {
        common::sql()
            .await
            .unwrap()
            .batch_execute(&format!("DROP TABLE {}", table(name)))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn with_postgres_stalled_a_delivery_gets_its_503_within_the_default_bound_and_recovers() {
    let Some((proxy, url)) = proxy().await else {
        return;
    };
    let keys = PostgresSeenKeys::connect(&url)
        .unwrap()
        .with_table(&table("keys"))
        .unwrap();
    keys.migrate().await.unwrap();
    let inbox = PostgresInbox::connect(&url)
        .unwrap()
        .with_table(&table("inbox"))
        .unwrap();
    inbox.migrate().await.unwrap();
    let once = Once::new(keys.clone());
    let runs = AtomicU32::new(0);
    let (up, _) = deliver(&once, "before", &runs).await;
    assert!(matches!(up, Outcome::Handled(())), "{up:?}");
    assert_eq!(accept(&inbox, "before").await.0.status(), 200);

    proxy.silence();
    for attempt in 0..2 {
        let (down, took) = deliver(&once, &format!("during-{attempt}"), &runs).await;
        eprintln!("Once, attempt {attempt}: {} after {took:?}", down.status());
        assert!(matches!(down, Outcome::Unavailable(_)), "{down:?}");
        // The default bound is 2 s; generous above it for a loaded machine.
        assert!(took < Duration::from_millis(4_500), "the 503 took {took:?}");
        let (accepted, took) = accept(&inbox, &format!("during-{attempt}")).await;
        eprintln!(
            "inbox, attempt {attempt}: {} after {took:?}",
            accepted.status()
        );
        assert!(matches!(accepted, Accepted::Unavailable(_)), "{accepted:?}");
        assert!(took < Duration::from_millis(4_500), "the 503 took {took:?}");
    }

    // The network heals for new connections; the old ones stay dropped.
    // The stores must not hand a call to a connection whose answer never
    // came.
    proxy.heal_new();
    let (after, took) = deliver(&once, "after", &runs).await;
    eprintln!("Once, healed: {} after {took:?}", after.status());
    assert!(matches!(after, Outcome::Handled(())), "{after:?}");
    let (accepted, took) = accept(&inbox, "after").await;
    eprintln!("inbox, healed: {} after {took:?}", accepted.status());
    assert_eq!(accepted.status(), 200, "{accepted:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "no handler ran unguarded");
    drop(proxy);

    drop_tables(&["keys", "inbox"]).await;
}

#[tokio::test]
async fn with_postgres_stalled_each_call_ends_at_the_timeout_set() {
    let Some((proxy, url)) = proxy().await else {
        return;
    };
    // Longer than the default (2 s): an answer sooner than 2.5 s would
    // show the setting ignored; a timeout never fires early, however
    // loaded the machine.
    let set = Duration::from_millis(2_500);
    let keys = PostgresSeenKeys::connect(&url)
        .unwrap()
        .with_table(&table("keys_set"))
        .unwrap()
        .with_call_timeout(set);
    let inbox = PostgresInbox::connect(&url)
        .unwrap()
        .with_table(&table("inbox_set"))
        .unwrap()
        .with_call_timeout(set);
    // Connections made before the stall, and the tables.
    keys.migrate().await.unwrap();
    inbox.migrate().await.unwrap();
    let once = Once::new(keys);
    let runs = AtomicU32::new(0);

    proxy.silence();
    let (down, took) = deliver(&once, "during", &runs).await;
    eprintln!("Once: {} after {took:?}", down.status());
    assert!(matches!(down, Outcome::Unavailable(_)), "{down:?}");
    assert!(
        took >= set && took < Duration::from_millis(7_000),
        "{took:?}"
    );
    let (accepted, took) = accept(&inbox, "during").await;
    eprintln!("inbox accept: {} after {took:?}", accepted.status());
    assert!(matches!(accepted, Accepted::Unavailable(_)), "{accepted:?}");
    assert!(
        took >= set && took < Duration::from_millis(7_000),
        "{took:?}"
    );
    // A worker's claim fails the same way, and says why.
    let started = Instant::now();
    let claimed = tokio::time::timeout(GUARD, inbox.claim())
        .await
        .expect("the claim was not bounded");
    let took = started.elapsed();
    eprintln!("worker claim: {claimed:?} after {took:?}");
    assert!(
        matches!(claimed, Err(attio_webhooks_postgres::Error::TimedOut(t)) if t == set),
        "{claimed:?}"
    );
    assert!(
        took >= set && took < Duration::from_millis(7_000),
        "{took:?}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    drop(proxy);

    drop_tables(&["keys_set", "inbox_set"]).await;
}

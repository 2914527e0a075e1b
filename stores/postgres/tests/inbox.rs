//! `PostgresInbox` against a real PostgreSQL on loopback: accepting
//! (exact bytes, duplicates, store down), working (order per key,
//! parallel keys, leases running out and renewed, retries, dead letters,
//! strict order, effects once with `record_in`), operating and sweeping.
//! Each test has a table of its own; the oracle is the test's own SQL
//! and hand-written bodies, not the inbox's code.
//!
//! Needs a PostgreSQL at `ATTIO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5440/postgres`); `scripts/test-servers.sh
//! start` starts one. Without it the tests print that they skipped, except
//! under `CI=true`, where they fail.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attio_webhooks::receive::{Accepted, Inbox, Settled, Stored};
use attio_webhooks_postgres::{InboxItem, PostgresInbox, Worked};
use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;
use common::{sql, url};

mod common;

const WORKSPACE: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";
const WEBHOOK: &str = "23e42eaf-323a-41da-b5bb-fd67eebda553";

fn table(name: &str) -> String {
    format!("inbox_{name}_{}", std::process::id())
}

/// An inbox on a table of its own (dropped first, then migrated), quick
/// to retry and poll, or `None` (after saying so) when no PostgreSQL
/// answers and this is not CI.
async fn inbox(name: &str) -> Option<PostgresInbox> {
    let url = url();
    let inbox = PostgresInbox::connect(&url)
        .unwrap()
        .with_table(&table(name))
        .unwrap()
        .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
        .with_poll_interval(Duration::from_millis(5));
    let ready = async {
        sql()
            .await?
            .batch_execute(&format!("DROP TABLE IF EXISTS {}", table(name)))
            .await
            .map_err(|e| e.to_string())?;
        inbox.migrate().await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(Duration::from_secs(5), ready).await {
        Ok(Ok(())) => Some(inbox),
        failed => {
            let why = match failed {
                Ok(Err(e)) => e,
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

/// A `record.updated` of `record` with a `seq` field, as Attio writes an
/// event (compact).
fn event(record: &str, seq: u32) -> String {
    format!(
        r#"{{"event_type":"record.updated","id":{{"workspace_id":"{WORKSPACE}","object_id":"people","record_id":"{record}","attribute_id":"a"}},"seq":{seq},"actor":{{"type":"workspace-member","id":"m"}}}}"#
    )
}

/// `events` as one delivery body.
fn body(events: &[String]) -> String {
    format!(
        r#"{{"webhook_id":"{WEBHOOK}","events":[{}]}}"#,
        events.join(",")
    )
}

/// Verifies `body` as signed by Attio with `key` and accepts it.
async fn accept(inbox: &PostgresInbox, body: &str, key: &str) -> Accepted {
    inbox.accept(&common::verified(body, key)).await
}

fn stored(accepted: Accepted) -> Stored {
    match accepted {
        Accepted::Stored(stored) => stored,
        other => panic!("not stored: {other:?}"),
    }
}

/// The `seq` of an item's event.
fn seq(item: &InboxItem) -> u64 {
    item.event().unwrap().fields["seq"].as_u64().unwrap()
}

async fn count(name: &str, state: &str) -> i64 {
    sql()
        .await
        .unwrap()
        .query_one(
            &format!("SELECT count(*) FROM {} WHERE state = $1", table(name)),
            &[&state],
        )
        .await
        .unwrap()
        .get(0)
}

/// Waits (up to 20 s) until `done` holds.
async fn until<F: std::future::Future<Output = bool>>(what: &str, done: impl Fn() -> F) {
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: not within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn each_event_is_stored_with_its_exact_bytes_and_a_redelivery_once() {
    let Some(inbox) = inbox("accept").await else {
        return;
    };
    // Spacing and a number spelled as no serializer would write it: the
    // stored bytes must be these, not a re-serialization.
    let first = format!(
        r#"{{ "event_type" : "record.updated", "id":{{"workspace_id":"{WORKSPACE}","object_id":"people","record_id":"r1"}}, "n": 1.50e1, "actor":{{"type":"system","id":null}} }}"#
    );
    let second = format!(
        r#"{{"event_type":"workspace-member.created","id":{{"workspace_id":"{WORKSPACE}","workspace_member_id":"w"}},"actor":{{"type":"system","id":null}}}}"#
    );
    let delivery =
        format!("{{\"webhook_id\":\"{WEBHOOK}\",\n \"events\": [ {first} ,\n{second}]}}");
    assert_eq!(
        stored(accept(&inbox, &delivery, "key-1").await),
        Stored::new(2, 0)
    );
    // Attio's retry of the message, and the same message on another
    // replica: nothing new.
    assert_eq!(
        stored(accept(&inbox, &delivery, "key-1").await),
        Stored::new(0, 2)
    );
    let rows = sql()
        .await
        .unwrap()
        .query(
            &format!(
                "SELECT body, dedupe_key, ordering_key, event_type, state FROM {} ORDER BY id",
                table("accept")
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, Vec<u8>>(0), first.as_bytes());
    assert_eq!(rows[1].get::<_, Vec<u8>>(0), second.as_bytes());
    assert_eq!(rows[0].get::<_, &str>(1), "key-1#0");
    assert_eq!(rows[0].get::<_, &str>(2), format!("{WORKSPACE}/record/r1"));
    // No record, entry, list or note: a key of its own.
    assert_eq!(rows[1].get::<_, &str>(2), "event/key-1#1");
    assert_eq!(rows[1].get::<_, &str>(3), "workspace-member.created");
    assert_eq!(rows[0].get::<_, &str>(4), "ready");
}

#[tokio::test]
async fn a_store_that_is_not_there_answers_503_never_200() {
    let inbox = PostgresInbox::connect("postgres://postgres@127.0.0.1:1/postgres").unwrap();
    let accepted = accept(&inbox, &body(&[event("r", 1)]), "k").await;
    assert!(matches!(accepted, Accepted::Unavailable(_)), "{accepted:?}");
    assert_eq!(accepted.to_response().status(), 503);
}

/// Two records' events interleaved over several deliveries, four
/// workers: each record's events run one at a time in `seq` order, and
/// the two records run at the same time.
#[tokio::test]
async fn one_key_runs_one_at_a_time_in_order_and_different_keys_in_parallel() {
    let Some(inbox) = inbox("order").await else {
        return;
    };
    for batch in 0..4u32 {
        for record in ["a", "b", "c"] {
            let events: Vec<String> = (0..3).map(|i| event(record, batch * 3 + i)).collect();
            stored(accept(&inbox, &body(&events), &format!("{record}-{batch}")).await);
        }
    }
    #[derive(Default)]
    struct Seen {
        running: HashMap<String, u32>,
        most_at_once: usize,
        order: HashMap<String, Vec<u64>>,
        overlap_within_a_key: bool,
    }
    let seen = Arc::new(Mutex::new(Seen::default()));
    let handler = {
        let seen = seen.clone();
        move |item: InboxItem| {
            let seen = seen.clone();
            async move {
                {
                    let mut s = seen.lock().unwrap();
                    let running = s.running.entry(item.ordering_key.clone()).or_default();
                    *running += 1;
                    if *running > 1 {
                        s.overlap_within_a_key = true;
                    }
                    let now = s.running.values().filter(|n| **n > 0).count();
                    s.most_at_once = s.most_at_once.max(now);
                    s.order
                        .entry(item.ordering_key.clone())
                        .or_default()
                        .push(seq(&item));
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
                *seen
                    .lock()
                    .unwrap()
                    .running
                    .get_mut(&item.ordering_key)
                    .unwrap() -= 1;
                Ok::<(), String>(())
            }
        }
    };
    let workers = tokio::spawn({
        let inbox = inbox.clone();
        async move { inbox.run(handler, 4).await }
    });
    until("all 36 done", || async {
        count("order", "done").await == 36
    })
    .await;
    workers.abort();
    let seen = seen.lock().unwrap();
    assert!(
        !seen.overlap_within_a_key,
        "two events of one record ran at once"
    );
    assert!(seen.most_at_once >= 2, "records never ran in parallel");
    assert_eq!(seen.order.len(), 3);
    for (key, order) in &seen.order {
        assert_eq!(*order, (0..12).collect::<Vec<u64>>(), "{key}");
    }
}

#[tokio::test]
async fn a_failing_event_is_retried_then_dead_and_no_longer_holds_its_record_back() {
    let Some(inbox) = inbox("dead").await else {
        return;
    };
    let inbox = inbox.with_max_attempts(3);
    stored(accept(&inbox, &body(&[event("r", 0), event("r", 1)]), "k").await);
    let attempts = Mutex::new(Vec::new());
    let poison = |item: InboxItem| {
        let s = seq(&item);
        attempts.lock().unwrap().push((s, item.attempt));
        async move {
            if s == 0 {
                Err(format!("poison {s}"))
            } else {
                Ok(())
            }
        }
    };
    let mut outcomes = Vec::new();
    let start = Instant::now();
    while outcomes.len() < 4 && start.elapsed() < Duration::from_secs(10) {
        if let Some(worked) = inbox.work_once(&poison).await.unwrap() {
            outcomes.push(worked);
        }
    }
    assert_eq!(
        outcomes,
        [Worked::Retry, Worked::Retry, Worked::Dead, Worked::Done]
    );
    assert_eq!(
        *attempts.lock().unwrap(),
        [(0, 1), (0, 2), (0, 3), (1, 1)],
        "seq 1 waited for seq 0 until it was dead"
    );
    let dead = inbox.list(true, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("poison 0"));
    assert_eq!((dead[0].state.as_str(), dead[0].attempts), ("dead", 3));

    // Replayed once the handler is fixed: it runs once more, and is done.
    assert_eq!(inbox.replay_dead().await.unwrap(), 1);
    let fixed = |item: InboxItem| {
        attempts.lock().unwrap().push((seq(&item), item.attempt));
        async { Ok::<(), String>(()) }
    };
    assert_eq!(inbox.work_once(&fixed).await.unwrap(), Some(Worked::Done));
    assert_eq!(inbox.work_once(&fixed).await.unwrap(), None);
    assert_eq!(attempts.lock().unwrap().last(), Some(&(0, 1)));
    assert_eq!(count("dead", "done").await, 2);
}

#[tokio::test]
async fn in_strict_order_a_dead_letter_holds_its_record_back_until_replayed() {
    let Some(inbox) = inbox("strict").await else {
        return;
    };
    let inbox = inbox.with_max_attempts(1).strict_order(true);
    stored(accept(&inbox, &body(&[event("r", 0), event("r", 1)]), "k").await);
    stored(accept(&inbox, &body(&[event("other", 0)]), "k2").await);
    let fail_seq0 = |item: InboxItem| {
        let s = seq(&item);
        let record = item.ordering_key.clone();
        async move {
            if s == 0 && record.ends_with("/r") {
                Err("down")
            } else {
                Ok(())
            }
        }
    };
    assert_eq!(
        inbox.work_once(&fail_seq0).await.unwrap(),
        Some(Worked::Dead)
    );
    // The other record still runs; r's seq 1 does not.
    assert_eq!(
        inbox.work_once(&fail_seq0).await.unwrap(),
        Some(Worked::Done)
    );
    assert_eq!(inbox.work_once(&fail_seq0).await.unwrap(), None);
    assert_eq!(count("strict", "ready").await, 1);

    let dead = inbox.list(true, 10).await.unwrap();
    assert!(inbox.replay(dead[0].id).await.unwrap());
    let ran = Mutex::new(Vec::new());
    let ok = |item: InboxItem| {
        ran.lock().unwrap().push(seq(&item));
        async { Ok::<(), String>(()) }
    };
    while inbox.work_once(&ok).await.unwrap().is_some() {}
    assert_eq!(*ran.lock().unwrap(), [0, 1]);
}

#[tokio::test]
async fn a_claim_that_runs_out_runs_again_and_the_late_worker_records_nothing() {
    let Some(inbox) = inbox("lease").await else {
        return;
    };
    let inbox = inbox.with_lease(Duration::from_millis(150));
    stored(accept(&inbox, &body(&[event("r", 0), event("r", 1)]), "k").await);
    // A worker claims seq 0 and dies (never settles).
    let dead_worker = inbox.claim().await.unwrap().unwrap();
    assert_eq!((seq(&dead_worker), dead_worker.attempt), (0, 1));
    // Meanwhile nothing of the record may run: not seq 0, not seq 1; and
    // an operator cannot replay or drop what a worker holds.
    assert!(inbox.claim().await.unwrap().is_none());
    assert!(!inbox.replay(dead_worker.id).await.unwrap());
    assert!(!inbox.drop_event(dead_worker.id).await.unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = inbox.claim().await.unwrap().unwrap();
    assert_eq!((again.id, again.attempt), (dead_worker.id, 2));

    // Effects once: the late worker's transaction is refused and rolled
    // back; the new holder's commits.
    let effects = format!("effects_lease_{}", std::process::id());
    let oracle = sql().await.unwrap();
    oracle
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {effects}; CREATE TABLE {effects} (event bigint NOT NULL)"
        ))
        .await
        .unwrap();
    for (item, want) in [(&dead_worker, Settled::Lost), (&again, Settled::Held)] {
        let mut connection = inbox.pool().get().await.unwrap();
        let transaction = connection.transaction().await.unwrap();
        transaction
            .execute(&format!("INSERT INTO {effects} VALUES ($1)"), &[&item.id])
            .await
            .unwrap();
        let settled = inbox.record_in(&transaction, item).await.unwrap();
        assert_eq!(settled, want);
        if settled == Settled::Held {
            transaction.commit().await.unwrap();
        }
    }
    let effects_made: i64 = oracle
        .query_one(&format!("SELECT count(*) FROM {effects}"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(effects_made, 1);
    assert_eq!(count("lease", "done").await, 1);
    // Then seq 1 runs.
    let next = inbox.claim().await.unwrap().unwrap();
    assert_eq!(seq(&next), 1);
}

/// A handler three times longer than the lease keeps its claim (the
/// worker renews it): no other worker runs the event meanwhile.
#[tokio::test]
async fn a_handler_longer_than_the_lease_keeps_its_claim() {
    let Some(inbox) = inbox("heartbeat").await else {
        return;
    };
    let inbox = inbox.with_lease(Duration::from_millis(150));
    stored(accept(&inbox, &body(&[event("r", 0)]), "k").await);
    let started = Arc::new(tokio::sync::Notify::new());
    let slow = {
        let started = started.clone();
        move |_item: InboxItem| {
            started.notify_one();
            async {
                tokio::time::sleep(Duration::from_millis(450)).await;
                Ok::<(), String>(())
            }
        }
    };
    let worker = {
        let inbox = inbox.clone();
        tokio::spawn(async move { inbox.work_once(&slow).await.unwrap() })
    };
    started.notified().await;
    let mut stolen = 0;
    while !worker.is_finished() {
        if inbox.claim().await.unwrap().is_some() {
            stolen += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(worker.await.unwrap(), Some(Worked::Done));
    assert_eq!(stolen, 0, "another worker claimed the event while it ran");
    assert_eq!(count("heartbeat", "done").await, 1);
}

/// `drain` marks each event done and claims the next in one statement;
/// the next may be the same record's next event (the statement's own
/// snapshot still shows the first one open), so one call takes a
/// record's five events in order.
#[tokio::test]
async fn drain_takes_a_records_events_in_order_in_one_call() {
    let Some(inbox) = inbox("drain").await else {
        return;
    };
    let events: Vec<String> = (0..5).map(|i| event("r", i)).collect();
    stored(accept(&inbox, &body(&events), "k").await);
    let ran = Mutex::new(Vec::new());
    let ok = |item: InboxItem| {
        ran.lock().unwrap().push(seq(&item));
        async { Ok::<(), String>(()) }
    };
    let drained = inbox.drain(&ok, 100).await.unwrap();
    assert_eq!((drained.done, drained.handled()), (5, 5));
    assert_eq!(*ran.lock().unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(count("drain", "done").await, 5);
    assert_eq!(inbox.drain(&ok, 100).await.unwrap().handled(), 0);
}

/// A drain stops at its limit without leaving the next event claimed,
/// and counts a failure and goes on to the next event.
#[tokio::test]
async fn drain_stops_at_its_limit_with_nothing_claimed_and_counts_failures() {
    let Some(inbox) = inbox("drain_limit").await else {
        return;
    };
    let inbox = inbox.with_backoff(Duration::from_secs(5), Duration::from_secs(5));
    let events: Vec<String> = (0..5).map(|i| event(&format!("r{i}"), i)).collect();
    stored(accept(&inbox, &body(&events), "k").await);
    let fail_r1 = |item: InboxItem| {
        let fail = item.ordering_key.ends_with("/r1");
        async move {
            if fail {
                Err("no")
            } else {
                Ok(())
            }
        }
    };
    let drained = inbox.drain(&fail_r1, 3).await.unwrap();
    assert_eq!(
        (drained.done, drained.retried, drained.handled()),
        (2, 1, 3)
    );
    let claimed: i64 = sql()
        .await
        .unwrap()
        .query_one(
            &format!(
                "SELECT count(*) FROM {} WHERE token IS NOT NULL OR lease_until IS NOT NULL",
                table("drain_limit")
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(claimed, 0, "an event was left claimed");
    assert_eq!(count("drain_limit", "ready").await, 3);
    // The failed one waits out its backoff; the other two run.
    assert_eq!(inbox.drain(&fail_r1, 100).await.unwrap().done, 2);
}

/// When a handler's claim was taken over while it ran, marking it done
/// fails, and the event is still open under the new holder: the same
/// statement must not claim the record's next event.
#[tokio::test]
async fn drain_after_a_lost_claim_leaves_the_records_next_event_waiting() {
    let Some(inbox) = inbox("drain_lost").await else {
        return;
    };
    stored(accept(&inbox, &body(&[event("r", 0), event("r", 1)]), "k").await);
    let taken_over = |item: InboxItem| async move {
        // Another worker takes the event over, as after a lease ran out.
        sql()
            .await?
            .execute(
                &format!(
                    "UPDATE {} SET token = 'other worker', lease_until = now() + interval '1 hour' WHERE id = $1",
                    table("drain_lost")
                ),
                &[&item.id],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    };
    let drained = inbox.drain(&taken_over, 100).await.unwrap();
    assert_eq!((drained.lost, drained.handled()), (1, 1));
    let rows = sql()
        .await
        .unwrap()
        .query(
            &format!(
                "SELECT token, attempts FROM {} ORDER BY id",
                table("drain_lost")
            ),
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(Option<String>, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        rows,
        [(Some("other worker".to_owned()), 1), (None, 0)],
        "the record's next event was claimed while its first was held"
    );
}

/// Events waiting out a backoff (a handler's downstream was down) are
/// not stepped over by every claim, nor are the due events behind the
/// first sorted. The oracle is PostgreSQL's own count of the pages the
/// claim statement touched (`EXPLAIN (ANALYZE, BUFFERS)` of the statement
/// the inbox prepared), with 2 000 such events ahead of 4 000 due ones:
/// 11 pages; ordered by id on an index of ids, 604; ordered by id on the
/// index of due times, 64. It also held with another session keeping an
/// old snapshot open.
#[tokio::test]
async fn events_waiting_out_a_backoff_cost_a_claim_nothing() {
    let Some(inbox) = inbox("backoff_scan").await else {
        return;
    };
    // 2 000 events waiting out a backoff, written as a failed attempt
    // leaves them (due in an hour), stored first; written directly, so
    // that no dead row versions (which only VACUUM clears, and not while
    // another test's snapshot is older) stand in the scan. Then 4 000 due
    // events, accepted.
    let oracle = sql().await.unwrap();
    oracle
        .execute(
            &format!(
                "INSERT INTO {} (dedupe, dedupe_key, ordering_key, event_type, body, attempts, not_before) \
                 SELECT sha256(('waiting-' || n)::bytea), 'waiting-' || n, 'w/record/waiting-' || n, \
                   'record.updated', '{{}}'::bytea, 1, now() + interval '1 hour' \
                 FROM generate_series(1, 2000) n",
                table("backoff_scan")
            ),
            &[],
        )
        .await
        .unwrap();
    for batch in 20..60 {
        let events: Vec<String> = (0..100)
            .map(|i| event(&format!("due-{batch}-{i}"), batch * 100 + i))
            .collect();
        stored(accept(&inbox, &body(&events), &format!("k{batch}")).await);
    }
    oracle
        .batch_execute(&format!("ANALYZE {}", table("backoff_scan")))
        .await
        .unwrap();
    // The first due event; this prepares the claim on the pool's one
    // connection.
    let first = inbox.claim().await.unwrap().unwrap();
    assert!(first.ordering_key.ends_with("/due-20-0"), "{first:?}");

    let connection = inbox.pool().get().await.unwrap();
    let prepared: Vec<String> = connection
        .query(
            "SELECT name FROM pg_prepared_statements \
             WHERE statement LIKE 'UPDATE %SET token = $1%RETURNING id, dedupe_key%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(prepared.len(), 1, "the claim, prepared on this connection");
    // The top node's line `Buffers: shared hit=H read=R` counts its
    // children's pages too.
    let plan: Vec<String> = connection
        .simple_query(&format!(
            "EXPLAIN (ANALYZE, BUFFERS) EXECUTE {}('oracle', 60000, false)",
            prepared[0]
        ))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect();
    let buffers = plan
        .iter()
        .find_map(|line| line.trim().strip_prefix("Buffers: shared "))
        .unwrap_or_else(|| panic!("no buffers in {plan:#?}"));
    let pages: u64 = buffers
        .split(' ')
        .filter_map(|part| part.split_once('='))
        .filter(|(kind, _)| ["hit", "read"].contains(kind))
        .map(|(_, n)| n.parse::<u64>().unwrap())
        .sum();
    eprintln!("the claim touched {pages} pages");
    assert!(
        pages < 40,
        "the claim touched {pages} pages: it stepped over the waiting events"
    );
    let claimed: Vec<String> = oracle
        .query(
            &format!(
                "SELECT ordering_key FROM {} WHERE token = 'oracle'",
                table("backoff_scan")
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        claimed.len() == 1 && claimed[0].ends_with("/due-20-1"),
        "the plan's run claimed the next due event: {claimed:?}"
    );
}

#[tokio::test]
async fn done_events_are_swept_after_the_ttl_in_bounded_batches_and_dead_ones_kept() {
    let Some(inbox) = inbox("sweep").await else {
        return;
    };
    let inbox = inbox
        .with_ttl(Duration::from_millis(50))
        .with_max_attempts(1);
    let events: Vec<String> = (0..5).map(|i| event(&format!("r{i}"), i)).collect();
    stored(accept(&inbox, &body(&events), "k").await);
    let fail_r4 = |item: InboxItem| {
        let fail = item.ordering_key.ends_with("/r4");
        async move {
            if fail {
                Err("no")
            } else {
                Ok(())
            }
        }
    };
    while inbox.work_once(&fail_r4).await.unwrap().is_some() {}
    assert_eq!(inbox.sweep_done(2).await.unwrap(), 0, "not before the ttl");
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(inbox.sweep_done(3).await.unwrap(), 3);
    assert_eq!(inbox.sweep_done(3).await.unwrap(), 1);
    assert_eq!(inbox.sweep_done(3).await.unwrap(), 0);
    assert_eq!(
        (count("sweep", "done").await, count("sweep", "dead").await),
        (0, 1)
    );
    let status = inbox.status().await.unwrap();
    assert_eq!((status.ready, status.done, status.dead), (0, 0, 1));
}

#[tokio::test]
async fn replicas_starting_together_all_migrate() {
    let Some(first) = inbox("migrate").await else {
        return;
    };
    sql()
        .await
        .unwrap()
        .batch_execute(&format!("DROP TABLE {}", first.table()))
        .await
        .unwrap();
    let inboxes: Vec<_> = (0..4)
        .map(|_| {
            PostgresInbox::connect(&url())
                .unwrap()
                .with_table(&table("migrate"))
                .unwrap()
        })
        .collect();
    let results = futures::future::join_all(inboxes.iter().map(|s| s.migrate())).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(count("migrate", "ready").await, 0);
}

//! What the durable inbox costs, each side interleaved with its baseline
//! in the same run (`benches/common/interleave.rs`):
//!
//! - `postgres_inbox_accept`: [`PostgresInbox`]'s `store` of a delivery of
//!   3 events (fresh dedupe keys each time) against the same `INSERT ...
//!   SELECT FROM unnest(...) ON CONFLICT DO NOTHING` issued raw with the
//!   same arrays (SHA-256 keys included).
//! - `postgres_inbox_work`: one worker's events per second,
//!   [`PostgresInbox::drain`] of [`BATCH`] events with a handler that does
//!   nothing (claim under a lease with the per-key head check, handle,
//!   then mark done and claim the next in one statement), against
//!   [`BATCH`] turns of a raw `FOR UPDATE SKIP LOCKED` loop on a plain
//!   queue table (claim under a lease, mark done: two statements an event;
//!   no per-key order, no attempts).
//! - `postgres_inbox_work_one`: [`PostgresInbox::work_once`] (claim,
//!   handle, mark done: two statements) against one turn of the raw loop.
//!
//! Both sides of every comparison use one pool, so the same PostgreSQL
//! backend serves both: with a pool each (two backends), the identical
//! INSERT ran at 0.78 of itself twice in a row on a quiet machine, and at
//! 1.00 and 1.03 with one pool. Each pair is timed with
//! `interleave::paired_async`, so `benches/ratios.py` forms its ratio from
//! both sides' times in the same windows. Both tables are filled before
//! the work groups with events of distinct keys.
//! - `answer_time`: how long a receiver takes to answer Attio when the
//!   handler takes 50 ms: `accept` into the inbox (the handler runs later,
//!   on a worker) against `Once` on `PostgresSeenKeys` running it in the
//!   request.
//!
//! Needs a PostgreSQL at `ATTIO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5440/postgres`; `scripts/test-servers.sh
//! start`). Without it the bench says so and exits 0. Its tables
//! (`bench_inbox_*_<pid>`) are dropped at the end.

#[allow(dead_code)]
#[path = "../../../benches/common/interleave.rs"]
mod interleave;

use std::cell::Cell;
use std::time::Duration;

use attio_webhooks::receive::{signature, Inbox, InboxEvent, Once, Stored, Verifier};
use attio_webhooks::Secret;
use attio_webhooks_postgres::{PostgresInbox, PostgresSeenKeys, Worked};
use criterion::{Criterion, Throughput};
use deadpool_postgres::{Manager, Pool};
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5440/postgres";
/// Events put in each queue before timing: more than the bench functions
/// of the work groups take together.
const FILL: i64 = 150_000;
/// Events a worker takes in one timed turn of `postgres_inbox_work`.
const BATCH: u64 = 32;

/// The inbox's accept statement, verbatim, for `{table}`.
const ACCEPT: &str = "INSERT INTO {table} (dedupe, dedupe_key, ordering_key, event_type, body) \
     SELECT d, k, o, e, b FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::bytea[]) \
       WITH ORDINALITY AS u(d, k, o, e, b, n) ORDER BY n \
     ON CONFLICT (dedupe) DO NOTHING";

/// The raw queue: the columns a plain SKIP LOCKED queue needs.
const QUEUE: &str = "CREATE TABLE {table} (id bigserial PRIMARY KEY, body bytea NOT NULL, \
       state text NOT NULL DEFAULT 'ready', token text, lease_until timestamptz); \
     CREATE INDEX ON {table} (id) WHERE state = 'ready'";
const RAW_CLAIM: &str = "UPDATE {table} SET token = $1, \
       lease_until = statement_timestamp() + interval '60 seconds' \
     WHERE id = (SELECT id FROM {table} WHERE state = 'ready' \
       AND (lease_until IS NULL OR lease_until <= statement_timestamp()) \
       ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, body";
const RAW_DONE: &str =
    "UPDATE {table} SET state = 'done', token = NULL WHERE id = $1 AND token = $2";

const BODY: &str = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b","attribute_id":"a1"},"actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}},{"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b","attribute_id":"a2"},"actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}},{"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b","attribute_id":"a3"},"actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}]}"#;

/// A verified delivery of [`BODY`] under `key`.
fn verified(key: &str) -> attio_webhooks::receive::VerifiedDelivery {
    let secret = Secret::new("bench");
    let mut headers = attio_webhooks::http::HeaderMap::new();
    headers.insert(
        "attio-signature",
        signature::sign(&secret, BODY.as_bytes()).parse().unwrap(),
    );
    headers.insert("idempotency-key", key.parse().unwrap());
    Verifier::new(secret)
        .verify(&headers, BODY.as_bytes())
        .unwrap()
}

/// The events of [`BODY`] with dedupe keys of message `n`.
fn events(template: &[InboxEvent], n: u64) -> Vec<InboxEvent> {
    template
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            e.dedupe_key = format!("msg-{n}#{i}");
            e
        })
        .collect()
}

/// The accept statement raw, a pooled connection each time, the same
/// arrays as the inbox sends.
async fn raw_accept(pool: &Pool, sql: &str, events: &[InboxEvent]) -> u64 {
    let dedupe: Vec<Vec<u8>> = events
        .iter()
        .map(|e| Sha256::digest(e.dedupe_key.as_bytes()).to_vec())
        .collect();
    let keys: Vec<&str> = events.iter().map(|e| e.dedupe_key.as_str()).collect();
    let order: Vec<&str> = events.iter().map(|e| e.ordering_key.as_str()).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let bodies: Vec<&[u8]> = events.iter().map(|e| e.bytes.as_ref()).collect();
    let client = pool.get().await.unwrap();
    let statement = client.prepare_cached(sql).await.unwrap();
    client
        .execute(&statement, &[&dedupe, &keys, &order, &types, &bodies])
        .await
        .unwrap()
}

/// One event through the raw queue: claim under a lease, mark done.
async fn raw_work(pool: &Pool, claim: &str, done: &str, n: u64) {
    let token = format!("{n:032x}");
    let client = pool.get().await.unwrap();
    let statement = client.prepare_cached(claim).await.unwrap();
    let row = client.query_one(&statement, &[&token]).await.unwrap();
    let (id, body): (i64, Vec<u8>) = (row.get(0), row.get(1));
    std::hint::black_box(body);
    drop(client);
    let client = pool.get().await.unwrap();
    let statement = client.prepare_cached(done).await.unwrap();
    assert_eq!(client.execute(&statement, &[&id, &token]).await.unwrap(), 1);
}

struct Setup {
    url: String,
    pool: Pool,
    inbox: PostgresInbox,
    queue: String,
    seen: String,
}

async fn setup(url: &str) -> Result<Setup, String> {
    let pid = std::process::id();
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| e.to_string())?;
    let pool = Pool::builder(Manager::new(config, NoTls))
        .max_size(16)
        .build()
        .map_err(|e| e.to_string())?;
    // The bench's own pool: both sides on the same backend (module docs).
    let inbox = PostgresInbox::new(pool.clone())
        .with_table(&format!("bench_inbox_{pid}"))
        .map_err(|e| e.to_string())?
        .with_lease(Duration::from_secs(60));
    inbox.migrate().await.map_err(|e| e.to_string())?;
    let queue = format!("bench_inbox_queue_{pid}");
    let client = pool.get().await.map_err(|e| e.to_string())?;
    client
        .batch_execute(&QUEUE.replace("{table}", &queue))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Setup {
        url: url.to_owned(),
        pool,
        inbox,
        queue,
        seen: format!("bench_inbox_seen_{pid}"),
    })
}

/// Fills the inbox and the raw queue with [`FILL`] events each, every one
/// of its own record (so no event waits for another), the same bytes.
async fn fill(s: &Setup, event: &[u8]) {
    let client = s.pool.get().await.unwrap();
    client
        .execute(
            &format!(
                "INSERT INTO {} (dedupe, dedupe_key, ordering_key, event_type, body) \
                 SELECT sha256(('fill-' || n)::bytea), 'fill-' || n, 'w/record/' || n, 'record.updated', $1 \
                 FROM generate_series(1, $2::bigint) n",
                s.inbox.table()
            ),
            &[&event, &FILL],
        )
        .await
        .unwrap();
    client
        .execute(
            &format!(
                "INSERT INTO {} (body) SELECT $1 FROM generate_series(1, $2::bigint)",
                s.queue
            ),
            &[&event, &FILL],
        )
        .await
        .unwrap();
    // Statistics for both, as autovacuum would gather them: the inbox's
    // are otherwise those of the accept group (every event one record).
    client
        .batch_execute(&format!("ANALYZE {}; ANALYZE {}", s.inbox.table(), s.queue))
        .await
        .unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = std::env::var("ATTIO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let s = match runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), setup(&url))
            .await
            .unwrap_or_else(|_| Err("no answer within 5 s".to_owned()))
    }) {
        Ok(s) => s,
        Err(why) => {
            println!("skipped: no PostgreSQL at {url} ({why}); start one with `scripts/test-servers.sh start`");
            return;
        }
    };
    let template = InboxEvent::split(&verified("template")).unwrap();
    let accept_sql = ACCEPT.replace("{table}", s.inbox.table());
    // Both sides store the same rows.
    runtime.block_on(async {
        assert_eq!(
            s.inbox.store(&events(&template, u64::MAX)).await.unwrap(),
            Stored::new(3, 0)
        );
        let again = events(&template, u64::MAX - 1);
        assert_eq!(raw_accept(&s.pool, &accept_sql, &again).await, 3);
    });

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    let next = Cell::new(0_u64);
    let ours = || {
        let n = next.replace(next.get() + 1);
        let (inbox, template) = (&s.inbox, &template);
        async move { inbox.store(&events(template, n)).await.unwrap() }
    };
    let raw_next = Cell::new(1u64 << 40);
    let raw = || {
        let n = raw_next.replace(raw_next.get() + 1);
        let (pool, template, sql) = (&s.pool, &template, &accept_sql);
        async move { raw_accept(pool, sql, &events(template, n)).await }
    };
    let mut group = criterion.benchmark_group("postgres_inbox_accept");
    group.throughput(Throughput::Elements(1));
    group.bench_function("inbox", |b| {
        interleave::paired_async(b, &runtime, "postgres_inbox_accept/inbox", ours, raw)
    });
    group.bench_function("raw_pooled", |b| {
        interleave::paired_async(b, &runtime, "postgres_inbox_accept/raw_pooled", raw, ours)
    });
    group.finish();

    // The work group on a fresh fill: the accept group's events are all
    // about one record, which would make one long line of waiting events.
    runtime.block_on(async {
        let client = s.pool.get().await.unwrap();
        client
            .batch_execute(&format!("TRUNCATE {}", s.inbox.table()))
            .await
            .unwrap();
        drop(client);
        fill(&s, &template[0].bytes).await;
    });
    let nothing = |_item: attio_webhooks_postgres::InboxItem| async { Ok::<(), String>(()) };
    let drain = || {
        let (inbox, nothing) = (&s.inbox, &nothing);
        async move {
            assert_eq!(inbox.drain(nothing, BATCH).await.unwrap().done, BATCH);
        }
    };
    let work_once = || {
        let (inbox, nothing) = (&s.inbox, &nothing);
        async move {
            assert_eq!(inbox.work_once(nothing).await.unwrap(), Some(Worked::Done));
        }
    };
    let (claim, done) = (
        RAW_CLAIM.replace("{table}", &s.queue),
        RAW_DONE.replace("{table}", &s.queue),
    );
    let raw_n = Cell::new(0_u64);
    let raw_one = || {
        let n = raw_n.replace(raw_n.get() + 1);
        let (pool, claim, done) = (&s.pool, &claim, &done);
        async move { raw_work(pool, claim, done, n).await }
    };
    let raw_batch = || {
        let raw_one = &raw_one;
        async move {
            for _ in 0..BATCH {
                raw_one().await;
            }
        }
    };
    let mut group = criterion.benchmark_group("postgres_inbox_work");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("inbox", |b| {
        interleave::paired_async(b, &runtime, "postgres_inbox_work/inbox", drain, raw_batch)
    });
    group.bench_function("raw_skip_locked", |b| {
        interleave::paired_async(
            b,
            &runtime,
            "postgres_inbox_work/raw_skip_locked",
            raw_batch,
            drain,
        )
    });
    group.finish();
    let mut group = criterion.benchmark_group("postgres_inbox_work_one");
    group.throughput(Throughput::Elements(1));
    group.bench_function("inbox", |b| {
        interleave::paired_async(
            b,
            &runtime,
            "postgres_inbox_work_one/inbox",
            work_once,
            raw_one,
        )
    });
    group.bench_function("raw_skip_locked", |b| {
        interleave::paired_async(
            b,
            &runtime,
            "postgres_inbox_work_one/raw_skip_locked",
            raw_one,
            work_once,
        )
    });
    group.finish();

    // The answer to Attio with a 50 ms handler.
    let once = runtime.block_on(async {
        let keys = PostgresSeenKeys::connect(&s.url)
            .unwrap()
            .with_table(&s.seen)
            .unwrap();
        keys.migrate().await.unwrap();
        Once::new(keys)
    });
    let answer_n = Cell::new(0_u64);
    let inbox_answer = || {
        let n = answer_n.replace(answer_n.get() + 1);
        let inbox = &s.inbox;
        async move {
            let delivery = verified(&format!("answer-{n}"));
            assert_eq!(inbox.accept(&delivery).await.status(), 200);
        }
    };
    let once_answer = || {
        let n = answer_n.replace(answer_n.get() + 1);
        let once = &once;
        async move {
            let delivery = verified(&format!("answer-{n}"));
            let outcome = once
                .run(delivery.dedupe_key(), || async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, ()>(())
                })
                .await;
            assert_eq!(outcome.status(), 200);
        }
    };
    let mut group = criterion.benchmark_group("answer_time");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("inbox_accept", |b| {
        interleave::interleaved_async(b, &runtime, inbox_answer, once_answer)
    });
    group.bench_function("once_50ms_handler", |b| {
        interleave::interleaved_async(b, &runtime, once_answer, inbox_answer)
    });
    group.finish();

    runtime
        .block_on(async {
            let client = s.pool.get().await.unwrap();
            client
                .batch_execute(&format!(
                    "DROP TABLE {}; DROP TABLE {}; DROP TABLE {}",
                    s.inbox.table(),
                    s.queue,
                    s.seen
                ))
                .await
        })
        .unwrap();
    criterion.final_summary();
}

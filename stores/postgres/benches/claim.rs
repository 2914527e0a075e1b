//! Claims and completes per second through [`PostgresSeenKeys`] (`claim`
//! then `complete`, the work of one delivery handled by `Once`), against
//! the same two statements issued raw with the same driver (tokio-postgres,
//! a SHA-256 key, a 32-hex-digit token, the same lease and time-to-live):
//! `raw_pooled` takes a connection from a deadpool pool for each statement,
//! as the store does and as hand-written code in a server would (the
//! target's baseline); `raw_connection` holds one connection with both
//! statements prepared, which shows what the pool costs. Interleaved and
//! paired (`interleave::paired_async`), same run. Every iteration claims a
//! fresh key, so every claim wins; before timing, the rows both sides
//! leave are compared.
//!
//! The store and `raw_pooled` share one pool, so one PostgreSQL backend
//! serves both: with a pool each (two backends) this row's paired ratio
//! still spread 0.810 / 0.945 / 1.172 over five runs on a quiet machine,
//! as the inbox's identical INSERT did (`benches/inbox.rs`).
//! `raw_connection` is a backend of its own, so that row mixes what the
//! pool costs with where the two backends run.
//!
//! Needs a PostgreSQL at `ATTIO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5440/postgres`; `scripts/test-servers.sh
//! start`). Without it the bench says so and exits 0. Its table,
//! `bench_seen_<pid>`, is dropped at the end.

// Only the async half is used here.
#[allow(dead_code)]
#[path = "../../../benches/common/interleave.rs"]
mod interleave;

use std::cell::Cell;
use std::time::Duration;

use attio_webhooks::receive::{Claim, SeenKeys, Settled};
use attio_webhooks_postgres::PostgresSeenKeys;
use criterion::{Criterion, Throughput};
use deadpool_postgres::{Manager, Pool};
use sha2::{Digest, Sha256};
use tokio_postgres::{Client, NoTls, Statement};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5440/postgres";

/// The lease and time-to-live of both sides.
const EXPIRY_MS: i64 = 60_000;

/// The store's claim statement, verbatim, for `{table}`.
const CLAIM: &str = "INSERT INTO {table} AS s (key, token, expires_at) \
     VALUES ($1, $2, statement_timestamp() + $3::bigint * interval '1 millisecond') \
     ON CONFLICT (key) DO UPDATE SET \
       token = CASE WHEN s.expires_at <= statement_timestamp() THEN EXCLUDED.token ELSE s.token END, \
       expires_at = CASE WHEN s.expires_at <= statement_timestamp() THEN EXCLUDED.expires_at ELSE s.expires_at END \
     RETURNING token";

/// The store's complete statement, verbatim.
const COMPLETE: &str = "UPDATE {table} SET token = NULL, \
       expires_at = statement_timestamp() + $3::bigint * interval '1 millisecond' \
     WHERE key = $1 AND token = $2 AND expires_at > statement_timestamp()";

/// A baseline: both statements prepared once on a plain connection.
struct Raw {
    client: Client,
    claim: Statement,
    complete: Statement,
}

/// The baseline of the target: what a hand-written store on the same
/// driver does in a server, a connection from a deadpool pool (set up as
/// the store's) for each statement, statements from its cache.
struct Pooled {
    pool: Pool,
    claim: String,
    complete: String,
}

impl Pooled {
    async fn cycle(&self, n: u64) {
        let key = Sha256::digest(format!("pooled-{n}")).to_vec();
        let token = format!("{n:032x}");
        let client = self.pool.get().await.unwrap();
        let claim = client.prepare_cached(&self.claim).await.unwrap();
        let row = client
            .query_one(&claim, &[&key, &token, &EXPIRY_MS])
            .await
            .unwrap();
        assert_eq!(row.get::<_, Option<&str>>(0), Some(token.as_str()));
        drop(client);
        let client = self.pool.get().await.unwrap();
        let complete = client.prepare_cached(&self.complete).await.unwrap();
        let changed = client
            .execute(&complete, &[&key, &token, &EXPIRY_MS])
            .await
            .unwrap();
        assert_eq!(changed, 1);
    }
}

impl Raw {
    /// Claims and completes key `n` (the SHA-256 of `raw-<n>`),
    /// checking that both won, as the store side does.
    async fn cycle(&self, n: u64) {
        // A SHA-256, as the store's keys are: spread over the index the
        // same way (sequential keys would all land on its right edge).
        let key = Sha256::digest(format!("raw-{n}")).to_vec();
        let token = format!("{n:032x}");
        let row = self
            .client
            .query_one(&self.claim, &[&key, &token, &EXPIRY_MS])
            .await
            .unwrap();
        assert_eq!(row.get::<_, Option<&str>>(0), Some(token.as_str()));
        let changed = self
            .client
            .execute(&self.complete, &[&key, &token, &EXPIRY_MS])
            .await
            .unwrap();
        assert_eq!(changed, 1);
    }
}

async fn store_cycle(store: &PostgresSeenKeys, key: &str) {
    let Claim::Claimed(token) = store.claim(key).await.unwrap() else {
        panic!("a fresh key was not claimed");
    };
    assert_eq!(store.complete(key, &token).await.unwrap(), Settled::Held);
}

/// Both sides leave the same kind of row: a 32-byte key, no token, done
/// for [`EXPIRY_MS`].
async fn same_work(store: &PostgresSeenKeys, raw: &Raw, table: &str) {
    store_cycle(store, "check").await;
    raw.cycle(u64::MAX).await;
    let rows = raw
        .client
        .query(
            &format!(
                "SELECT octet_length(key), token IS NULL, \
                 (extract(epoch from expires_at - statement_timestamp()) * 1000)::bigint \
                 FROM {table} ORDER BY key"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let (length, done, left): (i32, bool, i64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!((length, done), (32, true));
        assert!(
            left > EXPIRY_MS - 5_000 && left <= EXPIRY_MS,
            "{left} ms left"
        );
    }
}

async fn connect(url: &str, table: &str) -> Option<(PostgresSeenKeys, Raw, Pooled)> {
    let setup = async {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| e.to_string())?;
        let pool = Pool::builder(Manager::new(config, NoTls))
            .max_size(16)
            .build()
            .map_err(|e| e.to_string())?;
        // The store on the baseline's pool: one backend serves both sides
        // (module docs).
        let store = PostgresSeenKeys::new(pool.clone())
            .with_table(table)
            .unwrap()
            .with_lease(Duration::from_millis(EXPIRY_MS as u64))
            .with_ttl(Duration::from_millis(EXPIRY_MS as u64));
        store.migrate().await.map_err(|e| e.to_string())?;
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let claim = client.prepare(&CLAIM.replace("{table}", table)).await;
        let complete = client.prepare(&COMPLETE.replace("{table}", table)).await;
        Ok::<_, String>((
            store,
            Raw {
                client,
                claim: claim.map_err(|e| e.to_string())?,
                complete: complete.map_err(|e| e.to_string())?,
            },
            Pooled {
                pool,
                claim: CLAIM.replace("{table}", table),
                complete: COMPLETE.replace("{table}", table),
            },
        ))
    };
    match tokio::time::timeout(Duration::from_secs(5), setup).await {
        Ok(Ok(sides)) => Some(sides),
        failed => {
            let why = match failed {
                Ok(Err(e)) => e,
                _ => "no answer within 5 s".to_owned(),
            };
            println!("skipped: no PostgreSQL at {url} ({why}); start one with `scripts/test-servers.sh start`");
            None
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = std::env::var("ATTIO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let table = format!("bench_seen_{}", std::process::id());
    let Some((store, raw, pooled)) = runtime.block_on(connect(&url, &table)) else {
        return;
    };
    runtime.block_on(same_work(&store, &raw, &table));
    runtime.block_on(pooled.cycle(u64::MAX));

    let store_next = Cell::new(0_u64);
    let raw_next = Cell::new(0_u64);
    let store_side = || {
        let n = store_next.replace(store_next.get() + 1);
        let store = &store;
        async move { store_cycle(store, &format!("bench-{n}")).await }
    };
    let raw_side = || {
        let n = raw_next.replace(raw_next.get() + 1);
        let raw = &raw;
        async move { raw.cycle(n).await }
    };
    let pooled_next = Cell::new(0_u64);
    let pooled_side = || {
        let n = pooled_next.replace(pooled_next.get() + 1);
        let pooled = &pooled;
        async move { pooled.cycle(n).await }
    };
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = criterion.benchmark_group("postgres_seen_keys");
    group.throughput(Throughput::Elements(1));
    group.bench_function("store", |b| {
        interleave::paired_async(
            b,
            &runtime,
            "postgres_seen_keys/store",
            store_side,
            pooled_side,
        )
    });
    group.bench_function("raw_pooled", |b| {
        interleave::paired_async(
            b,
            &runtime,
            "postgres_seen_keys/raw_pooled",
            pooled_side,
            store_side,
        )
    });
    // The store against one connection held for the whole run: what the
    // pool costs, shown beside the target row.
    group.bench_function("store_vs_connection", |b| {
        interleave::paired_async(
            b,
            &runtime,
            "postgres_seen_keys/store_vs_connection",
            store_side,
            raw_side,
        )
    });
    group.bench_function("raw_connection", |b| {
        interleave::paired_async(
            b,
            &runtime,
            "postgres_seen_keys/raw_connection",
            raw_side,
            store_side,
        )
    });
    group.finish();
    runtime
        .block_on(raw.client.batch_execute(&format!("DROP TABLE {table}")))
        .unwrap();
    criterion.final_summary();
}

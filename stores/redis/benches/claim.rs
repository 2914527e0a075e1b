//! Claims and completes per second through [`RedisSeenKeys`] (`claim` then
//! `complete`, the work of one delivery handled by `Once`), against the
//! same two scripts invoked raw with the same driver: the `redis` crate,
//! a `ConnectionManager`, `redis::Script`, a 64-hex-digit key under the
//! same prefix, the same `claimed:<token>` value and `PX` arguments.
//! Interleaved, same run. Every iteration claims a fresh key, so every
//! claim wins; before timing, both sides' stored values are compared.
//!
//! Needs a Redis at `ATTIO_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6390/`); start one with
//! `redis-server --port 6390 --save '' --appendonly no --daemonize yes`.
//! Without it the bench says so and exits 0. Keys live under
//! `attio-webhooks-bench:<pid>:` and expire after 5 s.

// Only the async half is used here.
#[allow(dead_code)]
#[path = "../../../benches/common/interleave.rs"]
mod interleave;

use std::cell::Cell;
use std::time::Duration;

use attio_webhooks::receive::{Claim, SeenKeys, Settled};
use attio_webhooks_redis::RedisSeenKeys;
use criterion::{Criterion, Throughput};
use redis::aio::ConnectionManager;
use redis::Script;
use sha2::{Digest, Sha256};

/// The Redis used when `ATTIO_TEST_REDIS_URL` is not set.
const DEFAULT_URL: &str = "redis://127.0.0.1:6390/";

/// The lease and time-to-live of both sides: short, so runs leave nothing.
const EXPIRY: Duration = Duration::from_secs(5);

/// The store's claim script, the same file (same text, so the same SHA1 for `EVALSHA`).
const CLAIM: &str = include_str!("../src/claim.lua");

/// The store's complete script, the same file.
const COMPLETE: &str = include_str!("../src/complete.lua");

/// The raw side's claim number for the start-up check, out of the
/// timed loop's range.
const CHECK: u64 = u64::MAX;

/// The baseline: the two scripts invoked by hand on a connection of its own.
struct Raw {
    /// Its own connection, set up as the store's is.
    connection: ConnectionManager,
    /// The bench's key prefix, the same as the store's.
    prefix: String,
    /// [`CLAIM`].
    claim: Script,
    /// [`COMPLETE`].
    complete: Script,
    /// [`EXPIRY`] in milliseconds, the `PX` argument of both scripts.
    px: u64,
}

impl Raw {
    /// The Redis key of claim `n`: 64 hex digits under the prefix, as long
    /// as the store's hashed keys.
    fn key(&self, n: u64) -> String {
        format!("{}{n:064x}", self.prefix)
    }

    /// The token of claim `n`: 32 hex digits, as long as
    /// `ClaimToken::random`'s.
    fn token(n: u64) -> String {
        format!("{n:032x}")
    }

    /// The value claim `n` stores, `claimed:<token>`, as the store's.
    fn value(n: u64) -> String {
        format!("claimed:{}", Self::token(n))
    }

    /// Runs the claim script on key `n` with token `n`: `"claimed"` when
    /// it won.
    async fn claim(&self, n: u64) -> String {
        let mut connection = self.connection.clone();
        self.claim
            .key(self.key(n))
            .arg(Self::value(n))
            .arg(self.px)
            .invoke_async(&mut connection)
            .await
            .unwrap()
    }

    /// Runs the complete script on key `n` with token `n`: 1 when the
    /// claim was still held.
    async fn complete(&self, n: u64) -> i64 {
        let mut connection = self.connection.clone();
        self.complete
            .key(self.key(n))
            .arg(Self::value(n))
            .arg(self.px)
            .invoke_async(&mut connection)
            .await
            .unwrap()
    }

    /// Claims and completes key `n`, checking that both won, as the store
    /// side does.
    async fn cycle(&self, n: u64) {
        assert_eq!(self.claim(n).await, "claimed");
        assert_eq!(self.complete(n).await, 1);
    }
}

/// Claims and completes `key` through the store, checking that both won;
/// returns the claim's token.
async fn store_cycle(store: &RedisSeenKeys, key: &str) -> String {
    let Claim::Claimed(token) = store.claim(key).await.unwrap() else {
        panic!("a fresh key was not claimed");
    };
    assert_eq!(store.complete(key, &token).await.unwrap(), Settled::Held);
    token.as_str().to_owned()
}

/// The Redis key the store writes for `key`: the prefix and the SHA-256 of
/// `key` in hex.
fn store_key(prefix: &str, key: &str) -> String {
    format!(
        "{prefix}{}",
        const_hex::encode(Sha256::digest(key.as_bytes()))
    )
}

/// `GET` and `PTTL` of `key`, read with a plain command.
async fn stored(connection: &mut ConnectionManager, key: &str) -> (Option<String>, i64) {
    let value: Option<String> = redis::cmd("GET")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap();
    let pttl: i64 = redis::cmd("PTTL")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap();
    (value, pttl)
}

/// Checks that both sides do the same work: after a claim, both keys have
/// the same length and hold the same value but for the token, with a lease
/// of [`EXPIRY`]; after the complete, both hold the same value with a
/// time-to-live of [`EXPIRY`].
async fn same_work(store: &RedisSeenKeys, raw: &Raw) {
    let mut plain = raw.connection.clone();
    let (store_name, raw_name) = (store_key(&raw.prefix, "check"), raw.key(CHECK));
    assert_eq!(
        store_name.len(),
        raw_name.len(),
        "{store_name} vs {raw_name}"
    );

    let Claim::Claimed(token) = store.claim("check").await.unwrap() else {
        panic!("the check key was not claimed");
    };
    assert_eq!(raw.claim(CHECK).await, "claimed");
    let (store_claimed, store_lease) = stored(&mut plain, &store_name).await;
    let (raw_claimed, raw_lease) = stored(&mut plain, &raw_name).await;
    let anonymous = |value: Option<String>, token: &str| value.map(|v| v.replace(token, "<token>"));
    assert_eq!(
        anonymous(store_claimed, token.as_str()),
        anonymous(raw_claimed, &Raw::token(CHECK)),
        "the claimed values differ"
    );
    let px = i64::try_from(raw.px).unwrap();
    for lease in [store_lease, raw_lease] {
        assert!(lease > px - 1000 && lease <= px, "lease {lease} ms");
    }

    assert_eq!(
        store.complete("check", &token).await.unwrap(),
        Settled::Held
    );
    assert_eq!(raw.complete(CHECK).await, 1);
    let (store_done, store_ttl) = stored(&mut plain, &store_name).await;
    let (raw_done, raw_ttl) = stored(&mut plain, &raw_name).await;
    assert_eq!(store_done, raw_done, "the completed values differ");
    assert_eq!(store_done.as_deref(), Some("done"));
    for ttl in [store_ttl, raw_ttl] {
        assert!(ttl > px - 1000 && ttl <= px, "ttl {ttl} ms");
    }
    let _: i64 = redis::cmd("DEL")
        .arg(&store_name)
        .arg(&raw_name)
        .query_async(&mut plain)
        .await
        .unwrap();
}

/// Connects both sides (two connection managers from one client), or
/// `None` after saying so when no Redis answers within 2 s.
async fn connect(url: &str) -> Option<(RedisSeenKeys, Raw)> {
    let managers = async {
        let client = redis::Client::open(url)?;
        let store = ConnectionManager::new(client.clone()).await?;
        let raw = ConnectionManager::new(client).await?;
        Ok::<_, redis::RedisError>((store, raw))
    };
    let (store, raw) = match tokio::time::timeout(Duration::from_secs(2), managers).await {
        Ok(Ok(managers)) => managers,
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 2 s".to_owned(),
            };
            println!(
                "skipped: no Redis at {url} ({why}); start one with `redis-server --port 6390 --save '' --appendonly no --daemonize yes`"
            );
            return None;
        }
    };
    let prefix = format!("attio-webhooks-bench:{}:", std::process::id());
    let store = RedisSeenKeys::new(store)
        .with_prefix(prefix.clone())
        .with_lease(EXPIRY)
        .with_ttl(EXPIRY);
    let raw = Raw {
        connection: raw,
        prefix,
        claim: Script::new(CLAIM),
        complete: Script::new(COMPLETE),
        px: u64::try_from(EXPIRY.as_millis()).unwrap(),
    };
    Some((store, raw))
}

/// Connects, checks that both sides do the same work, and times them.
fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = std::env::var("ATTIO_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let Some((store, raw)) = runtime.block_on(connect(&url)) else {
        return;
    };
    runtime.block_on(same_work(&store, &raw));

    // One counter per side; each call takes the next, so every key is fresh.
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

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = criterion.benchmark_group("redis_seen_keys");
    group.throughput(Throughput::Elements(1));
    group.bench_function("store", |b| {
        interleave::paired_async(b, &runtime, "redis_seen_keys/store", store_side, raw_side)
    });
    group.bench_function("raw", |b| {
        interleave::paired_async(b, &runtime, "redis_seen_keys/raw", raw_side, store_side)
    });
    group.finish();
    criterion.final_summary();
}

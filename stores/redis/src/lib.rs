//! [`RedisSeenKeys`]: a Redis-backed [`SeenKeys`] store, so that
//! [`Once`](attio_webhooks::receive::Once) handles each Attio delivery once
//! across every replica that shares the Redis.
//!
//! ```no_run
//! use attio_webhooks::receive::Once;
//! use attio_webhooks_redis::RedisSeenKeys;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = RedisSeenKeys::connect("redis://127.0.0.1:6379/").await?.with_prefix("myapp:attio:");
//! let once = Once::new(keys);
//! # let _ = once; Ok(()) }
//! ```
//!
//! How it keeps the protocol of [`SeenKeys`]:
//!
//! - A key is stored as `<prefix><sha256 of the Idempotency-Key, hex>`, so
//!   a key of any length or bytes costs 64 characters plus the prefix.
//! - `claim` is one `SET <key> claimed:<token> NX PX <lease>` inside a
//!   script that, when the key exists, reads whether it is claimed or done:
//!   atomic on the server, so of concurrent claims exactly one wins.
//! - `complete` and `release` are scripts that compare the stored value
//!   with the caller's token before `SET <key> done PX <ttl>` or `DEL`, so a
//!   holder whose lease ran out cannot settle another holder's claim.
//! - `renew` is a script that compares the token likewise before
//!   `PEXPIRE <key> <lease>`: [`Once`](attio_webhooks::receive::Once)
//!   renews a claim every third of the lease while its handler runs.
//! - The lease and the time-to-live are the server's `PX` expiries: an
//!   abandoned claim runs out even if every replica dies.
//! - A Redis error is an error: [`Once`](attio_webhooks::receive::Once)
//!   answers 503 and Attio retries (fail closed).
//!
//! The connection is a [`redis::aio::ConnectionManager`]: one multiplexed
//! connection shared by clones, reconnecting after a failure. Each call
//! waits at most a connect timeout plus a response timeout (1 s + 1 s by
//! default, [`RedisSeenKeysBuilder`]), then fails with [`TimedOut`], so a
//! Redis outage costs a delivery a 503 within 2 s.
//!
//! What it needs from Redis (see the README): `appendonly yes` with
//! `appendfsync always`, and `maxmemory-policy noeviction`, or handled keys
//! can be forgotten in a restart or under memory pressure, and their
//! messages run again; replication is asynchronous, so a failover can lose
//! the last keys too. [`RedisSeenKeys::connect`] checks the settings it
//! can read and logs a warning naming each that falls short
//! ([`RedisSeenKeys::check_durability`]).

mod builder;
mod durability;

use std::time::Duration;

use attio_webhooks::error::BoxError;
use attio_webhooks::receive::{Claim, ClaimToken, SeenKeys, Settled, DEFAULT_LEASE, DEFAULT_TTL};
use redis::aio::ConnectionManager;
use redis::{Script, ScriptInvocation};
use sha2::{Digest, Sha256};

use builder::bounded;
pub use builder::{
    RedisSeenKeysBuilder, TimedOut, DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT,
};
pub use durability::DurabilityWarning;

/// The prefix of every key a new store writes.
pub const DEFAULT_PREFIX: &str = "attio-webhooks:seen:";

const CLAIM: &str = include_str!("claim.lua");

const COMPLETE: &str = include_str!("complete.lua");

const RELEASE: &str = include_str!("release.lua");

const RENEW: &str = include_str!("renew.lua");

/// A [`SeenKeys`] store in Redis, shared by every replica that uses the
/// same server and prefix. Clones share the connection.
#[derive(Clone)]
pub struct RedisSeenKeys {
    connection: ConnectionManager,
    prefix: String,
    lease: Duration,
    ttl: Duration,
    call_timeout: Duration,
    claim: Script,
    complete: Script,
    release: Script,
    renew: Script,
}

impl std::fmt::Debug for RedisSeenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSeenKeys")
            .field("prefix", &self.prefix)
            .field("lease", &self.lease)
            .field("ttl", &self.ttl)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisSeenKeys {
    /// Connects to the Redis at `url` (`redis://host:port/db`), with
    /// [`DEFAULT_PREFIX`], attio-webhooks' [`DEFAULT_LEASE`] and
    /// [`DEFAULT_TTL`], and [`DEFAULT_CONNECT_TIMEOUT`] and
    /// [`DEFAULT_RESPONSE_TIMEOUT`]: `builder(url).connect()`.
    pub async fn connect(url: &str) -> Result<Self, redis::RedisError> {
        Self::builder(url).connect().await
    }

    /// Connects to the Redis at `url` with the timeouts you set; see
    /// [`RedisSeenKeysBuilder`].
    pub fn builder(url: &str) -> RedisSeenKeysBuilder {
        RedisSeenKeysBuilder::new(url)
    }

    /// A store over a connection you set up (TLS, retries). Each call is
    /// still bounded, by [`DEFAULT_CONNECT_TIMEOUT`] plus
    /// [`DEFAULT_RESPONSE_TIMEOUT`] unless you set
    /// [`with_call_timeout`](Self::with_call_timeout).
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: DEFAULT_PREFIX.to_owned(),
            lease: DEFAULT_LEASE,
            ttl: DEFAULT_TTL,
            call_timeout: DEFAULT_CONNECT_TIMEOUT + DEFAULT_RESPONSE_TIMEOUT,
            claim: Script::new(CLAIM),
            complete: Script::new(COMPLETE),
            release: Script::new(RELEASE),
            renew: Script::new(RENEW),
        }
    }

    /// Sets the prefix of every key (one per application or environment
    /// sharing a Redis).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets how long a claim lasts (at least 1 ms).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets how long a handled key is remembered (at least 1 ms).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the longest a store call waits for Redis, reconnecting
    /// included (at least 1 ms); then it fails with [`TimedOut`].
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Runs a script, bounded by the call timeout.
    async fn invoke<T: redis::FromRedisValue>(
        &self,
        script: &ScriptInvocation<'_>,
    ) -> Result<T, BoxError> {
        let mut connection = self.connection.clone();
        bounded(self.call_timeout, script.invoke_async(&mut connection)).await
    }

    fn key(&self, key: &str) -> String {
        let digest = Sha256::digest(key.as_bytes());
        format!("{}{}", self.prefix, const_hex::encode(digest))
    }
}

/// Milliseconds for `PX`: at least 1 (Redis refuses 0).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn held(changed: i64) -> Settled {
    if changed == 1 {
        Settled::Held
    } else {
        Settled::Lost
    }
}

#[async_trait::async_trait]
impl SeenKeys for RedisSeenKeys {
    async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
        let token = ClaimToken::random();
        let found: String = self
            .invoke(
                self.claim
                    .key(self.key(key))
                    .arg(format!("claimed:{}", token.as_str()))
                    .arg(millis(self.lease)),
            )
            .await?;
        match found.as_str() {
            "claimed" => Ok(Claim::Claimed(token)),
            "done" => Ok(Claim::Done),
            "in_progress" => Ok(Claim::InProgress),
            other => Err(format!("the claim script answered {other:?}").into()),
        }
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let changed: i64 = self
            .invoke(
                self.complete
                    .key(self.key(key))
                    .arg(format!("claimed:{}", token.as_str()))
                    .arg(millis(self.ttl)),
            )
            .await?;
        Ok(held(changed))
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let changed: i64 = self
            .invoke(
                self.release
                    .key(self.key(key))
                    .arg(format!("claimed:{}", token.as_str())),
            )
            .await?;
        Ok(held(changed))
    }

    fn lease(&self) -> Option<Duration> {
        Some(self.lease)
    }

    async fn renew(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let changed: i64 = self
            .invoke(
                self.renew
                    .key(self.key(key))
                    .arg(format!("claimed:{}", token.as_str()))
                    .arg(millis(self.lease)),
            )
            .await?;
        Ok(held(changed))
    }
}

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

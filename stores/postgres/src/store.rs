//! [`PostgresSeenKeys`]: the [`SeenKeys`] protocol on one PostgreSQL table.

use std::time::Duration;

use attio_webhooks::error::BoxError;
use attio_webhooks::receive::{Claim, ClaimToken, SeenKeys, Settled, DEFAULT_LEASE, DEFAULT_TTL};
use deadpool_postgres::{Manager, Object, Pool};
use sha2::{Digest, Sha256};
use tokio_postgres::{GenericClient, NoTls, Statement};

use crate::call_timeout::{bounded, DEFAULT_CALL_TIMEOUT};
use crate::error::Error;
use crate::sweeper::{self, millis};
use crate::table::{Statements, DEFAULT_TABLE};

/// A [`SeenKeys`] store in a PostgreSQL table, shared by every replica
/// that uses the same database and table. Clones share the pool.
///
/// The table holds one row per key: its SHA-256 (`key bytea PRIMARY
/// KEY`), the holder's token (`NULL` once done) and when the claim or the
/// done record runs out (`expires_at`, by the server's clock). Create it
/// with [`migrate`](Self::migrate); rows that ran out are ignored by every
/// statement and deleted by [`sweep_expired`](Self::sweep_expired) in
/// bounded batches ([`spawn_sweeper`](Self::spawn_sweeper) does it
/// periodically).
#[derive(Clone)]
pub struct PostgresSeenKeys {
    pool: Pool,
    statements: Statements,
    lease: Duration,
    ttl: Duration,
    call_timeout: Duration,
}

impl std::fmt::Debug for PostgresSeenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSeenKeys")
            .field("table", &self.statements.name)
            .field("lease", &self.lease)
            .field("ttl", &self.ttl)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// What [`PostgresSeenKeys::record_in`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// The key is now recorded as handled in the caller's transaction:
    /// make the handler's writes in it and commit. If it rolls back (or
    /// the process dies first), neither the writes nor the key remain.
    First,
    /// The key was handled (its transaction committed) and is still
    /// remembered: do nothing, answer 200.
    AlreadyHandled,
    /// A [`Once`](attio_webhooks::receive::Once) using the same table holds
    /// a claim on the key: answer 409 so Attio retries later.
    InProgress,
}

impl PostgresSeenKeys {
    /// A store with a pool of up to 16 connections to the database at
    /// `url` (`postgres://user:password@host:port/dbname`, or key=value
    /// pairs), without TLS, on [`DEFAULT_TABLE`] with attio-webhooks'
    /// [`DEFAULT_LEASE`] and [`DEFAULT_TTL`]. No connection is made until
    /// the first use; call [`migrate`](Self::migrate) to create the table.
    ///
    /// For TLS, pool sizes or timeouts, build a pool yourself and use
    /// [`new`](Self::new).
    pub fn connect(url: &str) -> Result<Self, Error> {
        let config: tokio_postgres::Config = url.parse().map_err(Error::Url)?;
        let manager = Manager::new(config, NoTls);
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| Error::Pool(deadpool_postgres::CreatePoolError::Build(e)))?;
        Ok(Self::new(pool))
    }

    /// A store over a pool you set up, each call bounded by
    /// [`DEFAULT_CALL_TIMEOUT`] ([`with_call_timeout`](Self::with_call_timeout)).
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            statements: Statements::for_table(DEFAULT_TABLE).expect("the default name is valid"),
            lease: DEFAULT_LEASE,
            ttl: DEFAULT_TTL,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// Uses the table `name` (`table` or `schema.table`: ASCII letters,
    /// digits and `_`), one per application or environment sharing a
    /// database.
    ///
    /// ```
    /// # use attio_webhooks_postgres::{Error, PostgresSeenKeys};
    /// let store = PostgresSeenKeys::connect("postgres://localhost/app").unwrap();
    /// assert!(store.clone().with_table("billing.attio_seen").is_ok());
    /// assert!(matches!(store.with_table("seen; drop table users"), Err(Error::TableName(_))));
    /// ```
    pub fn with_table(mut self, name: &str) -> Result<Self, Error> {
        self.statements = Statements::for_table(name)?;
        Ok(self)
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

    /// Sets how long one call (`claim`, `complete`, `release`, `renew`)
    /// may take, getting a connection included (at least 1 ms; default
    /// [`DEFAULT_CALL_TIMEOUT`]); past it the call fails with
    /// [`Error::TimedOut`] and `Once` answers 503.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The pool, for the handler's own statements (and the transaction of
    /// [`record_in`](Self::record_in)).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Creates the table and its index on `expires_at` if they do not
    /// exist. Safe to call from every replica at start-up at once.
    pub async fn migrate(&self) -> Result<(), Error> {
        let client = self.connection().await?;
        client.batch_execute(&self.statements.create).await?;
        Ok(())
    }

    /// Deletes at most `batch` rows that ran out, oldest first, skipping
    /// rows another statement holds; returns how many it deleted. Rows
    /// that ran out are already treated as absent, so this only bounds the
    /// table's size.
    pub async fn sweep_expired(&self, batch: u32) -> Result<u64, Error> {
        let client = self.connection().await?;
        let statement = client.prepare_cached(&self.statements.sweep).await?;
        Ok(client.execute(&statement, &[&i64::from(batch)]).await?)
    }

    /// Spawns a tokio task that, every `every`, sweeps batches of `batch`
    /// rows until a batch comes back short. Failures are logged (`warn`)
    /// and retried at the next turn. Abort the handle to stop it.
    pub fn spawn_sweeper(&self, every: Duration, batch: u32) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        let table = store.statements.name.clone();
        sweeper::spawn(every, batch, table, "expired keys", move |batch| {
            let store = store.clone();
            async move { store.sweep_expired(batch).await }
        })
    }

    /// Records `key` as handled inside `transaction`, for effects that must
    /// happen exactly once: the key commits with the handler's own writes
    /// or not at all, so a crash between handling and recording cannot run
    /// the effect twice. A second delivery of the key meanwhile waits on the
    /// row until this transaction ends, then finds it handled (committed)
    /// or free (rolled back). Uses the same table and time-to-live as the
    /// store's [`SeenKeys`] methods.
    ///
    /// ```no_run
    /// # use attio_webhooks_postgres::{PostgresSeenKeys, Recorded};
    /// # async fn handle(store: &PostgresSeenKeys, key: &str) -> Result<u16, Box<dyn std::error::Error>> {
    /// let mut connection = store.pool().get().await?;
    /// let transaction = connection.transaction().await?;
    /// match store.record_in(&transaction, key).await? {
    ///     Recorded::First => {
    ///         transaction.execute("INSERT INTO invoices (deal) VALUES ($1)", &[&"deal-1"]).await?;
    ///         transaction.commit().await?; // the invoice and the key, together
    ///         Ok(200)
    ///     }
    ///     Recorded::AlreadyHandled => Ok(200),
    ///     // Recorded::InProgress: a `Once` on the same table holds the key.
    ///     _ => Ok(409),
    /// }
    /// # }
    /// ```
    pub async fn record_in(
        &self,
        transaction: &deadpool_postgres::Transaction<'_>,
        key: &str,
    ) -> Result<Recorded, Error> {
        let claim = transaction.prepare_cached(&self.statements.claim).await?;
        match self.claim_on(&**transaction, &claim, key).await? {
            Claim::Claimed(token) => {
                let complete = transaction
                    .prepare_cached(&self.statements.complete)
                    .await?;
                let changed = self
                    .complete_on(&**transaction, &complete, key, &token)
                    .await?;
                debug_assert_eq!(changed, Settled::Held);
                Ok(Recorded::First)
            }
            Claim::Done => Ok(Recorded::AlreadyHandled),
            _ => Ok(Recorded::InProgress),
        }
    }

    async fn connection(&self) -> Result<Object, Error> {
        self.pool.get().await.map_err(Error::Connection)
    }

    async fn claim_on(
        &self,
        client: &impl GenericClient,
        statement: &Statement,
        key: &str,
    ) -> Result<Claim, Error> {
        let token = ClaimToken::random();
        let row = client
            .query_one(
                statement,
                &[&digest(key), &token.as_str(), &millis(self.lease)],
            )
            .await?;
        Ok(match row.get::<_, Option<&str>>(0) {
            Some(found) if found == token.as_str() => Claim::Claimed(token),
            Some(_) => Claim::InProgress,
            None => Claim::Done,
        })
    }

    async fn complete_on(
        &self,
        client: &impl GenericClient,
        statement: &Statement,
        key: &str,
        token: &ClaimToken,
    ) -> Result<Settled, Error> {
        let ttl = millis(self.ttl);
        let changed = client
            .execute(statement, &[&digest(key), &token.as_str(), &ttl])
            .await?;
        Ok(held(changed))
    }
}

/// What an `UPDATE ... WHERE token = $n` that changed `changed` rows
/// means for the caller's claim (the inbox's statements read it alike).
pub(crate) fn held(changed: u64) -> Settled {
    if changed == 1 {
        Settled::Held
    } else {
        Settled::Lost
    }
}

/// The stored key: SHA-256 of the `Idempotency-Key`, so any length or
/// bytes cost 32 bytes.
fn digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// Milliseconds, at least 1.

#[async_trait::async_trait]
impl SeenKeys for PostgresSeenKeys {
    async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
        Ok(bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client.prepare_cached(&self.statements.claim).await?;
            self.claim_on(&***client, &statement, key).await
        })
        .await?)
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        Ok(bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client.prepare_cached(&self.statements.complete).await?;
            self.complete_on(&***client, &statement, key, token).await
        })
        .await?)
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        Ok(bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client.prepare_cached(&self.statements.release).await?;
            let changed = client
                .execute(&statement, &[&digest(key), &token.as_str()])
                .await?;
            Ok(held(changed))
        })
        .await?)
    }

    fn lease(&self) -> Option<Duration> {
        Some(self.lease)
    }

    /// `UPDATE … SET expires_at = now + lease WHERE key = $1 AND token = $2
    /// AND expires_at > now`, on the server's clock.
    async fn renew(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        Ok(bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client.prepare_cached(&self.statements.renew).await?;
            let changed = client
                .execute(
                    &statement,
                    &[&digest(key), &token.as_str(), &millis(self.lease)],
                )
                .await?;
            Ok(held(changed))
        })
        .await?)
    }
}

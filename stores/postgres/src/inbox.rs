//! [`PostgresInbox`]: the [`Inbox`] on one PostgreSQL table: accepting
//! (here), working ([`crate::inbox_worker`]) and operating
//! ([`crate::inbox_admin`]).

use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::error::BoxError;
use attio_webhooks::receive::{Inbox, InboxEvent, Stored, DEFAULT_LEASE, DEFAULT_TTL};
use deadpool_postgres::{Object, Pool};
use sha2::{Digest, Sha256};

use crate::call_timeout::{bounded, DEFAULT_CALL_TIMEOUT};
use crate::error::Error;
use crate::inbox_table::{InboxStatements, DEFAULT_INBOX_TABLE};
use crate::PostgresSeenKeys;

/// How many attempts an event gets by default before it is a dead letter.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// A durable [`Inbox`] in a PostgreSQL table, shared by every receiver and
/// every worker that uses the same database and table. Clones share the
/// pool.
///
/// - **Accept** ([`Inbox::accept`], through the axum extractor, the tower
///   `InboxService` or `attio-webhooks listen --inbox`): a delivery's
///   events in one `INSERT`, each with its exact bytes, its dedupe key
///   (stored as its SHA-256, `UNIQUE`: a redelivery is stored once) and
///   its ordering key; then answer 200. PostgreSQL down: 503, never 200.
/// - **Work** ([`run`](Self::run)): workers on any number of processes
///   claim events with a lease (`FOR UPDATE SKIP LOCKED`), run the handler,
///   and mark them done. Events with the same ordering key (the record,
///   entry, list or note) run one at a time, in the order they were
///   stored; different keys run in parallel. The lease is renewed while
///   the handler runs; a worker that dies loses it when it runs out, and
///   the event runs again: at least once. For effects exactly once, write
///   them with [`record_in`](Self::record_in) in one transaction. A worker
///   marks an event done and claims the next in one statement
///   ([`drain`](Self::drain), which a scheduled job can call too).
/// - **Fail**: a failed event waits (exponential backoff from
///   [`with_backoff`](Self::with_backoff)'s base, doubled each attempt, up
///   to its cap, with jitter: a random half to all of it) and runs again;
///   after [`with_max_attempts`](Self::with_max_attempts) attempts it is a
///   dead letter, which no longer holds back its key's later events
///   unless [`strict_order`](Self::strict_order) asks it to. Dead letters
///   stay until replayed or dropped (`attio-webhooks inbox`, or
///   [`replay`](Self::replay) / [`drop_event`](Self::drop_event)).
/// - **Sweep**: done events are deleted after the time-to-live, in bounded
///   batches ([`sweep_done`](Self::sweep_done), [`spawn_sweeper`](Self::spawn_sweeper)).
///   Until then a redelivery of one is recognised and not stored again.
///
/// Order is the order of storing: the events of a delivery in the
/// delivery's order, and deliveries stored one after another in that
/// order. Two deliveries about one record stored at the same instant by
/// two receivers have no order between them (Attio's retries can reorder
/// them anyway); each is still handled alone.
#[derive(Clone)]
pub struct PostgresInbox {
    pub(crate) pool: Pool,
    pub(crate) statements: Arc<InboxStatements>,
    pub(crate) lease: Duration,
    pub(crate) ttl: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) backoff: (Duration, Duration),
    pub(crate) strict: bool,
    pub(crate) poll: Duration,
    pub(crate) call_timeout: Duration,
}

impl std::fmt::Debug for PostgresInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresInbox")
            .field("table", &self.statements.name)
            .field("lease", &self.lease)
            .field("ttl", &self.ttl)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("strict", &self.strict)
            .field("poll", &self.poll)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresInbox {
    /// An inbox with a pool of up to 16 connections to the database at
    /// `url` (as [`PostgresSeenKeys::connect`] makes it), on
    /// [`DEFAULT_INBOX_TABLE`]. No connection is made until the first use;
    /// call [`migrate`](Self::migrate) to create the table.
    pub fn connect(url: &str) -> Result<Self, Error> {
        Ok(Self::new(PostgresSeenKeys::connect(url)?.pool().clone()))
    }

    /// An inbox over a pool you set up (TLS, sizes, timeouts), with a
    /// lease of [`DEFAULT_LEASE`], a time-to-live of [`DEFAULT_TTL`],
    /// [`DEFAULT_MAX_ATTEMPTS`], a backoff of 1 s doubling up to 10 min,
    /// dead letters not holding their key back, workers polling every
    /// 200 ms when idle, and each call a delivery or a worker waits on
    /// bounded by [`DEFAULT_CALL_TIMEOUT`].
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            statements: Arc::new(
                InboxStatements::for_table(DEFAULT_INBOX_TABLE).expect("the default name is valid"),
            ),
            lease: DEFAULT_LEASE,
            ttl: DEFAULT_TTL,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: (Duration::from_secs(1), Duration::from_secs(600)),
            strict: false,
            poll: Duration::from_millis(200),
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// Uses the table `name` (`table` or `schema.table`: ASCII letters,
    /// digits and `_`, at most 52 bytes a part).
    ///
    /// ```
    /// # use attio_webhooks_postgres::{Error, PostgresInbox};
    /// let inbox = PostgresInbox::connect("postgres://localhost/app").unwrap();
    /// assert!(inbox.clone().with_table("billing.attio_inbox").is_ok());
    /// assert!(matches!(inbox.with_table("inbox; drop table users"), Err(Error::TableName(_))));
    /// ```
    pub fn with_table(mut self, name: &str) -> Result<Self, Error> {
        self.statements = Arc::new(InboxStatements::for_table(name)?);
        Ok(self)
    }

    /// Sets how long a claim lasts without renewal (at least 1 ms). A
    /// worker renews it every third of it while the handler runs, so it
    /// bounds how long an event waits after its worker died, not how long
    /// a handler may take.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// Sets how long done events are kept (and their redeliveries
    /// recognised) before [`sweep_done`](Self::sweep_done) deletes them.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets how many attempts an event gets before it becomes a dead
    /// letter (at least 1). An attempt whose worker died counts.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the wait after a first failure (`base`, doubled after each
    /// further one) and its cap; each wait is a random half to all of it.
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff = (base, cap.max(base));
        self
    }

    /// With `true`, a dead letter holds back its key's later events until
    /// it is replayed or dropped (strict order); by default it does not.
    pub fn strict_order(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sets how long an idle worker waits before looking for work again
    /// (each wait a random half to all of it).
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll.max(Duration::from_millis(1));
        self
    }

    /// Sets how long one of the statements a delivery or a worker waits
    /// on may take, getting a connection included (at least 1 ms; default
    /// [`DEFAULT_CALL_TIMEOUT`]): past it `accept` answers 503 and a
    /// worker's call fails with [`Error::TimedOut`] (its claim, if the
    /// statement took effect after all, runs out with its lease). The
    /// operator's statements (`status`, `list`, ...) and `migrate` are not
    /// bounded.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The pool, for the handler's own statements (and the transaction of
    /// [`record_in`](Self::record_in)).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The table's name, as given.
    pub fn table(&self) -> &str {
        &self.statements.name
    }

    /// Creates the table and its indexes if they do not exist. Safe to
    /// call from every replica at start-up at once (an advisory lock
    /// makes one create them).
    pub async fn migrate(&self) -> Result<(), Error> {
        let client = self.connection().await?;
        client.batch_execute(&self.statements.create).await?;
        Ok(())
    }

    pub(crate) async fn connection(&self) -> Result<Object, Error> {
        self.pool.get().await.map_err(Error::Connection)
    }

    /// Stores `events` in one statement; how many were new.
    async fn insert(&self, events: &[InboxEvent]) -> Result<u64, Error> {
        let dedupe: Vec<Vec<u8>> = events
            .iter()
            .map(|e| Sha256::digest(e.dedupe_key.as_bytes()).to_vec())
            .collect();
        let keys: Vec<&str> = events.iter().map(|e| e.dedupe_key.as_str()).collect();
        let order: Vec<&str> = events.iter().map(|e| e.ordering_key.as_str()).collect();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let bodies: Vec<&[u8]> = events.iter().map(|e| e.bytes.as_ref()).collect();
        bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client.prepare_cached(&self.statements.accept).await?;
            Ok(client
                .execute(&statement, &[&dedupe, &keys, &order, &types, &bodies])
                .await?)
        })
        .await
    }
}

#[async_trait::async_trait]
impl Inbox for PostgresInbox {
    async fn store(&self, events: &[InboxEvent]) -> Result<Stored, BoxError> {
        if events.is_empty() {
            return Ok(Stored::new(0, 0));
        }
        let new = self.insert(events).await?;
        Ok(Stored::new(new, events.len() as u64 - new))
    }
}

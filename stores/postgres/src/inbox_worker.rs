//! The working side of [`PostgresInbox`]: claim an event under a lease,
//! run the handler while renewing the lease, then mark it done, retry it
//! later, or make it a dead letter.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::bytes::Bytes;
use attio_webhooks::receive::{ClaimToken, Event, InboxEvent, PayloadError, Settled};
use tokio_postgres::Row;

use crate::call_timeout::bounded;
use crate::error::Error;
use crate::inbox::PostgresInbox;
use crate::store::held;
use crate::sweeper::millis;

/// The longest error text kept with an event.
const MAX_ERROR_LEN: usize = 2000;

/// An event a worker claimed: what the handler is given.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InboxItem {
    /// The event's row id: the order it was stored in, and the id the
    /// `attio-webhooks inbox` commands take.
    pub id: i64,
    /// Its dedupe key (`Idempotency-Key#position`).
    pub dedupe_key: String,
    /// Its ordering key (`workspace/record/id`, ...).
    pub ordering_key: String,
    /// Its `event_type`.
    pub event_type: String,
    /// The event's JSON exactly as Attio sent it.
    pub bytes: Bytes,
    /// Which attempt this is, from 1 (attempts whose worker died count).
    pub attempt: u32,
    /// The claim's token: [`PostgresInbox::record_in`] checks it.
    pub token: ClaimToken,
}

impl InboxItem {
    /// The event, parsed from [`InboxItem::bytes`].
    pub fn event(&self) -> Result<Event, PayloadError> {
        InboxEvent::parse(&self.bytes)
    }

    fn from_row(row: &Row, token: ClaimToken) -> Self {
        Self {
            id: row.get(0),
            dedupe_key: row.get(1),
            ordering_key: row.get(2),
            event_type: row.get(3),
            bytes: Bytes::from(row.get::<_, Vec<u8>>(4)),
            attempt: u32::try_from(row.get::<_, i32>(5)).unwrap_or(0),
            token,
        }
    }
}

/// What became of one claimed event ([`PostgresInbox::work_once`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Worked {
    /// The handler succeeded; the event is done.
    Done,
    /// The handler failed; the event runs again after the backoff.
    Retry,
    /// The handler failed its last attempt (or the event's workers died
    /// that often): it is a dead letter now.
    Dead,
    /// The claim ran out and another worker took the event (or it was
    /// replayed or dropped meanwhile): nothing was recorded.
    Lost,
}

/// What [`PostgresInbox::drain`] did: how many events ended each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drained {
    /// Handled and marked done.
    pub done: u64,
    /// Failed; they run again after the backoff.
    pub retried: u64,
    /// Failed their last attempt: dead letters now.
    pub dead: u64,
    /// Handled, but their claims ran out and other workers took them
    /// (or they were replayed or dropped): nothing was recorded.
    pub lost: u64,
}

impl Drained {
    /// Every event handled, however it ended.
    pub fn handled(&self) -> u64 {
        self.done + self.retried + self.dead + self.lost
    }

    fn count(&mut self, worked: Worked) {
        match worked {
            Worked::Done => self.done += 1,
            Worked::Retry => self.retried += 1,
            Worked::Dead => self.dead += 1,
            Worked::Lost => self.lost += 1,
        }
    }
}

impl PostgresInbox {
    /// Claims the first event that may run now: ready, due, not leased,
    /// and the earliest open event of its ordering key. `None` when there
    /// is none.
    pub async fn claim(&self) -> Result<Option<InboxItem>, Error> {
        let token = ClaimToken::random();
        let row = bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client.prepare_cached(&self.statements.claim).await?;
            Ok(client
                .query_opt(
                    &statement,
                    &[&token.as_str(), &millis(self.lease), &self.strict],
                )
                .await?)
        })
        .await?;
        Ok(row.map(|row| InboxItem::from_row(&row, token)))
    }

    /// Claims one event and handles it with `handler` (renewing the lease
    /// meanwhile), then settles it; `None` when no event may run now.
    /// [`drain`](Self::drain) handles events one after another in fewer
    /// statements.
    pub async fn work_once<H, Fut, E>(&self, handler: &H) -> Result<Option<Worked>, Error>
    where
        H: Fn(InboxItem) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        let Some(item) = self.claim().await? else {
            return Ok(None);
        };
        let (id, token, attempt) = (item.id, item.token.clone(), item.attempt);
        Ok(Some(match self.handle(handler, item).await {
            Ok(()) => self.settle_done(id, &token).await,
            Err(error) => self.settle_failed(id, &token, attempt, &error).await,
        }))
    }

    /// Handles events one after another, as [`work_once`](Self::work_once)
    /// does, until none may run now or `limit` have been handled; what
    /// each worker of [`run`](Self::run) does between polls, and what a
    /// job that empties the inbox on a schedule calls. After a handler
    /// succeeds, marking its event done and claiming the next go to
    /// PostgreSQL as one statement: one round trip and one commit an
    /// event instead of two. No event is left claimed when it returns
    /// (unless a statement ran out of its call timeout after PostgreSQL
    /// carried it out: that claim runs out with its lease). An error means
    /// PostgreSQL failed while claiming; the events handled before it are
    /// settled.
    ///
    /// ```no_run
    /// # use attio_webhooks_postgres::{Drained, InboxItem, PostgresInbox};
    /// # async fn demo(inbox: PostgresInbox) -> Result<(), attio_webhooks_postgres::Error> {
    /// let handler = |item: InboxItem| async move {
    ///     println!("{} {}", item.id, item.event_type);
    ///     Ok::<(), String>(())
    /// };
    /// let drained: Drained = inbox.drain(&handler, 1_000).await?;
    /// println!("{} done, {} to retry, {} dead", drained.done, drained.retried, drained.dead);
    /// # Ok(()) }
    /// ```
    pub async fn drain<H, Fut, E>(&self, handler: &H, limit: u64) -> Result<Drained, Error>
    where
        H: Fn(InboxItem) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        let mut drained = Drained::default();
        let mut next = if limit > 0 { self.claim().await? } else { None };
        while let Some(item) = next.take() {
            let (id, token, attempt) = (item.id, item.token.clone(), item.attempt);
            let result = self.handle(handler, item).await;
            let more = drained.handled() + 1 < limit;
            match result {
                Ok(()) if more => match self.complete_and_claim(id, &token).await {
                    Ok((worked, claimed)) => {
                        drained.count(worked);
                        next = claimed;
                        continue;
                    }
                    // Neither happened (one statement): one by one.
                    Err(_) => drained.count(self.settle_done(id, &token).await),
                },
                Ok(()) => drained.count(self.settle_done(id, &token).await),
                Err(error) => {
                    drained.count(self.settle_failed(id, &token, attempt, &error).await);
                }
            }
            if more {
                next = self.claim().await?;
            }
        }
        Ok(drained)
    }

    /// Runs `workers` workers in this process until the future is dropped,
    /// each handling events as [`drain`](Self::drain) does
    /// and waiting [`with_poll_interval`](Self::with_poll_interval) when
    /// there is none. Errors (PostgreSQL down) are logged (`warn`) and
    /// retried after a wait; they end nothing. A handler that panics
    /// loses its worker, which is replaced (the event runs again after the
    /// lease). Dropping the future stops every worker where it stands:
    /// their events run again once their leases run out. Start it on
    /// every process that should work, as many as you like.
    ///
    /// ```no_run
    /// # use attio_webhooks_postgres::{PostgresInbox, InboxItem};
    /// # async fn demo(inbox: PostgresInbox) {
    /// inbox
    ///     .run(
    ///         |item: InboxItem| async move {
    ///             let event = item.event().map_err(|e| e.to_string())?;
    ///             println!("{} {:?}", event.event_type, event.record_id());
    ///             Ok::<(), String>(())
    ///         },
    ///         4,
    ///     )
    ///     .await;
    /// # }
    /// ```
    pub async fn run<H, Fut, E>(&self, handler: H, workers: usize)
    where
        H: Fn(InboxItem) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send,
        E: Display + Send,
    {
        let handler = Arc::new(handler);
        let mut set = tokio::task::JoinSet::new();
        let spawn = |set: &mut tokio::task::JoinSet<()>| {
            let (inbox, handler) = (self.clone(), handler.clone());
            set.spawn(async move { inbox.work_forever(&*handler).await });
        };
        for _ in 0..workers.max(1) {
            spawn(&mut set);
        }
        // A worker ends only if its handler panicked: its event runs again
        // once the lease runs out, and a new worker takes its place.
        while let Some(ended) = set.join_next().await {
            if let Err(error) = ended {
                tracing::warn!(%error, table = %self.statements.name, "inbox: a handler panicked; its event runs again after the lease, and a new worker starts");
                spawn(&mut set);
            }
        }
    }

    async fn work_forever<H, Fut, E>(&self, handler: &H)
    where
        H: Fn(InboxItem) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        let mut failures = 0u32;
        loop {
            match self.drain(handler, u64::MAX).await {
                Ok(_) => {
                    failures = 0;
                    tokio::time::sleep(jittered(self.poll)).await;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, table = %self.statements.name, "inbox worker: could not claim an event");
                    let wait = self.poll.saturating_mul(1 << failures.min(5));
                    tokio::time::sleep(jittered(wait.min(Duration::from_secs(5)))).await;
                }
            }
        }
    }

    /// Runs the handler on `item` (renewing its claim meanwhile), or fails
    /// it at once if its attempts ran out without a result.
    async fn handle<H, Fut, E>(&self, handler: &H, item: InboxItem) -> Result<(), String>
    where
        H: Fn(InboxItem) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        if item.attempt > self.max_attempts {
            // Claims ran out this often without a result: its workers died.
            return Err(format!(
                "{} attempts; the last ones ended without a result (the worker died or lost its lease)",
                item.attempt - 1
            ));
        }
        let (id, token) = (item.id, item.token.clone());
        self.with_heartbeat(id, &token, handler(item))
            .await
            .map_err(|e| e.to_string())
    }

    /// Runs `handling`, renewing the claim every third of the lease.
    async fn with_heartbeat<Fut: Future>(
        &self,
        id: i64,
        token: &ClaimToken,
        handling: Fut,
    ) -> Fut::Output {
        let every = (self.lease / 3).max(Duration::from_millis(1));
        let mut beats = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(handling);
        loop {
            tokio::select! {
                output = &mut handling => return output,
                _ = beats.tick() => match self.renew(id, token).await {
                    Ok(Settled::Held) => {}
                    // The event was taken over, replayed or dropped; the
                    // handler goes on, and its result will not be recorded.
                    Ok(_) => tracing::warn!(id, table = %self.statements.name, "inbox: a handler lost its claim (its lease ran out before a renewal)"),
                    Err(error) => tracing::warn!(id, %error, table = %self.statements.name, "inbox: could not renew a claim; it runs out unless a later renewal succeeds"),
                },
            }
        }
    }

    async fn renew(&self, id: i64, token: &ClaimToken) -> Result<Settled, Error> {
        bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client.prepare_cached(&self.statements.heartbeat).await?;
            let changed = client
                .execute(&statement, &[&id, &token.as_str(), &millis(self.lease)])
                .await?;
            Ok(held(changed))
        })
        .await
    }

    /// Marks event `id` done and claims the next in one statement
    /// ([`InboxStatements`](crate::inbox_table::InboxStatements)'
    /// `complete_and_claim`).
    async fn complete_and_claim(
        &self,
        id: i64,
        token: &ClaimToken,
    ) -> Result<(Worked, Option<InboxItem>), Error> {
        let next = ClaimToken::random();
        let row = bounded(&self.pool, self.call_timeout, async |client| {
            let statement = client
                .prepare_cached(&self.statements.complete_and_claim)
                .await?;
            Ok(client
                .query_one(
                    &statement,
                    &[
                        &next.as_str(),
                        &millis(self.lease),
                        &self.strict,
                        &id,
                        &token.as_str(),
                    ],
                )
                .await?)
        })
        .await?;
        let worked = match row.get::<_, i64>(6) {
            1 => Worked::Done,
            _ => Worked::Lost,
        };
        let claimed = row
            .get::<_, Option<i64>>(0)
            .map(|_| InboxItem::from_row(&row, next));
        Ok((worked, claimed))
    }

    /// Marks the event done; retried a few times if PostgreSQL fails (if
    /// it never answers, the lease runs out and the event runs again).
    async fn settle_done(&self, id: i64, token: &ClaimToken) -> Worked {
        let done = self
            .settle_with_retries(|| {
                bounded(&self.pool, self.call_timeout, async |client| {
                    let statement = client.prepare_cached(&self.statements.complete).await?;
                    Ok(held(
                        client.execute(&statement, &[&id, &token.as_str()]).await?,
                    ))
                })
            })
            .await;
        match done {
            Some(Settled::Held) => Worked::Done,
            _ => Worked::Lost,
        }
    }

    async fn settle_failed(
        &self,
        id: i64,
        token: &ClaimToken,
        attempt: u32,
        error: &str,
    ) -> Worked {
        let error: String = error.chars().take(MAX_ERROR_LEN).collect();
        let wait = millis(self.backoff_for(attempt));
        let max = i32::try_from(self.max_attempts).unwrap_or(i32::MAX);
        let state = self
            .settle_with_retries(|| {
                bounded(&self.pool, self.call_timeout, async |client| {
                    let statement = client.prepare_cached(&self.statements.fail).await?;
                    let row = client
                        .query_opt(&statement, &[&id, &token.as_str(), &error, &max, &wait])
                        .await?;
                    Ok(row.map(|row| row.get::<_, String>(0)))
                })
            })
            .await;
        match state.flatten().as_deref() {
            Some("dead") => Worked::Dead,
            Some(_) => Worked::Retry,
            None => Worked::Lost,
        }
    }

    async fn settle_with_retries<T, F, Fut>(&self, settle: F) -> Option<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut wait = Duration::from_millis(50);
        for attempt in 1..=5 {
            match settle().await {
                Ok(settled) => return Some(settled),
                Err(error) if attempt == 5 => {
                    tracing::warn!(%error, table = %self.statements.name, "inbox: could not record a handled event; it runs again when its lease runs out");
                }
                Err(_) => {
                    tokio::time::sleep(jittered(wait)).await;
                    wait *= 2;
                }
            }
        }
        None
    }

    /// The wait before attempt `attempt + 1`: base × 2^(attempt - 1), capped, jittered.
    fn backoff_for(&self, attempt: u32) -> Duration {
        let (base, cap) = self.backoff;
        let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        jittered(doubled.min(cap))
    }

    /// Marks `item` done inside `transaction`, with the handler's own
    /// writes: they commit together or not at all, so an effect recorded
    /// this way happens once even though the event may run again (its
    /// worker died, its lease ran out). [`Settled::Lost`] means another
    /// worker holds the event now (or it was replayed or dropped): roll
    /// back and return an error.
    ///
    /// ```no_run
    /// # use attio_webhooks::receive::Settled;
    /// # use attio_webhooks_postgres::{InboxItem, PostgresInbox};
    /// # async fn handle(inbox: &PostgresInbox, item: InboxItem) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let mut connection = inbox.pool().get().await?;
    /// let transaction = connection.transaction().await?;
    /// transaction.execute("INSERT INTO invoices (event) VALUES ($1)", &[&item.id]).await?;
    /// match inbox.record_in(&transaction, &item).await? {
    ///     Settled::Held => transaction.commit().await?, // the invoice and "done", together
    ///     _ => return Err("another worker has this event now".into()), // dropped: rolled back
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn record_in(
        &self,
        transaction: &deadpool_postgres::Transaction<'_>,
        item: &InboxItem,
    ) -> Result<Settled, Error> {
        let statement = transaction.prepare_cached(&self.statements.record).await?;
        let changed = transaction
            .execute(&statement, &[&item.id, &item.token.as_str()])
            .await?;
        Ok(held(changed))
    }
}

/// A random half to all of `d`.
fn jittered(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64() / 2.0)
}

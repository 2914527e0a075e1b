//! Operating a [`PostgresInbox`]: counts, listing, one event, replay,
//! drop, and sweeping done events (what `attio-webhooks inbox` runs).

use std::time::Duration;

use tokio_postgres::Row;

use crate::error::Error;
use crate::inbox::PostgresInbox;
use crate::sweeper::{self, millis};

/// The inbox's counts ([`PostgresInbox::status`]).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct InboxStatus {
    /// Events waiting or being handled.
    pub ready: i64,
    /// Of those, being handled now (claimed under a lease).
    pub in_flight: i64,
    /// Of those, failed at least once and waiting to run again.
    pub retrying: i64,
    /// Handled events kept until the time-to-live (redeliveries of them
    /// are recognised).
    pub done: i64,
    /// Dead letters.
    pub dead: i64,
    /// How long the oldest ready event has waited, in seconds.
    pub oldest_ready_secs: Option<f64>,
}

/// One event as the operator sees it ([`PostgresInbox::list`],
/// [`PostgresInbox::show`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxRow {
    /// The event's id.
    pub id: i64,
    /// `ready`, `done` or `dead`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Its ordering key.
    pub ordering_key: String,
    /// Its `event_type`.
    pub event_type: String,
    /// Its dedupe key.
    pub dedupe_key: String,
    /// The last failure's message, if any.
    pub last_error: Option<String>,
    /// When it was stored (RFC 3339, UTC, microseconds).
    pub accepted_at: String,
    /// A worker holds it now.
    pub in_flight: bool,
    /// The event's exact bytes: only from [`PostgresInbox::show`].
    pub body: Option<Vec<u8>>,
}

impl InboxRow {
    fn from_row(row: &Row, with_body: bool) -> Self {
        Self {
            id: row.get(0),
            state: row.get(1),
            attempts: row.get(2),
            ordering_key: row.get(3),
            event_type: row.get(4),
            dedupe_key: row.get(5),
            last_error: row.get(6),
            accepted_at: row.get(7),
            in_flight: row.get(8),
            body: with_body.then(|| row.get(9)),
        }
    }
}

impl PostgresInbox {
    /// How many events are ready, in flight, retrying, done and dead.
    pub async fn status(&self) -> Result<InboxStatus, Error> {
        let client = self.connection().await?;
        let row = client.query_one(&self.statements.status, &[]).await?;
        Ok(InboxStatus {
            ready: row.get(0),
            in_flight: row.get(1),
            retrying: row.get(2),
            done: row.get(3),
            dead: row.get(4),
            oldest_ready_secs: row.get(5),
        })
    }

    /// Up to `limit` events not done (or only dead letters), oldest first,
    /// without their bodies.
    pub async fn list(&self, dead_only: bool, limit: u32) -> Result<Vec<InboxRow>, Error> {
        let client = self.connection().await?;
        let rows = client
            .query(&self.statements.list, &[&dead_only, &i64::from(limit)])
            .await?;
        Ok(rows.iter().map(|r| InboxRow::from_row(r, false)).collect())
    }

    /// The event `id` with its bytes, or `None` if there is none.
    pub async fn show(&self, id: i64) -> Result<Option<InboxRow>, Error> {
        let client = self.connection().await?;
        let row = client.query_opt(&self.statements.show, &[&id]).await?;
        Ok(row.map(|r| InboxRow::from_row(&r, true)))
    }

    /// Puts the event `id` (dead, done, or waiting on a backoff) back to
    /// ready as new: attempts 0, due now, in its own place in its key's
    /// order. `false` when there is no such event or a worker holds it
    /// now.
    pub async fn replay(&self, id: i64) -> Result<bool, Error> {
        let client = self.connection().await?;
        Ok(client.execute(&self.statements.replay, &[&id]).await? == 1)
    }

    /// [`replay`](Self::replay)s every dead letter; how many.
    pub async fn replay_dead(&self) -> Result<u64, Error> {
        let client = self.connection().await?;
        Ok(client.execute(&self.statements.replay_dead, &[]).await?)
    }

    /// Deletes the event `id` (it will not run; a redelivery of it would
    /// be stored again). `false` when there is no such event or a worker
    /// holds it now.
    pub async fn drop_event(&self, id: i64) -> Result<bool, Error> {
        let client = self.connection().await?;
        Ok(client.execute(&self.statements.drop, &[&id]).await? == 1)
    }

    /// Deletes at most `batch` done events older than the time-to-live,
    /// oldest first, skipping rows another statement holds; how many.
    /// Dead letters are never swept.
    pub async fn sweep_done(&self, batch: u32) -> Result<u64, Error> {
        let client = self.connection().await?;
        let statement = client.prepare_cached(&self.statements.sweep).await?;
        Ok(client
            .execute(&statement, &[&millis(self.ttl), &i64::from(batch)])
            .await?)
    }

    /// Spawns a tokio task that, every `every`, sweeps batches of `batch`
    /// done events until a batch comes back short. Failures are logged
    /// (`warn`) and retried at the next turn. Abort the handle to stop it.
    pub fn spawn_sweeper(&self, every: Duration, batch: u32) -> tokio::task::JoinHandle<()> {
        let inbox = self.clone();
        let table = inbox.table().to_owned();
        sweeper::spawn(every, batch, table, "done inbox events", move |batch| {
            let inbox = inbox.clone();
            async move { inbox.sweep_done(batch).await }
        })
    }
}

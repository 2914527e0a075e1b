//! [`PostgresSeenKeys`]: a PostgreSQL-backed [`SeenKeys`](attio_webhooks::receive::SeenKeys) store, so that
//! [`Once`](attio_webhooks::receive::Once) handles each Attio delivery once
//! across every replica that shares the database, and
//! [`record_in`](PostgresSeenKeys::record_in) for effects that must happen
//! exactly once, recorded in the handler's own transaction.
//!
//! ```no_run
//! use attio_webhooks::receive::Once;
//! use attio_webhooks_postgres::PostgresSeenKeys;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = PostgresSeenKeys::connect("postgres://app@127.0.0.1/app")?;
//! keys.migrate().await?; // CREATE TABLE IF NOT EXISTS attio_webhooks_seen ...
//! keys.spawn_sweeper(std::time::Duration::from_secs(60), 1000);
//! let once = Once::new(keys);
//! # let _ = once; Ok(()) }
//! ```
//!
//! How it keeps the protocol of `SeenKeys`:
//!
//! - One row per key, keyed by the SHA-256 of the `Idempotency-Key`
//!   (`bytea PRIMARY KEY`), so a key of any length or bytes costs 32 bytes.
//! - `claim` is one `INSERT ... ON CONFLICT (key) DO UPDATE` that takes the
//!   row only when it ran out, and returns the token it holds: the unique
//!   key serialises concurrent claims, so exactly one wins.
//! - `complete` and `release` are an `UPDATE` and a `DELETE` that match the
//!   caller's token and an unexpired row, so a holder whose lease ran out
//!   cannot settle another holder's claim.
//! - Leases and the time-to-live are `expires_at` by the server's
//!   `statement_timestamp()`, never a replica's clock.
//! - A PostgreSQL error is an error: `Once` answers 503 and Attio retries
//!   (fail closed). So is a call PostgreSQL does not answer within
//!   [`DEFAULT_CALL_TIMEOUT`] (or [`PostgresSeenKeys::with_call_timeout`]),
//!   connecting included.
//!
//! Statements are prepared once per pooled connection (deadpool's
//! statement cache).
//!
//! [`PostgresInbox`] is the durable inbox on the same database: each
//! delivery's events stored at once (the receiver answers 200 straight
//! away), then worked off by workers on any number of processes, in order
//! per record, with retries, dead letters and replay.

#![warn(missing_docs)]

mod call_timeout;
mod error;
mod inbox;
mod inbox_admin;
mod inbox_table;
mod inbox_worker;
mod store;
mod sweeper;
mod table;

pub use call_timeout::DEFAULT_CALL_TIMEOUT;
pub use error::Error;
pub use inbox::{PostgresInbox, DEFAULT_MAX_ATTEMPTS};
pub use inbox_admin::{InboxRow, InboxStatus};
pub use inbox_table::DEFAULT_INBOX_TABLE;
pub use inbox_worker::{Drained, InboxItem, Worked};
pub use store::{PostgresSeenKeys, Recorded};
pub use table::DEFAULT_TABLE;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! Bounded store calls: every statement a delivery or a worker waits on
//! answers within the call timeout, or fails with
//! [`Error::TimedOut`](crate::Error::TimedOut).

use std::time::Duration;

use deadpool_postgres::{Object, Pool};

use crate::error::Error;

/// How long one store call may take by default, getting a connection
/// (and connecting) included: 2 s. Its statements take a millisecond or
/// so on a healthy server, so this runs out only when PostgreSQL is
/// stalled or unreachable; then `Once` and the inbox's `accept` answer
/// 503 while most of Attio's delivery attempt is left (the fake gives up
/// after 10 s; Attio's own attempt timeout is not documented).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// `call` on a pooled connection, within `limit` from now. A connection
/// whose statement ran out of time is closed rather than returned to the
/// pool: its answer may never come (a stalled server, a flow the network
/// drops), and the next call should not queue behind it.
///
/// A statement that ran out of time may still have taken effect on the
/// server; every statement it bounds is safe to find so afterwards (a
/// claim runs out with its lease, a settle matches its token once).
pub(crate) async fn bounded<T, F>(pool: &Pool, limit: Duration, call: F) -> Result<T, Error>
where
    F: AsyncFnOnce(&Object) -> Result<T, Error>,
{
    let deadline = tokio::time::Instant::now() + limit;
    let client = match tokio::time::timeout_at(deadline, pool.get()).await {
        Ok(client) => client.map_err(Error::Connection)?,
        Err(_) => return Err(Error::TimedOut(limit)),
    };
    match tokio::time::timeout_at(deadline, call(&client)).await {
        Ok(answer) => answer,
        Err(_) => {
            drop(Object::take(client));
            Err(Error::TimedOut(limit))
        }
    }
}

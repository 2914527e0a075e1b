//! What the dedupe table and the inbox share to stay bounded: a task that
//! deletes in batches on a timer, and the millisecond durations their
//! statements take.

use std::future::Future;
use std::time::Duration;

use crate::error::Error;

/// Milliseconds, at least 1.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// Spawns a tokio task that, every `every`, calls `sweep(batch)` until a
/// batch comes back short. Failures are logged (`warn`, naming `table`
/// and `what`) and retried at the next turn. Abort the handle to stop it.
pub(crate) fn spawn<F, Fut>(
    every: Duration,
    batch: u32,
    table: String,
    what: &'static str,
    sweep: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(u32) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, Error>> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            loop {
                match sweep(batch).await {
                    Ok(deleted) if deleted >= u64::from(batch) => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, %table, "could not sweep {what}");
                        break;
                    }
                }
            }
        }
    })
}

//! The fake's notion of "now": the system clock, or a manual test clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use attio_webhooks::model::Timestamp;
use tokio::sync::Notify;

/// Where the fake reads the time: `created_at` of new webhooks, and the
/// schedule of delivery retries and status changes.
///
/// [`Clock::manual`] starts at a fixed instant and moves only when told to,
/// so a test can run Attio's multi-day retry schedule in milliseconds:
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::model::Timestamp;
/// use attio_webhooks_testkit::Clock;
/// let clock = Clock::manual("2026-01-01T00:00:00Z".parse()?);
/// clock.advance(Duration::from_secs(3 * 24 * 3600));
/// assert_eq!(clock.now().to_string(), "2026-01-04T00:00:00.000000000Z");
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
///
/// It is also an [`attio_webhooks::runtime::Clock`], so the same manual
/// clock can drive the client (retry waits against an HTTP-date
/// `Retry-After`) and the receiving side ([`MemorySeenKeys`] leases and
/// TTLs) in step with the fake:
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::receive::{Claim, MemorySeenKeys, SeenKeys};
/// use attio_webhooks_testkit::Clock;
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let clock = Clock::manual("2026-01-01T00:00:00Z".parse()?);
/// let keys = MemorySeenKeys::new_with_clock(clock.clone()).with_lease(Duration::from_secs(30));
/// assert!(matches!(keys.claim("k").await?, Claim::Claimed(_)));
/// assert!(matches!(keys.claim("k").await?, Claim::InProgress));
/// clock.advance(Duration::from_secs(31)); // the first claim's lease runs out
/// assert!(matches!(keys.claim("k").await?, Claim::Claimed(_)));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(()) })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
///
/// [`MemorySeenKeys`]: attio_webhooks::receive::MemorySeenKeys
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    manual: Option<Mutex<Timestamp>>,
    /// Where [`attio_webhooks::runtime::Clock::monotonic`] counts from:
    /// the instant a system clock was made, the start of a manual one.
    origin: (Instant, Timestamp),
    moved: Notify,
}

impl Clock {
    /// The system clock. [`Clock::advance`] has no effect on it.
    pub fn system() -> Self {
        Self {
            inner: Arc::new(ClockInner {
                manual: None,
                origin: (Instant::now(), Timestamp::now()),
                moved: Notify::new(),
            }),
        }
    }

    /// A clock that starts at `start` and moves only by [`Clock::advance`] and [`Clock::set`].
    pub fn manual(start: Timestamp) -> Self {
        Self {
            inner: Arc::new(ClockInner {
                manual: Some(Mutex::new(start)),
                origin: (Instant::now(), start),
                moved: Notify::new(),
            }),
        }
    }

    /// `true` for a manual clock.
    pub fn is_manual(&self) -> bool {
        self.inner.manual.is_some()
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &self.inner.manual {
            Some(now) => *now.lock().unwrap_or_else(|p| p.into_inner()),
            None => Timestamp::now(),
        }
    }

    /// Moves a manual clock forward by `by` and wakes whatever waits on it
    /// (the delivery scheduler). Returns the new time.
    pub fn advance(&self, by: Duration) -> Timestamp {
        let now = match &self.inner.manual {
            Some(now) => {
                let mut now = now.lock().unwrap_or_else(|p| p.into_inner());
                *now = now.saturating_add(by);
                *now
            }
            None => Timestamp::now(),
        };
        self.inner.moved.notify_waiters();
        now
    }

    /// Sets a manual clock to `at` (never backwards) and wakes waiters.
    pub fn set(&self, at: Timestamp) -> Timestamp {
        let now = self.now();
        if at > now {
            self.advance(at.duration_since(now))
        } else {
            now
        }
    }
}

impl Clock {
    /// Waits until `at` by this clock: a real sleep for the system clock,
    /// until an [`Clock::advance`] reaches it for a manual one.
    pub async fn sleep_until(&self, at: Timestamp) {
        loop {
            let moved = self.inner.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            let now = self.now();
            if now >= at {
                return;
            }
            if self.is_manual() {
                moved.await;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(at.duration_since(now)) => {}
                    _ = moved => {}
                }
            }
        }
    }
}

/// One reading of the time a request is handled at: the fake's clock (for
/// `created_at`, deliveries and status changes) and the wall clock (for rate
/// limits and `Retry-After`, which clients measure against real time).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Now {
    /// The fake's clock.
    pub(crate) at: Timestamp,
    /// The system's wall clock.
    pub(crate) wall: SystemTime,
}

impl Clock {
    /// Reads both clocks.
    pub(crate) fn read(&self) -> Now {
        Now {
            at: self.now(),
            wall: SystemTime::now(),
        }
    }
}

/// The fake's clock as the client's and the receiving side's clock: a
/// manual clock's monotonic time is how far it was moved since its start
/// (it never goes back: [`Clock::set`] refuses to), its wall time is
/// [`Clock::now`].
impl attio_webhooks::runtime::Clock for Clock {
    fn monotonic(&self) -> Duration {
        match &self.inner.manual {
            Some(_) => self.now().duration_since(self.inner.origin.1),
            None => self.inner.origin.0.elapsed(),
        }
    }

    fn wall(&self) -> SystemTime {
        self.now().to_system_time()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

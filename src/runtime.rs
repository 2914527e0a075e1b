//! What the client needs from its platform: a timer for timeouts and retry
//! backoff ([`AsyncSleep`]), a clock for deadlines, leases and dates
//! ([`Clock`]), and, on `wasm32-unknown-unknown`, a seed for its random
//! numbers ([`seed_random`]).
//!
//! The crate reads the time only through a [`Clock`] and waits only through
//! an [`AsyncSleep`], so it runs where the standard library has no clock
//! (`wasm32-unknown-unknown`: a browser, an edge runtime) once you supply
//! both. On other targets [`StdClock`] is the default clock; with the
//! `tokio` feature `TokioSleep` is the default timer.
//!
//! On `wasm32` targets the futures these traits (and
//! [`Transport`](crate::Transport)) return need not be `Send`, since
//! JavaScript's promises are not; elsewhere they must be.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A future that completes after a delay.
#[cfg(not(target_arch = "wasm32"))]
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A future that completes after a delay. On `wasm32` it need not be
/// `Send` (a timer over JavaScript's `setTimeout` is not).
#[cfg(target_arch = "wasm32")]
pub type Sleep = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// Something that can wait: the only thing [`crate::Client`] needs from an
/// async runtime. With the `tokio` feature (on by default) the client uses
/// [`TokioSleep`]; on another runtime, implement this and pass it to
/// [`crate::ClientBuilder::sleep`].
///
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::{runtime::AsyncSleep, runtime::Sleep};
///
/// /// A timer that needs no runtime at all: a thread per sleep.
/// #[derive(Debug)]
/// struct ThreadSleep;
/// impl AsyncSleep for ThreadSleep {
///     fn sleep(&self, duration: Duration) -> Sleep {
///         let (done, wait) = futures::channel::oneshot::channel::<()>();
///         std::thread::spawn(move || {
///             std::thread::sleep(duration);
///             let _ = done.send(());
///         });
///         Box::pin(async move {
///             let _ = wait.await;
///         })
///     }
/// }
/// futures::executor::block_on(ThreadSleep.sleep(Duration::from_millis(1)));
/// ```
#[cfg_attr(not(feature = "tokio"), doc = "")]
#[cfg_attr(not(feature = "tokio"), doc = "[`TokioSleep`]: crate#features")]
pub trait AsyncSleep: std::fmt::Debug + Send + Sync + 'static {
    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// [`AsyncSleep`] on tokio's timer.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleep;

#[cfg(feature = "tokio")]
impl AsyncSleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Where the crate reads the time: [`crate::Client`]'s timeouts, deadlines
/// and `Retry-After` dates, [`MemorySeenKeys`](crate::receive::MemorySeenKeys)'
/// leases and time-to-live, and [`Timestamp::now_with`](crate::model::Timestamp::now_with).
///
/// On targets with a standard clock the default is [`StdClock`]; on
/// `wasm32-unknown-unknown`, where `std::time::Instant::now` and
/// `SystemTime::now` panic, implement it over the platform's clock (in a
/// browser, `performance.now()` and `Date.now()`) and pass it to
/// [`crate::ClientBuilder::clock`] and
/// [`MemorySeenKeys::new_with_clock`](crate::receive::MemorySeenKeys::new_with_clock).
/// A test can pass a clock it moves by hand.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::time::{Duration, SystemTime};
/// use attio_webhooks::model::Timestamp;
/// use attio_webhooks::runtime::Clock;
///
/// /// A clock that moves only when told to.
/// #[derive(Debug, Default)]
/// struct Manual(AtomicU64);
/// impl Manual {
///     fn advance(&self, by: Duration) {
///         self.0.fetch_add(by.as_nanos() as u64, Ordering::Relaxed);
///     }
/// }
/// impl Clock for Manual {
///     fn monotonic(&self) -> Duration {
///         Duration::from_nanos(self.0.load(Ordering::Relaxed))
///     }
///     fn wall(&self) -> SystemTime {
///         SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + self.monotonic()
///     }
/// }
///
/// let clock = Manual::default();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.monotonic(), Duration::from_millis(1500));
/// assert_eq!(Timestamp::now_with(&clock).to_string(), "2023-11-14T22:13:21.500000000Z");
/// ```
pub trait Clock: std::fmt::Debug + Send + Sync + 'static {
    /// The time elapsed since an origin of the clock's choosing (when it
    /// was made, when the page loaded). It must never go back: timeouts,
    /// deadlines and leases are measured on it.
    fn monotonic(&self) -> Duration;

    /// The calendar time now, for dates: an HTTP-date `Retry-After`,
    /// [`Timestamp::now_with`](crate::model::Timestamp::now_with). It may
    /// jump when the system's time is set.
    fn wall(&self) -> SystemTime;
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn monotonic(&self) -> Duration {
        (**self).monotonic()
    }

    fn wall(&self) -> SystemTime {
        (**self).wall()
    }
}

/// [`Clock`] on the standard library's: `std::time::Instant` (from the
/// first read in the process) and `SystemTime`. The default wherever they
/// work, which is every target but `wasm32-unknown-unknown`.
///
/// ```
/// use attio_webhooks::runtime::{Clock, StdClock};
/// let first = StdClock.monotonic();
/// assert!(StdClock.monotonic() >= first);
/// assert!(StdClock.wall() > std::time::SystemTime::UNIX_EPOCH);
/// ```
#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct StdClock;

#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
impl Clock for StdClock {
    fn monotonic(&self) -> Duration {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ORIGIN.get_or_init(std::time::Instant::now).elapsed()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Seeds the random numbers the crate draws on the calling thread: claim
/// tokens ([`ClaimToken::random`](crate::receive::ClaimToken::random)) and
/// the client's retry jitter.
///
/// Needed on `wasm32-unknown-unknown` only, where the crate can reach no
/// entropy (a module there imports nothing): without a seed every
/// instance starts from the same one, so instances draw the same claim
/// tokens (which a store shared by edge instances tells claims apart by)
/// and their clients wait the same jitter, retrying in step. Call it once
/// at start-up with 64 bits of the platform's entropy
/// (`crypto.getRandomValues` in a browser or an edge runtime), as you pass
/// a [`Clock`]. Elsewhere the generator seeds itself per thread, and this
/// only reseeds the calling thread.
///
/// ```
/// use attio_webhooks::receive::ClaimToken;
/// use attio_webhooks::runtime::seed_random;
///
/// // In an instance's start-up, with a seed from the host's entropy:
/// seed_random(0x9e37_79b9_7f4a_7c15);
/// let first = ClaimToken::random();
/// // Another instance, another seed, other tokens.
/// seed_random(0x2545_f491_4f6c_dd1d);
/// assert_ne!(ClaimToken::random(), first);
/// ```
pub fn seed_random(seed: u64) {
    fastrand::seed(seed);
}

/// A number in `[0, 1)` for the client's retry jitter, from the generator
/// [`seed_random`] seeds.
pub(crate) fn jitter() -> f64 {
    fastrand::f64()
}

/// The clock used when none is given, where the platform has one.
#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
pub(crate) fn default_clock() -> Option<std::sync::Arc<dyn Clock>> {
    Some(std::sync::Arc::new(StdClock))
}

/// The clock used when none is given: none on `wasm32-unknown-unknown`.
#[cfg(all(target_family = "wasm", target_os = "unknown"))]
pub(crate) fn default_clock() -> Option<std::sync::Arc<dyn Clock>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receive::ClaimToken;

    /// What an instance seeded with `seed` draws first: three tokens and a
    /// jitter.
    fn draws(seed: u64) -> (Vec<String>, f64) {
        seed_random(seed);
        let tokens = (0..3)
            .map(|_| ClaimToken::random().as_str().to_owned())
            .collect();
        (tokens, jitter())
    }

    /// Two instances (here: the same thread reseeded, as each wasm instance
    /// is seeded at start-up) draw different tokens and jitter; the same
    /// seed draws the same, so the seed is what tells instances apart.
    #[test]
    fn instances_seeded_differently_draw_different_tokens_and_jitter() {
        let (tokens_a, jitter_a) = draws(0x9e37_79b9_7f4a_7c15);
        let (tokens_b, jitter_b) = draws(0x2545_f491_4f6c_dd1d);
        assert!(
            tokens_a.iter().all(|t| !tokens_b.contains(t)),
            "{tokens_a:?} {tokens_b:?}"
        );
        assert_ne!(jitter_a, jitter_b);
        assert_eq!(draws(0x9e37_79b9_7f4a_7c15), (tokens_a, jitter_a));
        assert!((0.0..1.0).contains(&jitter_b));
    }
}

//! The doubling schedule behind the client's retries.

use std::time::Duration;

/// Exponential backoff: `first`, then twice as long at each next step,
/// never more than `max`.
///
/// [`crate::RetryPolicy`] draws its jittered waits below this ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The wait of step 1.
    pub(crate) first: Duration,
    /// The longest wait.
    pub(crate) max: Duration,
}

impl Backoff {
    /// A schedule starting at `first`, capped at `max`.
    pub(crate) const fn new(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }

    /// The wait of step `n` (1 for the first; 0 counts as 1):
    /// `first * 2^(n-1)`, capped at `max`, saturating instead of overflowing.
    pub(crate) fn step(&self, n: u32) -> Duration {
        let doublings = n.saturating_sub(1).min(31);
        self.first.saturating_mul(1u32 << doublings).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        let waits: Vec<u64> = (1..=5).map(|n| backoff.step(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
    }

    #[test]
    fn doubles_from_first_and_saturates() {
        let b = Backoff::new(Duration::from_millis(255), Duration::MAX);
        assert_eq!(b.step(0), Duration::from_millis(255));
        assert_eq!(b.step(1), Duration::from_millis(255));
        assert_eq!(b.step(2), Duration::from_millis(510));
        assert_eq!(b.step(10), Duration::from_millis(255 * 512));
        assert_eq!(b.step(32), Duration::from_millis(255) * (1 << 31));
        assert_eq!(b.step(u32::MAX), Duration::from_millis(255) * (1 << 31));
        let huge = Backoff::new(Duration::MAX / 2, Duration::MAX);
        assert_eq!(huge.step(3), Duration::MAX);
    }
}

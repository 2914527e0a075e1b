//! Attio's rate limits: 100 reads and 25 writes per second.

use std::time::{SystemTime, UNIX_EPOCH};

/// Counts requests in the current wall-clock second; a request over the
/// limit is refused until the next second starts (which is what the 429's
/// `Retry-After` says).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    reads_per_second: u32,
    writes_per_second: u32,
    second: u64,
    reads: u32,
    writes: u32,
}

impl RateLimiter {
    pub(crate) fn new(reads_per_second: u32, writes_per_second: u32) -> Self {
        Self {
            reads_per_second,
            writes_per_second,
            second: 0,
            reads: 0,
            writes: 0,
        }
    }

    /// Counts one request at `now`; `false` if it is over the limit.
    pub(crate) fn admit(&mut self, write: bool, now: SystemTime) -> bool {
        let second = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        if second != self.second {
            self.second = second;
            self.reads = 0;
            self.writes = 0;
        }
        let (count, limit) = if write {
            (&mut self.writes, self.writes_per_second)
        } else {
            (&mut self.reads, self.reads_per_second)
        };
        if *count >= limit {
            return false;
        }
        *count += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn separate_budgets_reset_each_second() {
        let mut limiter = RateLimiter::new(3, 1);
        let t = UNIX_EPOCH + Duration::from_millis(5_000_100);
        assert!((0..3).all(|_| limiter.admit(false, t)));
        assert!(!limiter.admit(false, t));
        assert!(limiter.admit(true, t));
        assert!(!limiter.admit(true, t + Duration::from_millis(800)));
        assert!(limiter.admit(true, t + Duration::from_millis(900)));
        assert!(limiter.admit(false, t + Duration::from_millis(900)));
    }
}

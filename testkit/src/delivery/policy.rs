//! When deliveries are retried and when failing webhooks change status.

use std::time::Duration;

/// When deliveries are retried and when failing webhooks change status.
///
/// The default is Attio's: a failed delivery (any status but 200 or 202, a
/// timeout, a refused connection) is retried up to 10 times, waiting
/// 255 s, then twice as long before each next retry (about 3 days in all);
/// after the last failure the webhook turns `degraded`, and after 7 days
/// degraded, `inactive`. Use a manual [`crate::Clock`] to run it in
/// milliseconds.
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks_testkit::delivery::DeliveryPolicy;
/// let attio = DeliveryPolicy::default();
/// assert_eq!(attio.wait_before_retry(1), Duration::from_secs(255));
/// assert_eq!(attio.wait_before_retry(10), Duration::from_secs(255 * 512));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The wait before the first retry; each next wait doubles.
    pub first_retry_after: Duration,
    /// How long one attempt may take, in real time.
    pub attempt_timeout: Duration,
    /// How long a webhook stays degraded before it turns inactive.
    pub inactive_after: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            retries: 10,
            first_retry_after: Duration::from_secs(255),
            attempt_timeout: Duration::from_secs(10),
            inactive_after: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl DeliveryPolicy {
    /// Sets the number of retries.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets the first wait (each next one doubles).
    pub fn first_retry_after(mut self, wait: Duration) -> Self {
        self.first_retry_after = wait;
        self
    }

    /// Sets the real-time limit of one attempt.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets how long a webhook stays degraded before turning inactive.
    pub fn inactive_after(mut self, after: Duration) -> Self {
        self.inactive_after = after;
        self
    }

    /// The wait before retry number `retry` (1 for the first):
    /// `first_retry_after * 2^(retry-1)`, saturating.
    pub fn wait_before_retry(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.first_retry_after.saturating_mul(1u32 << doublings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setter_sets_its_own_field() {
        let policy = DeliveryPolicy::default()
            .retries(3)
            .first_retry_after(Duration::from_millis(20))
            .attempt_timeout(Duration::from_secs(2))
            .inactive_after(Duration::from_secs(60));
        assert_eq!(
            policy,
            DeliveryPolicy {
                retries: 3,
                first_retry_after: Duration::from_millis(20),
                attempt_timeout: Duration::from_secs(2),
                inactive_after: Duration::from_secs(60),
            }
        );
    }

    #[test]
    fn waits_double_from_the_first() {
        let policy = DeliveryPolicy::default().first_retry_after(Duration::from_millis(20));
        let waits: Vec<u64> = (1..=4)
            .map(|retry| policy.wait_before_retry(retry).as_millis() as u64)
            .collect();
        assert_eq!(waits, [20, 40, 80, 160]);
        // Attio's schedule: 255 s doubling, 10 retries, about 3 days in all.
        let attio = DeliveryPolicy::default();
        let total: Duration = (1..=attio.retries)
            .map(|retry| attio.wait_before_retry(retry))
            .sum();
        assert_eq!(total, Duration::from_secs(255 * 1023));
    }
}

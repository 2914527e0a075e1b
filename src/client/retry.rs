//! When to try a request again, as a small pure function: the policy, how
//! an attempt failed, and the decision.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use super::backoff::Backoff;
use crate::error::RetryAfter;

/// How the client retries failed attempts.
///
/// - **429** is always retried, `POST` included (Attio did not process the
///   request), after the `Retry-After` delay; if Attio asks for longer than
///   [`max_retry_after`](Self::max_retry_after) the client gives up at once
///   and returns [`crate::Error::RateLimited`] so the caller can decide. A
///   429 without a readable `Retry-After` waits the normal backoff.
/// - **500, 502, 503, 504**, connection failures and timeouts are retried
///   with exponential backoff and full jitter for idempotent requests (GET,
///   PATCH, DELETE). `POST` is not retried on them unless
///   [`retry_non_idempotent`](Self::retry_non_idempotent) is set, since the
///   webhook may already have been created.
/// - Nothing else is retried.
///
/// Attempt `n` (counting from 1) that failed waits a random time in
/// `[0, min(max_backoff, base_backoff * 2^(n-1)))`. The client stops after
/// `max_attempts` attempts, or when the next wait would take the total time
/// spent waiting past `max_total_wait`.
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::client::retry::{AttemptFailure, RetryDecision, RetryPolicy, StopReason};
/// let policy = RetryPolicy::default();
/// // A 503 on the first GET attempt, with jitter 0.5: wait half the base backoff.
/// assert_eq!(
///     policy.decide(&AttemptFailure::ServerError(503), true, 1, Duration::ZERO, 0.5),
///     RetryDecision::Retry(Duration::from_millis(100)),
/// );
/// // The same 503 on a POST: give up.
/// assert_eq!(
///     policy.decide(&AttemptFailure::ServerError(503), false, 1, Duration::ZERO, 0.5),
///     RetryDecision::Stop(StopReason::NotIdempotent),
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 turns retries off.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub base_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The most time spent waiting between attempts, summed over one call.
    pub max_total_wait: Duration,
    /// The longest `Retry-After` the client will wait for.
    pub max_retry_after: Duration,
    /// Retry `POST` after 5xx, connection failures and timeouts too.
    pub retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 200 ms up to 5 s, at most 30 s of waiting,
    /// `Retry-After` up to 10 s, `POST` retried only on 429.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_total_wait: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(10),
            retry_non_idempotent: false,
        }
    }
}

/// Why an attempt failed, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptFailure {
    /// 429, with the delay its `Retry-After` asked for.
    RateLimited {
        /// The wait asked for, if the header was readable.
        retry_after: Option<Duration>,
    },
    /// 500, 502, 503 or 504.
    ServerError(u16),
    /// The transport returned an error: no response.
    Connection,
    /// No response within the timeout.
    Timeout,
}

impl AttemptFailure {
    /// Classifies a response: `Some` for 429 and the retryable 5xx
    /// statuses, `None` for everything else.
    ///
    /// An HTTP-date `Retry-After` is measured against the response's own
    /// `Date` header when it has one, so a skewed local clock does not
    /// matter, and against `now` otherwise. A `Retry-After` that asks for
    /// no wait at all counts as absent (the normal backoff applies).
    pub fn from_response(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Option<Self> {
        match status.as_u16() {
            429 => {
                let sent_at = headers
                    .get(http::header::DATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| httpdate::parse_http_date(v).ok())
                    .unwrap_or(now);
                let retry_after = RetryAfter::from_headers(headers)
                    .map(|r| r.delay_from(sent_at))
                    .filter(|d| !d.is_zero());
                Some(AttemptFailure::RateLimited { retry_after })
            }
            code @ (500 | 502 | 503 | 504) => Some(AttemptFailure::ServerError(code)),
            _ => None,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Give up and return the failure.
    Stop(StopReason),
}

/// Why the policy gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// `max_attempts` attempts were made.
    AttemptsExhausted,
    /// The next wait would go past `max_total_wait`.
    WaitBudgetExhausted,
    /// `Retry-After` asked for more than `max_retry_after`.
    RetryAfterTooLong,
    /// The request is not idempotent and the failure may have left it processed.
    NotIdempotent,
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts, the first included.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first retry's backoff ceiling and the largest ceiling.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_backoff = base;
        self.max_backoff = max;
        self
    }

    /// Sets the total waiting budget of one call.
    pub fn max_total_wait(mut self, budget: Duration) -> Self {
        self.max_total_wait = budget;
        self
    }

    /// Sets the longest `Retry-After` that will be waited for.
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// Also retries `POST` after 5xx, connection failures and timeouts.
    /// Only for callers who can tolerate a duplicate webhook.
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// Decides what follows attempt number `attempts_made` (1 for the
    /// first), which failed with `failure`. `waited` is the time already
    /// spent waiting in this call; `jitter` is a random number in `[0, 1)`.
    pub fn decide(
        &self,
        failure: &AttemptFailure,
        idempotent: bool,
        attempts_made: u32,
        waited: Duration,
        jitter: f64,
    ) -> RetryDecision {
        if attempts_made >= self.max_attempts {
            return RetryDecision::Stop(StopReason::AttemptsExhausted);
        }
        let delay = match *failure {
            AttemptFailure::RateLimited {
                retry_after: Some(asked),
            } => {
                if asked > self.max_retry_after {
                    return RetryDecision::Stop(StopReason::RetryAfterTooLong);
                }
                asked
            }
            AttemptFailure::RateLimited { retry_after: None } => {
                self.backoff_for(attempts_made, jitter)
            }
            AttemptFailure::ServerError(_)
            | AttemptFailure::Connection
            | AttemptFailure::Timeout => {
                if !idempotent && !self.retry_non_idempotent {
                    return RetryDecision::Stop(StopReason::NotIdempotent);
                }
                self.backoff_for(attempts_made, jitter)
            }
        };
        if waited.saturating_add(delay) > self.max_total_wait {
            return RetryDecision::Stop(StopReason::WaitBudgetExhausted);
        }
        RetryDecision::Retry(delay)
    }

    /// Full jitter: a random share of the exponential ceiling. A jitter
    /// outside `[0, 1]` is clamped, NaN counts as 0.
    fn backoff_for(&self, attempts_made: u32, jitter: f64) -> Duration {
        let ceiling = Backoff::new(self.base_backoff, self.max_backoff).step(attempts_made);
        let share = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * share)
            .unwrap_or(ceiling)
            .min(ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_after_of_exactly_the_longest_wait_is_waited_for() {
        let policy = RetryPolicy::default();
        let limit = policy.max_retry_after;
        let at_limit = AttemptFailure::RateLimited {
            retry_after: Some(limit),
        };
        assert_eq!(
            policy.decide(&at_limit, false, 1, Duration::ZERO, 0.5),
            RetryDecision::Retry(limit)
        );
        let past = AttemptFailure::RateLimited {
            retry_after: Some(limit + Duration::from_millis(1)),
        };
        assert_eq!(
            policy.decide(&past, false, 1, Duration::ZERO, 0.5),
            RetryDecision::Stop(StopReason::RetryAfterTooLong)
        );
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn rate_limits_are_retried_for_post_after_retry_after() {
        let p = RetryPolicy::default();
        let f = AttemptFailure::RateLimited {
            retry_after: Some(MS(900)),
        };
        assert_eq!(
            p.decide(&f, false, 1, Duration::ZERO, 0.0),
            RetryDecision::Retry(MS(900))
        );
        assert_eq!(
            p.decide(&f, true, 1, Duration::ZERO, 0.99),
            RetryDecision::Retry(MS(900))
        );
    }

    #[test]
    fn too_long_retry_after_gives_up() {
        let p = RetryPolicy::default().max_retry_after(Duration::from_secs(2));
        let f = AttemptFailure::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            p.decide(&f, true, 1, Duration::ZERO, 0.5),
            RetryDecision::Stop(StopReason::RetryAfterTooLong)
        );
    }

    #[test]
    fn rate_limit_without_header_backs_off() {
        let p = RetryPolicy::default().backoff(MS(100), Duration::from_secs(10));
        let f = AttemptFailure::RateLimited { retry_after: None };
        assert_eq!(
            p.decide(&f, false, 3, Duration::ZERO, 0.5),
            RetryDecision::Retry(MS(200))
        );
    }

    #[test]
    fn server_errors_connections_and_timeouts_retry_only_idempotent() {
        let p = RetryPolicy::default();
        for f in [
            AttemptFailure::ServerError(500),
            AttemptFailure::ServerError(504),
            AttemptFailure::Connection,
            AttemptFailure::Timeout,
        ] {
            assert!(matches!(
                p.decide(&f, true, 1, Duration::ZERO, 0.3),
                RetryDecision::Retry(_)
            ));
            assert_eq!(
                p.decide(&f, false, 1, Duration::ZERO, 0.3),
                RetryDecision::Stop(StopReason::NotIdempotent)
            );
            let opted_in = p.clone().retry_non_idempotent(true);
            assert!(matches!(
                opted_in.decide(&f, false, 1, Duration::ZERO, 0.3),
                RetryDecision::Retry(_)
            ));
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_scales_it() {
        let p = RetryPolicy::default()
            .backoff(MS(100), MS(1000))
            .max_attempts(100)
            .max_total_wait(Duration::from_secs(3600));
        let at = |n, j| match p.decide(&AttemptFailure::Connection, true, n, Duration::ZERO, j) {
            RetryDecision::Retry(d) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(at(1, 0.999_999), MS(100).mul_f64(0.999_999));
        assert_eq!(at(2, 0.5), MS(100));
        assert_eq!(at(3, 0.5), MS(200));
        assert_eq!(at(4, 0.5), MS(400));
        assert_eq!(at(5, 0.5), MS(500));
        assert_eq!(at(60, 0.5), MS(500));
        assert_eq!(at(3, 0.0), Duration::ZERO);
        assert_eq!(at(3, 7.0), MS(400), "jitter is clamped to 1");
    }

    #[test]
    fn attempts_and_budget_are_limits() {
        let p = RetryPolicy::default()
            .max_attempts(3)
            .max_total_wait(Duration::from_secs(1));
        let f = AttemptFailure::RateLimited {
            retry_after: Some(MS(400)),
        };
        assert!(matches!(
            p.decide(&f, true, 2, MS(600), 0.0),
            RetryDecision::Retry(_)
        ));
        assert_eq!(
            p.decide(&f, true, 3, Duration::ZERO, 0.0),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
        assert_eq!(
            p.decide(&f, true, 2, MS(601), 0.0),
            RetryDecision::Stop(StopReason::WaitBudgetExhausted)
        );
        assert_eq!(
            RetryPolicy::disabled().decide(&f, true, 1, Duration::ZERO, 0.0),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
    }

    #[test]
    fn odd_jitter_and_huge_backoffs_do_not_panic() {
        let p = RetryPolicy::default()
            .backoff(Duration::MAX, Duration::MAX)
            .max_total_wait(Duration::MAX);
        let at = |jitter| p.decide(&AttemptFailure::Connection, true, 3, Duration::ZERO, jitter);
        // NaN and negative jitter mean no wait; 1 and above the whole ceiling,
        // which here does not fit in an f64 of seconds and is kept as is.
        assert_eq!(at(f64::NAN), RetryDecision::Retry(Duration::ZERO));
        assert_eq!(at(-1.0), RetryDecision::Retry(Duration::ZERO));
        assert_eq!(at(1.0), RetryDecision::Retry(Duration::MAX));
        assert_eq!(at(f64::INFINITY), RetryDecision::Retry(Duration::MAX));
        let RetryDecision::Retry(almost) = at(0.999_999_999) else {
            panic!("a retry")
        };
        assert!(almost < Duration::MAX);
        assert!(
            almost > Duration::from_secs(u64::MAX / 100 * 99),
            "{almost:?}"
        );
        assert_eq!(
            RetryPolicy::default().decide(
                &AttemptFailure::Connection,
                true,
                1,
                Duration::ZERO,
                f64::NAN
            ),
            RetryDecision::Retry(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_is_measured_from_the_response_date() {
        // The local clock is an hour fast; the server's Date says 14:42:00.
        let local = SystemTime::UNIX_EPOCH + Duration::from_secs(1_684_852_920 + 3600);
        let mut headers = HeaderMap::new();
        headers.insert("date", "Tue, 23 May 2023 14:42:00 GMT".parse().unwrap());
        headers.insert(
            "retry-after",
            "Tue, 23 May 2023 14:42:02 GMT".parse().unwrap(),
        );
        assert_eq!(
            AttemptFailure::from_response(StatusCode::TOO_MANY_REQUESTS, &headers, local),
            Some(AttemptFailure::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            })
        );
        // A date already past asks for no wait: the normal backoff applies.
        headers.insert(
            "retry-after",
            "Tue, 23 May 2023 14:41:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            AttemptFailure::from_response(StatusCode::TOO_MANY_REQUESTS, &headers, local),
            Some(AttemptFailure::RateLimited { retry_after: None })
        );
    }

    #[test]
    fn classifies_responses() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_684_852_920);
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            "Tue, 23 May 2023 14:42:01 GMT".parse().unwrap(),
        );
        assert_eq!(
            AttemptFailure::from_response(StatusCode::TOO_MANY_REQUESTS, &headers, now),
            Some(AttemptFailure::RateLimited {
                retry_after: Some(Duration::from_secs(1))
            })
        );
        for (code, expected) in [
            (500, true),
            (502, true),
            (503, true),
            (504, true),
            (501, false),
            (400, false),
            (200, false),
        ] {
            let got = AttemptFailure::from_response(
                StatusCode::from_u16(code).unwrap(),
                &HeaderMap::new(),
                now,
            );
            assert_eq!(got.is_some(), expected, "{code}");
        }
    }
}

//! Fault injection: make the next N matching requests fail in a chosen way.

use std::time::Duration;

use http::Method;
use serde::{Deserialize, Serialize};

use crate::limits::MAX_FAULT_DELAY;

/// How a request fails.
///
/// Faults apply to API requests that passed authentication and the rate
/// limit (see the order in the crate docs). "Before handling" faults leave
/// the workspace untouched; "after handling" faults let the operation take
/// effect and then spoil the answer: the ambiguous outcomes a client must
/// survive without losing or repeating a write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// Answer `status` with the Attio error body for it, without handling
    /// the request; 429 also gets a `Retry-After`.
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// Handle the request (its effects happen), then answer `status` with
    /// the Attio error body for it: a server that did the work and failed
    /// to say so.
    StatusAfterHandling {
        /// The HTTP status.
        status: u16,
    },
    /// Answer 429 `rate_limit_exceeded` with `Retry-After` set to the next
    /// whole second as an HTTP date, as Attio does.
    RateLimited,
    /// Answer 429 `rate_limit_exceeded` with `Retry-After` as a number of
    /// seconds (the other form HTTP allows). `seconds: 0` sends no
    /// `Retry-After` at all: a 429 that says nothing about when to come back
    /// (the client then waits its normal backoff).
    ///
    /// **Not Attio's form.** Attio's `Retry-After` is an HTTP date (`Tue, 23
    /// May 2023 14:42:01 GMT`), which [`Fault::RateLimited`] and the fake's
    /// own rate limiter send. This fault exercises a client's other
    /// `Retry-After` parser (seconds), for code that may also talk to a
    /// proxy that answers that way; a test of what Attio sends uses
    /// `RateLimited`.
    ///
    /// The fast way to test the client's `Retry-After` path: the in-process
    /// fake on a tokio runtime whose time is paused. The client's wait is
    /// real `tokio::time` waiting, so it passes at once while still being
    /// measured in virtual time:
    ///
    /// ```
    /// use attio_webhooks::operations::ListWebhooks;
    /// use attio_webhooks_testkit::{Fault, FakeAttio, FaultRule};
    ///
    /// # fn main() {
    /// // In a test: #[tokio::test(start_paused = true)] (tokio's `test-util`).
    /// let runtime = tokio::runtime::Builder::new_current_thread()
    ///     .enable_time()
    ///     .start_paused(true)
    ///     .build()
    ///     .unwrap();
    /// runtime.block_on(async {
    ///     let fake = FakeAttio::new();
    ///     fake.inject(FaultRule::new(Fault::RateLimitedFor { seconds: 7 }).times(1));
    ///     let started = tokio::time::Instant::now();
    ///     let webhooks = fake.client().list_webhooks(ListWebhooks::new()).await.unwrap();
    ///     assert!(webhooks.is_empty());
    ///     // Waited exactly what Retry-After asked, in no real time.
    ///     assert_eq!(started.elapsed().as_secs(), 7);
    ///     assert_eq!(fake.requests().into_vec().len(), 2);
    /// });
    /// # }
    /// ```
    RateLimitedFor {
        /// The `Retry-After` value in seconds; 0 for no `Retry-After`.
        seconds: u64,
    },
    /// Handle the request at once (its effects happen), but hold the answer
    /// back this long: a server that did the work and answered late. At
    /// most [`MAX_FAULT_DELAY`] (60 s); a rule with a longer delay is
    /// refused (400 over HTTP).
    Delay {
        /// The wait, in milliseconds (at most 60,000).
        millis: u64,
    },
    /// Answer `status` with a body that is not JSON.
    MalformedBody {
        /// The HTTP status.
        status: u16,
    },
    /// Handle the request normally, then cut the JSON body in half (the
    /// HTTP framing stays valid; the JSON does not).
    TruncatedBody,
    /// Close the connection without answering and without handling the
    /// request (in-process: a transport error).
    DropConnection,
    /// Handle the request (its effects happen), then close the connection
    /// without answering.
    DropConnectionAfterHandling,
}

impl Fault {
    /// [`Fault::Status`].
    pub fn status(status: u16) -> Self {
        Fault::Status { status }
    }

    /// [`Fault::Delay`] (adding it fails past [`MAX_FAULT_DELAY`]).
    pub fn delay(by: Duration) -> Self {
        Fault::Delay {
            millis: u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// A fault for the next `times` requests that match `method` and `path`.
///
/// `path` is exact (`/v2/webhooks`), or ends in `*` to match a prefix
/// (`/v2/webhooks/*` matches every webhook id). `None` matches anything.
/// Rules are tried in the order they were added; the first that matches
/// and has uses left applies, and its count goes down by one.
///
/// ```
/// use attio_webhooks_testkit::{Fault, FaultRule};
/// let rule = FaultRule::new(Fault::status(503)).method("GET").path("/v2/webhooks/*").times(2);
/// assert_eq!(rule.times, 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultRule {
    /// The failure.
    pub fault: Fault,
    /// Only requests with this method (any when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests on this path or prefix (any when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How many requests it applies to.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl FaultRule {
    /// A rule for the next one request of any method and path.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            method: None,
            path: None,
            times: 1,
        }
    }

    /// Restricts the rule to `method` (case-insensitive).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Restricts the rule to a path, or a prefix ending in `*`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Applies the rule to `times` requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
        let path_ok = match self.path.as_deref() {
            None => true,
            Some(pattern) => match pattern.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == pattern,
            },
        };
        method_ok && path_ok
    }
}

/// The pending rules, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
    capacity: usize,
}

/// Why a fault rule was not added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultRefused {
    /// The pending rules are at their limit.
    TooMany(usize),
    /// A delay longer than [`MAX_FAULT_DELAY`], in milliseconds.
    DelayTooLong(u64),
}

impl std::fmt::Display for FaultRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultRefused::TooMany(n) => write!(f, "The fake holds at most {n} pending fault rules."),
            FaultRefused::DelayTooLong(millis) => write!(
                f,
                "Body payload validation error at data.fault.millis: a delay of {millis} ms is longer than the fake allows ({} ms).",
                MAX_FAULT_DELAY.as_millis()
            ),
        }
    }
}

impl Faults {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            rules: Vec::new(),
            capacity,
        }
    }

    pub(crate) fn add(&mut self, rule: FaultRule) -> Result<(), FaultRefused> {
        if let Fault::Delay { millis } = rule.fault {
            if u128::from(millis) > MAX_FAULT_DELAY.as_millis() {
                return Err(FaultRefused::DelayTooLong(millis));
            }
        }
        if rule.times == 0 {
            return Ok(());
        }
        if self.rules.len() >= self.capacity {
            return Err(FaultRefused::TooMany(self.capacity));
        }
        self.rules.push(rule);
        Ok(())
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn pending(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    /// Takes one use of the first matching rule.
    pub(crate) fn take(&mut self, method: &Method, path: &str) -> Option<Fault> {
        let index = self.rules.iter().position(|r| r.matches(method, path))?;
        let rule = &mut self.rules[index];
        rule.times -= 1;
        let fault = rule.fault.clone();
        if rule.times == 0 {
            self.rules.remove(index);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_order_and_run_out() {
        let mut faults = Faults::new(2);
        faults
            .add(
                FaultRule::new(Fault::status(503))
                    .method("get")
                    .path("/v2/webhooks/*")
                    .times(2),
            )
            .unwrap();
        faults.add(FaultRule::new(Fault::DropConnection)).unwrap();
        assert_eq!(
            faults.add(FaultRule::new(Fault::TruncatedBody)),
            Err(FaultRefused::TooMany(2))
        );
        assert_eq!(
            faults.take(&Method::GET, "/v2/webhooks/abc"),
            Some(Fault::status(503))
        );
        assert_eq!(
            faults.take(&Method::POST, "/v2/webhooks"),
            Some(Fault::DropConnection)
        );
        assert_eq!(
            faults.take(&Method::GET, "/v2/webhooks"),
            None,
            "exact prefix only"
        );
        assert_eq!(
            faults.take(&Method::GET, "/v2/webhooks/x"),
            Some(Fault::status(503))
        );
        assert_eq!(faults.take(&Method::GET, "/v2/webhooks/x"), None);
    }

    #[test]
    fn delays_are_capped() {
        let mut faults = Faults::new(2);
        let at_cap = FaultRule::new(Fault::delay(MAX_FAULT_DELAY));
        assert_eq!(faults.add(at_cap), Ok(()));
        let over = FaultRule::new(Fault::Delay { millis: 60_001 });
        assert_eq!(faults.add(over), Err(FaultRefused::DelayTooLong(60_001)));
        let huge = FaultRule::new(Fault::delay(Duration::MAX)).times(0);
        assert_eq!(faults.add(huge), Err(FaultRefused::DelayTooLong(u64::MAX)));
        assert_eq!(faults.pending().len(), 1);
    }

    #[test]
    fn rules_read_from_json() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"fault":{"type":"status","status":500},"method":"POST"}"#)
                .unwrap();
        assert_eq!(rule, FaultRule::new(Fault::status(500)).method("POST"));
        let rule: FaultRule =
            serde_json::from_str(r#"{"fault":{"type":"rate_limited_for","seconds":2},"times":3}"#)
                .unwrap();
        assert_eq!(
            rule,
            FaultRule::new(Fault::RateLimitedFor { seconds: 2 }).times(3)
        );
    }
}

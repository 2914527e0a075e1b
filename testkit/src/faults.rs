//! Fault injection: make the next N matching requests fail in a chosen way.

use std::time::Duration;

use http::Method;
use serde::{Deserialize, Serialize};

/// How a request fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// Answer `status` with the Attio error body for it (see [`crate::errors::for_status`]);
    /// 429 also gets a `Retry-After`.
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// Answer 429 `rate_limit_exceeded` with `Retry-After` set to the next
    /// whole second as an HTTP date, as Attio does.
    RateLimited,
    /// Handle the request at once (its effects happen), but hold the answer
    /// back this long: a server that did the work and answered late.
    Delay {
        /// The wait, in milliseconds.
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
    /// Close the connection without answering (in-process: a transport error).
    DropConnection,
}

impl Fault {
    /// [`Fault::Status`].
    pub fn status(status: u16) -> Self {
        Fault::Status { status }
    }

    /// [`Fault::Delay`].
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

/// The pending rules.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<FaultRule>);

impl Faults {
    pub(crate) fn add(&mut self, rule: FaultRule) {
        if rule.times > 0 {
            self.0.push(rule);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    pub(crate) fn pending(&self) -> Vec<FaultRule> {
        self.0.clone()
    }

    /// Takes one use of the first matching rule.
    pub(crate) fn take(&mut self, method: &Method, path: &str) -> Option<Fault> {
        let index = self.0.iter().position(|r| r.matches(method, path))?;
        let rule = &mut self.0[index];
        rule.times -= 1;
        let fault = rule.fault.clone();
        if rule.times == 0 {
            self.0.remove(index);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_order_and_run_out() {
        let mut faults = Faults::default();
        faults.add(
            FaultRule::new(Fault::status(503))
                .method("get")
                .path("/v2/webhooks/*")
                .times(2),
        );
        faults.add(FaultRule::new(Fault::DropConnection));
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
    fn rules_read_from_json() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"fault":{"type":"status","status":500},"method":"POST"}"#)
                .unwrap();
        assert_eq!(rule, FaultRule::new(Fault::status(500)).method("POST"));
    }
}

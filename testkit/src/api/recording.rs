//! What the fake remembers of the requests it received, within a budget.

use attio_webhooks::model::Timestamp;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::bounded::{BoundedLog, LogSnapshot};
use crate::bytes_as_text::{lossy_utf8, utf8_bytes};

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// Path and query, e.g. `/v2/webhooks?limit=20`.
    pub path: String,
    /// Every header in arrival order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body bytes (as a UTF-8 string, lossily, in JSON).
    #[serde(serialize_with = "lossy_utf8", deserialize_with = "utf8_bytes")]
    pub body: Bytes,
    /// When it arrived, by the fake's clock.
    pub received_at: Timestamp,
    /// The `X-Attio-Execution-Id` the fake answered it with (when the fake
    /// dropped the connection instead, as a fault asked, the id it would
    /// have sent). `None` in journals of older fakes.
    #[serde(default)]
    pub execution_id: Option<String>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The same request with the values of every credential header
    /// ([`CREDENTIAL_HEADERS`]) replaced by `<redacted>`, keeping an
    /// authorization scheme (`Bearer <redacted>`): what the fake shows over
    /// HTTP.
    pub(crate) fn redacted(mut self) -> Self {
        for (name, value) in &mut self.headers {
            if !CREDENTIAL_HEADERS.contains(&name.as_str()) {
                continue;
            }
            let scheme = match name.as_str() {
                "authorization" | "proxy-authorization" => value.split_once(' ').map(|(s, _)| s),
                _ => None,
            };
            *value = match scheme {
                Some(scheme) => format!("{scheme} <redacted>"),
                None => "<redacted>".to_owned(),
            };
        }
        self
    }
}

/// The headers whose values `GET /__fake/requests` never shows (names as
/// recorded, lowercase): credentials and session cookies.
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// A request as kept on arrival: cheap clones of the parts (the header
/// values and body share the received buffers), turned into a
/// [`RecordedRequest`] only when a test asks.
#[derive(Debug)]
struct Arrival {
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: Bytes,
    received_at: Timestamp,
    execution_id: http::HeaderValue,
}

impl Arrival {
    fn recorded(&self) -> RecordedRequest {
        RecordedRequest {
            method: self.method.as_str().to_owned(),
            path: self
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: self.body.clone(),
            received_at: self.received_at,
            execution_id: self.execution_id.to_str().ok().map(str::to_owned),
        }
    }
}

/// The recorded requests, within a count cap and a byte budget.
#[derive(Debug)]
pub(crate) struct Recording(BoundedLog<Arrival>);

impl Recording {
    pub(crate) fn new(max_requests: usize, max_bytes: usize) -> Self {
        Self(BoundedLog::new(max_requests, max_bytes))
    }

    /// Keeps `request` (the oldest go first when the budget is spent).
    pub(crate) fn record(
        &mut self,
        request: &http::Request<Bytes>,
        received_at: Timestamp,
        execution_id: &http::HeaderValue,
    ) {
        if self.0.keeps_nothing() {
            // Recording is off: count it, copy nothing.
            self.0.count_dropped();
            return;
        }
        let headers: usize = request
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 16)
            .sum();
        let uri = request.uri();
        let size = request.body().len()
            + headers
            + uri.path_and_query().map_or(1, |p| p.as_str().len())
            + uri.authority().map_or(0, |a| a.as_str().len())
            + execution_id.len()
            + 64;
        let arrival = Arrival {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            body: request.body().clone(),
            received_at,
            execution_id: execution_id.clone(),
        };
        self.0.push(arrival, size);
    }

    pub(crate) fn snapshot(&self) -> LogSnapshot<RecordedRequest> {
        self.0.snapshot(Arrival::recorded)
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

//! What the fake remembers of each request it received.

use attio_webhooks::Timestamp;
use bytes::Bytes;
use serde::{Serialize, Serializer};

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// Path and query, e.g. `/v2/webhooks?limit=20`.
    pub path: String,
    /// Every header in arrival order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body bytes (as a UTF-8 string, lossily, in JSON).
    #[serde(serialize_with = "lossy_utf8")]
    pub body: Bytes,
    /// When it arrived, by the fake's clock.
    pub received_at: Timestamp,
}

/// A request as kept on arrival: cheap clones of the parts (the header
/// values and body share the received buffers), turned into a
/// [`RecordedRequest`] only when a test asks.
#[derive(Debug)]
pub(crate) struct Arrival {
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: Bytes,
    received_at: Timestamp,
}

impl Arrival {
    pub(crate) fn new(request: &http::Request<Bytes>, received_at: Timestamp) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            body: request.body().clone(),
            received_at,
        }
    }

    pub(crate) fn recorded(&self) -> RecordedRequest {
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
        }
    }
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
}

/// Writes bytes as a JSON string, replacing invalid UTF-8.
pub(crate) fn lossy_utf8<S: Serializer>(body: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(body))
}

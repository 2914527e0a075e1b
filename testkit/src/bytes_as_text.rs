//! Bytes shown as text in the fake's JSON answers.

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serializer};

/// Writes bytes as a JSON string, replacing invalid UTF-8.
pub(crate) fn lossy_utf8<S: Serializer>(body: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(body))
}

/// Reads back what [`lossy_utf8`] wrote (a control client's view of a log).
pub(crate) fn utf8_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
    String::deserialize(deserializer).map(Bytes::from)
}

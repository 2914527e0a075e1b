//! Execution ids, as Attio names each of its answers in
//! `X-Attio-Execution-Id`: for the fake's answers, its journal and its
//! delivery attempts.

use http::HeaderValue;

/// A fresh execution id for an answer, as Attio names each of its answers
/// in `X-Attio-Execution-Id`: a lowercase UUID (version 4 in form), unique
/// within the process (a counter) and not guessable from the ones before
/// it (the counter hashed with a key drawn once per process). No system
/// call per answer, unlike `Uuid::new_v4`.
pub(crate) fn header() -> HeaderValue {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static KEYS: OnceLock<(
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    )> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let (high, low) = KEYS.get_or_init(Default::default);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.hash_one(n).to_le_bytes());
    bytes[8..].copy_from_slice(&low.hash_one(n).to_le_bytes());
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    HeaderValue::from_bytes(id.hyphenated().encode_lower(&mut text).as_bytes()).unwrap_or(
        HeaderValue::from_static("00000000-0000-4000-8000-000000000000"),
    )
}

/// [`header`] as text.
pub(crate) fn text() -> String {
    String::from_utf8_lossy(header().as_bytes()).into_owned()
}

//! The span of one delivery, `attio.webhook.receive`, and what goes in it
//! (and in the receiving side's [`metrics`](crate::metrics)).
//!
//! Nothing secret is ever a field: not the secret, not the signature, not
//! the `Idempotency-Key` itself (only a prefix of its SHA-256).

use sha2::{Digest, Sha256};
use tracing::field::Empty;
use tracing::Span;

use crate::error::BoxError;
use crate::metrics;
use crate::receive::delivery::Delivery;
use crate::receive::rejection::ReceiveError;
use crate::receive::seen_keys::{Claim, Settled};
use crate::receive::signature::SignatureError;

/// The field the outcome goes in.
pub(crate) const OUTCOME: &str = "attio.receive.outcome";
/// At most this many bytes of comma-joined event types are recorded.
const MAX_TYPES_LEN: usize = 256;
/// Hex characters of the key's SHA-256 recorded (64 bits).
const KEY_DIGEST_HEX: usize = 16;

/// Opens the span of one delivery, its fields empty but for the digest of
/// its `Idempotency-Key` (the header's value, if it has one).
pub(crate) fn delivery_span(idempotency_key: Option<&http::HeaderValue>) -> Span {
    let span = tracing::info_span!(
        "attio.webhook.receive",
        "attio.webhook_id" = Empty,
        "attio.event.count" = Empty,
        "attio.event.types" = Empty,
        "attio.idempotency_key.sha256" = Empty,
        "attio.receive.outcome" = Empty,
    );
    if !span.is_disabled() {
        let key = idempotency_key
            .and_then(|v| v.to_str().ok())
            .filter(|key| !key.is_empty());
        if let Some(key) = key {
            span.record("attio.idempotency_key.sha256", key_digest(key).as_str());
        }
    }
    span
}

/// The first 16 hex characters of the SHA-256 of `key`: enough to match
/// the deliveries of one message in logs, not the key.
pub(crate) fn key_digest(key: &str) -> String {
    let mut hex = const_hex::encode(Sha256::digest(key.as_bytes()));
    hex.truncate(KEY_DIGEST_HEX);
    hex
}

/// Records what a verified delivery holds, and the outcome `verified`.
pub(crate) fn record_verified(span: &Span, delivery: &Delivery) {
    metrics::delivery("verified");
    if span.is_disabled() {
        return;
    }
    span.record(
        "attio.webhook_id",
        tracing::field::display(&delivery.webhook_id),
    );
    span.record("attio.event.count", delivery.events.len() as u64);
    let mut types = String::new();
    for event in &delivery.events {
        let name = event.event_type.as_str();
        let extra = usize::from(!types.is_empty()) + name.len();
        if types.len() + extra > MAX_TYPES_LEN {
            types.push_str(if types.is_empty() { "…" } else { ",…" });
            break;
        }
        if !types.is_empty() {
            types.push(',');
        }
        types.push_str(name);
    }
    span.record("attio.event.types", types.as_str());
    span.record(OUTCOME, "verified");
}

/// The outcome of a refusal: `refused:` and why.
pub(crate) fn refusal(error: &ReceiveError) -> &'static str {
    match error {
        ReceiveError::Signature(SignatureError::MissingHeader) => "refused:missing_signature",
        ReceiveError::Signature(SignatureError::Mismatch) => "refused:bad_signature",
        ReceiveError::Signature(_) => "refused:malformed_signature",
        ReceiveError::Payload(_) => "refused:bad_payload",
        ReceiveError::TooLarge { .. } => "refused:body_too_large",
        ReceiveError::Body(_) => "refused:unreadable_body",
    }
}

/// Records a refusal's outcome.
pub(crate) fn record_refused(span: &Span, error: &ReceiveError) {
    let outcome = refusal(error);
    metrics::delivery(outcome);
    span.record(OUTCOME, outcome);
}

/// What a store's claim answered: `attio.once.claim` in the claim's span,
/// `attio.once.result` in the store's metrics.
pub(crate) fn claim_code(claimed: &Result<Claim, BoxError>) -> &'static str {
    match claimed {
        Ok(Claim::Claimed(_)) => "claimed",
        Ok(Claim::Done) => "done",
        Ok(Claim::InProgress) => "in_progress",
        Err(_) => "store_error",
    }
}

/// What a store's complete or release answered: `attio.once.settled` in
/// the settle's span, `attio.once.result` in the store's metrics.
pub(crate) fn settle_code(settled: &Result<Settled, BoxError>) -> &'static str {
    match settled {
        Ok(Settled::Held) => "held",
        Ok(Settled::Lost) => "lost",
        Err(_) => "store_error",
    }
}

/// Records a refusal's outcome and hands the refusal back.
pub(crate) fn refused(span: &Span, error: ReceiveError) -> ReceiveError {
    record_refused(span, &error);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_digest_is_a_16_hex_prefix_of_its_sha256() {
        let digest = key_digest("k-1");
        assert_eq!(digest.len(), KEY_DIGEST_HEX);
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            digest,
            &const_hex::encode(Sha256::digest(b"k-1"))[..KEY_DIGEST_HEX]
        );
        assert_ne!(digest, key_digest("k-2"));
    }

    #[test]
    fn every_refusal_has_its_own_outcome() {
        use crate::receive::PayloadError;
        let outcomes = [
            ReceiveError::from(SignatureError::MissingHeader),
            ReceiveError::from(SignatureError::Mismatch),
            ReceiveError::from(SignatureError::MalformedHex),
            ReceiveError::from(PayloadError {
                path: String::new(),
                message: String::new(),
            }),
            ReceiveError::TooLarge { limit: 1 },
            ReceiveError::Body(String::new()),
        ]
        .map(|e| refusal(&e));
        let distinct: std::collections::BTreeSet<_> = outcomes.iter().collect();
        assert_eq!(distinct.len(), outcomes.len());
        assert!(outcomes.iter().all(|o| o.starts_with("refused:")));
    }
}

//! Sending a past message again, by its `Idempotency-Key`.

/// Why [`crate::FakeAttio::redeliver`] queued nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedeliveryError {
    /// No attempt with this key is in the delivery log: it never existed,
    /// or the log dropped it to stay within its limits
    /// ([`crate::Limits::delivery_log_entries`] and
    /// [`crate::Limits::delivery_log_bytes`]), or a reset cleared it.
    #[error(
        "no delivery with Idempotency-Key {key:?} is in the delivery log (it holds only the newest attempts, within its limits)"
    )]
    UnknownKey {
        /// The key asked for.
        key: String,
    },
    /// The delivery queue is at [`crate::Limits::queued_deliveries`].
    #[error("the delivery queue is full ({queued} messages)")]
    QueueFull {
        /// The messages waiting, open or in flight.
        queued: usize,
    },
}

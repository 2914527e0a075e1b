//! Receiving: signatures, parsing and filters, deduplication, deliveries from
//! the fake end to end, and the axum and tower receivers. One test binary
//! (each file a module).

#[path = "dedupe.rs"]
mod dedupe;
#[path = "delivery_e2e.rs"]
mod delivery_e2e;
#[path = "oracle/mod.rs"]
mod oracle;
#[cfg(feature = "axum")]
#[path = "receive_axum.rs"]
mod receive_axum;
#[path = "receive_common/mod.rs"]
mod receive_common;
#[cfg(feature = "metrics")]
#[path = "receive_metrics.rs"]
mod receive_metrics;
#[path = "receive_spans.rs"]
mod receive_spans;
#[cfg(feature = "tower")]
#[path = "receive_tower.rs"]
mod receive_tower;
#[path = "receiving.rs"]
mod receiving;

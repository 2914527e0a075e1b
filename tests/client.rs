//! The client against servers on loopback: wire details, retries and
//! deadlines, ambiguous deletes, TLS and timeouts of the hyper transport,
//! the spans through OpenTelemetry, the reconcile engine (ensure races, apply), a
//! fault storm, a concurrency soak and secret hygiene. One test binary for
//! all of them (each file a module), so the testkit is linked once.

#[path = "ambiguous_delete.rs"]
mod ambiguous_delete;
#[cfg(feature = "metrics")]
#[path = "client_metrics.rs"]
mod client_metrics;
#[path = "client_wire.rs"]
mod client_wire;
#[path = "fault_storm.rs"]
mod fault_storm;
#[path = "hyper_transport.rs"]
mod hyper_transport;
#[path = "observed_answers.rs"]
mod observed_answers;
#[path = "otel_spans.rs"]
mod otel_spans;
#[path = "reconcile.rs"]
mod reconcile;
#[path = "secret_hygiene.rs"]
mod secret_hygiene;
#[path = "soak.rs"]
mod soak;
#[path = "support/mod.rs"]
mod support;
#[path = "timeouts.rs"]
mod timeouts;

//! Metrics of calls and deliveries, through the [`metrics`](https://docs.rs/metrics)
//! crate's facade, with the `metrics` feature.
//!
//! With the feature on, the client and the receiving side record what
//! follows into whatever recorder your program installed
//! (`metrics-exporter-prometheus`, `metrics-exporter-opentelemetry`,
//! `metrics-util`'s debugging recorder in tests, ...); with none installed
//! they go nowhere. The names and labels follow the OpenTelemetry
//! conventions (`http.client.request.duration` is the HTTP client metric
//! of the conventions, in seconds); the others are this crate's own,
//! shaped like the AWS SDK's `smithy.client.call.*`. Without the feature
//! nothing here records, and nothing is linked.
//!
//! Why `metrics` rather than OpenTelemetry's own API: it is the facade most
//! Rust services already install a recorder for, its recording macros have
//! changed far less often than `opentelemetry`'s API (a breaking 0.x every
//! few months), it is two small crates with no runtime (the core stays
//! embeddable), and it bridges to OpenTelemetry for those who want that.
//!
//! # Calls (the [`Client`](crate::Client))
//!
//! | name | kind | one per | labels |
//! |---|---|---|---|
//! | [`REQUEST_DURATION`] `http.client.request.duration` | histogram, s | attempt | `attio.operation`, `http.request.method`, `server.address`, `server.port`, `url.template` (when the operation has one), `http.response.status_code` (when an answer came), `error.type` (a 4xx or 5xx status, or `timeout`, `deadline`, a transport class such as `connect`) |
//! | [`CALL_DURATION`] `attio.webhooks.call.duration` | histogram, s | call, retries and their waits included | `attio.operation`, `error.type` when it failed |
//! | [`CALL_ATTEMPTS`] `attio.webhooks.call.attempts` | counter | attempt | `attio.operation` |
//! | [`CALL_RETRIES`] `attio.webhooks.call.retries` | counter | retry decided | `attio.operation`, `attio.retry.reason` (`429`, `500`, `502`, `503`, `504`, `timeout`, `connection`) |
//! | [`CALL_ERRORS`] `attio.webhooks.call.errors` | counter | failed call | `attio.operation`, `error.type` (as on the spans) |
//!
//! # Deliveries (the [`receive`](crate::receive) module)
//!
//! | name | kind | one per | labels |
//! |---|---|---|---|
//! | [`DELIVERIES`] `attio.webhook.deliveries` | counter | delivery checked by a [`Verifier`](crate::receive::Verifier) (and so the axum extractor and `VerifyLayer`) | `attio.receive.outcome`: `verified`, or `refused:` and why (`missing_signature`, `bad_signature`, `malformed_signature`, `bad_payload`, `body_too_large`, `unreadable_body`) |
//! | [`ONCE_OUTCOMES`] `attio.once.outcomes` | counter | [`Once::run`](crate::receive::Once::run) | `attio.receive.outcome`: `handled`, `already_handled`, `in_progress`, `failed`, `store_error` |
//! | [`HANDLER_DURATION`] `attio.once.handler.duration` | histogram, s | handler run by `Once` | `attio.receive.outcome`: `handled` or `failed` |
//! | [`STORE_DURATION`] `attio.once.store.duration` | histogram, s | call `Once` made to its [`SeenKeys`](crate::receive::SeenKeys) store | `attio.once.operation` (`claim`, `renew`, `complete`, `release`), `attio.once.result` (`claimed`, `done`, `in_progress`, `held`, `lost`, `store_error`) |
//!
//! A delivery that `Once` handles counts once in each of the first two.
//! The durations of `Once` are measured with `std::time::Instant`, so on
//! `wasm32-unknown-unknown` (no standard clock) only the counters record;
//! the client measures with its own [`Clock`](crate::runtime::Clock)
//! everywhere.
//!
//! No label holds anything secret or unbounded: no token, secret,
//! signature, idempotency key, webhook id, URL path or query.

/// `http.client.request.duration`: each attempt's exchange, in seconds.
pub const REQUEST_DURATION: &str = "http.client.request.duration";
/// `attio.webhooks.call.duration`: each call, retries and waits included, in seconds.
pub const CALL_DURATION: &str = "attio.webhooks.call.duration";
/// `attio.webhooks.call.attempts`: attempts made.
pub const CALL_ATTEMPTS: &str = "attio.webhooks.call.attempts";
/// `attio.webhooks.call.retries`: retries decided, by `attio.retry.reason`.
pub const CALL_RETRIES: &str = "attio.webhooks.call.retries";
/// `attio.webhooks.call.errors`: calls that failed, by `error.type`.
pub const CALL_ERRORS: &str = "attio.webhooks.call.errors";
/// `attio.webhook.deliveries`: deliveries checked, by `attio.receive.outcome`.
pub const DELIVERIES: &str = "attio.webhook.deliveries";
/// `attio.once.outcomes`: [`Once::run`](crate::receive::Once::run) outcomes,
/// by `attio.receive.outcome`.
pub const ONCE_OUTCOMES: &str = "attio.once.outcomes";
/// `attio.once.handler.duration`: handlers run by `Once`, in seconds.
pub const HANDLER_DURATION: &str = "attio.once.handler.duration";
/// `attio.once.store.duration`: `Once`'s store calls, in seconds.
pub const STORE_DURATION: &str = "attio.once.store.duration";

/// What an attempt's labels are made of.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct AttemptLabels<'a> {
    pub(crate) operation: &'static str,
    pub(crate) method: &'a http::Method,
    pub(crate) server: &'a ServerLabels,
    pub(crate) url_template: Option<&'static str>,
    /// The answer's status, if one came.
    pub(crate) status: Option<http::StatusCode>,
    /// Why it failed, if it did.
    pub(crate) error_type: Option<&'a str>,
}

/// A client's `server.address` and `server.port`, made once per client so
/// an attempt's labels copy no string.
#[derive(Debug)]
pub(crate) struct ServerLabels {
    #[cfg(feature = "metrics")]
    labels: [::metrics::Label; 2],
}

impl ServerLabels {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(host: &str, port: Option<u16>) -> Self {
        Self {
            #[cfg(feature = "metrics")]
            labels: [
                ::metrics::Label::new(
                    "server.address",
                    ::metrics::SharedString::from_shared(std::sync::Arc::from(host)),
                ),
                ::metrics::Label::new(
                    "server.port",
                    ::metrics::SharedString::from_shared(std::sync::Arc::from(
                        port.map(|p| p.to_string()).unwrap_or_default().as_str(),
                    )),
                ),
            ],
        }
    }
}

/// Describes every metric here (its unit and a line of text) to the
/// recorder installed now: call it once after installing yours, so an
/// exporter that shows units (Prometheus' `_seconds`) has them. Recording
/// works without it.
#[cfg(feature = "metrics")]
pub fn describe() {
    use ::metrics::{describe_counter, describe_histogram, Unit};
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Duration of each HTTP attempt to Attio."
    );
    describe_histogram!(
        CALL_DURATION,
        Unit::Seconds,
        "Duration of each call to Attio, retries and their waits included."
    );
    describe_counter!(CALL_ATTEMPTS, Unit::Count, "HTTP attempts made to Attio.");
    describe_counter!(CALL_RETRIES, Unit::Count, "Retries decided, by reason.");
    describe_counter!(
        CALL_ERRORS,
        Unit::Count,
        "Calls to Attio that failed, by error type."
    );
    describe_counter!(DELIVERIES, Unit::Count, "Deliveries checked, by outcome.");
    describe_counter!(ONCE_OUTCOMES, Unit::Count, "Once::run outcomes.");
    describe_histogram!(
        HANDLER_DURATION,
        Unit::Seconds,
        "Duration of handlers run by Once."
    );
    describe_histogram!(
        STORE_DURATION,
        Unit::Seconds,
        "Duration of Once's calls to its store."
    );
}

#[cfg(feature = "metrics")]
mod record {
    use std::time::Duration;

    use ::metrics::{counter, histogram, Label};

    use super::*;

    /// A label whose value is `'static` when it is one of `known`.
    fn label(key: &'static str, value: &str, known: &[&'static str]) -> Label {
        match known.iter().find(|k| **k == value) {
            Some(known) => Label::from_static_parts(key, known),
            None => Label::new(key, value.to_owned()),
        }
    }

    const METHODS: &[&str] = &["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"];
    /// The statuses Attio answers (others are copied).
    const STATUSES: &[&str] = &[
        "200", "201", "204", "400", "401", "403", "404", "409", "413", "429", "500", "502", "503",
        "504",
    ];

    pub(crate) fn attempt(labels: &AttemptLabels<'_>, took: Duration) {
        let mut set = Vec::with_capacity(8);
        set.push(Label::from_static_parts(
            "attio.operation",
            labels.operation,
        ));
        set.push(label(
            "http.request.method",
            labels.method.as_str(),
            METHODS,
        ));
        set.extend(labels.server.labels.iter().cloned());
        if let Some(template) = labels.url_template {
            set.push(Label::from_static_parts("url.template", template));
        }
        if let Some(status) = labels.status {
            set.push(label(
                "http.response.status_code",
                status.as_str(),
                STATUSES,
            ));
        }
        if let Some(error_type) = labels.error_type {
            set.push(label("error.type", error_type, STATUSES));
        }
        histogram!(REQUEST_DURATION, set).record(took.as_secs_f64());
        counter!(CALL_ATTEMPTS, "attio.operation" => labels.operation).increment(1);
    }

    pub(crate) fn retry(operation: &'static str, reason: &'static str) {
        counter!(CALL_RETRIES, "attio.operation" => operation, "attio.retry.reason" => reason)
            .increment(1);
    }

    pub(crate) fn call(operation: &'static str, error_type: Option<&str>, took: Duration) {
        match error_type {
            None => {
                histogram!(CALL_DURATION, "attio.operation" => operation)
                    .record(took.as_secs_f64());
            }
            Some(error_type) => {
                let error_type = error_type.to_owned();
                histogram!(CALL_DURATION, "attio.operation" => operation, "error.type" => error_type.clone())
                    .record(took.as_secs_f64());
                counter!(CALL_ERRORS, "attio.operation" => operation, "error.type" => error_type)
                    .increment(1);
            }
        }
    }

    pub(crate) fn delivery(outcome: &'static str) {
        counter!(DELIVERIES, "attio.receive.outcome" => outcome).increment(1);
    }

    pub(crate) fn once_outcome(outcome: &'static str) {
        counter!(ONCE_OUTCOMES, "attio.receive.outcome" => outcome).increment(1);
    }

    pub(crate) fn handler(outcome: &'static str, took: Duration) {
        histogram!(HANDLER_DURATION, "attio.receive.outcome" => outcome).record(took.as_secs_f64());
    }

    pub(crate) fn store(operation: &'static str, result: &'static str, took: Duration) {
        histogram!(STORE_DURATION, "attio.once.operation" => operation, "attio.once.result" => result)
            .record(took.as_secs_f64());
    }
}

#[cfg(not(feature = "metrics"))]
mod record {
    //! Without the feature: nothing, inlined away.
    use std::time::Duration;

    use super::AttemptLabels;

    #[inline(always)]
    pub(crate) fn attempt(_: &AttemptLabels<'_>, _: Duration) {}
    #[inline(always)]
    pub(crate) fn retry(_: &'static str, _: &'static str) {}
    #[inline(always)]
    pub(crate) fn call(_: &'static str, _: Option<&str>, _: Duration) {}
    #[inline(always)]
    pub(crate) fn delivery(_: &'static str) {}
    #[inline(always)]
    pub(crate) fn once_outcome(_: &'static str) {}
    #[inline(always)]
    pub(crate) fn handler(_: &'static str, _: Duration) {}
}

#[cfg(feature = "metrics")]
pub(crate) use record::store;
pub(crate) use record::{attempt, call, delivery, handler, once_outcome, retry};

/// Whether anything here records: the client reads its clock for the
/// durations only then.
pub(crate) const ON: bool = cfg!(feature = "metrics");

/// Times what `Once` does, with `std::time::Instant` where there is one.
#[derive(Clone, Copy)]
pub(crate) struct Stopwatch {
    #[cfg(all(
        feature = "metrics",
        not(all(target_family = "wasm", target_os = "unknown"))
    ))]
    started: std::time::Instant,
}

impl Stopwatch {
    /// Starts timing (a no-op without a clock or the feature).
    #[inline(always)]
    pub(crate) fn start() -> Self {
        Self {
            #[cfg(all(
                feature = "metrics",
                not(all(target_family = "wasm", target_os = "unknown"))
            ))]
            started: std::time::Instant::now(),
        }
    }

    /// The time since [`Stopwatch::start`], if it can be measured.
    #[inline(always)]
    pub(crate) fn elapsed(self) -> Option<std::time::Duration> {
        #[cfg(all(
            feature = "metrics",
            not(all(target_family = "wasm", target_os = "unknown"))
        ))]
        return Some(self.started.elapsed());
        #[cfg(not(all(
            feature = "metrics",
            not(all(target_family = "wasm", target_os = "unknown"))
        )))]
        None
    }
}

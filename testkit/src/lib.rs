//! A fake Attio webhooks API for tests.
//!
//! One in-memory workspace ([`FakeAttio`]) with Attio's rules: random v4
//! ids, `created_at` in Attio's format, a 64-hex secret returned only by
//! create, list in creation order with `limit` 10..=100 and `offset`, 400
//! `validation_type`, 409 `uniqueness_conflict`, 404 `not_found`, bearer
//! tokens with scopes (401/403), optional rate limits (429 with an HTTP-date
//! `Retry-After`). Reach it through whichever door fits the test:
//!
//! | you want | reach for |
//! |---|---|
//! | fast tests of code that uses `attio_webhooks::Client`, no sockets | [`FakeAttio::client`] / [`FakeAttio::transport`] ([`InProcessTransport`]) |
//! | the real HTTP stack (`HyperTransport`, your own transport) on loopback | [`FakeAttio::start`] / [`FakeAttio::serve`] ([`FakeServer`]) |
//! | a fake for another language's SDK | the `fake-attio` binary (`fake-attio --port 8080 --token KEY`) |
//! | request-level contract tests on a `wiremock::MockServer` | [`fixtures`] |
//! | failures: 5xx, 429, delays, bad bodies, dropped connections | [`FakeAttio::inject`] with a [`FaultRule`] |
//! | deliveries to your receiver, with Attio's multi-day retry schedule | [`FakeAttio::emit`], a manual [`Clock`], [`FakeAttio::settle_deliveries`] |
//!
//! # Choices the fake makes where Attio's docs are silent
//!
//! - Request bodies are read strictly: unknown keys, `null` for a required
//!   value, unknown event types and unknown operators are 400s (see
//!   [`validate`]). Unknown query parameters are ignored.
//! - A `limit` outside 10..=100, or a non-integer `limit`/`offset`, is a 400.
//! - Malformed ids in paths get the same 404 as unknown ones.
//! - Bodies over 1 MiB get 413. Every answer is `application/json`.
//! - 401/403/5xx bodies use the shapes listed in [`errors`].
//! - `webhook:read-write` also grants reads.
//! - A `Delay` fault handles the request at once and holds back the answer,
//!   like a server that did the work but answered late.
//! - Rate limits count per wall-clock second across all tokens; `Retry-After`
//!   is wall-clock time too, even with a manual [`Clock`].
//! - Deliveries go only to `http://` loopback targets; others are logged as
//!   skipped with the signed body. A delivery that succeeds makes a
//!   degraded webhook active again. Retries use the target URL the webhook
//!   had when the event was emitted.
//!
//! # Example
//!
//! ```
//! use attio_webhooks::{EventType, Subscription};
//! use attio_webhooks_testkit::{Fault, FaultRule, FakeAttio};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), attio_webhooks::Error> {
//! let fake = FakeAttio::new();
//! fake.inject(FaultRule::new(Fault::status(503)).method("GET").path("/v2/webhooks"));
//! // The client retries the 503 and gets the list.
//! assert!(fake.client().list_webhooks(Default::default()).await?.is_empty());
//! assert_eq!(fake.requests().len(), 2);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod auth;
mod clock;
mod control;
mod delivery;
pub mod errors;
mod fake;
mod faults;
pub mod fixtures;
mod in_process;
mod rate_limit;
mod recorded;
mod responses;
pub mod samples;
mod server;
mod store;
pub mod validate;

pub use auth::{Scope, UnknownScope};
pub use clock::Clock;
pub use delivery::{
    DeliveryAttempt, DeliveryOutcome, DeliveryPolicy, QueuedDelivery, DELIVERY_USER_AGENT,
};
pub use fake::{
    test_retry_policy, FakeAttio, FakeAttioBuilder, CONTROL_PREFIX, DEFAULT_MAX_RECORDED_REQUESTS,
    DEFAULT_TOKEN, IN_PROCESS_BASE_URL, MAX_BODY_BYTES,
};
pub use faults::{Fault, FaultRule};
pub use in_process::{InProcessError, InProcessTransport};
pub use rate_limit::{READS_PER_SECOND, WRITES_PER_SECOND};
pub use recorded::RecordedRequest;
pub use responses::retry_after_next_second;
pub use server::FakeServer;
pub use store::Seed;

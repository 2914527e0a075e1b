//! A client for the [Attio](https://attio.com) webhooks API (REST v2).
//!
//! # The shape of it
//!
//! - **Operations are values.** [`operations::ListWebhooks`],
//!   [`operations::CreateWebhook`], [`operations::GetWebhook`],
//!   [`operations::UpdateWebhook`] and [`operations::DeleteWebhook`] each
//!   implement [`Request`]: method, path, query, JSON body, and a pure
//!   [`RequestExt::decode`] of the `http::Response<Bytes>`.
//! - **Any HTTP stack.** [`Transport`] is one async method from
//!   `http::Request<Bytes>` to `http::Response<Bytes>`; the crate
//!   re-exports [`http`], [`bytes`] and [`async_trait`](macro@async_trait), so implementing
//!   one needs no other dependency (`examples/custom_transport.rs`).
//!   Ready-made, in [`transport`]: [`HyperTransport`] (feature
//!   `hyper-transport`, on by default: hyper-util's pooled client, HTTPS
//!   via rustls, configurable with [`HyperTransport::builder`]),
//!   [`ReqwestTransport`] over your `reqwest::Client` (feature `reqwest`),
//!   and [`TowerTransport`] over any tower `Service` (feature `tower`).
//!   Their failures are [`TransportError`]s that say what happened in one line.
//! - **One send path.** [`Client`] adds the bearer token, `User-Agent`, a
//!   per-attempt timeout, a whole-call deadline, retries by
//!   [`RetryPolicy`], tracing, and decoding, in one place
//!   ([`Client::send_with`]).
//! - **Errors keep evidence.** [`Error`] separates Attio's error answers
//!   (with the parsed body), rate limiting (with `Retry-After`), transport
//!   failures, timeouts, undecodable responses (raw bytes and JSON path),
//!   and input rejected before sending; set-up mistakes (an empty token, a
//!   bad base URL) are an [`error::ConfigError`] from [`Client::new`] and
//!   [`ClientBuilder::build`].
//! - **Receiving, in one module.** [`receive`] holds everything a receiver
//!   uses: [`receive::Verifier`] (body limit, the signature against a set
//!   of [`receive::Secrets`] for rotation, parsing) is the one verification
//!   path, behind an axum extractor, a tower layer and the CLI's `listen`;
//!   [`receive::Delivery`] and [`receive::Event`] keep every field;
//!   [`receive::Once`] handles each message once across Attio's retries.
//!   [`Filter::matches`] evaluates a subscription filter against an event.
//! - **No runtime needed for the core.** With `default-features = false`
//!   the crate has no tokio, hyper or TLS dependency: models, requests,
//!   decoding, the retry decision and [`client::Endpoint`] are pure code.
//!   The [`Client`] then runs on any executor given a
//!   [`runtime::AsyncSleep`], and on targets without a standard clock
//!   (`wasm32-unknown-unknown`: browsers, edge runtimes) given a
//!   [`runtime::Clock`] too; on `wasm32` its futures need not be `Send`.
//!
//! # Where things are
//!
//! The root holds what most code names: the client, its error, the common
//! models and the transport trait. The rest lives in modules named for
//! what they hold:
//!
//! | module | holds |
//! |---|---|
//! | [`client`] | [`Client`], its builder and options, [`client::Endpoint`], [`client::WebhookStream`], and [`client::retry`] (the retry decision: [`client::retry::AttemptFailure`], [`client::retry::RetryDecision`], [`client::retry::StopReason`]) |
//! | [`error`] | [`Error`] and the evidence its variants keep ([`error::ApiErrorBody`], [`error::RateLimited`], [`error::DecodeError`], [`error::InvalidInput`], [`error::ConfigError`], ...) |
//! | [`model`] | Attio's data: webhooks, subscriptions, filters, ids, secrets, timestamps, [`model::TargetUrlPolicy`] |
//! | [`operations`] | the five operations, the [`Request`] trait, and decoding helpers ([`operations::decode_json`], [`operations::Envelope`]) |
//! | [`receive`] | verifying, parsing and deduplicating deliveries; [`receive::signature`] |
//! | [`runtime`] | the timer and clock the client needs ([`runtime::AsyncSleep`], [`TokioSleep`], [`runtime::Clock`], [`runtime::StdClock`]) |
//! | [`transport`] | [`Transport`], [`TransportError`] and the ready-made transports |
//!
//! # Example
//!
//! A webhook created and listed, here against the fake Attio of the
//! `attio-webhooks-testkit` crate (in-process: no account, no network, no
//! sockets). Against Attio, build the client with
//! `Client::new(HyperTransport::new()?, api_key)?` instead; every call
//! below stays the same.
//!
//! ```
//! use attio_webhooks::{Condition, EventType, Filter, Subscription, WebhookStatus};
//! use attio_webhooks_testkit::FakeAttio;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), attio_webhooks::Error> {
//! let fake = FakeAttio::new();
//! let client = fake.client();
//! let people_only = Filter::And(vec![Condition::equals("id.object_id", "people")]);
//! let created = client
//!     .create_webhook(
//!         "https://example.com/hook",
//!         vec![Subscription::new(EventType::RecordCreated).with_filter(people_only)],
//!     )
//!     .await?;
//! assert_eq!(created.webhook.status, WebhookStatus::Active);
//! // Keep the secret: Attio shows it only once, and it signs every delivery.
//! assert_eq!(format!("{:?}", created.secret), "Secret(<redacted>)");
//!
//! let listed = client.list_webhooks(Default::default()).await?;
//! assert_eq!(listed, vec![created.webhook]);
//! # Ok(())
//! # }
//! ```
//!
//! A [`Transport`] that plays Attio from a script, for a test that pins
//! exact bytes, is in [`Transport`]'s docs.
//!
//! # Choices this crate makes
//!
//! - `ListWebhooks` sends `limit` and `offset` only when set, and refuses a
//!   `limit` outside 10..=100 before sending.
//! - Target URLs must be `https://` ([`model::TargetUrlPolicy`]); tests can allow
//!   `http://` to loopback hosts.
//! - The base URL must be `https://`, or `http://` to a loopback host;
//!   [`ClientBuilder::allow_insecure_http`] lets a test network use plain
//!   HTTP to any host (a fake Attio in another container).
//! - Each attempt has a 30 s timeout ([`client::DEFAULT_TIMEOUT`]) and each call a
//!   60 s deadline ([`client::DEFAULT_DEADLINE`], which says why), retries and
//!   waits included; both can be changed or turned off, per client and per
//!   call ([`SendOptions`]).
//! - A `DELETE` whose earlier attempt had an unknown outcome (a 5xx, a
//!   timeout, a connection lost after sending) and whose retry gets 404
//!   returns `Ok(())`: that attempt deleted the webhook. A 404 on the first
//!   attempt is an error.
//! - A subscription's `filter` is always sent, as `null` when absent, and is
//!   required when decoding.
//! - Unknown enum values (event types, statuses, operators, error codes)
//!   are kept in an `Unknown(String)` variant and written back unchanged.
//! - Unknown keys in responses are ignored.
//! - Timestamps are written as Attio writes them: UTC with nine fractional
//!   digits.
//! - Filter conditions compare strictly: `equals` needs a string equal to
//!   the value at the dot path; `not_equals` is its negation (true for a
//!   missing field or a non-string value); an empty `$and` passes, an empty
//!   `$or` fails; an unknown operator never holds.
//!
//! # Upgrading: what may change without a major version
//!
//! Attio adds event types, statuses, error codes and response fields over
//! time, and this crate follows in minor versions. So the types that
//! mirror Attio's data are `#[non_exhaustive]`: the open enums
//! ([`EventType`], [`WebhookStatus`], [`ErrorCode`], [`error::ErrorType`],
//! [`receive::ActorType`], [`model::Operator`]) and [`Filter`], and the structs
//! ([`Webhook`], [`CreatedWebhook`], [`Subscription`], [`Condition`],
//! [`receive::Event`], [`receive::Actor`], [`receive::Delivery`],
//! [`error::ApiErrorBody`], ...). Outside the
//! crate, build those with their constructors (`Webhook::new`,
//! `Event::new(..).with_id(..)`, `ApiErrorBody::new`, ...), and give every
//! `match` on one of the enums a wildcard arm. An event type this version
//! does not know arrives as `EventType::Unknown("...")`; once a later
//! version names it, it arrives as that variant instead (see
//! [`EventType`] for how to match so that this does not matter).
//!
//! ```compile_fail,E0639
//! # use attio_webhooks::{WebhookId, model::WebhookIdentifier, WorkspaceId};
//! // A struct literal would break when Attio adds a field: use WebhookIdentifier::new.
//! let id = WebhookIdentifier { workspace_id: WorkspaceId::from_u128(1), webhook_id: WebhookId::from_u128(2) };
//! ```
//!
//! ```compile_fail,E0004
//! # use attio_webhooks::WebhookStatus;
//! // Without a wildcard arm, a status Attio adds later would not compile.
//! fn receives(status: WebhookStatus) -> bool {
//!     match status {
//!         WebhookStatus::Active | WebhookStatus::Degraded => true,
//!         WebhookStatus::Inactive | WebhookStatus::Unknown(_) => false,
//!     }
//! }
//! ```
//!
//! # Features
//!
//! | feature | default | gives |
//! |---|---|---|
//! | `hyper-transport` | yes | [`HyperTransport`] (hyper, hyper-util, rustls with ring, Mozilla's roots bundled, optional HTTP proxy); implies `tokio` |
//! | `native-roots` | no | [`HyperTransportBuilder::native_roots`]: the operating system's root certificates; implies `hyper-transport` |
//! | `reqwest` | no | [`ReqwestTransport`] over your `reqwest::Client` (reqwest 0.13 without default features: you pick its TLS); implies `tokio` |
//! | `tower` | no | [`TowerTransport`] over any tower `Service` of HTTP requests, and `receive::VerifyLayer` |
//! | `tokio` | yes | [`TokioSleep`], the client's default timer |
//! | `axum` | no | [`receive::VerifiedDelivery`] as an extractor for axum 0.8 (through axum-core 0.5 only; no runtime) |
//! | `metrics` | no | metrics of calls and deliveries through the `metrics` facade (0.24): names and labels in [`metrics`](crate::metrics) |
//!
//! The `tower` feature also gives `receive::VerifyLayer`, a tower `Layer`
//! that verifies deliveries for any `http` service.
//!
//! With `default-features = false` the crate needs no async runtime, HTTP
//! client or TLS library; give the [`Client`] a timer with
//! [`ClientBuilder::sleep`] and your own [`Transport`] (and, on
//! `wasm32-unknown-unknown`, a clock with [`ClientBuilder::clock`]).

// Items of features that are on link to their modules; those of features
// that are off link to the feature table instead.
#![doc = ""]
#![cfg_attr(
    feature = "hyper-transport",
    doc = "[`HyperTransport`]: transport::HyperTransport",
    doc = "[`HyperTransport::builder`]: transport::HyperTransport::builder"
)]
#![cfg_attr(
    feature = "native-roots",
    doc = "[`HyperTransportBuilder::native_roots`]: transport::HyperTransportBuilder::native_roots"
)]
#![cfg_attr(
    feature = "reqwest",
    doc = "[`ReqwestTransport`]: transport::ReqwestTransport"
)]
#![cfg_attr(
    feature = "tower",
    doc = "[`TowerTransport`]: transport::TowerTransport"
)]
#![cfg_attr(feature = "tokio", doc = "[`TokioSleep`]: runtime::TokioSleep")]
#![cfg_attr(
    not(feature = "hyper-transport"),
    doc = "[`HyperTransport`]: crate#features",
    doc = "[`HyperTransport::builder`]: crate#features"
)]
#![cfg_attr(
    not(feature = "native-roots"),
    doc = "[`HyperTransportBuilder::native_roots`]: crate#features"
)]
#![cfg_attr(not(feature = "reqwest"), doc = "[`ReqwestTransport`]: crate#features")]
#![cfg_attr(not(feature = "tower"), doc = "[`TowerTransport`]: crate#features")]
#![cfg_attr(not(feature = "tokio"), doc = "[`TokioSleep`]: crate#features")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
pub mod client;
pub mod error;
mod json;
pub mod metrics;
pub mod model;
mod open_enum;
pub mod operations;
pub mod receive;
pub mod reconcile;
pub mod runtime;
pub mod transport;

pub use client::{Client, ClientBuilder, RetryPolicy, SendOptions};
pub use error::{ApiError, Error, ErrorCode};
pub use model::{
    Condition, CreatedWebhook, EventType, Filter, Secret, Subscription, Webhook, WebhookId,
    WebhookStatus, WorkspaceId,
};
pub use operations::{Request, RequestExt};
pub use transport::{Transport, TransportError};

/// The `#[async_trait]` attribute that [`Transport`] implementations use,
/// re-exported so that implementing one needs no dependency but this crate.
pub use async_trait::async_trait;
/// The `bytes` crate, re-exported: [`Transport`] exchanges `Bytes` bodies.
pub use bytes;
/// The `http` crate, re-exported: [`Transport`] exchanges `http::Request`s
/// and `http::Response`s.
pub use http;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// CONTRIBUTING.md's code blocks, checked as doc tests: a block without a
/// language tag would be compiled as Rust and fail.
#[cfg(doctest)]
#[doc = include_str!("../CONTRIBUTING.md")]
pub struct ContributingDoctests;

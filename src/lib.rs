//! A client for the [Attio](https://attio.com) webhooks API (REST v2).
//!
//! # The shape of it
//!
//! - **Operations are values.** [`operations::ListWebhooks`],
//!   [`operations::CreateWebhook`], [`operations::GetWebhook`],
//!   [`operations::UpdateWebhook`] and [`operations::DeleteWebhook`] each
//!   implement [`Request`]: method, path, query, JSON body, and a pure
//!   [`Request::decode`] of the `http::Response<Bytes>`.
//! - **Any HTTP stack.** [`Transport`] is one async method from
//!   `http::Request<Bytes>` to `http::Response<Bytes>`; the crate
//!   re-exports [`http`], [`bytes`] and [`async_trait`](macro@async_trait), so implementing
//!   one needs no other dependency (`examples/custom_transport.rs`).
//!   Ready-made: [`HyperTransport`] (feature `hyper-transport`, on by
//!   default: hyper-util's pooled client, HTTPS via rustls, configurable
//!   with [`HyperTransport::builder`]), [`ReqwestTransport`] over your
//!   `reqwest::Client` (feature `reqwest`), and [`TowerTransport`] over any
//!   tower `Service` (feature `tower`). Their failures are
//!   [`TransportError`]s that say what happened in one line.
//! - **One send path.** [`Client`] adds the bearer token, `User-Agent`, a
//!   per-attempt timeout, a whole-call deadline, retries by
//!   [`RetryPolicy`], tracing, and decoding, in one place
//!   ([`Client::send_with`]).
//! - **Errors keep evidence.** [`Error`] separates Attio's error answers
//!   (with the parsed body), rate limiting (with `Retry-After`), transport
//!   failures, timeouts, undecodable responses (raw bytes and JSON path),
//!   and input rejected before sending.
//! - **Receiving, too.** [`signature::verify`] checks a delivery's
//!   `Attio-Signature`; [`Delivery`] and [`Event`] parse it, keeping every
//!   field; [`Filter::matches`] evaluates a subscription filter against an
//!   event; [`Delivery::verify_and_parse`] does both steps of a receiver.
//!   [`receive`] puts it in a service: a [`receive::Verifier`] with a set
//!   of [`Secrets`] (rotation), an axum extractor, a tower layer, and
//!   [`receive::Once`] to handle each message once across Attio's retries.
//! - **No runtime needed for the core.** With `default-features = false`
//!   the crate has no tokio, hyper or TLS dependency: models, requests,
//!   decoding, the retry decision and [`Endpoint`] are pure code. The
//!   [`Client`] then runs on any executor given an [`AsyncSleep`].
//!
//! # Example
//!
//! A whole lifecycle, here against a transport that plays Attio from a
//! script (the `attio-webhooks-testkit` crate has a real, stateful fake):
//!
//! ```
//! use attio_webhooks::bytes::Bytes;
//! use attio_webhooks::{async_trait, http};
//! use attio_webhooks::{Client, Condition, EventType, Filter, Subscription, Transport};
//!
//! /// Answers create with a fixed webhook; a stand-in for Attio.
//! struct Scripted;
//!
//! #[async_trait]
//! impl Transport for Scripted {
//!     type Error = std::convert::Infallible;
//!     async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, Self::Error> {
//!         assert_eq!(request.uri(), "https://api.attio.com/v2/webhooks");
//!         assert_eq!(request.headers()["authorization"], "Bearer sk_test");
//!         let body = r#"{"data":{
//!             "target_url":"https://example.com/hook",
//!             "subscriptions":[{"event_type":"record.created","filter":{"$and":[
//!                 {"field":"id.object_id","operator":"equals","value":"people"}]}}],
//!             "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c",
//!                   "webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"},
//!             "status":"active",
//!             "created_at":"2023-04-27T13:22:49.061281000Z",
//!             "secret":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#;
//!         Ok(http::Response::new(Bytes::from_static(body.as_bytes())))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), attio_webhooks::Error> {
//! let client = Client::new(Scripted, "sk_test")?;
//! let people_only = Filter::And(vec![Condition::equals("id.object_id", "people")]);
//! let created = client
//!     .create_webhook(
//!         "https://example.com/hook",
//!         vec![Subscription::new(EventType::RecordCreated).with_filter(people_only)],
//!     )
//!     .await?;
//! assert_eq!(created.webhook.webhook_id().to_string(), "23e42eaf-323a-41da-b5bb-fd67eebda553");
//! assert_eq!(created.webhook.created_at.to_string(), "2023-04-27T13:22:49.061281000Z");
//! assert_eq!(format!("{:?}", created.secret), "Secret(<redacted>)");
//! # Ok(())
//! # }
//! ```
//!
//! # Choices this crate makes
//!
//! - `ListWebhooks` sends `limit` and `offset` only when set, and refuses a
//!   `limit` outside 10..=100 before sending.
//! - Target URLs must be `https://` ([`TargetUrlPolicy`]); tests can allow
//!   `http://` to loopback hosts.
//! - The base URL must be `https://`, or `http://` to a loopback host;
//!   [`ClientBuilder::allow_insecure_http`] lets a test network use plain
//!   HTTP to any host (a fake Attio in another container).
//! - Each attempt has a 30 s timeout ([`DEFAULT_TIMEOUT`]) and each call a
//!   60 s deadline ([`DEFAULT_DEADLINE`], which says why), retries and
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
//! ([`EventType`], [`WebhookStatus`], [`ErrorCode`], [`ErrorType`],
//! [`ActorType`], [`Operator`]) and [`Filter`], and the structs
//! ([`Webhook`], [`CreatedWebhook`], [`Subscription`], [`Condition`],
//! [`Event`], [`Actor`], [`Delivery`], [`ApiErrorBody`], ...). Outside the
//! crate, build those with their constructors (`Webhook::new`,
//! `Event::new(..).with_id(..)`, `ApiErrorBody::new`, ...), and give every
//! `match` on one of the enums a wildcard arm. An event type this version
//! does not know arrives as `EventType::Unknown("...")`; once a later
//! version names it, it arrives as that variant instead (see
//! [`EventType`] for how to match so that this does not matter).
//!
//! ```compile_fail,E0639
//! # use attio_webhooks::{WebhookId, WebhookIdentifier, WorkspaceId};
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
//! | `axum` | no | [`receive::VerifiedDelivery`] as an axum extractor (axum-core only; no runtime) |
//!
//! The `tower` feature also gives `receive::VerifyLayer`, a tower `Layer`
//! that verifies deliveries for any `http` service.
//!
//! With `default-features = false` the crate needs no async runtime, HTTP
//! client or TLS library; give the [`Client`] a timer with
//! [`ClientBuilder::sleep`] and your own [`Transport`].

// Items of features that are off link to the feature table instead.
#![doc = ""]
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

mod backoff;
mod client;
mod endpoint;
mod error;
mod event;
mod json;
mod model;
mod open_enum;
pub mod operations;
pub mod receive;
mod request;
pub mod signature;
mod sleep;
mod transport;

pub use backoff::Backoff;
pub use client::{
    Client, ClientBuilder, Failure, RetryDecision, RetryPolicy, SendOptions, StopReason,
    DEFAULT_DEADLINE, DEFAULT_TIMEOUT,
};
pub use endpoint::{Endpoint, DEFAULT_BASE_URL, USER_AGENT_VALUE};
pub use error::{
    ApiError, ApiErrorBody, BoxError, DecodeError, Error, ErrorCode, ErrorType, InvalidInput,
    RateLimited, RetryAfter,
};
pub use event::{
    Actor, ActorType, Delivery, Event, EventIds, FieldValue, PayloadError, ReceiveError,
};
pub use model::{
    ApiToken, Condition, CreatedWebhook, EventType, Filter, Operator, Secret, Subscription,
    TargetUrlPolicy, Timestamp, Webhook, WebhookId, WebhookIdentifier, WebhookStatus, WorkspaceId,
};
pub use request::{decode_json, Envelope, Request};
pub use signature::Secrets;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use sleep::TokioSleep;
pub use sleep::{AsyncSleep, Sleep};
#[cfg(feature = "hyper-transport")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-transport")))]
pub use transport::hyper_transport::{
    HyperBuildError, HyperTransport, HyperTransportBuilder, DEFAULT_MAX_RESPONSE_BYTES,
};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use transport::reqwest_transport::{ReqwestTransport, REQWEST_DEFAULT_MAX_RESPONSE_BYTES};
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use transport::tower_transport::{TowerTransport, TOWER_DEFAULT_MAX_RESPONSE_BYTES};
pub use transport::{Transport, TransportError, TransportErrorKind};

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

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
//! | why an event reached no webhook (a filter condition and the value it found, no subscription of its type, inactive, a refused target) | [`FakeAttio::emit_explained`] ([`NearMiss`]), `near_misses` in `POST /__fake/events`'s answer |
//! | ready-made events, as Attio's reference shows them | [`samples`] (one per type; the `record.merged` pair; each actor kind) |
//! | batches, `system` follow-ups, duplicates, reordering and overlapping attempts, as Attio sends them | [`FakeAttio::emit_batch`], [`FakeAttio::redeliver`], [`FakeAttioBuilder::delivery_profile`] with [`DeliveryProfile::attio_like`] |
//! | an `https://` receiver, as Attio requires, on loopback | `tls::LoopbackCertificate` and [`FakeAttioBuilder::trust_delivery_root`] |
//! | tests in parallel on one server, each in its own workspace (tokens, webhooks, journal, clock) | [`workspaces::shared`], [`FakeAttio::workspace`], `POST /__fake/workspaces` |
//!
//! # Modules, by reader
//!
//! The root holds what a test names; the rest is grouped by who reads it:
//!
//! | module | for | holds |
//! |---|---|---|
//! | [`delivery`] | tests of a receiver | the delivery log, what an emit did and its near misses, delivery profiles and policies |
//! | [`control`] | tests that drive a fake in another process | [`ControlClient`]'s errors and clock state, the control routes, log snapshots |
//! | [`limits`] | anyone sizing a fake | every bound and Attio's fixed limits |
//! | `server` | programs that serve a fake (the binary, the CLI) | [`FakeServer`]'s plumbing: connection cap, stop signals |
//! | [`samples`] | tests that need events | one realistic event per type |
//! | [`fixtures`] | wiremock users | Attio-exact mocks and the OpenAPI checker |
//! | [`seen_keys_conformance`] | authors of a `SeenKeys` store | the claim-protocol suite |
//! | `tls` | https receivers on loopback | a loopback certificate |
//! | [`workspaces`] | suites that run tests in parallel | one fake, many isolated workspaces; a process-wide shared server |
//!
//! # How it is built
//!
//! Four layers, each importing only the ones below it:
//!
//! - **workspace**: the state and Attio's rules on typed input (storage,
//!   uniqueness by hash of the canonical (target URL, event type, filter),
//!   status changes). No HTTP, no tokio; time comes in as an argument.
//! - **delivery**: queue, worker and schedule; it sees the workspace and
//!   the clock.
//! - **api**: one sans-IO dispatcher, `http::Request` plus the time to a
//!   reply, for the API and the control routes alike, in this order: size
//!   cap, route (control routes are answered here), record, auth, rate
//!   limit, faults, parse and check (outside any lock), one short lock on
//!   the workspace, answer.
//! - **doors**: the in-process transport and the HTTP server (the
//!   `fake-attio` binary is the server with flags), each a thin adapter
//!   onto the dispatcher. [`FakeAttio`] is a small facade over all of it.
//!
//! Every lock of the fake is reached through one closure-based type that
//! cannot be held across an `.await` and refuses (panics) to be taken
//! while another is held, so there is no lock order to get wrong.
//!
//! # Features
//!
//! | feature | default | gives |
//! |---|---|---|
//! | `server` | yes | [`FakeAttio::serve`], `FakeServer` and the `fake-attio` binary (hyper server, HTTP/2, TLS client for `FakeServer::client`); turns on `tls` |
//! | `tls` | yes (through `server`) | delivery to `https://` receivers whose certificate comes from a root the test trusts ([`FakeAttioBuilder::trust_delivery_root`]), and the `tls` module that mints one for a loopback receiver (rustls and rcgen on ring) |
//! | `fixtures` | yes | the wiremock [`fixtures`] |
//!
//! With `default-features = false` the in-process fake, fault injection
//! and delivery to plain `http://` loopback receivers remain, without
//! wiremock, the server or TLS.
//!
//! # Where the doors differ
//!
//! Every door hands the same request to the same dispatcher, so status,
//! body and recording are the same. They differ only where HTTP decides:
//!
//! - Over HTTP, hyper adds `host` and `content-length` headers to the
//!   request, which the recording shows; in-process has only the headers
//!   the client set. HTTP answers carry `date` and `content-length`.
//! - A [`Fault::DropConnection`] closes the socket over HTTP and is an
//!   [`InProcessError::ConnectionDropped`] in-process.
//! - Only HTTP can be slow: a body not sent within
//!   [`Limits::body_read_timeout`] gets 408 from the server itself, headers
//!   not sent within [`Limits::header_read_timeout`] or a connection idle
//!   past [`Limits::idle_timeout`] are closed, and headers too large for
//!   hyper to parse get hyper's own 431.
//! - `GET /__fake/requests` shows the values of the credential headers
//!   ([`CREDENTIAL_HEADERS`]: `Authorization`, `Proxy-Authorization`,
//!   `Cookie`, `Set-Cookie`, `X-Api-Key`) as `<redacted>` (`Bearer
//!   <redacted>` with a scheme); [`FakeAttio::requests`] in Rust shows them
//!   as sent (the test owns them).
//!
//! # Safe where others can reach it
//!
//! The health route [`HEALTH_PATH`] (`GET /__health`: 200
//! `{"status":"ok"}`) reveals nothing and needs no token, whatever the
//! control routes' setting. The control routes under [`CONTROL_PREFIX`]
//! can read every secret and wipe the state. By default they are open, for tests on loopback;
//! [`FakeAttioBuilder::control_token`] makes them need a bearer token and
//! [`FakeAttioBuilder::without_control_routes`] removes them. The binary
//! refuses to listen beyond loopback unless one of the two is set. Every
//! log, queue and store has a limit ([`Limits`]); deliveries follow the
//! target URL policy at each attempt and never go to the fake's own port.
//! The server closes connections that send headers too slowly or sit
//! idle, and at its connection cap sheds sockets that only hold a slot
//! rather than make a client with a request wait behind them. With every
//! connection running a request it admits [`Limits::control_connections`]
//! more, on which only the control routes are answered (API requests get
//! 503 `at_capacity`), so a saturated API cannot lock out the controls.
//!
//! # Fidelity
//!
//! Every behaviour the fake models is listed in
//! [FIDELITY.md](https://github.com/attio-webhooks/attio-webhooks/blob/main/FIDELITY.md),
//! each marked "observed live" (with the public log or recording and its
//! date), "documented" (with Attio's page) or "the fake's choice". The
//! choices are also here:
//!
//! # Choices the fake makes where Attio's docs are silent
//!
//! - `POST /__fake/events` ([`FakeAttio::emit_explained`]) says, for each
//!   webhook an event did not reach, why ([`NearMiss`]), and refuses with
//!   400 an event type none of [`attio_webhooks::EventType::KNOWN`] that
//!   no webhook subscribes to, naming the known types
//!   ([`UnknownEventType`]). Attio reports neither; they are there so a
//!   test that waits for a delivery fails with a reason, not a timeout.
//! - Request bodies are read strictly: unknown keys, `null` for a required
//!   value, unknown event types and unknown operators are 400s. Unknown
//!   query parameters are ignored.
//! - A `limit` outside 10..=100, or a non-integer `limit`/`offset`, is a 400.
//! - Malformed ids in paths get the same 404 as unknown ones; an unknown
//!   path gets 404, and a method its path does not have (`TRACE`, `HEAD`,
//!   `PUT`, ...) 405 `method_not_allowed` with an `Allow` header
//!   (`/v2/webhooks`: `GET, POST`; `/v2/webhooks/{id}`: `GET, PATCH,
//!   DELETE`; each control path its own), both before any token check.
//! - Bodies over 1 MiB get 413, before anything else (not recorded).
//! - 401 and 403 are `auth_error`/`unauthorized`, as observed live; the
//!   bodies the fake makes up use the same shape:
//!   `invalid_request_error`/`method_not_allowed` (405),
//!   `internal_server_error`/`internal_error` (5xx),
//!   `invalid_request_error`/`payload_too_large` (413).
//! - A refused webhook body lists every problem in `validation_errors`,
//!   with the codes Attio was seen to use (`invalid_type` with `expected`
//!   and `received`) and, where no live answer shows Attio's,
//!   `unrecognized_keys`, `invalid_union` and `custom` (a refusal by
//!   Attio's rules, the reason as its message).
//! - `webhook:read-write` also grants reads.
//! - A `Delay` fault handles the request at once and holds back the answer,
//!   like a server that did the work but answered late, for at most
//!   [`MAX_FAULT_DELAY`] (60 s; a longer one is refused with 400).
//! - Rate limits count per wall-clock second across all tokens; `Retry-After`
//!   is wall-clock time too, even with a manual [`Clock`].
//! - A delivery that succeeds makes a degraded webhook active again.
//!   Retries use the target URL the webhook had when the event was emitted.
//! - [`FakeAttio::redeliver`] sends a message the delivery log still holds
//!   to the target it first went to, with its body, signature and
//!   `Idempotency-Key`, counting attempts from 1; how Attio starts a
//!   redelivery and where it sends it is not documented.
//! - By default each emit is one message, sent at once, once; the seeded
//!   [`DeliveryProfile::attio_like`] batches, follows up, duplicates,
//!   reorders and overlaps messages at rates that are the fake's choice
//!   (see its table).
//! - Past [`Limits::webhooks`] webhooks (or [`Limits::stored_bytes`] of
//!   memory held by webhooks), create answers 400 `validation_type`; so
//!   does a webhook with more than [`MAX_SUBSCRIPTIONS_PER_WEBHOOK`]
//!   (1,000) subscriptions.
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

//!
//! [`NearMiss`]: delivery::NearMiss
//! [`UnknownEventType`]: delivery::UnknownEventType
//! [`DeliveryProfile::attio_like`]: delivery::DeliveryProfile::attio_like
//! [`CREDENTIAL_HEADERS`]: control::CREDENTIAL_HEADERS
//! [`HEALTH_PATH`]: control::HEALTH_PATH
//! [`CONTROL_PREFIX`]: control::CONTROL_PREFIX
//! [`MAX_FAULT_DELAY`]: limits::MAX_FAULT_DELAY
//! [`MAX_SUBSCRIPTIONS_PER_WEBHOOK`]: limits::MAX_SUBSCRIPTIONS_PER_WEBHOOK

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod bounded;
mod bytes_as_text;
mod clock;
pub mod control;
pub mod delivery;
mod doors;
mod execution_id;
mod fake;
#[cfg(feature = "fixtures")]
#[cfg_attr(docsrs, doc(cfg(feature = "fixtures")))]
pub mod fixtures;
pub mod limits;
mod locked;
mod log_lines;
mod needs_server;
pub mod samples;
pub mod seen_keys_conformance;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
mod workspace;
pub mod workspaces;

pub use api::{Fault, FaultRule, RecordedRequest, Scope};
pub use clock::Clock;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use control::ControlClient;
pub use doors::{InProcessError, InProcessTransport};
pub use fake::{test_retry_policy, FakeAttio, FakeAttioBuilder, DEFAULT_TOKEN};
pub use limits::Limits;
pub use log_lines::LogFormat;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use server::FakeServer;
pub use workspace::Seed;

/// The README's examples (the crate's page), compiled and run as doc tests
/// (they serve the fake and mount its fixtures: default features).
#[cfg(all(doctest, feature = "server", feature = "fixtures"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The CLI's README, compiled here: the CLI is a binary crate, whose doc
/// tests do not run, and the testkit has every dependency its examples use.
#[cfg(all(doctest, feature = "server", feature = "fixtures"))]
#[doc = include_str!("../../cli/README.md")]
pub struct CliReadmeDoctests;

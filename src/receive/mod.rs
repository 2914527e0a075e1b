//! Receiving deliveries in a service: verification with secret rotation,
//! an axum extractor, a tower layer, and handling each message once.
//!
//! | piece | feature | does |
//! |---|---|---|
//! | [`Verifier`] | — | body limit, signature against a set of [`Secrets`], parse; gives a [`VerifiedDelivery`] or a [`ReceiveError`] with its 401/400/413 answer |
//! | [`VerifiedDelivery`] as an axum extractor | `axum` | reads the raw body and verifies it with the app state's [`Verifier`] (`FromRef`) |
//! | `VerifyLayer` | `tower` | the same checks in front of any tower `http` service; puts the [`VerifiedDelivery`] in the request's extensions |
//! | [`Once`], [`SeenKeys`], [`MemorySeenKeys`] | — | run a handler once per `Idempotency-Key` across Attio's retries |
//! | [`Inbox`], [`InboxEvent`] | — | store each event durably and answer at once; a store's workers handle them later, in order per record |
//!
//! All of them go through [`Verifier::verify`], so every front door
//! refuses alike:
//!
//! | request | answer |
//! |---|---|
//! | no `Attio-Signature`/`X-Attio-Signature`, malformed, or signed with no accepted secret | 401 `{"error":"invalid_signature",...}` |
//! | body over the limit (1 MiB by default), by `Content-Length` or as read | 413 `{"error":"body_too_large",...}` |
//! | signed, but not `{"webhook_id","events"}` | 400 `{"error":"invalid_delivery",...}` |
//! | body unreadable (connection failed) | 400 `{"error":"unreadable_body",...}` |
//!
//! Timeouts are the server's job: set hyper's `header_read_timeout`, and
//! bound the whole request (body included) with a timeout middleware, as
//! `examples/axum_receiver.rs` does.
//!
//! # Tracing
//!
//! Every delivery gets an INFO span, `attio.webhook.receive`, opened by
//! [`Verifier::verify`] and [`Verifier::read_and_verify`] (so by the axum
//! extractor and `VerifyLayer`, which run the latter):
//!
//! | field | value |
//! |---|---|
//! | `attio.webhook_id` | the delivery's `webhook_id` (once verified) |
//! | `attio.event.count` | how many events it carries (once verified) |
//! | `attio.event.types` | their `event_type`s, comma-joined, at most 256 bytes (then `…`) |
//! | `attio.idempotency_key.sha256` | the first 16 hex characters of the SHA-256 of the `Idempotency-Key`: it matches a message's retries, not the key |
//! | `attio.receive.outcome` | `verified`; `refused:missing_signature`, `refused:malformed_signature`, `refused:bad_signature`, `refused:body_too_large`, `refused:bad_payload` or `refused:unreadable_body`; then, from [`Once`], `handled`, `already_handled`, `in_progress`, `failed` or `store_error`; from [`Inbox::accept`], `accepted` or `store_error` |
//!
//! Inside it, [`Once`] opens two DEBUG spans: `attio.once.claim` (field
//! `attio.once.claim`: `claimed`, `done`, `in_progress`, `store_error`)
//! and `attio.once.settle` (`attio.once.settle`: `complete` or `release`;
//! `attio.once.settled`: `held`, `lost` or `store_error`). `VerifyLayer`
//! runs the inner service in the span; behind the axum extractor, run the
//! handler with [`Once::run_verified`] (or instrument it with
//! [`VerifiedDelivery::span`]). No field holds a secret, a signature or
//! the `Idempotency-Key` itself.
//!
//! With the `metrics` feature the same outcomes are counted
//! (`attio.webhook.deliveries`, `attio.once.outcomes`) and `Once` times
//! its handler and its store calls; [`metrics`](crate::metrics) lists them.
//!
//! # Secret rotation
//!
//! A webhook's secret is fixed when Attio creates it, so rotating means
//! replacing the webhook. With a [`Verifier`] that accepts both secrets
//! there is no moment in which valid deliveries are refused:
//!
//! 1. Create the new webhook with a filter that matches nothing (e.g.
//!    `id.object_id equals "never"`) and a target URL that differs from the
//!    old one (Attio refuses a second webhook with the same URL, event type
//!    and filter), e.g. the same path with `?v=2`.
//! 2. [`Verifier::set_secrets`]`(Secrets::new(new).and(old))`.
//! 3. Update the new webhook's subscriptions to the real ones; from now on
//!    both webhooks deliver, each event twice under two `Idempotency-Key`s
//!    (dedupe by event content if that matters).
//! 4. Delete the old webhook, wait for its pending retries to end (up to
//!    about 3 days, or until [`VerifiedDelivery::secret_index`] stops
//!    showing the old secret), then `set_secrets(new)`.
//!
//! # Once per message
//!
//! Attio retries a delivery that did not get 200 or 202, and a slow or
//! failing receiver sees the same message again under the same
//! `Idempotency-Key`. [`Once::run`] runs the handler for the first
//! delivery of a key, answers 200 to later ones once it succeeded, lets a
//! retry run it again after a failure, and answers 409 to a delivery that
//! races one still being handled. What "once" promises depends on the
//! [`SeenKeys`] store: [`MemorySeenKeys`] remembers within one process, a
//! bounded number of keys, for a time-to-live; back the trait with a
//! shared store for several processes.
//!
//! ```
//! use attio_webhooks::receive::{Once, Verifier};
//! use attio_webhooks::{receive::signature, Secret};
//!
//! # futures::executor::block_on(async {
//! let secret = Secret::new("shh");
//! let verifier = Verifier::new(secret.clone());
//! let once = Once::in_memory();
//! let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert("attio-signature", signature::sign(&secret, body).parse().unwrap());
//! headers.insert("idempotency-key", "k-1".parse().unwrap());
//!
//! // A message, then Attio's retry of it: the handler runs for the first only.
//! let runs = std::cell::Cell::new(0);
//! for expected in ["handled", "already_handled"] {
//!     let verified = verifier.verify(&headers, body).unwrap();
//!     let outcome = once
//!         .run(verified.dedupe_key(), || async {
//!             runs.set(runs.get() + 1);
//!             Ok::<_, std::io::Error>(verified.delivery().events.len())
//!         })
//!         .await;
//!     assert_eq!((outcome.code(), outcome.status().as_u16()), (expected, 200));
//! }
//! assert_eq!(runs.get(), 1);
//! # });
//! ```

#[cfg(feature = "axum")]
mod axum;
mod delivery;
mod event;
mod inbox;
mod key_order;
mod once;
mod rejection;
mod seen_keys;
pub mod signature;
#[cfg(feature = "metrics")]
mod timed_keys;
#[cfg(feature = "tower")]
mod tower;
mod trace;
mod verifier;

pub use delivery::{Delivery, PayloadError};
pub use event::{Actor, ActorType, Event, EventIds};
pub use inbox::{Accepted, Inbox, InboxEvent, Stored};
pub use once::{Once, Outcome};
pub use rejection::ReceiveError;
pub use seen_keys::{
    Claim, ClaimToken, MemorySeenKeys, SeenKeys, Settled, DEFAULT_CAPACITY, DEFAULT_LEASE,
    DEFAULT_TTL,
};
pub use signature::{Secrets, SignatureError};
#[cfg(feature = "tower")]
pub use tower::{InboxService, Verify, VerifyLayer};
pub use verifier::{
    DedupeBy, VerifiedDelivery, Verifier, DEFAULT_MAX_BODY_BYTES, IDEMPOTENCY_KEY_HEADER,
};

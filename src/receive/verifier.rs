//! The one verification path every front door uses: secrets, body limit,
//! signature, parse.

use std::sync::{Arc, PoisonError, RwLock};

use http::HeaderName;
use sha2::{Digest, Sha256};

use bytes::Bytes;

use crate::body::{read_limited, ReadError};
use crate::error::BoxError;
use crate::receive::delivery::Delivery;
use crate::receive::rejection::ReceiveError;
use crate::receive::signature::{self, Secrets};
use crate::receive::trace;
use tracing::{Instrument, Span};

/// The header Attio sends once per message and repeats on every retry.
pub const IDEMPOTENCY_KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");

/// The body limit of a new [`Verifier`]: 1 MiB. Attio sends one event per
/// delivery today, a few kilobytes at most.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Checks deliveries: the body size, the signature against a set of
/// [`Secrets`], and the shape of the body.
///
/// Clones share their secrets: [`Verifier::set_secrets`] on one (for
/// example the one in an axum app's state) changes what every clone
/// accepts, so a secret can be rotated while the receiver runs.
///
/// ```
/// use attio_webhooks::receive::Verifier;
/// use attio_webhooks::{receive::signature, receive::ReceiveError, Secret, receive::Secrets};
///
/// let (old, new) = (Secret::new("old secret"), Secret::new("new secret"));
/// let verifier = Verifier::new(old.clone()).with_max_body_bytes(64 * 1024);
/// let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("attio-signature", signature::sign(&new, body).parse().unwrap());
/// headers.insert("idempotency-key", "8b7bc4a4-2b1c-4a4e-9d6c-0f9b8a0c1d2e".parse().unwrap());
///
/// let refused = verifier.verify(&headers, body).unwrap_err();
/// assert_eq!(refused.status(), 401);
///
/// verifier.set_secrets(Secrets::new(new).and(old)); // rotation: both pass
/// let verified = verifier.verify(&headers, body)?;
/// assert_eq!(verified.secret_index(), 0);
/// assert_eq!(verified.idempotency_key(), Some("8b7bc4a4-2b1c-4a4e-9d6c-0f9b8a0c1d2e"));
/// assert!(verified.delivery().events.is_empty());
/// # Ok::<(), ReceiveError>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    secrets: Arc<RwLock<Secrets>>,
    max_body_bytes: usize,
    dedupe_by: DedupeBy,
}

/// What [`VerifiedDelivery::dedupe_key`] is: the key a
/// [`Once`](crate::receive::Once) remembers a delivery by. Set with
/// [`Verifier::dedupe_by`].
///
/// | | a retry of the message | a captured delivery replayed under a new `Idempotency-Key` | two messages with the same bytes |
/// |---|---|---|---|
/// | [`IdempotencyKey`](DedupeBy::IdempotencyKey) | handled once | handled again | each handled |
/// | [`SignedBody`](DedupeBy::SignedBody) | handled once | handled once (within the time-to-live) | handled once |
///
/// The `Idempotency-Key` header is not signed, so anyone who captured a
/// delivery (and its signature) can send it again under a fresh key;
/// keying on the signed body stops that for as long as the store
/// remembers the key. The price: Attio's events carry the ids of the
/// thing that changed, not of the change, so two `record.updated` of the
/// same record by the same actor can be byte-identical, and keyed on the
/// body the second is taken for a retry of the first. Use
/// `SignedBody` when the handler re-reads the current state (a second run
/// would do nothing new anyway); keep `IdempotencyKey` when every message
/// must run. Neither stops a replay after the time-to-live: use HTTPS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DedupeBy {
    /// The `Idempotency-Key` header, as sent (the default).
    #[default]
    IdempotencyKey,
    /// `sha256:` and the lowercase hex SHA-256 of the signed body bytes.
    SignedBody,
}

impl core::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &*self.read_secrets())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("dedupe_by", &self.dedupe_by)
            .finish()
    }
}

impl Verifier {
    /// A verifier accepting `secrets` (one [`crate::Secret`] or a
    /// [`Secrets`] set), with a body limit of [`DEFAULT_MAX_BODY_BYTES`].
    pub fn new(secrets: impl Into<Secrets>) -> Self {
        Self {
            secrets: Arc::new(RwLock::new(secrets.into())),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            dedupe_by: DedupeBy::IdempotencyKey,
        }
    }

    /// Sets what [`VerifiedDelivery::dedupe_key`] is (see [`DedupeBy`] for
    /// what each choice protects against).
    ///
    /// ```
    /// use attio_webhooks::receive::{signature, DedupeBy, Verifier};
    /// use attio_webhooks::Secret;
    ///
    /// let secret = Secret::new("s");
    /// let verifier = Verifier::new(secret.clone()).dedupe_by(DedupeBy::SignedBody);
    /// let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("attio-signature", signature::sign(&secret, body).parse().unwrap());
    /// headers.insert("idempotency-key", "k-1".parse().unwrap());
    /// let first = verifier.verify(&headers, body)?;
    /// headers.insert("idempotency-key", "a-new-key".parse().unwrap());
    /// let replayed = verifier.verify(&headers, body)?;
    /// assert_eq!(first.dedupe_key(), replayed.dedupe_key());
    /// assert!(first.dedupe_key().unwrap().starts_with("sha256:"));
    /// # Ok::<(), attio_webhooks::receive::ReceiveError>(())
    /// ```
    pub fn dedupe_by(mut self, by: DedupeBy) -> Self {
        self.dedupe_by = by;
        self
    }

    /// Sets the largest body accepted, in bytes; a longer one is refused
    /// with [`ReceiveError::TooLarge`] (413) without being read past the limit.
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Replaces the accepted secrets, for this verifier and every clone of it.
    pub fn set_secrets(&self, secrets: impl Into<Secrets>) {
        *self.secrets.write().unwrap_or_else(PoisonError::into_inner) = secrets.into();
    }

    fn read_secrets(&self) -> std::sync::RwLockReadGuard<'_, Secrets> {
        self.secrets.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks one request: the body's size, then its signature against
    /// every accepted secret ([`signature::verify_any`]), then its shape
    /// ([`Delivery::parse`]). Reads the `Idempotency-Key` header too; it
    /// is not signed, so it is reported as sent.
    ///
    /// Each call opens an `attio.webhook.receive` span (see the
    /// [module](crate::receive) docs) and records its outcome there.
    pub fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedDelivery, ReceiveError> {
        let span = trace::delivery_span(headers.get(&IDEMPOTENCY_KEY_HEADER));
        let checked = span.in_scope(|| self.check(headers, body));
        let checked = checked.map(|mut verified| {
            verified.body = Bytes::copy_from_slice(body);
            verified
        });
        Self::settle(span, checked)
    }

    /// Records the outcome of a check in its span and hands the span to
    /// the delivery.
    fn settle(
        span: Span,
        checked: Result<VerifiedDelivery, ReceiveError>,
    ) -> Result<VerifiedDelivery, ReceiveError> {
        match checked {
            Ok(mut verified) => {
                trace::record_verified(&span, &verified.delivery);
                verified.span = span;
                Ok(verified)
            }
            Err(refused) => {
                trace::record_refused(&span, &refused);
                Err(refused)
            }
        }
    }

    /// [`Verifier::verify`] without a span of its own.
    fn check(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedDelivery, ReceiveError> {
        if body.len() > self.max_body_bytes {
            return Err(ReceiveError::TooLarge {
                limit: self.max_body_bytes,
            });
        }
        let secret_index = signature::verify_any(&self.read_secrets(), body, headers)?;
        let delivery = Delivery::parse(body)?;
        let idempotency_key = headers
            .get(&IDEMPOTENCY_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|key| !key.is_empty())
            .map(str::to_owned);
        let body_digest = match self.dedupe_by {
            DedupeBy::IdempotencyKey => None,
            DedupeBy::SignedBody => {
                let digest = Sha256::digest(body);
                Some(format!("sha256:{}", const_hex::encode(digest)))
            }
        };
        Ok(VerifiedDelivery {
            delivery,
            body: Bytes::new(),
            idempotency_key,
            body_digest,
            secret_index,
            span: Span::none(),
        })
    }

    /// Reads a request's body (never past [`Verifier::max_body_bytes`]:
    /// a longer `Content-Length` is refused before anything is read), then
    /// [`Verifier::verify`]s it. This is what every receiver of this crate
    /// runs: the axum extractor, `VerifyLayer`, and the CLI's `listen`.
    ///
    /// ```
    /// use attio_webhooks::receive::{signature, Verifier};
    /// use attio_webhooks::Secret;
    /// use attio_webhooks::bytes::Bytes;
    /// use http_body_util::Full;
    ///
    /// # futures::executor::block_on(async {
    /// let secret = Secret::new("shh");
    /// let verifier = Verifier::new(secret.clone()).with_max_body_bytes(100);
    /// let body = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("attio-signature", signature::sign(&secret, body.as_bytes()).parse().unwrap());
    /// let verified = verifier.read_and_verify(&headers, Full::new(Bytes::from(body))).await.unwrap();
    /// assert!(verified.delivery().events.is_empty());
    ///
    /// headers.insert("content-length", "1000".parse().unwrap());
    /// let refused = verifier.read_and_verify(&headers, Full::new(Bytes::from(body))).await.unwrap_err();
    /// assert_eq!(refused.status(), 413);
    /// # });
    /// ```
    pub async fn read_and_verify<B>(
        &self,
        headers: &http::HeaderMap,
        body: B,
    ) -> Result<VerifiedDelivery, ReceiveError>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        self.read_checked(headers, body)
            .await
            .map(|(verified, _)| verified)
    }

    /// [`Verifier::read_and_verify`], also handing back the body as read
    /// (the tower layer passes it on to the inner service).
    pub(crate) async fn read_checked<B>(
        &self,
        headers: &http::HeaderMap,
        body: B,
    ) -> Result<(VerifiedDelivery, Bytes), ReceiveError>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        let span = trace::delivery_span(headers.get(&IDEMPOTENCY_KEY_HEADER));
        let read = read_limited(headers, body, self.max_body_bytes)
            .instrument(span.clone())
            .await;
        let body = match read {
            Ok(body) => body,
            Err(ReadError::TooLarge { .. }) => {
                let limit = self.max_body_bytes;
                return Err(trace::refused(&span, ReceiveError::TooLarge { limit }));
            }
            Err(ReadError::Failed(error)) => {
                let refused = ReceiveError::Body(error.to_string());
                return Err(trace::refused(&span, refused));
            }
        };
        let checked = span.in_scope(|| self.check(headers, &body));
        let checked = checked.map(|mut verified| {
            verified.body = body.clone();
            verified
        });
        let verified = Self::settle(span, checked)?;
        Ok((verified, body))
    }
}

/// A delivery whose signature matched one of the accepted secrets, with
/// what else the request said about it.
///
/// It is the axum extractor (feature `axum`) and what `VerifyLayer`
/// (feature `tower`) puts in the request's extensions.
///
/// It carries its delivery's `attio.webhook.receive` span
/// ([`VerifiedDelivery::span`]); [`Once::run_verified`](crate::receive::Once::run_verified)
/// runs the handler inside it.
#[derive(Clone)]
pub struct VerifiedDelivery {
    delivery: Delivery,
    body: Bytes,
    idempotency_key: Option<String>,
    body_digest: Option<String>,
    secret_index: usize,
    span: Span,
}

/// Equal when the deliveries, bodies, keys and secret index are (the span is not compared).
impl PartialEq for VerifiedDelivery {
    fn eq(&self, other: &Self) -> bool {
        self.delivery == other.delivery
            && self.body == other.body
            && self.idempotency_key == other.idempotency_key
            && self.body_digest == other.body_digest
            && self.secret_index == other.secret_index
    }
}

impl Eq for VerifiedDelivery {}

impl core::fmt::Debug for VerifiedDelivery {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedDelivery")
            .field("delivery", &self.delivery)
            .field("idempotency_key", &self.idempotency_key)
            .field("body_digest", &self.body_digest)
            .field("secret_index", &self.secret_index)
            .finish_non_exhaustive()
    }
}

impl VerifiedDelivery {
    /// The parsed delivery.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// The parsed delivery, by value.
    pub fn into_delivery(self) -> Delivery {
        self.delivery
    }

    /// The body exactly as signed and received (what a durable
    /// [`Inbox`](crate::receive::Inbox) keeps).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The `Idempotency-Key` header: one per message, the same on every
    /// retry of it. `None` when absent, empty or not visible ASCII. Not
    /// covered by the signature.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// The key to run [`Once`](crate::receive::Once) with: the
    /// `Idempotency-Key` (`None` when absent), or with
    /// [`DedupeBy::SignedBody`] the body's SHA-256 (always present).
    pub fn dedupe_key(&self) -> Option<&str> {
        self.body_digest
            .as_deref()
            .or(self.idempotency_key.as_deref())
    }

    /// Which of the accepted [`Secrets`] signed it (0 for the first).
    /// During a rotation, a delivery signed by a retiring secret tells you
    /// the old webhook is still sending.
    pub fn secret_index(&self) -> usize {
        self.secret_index
    }

    /// The delivery's `attio.webhook.receive` span, its outcome `verified`
    /// so far. Run the handler in it (`Instrument::instrument` or
    /// [`Once::run_verified`](crate::receive::Once::run_verified)) to see
    /// the rest of the delivery there.
    pub fn span(&self) -> &Span {
        &self.span
    }
}

//! [`VerifyLayer`]: delivery verification in front of any tower service
//! (feature `tower`).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{Either, Full};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use crate::error::BoxError;
use crate::receive::inbox::Inbox;
use crate::receive::verifier::{VerifiedDelivery, Verifier};

/// A tower [`Layer`] that verifies each request as an Attio delivery
/// before the inner service sees it.
///
/// The wrapped service ([`Verify`]) reads the body up to
/// [`Verifier::max_body_bytes`], checks the signature and parses the
/// delivery. A refused request gets [`crate::receive::ReceiveError::to_response`]
/// (401, 400 or 413 with a short JSON body) and never reaches the inner
/// service. An accepted one reaches it with the
/// [`VerifiedDelivery`](crate::receive::VerifiedDelivery) in its
/// extensions and the raw body, as read, as a `Full<Bytes>`, inside the
/// delivery's `attio.webhook.receive` span (so a [`Once`](crate::receive::Once)
/// there records its claim, settle and outcome in it).
///
/// It works for any service from `http::Request` to `http::Response`:
/// axum routers and handlers, tonic-web, plain `tower::service_fn`, and
/// hyper through hyper-util's `TowerToHyperService`.
///
/// ```
/// use attio_webhooks::receive::{VerifiedDelivery, VerifyLayer, Verifier};
/// use attio_webhooks::{receive::signature, Secret};
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), attio_webhooks::error::BoxError> {
/// let secret = Secret::new("shh");
/// let service = VerifyLayer::new(Verifier::new(secret.clone())).layer(service_fn(
///     |request: http::Request<Full<Bytes>>| async move {
///         let verified = request.extensions().get::<VerifiedDelivery>().unwrap();
///         let events = verified.delivery().events.len();
///         Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(events.to_string()))))
///     },
/// ));
///
/// let body = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
/// let signed = http::Request::post("/attio")
///     .header("attio-signature", signature::sign(&secret, body.as_bytes()))
///     .body(Full::new(Bytes::from(body)))?;
/// let response = service.clone().oneshot(signed).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.into_body().collect().await?.to_bytes(), "0");
///
/// let unsigned = http::Request::post("/attio").body(Full::new(Bytes::from(body)))?;
/// assert_eq!(service.oneshot(unsigned).await?.status(), 401);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct VerifyLayer {
    verifier: Verifier,
}

impl VerifyLayer {
    /// A layer that checks deliveries with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = Verify<S>;

    fn layer(&self, inner: S) -> Verify<S> {
        Verify {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service [`VerifyLayer`] makes: verifies, then calls `S`.
///
/// Its answers are `Either<S's body, Full<Bytes>>`: the inner service's,
/// or a refusal's JSON.
#[derive(Clone, Debug)]
pub struct Verify<S> {
    inner: S,
    verifier: Verifier,
}

impl<S, B, ResBody> Service<http::Request<B>> for Verify<S>
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Either<ResBody, Full<Bytes>>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone that was made ready goes into the future; a fresh clone
        // stays for the next call (tower's usual arrangement).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let (verified, body) = match verifier.read_checked(&parts.headers, body).await {
                Ok(checked) => checked,
                Err(refused) => {
                    return Ok(refused.to_response().map(|b| Either::Right(Full::new(b))))
                }
            };
            // The inner service runs in the delivery's span, so a `Once`
            // there records its claim, settle and outcome in it.
            let span = verified.span().clone();
            parts.extensions.insert(verified);
            let request = http::Request::from_parts(parts, Full::new(body));
            let response = span
                .in_scope(|| inner.call(request))
                .instrument(span.clone())
                .await?;
            Ok(response.map(Either::Left))
        })
    }
}

/// A tower service that stores each delivery in an [`Inbox`] and answers
/// at once: behind [`VerifyLayer`], one line,
/// `VerifyLayer::new(verifier).layer(InboxService::new(inbox))`.
///
/// It answers [`Accepted::to_response`](crate::receive::Accepted::to_response):
/// 200 once every event is stored, 503 when the store failed (Attio
/// retries). A request without a [`VerifiedDelivery`] in its extensions
/// (no `VerifyLayer` in front) gets 500 and is not stored.
///
/// ```
/// use attio_webhooks::receive::{Inbox, InboxEvent, InboxService, Stored, VerifyLayer, Verifier};
/// use attio_webhooks::{error::BoxError, receive::signature, Secret};
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use std::sync::Mutex;
/// use tower::{Layer, ServiceExt};
///
/// /// A stand-in store: keeps events in memory.
/// #[derive(Default)]
/// struct Kept(Mutex<Vec<InboxEvent>>);
/// #[async_trait::async_trait]
/// impl Inbox for Kept {
///     async fn store(&self, events: &[InboxEvent]) -> Result<Stored, BoxError> {
///         self.0.lock().unwrap().extend_from_slice(events);
///         Ok(Stored::new(events.len() as u64, 0))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let secret = Secret::new("shh");
/// let inbox = std::sync::Arc::new(Kept::default());
/// let service = VerifyLayer::new(Verifier::new(secret.clone())).layer(InboxService::from_arc(inbox.clone()));
///
/// let body = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"task.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","task_id":"t"},"actor":{"type":"system","id":null}}]}"#;
/// let signed = http::Request::post("/attio")
///     .header("attio-signature", signature::sign(&secret, body.as_bytes()))
///     .header("idempotency-key", "k-1")
///     .body(Full::new(Bytes::from(body)))?;
/// assert_eq!(service.oneshot(signed).await?.status(), 200);
/// assert_eq!(inbox.0.lock().unwrap()[0].dedupe_key, "k-1#0");
///
/// // A store that fails: 503, so Attio retries. No VerifyLayer in front: 500.
/// struct Down;
/// #[async_trait::async_trait]
/// impl Inbox for Down {
///     async fn store(&self, _: &[InboxEvent]) -> Result<Stored, BoxError> {
///         Err("connection refused".into())
///     }
/// }
/// let down = VerifyLayer::new(Verifier::new(secret.clone())).layer(InboxService::new(Down));
/// let signed = http::Request::post("/attio")
///     .header("attio-signature", signature::sign(&secret, body.as_bytes()))
///     .body(Full::new(Bytes::from(body)))?;
/// assert_eq!(down.oneshot(signed).await?.status(), 503);
/// let bare = http::Request::post("/attio").body(Full::new(Bytes::from(body)))?;
/// assert_eq!(InboxService::new(Down).oneshot(bare).await.unwrap().status(), 500);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct InboxService {
    inbox: Arc<dyn Inbox>,
}

impl core::fmt::Debug for InboxService {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InboxService").finish_non_exhaustive()
    }
}

impl InboxService {
    /// Stores deliveries in `inbox`.
    pub fn new(inbox: impl Inbox + 'static) -> Self {
        Self {
            inbox: Arc::new(inbox),
        }
    }

    /// Stores deliveries in a shared inbox.
    pub fn from_arc(inbox: Arc<dyn Inbox>) -> Self {
        Self { inbox }
    }
}

impl<B> Service<http::Request<B>> for InboxService {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let inbox = self.inbox.clone();
        let verified = request.extensions().get::<VerifiedDelivery>().cloned();
        Box::pin(async move {
            let Some(verified) = verified else {
                let mut missing = http::Response::new(Full::new(Bytes::from_static(
                    br#"{"error":"not_verified","message":"no VerifiedDelivery: put VerifyLayer in front of InboxService"}"#,
                )));
                *missing.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                return Ok(missing);
            };
            Ok(inbox.accept(&verified).await.to_response().map(Full::new))
        })
    }
}

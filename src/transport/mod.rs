//! The one-method connector trait every HTTP stack (and every fake)
//! implements, the error type the crate's own transports share, and those
//! transports, each behind its feature.

#[cfg(any(feature = "hyper-transport", feature = "tower"))]
mod body;
mod error;
#[cfg(feature = "hyper-transport")]
mod hyper_transport;
#[cfg(feature = "reqwest")]
mod reqwest_transport;
#[cfg(feature = "tower")]
mod tower_transport;

use bytes::Bytes;

pub use error::{TransportError, TransportErrorKind};
#[cfg(feature = "hyper-transport")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-transport")))]
pub use hyper_transport::{
    HyperBuildError, HyperTransport, HyperTransportBuilder, DEFAULT_MAX_RESPONSE_BYTES,
};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest_transport::{ReqwestTransport, REQWEST_DEFAULT_MAX_RESPONSE_BYTES};
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use tower_transport::{TowerTransport, TOWER_DEFAULT_MAX_RESPONSE_BYTES};

/// Exchanges an HTTP request for an HTTP response.
///
/// This is the only thing [`crate::Client`] needs from an HTTP stack. The
/// request arrives complete (method, absolute URI, headers, body); the
/// response must come back with its whole body read. Return `Err` only when
/// no response was obtained (connection refused or reset, TLS failure, a body
/// over your size limit...): any HTTP status, 5xx included, is an `Ok`.
///
/// An error counts as a connection failure for the retry policy (idempotent
/// requests are retried after it, `POST` is not) unless
/// [`Transport::is_retryable`] says trying again cannot help.
/// [`TransportError`] is a ready-made error type that classifies the usual
/// failures and says them in one line.
///
/// Everything an implementation needs is re-exported by this crate:
/// [`http`], [`bytes`] and the
/// [`async_trait`](crate::async_trait) attribute.
///
/// On `wasm32` targets the returned future need not be `Send` (the
/// platform's `fetch` gives a promise, which is not): there the trait is
/// declared with `#[async_trait(?Send)]`, and implementations use the same
/// attribute. A transport for both kinds of target writes
/// `#[cfg_attr(not(target_arch = "wasm32"), async_trait)]` and
/// `#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]`.
///
/// ```
/// use attio_webhooks::bytes::Bytes;
/// use attio_webhooks::{async_trait, http, Transport};
///
/// /// Answers every request with an empty list, without any network.
/// struct Canned;
///
/// #[async_trait]
/// impl Transport for Canned {
///     type Error = std::convert::Infallible;
///     async fn send(&self, _request: http::Request<Bytes>) -> Result<http::Response<Bytes>, Self::Error> {
///         Ok(http::Response::new(Bytes::from_static(br#"{"data":[]}"#)))
///     }
/// }
/// ```
///
/// A transport that plays Attio from a script pins the exact request a
/// call sends and the bytes it gets back (the testkit's `FakeAttio` is the
/// stateful alternative):
///
/// ```
/// use attio_webhooks::bytes::Bytes;
/// use attio_webhooks::{async_trait, http};
/// use attio_webhooks::{Client, Condition, EventType, Filter, Subscription, Transport};
///
/// /// Answers create with a fixed webhook; a stand-in for Attio.
/// struct Scripted;
///
/// #[async_trait]
/// impl Transport for Scripted {
///     type Error = std::convert::Infallible;
///     async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, Self::Error> {
///         assert_eq!(request.uri(), "https://api.attio.com/v2/webhooks");
///         assert_eq!(request.headers()["authorization"], "Bearer sk_test");
///         let body = r#"{"data":{
///             "target_url":"https://example.com/hook",
///             "subscriptions":[{"event_type":"record.created","filter":{"$and":[
///                 {"field":"id.object_id","operator":"equals","value":"people"}]}}],
///             "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c",
///                   "webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"},
///             "status":"active",
///             "created_at":"2023-04-27T13:22:49.061281000Z",
///             "secret":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#;
///         Ok(http::Response::new(Bytes::from_static(body.as_bytes())))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), attio_webhooks::Error> {
/// let client = Client::new(Scripted, "sk_test")?;
/// let people_only = Filter::And(vec![Condition::equals("id.object_id", "people")]);
/// let created = client
///     .create_webhook(
///         "https://example.com/hook",
///         vec![Subscription::new(EventType::RecordCreated).with_filter(people_only)],
///     )
///     .await?;
/// assert_eq!(created.webhook.webhook_id().to_string(), "23e42eaf-323a-41da-b5bb-fd67eebda553");
/// assert_eq!(created.webhook.created_at.to_string(), "2023-04-27T13:22:49.061281000Z");
/// # Ok(())
/// # }
/// ```
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Transport: Send + Sync {
    /// Why no response was obtained.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends `request` and reads the whole response.
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error>;

    /// Whether another attempt could succeed after `error`. By default,
    /// [`TransportError::is_retryable`] when the error is a
    /// [`TransportError`], `true` otherwise; return `false` for failures
    /// that will repeat, such as a response over your size limit or a TLS
    /// configuration error.
    fn is_retryable(error: &Self::Error) -> bool
    where
        Self: Sized,
    {
        as_transport_error(error).is_none_or(TransportError::is_retryable)
    }

    /// Whether the request may have reached the server before `error`. By
    /// default, [`TransportError::request_may_have_been_sent`] when the
    /// error is a [`TransportError`], `true` (unknown) otherwise; return
    /// `false` when the failure proves nothing was sent (DNS, a refused
    /// connection, a failed TLS handshake).
    ///
    /// The client uses it to tell whether an earlier attempt's outcome is
    /// unknown: a `DELETE` retried after such an attempt that then gets 404
    /// was done by that attempt (see [`crate::Request::already_done`]).
    fn request_may_have_been_sent(error: &Self::Error) -> bool
    where
        Self: Sized,
    {
        as_transport_error(error).is_none_or(TransportError::request_may_have_been_sent)
    }
}

/// `error` as a [`TransportError`], when that is its type.
fn as_transport_error<E: std::error::Error + 'static>(error: &E) -> Option<&TransportError> {
    (error as &(dyn std::error::Error + 'static)).downcast_ref()
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<T: Transport> Transport for std::sync::Arc<T> {
    type Error = T::Error;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        (**self).send(request).await
    }

    fn is_retryable(error: &Self::Error) -> bool {
        T::is_retryable(error)
    }

    fn request_may_have_been_sent(error: &Self::Error) -> bool {
        T::request_may_have_been_sent(error)
    }
}

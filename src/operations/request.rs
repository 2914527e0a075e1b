//! The `Request` trait: what an operation is, and how its response decodes.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ApiErrorBody;
use crate::error::{ApiError, DecodeError, Error, InvalidInput, RateLimited, RetryAfter};
use crate::model::TargetUrlPolicy;

/// One Attio API operation, as plain data.
///
/// An operation knows its method, path, query and JSON body, checks its own
/// input, and decodes the response into its `Response` type. Nothing here
/// does I/O: [`crate::client::Endpoint::build`] turns a request into an
/// `http::Request<Bytes>`, any [`crate::Transport`] exchanges it, and
/// [`RequestExt::decode`] turns the `http::Response<Bytes>` back into a value
/// or an [`Error`].
///
/// ```
/// use attio_webhooks::{operations::GetWebhook, Request, RequestExt, WebhookId};
/// use attio_webhooks::http::Method;
/// let get = GetWebhook::new(WebhookId::from_u128(1));
/// assert_eq!(get.method(), Method::GET);
/// assert_eq!(get.path(), "/v2/webhooks/00000000-0000-0000-0000-000000000001");
/// assert!(get.query().is_empty());
/// assert_eq!(get.body()?, None);
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
pub trait Request {
    /// What a successful response decodes into.
    type Response;

    /// The operation's name in traces: the call span's `otel.name` and
    /// `attio.operation`, e.g. `attio.webhooks.create`. An operation of
    /// your own gets `attio.webhooks.request` unless it names itself.
    const NAME: &'static str = "attio.webhooks.request";

    /// The path with its variable parts as placeholders, e.g.
    /// `/v2/webhooks/{webhook_id}`: the spans' `url.template`, and with the
    /// method the attempt span's name (`GET /v2/webhooks/{webhook_id}`).
    /// `None` by default: the attempt span is then named by the method
    /// alone and has no `url.template`, as the OpenTelemetry HTTP
    /// conventions say when no low-cardinality template is known. Never
    /// put an id or a secret in it.
    const URL_TEMPLATE: Option<&'static str> = None;

    /// The HTTP method.
    fn method(&self) -> Method;

    /// Appends the path, starting with `/v2/`, to `out`. (Writing into the
    /// URI being built saves an allocation per request.)
    fn write_path(&self, out: &mut String);

    /// Query parameters, in the order they are sent. Empty by default.
    fn query(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The JSON body, if the operation has one.
    fn body(&self) -> Result<Option<Bytes>, InvalidInput> {
        Ok(None)
    }

    /// Checks the input before anything is sent. `targets` says which
    /// target URLs are acceptable.
    fn validate(&self, targets: &TargetUrlPolicy) -> Result<(), InvalidInput> {
        let _ = targets;
        Ok(())
    }

    /// Whether sending the request twice has the same effect as once.
    /// The retry policy retries non-idempotent requests only on 429.
    fn idempotent(&self) -> bool {
        self.method() != Method::POST
    }

    /// What a 404 means after an earlier attempt of the same call had an
    /// unknown outcome (a 5xx, a timeout, a connection lost after the
    /// request may have been sent): `Some(response)` when the 404 shows
    /// that attempt did the work, `None` (the default) to report the 404
    /// as [`Error::Api`]. [`crate::operations::DeleteWebhook`] answers
    /// `Some(())`: the webhook is gone, which is what was asked.
    fn already_done(&self) -> Option<Self::Response> {
        None
    }

    /// Decodes the body of a 2xx response.
    fn decode_success(status: StatusCode, body: &Bytes) -> Result<Self::Response, DecodeError>;
}

/// What every [`Request`] has, the same for all of them: its path as a
/// `String`, and the one reading of Attio's answers (success, 429, error
/// body, or bytes that are none of these).
///
/// Implemented for every [`Request`] and for nothing else, so no
/// operation classifies answers its own way. Bring it into scope to call
/// `decode` on an operation type:
///
/// ```
/// use attio_webhooks::{bytes::Bytes, http, operations::GetWebhook, RequestExt, WebhookId};
/// let get = GetWebhook::new(WebhookId::from_u128(1));
/// assert_eq!(get.path(), "/v2/webhooks/00000000-0000-0000-0000-000000000001");
/// let answer = http::Response::builder()
///     .status(404)
///     .header("x-attio-execution-id", "2f6ca1a5-4b09-4a6d-9d51-5c1c8d3c7e10")
///     .body(Bytes::from_static(br#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Webhook not found"}"#))?;
/// let error = GetWebhook::decode(answer).unwrap_err();
/// assert!(error.is_not_found());
/// assert_eq!(error.execution_id(), Some("2f6ca1a5-4b09-4a6d-9d51-5c1c8d3c7e10"));
/// # Ok::<(), http::Error>(())
/// ```
pub trait RequestExt: Request {
    /// The path, starting with `/v2/`: what [`Request::write_path`] writes.
    fn path(&self) -> String {
        let mut path = String::with_capacity(64);
        self.write_path(&mut path);
        path
    }

    /// Decodes any response: 2xx through [`Request::decode_success`], 429
    /// into [`Error::RateLimited`], other statuses into [`Error::Api`] when
    /// the body is Attio's error body and [`Error::Decode`] when it is not.
    /// Each error keeps the answer's `X-Attio-Execution-Id`. Never panics,
    /// whatever the bytes.
    fn decode(response: http::Response<Bytes>) -> Result<Self::Response, Error>
    where
        Self: Sized,
    {
        let status = response.status();
        let body = response.body();
        let execution_id = || crate::error::execution_id(response.headers());
        if status.is_success() {
            return Self::decode_success(status, body).map_err(|mut decode| {
                decode.execution_id = execution_id();
                Error::Decode(decode)
            });
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Error::RateLimited(RateLimited {
                retry_after: RetryAfter::from_headers(response.headers()),
                body: serde_json::from_slice(body).ok().map(Box::new),
                execution_id: execution_id(),
            }));
        }
        match decode_json::<ApiErrorBody>(status, body) {
            Ok(body) => Err(Error::Api(ApiError {
                status,
                body,
                execution_id: execution_id(),
            })),
            Err(mut decode) => {
                decode.execution_id = execution_id();
                Err(Error::Decode(decode))
            }
        }
    }
}

impl<R: Request + ?Sized> RequestExt for R {}

/// `{"data": ...}`, the envelope of every Attio request and response body
/// (errors aside). Unknown keys beside `data` are ignored when decoding.
///
/// ```
/// use attio_webhooks::operations::Envelope;
/// let body: Envelope<Vec<u32>> = serde_json::from_str(r#"{"data":[1,2]}"#)?;
/// assert_eq!(body.data, [1, 2]);
/// assert_eq!(serde_json::to_string(&Envelope { data: "x" })?, r#"{"data":"x"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The payload.
    pub data: T,
}

/// Encodes `{"data": value}` into a buffer of `size_hint` bytes to start
/// with (a good guess saves the reallocations of a growing buffer).
pub(crate) fn encode_data<T: Serialize>(
    value: &T,
    size_hint: usize,
) -> Result<Option<Bytes>, InvalidInput> {
    let mut body = Vec::with_capacity(size_hint);
    serde_json::to_writer(&mut body, &Envelope { data: value })
        .map(|()| Some(Bytes::from(body)))
        .map_err(|e| InvalidInput::Body(e.to_string()))
}

/// A starting buffer size for a body with this target URL and these
/// subscriptions: about what they take once written.
pub(crate) fn body_size_hint(
    target_url: Option<&str>,
    subscriptions: Option<&[crate::Subscription]>,
) -> usize {
    let per_subscription = |s: &crate::Subscription| {
        48 + s.event_type.as_str().len()
            + s.filter.as_ref().map_or(0, |f| {
                16 + f
                    .conditions()
                    .iter()
                    .map(|c| 40 + c.field.len() + c.value.len())
                    .sum::<usize>()
            })
    };
    64 + target_url.map_or(0, str::len)
        + subscriptions.map_or(0, |s| s.iter().map(per_subscription).sum())
}

/// Decodes `{"data": T}` and returns the `T`.
pub(crate) fn decode_data<T: DeserializeOwned>(
    status: StatusCode,
    body: &Bytes,
) -> Result<T, DecodeError> {
    decode_json::<Envelope<T>>(status, body).map(|d| d.data)
}

/// Decodes a JSON body into `T`, or a [`DecodeError`] that keeps the
/// status, the raw bytes and the JSON path where decoding failed. Success
/// costs one plain `serde_json` decode; only a failure pays for finding
/// the path. For [`Request::decode_success`] of your own operations.
///
/// ```
/// use attio_webhooks::{operations::decode_json, operations::Envelope};
/// use bytes::Bytes;
/// use http::StatusCode;
/// let body = Bytes::from_static(br#"{"data":{"n":"one"}}"#);
/// #[derive(Debug, serde::Deserialize)]
/// struct N { n: u32 }
/// let err = decode_json::<Envelope<N>>(StatusCode::OK, &body).unwrap_err();
/// assert_eq!(err.path, "data.n");
/// assert!(!err.malformed);
/// assert!(decode_json::<Envelope<N>>(StatusCode::OK, &Bytes::from_static(b"{")).unwrap_err().malformed);
/// ```
pub fn decode_json<T: DeserializeOwned>(
    status: StatusCode,
    body: &Bytes,
) -> Result<T, DecodeError> {
    crate::json::parse(body).map_err(|failure| DecodeError {
        status,
        body: body.clone(),
        path: failure.path,
        message: failure.message,
        malformed: failure.malformed,
        execution_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::GetWebhook;

    /// The size hint is the body's size within a small margin: never
    /// short by more than a few bytes (the buffer would grow and copy) and
    /// never more than about twice it (memory held for nothing).
    #[test]
    fn the_body_size_hint_is_close_to_the_body() {
        use crate::{Condition, EventType, Filter, Subscription};
        let url = "https://hooks.example.com/attio/receiver";
        for n in [1usize, 3, 10, 40] {
            let subscriptions: Vec<Subscription> = (0..n)
                .map(|i| {
                    let s = Subscription::new(EventType::RecordUpdated);
                    if i % 2 == 0 {
                        s
                    } else {
                        s.with_filter(Filter::Or(vec![
                            Condition::equals("id.object_id", format!("object-{i}")),
                            Condition::not_equals("actor.type", "system"),
                        ]))
                    }
                })
                .collect();
            let body = encode_data(
                &serde_json::json!({"target_url": url, "subscriptions": subscriptions}),
                0,
            )
            .unwrap()
            .unwrap();
            let hint = body_size_hint(Some(url), Some(&subscriptions));
            assert!(
                hint + 16 >= body.len(),
                "{n}: hint {hint} for {} bytes",
                body.len()
            );
            // Within half again of the body: a hint that runs far over
            // wastes what it was meant to save.
            assert!(
                2 * hint <= 3 * body.len() + 128,
                "{n}: hint {hint} for {} bytes",
                body.len()
            );
        }
        let empty = body_size_hint(None, None);
        assert!((2..=128).contains(&empty), "{empty}");
    }

    #[test]
    fn path_is_what_write_path_writes() {
        use crate::operations::ListWebhooks;
        let id = crate::WebhookId::from_u128(0xab);
        assert_eq!(
            GetWebhook::new(id).path(),
            "/v2/webhooks/00000000-0000-0000-0000-0000000000ab"
        );
        assert_eq!(ListWebhooks::new().path(), "/v2/webhooks");
    }

    fn response(status: u16, body: &'static str) -> http::Response<Bytes> {
        http::Response::builder()
            .status(status)
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[test]
    fn decode_error_reports_path_and_keeps_bytes() {
        let body = r#"{"data":{"target_url":"https://x","subscriptions":[{"event_type":"note.created","filter":7}]}}"#;
        let Err(Error::Decode(e)) = GetWebhook::decode(response(200, body)) else {
            panic!("expected a decode error")
        };
        assert_eq!(e.path, "data.subscriptions[0].filter");
        assert_eq!(e.body, body.as_bytes());
        assert_eq!(e.status, StatusCode::OK);
    }

    #[test]
    fn trailing_garbage_is_a_decode_error() {
        let body = r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"m"} x"#;
        assert!(matches!(
            GetWebhook::decode(response(404, body)),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn odd_bodies_are_errors_for_every_status() {
        for status in [200u16, 201, 204, 301, 400, 404, 429, 500, 503] {
            for body in [
                "",
                "{",
                "null",
                "[]",
                "\u{0}",
                "{\"data\":null}",
                "{\"data\":{}}",
            ] {
                let result = GetWebhook::decode(response(status, body));
                assert!(result.is_err(), "{status} {body:?}");
            }
        }
    }

    /// Property tests: proptest is a native-only dev-dependency (its
    /// random source does not build for wasm32-unknown-unknown), so these
    /// do not run in the wasm check.
    #[cfg(not(target_arch = "wasm32"))]
    mod arbitrary {
        use super::*;

        /// Bytes that are anything at all, or JSON-like text that gets further
        /// into the parser.
        fn body() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
            use proptest::prelude::*;
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..256),
                r#"\{("data"|"status_code"|"type"|"code"|"message"|[\[\]{}:,0-9a-z" ]){0,24}"#
                    .prop_map(String::into_bytes),
            ]
        }

        proptest::proptest! {
            #[test]
            fn arbitrary_bytes_never_panic_and_errors_keep_them(
                status in 100u16..600,
                body in body(),
            ) {
                let status = StatusCode::from_u16(status).unwrap();
                let response = http::Response::builder()
                    .status(status)
                    .body(Bytes::from(body.clone()))
                    .unwrap();
                match GetWebhook::decode(response) {
                    Ok(webhook) => proptest::prop_assert!(false, "decoded {webhook:?}"),
                    Err(Error::Decode(e)) => {
                        proptest::prop_assert_eq!(e.status, status);
                        proptest::prop_assert_eq!(&e.body[..], &body[..]);
                    }
                    Err(Error::RateLimited(_)) => proptest::prop_assert_eq!(status.as_u16(), 429),
                    Err(Error::Api(e)) => {
                        proptest::prop_assert!(!status.is_success() && status.as_u16() != 429);
                        proptest::prop_assert_eq!(e.status, status);
                    }
                    Err(other) => proptest::prop_assert!(false, "{other:?}"),
                }
            }
        }
    }
}

//! Building the fake's HTTP answers: always JSON, always `application/json`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attio_webhooks::{error::ApiErrorBody, operations::Envelope};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use serde::Serialize;

/// A JSON response with `status`.
pub(crate) fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> http::Response<Bytes> {
    // Serializing the crate's own models cannot fail; an empty object is the
    // fallback that still keeps the response JSON.
    let mut body = Vec::with_capacity(512);
    if serde_json::to_writer(&mut body, value).is_err() {
        body = b"{}".to_vec();
    }
    raw(status, Bytes::from(body))
}

/// A response with these bytes as an `application/json` body.
pub(crate) fn raw(status: u16, body: Bytes) -> http::Response<Bytes> {
    let mut response = http::Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `{"data": value}` with 200.
pub(crate) fn data<T: Serialize + ?Sized>(value: &T) -> http::Response<Bytes> {
    json(200, &Envelope { data: value })
}

/// `{}` with 200.
pub(crate) fn empty() -> http::Response<Bytes> {
    raw(200, Bytes::from_static(b"{}"))
}

/// An Attio error body with its status; a 429 also gets `Retry-After` for
/// the next whole second after `wall`.
pub(crate) fn error(body: &ApiErrorBody, wall: SystemTime) -> http::Response<Bytes> {
    let mut response = json(body.status_code, body);
    if body.status_code == 429 {
        response
            .headers_mut()
            .insert(RETRY_AFTER, retry_after_next_second(wall));
    }
    response
}

/// The HTTP date of the next whole second after `now`, as Attio sends it.
pub fn retry_after_next_second(now: SystemTime) -> HeaderValue {
    let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() + 1;
    let at = UNIX_EPOCH + Duration::from_secs(seconds);
    HeaderValue::from_str(&httpdate::fmt_http_date(at)).unwrap_or(HeaderValue::from_static("1"))
}

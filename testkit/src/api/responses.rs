//! Building the fake's HTTP answers: always JSON, always
//! `application/json; charset=utf-8`, the content type of every live Attio
//! answer (rbeene/attio_ruby's capture, 2025-07-27; amp-labs/connectors PR
//! 3231, 2026-07-22).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attio_webhooks::Secret;
use attio_webhooks::{error::ApiErrorBody, operations::Envelope};
use bytes::{BufMut, Bytes, BytesMut};
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

/// The `Content-Type` of every answer, as Attio sends it.
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A response with these bytes as a JSON body.
pub(crate) fn raw(status: u16, body: Bytes) -> http::Response<Bytes> {
    let mut response = http::Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    response
}

/// 405 `method_not_allowed` with an `Allow` header: `path` exists, but
/// not for `method`; `allow` lists the methods it has (`GET, POST`).
pub(crate) fn method_not_allowed(method: &str, path: &str, allow: &str) -> http::Response<Bytes> {
    let mut response = json(405, &super::errors::method_not_allowed(method, path, allow));
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(http::header::ALLOW, value);
    }
    response
}

/// `{"data": value}` with 200.
pub(crate) fn data<T: Serialize + ?Sized>(value: &T) -> http::Response<Bytes> {
    json(200, &Envelope { data: value })
}

/// `{"data":<webhook>}` around a webhook's stored JSON, without parsing it.
pub(crate) fn data_object(json: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(json.len() + 9);
    out.put_slice(b"{\"data\":");
    out.put_slice(json);
    out.put_u8(b'}');
    out.freeze()
}

/// `{"data":<webhook with "secret">}`: what create answers; the stored JSON
/// object with `"secret":"..."` as its last key.
pub(crate) fn data_created(json: &[u8], secret: &Secret) -> Bytes {
    // The stored JSON is an object, so it ends with `}`.
    let object = &json[..json.len().saturating_sub(1)];
    let secret = secret.expose();
    let mut out = BytesMut::with_capacity(object.len() + secret.len() + 24);
    out.put_slice(b"{\"data\":");
    out.put_slice(object);
    out.put_slice(b",\"secret\":");
    // A hex secret needs no escaping, but a seeded one might.
    let quoted = serde_json::to_vec(secret).unwrap_or_else(|_| b"\"\"".to_vec());
    out.put_slice(&quoted);
    out.put_slice(b"}}");
    out.freeze()
}

/// `{"data":[<webhook>,...]}` around stored JSON objects.
pub(crate) fn data_array(items: &[Bytes]) -> Bytes {
    let size: usize = items.iter().map(|json| json.len() + 1).sum();
    let mut out = BytesMut::with_capacity(size + 11);
    out.put_slice(b"{\"data\":[");
    for (i, json) in items.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(json);
    }
    out.put_slice(b"]}");
    out.freeze()
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
pub(crate) fn retry_after_next_second(now: SystemTime) -> HeaderValue {
    let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() + 1;
    let at = UNIX_EPOCH + Duration::from_secs(seconds);
    HeaderValue::from_str(&httpdate::fmt_http_date(at)).unwrap_or(HeaderValue::from_static("1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::odd_webhook;

    #[test]
    fn envelopes_answer_exactly_what_serializing_would() {
        let prepared = odd_webhook();
        let stored = &prepared.webhook;
        let parse = |b: &Bytes| serde_json::from_slice::<serde_json::Value>(b).unwrap();
        let created = data_created(stored.json(), stored.secret());
        assert_eq!(
            parse(&created),
            serde_json::json!({"data": stored.created()})
        );
        let one = data_object(stored.json());
        assert_eq!(parse(&one), serde_json::json!({"data": stored.webhook()}));
        let list = data_array(&[stored.json().clone(), stored.json().clone()]);
        assert_eq!(
            parse(&list),
            serde_json::json!({"data": [stored.webhook(), stored.webhook()]})
        );
        assert_eq!(parse(&data_array(&[])), serde_json::json!({"data": []}));
    }
}

//! Response decoding of the five operations, and the retry decision that
//! reads the same status and headers.

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use attio_webhooks::operations::{
    CreateWebhook, DeleteWebhook, GetWebhook, ListWebhooks, UpdateWebhook,
};
use attio_webhooks::{
    client::retry::AttemptFailure, client::retry::RetryDecision, error::RetryAfter,
    model::Timestamp, Error, Request, RequestExt, RetryPolicy,
};
use bytes::Bytes;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Message;

/// The input is a response: the first line is the status code (digits;
/// anything else reads as 200, and a number outside 100..=999 is folded
/// into it), then headers and body as in [`Message`].
///
/// Properties, for each operation's [`RequestExt::decode`]:
/// - it never panics, whatever the bytes;
/// - `Ok` only for a 2xx, and the value survives a JSON round trip
///   (unknown enum values and every timestamp are written back so that
///   they read the same);
/// - a 429 is always [`Error::RateLimited`] with the `Retry-After` the
///   headers say; any other non-2xx is [`Error::Api`] or [`Error::Decode`];
/// - a [`Error::Decode`] keeps the status and the exact body bytes;
/// - every error formats (`Display`, `Debug`, source chain) without panicking.
///
/// The same head goes through [`AttemptFailure::from_response`] and
/// [`RetryPolicy::decide`], and a short body through [`Timestamp::parse`]
/// against the `time` crate's RFC 3339 parser.
pub fn decode_responses(data: &[u8]) {
    let message = Message::parse(data);
    let status = status(message.first_line);
    let body = Bytes::copy_from_slice(message.body);
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = message.headers;

    check::<ListWebhooks>(&response);
    check::<CreateWebhook>(&response);
    check::<GetWebhook>(&response);
    check::<UpdateWebhook>(&response);
    check::<DeleteWebhook>(&response);
    retry_decision(&response);
    if let Ok(text) = std::str::from_utf8(message.body) {
        if text.len() <= 64 {
            timestamp_agrees_with_time(text.trim_matches('"'));
        }
    }
}

fn status(first_line: &[u8]) -> StatusCode {
    let code = std::str::from_utf8(first_line)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(200, |n| (100 + n % 900) as u16);
    StatusCode::from_u16(code).expect("100..=999 is a valid status")
}

fn check<R>(response: &http::Response<Bytes>)
where
    R: Request,
    R::Response: Debug + PartialEq + Serialize + DeserializeOwned,
{
    let status = response.status();
    match R::decode(response.clone()) {
        Ok(value) => {
            assert!(status.is_success(), "decoded a {status}: {value:?}");
            let json = serde_json::to_vec(&value).expect("a decoded value serializes");
            let again: R::Response =
                serde_json::from_slice(&json).expect("a serialized value decodes again");
            assert_eq!(
                again,
                value,
                "round trip through {}",
                String::from_utf8_lossy(&json)
            );
        }
        Err(error) => {
            match &error {
                Error::Decode(e) => {
                    assert_eq!(e.status, status);
                    assert_eq!(&e.body, response.body());
                    assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
                }
                Error::RateLimited(r) => {
                    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                    assert_eq!(r.retry_after, RetryAfter::from_headers(response.headers()));
                }
                Error::Api(e) => {
                    assert!(!status.is_success() && status != StatusCode::TOO_MANY_REQUESTS);
                    assert_eq!(e.status, status);
                }
                other => panic!("decoding made {other:?}"),
            }
            assert_eq!(error.status(), Some(status));
            super::format_error(&error);
        }
    }
}

fn retry_decision(response: &http::Response<Bytes>) {
    // 2023-05-23T14:42:00Z, the day of Attio's documented example.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_684_852_920);
    let failure = AttemptFailure::from_response(response.status(), response.headers(), now);
    match response.status().as_u16() {
        429 => assert!(matches!(failure, Some(AttemptFailure::RateLimited { .. }))),
        500 | 502 | 503 | 504 => assert!(matches!(failure, Some(AttemptFailure::ServerError(_)))),
        _ => assert_eq!(failure, None),
    }
    let Some(failure) = failure else { return };
    let policy = RetryPolicy::default();
    for idempotent in [true, false] {
        if let RetryDecision::Retry(delay) =
            policy.decide(&failure, idempotent, 1, Duration::ZERO, 0.5)
        {
            assert!(delay <= policy.max_total_wait, "{delay:?}");
        }
    }
}

/// `Timestamp::parse` has a fast path for Attio's own form; whatever it
/// accepts must be what the `time` crate's RFC 3339 parser reads, and what
/// it writes must read back the same.
fn timestamp_agrees_with_time(text: &str) {
    use time::format_description::well_known::Rfc3339;
    let ours = Timestamp::parse(text);
    let theirs = time::OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
        .filter(|t| (0..=9999).contains(&t.year()));
    match (ours, theirs) {
        (Ok(ours), Some(theirs)) => {
            assert_eq!(ours.unix_nanos(), theirs.unix_timestamp_nanos(), "{text:?}");
            let written = ours.to_string();
            assert_eq!(Timestamp::parse(&written).ok(), Some(ours), "{written}");
        }
        (Err(_), None) => {}
        (ours, theirs) => panic!("{text:?}: ours {ours:?}, time's {theirs:?}"),
    }
}

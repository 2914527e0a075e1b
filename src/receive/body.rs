//! Reading a request body whole, but never past a limit.

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::BoxError;
use crate::event::ReceiveError;

/// Reads `body` into memory, refusing (413) a declared `Content-Length`
/// over `limit` before reading anything, and stopping as soon as more than
/// `limit` bytes have arrived.
pub(crate) async fn read_limited<B>(
    headers: &http::HeaderMap,
    body: B,
    limit: usize,
) -> Result<Bytes, ReceiveError>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ReceiveError::TooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(ReceiveError::TooLarge { limit }),
        Err(error) => Err(ReceiveError::Body(error.to_string())),
    }
}

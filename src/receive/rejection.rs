//! Why a delivery was refused, and the answer to it: a status and a
//! short JSON body.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::receive::delivery::PayloadError;
use crate::receive::signature::SignatureError;

/// Why a received delivery was refused. [`ReceiveError::status`] gives the
/// answer for each, [`ReceiveError::to_response`] a whole one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The signature is missing or wrong: answer 401.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The signature is right but the body is not a delivery: answer 400.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The body is longer than the receiver accepts: answer 413. Nothing
    /// past the limit was read or kept.
    #[error("the body is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read (the connection failed mid-body): answer 400.
    #[error("the body could not be read: {0}")]
    Body(String),
}

/// `{"error": code, "message": text}`: what every refusal answers.
#[derive(Serialize)]
pub(crate) struct ErrorBody<'a> {
    pub(crate) error: &'a str,
    pub(crate) message: &'a str,
}

/// `{"status": code}`: what a success answers.
#[derive(Serialize)]
pub(crate) struct StatusBody<'a> {
    pub(crate) status: &'a str,
}

/// Builds a JSON answer with `status`.
pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> http::Response<Bytes> {
    // Structs of string fields always serialize.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = http::Response::new(Bytes::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl ReceiveError {
    /// The status to answer: 401 for a missing, malformed or wrong
    /// signature, 413 for a body over the limit, 400 otherwise (signed but
    /// not a delivery, or unreadable). Attio retries any of them.
    ///
    /// ```
    /// use attio_webhooks::{receive::signature::SignatureError, receive::ReceiveError};
    /// assert_eq!(ReceiveError::from(SignatureError::MissingHeader).status(), 401);
    /// assert_eq!(ReceiveError::TooLarge { limit: 10 }.status(), 413);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            ReceiveError::Signature(_) => StatusCode::UNAUTHORIZED,
            ReceiveError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ReceiveError::Payload(_) | ReceiveError::Body(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// A short machine-readable name: `invalid_signature`,
    /// `invalid_delivery`, `body_too_large` or `unreadable_body`.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiveError::Signature(_) => "invalid_signature",
            ReceiveError::Payload(_) => "invalid_delivery",
            ReceiveError::TooLarge { .. } => "body_too_large",
            ReceiveError::Body(_) => "unreadable_body",
        }
    }

    /// The whole answer: [`ReceiveError::status`] and a JSON body
    /// `{"error": code, "message": ...}`. The message names the failure,
    /// never a secret or an expected signature.
    ///
    /// ```
    /// use attio_webhooks::{receive::signature::SignatureError, receive::ReceiveError};
    /// let response = ReceiveError::from(SignatureError::Mismatch).to_response();
    /// assert_eq!(response.status(), 401);
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// assert_eq!(
    ///     response.body().as_ref(),
    ///     br#"{"error":"invalid_signature","message":"the signature does not match the body"}"#
    /// );
    /// ```
    pub fn to_response(&self) -> http::Response<Bytes> {
        let message = self.to_string();
        json_response(
            self.status(),
            &ErrorBody {
                error: self.code(),
                message: &message,
            },
        )
    }
}

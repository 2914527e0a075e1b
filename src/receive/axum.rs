//! [`VerifiedDelivery`] as an axum extractor, and axum answers for
//! [`ReceiveError`] and [`Outcome`] (feature `axum`).

use axum_core::body::Body;
use axum_core::extract::{FromRef, FromRequest, Request};
use axum_core::response::{IntoResponse, Response};

use crate::receive::inbox::Accepted;
use crate::receive::once::Outcome;
use crate::receive::rejection::ReceiveError;
use crate::receive::verifier::{VerifiedDelivery, Verifier};

/// Reads the raw body (up to [`Verifier::max_body_bytes`]), verifies it
/// with the [`Verifier`] of the app state (through [`FromRef`]) and parses
/// it. Refuses with [`ReceiveError`]'s answer: 401, 400 or 413 with a short
/// JSON body.
///
/// It consumes the body, so it must be the handler's last argument. The
/// router's `DefaultBodyLimit` does not apply; the verifier's limit does.
impl<S> FromRequest<S> for VerifiedDelivery
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ReceiveError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        let (parts, body) = request.into_parts();
        verifier.read_and_verify(&parts.headers, body).await
    }
}

impl IntoResponse for ReceiveError {
    fn into_response(self) -> Response {
        self.to_response().map(Body::from)
    }
}

/// [`Outcome::Handled`] and [`Outcome::Failed`] answer what the handler
/// returned (make a failure's answer an error status, or Attio will not
/// retry); the others answer [`Outcome::to_response`].
impl<T: IntoResponse, E: IntoResponse> IntoResponse for Outcome<T, E> {
    fn into_response(self) -> Response {
        match self {
            Outcome::Handled(value) => value.into_response(),
            Outcome::Failed(error) => error.into_response(),
            other => other.to_response().map(Body::from),
        }
    }
}

/// [`Accepted::to_response`]: 200 once stored, 503 when the store failed.
impl IntoResponse for Accepted {
    fn into_response(self) -> Response {
        self.to_response().map(Body::from)
    }
}

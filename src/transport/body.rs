//! Reading a streamed response body into `Bytes`, within a size limit.

use bytes::Bytes;
use http_body::Body;

use super::TransportError;
use crate::body::{read_limited, ReadError};
use crate::error::BoxError;

/// Reads the whole body of `response`, refusing one over `limit` bytes
/// (`crate::body::read_limited`).
pub(crate) async fn read_response<B>(
    response: http::Response<B>,
    limit: usize,
) -> Result<http::Response<Bytes>, TransportError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (parts, body) = response.into_parts();
    match read_limited(&parts.headers, body, limit).await {
        Ok(body) => Ok(http::Response::from_parts(parts, body)),
        Err(ReadError::TooLarge { limit, declared }) => {
            Err(TransportError::body_too_large(limit, declared))
        }
        Err(ReadError::Failed(source)) => Err(TransportError::from_source(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportErrorKind;
    use http_body_util::{Full, StreamBody};

    #[test]
    fn an_announced_length_over_the_limit_is_refused_unread() {
        // A body that would fail if polled: only the header can refuse it.
        let never = StreamBody::new(futures::stream::pending::<
            Result<http_body::Frame<Bytes>, std::io::Error>,
        >());
        let response = http::Response::builder()
            .header("content-length", "104857600")
            .body(never)
            .unwrap();
        let error = futures::executor::block_on(read_response(response, 1024)).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
        assert!(error.to_string().ends_with("(Content-Length: 104857600)"));
    }

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        let response = http::Response::new(Full::new(Bytes::from_static(b"{\"data\":[]}")));
        let read = futures::executor::block_on(read_response(response, 11)).unwrap();
        assert_eq!(read.body(), "{\"data\":[]}");
        let response = http::Response::new(Full::new(Bytes::from_static(b"{\"data\":[]}")));
        let error = futures::executor::block_on(read_response(response, 10)).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
    }
}

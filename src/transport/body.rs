//! Reading a streamed response body into `Bytes`, within a size limit.

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use super::TransportError;
use crate::error::BoxError;

/// The `host:port` a request goes to, for error messages.
pub(crate) fn server_of(uri: &http::Uri) -> String {
    let host = uri.host().unwrap_or("the server");
    match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => match uri.scheme_str() {
            Some("https") => format!("{host}:443"),
            Some("http") => format!("{host}:80"),
            _ => host.to_owned(),
        },
    }
}

/// The length a response announces: its `Content-Length`, else what the
/// body itself knows for certain.
pub(crate) fn declared_length<B: Body>(headers: &http::HeaderMap, body: &B) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or_else(|| body.size_hint().exact())
}

/// Reads the whole body of `response`, refusing one over `limit` bytes:
/// at once when its announced length is over (nothing is read), else as
/// soon as the bytes received pass the limit.
pub(crate) async fn read_limited<B>(
    response: http::Response<B>,
    limit: usize,
) -> Result<http::Response<Bytes>, TransportError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (parts, body) = response.into_parts();
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if let Some(declared) = declared_length(&parts.headers, &body) {
        if declared > limit_u64 {
            return Err(TransportError::body_too_large(limit_u64, Some(declared)));
        }
    }
    let body = Limited::new(body, limit).collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            TransportError::body_too_large(limit_u64, None)
        } else {
            TransportError::from_source(e)
        }
    })?;
    Ok(http::Response::from_parts(parts, body.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportErrorKind;
    use http_body_util::{Full, StreamBody};

    #[test]
    fn servers_are_named_with_their_port() {
        assert_eq!(
            server_of(&"https://api.attio.com/v2".parse().unwrap()),
            "api.attio.com:443"
        );
        assert_eq!(
            server_of(&"http://127.0.0.1:8080/".parse().unwrap()),
            "127.0.0.1:8080"
        );
    }

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
        let error = futures::executor::block_on(read_limited(response, 1024)).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
        assert!(error.to_string().ends_with("(Content-Length: 104857600)"));
    }

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        let response = http::Response::new(Full::new(Bytes::from_static(b"{\"data\":[]}")));
        let read = futures::executor::block_on(read_limited(response, 11)).unwrap();
        assert_eq!(read.body(), "{\"data\":[]}");
        let response = http::Response::new(Full::new(Bytes::from_static(b"{\"data\":[]}")));
        let error = futures::executor::block_on(read_limited(response, 10)).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
    }
}

//! Reading a streamed body into memory, never past a limit: the one
//! reader behind the transports' responses and the receivers' requests.

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::BoxError;

/// Why a body was not read whole.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Longer than the limit: announced so (`declared`, nothing was read),
    /// or seen so while reading (`declared` is `None`, reading stopped).
    /// The transports' errors report both; receivers only the refusal.
    #[cfg_attr(
        not(any(feature = "hyper-transport", feature = "tower")),
        allow(dead_code)
    )]
    TooLarge { limit: u64, declared: Option<u64> },
    /// The body failed (the connection broke mid-body).
    Failed(BoxError),
}

/// The length a message announces: its `Content-Length`, else what the
/// body itself knows for certain.
pub(crate) fn declared_length<B: Body>(headers: &http::HeaderMap, body: &B) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or_else(|| body.size_hint().exact())
}

/// Reads `body` whole, refusing one over `limit` bytes: at once when its
/// announced length is over (nothing is read), else as soon as the bytes
/// received pass the limit.
pub(crate) async fn read_limited<B>(
    headers: &http::HeaderMap,
    body: B,
    limit: usize,
) -> Result<Bytes, ReadError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if let Some(declared) = declared_length(headers, &body) {
        if declared > limit_u64 {
            return Err(ReadError::TooLarge {
                limit: limit_u64,
                declared: Some(declared),
            });
        }
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(ReadError::TooLarge {
            limit: limit_u64,
            declared: None,
        }),
        Err(error) => Err(ReadError::Failed(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    fn read<B>(headers: &http::HeaderMap, body: B, limit: usize) -> Result<Bytes, ReadError>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        futures::executor::block_on(read_limited(headers, body, limit))
    }

    #[test]
    fn an_announced_length_over_the_limit_is_refused_unread() {
        // A body that would fail if polled: only the header can refuse it.
        let never = StreamBody::new(futures::stream::pending::<
            Result<http_body::Frame<Bytes>, std::io::Error>,
        >());
        let mut headers = http::HeaderMap::new();
        headers.insert("content-length", "104857600".parse().unwrap());
        match read(&headers, never, 1024) {
            Err(ReadError::TooLarge {
                limit: 1024,
                declared: Some(104857600),
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_body_is_read_whole_up_to_exactly_the_limit() {
        let none = http::HeaderMap::new();
        let body = || Full::new(Bytes::from_static(b"{\"data\":[]}"));
        assert_eq!(read(&none, body(), 11).unwrap(), "{\"data\":[]}");
        assert!(matches!(
            read(&none, body(), 10),
            Err(ReadError::TooLarge {
                limit: 10,
                declared: Some(11)
            })
        ));
    }

    #[test]
    fn a_stream_that_grows_past_the_limit_stops_and_a_broken_one_fails() {
        let none = http::HeaderMap::new();
        let chunks = |n: usize| {
            StreamBody::new(futures::stream::iter((0..n).map(|_| {
                Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from_static(b"abcd")))
            })))
        };
        assert_eq!(read(&none, chunks(2), 8).unwrap(), "abcdabcd");
        assert!(matches!(
            read(&none, chunks(3), 8),
            Err(ReadError::TooLarge {
                limit: 8,
                declared: None
            })
        ));
        let broken = StreamBody::new(futures::stream::iter([
            Ok(http_body::Frame::data(Bytes::from_static(b"ab"))),
            Err(std::io::Error::other("connection reset")),
        ]));
        match read(&none, broken, 8) {
            Err(ReadError::Failed(e)) => assert_eq!(e.to_string(), "connection reset"),
            other => panic!("{other:?}"),
        }
    }
}

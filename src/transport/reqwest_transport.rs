//! A transport over a `reqwest::Client` the application already has.

use bytes::{Bytes, BytesMut};

use super::{Transport, TransportError, TransportErrorKind};

/// The default largest response body of a [`ReqwestTransport`]: 16 MiB.
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub const REQWEST_DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// [`Transport`] over a [`reqwest::Client`], so the client shares the
/// connection pool, TLS setup, proxy settings and middleware-free defaults
/// your application already configured.
///
/// This crate depends on reqwest with `default-features = false`: it turns
/// on no TLS backend of its own. Enable one on your own reqwest dependency
/// (cargo merges the features), for example rustls:
///
/// ```toml
/// [dependencies]
/// attio-webhooks = { version = "0.1", default-features = false, features = ["reqwest"] }
/// reqwest = { version = "0.13", default-features = false, features = ["rustls"] }
/// ```
///
/// A client without TLS fails `https://` requests with
/// [`TransportErrorKind::Connect`] (its connector refuses the scheme).
///
/// Redirects are not expected from Attio; reqwest's redirect policy applies
/// as configured on your client. A response whose `Content-Length` is over
/// the body limit is refused before its body is read.
///
/// ```
/// use attio_webhooks::{Client, transport::ReqwestTransport};
/// # fn demo() -> Result<(), attio_webhooks::Error> {
/// let http = reqwest::Client::builder()
///     .connect_timeout(std::time::Duration::from_secs(5))
///     .build()
///     .expect("a reqwest client");
/// let client = Client::new(ReqwestTransport::new(http), "sk_live_...")?;
/// # let _ = client; Ok(()) }
/// # demo().unwrap();
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
}

impl ReqwestTransport {
    /// A transport over `client`, with the 16 MiB body limit.
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            max_response_bytes: REQWEST_DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The same transport with another response body limit.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The reqwest client requests go through.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl From<reqwest::Client> for ReqwestTransport {
    fn from(client: reqwest::Client) -> Self {
        Self::new(client)
    }
}

/// A reqwest error as a [`TransportError`]: the source chain decides when
/// it can (io errors, TLS), reqwest's own predicates otherwise.
fn transport_error(error: reqwest::Error, server: &str) -> TransportError {
    let kind = match TransportError::classify(&error) {
        TransportErrorKind::Other if error.is_timeout() => TransportErrorKind::Timeout,
        TransportErrorKind::Other if error.is_dns() => TransportErrorKind::Dns,
        TransportErrorKind::Other if error.is_connect() => TransportErrorKind::Connect,
        TransportErrorKind::Other if error.is_builder() => TransportErrorKind::Unsupported,
        TransportErrorKind::Other if error.is_body() => TransportErrorKind::ConnectionClosed,
        kind => kind,
    };
    let connecting = error.is_connect() || error.is_dns();
    let error = TransportError::new(kind, error).with_server(server);
    if connecting {
        error.while_connecting()
    } else {
        error
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Transport for ReqwestTransport {
    type Error = TransportError;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        let server = super::error::server_of(request.uri());
        let request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::new(TransportErrorKind::Unsupported, e))?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| transport_error(e, &server))?;

        let limit = u64::try_from(self.max_response_bytes).unwrap_or(u64::MAX);
        let too_large =
            |declared| TransportError::body_too_large(limit, declared).with_server(&*server);
        let declared = response.content_length();
        if let Some(declared) = declared.filter(|&n| n > limit) {
            return Err(too_large(Some(declared)));
        }
        let mut body =
            BytesMut::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(0)));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(e, &server))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large(None));
            }
            body.extend_from_slice(&chunk);
        }

        let mut answer = http::Response::new(body.freeze());
        *answer.status_mut() = response.status();
        *answer.version_mut() = response.version();
        *answer.headers_mut() = std::mem::take(response.headers_mut());
        Ok(answer)
    }
}

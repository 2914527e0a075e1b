//! A `Transport` that hands requests straight to the dispatcher.

use std::sync::Arc;

use attio_webhooks::Transport;
use bytes::Bytes;

use crate::api::{Body, Dispatcher, Reply};

/// Runs requests against a [`crate::FakeAttio`] in the same process, with
/// no sockets ([`crate::FakeAttio::transport`]). Injected delays are real
/// (tokio) sleeps; a dropped connection becomes
/// [`InProcessError::ConnectionDropped`].
#[derive(Clone, Debug)]
pub struct InProcessTransport {
    dispatcher: Arc<Dispatcher>,
}

impl InProcessTransport {
    /// The base URL an in-process client uses; no socket is ever opened
    /// for it.
    pub const BASE_URL: &'static str = "http://localhost";

    pub(crate) fn new(dispatcher: Arc<Dispatcher>) -> Self {
        Self { dispatcher }
    }
}

/// Why the in-process transport returned no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InProcessError {
    /// An injected [`crate::Fault::DropConnection`] (or its after-handling form).
    #[error("the fake dropped the connection (injected fault)")]
    ConnectionDropped,
}

#[async_trait::async_trait]
impl Transport for InProcessTransport {
    type Error = InProcessError;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, InProcessError> {
        match self.dispatcher.handle(request.map(Body::Read)) {
            Reply::Respond(response, None) => Ok(response),
            Reply::Respond(response, Some(delay)) => {
                tokio::time::sleep(delay).await;
                Ok(response)
            }
            Reply::Drop => Err(InProcessError::ConnectionDropped),
            Reply::Settle(settle) => Ok(settle.answer().await),
        }
    }
}

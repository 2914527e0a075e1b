//! A `Transport` that hands requests straight to a `FakeAttio`.

use attio_webhooks::Transport;
use bytes::Bytes;

use crate::fake::{FakeAttio, Reply};

/// Runs requests against a [`FakeAttio`] in the same process, with no
/// sockets. Injected delays are real (tokio) sleeps; a dropped connection
/// becomes [`InProcessError::ConnectionDropped`].
#[derive(Clone, Debug)]
pub struct InProcessTransport {
    fake: FakeAttio,
}

impl InProcessTransport {
    /// A transport into `fake`.
    pub fn new(fake: FakeAttio) -> Self {
        Self { fake }
    }

    /// The fake behind this transport.
    pub fn fake(&self) -> &FakeAttio {
        &self.fake
    }
}

/// Why the in-process transport returned no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InProcessError {
    /// An injected [`crate::Fault::DropConnection`].
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
        match self.fake.handle(request) {
            Reply::Respond(response, None) => Ok(response),
            Reply::Respond(response, Some(delay)) => {
                tokio::time::sleep(delay).await;
                Ok(response)
            }
            Reply::Drop => Err(InProcessError::ConnectionDropped),
        }
    }
}

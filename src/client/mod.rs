//! `Client`: an [`Endpoint`] plus a [`Transport`], a timer, a timeout and a
//! retry policy, with one send path for every operation.

mod paging;
mod retry;
mod send;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use retry::{Failure, RetryDecision, RetryPolicy, StopReason};

use crate::endpoint::Endpoint;
use crate::error::{Error, InvalidInput};
use crate::model::{ApiToken, CreatedWebhook, Subscription, TargetUrlPolicy, Webhook, WebhookId};
use crate::operations::{CreateWebhook, DeleteWebhook, GetWebhook, ListWebhooks, UpdateWebhook};
use crate::sleep::AsyncSleep;
use crate::transport::Transport;

/// The default per-attempt timeout: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for Attio's webhooks API over any [`Transport`].
///
/// Cloning is cheap and clones share the transport (and its connection
/// pool). Every call goes through [`Client::send_with`]: validation, auth
/// headers, timeout, retries, tracing and decoding happen there and nowhere
/// else.
///
/// ```no_run
/// # #[cfg(feature = "hyper-transport")]
/// # async fn demo() -> Result<(), attio_webhooks::Error> {
/// use attio_webhooks::{Client, EventType, HyperTransport, Subscription};
/// let client = Client::new(HyperTransport::new()?, std::env::var("ATTIO_API_KEY").unwrap_or_default())?;
/// let created = client
///     .create_webhook("https://example.com/hook", vec![Subscription::new(EventType::RecordCreated)])
///     .await?;
/// println!("created {} (secret kept: {})", created.webhook.webhook_id(), !created.secret.is_empty());
/// # Ok(()) }
/// ```
pub struct Client<T> {
    transport: Arc<T>,
    shared: Arc<Shared>,
}

struct Shared {
    endpoint: Endpoint,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    sleep: Arc<dyn AsyncSleep>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self {
            transport: Arc::clone(&self.transport),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.shared.endpoint)
            .field("timeout", &self.shared.timeout)
            .field("retry", &self.shared.retry)
            .finish_non_exhaustive()
    }
}

impl Client<()> {
    /// Starts configuring a client; the transport is given last, to
    /// [`ClientBuilder::build`]. (Declared on `Client<()>` so that
    /// `Client::builder(..)` needs no type annotation.)
    pub fn builder(token: impl Into<ApiToken>) -> ClientBuilder {
        ClientBuilder::new(token)
    }
}

impl<T: Transport> Client<T> {
    /// A client for `https://api.attio.com` with the default timeout and
    /// retry policy. Fails for an empty token, or when no timer is
    /// available (see [`ClientBuilder::sleep`]).
    pub fn new(transport: T, token: impl Into<ApiToken>) -> Result<Self, InvalidInput> {
        ClientBuilder::new(token).build(transport)
    }

    /// The endpoint requests are built with.
    pub fn endpoint(&self) -> &Endpoint {
        &self.shared.endpoint
    }

    /// The transport requests go through.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Lists one page of webhooks.
    pub async fn list_webhooks(&self, page: ListWebhooks) -> Result<Vec<Webhook>, Error> {
        self.send(&page).await
    }

    /// Creates a webhook; the answer holds its signing secret.
    pub async fn create_webhook(
        &self,
        target_url: impl Into<String>,
        subscriptions: Vec<Subscription>,
    ) -> Result<CreatedWebhook, Error> {
        self.send(&CreateWebhook::new(target_url, subscriptions))
            .await
    }

    /// Fetches one webhook.
    pub async fn get_webhook(&self, webhook_id: WebhookId) -> Result<Webhook, Error> {
        self.send(&GetWebhook::new(webhook_id)).await
    }

    /// Applies an update built with [`UpdateWebhook`]'s setters.
    pub async fn update_webhook(&self, update: UpdateWebhook) -> Result<Webhook, Error> {
        self.send(&update).await
    }

    /// Deletes one webhook.
    pub async fn delete_webhook(&self, webhook_id: WebhookId) -> Result<(), Error> {
        self.send(&DeleteWebhook::new(webhook_id)).await
    }
}

/// Per-call overrides of the client's timeout and retry policy.
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::{RetryPolicy, SendOptions};
/// let once = SendOptions::new().retry(RetryPolicy::disabled()).timeout(Duration::from_secs(2));
/// # let _ = once;
/// ```
#[derive(Clone, Debug, Default)]
pub struct SendOptions {
    retry: Option<RetryPolicy>,
    timeout: Option<Option<Duration>>,
}

impl SendOptions {
    /// No overrides: the client's settings apply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `policy` for this call; [`RetryPolicy::disabled`] turns retries off.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Uses `timeout` for each attempt of this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(Some(timeout));
        self
    }

    /// No timeout for this call.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = Some(None);
        self
    }
}

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::{Client, RetryPolicy};
/// # use attio_webhooks::Transport;
/// # struct Never;
/// # #[async_trait::async_trait]
/// # impl Transport for Never {
/// #     type Error = std::io::Error;
/// #     async fn send(&self, _: http::Request<bytes::Bytes>) -> Result<http::Response<bytes::Bytes>, std::io::Error> {
/// #         Err(std::io::ErrorKind::ConnectionRefused.into())
/// #     }
/// # }
/// # #[cfg(feature = "tokio")] {
/// let client = Client::builder("sk_test")
///     .base_url("http://127.0.0.1:8080")
///     .timeout(Duration::from_secs(5))
///     .retry_policy(RetryPolicy::default().max_attempts(2))
///     .build(Never)?;
/// assert_eq!(client.endpoint().base_url(), "http://127.0.0.1:8080");
/// # }
/// # Ok::<(), attio_webhooks::InvalidInput>(())
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    token: ApiToken,
    base_url: Option<String>,
    targets: TargetUrlPolicy,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    sleep: Option<Arc<dyn AsyncSleep>>,
}

impl ClientBuilder {
    /// Starts from the defaults: Attio's base URL, https-only targets, a 30 s
    /// timeout, [`RetryPolicy::default`].
    pub fn new(token: impl Into<ApiToken>) -> Self {
        Self {
            token: token.into(),
            base_url: None,
            targets: TargetUrlPolicy::default(),
            timeout: Some(DEFAULT_TIMEOUT),
            retry: RetryPolicy::default(),
            sleep: None,
        }
    }

    /// Sends requests to another base URL (a fake, a proxy).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Which webhook target URLs are accepted before sending. The default
    /// is Attio's https-only rule; [`TargetUrlPolicy::AllowLoopbackHttp`]
    /// suits tests with a local receiver and the testkit's fake.
    pub fn target_url_policy(mut self, targets: TargetUrlPolicy) -> Self {
        self.targets = targets;
        self
    }

    /// The timeout of each attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No timeout at all.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// The retry policy of every call (overridable per call with [`SendOptions`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The timer for timeouts and backoff. Defaults to tokio's with the
    /// `tokio` feature; needed on any other runtime.
    pub fn sleep(mut self, sleep: impl AsyncSleep) -> Self {
        self.sleep = Some(Arc::new(sleep));
        self
    }

    /// Builds the client around `transport`.
    pub fn build<T: Transport>(self, transport: T) -> Result<Client<T>, InvalidInput> {
        let mut endpoint = Endpoint::new(self.token)?.with_target_url_policy(self.targets);
        if let Some(base_url) = &self.base_url {
            endpoint = endpoint.with_base_url(base_url)?;
        }
        let sleep = match self.sleep {
            Some(sleep) => sleep,
            None => default_sleep()?,
        };
        Ok(Client {
            transport: Arc::new(transport),
            shared: Arc::new(Shared {
                endpoint,
                timeout: self.timeout,
                retry: self.retry,
                sleep,
            }),
        })
    }
}

#[cfg(feature = "tokio")]
fn default_sleep() -> Result<Arc<dyn AsyncSleep>, InvalidInput> {
    Ok(Arc::new(crate::sleep::TokioSleep))
}

#[cfg(not(feature = "tokio"))]
fn default_sleep() -> Result<Arc<dyn AsyncSleep>, InvalidInput> {
    Err(InvalidInput::NoTimer)
}

//! `Client`: an [`Endpoint`] plus a [`Transport`], a timer, a timeout and a
//! retry policy, with one send path for every operation.

mod backoff;
mod endpoint;
mod paging;
pub mod retry;
mod send;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use endpoint::{Endpoint, DEFAULT_BASE_URL, USER_AGENT_VALUE};
pub use paging::WebhookStream;
pub use retry::RetryPolicy;

use crate::error::{ConfigError, Error};
use crate::model::{ApiToken, CreatedWebhook, Subscription, TargetUrlPolicy, Webhook, WebhookId};
use crate::operations::{CreateWebhook, DeleteWebhook, GetWebhook, ListWebhooks, UpdateWebhook};
use crate::runtime::{AsyncSleep, Clock};
use crate::transport::Transport;

/// The default per-attempt timeout: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default bound on a whole call, retries and waits included: 60 seconds.
///
/// Without it the defaults allow 4 attempts of 30 s plus 30 s of waiting,
/// about 150 s, before a call gives up on an Attio that hangs. 60 s still
/// fits what the retry policy is for: a run of quick 5xx answers (under 2 s
/// of backoff), the whole 30 s waiting budget of rate limiting plus the
/// answer, or one attempt that hangs for its full 30 s followed by a
/// retry that gets the rest. Past a minute, a caller (a request handler, a
/// job step) is better told than kept waiting.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

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
/// use attio_webhooks::{Client, EventType, transport::HyperTransport, Subscription};
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
    deadline: Option<Duration>,
    retry: RetryPolicy,
    sleep: Arc<dyn AsyncSleep>,
    clock: Arc<dyn Clock>,
    /// `server.address` and `server.port` for the metrics, made once.
    server_labels: crate::metrics::ServerLabels,
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
            .field("deadline", &self.shared.deadline)
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
    /// retry policy. Fails for an empty token, or when no timer or no
    /// clock is available (see [`ClientBuilder::sleep`] and
    /// [`ClientBuilder::clock`]).
    pub fn new(transport: T, token: impl Into<ApiToken>) -> Result<Self, ConfigError> {
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
    ///
    /// A 404 is an error ([`Error::is_not_found`]), except after an attempt
    /// of this same call whose outcome is unknown (a 5xx, a timeout, a
    /// connection lost once the request may have been sent): that attempt
    /// may well be what deleted the webhook, so the call returns `Ok(())`.
    pub async fn delete_webhook(&self, webhook_id: WebhookId) -> Result<(), Error> {
        self.send(&DeleteWebhook::new(webhook_id)).await
    }
}

/// Per-call overrides of the client's timeout, deadline and retry policy.
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::{RetryPolicy, SendOptions};
/// let once = SendOptions::new().retry(RetryPolicy::disabled()).timeout(Duration::from_secs(2));
/// let patient = SendOptions::new().deadline(Duration::from_secs(300));
/// # let _ = (once, patient);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SendOptions {
    retry: Option<RetryPolicy>,
    timeout: Option<Option<Duration>>,
    deadline: Option<Option<Duration>>,
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

    /// Bounds this whole call (attempts and waits) by `deadline`.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(Some(deadline));
        self
    }

    /// No overall bound for this call: only the per-attempt timeout and
    /// the retry policy's limits apply.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = Some(None);
        self
    }
}

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::{Client, RetryPolicy};
/// # use attio_webhooks::{async_trait, bytes::Bytes, http, Transport};
/// # struct Never;
/// # #[async_trait]
/// # impl Transport for Never {
/// #     type Error = std::io::Error;
/// #     async fn send(&self, _: http::Request<Bytes>) -> Result<http::Response<Bytes>, std::io::Error> {
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
/// # Ok::<(), attio_webhooks::error::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    token: ApiToken,
    base_url: Option<String>,
    insecure_http: bool,
    targets: TargetUrlPolicy,
    timeout: Option<Duration>,
    deadline: Option<Duration>,
    retry: RetryPolicy,
    sleep: Option<Arc<dyn AsyncSleep>>,
    clock: Option<Arc<dyn Clock>>,
}

impl ClientBuilder {
    /// Starts from the defaults: Attio's base URL, https-only targets, a 30 s
    /// timeout per attempt, a 60 s deadline per call ([`DEFAULT_DEADLINE`]),
    /// [`RetryPolicy::default`].
    pub fn new(token: impl Into<ApiToken>) -> Self {
        Self {
            token: token.into(),
            base_url: None,
            insecure_http: false,
            targets: TargetUrlPolicy::default(),
            timeout: Some(DEFAULT_TIMEOUT),
            deadline: Some(DEFAULT_DEADLINE),
            retry: RetryPolicy::default(),
            sleep: None,
            clock: None,
        }
    }

    /// Sends requests to another base URL (a fake, a proxy). It must be
    /// `https://`, or `http://` to a loopback host, unless
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Lets the base URL be plain `http://` to any host, such as a fake
    /// Attio in another container (`http://fake-attio:8080`). The token
    /// then travels unencrypted: only for test networks. Without this, plain
    /// HTTP is refused except to loopback hosts.
    ///
    /// ```
    /// # use attio_webhooks::{Client, error::ConfigError};
    /// # #[cfg(feature = "hyper-transport")] {
    /// # let transport = || attio_webhooks::transport::HyperTransport::new().unwrap();
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # let _guard = rt.enter();
    /// let refused = Client::builder("KEY").base_url("http://fake-attio:8080").build(transport());
    /// assert!(matches!(refused, Err(ConfigError::BaseUrl { .. })));
    /// let client = Client::builder("KEY")
    ///     .base_url("http://fake-attio:8080")
    ///     .allow_insecure_http()
    ///     .build(transport())?;
    /// assert_eq!(client.endpoint().base_url(), "http://fake-attio:8080");
    /// # }
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn allow_insecure_http(mut self) -> Self {
        self.insecure_http = true;
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

    /// The bound on a whole call: every attempt and every wait between
    /// them. Reaching it gives [`Error::Deadline`]. Defaults to
    /// [`DEFAULT_DEADLINE`] (60 s; its docs say why).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// No bound on a whole call: only the per-attempt timeout and the
    /// retry policy's limits apply.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
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

    /// The clock for timeouts, deadlines and `Retry-After` dates. Defaults
    /// to [`StdClock`](crate::runtime::StdClock) on every target but
    /// `wasm32-unknown-unknown`, where it is needed (the standard library's
    /// clock panics there).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Builds the client around `transport`.
    pub fn build<T: Transport>(self, transport: T) -> Result<Client<T>, ConfigError> {
        let mut endpoint = Endpoint::new(self.token)?.with_target_url_policy(self.targets);
        if let Some(base_url) = &self.base_url {
            endpoint = if self.insecure_http {
                endpoint.with_insecure_base_url(base_url)?
            } else {
                endpoint.with_base_url(base_url)?
            };
        }
        let sleep = match self.sleep {
            Some(sleep) => sleep,
            None => default_sleep()?,
        };
        let clock = self
            .clock
            .or_else(crate::runtime::default_clock)
            .ok_or(ConfigError::NoClock)?;
        Ok(Client {
            transport: Arc::new(transport),
            shared: Arc::new(Shared {
                server_labels: {
                    let (host, port) = endpoint.server();
                    crate::metrics::ServerLabels::new(host, port)
                },
                endpoint,
                timeout: self.timeout,
                deadline: self.deadline,
                retry: self.retry,
                sleep,
                clock,
            }),
        })
    }
}

#[cfg(feature = "tokio")]
fn default_sleep() -> Result<Arc<dyn AsyncSleep>, ConfigError> {
    Ok(Arc::new(crate::runtime::TokioSleep))
}

#[cfg(not(feature = "tokio"))]
fn default_sleep() -> Result<Arc<dyn AsyncSleep>, ConfigError> {
    Err(ConfigError::NoTimer)
}

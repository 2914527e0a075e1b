//! Connecting with bounded waits: [`RedisSeenKeysBuilder`], its default
//! timeouts, and the error a call that ran out of time answers.

use std::future::Future;
use std::time::Duration;

use attio_webhooks::error::BoxError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::RedisSeenKeys;

/// How long connecting (or reconnecting) to Redis may take by default: 1 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long Redis may take to answer a command by default: 1 s. Its
/// scripts take well under a millisecond on a healthy server, so this only
/// runs out when Redis is down, stalled or unreachable.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Connects a [`RedisSeenKeys`] with bounded waits: made by
/// [`RedisSeenKeys::builder`].
///
/// Every store call (claim, complete, release, renew) answers within the
/// connect timeout plus the response timeout, reconnecting included: by
/// default 2 s, after which it fails with [`TimedOut`] and
/// [`Once`](attio_webhooks::receive::Once) answers 503, so Attio retries.
/// Without a bound a Redis outage held each delivery for the client's
/// reconnect retries (9.4 s measured), about as long as a delivery attempt
/// may last (the fake gives up after 10 s; Attio's own attempt timeout is
/// not documented), so Attio would have seen a timeout instead of the
/// 503. 2 s leaves the receiver most of the attempt.
///
/// ```no_run
/// use std::time::Duration;
/// use attio_webhooks_redis::RedisSeenKeys;
///
/// # async fn demo() -> Result<(), redis::RedisError> {
/// let keys = RedisSeenKeys::builder("redis://127.0.0.1:6379/")
///     .connect_timeout(Duration::from_millis(500))
///     .response_timeout(Duration::from_millis(500))
///     .connect()
///     .await?
///     .with_prefix("myapp:attio:");
/// # let _ = keys; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisSeenKeysBuilder {
    url: String,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl RedisSeenKeysBuilder {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
        }
    }

    /// Sets how long connecting or reconnecting may take (at least 1 ms).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Sets how long Redis may take to answer a command (at least 1 ms).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Connects (failing if Redis does not answer: a receiver should not
    /// start without its store) and logs what
    /// [`check_durability`](RedisSeenKeys::check_durability) finds, with [`DEFAULT_PREFIX`](crate::DEFAULT_PREFIX),
    /// [`DEFAULT_LEASE`](attio_webhooks::receive::DEFAULT_LEASE) and
    /// [`DEFAULT_TTL`](attio_webhooks::receive::DEFAULT_TTL).
    pub async fn connect(self) -> Result<RedisSeenKeys, redis::RedisError> {
        let client = redis::Client::open(self.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout));
        let connection = ConnectionManager::new_with_config(client, config).await?;
        let store = RedisSeenKeys::new(connection)
            .with_call_timeout(self.connect_timeout + self.response_timeout);
        // Warnings are logged; an error here only repeats what the first
        // claim will say.
        let _ = store.check_durability().await;
        Ok(store)
    }
}

/// A store call that got no answer from Redis in time (the store's
/// connect timeout plus its response timeout): Redis is down, stalled or
/// unreachable. [`Once`](attio_webhooks::receive::Once) answers 503.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimedOut {
    /// How long the call waited.
    pub after: Duration,
}

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redis did not answer within {:?}", self.after)
    }
}

impl std::error::Error for TimedOut {}

/// `call`, or [`TimedOut`] once `bound` has passed.
pub(crate) async fn bounded<T, E>(
    bound: Duration,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, BoxError>
where
    E: Into<BoxError>,
{
    match tokio::time::timeout(bound, call).await {
        Ok(answer) => answer.map_err(Into::into),
        Err(_) => Err(Box::new(TimedOut { after: bound })),
    }
}

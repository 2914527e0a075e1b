//! `FakeAttio`: one in-memory Attio workspace, and the entry point every
//! front door (in-process, loopback server, binary) hands requests to.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use attio_webhooks::{
    ApiErrorBody, Client, CreatedWebhook, RetryPolicy, TargetUrlPolicy, Timestamp, Webhook,
    WebhookId, WebhookStatus, WorkspaceId,
};
use bytes::Bytes;

use crate::auth::{Scope, Tokens};
use crate::clock::Clock;
use crate::delivery::{Deliveries, DeliveryPolicy};
use crate::faults::{Fault, FaultRule, Faults};
use crate::in_process::InProcessTransport;
use crate::rate_limit::{RateLimiter, READS_PER_SECOND, WRITES_PER_SECOND};
use crate::recorded::{Arrival, RecordedRequest};
use crate::store::{data_created, data_one, Seed, Store, StoredWebhook};
use crate::{errors, responses};

/// The token a fake accepts when no other was configured (all scopes).
pub const DEFAULT_TOKEN: &str = "fake-attio-token";

/// The largest request body the fake reads: 1 MiB. Larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The path prefix of the fake's own test-control endpoints.
pub const CONTROL_PREFIX: &str = "/__fake";

/// The base URL an in-process client uses; no socket is ever opened for it.
pub const IN_PROCESS_BASE_URL: &str = "http://localhost";

/// How many requests the fake remembers by default (the oldest are dropped).
pub const DEFAULT_MAX_RECORDED_REQUESTS: usize = 10_000;

/// A stateful, in-memory stand-in for Attio's webhooks API.
///
/// One `FakeAttio` is one workspace. Clones share it. Reach it in-process
/// with [`FakeAttio::client`] / [`FakeAttio::transport`], over loopback
/// HTTP with [`FakeAttio::serve`], or from any language with the
/// `fake-attio` binary. Arrange and inspect it from the test with
/// [`FakeAttio::seed`], [`FakeAttio::inject`], [`FakeAttio::requests`] and
/// [`FakeAttio::reset`] (or the same under [`CONTROL_PREFIX`] over HTTP).
///
/// ```
/// use attio_webhooks::{EventType, Subscription};
/// use attio_webhooks_testkit::FakeAttio;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), attio_webhooks::Error> {
/// let fake = FakeAttio::new();
/// let client = fake.client();
/// let created = client
///     .create_webhook("https://example.com/hook", vec![Subscription::new(EventType::NoteCreated)])
///     .await?;
/// assert_eq!(client.get_webhook(created.webhook.webhook_id()).await?, created.webhook);
/// assert_eq!(fake.requests().len(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct FakeAttio {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    tokens: Tokens,
    first_token: String,
    workspace_id: WorkspaceId,
    targets: TargetUrlPolicy,
    max_recorded: usize,
    clock: Clock,
    delivery_policy: DeliveryPolicy,
    state: Mutex<State>,
    deliveries: Arc<Deliveries>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Lets the delivery worker notice that the fake is gone and stop.
        self.deliveries.wake();
    }
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) store: Store,
    faults: Faults,
    requests: VecDeque<Arrival>,
    limiter: Option<RateLimiter>,
}

/// Configures a [`FakeAttio`].
///
/// ```
/// use attio_webhooks_testkit::{FakeAttio, Scope};
/// let fake = FakeAttio::builder()
///     .token("reader", [Scope::Read])
///     .token("writer", [Scope::ReadWrite])
///     .allow_loopback_http_targets()
///     .attio_rate_limits()
///     .build();
/// # let _ = fake;
/// ```
#[derive(Debug, Default)]
pub struct FakeAttioBuilder {
    tokens: Vec<(String, Vec<Scope>)>,
    workspace_id: Option<WorkspaceId>,
    targets: TargetUrlPolicy,
    rate_limits: Option<(u32, u32)>,
    clock: Option<Clock>,
    max_recorded: Option<usize>,
    delivery_policy: DeliveryPolicy,
}

impl FakeAttioBuilder {
    /// Accepts `token` with `scopes`. Without any call, the fake accepts
    /// [`DEFAULT_TOKEN`] with `webhook:read-write`.
    pub fn token(
        mut self,
        token: impl Into<String>,
        scopes: impl IntoIterator<Item = Scope>,
    ) -> Self {
        self.tokens
            .push((token.into(), scopes.into_iter().collect()));
        self
    }

    /// The workspace id in every webhook's `id` (random by default).
    pub fn workspace_id(mut self, id: WorkspaceId) -> Self {
        self.workspace_id = Some(id);
        self
    }

    /// Also accepts `http://` target URLs on loopback hosts, for local
    /// receivers. Real Attio accepts only `https://`, the fake's default.
    pub fn allow_loopback_http_targets(mut self) -> Self {
        self.targets = TargetUrlPolicy::AllowLoopbackHttp;
        self
    }

    /// Refuses requests over these per-second budgets with 429.
    pub fn rate_limits(mut self, reads_per_second: u32, writes_per_second: u32) -> Self {
        self.rate_limits = Some((reads_per_second, writes_per_second));
        self
    }

    /// Attio's own limits: 100 reads and 25 writes per second.
    pub fn attio_rate_limits(self) -> Self {
        self.rate_limits(READS_PER_SECOND, WRITES_PER_SECOND)
    }

    /// The clock for `created_at` and delivery schedules (system by default).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The delivery retry schedule and status timings (Attio's by default).
    pub fn delivery_policy(mut self, policy: DeliveryPolicy) -> Self {
        self.delivery_policy = policy;
        self
    }

    /// How many received requests to keep (oldest dropped first); 0 keeps none.
    pub fn max_recorded_requests(mut self, limit: usize) -> Self {
        self.max_recorded = Some(limit);
        self
    }

    /// Builds the fake.
    pub fn build(self) -> FakeAttio {
        let mut configured = self.tokens;
        if configured.is_empty() {
            configured.push((DEFAULT_TOKEN.to_owned(), vec![Scope::ReadWrite]));
        }
        let first_token = configured[0].0.clone();
        let mut tokens = Tokens::default();
        for (token, scopes) in configured {
            tokens.insert(token, scopes);
        }
        let workspace_id = self
            .workspace_id
            .unwrap_or_else(|| WorkspaceId::from_uuid(uuid::Uuid::new_v4()));
        FakeAttio {
            inner: Arc::new(Inner {
                tokens,
                first_token,
                workspace_id,
                targets: self.targets,
                max_recorded: self.max_recorded.unwrap_or(DEFAULT_MAX_RECORDED_REQUESTS),
                clock: self.clock.unwrap_or_default(),
                delivery_policy: self.delivery_policy,
                deliveries: Arc::default(),
                state: Mutex::new(State {
                    store: Store::new(workspace_id),
                    faults: Faults::default(),
                    requests: VecDeque::new(),
                    limiter: self.rate_limits.map(|(r, w)| RateLimiter::new(r, w)),
                }),
            }),
        }
    }
}

/// What the fake does with a request.
pub(crate) enum Reply {
    /// Answer this, after `delay`.
    Respond(http::Response<Bytes>, Option<Duration>),
    /// Close the connection without an answer.
    Drop,
}

impl Default for FakeAttio {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeAttio {
    /// A fake with the defaults: [`DEFAULT_TOKEN`], a random workspace id,
    /// https-only targets, no rate limits, the system clock.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a fake.
    pub fn builder() -> FakeAttioBuilder {
        FakeAttioBuilder::default()
    }

    /// The workspace id of every webhook.
    pub fn workspace_id(&self) -> WorkspaceId {
        self.inner.workspace_id
    }

    /// The fake's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Which target URLs the fake accepts.
    pub fn target_url_policy(&self) -> TargetUrlPolicy {
        self.inner.targets
    }

    /// The first configured token ([`DEFAULT_TOKEN`] unless others were set).
    pub fn token(&self) -> &str {
        &self.inner.first_token
    }

    /// A [`attio_webhooks::Transport`] that hands requests straight to this
    /// fake: no sockets, no serialization beyond the HTTP bodies.
    pub fn transport(&self) -> InProcessTransport {
        InProcessTransport::new(self.clone())
    }

    /// A client over [`FakeAttio::transport`] with [`FakeAttio::token`],
    /// the fake's target URL policy, and retries with short backoff
    /// (1 ms to 20 ms) so that injected faults do not slow tests down.
    pub fn client(&self) -> Client<InProcessTransport> {
        self.client_with_token(self.token())
    }

    /// Like [`FakeAttio::client`], with another token.
    ///
    /// # Panics
    ///
    /// If `token` is empty or cannot be a header value: a mistake in the
    /// test itself, not a condition to handle.
    pub fn client_with_token(&self, token: &str) -> Client<InProcessTransport> {
        Client::builder(token)
            .base_url(IN_PROCESS_BASE_URL)
            .target_url_policy(self.inner.targets)
            .retry_policy(test_retry_policy())
            .build(self.transport())
            .expect("the fake's own client settings are valid")
    }

    /// Every webhook, in creation order.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.state()
            .store
            .all()
            .iter()
            .map(|s| s.webhook().clone())
            .collect()
    }

    /// Every webhook with its secret, in creation order.
    pub fn webhooks_with_secrets(&self) -> Vec<CreatedWebhook> {
        self.state()
            .store
            .all()
            .iter()
            .map(StoredWebhook::created)
            .collect()
    }

    /// Puts webhooks into the fake directly (see [`Seed`]). Stops at the
    /// first seed whose id is taken; those before it stay.
    pub fn seed(
        &self,
        seeds: impl IntoIterator<Item = Seed>,
    ) -> Result<Vec<CreatedWebhook>, ApiErrorBody> {
        let now = self.inner.clock.now();
        let mut state = self.state();
        seeds
            .into_iter()
            .map(|seed| state.store.seed(seed, now).map(StoredWebhook::created))
            .collect()
    }

    /// Makes the next requests that match `rule` fail (see [`FaultRule`]).
    pub fn inject(&self, rule: FaultRule) {
        self.state().faults.add(rule);
    }

    /// The fault rules not used up yet.
    pub fn pending_faults(&self) -> Vec<FaultRule> {
        self.state().faults.pending()
    }

    /// Drops every pending fault rule.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Every API request received (not the control endpoints), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state()
            .requests
            .iter()
            .map(Arrival::recorded)
            .collect()
    }

    /// Forgets the received requests.
    pub fn clear_requests(&self) {
        self.state().requests.clear();
    }

    /// Back to empty: no webhooks, faults, recorded requests, pending
    /// deliveries or delivery log. Tokens, settings and the clock stay.
    pub fn reset(&self) {
        let mut state = self.state();
        state.store.clear();
        state.faults.clear();
        state.requests.clear();
        drop(state);
        self.inner.deliveries.clear();
    }

    /// The delivery schedule in use.
    pub fn delivery_policy(&self) -> &DeliveryPolicy {
        &self.inner.delivery_policy
    }

    /// The state, with every webhook degraded for longer than the policy
    /// allows turned inactive first, so each read sees the status the
    /// clock implies.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let limit = self.inner.delivery_policy.inactive_after;
        state
            .store
            .expire_degraded(|| self.inner.clock.now(), limit);
        state
    }

    pub(crate) fn deliveries(&self) -> &Arc<Deliveries> {
        &self.inner.deliveries
    }

    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn upgrade(inner: &Weak<Inner>) -> Option<Self> {
        inner.upgrade().map(|inner| Self { inner })
    }

    /// A delivery got through: a degraded webhook is active again.
    pub(crate) fn delivery_succeeded(&self, webhook_id: WebhookId) {
        let mut state = self.state();
        state.store.change_status(
            webhook_id,
            WebhookStatus::Degraded,
            WebhookStatus::Active,
            None,
        );
    }

    /// A delivery failed its last retry (scheduled `at`): an active
    /// webhook turns degraded from then on. (If the inactive deadline has
    /// already passed on a manual clock, the next read turns it inactive.)
    pub(crate) fn delivery_gave_up(&self, webhook_id: WebhookId, at: Timestamp) {
        let mut state = self.state();
        state.store.change_status(
            webhook_id,
            WebhookStatus::Active,
            WebhookStatus::Degraded,
            Some(at),
        );
    }

    /// Handles one request, whichever front door it came through.
    pub(crate) fn handle(&self, request: http::Request<Bytes>) -> Reply {
        let path = request.uri().path();
        if path == CONTROL_PREFIX || path.starts_with(concat!("/__fake", "/")) {
            return Reply::Respond(crate::control::handle(self, &request), None);
        }
        let fault = {
            let mut state = self.state();
            if self.inner.max_recorded > 0 {
                if state.requests.len() >= self.inner.max_recorded {
                    state.requests.pop_front();
                }
                state
                    .requests
                    .push_back(Arrival::new(&request, self.inner.clock.now()));
            }
            state.faults.take(request.method(), path)
        };
        match fault {
            None => Reply::Respond(self.api(&request), None),
            Some(Fault::Status { status }) => {
                Reply::Respond(responses::error(&errors::for_status(status)), None)
            }
            Some(Fault::RateLimited) => {
                Reply::Respond(responses::error(&errors::rate_limited()), None)
            }
            Some(Fault::Delay { millis }) => {
                Reply::Respond(self.api(&request), Some(Duration::from_millis(millis)))
            }
            Some(Fault::MalformedBody { status }) => Reply::Respond(
                responses::raw(
                    status,
                    Bytes::from_static(b"{\"data\": [<html>Bad Gateway</html>"),
                ),
                None,
            ),
            Some(Fault::TruncatedBody) => {
                let full = self.api(&request);
                let (parts, body) = full.into_parts();
                let half = body.slice(..body.len() / 2);
                Reply::Respond(http::Response::from_parts(parts, half), None)
            }
            Some(Fault::DropConnection) => Reply::Drop,
        }
    }

    /// The `/v2` API: route, auth, size limit, rate limit, then the operation.
    fn api(&self, request: &http::Request<Bytes>) -> http::Response<Bytes> {
        match self.api_result(request) {
            Ok(response) => response,
            Err(body) => responses::error(&body),
        }
    }

    fn api_result(
        &self,
        request: &http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, ApiErrorBody> {
        let method = request.method().as_str();
        let path = request.uri().path();
        let id = match path.strip_prefix("/v2/webhooks") {
            Some("") => None,
            Some(rest) if rest.starts_with('/') && !rest[1..].contains('/') => Some(&rest[1..]),
            _ => return Err(errors::no_such_route(method, path)),
        };
        let write = !matches!(method, "GET" | "HEAD");
        self.inner.tokens.authorize(
            request.headers(),
            if write { Scope::ReadWrite } else { Scope::Read },
        )?;
        if request.body().len() > MAX_BODY_BYTES {
            return Err(errors::payload_too_large(MAX_BODY_BYTES));
        }
        let targets = self.inner.targets;
        let body = request.body();
        let now = self.inner.clock.now();
        let mut state = self.state();
        if let Some(limiter) = &mut state.limiter {
            if !limiter.admit(write, std::time::SystemTime::now()) {
                return Err(errors::rate_limited());
            }
        }
        match (method, id) {
            ("GET", None) => {
                let (limit, offset) = crate::validate::list_query(request.uri().query())?;
                Ok(responses::raw(200, state.store.list(limit, offset)))
            }
            ("POST", None) => {
                let new = crate::validate::create_body(body, targets)?;
                Ok(responses::raw(
                    200,
                    data_created(state.store.create(new, now)?),
                ))
            }
            ("GET", Some(id)) => Ok(responses::raw(200, data_one(state.store.get(id)?))),
            ("PATCH", Some(id)) => {
                let changes = crate::validate::update_body(body, targets)?;
                Ok(responses::raw(
                    200,
                    data_one(state.store.update(id, changes)?),
                ))
            }
            ("DELETE", Some(id)) => {
                state.store.delete(id)?;
                Ok(responses::json(200, &serde_json::json!({})))
            }
            _ => Err(errors::no_such_route(method, path)),
        }
    }
}

/// The retry policy of the fake's ready-made clients: the default policy
/// with 1 ms to 20 ms backoff.
pub fn test_retry_policy() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(20))
}

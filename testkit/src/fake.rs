//! `FakeAttio`: the small facade over the dispatcher, the doors and
//! delivery that tests hold on to.

use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::{
    error::ApiErrorBody, model::TargetUrlPolicy, receive::Event, Client, CreatedWebhook,
    RetryPolicy, Webhook, WorkspaceId,
};

use crate::api::{
    Config, ControlAccess, Dispatcher, FakeState, FaultRule, RecordedRequest, Registry, Scope,
    SeedInput, Tokens,
};
use crate::bounded::LogSnapshot;
use crate::clock::Clock;
use crate::delivery::{
    DeliveryAttempt, DeliveryPolicy, DeliveryProfile, DeliveryRoots, Emitted, QueuedDelivery,
    RedeliveryError, UnknownEventType,
};
use crate::doors::InProcessTransport;
use crate::limits::Limits;
use crate::workspace::Seed;

/// The token a fake accepts when no other was configured (all scopes).
pub const DEFAULT_TOKEN: &str = "fake-attio-token";

/// A stateful, in-memory stand-in for Attio's webhooks API.
///
/// One `FakeAttio` is one workspace. Clones share it. Reach it in-process
/// with [`FakeAttio::client`] / [`FakeAttio::transport`], over loopback
/// HTTP with [`FakeAttio::serve`], or from any language with the
/// `fake-attio` binary; every door hands requests to the same dispatcher,
/// so they answer alike. Arrange and inspect it from the test with
/// [`FakeAttio::seed`], [`FakeAttio::inject`], [`FakeAttio::requests`] and
/// [`FakeAttio::reset`] (or the same under [`crate::control::CONTROL_PREFIX`] over HTTP).
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
#[derive(Clone)]
pub struct FakeAttio {
    /// What the Rust API reads and changes; the dispatcher works on the same.
    state: Arc<FakeState>,
    dispatcher: Arc<Dispatcher>,
    #[cfg(feature = "server")]
    log_requests: Option<crate::LogFormat>,
}

/// The dispatcher's summary only: the state holds tokens and secrets.
impl std::fmt::Debug for FakeAttio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAttio")
            .field("dispatcher", &self.dispatcher)
            .finish_non_exhaustive()
    }
}

/// Configures a [`FakeAttio`].
///
/// ```
/// use attio_webhooks_testkit::{FakeAttio, Scope};
/// let fake = FakeAttio::builder()
///     .token("reader", [Scope::Read])
///     .token("writer", [Scope::ReadWrite])
///     .control_token("only-the-test-knows")
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
    limits: Limits,
    delivery_policy: DeliveryPolicy,
    delivery_profile: DeliveryProfile,
    delivery_roots: DeliveryRoots,
    control: ControlAccess,
    #[cfg(feature = "server")]
    log_requests: Option<crate::LogFormat>,
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
    /// receivers. Real Attio accepts only `https://`, the fake's default;
    /// to keep that policy, serve https and use
    /// `FakeAttioBuilder::trust_delivery_root` instead.
    pub fn allow_loopback_http_targets(mut self) -> Self {
        self.targets = TargetUrlPolicy::AllowLoopbackHttp;
        self
    }

    /// Also accepts `http://` target URLs on loopback hosts and on `hosts`
    /// (host names or IP addresses, such as a compose service `receiver`),
    /// and delivers to them. For test networks: deliveries travel
    /// unencrypted. See [`TargetUrlPolicy::allow_http_to`].
    pub fn allow_http_targets_to<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.targets = TargetUrlPolicy::allow_http_to(hosts);
        self
    }

    /// Trusts `root` when delivering to `https://` targets, and delivers to
    /// them over TLS. Repeatable: each call adds a root.
    ///
    /// The fake trusts no other root, never the system's: a receiver must
    /// present a certificate that `root` signed, for the host of its URL.
    /// It still connects only to loopback hosts and to the hosts named by
    /// [`FakeAttioBuilder::allow_http_targets_to`], over https as over
    /// http. Without any root, every `https://` target gets a
    /// [`crate::delivery::DeliveryOutcome::Skipped`] entry naming this option.
    /// [`crate::tls::LoopbackCertificate`] mints a root and a certificate
    /// for a loopback receiver; for PEM text, see
    /// [`FakeAttioBuilder::trust_delivery_roots_pem`].
    ///
    /// ```
    /// use attio_webhooks_testkit::{tls::LoopbackCertificate, FakeAttio};
    /// let cert = LoopbackCertificate::mint();
    /// // The default target URL policy: https only, as Attio's.
    /// let fake = FakeAttio::builder().trust_delivery_root(cert.root()).build();
    /// # let _ = fake;
    /// ```
    ///
    /// # Panics
    ///
    /// If `root` is not a DER X.509 certificate that rustls accepts as a
    /// root: a mistake in the test itself.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn trust_delivery_root(mut self, root: crate::tls::CertificateDer<'_>) -> Self {
        if let Err(e) = self.delivery_roots.add(root) {
            panic!("trust_delivery_root: not a certificate that can be a root: {e}");
        }
        self
    }

    /// Like [`FakeAttioBuilder::trust_delivery_root`], for every
    /// certificate in PEM text (other sections, such as keys, are skipped).
    ///
    /// ```
    /// use attio_webhooks_testkit::{tls::LoopbackCertificate, FakeAttio};
    /// let cert = LoopbackCertificate::mint();
    /// let fake = FakeAttio::builder().trust_delivery_roots_pem(cert.root_pem()).build();
    /// # let _ = fake;
    /// ```
    ///
    /// # Panics
    ///
    /// If `pem` holds no certificate, or one that cannot be a root (see
    /// [`crate::tls::roots_from_pem`], which says why without panicking).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn trust_delivery_roots_pem(self, pem: impl AsRef<[u8]>) -> Self {
        match crate::tls::roots_from_pem(pem.as_ref()) {
            Ok(roots) => roots
                .into_iter()
                .fold(self, |builder, root| builder.trust_delivery_root(root)),
            Err(e) => panic!("trust_delivery_roots_pem: {e}"),
        }
    }

    /// Refuses requests over these per-second budgets with 429.
    pub fn rate_limits(mut self, reads_per_second: u32, writes_per_second: u32) -> Self {
        self.rate_limits = Some((reads_per_second, writes_per_second));
        self
    }

    /// Attio's own limits: 100 reads and 25 writes per second.
    pub fn attio_rate_limits(self) -> Self {
        self.rate_limits(
            crate::limits::READS_PER_SECOND,
            crate::limits::WRITES_PER_SECOND,
        )
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

    /// How messages are shaped: one event per message, sent once, by
    /// default; [`DeliveryProfile::attio_like`] batches, follows up,
    /// duplicates, reorders and overlaps them as Attio does, reproducibly
    /// from its seed.
    pub fn delivery_profile(mut self, profile: DeliveryProfile) -> Self {
        self.delivery_profile = profile;
        self
    }

    /// Every limit at once (see [`Limits`] for the defaults).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How many received requests to keep (oldest dropped first); 0 keeps none.
    pub fn max_recorded_requests(mut self, limit: usize) -> Self {
        self.limits.recorded_requests = limit;
        self
    }

    /// Makes every control route (`/__fake/...`) need
    /// `Authorization: Bearer <token>`; others get 401. The Rust API of
    /// the fake is not affected.
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.control = ControlAccess::Token(token.into());
        self
    }

    /// Removes the control routes: `/__fake/...` answers 404 like any
    /// unknown path. The Rust API of the fake is not affected.
    pub fn without_control_routes(mut self) -> Self {
        self.control = ControlAccess::Off;
        self
    }

    #[cfg(feature = "server")]
    #[cfg_attr(docsrs, doc(cfg(feature = "server")))]
    /// Writes one JSON line per request served over HTTP to stderr
    /// (`kind` `request`, method, path with no query, status,
    /// microseconds and the `execution_id` answered) and one per delivery
    /// attempt (`kind` `delivery`, webhook id, attempt, origin, target
    /// without query, outcome, status, `execution_id`); never a header, a
    /// body or a signature, so never a token or a secret.
    pub fn log_requests(self) -> Self {
        self.log_requests_as(crate::LogFormat::Json)
    }

    #[cfg(feature = "server")]
    #[cfg_attr(docsrs, doc(cfg(feature = "server")))]
    /// [`FakeAttioBuilder::log_requests`], each line as JSON or as text.
    pub fn log_requests_as(mut self, format: crate::LogFormat) -> Self {
        self.log_requests = Some(format);
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
        let config = Config {
            workspace_id: self
                .workspace_id
                .unwrap_or_else(|| WorkspaceId::from_uuid(uuid::Uuid::new_v4())),
            targets: self.targets,
            limits: self.limits,
            control: self.control,
            tokens,
            first_token,
            rate_limits: self.rate_limits,
            delivery_policy: self.delivery_policy,
            delivery_profile: self.delivery_profile,
            delivery_roots: self.delivery_roots,
        };
        let registry = Registry::new(
            config.clone(),
            #[cfg(feature = "server")]
            self.log_requests,
        );
        let state = Arc::new(FakeState::new(config, self.clock.unwrap_or_default()));
        #[cfg(feature = "server")]
        if let Some(format) = self.log_requests {
            state.deliveries.log_attempts(format);
        }
        FakeAttio {
            dispatcher: Arc::new(Dispatcher::new(
                Arc::clone(&state),
                Some(Arc::new(registry)),
            )),
            state,
            #[cfg(feature = "server")]
            log_requests: self.log_requests,
        }
    }
}

impl Default for FakeAttio {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeAttio {
    /// A fake with the defaults: [`DEFAULT_TOKEN`], a random workspace id,
    /// https-only targets, no rate limits, the system clock, open control
    /// routes, the default [`Limits`].
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring a fake.
    pub fn builder() -> FakeAttioBuilder {
        FakeAttioBuilder::default()
    }

    /// The workspace id of every webhook.
    pub fn workspace_id(&self) -> WorkspaceId {
        self.state.config.workspace_id
    }

    /// The fake's clock.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// Which target URLs the fake accepts (and delivers to).
    pub fn target_url_policy(&self) -> &TargetUrlPolicy {
        &self.state.config.targets
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.state.config.limits
    }

    /// The first configured token ([`DEFAULT_TOKEN`] unless others were set).
    pub fn token(&self) -> &str {
        &self.state.config.first_token
    }

    /// A [`attio_webhooks::Transport`] that hands requests straight to this
    /// fake: no sockets, no serialization beyond the HTTP bodies.
    pub fn transport(&self) -> InProcessTransport {
        InProcessTransport::new(Arc::clone(&self.dispatcher))
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
            .base_url(InProcessTransport::BASE_URL)
            .target_url_policy(self.target_url_policy().clone())
            .retry_policy(test_retry_policy())
            .build(self.transport())
            .expect("the fake's own client settings are valid")
    }

    /// Every webhook, in creation order.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.state.webhooks(self.clock().now())
    }

    /// Every webhook with its secret, in creation order.
    pub fn webhooks_with_secrets(&self) -> Vec<CreatedWebhook> {
        self.state.webhooks_with_secrets(self.clock().now())
    }

    /// Puts webhooks into the fake directly (see [`Seed`]). Each seed
    /// passes the checks a create would; the batch is stored whole, or
    /// not at all with the 400 or 409 a create would get.
    pub fn seed(
        &self,
        seeds: impl IntoIterator<Item = Seed>,
    ) -> Result<Vec<CreatedWebhook>, ApiErrorBody> {
        let seeds = seeds.into_iter().map(SeedInput::from).collect();
        self.state.seed(seeds, self.clock().now())
    }

    /// Makes the next requests that match `rule` fail (see [`FaultRule`]).
    ///
    /// # Panics
    ///
    /// If [`Limits::fault_rules`] rules are already pending.
    pub fn inject(&self, rule: FaultRule) {
        if let Err(refused) = self.state.inject(rule) {
            panic!("{}", refused.message);
        }
    }

    /// The fault rules not used up yet.
    pub fn pending_faults(&self) -> Vec<FaultRule> {
        self.state.pending_faults()
    }

    /// Drops every pending fault rule.
    pub fn clear_faults(&self) {
        self.state.clear_faults();
    }

    /// The API requests received (not the control routes), oldest first,
    /// within the recording limits of [`Limits`]; it says how many older
    /// ones were dropped. Unlike `GET /__fake/requests`, it shows the
    /// `Authorization` header as sent.
    pub fn requests(&self) -> LogSnapshot<RecordedRequest> {
        self.state.requests()
    }

    /// Forgets the received requests.
    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Back to empty: no webhooks, faults, recorded requests, pending
    /// deliveries or delivery log. Tokens, settings and the clock stay.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// The delivery schedule in use.
    pub fn delivery_policy(&self) -> &DeliveryPolicy {
        self.state.deliveries.policy()
    }

    /// The delivery profile in use.
    pub fn delivery_profile(&self) -> &DeliveryProfile {
        self.state.deliveries.profile()
    }

    /// Delivers `event` the way Attio would: to every `active` or
    /// `degraded` webhook with a subscription of the event's type whose
    /// filter passes ([`attio_webhooks::Subscription::accepts`]), once per
    /// webhook, as `{"webhook_id", "events": [event]}` signed with the
    /// webhook's secret. Returns the queued messages; the POSTs happen on a
    /// background task (see [`FakeAttio::settle_deliveries`]). Under a
    /// [`DeliveryProfile`] with a batch window, the event may join a
    /// message about the same record that is still waiting (it then gets
    /// that message's key), and may be followed up, duplicated or held
    /// back; by default each emit is its own message, sent at once.
    ///
    /// At each attempt the target must pass the fake's target URL policy,
    /// have a host the fake connects to (loopback, or one named by
    /// [`FakeAttioBuilder::allow_http_targets_to`]: the fake never connects
    /// beyond the hosts a test named), be `http://` or an `https://` target
    /// whose certificate comes from a root the test trusted (with
    /// `FakeAttioBuilder::trust_delivery_root`; without any, https targets
    /// are refused), and not be a port the fake itself listens on; any
    /// other target gets a [`crate::delivery::DeliveryOutcome::Skipped`] log entry
    /// with the signed body, so tests still see what would have been sent.
    /// A TLS failure (an untrusted certificate, a wrong name) is a
    /// [`crate::delivery::DeliveryOutcome::Failed`] attempt, retried like a refused
    /// connection (the fake's choice: Attio documents retries for answers
    /// other than 200 or 202, not what a failed handshake does).
    ///
    /// Must be called inside a tokio runtime for the deliveries to start
    /// at once; otherwise they start at the next `settle_deliveries`.
    pub fn emit(&self, event: Event) -> Vec<QueuedDelivery> {
        self.emit_explained(event)
            .map(|emitted| emitted.deliveries)
            .unwrap_or_default()
    }

    /// [`FakeAttio::emit`], and why each webhook that does not get the
    /// event misses it ([`NearMiss`](crate::delivery::NearMiss): no subscription of its type, a
    /// filter condition that fails with the value found, an inactive
    /// webhook, a target the fake will not send to).
    ///
    /// Refused with [`UnknownEventType`] when the event's type is none of
    /// [`attio_webhooks::EventType::KNOWN`] and no webhook subscribes to
    /// exactly that type (a misspelling, most likely; the fake's choice).
    /// [`FakeAttio::emit`] ignores that refusal: nothing is queued either way.
    ///
    /// ```
    /// use attio_webhooks::{receive::{Actor, Event}, EventType};
    /// use attio_webhooks_testkit::FakeAttio;
    ///
    /// let fake = FakeAttio::new();
    /// let typo = Event::new(EventType::from("recrod.created"), fake.workspace_id(), Actor::system());
    /// let refused = fake.emit_explained(typo).unwrap_err();
    /// assert!(refused.to_string().contains("record.created"));
    /// ```
    pub fn emit_explained(&self, event: Event) -> Result<Emitted, UnknownEventType> {
        self.state.emit(&event, self.clock().now())
    }

    /// Delivers several events at once, as Attio batches them: each
    /// webhook gets ONE message, `{"webhook_id", "events": [...]}`, holding
    /// every event of `events` it accepts, in their order (one
    /// `Idempotency-Key` for all of them); a webhook that accepts none gets
    /// nothing. Otherwise as [`FakeAttio::emit`] (the profile may still
    /// follow up, duplicate or hold back the message, but adds no events to it).
    ///
    /// ```
    /// use attio_webhooks::{receive::{Actor, Delivery, Event}, EventType, Subscription};
    /// use attio_webhooks_testkit::{FakeAttio, Seed};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = FakeAttio::new();
    /// let hook = fake.seed([Seed::new("https://example.com/hook", vec![Subscription::new(EventType::RecordUpdated)])]).unwrap();
    /// let update = |attribute: &str| {
    ///     Event::new(EventType::RecordUpdated, fake.workspace_id(), Actor::system())
    ///         .with_id("object_id", "deals").with_id("record_id", "r1").with_id("attribute_id", attribute)
    /// };
    /// let queued = fake.emit_batch(vec![update("a1"), update("a2")]);
    /// assert_eq!(queued.len(), 1, "one message for the webhook");
    /// fake.settle_deliveries().await;
    /// // https://example.com is never contacted, but the log keeps the signed body.
    /// let sent = Delivery::parse(&fake.delivery_log()[0].body).unwrap();
    /// assert_eq!(sent.webhook_id, hook[0].webhook.webhook_id());
    /// assert_eq!(sent.events, [update("a1"), update("a2")]);
    /// # }
    /// ```
    pub fn emit_batch(&self, events: impl IntoIterator<Item = Event>) -> Vec<QueuedDelivery> {
        let events: Vec<Event> = events.into_iter().collect();
        self.state
            .emit_batch(&events, self.clock().now())
            .map(|emitted| emitted.deliveries)
            .unwrap_or_default()
    }

    /// Sends the message with `Idempotency-Key` `key` again, as Attio's
    /// redeliveries do: the same body bytes, the same signature and the
    /// same `Idempotency-Key`, to the target it went to, queued now as a
    /// new message (attempts counted from 1, retried like any message,
    /// logged with [`crate::delivery::DeliveryOrigin::Redelivery`]). Only what the
    /// bounded delivery log still holds can be redelivered (see
    /// [`Limits::delivery_log_entries`]); a message not attempted yet is
    /// not in it.
    ///
    /// ```
    /// use attio_webhooks_testkit::{FakeAttio, delivery::RedeliveryError};
    /// let fake = FakeAttio::new();
    /// assert!(matches!(fake.redeliver("no-such-key"), Err(RedeliveryError::UnknownKey { .. })));
    /// ```
    pub fn redeliver(&self, key: &str) -> Result<QueuedDelivery, RedeliveryError> {
        self.state.redeliver(key, self.clock().now())
    }

    /// Every delivery attempt so far, in the order they finished, within
    /// the delivery-log limits of [`Limits`].
    pub fn delivery_log(&self) -> LogSnapshot<DeliveryAttempt> {
        self.state.delivery_log()
    }

    /// Waits until every attempt that is due by the fake's clock has been
    /// made: nothing in flight, nothing overdue. With a manual clock,
    /// `clock.advance(...)` then `settle_deliveries().await` runs every
    /// retry the jump made due.
    pub async fn settle_deliveries(&self) {
        self.state.deliveries.settle().await;
    }

    pub(crate) fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// A fake over one created workspace's state: its own dispatcher,
    /// which holds no workspaces of its own.
    pub(crate) fn over_workspace(&self, state: Arc<FakeState>) -> FakeAttio {
        FakeAttio {
            dispatcher: Arc::new(Dispatcher::new(Arc::clone(&state), None)),
            state,
            #[cfg(feature = "server")]
            log_requests: self.log_requests,
        }
    }

    #[cfg(feature = "server")]
    pub(crate) fn log_requests(&self) -> Option<crate::LogFormat> {
        self.log_requests
    }
}

/// The retry policy of the fake's ready-made clients: the default policy
/// with 1 ms to 20 ms backoff.
pub fn test_retry_policy() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(20))
}

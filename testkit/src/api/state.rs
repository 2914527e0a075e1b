//! What the dispatcher works on: the fake's configuration, the workspace,
//! deliveries, fault rules, the recording and the rate limiter, each behind
//! its own [`Locked`]. The operations here are shared by the control
//! routes and the Rust API of [`crate::FakeAttio`], so both do the same.

use std::sync::Arc;
use std::time::SystemTime;

use attio_webhooks::{
    error::ApiErrorBody, model::TargetUrlPolicy, model::Timestamp, receive::Event, CreatedWebhook,
    Webhook, WebhookId, WebhookStatus, WorkspaceId,
};
use http::Method;

use super::auth::{ControlAccess, Tokens};
use super::errors;
use super::faults::{Fault, FaultRule, Faults};
use super::parse::SeedInput;
use super::rate_limit::RateLimiter;
use super::recording::{RecordedRequest, Recording};
use crate::bounded::LogSnapshot;
use crate::clock::Clock;
use crate::delivery::{
    Deliveries, DeliveryAttempt, DeliveryLimits, DeliveryPolicy, DeliveryProfile, DeliveryRoots,
    Emitted, QueuedDelivery, RedeliveryError, Targets, UnknownEventType,
};
use crate::limits::Limits;
use crate::locked::Locked;
use crate::workspace::{check_new, random_secret, Prepared, Seed, Workspace, WorkspaceLimits};

/// How a fake was configured; fixed once built.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) workspace_id: WorkspaceId,
    pub(crate) targets: TargetUrlPolicy,
    pub(crate) limits: Limits,
    pub(crate) control: ControlAccess,
    pub(crate) tokens: Tokens,
    /// The first token configured: what the ready-made clients use.
    pub(crate) first_token: String,
    /// Per-second budgets of reads and writes, if rate limited.
    pub(crate) rate_limits: Option<(u32, u32)>,
    pub(crate) delivery_policy: DeliveryPolicy,
    pub(crate) delivery_profile: DeliveryProfile,
    /// The roots trusted for `https://` deliveries.
    pub(crate) delivery_roots: DeliveryRoots,
}

/// The state of one fake.
#[derive(Debug)]
pub(crate) struct FakeState {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) workspace: Arc<Locked<Workspace>>,
    pub(crate) deliveries: Arc<Deliveries>,
    faults: Locked<Faults>,
    recording: Locked<Recording>,
    limiter: Option<Locked<RateLimiter>>,
}

impl FakeState {
    pub(crate) fn new(config: Config, clock: Clock) -> Self {
        let limits = &config.limits;
        let workspace = Arc::new(Locked::new(
            "workspace",
            Workspace::new(WorkspaceLimits {
                webhooks: limits.webhooks,
                stored_bytes: limits.stored_bytes,
                inactive_after: config.delivery_policy.inactive_after,
            }),
        ));
        let deliveries = Arc::new(Deliveries::new(
            Arc::clone(&workspace),
            clock.clone(),
            config.delivery_policy.clone(),
            config.delivery_profile.clone(),
            Targets {
                policy: config.targets.clone(),
                roots: config.delivery_roots.clone(),
            },
            DeliveryLimits {
                queued: limits.queued_deliveries,
                log_entries: limits.delivery_log_entries,
                log_bytes: limits.delivery_log_bytes,
            },
        ));
        Self {
            faults: Locked::new("faults", Faults::new(limits.fault_rules)),
            recording: Locked::new(
                "recording",
                Recording::new(limits.recorded_requests, limits.recorded_bytes),
            ),
            limiter: config
                .rate_limits
                .map(|(r, w)| Locked::new("rate limiter", RateLimiter::new(r, w))),
            config,
            clock,
            workspace,
            deliveries,
        }
    }

    /// Back to empty: no webhooks, faults, recorded requests, pending
    /// deliveries or delivery log.
    pub(crate) fn reset(&self) {
        self.workspace.with(Workspace::clear);
        self.faults.with(Faults::clear);
        self.recording.with(Recording::clear);
        self.deliveries.clear();
    }

    /// Stores `seeds` after the same checks as a create; all or none.
    pub(crate) fn seed(
        &self,
        seeds: Vec<SeedInput>,
        now: Timestamp,
    ) -> Result<Vec<CreatedWebhook>, ApiErrorBody> {
        let mut batch = Vec::with_capacity(seeds.len());
        for (i, seed) in seeds.into_iter().enumerate() {
            let prefix = format!("data[{i}]");
            if let Some(status) = seed.status.as_ref().filter(|s| !s.is_known()) {
                return Err(errors::validation(format!(
                    "Body payload validation error at {prefix}.status: unknown status {:?}, expected \"active\", \"degraded\" or \"inactive\"",
                    status.as_str()
                )));
            }
            let checked = check_new(seed.target_url, seed.subscriptions, &self.config.targets)
                .map_err(|e| errors::from_workspace(e, &prefix))?;
            batch.push(Prepared::new(
                self.config.workspace_id,
                seed.webhook_id.unwrap_or_else(fresh_id),
                checked,
                seed.status.unwrap_or(WebhookStatus::Active),
                seed.created_at.unwrap_or(now),
                seed.secret.unwrap_or_else(random_secret),
                now,
            ));
        }
        let created = batch.iter().map(|p| p.webhook.created()).collect();
        self.workspace
            .with(|ws| ws.insert(now, batch))
            .map_err(|e| errors::from_workspace(e, "data"))?;
        Ok(created)
    }

    pub(crate) fn webhooks(&self, now: Timestamp) -> Vec<Webhook> {
        self.workspace.with(|ws| ws.webhooks(now))
    }

    pub(crate) fn webhooks_with_secrets(&self, now: Timestamp) -> Vec<CreatedWebhook> {
        self.workspace.with(|ws| ws.with_secrets(now))
    }

    /// Adds a fault rule; 400 when [`Limits::fault_rules`] are pending or
    /// a delay is over [`crate::limits::MAX_FAULT_DELAY`].
    pub(crate) fn inject(&self, rule: FaultRule) -> Result<(), ApiErrorBody> {
        self.faults
            .with(|f| f.add(rule))
            .map_err(|refused| errors::validation(refused.to_string()))
    }

    pub(crate) fn pending_faults(&self) -> Vec<FaultRule> {
        self.faults.with(|f| f.pending())
    }

    pub(crate) fn clear_faults(&self) {
        self.faults.with(Faults::clear);
    }

    pub(crate) fn take_fault(&self, method: &Method, path: &str) -> Option<Fault> {
        self.faults.with(|f| f.take(method, path))
    }

    pub(crate) fn record(
        &self,
        request: &http::Request<bytes::Bytes>,
        now: Timestamp,
        execution_id: &http::HeaderValue,
    ) {
        self.recording
            .with(|r| r.record(request, now, execution_id));
    }

    pub(crate) fn requests(&self) -> LogSnapshot<RecordedRequest> {
        self.recording.with(|r| r.snapshot())
    }

    pub(crate) fn clear_requests(&self) {
        self.recording.with(Recording::clear);
    }

    /// Counts a request against the rate limits; `false` when over.
    pub(crate) fn admit(&self, write: bool, wall: SystemTime) -> bool {
        self.limiter
            .as_ref()
            .is_none_or(|l| l.with(|l| l.admit(write, wall)))
    }

    /// Emits `event`: the deliveries queued and the near misses; refused
    /// when its type is unknown and no webhook subscribes to it.
    pub(crate) fn emit(&self, event: &Event, now: Timestamp) -> Result<Emitted, UnknownEventType> {
        self.emit_events(std::slice::from_ref(event), true, now)
    }

    /// One message per webhook with every event of `events` it accepts;
    /// refused, with nothing sent, when one of them has a type that is
    /// unknown and that no webhook subscribes to.
    pub(crate) fn emit_batch(
        &self,
        events: &[Event],
        now: Timestamp,
    ) -> Result<Emitted, UnknownEventType> {
        self.emit_events(events, false, now)
    }

    fn emit_events(
        &self,
        events: &[Event],
        joinable: bool,
        now: Timestamp,
    ) -> Result<Emitted, UnknownEventType> {
        self.deliveries.check_types(events, now)?;
        Ok(self.deliveries.emit(events, joinable, now))
    }

    /// Sends the logged message with Idempotency-Key `key` again.
    pub(crate) fn redeliver(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<QueuedDelivery, RedeliveryError> {
        self.deliveries.redeliver(key, now)
    }

    pub(crate) fn delivery_log(&self) -> LogSnapshot<DeliveryAttempt> {
        self.deliveries.log()
    }
}

impl From<Seed> for SeedInput {
    fn from(seed: Seed) -> Self {
        SeedInput {
            target_url: seed.target_url,
            subscriptions: seed.subscriptions,
            status: seed.status,
            webhook_id: seed.webhook_id,
            created_at: seed.created_at,
            secret: seed.secret,
        }
    }
}

/// A random v4 id, as Attio gives.
pub(crate) fn fresh_id() -> WebhookId {
    WebhookId::from_uuid(uuid::Uuid::new_v4())
}

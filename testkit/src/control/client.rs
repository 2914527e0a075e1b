//! [`ControlClient`]: the fake's `/__fake` routes as typed calls, for a
//! fake in another process or container (the `fake-attio` binary, the
//! image).

use std::time::Duration;

use attio_webhooks::error::{ApiErrorBody, BoxError};
use attio_webhooks::model::Timestamp;
use attio_webhooks::receive::Event;
use attio_webhooks::transport::HyperTransport;
use attio_webhooks::{CreatedWebhook, Transport};
use bytes::Bytes;
use http::{header, Method};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::{
    FaultRule, RecordedRequest, WorkspaceGrant, WorkspaceOptions, WorkspaceSummary, CONTROL_PREFIX,
};
use crate::bounded::LogSnapshot;
use crate::delivery::{DeliveryAttempt, Emitted, QueuedDelivery};
use crate::workspace::Seed;

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No answer: the fake is not running there, or the connection failed.
    #[error("the fake did not answer: {0}")]
    Transport(BoxError),
    /// The fake refused the call (a wrong control token, a bad seed, a
    /// fault rule it does not know), with its Attio-shaped error body.
    #[error("the fake refused the call: {0}")]
    Refused(ApiErrorBody),
    /// [`ControlClient::redeliver`]: the fake's delivery log holds no
    /// message with this `Idempotency-Key` (never sent, dropped from the
    /// bounded log, or cleared by a reset); 404 `unknown_idempotency_key`.
    #[error("the fake has no delivery with Idempotency-Key {0:?} in its log")]
    UnknownIdempotencyKey(String),
    /// [`ControlClient::create_workspace`]: the fake is at one of its
    /// workspace limits (503 `workspace_limit`); the body says which.
    #[error("the fake has no room for another workspace: {}", .0.message)]
    WorkspaceLimit(ApiErrorBody),
    /// An answer that is not what the route sends (not a fake, or another
    /// version of it).
    #[error("the fake's answer does not decode: {0}")]
    Decode(String),
}

/// The fake's clock, as `GET /__fake/clock` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClockState {
    /// The fake's now.
    pub now: Timestamp,
    /// Whether it is a manual clock (only those can be moved).
    pub manual: bool,
}

#[derive(Serialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Answer<T> {
    data: T,
}

#[derive(Serialize)]
struct Advance {
    seconds: f64,
}

#[derive(Serialize)]
struct SettleBody {
    timeout_seconds: f64,
}

/// A typed client for a running fake's control routes.
///
/// Each method is one route of `testkit/spec/fake-control.openapi.json`
/// (the description for other languages). The control token, when the
/// fake has one, goes in `Authorization: Bearer`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use attio_webhooks::{EventType, Subscription};
/// use attio_webhooks_testkit::{ControlClient, FakeAttio, Seed};
///
/// let server = FakeAttio::builder().control_token("ctl").build().serve_on(([127, 0, 0, 1], 0).into()).await?;
/// let control = ControlClient::new(server.base_url(), Some("ctl"))?;
/// let seeded = control
///     .seed(vec![Seed::new("https://example.com/hook", vec![Subscription::new(EventType::NoteCreated)])])
///     .await?;
/// assert_eq!(control.webhooks().await?, seeded);
/// control.reset().await?;
/// assert!(control.webhooks().await?.is_empty());
///
/// let wrong = ControlClient::new(server.base_url(), Some("guess"))?;
/// assert!(wrong.reset().await.is_err());
/// assert!(!format!("{control:?}").contains("ctl"), "Debug never shows the token");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ControlClient<T = HyperTransport> {
    transport: T,
    base_url: String,
    token: Option<String>,
}

/// The base URL, and whether a control token is set (never the token).
impl<T> std::fmt::Debug for ControlClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl ControlClient<HyperTransport> {
    /// A client for the fake at `base_url` (e.g. `http://127.0.0.1:8080`)
    /// over a new [`HyperTransport`].
    pub fn new(base_url: &str, control_token: Option<&str>) -> Result<Self, ControlError> {
        let transport = HyperTransport::new().map_err(|e| ControlError::Transport(Box::new(e)))?;
        Ok(Self::with_transport(transport, base_url, control_token))
    }
}

impl<T: Transport> ControlClient<T> {
    /// A client over `transport`.
    pub fn with_transport(transport: T, base_url: &str, control_token: Option<&str>) -> Self {
        Self {
            transport,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: control_token.map(str::to_owned),
        }
    }

    /// `POST /__fake/reset`: forget webhooks, faults, requests and deliveries.
    pub async fn reset(&self) -> Result<(), ControlError> {
        self.call_empty(Method::POST, "/reset", None).await
    }

    /// `GET /__fake/webhooks`: every webhook with its secret.
    pub async fn webhooks(&self) -> Result<Vec<CreatedWebhook>, ControlError> {
        self.call_data(Method::GET, "/webhooks", None).await
    }

    /// `POST /__fake/webhooks`: seeds webhooks, all or none.
    pub async fn seed(&self, seeds: Vec<Seed>) -> Result<Vec<CreatedWebhook>, ControlError> {
        let body = encode(&Data { data: seeds })?;
        self.call_data(Method::POST, "/webhooks", Some(body)).await
    }

    /// `GET /__fake/requests`: the API requests received, credentials redacted.
    pub async fn requests(&self) -> Result<LogSnapshot<RecordedRequest>, ControlError> {
        self.call(Method::GET, "/requests", None).await
    }

    /// `DELETE /__fake/requests`: forgets them.
    pub async fn clear_requests(&self) -> Result<(), ControlError> {
        self.call_empty(Method::DELETE, "/requests", None).await
    }

    /// `GET /__fake/faults`: the fault rules still pending.
    pub async fn faults(&self) -> Result<Vec<FaultRule>, ControlError> {
        self.call_data(Method::GET, "/faults", None).await
    }

    /// `POST /__fake/faults`: adds a fault rule.
    pub async fn inject(&self, rule: FaultRule) -> Result<(), ControlError> {
        let body = encode(&Data { data: rule })?;
        self.call_empty(Method::POST, "/faults", Some(body)).await
    }

    /// `DELETE /__fake/faults`: drops every fault rule.
    pub async fn clear_faults(&self) -> Result<(), ControlError> {
        self.call_empty(Method::DELETE, "/faults", None).await
    }

    /// `POST /__fake/events`: emits an event; the deliveries it queued.
    pub async fn emit(&self, event: &Event) -> Result<Vec<QueuedDelivery>, ControlError> {
        Ok(self.emit_explained(event).await?.deliveries)
    }

    /// `POST /__fake/events`: emits an event; the deliveries it queued and
    /// why each other webhook did not get it (see
    /// [`crate::FakeAttio::emit_explained`]). An unknown event type no
    /// webhook subscribes to is [`ControlError::Refused`] (400), its
    /// message naming the known types.
    pub async fn emit_explained(&self, event: &Event) -> Result<Emitted, ControlError> {
        let body = encode(&Data { data: event })?;
        self.call(Method::POST, "/events", Some(body)).await
    }

    /// `POST /__fake/events` with `{"data": [Event, ...]}`: emits a batch;
    /// each webhook gets one message with every event it accepts, in order
    /// (see [`crate::FakeAttio::emit_batch`]).
    pub async fn emit_batch(&self, events: &[Event]) -> Result<Vec<QueuedDelivery>, ControlError> {
        let body = encode(&Data { data: events })?;
        self.call_data(Method::POST, "/events", Some(body)).await
    }

    /// `POST /__fake/deliveries/{idempotency_key}/redeliver`: sends a
    /// logged message again, with the same body, signature and key (see
    /// [`crate::FakeAttio::redeliver`]);
    /// [`ControlError::UnknownIdempotencyKey`] when the log does not hold it.
    pub async fn redeliver(&self, idempotency_key: &str) -> Result<QueuedDelivery, ControlError> {
        let route = format!("/deliveries/{}/redeliver", path_segment(idempotency_key));
        match self.call_data(Method::POST, &route, None).await {
            Err(ControlError::Refused(refusal))
                if refusal.status_code == 404
                    && refusal.code.as_str() == crate::api::errors::UNKNOWN_IDEMPOTENCY_KEY =>
            {
                Err(ControlError::UnknownIdempotencyKey(
                    idempotency_key.to_owned(),
                ))
            }
            answer => answer,
        }
    }

    /// `GET /__fake/deliveries`: every delivery attempt so far.
    pub async fn deliveries(&self) -> Result<LogSnapshot<DeliveryAttempt>, ControlError> {
        self.call(Method::GET, "/deliveries", None).await
    }

    /// `POST /__fake/deliveries/settle`: waits until every attempt due by
    /// the fake's clock has been made (the HTTP twin of
    /// [`crate::FakeAttio::settle_deliveries`]), for at most `timeout`
    /// ([`crate::limits::MAX_SETTLE_TIMEOUT`] at most); past it,
    /// [`ControlError::Refused`] with 504 `settle_timeout`.
    pub async fn settle_deliveries(&self, timeout: Duration) -> Result<(), ControlError> {
        let body = encode(&Data {
            data: SettleBody {
                timeout_seconds: timeout.as_secs_f64(),
            },
        })?;
        self.call_empty(Method::POST, "/deliveries/settle", Some(body))
            .await
    }

    /// `POST /__fake/workspaces` (the server's control token): a new
    /// isolated workspace, its id and tokens (see [`crate::workspaces`]);
    /// [`ControlError::WorkspaceLimit`] at a cap.
    pub async fn create_workspace(
        &self,
        options: &WorkspaceOptions,
    ) -> Result<WorkspaceGrant, ControlError> {
        let body = encode(&Data { data: options })?;
        match self
            .call_data(Method::POST, "/workspaces", Some(body))
            .await
        {
            Err(ControlError::Refused(refusal))
                if refusal.status_code == 503 && refusal.code.as_str() == "workspace_limit" =>
            {
                Err(ControlError::WorkspaceLimit(refusal))
            }
            answer => answer,
        }
    }

    /// `GET /__fake/workspaces` (the server's control token): every
    /// created workspace, without its tokens.
    pub async fn workspaces(&self) -> Result<Vec<WorkspaceSummary>, ControlError> {
        self.call_data(Method::GET, "/workspaces", None).await
    }

    /// `DELETE /__fake/workspaces/{workspace_id}` (the server's control
    /// token): deletes it and revokes its tokens.
    pub async fn delete_workspace(
        &self,
        workspace_id: attio_webhooks::WorkspaceId,
    ) -> Result<(), ControlError> {
        self.call_empty(Method::DELETE, &format!("/workspaces/{workspace_id}"), None)
            .await
    }

    /// `GET /__fake/clock`.
    pub async fn clock(&self) -> Result<ClockState, ControlError> {
        self.call_data(Method::GET, "/clock", None).await
    }

    /// `POST /__fake/clock/advance`: moves a manual clock (refused for the
    /// system clock).
    pub async fn advance(&self, by: Duration) -> Result<ClockState, ControlError> {
        let body = encode(&Data {
            data: Advance {
                seconds: by.as_secs_f64(),
            },
        })?;
        self.call_data(Method::POST, "/clock/advance", Some(body))
            .await
    }

    async fn call_data<R: DeserializeOwned>(
        &self,
        method: Method,
        route: &str,
        body: Option<Bytes>,
    ) -> Result<R, ControlError> {
        let answer: Answer<R> = self.call(method, route, body).await?;
        Ok(answer.data)
    }

    async fn call_empty(
        &self,
        method: Method,
        route: &str,
        body: Option<Bytes>,
    ) -> Result<(), ControlError> {
        self.call::<serde::de::IgnoredAny>(method, route, body)
            .await
            .map(drop)
    }

    /// The one send path: builds the request, sends it, reads the answer.
    async fn call<R: DeserializeOwned>(
        &self,
        method: Method,
        route: &str,
        body: Option<Bytes>,
    ) -> Result<R, ControlError> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{CONTROL_PREFIX}{route}", self.base_url));
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(body.unwrap_or_default())
            .map_err(|e| ControlError::Transport(Box::new(e)))?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|e| ControlError::Transport(Box::new(e)))?;
        if !response.status().is_success() {
            return Err(
                match serde_json::from_slice::<ApiErrorBody>(response.body()) {
                    Ok(refusal) => ControlError::Refused(refusal),
                    Err(e) => ControlError::Decode(format!(
                        "status {} with a body that is not an error body: {e}",
                        response.status().as_u16()
                    )),
                },
            );
        }
        serde_json::from_slice(response.body()).map_err(|e| ControlError::Decode(e.to_string()))
    }
}

/// `segment` with every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// written `%XX`, for a path.
fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn encode<T: Serialize>(value: &T) -> Result<Bytes, ControlError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ControlError::Decode(e.to_string()))
}

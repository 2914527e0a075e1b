//! The three backends the contract suite runs against.
//!
//! The stateful fakes produce every answer themselves, so their `expect_*`
//! hooks do nothing. The wiremock backend has no state: each hook mounts
//! the testkit fixture for exactly the answer the suite expects next, with
//! `.expect(1)` so an unsent request fails the test when the server drops.

use attio_webhooks::{Client, HyperTransport, Webhook, WebhookId, WorkspaceId};
use attio_webhooks_testkit::fixtures::{self, Route};
use attio_webhooks_testkit::{
    test_retry_policy, FakeAttio, FakeServer, Fault, FaultRule, InProcessTransport, Scope,
};
use wiremock::MockServer;

pub const TOKEN: &str = "contract-read-write";
pub const READ_ONLY_TOKEN: &str = "contract-read-only";
pub const UNKNOWN_TOKEN: &str = "contract-unknown";

/// What the suite needs from a backend.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + Sized {
    type Transport: attio_webhooks::Transport + 'static;

    async fn start() -> Self;
    fn client_with_token(&self, token: &str) -> Client<Self::Transport>;
    fn workspace_id(&self) -> WorkspaceId;
    /// How many API requests reached the backend so far.
    async fn request_count(&self) -> usize;
    /// The next `times` requests to `route` fail with `status` (429 with `Retry-After`).
    async fn fail_next(&self, route: Route, status: u16, times: u32);

    fn client(&self) -> Client<Self::Transport> {
        self.client_with_token(TOKEN)
    }
    async fn expect_create(&self) {}
    async fn expect_get(&self, _webhook: &Webhook) {}
    async fn expect_update(&self, _updated: &Webhook) {}
    async fn expect_delete(&self, _id: WebhookId) {}
    async fn expect_list(&self, _limit: Option<u32>, _offset: Option<u32>, _page: &[Webhook]) {}
    /// The next request to `route` is answered `status` (wiremock only:
    /// the fakes reach the error through the request itself).
    async fn expect_error(&self, _route: Route, _status: u16) {}
}

pub fn fake() -> FakeAttio {
    FakeAttio::builder()
        .token(TOKEN, [Scope::ReadWrite])
        .token(READ_ONLY_TOKEN, [Scope::Read])
        .build()
}

pub fn fault_rule(route: Route, status: u16, times: u32) -> FaultRule {
    let fault = if status == 429 {
        Fault::RateLimited
    } else {
        Fault::status(status)
    };
    FaultRule::new(fault)
        .method(route.method())
        .path(route.path())
        .times(times)
}

pub struct InProcess(FakeAttio);

#[async_trait::async_trait]
impl Backend for InProcess {
    type Transport = InProcessTransport;

    async fn start() -> Self {
        InProcess(fake())
    }
    fn client_with_token(&self, token: &str) -> Client<InProcessTransport> {
        self.0.client_with_token(token)
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.0.workspace_id()
    }
    async fn request_count(&self) -> usize {
        self.0.requests().len()
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.0.inject(fault_rule(route, status, times));
    }
}

pub struct Loopback(FakeServer);

#[async_trait::async_trait]
impl Backend for Loopback {
    type Transport = HyperTransport;

    async fn start() -> Self {
        Loopback(fake().serve().await.unwrap())
    }
    fn client_with_token(&self, token: &str) -> Client<HyperTransport> {
        self.0.client_with_token(token)
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.0.workspace_id()
    }
    async fn request_count(&self) -> usize {
        self.0.requests().len()
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.0.inject(fault_rule(route, status, times));
    }
}

pub struct Wiremock {
    server: MockServer,
    workspace_id: WorkspaceId,
}

/// Mocks mounted for one expected request outrank the longer-lived ones.
const NEXT_REQUEST: u8 = 1;

#[async_trait::async_trait]
impl Backend for Wiremock {
    type Transport = HyperTransport;

    async fn start() -> Self {
        Wiremock {
            server: MockServer::start().await,
            workspace_id: fixtures::examples::WORKSPACE_ID.parse().unwrap(),
        }
    }
    fn client_with_token(&self, token: &str) -> Client<HyperTransport> {
        Client::builder(token)
            .base_url(self.server.uri())
            .retry_policy(test_retry_policy())
            .build(HyperTransport::new().unwrap())
            .unwrap()
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.workspace_id
    }
    async fn request_count(&self) -> usize {
        self.server.received_requests().await.unwrap().len()
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        fixtures::error(route, status)
            .with_priority(NEXT_REQUEST)
            .up_to_n_times(u64::from(times))
            .expect(1..=u64::from(times))
            .mount(&self.server)
            .await;
    }
    async fn expect_create(&self) {
        let mock = fixtures::create_webhook_echo(self.workspace_id);
        mock.up_to_n_times(1).expect(1).mount(&self.server).await;
    }
    async fn expect_get(&self, webhook: &Webhook) {
        fixtures::get_webhook(webhook)
            .up_to_n_times(1)
            .expect(1)
            .mount(&self.server)
            .await;
    }
    async fn expect_update(&self, updated: &Webhook) {
        fixtures::update_webhook(updated)
            .up_to_n_times(1)
            .expect(1)
            .mount(&self.server)
            .await;
    }
    async fn expect_delete(&self, id: WebhookId) {
        fixtures::delete_webhook(id)
            .up_to_n_times(1)
            .expect(1)
            .mount(&self.server)
            .await;
    }
    async fn expect_list(&self, limit: Option<u32>, offset: Option<u32>, page: &[Webhook]) {
        fixtures::list_webhooks_at(limit, offset, page)
            .up_to_n_times(1)
            .expect(1)
            .mount(&self.server)
            .await;
    }
    async fn expect_error(&self, route: Route, status: u16) {
        self.fail_next(route, status, 1).await;
    }
}

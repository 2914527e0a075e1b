//! One test's worth of work, the way a test does it, for `per_test` (timed)
//! and `per_test_instructions` (counted): the fake on loopback, in-process
//! and on the shared server, and wiremock as a wiremock suite has it.

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::transport::HyperTransport;
use attio_webhooks::Client;
use attio_webhooks_testkit::{test_retry_policy, workspaces, FakeAttio};
use bytes::Bytes;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs `test`, then lets the runtime finish what it left behind (tasks
/// aborted by a drop, connections closing), so that the work is timed on
/// the side that caused it rather than on the next one.
pub async fn settled<T>(test: impl std::future::Future<Output = T>) -> T {
    let out = test.await;
    for _ in 0..SETTLE_YIELDS {
        tokio::task::yield_now().await;
    }
    out
}

/// Enough for every task a test leaves to end (checked at start).
pub const SETTLE_YIELDS: usize = 4;

/// A test against a fake served on loopback: the user's ordinary code.
pub async fn fake_loopback() -> usize {
    settled(async {
        let server = FakeAttio::start().await;
        let listed = server.client().list_webhooks(ListWebhooks::new()).await;
        listed.unwrap().len()
    })
    .await
}

/// A test against the fake in-process.
pub async fn fake_in_process() -> usize {
    settled(async {
        let fake = FakeAttio::new();
        let listed = fake.client().list_webhooks(ListWebhooks::new()).await;
        listed.unwrap().len()
    })
    .await
}

/// A test on the shared server: a fresh workspace, one call through its
/// client (pooled connections on the server's runtime), the workspace
/// dropped (deleted).
pub async fn fake_shared() -> usize {
    settled(async {
        let ws = workspaces::shared().workspace();
        let listed = ws.client().list_webhooks(ListWebhooks::new()).await;
        listed.unwrap().len()
    })
    .await
}

/// A test against wiremock: a (pooled) server, one mock answering the
/// fake's bytes, a client on the suite's shared transport.
pub async fn wiremock(transport: &HyperTransport, answer: &Bytes) -> usize {
    settled(wiremock_test(transport, answer)).await
}

pub async fn wiremock_test(transport: &HyperTransport, answer: &Bytes) -> usize {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/webhooks"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(answer.to_vec(), "application/json"))
        .mount(&server)
        .await;
    let client = Client::builder(super::TOKEN)
        .base_url(server.uri())
        .retry_policy(test_retry_policy())
        .build(transport.clone())
        .unwrap();
    client
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap()
        .len()
}

/// The bytes the fake answers a list of an empty workspace with (what the
/// wiremock side answers too).
pub async fn fake_answer(transport: &HyperTransport) -> Bytes {
    let server = FakeAttio::start().await;
    let request = http::Request::get(format!("{}/v2/webhooks", server.base_url()))
        .header("authorization", format!("Bearer {}", server.token()))
        .body(Bytes::new())
        .unwrap();
    let response = attio_webhooks::Transport::send(transport, request)
        .await
        .unwrap();
    assert!(response.status().is_success());
    let answer = response.into_body();
    assert_eq!(&answer[..], b"{\"data\":[]}");
    answer
}

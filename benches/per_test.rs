//! What one test costs: start a server, make one call through a client,
//! drop both. The fake, over loopback (`FakeAttio::start()` and
//! `server.client()`) and in-process (`FakeAttio::new().client()`), each
//! against wiremock doing the same (`MockServer::start()`, one mounted
//! mock, a client on a transport shared by the tests, as a wiremock suite
//! would have it), measured interleaved (`common::interleaved_async`).
//!
//! The call is a list of an empty workspace; wiremock answers the very
//! bytes the fake answers. Everything runs on one current-thread runtime,
//! as under `#[tokio::test]`: the fake's server shares the test's thread,
//! wiremock's pooled servers keep threads of their own.
//!
//! ```sh
//! cargo bench --bench per_test -- --warm-up-time 1 --measurement-time 3
//! python3 benches/ratios.py --runs 5 --bench per_test
//! ```

mod common;

use std::time::Duration;

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::transport::HyperTransport;
use attio_webhooks::Client;
use attio_webhooks_testkit::{test_retry_policy, FakeAttio};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs `test`, then lets the runtime finish what it left behind (tasks
/// aborted by a drop, connections closing), so that the work is timed on
/// the side that caused it rather than on the next one.
async fn settled<T>(test: impl std::future::Future<Output = T>) -> T {
    let out = test.await;
    for _ in 0..SETTLE_YIELDS {
        tokio::task::yield_now().await;
    }
    out
}

/// Enough for every task a test leaves to end (checked at start).
const SETTLE_YIELDS: usize = 4;

/// A test against a fake served on loopback: the user's ordinary code.
async fn fake_loopback() -> usize {
    settled(async {
        let server = FakeAttio::start().await;
        let listed = server.client().list_webhooks(ListWebhooks::new()).await;
        listed.unwrap().len()
    })
    .await
}

/// A test against the fake in-process.
async fn fake_in_process() -> usize {
    settled(async {
        let fake = FakeAttio::new();
        let listed = fake.client().list_webhooks(ListWebhooks::new()).await;
        listed.unwrap().len()
    })
    .await
}

/// A test against wiremock: a (pooled) server, one mock answering the
/// fake's bytes, a client on the suite's shared transport.
async fn wiremock(transport: &HyperTransport, answer: &Bytes) -> usize {
    settled(wiremock_test(transport, answer)).await
}

async fn wiremock_test(transport: &HyperTransport, answer: &Bytes) -> usize {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/webhooks"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(answer.to_vec(), "application/json"))
        .mount(&server)
        .await;
    let client = Client::builder(common::TOKEN)
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

fn per_test(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let transport = HyperTransport::new().unwrap();
    // The bytes the fake answers a list of an empty workspace with.
    let answer = runtime.block_on(async {
        let server = FakeAttio::start().await;
        let request = http::Request::get(format!("{}/v2/webhooks", server.base_url()))
            .header("authorization", format!("Bearer {}", server.token()))
            .body(Bytes::new())
            .unwrap();
        let response = attio_webhooks::Transport::send(&transport, request)
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.into_body()
    });
    assert_eq!(&answer[..], b"{\"data\":[]}");
    let wiremock = || wiremock(&transport, &answer);
    assert_eq!(runtime.block_on(wiremock()), 0);
    // Each side leaves no task behind once settled.
    let alive = || runtime.metrics().num_alive_tasks();
    let before = alive();
    assert_eq!(runtime.block_on(fake_loopback()), 0);
    assert_eq!(alive(), before, "a loopback test left tasks running");
    assert_eq!(runtime.block_on(fake_in_process()), 0);
    assert_eq!(runtime.block_on(wiremock()), 0);
    assert_eq!(alive(), before, "a test left tasks running");

    let mut group = c.benchmark_group("per_test_loopback");
    group.bench_function("fake_attio", |b| {
        common::interleaved_async(b, &runtime, fake_loopback, wiremock)
    });
    group.bench_function("wiremock", |b| {
        common::interleaved_async(b, &runtime, wiremock, fake_loopback)
    });
    group.finish();

    let mut group = c.benchmark_group("per_test_in_process");
    group.bench_function("fake_attio", |b| {
        common::interleaved_async(b, &runtime, fake_in_process, wiremock)
    });
    group.bench_function("wiremock", |b| {
        common::interleaved_async(b, &runtime, wiremock, fake_in_process)
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = per_test
}
criterion_main!(benches);

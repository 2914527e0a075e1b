//! What one test costs: start a server, make one call through a client,
//! drop both. The fake, over loopback (`FakeAttio::start()` and
//! `server.client()`), in-process (`FakeAttio::new().client()`) and on
//! the process-wide shared server (`workspaces::shared().workspace()`,
//! `ws.client()`, drop: a workspace per test, the server and its pooled
//! connections kept), each against wiremock doing the same (`MockServer::start()`, one mounted
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

use attio_webhooks::transport::HyperTransport;
use common::one_test::{fake_answer, fake_in_process, fake_loopback, fake_shared, wiremock};
use criterion::{criterion_group, criterion_main, Criterion};

fn per_test(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let transport = HyperTransport::new().unwrap();
    let answer = runtime.block_on(fake_answer(&transport));
    let wiremock = || wiremock(&transport, &answer);
    assert_eq!(runtime.block_on(wiremock()), 0);
    // Each side leaves no task behind once settled.
    let alive = || runtime.metrics().num_alive_tasks();
    let before = alive();
    assert_eq!(runtime.block_on(fake_loopback()), 0);
    assert_eq!(alive(), before, "a loopback test left tasks running");
    assert_eq!(runtime.block_on(fake_in_process()), 0);
    assert_eq!(runtime.block_on(fake_shared()), 0);
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

    let mut group = c.benchmark_group("per_test_shared");
    group.bench_function("fake_attio", |b| {
        common::interleaved_async(b, &runtime, fake_shared, wiremock)
    });
    group.bench_function("wiremock", |b| {
        common::interleaved_async(b, &runtime, wiremock, fake_shared)
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

//! Server throughput: the fake over loopback against a wiremock
//! `MockServer` answering the same bytes, with 1, 8 and 64 concurrent
//! keep-alive connections doing GET one webhook and list (10 webhooks).
//!
//! The two servers are set up alike (`common::same_bytes`: each on a
//! thread of its own with a current-thread runtime, neither recording,
//! both with `TCP_NODELAY`) and measured interleaved
//! (`common::interleaved_async`). The load runs on one current-thread
//! runtime and is as lean as a load generator can be
//! (`common::same_bytes::Load`).

mod common;

use std::time::Duration;

use common::same_bytes::{Load, SameBytes};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Requests per iteration, split over the concurrent clients.
const REQUESTS: usize = 256;

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let servers = SameBytes::start(&runtime, "/v2/webhooks");
    assert_eq!(servers.listed(&runtime), 10, "Attio's default page of 10");
    let paths = [servers.get.as_str(), servers.list.as_str()];
    let fake_load = Load::new(&servers.fake, &paths);
    let mock_load = Load::new(&servers.mock.uri(), &paths);

    let mut group = c.benchmark_group("server_get_and_list");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    for concurrency in [1, 8, 64] {
        let fake = || fake_load.run(concurrency, REQUESTS);
        let wiremock = || mock_load.run(concurrency, REQUESTS);
        group.bench_function(BenchmarkId::new("fake_attio", concurrency), |b| {
            common::interleaved_async(b, &runtime, fake, wiremock)
        });
        group.bench_function(BenchmarkId::new("wiremock", concurrency), |b| {
            common::interleaved_async(b, &runtime, wiremock, fake)
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = throughput
}
criterion_main!(benches);

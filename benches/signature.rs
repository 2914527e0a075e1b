//! Signature verification against raw `hmac` + `sha2` over the same bytes,
//! the two measured interleaved (`common::interleaved`).

mod common;

use std::time::Duration;

use attio_webhooks::{receive::signature, Secret};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn verify(c: &mut Criterion) {
    let secret = Secret::new("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    let mut group = c.benchmark_group("verify_signature");
    for size in [1024usize, 64 * 1024] {
        let body: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        let sig = signature::sign(&secret, &body);
        let tag = const_hex::decode(&sig).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(signature::SIGNATURE_HEADER, sig.parse().unwrap());
        group.throughput(Throughput::Bytes(size as u64));
        let ours = || signature::verify(&secret, &body, &headers).unwrap();
        let raw = || {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).unwrap();
            mac.update(&body);
            mac.verify_slice(&tag).unwrap()
        };
        group.bench_function(BenchmarkId::new("attio_webhooks", size), |b| {
            common::interleaved(b, ours, raw)
        });
        group.bench_function(BenchmarkId::new("raw_hmac_sha2", size), |b| {
            common::interleaved(b, raw, ours)
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    targets = verify
}
criterion_main!(benches);

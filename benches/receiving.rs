//! A receiver's work per delivery of 10 events: the signature verified,
//! the body parsed into `Delivery`, the `Idempotency-Key` deduplicated
//! (`Verifier::verify` + `Once::run` over `MemorySeenKeys`), against the
//! same pipeline with raw `hmac` + `sha2` and `serde_json::Value` and no
//! dedupe. Interleaved, same run.

mod common;

use std::hint::black_box;
use std::time::Duration;

use attio_webhooks::receive::{Once, Outcome, Verifier, IDEMPOTENCY_KEY_HEADER};
use attio_webhooks::Secret;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::FutureExt;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";

/// `{"webhook_id", "events": [10 events]}` as Attio would send it: record,
/// list-entry, note and comment events with their ids, actors and extra fields.
fn body() -> Vec<u8> {
    let workspace = "14beef7a-99f7-4534-a87e-70b564330a4c";
    let events: Vec<Value> = (0..10)
        .map(|i| {
            let uuid = |n: u32| format!("{:08x}-7fa3-4cad-87d0-75b1af71c5{:02x}", i * 97 + n, n);
            match i % 4 {
                0 => json!({"event_type": "record.updated",
                    "id": {"workspace_id": workspace, "object_id": uuid(1), "record_id": uuid(2), "attribute_id": uuid(3)},
                    "actor": {"type": "workspace-member", "id": uuid(4)}}),
                1 => json!({"event_type": "list-entry.created",
                    "id": {"workspace_id": workspace, "list_id": uuid(1), "entry_id": uuid(2)},
                    "actor": {"type": "api-token", "id": uuid(4)},
                    "parent_object_id": uuid(5), "parent_record_id": uuid(6)}),
                2 => json!({"event_type": "note.created",
                    "id": {"workspace_id": workspace, "note_id": uuid(1)},
                    "actor": {"type": "system", "id": null},
                    "parent_object_id": uuid(5), "parent_record_id": uuid(6)}),
                _ => json!({"event_type": "comment.created",
                    "id": {"workspace_id": workspace, "comment_id": uuid(1)},
                    "actor": {"type": "workspace-member", "id": uuid(4)},
                    "thread_id": uuid(7), "object_id": uuid(1), "record_id": uuid(2),
                    "list_id": null, "entry_id": null}),
            }
        })
        .collect();
    serde_json::to_vec(
        &json!({"webhook_id": "23e42eaf-323a-41da-b5bb-fd67eebda553", "events": events}),
    )
    .unwrap()
}

fn hex_hmac(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    const_hex::encode(mac.finalize().into_bytes())
}

fn receive(c: &mut Criterion) {
    let body = body();
    eprintln!("a delivery of 10 events: {} bytes", body.len());
    let signature = hex_hmac(&body);
    let mut group = c.benchmark_group("receive_10_events");
    group.throughput(Throughput::Elements(1));

    // Ours: every delivery carries a fresh key, so each one is claimed and
    // recorded in the store (at its default capacity of 100 000 keys, so
    // the steady state also forgets the oldest).
    let ours = || {
        let verifier = Verifier::new(Secret::new(SECRET));
        let once = Once::in_memory();
        let mut headers = http::HeaderMap::new();
        headers.insert("attio-signature", signature.parse().unwrap());
        let mut next_key = 0u64;
        let body = &body;
        move || {
            next_key += 1;
            headers.insert(IDEMPOTENCY_KEY_HEADER, next_key.into());
            let verified = verifier.verify(&headers, body).unwrap();
            let outcome = once
                .run(verified.idempotency_key(), || async {
                    Ok::<_, ()>(black_box(verified.delivery()).events.len())
                })
                .now_or_never()
                .expect("the in-memory store never waits");
            assert!(matches!(outcome, Outcome::Handled(10)));
        }
    };
    // The baseline: raw HMAC check of the same header, parse into a `Value`.
    let baseline = || {
        let mut headers = http::HeaderMap::new();
        headers.insert("attio-signature", signature.parse().unwrap());
        let body = &body;
        move || {
            let tag = const_hex::decode(headers["attio-signature"].as_bytes()).unwrap();
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(body);
            mac.verify_slice(&tag).unwrap();
            let value: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(
                black_box(&value)["events"].as_array().map(Vec::len),
                Some(10)
            );
        }
    };

    group.bench_function("verified_parsed_deduped", |b| {
        common::interleaved(b, ours(), baseline())
    });
    group.bench_function("value_no_dedupe", |b| {
        common::interleaved(b, baseline(), ours())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = receive
}
criterion_main!(benches);

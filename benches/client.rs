//! The client against its baselines, each pair measured in the same run
//! and interleaved (`common::interleaved`): GET over loopback (client vs
//! hand-written hyper decoding into the same typed `Webhook`), decoding a
//! 100-webhook page (typed vs `Value`), encoding a 10-subscription create
//! (typed vs `json!` value), and a create/get/update/delete cycle against
//! the in-process fake (client vs raw requests into the same transport).

mod common;

use std::time::Duration;

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{EventType, Request, RequestExt, Subscription, Transport};
use attio_webhooks_testkit::{FakeAttio, InProcessTransport};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::Value;

fn get_over_loopback(c: &mut Criterion) {
    let pair = common::GetPair::new(attio_webhooks_testkit::limits::DEFAULT_MAX_RECORDED_REQUESTS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let typed = || pair.client();
    let raw_typed = || pair.raw();
    assert_eq!(
        runtime.block_on(typed()),
        runtime.block_on(raw_typed()),
        "both sides get the same webhook"
    );
    let mut group = c.benchmark_group("get_over_loopback");
    group.throughput(Throughput::Elements(1));
    group.bench_function("client_typed", |b| {
        common::interleaved_async(b, &runtime, typed, raw_typed)
    });
    group.bench_function("raw_hyper_typed", |b| {
        common::interleaved_async(b, &runtime, raw_typed, typed)
    });
    group.finish();
}

fn decode_list_page(c: &mut Criterion) {
    let body = common::list_page(100);
    let mut group = c.benchmark_group("decode_list_page_100");
    group.throughput(Throughput::Bytes(body.len() as u64));
    let typed = || ListWebhooks::decode(http::Response::new(body.clone())).unwrap();
    let value = || serde_json::from_slice::<Value>(&body).unwrap();
    group.bench_function("typed", |b| common::interleaved(b, typed, value));
    group.bench_function("serde_json_value", |b| common::interleaved(b, value, typed));
    group.finish();
}

fn encode_create(c: &mut Criterion) {
    let (create, value) = common::create_request(10);
    assert_eq!(
        serde_json::from_slice::<Value>(&create.body().unwrap().unwrap()).unwrap(),
        value
    );
    let mut group = c.benchmark_group("encode_create_10_subscriptions");
    let typed = || create.body().unwrap();
    let json_value = || serde_json::to_vec(&value).unwrap();
    group.bench_function("typed", |b| common::interleaved(b, typed, json_value));
    group.bench_function("json_value", |b| common::interleaved(b, json_value, typed));
    group.finish();
}

fn in_process_cycle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fake = FakeAttio::new();
    let client = fake.client();
    let transport = fake.transport();
    let subscriptions = vec![
        Subscription::new(EventType::RecordCreated),
        Subscription::new(EventType::NoteCreated),
    ];
    let create_body = Bytes::from(
        serde_json::to_vec(&serde_json::json!({"data": {"target_url": "https://a.example/h", "subscriptions": subscriptions}}))
            .unwrap(),
    );
    let update_body = Bytes::from_static(br#"{"data":{"target_url":"https://b.example/h"}}"#);
    let raw = |method: &str, path: &str, body: Bytes| {
        http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", InProcessTransport::BASE_URL))
            .header("authorization", format!("Bearer {}", fake.token()))
            .header("content-type", "application/json")
            .body(body)
            .unwrap()
    };

    let through_client = || common::lifecycle(&client, &subscriptions);
    let raw_requests = || async {
        let created = transport
            .send(raw("POST", "/v2/webhooks", create_body.clone()))
            .await
            .unwrap();
        let created: Value = serde_json::from_slice(created.body()).unwrap();
        let path = format!(
            "/v2/webhooks/{}",
            created["data"]["id"]["webhook_id"].as_str().unwrap()
        );
        transport
            .send(raw("GET", &path, Bytes::new()))
            .await
            .unwrap();
        transport
            .send(raw("PATCH", &path, update_body.clone()))
            .await
            .unwrap();
        transport
            .send(raw("DELETE", &path, Bytes::new()))
            .await
            .unwrap();
    };
    let mut group = c.benchmark_group("in_process_cycle");
    group.throughput(Throughput::Elements(4));
    group.bench_function(
        BenchmarkId::new("client", "create_get_update_delete"),
        |b| common::interleaved_async(b, &runtime, through_client, raw_requests),
    );
    group.bench_function(
        BenchmarkId::new("raw_transport", "create_get_update_delete"),
        |b| common::interleaved_async(b, &runtime, raw_requests, through_client),
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40);
    targets = get_over_loopback, decode_list_page, encode_create, in_process_cycle
}
criterion_main!(benches);

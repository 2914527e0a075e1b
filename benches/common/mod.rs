//! Data and servers shared by the benchmarks.
#![allow(dead_code)]

mod interleave;
pub mod one_test;
pub mod same_bytes;
#[allow(unused_imports)] // each bench uses one or the other
pub use interleave::{interleaved, interleaved_async};

use attio_webhooks::operations::CreateWebhook;
use attio_webhooks::{
    model::Timestamp, model::WebhookIdentifier, Condition, EventType, Filter, Subscription,
    Webhook, WebhookId, WebhookStatus, WorkspaceId,
};
use attio_webhooks_testkit::FakeAttio;
use bytes::Bytes;
use serde_json::{json, Value};

pub const TOKEN: &str = "bench-token";

fn uuid(seed: u128) -> String {
    WebhookId::from_u128(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) ^ 0x4000)
        .to_string()
}

/// Subscriptions as a real integration has them: a few event types, most
/// with `$and`/`$or` filters on object, parent and actor.
pub fn subscriptions(seed: u128, count: usize) -> Vec<Subscription> {
    let kinds = [
        EventType::RecordCreated,
        EventType::RecordUpdated,
        EventType::NoteCreated,
        EventType::ListEntryUpdated,
        EventType::CommentCreated,
        EventType::TaskCreated,
        EventType::RecordMerged,
        EventType::ListEntryCreated,
        EventType::NoteContentUpdated,
        EventType::RecordDeleted,
    ];
    (0..count)
        .map(|i| {
            let event_type = kinds[i % kinds.len()].clone();
            let s = seed * 31 + i as u128;
            match i % 3 {
                0 => Subscription::new(event_type).with_filter(Filter::And(vec![
                    Condition::equals("id.object_id", uuid(s)),
                    Condition::not_equals("actor.type", "system"),
                ])),
                1 => Subscription::new(event_type).with_filter(Filter::Or(vec![
                    Condition::equals("parent_object_id", uuid(s + 1)),
                    Condition::equals("parent_object_id", uuid(s + 2)),
                    Condition::equals("actor.id", uuid(s + 3)),
                ])),
                _ => Subscription::new(event_type),
            }
        })
        .collect()
}

pub fn webhook(i: u128) -> Webhook {
    Webhook::new(
        WebhookIdentifier::new(
            WorkspaceId::from_u128(0x14be_ef7a_99f7_4534_a87e_70b5_6433_0a4c),
            WebhookId::from_u128(i + 1),
        ),
        format!("https://hooks.example.com/attio/{i}"),
        subscriptions(i, 3 + (i % 3) as usize),
        Timestamp::from_unix_nanos(1_682_601_769_061_281_000 + i as i128 * 1_000_000_007).unwrap(),
    )
    .with_status(if i % 10 == 0 {
        WebhookStatus::Degraded
    } else {
        WebhookStatus::Active
    })
}

/// `{"data":[...]}` with `n` webhooks, as Attio's list answers.
pub fn list_page(n: u128) -> Bytes {
    let page: Vec<Webhook> = (0..n).map(webhook).collect();
    Bytes::from(serde_json::to_vec(&json!({ "data": page })).unwrap())
}

/// A create request with `n` subscriptions, and the same body as a `json!` value.
pub fn create_request(n: usize) -> (CreateWebhook, Value) {
    let subs = subscriptions(7, n);
    let value = json!({"data": {"target_url": "https://hooks.example.com/attio/new", "subscriptions": subs}});
    (
        CreateWebhook::new("https://hooks.example.com/attio/new", subs),
        value,
    )
}

/// Serves `fake` on 127.0.0.1 from a thread of its own with a
/// current-thread runtime, the way wiremock serves a `MockServer`, so the
/// two servers are compared on equal terms. Returns the base URL.
pub fn serve_on_own_thread(fake: FakeAttio) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let server = fake.serve().await.unwrap();
            tx.send(server.base_url().to_owned()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

/// One create, get, update and delete through `client`.
pub async fn lifecycle<T: attio_webhooks::Transport>(
    client: &attio_webhooks::Client<T>,
    subscriptions: &[Subscription],
) {
    let created = client
        .create_webhook("https://a.example/h", subscriptions.to_vec())
        .await
        .unwrap();
    let id = created.webhook.webhook_id();
    client.get_webhook(id).await.unwrap();
    client
        .update_webhook(
            attio_webhooks::operations::UpdateWebhook::new(id).target_url("https://b.example/h"),
        )
        .await
        .unwrap();
    client.delete_webhook(id).await.unwrap();
}

/// Row 1's pair: one seeded webhook on the fake served from its own
/// thread, a `Client<HyperTransport>` and a hand-written hyper-util
/// request for it, both decoding the typed `Webhook`.
pub struct GetPair {
    pub id: attio_webhooks::WebhookId,
    client: attio_webhooks::Client<attio_webhooks::transport::HyperTransport>,
    raw: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<Bytes>,
    >,
    uri: http::Uri,
    authorization: String,
}

/// `{"data": ...}`, Attio's envelope, for the hand-written side.
#[derive(serde::Deserialize)]
struct Data<T> {
    data: T,
}

impl GetPair {
    /// Seeds and serves the fake (recording `record` requests: 0 for none).
    pub fn new(record: usize) -> Self {
        use attio_webhooks_testkit::{Scope, Seed};
        let fake = FakeAttio::builder()
            .token(TOKEN, [Scope::ReadWrite])
            .max_recorded_requests(record)
            .build();
        let seeded = fake
            .seed([Seed::new(
                "https://hooks.example.com/attio/1",
                subscriptions(1, 4),
            )])
            .unwrap();
        let id = seeded[0].webhook.webhook_id();
        let base_url = serve_on_own_thread(fake);
        let client = attio_webhooks::Client::builder(TOKEN)
            .base_url(base_url.as_str())
            .build(attio_webhooks::transport::HyperTransport::new().unwrap())
            .unwrap();
        let raw = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
        GetPair {
            id,
            client,
            raw,
            uri: format!("{base_url}/v2/webhooks/{id}").parse().unwrap(),
            authorization: format!("Bearer {TOKEN}"),
        }
    }

    /// The GET through the client.
    pub async fn client(&self) -> Webhook {
        self.client.get_webhook(self.id).await.unwrap()
    }

    /// The same request and the same typed result, without the client: no
    /// input checks, retry loop, timeout or error mapping.
    pub async fn raw(&self) -> Webhook {
        use http_body_util::BodyExt;
        let request = http::Request::get(self.uri.clone())
            .header("authorization", self.authorization.as_str())
            .body(http_body_util::Full::new(Bytes::new()))
            .unwrap();
        let response = self.raw.request(request).await.unwrap();
        assert!(response.status().is_success());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice::<Data<Webhook>>(&body).unwrap().data
    }
}

//! The fake's dispatcher, through its in-process door.

use std::collections::HashSet;

use attio_webhooks::operations::{
    CreateWebhook, DeleteWebhook, GetWebhook, ListWebhooks, UpdateWebhook,
};
use attio_webhooks::{
    error::ApiErrorBody, model::TargetUrlPolicy, model::Timestamp, Condition, Error, EventType,
    Filter, RequestExt, Secret, Subscription, Transport, WebhookId,
};
use attio_webhooks_testkit::{Clock, FakeAttio, InProcessTransport, Limits, Scope, Seed};
use bytes::Bytes;

use super::Message;

/// Between two requests of one input.
pub const SEPARATOR: &[u8] = b"\n%%\n";
/// At most this many requests of an input are sent.
pub const MAX_REQUESTS: usize = 16;
/// The tokens the fake accepts: `rw` may do everything, `ro` only read.
pub const TOKENS: [(&str, Scope); 2] = [("rw", Scope::ReadWrite), ("ro", Scope::Read)];
/// The ids of the two webhooks every fake starts with, so that inputs can
/// name them (`/v2/webhooks/00000000-0000-0000-0000-000000000001`).
pub const SEEDED: [u128; 2] = [1, 2];

/// The input is up to [`MAX_REQUESTS`] requests separated by
/// [`SEPARATOR`], each laid out as a [`Message`] whose first line is
/// `METHOD /path?query`. A request whose method or path HTTP would not
/// carry is skipped (no door could hand it over).
///
/// Every input gets a fresh fake and a fresh single-threaded tokio runtime
/// with paused time, so inputs do not leak state into each other (a crash
/// replays from its own bytes alone), injected `Delay` faults cost no real
/// time, and nothing the fake spawns outlives the input. The fake has a
/// manual clock, open control routes (they are part of the attack surface),
/// two tokens ([`TOKENS`]), two seeded webhooks ([`SEEDED`]) and small
/// limits, so that every limit is within reach of a short input.
///
/// Properties:
/// - the dispatcher never panics and always answers (or drops, when told to);
/// - every answer that no fault spoiled is one the client understands: an
///   Attio error body whose `status_code` is the status, or a 2xx body that
///   the matching operation's `decode` reads;
/// - afterwards the workspace keeps its invariants: unique ids, no two
///   equivalent (target URL, event type, filter) triples, every target
///   allowed, the webhook, recording, delivery-log and fault-rule limits
///   kept; and a list through the door shows what the Rust API shows.
pub fn fake_dispatcher(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds");
    runtime.block_on(run(data));
}

fn fake() -> FakeAttio {
    let mut limits = Limits::default();
    limits.max_body_bytes = 4096;
    limits.recorded_requests = 8;
    limits.recorded_bytes = 4096;
    limits.delivery_log_entries = 8;
    limits.delivery_log_bytes = 4096;
    limits.queued_deliveries = 4;
    limits.webhooks = 16;
    limits.stored_bytes = 16 * 1024;
    limits.fault_rules = 4;
    let mut builder = FakeAttio::builder()
        .clock(Clock::manual(
            Timestamp::parse("2026-01-01T00:00:00Z").expect("a timestamp"),
        ))
        .limits(limits);
    for (token, scope) in TOKENS {
        builder = builder.token(token, [scope]);
    }
    let fake = builder.build();
    let seeds = SEEDED.map(|n| {
        Seed::new(
            format!("https://example.com/seeded/{n}"),
            vec![
                Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
                    Condition::equals("id.object_id", "people"),
                ])),
            ],
        )
        .webhook_id(WebhookId::from_u128(n))
        .secret(Secret::new(format!("{n:064x}")))
    });
    fake.seed(seeds).expect("the seeds are valid");
    fake
}

async fn run(data: &[u8]) {
    let fake = fake();
    let transport = fake.transport();
    for raw in split(data).take(MAX_REQUESTS) {
        let Some(request) = request(raw) else {
            continue;
        };
        let control = request
            .uri()
            .path()
            .starts_with(attio_webhooks_testkit::control::CONTROL_PREFIX);
        let faults_before = pending_uses(&fake);
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let Ok(response) = transport.send(request).await else {
            continue; // an injected dropped connection
        };
        let faulted = !control && pending_uses(&fake) < faults_before;
        if !faulted {
            understood(&method, &path, response);
        }
    }
    invariants(&fake, &transport).await;
}

fn split(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let current = rest?;
        match super::find(current, SEPARATOR) {
            Some(at) => {
                rest = Some(&current[at + SEPARATOR.len()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

fn request(raw: &[u8]) -> Option<http::Request<Bytes>> {
    let message = Message::parse(raw);
    let line = std::str::from_utf8(message.first_line).ok()?;
    let (method, target) = line.split_once(' ')?;
    let mut request = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(http::Uri::try_from(target).ok()?)
        .body(Bytes::copy_from_slice(message.body))
        .ok()?;
    *request.headers_mut() = message.headers;
    Some(request)
}

fn pending_uses(fake: &FakeAttio) -> u64 {
    fake.pending_faults()
        .iter()
        .map(|r| u64::from(r.times))
        .sum()
}

/// An answer no fault spoiled is one the client can read.
fn understood(method: &http::Method, path: &str, response: http::Response<Bytes>) {
    let status = response.status();
    if !status.is_success() {
        let body: ApiErrorBody = serde_json::from_slice(response.body())
            .unwrap_or_else(|e| panic!("{status} body is not an Attio error ({e}): {response:?}"));
        assert_eq!(body.status_code, status.as_u16(), "{body:?}");
        return;
    }
    let on_webhook = path.strip_prefix("/v2/webhooks/").is_some();
    let decoded = match (method.as_str(), on_webhook) {
        _ if path.starts_with(attio_webhooks_testkit::control::CONTROL_PREFIX) => {
            serde_json::from_slice::<serde_json::Value>(response.body())
                .map(drop)
                .map_err(|e| panic!("control answer is not JSON ({e}): {response:?}"))
        }
        ("GET", false) => ListWebhooks::decode(response).map(drop),
        ("POST", false) => CreateWebhook::decode(response).map(drop),
        ("GET", true) => GetWebhook::decode(response).map(drop),
        ("PATCH", true) => UpdateWebhook::decode(response).map(drop),
        ("DELETE", true) => DeleteWebhook::decode(response).map(drop),
        _ => panic!("{method} {path} answered {status}"),
    };
    if let Err(error) = decoded {
        assert!(
            !matches!(error, Error::Decode(_)),
            "{method} {path}: {error}"
        );
    }
}

async fn invariants(fake: &FakeAttio, transport: &InProcessTransport) {
    let limits = fake.limits();
    assert!(fake.requests().len() <= limits.recorded_requests);
    assert!(fake.delivery_log().len() <= limits.delivery_log_entries);
    assert!(fake.pending_faults().len() <= limits.fault_rules);
    let webhooks = fake.webhooks();
    assert!(webhooks.len() <= limits.webhooks);
    let ids: HashSet<_> = webhooks.iter().map(|w| w.webhook_id()).collect();
    assert_eq!(ids.len(), webhooks.len(), "duplicate ids");
    let mut triples: Vec<(&str, &Subscription)> = Vec::new();
    for webhook in &webhooks {
        assert!(TargetUrlPolicy::HttpsOnly
            .check(&webhook.target_url)
            .is_ok());
        for subscription in &webhook.subscriptions {
            let clash = triples
                .iter()
                .any(|(url, s)| *url == webhook.target_url && s.equivalent(subscription));
            assert!(!clash, "two equivalent triples: {webhooks:?}");
            triples.push((&webhook.target_url, subscription));
        }
    }

    fake.clear_faults();
    let list = http::Request::get("/v2/webhooks?limit=100")
        .header("authorization", "Bearer ro")
        .body(Bytes::new())
        .expect("a list request");
    let response = transport.send(list).await.expect("no faults are left");
    let listed = ListWebhooks::decode(response).expect("the list decodes");
    assert_eq!(listed, webhooks[..webhooks.len().min(100)]);
}

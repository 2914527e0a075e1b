//! The fake where someone else can reach it: control token, redaction,
//! seeds checked like creates, deliveries that follow the target URL
//! policy, bounded logs, connection timeouts and caps, and a workspace
//! lock short enough that reads do not wait for large writes.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use attio_webhooks::{
    receive::Actor, receive::Event, EventType, Secret, Subscription, WebhookId, WebhookStatus,
    WorkspaceId,
};
use attio_webhooks_testkit::{
    delivery::DeliveryOutcome, FakeAttio, Limits, Scope, Seed, DEFAULT_TOKEN,
};
use common::{control_routes, raw_client, route_instance, send};
use serde_json::{json, Value};

const BEARER: &str = "Bearer fake-attio-token";

#[tokio::test]
async fn a_control_token_guards_every_control_route_and_nothing_else() {
    let fake = FakeAttio::builder().control_token("ctl-secret").build();
    fake.seed([Seed::new(
        "https://x.test/a",
        vec![Subscription::new(EventType::NoteCreated)],
    )])
    .unwrap();
    let server = fake.serve().await.unwrap();
    let http = raw_client();
    let url = |p: &str| format!("{}{p}", server.base_url());
    let routes = control_routes();
    assert_eq!(routes.len(), 17);
    for (method, path) in &routes {
        for auth in [None, Some("Bearer wrong"), Some(BEARER), Some("ctl-secret")] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("authorization", a)).into_iter().collect();
            let answer = send(&http, method, &url(&route_instance(path)), &headers, "")
                .await
                .unwrap();
            assert_eq!(answer.status, 401, "{method} {path} with {auth:?}");
            assert_eq!(answer.json()["code"], "unauthorized");
        }
    }
    // Nothing was wiped or read; with the token the routes work.
    assert_eq!(fake.webhooks().len(), 1);
    let ok = send(
        &http,
        "GET",
        &url("/__fake/webhooks"),
        &[("authorization", "Bearer ctl-secret")],
        "",
    )
    .await
    .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["data"].as_array().unwrap().len(), 1);
    // The API itself still takes its own tokens, not the control token.
    let api = send(
        &http,
        "GET",
        &url("/v2/webhooks"),
        &[("authorization", BEARER)],
        "",
    )
    .await
    .unwrap();
    assert_eq!(api.status, 200);
    let api = send(
        &http,
        "GET",
        &url("/v2/webhooks"),
        &[("authorization", "Bearer ctl-secret")],
        "",
    )
    .await
    .unwrap();
    assert_eq!(api.status, 401);
}

#[tokio::test]
async fn without_control_routes_they_do_not_exist() {
    let fake = FakeAttio::builder().without_control_routes().build();
    fake.seed([Seed::new(
        "https://x.test/a",
        vec![Subscription::new(EventType::NoteCreated)],
    )])
    .unwrap();
    let server = fake.serve().await.unwrap();
    let http = raw_client();
    for (method, path) in control_routes() {
        let answer = send(
            &http,
            &method,
            &format!("{}{}", server.base_url(), route_instance(&path)),
            &[("authorization", BEARER)],
            "",
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 404, "{method} {path}");
    }
    assert_eq!(fake.webhooks().len(), 1, "the reset did not happen");
    // The Rust API of the test that owns the fake still works.
    fake.reset();
    assert!(fake.webhooks().is_empty());
}

#[tokio::test]
async fn recorded_credentials_are_redacted_over_http_but_not_in_rust() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    let url = format!("{}/v2/webhooks", server.base_url());
    send(&http, "GET", &url, &[("authorization", BEARER)], "")
        .await
        .unwrap();
    send(
        &http,
        "GET",
        &url,
        &[("authorization", "Basic dXNlcjpwYXNz")],
        "",
    )
    .await
    .unwrap();
    send(&http, "GET", &url, &[("authorization", "sk_no_scheme")], "")
        .await
        .unwrap();
    let shown = send(
        &http,
        "GET",
        &format!("{}/__fake/requests", server.base_url()),
        &[],
        "",
    )
    .await
    .unwrap();
    let text = String::from_utf8(shown.body.to_vec()).unwrap();
    for secret in [DEFAULT_TOKEN, "dXNlcjpwYXNz", "sk_no_scheme"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let auth: Vec<String> = shown.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h[0] == "authorization")
                .map(|h| h[1].as_str().unwrap().to_owned())
                .unwrap()
        })
        .collect();
    assert_eq!(
        auth,
        ["Bearer <redacted>", "Basic <redacted>", "<redacted>"]
    );
    assert_eq!(server.requests()[0].header("authorization"), Some(BEARER));
}

#[tokio::test]
async fn seeds_are_checked_like_creates_and_stored_all_or_nothing() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    let url = format!("{}/__fake/webhooks", server.base_url());
    let good = json!({"target_url": "https://x.test/ok", "subscriptions": [{"event_type": "note.created", "filter": null}]});
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"target_url": "not a url", "subscriptions": [{"event_type": "note.created", "filter": null}]}),
            400,
            r#""path":["data",1,"target_url"]"#,
        ),
        (
            json!({"target_url": "http://127.0.0.1:8009/x", "subscriptions": [{"event_type": "note.created", "filter": null}]}),
            400,
            "https://",
        ),
        (
            json!({"target_url": "https://x.test/b", "subscriptions": []}),
            400,
            "at least one",
        ),
        (
            json!({"target_url": "https://x.test/b", "subscriptions": [{"event_type": "meeting.created", "filter": null}]}),
            400,
            "unknown event type",
        ),
        (
            json!({"target_url": "https://x.test/b", "subscriptions": [{"event_type": "note.created", "filter": {"$and": [{"field": "a", "operator": "like", "value": "b"}]}}]}),
            400,
            "unknown operator",
        ),
        (
            json!({"target_url": "https://x.test/b", "subscriptions": [{"event_type": "note.created"}]}),
            400,
            "filter",
        ),
        (
            json!({"target_url": "https://x.test/b", "subscriptions": [{"event_type": "note.created", "filter": null}], "colour": "red"}),
            400,
            "colour",
        ),
        (
            json!({"target_url": "https://x.test/b", "subscriptions": [{"event_type": "note.created", "filter": null}], "status": "sleeping"}),
            400,
            "status",
        ),
        (good.clone(), 409, "already subscribes"),
    ];
    for (second, status, says) in cases {
        let body = json!({"data": [good.clone(), second]}).to_string();
        let answer = send(
            &http,
            "POST",
            &url,
            &[("content-type", "application/json")],
            body,
        )
        .await
        .unwrap();
        let error = answer.json();
        assert_eq!(answer.status, status, "{error}");
        assert_eq!(error["status_code"], status);
        assert!(error["type"].is_string() && error["code"].is_string());
        // The reason is in the message or, for a refused body, in
        // `validation_errors` (FIDELITY.md, "400 on a webhook body").
        assert!(error.to_string().contains(says), "{error}");
        assert!(
            server.webhooks().is_empty(),
            "nothing of a refused batch is stored"
        );
    }
    // The same rules from Rust, including an id that is taken.
    let id = WebhookId::from_u128(7);
    let seed = || {
        Seed::new(
            "https://x.test/c",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .webhook_id(id)
    };
    server.seed([seed()]).unwrap();
    let taken = server
        .seed([Seed::new(
            "https://x.test/d",
            vec![Subscription::new(EventType::TaskCreated)],
        )
        .webhook_id(id)])
        .unwrap_err();
    assert_eq!(taken.status_code, 400);
    assert_eq!(server.webhooks().len(), 1);
}

fn event() -> Event {
    Event::new(
        EventType::NoteCreated,
        WorkspaceId::from_u128(1),
        Actor::system(),
    )
}

#[tokio::test]
async fn a_webhook_aimed_at_the_fake_itself_is_never_delivered_to() {
    let fake = FakeAttio::builder().allow_loopback_http_targets().build();
    let server = fake.serve().await.unwrap();
    let port = server.addr().port();
    let subs = || vec![Subscription::new(EventType::NoteCreated)];
    for host in ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"] {
        fake.seed([Seed::new(
            format!("http://{host}:{port}/__fake/reset"),
            subs(),
        )])
        .unwrap();
    }
    fake.seed([Seed::new("https://x.test/elsewhere", subs())])
        .unwrap();
    assert_eq!(fake.emit(event()).len(), 5);
    fake.settle_deliveries().await;
    let log = fake.delivery_log();
    assert_eq!(log.len(), 5);
    for attempt in log.iter() {
        let DeliveryOutcome::Skipped { reason } = &attempt.outcome else {
            panic!("delivered to {}: {:?}", attempt.target_url, attempt.outcome);
        };
        if attempt.target_url.starts_with("https://") {
            // No root trusted, so no https at all (and x.test is beyond loopback).
            assert!(reason.contains("trusts no root"), "{reason}");
        } else {
            assert!(reason.contains("own listening port"), "{reason}");
        }
    }
    assert_eq!(
        fake.webhooks().len(),
        5,
        "no delivery reached /__fake/reset"
    );
    // Nothing was POSTed to the fake: its recording holds no request at all.
    assert!(fake.requests().is_empty());
    // In https-only mode such a webhook cannot even be stored.
    let strict = FakeAttio::new();
    assert_eq!(
        strict
            .seed([Seed::new(format!("http://127.0.0.1:{port}/x"), subs())])
            .unwrap_err()
            .status_code,
        400
    );
}

#[tokio::test]
async fn the_delivery_log_and_queue_are_bounded() {
    let mut limits = Limits::default();
    limits.delivery_log_entries = 20;
    limits.queued_deliveries = 3;
    let fake = FakeAttio::builder().limits(limits).build();
    fake.seed([Seed::new(
        "https://x.test/a",
        vec![Subscription::new(EventType::NoteCreated)],
    )])
    .unwrap();
    for _ in 0..50 {
        fake.emit(event());
    }
    fake.settle_deliveries().await;
    let log = fake.delivery_log();
    assert_eq!((log.len(), log.dropped()), (20, 30));
    // A burst larger than the queue: the overflow is logged, not queued.
    fake.reset();
    for i in 0..10 {
        fake.seed([Seed::new(
            format!("https://x.test/{i}"),
            vec![Subscription::new(EventType::NoteCreated)],
        )])
        .unwrap();
    }
    let queued = fake.emit(event());
    assert_eq!(queued.len(), 3);
    fake.settle_deliveries().await;
    let full = fake
        .delivery_log()
        .iter()
        .filter(|a| matches!(&a.outcome, DeliveryOutcome::Skipped { reason } if reason.contains("queue is full")))
        .count();
    assert_eq!(full, 7);
}

fn limits_with(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    f(&mut limits);
    limits
}

/// Reads until the server closes the connection; how long that took.
fn time_until_closed(stream: &mut TcpStream, limit: Duration) -> Duration {
    let start = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                panic!("still open after {limit:?}")
            }
            Err(_) => return start.elapsed(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_connections_are_closed() {
    let timeout = Duration::from_millis(300);
    let fake = FakeAttio::builder()
        .limits(limits_with(|l| {
            l.header_read_timeout = timeout;
            l.idle_timeout = timeout;
        }))
        .build();
    let server = fake.serve().await.unwrap();
    let addr = server.addr();
    tokio::task::spawn_blocking(move || {
        // Headers that start and never end.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET /v2/webhooks HTTP/1.1\r\nHost: x\r\n").unwrap();
        let took = time_until_closed(&mut slow, Duration::from_secs(10));
        assert!(took >= timeout / 2, "closed too soon: {took:?}");
        // Headers dripped a byte at a time: the whole header still has to
        // arrive within the timeout.
        let mut drip = TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        let mut closed = false;
        for byte in b"GET /v2/webhooks HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if drip.write_all(&[*byte]).is_err() {
                closed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        assert!(closed || time_until_closed(&mut drip, Duration::from_secs(10)) < Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(10));
        // A connection that never sends a byte.
        let mut silent = TcpStream::connect(addr).unwrap();
        time_until_closed(&mut silent, Duration::from_secs(10));
        // A keep-alive connection idle after one answer.
        let mut idle = TcpStream::connect(addr).unwrap();
        idle.write_all(b"GET /v2/webhooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer fake-attio-token\r\n\r\n")
            .unwrap();
        let took = time_until_closed(&mut idle, Duration::from_secs(10));
        assert!(took >= timeout / 2, "closed too soon: {took:?}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_idle_sockets_make_room_and_running_requests_do_not() {
    let fake = FakeAttio::builder()
        .limits(limits_with(|l| {
            l.max_connections = 2;
            // No reserve: with both connections running a request, the
            // next one waits.
            l.control_connections = 0;
            l.header_read_timeout = Duration::from_secs(30);
            l.idle_timeout = Duration::from_secs(30);
        }))
        .build();
    let server = fake.serve().await.unwrap();
    let addr = server.addr();
    let url = format!("{}/v2/webhooks", server.base_url());
    // Two silent sockets fill the cap; timeouts are far away.
    let mut silent: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let answer = send(&raw_client(), "GET", &url, &[("authorization", BEARER)], "")
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?} behind idle sockets",
        started.elapsed()
    );
    // The oldest silent socket was the one closed to make room.
    tokio::task::spawn_blocking(move || time_until_closed(&mut silent[0], Duration::from_secs(5)))
        .await
        .unwrap();

    // Two requests running (held back 1 s each) are never shed: a third
    // connection waits for one of them to finish.
    fake.inject(
        attio_webhooks_testkit::FaultRule::new(attio_webhooks_testkit::Fault::delay(
            Duration::from_secs(1),
        ))
        .times(2),
    );
    let held: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                send(&raw_client(), "GET", &url, &[("authorization", BEARER)], "").await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let third = send(&raw_client(), "GET", &url, &[("authorization", BEARER)], "")
        .await
        .unwrap();
    assert_eq!(third.status, 200);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "a running request was cut for room: {waited:?}"
    );
    for request in held {
        assert_eq!(
            request.await.unwrap().unwrap().status,
            200,
            "held requests complete"
        );
    }
}

/// A create of `subscriptions` distinct subscriptions on one target URL,
/// each with a filter of `conditions` conditions.
fn large_create(target: &str, subscriptions: usize, conditions: usize, salt: usize) -> String {
    let subscriptions: Vec<Value> = (0..subscriptions)
        .map(|i| {
            let conditions: Vec<Value> = (0..conditions)
                .map(|j| json!({"field": "f", "operator": "equals", "value": format!("{salt}-{i:05}-{j:02}")}))
                .collect();
            json!({"event_type": "note.created", "filter": {"$or": conditions}})
        })
        .collect();
    json!({"data": {"target_url": target, "subscriptions": subscriptions}}).to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Large creates hold the workspace lock only for their hash inserts, so a
/// concurrent GET does not wait for their parsing and checking. The bound
/// is relative (a GET's p99 against a create's median, same run), so a
/// slow machine slows both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_do_not_wait_for_large_creates() {
    let fake = FakeAttio::builder().token("t", [Scope::ReadWrite]).build();
    let server = fake.serve().await.unwrap();
    let seeded = fake
        .seed([Seed::new(
            "https://x.test/small",
            vec![Subscription::new(EventType::NoteCreated)],
        )])
        .unwrap();
    let base = server.base_url().to_owned();
    let get_url = format!("{base}/v2/webhooks/{}", seeded[0].webhook.webhook_id());
    // As many subscriptions as a webhook may have, 16 conditions each:
    // about 1 MiB.
    let bodies: Vec<String> = (0..4)
        .map(|i| large_create("https://x.test/big", 1_000, 16, i))
        .collect();
    assert!(
        bodies[0].len() > 900_000
            && bodies[0].len() <= attio_webhooks_testkit::limits::MAX_BODY_BYTES
    );
    let creates = tokio::spawn(async move {
        let http = raw_client();
        let mut took = Vec::new();
        for body in bodies {
            let started = Instant::now();
            let answer = send(
                &http,
                "POST",
                &format!("{base}/v2/webhooks"),
                &[
                    ("authorization", "Bearer t"),
                    ("content-type", "application/json"),
                ],
                body,
            )
            .await
            .unwrap();
            assert_eq!(
                answer.status,
                200,
                "{}",
                String::from_utf8_lossy(&answer.body[..200.min(answer.body.len())])
            );
            took.push(started.elapsed());
        }
        took
    });
    let http = raw_client();
    let mut gets = Vec::new();
    while !creates.is_finished() {
        let started = Instant::now();
        let answer = send(&http, "GET", &get_url, &[("authorization", "Bearer t")], "")
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        gets.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut creates = creates.await.unwrap();
    creates.sort();
    gets.sort();
    let create_median = percentile(&creates, 0.5);
    let get_p99 = percentile(&gets, 0.99);
    eprintln!(
        "{} GETs, p99 {get_p99:?}; creates (16,000 conditions) median {create_median:?}",
        gets.len()
    );
    assert!(gets.len() >= 20, "too few GETs to judge: {}", gets.len());
    assert!(
        get_p99 * 4 < create_median,
        "GET p99 {get_p99:?} vs create median {create_median:?}"
    );
    assert_eq!(fake.webhooks().len(), 5);
    let _ = WebhookStatus::Active;
    let _ = Secret::new("");
}

#[tokio::test]
async fn updates_cannot_grow_the_store_past_its_byte_budget() {
    const BUDGET: usize = 512 << 10;
    let fake = FakeAttio::builder()
        .limits(limits_with(|l| l.stored_bytes = BUDGET))
        .build();
    let server = fake.serve().await.unwrap();
    let http = raw_client();
    let auth = [
        ("authorization", BEARER),
        ("content-type", "application/json"),
    ];
    let webhooks = format!("{}/v2/webhooks", server.base_url());
    let mut ids = Vec::new();
    for i in 0..4 {
        let body = large_create(&format!("https://x.test/{i}"), 1, 1, i);
        let created = send(&http, "POST", &webhooks, &auth, body).await.unwrap();
        assert_eq!(created.status, 200);
        ids.push(
            created.json()["data"]["id"]["webhook_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Each update alone fits the budget; together they would pass it.
    // Before, every one was stored (the budget was only checked on create
    // and seed).
    let mut refused = 0;
    for (i, id) in ids.iter().enumerate() {
        let grow = large_create(&format!("https://x.test/{i}"), 400, 1, i);
        let answer = send(&http, "PATCH", &format!("{webhooks}/{id}"), &auth, grow)
            .await
            .unwrap();
        match answer.status {
            200 => {}
            400 => {
                assert_eq!(answer.json()["code"], "validation_type");
                refused += 1;
            }
            other => panic!("{other}: {}", answer.json()),
        }
    }
    assert!(refused >= 1, "every update was stored");
    assert!(
        refused < 4,
        "no update fits alone: the test's sizes are off"
    );
    let stored: usize = fake
        .webhooks()
        .iter()
        .map(|w| serde_json::to_vec(w).unwrap().len())
        .sum();
    assert!(stored <= BUDGET, "{stored} bytes stored, budget {BUDGET}");
    // A refused update left its webhook as it was: one subscription.
    let small = fake
        .webhooks()
        .iter()
        .filter(|w| w.subscriptions.len() == 1)
        .count();
    assert_eq!(small, refused);
}

#[tokio::test]
async fn a_webhook_that_degraded_can_be_deleted_and_its_bytes_reused() {
    // Nothing listens on this port: every delivery is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let subs = || vec![Subscription::new(EventType::NoteCreated)];
    let target = format!("http://127.0.0.1:{port}/hook");
    // A byte budget with room for this one webhook, degraded, and no more:
    // the smallest that holds it (found by bisection), plus a little.
    let holds = |budget: usize| {
        FakeAttio::builder()
            .allow_loopback_http_targets()
            .limits(limits_with(|l| l.stored_bytes = budget))
            .build()
            .seed([Seed::new(target.clone(), subs()).status(WebhookStatus::Degraded)])
            .is_ok()
    };
    let (mut low, mut high) = (0, 1 << 20);
    assert!(holds(high));
    while high - low > 1 {
        let mid = (low + high) / 2;
        if holds(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    let budget = high + 64;
    let fake = FakeAttio::builder()
        .allow_loopback_http_targets()
        .delivery_policy(attio_webhooks_testkit::delivery::DeliveryPolicy::default().retries(0))
        .limits(limits_with(|l| l.stored_bytes = budget))
        .build();
    for round in 0..3 {
        fake.seed([Seed::new(target.clone(), subs())]).unwrap();
        fake.emit(event());
        fake.settle_deliveries().await;
        let webhook = fake.webhooks().remove(0);
        assert_eq!(webhook.status, WebhookStatus::Degraded, "round {round}");
        // The log says why, down to the operating system's words.
        let log = fake.delivery_log();
        let Some(DeliveryOutcome::Failed {
            error: Some(error), ..
        }) = log.iter().last().map(|a| &a.outcome)
        else {
            panic!("{:?}", log.iter().last());
        };
        assert!(error.contains("onnection refused"), "{error}");
        // Degrading rewrote the stored JSON ("active" -> "degraded"); the
        // byte count has to follow, or this delete underflows it (a panic
        // in a debug build, and every later create refused in release).
        fake.client()
            .delete_webhook(webhook.id.webhook_id)
            .await
            .unwrap();
        assert!(fake.webhooks().is_empty());
    }
}

#[tokio::test]
async fn a_webhook_may_have_at_most_1000_subscriptions_however_it_is_written() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    let auth = [
        ("authorization", BEARER),
        ("content-type", "application/json"),
    ];
    let webhooks = format!("{}/v2/webhooks", server.base_url());
    let cap = attio_webhooks_testkit::limits::MAX_SUBSCRIPTIONS_PER_WEBHOOK;
    assert_eq!(cap, 1_000);
    let at_cap = send(
        &http,
        "POST",
        &webhooks,
        &auth,
        large_create("https://x.test/a", cap, 1, 0),
    )
    .await
    .unwrap();
    assert_eq!(at_cap.status, 200);
    let id = at_cap.json()["data"]["id"]["webhook_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let over = || large_create("https://x.test/b", cap + 1, 1, 1);
    let seed = || {
        let mut body: Value = serde_json::from_str(&over()).unwrap();
        json!({"data": [body["data"].take()]}).to_string()
    };
    for (method, url, body) in [
        ("POST", webhooks.clone(), over()),
        ("PATCH", format!("{webhooks}/{id}"), over()),
        (
            "POST",
            format!("{}/__fake/webhooks", server.base_url()),
            seed(),
        ),
    ] {
        let answer = send(&http, method, &url, &auth, body).await.unwrap();
        assert_eq!(answer.status, 400, "{method} {url}");
        assert_eq!(answer.json()["code"], "validation_type");
        let message = answer.json().to_string();
        assert!(
            message.contains("subscriptions") && message.contains("at most 1000"),
            "{message}"
        );
    }
    assert_eq!(server.webhooks().len(), 1);
    assert_eq!(server.webhooks()[0].subscriptions.len(), cap);
}

#[tokio::test]
async fn cookies_proxy_credentials_and_api_keys_are_redacted_over_http_too() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    let url = format!("{}/v2/webhooks", server.base_url());
    let sent = [
        ("authorization", BEARER, "Bearer <redacted>"),
        (
            "proxy-authorization",
            "Basic cHJveHk6c2VjcmV0",
            "Basic <redacted>",
        ),
        (
            "cookie",
            "session=cookie_secret_1; theme=dark",
            "<redacted>",
        ),
        ("set-cookie", "id=cookie_secret_2; HttpOnly", "<redacted>"),
        ("x-api-key", "api_key_secret_3", "<redacted>"),
        ("x-request-id", "kept-as-sent", "kept-as-sent"),
    ];
    let headers: Vec<(&str, &str)> = sent.iter().map(|(k, v, _)| (*k, *v)).collect();
    send(&http, "GET", &url, &headers, "").await.unwrap();
    let shown = send(
        &http,
        "GET",
        &format!("{}/__fake/requests", server.base_url()),
        &[],
        "",
    )
    .await
    .unwrap();
    let text = String::from_utf8(shown.body.to_vec()).unwrap();
    for secret in [
        DEFAULT_TOKEN,
        "cHJveHk6c2VjcmV0",
        "cookie_secret_1",
        "cookie_secret_2",
        "api_key_secret_3",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let recorded = &shown.json()["data"][0]["headers"];
    for (name, _, expected) in sent {
        let value = recorded
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == name)
            .unwrap_or_else(|| panic!("{name} not recorded: {recorded}"));
        assert_eq!(value[1], expected, "{name}");
    }
    // The one list, as documented.
    assert_eq!(
        attio_webhooks_testkit::control::CREDENTIAL_HEADERS,
        [
            "authorization",
            "proxy-authorization",
            "cookie",
            "set-cookie",
            "x-api-key"
        ]
    );
    // The test that owns the fake sees what was sent.
    assert_eq!(
        server.requests()[0].header("x-api-key"),
        Some("api_key_secret_3")
    );
}

/// Reads one HTTP/1.1 answer (headers and a `content-length` body) from
/// `stream`; the status line, or `None` when the connection closed first.
fn read_answer(stream: &mut TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return head.lines().next().map(str::to_owned);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_connections_live_for_the_idle_timeout_and_later_headers_still_have_the_header_timeout(
) {
    let header = Duration::from_millis(300);
    let idle = Duration::from_millis(1500);
    let fake = FakeAttio::builder()
        .limits(limits_with(|l| {
            l.header_read_timeout = header;
            l.idle_timeout = idle;
        }))
        .build();
    let server = fake.serve().await.unwrap();
    let addr = server.addr();
    tokio::task::spawn_blocking(move || {
        let request =
            b"GET /v2/webhooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer fake-attio-token\r\n\r\n";
        // Idle for longer than the header timeout, within the idle timeout:
        // the connection is still there for the next request.
        let mut kept = TcpStream::connect(addr).unwrap();
        kept.write_all(request).unwrap();
        assert_eq!(read_answer(&mut kept).as_deref(), Some("HTTP/1.1 200 OK"));
        std::thread::sleep(idle / 2);
        kept.write_all(request).unwrap();
        assert_eq!(
            read_answer(&mut kept).as_deref(),
            Some("HTTP/1.1 200 OK"),
            "closed after {:?} idle, with an idle timeout of {idle:?}",
            idle / 2
        );
        // Then idle past the idle timeout: closed.
        let took = time_until_closed(&mut kept, Duration::from_secs(10));
        assert!(
            took >= idle * 2 / 3 && took < idle + Duration::from_secs(3),
            "closed after {took:?} idle, with an idle timeout of {idle:?}"
        );
        // The headers of a later request that start and stall are cut at
        // the header timeout, long before the idle timeout.
        let mut stalled = TcpStream::connect(addr).unwrap();
        stalled.write_all(request).unwrap();
        assert_eq!(read_answer(&mut stalled).as_deref(), Some("HTTP/1.1 200 OK"));
        stalled.write_all(b"GET /v2/webhooks HTTP/1.1\r\nHost: x\r\n").unwrap();
        let took = time_until_closed(&mut stalled, Duration::from_secs(10));
        assert!(
            took >= header / 2 && took < idle,
            "stalled headers closed after {took:?} (header timeout {header:?}, idle {idle:?})"
        );
    })
    .await
    .unwrap();
}

//! Many isolated workspaces on one fake: what one workspace's tokens can
//! reach of another (nothing), what a deleted workspace's tokens get (401,
//! recorded nowhere), the caps on creation, idle expiry, a creation flood,
//! per-workspace clocks and rate limits, the settle route, and 64 tests in
//! parallel on the process-wide shared server.
//!
//! The oracle throughout is the state of the other workspace read through
//! its own control token before and after, and the status codes the
//! control spec (`spec/fake-control.openapi.json`) lists.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{receive::Event, EventType, Subscription};
use attio_webhooks_testkit::control::ControlError;
use attio_webhooks_testkit::delivery::DeliveryOutcome;
use attio_webhooks_testkit::workspaces::{
    self, CreateWorkspaceError, WorkspaceGrant, WorkspaceOptions,
};
use attio_webhooks_testkit::{ControlClient, FakeAttio, Fault, FaultRule, Limits, Seed};
use common::{control_routes, raw_client, route_instance, send, Raw};
use serde_json::Value;

const SERVER_CONTROL: &str = "server-control-token";

fn subs() -> Vec<Subscription> {
    vec![Subscription::new(EventType::NoteCreated)]
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Everything a workspace holds, as its own control token reads it.
async fn snapshot(http: &Raw, base: &str, control_token: &str) -> Vec<(String, Value)> {
    let mut seen = Vec::new();
    for route in ["/webhooks", "/requests", "/faults", "/deliveries", "/clock"] {
        let answer = send(
            http,
            "GET",
            &format!("{base}/__fake{route}"),
            &[("authorization", &bearer(control_token))],
            "",
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 200, "{route}");
        let mut body = answer.json();
        if route == "/clock" {
            // A system clock moves by itself; whether it is manual must not.
            body["data"]["now"] = Value::Null;
        }
        seen.push((route.to_owned(), body));
    }
    seen
}

async fn create(control: &ControlClient) -> WorkspaceGrant {
    control
        .create_workspace(&WorkspaceOptions::new())
        .await
        .unwrap()
}

/// A's read-write, read-only and control tokens, on every API and control
/// route of the server (B's webhook id in the paths that take one), with
/// every body the routes take: B's webhooks, journal, faults, deliveries
/// and clock stay exactly as they were, and B still exists.
#[tokio::test]
async fn one_workspaces_tokens_reach_nothing_of_another() {
    let fake = FakeAttio::builder()
        .control_token(SERVER_CONTROL)
        .clock(attio_webhooks_testkit::Clock::manual(
            "2026-01-01T00:00:00Z".parse().unwrap(),
        ))
        .build();
    let server = fake.serve().await.unwrap();
    let base = server.base_url();
    let control = ControlClient::new(base, Some(SERVER_CONTROL)).unwrap();
    let a = create(&control).await;
    let b_grant = control
        .create_workspace(
            &WorkspaceOptions::new().manual_clock("2026-02-01T00:00:00Z".parse().unwrap()),
        )
        .await
        .unwrap();
    // B: a webhook, a request in its journal, a pending fault, a logged delivery.
    let b = ControlClient::new(base, Some(&b_grant.control_token)).unwrap();
    let seeded = b
        .seed(vec![Seed::new("https://b.test/hook", subs())])
        .await
        .unwrap();
    let b_webhook = seeded[0].webhook.webhook_id().to_string();
    let http = raw_client();
    let listed = send(
        &http,
        "GET",
        &format!("{base}/v2/webhooks"),
        &[("authorization", &bearer(&b_grant.token))],
        "",
    )
    .await
    .unwrap();
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
    b.inject(FaultRule::new(Fault::status(503)).path("/v2/webhooks"))
        .await
        .unwrap();
    let event = attio_webhooks_testkit::samples::event(&EventType::NoteCreated).unwrap();
    assert_eq!(b.emit(&event).await.unwrap().len(), 1);
    b.settle_deliveries(Duration::from_secs(5)).await.unwrap();
    let before = snapshot(&http, base, &b_grant.control_token).await;
    assert_eq!(before[3].1["data"].as_array().unwrap().len(), 1);

    let mut routes: Vec<(String, String)> = control_routes()
        .into_iter()
        .map(|(m, p)| (m, route_instance(&p)))
        .collect();
    routes.push((
        "DELETE".into(),
        format!("/__fake/workspaces/{}", b_grant.workspace_id),
    ));
    for (method, path) in [
        ("GET", "/v2/webhooks".to_owned()),
        ("POST", "/v2/webhooks".to_owned()),
        ("GET", format!("/v2/webhooks/{b_webhook}")),
        ("PATCH", format!("/v2/webhooks/{b_webhook}")),
        ("DELETE", format!("/v2/webhooks/{b_webhook}")),
    ] {
        routes.push((method.to_owned(), path));
    }
    let event_body = serde_json::json!({ "data": event }).to_string();
    let bodies = [
        String::new(),
        r#"{"data":{"seconds":86400}}"#.to_owned(),
        r#"{"data":{"target_url":"https://b.test/hook","subscriptions":[]}}"#.to_owned(),
        r#"{"data":[{"target_url":"https://a.test/x","subscriptions":[]}]}"#.to_owned(),
        r#"{"data":{"status":503}}"#.to_owned(),
        event_body,
    ];
    for token in [&a.token, &a.read_only_token, &a.control_token] {
        for (method, path) in &routes {
            for body in &bodies {
                let answer = send(
                    &http,
                    method,
                    &format!("{base}{path}"),
                    &[
                        ("authorization", &bearer(token)),
                        ("content-type", "application/json"),
                    ],
                    body.clone(),
                )
                .await
                .unwrap();
                if path.starts_with("/__fake/workspaces") {
                    assert_eq!(answer.status, 401, "{method} {path}: {:?}", answer.body);
                }
                if path.starts_with("/v2/webhooks/") && *token != a.control_token {
                    assert_ne!(answer.status, 200, "{method} {path} reached B's webhook");
                }
            }
        }
    }
    assert_eq!(
        snapshot(&http, base, &b_grant.control_token).await,
        before,
        "B changed"
    );
    let ids: Vec<_> = control
        .workspaces()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.workspace_id)
        .collect();
    assert!(ids.contains(&b_grant.workspace_id) && ids.contains(&a.workspace_id));
    // And B's tokens never touched the default workspace either.
    assert!(fake.requests().is_empty() && fake.webhooks().is_empty());
}

/// A workspace deleted (by its Rust handle, or over HTTP) refuses every
/// token it had with 401, and the request lands in no journal: not the
/// default workspace's, not another workspace's.
#[tokio::test]
async fn a_deleted_workspaces_late_requests_get_401_and_are_recorded_nowhere() {
    let fake = FakeAttio::new();
    let server = fake.serve().await.unwrap();
    let base = server.base_url();
    let http = raw_client();
    let other = fake.workspace().unwrap();
    let gone = fake.workspace().unwrap();
    let grant = gone.grant().clone();
    let answer = send(
        &http,
        "GET",
        &format!("{base}/v2/webhooks"),
        &[("authorization", &bearer(&grant.token))],
        "",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(gone.requests().len(), 1);
    drop(gone);

    let control = ControlClient::new(base, None).unwrap();
    let by_http = create(&control).await;
    control
        .delete_workspace(by_http.workspace_id)
        .await
        .unwrap();
    assert!(matches!(
        control.delete_workspace(by_http.workspace_id).await,
        Err(ControlError::Refused(e)) if e.status_code == 404 && e.code.as_str() == "unknown_workspace"
    ));

    for grant in [&grant, &by_http] {
        for (token, method, path) in [
            (&grant.token, "GET", "/v2/webhooks"),
            (&grant.token, "POST", "/v2/webhooks"),
            (&grant.read_only_token, "GET", "/v2/webhooks"),
            (&grant.control_token, "GET", "/__fake/requests"),
            (&grant.control_token, "POST", "/__fake/reset"),
        ] {
            let answer = send(
                &http,
                method,
                &format!("{base}{path}"),
                &[("authorization", &bearer(token))],
                "",
            )
            .await
            .unwrap();
            assert_eq!(answer.status, 401, "{method} {path}");
            assert_eq!(answer.json()["code"], "unauthorized");
        }
    }
    assert!(
        fake.requests().is_empty(),
        "recorded in the default workspace"
    );
    assert!(other.requests().is_empty(), "recorded in another workspace");
    assert!(control.workspaces().await.unwrap().len() == 1);
}

/// At `Limits::workspaces`, creation is refused with a typed error (and
/// 503 `workspace_limit` over HTTP) while the others keep working; a
/// deletion makes room again. Over the memory limit, creation is refused
/// naming it.
#[tokio::test]
async fn creation_is_refused_at_the_caps_and_the_rest_keep_working() {
    let mut limits = Limits::default();
    limits.workspaces = 3;
    let fake = FakeAttio::builder().limits(limits).build();
    let server = fake.serve().await.unwrap();
    let held: Vec<_> = (0..2).map(|_| fake.workspace().unwrap()).collect();
    let control = ControlClient::new(server.base_url(), None).unwrap();
    let third = create(&control).await;
    assert_eq!(
        fake.workspace().unwrap_err(),
        CreateWorkspaceError::TooMany { max: 3 }
    );
    let refused = control
        .create_workspace(&WorkspaceOptions::new())
        .await
        .unwrap_err();
    match refused {
        ControlError::WorkspaceLimit(body) => {
            assert_eq!(body.status_code, 503);
            assert!(body.message.contains("3 workspaces"), "{}", body.message);
        }
        other => panic!("{other:?}"),
    }
    for ws in &held {
        ws.seed([Seed::new("https://x.test/a", subs())]).unwrap();
        assert_eq!(ws.webhooks().len(), 1);
    }
    control.delete_workspace(third.workspace_id).await.unwrap();
    let _fourth = fake.workspace().unwrap();

    if cfg!(target_os = "linux") {
        let mut limits = Limits::default();
        limits.workspaces_resident_bytes = 1;
        let small = FakeAttio::builder().limits(limits).build();
        assert!(matches!(
            small.workspace().unwrap_err(),
            CreateWorkspaceError::OutOfMemory { max: 1, resident } if resident > 1 << 20
        ));
    }
    // A workspace's own fake holds no workspaces.
    assert_eq!(
        held[0].workspace().unwrap_err(),
        CreateWorkspaceError::NotAServer
    );
}

/// A workspace created over HTTP with no request for the idle limit is
/// deleted (its token then gets 401); one a Rust handle holds is kept,
/// and requests keep a workspace alive.
#[tokio::test]
async fn idle_workspaces_created_over_http_are_dropped() {
    let mut limits = Limits::default();
    limits.workspace_idle_timeout = Duration::from_millis(600);
    let fake = FakeAttio::builder().limits(limits).build();
    let server = fake.serve().await.unwrap();
    let base = server.base_url();
    let control = ControlClient::new(base, None).unwrap();
    let held = fake.workspace().unwrap();
    let idle = create(&control).await;
    let busy = create(&control).await;
    let http = raw_client();
    let list = |token: String| {
        let http = http.clone();
        let url = format!("{base}/v2/webhooks");
        async move {
            send(
                &http,
                "GET",
                &url,
                &[("authorization", &bearer(&token))],
                "",
            )
            .await
            .unwrap()
            .status
        }
    };
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(list(busy.token.clone()).await, 200);
    }
    let left: Vec<_> = control
        .workspaces()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.workspace_id)
        .collect();
    assert!(!left.contains(&idle.workspace_id), "{left:?}");
    assert!(left.contains(&busy.workspace_id) && left.contains(&held.id()));
    assert_eq!(list(idle.token.clone()).await, 401);
    assert_eq!(list(held.token().to_owned()).await, 200);
}

/// A thousand creations from 8 connections at once against a cap of 100:
/// the ones past the cap get 503, none gets anything else, and a
/// workspace that existed before answers its own webhook all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_flood_does_not_take_down_the_server_or_other_workspaces() {
    let mut limits = Limits::default();
    limits.workspaces = 100;
    let fake = FakeAttio::builder().limits(limits).build();
    let server = fake.serve().await.unwrap();
    let base = server.base_url().to_owned();
    let victim = fake.workspace().unwrap();
    victim
        .seed([Seed::new("https://victim.test/a", subs())])
        .unwrap();
    let started = Instant::now();
    let flood: Vec<_> = (0..8)
        .map(|_| {
            let base = base.clone();
            tokio::spawn(async move {
                let http = raw_client();
                let mut statuses = Vec::new();
                for _ in 0..125 {
                    let answer = send(&http, "POST", &format!("{base}/__fake/workspaces"), &[], "")
                        .await
                        .unwrap();
                    statuses.push(answer.status);
                }
                statuses
            })
        })
        .collect();
    let http = raw_client();
    let mut checks = 0;
    while flood.iter().any(|f| !f.is_finished()) {
        let answer = send(
            &http,
            "GET",
            &format!("{base}/v2/webhooks"),
            &[("authorization", &bearer(victim.token()))],
            "",
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json()["data"].as_array().unwrap().len(), 1);
        checks += 1;
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the flood took too long"
        );
    }
    let mut created = 0;
    for f in flood {
        for status in f.await.unwrap() {
            match status {
                200 => created += 1,
                503 => {}
                other => panic!("status {other}"),
            }
        }
    }
    assert_eq!(created, 99, "the cap of 100, one held by the victim");
    assert!(checks > 0);
    let health = send(&http, "GET", &format!("{base}/__health"), &[], "")
        .await
        .unwrap();
    assert_eq!(health.status, 200);
}

/// Each workspace has its own clock and its own rate-limit budget.
#[tokio::test]
async fn clocks_and_rate_limits_are_per_workspace() {
    let fake = FakeAttio::new();
    let manual = fake
        .workspace_with(
            WorkspaceOptions::new()
                .manual_clock("2026-01-01T00:00:00Z".parse().unwrap())
                .rate_limits(1, 1),
        )
        .unwrap();
    let system = fake.workspace().unwrap();
    let server = fake.serve().await.unwrap();
    let manual_control =
        ControlClient::new(server.base_url(), Some(manual.control_token())).unwrap();
    let system_control =
        ControlClient::new(server.base_url(), Some(system.control_token())).unwrap();
    let moved = manual_control
        .advance(Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(moved.now.to_string(), "2026-01-01T01:00:00.000000000Z");
    assert!(!system_control.clock().await.unwrap().manual);
    assert!(system_control
        .advance(Duration::from_secs(1))
        .await
        .is_err());
    // The manual workspace's webhooks are created at its own time.
    let created = server
        .client_with_token(manual.token())
        .create_webhook("https://m.test/a", subs())
        .await
        .unwrap();
    assert_eq!(
        created.webhook.created_at.to_string(),
        "2026-01-01T01:00:00.000000000Z"
    );
    // One read a second in `manual`; `system` has no limit.
    let http = raw_client();
    let url = format!("{}/v2/webhooks", server.base_url());
    let mut statuses = Vec::new();
    for token in [
        manual.token(),
        manual.token(),
        system.token(),
        system.token(),
    ] {
        statuses.push(
            send(&http, "GET", &url, &[("authorization", &bearer(token))], "")
                .await
                .unwrap()
                .status,
        );
    }
    // The first read may land in the same second as the create's write
    // (separate budgets): one read passes, the next is refused.
    assert_eq!(statuses, [200, 429, 200, 200]);
}

/// A receiver on loopback that answers 200 after `delay`.
async fn slow_receiver(delay: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut read = 0;
                loop {
                    let n = socket.read(&mut buf[read..]).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    read += n;
                    let text = String::from_utf8_lossy(&buf[..read]);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if read >= end + 4 + length {
                            break;
                        }
                    }
                }
                tokio::time::sleep(delay).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    format!("http://{addr}/hook")
}

/// `POST /__fake/deliveries/settle` answers once the workspace's queued
/// delivery has been attempted (its log holds it), and 504
/// `settle_timeout` when the receiver is slower than the timeout.
#[tokio::test]
async fn the_settle_route_waits_for_a_workspaces_deliveries() {
    let fake = FakeAttio::builder().allow_loopback_http_targets().build();
    let server = fake.serve().await.unwrap();
    let ws = fake.workspace().unwrap();
    let control = ControlClient::new(server.base_url(), Some(ws.control_token())).unwrap();
    let target = slow_receiver(Duration::from_millis(300)).await;
    control
        .seed(vec![Seed::new(&target, subs())])
        .await
        .unwrap();
    let event = Event::new(
        EventType::NoteCreated,
        ws.id(),
        attio_webhooks::receive::Actor::system(),
    );
    let started = Instant::now();
    assert_eq!(control.emit(&event).await.unwrap().len(), 1);
    control
        .settle_deliveries(Duration::from_secs(10))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let log = control.deliveries().await.unwrap().into_vec();
    assert_eq!(log.len(), 1, "attempted before settle answered");
    assert!(
        matches!(log[0].outcome, DeliveryOutcome::Delivered { status: 200 }),
        "{:?}",
        log[0].outcome
    );
    assert!(
        fake.delivery_log().is_empty(),
        "the default workspace delivered nothing"
    );

    let slow = slow_receiver(Duration::from_secs(3)).await;
    control.reset().await.unwrap();
    control.seed(vec![Seed::new(&slow, subs())]).await.unwrap();
    control.emit(&event).await.unwrap();
    match control.settle_deliveries(Duration::from_millis(200)).await {
        Err(ControlError::Refused(e)) => {
            assert_eq!((e.status_code, e.code.as_str()), (504, "settle_timeout"))
        }
        other => panic!("{other:?}"),
    }
    let over = send(
        &raw_client(),
        "POST",
        &format!("{}/__fake/deliveries/settle", server.base_url()),
        &[("authorization", &bearer(ws.control_token()))],
        r#"{"data":{"timeout_seconds":61}}"#,
    )
    .await
    .unwrap();
    assert_eq!(over.status, 400);
}

/// 64 tests at once, each a thread with its own `#[tokio::test]`-like
/// runtime, on the process-wide shared server: each creates its own
/// webhook and sees only it; a quarter reset their workspace and a
/// quarter delete theirs mid-way (and take a new one), which nobody else
/// notices; a deleted workspace's token then gets 401, recorded nowhere.
#[test]
fn sixty_four_parallel_tests_on_the_shared_server_each_see_only_their_own() {
    let barrier = Arc::new(Meeting::default());
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(one_parallel_test(i, &barrier));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Where the 64 tests wait for each other, twice; a test that panicked
/// never arrives, and the others then fail after 30 s instead of waiting
/// for ever.
#[derive(Default)]
struct Meeting(std::sync::atomic::AtomicUsize);

impl Meeting {
    async fn wait(&self, round: usize) {
        use std::sync::atomic::Ordering;
        self.0.fetch_add(1, Ordering::SeqCst);
        let started = Instant::now();
        while self.0.load(Ordering::SeqCst) < 64 * round {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "another test failed before round {round}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn one_parallel_test(i: usize, barrier: &Meeting) {
    let target = |n: usize| format!("https://t{i}-{n}.test/hook");
    let mut ws = workspaces::shared().workspace();
    ws.client()
        .create_webhook(&target(0), subs())
        .await
        .unwrap();
    barrier.wait(1).await;
    let only_mine = |listed: Vec<attio_webhooks::Webhook>, expect: &[String]| {
        let urls: Vec<String> = listed.iter().map(|w| w.target_url.clone()).collect();
        assert_eq!(urls, expect, "test {i} sees another's webhooks");
    };
    only_mine(
        ws.client()
            .list_webhooks(ListWebhooks::new())
            .await
            .unwrap(),
        &[target(0)],
    );
    match i % 4 {
        0 => {
            ws.control().reset().await.unwrap();
            only_mine(
                ws.client()
                    .list_webhooks(ListWebhooks::new())
                    .await
                    .unwrap(),
                &[],
            );
        }
        1 => {
            let old = ws.grant().clone();
            ws = workspaces::shared().workspace();
            // Dropping the old handle (above) deleted it: its token is refused.
            let late = ws
                .client_with_token(&old.token)
                .list_webhooks(ListWebhooks::new())
                .await
                .unwrap_err();
            assert_eq!(late.status().map(|s| s.as_u16()), Some(401), "test {i}");
            only_mine(
                ws.client()
                    .list_webhooks(ListWebhooks::new())
                    .await
                    .unwrap(),
                &[],
            );
        }
        _ => {}
    }
    ws.client()
        .create_webhook(&target(1), subs())
        .await
        .unwrap();
    barrier.wait(2).await;
    let expect: Vec<String> = match i % 4 {
        0 | 1 => vec![target(1)],
        _ => vec![target(0), target(1)],
    };
    only_mine(
        ws.client()
            .list_webhooks(ListWebhooks::new())
            .await
            .unwrap(),
        &expect,
    );
    // Its journal holds its own requests only: every path is this test's.
    for request in ws.requests().iter() {
        if let Some(body) = request.body_json() {
            let url = body["data"]["target_url"].as_str().unwrap_or_default();
            assert!(url.is_empty() || url.contains(&format!("t{i}-")), "{url}");
        }
    }
    assert!(workspaces::shared().fake().requests().is_empty());
}

/// The binary serves workspaces by default, beside the default workspace
/// that its own tokens reach, and a workspace is controlled through its
/// own control token while the server's token makes and deletes them.
#[tokio::test]
async fn the_binary_serves_workspaces_beside_its_default_one() {
    let binary = common::Binary::start(
        &[],
        &[
            ("FAKE_ATTIO_TOKENS", "default-token"),
            ("FAKE_ATTIO_CONTROL_TOKEN", SERVER_CONTROL),
        ],
    );
    let base = binary.base_url.as_str();
    let server = ControlClient::new(base, Some(SERVER_CONTROL)).unwrap();
    let grant = create(&server).await;
    let http = raw_client();
    let url = format!("{base}/v2/webhooks");
    let body = r#"{"data":{"target_url":"https://ws.test/a","subscriptions":[{"event_type":"note.created","filter":null}]}}"#;
    let made = send(
        &http,
        "POST",
        &url,
        &[
            ("authorization", &bearer(&grant.token)),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
    .unwrap();
    assert_eq!(made.status, 200, "{:?}", made.body);
    let read_only = send(
        &http,
        "POST",
        &url,
        &[
            ("authorization", &bearer(&grant.read_only_token)),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
    .unwrap();
    assert_eq!(read_only.status, 403);
    let default = send(
        &http,
        "GET",
        &url,
        &[("authorization", "Bearer default-token")],
        "",
    )
    .await
    .unwrap();
    assert_eq!(default.json()["data"], serde_json::json!([]));
    let own = ControlClient::new(base, Some(&grant.control_token)).unwrap();
    assert_eq!(own.webhooks().await.unwrap().len(), 1);
    assert_eq!(own.requests().await.unwrap().into_vec().len(), 2);
    assert_eq!(server.webhooks().await.unwrap().len(), 0);
    assert_eq!(server.requests().await.unwrap().into_vec().len(), 1);
    server.delete_workspace(grant.workspace_id).await.unwrap();
    assert!(matches!(own.webhooks().await, Err(ControlError::Refused(e)) if e.status_code == 401));
}

/// What 10,000 empty workspaces cost the binary in resident memory
/// (printed; BENCHMARKS.md records it), and a bound on it: less than
/// 32 KiB each.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn ten_thousand_empty_workspaces_fit_in_bounded_memory() {
    let binary = common::Binary::start(&["--max-workspaces", "10000"], &[]);
    let base = binary.base_url.clone();
    let http = raw_client();
    let url = format!("{base}/__fake/workspaces");
    // Warm up the allocator and the connection before measuring.
    for _ in 0..100 {
        let answer = send(&http, "POST", &url, &[], "").await.unwrap();
        assert_eq!(answer.status, 200);
    }
    let before = binary.rss_bytes().unwrap();
    let started = Instant::now();
    for _ in 100..10_000 {
        let answer = send(&http, "POST", &url, &[], "").await.unwrap();
        assert_eq!(answer.status, 200);
    }
    let took = started.elapsed();
    let after = binary.rss_bytes().unwrap();
    let refused = send(&http, "POST", &url, &[], "").await.unwrap();
    assert_eq!(refused.status, 503);
    let per = (after.saturating_sub(before)) / 9_900;
    eprintln!(
        "10,000 empty workspaces: RSS {before} -> {after} bytes ({per} bytes each), 9,900 creations over HTTP in {took:?}"
    );
    assert!(per < 32 << 10, "{per} bytes per workspace");
}

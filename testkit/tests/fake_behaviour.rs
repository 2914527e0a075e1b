//! What the fake does beyond the shared contract: auth details, faults of
//! every kind, controls over HTTP, limits, rate limiting and concurrency.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use attio_webhooks::operations::{CreateWebhook, ListWebhooks};
use attio_webhooks::{
    transport::HyperTransport, Client, Error, EventType, RetryPolicy, SendOptions, Subscription,
    WebhookId, WebhookStatus,
};
use attio_webhooks_testkit::{
    FakeAttio, Fault, FaultRule, InProcessError, Scope, Seed, DEFAULT_TOKEN,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

type Raw = HyperClient<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn raw_client() -> Raw {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

/// Sends a raw request and returns status, headers and JSON body.
async fn raw(
    client: &Raw,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, http::HeaderMap, Value) {
    let mut request = http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if !body.is_empty() {
        request = request.header("content-type", "application/json");
    }
    let response = client
        .request(
            request
                .body(Full::new(Bytes::from(body.to_owned())))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    // Attio's content type on every live answer (FIDELITY.md, "Content type").
    assert_eq!(
        headers["content-type"], "application/json; charset=utf-8",
        "every answer is JSON"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

fn subs() -> Vec<Subscription> {
    vec![Subscription::new(EventType::NoteCreated)]
}

#[tokio::test]
async fn auth_needs_a_known_bearer_token_with_the_right_scope() {
    let fake = FakeAttio::builder()
        .token("rw", [Scope::ReadWrite])
        .token("ro", [Scope::Read])
        .token("none", [])
        .build();
    let server = fake.serve().await.unwrap();
    let url = format!("{}/v2/webhooks", server.base_url());
    let http = raw_client();

    // Attio's auth vocabulary as observed live (FIDELITY.md, "401" and
    // "403"): type `auth_error`, code `unauthorized`, for both statuses.
    let (status, _, body) = raw(&http, "GET", &url, None, "").await;
    assert_eq!(
        (status, body["type"].as_str(), body["code"].as_str()),
        (401, Some("auth_error"), Some("unauthorized"))
    );
    let (status, _, _) = raw(&http, "GET", &url, Some("unknown"), "").await;
    assert_eq!(status, 401);
    let (status, _, body) = raw(&http, "GET", &url, Some("none"), "").await;
    assert_eq!(
        (status, body["type"].as_str(), body["code"].as_str()),
        (403, Some("auth_error"), Some("unauthorized"))
    );
    assert_eq!(raw(&http, "GET", &url, Some("ro"), "").await.0, 200);
    let create = r#"{"data":{"target_url":"https://example.com/a","subscriptions":[{"event_type":"note.created","filter":null}]}}"#;
    let (status, _, body) = raw(&http, "POST", &url, Some("ro"), create).await;
    assert_eq!(status, 403);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .ends_with("This request requires scopes: Read-Write access to the Webhooks scope."));
    assert_eq!(raw(&http, "POST", &url, Some("rw"), create).await.0, 200);
    // A missing "Bearer " prefix is refused too.
    let request = http::Request::get(&url)
        .header("authorization", "rw")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(http.request(request).await.unwrap().status(), 401);
}

#[tokio::test]
async fn attio_shaped_answers_for_bad_requests() {
    let server = FakeAttio::start().await;
    let base = server.base_url().to_owned();
    let http = raw_client();
    let token = Some(DEFAULT_TOKEN);

    let (status, _, body) = raw(
        &http,
        "POST",
        &format!("{base}/v2/webhooks"),
        token,
        "{not json",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("validation_type"))
    );
    assert_eq!(body["status_code"], 400);

    let (status, _, body) = raw(
        &http,
        "GET",
        &format!("{base}/v2/webhooks/not-a-uuid"),
        token,
        "",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "Webhook with ID \"not-a-uuid\" was not found."
    );

    let (status, headers, body) =
        raw(&http, "DELETE", &format!("{base}/v2/webhooks"), token, "").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    assert_eq!(headers["allow"], "GET, POST");

    for query in ["limit=9", "limit=101", "offset=x"] {
        let (status, _, _) = raw(
            &http,
            "GET",
            &format!("{base}/v2/webhooks?{query}"),
            token,
            "",
        )
        .await;
        assert_eq!(status, 400, "{query}");
    }

    let huge = format!(
        r#"{{"data":{{"target_url":"https://example.com/{}","subscriptions":[]}}}}"#,
        "x".repeat(1 << 20)
    );
    let (status, _, body) = raw(&http, "POST", &format!("{base}/v2/webhooks"), token, &huge).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );

    // Delete answers exactly {}.
    let created = server
        .client()
        .create_webhook("https://example.com/d", subs())
        .await
        .unwrap();
    let (status, _, body) = raw(
        &http,
        "DELETE",
        &format!("{base}/v2/webhooks/{}", created.webhook.webhook_id()),
        token,
        "",
    )
    .await;
    assert_eq!((status, body), (200, json!({})));
}

#[tokio::test]
async fn secrets_are_only_in_the_create_answer() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    let created = server
        .client()
        .create_webhook("https://example.com/s", subs())
        .await
        .unwrap();
    let url = format!(
        "{}/v2/webhooks/{}",
        server.base_url(),
        created.webhook.webhook_id()
    );
    let (_, _, body) = raw(&http, "GET", &url, Some(DEFAULT_TOKEN), "").await;
    assert!(body["data"].get("secret").is_none());
    assert!(body["data"]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(server.webhooks_with_secrets()[0].secret, created.secret);
}

#[tokio::test]
async fn each_fault_kind_in_process_and_over_loopback() {
    let fake = FakeAttio::new();
    let server = fake.serve().await.unwrap();
    let once = SendOptions::new().retry(RetryPolicy::disabled());
    let list = ListWebhooks::new();
    let in_process = fake.client();
    let loopback = server.client();

    // A body that is not JSON.
    fake.inject(FaultRule::new(Fault::MalformedBody { status: 200 }).times(2));
    for err in [
        in_process.send_with(&list, &once).await.unwrap_err(),
        loopback.send_with(&list, &once).await.unwrap_err(),
    ] {
        let Error::Decode(decode) = err else {
            panic!("{err}")
        };
        assert!(decode.body.starts_with(b"{\"data\""));
    }

    // A cut-off body with valid framing.
    fake.seed([Seed::new("https://example.com/t", subs())])
        .unwrap();
    fake.inject(FaultRule::new(Fault::TruncatedBody).times(2));
    for err in [
        in_process.send_with(&list, &once).await.unwrap_err(),
        loopback.send_with(&list, &once).await.unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::Decode(ref d) if d.message.contains("EOF")),
            "{err}"
        );
    }

    // A dropped connection: a transport error, retried for GET.
    fake.inject(FaultRule::new(Fault::DropConnection).times(2));
    let err = in_process.send_with(&list, &once).await.unwrap_err();
    let Error::Transport(source) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        source.downcast_ref::<InProcessError>(),
        Some(&InProcessError::ConnectionDropped)
    );
    assert!(matches!(
        loopback.send_with(&list, &once).await.unwrap_err(),
        Error::Transport(_)
    ));
    fake.inject(FaultRule::new(Fault::DropConnection).times(1));
    assert_eq!(
        loopback
            .list_webhooks(ListWebhooks::new())
            .await
            .unwrap()
            .len(),
        1,
        "retried after the drop"
    );

    // A delay longer than the timeout.
    fake.inject(FaultRule::new(Fault::delay(Duration::from_millis(500))).times(2));
    let quick = SendOptions::new()
        .retry(RetryPolicy::disabled())
        .timeout(Duration::from_millis(50));
    assert!(in_process
        .send_with(&list, &quick)
        .await
        .unwrap_err()
        .is_timeout());
    assert!(loopback
        .send_with(&list, &quick)
        .await
        .unwrap_err()
        .is_timeout());

    // A 429 carries an HTTP-date Retry-After of the next whole second after
    // the request arrived: strictly after it was sent, at most a second
    // after the answer came back.
    fake.inject(FaultRule::new(Fault::RateLimited));
    let sent = std::time::SystemTime::now();
    let err = loopback.send_with(&list, &once).await.unwrap_err();
    let answered = std::time::SystemTime::now();
    let Some(attio_webhooks::error::RetryAfter::At(at)) = err.retry_after() else {
        panic!("{err}")
    };
    assert!(
        at > sent,
        "Retry-After {at:?} is not after the request {sent:?}"
    );
    assert!(
        at <= answered + Duration::from_secs(1),
        "{at:?} vs {answered:?}"
    );
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert_eq!(since_epoch.subsec_nanos(), 0, "a whole second");
    assert!(fake.pending_faults().is_empty());
}

#[tokio::test]
async fn controls_over_http() {
    let server = FakeAttio::start().await;
    let base = server.base_url().to_owned();
    let http = raw_client();

    let seed = json!({"data": [{
        "target_url": "https://example.com/seeded",
        "subscriptions": [{"event_type": "task.created", "filter": null}],
        "status": "degraded",
        "webhook_id": "23e42eaf-323a-41da-b5bb-fd67eebda553",
        "created_at": "2023-04-27T13:22:49.061281000Z"
    }]});
    let (status, _, body) = raw(
        &http,
        "POST",
        &format!("{base}/__fake/webhooks"),
        None,
        &seed.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["secret"].as_str().unwrap().len(), 64);
    let id: WebhookId = "23e42eaf-323a-41da-b5bb-fd67eebda553".parse().unwrap();
    let webhook = server.client().get_webhook(id).await.unwrap();
    assert_eq!(webhook.status, WebhookStatus::Degraded);
    assert_eq!(
        webhook.created_at.to_string(),
        "2023-04-27T13:22:49.061281000Z"
    );

    let fault = json!({"data": {"fault": {"type": "status", "status": 500}, "method": "GET", "path": "/v2/webhooks/*"}});
    assert_eq!(
        raw(
            &http,
            "POST",
            &format!("{base}/__fake/faults"),
            None,
            &fault.to_string()
        )
        .await
        .0,
        200
    );
    let (_, _, pending) = raw(&http, "GET", &format!("{base}/__fake/faults"), None, "").await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    let once = SendOptions::new().retry(RetryPolicy::disabled());
    let err = server
        .client()
        .send_with(&attio_webhooks::operations::GetWebhook::new(id), &once)
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 500);

    let (_, _, requests) = raw(&http, "GET", &format!("{base}/__fake/requests"), None, "").await;
    let requests = requests["data"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "control calls are not recorded");
    assert_eq!(requests[0]["method"], "GET");
    assert_eq!(requests[0]["path"], format!("/v2/webhooks/{id}"));
    assert!(requests[0]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "authorization"));

    assert_eq!(
        raw(&http, "POST", &format!("{base}/__fake/reset"), None, "")
            .await
            .2,
        json!({})
    );
    assert!(server.webhooks().is_empty());
    assert!(server.requests().is_empty());
    let (status, _, _) = raw(
        &http,
        "POST",
        &format!("{base}/__fake/faults"),
        None,
        "{\"data\":{}}",
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn rate_limits_mirror_attio() {
    fn second() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }
    // Attio's documented limits: 100 reads and 25 writes per second.
    const READS: usize = 100;
    const WRITES: usize = 25;
    let once = SendOptions::new().retry(RetryPolicy::disabled());
    // The limiter counts per wall-clock second. A burst that straddles two
    // seconds proves nothing, so it is run again (a slow machine may need a
    // few tries); a burst within one second must show the limits exactly.
    let mut checked = false;
    for _ in 0..5 {
        let fake = FakeAttio::builder().attio_rate_limits().build();
        let client = fake.client();
        let started = second();
        let mut reads = Vec::new();
        for _ in 0..=READS {
            reads.push(client.send_with(&ListWebhooks::new(), &once).await);
        }
        let mut writes = Vec::new();
        for i in 0..=WRITES {
            let create = CreateWebhook::new(format!("https://example.com/{i}"), subs());
            writes.push(client.send_with(&create, &once).await);
        }
        if second() != started {
            continue;
        }
        assert!(reads[..READS].iter().all(Result::is_ok));
        let err = reads[READS].as_ref().unwrap_err();
        assert!(err.is_rate_limited());
        assert_eq!(
            err.api_error().unwrap().code.as_str(),
            "rate_limit_exceeded"
        );
        // Writes have their own budget.
        assert!(writes[..WRITES].iter().all(Result::is_ok));
        assert!(writes[WRITES].as_ref().unwrap_err().is_rate_limited());
        assert_eq!(
            fake.webhooks().len(),
            WRITES,
            "the refused create did nothing"
        );
        // With retries on, the client waits for Retry-After and gets through.
        client
            .send(&CreateWebhook::new(
                format!("https://example.com/{WRITES}"),
                subs(),
            ))
            .await
            .unwrap();
        checked = true;
        break;
    }
    assert!(checked, "no burst fit in one second in five tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_never_lost_or_duplicated() {
    let server = FakeAttio::start().await;
    let client = server.client();
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..25 {
                let url = format!("https://example.com/{worker}/{i}");
                ids.push(
                    client
                        .create_webhook(url, subs())
                        .await
                        .unwrap()
                        .webhook
                        .webhook_id(),
                );
            }
            ids
        }));
    }
    let mut ids = HashSet::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    assert_eq!(ids.len(), 200);
    let listed: HashSet<WebhookId> = server.webhooks().iter().map(|w| w.webhook_id()).collect();
    assert_eq!(listed, ids);

    // Racing creates of one triple: exactly one wins.
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .create_webhook("https://example.com/race", subs())
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => wins += 1,
            Err(e) => assert!(e.is_conflict(), "{e}"),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn http2_and_a_user_built_client_work_too() {
    let server = FakeAttio::start().await;
    let http2: HyperClient<_, Full<Bytes>> = HyperClient::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let request = http::Request::get(format!("{}/v2/webhooks", server.base_url()))
        .header("authorization", format!("Bearer {DEFAULT_TOKEN}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = http2.request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), 200);

    let client = Client::builder(DEFAULT_TOKEN)
        .base_url(server.base_url())
        .build(HyperTransport::new().unwrap())
        .unwrap();
    assert!(client
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let server = FakeAttio::start().await;
    let addr = server.addr();
    drop(server);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn delivery_controls_over_http() {
    let start: attio_webhooks::model::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let fake = FakeAttio::builder()
        .clock(attio_webhooks_testkit::Clock::manual(start))
        .build();
    let server = fake.serve().await.unwrap();
    let base = server.base_url().to_owned();
    let http = raw_client();
    let created = server
        .client()
        .create_webhook("https://example.com/e", subs())
        .await
        .unwrap();
    assert_eq!(
        created.webhook.created_at, start,
        "created_at follows the fake's clock"
    );

    let event = json!({"data": {
        "event_type": "note.created",
        "id": {"workspace_id": fake.workspace_id().to_string(), "note_id": "n1"},
        "actor": {"type": "system", "id": null}
    }});
    let (status, _, queued) = raw(
        &http,
        "POST",
        &format!("{base}/__fake/events"),
        None,
        &event.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        queued["data"][0]["webhook_id"],
        created.webhook.webhook_id().to_string()
    );
    fake.settle_deliveries().await;
    let (_, _, log) = raw(&http, "GET", &format!("{base}/__fake/deliveries"), None, "").await;
    assert_eq!(
        log["data"][0]["outcome"]["type"], "skipped",
        "https://example.com is never contacted"
    );
    assert_eq!(
        log["data"][0]["idempotency_key"],
        queued["data"][0]["idempotency_key"]
    );

    let advance = json!({"data": {"seconds": 90}}).to_string();
    let (status, _, clock) = raw(
        &http,
        "POST",
        &format!("{base}/__fake/clock/advance"),
        None,
        &advance,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        clock["data"],
        json!({"now": "2026-01-01T00:01:30.000000000Z", "manual": true})
    );

    let system = FakeAttio::start().await;
    let (status, _, body) = raw(
        &http,
        "POST",
        &format!("{}/__fake/clock/advance", system.base_url()),
        None,
        &advance,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let bad = json!({"data": {"event_type": "note.created"}}).to_string();
    assert_eq!(
        raw(&http, "POST", &format!("{base}/__fake/events"), None, &bad)
            .await
            .0,
        400
    );
}

/// `RateLimitedFor` sends its seconds as `Retry-After`; 0 sends none.
#[tokio::test]
async fn rate_limited_for_zero_seconds_sends_no_retry_after() {
    let server = FakeAttio::start().await;
    let url = format!("{}/v2/webhooks", server.base_url());
    let http = raw_client();
    for (seconds, expected) in [(3u64, Some("3")), (0, None)] {
        server.inject(
            FaultRule::new(Fault::RateLimitedFor { seconds })
                .method("GET")
                .times(1),
        );
        let (status, headers, body) = raw(&http, "GET", &url, Some(DEFAULT_TOKEN), "").await;
        assert_eq!(status, 429);
        assert_eq!(body["code"], "rate_limit_exceeded");
        assert_eq!(
            headers.get("retry-after").map(|v| v.to_str().unwrap()),
            expected,
            "seconds: {seconds}"
        );
    }
}

/// Records the method and path of every request, then forwards it.
#[derive(Clone)]
struct Routes {
    inner: attio_webhooks_testkit::InProcessTransport,
    seen: std::sync::Arc<std::sync::Mutex<HashSet<(String, String)>>>,
}

#[async_trait::async_trait]
impl attio_webhooks::Transport for Routes {
    type Error = InProcessError;
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, InProcessError> {
        self.seen.lock().unwrap().insert((
            request.method().to_string(),
            described_path(request.uri().path()),
        ));
        self.inner.send(request).await
    }
}

/// The described path a request's path is an instance of (the one
/// parameter of a control route, `{idempotency_key}`, put back).
fn described_path(path: &str) -> String {
    if path.starts_with("/__fake/workspaces/") {
        return "/__fake/workspaces/{workspace_id}".to_owned();
    }
    match path
        .strip_prefix("/__fake/deliveries/")
        .and_then(|rest| rest.strip_suffix("/redeliver"))
    {
        Some(_) => "/__fake/deliveries/{idempotency_key}/redeliver".to_owned(),
        None => path.to_owned(),
    }
}

/// The control routes' OpenAPI description (for other languages) and the
/// fake agree: every described method and path is answered, every other
/// method on those paths is 405 with an `Allow` header listing exactly the
/// described ones, and the typed `ControlClient` calls exactly the
/// described routes.
#[tokio::test]
async fn the_control_spec_matches_the_routes_and_the_control_client() {
    let described: HashSet<(String, String)> = common::control_routes().into_iter().collect();
    assert_eq!(described.len(), 17, "{described:?}");

    let fake = FakeAttio::builder()
        .clock(attio_webhooks_testkit::Clock::manual(
            attio_webhooks::model::Timestamp::now(),
        ))
        .build();
    let transport = fake.transport();
    let paths: HashSet<&String> = described.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
            let request = http::Request::builder()
                .method(method)
                .uri(format!("https://fake.test{}", common::route_instance(path)))
                .header("content-type", "application/json")
                .body(Bytes::from_static(b"{\"data\":null}"))
                .unwrap();
            let response = attio_webhooks::Transport::send(&transport, request)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(response.body()).unwrap();
            let is_described = described.contains(&(method.to_owned(), path.clone()));
            let not_allowed = response.status() == 405;
            assert_eq!(not_allowed, !is_described, "{method} {path}: {body}");
            if not_allowed {
                let allow: HashSet<String> = response.headers()["allow"]
                    .to_str()
                    .unwrap()
                    .split(", ")
                    .map(str::to_owned)
                    .collect();
                let methods: HashSet<String> = described
                    .iter()
                    .filter(|(_, p)| p == path)
                    .map(|(m, _)| m.clone())
                    .collect();
                assert_eq!(allow, methods, "{method} {path}");
            }
        }
    }

    let seen = std::sync::Arc::new(std::sync::Mutex::new(HashSet::new()));
    let control = attio_webhooks_testkit::ControlClient::with_transport(
        Routes {
            inner: fake.transport(),
            seen: seen.clone(),
        },
        "https://fake.test",
        None,
    );
    let seeded = control
        .seed(vec![Seed::new("https://example.com/hook", subs())])
        .await
        .unwrap();
    assert_eq!(control.webhooks().await.unwrap(), seeded);
    control
        .inject(FaultRule::new(Fault::status(503)).times(2))
        .await
        .unwrap();
    assert_eq!(control.faults().await.unwrap()[0].times, 2);
    control.clear_faults().await.unwrap();
    assert!(control.faults().await.unwrap().is_empty());
    fake.client()
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap();
    assert_eq!(control.requests().await.unwrap().into_vec().len(), 1);
    control.clear_requests().await.unwrap();
    assert!(control.requests().await.unwrap().into_vec().is_empty());
    let event = attio_webhooks_testkit::samples::event(&EventType::NoteCreated).unwrap();
    let queued = control.emit(&event).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].webhook_id, seeded[0].webhook.webhook_id());
    fake.settle_deliveries().await;
    let deliveries = control.deliveries().await.unwrap().into_vec();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].idempotency_key, queued[0].idempotency_key);
    let again = control.redeliver(&queued[0].idempotency_key).await.unwrap();
    assert_eq!(again, queued[0]);
    assert!(matches!(
        control.redeliver("k/1").await,
        Err(attio_webhooks_testkit::control::ControlError::UnknownIdempotencyKey(key)) if key == "k/1"
    ));
    let batch = control.emit_batch(&[event.clone(), event]).await.unwrap();
    assert_eq!(batch.len(), 1, "one message for the webhook");
    fake.settle_deliveries().await;
    let sent = control.deliveries().await.unwrap().into_vec();
    let sent = sent.last().unwrap();
    assert_eq!(sent.idempotency_key, batch[0].idempotency_key);
    assert_eq!(
        attio_webhooks::receive::Delivery::parse(&sent.body)
            .unwrap()
            .events
            .len(),
        2
    );
    let before = control.clock().await.unwrap();
    assert!(before.manual);
    let after = control.advance(Duration::from_secs(90)).await.unwrap();
    assert_eq!(
        after.now.duration_since(before.now),
        Duration::from_secs(90)
    );
    control
        .settle_deliveries(Duration::from_secs(5))
        .await
        .unwrap();
    control.reset().await.unwrap();
    assert!(control.webhooks().await.unwrap().is_empty());
    let grant = control
        .create_workspace(&attio_webhooks_testkit::workspaces::WorkspaceOptions::new())
        .await
        .unwrap();
    let listed = control.workspaces().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].workspace_id, grant.workspace_id);
    control.delete_workspace(grant.workspace_id).await.unwrap();
    assert!(control.workspaces().await.unwrap().is_empty());
    let seen: HashSet<(String, String)> = seen.lock().unwrap().clone();
    assert_eq!(seen, described);
}

#[tokio::test]
async fn plain_http_targets_only_on_the_hosts_it_names() {
    let fake = FakeAttio::builder()
        .allow_http_targets_to(["receiver", "10.0.0.7"])
        .build();
    let server = fake.serve().await.unwrap();
    let client = raw_client();
    let url = format!("{}/v2/webhooks", server.base_url());
    let create = |target: &str| {
        json!({"data": {"target_url": target, "subscriptions": [
            {"event_type": "note.created", "filter": null}]}})
        .to_string()
    };
    for ok in [
        "http://receiver:3000/attio",
        "http://RECEIVER/attio",
        "http://10.0.0.7:8080/",
        "http://127.0.0.1:9/x",
        "https://example.com/hook",
    ] {
        let (status, _, body) = raw(&client, "POST", &url, Some(DEFAULT_TOKEN), &create(ok)).await;
        assert_eq!(status, 200, "{ok}: {body}");
    }
    for refused in [
        "http://receiver.example.com/",
        "http://other:3000/",
        "http://10.0.0.70/",
    ] {
        let (status, _, body) =
            raw(&client, "POST", &url, Some(DEFAULT_TOKEN), &create(refused)).await;
        assert_eq!(status, 400, "{refused}: {body}");
        assert_eq!(body["code"], "validation_type", "{body}");
    }
    // The default stays strict: the same named host is refused.
    let strict = FakeAttio::builder().allow_loopback_http_targets().build();
    let strict = strict.serve().await.unwrap();
    let (status, _, _) = raw(
        &client,
        "POST",
        &format!("{}/v2/webhooks", strict.base_url()),
        Some(DEFAULT_TOKEN),
        &create("http://receiver:3000/attio"),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_method_a_path_does_not_have_gets_405_with_the_methods_it_has() {
    let server = FakeAttio::start().await;
    let base = server.base_url();
    let http = common::raw_client();
    let id = "/v2/webhooks/9b2a7d2c-7d1f-4f9e-9d35-2d0c1f0c5a11";
    // Hand-written: what each path has, and methods it does not.
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "/v2/webhooks",
            "GET, POST",
            &["TRACE", "HEAD", "PUT", "DELETE", "OPTIONS"],
        ),
        (id, "GET, PATCH, DELETE", &["TRACE", "HEAD", "POST", "PUT"]),
        ("/__fake/reset", "POST", &["GET", "HEAD", "TRACE"]),
        ("/__fake/webhooks", "GET, POST", &["TRACE", "DELETE"]),
        ("/__fake/requests", "GET, DELETE", &["POST", "HEAD"]),
        ("/__fake/faults", "GET, POST, DELETE", &["PUT", "TRACE"]),
        ("/__fake/events", "POST", &["GET"]),
        ("/__fake/deliveries", "GET", &["DELETE"]),
        ("/__fake/clock", "GET", &["POST"]),
        ("/__fake/clock/advance", "POST", &["GET"]),
    ];
    for (path, allow, methods) in cases {
        for method in *methods {
            let answer = common::send(
                &http,
                method,
                &format!("{base}{path}"),
                &[("authorization", "Bearer fake-attio-token")],
                "",
            )
            .await
            .unwrap();
            assert_eq!(answer.status, 405, "{method} {path}");
            assert_eq!(answer.headers["allow"], *allow, "{method} {path}");
            if *method != "HEAD" {
                let body = answer.json();
                assert_eq!(body["code"], "method_not_allowed", "{method} {path}");
                assert_eq!(body["status_code"], 405);
                assert!(
                    body["message"].as_str().unwrap().contains(allow),
                    "{method} {path}: {body}"
                );
            }
        }
    }
    // Paths that do not exist stay 404, whatever the method.
    for (method, path) in [
        ("TRACE", "/nope"),
        ("GET", "/__fake/nope"),
        ("HEAD", "/v2/webhooks/a/b"),
    ] {
        let answer = common::send(&http, method, &format!("{base}{path}"), &[], "")
            .await
            .unwrap();
        assert_eq!(answer.status, 404, "{method} {path}");
        assert!(answer.headers.get("allow").is_none());
    }
}

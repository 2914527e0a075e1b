//! The client against wiremock: the exact requests it sends for every
//! operation, and how it reads every kind of answer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use attio_webhooks::operations::{CreateWebhook, ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    error::{ConfigError, InvalidInput},
    model::TargetUrlPolicy,
    transport::HyperTransport,
    transport::TransportErrorKind,
    Client, ClientBuilder, Condition, Error, ErrorCode, EventType, Filter, RetryPolicy,
    SendOptions, Subscription, WebhookId, WebhookStatus,
};
use futures::TryStreamExt;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "sk_test_wire";
const WEBHOOK_ID: &str = "23e42eaf-323a-41da-b5bb-fd67eebda553";
const WORKSPACE_ID: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";

fn webhook_json(id: &str) -> Value {
    json!({
        "target_url": "https://example.com/webhook",
        "subscriptions": [{
            "event_type": "note.created",
            "filter": {"$and": [{"field": "parent_object_id", "operator": "equals", "value": "97052eb9-e65e-443f-a297-f2d9a4a7f795"}]}
        }],
        "id": {"workspace_id": WORKSPACE_ID, "webhook_id": id},
        "status": "active",
        "created_at": "2023-04-27T13:22:49.061281000Z"
    })
}

fn error_json(status: u16, kind: &str, code: &str, message: &str) -> Value {
    json!({"status_code": status, "type": kind, "code": code, "message": message})
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(5))
}

fn client(server: &MockServer) -> Client<HyperTransport> {
    client_with(server, |builder| builder)
}

/// A client for `server` with fast retries, a 5 s timeout, and `configure`.
fn client_with(
    server: &MockServer,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client<HyperTransport> {
    let builder = Client::builder(TOKEN)
        .base_url(server.uri())
        .timeout(Duration::from_secs(5))
        .retry_policy(fast_retries());
    configure(builder)
        .build(HyperTransport::new().unwrap())
        .unwrap()
}

fn id() -> WebhookId {
    WEBHOOK_ID.parse().unwrap()
}

/// The one request the server received, checked field by field.
async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

fn assert_common_headers(request: &Request, has_body: bool) {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header("authorization").as_deref(),
        Some("Bearer sk_test_wire")
    );
    assert_eq!(
        header("user-agent").as_deref(),
        Some(concat!("attio-webhooks/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(header("accept").as_deref(), Some("application/json"));
    let content_type = header("content-type");
    if has_body {
        assert_eq!(content_type.as_deref(), Some("application/json"));
    } else {
        assert_eq!(content_type, None);
        assert!(request.body.is_empty());
    }
}

fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn list_sends_get_with_exactly_the_query_that_was_set() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/webhooks"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": [webhook_json(WEBHOOK_ID)]})),
        )
        .mount(&server)
        .await;
    let page = client(&server)
        .list_webhooks(ListWebhooks::new().limit(25).offset(50))
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].webhook_id(), id());

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v2/webhooks");
    assert_eq!(
        query_pairs(&request),
        [
            ("limit".into(), "25".into()),
            ("offset".into(), "50".into())
        ]
    );
    assert_common_headers(&request, false);
}

#[tokio::test]
async fn list_without_options_sends_no_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    assert!(client(&server)
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(only_request(&server).await.url.query(), None);
}

#[tokio::test]
async fn create_sends_post_with_the_exact_body_and_returns_the_secret() {
    let server = MockServer::start().await;
    let mut created = webhook_json(WEBHOOK_ID);
    created["secret"] = json!("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    Mock::given(method("POST"))
        .and(path("/v2/webhooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": created})))
        .mount(&server)
        .await;
    let subscriptions = vec![
        Subscription::new(EventType::NoteCreated).with_filter(Filter::And(vec![
            Condition::equals("parent_object_id", "97052eb9-e65e-443f-a297-f2d9a4a7f795"),
        ])),
        Subscription::new(EventType::RecordMerged),
    ];
    let result = client(&server)
        .create_webhook("https://example.com/webhook", subscriptions)
        .await
        .unwrap();
    assert_eq!(
        result.secret.expose(),
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    );
    assert_eq!(result.webhook.status, WebhookStatus::Active);

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/v2/webhooks");
    assert_eq!(request.url.query(), None);
    assert_common_headers(&request, true);
    assert_eq!(
        std::str::from_utf8(&request.body).unwrap(),
        concat!(
            r#"{"data":{"target_url":"https://example.com/webhook","subscriptions":["#,
            r#"{"event_type":"note.created","filter":{"$and":[{"field":"parent_object_id","operator":"equals","value":"97052eb9-e65e-443f-a297-f2d9a4a7f795"}]}},"#,
            r#"{"event_type":"record.merged","filter":null}]}}"#
        )
    );
}

#[tokio::test]
async fn get_sends_get_to_the_webhook_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/webhooks/{WEBHOOK_ID}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": webhook_json(WEBHOOK_ID)})),
        )
        .mount(&server)
        .await;
    let webhook = client(&server).get_webhook(id()).await.unwrap();
    assert_eq!(
        webhook.created_at.to_string(),
        "2023-04-27T13:22:49.061281000Z"
    );
    assert_eq!(
        serde_json::to_value(&webhook).unwrap(),
        webhook_json(WEBHOOK_ID)
    );

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.query(), None);
    assert_common_headers(&request, false);
}

#[tokio::test]
async fn update_sends_only_the_fields_that_were_set() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v2/webhooks/{WEBHOOK_ID}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": webhook_json(WEBHOOK_ID)})),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .update_webhook(UpdateWebhook::new(id()).target_url("https://example.com/new"))
        .await
        .unwrap();
    client
        .update_webhook(
            UpdateWebhook::new(id()).subscriptions(vec![Subscription::new(EventType::TaskDeleted)]),
        )
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.method.as_str(), "PATCH");
        assert_common_headers(request, true);
    }
    assert_eq!(
        &requests[0].body[..],
        br#"{"data":{"target_url":"https://example.com/new"}}"#
    );
    assert_eq!(
        &requests[1].body[..],
        br#"{"data":{"subscriptions":[{"event_type":"task.deleted","filter":null}]}}"#
    );
}

#[tokio::test]
async fn delete_sends_delete_and_reads_the_empty_object() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/webhooks/{WEBHOOK_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    client(&server).delete_webhook(id()).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "DELETE");
    assert_common_headers(&request, false);
}

#[tokio::test]
async fn every_documented_error_status_decodes_into_the_right_variant() {
    let server = MockServer::start().await;
    let cases = [
        (400, "invalid_request_error", "validation_type"),
        (401, "authentication_error", "unauthorized"),
        (403, "authorization_error", "missing_scope"),
        (404, "invalid_request_error", "not_found"),
        (409, "invalid_request_error", "uniqueness_conflict"),
        (429, "rate_limit_error", "rate_limit_exceeded"),
        (500, "internal_server_error", "internal_error"),
        (502, "internal_server_error", "internal_error"),
        (503, "internal_server_error", "internal_error"),
        (504, "internal_server_error", "internal_error"),
    ];
    let client = client(&server);
    let once = SendOptions::new().retry(RetryPolicy::disabled());
    for (status, kind, code) in cases {
        server.reset().await;
        let body = error_json(status, kind, code, "something happened");
        let mut response = ResponseTemplate::new(status).set_body_json(body);
        if status == 429 {
            response = response.insert_header("retry-after", "Tue, 23 May 2023 14:42:01 GMT");
        }
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;
        let err = client
            .send_with(&attio_webhooks::operations::GetWebhook::new(id()), &once)
            .await
            .unwrap_err();

        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
        assert_eq!(err.api_error().map(|b| b.code.as_str()), Some(code));
        assert_eq!(err.is_validation(), status == 400);
        assert_eq!(err.is_unauthorized(), status == 401);
        assert_eq!(err.is_forbidden(), status == 403);
        assert_eq!(err.is_not_found(), status == 404);
        assert_eq!(err.is_conflict(), status == 409);
        assert_eq!(err.is_rate_limited(), status == 429);
        assert_eq!(err.is_server_error(), status >= 500);
        match (&err, status) {
            (Error::RateLimited(limited), 429) => {
                let at = httpdate::parse_http_date("Tue, 23 May 2023 14:42:01 GMT").unwrap();
                assert_eq!(
                    limited.retry_after,
                    Some(attio_webhooks::error::RetryAfter::At(at))
                );
            }
            (Error::Api(api), _) => {
                assert_eq!(api.status.as_u16(), status);
                assert_eq!(api.body.message, "something happened");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Answers from a script and notes when each request arrived.
struct Script {
    answers: Mutex<Vec<ResponseTemplate>>,
    arrivals: Arc<Mutex<Vec<SystemTime>>>,
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.arrivals.lock().unwrap().push(SystemTime::now());
        let mut answers = self.answers.lock().unwrap();
        if answers.len() > 1 {
            answers.remove(0)
        } else {
            answers[0].clone()
        }
    }
}

fn script(answers: Vec<ResponseTemplate>) -> (Script, Arc<Mutex<Vec<SystemTime>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    (
        Script {
            answers: Mutex::new(answers),
            arrivals: arrivals.clone(),
        },
        arrivals,
    )
}

#[tokio::test]
async fn a_429_with_an_http_date_is_retried_after_that_date_even_for_post() {
    let server = MockServer::start().await;
    // The next whole second that is at least 1 s away, as Attio would send it.
    let retry_at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 2,
        );
    let limited = ResponseTemplate::new(429)
        .insert_header("retry-after", httpdate::fmt_http_date(retry_at).as_str())
        .set_body_json(error_json(
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            "slow down",
        ));
    let mut created = webhook_json(WEBHOOK_ID);
    created["secret"] = json!("00".repeat(32));
    let (responder, arrivals) = script(vec![
        limited,
        ResponseTemplate::new(200).set_body_json(json!({"data": created})),
    ]);
    Mock::given(method("POST"))
        .respond_with(responder)
        .mount(&server)
        .await;

    let result = client(&server)
        .create_webhook(
            "https://example.com/webhook",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .await
        .unwrap();
    assert_eq!(result.webhook.webhook_id(), id());
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 2);
    assert!(arrivals[1] >= retry_at, "the retry came before Retry-After");
}

#[tokio::test]
async fn a_503_is_retried_for_get_but_not_for_post() {
    let server = MockServer::start().await;
    let unavailable = ResponseTemplate::new(503).set_body_json(error_json(
        503,
        "internal_server_error",
        "internal_error",
        "down",
    ));
    let (get_script, get_arrivals) = script(vec![
        unavailable.clone(),
        unavailable.clone(),
        ResponseTemplate::new(200).set_body_json(json!({"data": webhook_json(WEBHOOK_ID)})),
    ]);
    Mock::given(method("GET"))
        .respond_with(get_script)
        .mount(&server)
        .await;
    let (post_script, post_arrivals) = script(vec![unavailable]);
    Mock::given(method("POST"))
        .respond_with(post_script)
        .mount(&server)
        .await;

    let client = client(&server);
    client.get_webhook(id()).await.unwrap();
    assert_eq!(get_arrivals.lock().unwrap().len(), 3);

    let err = client
        .create_webhook(
            "https://example.com/webhook",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .await
        .unwrap_err();
    assert!(err.is_server_error(), "{err}");
    assert_eq!(
        post_arrivals.lock().unwrap().len(),
        1,
        "POST must not be retried on 503"
    );

    // Opting in per request retries the POST too.
    let opt_in =
        SendOptions::new().retry(fast_retries().retry_non_idempotent(true).max_attempts(3));
    let create = CreateWebhook::new(
        "https://example.com/webhook",
        vec![Subscription::new(EventType::NoteCreated)],
    );
    assert!(client
        .send_with(&create, &opt_in)
        .await
        .unwrap_err()
        .is_server_error());
    assert_eq!(post_arrivals.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn retries_stop_after_max_attempts_and_return_the_last_answer() {
    let server = MockServer::start().await;
    let (responder, arrivals) = script(vec![ResponseTemplate::new(502).set_body_json(error_json(
        502,
        "internal_server_error",
        "internal_error",
        "bad gateway",
    ))]);
    Mock::given(method("DELETE"))
        .respond_with(responder)
        .mount(&server)
        .await;
    let err = client(&server).delete_webhook(id()).await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 502);
    assert_eq!(
        arrivals.lock().unwrap().len(),
        4,
        "the default policy makes 4 attempts"
    );
}

#[tokio::test]
async fn malformed_truncated_and_wrongly_typed_bodies_keep_their_bytes() {
    let server = MockServer::start().await;
    let full = serde_json::to_string(&json!({"data": webhook_json(WEBHOOK_ID)})).unwrap();
    let mut wrong_type = webhook_json(WEBHOOK_ID);
    wrong_type["subscriptions"][0]["filter"]["$and"][0]["value"] = json!(42);
    let mut bad_uuid = webhook_json(WEBHOOK_ID);
    bad_uuid["id"]["webhook_id"] = json!("not-a-uuid");
    let cases: Vec<(u16, String, &str)> = vec![
        (200, "<html>oops</html>".into(), "."),
        (200, full[..full.len() / 2].to_owned(), "data"),
        (
            200,
            json!({"data": wrong_type}).to_string(),
            "data.subscriptions[0].filter.$and[0].value",
        ),
        (
            200,
            json!({"data": bad_uuid}).to_string(),
            "data.id.webhook_id",
        ),
        (
            200,
            json!({"data": {"target_url": "https://x"}}).to_string(),
            "data",
        ),
        (404, "Not Found".into(), "."),
    ];
    let client = client(&server);
    for (status, body, expected_path) in cases {
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status).set_body_raw(body.clone(), "application/json"),
            )
            .mount(&server)
            .await;
        match client.get_webhook(id()).await {
            Err(Error::Decode(e)) => {
                assert_eq!(e.status.as_u16(), status);
                assert_eq!(e.body, body.as_bytes(), "raw bytes are kept");
                if expected_path == "." {
                    assert_eq!(e.path, ".", "for {body}");
                } else {
                    assert!(
                        e.path.starts_with(expected_path),
                        "path {} for {body}",
                        e.path
                    );
                }
            }
            other => panic!("expected a decode error for {body:?}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn unknown_event_types_and_statuses_survive_a_round_trip() {
    let server = MockServer::start().await;
    let mut future = webhook_json(WEBHOOK_ID);
    future["subscriptions"][0]["event_type"] = json!("meeting.created");
    future["subscriptions"][0]["filter"]["$and"][0]["operator"] = json!("starts_with");
    future["status"] = json!("paused");
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": future.clone()})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": future.clone()})))
        .mount(&server)
        .await;
    let client = client(&server);
    let webhook = client.get_webhook(id()).await.unwrap();
    assert_eq!(
        webhook.subscriptions[0].event_type,
        EventType::Unknown("meeting.created".into())
    );
    assert_eq!(webhook.status, WebhookStatus::Unknown("paused".into()));
    assert_eq!(serde_json::to_value(&webhook).unwrap(), future);

    client
        .update_webhook(UpdateWebhook::new(id()).subscriptions(webhook.subscriptions.clone()))
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let sent: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(sent["data"]["subscriptions"], future["subscriptions"]);
}

#[tokio::test]
async fn invalid_input_is_caught_before_sending() {
    let server = MockServer::start().await;
    let client = client(&server);
    let sub = || vec![Subscription::new(EventType::NoteCreated)];
    let err = client
        .create_webhook("http://example.com/hook", sub())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput(InvalidInput::TargetUrl { .. })),
        "{err}"
    );
    let err = client
        .create_webhook("https://example.com/hook", vec![])
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidInput(InvalidInput::NoSubscriptions)
    ));
    for limit in [0, 9, 101] {
        let err = client
            .list_webhooks(ListWebhooks::new().limit(limit))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(InvalidInput::Limit(l)) if l == limit));
    }
    let err = client
        .update_webhook(UpdateWebhook::new(id()).target_url("ftp://x"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidInput(InvalidInput::TargetUrl { .. })
    ));
    assert!(matches!(
        "1234".parse::<WebhookId>(),
        Err(InvalidInput::Id { .. })
    ));
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing reached the server"
    );

    let empty = Client::new(HyperTransport::new().unwrap(), "").unwrap_err();
    assert_eq!(empty, ConfigError::EmptyToken);

    // Loopback http targets pass when the client is told to allow them.
    let relaxed = Client::builder(TOKEN)
        .base_url(server.uri())
        .target_url_policy(TargetUrlPolicy::AllowLoopbackHttp)
        .retry_policy(RetryPolicy::disabled())
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let err = relaxed
        .create_webhook("http://127.0.0.1:9/hook", sub())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Decode(_) | Error::Api(_)),
        "the server's answer came back: {err}"
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1, "exactly the one create was sent");
    assert_eq!(sent[0].method, http::Method::POST);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["data"]["target_url"], "http://127.0.0.1:9/hook");
}

/// A server that answers every GET with 200 after `delay`.
async fn answering_get_after(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(delay))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = answering_get_after(Duration::from_secs(3)).await;
    let client = client_with(&server, |b| {
        b.timeout(Duration::from_millis(100))
            .retry_policy(fast_retries().max_attempts(2))
    });
    let err = client.get_webhook(id()).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_millis(100)),
        "{err}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "a GET timeout is retried"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder(TOKEN)
        .base_url(format!("http://{addr}"))
        .retry_policy(fast_retries())
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let err = client.get_webhook(id()).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err}");
    assert!(err.is_connect());
    assert_eq!(
        err.transport_error().map(|e| e.kind()),
        Some(TransportErrorKind::Connect)
    );
    // One line: what happened, where, and the OS's words for it, once.
    let shown = err.to_string();
    let expected = format!("could not connect to {addr}: ");
    assert!(shown.starts_with(&expected), "{shown}");
    assert_eq!(
        shown.to_lowercase().matches("refused").count(),
        1,
        "names the cause once: {shown}"
    );
    assert!(!shown.contains('\n'));
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    let client = Client::builder(TOKEN)
        .base_url(server.uri())
        .retry_policy(fast_retries())
        .build(HyperTransport::with_max_response_bytes(1024).unwrap())
        .unwrap();
    let err = client.get_webhook(id()).await.unwrap_err();
    let transport = err.transport_error().expect("a TransportError");
    assert_eq!(transport.kind(), TransportErrorKind::BodyTooLarge);
    assert_eq!(transport.body_limit(), Some(1024));
    assert!(
        err.to_string()
            .ends_with("is over the 1024-byte limit (Content-Length: 4096)"),
        "{err}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "a body over the limit would be over it again: no retry"
    );
}

#[tokio::test]
async fn list_all_walks_pages_until_a_short_one() {
    let server = MockServer::start().await;
    let ids: Vec<String> = (0..25u128)
        .map(|i| WebhookId::from_u128(i + 1).to_string())
        .collect();
    for (offset, chunk) in ids.chunks(10).enumerate() {
        let page: Vec<Value> = chunk.iter().map(|i| webhook_json(i)).collect();
        Mock::given(method("GET"))
            .and(path("/v2/webhooks"))
            .and(query_param("limit", "10"))
            .and(query_param("offset", (offset * 10).to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": page})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let all: Vec<_> = client(&server).list_all(10).try_collect().await.unwrap();
    let got: Vec<String> = all.iter().map(|w| w.webhook_id().to_string()).collect();
    assert_eq!(got, ids);

    let err = client(&server)
        .list_all(5)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(InvalidInput::Limit(5))));
}

/// What a new user writes: generic over the transport, `?` inside the
/// loop, an early return. It must compile as is (the stream is `Unpin`),
/// and stopping early must not fetch the pages after the match.
async fn find<T: attio_webhooks::Transport>(
    client: &Client<T>,
    target_url: &str,
) -> Result<Option<attio_webhooks::Webhook>, Error> {
    let mut webhooks = client.list_all(10);
    while let Some(webhook) = webhooks.try_next().await? {
        if webhook.target_url == target_url {
            return Ok(Some(webhook));
        }
    }
    Ok(None)
}

#[tokio::test]
async fn list_all_works_in_generic_code_and_stops_where_the_caller_stops() {
    let server = MockServer::start().await;
    let ids: Vec<String> = (0..20u128)
        .map(|i| WebhookId::from_u128(i + 1).to_string())
        .collect();
    for (offset, chunk) in ids.chunks(10).enumerate() {
        let page: Vec<Value> = chunk.iter().map(|i| webhook_json(i)).collect();
        Mock::given(method("GET"))
            .and(query_param("offset", (offset * 10).to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": page})))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(query_param("offset", "20"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    let client = client(&server);
    let found = find(&client, "https://example.com/webhook")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.webhook_id().to_string(), ids[0]);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "the match is on the first page: no second request"
    );

    // The future is Send: it runs on another task of a multi-thread runtime.
    let spawned = tokio::spawn(async move {
        find(&client, "https://nowhere.example/")
            .await
            .map(|w| w.is_none())
    });
    assert!(spawned.await.unwrap().unwrap());
    // Two full pages and the empty one after them.
    assert_eq!(server.received_requests().await.unwrap().len(), 1 + 3);
}

#[tokio::test]
async fn list_all_steps_by_what_arrived_and_ends_on_an_empty_page() {
    let server = MockServer::start().await;
    let ids: Vec<String> = (0..23u128)
        .map(|i| WebhookId::from_u128(i + 1).to_string())
        .collect();
    // A server that sends more than asked (12 for a limit of 10), then exactly
    // a full page, then nothing: every webhook once, none twice.
    for (offset, range) in [(0usize, 0..12usize), (12, 12..22), (22, 22..23)] {
        let page: Vec<Value> = ids[range].iter().map(|i| webhook_json(i)).collect();
        Mock::given(method("GET"))
            .and(query_param("offset", offset.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": page})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let all: Vec<_> = client(&server).list_all(10).try_collect().await.unwrap();
    let got: Vec<String> = all.iter().map(|w| w.webhook_id().to_string()).collect();
    assert_eq!(got, ids);

    // A total that is a multiple of the page size ends on one empty page.
    let server = MockServer::start().await;
    for (offset, count) in [(0usize, 10usize), (10, 10), (20, 0)] {
        let page: Vec<Value> = ids[..count].iter().map(|i| webhook_json(i)).collect();
        Mock::given(method("GET"))
            .and(query_param("offset", offset.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": page})))
            .expect(1)
            .mount(&server)
            .await;
    }
    assert_eq!(
        client(&server)
            .list_all(10)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        20
    );
}

#[tokio::test]
async fn api_error_codes_are_open() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(418).set_body_json(error_json(
            418,
            "teapot_error",
            "short_and_stout",
            "no",
        )))
        .mount(&server)
        .await;
    let err = client(&server).get_webhook(id()).await.unwrap_err();
    let body = err.api_error().unwrap();
    assert_eq!(body.code, ErrorCode::Unknown("short_and_stout".into()));
    assert_eq!(body.kind.as_str(), "teapot_error");
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(error_json(
        404,
        "invalid_request_error",
        "not_found",
        &format!("Webhook with ID \"{WEBHOOK_ID}\" was not found."),
    ))
}

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).set_body_json(error_json(
        503,
        "internal_server_error",
        "internal_error",
        "down",
    ))
}

/// Mounts `answers` for one method, in order; returns the arrival log.
async fn answer_in_turn(
    server: &MockServer,
    verb: &str,
    answers: Vec<ResponseTemplate>,
) -> Arc<Mutex<Vec<SystemTime>>> {
    let (responder, arrivals) = script(answers);
    Mock::given(method(verb))
        .respond_with(responder)
        .mount(server)
        .await;
    arrivals
}

#[tokio::test]
async fn a_delete_retried_after_a_503_that_finds_it_gone_succeeds() {
    // Attio deleted the webhook but answered 503; the retry gets 404.
    let server = MockServer::start().await;
    let arrivals = answer_in_turn(&server, "DELETE", vec![unavailable(), not_found()]).await;
    client(&server).delete_webhook(id()).await.unwrap();
    assert_eq!(arrivals.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_404_stands_when_no_earlier_attempt_could_have_done_the_work() {
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "0");
    for (case, answers) in [
        ("a DELETE's first attempt", vec![not_found()]),
        // A 429'd request was not processed: the 404 is the webhook's own.
        ("a DELETE after a 429", vec![limited, not_found()]),
        // Only DELETE reads a late 404 as its own work.
        ("a GET after a 503", vec![unavailable(), not_found()]),
    ] {
        let server = MockServer::start().await;
        let verb = if case.contains("GET") {
            "GET"
        } else {
            "DELETE"
        };
        let sent = answers.len();
        let arrivals = answer_in_turn(&server, verb, answers).await;
        let client = client(&server);
        let err = match verb {
            "GET" => client.get_webhook(id()).await.map(drop),
            _ => client.delete_webhook(id()).await,
        }
        .unwrap_err();
        assert!(err.is_not_found(), "{case}: {err}");
        assert_eq!(arrivals.lock().unwrap().len(), sent, "{case}");
    }
}

#[tokio::test]
async fn a_delete_retried_after_a_timeout_that_finds_it_gone_succeeds() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(json!({}))
        .set_delay(Duration::from_secs(2));
    let arrivals = answer_in_turn(&server, "DELETE", vec![slow, not_found()]).await;
    let client = client_with(&server, |b| b.timeout(Duration::from_millis(200)));
    client.delete_webhook(id()).await.unwrap();
    assert_eq!(arrivals.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_deadline_bounds_the_whole_call() {
    let server = answering_get_after(Duration::from_secs(3)).await;
    let client = client_with(&server, |b| {
        b.timeout(Duration::from_secs(30))
            .deadline(Duration::from_millis(300))
    });
    let err = client.get_webhook(id()).await.unwrap_err();
    assert!(
        matches!(err, Error::Deadline(d) if d == Duration::from_millis(300)),
        "{err}"
    );
    assert!(err.is_timeout());
    assert!(err.to_string().contains("overall deadline"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Per call, SendOptions overrides it (both ways).
    let quicker = SendOptions::new().deadline(Duration::from_millis(100));
    let get = attio_webhooks::operations::GetWebhook::new(id());
    let err = client.send_with(&get, &quicker).await.unwrap_err();
    assert!(
        matches!(err, Error::Deadline(d) if d == Duration::from_millis(100)),
        "{err}"
    );
    let unbounded = SendOptions::new()
        .no_deadline()
        .timeout(Duration::from_millis(150))
        .retry(RetryPolicy::disabled());
    let err = client.send_with(&get, &unbounded).await.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
}

#[tokio::test]
async fn a_retry_whose_wait_would_pass_the_deadline_is_not_made() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(429)
        .insert_header("retry-after", "2")
        .set_body_json(error_json(
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            "slow down",
        ));
    let arrivals = answer_in_turn(&server, "GET", vec![limited]).await;
    let client = client_with(&server, |b| b.deadline(Duration::from_secs(1)));
    let err = client.get_webhook(id()).await.unwrap_err();
    assert!(err.is_rate_limited(), "the last failure, not a wait: {err}");
    assert_eq!(arrivals.lock().unwrap().len(), 1);
}

//! No API token and no webhook secret in anything a program prints or
//! logs: every error variant (`Display`, `Debug`, pretty `Debug`, and the
//! whole `source()` chain), the `Debug` of every value that holds one, and
//! the tracing output of a whole lifecycle captured at TRACE level, with
//! retries, faults, errors, a delivery and its verification.
//!
//! A leak is looked for as the whole value and as any 16-character piece
//! of it, so a truncated or re-encoded copy counts too.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::operations::{CreateWebhook, ListWebhooks, UpdateWebhook};
use attio_webhooks::receive::signature::{self, SignatureError};
use attio_webhooks::receive::Verifier;
use attio_webhooks::{
    error::{ConfigError, InvalidInput},
    model::TargetUrlPolicy,
    model::Timestamp,
    receive::Actor,
    receive::Delivery,
    receive::Event,
    receive::ReceiveError,
    receive::Secrets,
    transport::HyperTransport,
    Client, Error, EventType, RequestExt, RetryPolicy, Secret, Subscription, Transport, WebhookId,
};
use attio_webhooks_testkit::{FakeAttio, FakeServer, Fault, FaultRule, Scope};
use bytes::Bytes;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "sk_live_HYGIENE_a1b2c3d4e5f6a7b8c9d0";
const OTHER_TOKEN: &str = "sk_live_WRONGTOKEN_f0e1d2c3b4a59687";
const CONTROL_TOKEN: &str = "control_HYGIENE_0f1e2d3c4b5a6978";

/// The values nothing may show.
struct Forbidden {
    values: Vec<String>,
}

impl Forbidden {
    fn new() -> Self {
        Forbidden {
            values: vec![TOKEN.into(), OTHER_TOKEN.into(), CONTROL_TOKEN.into()],
        }
    }

    fn add(&mut self, secret: &Secret) {
        self.values.push(secret.expose().to_owned());
    }

    /// Fails if `text` holds any value, or any 16-character piece of one.
    fn assert_absent(&self, text: &str, what: &str) {
        for value in &self.values {
            let piece = value
                .as_bytes()
                .windows(16.min(value.len()))
                .find(|piece| text.as_bytes().windows(piece.len()).any(|w| w == *piece));
            if let Some(piece) = piece {
                panic!(
                    "{what} shows a secret ({:?} of {value:?}):\n{text}",
                    String::from_utf8_lossy(piece)
                );
            }
        }
    }
}

/// `Display`, `Debug`, `{:#?}` and the `source()` chain of an error.
fn everything_about(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{error}\n{error:?}\n{error:#?}");
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(&format!("\ncaused by: {cause}\n{cause:?}"));
        source = cause.source();
    }
    out
}

async fn server() -> FakeServer {
    FakeAttio::builder()
        .token(TOKEN, [Scope::ReadWrite])
        .control_token(CONTROL_TOKEN)
        .allow_loopback_http_targets()
        .build()
        .serve()
        .await
        .unwrap()
}

fn client(server: &FakeServer, token: &str, timeout: Duration) -> Client<HyperTransport> {
    Client::builder(token)
        .base_url(server.base_url())
        .target_url_policy(TargetUrlPolicy::AllowLoopbackHttp)
        .timeout(timeout)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_retry_after(Duration::from_secs(1)),
        )
        .build(HyperTransport::new().unwrap())
        .unwrap()
}

fn subscriptions() -> Vec<Subscription> {
    vec![Subscription::new(EventType::RecordCreated)]
}

/// Every variant of `Error` (and of the errors beside it) that a program
/// can meet, made the way a program meets it where it can be.
#[tokio::test]
async fn every_error_variant_formats_without_a_token_or_a_secret() {
    let server = server().await;
    let client = client(&server, TOKEN, Duration::from_millis(300));
    let created = client
        .create_webhook("https://example.com/hygiene", subscriptions())
        .await
        .unwrap();
    let mut secrets = Forbidden::new();
    secrets.add(&created.secret);
    let id = created.webhook.webhook_id();
    let mut errors: Vec<(String, Box<dyn std::error::Error + 'static>)> = Vec::new();
    let mut push = |what: &str, error: Box<dyn std::error::Error + 'static>| {
        errors.push((what.to_owned(), error));
    };
    let expect_err = |result: Result<_, Error>, what: &str| -> Error {
        match result {
            Ok(value) => panic!("{what}: expected an error, got {value:?}"),
            Err(error) => error,
        }
    };

    // Error::Api: 404, 409, 400, 401 (the wrong token), 403, 503.
    push(
        "404",
        Box::new(expect_err(
            client.get_webhook(WebhookId::from_u128(7)).await.map(drop),
            "404",
        )),
    );
    push(
        "409",
        Box::new(expect_err(
            client
                .create_webhook("https://example.com/hygiene", subscriptions())
                .await
                .map(drop),
            "409",
        )),
    );
    push(
        "400",
        Box::new(expect_err(
            client
                .create_webhook(
                    "https://example.com/x",
                    vec![Subscription::new(EventType::from("no.such-type"))],
                )
                .await
                .map(drop),
            "400",
        )),
    );
    let wrong = self::client(&server, OTHER_TOKEN, Duration::from_secs(5));
    let unauthorized = expect_err(
        wrong.list_webhooks(ListWebhooks::new()).await.map(drop),
        "401",
    );
    assert!(unauthorized.is_unauthorized(), "{unauthorized:?}");
    push("401", Box::new(unauthorized));
    let reader = FakeAttio::builder().token(TOKEN, [Scope::Read]).build();
    let forbidden = expect_err(
        reader.client_with_token(TOKEN).delete_webhook(id).await,
        "403",
    );
    assert!(forbidden.is_forbidden(), "{forbidden:?}");
    push("403", Box::new(forbidden));
    server.inject(FaultRule::new(Fault::status(503)).times(4));
    push(
        "503",
        Box::new(expect_err(client.get_webhook(id).await.map(drop), "503")),
    );

    // Error::RateLimited, the long `Retry-After` the client will not wait for.
    server.inject(FaultRule::new(Fault::RateLimitedFor { seconds: 3600 }));
    let limited = expect_err(client.get_webhook(id).await.map(drop), "429");
    assert!(limited.is_rate_limited());
    push("429", Box::new(limited));

    // Error::Timeout.
    server.inject(FaultRule::new(Fault::delay(Duration::from_secs(2))).times(4));
    let timeout = expect_err(client.get_webhook(id).await.map(drop), "timeout");
    assert!(timeout.is_timeout());
    push("timeout", Box::new(timeout));
    server.clear_faults();

    // Error::Deadline: the whole call's bound, retries and waits included.
    server.inject(FaultRule::new(Fault::delay(Duration::from_millis(250))).times(8));
    let options = attio_webhooks::SendOptions::default()
        .timeout(Duration::from_secs(5))
        .deadline(Duration::from_millis(100));
    let deadline = expect_err(
        client
            .send_with(&attio_webhooks::operations::GetWebhook::new(id), &options)
            .await
            .map(drop),
        "deadline",
    );
    assert!(matches!(deadline, Error::Deadline(_)), "{deadline:?}");
    push("deadline", Box::new(deadline));
    server.clear_faults();

    // Error::Transport: a dropped connection, a refused one, a body over the limit.
    server.inject(FaultRule::new(Fault::DropConnection).times(4));
    push(
        "dropped",
        Box::new(expect_err(
            client.get_webhook(id).await.map(drop),
            "dropped",
        )),
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = Client::builder(TOKEN)
        .base_url(format!("http://{closed}"))
        .retry_policy(RetryPolicy::disabled())
        .build(HyperTransport::new().unwrap())
        .unwrap();
    push(
        "refused",
        Box::new(expect_err(
            refused.get_webhook(id).await.map(drop),
            "refused",
        )),
    );
    let small = Client::builder(TOKEN)
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::disabled())
        .build(HyperTransport::with_max_response_bytes(16).unwrap())
        .unwrap();
    push(
        "too large",
        Box::new(expect_err(
            small.get_webhook(id).await.map(drop),
            "too large",
        )),
    );

    // Error::Decode: a create answer cut short, and one that is not JSON.
    server.inject(FaultRule::new(Fault::TruncatedBody));
    push(
        "truncated create",
        Box::new(expect_err(
            client
                .create_webhook("https://example.com/cut", subscriptions())
                .await
                .map(drop),
            "truncated",
        )),
    );
    server.inject(FaultRule::new(Fault::MalformedBody { status: 200 }));
    push(
        "malformed",
        Box::new(expect_err(
            client.get_webhook(id).await.map(drop),
            "malformed",
        )),
    );

    // Error::InvalidInput and Error::Config, every variant.
    let invalid: Vec<(&str, InvalidInput)> = vec![
        (
            "target url",
            expect_invalid(
                client
                    .create_webhook("http://example.com/x", subscriptions())
                    .await,
            ),
        ),
        (
            "no subscriptions",
            expect_invalid(client.create_webhook("https://example.com/y", vec![]).await),
        ),
        (
            "limit",
            expect_invalid(client.list_webhooks(ListWebhooks::new().limit(5)).await),
        ),
        ("id", WebhookId::parse("not-a-uuid").unwrap_err()),
        ("timestamp", Timestamp::parse("yesterday").unwrap_err()),
        ("body", InvalidInput::Body("key must be a string".into())),
    ];
    for (what, error) in invalid {
        push(what, Box::new(Error::from(error)));
    }
    let misconfigured = [
        ("empty token", Client::new(NoNetwork, "").unwrap_err()),
        (
            "token not a header value",
            Client::new(NoNetwork, format!("{TOKEN}\n")).unwrap_err(),
        ),
        (
            "base url",
            Client::builder(TOKEN)
                .base_url("ftp://example.com")
                .build(NoNetwork)
                .unwrap_err(),
        ),
        ("no timer", ConfigError::NoTimer),
    ];
    for (what, error) in misconfigured {
        push(what, Box::new(Error::from(error)));
    }

    // The receiving side: every signature failure, a bad payload, a body too large.
    let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
    let good = signature::sign(&created.secret, body);
    let headers = |value: &str| {
        let mut headers = http::HeaderMap::new();
        headers.insert("attio-signature", value.parse().unwrap());
        headers
    };
    let verifier = Verifier::new(Secrets::new(created.secret.clone()).and(Secret::new("previous")));
    let receive: Vec<(&str, ReceiveError)> = vec![
        (
            "missing header",
            verifier.verify(&http::HeaderMap::new(), body).unwrap_err(),
        ),
        (
            "wrong length",
            verifier.verify(&headers(&good[..40]), body).unwrap_err(),
        ),
        (
            "not hex",
            verifier
                .verify(&headers(&format!("{}zz", &good[..62])), body)
                .unwrap_err(),
        ),
        (
            "mismatch",
            verifier
                .verify(&headers(&good), b"{\"tampered\":1}")
                .unwrap_err(),
        ),
        (
            "payload",
            verifier
                .verify(&headers(&signature::sign(&created.secret, b"[]")), b"[]")
                .unwrap_err(),
        ),
        (
            "too large",
            Verifier::new(created.secret.clone())
                .with_max_body_bytes(4)
                .verify(&headers(&good), body)
                .unwrap_err(),
        ),
        ("body", ReceiveError::Body("connection reset".into())),
    ];
    for (what, error) in receive {
        push(what, Box::new(error));
    }
    push("signature", Box::new(SignatureError::Mismatch));
    push(
        "payload",
        Box::new(Delivery::parse(b"{\"webhook_id\":1}").unwrap_err()),
    );

    // The in-process door's own error.
    let in_process = FakeAttio::new();
    in_process.inject(FaultRule::new(Fault::DropConnection));
    let dropped = in_process
        .transport()
        .send(
            http::Request::get("/v2/webhooks")
                .header("authorization", format!("Bearer {}", in_process.token()))
                .body(Bytes::new())
                .unwrap(),
        )
        .await
        .unwrap_err();
    push("in-process drop", Box::new(dropped));

    assert!(errors.len() >= 30, "{}", errors.len());
    for (what, error) in &errors {
        let text = everything_about(error.as_ref());
        assert!(!text.trim().is_empty(), "{what} says nothing");
        secrets.assert_absent(&text, what);
    }

    // Values that hold a token or a secret.
    let values = [
        ("client", format!("{client:?}")),
        ("builder", format!("{:?}", Client::builder(TOKEN))),
        ("endpoint", format!("{:?}", client.endpoint())),
        ("created", format!("{created:?} {created:#?}")),
        ("secret", format!("{:?} {}", created.secret, created.secret)),
        ("verifier", format!("{verifier:?}")),
        ("fake", format!("{:?}", *server)),
        ("server", format!("{server:?}")),
    ];
    for (what, text) in values {
        secrets.assert_absent(&text, what);
    }
}

fn expect_invalid<T: std::fmt::Debug>(result: Result<T, Error>) -> InvalidInput {
    match result {
        Err(Error::InvalidInput(invalid)) => invalid,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

/// A transport for clients that are never meant to send.
struct NoNetwork;

#[async_trait::async_trait]
impl Transport for NoNetwork {
    type Error = std::io::Error;
    async fn send(&self, _: http::Request<Bytes>) -> Result<http::Response<Bytes>, std::io::Error> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// A create answer that does not decode keeps its raw bytes as evidence;
/// those bytes hold the new webhook's secret, which must not reach the
/// error's `Display` or `Debug`.
#[test]
fn a_create_answer_that_does_not_decode_keeps_the_secret_out_of_the_error() {
    let secret = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";
    // Everything right but the status, which has the wrong type.
    let body = format!(
        r#"{{"data":{{"target_url":"https://example.com/hook","subscriptions":[{{"event_type":"record.created","filter":null}}],"id":{{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"}},"status":7,"created_at":"2023-04-27T13:22:49.061281000Z","secret":"{secret}"}}}}"#
    );
    let response = http::Response::new(Bytes::from(body));
    let error = CreateWebhook::decode(response).unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    let mut secrets = Forbidden::new();
    secrets.add(&Secret::new(secret));
    secrets.assert_absent(
        &everything_about(&error),
        "a create answer that did not decode",
    );
}

/// Collects everything a `fmt` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// A TRACE-level `fmt` subscriber writing here, as this thread's
    /// default until the guard drops.
    fn install() -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A receiver on loopback that verifies each delivery with `verifier`
/// and logs what it got, as a service would.
async fn receiver(verifier: Arc<Verifier>, verified: Arc<Mutex<u32>>) -> SocketAddr {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: http::HeaderMap, body: Bytes| {
            let (verifier, verified) = (Arc::clone(&verifier), Arc::clone(&verified));
            async move {
                match verifier.verify(&headers, &body) {
                    Ok(delivery) => {
                        tracing::info!(?delivery, "delivery verified");
                        *verified.lock().unwrap() += 1;
                        http::StatusCode::OK
                    }
                    Err(error) => {
                        tracing::warn!(%error, ?error, "delivery refused");
                        error.status()
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The whole lifecycle at TRACE: create, list, get, update, a delivery
/// verified by a receiver, retried faults, errors logged the way services
/// log them (`%error` and `?error`), delete. The subscriber is this
/// thread's default and the runtime is single-threaded, so everything the
/// client, hyper, the fake and the receiver log is captured.
#[tokio::test(flavor = "current_thread")]
async fn a_lifecycle_traced_at_trace_level_shows_no_token_or_secret() {
    let (captured, _guard) = Captured::install();

    let server = server().await;
    let client = client(&server, TOKEN, Duration::from_millis(300));
    let verifier = Arc::new(Verifier::new(Secret::new("not yet")));
    let verified = Arc::new(Mutex::new(0));
    let addr = receiver(Arc::clone(&verifier), Arc::clone(&verified)).await;
    let mut secrets = Forbidden::new();

    let log = |result: Result<(), Error>| {
        if let Err(error) = result {
            tracing::warn!(%error, ?error, "call failed");
        }
    };

    let created = client
        .create_webhook(format!("http://{addr}/hook"), subscriptions())
        .await
        .unwrap();
    secrets.add(&created.secret);
    tracing::info!(?created, "created");
    verifier.set_secrets(created.secret.clone());
    let id = created.webhook.webhook_id();

    // A second webhook whose create answer is cut short: its secret is in
    // the fake only, and must not reach the log through the decode error.
    server.inject(FaultRule::new(Fault::TruncatedBody));
    log(client
        .create_webhook(format!("http://{addr}/other"), subscriptions())
        .await
        .map(drop));
    for webhook in server.webhooks_with_secrets() {
        secrets.add(&webhook.secret);
    }

    server.inject(FaultRule::new(Fault::status(503)).method("GET"));
    server.inject(FaultRule::new(Fault::RateLimitedFor { seconds: 1 }).method("GET"));
    let listed = client.list_webhooks(ListWebhooks::new()).await.unwrap();
    tracing::info!(?listed, "listed");
    server.inject(FaultRule::new(Fault::DropConnectionAfterHandling).method("PATCH"));
    let updated = client
        .update_webhook(UpdateWebhook::new(id).subscriptions(vec![
            Subscription::new(EventType::RecordCreated).with_filter(attio_webhooks::Filter::And(
                vec![attio_webhooks::Condition::equals("id.object_id", "people")],
            )),
        ]))
        .await
        .unwrap();
    tracing::info!(?updated, "updated");
    log(client.get_webhook(WebhookId::from_u128(1)).await.map(drop));
    server.inject(FaultRule::new(Fault::delay(Duration::from_secs(1))).times(4));
    log(client.get_webhook(id).await.map(drop));
    server.clear_faults();

    let event = Event::new(
        EventType::RecordCreated,
        server.workspace_id(),
        Actor::system(),
    )
    .with_id("object_id", "people")
    .with_id("record_id", "rec-1");
    server.emit(event);
    server.settle_deliveries().await;
    assert_eq!(
        *verified.lock().unwrap(),
        1,
        "the receiver verified the delivery"
    );
    tracing::info!(log = ?server.delivery_log(), "deliveries");

    client.delete_webhook(id).await.unwrap();
    log(client.delete_webhook(id).await);

    let output = captured.text();
    for expected in [
        "attio.webhooks.call",
        "retrying",
        "delivery verified",
        "call failed",
    ] {
        assert!(
            output.contains(expected),
            "the capture lacks {expected:?}:\n{output}"
        );
    }
    secrets.assert_absent(&output, "the TRACE log");
}

/// Against another server (wiremock) answering 503: the spans name the
/// request, the retry is logged, and the token shows nowhere.
#[tokio::test]
async fn spans_name_the_request_but_never_the_token() {
    let (captured, _guard) = Captured::install();

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = Client::builder("sk_live_do_not_log_me")
        .base_url(server.uri())
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(2))
                .max_attempts(2),
        )
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let err = client
        .get_webhook(WebhookId::from_u128(9))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "both attempts were made, so the retry was logged"
    );
    let debug = format!("{client:?}");

    let output = captured.text();
    assert!(output.contains("attio.webhooks.call"), "{output}");
    assert!(output.contains("attio.webhooks.attempt"), "{output}");
    assert!(output.contains("retrying"), "{output}");
    assert!(
        output.contains("/v2/webhooks/00000000-0000-0000-0000-000000000009"),
        "{output}"
    );
    assert!(!output.contains("do_not_log_me"), "{output}");
    assert!(!format!("{err:?}").contains("do_not_log_me"));
    assert!(
        debug.contains(&server.uri()),
        "the Debug output says something: {debug}"
    );
    assert!(!debug.contains("do_not_log_me"), "{debug}");
}

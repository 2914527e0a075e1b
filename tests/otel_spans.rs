//! The client's spans as OpenTelemetry sees them: `tracing-opentelemetry`
//! into an in-memory exporter, for a GET the fake answers 503 twice and
//! then 200. One call span, three attempt spans under it, the conventional
//! attribute names, each attempt's `X-Attio-Execution-Id` the one the fake
//! answered it with, and the token nowhere.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::error::EXECUTION_ID_HEADER;
use attio_webhooks::{Client, EventType, RetryPolicy, Subscription, Transport};
use attio_webhooks_testkit::{FakeAttio, Fault, FaultRule, InProcessTransport, Scope};
use bytes::Bytes;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

const TOKEN: &str = "sk_live_spans_must_not_show_me";

/// The in-process transport, noting the execution id of every answer: the
/// oracle for the spans' `attio.execution_id`.
struct Noting {
    inner: InProcessTransport,
    execution_ids: Arc<Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl Transport for Noting {
    type Error = <InProcessTransport as Transport>::Error;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        let response = self.inner.send(request).await?;
        let id = response.headers()[EXECUTION_ID_HEADER].to_str().unwrap();
        self.execution_ids.lock().unwrap().push(id.to_owned());
        Ok(response)
    }

    fn is_retryable(error: &Self::Error) -> bool {
        InProcessTransport::is_retryable(error)
    }

    fn request_may_have_been_sent(error: &Self::Error) -> bool {
        InProcessTransport::request_may_have_been_sent(error)
    }
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn string(span: &SpanData, key: &str) -> String {
    match attribute(span, key) {
        Some(value) => value.as_str().into_owned(),
        None => panic!("{} has no {key}: {:#?}", span.name, span.attributes),
    }
}

fn int(span: &SpanData, key: &str) -> i64 {
    match attribute(span, key) {
        Some(Value::I64(n)) => *n,
        other => panic!("{} has {key} = {other:?}", span.name),
    }
}

fn float(span: &SpanData, key: &str) -> f64 {
    match attribute(span, key) {
        Some(Value::F64(n)) => *n,
        other => panic!("{} has {key} = {other:?}", span.name),
    }
}

#[tokio::test]
async fn a_get_retried_twice_on_503_is_one_call_span_over_three_attempt_spans() {
    let fake = FakeAttio::builder()
        .token(TOKEN, [Scope::ReadWrite])
        .build();
    let created = fake
        .client_with_token(TOKEN)
        .create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::RecordCreated)],
        )
        .await
        .unwrap();
    let webhook_id = created.webhook.id.webhook_id;
    let execution_ids = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder(TOKEN)
        .base_url(InProcessTransport::BASE_URL)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(2))
                .max_attempts(3),
        )
        .build(Noting {
            inner: fake.transport(),
            execution_ids: Arc::clone(&execution_ids),
        })
        .unwrap();
    fake.inject(FaultRule::new(Fault::status(503)).times(2));

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("otel_spans")));
    let got = {
        let _guard = tracing::subscriber::set_default(subscriber);
        client.get_webhook(webhook_id).await.unwrap()
    };
    assert_eq!(got.id.webhook_id, webhook_id);
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let execution_ids = execution_ids.lock().unwrap().clone();
    assert_eq!(execution_ids.len(), 3, "three answers: {execution_ids:?}");

    // One call span, named after the operation.
    let calls: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "attio.webhooks.get")
        .collect();
    assert_eq!(calls.len(), 1, "{spans:#?}");
    let call = calls[0];
    assert_eq!(string(call, "attio.operation"), "attio.webhooks.get");
    assert_eq!(string(call, "http.request.method"), "GET");
    assert_eq!(string(call, "server.address"), "localhost");
    assert_eq!(int(call, "server.port"), 80);
    assert_eq!(string(call, "url.template"), "/v2/webhooks/{webhook_id}");
    assert_eq!(int(call, "attio.attempts"), 3);
    assert_eq!(int(call, "http.response.status_code"), 200);
    assert_eq!(string(call, "attio.execution_id"), execution_ids[2]);
    assert!(attribute(call, "error.type").is_none(), "{call:#?}");
    let waited = float(call, "attio.retry.backoff_total_s");
    assert!(waited > 0.0 && waited <= 0.004, "{waited}");

    // Three attempt spans under it, in order, named by the conventions.
    let mut attempts: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id == call.span_context.span_id())
        .collect();
    attempts.sort_by_key(|s| s.start_time);
    assert_eq!(attempts.len(), 3, "{spans:#?}");
    assert_eq!(spans.len(), 4, "nothing else: {spans:#?}");
    let url = format!("http://localhost/v2/webhooks/{webhook_id}");
    for (n, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.name, "GET /v2/webhooks/{webhook_id}");
        assert_eq!(attempt.span_kind, SpanKind::Client);
        assert_eq!(
            attempt.span_context.trace_id(),
            call.span_context.trace_id()
        );
        assert_eq!(string(attempt, "http.request.method"), "GET");
        assert_eq!(string(attempt, "server.address"), "localhost");
        assert_eq!(int(attempt, "server.port"), 80);
        assert_eq!(string(attempt, "url.full"), url);
        assert_eq!(string(attempt, "url.template"), "/v2/webhooks/{webhook_id}");
        assert_eq!(
            string(attempt, "attio.execution_id"),
            execution_ids[n],
            "attempt {n} carries the id its answer had"
        );
        match n {
            0 => assert!(attribute(attempt, "http.request.resend_count").is_none()),
            _ => assert_eq!(int(attempt, "http.request.resend_count"), n as i64),
        }
        if n < 2 {
            assert_eq!(int(attempt, "http.response.status_code"), 503);
            assert_eq!(string(attempt, "error.type"), "503");
            assert!(
                matches!(attempt.status, Status::Error { .. }),
                "{attempt:#?}"
            );
            assert_eq!(string(attempt, "attio.retry.decision"), "retry");
            let backoff = float(attempt, "attio.retry.backoff_s");
            assert!(backoff > 0.0 && backoff <= 0.002, "{backoff}");
        } else {
            assert_eq!(int(attempt, "http.response.status_code"), 200);
            for absent in [
                "error.type",
                "attio.retry.decision",
                "attio.retry.backoff_s",
            ] {
                assert!(
                    attribute(attempt, absent).is_none(),
                    "{absent}: {attempt:#?}"
                );
            }
        }
    }
    let ids: std::collections::HashSet<_> = execution_ids.iter().collect();
    assert_eq!(ids.len(), 3, "a fresh id per answer");
    // The trace as a tree, for a reader (`-- --nocapture` shows it).
    eprintln!("{}", tree(call, &attempts));

    // No name or value of any attribute or event says the token.
    let everything = format!("{spans:?}");
    assert!(everything.contains("attio.execution_id"));
    assert!(!everything.contains(TOKEN), "{everything}");
    assert!(!everything.contains("spans_must_not_show"), "{everything}");
    assert!(
        !everything.to_lowercase().contains("authorization"),
        "{everything}"
    );
}

/// The call span and its attempts, one line each, with their attributes.
fn tree(call: &SpanData, attempts: &[&SpanData]) -> String {
    let line = |span: &SpanData| {
        let attributes: Vec<String> = span
            .attributes
            .iter()
            // What the bridge adds about the code and the thread is left out.
            .filter(|kv| {
                let key = kv.key.as_str();
                let about_code = key.starts_with("code.") || key.starts_with("thread.");
                !(about_code || key == "target" || key.ends_with("_ns"))
            })
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect();
        format!("{} [{}]", span.name, attributes.join(" "))
    };
    let mut text = line(call);
    for (n, attempt) in attempts.iter().enumerate() {
        let branch = if n + 1 == attempts.len() {
            "└─"
        } else {
            "├─"
        };
        text.push_str(&format!("\n{branch} {}", line(attempt)));
    }
    text
}

//! The token never reaches the tracing output, even with retries logged.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::{Client, HyperTransport, RetryPolicy, WebhookId};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

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

#[tokio::test]
async fn spans_name_the_request_but_never_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("attio.request"), "{output}");
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

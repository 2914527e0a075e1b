//! The `fake-attio` binary, run as another language's test would run it.

mod common;

use std::process::Command;

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{Client, EventType, HyperTransport, Subscription};
use common::Binary;

fn start(args: &[&str]) -> (Binary, String) {
    let binary = Binary::start(args, &[]);
    let base_url = binary.base_url.clone();
    (binary, base_url)
}

fn client(base_url: &str, token: &str) -> Client<HyperTransport> {
    Client::builder(token)
        .base_url(base_url)
        .build(HyperTransport::new().unwrap())
        .unwrap()
}

#[tokio::test]
async fn serves_the_api_with_its_tokens_and_scopes() {
    let (_running, base_url) = start(&[
        "--port",
        "0",
        "--token",
        "KEY",
        "--token",
        "READER=webhook:read",
    ]);
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");

    let writer = client(&base_url, "KEY");
    let created = writer
        .create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::RecordCreated)],
        )
        .await
        .unwrap();
    let reader = client(&base_url, "READER");
    assert_eq!(
        reader
            .get_webhook(created.webhook.webhook_id())
            .await
            .unwrap(),
        created.webhook
    );
    assert!(reader
        .delete_webhook(created.webhook.webhook_id())
        .await
        .unwrap_err()
        .is_forbidden());
    assert!(client(&base_url, "fake-attio-token")
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap_err()
        .is_unauthorized());
    writer
        .delete_webhook(created.webhook.webhook_id())
        .await
        .unwrap();
}

#[tokio::test]
async fn options_for_workspace_and_local_targets() {
    let ws = "14beef7a-99f7-4534-a87e-70b564330a4c";
    let (_running, base_url) = start(&["--workspace-id", ws, "--allow-http-targets"]);
    let client = Client::builder("fake-attio-token")
        .base_url(&base_url)
        .target_url_policy(attio_webhooks::TargetUrlPolicy::AllowLoopbackHttp)
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let created = client
        .create_webhook(
            "http://127.0.0.1:9999/hook",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .await
        .unwrap();
    assert_eq!(created.webhook.id.workspace_id.to_string(), ws);
}

/// The clock's `now` as the control endpoint answers it, for `method` and `body`.
async fn clock(
    base_url: &str,
    method: &str,
    path: &str,
    body: &'static str,
) -> attio_webhooks::Timestamp {
    use http_body_util::BodyExt;
    let http: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{base_url}/__fake/{path}"))
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            body.as_bytes(),
        )))
        .unwrap();
    let answer = http
        .request(request)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    answer["data"]["now"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_manual_clock_moves_only_when_told() {
    let (_running, base_url) = start(&["--manual-clock"]);
    let before = clock(&base_url, "GET", "clock", "").await;
    let after = clock(
        &base_url,
        "POST",
        "clock/advance",
        r#"{"data":{"seconds":86400}}"#,
    )
    .await;
    assert_eq!(
        after.duration_since(before),
        std::time::Duration::from_secs(86400)
    );
    // Nothing else moves it.
    assert_eq!(clock(&base_url, "GET", "clock", "").await, after);
}

#[test]
fn bad_arguments_exit_with_usage() {
    for args in [
        &["--port", "http"][..],
        &["--token", "K=webhook:admin"],
        &["--frobnicate"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage: fake-attio"));
    }
    let help = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
}

//! The client against Attio's answers as observed live, written by hand
//! from their sources (FIDELITY.md names each row): what a user's code
//! sees of a refused body, an auth error and the execution id.

use attio_webhooks::error::{ErrorType, PathSegment};
use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{transport::HyperTransport, Client, ErrorCode, EventType, Subscription};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The 400 rbeene/attio_ruby captured for `POST /v2/webhooks` on
/// 2025-07-27 (`api_response_documentation.md`), with its execution id.
const CAPTURED_400: &str = concat!(
    r#"{"status_code":400,"type":"invalid_request_error","code":"validation_type","#,
    r#""message":"Body payload validation error.","validation_errors":["#,
    r#"{"code":"invalid_type","path":["data","target_url"],"message":"Required","expected":"string","received":"undefined"},"#,
    r#"{"code":"invalid_type","path":["data","subscriptions"],"message":"Required","expected":"array","received":"undefined"}]}"#
);
const CAPTURED_400_EXECUTION_ID: &str = "a7e75d7b-ee72-4ecc-b78a-ed3a2eb4171d";

async fn answering(status: u16, body: &str, execution_id: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_raw(body.to_owned(), "application/json; charset=utf-8")
                .insert_header("x-attio-execution-id", execution_id),
        )
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client<HyperTransport> {
    Client::builder("sk_test")
        .base_url(server.uri())
        .build(HyperTransport::new().unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_refused_body_names_each_field_and_keeps_the_execution_id() {
    let server = answering(400, CAPTURED_400, CAPTURED_400_EXECUTION_ID).await;
    let err = client(&server)
        .create_webhook(
            "https://example.com/webhook",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .await
        .unwrap_err();
    assert!(err.is_validation());
    assert_eq!(err.execution_id(), Some(CAPTURED_400_EXECUTION_ID));
    let refused = err.validation_errors();
    assert_eq!(refused.len(), 2);
    assert_eq!(
        refused[0].path,
        [PathSegment::from("data"), PathSegment::from("target_url")]
    );
    assert_eq!(refused[0].code, "invalid_type");
    assert_eq!(refused[0].message, "Required");
    assert_eq!(
        (refused[0].expected(), refused[0].received()),
        (Some("string"), Some("undefined"))
    );
    assert_eq!(refused[1].path_string(), "data.subscriptions");
    assert_eq!(refused[1].expected(), Some("array"));
    assert_eq!(
        err.to_string(),
        "Attio answered 400 Bad Request: validation_type (invalid_request_error): \
         Body payload validation error. \
         [data.target_url: Required (invalid_type; expected string, received undefined); \
         data.subscriptions: Required (invalid_type; expected array, received undefined)]"
    );
    // Written back, the body is the bytes Attio sent.
    let body = err.api_error().unwrap();
    assert_eq!(serde_json::to_string(body).unwrap(), CAPTURED_400);
}

/// Keys Attio adds to an entry (`options` of `invalid_option`, in the same
/// capture's attribute 400) are kept.
#[test]
fn other_details_of_an_entry_are_kept() {
    let body: attio_webhooks::error::ApiErrorBody = serde_json::from_str(concat!(
        r#"{"status_code":400,"type":"invalid_request_error","code":"validation_type","message":"Body payload validation error.","#,
        r#""validation_errors":[{"code":"invalid_option","path":["data","type"],"message":"Invalid enum value. Expected 'text' | 'number', received 'invalid_type'","options":["text","number"]}]}"#
    ))
    .unwrap();
    let entry = &body.validation_errors[0];
    assert_eq!(
        entry.details["options"],
        serde_json::json!(["text", "number"])
    );
    assert_eq!(entry.expected(), None);
}

/// FIDELITY.md, "401": rbeene/attio_ruby's captured 401, read as the
/// named type and code, with the status helpers working as before.
#[tokio::test]
async fn a_live_401_is_an_auth_error() {
    let captured = r#"{"status_code":401,"type":"auth_error","code":"unauthorized","message":"The API Key provided was invalid because it was the wrong length (API Keys should be 64 characters long). You might not have copied the entire API key from your Admin panel?"}"#;
    let server = answering(401, captured, "6efd6d02-9ba7-467a-bdc1-d1361327f446").await;
    let err = client(&server)
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    let body = err.api_error().unwrap();
    assert_eq!(body.kind, ErrorType::Auth);
    assert_eq!(body.code, ErrorCode::Unauthorized);
    assert!(err.validation_errors().is_empty());
    assert_eq!(
        err.execution_id(),
        Some("6efd6d02-9ba7-467a-bdc1-d1361327f446")
    );
}

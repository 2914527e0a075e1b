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

/// The head of a 400 as Attio sends it, before an odd `validation_errors`.
const HEAD_400: &str = r#"{"status_code":400,"type":"invalid_request_error","code":"validation_type","message":"Body payload validation error.""#;

/// A 400 whose `validation_errors` is odd in one way (none of these was
/// observed: they are what a diagnostic field may turn into) is still an
/// [`attio_webhooks::Error::Api`] with its status, type, code and message,
/// not a decode error.
#[tokio::test]
async fn an_odd_validation_errors_keeps_the_status_type_and_code() {
    let odd = [
        r#","validation_errors":null}"#,
        r#","validation_errors":"data.target_url is required"}"#,
        r#","validation_errors":{"code":"invalid_type"}}"#,
        r#","validation_errors":["Required",3,null,[]]}"#,
        r#","validation_errors":[{"code":"invalid_type","path":["data",null],"message":"Required"}]}"#,
        r#","validation_errors":[{"code":"invalid_type","path":["data",1.5],"message":"Required"}]}"#,
        r#","validation_errors":[{"code":"invalid_type","path":["data",-1],"message":"Required"}]}"#,
        r#","validation_errors":[{"code":"invalid_type","path":["data",{"k":1}],"message":"Required"}]}"#,
        r#","validation_errors":[{"code":"invalid_type","path":"data.target_url","message":"Required"}]}"#,
        r#","validation_errors":[{"code":7,"path":["data"],"message":"Required"}]}"#,
        r#","validation_errors":[{"code":"invalid_type","path":["data"],"message":{"text":"Required"}}]}"#,
    ];
    let mut failed = Vec::new();
    for tail in odd {
        let body = format!("{HEAD_400}{tail}");
        let server = answering(400, &body, CAPTURED_400_EXECUTION_ID).await;
        let err = client(&server)
            .list_webhooks(ListWebhooks::new())
            .await
            .unwrap_err();
        let Some(api) = err.api_error() else {
            failed.push(format!("{tail} -> {err}"));
            continue;
        };
        assert!(matches!(err, attio_webhooks::Error::Api(_)), "{body}");
        assert!(err.is_validation(), "{body}");
        assert_eq!(err.execution_id(), Some(CAPTURED_400_EXECUTION_ID));
        assert_eq!(api.status_code, 400, "{body}");
        assert_eq!(api.kind, ErrorType::InvalidRequest, "{body}");
        assert_eq!(api.code, ErrorCode::ValidationType, "{body}");
        assert_eq!(api.message, "Body payload validation error.", "{body}");
    }
    assert!(
        failed.is_empty(),
        "not read as Error::Api:\n{}",
        failed.join("\n")
    );
}

/// What an odd `validation_errors` keeps: every entry that is an object,
/// each of its keys (a `code`, `message` or `path` of another type in
/// `details`, a path element of another type as `PathSegment::Other`), and
/// written back the same JSON; what it drops: a `null` or non-array list,
/// an entry that is not an object.
#[test]
fn an_odd_validation_errors_keeps_every_entry_that_is_an_object() {
    use attio_webhooks::error::{ApiErrorBody, ValidationError};
    use serde_json::{json, Value};
    let read = |tail: &str| -> ApiErrorBody {
        serde_json::from_str(&format!("{HEAD_400}{tail}")).unwrap()
    };

    for dropped in [
        r#","validation_errors":null}"#,
        r#","validation_errors":"data.target_url is required"}"#,
        r#","validation_errors":{"code":"invalid_type"}}"#,
        r#","validation_errors":["Required",3,null,[]]}"#,
    ] {
        let body = read(dropped);
        assert!(body.validation_errors.is_empty(), "{dropped}");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            format!("{HEAD_400}}}"),
            "{dropped}"
        );
    }

    // Entries that are not objects are skipped, the object kept.
    let body = read(
        r#","validation_errors":["Required",{"code":"invalid_type","path":["data"],"message":"Required"},null]}"#,
    );
    assert_eq!(
        &*body.validation_errors,
        [ValidationError::new(
            "invalid_type",
            vec![PathSegment::from("data")],
            "Required"
        )]
    );

    // Path elements that are neither keys nor indexes, kept in place and
    // written back byte for byte.
    let tail = r#","validation_errors":[{"code":"invalid_type","path":["data",null,1.5,-1,{"k":1},true,2],"message":"Required"}]}"#;
    let body = read(tail);
    let entry = &body.validation_errors[0];
    assert_eq!(
        entry.path,
        [
            PathSegment::from("data"),
            PathSegment::Other(Value::Null),
            PathSegment::Other(json!(1.5)),
            PathSegment::Other(json!(-1)),
            PathSegment::Other(json!({"k": 1})),
            PathSegment::Other(json!(true)),
            PathSegment::Index(2),
        ]
    );
    assert_eq!(
        entry.path_string(),
        r#"data[null][1.5][-1][{"k":1}][true][2]"#
    );
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        format!("{HEAD_400}{tail}")
    );

    // A code, message or path of another type is kept in `details` under
    // its key, the field left empty, and written back (after the fields
    // that are set).
    for (tail, key, value) in [
        (
            r#","validation_errors":[{"code":7,"path":["data"],"message":"Required"}]}"#,
            "code",
            json!(7),
        ),
        (
            r#","validation_errors":[{"code":"invalid_type","path":["data"],"message":{"text":"Required"}}]}"#,
            "message",
            json!({"text": "Required"}),
        ),
        (
            r#","validation_errors":[{"code":"invalid_type","path":"data.target_url","message":"Required"}]}"#,
            "path",
            json!("data.target_url"),
        ),
    ] {
        let body = read(tail);
        let entry = &body.validation_errors[0];
        assert_eq!(entry.details.get(key), Some(&value), "{tail}");
        assert_eq!(entry.details.len(), 1, "{tail}");
        match key {
            "code" => assert_eq!(entry.code, ""),
            "message" => assert_eq!(entry.message, ""),
            _ => assert!(entry.path.is_empty()),
        }
        let written = serde_json::to_value(&body).unwrap();
        let sent: Value = serde_json::from_str(&format!("{HEAD_400}{tail}")).unwrap();
        assert_eq!(written, sent, "{tail}");
    }

    // A field that is set wins over a details entry of the same key.
    let entry = ValidationError::new("invalid_type", vec![], "Required").with_detail("code", 7);
    assert_eq!(
        serde_json::to_string(&entry).unwrap(),
        r#"{"code":"invalid_type","path":[],"message":"Required"}"#
    );
}

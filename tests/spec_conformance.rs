//! The models and fixtures against the OpenAPI contract in `spec/`.

use attio_webhooks::{EventType, WebhookStatus};
use attio_webhooks_testkit::fixtures::{examples, spec};
use serde_json::Value;

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/attio-webhooks.openapi.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn webhook_schema(spec: &Value) -> &Value {
    &spec["paths"]["/v2/webhooks/{webhook_id}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["properties"]["data"]
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn event_types_and_statuses_match_the_spec_enums_in_order() {
    let spec = spec();
    let schema = webhook_schema(&spec);
    let events = strings(
        &schema["properties"]["subscriptions"]["items"]["properties"]["event_type"]["enum"],
    );
    let known: Vec<String> = EventType::KNOWN
        .iter()
        .map(|e| e.as_str().to_owned())
        .collect();
    assert_eq!(known, events);
    let statuses = strings(&schema["properties"]["status"]["enum"]);
    let known: Vec<String> = WebhookStatus::KNOWN
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(known, statuses);
}

#[test]
fn the_fixture_examples_are_the_spec_examples() {
    let spec = spec();
    let schema = webhook_schema(&spec);
    let p = &schema["properties"];
    let example = examples::webhook();
    assert_eq!(p["target_url"]["example"], example.target_url.as_str());
    assert_eq!(
        p["id"]["properties"]["workspace_id"]["example"],
        example.id.workspace_id.to_string()
    );
    assert_eq!(
        p["id"]["properties"]["webhook_id"]["example"],
        example.id.webhook_id.to_string()
    );
    assert_eq!(p["status"]["example"], example.status.as_str());
    assert_eq!(p["created_at"]["example"], example.created_at.to_string());
    let sub = &p["subscriptions"]["items"]["properties"];
    assert_eq!(
        sub["event_type"]["example"],
        example.subscriptions[0].event_type.as_str()
    );
    assert_eq!(
        sub["filter"]["example"],
        serde_json::to_value(&example.subscriptions[0].filter).unwrap()
    );
    let create = &spec["paths"]["/v2/webhooks"]["post"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["properties"]["data"]["properties"];
    assert_eq!(
        create["secret"]["example"],
        examples::created_webhook().secret.expose()
    );
}

#[test]
fn serialized_webhooks_have_exactly_the_spec_keys() {
    let spec = spec();
    let schema = webhook_schema(&spec);
    let mut required = strings(&schema["required"]);
    let json = serde_json::to_value(examples::webhook()).unwrap();
    let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
    required.sort();
    keys.sort();
    assert_eq!(keys, required);
}

#[tokio::test]
async fn the_404_example_message_is_what_the_fake_says() {
    let spec = spec();
    let example = &spec["paths"]["/v2/webhooks/{webhook_id}"]["get"]["responses"]["404"]["content"]
        ["application/json"]["schema"]["properties"]["message"]["example"];
    let fake = attio_webhooks_testkit::FakeAttio::new();
    let err = fake
        .client()
        .get_webhook(examples::WEBHOOK_ID.parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.api_error().unwrap().message, example.as_str().unwrap());
}

/// One raw exchange: the request as sent and the answer's status and bytes.
struct Exchange {
    method: &'static str,
    path: String,
    status: u16,
    body: bytes::Bytes,
}

async fn exchange<T: attio_webhooks::Transport>(
    transport: &T,
    base: &str,
    token: &str,
    method: &'static str,
    path: String,
    body: Option<serde_json::Value>,
) -> Exchange {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(bytes::Bytes::new, |b| b.to_string().into()))
        .unwrap();
    let response = transport.send(request).await.unwrap();
    Exchange {
        method,
        path,
        status: response.status().as_u16(),
        body: response.body().clone(),
    }
}

/// Every answer the spec describes, taken from a server at `base`: each
/// operation's 200, and the 400, 404 and 409 of the operations that have them.
async fn documented_answers<T: attio_webhooks::Transport>(
    transport: &T,
    base: &str,
    token: &str,
) -> Vec<Exchange> {
    let body = serde_json::json!({"data": {
        "target_url": examples::TARGET_URL,
        "subscriptions": [examples::subscription()],
    }});
    let id = examples::WEBHOOK_ID;
    let missing = "00000000-0000-4000-8000-000000000000";
    let mut answers = Vec::new();
    let send = |method, path: String, body| exchange(transport, base, token, method, path, body);
    answers.push(send("POST", "/v2/webhooks".into(), Some(body.clone())).await);
    // The fake makes its own id: use the one it answered.
    let created: serde_json::Value = serde_json::from_slice(&answers[0].body).unwrap();
    let id = created["data"]["id"]["webhook_id"]
        .as_str()
        .unwrap_or(id)
        .to_owned();
    answers.push(send("POST", "/v2/webhooks".into(), Some(body.clone())).await);
    let mut invalid = body.clone();
    invalid["data"]["target_url"] = "http://example.com/webhook".into();
    answers.push(send("POST", "/v2/webhooks".into(), Some(invalid)).await);
    answers.push(send("GET", "/v2/webhooks".into(), None).await);
    answers.push(send("GET", format!("/v2/webhooks/{id}"), None).await);
    answers.push(send("GET", format!("/v2/webhooks/{missing}"), None).await);
    let update = serde_json::json!({"data": {"target_url": examples::TARGET_URL}});
    answers.push(send("PATCH", format!("/v2/webhooks/{id}"), Some(update.clone())).await);
    answers.push(send("PATCH", format!("/v2/webhooks/{missing}"), Some(update)).await);
    answers.push(send("DELETE", format!("/v2/webhooks/{id}"), None).await);
    answers.push(send("DELETE", format!("/v2/webhooks/{missing}"), None).await);
    answers
}

fn assert_documented(answers: &[Exchange], statuses: &[u16]) {
    let got: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(got, statuses);
    for a in answers {
        let check = spec::check_answer(a.method, &a.path, a.status, &a.body);
        assert!(
            check.is_ok(),
            "{} {} -> {}: {check:?}\n{}",
            a.method,
            a.path,
            a.status,
            String::from_utf8_lossy(&a.body)
        );
    }
}

/// The statuses `documented_answers` expects, in order.
const STATUSES: [u16; 10] = [200, 409, 400, 200, 200, 404, 200, 404, 200, 404];

#[tokio::test]
async fn the_fakes_answers_fit_the_spec_schemas() {
    let fake = attio_webhooks_testkit::FakeAttio::new();
    let answers = documented_answers(
        &fake.transport(),
        attio_webhooks_testkit::InProcessTransport::BASE_URL,
        fake.token(),
    )
    .await;
    assert_documented(&answers, &STATUSES);
}

#[tokio::test]
async fn the_fixtures_answers_fit_the_spec_schemas() {
    use attio_webhooks_testkit::fixtures::{Fixtures, Route};
    let server = wiremock::MockServer::start().await;
    let fixtures = Fixtures::new("sk_spec");
    let webhook = examples::webhook();
    let id = webhook.webhook_id();
    let missing: attio_webhooks::WebhookId =
        "00000000-0000-4000-8000-000000000000".parse().unwrap();
    let mocks = [
        fixtures
            .create_webhook(&examples::created_webhook())
            .mock()
            .up_to_n_times(1),
        fixtures.error(Route::Create, 409).mock(),
        fixtures.error(Route::Create, 400).mock(),
        fixtures
            .list_webhooks(std::slice::from_ref(&webhook))
            .mock(),
        fixtures.get_webhook(&webhook).mock(),
        fixtures.error(Route::Get(missing), 404).mock(),
        fixtures.update_webhook(&webhook).mock(),
        fixtures.error(Route::Update(missing), 404).mock(),
        fixtures.delete_webhook(id).mock(),
        fixtures.error(Route::Delete(missing), 404).mock(),
    ];
    for (priority, mock) in (1..).zip(mocks) {
        // The create answers once; the 409 is for the second create.
        mock.with_priority(priority).mount(&server).await;
    }
    let transport = attio_webhooks::transport::HyperTransport::new().unwrap();
    let answers = documented_answers(&transport, &server.uri(), "sk_spec").await;
    assert_documented(&answers, &STATUSES);
    let created: serde_json::Value = serde_json::from_slice(&answers[0].body).unwrap();
    assert_eq!(
        created["data"],
        serde_json::to_value(examples::created_webhook()).unwrap()
    );
}

#[tokio::test]
async fn the_echo_fixture_answers_what_was_asked_and_fits_the_spec() {
    use attio_webhooks_testkit::fixtures::Fixtures;
    let server = wiremock::MockServer::start().await;
    let workspace: attio_webhooks::WorkspaceId = examples::WORKSPACE_ID.parse().unwrap();
    Fixtures::new("sk_spec")
        .create_webhook_echo(workspace)
        .mock()
        .mount(&server)
        .await;
    let transport = attio_webhooks::transport::HyperTransport::new().unwrap();
    let body = serde_json::json!({"data": {
        "target_url": "https://example.com/echo",
        "subscriptions": [
            {"event_type": "record.merged", "filter": {"$or": [
                {"field": "actor.type", "operator": "not_equals", "value": "system"}
            ]}},
            {"event_type": "task.created", "filter": null},
        ],
    }});
    let answer = exchange(
        &transport,
        &server.uri(),
        "sk_spec",
        "POST",
        "/v2/webhooks".into(),
        Some(body.clone()),
    )
    .await;
    assert_documented(std::slice::from_ref(&answer), &[200]);
    let created: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(created["data"]["target_url"], body["data"]["target_url"]);
    assert_eq!(
        created["data"]["subscriptions"],
        body["data"]["subscriptions"]
    );
    assert_eq!(
        created["data"]["id"]["workspace_id"],
        examples::WORKSPACE_ID
    );
    assert_eq!(created["data"]["status"], "active");
    let secret = created["data"]["secret"].as_str().unwrap();
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()));
}

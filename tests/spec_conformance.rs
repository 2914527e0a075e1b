//! The models and fixtures against the OpenAPI contract in `spec/`.

use attio_webhooks::{EventType, WebhookStatus};
use attio_webhooks_testkit::fixtures::examples;
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

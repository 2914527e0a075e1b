//! The shared rules against tables written from the spec and Attio's docs.
//!
//! The client and the fake share one implementation of each rule (target
//! URLs, event types, operators, filter equivalence), so a bug there would
//! hide on both sides. These tests hold every implementation against data
//! written independently in `tests/data/` (and the spec's own enums): the
//! client's types, the fake reached with raw HTTP requests (so the client's
//! checks do not stand in front of it), and the wiremock fixtures' spec
//! checker.

use attio_webhooks::{
    model::Operator, model::TargetUrlPolicy, EventType, Filter, Subscription, Transport,
};
use attio_webhooks_testkit::fixtures::spec;
use attio_webhooks_testkit::{FakeAttio, InProcessTransport};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Url {
    url: String,
    why: String,
}

#[derive(Deserialize)]
struct TargetUrls {
    accepted: Vec<Url>,
    rejected: Vec<Url>,
}

#[derive(Deserialize)]
struct EnumValues {
    unknown_event_types: Vec<String>,
    unknown_operators: Vec<String>,
}

#[derive(Deserialize)]
struct EquivalenceCase {
    name: String,
    a: String,
    b: String,
    equivalent: bool,
}

#[derive(Deserialize)]
struct Equivalence {
    cases: Vec<EquivalenceCase>,
}

fn table<T: serde::de::DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).unwrap()
}

fn spec_document() -> Value {
    serde_json::from_str(include_str!("../spec/attio-webhooks.openapi.json")).unwrap()
}

fn subscription_schema(spec: &Value) -> &Value {
    &spec["paths"]["/v2/webhooks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ["properties"]["data"]["properties"]["subscriptions"]["items"]["properties"]
}

/// The spec's event types, in its order.
fn spec_event_types() -> Vec<String> {
    let spec = spec_document();
    serde_json::from_value(subscription_schema(&spec)["event_type"]["enum"].clone()).unwrap()
}

/// Every operator the spec's condition schemas allow.
fn spec_operators() -> Vec<String> {
    let spec = spec_document();
    let mut operators = Vec::new();
    for combinator in subscription_schema(&spec)["filter"]["anyOf"]
        .as_array()
        .unwrap()
    {
        for (_, list) in combinator["properties"].as_object().into_iter().flatten() {
            for condition in list["items"]["anyOf"].as_array().unwrap() {
                for op in condition["properties"]["operator"]["enum"]
                    .as_array()
                    .unwrap()
                {
                    let op = op.as_str().unwrap().to_owned();
                    if !operators.contains(&op) {
                        operators.push(op);
                    }
                }
            }
        }
    }
    operators
}

/// The fake, reached with raw requests.
struct RawFake {
    fake: FakeAttio,
}

impl RawFake {
    fn new() -> Self {
        Self {
            fake: FakeAttio::new(),
        }
    }

    /// `POST /v2/webhooks` with `body`; the status.
    async fn create(&self, body: &Value) -> u16 {
        self.create_raw(body.to_string()).await
    }

    /// `POST /v2/webhooks` with this raw body text; the status.
    async fn create_raw(&self, body: String) -> u16 {
        let request = http::Request::post(format!("{}/v2/webhooks", InProcessTransport::BASE_URL))
            .header("authorization", format!("Bearer {}", self.fake.token()))
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap();
        let response = self.fake.transport().send(request).await.unwrap();
        response.status().as_u16()
    }
}

fn create_body(target_url: &str, event_type: &str, filter: Value) -> Value {
    json!({"data": {
        "target_url": target_url,
        "subscriptions": [{"event_type": event_type, "filter": filter}],
    }})
}

fn spec_accepts(body: &Value) -> bool {
    let bytes = serde_json::to_vec(body).unwrap();
    spec::check_request("POST", "/v2/webhooks", None, &bytes).is_ok()
}

#[tokio::test]
async fn target_urls() {
    let urls: TargetUrls = table(include_str!("data/target_urls.json"));
    assert!(urls.accepted.len() >= 10 && urls.rejected.len() >= 20);
    let fake = RawFake::new();
    let mut disagreements = Vec::new();
    for (accepted, cases) in [(true, &urls.accepted), (false, &urls.rejected)] {
        for Url { url, why } in cases {
            let body = create_body(url, "note.created", Value::Null);
            let client = TargetUrlPolicy::HttpsOnly.check(url).is_ok();
            let fake_status = fake.create(&body).await;
            let fixtures = spec_accepts(&body);
            let expected_status = if accepted { 200 } else { 400 };
            if client != accepted || fake_status != expected_status || fixtures != accepted {
                disagreements.push(format!(
                    "{url:?} ({why}): expected {}, client {client}, fake {fake_status}, fixtures {fixtures}",
                    if accepted { "accepted" } else { "rejected" }
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[tokio::test]
async fn every_event_type_of_the_spec_and_no_other() {
    let values: EnumValues = table(include_str!("data/enum_values.json"));
    let known = spec_event_types();
    assert_eq!(known.len(), 34);
    let fake = RawFake::new();
    for (i, event_type) in known.iter().enumerate() {
        assert!(
            EventType::from(event_type.as_str()).is_known(),
            "{event_type}"
        );
        let body = create_body(&format!("https://example.com/{i}"), event_type, Value::Null);
        assert_eq!(fake.create(&body).await, 200, "{event_type}");
        assert!(spec_accepts(&body), "{event_type}");
    }
    for event_type in &values.unknown_event_types {
        assert!(!known.contains(event_type), "{event_type:?} is in the spec");
        let parsed = EventType::from(event_type.as_str());
        assert!(!parsed.is_known(), "{event_type:?}");
        assert_eq!(parsed.as_str(), event_type, "kept as sent");
        let body = create_body("https://example.com/unknown", event_type, Value::Null);
        assert_eq!(fake.create(&body).await, 400, "{event_type:?}");
        assert!(!spec_accepts(&body), "{event_type:?}");
    }
}

#[tokio::test]
async fn every_operator_of_the_spec_and_no_other() {
    let values: EnumValues = table(include_str!("data/enum_values.json"));
    let known = spec_operators();
    assert_eq!(known, ["equals", "not_equals"]);
    let fake = RawFake::new();
    let filter = |operator: &str, kind: &str| json!({ kind: [{"field": "actor.type", "operator": operator, "value": "system"}] });
    for (i, operator) in known.iter().enumerate() {
        assert!(Operator::from(operator.as_str()).is_known(), "{operator}");
        for kind in ["$and", "$or"] {
            let body = create_body(
                &format!("https://example.com/{i}/{kind}"),
                "record.created",
                filter(operator, kind),
            );
            assert_eq!(fake.create(&body).await, 200, "{operator} in {kind}");
            assert!(spec_accepts(&body), "{operator} in {kind}");
        }
    }
    for operator in &values.unknown_operators {
        let parsed = Operator::from(operator.as_str());
        assert!(!parsed.is_known(), "{operator:?}");
        assert_eq!(parsed.as_str(), operator, "kept as sent");
        for kind in ["$and", "$or"] {
            let body = create_body(
                "https://example.com/unknown",
                "record.created",
                filter(operator, kind),
            );
            assert_eq!(fake.create(&body).await, 400, "{operator:?} in {kind}");
            assert!(!spec_accepts(&body), "{operator:?} in {kind}");
        }
    }
}

#[tokio::test]
async fn filter_equivalence_decides_uniqueness() {
    let table: Equivalence = table(include_str!("data/filter_equivalence.json"));
    assert!(table.cases.iter().filter(|c| c.equivalent).count() >= 5);
    assert!(table.cases.iter().filter(|c| !c.equivalent).count() >= 10);
    let fake = RawFake::new();
    let body = |url: &str, filters: &[&str]| {
        let subscriptions: Vec<String> = filters
            .iter()
            .map(|f| format!(r#"{{"event_type":"record.updated","filter":{f}}}"#))
            .collect();
        format!(
            r#"{{"data":{{"target_url":"{url}","subscriptions":[{}]}}}}"#,
            subscriptions.join(",")
        )
    };
    for (i, case) in table.cases.iter().enumerate() {
        // Subscriptions of one type whose filters are the case's texts.
        let parse = |text: &str| {
            let subscription = Subscription::new(EventType::RecordUpdated);
            match serde_json::from_str::<Option<Filter>>(text).unwrap() {
                Some(filter) => subscription.with_filter(filter),
                None => subscription,
            }
        };
        let (a, b) = (parse(&case.a), parse(&case.b));
        // The client's rule, both ways round.
        assert_eq!(a.equivalent(&b), case.equivalent, "{}", case.name);
        assert_eq!(b.equivalent(&a), case.equivalent, "{} (swapped)", case.name);
        // The fake's uniqueness check on the raw bytes: against another
        // webhook, and within one request.
        let conflict = if case.equivalent { 409 } else { 200 };
        let url = format!("https://example.com/eq/{i}");
        assert_eq!(
            fake.create_raw(body(&url, &[&case.a])).await,
            200,
            "{}",
            case.name
        );
        assert_eq!(
            fake.create_raw(body(&url, &[&case.b])).await,
            conflict,
            "{}: a second webhook",
            case.name
        );
        let url = format!("https://example.com/eq/{i}/together");
        assert_eq!(
            fake.create_raw(body(&url, &[&case.b, &case.a])).await,
            conflict,
            "{}: one request",
            case.name
        );
    }
}

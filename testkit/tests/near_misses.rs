//! `POST /__fake/events` as a user of another language meets it: seeds and
//! events written by hand (the event shapes of Attio's reference and of
//! Pipedream's recorded `components/attio/sources/*/test-event.mjs`), the
//! answers read as JSON. Near misses and unknown event types are the
//! fake's choices (FIDELITY.md).

use crate::common::{raw_client, send, Answer, Raw};

use attio_webhooks::EventType;
use attio_webhooks_testkit::{
    control::ControlError, delivery::NearMissReason, ControlClient, FakeAttio, FakeServer,
};
use serde_json::{json, Value};

/// A record created in Attio's example workspace, as in Pipedream's
/// `new-record-created-instant/test-event.mjs`, its type replaced.
fn record_event(event_type: &str, workspace: &str) -> String {
    format!(
        r#"{{"data":{{"event_type":"{event_type}","id":{{"workspace_id":"{workspace}","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b"}},"actor":{{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}}}}}"#
    )
}

async fn post(http: &Raw, server: &FakeServer, path: &str, body: &str) -> Answer {
    send(
        http,
        "POST",
        &format!("{}{path}", server.base_url()),
        &[("content-type", "application/json")],
        body.to_owned(),
    )
    .await
    .unwrap()
}

/// Three webhooks, seeded by hand: one on record.created filtered to
/// another object, one inactive on record.created, one on note.created.
const SEEDS: &str = r#"{"data":[
  {"webhook_id":"00000000-0000-4000-8000-000000000001","target_url":"https://example.com/companies",
   "subscriptions":[{"event_type":"record.created","filter":{"$and":[
     {"field":"id.object_id","operator":"equals","value":"companies-object"},
     {"field":"actor.type","operator":"equals","value":"workspace-member"},
     {"field":"parent_object_id","operator":"equals","value":"x"}]}}]},
  {"webhook_id":"00000000-0000-4000-8000-000000000002","target_url":"https://example.com/off","status":"inactive",
   "subscriptions":[{"event_type":"record.created","filter":null}]},
  {"webhook_id":"00000000-0000-4000-8000-000000000003","target_url":"https://example.com/notes",
   "subscriptions":[{"event_type":"note.created","filter":null},{"event_type":"note.deleted","filter":null}]}
]}"#;

#[tokio::test]
async fn an_event_that_reaches_no_webhook_says_why_for_each() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    let seeded = post(&http, &server, "/__fake/webhooks", SEEDS).await;
    assert_eq!(seeded.status, 200, "{:?}", seeded.body);
    let workspace = server.workspace_id().to_string();
    let answer = post(
        &http,
        &server,
        "/__fake/events",
        &record_event("record.created", &workspace),
    )
    .await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["data"], json!([]), "nothing queued, `data` as before");
    assert_eq!(
        body["near_misses"],
        json!([
            {"webhook_id": "00000000-0000-4000-8000-000000000001",
             "target_url": "https://example.com/companies",
             "reason": {"kind": "filter_refused", "subscriptions": [{
                "subscription": 0,
                "filter": {"$and": [
                    {"field": "id.object_id", "operator": "equals", "value": "companies-object"},
                    {"field": "actor.type", "operator": "equals", "value": "workspace-member"},
                    {"field": "parent_object_id", "operator": "equals", "value": "x"}]},
                "failed": [
                    {"condition": {"field": "id.object_id", "operator": "equals", "value": "companies-object"},
                     "found": {"kind": "string", "value": "97052eb9-e65e-443f-a297-f2d9a4a7f795"}},
                    {"condition": {"field": "parent_object_id", "operator": "equals", "value": "x"},
                     "found": {"kind": "missing"}}
                ]}]}},
            {"webhook_id": "00000000-0000-4000-8000-000000000002",
             "target_url": "https://example.com/off",
             "reason": {"kind": "inactive"}},
            {"webhook_id": "00000000-0000-4000-8000-000000000003",
             "target_url": "https://example.com/notes",
             "reason": {"kind": "no_subscription_for_type",
                        "subscribed": ["note.created", "note.deleted"]}}
        ])
    );
}

#[tokio::test]
async fn a_delivered_event_names_the_webhooks_it_missed_and_refused_targets() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    post(&http, &server, "/__fake/webhooks", SEEDS).await;
    let note = format!(
        // Pipedream's new-note-instant/test-event.mjs, in this fake's workspace.
        r#"{{"data":{{"event_type":"note.created","id":{{"workspace_id":"{}","note_id":"cc2a06ee-61ae-4a9b-bf1b-4e9774270061"}},"parent_object_id":"6a3d5e81-0de0-4e96-a535-957b28ba8211","parent_record_id":"64561036-ee99-47f7-926c-66bf43808dcf","actor":{{"type":"workspace-member","id":"3ccf848d-58e5-4ccb-88d7-d85944eda037"}}}}}}"#,
        server.workspace_id()
    );
    let body = post(&http, &server, "/__fake/events", &note).await.json();
    assert_eq!(
        body["data"][0]["webhook_id"],
        "00000000-0000-4000-8000-000000000003"
    );
    let kinds: Vec<(&str, &str)> = body["near_misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["webhook_id"].as_str().unwrap(),
                m["reason"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "00000000-0000-4000-8000-000000000001",
                "no_subscription_for_type"
            ),
            (
                "00000000-0000-4000-8000-000000000002",
                "no_subscription_for_type"
            ),
            // Queued, but https:// is never sent by the fake.
            ("00000000-0000-4000-8000-000000000003", "target_refused"),
        ]
    );
}

/// Tried from Python: a misspelled type used to answer 200 `{"data": []}`.
#[tokio::test]
async fn a_misspelled_event_type_is_a_400_naming_the_known_types() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    post(&http, &server, "/__fake/webhooks", SEEDS).await;
    let workspace = server.workspace_id().to_string();
    let answer = post(
        &http,
        &server,
        "/__fake/events",
        &record_event("record.create", &workspace),
    )
    .await;
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["type"], "invalid_request_error");
    assert_eq!(body["code"], "validation_type");
    let message = body["message"].as_str().unwrap();
    // The type as sent, not a Rust debug form.
    assert!(
        message.starts_with("unknown event type \"record.create\": "),
        "{message}"
    );
    for known in [
        "\"record.create\"",
        "record.created",
        "record.merged",
        "note.created",
    ] {
        assert!(message.contains(known), "{known} in {message}");
    }
    assert_eq!(body["near_misses"].as_array().unwrap().len(), 3);
    assert_eq!(
        body["near_misses"][2]["reason"]["subscribed"],
        json!(["note.created", "note.deleted"])
    );

    // The fake refuses subscriptions to types it does not know, so no
    // webhook can want this one (the rule for one that could is tested
    // in `delivery::emitted`).
    let future = r#"{"data":[{"target_url":"https://example.com/future","subscriptions":[{"event_type":"record.create","filter":null}]}]}"#;
    assert_eq!(
        post(&http, &server, "/__fake/webhooks", future)
            .await
            .status,
        400
    );
}

/// The same through `ControlClient` and in-process.
#[tokio::test]
async fn control_client_and_fake_explain_alike() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    post(&http, &server, "/__fake/webhooks", SEEDS).await;
    let control = ControlClient::new(server.base_url(), None).unwrap();
    let text = record_event("record.created", &server.workspace_id().to_string());
    let event: attio_webhooks::receive::Event =
        serde_json::from_value(serde_json::from_str::<Value>(&text).unwrap()["data"].take())
            .unwrap();
    let over_http = control.emit_explained(&event).await.unwrap();
    let in_process = server.emit_explained(event.clone()).unwrap();
    assert_eq!(over_http, in_process);
    assert!(matches!(
        over_http.near_misses[1].reason,
        NearMissReason::Inactive
    ));
    assert!(over_http.near_misses[0]
        .to_string()
        .contains(r#"parent_object_id equals "x", found no such field in the event"#));

    let mut typo = event;
    typo.event_type = EventType::from("record.craeted");
    match control.emit_explained(&typo).await {
        Err(ControlError::Refused(body)) => {
            assert_eq!(body.status_code, 400);
            assert!(body.message.contains("record.created"), "{}", body.message);
        }
        other => panic!("{other:?}"),
    }
    assert!(server.emit_explained(typo.clone()).is_err());
    assert!(server.emit(typo).is_empty());
}

/// A batch to a full workspace would answer events × webhooks near misses:
/// the answer keeps the first `MAX_NEAR_MISSES` and counts the rest.
#[tokio::test]
async fn near_misses_are_bounded_and_the_rest_counted() {
    let server = FakeAttio::start().await;
    let http = raw_client();
    let seeds: Vec<Value> = (0..60)
        .map(|i| {
            json!({"target_url": format!("https://example.com/notes/{i}"),
                   "subscriptions": [{"event_type": "note.created", "filter": null}]})
        })
        .collect();
    let seeded = post(
        &http,
        &server,
        "/__fake/webhooks",
        &json!({"data": seeds}).to_string(),
    )
    .await;
    assert_eq!(seeded.status, 200);
    let workspace = server.workspace_id().to_string();
    let event: Value = serde_json::from_str(&record_event("record.created", &workspace)).unwrap();
    // Two events, each missed by all 60 webhooks: 120 near misses.
    let batch = json!({"data": [event["data"], event["data"]]}).to_string();
    let answer = post(&http, &server, "/__fake/events", &batch).await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["near_misses"].as_array().unwrap().len(), 100);
    assert_eq!(body["near_misses_omitted"], 20);
    assert_eq!(attio_webhooks_testkit::delivery::MAX_NEAR_MISSES, 100);
}

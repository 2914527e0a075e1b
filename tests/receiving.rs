//! The receiving side: signatures against independent vectors, delivery
//! parsing, and filter evaluation properties.

use attio_webhooks::receive::signature::{self, SignatureError};
use attio_webhooks::receive::Verifier;
use attio_webhooks::{
    model::FieldValue, model::Operator, receive::Actor, receive::ActorType, receive::Delivery,
    receive::Event, receive::ReceiveError, Condition, EventType, Filter, Secret, WorkspaceId,
};
use proptest::prelude::*;
use serde_json::{json, Value};

#[derive(serde::Deserialize)]
struct Vector {
    secret: String,
    body_hex: String,
    signature: String,
}

fn vectors() -> Vec<Vector> {
    // Computed by tests/data/make_signature_vectors.py with Python's hmac.
    serde_json::from_str(include_str!("data/signature_vectors.json")).unwrap()
}

#[test]
fn signatures_match_pythons_hmac() {
    let vectors = vectors();
    assert!(vectors.len() >= 5);
    for v in vectors {
        let secret = Secret::new(v.secret);
        let body = const_hex::decode(&v.body_hex).unwrap();
        assert_eq!(signature::sign(&secret, &body), v.signature);
        for header in ["attio-signature", "x-attio-signature"] {
            for sig in [v.signature.clone(), v.signature.to_uppercase()] {
                let mut headers = http::HeaderMap::new();
                headers.insert(header, sig.parse().unwrap());
                assert_eq!(signature::verify(&secret, &body, &headers), Ok(()));
            }
        }
        // One flipped bit anywhere in the body is a mismatch.
        let mut tampered = body.clone();
        if let Some(byte) = tampered.last_mut() {
            *byte ^= 1;
        } else {
            tampered.push(0);
        }
        assert_eq!(
            signature::verify_hex(&secret, &tampered, &v.signature),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn a_delivery_parses_and_keeps_every_field() {
    let v = &vectors()[0];
    let body = const_hex::decode(&v.body_hex).unwrap();
    let delivery = Delivery::parse(&body).unwrap();
    assert_eq!(
        delivery.webhook_id.to_string(),
        "23e42eaf-323a-41da-b5bb-fd67eebda553"
    );
    let event = &delivery.events[0];
    assert_eq!(event.event_type, EventType::NoteCreated);
    assert_eq!(
        event.note_id(),
        Some("ff3f3bd4-40f4-4f80-8187-cd02385af424")
    );
    assert_eq!(
        event.parent_object_id(),
        Some("97052eb9-e65e-443f-a297-f2d9a4a7f795")
    );
    assert_eq!(event.actor.kind, ActorType::WorkspaceMember);
    let original: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(serde_json::to_value(&delivery).unwrap(), original);
}

#[test]
fn comment_and_merge_accessors() {
    let comment: Event = serde_json::from_value(json!({
        "event_type": "comment.created",
        "id": {"workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c", "comment_id": "c1"},
        "actor": {"type": "api-token", "id": "t1"},
        "thread_id": "th1", "object_id": "o1", "record_id": "r1", "list_id": null, "entry_id": null
    }))
    .unwrap();
    assert_eq!(comment.comment_id(), Some("c1"));
    assert_eq!(comment.thread_id(), Some("th1"));
    assert_eq!(comment.object_id(), Some("o1"));
    assert_eq!(comment.record_id(), Some("r1"));
    assert_eq!(comment.list_id(), None);

    let system: Event = serde_json::from_value(json!({
        "event_type": "workspace-member.created",
        "id": {"workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c", "workspace_member_id": "m"},
        "actor": {"type": "system", "id": null}
    }))
    .unwrap();
    assert_eq!(system.actor, Actor::system());
}

#[test]
fn bad_payloads_say_where() {
    let cases = [
        (r#"{"webhook_id":"nope","events":[]}"#, "webhook_id"),
        (
            r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"note.created","id":{},"actor":{"type":"system","id":null}}]}"#,
            "events[0].id",
        ),
        (
            r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":1}]}"#,
            "events[0].event_type",
        ),
        (
            r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":"#,
            "events",
        ),
    ];
    for (body, path) in cases {
        let err = Delivery::parse(body.as_bytes()).unwrap_err();
        assert!(err.path.starts_with(path), "{body}: {err}");
    }
    let secret = Secret::new("s");
    let headers = http::HeaderMap::new();
    assert!(matches!(
        Verifier::new(secret).verify(&headers, b"{}"),
        Err(ReceiveError::Signature(SignatureError::MissingHeader))
    ));
}

#[test]
fn missing_and_non_string_fields() {
    let event = Event::new(
        EventType::RecordUpdated,
        WorkspaceId::from_u128(5),
        Actor::system(),
    )
    .with_field("count", 3)
    .with_field("nested", json!({"deep": {"value": "x"}, "list": ["a"]}));
    assert_eq!(
        event.field("nested.deep.value"),
        FieldValue::String("x".into())
    );
    assert_eq!(event.field("nested.list.0"), FieldValue::Missing);
    assert_eq!(event.field("count"), FieldValue::NotAString);
    assert_eq!(
        event.field("id.workspace_id"),
        FieldValue::String("00000000-0000-0000-0000-000000000005".into())
    );
    let equals = |f: &str, v: &str| Filter::And(vec![Condition::equals(f, v)]).matches(&event);
    let not_equals =
        |f: &str, v: &str| Filter::And(vec![Condition::not_equals(f, v)]).matches(&event);
    assert!(equals("nested.deep.value", "x"));
    assert!(!equals("count", "3"), "no coercion");
    assert!(not_equals("count", "3"));
    assert!(!equals("missing", ""), "a missing field equals nothing");
    assert!(not_equals("missing", ""));
    assert!(!equals("actor.id", "null"));
    assert!(equals("event_type", "record.updated"));
    assert!(Filter::And(vec![]).matches(&event));
    assert!(!Filter::Or(vec![]).matches(&event));
    assert!(Filter::passes(None, &event));
    let unknown = Condition::new("event_type", Operator::from("starts_with"), "record");
    assert!(!Filter::Or(vec![unknown]).matches(&event));
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z]{0,3}".prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::btree_map("[a-c]{1,2}", inner.clone(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            proptest::collection::vec(inner, 0..3).prop_map(Value::Array),
        ]
    })
}

fn event() -> impl Strategy<Value = Event> {
    (
        proptest::sample::select(EventType::KNOWN),
        proptest::sample::select(ActorType::KNOWN),
        proptest::option::of("[a-z]{1,3}"),
        proptest::collection::btree_map("(object|record|note)_id", "[a-z]{0,3}", 0..3),
        proptest::collection::btree_map("[a-c]{1,2}|parent_object_id", json_value(), 0..5),
    )
        .prop_map(|(event_type, actor, actor_id, ids, fields)| {
            let mut event = Event::new(
                event_type,
                WorkspaceId::from_u128(9),
                Actor::new(actor, actor_id),
            );
            for (k, v) in ids {
                event = event.with_id(k, v);
            }
            for (k, v) in fields {
                event = event.with_field(k, v);
            }
            event
        })
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("event_type".to_owned()),
        Just("actor.type".to_owned()),
        Just("actor.id".to_owned()),
        "id\\.(object|record|note)_id",
        "([a-c]{1,2}|parent_object_id)(\\.[a-c]{1,2}){0,2}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,3}",
        Just("system".to_owned()),
        Just("note.created".to_owned())
    ]
}

/// An independent oracle: whether the JSON Pointer for the dot path
/// `field`, in the event as serialized, is exactly the string `value`.
fn pointer_is(event: &Event, field: &str, value: &str) -> bool {
    let json = serde_json::to_value(event).unwrap();
    let pointer = format!("/{}", field.replace('.', "/"));
    json.pointer(&pointer) == Some(&Value::String(value.to_owned()))
}

proptest! {
    #[test]
    fn a_one_condition_and_is_the_same_or(event in event(), field in path(), value in value(), equals in any::<bool>()) {
        let condition = if equals { Condition::equals(field, value) } else { Condition::not_equals(field, value) };
        prop_assert_eq!(
            Filter::And(vec![condition.clone()]).matches(&event),
            Filter::Or(vec![condition]).matches(&event)
        );
    }

    #[test]
    fn equals_agrees_with_a_lookup_in_the_json_the_receiver_gets(event in event(), field in path(), value in value()) {
        let expected = pointer_is(&event, &field, &value);
        prop_assert_eq!(Condition::equals(field, value).matches(&event), expected);
    }

    #[test]
    fn not_equals_agrees_with_a_lookup_in_the_json_the_receiver_gets(event in event(), field in path(), value in value()) {
        // Missing fields, nulls and non-strings are "not equal" too.
        let expected = !pointer_is(&event, &field, &value);
        prop_assert_eq!(Condition::not_equals(field, value).matches(&event), expected);
    }

    #[test]
    fn equivalent_filters_pass_the_same_events(
        event in event(),
        conditions in proptest::collection::vec((path(), value(), any::<bool>()), 0..5),
        rotate in 0usize..5,
    ) {
        let conditions: Vec<Condition> = conditions
            .into_iter()
            .map(|(f, v, eq)| if eq { Condition::equals(f, v) } else { Condition::not_equals(f, v) })
            .collect();
        let mut reordered = conditions.clone();
        if !reordered.is_empty() {
            let n = rotate % reordered.len();
            reordered.rotate_left(n);
        }
        for (a, b) in [
            (Filter::And(conditions.clone()), Filter::And(reordered.clone())),
            (Filter::Or(conditions), Filter::Or(reordered)),
        ] {
            prop_assert!(a.equivalent(&b));
            prop_assert_eq!(a.matches(&event), b.matches(&event));
        }
    }

    #[test]
    fn events_round_trip_as_the_same_json_object(event in event()) {
        let json = serde_json::to_value(&event).unwrap();
        let back: Event = serde_json::from_value(json.clone()).unwrap();
        prop_assert_eq!(&back, &event);
        prop_assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }
}

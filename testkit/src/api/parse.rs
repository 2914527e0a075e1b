//! Strict reading of request bodies and queries, before any lock.
//!
//! The fake is stricter than the client's decoder on purpose: a test should
//! fail when a request would not pass Attio. Bodies are read into mirror
//! types that reject unknown keys, `null` where a value is required and
//! values of the wrong type; the 400 message names the JSON path of the
//! first problem. What is left (event types, operators, target URLs,
//! uniqueness) are Attio's rules on the typed values, in
//! [`crate::workspace`].

use attio_webhooks::operations::{DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT};
use attio_webhooks::{
    error::{ApiErrorBody, ValidationError},
    model::Operator,
    model::Timestamp,
    operations::decode_json,
    receive::Event,
    Condition, EventType, Filter, Secret, Subscription, WebhookId, WebhookStatus,
};
use bytes::Bytes;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::errors;
use super::validation::{self, Shape};

/// `{"data": ...}` with nothing else beside `data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict<T> {
    data: T,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    target_url: String,
    subscriptions: Vec<StrictSubscription>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    target_url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    subscriptions: Option<Vec<StrictSubscription>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    target_url: String,
    subscriptions: Vec<StrictSubscription>,
    #[serde(default, deserialize_with = "present")]
    status: Option<WebhookStatus>,
    #[serde(default, deserialize_with = "present")]
    webhook_id: Option<WebhookId>,
    #[serde(default, deserialize_with = "present")]
    created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "present")]
    secret: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictSubscription {
    event_type: String,
    #[serde(deserialize_with = "nullable")]
    filter: Option<StrictFilter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
enum StrictFilter {
    #[serde(rename = "$and")]
    And(Vec<StrictCondition>),
    #[serde(rename = "$or")]
    Or(Vec<StrictCondition>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictCondition {
    field: String,
    operator: String,
    value: String,
}

impl From<StrictSubscription> for Subscription {
    fn from(s: StrictSubscription) -> Self {
        let condition =
            |c: StrictCondition| Condition::new(c.field, Operator::from(c.operator), c.value);
        let subscription = Subscription::new(EventType::from(s.event_type));
        match s.filter {
            None => subscription,
            Some(StrictFilter::And(c)) => {
                subscription.with_filter(Filter::And(c.into_iter().map(condition).collect()))
            }
            Some(StrictFilter::Or(c)) => {
                subscription.with_filter(Filter::Or(c.into_iter().map(condition).collect()))
            }
        }
    }
}

fn subscriptions(strict: Vec<StrictSubscription>) -> Vec<Subscription> {
    strict.into_iter().map(Subscription::from).collect()
}

/// An optional key that, when present, must not be `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A required key whose value may be `null`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// Reads `body` as `T`, or the 400 that lists what is wrong with it: every
/// problem `shape` finds, as Attio lists them (see [`validation`]), or, for
/// a body without a shape of its own or a problem the shape does not
/// describe, the JSON parser's path and reason as one `custom` entry.
pub(crate) fn read<T: DeserializeOwned>(
    body: &Bytes,
    shape: Option<&Shape>,
) -> Result<T, ApiErrorBody> {
    decode_json(StatusCode::OK, body).map_err(|e| {
        if e.malformed {
            // No live answer shows what Attio says: the fake's choice.
            return errors::validation(format!("Body is not valid JSON: {}", e.message));
        }
        // Only a refused body pays for the second parse.
        let listed = shape
            .and_then(|shape| {
                serde_json::from_slice(body)
                    .ok()
                    .map(|value| validation::problems(&value, shape))
            })
            .unwrap_or_default();
        if listed.is_empty() {
            errors::invalid_body(vec![ValidationError::new(
                "custom",
                validation::segments(&e.path),
                e.message,
            )])
        } else {
            errors::invalid_body(listed)
        }
    })
}

/// A create body, typed: `(target_url, subscriptions)`.
pub(crate) fn create_body(body: &Bytes) -> Result<(String, Vec<Subscription>), ApiErrorBody> {
    let Strict { data } = read::<Strict<CreateBody>>(body, Some(&validation::CREATE))?;
    Ok((data.target_url, subscriptions(data.subscriptions)))
}

/// An update body, typed; `None` leaves a field as it is.
pub(crate) fn update_body(
    body: &Bytes,
) -> Result<(Option<String>, Option<Vec<Subscription>>), ApiErrorBody> {
    let Strict { data } = read::<Strict<UpdateBody>>(body, Some(&validation::UPDATE))?;
    Ok((data.target_url, data.subscriptions.map(subscriptions)))
}

/// A seed, typed; see [`crate::Seed`].
pub(crate) struct SeedInput {
    pub(crate) target_url: String,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) status: Option<WebhookStatus>,
    pub(crate) webhook_id: Option<WebhookId>,
    pub(crate) created_at: Option<Timestamp>,
    pub(crate) secret: Option<Secret>,
}

/// `{"data":[Seed, ...]}`, as strictly as a create body.
pub(crate) fn seeds_body(body: &Bytes) -> Result<Vec<SeedInput>, ApiErrorBody> {
    let Strict { data } = read::<Strict<Vec<SeedBody>>>(body, None)?;
    Ok(data
        .into_iter()
        .map(|s| SeedInput {
            target_url: s.target_url,
            subscriptions: subscriptions(s.subscriptions),
            status: s.status,
            webhook_id: s.webhook_id,
            created_at: s.created_at,
            secret: s.secret.map(Secret::new),
        })
        .collect())
}

/// `{"data": T}` for the other control routes (fault rules, events, clock).
pub(crate) fn control_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiErrorBody> {
    read::<Strict<T>>(body, None).map(|s| s.data)
}

/// What `POST /__fake/events` asks for: one event, or a batch.
#[derive(Debug)]
pub(crate) enum EventsBody {
    /// `{"data": Event}`.
    One(Event),
    /// `{"data": [Event, ...]}` or `{"data": {"events": [Event, ...]}}`.
    Batch(Vec<Event>),
}

/// The delivery-shaped batch form, `{"events": [...]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsBatch {
    events: Vec<Event>,
}

/// The body of `POST /__fake/events`: an event, or a non-empty batch in
/// either form. The shape is told from `data` (an array, or an object with
/// `events` and no `event_type`); then the body is read as that shape, so
/// a 400 names the JSON path of the problem.
pub(crate) fn events_body(body: &Bytes) -> Result<EventsBody, ApiErrorBody> {
    let shape = control_body::<serde_json::Value>(body)?;
    let emitted = match &shape {
        serde_json::Value::Array(_) => EventsBody::Batch(control_body::<Vec<Event>>(body)?),
        serde_json::Value::Object(o)
            if o.contains_key("events") && !o.contains_key("event_type") =>
        {
            EventsBody::Batch(control_body::<EventsBatch>(body)?.events)
        }
        _ => EventsBody::One(control_body::<Event>(body)?),
    };
    match emitted {
        EventsBody::Batch(events) if events.is_empty() => Err(errors::validation(
            "Body payload validation error at data: a batch needs at least one event",
        )),
        EventsBody::Batch(events) if events.len() > MAX_BATCH_EVENTS => {
            Err(errors::validation(format!(
                "Body payload validation error at data: a batch holds at most {MAX_BATCH_EVENTS} events, not {}",
                events.len()
            )))
        }
        emitted => Ok(emitted),
    }
}

/// The most events one `POST /__fake/events` batch may hold (the fake's
/// bound: each event is routed to every webhook under the workspace lock,
/// and Attio's own batches hold a few events about one record).
pub(crate) const MAX_BATCH_EVENTS: usize = 100;

/// A path segment with its `%XX` escapes decoded, or `None` when the result
/// is not UTF-8. A `%` not followed by two hex digits is kept as it is.
pub(crate) fn percent_decoded(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Reads `limit` (10..=100, default 10) and `offset` (default 0) from a
/// list query. Other parameters are ignored, as HTTP APIs usually do.
pub(crate) fn list_query(query: Option<&str>) -> Result<(usize, usize), ApiErrorBody> {
    let mut limit = DEFAULT_LIMIT as usize;
    let mut offset = 0usize;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*key {
            "limit" => {
                limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|l| (MIN_LIMIT..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        errors::validation(format!(
                            "limit must be an integer between {MIN_LIMIT} and {MAX_LIMIT}, got {value:?}"
                        ))
                    })? as usize;
            }
            "offset" => {
                offset = value.parse::<usize>().map_err(|_| {
                    errors::validation(format!(
                        "offset must be a non-negative integer, got {value:?}"
                    ))
                })?;
            }
            _ => {}
        }
    }
    Ok((limit, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message and each refused path of a create body's 400.
    fn create_err(body: &str) -> String {
        let refused = create_body(&Bytes::copy_from_slice(body.as_bytes())).unwrap_err();
        let mut out = refused.message;
        for e in refused.validation_errors {
            out.push_str(&format!(" | {} {}: {}", e.code, e.path_string(), e.message));
        }
        out
    }

    #[test]
    fn accepts_the_spec_example() {
        let body = r#"{"data":{"target_url":"https://example.com/webhook","subscriptions":[{"event_type":"note.created","filter":{"$and":[{"field":"parent_object_id","operator":"equals","value":"97052eb9-e65e-443f-a297-f2d9a4a7f795"}]}}]}}"#;
        let (_, subs) = create_body(&Bytes::from_static(body.as_bytes())).unwrap();
        assert_eq!(subs[0].event_type, EventType::NoteCreated);
    }

    #[test]
    fn rejections_name_the_problem() {
        let sub = r#"{"event_type":"note.created","filter":null}"#;
        assert!(create_err("{").contains("not valid JSON"));
        assert!(create_err(r#"{"data":{"target_url":"https://x.com","subscriptions":[{"event_type":"note.created"}]}}"#).contains("invalid_type data.subscriptions[0].filter: Required"));
        assert!(create_err(&format!(
            r#"{{"data":{{"target_url":"https://x.com","subscriptions":[{sub}],"extra":1}}}}"#
        ))
        .contains("unrecognized_keys data: Unrecognized key(s) in object: 'extra'"));
        assert!(
            create_err(r#"{"data":{"target_url":5,"subscriptions":[]}}"#)
                .contains("data.target_url: Expected string, received number")
        );
        assert!(create_err(&format!(
            r#"{{"data":{{"target_url":"https://x.com","subscriptions":[{sub}]}}}} trailing"#
        ))
        .contains("not valid JSON"));
        assert!(create_err(r#"{"data":{"target_url":"https://x.com","subscriptions":[{"event_type":"note.created","filter":{"$and":[{"field":"a","operator":"equals","value":1}]}}]}}"#)
            .contains("data.subscriptions[0].filter.$and[0].value: Expected string, received number"));
    }

    #[test]
    fn update_fields_are_optional_but_not_null() {
        let (url, subs) = update_body(&Bytes::from_static(br#"{"data":{}}"#)).unwrap();
        assert_eq!((url, subs), (None, None));
        assert!(update_body(&Bytes::from_static(br#"{"data":{"target_url":null}}"#)).is_err());
    }

    #[test]
    fn list_query_bounds() {
        assert_eq!(list_query(None).unwrap(), (10, 0));
        assert_eq!(
            list_query(Some("limit=100&offset=7&x=y")).unwrap(),
            (100, 7)
        );
        for bad in ["limit=5", "limit=101", "limit=abc", "offset=-1", "limit="] {
            assert_eq!(list_query(Some(bad)).unwrap_err().status_code, 400, "{bad}");
        }
    }

    #[test]
    fn events_come_one_or_as_a_batch_in_either_form() {
        let event = r#"{"event_type":"note.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","note_id":"n1"},"actor":{"type":"system","id":null}}"#;
        let read = |body: String| events_body(&Bytes::from(body));
        assert!(matches!(
            read(format!(r#"{{"data":{event}}}"#)),
            Ok(EventsBody::One(_))
        ));
        assert!(matches!(
            read(format!(r#"{{"data":[{event},{event}]}}"#)),
            Ok(EventsBody::Batch(events)) if events.len() == 2
        ));
        assert!(matches!(
            read(format!(r#"{{"data":[{}]}}"#, vec![event; 100].join(","))),
            Ok(EventsBody::Batch(events)) if events.len() == 100
        ));
        assert!(matches!(
            read(format!(r#"{{"data":{{"events":[{event}]}}}}"#)),
            Ok(EventsBody::Batch(events)) if events.len() == 1
        ));
        for (bad, says) in [
            (r#"{"data":[]}"#.to_owned(), "at least one event"),
            (r#"{"data":{"events":[]}}"#.to_owned(), "at least one event"),
            (
                format!(r#"{{"data":[{event},{{"event_type":"note.created"}}]}}"#),
                r#"["data",1"#,
            ),
            (
                format!(r#"{{"data":{{"events":[{event}],"extra":1}}}}"#),
                "unknown field `extra`",
            ),
            (format!(r#"{{"events":[{event}]}}"#), "data"),
            (
                format!(r#"{{"data":[{}]}}"#, vec![event; 101].join(",")),
                "at most 100 events, not 101",
            ),
        ] {
            // The message, or the path and message of a validation error.
            let refusal = serde_json::to_string(&read(bad.clone()).unwrap_err()).unwrap();
            assert!(refusal.contains(says), "{bad}: {refusal}");
        }
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(percent_decoded("a%2Fb%20c").as_deref(), Some("a/b c"));
        assert_eq!(percent_decoded("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decoded("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(percent_decoded("%C3%A9").as_deref(), Some("\u{e9}"));
        assert_eq!(percent_decoded("%FF"), None);
    }

    #[test]
    fn seeds_are_read_as_strictly_as_creates() {
        let ok = br#"{"data":[{"target_url":"https://x.test/","subscriptions":[{"event_type":"note.created","filter":null}],"status":"degraded","webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","secret":"s"}]}"#;
        let seeds = seeds_body(&Bytes::from_static(ok)).unwrap();
        assert_eq!(seeds[0].status, Some(WebhookStatus::Degraded));
        for bad in [
            &br#"{"data":[{"target_url":"https://x.test/","subscriptions":[{"event_type":"note.created"}]}]}"#[..],
            br#"{"data":[{"target_url":"https://x.test/","subscriptions":[],"colour":"red"}]}"#,
            br#"{"data":[{"target_url":"https://x.test/","subscriptions":[],"webhook_id":"nope"}]}"#,
            br#"{"data":{"target_url":"https://x.test/","subscriptions":[]}}"#,
        ] {
            assert!(seeds_body(&Bytes::copy_from_slice(bad)).is_err());
        }
    }
}

//! Strict reading of request bodies and queries, as the fake checks them.
//!
//! The fake is stricter than the client's decoder on purpose: a test should
//! fail when a request would not pass Attio. Bodies are read into mirror
//! types that reject unknown keys (`deny_unknown_fields`), `null` where a
//! value is required, unknown event types and unknown operators; the 400
//! message names the JSON path of the first problem. The wiremock fixtures
//! use the same checks as request matchers.

use attio_webhooks::{
    ApiErrorBody, Condition, EventType, Filter, Operator, Subscription, TargetUrlPolicy,
};
use serde::{Deserialize, Deserializer};

use crate::errors;

/// Default `limit` of list, as documented.
pub const DEFAULT_LIMIT: usize = 10;

/// A create request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// The https target.
    pub target_url: String,
    /// At least one subscription, all known event types and operators.
    pub subscriptions: Vec<Subscription>,
}

/// An update request that passed every check; `None` leaves a field as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookChanges {
    /// A new target, if sent.
    pub target_url: Option<String>,
    /// New subscriptions, if sent.
    pub subscriptions: Option<Vec<Subscription>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<T> {
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

/// An optional key that, when present, must not be `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A required key whose value may be `null`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

fn read<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiErrorBody> {
    // The plain decode is the fast path (UTF-8 checked once for the whole
    // body); only a failure pays for the path tracking.
    if let Ok(Ok(value)) = std::str::from_utf8(body).map(serde_json::from_str) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            errors::validation(format!("Body is not valid JSON: {inner}"))
        } else {
            errors::validation(format!("Body payload validation error at {path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| errors::validation(format!("Body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Reads and checks a `POST /v2/webhooks` body.
pub fn create_body(body: &[u8], targets: TargetUrlPolicy) -> Result<NewWebhook, ApiErrorBody> {
    let Envelope { data } = read::<Envelope<CreateBody>>(body)?;
    check_target(&data.target_url, targets)?;
    Ok(NewWebhook {
        target_url: data.target_url,
        subscriptions: subscriptions(data.subscriptions)?,
    })
}

/// Reads and checks a `PATCH /v2/webhooks/{id}` body.
pub fn update_body(body: &[u8], targets: TargetUrlPolicy) -> Result<WebhookChanges, ApiErrorBody> {
    let Envelope { data } = read::<Envelope<UpdateBody>>(body)?;
    if let Some(url) = &data.target_url {
        check_target(url, targets)?;
    }
    Ok(WebhookChanges {
        target_url: data.target_url,
        subscriptions: data.subscriptions.map(subscriptions).transpose()?,
    })
}

fn check_target(url: &str, targets: TargetUrlPolicy) -> Result<(), ApiErrorBody> {
    targets.check(url).map_err(|e| {
        errors::validation(format!(
            "Body payload validation error at data.target_url: {e}"
        ))
    })
}

fn subscriptions(strict: Vec<StrictSubscription>) -> Result<Vec<Subscription>, ApiErrorBody> {
    if strict.is_empty() {
        return Err(errors::validation(
            "Body payload validation error at data.subscriptions: at least one subscription is required",
        ));
    }
    strict
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let at = |what: &str| {
                format!("Body payload validation error at data.subscriptions[{i}].{what}")
            };
            let event_type = EventType::from(s.event_type);
            if !event_type.is_known() {
                return Err(errors::validation(format!(
                    "{}: unknown event type {:?}",
                    at("event_type"),
                    event_type.as_str()
                )));
            }
            let filter = match s.filter {
                None => None,
                Some(StrictFilter::And(c)) => Some(Filter::And(conditions(c, &|j| {
                    at(&format!("filter.$and[{j}].operator"))
                })?)),
                Some(StrictFilter::Or(c)) => Some(Filter::Or(conditions(c, &|j| {
                    at(&format!("filter.$or[{j}].operator"))
                })?)),
            };
            Ok(Subscription::from_parts(event_type, filter))
        })
        .collect()
}

/// Checks each condition's operator; `at(j)` names condition `j`'s operator in messages.
fn conditions(
    strict: Vec<StrictCondition>,
    at: &dyn Fn(usize) -> String,
) -> Result<Vec<Condition>, ApiErrorBody> {
    strict
        .into_iter()
        .enumerate()
        .map(|(j, c)| {
            let operator = Operator::from(c.operator);
            if !operator.is_known() {
                return Err(errors::validation(format!(
                    "{}: unknown operator {:?}, expected \"equals\" or \"not_equals\"",
                    at(j),
                    operator.as_str()
                )));
            }
            Ok(Condition::new(c.field, operator, c.value))
        })
        .collect()
}

/// Reads `limit` (10..=100, default 10) and `offset` (default 0) from a
/// list query. Other parameters are ignored, as HTTP APIs usually do.
pub fn list_query(query: Option<&str>) -> Result<(usize, usize), ApiErrorBody> {
    let mut limit = DEFAULT_LIMIT;
    let mut offset = 0usize;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*key {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (10..=100).contains(l))
                    .ok_or_else(|| {
                        errors::validation(format!(
                            "limit must be an integer between 10 and 100, got {value:?}"
                        ))
                    })?;
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

    const POLICY: TargetUrlPolicy = TargetUrlPolicy::HttpsOnly;

    fn create_err(body: &str) -> String {
        create_body(body.as_bytes(), POLICY).unwrap_err().message
    }

    #[test]
    fn accepts_the_spec_example() {
        let body = r#"{"data":{"target_url":"https://example.com/webhook","subscriptions":[{"event_type":"note.created","filter":{"$and":[{"field":"parent_object_id","operator":"equals","value":"97052eb9-e65e-443f-a297-f2d9a4a7f795"}]}}]}}"#;
        let parsed = create_body(body.as_bytes(), POLICY).unwrap();
        assert_eq!(parsed.subscriptions[0].event_type, EventType::NoteCreated);
    }

    #[test]
    fn rejections_name_the_problem() {
        let sub = r#"{"event_type":"note.created","filter":null}"#;
        assert!(create_err("{").contains("not valid JSON"));
        assert!(create_err(&format!(
            r#"{{"data":{{"target_url":"http://x.com","subscriptions":[{sub}]}}}}"#
        ))
        .contains("data.target_url"));
        assert!(create_err(r#"{"data":{"target_url":"https://x.com","subscriptions":[{"event_type":"note.created"}]}}"#).contains("missing field `filter`"));
        assert!(create_err(r#"{"data":{"target_url":"https://x.com","subscriptions":[{"event_type":"nope","filter":null}]}}"#).contains("unknown event type"));
        assert!(create_err(r#"{"data":{"target_url":"https://x.com","subscriptions":[{"event_type":"note.created","filter":{"$or":[{"field":"a","operator":"like","value":"b"}]}}]}}"#).contains("data.subscriptions[0].filter.$or[0].operator: unknown operator"));
        assert!(create_err(&format!(
            r#"{{"data":{{"target_url":"https://x.com","subscriptions":[{sub}],"extra":1}}}}"#
        ))
        .contains("unknown field `extra`"));
        assert!(
            create_err(r#"{"data":{"target_url":5,"subscriptions":[]}}"#)
                .contains("data.target_url")
        );
        assert!(
            create_err(r#"{"data":{"target_url":"https://x.com","subscriptions":[]}}"#)
                .contains("at least one")
        );
        assert!(create_err(&format!(
            r#"{{"data":{{"target_url":"https://x.com","subscriptions":[{sub}]}}}} trailing"#
        ))
        .contains("not valid JSON"));
    }

    #[test]
    fn update_fields_are_optional_but_not_null() {
        let none = update_body(br#"{"data":{}}"#, POLICY).unwrap();
        assert_eq!(
            none,
            WebhookChanges {
                target_url: None,
                subscriptions: None
            }
        );
        assert!(update_body(br#"{"data":{"target_url":null}}"#, POLICY).is_err());
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
}

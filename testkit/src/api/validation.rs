//! Attio's `validation_errors`: every problem of a webhook body the fake
//! refuses, listed as Attio's validator lists them.
//!
//! Observed live (rbeene/attio_ruby `api_response_documentation.md`,
//! captured 2025-07-27): `POST /v2/webhooks` with `{"data":{}}` answers 400
//! `"message":"Body payload validation error."` and one entry per missing
//! field, `{"code":"invalid_type","path":["data","target_url"],
//! "message":"Required","expected":"string","received":"undefined"}`, in
//! the order of the body's schema. The same capture shows
//! `invalid_option` entries for an enum. What the fake says beyond that is
//! its own choice, in the same vocabulary: a value of the wrong type is
//! `invalid_type` with `"message":"Expected string, received number"`; a
//! key the schema lacks is `unrecognized_keys` (Attio may instead ignore
//! it; the fake refuses it so a test notices the typo); a filter that is
//! neither `$and` nor `$or` is `invalid_union`; a refusal by Attio's rules
//! (a target URL that is not `https://`, an unknown operator) is `custom`
//! with the reason as its message.
//!
//! The walk only looks where the schema says, so its depth is the
//! schema's (five levels), and it stops after [`MAX_ERRORS`] entries.

use attio_webhooks::error::{PathSegment, ValidationError};
use serde_json::Value;

/// The most entries one answer lists; a body with more problems names the
/// first ones.
pub(crate) const MAX_ERRORS: usize = 100;

/// The shape a request body must have.
pub(crate) enum Shape {
    String,
    Array(&'static Shape),
    /// Keys in the schema's order; each required or optional.
    Object(&'static [(&'static str, Presence, Shape)]),
    /// Exactly one key of the object, each with its shape.
    OneKeyOf(&'static [(&'static str, Shape)]),
    /// `null` or the shape.
    Nullable(&'static Shape),
}

/// Whether a key of an [`Shape::Object`] must be there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
}

static CONDITION: Shape = Shape::Object(&[
    ("field", Presence::Required, Shape::String),
    ("operator", Presence::Required, Shape::String),
    ("value", Presence::Required, Shape::String),
]);
static FILTER: Shape = Shape::OneKeyOf(&[
    ("$and", Shape::Array(&CONDITION)),
    ("$or", Shape::Array(&CONDITION)),
]);
static SUBSCRIPTION: Shape = Shape::Object(&[
    ("event_type", Presence::Required, Shape::String),
    ("filter", Presence::Required, Shape::Nullable(&FILTER)),
]);

/// `{"data":{"target_url","subscriptions"}}`, both required: a create body.
pub(crate) static CREATE: Shape = Shape::Object(&[(
    "data",
    Presence::Required,
    Shape::Object(&[
        ("target_url", Presence::Required, Shape::String),
        (
            "subscriptions",
            Presence::Required,
            Shape::Array(&SUBSCRIPTION),
        ),
    ]),
)]);

/// `{"data":{"target_url"?,"subscriptions"?}}`: an update body.
pub(crate) static UPDATE: Shape = Shape::Object(&[(
    "data",
    Presence::Required,
    Shape::Object(&[
        ("target_url", Presence::Optional, Shape::String),
        (
            "subscriptions",
            Presence::Optional,
            Shape::Array(&SUBSCRIPTION),
        ),
    ]),
)]);

/// Every problem of `body` against `shape`, in the schema's order (at most
/// [`MAX_ERRORS`]).
pub(crate) fn problems(body: &Value, shape: &Shape) -> Vec<ValidationError> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(Some(body), shape, &mut path, &mut out);
    out
}

fn walk(
    value: Option<&Value>,
    shape: &Shape,
    path: &mut Vec<PathSegment>,
    out: &mut Vec<ValidationError>,
) {
    if out.len() >= MAX_ERRORS {
        return;
    }
    let Some(value) = value else {
        out.push(invalid_type(path, expected(shape), "undefined", "Required"));
        return;
    };
    match (shape, value) {
        (Shape::Nullable(_), Value::Null) => {}
        (Shape::Nullable(inner), _) => walk(Some(value), inner, path, out),
        (Shape::String, Value::String(_)) => {}
        (Shape::Array(item), Value::Array(items)) => {
            for (i, item_value) in items.iter().enumerate() {
                path.push(PathSegment::Index(i as u64));
                walk(Some(item_value), item, path, out);
                path.pop();
            }
        }
        (Shape::Object(keys), Value::Object(map)) => {
            for (key, presence, inner) in *keys {
                match map.get(*key) {
                    None if *presence == Presence::Optional => {}
                    found => {
                        path.push(PathSegment::from(*key));
                        walk(found, inner, path, out);
                        path.pop();
                    }
                }
            }
            let unknown: Vec<&str> = map
                .keys()
                .filter(|k| !keys.iter().any(|(known, _, _)| known == k))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() && out.len() < MAX_ERRORS {
                let quoted: Vec<String> = unknown.iter().map(|k| format!("'{k}'")).collect();
                out.push(
                    ValidationError::new(
                        "unrecognized_keys",
                        path.clone(),
                        format!("Unrecognized key(s) in object: {}", quoted.join(", ")),
                    )
                    .with_detail("keys", unknown),
                );
            }
        }
        (Shape::OneKeyOf(options), Value::Object(map)) => {
            let chosen = (map.len() == 1)
                .then(|| options.iter().find(|(key, _)| map.contains_key(*key)))
                .flatten();
            match chosen {
                Some((key, inner)) => {
                    path.push(PathSegment::from(*key));
                    walk(map.get(*key), inner, path, out);
                    path.pop();
                }
                None => out.push(ValidationError::new(
                    "invalid_union",
                    path.clone(),
                    "Invalid input",
                )),
            }
        }
        (_, found) => {
            let received = json_type(found);
            let message = format!("Expected {}, received {received}", expected(shape));
            out.push(invalid_type(path, expected(shape), received, &message));
        }
    }
}

fn invalid_type(
    path: &[PathSegment],
    expected: &str,
    received: &str,
    message: &str,
) -> ValidationError {
    ValidationError::new("invalid_type", path.to_vec(), message)
        .with_detail("expected", expected)
        .with_detail("received", received)
}

/// The type name of `shape`, as the validator says it.
fn expected(shape: &Shape) -> &'static str {
    match shape {
        Shape::String => "string",
        Shape::Array(_) => "array",
        Shape::Object(_) | Shape::OneKeyOf(_) => "object",
        Shape::Nullable(inner) => expected(inner),
    }
}

/// The type name of a JSON value, as the validator says it (and as JSON
/// Schema names it).
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A dotted path as the JSON parser reports it (`data.subscriptions[0].filter`),
/// as segments.
pub(crate) fn segments(path: &str) -> Vec<PathSegment> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(PathSegment::from(key));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else { break };
            match inner[..end].parse::<u64>() {
                Ok(i) => out.push(PathSegment::Index(i)),
                Err(_) => out.push(PathSegment::from(&inner[..end])),
            }
            rest = &inner[end + 1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(body: &str, shape: &Shape) -> Vec<(String, String)> {
        problems(&serde_json::from_str(body).unwrap(), shape)
            .into_iter()
            .map(|e| (e.path_string(), e.code))
            .collect()
    }

    #[test]
    fn lists_every_problem_in_schema_order() {
        let found = paths(
            r#"{"data":{"subscriptions":[{"event_type":1,"filter":{"$or":[{"field":"a","operator":"equals"}]}},{"filter":{"$xor":[]},"event_type":"x","colour":"red"}]}}"#,
            &CREATE,
        );
        let expected = [
            ("data.target_url", "invalid_type"),
            ("data.subscriptions[0].event_type", "invalid_type"),
            ("data.subscriptions[0].filter.$or[0].value", "invalid_type"),
            ("data.subscriptions[1].filter", "invalid_union"),
            ("data.subscriptions[1]", "unrecognized_keys"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn update_fields_are_optional_and_a_valid_body_has_no_problem() {
        assert!(paths(r#"{"data":{}}"#, &UPDATE).is_empty());
        assert!(paths(
            r#"{"data":{"target_url":"https://x","subscriptions":[{"event_type":"a","filter":null}]}}"#,
            &CREATE
        )
        .is_empty());
        assert_eq!(
            paths(r#"{"data":{"target_url":null}}"#, &UPDATE),
            [("data.target_url".to_owned(), "invalid_type".to_owned())]
        );
    }

    #[test]
    fn stops_after_the_cap() {
        let many = format!(
            r#"{{"data":{{"target_url":"x","subscriptions":[{}]}}}}"#,
            vec!["1"; 500].join(",")
        );
        assert_eq!(
            problems(&serde_json::from_str(&many).unwrap(), &CREATE).len(),
            MAX_ERRORS
        );
    }

    #[test]
    fn dotted_paths_become_segments() {
        assert_eq!(
            segments("data.subscriptions[0].filter.$and[12]"),
            vec![
                PathSegment::from("data"),
                PathSegment::from("subscriptions"),
                PathSegment::Index(0),
                PathSegment::from("filter"),
                PathSegment::from("$and"),
                PathSegment::Index(12),
            ]
        );
        assert_eq!(segments("."), Vec::<PathSegment>::new());
    }
}

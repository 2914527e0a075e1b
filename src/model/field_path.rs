//! What a filter reads from an event: the value at a dot path.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// The value at a dot path of an event, as filters see it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// Nothing at that path.
    Missing,
    /// A string.
    String(Cow<'a, str>),
    /// Something else: `null`, a number, a boolean, an object or an array.
    NotAString,
}

/// Something a [`Filter`](crate::Filter) can be evaluated against: it
/// answers the value at a dot path (`actor.type`, `id.object_id`, `a.b.c`).
///
/// A received `receive::Event` is one; so is a JSON object
/// (`serde_json::Map`), walked key by key, which lets a filter be checked
/// against an event kept as raw JSON.
///
/// ```
/// use attio_webhooks::model::{FieldValue, Fields};
/// use attio_webhooks::{Condition, Filter};
/// let event: serde_json::Map<String, serde_json::Value> =
///     serde_json::from_str(r#"{"id":{"object_id":"people"},"actor":{"type":"system"}}"#)?;
/// assert_eq!(event.field("id.object_id"), FieldValue::String("people".into()));
/// assert!(Filter::And(vec![Condition::equals("id.object_id", "people")]).matches(&event));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait Fields {
    /// The value at the dot `path`; arrays are not indexed, so a path
    /// through one is [`FieldValue::Missing`].
    fn field(&self, path: &str) -> FieldValue<'_>;
}

impl Fields for Map<String, Value> {
    fn field(&self, path: &str) -> FieldValue<'_> {
        walk(self, path)
    }
}

/// Follows a dot path through nested JSON objects.
pub(crate) fn walk<'a>(map: &'a Map<String, Value>, path: &str) -> FieldValue<'a> {
    let mut segments = path.split('.');
    let Some(first) = segments.next() else {
        return FieldValue::Missing;
    };
    let mut value = match map.get(first) {
        Some(v) => v,
        None => return FieldValue::Missing,
    };
    for segment in segments {
        value = match value.as_object().and_then(|o| o.get(segment)) {
            Some(v) => v,
            None => return FieldValue::Missing,
        };
    }
    match value {
        Value::String(s) => FieldValue::String(Cow::Borrowed(s)),
        _ => FieldValue::NotAString,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_walks_nested_objects_and_stops_at_arrays() {
        let map: Map<String, Value> =
            serde_json::from_str(r#"{"a":{"b":{"c":"deep"}},"n":1,"list":[{"x":"no"}],"s":"top"}"#)
                .unwrap();
        assert_eq!(walk(&map, "a.b.c"), FieldValue::String("deep".into()));
        assert_eq!(walk(&map, "s"), FieldValue::String("top".into()));
        assert_eq!(walk(&map, "a.b"), FieldValue::NotAString);
        assert_eq!(walk(&map, "n"), FieldValue::NotAString);
        assert_eq!(walk(&map, "list.x"), FieldValue::Missing);
        assert_eq!(walk(&map, "a.missing"), FieldValue::Missing);
        assert_eq!(walk(&map, "s.more"), FieldValue::Missing);
        assert_eq!(walk(&map, ""), FieldValue::Missing);
    }
}

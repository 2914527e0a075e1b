//! Subscription filters: `null`, `{"$and": [...]}` or `{"$or": [...]}`.

use serde::{Deserialize, Serialize};

use crate::model::field_path::{FieldValue, Fields};
use crate::open_enum::open_enum;

/// Which events of a subscription's type are delivered.
///
/// A subscription's filter is `Option<Filter>`: `None` is sent as `null` and
/// lets every event through. `$and` needs every condition to hold, `$or` at
/// least one.
///
/// ```
/// use attio_webhooks::{Condition, Filter};
/// let filter = Filter::And(vec![Condition::equals("parent_object_id", "97052eb9-e65e-443f-a297-f2d9a4a7f795")]);
/// assert_eq!(
///     serde_json::to_string(&filter)?,
///     r#"{"$and":[{"field":"parent_object_id","operator":"equals","value":"97052eb9-e65e-443f-a297-f2d9a4a7f795"}]}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// `#[non_exhaustive]`: should Attio add a combinator, a later version can
/// add it as a variant; a `match` outside this crate needs a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Filter {
    /// `{"$and": [...]}`: every condition must hold (an empty list always passes).
    #[serde(rename = "$and")]
    And(Vec<Condition>),
    /// `{"$or": [...]}`: at least one condition must hold (an empty list never passes).
    #[serde(rename = "$or")]
    Or(Vec<Condition>),
}

impl Filter {
    /// The conditions, whichever the combinator.
    pub fn conditions(&self) -> &[Condition] {
        match self {
            Filter::And(conditions) | Filter::Or(conditions) => conditions,
        }
    }

    /// The combinator's key on the wire: `$and` or `$or`.
    ///
    /// ```
    /// use attio_webhooks::Filter;
    /// assert_eq!(Filter::Or(vec![]).combinator(), "$or");
    /// ```
    pub fn combinator(&self) -> &'static str {
        match self {
            Filter::And(_) => "$and",
            Filter::Or(_) => "$or",
        }
    }

    /// `true` when both filters are the same combinator over the same
    /// conditions, in any order. This is how Attio compares filters when it
    /// checks that a (target URL, event type, filter) triple is unique.
    ///
    /// ```
    /// use attio_webhooks::{Condition, Filter};
    /// let a = Condition::equals("actor.type", "workspace-member");
    /// let b = Condition::not_equals("id.object_id", "people");
    /// assert!(Filter::Or(vec![a.clone(), b.clone()]).equivalent(&Filter::Or(vec![b.clone(), a.clone()])));
    /// assert!(!Filter::Or(vec![a.clone()]).equivalent(&Filter::And(vec![a])));
    /// ```
    pub fn equivalent(&self, other: &Filter) -> bool {
        self.canonical() == other.canonical()
    }

    /// The same filter with its conditions in a fixed order, so that two
    /// [`equivalent`](Filter::equivalent) filters have equal canonical
    /// forms: use it to hash or index filters the way Attio compares them.
    /// Repeated conditions are kept (a filter with a condition twice is not
    /// the filter with it once).
    ///
    /// ```
    /// use attio_webhooks::{Condition, Filter};
    /// let a = Condition::equals("a", "1");
    /// let b = Condition::equals("b", "2");
    /// assert_eq!(Filter::And(vec![b.clone(), a.clone()]).canonical(), Filter::And(vec![a, b]));
    /// ```
    pub fn canonical(&self) -> Filter {
        let mut conditions = self.conditions().to_vec();
        conditions.sort();
        match self {
            Filter::And(_) => Filter::And(conditions),
            Filter::Or(_) => Filter::Or(conditions),
        }
    }

    /// Whether `event` passes: `$and` needs every condition to hold (so an
    /// empty `$and` passes), `$or` at least one (an empty `$or` fails).
    /// See [`Condition::matches`] for one condition.
    ///
    /// ```
    /// use attio_webhooks::{receive::Actor, Condition, receive::Event, EventType, Filter, WorkspaceId};
    /// let event = Event::new(EventType::RecordCreated, WorkspaceId::from_u128(1), Actor::system())
    ///     .with_id("object_id", "people");
    /// let people = Condition::equals("id.object_id", "people");
    /// let by_member = Condition::equals("actor.type", "workspace-member");
    /// assert!(Filter::Or(vec![people.clone(), by_member.clone()]).matches(&event));
    /// assert!(!Filter::And(vec![people, by_member]).matches(&event));
    /// ```
    pub fn matches<E: Fields + ?Sized>(&self, event: &E) -> bool {
        match self {
            Filter::And(conditions) => conditions.iter().all(|c| c.matches(event)),
            Filter::Or(conditions) => conditions.iter().any(|c| c.matches(event)),
        }
    }

    /// Whether `event` passes an optional filter; `None` (`null`) always passes.
    pub fn passes<E: Fields + ?Sized>(filter: Option<&Filter>, event: &E) -> bool {
        filter.is_none_or(|f| f.matches(event))
    }
}

/// One test in a filter: the string at `field` (a dot path into the event,
/// such as `actor.type` or `id.object_id`) compared with `value`.
///
/// Decoding ignores keys other than these three, so a response from a newer
/// Attio still decodes; the testkit's fake is stricter and rejects them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Condition {
    /// Dot path into the event, e.g. `parent_object_id` or `actor.type`.
    pub field: String,
    /// How the field is compared with `value`.
    pub operator: Operator,
    /// The string the field is compared with.
    pub value: String,
}

impl Condition {
    /// A condition with any operator.
    pub fn new(field: impl Into<String>, operator: Operator, value: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            operator,
            value: value.into(),
        }
    }

    /// `field` equals `value`.
    pub fn equals(field: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(field, Operator::Equals, value)
    }

    /// `field` does not equal `value`.
    pub fn not_equals(field: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(field, Operator::NotEquals, value)
    }

    /// Whether `event` satisfies this condition, with the semantics of a
    /// strict comparison of the field's value with the string `value`:
    ///
    /// - `equals` holds when the field exists, is a string, and is exactly
    ///   `value` (case-sensitive, no trimming, no type coercion);
    /// - `not_equals` is its negation, so it holds for a missing field, a
    ///   `null` or any non-string value;
    /// - an unknown operator never holds.
    ///
    /// The testkit's fake uses this same function to decide deliveries.
    pub fn matches<E: Fields + ?Sized>(&self, event: &E) -> bool {
        let equal =
            matches!(event.field(&self.field), FieldValue::String(s) if s == self.value.as_str());
        match self.operator {
            Operator::Equals => equal,
            Operator::NotEquals => !equal,
            Operator::Unknown(_) => false,
        }
    }
}

open_enum! {
    /// The comparison of a [`Condition`]. Attio documents `equals` and
    /// `not_equals`; other values are kept so they round-trip, and Attio
    /// rejects them with a 400.
    pub enum Operator {
        /// `equals`
        Equals => "equals",
        /// `not_equals`
        NotEquals => "not_equals",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_combinators_and_wrong_shapes() {
        for bad in [
            r#"{"$not":[]}"#,
            r#"{"$and":[],"$or":[]}"#,
            r#"{"$and":[{"field":"a","operator":"equals","value":5}]}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<Filter>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn combinators_are_named_as_on_the_wire() {
        for filter in [Filter::And(vec![]), Filter::Or(vec![])] {
            let json = serde_json::to_value(&filter).unwrap();
            let key = json.as_object().unwrap().keys().next().unwrap().clone();
            assert_eq!(filter.combinator(), key);
        }
    }

    #[test]
    fn an_absent_filter_passes_and_a_present_one_decides() {
        let event: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"actor":{"type":"system"}}"#).unwrap();
        let system = Condition::equals("actor.type", "system");
        let member = Condition::equals("actor.type", "workspace-member");
        assert!(Filter::passes(None, &event));
        assert!(Filter::passes(Some(&Filter::And(vec![system])), &event));
        assert!(!Filter::passes(Some(&Filter::And(vec![member])), &event));
    }

    #[test]
    fn equivalence_counts_duplicates() {
        let a = Condition::equals("a", "1");
        let twice = Filter::And(vec![a.clone(), a.clone()]);
        assert!(!twice.equivalent(&Filter::And(vec![a])));
    }
}

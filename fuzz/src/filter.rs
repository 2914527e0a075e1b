//! The filter evaluator on arbitrary JSON events.

use attio_webhooks::{model::Operator, receive::Event, Condition, Filter, Subscription};
use serde_json::Value;

/// The input is two JSON documents: the first line is a filter (`null`,
/// `{"$and":[...]}` or `{"$or":[...]}`), the rest an event.
///
/// The oracle for [`Filter::matches`] reads the event after serializing
/// it to plain JSON, sharing nothing with [`Event::field`]: a condition's
/// dot path walks nested objects from the top (never into arrays); `equals`
/// holds when it ends at a string equal to the value, `not_equals` is its
/// negation, an unknown operator never holds; `$and` needs all, `$or` any.
///
/// Also: sorting a filter into [`Filter::canonical`] form changes neither
/// its meaning nor its equivalence class, and [`Subscription::accepts`] is
/// "same event type and the filter passes".
pub fn filter_matches(data: &[u8]) {
    let (filter, event) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => return,
    };
    let Ok(filter) = serde_json::from_slice::<Option<Filter>>(filter) else {
        return;
    };
    let Ok(event) = serde_json::from_slice::<Event>(event) else {
        return;
    };
    let plain = serde_json::to_value(&event).expect("an event serializes");
    let subscription = Subscription::new(event.event_type.clone());
    let Some(filter) = filter else {
        assert!(Filter::passes(None, &event));
        assert!(subscription.accepts(&event));
        return;
    };

    let expected = filter_holds(&filter, &plain);
    assert_eq!(filter.matches(&event), expected, "{filter:?} on {plain}");
    assert_eq!(Filter::passes(Some(&filter), &event), expected);
    assert_eq!(
        subscription.with_filter(filter.clone()).accepts(&event),
        expected
    );

    let canonical = filter.canonical();
    assert_eq!(
        canonical.matches(&event),
        expected,
        "canonical form {canonical:?}"
    );
    assert!(filter.equivalent(&canonical) && canonical.equivalent(&filter));
    assert_eq!(canonical.canonical(), canonical);
}

fn filter_holds(filter: &Filter, event: &Value) -> bool {
    let mut results = filter
        .conditions()
        .iter()
        .map(|c| condition_holds(c, event));
    if matches!(filter, Filter::And(_)) {
        results.all(|r| r)
    } else {
        results.any(|r| r)
    }
}

fn condition_holds(condition: &Condition, event: &Value) -> bool {
    let mut at = Some(event);
    for key in condition.field.split('.') {
        at = at.and_then(Value::as_object).and_then(|o| o.get(key));
    }
    let equal = at.and_then(Value::as_str) == Some(condition.value.as_str());
    if condition.operator == Operator::Equals {
        equal
    } else if condition.operator == Operator::NotEquals {
        !equal
    } else {
        false
    }
}

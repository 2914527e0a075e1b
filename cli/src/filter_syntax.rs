//! The command line's way of writing a subscription: `TYPE[:FILTER]`.
//!
//! ```text
//! record.created                                   every record.created event
//! record.created:id.object_id=people               $and of one condition
//! record.updated:id.object_id=people,actor.type!=system      $and: both must hold
//! note.created:actor.type=app|actor.type=api-token           $or: either may hold
//! note.created:|actor.type=app                     $or of one condition
//! ```
//!
//! A condition is `FIELD=VALUE` (`equals`) or `FIELD!=VALUE`
//! (`not_equals`); `,` joins conditions into `$and`, `|` into `$or` (one
//! filter cannot mix them: Attio's filters do not nest). A backslash makes
//! the next character literal, so `\,`, `\|`, `\=`, `\!` and `\\` put those
//! characters into a field or value. The same syntax is used to print
//! subscriptions, so what `list` shows can be pasted back into `--event`.

use attio_webhooks::{model::Operator, Condition, EventType, Filter, Subscription};

/// The filter syntax, as `create --help` and `update --help` explain it (a
/// literal, for `concat!` in their `after_help`).
macro_rules! filter_syntax_help {
    () => {
        "Subscriptions are written TYPE[:FILTER]:
  record.created                                      every record.created event
  record.created:id.object_id=people                  FIELD=VALUE is `equals`
  record.updated:id.object_id=people,actor.type!=system
                                                      ',' joins conditions with $and, != is `not_equals`
  note.created:actor.type=app|actor.type=api-token    '|' joins them with $or (quote it in a shell)
  note.created:|actor.type=app                        a one-condition $or
FIELD is a dot path into the event (id.object_id, actor.type, parent_object_id, ...).
A backslash makes the next character literal (\\, \\| \\= \\! \\\\)."
    };
}
pub(crate) use filter_syntax_help;

/// Parses `TYPE[:FILTER]`.
///
/// ```text
/// "record.created:id.object_id=people"  ->  record.created with {"$and": [id.object_id equals people]}
/// ```
pub fn parse_subscription(spec: &str) -> Result<Subscription, String> {
    let (event_type, filter) = match spec.split_once(':') {
        Some((event_type, filter)) => (event_type, Some(filter)),
        None => (spec, None),
    };
    if event_type.is_empty() {
        return Err(format!(
            "{spec:?}: the event type is missing (e.g. record.created)"
        ));
    }
    let subscription = Subscription::new(EventType::from(event_type));
    match filter {
        None => Ok(subscription),
        Some(filter) => Ok(subscription
            .with_filter(parse_filter(filter).map_err(|reason| format!("{spec:?}: {reason}"))?)),
    }
}

/// One character of the input and whether a backslash escaped it.
type Marked = (char, bool);

fn parse_filter(text: &str) -> Result<Filter, String> {
    if text.is_empty() {
        return Err(
            "the filter after ':' is empty (leave out ':' for no filter; write an empty $and or $or in a --from file)"
                .to_owned(),
        );
    }
    let mut pieces: Vec<Vec<Marked>> = vec![Vec::new()];
    let (mut and, mut or) = (false, false);
    let mut chars = text.chars();
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => pieces.last_mut().expect("never empty").push((next, true)),
                None => return Err("a '\\' at the end escapes nothing".to_owned()),
            },
            '|' if first => or = true,
            ',' | '|' => {
                if c == ',' {
                    and = true;
                } else {
                    or = true;
                }
                pieces.push(Vec::new());
            }
            _ => pieces.last_mut().expect("never empty").push((c, false)),
        }
        first = false;
    }
    if and && or {
        return Err(
            "a filter joins conditions with ',' ($and) or '|' ($or), not both: Attio's filters do not nest"
                .to_owned(),
        );
    }
    let conditions = pieces
        .iter()
        .map(|piece| parse_condition(piece))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if or {
        Filter::Or(conditions)
    } else {
        Filter::And(conditions)
    })
}

fn parse_condition(piece: &[Marked]) -> Result<Condition, String> {
    let text: String = piece.iter().map(|(c, _)| c).collect();
    let Some(eq) = piece.iter().position(|&(c, escaped)| c == '=' && !escaped) else {
        return Err(format!(
            "condition {text:?} has no '=' or '!=' (write FIELD=VALUE or FIELD!=VALUE)"
        ));
    };
    let not = eq > 0 && piece[eq - 1] == ('!', false);
    let field_end = if not { eq - 1 } else { eq };
    let field: String = piece[..field_end].iter().map(|(c, _)| c).collect();
    let value: String = piece[eq + 1..].iter().map(|(c, _)| c).collect();
    if field.is_empty() {
        return Err(format!(
            "condition {text:?} has no field before the operator"
        ));
    }
    Ok(if not {
        Condition::not_equals(field, value)
    } else {
        Condition::equals(field, value)
    })
}

/// Writes a subscription in the syntax [`parse_subscription`] reads.
pub fn format_subscription(subscription: &Subscription) -> String {
    let mut out = subscription.event_type.as_str().to_owned();
    if let Some(filter) = &subscription.filter {
        out.push(':');
        out.push_str(&format_filter(filter));
    }
    out
}

/// Writes a filter's conditions joined by `,` (`$and`) or `|` (`$or`); a
/// one-condition `$or` starts with `|`.
pub fn format_filter(filter: &Filter) -> String {
    let is_or = matches!(filter, Filter::Or(_));
    let conditions = filter.conditions();
    if conditions.is_empty() {
        return if is_or {
            "(empty $or: never passes)"
        } else {
            "(empty $and: always passes)"
        }
        .to_owned();
    }
    let mut out = String::new();
    if is_or && conditions.len() == 1 {
        out.push('|');
    }
    for (i, condition) in conditions.iter().enumerate() {
        if i > 0 {
            out.push(if is_or { '|' } else { ',' });
        }
        escape_into(&condition.field, "\\,|=!", &mut out);
        if condition.operator == Operator::Equals {
            out.push('=');
        } else if condition.operator == Operator::NotEquals {
            out.push_str("!=");
        } else {
            // An operator this version does not know: shown, not re-parseable.
            out.push_str(&format!(" <{}> ", condition.operator));
        }
        escape_into(&condition.value, "\\,|", &mut out);
    }
    out
}

fn escape_into(text: &str, special: &str, out: &mut String) {
    for c in text.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn wire(spec: &str) -> serde_json::Value {
        serde_json::to_value(parse_subscription(spec).unwrap()).unwrap()
    }

    #[test]
    fn parses_to_the_api_json() {
        assert_eq!(
            wire("note.created"),
            json!({"event_type": "note.created", "filter": null})
        );
        assert_eq!(
            wire("record.created:id.object_id=people,actor.type!=system"),
            json!({"event_type": "record.created", "filter": {"$and": [
                {"field": "id.object_id", "operator": "equals", "value": "people"},
                {"field": "actor.type", "operator": "not_equals", "value": "system"}
            ]}})
        );
        assert_eq!(
            wire("note.created:actor.type=app|actor.type=api-token"),
            json!({"event_type": "note.created", "filter": {"$or": [
                {"field": "actor.type", "operator": "equals", "value": "app"},
                {"field": "actor.type", "operator": "equals", "value": "api-token"}
            ]}})
        );
        assert_eq!(
            wire("note.created:|actor.type=app"),
            json!({"event_type": "note.created", "filter": {"$or": [
                {"field": "actor.type", "operator": "equals", "value": "app"}
            ]}})
        );
        assert_eq!(
            wire(r"task.created:a\=b=x\,y\|z=w,c="),
            json!({"event_type": "task.created", "filter": {"$and": [
                {"field": "a=b", "operator": "equals", "value": "x,y|z=w"},
                {"field": "c", "operator": "equals", "value": ""}
            ]}})
        );
        assert_eq!(
            wire("task.created:a!=b!=c"),
            json!({"event_type": "task.created", "filter": {"$and": [
                {"field": "a", "operator": "not_equals", "value": "b!=c"}
            ]}})
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            ":a=b",
            "record.created:",
            "record.created:a=b,c=d|e=f",
            "record.created:novalue",
            "record.created:=x",
            "record.created:!=x",
            "record.created:a=b,",
            "record.created:a=b\\",
        ] {
            assert!(parse_subscription(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formatting_reads_back_to_the_same_subscription() {
        for spec in [
            "note.created",
            "record.created:id.object_id=people",
            "record.updated:id.object_id=people,actor.type!=system",
            "note.created:a=1|b!=2",
            "note.created:|a=1",
            r"task.created:a\=\!b=x\,y\|z\\",
        ] {
            let parsed = parse_subscription(spec).unwrap();
            let printed = format_subscription(&parsed);
            assert_eq!(printed, spec);
            assert_eq!(parse_subscription(&printed).unwrap(), parsed);
        }
    }
}

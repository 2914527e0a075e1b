//! Why an emitted event did not reach a webhook: a [`NearMiss`] per
//! webhook that did not get it, so a test that waits for a delivery that
//! never comes can say at once which subscription, condition or status
//! kept it away.
//!
//! [`verdict`] decides and explains in one pass: the decision is the
//! core's own ([`Subscription::accepts`], the function Attio's filter
//! semantics live in), and the explanation lists the conditions that
//! [`Condition::matches`] refused. The workspace's recipients are the
//! webhooks whose verdict is `Ok`, so there is no second matcher.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::fmt;

use attio_webhooks::{
    model::FieldValue, receive::Event, Condition, EventType, Filter, Subscription, Webhook,
    WebhookId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A webhook an emitted event did not reach (or reached only on paper:
/// see [`NearMissReason::TargetRefused`]), and why.
///
/// The fake's choice: Attio reports nothing of the kind; this is the
/// fake's help for tests. `POST /__fake/events` answers these under
/// `near_misses`, beside `data`.
///
/// ```
/// use attio_webhooks::{receive::{Actor, Event}, Condition, EventType, Filter, Subscription};
/// use attio_webhooks_testkit::{FakeAttio, delivery::NearMissReason, Seed};
///
/// let fake = FakeAttio::builder().allow_http_targets_to(["127.0.0.1"]).build();
/// let people = Subscription::new(EventType::NoteCreated)
///     .with_filter(Filter::And(vec![Condition::equals("parent_object_id", "people")]));
/// fake.seed(vec![Seed::new("http://127.0.0.1:9/hook", vec![people])]).unwrap();
/// let event = Event::new(EventType::NoteCreated, fake.workspace_id(), Actor::system())
///     .with_field("parent_object_id", "companies");
/// let emitted = fake.emit_explained(event).unwrap();
/// assert!(emitted.deliveries.is_empty());
/// let NearMissReason::FilterRefused { subscriptions } = &emitted.near_misses[0].reason else {
///     panic!("{:?}", emitted.near_misses)
/// };
/// assert_eq!(subscriptions[0].failed[0].condition.field, "parent_object_id");
/// assert_eq!(emitted.near_misses[0].to_string().contains("found \"companies\""), true);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NearMiss {
    /// The webhook that did not get the event.
    pub webhook_id: WebhookId,
    /// Its target URL.
    pub target_url: String,
    /// Why.
    pub reason: NearMissReason,
}

/// Why an event did not reach a webhook. On the wire, an object whose
/// `kind` names the variant (`no_subscription_for_type`,
/// `filter_refused`, `inactive`, `target_refused`).
///
/// The reasons are checked in this order and the first that applies is
/// given: the event type, then the filters, then the status, then the
/// target (so an inactive webhook that would also refuse the event by its
/// filter is reported for its filter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NearMissReason {
    /// No subscription of the webhook has the event's type; `subscribed`
    /// lists the types it has, each once.
    NoSubscriptionForType {
        /// The event types the webhook subscribes to.
        subscribed: Vec<EventType>,
    },
    /// Subscriptions of the event's type exist, and each one's filter
    /// refused the event.
    FilterRefused {
        /// Each subscription of the event's type, with what failed.
        subscriptions: Vec<FilterMiss>,
    },
    /// The webhook's subscription accepts the event, but it is
    /// `inactive`: Attio sends events to `active` and `degraded` webhooks
    /// only.
    Inactive,
    /// The webhook gets the event (its delivery is queued and signed), but
    /// the fake will not send it: its target URL fails the fake's target
    /// policy (a host the fake does not connect to, `https://` without a
    /// trusted root, the fake's own port). Each attempt is logged as
    /// [`crate::delivery::DeliveryOutcome::Skipped`] with this reason.
    TargetRefused {
        /// The policy's reason.
        reason: String,
    },
}

/// One subscription of the event's type whose filter refused the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FilterMiss {
    /// Its position in the webhook's `subscriptions` (from 0).
    pub subscription: usize,
    /// Its filter.
    pub filter: Filter,
    /// The conditions that do not hold: for `$and`, those that failed;
    /// for `$or`, all of them (an empty `$or` never passes, so the list
    /// can be empty).
    pub failed: Vec<ConditionMiss>,
}

/// A condition that does not hold, and what the event has at its field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConditionMiss {
    /// The condition as the subscription has it.
    pub condition: Condition,
    /// What the event has at `condition.field`.
    pub found: Found,
}

/// What an event has at a condition's field. On the wire,
/// `{"kind":"string","value":"..."}`, `{"kind":"missing"}` or
/// `{"kind":"not_a_string","value":<JSON>}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Found {
    /// A string (compared as is: case-sensitive, no trimming).
    String(String),
    /// Nothing at that path: the event lacks the field.
    Missing,
    /// Something else (`null`, a number, an object...), which `equals`
    /// never matches.
    NotAString(Value),
}

/// An event being routed, with its JSON made at most once (to show a
/// value that is not a string), however many conditions fail on it.
pub(crate) struct Routing<'a> {
    event: &'a Event,
    json: OnceCell<Value>,
}

impl<'a> Routing<'a> {
    pub(crate) fn new(event: &'a Event) -> Self {
        Self {
            event,
            json: OnceCell::new(),
        }
    }
}

/// Whether `webhook` gets the event, and if not, why: the one decision the
/// workspace's recipients and its near misses share. The target policy is
/// not the workspace's to know; the delivery side adds that reason.
pub(crate) fn verdict(webhook: &Webhook, routing: &Routing<'_>) -> Result<(), NearMissReason> {
    let event = routing.event;
    let of_type: Vec<(usize, &Subscription)> = webhook
        .subscriptions
        .iter()
        .enumerate()
        .filter(|(_, s)| s.event_type == event.event_type)
        .collect();
    if of_type.is_empty() {
        let mut seen = BTreeSet::new();
        let subscribed = webhook
            .subscriptions
            .iter()
            .filter(|s| seen.insert(s.event_type.as_str()))
            .map(|s| s.event_type.clone())
            .collect();
        return Err(NearMissReason::NoSubscriptionForType { subscribed });
    }
    if !of_type.iter().any(|(_, s)| s.accepts(event)) {
        let subscriptions = of_type
            .into_iter()
            .filter_map(|(i, s)| s.filter.as_ref().map(|f| (i, f)))
            .map(|(subscription, filter)| FilterMiss {
                subscription,
                filter: filter.clone(),
                failed: failed_conditions(filter, routing),
            })
            .collect();
        return Err(NearMissReason::FilterRefused { subscriptions });
    }
    if !webhook.status.receives_events() {
        return Err(NearMissReason::Inactive);
    }
    Ok(())
}

/// The conditions of a filter that refused the event which do not hold.
fn failed_conditions(filter: &Filter, routing: &Routing<'_>) -> Vec<ConditionMiss> {
    filter
        .conditions()
        .iter()
        .filter(|c| !c.matches(routing.event))
        .map(|condition| ConditionMiss {
            condition: condition.clone(),
            found: found(routing, &condition.field),
        })
        .collect()
}

/// What the event has at `path`, read as filters read it
/// ([`Event::field`]); a value that is not a string is looked up in the
/// event's JSON to show it.
fn found(routing: &Routing<'_>, path: &str) -> Found {
    match routing.event.field(path) {
        FieldValue::String(s) => Found::String(s.into_owned()),
        FieldValue::Missing => Found::Missing,
        _ => {
            let json = routing
                .json
                .get_or_init(|| serde_json::to_value(routing.event).unwrap_or(Value::Null));
            let value = path
                .split('.')
                .try_fold(json, |at, key| at.get(key))
                .cloned()
                .unwrap_or(Value::Null);
            Found::NotAString(value)
        }
    }
}

impl NearMiss {
    pub(crate) fn new(webhook: &Webhook, reason: NearMissReason) -> Self {
        Self {
            webhook_id: webhook.webhook_id(),
            target_url: webhook.target_url.clone(),
            reason,
        }
    }
}

/// One line a person can read: `webhook <id> (<url>): <reason>`.
impl fmt::Display for NearMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "webhook {} ({}): {}",
            self.webhook_id, self.target_url, self.reason
        )
    }
}

impl fmt::Display for NearMissReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NearMissReason::NoSubscriptionForType { subscribed } => {
                let types: Vec<&str> = subscribed.iter().map(EventType::as_str).collect();
                write!(
                    f,
                    "no subscription has this event type (it subscribes to {})",
                    if types.is_empty() {
                        "nothing".to_owned()
                    } else {
                        types.join(", ")
                    }
                )
            }
            NearMissReason::FilterRefused { subscriptions } => {
                for (n, miss) in subscriptions.iter().enumerate() {
                    if n > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{miss}")?;
                }
                Ok(())
            }
            NearMissReason::Inactive => f.write_str(
                "the webhook is inactive (Attio sends only to active and degraded webhooks)",
            ),
            NearMissReason::TargetRefused { reason } => {
                write!(f, "queued, but the fake will not send it: {reason}")
            }
        }
    }
}

impl fmt::Display for FilterMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subscription {} ({} filter) refused it",
            self.subscription,
            self.filter.combinator()
        )?;
        if self.failed.is_empty() {
            return f.write_str(": an empty $or never passes");
        }
        for (n, miss) in self.failed.iter().enumerate() {
            f.write_str(if n == 0 { ": " } else { ", " })?;
            write!(f, "{miss}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConditionMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.condition;
        write!(f, "{} {} {:?}, found ", c.field, c.operator, c.value)?;
        match &self.found {
            Found::String(s) => write!(f, "{s:?}"),
            Found::Missing => f.write_str("no such field in the event"),
            Found::NotAString(value) => write!(f, "{value} (not a string)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attio_webhooks::{
        model::{Timestamp, WebhookIdentifier},
        receive::Actor,
        WebhookStatus, WorkspaceId,
    };
    use serde_json::json;

    fn webhook(subscriptions: Vec<Subscription>, status: WebhookStatus) -> Webhook {
        Webhook::new(
            WebhookIdentifier::new(WorkspaceId::from_u128(1), WebhookId::from_u128(2)),
            "https://example.com/hook".to_owned(),
            subscriptions,
            Timestamp::UNIX_EPOCH,
        )
        .with_status(status)
    }

    /// A task created by the system actor, whose id is `null` (Attio's
    /// actors page: system "Always comes with a null ID").
    fn system_task() -> Event {
        Event::new(
            EventType::TaskCreated,
            WorkspaceId::from_u128(1),
            Actor::system(),
        )
        .with_id("task_id", "t1")
    }

    fn reason(webhook: &Webhook, event: &Event) -> Value {
        serde_json::to_value(verdict(webhook, &Routing::new(event)).unwrap_err()).unwrap()
    }

    #[test]
    fn a_value_that_is_not_a_string_is_shown_as_it_is() {
        let by_member = Subscription::new(EventType::TaskCreated).with_filter(Filter::Or(vec![
            Condition::equals("actor.id", "50cf242c-7fa3-4cad-87d0-75b1af71c57b"),
            Condition::equals("id.task_id", "t2"),
        ]));
        let hook = webhook(vec![by_member], WebhookStatus::Active);
        assert_eq!(
            reason(&hook, &system_task()),
            json!({"kind": "filter_refused", "subscriptions": [{
                "subscription": 0,
                "filter": {"$or": [
                    {"field": "actor.id", "operator": "equals", "value": "50cf242c-7fa3-4cad-87d0-75b1af71c57b"},
                    {"field": "id.task_id", "operator": "equals", "value": "t2"}]},
                "failed": [
                    {"condition": {"field": "actor.id", "operator": "equals", "value": "50cf242c-7fa3-4cad-87d0-75b1af71c57b"},
                     "found": {"kind": "not_a_string", "value": null}},
                    {"condition": {"field": "id.task_id", "operator": "equals", "value": "t2"},
                     "found": {"kind": "string", "value": "t1"}}]}]})
        );
        let text = verdict(&hook, &Routing::new(&system_task()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            text,
            r#"subscription 0 ($or filter) refused it: actor.id equals "50cf242c-7fa3-4cad-87d0-75b1af71c57b", found null (not a string), id.task_id equals "t2", found "t1""#
        );
    }

    #[test]
    fn a_number_is_shown_as_the_number_found() {
        let three = Subscription::new(EventType::TaskCreated)
            .with_filter(Filter::And(vec![Condition::equals("deadline.days", "3")]));
        let hook = webhook(vec![three], WebhookStatus::Active);
        let event = system_task().with_field("deadline", json!({"days": 3}));
        assert_eq!(
            reason(&hook, &event)["subscriptions"][0]["failed"][0]["found"],
            json!({"kind": "not_a_string", "value": 3})
        );
    }

    #[test]
    fn an_inactive_webhook_is_reported_only_when_its_filter_passes() {
        let all = Subscription::new(EventType::TaskCreated);
        let inactive = webhook(vec![all.clone()], WebhookStatus::Inactive);
        assert_eq!(
            reason(&inactive, &system_task()),
            json!({"kind": "inactive"})
        );
        for status in [WebhookStatus::Active, WebhookStatus::Degraded] {
            let hook = webhook(vec![all.clone()], status);
            assert!(verdict(&hook, &Routing::new(&system_task())).is_ok());
        }
        // An empty $or never passes, whatever the status.
        let never = Subscription::new(EventType::TaskCreated).with_filter(Filter::Or(vec![]));
        let hook = webhook(vec![never], WebhookStatus::Inactive);
        assert_eq!(
            reason(&hook, &system_task())["subscriptions"][0]["failed"],
            json!([])
        );
    }
}

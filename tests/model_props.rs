//! Property tests: every model survives JSON and back, and `filter` is never omitted.

use attio_webhooks::operations::{CreateWebhook, UpdateWebhook};
use attio_webhooks::{
    model::Operator, model::Timestamp, model::WebhookIdentifier, Condition, CreatedWebhook,
    EventType, Filter, Request, Secret, Subscription, Webhook, WebhookId, WebhookStatus,
    WorkspaceId,
};
use proptest::prelude::*;
use serde_json::Value;

fn open_value<T: Clone + std::fmt::Debug + From<String> + 'static>(
    known: &'static [T],
) -> impl Strategy<Value = T> {
    prop_oneof![
        3 => proptest::sample::select(known),
        1 => "[a-z]{1,10}(\\.[a-z-]{1,10})?".prop_map(T::from),
    ]
}

fn event_type() -> impl Strategy<Value = EventType> {
    open_value(EventType::KNOWN)
}

fn condition() -> impl Strategy<Value = Condition> {
    (
        "[a-z_]{1,12}(\\.[a-z_]{1,12}){0,2}",
        open_value(Operator::KNOWN),
        "\\PC{0,24}",
    )
        .prop_map(|(field, operator, value)| Condition::new(field, operator, value))
}

fn filter() -> impl Strategy<Value = Option<Filter>> {
    let conditions = || proptest::collection::vec(condition(), 0..4);
    prop_oneof![
        Just(None),
        conditions().prop_map(|c| Some(Filter::And(c))),
        conditions().prop_map(|c| Some(Filter::Or(c))),
    ]
}

fn subscription() -> impl Strategy<Value = Subscription> {
    (event_type(), filter())
        .prop_map(|(event_type, filter)| Subscription::from_parts(event_type, filter))
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // 1970..=9999, any nanosecond.
    (0i128..253_402_300_799_999_999_999).prop_map(|n| Timestamp::from_unix_nanos(n).unwrap())
}

fn webhook() -> impl Strategy<Value = Webhook> {
    (
        "https://[a-z]{1,12}\\.example/[a-z0-9/]{0,16}",
        proptest::collection::vec(subscription(), 1..5),
        any::<u128>(),
        any::<u128>(),
        open_value(WebhookStatus::KNOWN),
        timestamp(),
    )
        .prop_map(|(target_url, subscriptions, ws, wh, status, created_at)| {
            let id = WebhookIdentifier::new(WorkspaceId::from_u128(ws), WebhookId::from_u128(wh));
            Webhook::new(id, target_url, subscriptions, created_at).with_status(status)
        })
}

fn round_trips<T>(value: &T) -> Result<(), TestCaseError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = serde_json::to_vec(value).unwrap();
    let back: T = serde_json::from_slice(&bytes).unwrap();
    prop_assert_eq!(&back, value);
    // And writing it again gives the same bytes.
    prop_assert_eq!(serde_json::to_vec(&back).unwrap(), bytes);
    Ok(())
}

fn every_subscription_has_a_filter_key(subscriptions: &Value) -> Result<(), TestCaseError> {
    for sub in subscriptions.as_array().unwrap() {
        prop_assert!(sub.as_object().unwrap().contains_key("filter"), "{}", sub);
    }
    Ok(())
}

proptest! {
    #[test]
    fn event_types_round_trip(value in event_type()) {
        round_trips(&value)?;
        prop_assert_eq!(EventType::from(value.as_str()), value);
    }

    #[test]
    fn statuses_round_trip(value in open_value(WebhookStatus::KNOWN)) {
        round_trips(&value)?;
    }

    #[test]
    fn timestamps_round_trip_through_attio_format(value in timestamp()) {
        round_trips(&value)?;
        let text = value.to_string();
        prop_assert_eq!(text.len(), 30);
        prop_assert_eq!(text.parse::<Timestamp>().unwrap(), value);
    }

    #[test]
    fn filters_round_trip(value in filter()) {
        round_trips(&value)?;
    }

    #[test]
    fn subscriptions_round_trip_and_always_carry_filter(value in subscription()) {
        round_trips(&value)?;
        let json = serde_json::to_value(&value).unwrap();
        prop_assert!(json.as_object().unwrap().contains_key("filter"));
    }

    #[test]
    fn webhooks_round_trip(value in webhook()) {
        round_trips(&value)?;
        every_subscription_has_a_filter_key(&serde_json::to_value(&value).unwrap()["subscriptions"])?;
    }

    #[test]
    fn created_webhooks_round_trip(webhook in webhook(), secret in "[0-9a-f]{64}") {
        let created = CreatedWebhook::new(webhook, Secret::new(secret));
        round_trips(&created)?;
        let json = serde_json::to_value(&created).unwrap();
        prop_assert_eq!(json.as_object().unwrap().len(), 6);
    }

    #[test]
    fn request_bodies_always_carry_filter(subscriptions in proptest::collection::vec(subscription(), 1..6), id in any::<u128>()) {
        let create = CreateWebhook::new("https://example.com/h", subscriptions.clone());
        let body: Value = serde_json::from_slice(&create.body().unwrap().unwrap()).unwrap();
        every_subscription_has_a_filter_key(&body["data"]["subscriptions"])?;
        let update = UpdateWebhook::new(WebhookId::from_u128(id)).subscriptions(subscriptions);
        let body: Value = serde_json::from_slice(&update.body().unwrap().unwrap()).unwrap();
        every_subscription_has_a_filter_key(&body["data"]["subscriptions"])?;
    }

    #[test]
    fn filter_equivalence_is_the_same_combinator_over_the_same_multiset(
        conditions in proptest::collection::vec(condition(), 0..6),
        seed in any::<u64>(),
        change in 0..6usize,
        at in any::<proptest::sample::Index>(),
        flip in proptest::bool::weighted(0.2),
    ) {
        // A deterministic permutation from the seed.
        let mut other = conditions.clone();
        let n = other.len();
        for i in (1..n).rev() {
            other.swap(i, (seed as usize).wrapping_mul(i + 7) % (i + 1));
        }
        // Half the time, also one change that makes a different filter.
        if n > 0 {
            let i = at.index(n);
            match change {
                3 => other[i].value.push('x'),
                4 => { other.remove(i); }
                5 => other.push(other[i].clone()),
                _ => {}
            }
        }
        let a = Filter::And(conditions.clone());
        let b = if flip { Filter::Or(other.clone()) } else { Filter::And(other.clone()) };
        // The oracle: the same key and the same conditions as sorted JSON texts.
        let expected = !flip && sorted_json(&conditions) == sorted_json(&other);
        if change < 3 || n == 0 {
            prop_assert_eq!(expected, !flip, "a reordering alone keeps the filter");
        }
        prop_assert_eq!(a.equivalent(&b), expected);
        prop_assert_eq!(b.equivalent(&a), expected);
        // The same rule one level up: subscriptions of one type, where a
        // `null` filter is equivalent only to `null`.
        let with = |f: &Filter| Subscription::new(EventType::NoteCreated).with_filter(f.clone());
        prop_assert_eq!(with(&a).equivalent(&with(&b)), expected);
        prop_assert!(!Subscription::new(EventType::NoteCreated).equivalent(&with(&b)));
    }
}

fn sorted_json(conditions: &[Condition]) -> Vec<String> {
    let mut texts: Vec<String> = conditions
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    texts.sort();
    texts
}

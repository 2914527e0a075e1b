//! Model-based property test: random sequences of operations run through
//! the client against the fake, each result checked against a small
//! reference model of Attio's rules.

use attio_webhooks::operations::{ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    Condition, EventType, Filter, Subscription, Webhook, WebhookId, WebhookStatus,
};
use attio_webhooks_testkit::FakeAttio;
use proptest::prelude::*;

const URLS: [&str; 3] = [
    "https://a.example/h",
    "https://b.example/h",
    "https://c.example/h",
];

#[derive(Clone, Debug)]
enum Op {
    Create {
        url: usize,
        subs: Vec<(usize, usize)>,
    },
    Get {
        slot: usize,
    },
    Update {
        slot: usize,
        url: Option<usize>,
        subs: Option<Vec<(usize, usize)>>,
    },
    Delete {
        slot: usize,
    },
    List {
        limit: u32,
        offset: u32,
    },
}

/// A small pool of event types and filters so that duplicates happen often.
fn subscription((event, filter): (usize, usize)) -> Subscription {
    let event_type = [EventType::NoteCreated, EventType::RecordUpdated][event].clone();
    let a = Condition::equals("actor.type", "workspace-member");
    let b = Condition::not_equals("id.object_id", "people");
    match filter {
        0 => Subscription::new(event_type),
        1 => Subscription::new(event_type).with_filter(Filter::And(vec![a, b])),
        2 => Subscription::new(event_type).with_filter(Filter::And(vec![b.clone(), a.clone()])),
        _ => Subscription::new(event_type).with_filter(Filter::Or(vec![a])),
    }
}

fn subs() -> impl Strategy<Value = Vec<(usize, usize)>> {
    proptest::collection::vec((0..2usize, 0..4usize), 1..3)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, subs()).prop_map(|(url, subs)| Op::Create { url, subs }),
        2 => (0..8usize).prop_map(|slot| Op::Get { slot }),
        2 => (0..8usize, proptest::option::of(0..3usize), proptest::option::of(subs()))
            .prop_map(|(slot, url, subs)| Op::Update { slot, url, subs }),
        1 => (0..8usize).prop_map(|slot| Op::Delete { slot }),
        1 => (10..12u32, 0..6u32).prop_map(|(limit, offset)| Op::List { limit, offset }),
    ]
}

/// The reference: webhooks in creation order, and Attio's uniqueness rule.
#[derive(Default)]
struct Model {
    webhooks: Vec<Webhook>,
    /// Every id ever handed out, live or deleted, so ops can aim at both.
    ids: Vec<WebhookId>,
}

impl Model {
    fn conflicts(&self, url: &str, subs: &[Subscription], except: Option<WebhookId>) -> bool {
        // Independent of the crate's Filter::equivalent: compare the JSON
        // with each filter's conditions sorted.
        let key = |s: &Subscription| {
            let mut json = serde_json::to_value(s).unwrap();
            if let Some(filter) = json["filter"].as_object_mut() {
                for conditions in filter.values_mut() {
                    let list = conditions.as_array_mut().unwrap();
                    list.sort_by_key(|c| c.to_string());
                }
            }
            json
        };
        let same = |a: &Subscription, b: &Subscription| key(a) == key(b);
        subs.iter().enumerate().any(|(i, s)| {
            subs[..i].iter().any(|e| same(e, s))
                || self.webhooks.iter().any(|w| {
                    Some(w.webhook_id()) != except
                        && w.target_url == url
                        && w.subscriptions.iter().any(|o| same(o, s))
                })
        })
    }

    fn id(&self, slot: usize) -> WebhookId {
        // Beyond the known ids: an id nobody has.
        self.ids
            .get(slot)
            .copied()
            .unwrap_or(WebhookId::from_u128(slot as u128 + 1))
    }

    fn find(&self, id: WebhookId) -> Option<usize> {
        self.webhooks.iter().position(|w| w.webhook_id() == id)
    }
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let fake = FakeAttio::new();
    let client = fake.client();
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Create { url, subs } => {
                let subs: Vec<Subscription> = subs.into_iter().map(subscription).collect();
                let result = client.create_webhook(URLS[url], subs.clone()).await;
                if model.conflicts(URLS[url], &subs, None) {
                    prop_assert!(result.unwrap_err().is_conflict());
                } else {
                    let created = result.unwrap();
                    prop_assert_eq!(&created.webhook.target_url, URLS[url]);
                    prop_assert_eq!(&created.webhook.subscriptions, &subs);
                    prop_assert_eq!(&created.webhook.status, &WebhookStatus::Active);
                    model.ids.push(created.webhook.webhook_id());
                    model.webhooks.push(created.webhook);
                }
            }
            Op::Get { slot } => {
                let id = model.id(slot);
                let result = client.get_webhook(id).await;
                match model.find(id) {
                    Some(i) => prop_assert_eq!(&result.unwrap(), &model.webhooks[i]),
                    None => prop_assert!(result.unwrap_err().is_not_found()),
                }
            }
            Op::Update { slot, url, subs } => {
                let id = model.id(slot);
                let mut update = UpdateWebhook::new(id);
                if let Some(url) = url {
                    update = update.target_url(URLS[url]);
                }
                let subs: Option<Vec<Subscription>> =
                    subs.map(|s| s.into_iter().map(subscription).collect());
                if let Some(subs) = &subs {
                    update = update.subscriptions(subs.clone());
                }
                let result = client.update_webhook(update).await;
                match model.find(id) {
                    None => prop_assert!(result.unwrap_err().is_not_found()),
                    Some(i) => {
                        let mut next = model.webhooks[i].clone();
                        if let Some(url) = url {
                            next.target_url = URLS[url].to_owned();
                        }
                        if let Some(subs) = subs {
                            next.subscriptions = subs;
                        }
                        if model.conflicts(&next.target_url, &next.subscriptions, Some(id)) {
                            prop_assert!(result.unwrap_err().is_conflict());
                        } else {
                            prop_assert_eq!(&result.unwrap(), &next);
                            model.webhooks[i] = next;
                        }
                    }
                }
            }
            Op::Delete { slot } => {
                let id = model.id(slot);
                let result = client.delete_webhook(id).await;
                match model.find(id) {
                    Some(i) => {
                        result.unwrap();
                        model.webhooks.remove(i);
                    }
                    None => prop_assert!(result.unwrap_err().is_not_found()),
                }
            }
            Op::List { limit, offset } => {
                let page = client
                    .list_webhooks(ListWebhooks::new().limit(limit).offset(offset))
                    .await
                    .unwrap();
                let expected: Vec<Webhook> = model
                    .webhooks
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .cloned()
                    .collect();
                prop_assert_eq!(page, expected);
            }
        }
    }
    prop_assert_eq!(fake.webhooks(), model.webhooks);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_fake_agrees_with_the_reference_model(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(ops))?;
    }
}

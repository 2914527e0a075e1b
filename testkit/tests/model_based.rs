//! Model-based property test: random sequences of operations run against
//! the fake, each result checked against a small reference model of
//! Attio's rules.
//!
//! Valid operations go through the client. Invalid ones (a target URL the
//! spec rejects, an unknown event type or operator, a subscription without
//! its `filter` key, no subscriptions, a `limit` outside 10..=100) go
//! through the transport as raw requests, since the client would refuse to
//! send them; the model expects a 400 `validation_type` and no change. The
//! pools are small enough that duplicates, reordered conditions, repeated
//! conditions and empty `$and`/`$or` come up often.

use attio_webhooks::operations::{ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    Condition, EventType, Filter, Subscription, Transport, Webhook, WebhookId, WebhookStatus,
};
use attio_webhooks_testkit::{FakeAttio, InProcessTransport};
use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{json, Value};

const URLS: [&str; 6] = [
    "https://a.example/h",
    "https://b.example/h",
    "https://c.example/h",
    "https://a.example/h/2",
    "https://a.example:8443/h",
    "https://d.example/h?x=1",
];

/// Target URLs the spec rejects.
const BAD_URLS: [&str; 5] = [
    "http://a.example/h",
    "HTTPS://a.example/h",
    "https://",
    "ftp://a.example/h",
    "https://a.example/{id}",
];

const EVENT_TYPES: [EventType; 8] = [
    EventType::NoteCreated,
    EventType::RecordUpdated,
    EventType::RecordCreated,
    EventType::ListEntryCreated,
    EventType::CommentResolved,
    EventType::TaskDeleted,
    EventType::WorkspaceMemberCreated,
    EventType::CallRecordingCreated,
];

const UNKNOWN_EVENT_TYPES: [&str; 3] = ["meeting.created", "Record.created", ""];

const FILTERS: usize = 12;

/// A pool of filters with many near-duplicates.
fn filter(i: usize) -> Option<Filter> {
    let a = Condition::equals("actor.type", "workspace-member");
    let b = Condition::not_equals("id.object_id", "people");
    let c = Condition::equals("id.object_id", "people");
    match i {
        0 => None,
        1 => Some(Filter::And(vec![a.clone(), b.clone()])),
        2 => Some(Filter::And(vec![b, a.clone()])),
        3 => Some(Filter::Or(vec![a.clone()])),
        4 => Some(Filter::And(vec![a.clone()])),
        5 => Some(Filter::And(vec![])),
        6 => Some(Filter::Or(vec![])),
        7 => Some(Filter::And(vec![a.clone(), a.clone()])),
        8 => Some(Filter::Or(vec![c.clone(), a.clone()])),
        9 => Some(Filter::Or(vec![a, c.clone()])),
        10 => Some(Filter::And(vec![c])),
        _ => Some(Filter::And(vec![Condition::equals(
            "id.object_id",
            "People",
        )])),
    }
}

fn subscription((event, filter_index): (usize, usize)) -> Subscription {
    let subscription = Subscription::new(EVENT_TYPES[event].clone());
    match filter(filter_index) {
        Some(f) => subscription.with_filter(f),
        None => subscription,
    }
}

/// What makes a raw request invalid.
#[derive(Clone, Debug)]
enum Defect {
    BadUrl(usize),
    UnknownEventType(usize),
    UnknownOperator,
    MissingFilterKey,
    NoSubscriptions,
    NullTarget,
}

#[derive(Clone, Debug)]
enum Op {
    Create {
        url: usize,
        subs: Vec<(usize, usize)>,
    },
    CreateInvalid {
        defect: Defect,
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
    UpdateInvalid {
        slot: usize,
        defect: Defect,
        subs: Vec<(usize, usize)>,
    },
    Delete {
        slot: usize,
    },
    List {
        limit: Option<u32>,
        offset: Option<u32>,
    },
    ListInvalid {
        limit: &'static str,
    },
}

fn subs() -> impl Strategy<Value = Vec<(usize, usize)>> {
    proptest::collection::vec((0..EVENT_TYPES.len(), 0..FILTERS), 1..4)
}

fn defect() -> impl Strategy<Value = Defect> {
    prop_oneof![
        (0..BAD_URLS.len()).prop_map(Defect::BadUrl),
        (0..UNKNOWN_EVENT_TYPES.len()).prop_map(Defect::UnknownEventType),
        Just(Defect::UnknownOperator),
        Just(Defect::MissingFilterKey),
        Just(Defect::NoSubscriptions),
        Just(Defect::NullTarget),
    ]
}

const SLOTS: usize = 12;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..URLS.len(), subs()).prop_map(|(url, subs)| Op::Create { url, subs }),
        1 => (defect(), subs()).prop_map(|(defect, subs)| Op::CreateInvalid { defect, subs }),
        2 => (0..SLOTS).prop_map(|slot| Op::Get { slot }),
        2 => (0..SLOTS, proptest::option::of(0..URLS.len()), proptest::option::of(subs()))
            .prop_map(|(slot, url, subs)| Op::Update { slot, url, subs }),
        1 => (0..SLOTS, defect(), subs())
            .prop_map(|(slot, defect, subs)| Op::UpdateInvalid { slot, defect, subs }),
        1 => (0..SLOTS).prop_map(|slot| Op::Delete { slot }),
        2 => (
            proptest::option::of(prop_oneof![Just(10u32), Just(100), 10..=100u32]),
            proptest::option::of(0..12u32),
        )
            .prop_map(|(limit, offset)| Op::List { limit, offset }),
        1 => proptest::sample::select(&["0", "9", "101", "1000", "-1", "ten", ""][..])
            .prop_map(|limit| Op::ListInvalid { limit }),
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

/// The `data` of a body with one defect; the rest is valid.
fn invalid_data(defect: &Defect, subs: &[(usize, usize)]) -> Value {
    let mut subscriptions: Vec<Value> = subs
        .iter()
        .map(|&s| serde_json::to_value(subscription(s)).unwrap())
        .collect();
    let mut target_url = json!(URLS[0]);
    match defect {
        Defect::BadUrl(i) => target_url = json!(BAD_URLS[*i]),
        Defect::UnknownEventType(i) => {
            subscriptions[0]["event_type"] = json!(UNKNOWN_EVENT_TYPES[*i])
        }
        Defect::UnknownOperator => {
            subscriptions[0]["filter"] =
                json!({"$and": [{"field": "actor.type", "operator": "like", "value": "x"}]})
        }
        Defect::MissingFilterKey => {
            subscriptions[0].as_object_mut().unwrap().remove("filter");
        }
        Defect::NoSubscriptions => subscriptions.clear(),
        Defect::NullTarget => target_url = Value::Null,
    }
    json!({"target_url": target_url, "subscriptions": subscriptions})
}

/// Sends a raw request past the client's own checks; status and body.
async fn raw(fake: &FakeAttio, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", InProcessTransport::BASE_URL))
        .header("authorization", format!("Bearer {}", fake.token()))
        .header("content-type", "application/json")
        .body(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())))
        .unwrap();
    let response = fake.transport().send(request).await.unwrap();
    let body = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    (response.status().as_u16(), body)
}

fn is_validation_error((status, body): &(u16, Value)) -> bool {
    *status == 400 && body["code"] == "validation_type"
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
            Op::CreateInvalid { defect, subs } => {
                let body = json!({"data": invalid_data(&defect, &subs)});
                let answer = raw(&fake, "POST", "/v2/webhooks", Some(body)).await;
                prop_assert!(is_validation_error(&answer), "{:?}: {:?}", defect, answer);
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
            Op::UpdateInvalid { slot, defect, subs } => {
                // The fake reads the body before it looks for the webhook:
                // an invalid body is a 400 whether or not the id exists.
                let mut data = invalid_data(&defect, &subs);
                if !matches!(defect, Defect::BadUrl(_) | Defect::NullTarget) {
                    data.as_object_mut().unwrap().remove("target_url");
                }
                let path = format!("/v2/webhooks/{}", model.id(slot));
                let answer = raw(&fake, "PATCH", &path, Some(json!({ "data": data }))).await;
                prop_assert!(is_validation_error(&answer), "{:?}: {:?}", defect, answer);
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
                let mut list = ListWebhooks::new();
                if let Some(limit) = limit {
                    list = list.limit(limit);
                }
                if let Some(offset) = offset {
                    list = list.offset(offset);
                }
                let page = client.list_webhooks(list).await.unwrap();
                // Attio's defaults: limit 10, offset 0.
                let expected: Vec<Webhook> = model
                    .webhooks
                    .iter()
                    .skip(offset.unwrap_or(0) as usize)
                    .take(limit.unwrap_or(10) as usize)
                    .cloned()
                    .collect();
                prop_assert_eq!(page, expected);
            }
            Op::ListInvalid { limit } => {
                let answer = raw(&fake, "GET", &format!("/v2/webhooks?limit={limit}"), None).await;
                prop_assert!(
                    is_validation_error(&answer),
                    "limit={}: {:?}",
                    limit,
                    answer
                );
            }
        }
    }
    prop_assert_eq!(fake.webhooks(), model.webhooks);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_fake_agrees_with_the_reference_model(ops in proptest::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(ops))?;
    }
}

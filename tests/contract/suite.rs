//! The contract: what every backend must do, written once.
//!
//! Before each call the suite writes down, by hand, the request Attio
//! would receive (route, query, token, JSON body) and the answer it would
//! give; no body here comes from the client's own serializer. The typed
//! values handed to the client and the hand-written JSON are two
//! descriptions of the same request, so a client that writes the wrong
//! bytes fails on every backend (see `Contract::verify`).

use attio_webhooks::operations::{CreateWebhook, GetWebhook, ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    Condition, CreatedWebhook, Error, EventType, Filter, RetryPolicy, SendOptions, Subscription,
    Webhook, WebhookId, WebhookStatus,
};
use attio_webhooks_testkit::fixtures::Route;
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::backends::{Answer, Backend, Contract, Expected, READ_ONLY_TOKEN, UNKNOWN_TOKEN};

fn subscriptions() -> Vec<Subscription> {
    vec![
        Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
            Condition::equals("id.object_id", "people"),
            Condition::not_equals("actor.type", "system"),
        ])),
        Subscription::new(EventType::NoteCreated),
    ]
}

/// [`subscriptions`] as Attio receives them.
fn subscriptions_json() -> Value {
    json!([
        {"event_type": "record.created", "filter": {"$and": [
            {"field": "id.object_id", "operator": "equals", "value": "people"},
            {"field": "actor.type", "operator": "not_equals", "value": "system"},
        ]}},
        {"event_type": "note.created", "filter": null},
    ])
}

fn create_body(target_url: &str, subscriptions: &Value) -> Value {
    json!({"data": {"target_url": target_url, "subscriptions": subscriptions}})
}

/// A webhook as Attio shows it: `target_url` and `subscriptions` as given,
/// the ids and creation time of `created`, status `active`.
fn webhook_json(created: &Webhook, target_url: &str, subscriptions: &Value) -> Value {
    json!({
        "target_url": target_url,
        "subscriptions": subscriptions,
        "id": {
            "workspace_id": created.id.workspace_id.to_string(),
            "webhook_id": created.webhook_id().to_string(),
        },
        "status": "active",
        "created_at": created.created_at.to_string(),
    })
}

fn data(value: Value) -> Answer {
    Answer::Json(json!({ "data": value }))
}

/// Creates a webhook through the client; `json` is `subs` as Attio receives them.
async fn create<B: Backend>(
    c: &Contract<B>,
    url: &str,
    subs: Vec<Subscription>,
    json: &Value,
) -> Result<CreatedWebhook, Error> {
    c.expect(Expected::new(Route::Create, Answer::Created).body(create_body(url, json)))
        .await;
    c.client().create_webhook(url, subs).await
}

pub async fn lifecycle<B: Backend>(c: &Contract<B>) {
    let client = c.client();
    let (a, b) = ("https://example.com/hooks/a", "https://example.com/hooks/b");
    let created = create(c, a, subscriptions(), &subscriptions_json())
        .await
        .unwrap();
    let webhook = created.webhook.clone();
    assert_eq!(webhook.target_url, a);
    assert_eq!(webhook.subscriptions, subscriptions());
    assert_eq!(webhook.status, WebhookStatus::Active);
    assert_eq!(webhook.id.workspace_id, c.workspace_id());
    assert_eq!(created.secret.expose().len(), 64);
    assert!(created
        .secret
        .expose()
        .bytes()
        .all(|c| c.is_ascii_hexdigit()));
    let id = webhook.webhook_id();

    c.expect(Expected::new(
        Route::Get(id),
        data(webhook_json(&webhook, a, &subscriptions_json())),
    ))
    .await;
    assert_eq!(client.get_webhook(id).await.unwrap(), webhook);

    let mut expected = webhook.clone();
    expected.target_url = b.into();
    c.expect(
        Expected::new(
            Route::Update(id),
            data(webhook_json(&webhook, b, &subscriptions_json())),
        )
        .body(json!({"data": {"target_url": b}})),
    )
    .await;
    let updated = client
        .update_webhook(UpdateWebhook::new(id).target_url(b))
        .await
        .unwrap();
    assert_eq!(updated, expected, "only the target changed");

    expected.subscriptions = vec![Subscription::new(EventType::TaskDeleted)];
    let task_deleted = json!([{"event_type": "task.deleted", "filter": null}]);
    c.expect(
        Expected::new(
            Route::Update(id),
            data(webhook_json(&webhook, b, &task_deleted)),
        )
        .body(json!({"data": {"subscriptions": task_deleted}})),
    )
    .await;
    let updated = client
        .update_webhook(
            UpdateWebhook::new(id).subscriptions(vec![Subscription::new(EventType::TaskDeleted)]),
        )
        .await
        .unwrap();
    assert_eq!(updated, expected, "subscriptions replaced, target kept");

    c.expect(Expected::new(
        Route::List,
        data(json!([webhook_json(&webhook, b, &task_deleted)])),
    ))
    .await;
    assert_eq!(
        client.list_webhooks(ListWebhooks::new()).await.unwrap(),
        vec![updated.clone()]
    );

    c.expect(Expected::new(Route::Delete(id), Answer::Json(json!({}))))
        .await;
    client.delete_webhook(id).await.unwrap();

    c.expect(Expected::new(Route::Get(id), Answer::Error(404)))
        .await;
    let err = client.get_webhook(id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        err.api_error().unwrap().message,
        format!("Webhook with ID \"{id}\" was not found.")
    );

    c.expect(Expected::new(Route::Delete(id), Answer::Error(404)))
        .await;
    assert!(client.delete_webhook(id).await.unwrap_err().is_not_found());

    c.expect(Expected::new(Route::List, data(json!([])))).await;
    assert!(client
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap()
        .is_empty());
}

pub async fn pagination_over_many_webhooks<B: Backend>(c: &Contract<B>) {
    let client = c.client();
    let list_entry = json!([{"event_type": "list-entry.created", "filter": null}]);
    let mut created: Vec<Webhook> = Vec::new();
    let mut shown: Vec<Value> = Vec::new();
    for i in 0..27 {
        let url = format!("https://example.com/hooks/{i}");
        let webhook = create(
            c,
            &url,
            vec![Subscription::new(EventType::ListEntryCreated)],
            &list_entry,
        )
        .await
        .unwrap()
        .webhook;
        shown.push(webhook_json(&webhook, &url, &list_entry));
        created.push(webhook);
    }
    let page = |from: usize, to: usize| data(Value::from(shown[from..to.min(27)].to_vec()));
    for offset in [0, 10, 20] {
        c.expect(
            Expected::new(Route::List, page(offset, offset + 10))
                .query("limit", 10)
                .query("offset", offset),
        )
        .await;
    }
    let all: Vec<Webhook> = client.list_all(10).try_collect().await.unwrap();
    assert_eq!(all, created, "every webhook once, in creation order");

    c.expect(
        Expected::new(Route::List, page(25, 27))
            .query("limit", 25)
            .query("offset", 25),
    )
    .await;
    let tail = client
        .list_webhooks(ListWebhooks::new().limit(25).offset(25))
        .await
        .unwrap();
    assert_eq!(tail, created[25..]);

    c.expect(Expected::new(Route::List, page(0, 27)).query("limit", 100))
        .await;
    assert_eq!(
        client
            .list_webhooks(ListWebhooks::new().limit(100))
            .await
            .unwrap()
            .len(),
        27
    );

    c.expect(Expected::new(Route::List, data(json!([]))).query("offset", 30))
        .await;
    assert!(client
        .list_webhooks(ListWebhooks::new().offset(30))
        .await
        .unwrap()
        .is_empty());
}

pub async fn every_error_status<B: Backend>(c: &Contract<B>) {
    let once = SendOptions::new().retry(RetryPolicy::disabled());
    let client = c.client();
    let url = "https://example.com/errors";
    let valid = CreateWebhook::new(url, subscriptions());

    // 400: an event type Attio does not know.
    let meeting = json!([{"event_type": "meeting.created", "filter": null}]);
    c.expect(Expected::new(Route::Create, Answer::Error(400)).body(create_body(url, &meeting)))
        .await;
    let unknown = CreateWebhook::new(
        url,
        vec![Subscription::new(EventType::from("meeting.created"))],
    );
    let err = client.send(&unknown).await.unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert_eq!(err.api_error().unwrap().code.as_str(), "validation_type");

    // 401: a token the service does not know.
    c.expect(Expected::new(Route::List, Answer::Error(401)).token(UNKNOWN_TOKEN))
        .await;
    let err = c
        .client_with_token(UNKNOWN_TOKEN)
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");

    // 403: a read-only token cannot create.
    c.expect(
        Expected::new(Route::Create, Answer::Error(403))
            .token(READ_ONLY_TOKEN)
            .body(create_body(url, &subscriptions_json())),
    )
    .await;
    let err = c
        .client_with_token(READ_ONLY_TOKEN)
        .send(&valid)
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err}");

    // 404: an id that does not exist.
    let missing = WebhookId::from_u128(0xdead_beef);
    c.expect(
        Expected::new(Route::Update(missing), Answer::Error(404))
            .body(json!({"data": {"target_url": "https://example.com/x"}})),
    )
    .await;
    let err = client
        .update_webhook(UpdateWebhook::new(missing).target_url("https://example.com/x"))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // 409: the same triple twice.
    create(c, url, subscriptions(), &subscriptions_json())
        .await
        .unwrap();
    c.expect(
        Expected::new(Route::Create, Answer::Error(409))
            .body(create_body(url, &subscriptions_json())),
    )
    .await;
    let err = client.send(&valid).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        err.api_error().unwrap().code.as_str(),
        "uniqueness_conflict"
    );

    // 429 and 5xx, with retries off so the answer itself is seen.
    for status in [429, 500, 502, 503, 504] {
        c.fail_next(Route::List, status, 1).await;
        let err = client
            .send_with(&ListWebhooks::new(), &once)
            .await
            .unwrap_err();
        assert_eq!(err.status().unwrap().as_u16(), status, "{err}");
        if status == 429 {
            assert!(err.is_rate_limited());
            assert!(err.retry_after().is_some(), "a 429 carries Retry-After");
        } else {
            assert!(err.is_server_error());
        }
    }
}

pub async fn uniqueness<B: Backend>(c: &Contract<B>) {
    let client = c.client();
    let a = Condition::equals("id.object_id", "people");
    let b = Condition::not_equals("actor.type", "system");
    let a_json = json!({"field": "id.object_id", "operator": "equals", "value": "people"});
    let b_json = json!({"field": "actor.type", "operator": "not_equals", "value": "system"});
    let filtered = |conditions: Vec<Condition>| {
        vec![Subscription::new(EventType::RecordUpdated).with_filter(Filter::Or(conditions))]
    };
    let filtered_json = |conditions: Vec<&Value>| json!([{"event_type": "record.updated", "filter": {"$or": conditions}}]);
    let (u1, u2, u3) = (
        "https://example.com/u1",
        "https://example.com/u2",
        "https://example.com/u3",
    );

    let first = create(
        c,
        u1,
        filtered(vec![a.clone(), b.clone()]),
        &filtered_json(vec![&a_json, &b_json]),
    )
    .await
    .unwrap();

    // The same filter with its conditions in another order is the same triple.
    c.expect(
        Expected::new(Route::Create, Answer::Error(409))
            .body(create_body(u1, &filtered_json(vec![&b_json, &a_json]))),
    )
    .await;
    let err = client
        .create_webhook(u1, filtered(vec![b.clone(), a.clone()]))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");

    // A repeat inside one request.
    let task_twice = json!([
        {"event_type": "task.created", "filter": null},
        {"event_type": "task.created", "filter": null},
    ]);
    c.expect(Expected::new(Route::Create, Answer::Error(409)).body(create_body(u3, &task_twice)))
        .await;
    let twice = vec![
        Subscription::new(EventType::TaskCreated),
        Subscription::new(EventType::TaskCreated),
    ];
    assert!(client
        .create_webhook(u3, twice)
        .await
        .unwrap_err()
        .is_conflict());

    // Same subscriptions on another target, or another filter on the same target: fine.
    let second = create(
        c,
        u2,
        filtered(vec![a.clone(), b.clone()]),
        &filtered_json(vec![&a_json, &b_json]),
    )
    .await
    .unwrap();
    create(
        c,
        u1,
        filtered(vec![a.clone()]),
        &filtered_json(vec![&a_json]),
    )
    .await
    .unwrap();
    create(
        c,
        u1,
        vec![Subscription::new(EventType::RecordUpdated)],
        &json!([{"event_type": "record.updated", "filter": null}]),
    )
    .await
    .unwrap();

    // Moving the second webhook onto the first one's target re-checks its subscriptions.
    let id = second.webhook.webhook_id();
    c.expect(
        Expected::new(Route::Update(id), Answer::Error(409))
            .body(json!({"data": {"target_url": u1}})),
    )
    .await;
    let err = client
        .update_webhook(UpdateWebhook::new(id).target_url(u1))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");

    // A webhook never conflicts with itself.
    let own = filtered_json(vec![&a_json, &b_json]);
    c.expect(
        Expected::new(
            Route::Update(first.webhook.webhook_id()),
            data(webhook_json(&first.webhook, u1, &own)),
        )
        .body(json!({"data": {"subscriptions": own}})),
    )
    .await;
    let same = client
        .update_webhook(
            UpdateWebhook::new(first.webhook.webhook_id())
                .subscriptions(first.webhook.subscriptions.clone()),
        )
        .await
        .unwrap();
    assert_eq!(same, first.webhook);
}

pub async fn retries_on_injected_faults<B: Backend>(c: &Contract<B>) {
    let client = c.client();
    let url = "https://example.com/retry";
    let created = create(c, url, subscriptions(), &subscriptions_json())
        .await
        .unwrap()
        .webhook;
    let id = created.webhook_id();

    // Two 503s then success: a GET is retried.
    let before = c.request_count().await;
    c.fail_next(Route::Get(id), 503, 2).await;
    c.expect(Expected::new(
        Route::Get(id),
        data(webhook_json(&created, url, &subscriptions_json())),
    ))
    .await;
    assert_eq!(client.send(&GetWebhook::new(id)).await.unwrap(), created);
    assert_eq!(c.request_count().await - before, 3);

    // A 503 on create is not retried: the webhook might exist.
    let before = c.request_count().await;
    c.fail_next(Route::Create, 503, 1).await;
    let err = client
        .create_webhook("https://example.com/retry-2", subscriptions())
        .await
        .unwrap_err();
    assert!(err.is_server_error());
    assert_eq!(c.request_count().await - before, 1);

    // A 429 on create is retried after Retry-After, and the create then succeeds.
    let before = c.request_count().await;
    c.fail_next(Route::Create, 429, 1).await;
    let created = create(
        c,
        "https://example.com/retry-3",
        subscriptions(),
        &subscriptions_json(),
    )
    .await
    .unwrap();
    assert_eq!(created.webhook.target_url, "https://example.com/retry-3");
    assert_eq!(c.request_count().await - before, 2);

    // A 502 on delete is retried; more failures than attempts gives the error.
    let before = c.request_count().await;
    c.fail_next(Route::Delete(id), 502, 10).await;
    let err = client.delete_webhook(id).await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 502);
    assert_eq!(
        c.request_count().await - before,
        4,
        "the default policy makes 4 attempts"
    );
}

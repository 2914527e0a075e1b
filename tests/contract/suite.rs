//! The contract: what every backend must do, written once.

use attio_webhooks::operations::{CreateWebhook, GetWebhook, ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    Condition, Error, EventType, Filter, RetryPolicy, SendOptions, Subscription, Webhook,
    WebhookId, WebhookStatus,
};
use attio_webhooks_testkit::fixtures::Route;
use futures::TryStreamExt;

use crate::backends::{Backend, READ_ONLY_TOKEN, UNKNOWN_TOKEN};

fn subscriptions() -> Vec<Subscription> {
    vec![
        Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
            Condition::equals("id.object_id", "people"),
            Condition::not_equals("actor.type", "system"),
        ])),
        Subscription::new(EventType::NoteCreated),
    ]
}

async fn create<B: Backend>(
    b: &B,
    url: &str,
    subs: Vec<Subscription>,
) -> Result<attio_webhooks::CreatedWebhook, Error> {
    b.expect_create().await;
    b.client().create_webhook(url, subs).await
}

pub async fn lifecycle<B: Backend>(b: &B) {
    let client = b.client();
    let created = create(b, "https://example.com/hooks/a", subscriptions())
        .await
        .unwrap();
    let webhook = created.webhook.clone();
    assert_eq!(webhook.target_url, "https://example.com/hooks/a");
    assert_eq!(webhook.subscriptions, subscriptions());
    assert_eq!(webhook.status, WebhookStatus::Active);
    assert_eq!(webhook.id.workspace_id, b.workspace_id());
    assert_eq!(created.secret.expose().len(), 64);
    assert!(created
        .secret
        .expose()
        .bytes()
        .all(|c| c.is_ascii_hexdigit()));
    let id = webhook.webhook_id();

    b.expect_get(&webhook).await;
    assert_eq!(client.get_webhook(id).await.unwrap(), webhook);

    let mut expected = webhook.clone();
    expected.target_url = "https://example.com/hooks/b".into();
    b.expect_update(&expected).await;
    let updated = client
        .update_webhook(UpdateWebhook::new(id).target_url("https://example.com/hooks/b"))
        .await
        .unwrap();
    assert_eq!(updated, expected, "only the target changed");

    expected.subscriptions = vec![Subscription::new(EventType::TaskDeleted)];
    b.expect_update(&expected).await;
    let updated = client
        .update_webhook(
            UpdateWebhook::new(id).subscriptions(vec![Subscription::new(EventType::TaskDeleted)]),
        )
        .await
        .unwrap();
    assert_eq!(updated, expected, "subscriptions replaced, target kept");

    b.expect_list(None, None, std::slice::from_ref(&updated))
        .await;
    assert_eq!(
        client.list_webhooks(ListWebhooks::new()).await.unwrap(),
        vec![updated.clone()]
    );

    b.expect_delete(id).await;
    client.delete_webhook(id).await.unwrap();

    b.expect_error(Route::Get(id), 404).await;
    let err = client.get_webhook(id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        err.api_error().unwrap().message,
        format!("Webhook with ID \"{id}\" was not found.")
    );

    b.expect_error(Route::Delete(id), 404).await;
    assert!(client.delete_webhook(id).await.unwrap_err().is_not_found());

    b.expect_list(None, None, &[]).await;
    assert!(client
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap()
        .is_empty());
}

pub async fn pagination_over_many_webhooks<B: Backend>(b: &B) {
    let client = b.client();
    let mut created: Vec<Webhook> = Vec::new();
    for i in 0..27 {
        let url = format!("https://example.com/hooks/{i}");
        created.push(
            create(
                b,
                &url,
                vec![Subscription::new(EventType::ListEntryCreated)],
            )
            .await
            .unwrap()
            .webhook,
        );
    }
    for (offset, page) in created.chunks(10).enumerate() {
        b.expect_list(Some(10), Some(offset as u32 * 10), page)
            .await;
    }
    let all: Vec<Webhook> = client.list_all(10).try_collect().await.unwrap();
    assert_eq!(all, created, "every webhook once, in creation order");

    b.expect_list(Some(25), Some(25), &created[25..]).await;
    let tail = client
        .list_webhooks(ListWebhooks::new().limit(25).offset(25))
        .await
        .unwrap();
    assert_eq!(tail, created[25..]);

    b.expect_list(Some(100), None, &created).await;
    assert_eq!(
        client
            .list_webhooks(ListWebhooks::new().limit(100))
            .await
            .unwrap()
            .len(),
        27
    );

    b.expect_list(None, Some(30), &[]).await;
    assert!(client
        .list_webhooks(ListWebhooks::new().offset(30))
        .await
        .unwrap()
        .is_empty());
}

pub async fn every_error_status<B: Backend>(b: &B) {
    let once = SendOptions::new().retry(RetryPolicy::disabled());
    let client = b.client();
    let valid = CreateWebhook::new("https://example.com/errors", subscriptions());

    // 400: an event type Attio does not know.
    b.expect_error(Route::Create, 400).await;
    let unknown = CreateWebhook::new(
        "https://example.com/errors",
        vec![Subscription::new(EventType::from("meeting.created"))],
    );
    let err = client.send(&unknown).await.unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert_eq!(err.api_error().unwrap().code.as_str(), "validation_type");

    // 401: a token the service does not know.
    b.expect_error(Route::List, 401).await;
    let err = b
        .client_with_token(UNKNOWN_TOKEN)
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");

    // 403: a read-only token cannot create.
    b.expect_error(Route::Create, 403).await;
    let err = b
        .client_with_token(READ_ONLY_TOKEN)
        .send(&valid)
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err}");

    // 404: an id that does not exist.
    let missing = WebhookId::from_u128(0xdead_beef);
    b.expect_error(Route::Update(missing), 404).await;
    let err = client
        .update_webhook(UpdateWebhook::new(missing).target_url("https://example.com/x"))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // 409: the same triple twice.
    create(b, "https://example.com/errors", subscriptions())
        .await
        .unwrap();
    b.expect_error(Route::Create, 409).await;
    let err = client.send(&valid).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        err.api_error().unwrap().code.as_str(),
        "uniqueness_conflict"
    );

    // 429 and 5xx, with retries off so the answer itself is seen.
    for status in [429, 500, 502, 503, 504] {
        b.fail_next(Route::List, status, 1).await;
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

pub async fn uniqueness<B: Backend>(b: &B) {
    let client = b.client();
    let a = Condition::equals("id.object_id", "people");
    let c = Condition::not_equals("actor.type", "system");
    let filtered = |conditions: Vec<Condition>| {
        vec![Subscription::new(EventType::RecordUpdated).with_filter(Filter::Or(conditions))]
    };

    let first = create(
        b,
        "https://example.com/u1",
        filtered(vec![a.clone(), c.clone()]),
    )
    .await
    .unwrap();

    // The same filter with its conditions in another order is the same triple.
    b.expect_error(Route::Create, 409).await;
    let err = client
        .create_webhook(
            "https://example.com/u1",
            filtered(vec![c.clone(), a.clone()]),
        )
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");

    // A repeat inside one request.
    b.expect_error(Route::Create, 409).await;
    let twice = vec![
        Subscription::new(EventType::TaskCreated),
        Subscription::new(EventType::TaskCreated),
    ];
    assert!(client
        .create_webhook("https://example.com/u3", twice)
        .await
        .unwrap_err()
        .is_conflict());

    // Same subscriptions on another target, or another filter on the same target: fine.
    let second = create(
        b,
        "https://example.com/u2",
        filtered(vec![a.clone(), c.clone()]),
    )
    .await
    .unwrap();
    create(b, "https://example.com/u1", filtered(vec![a.clone()]))
        .await
        .unwrap();
    create(
        b,
        "https://example.com/u1",
        vec![Subscription::new(EventType::RecordUpdated)],
    )
    .await
    .unwrap();

    // Moving the second webhook onto the first one's target re-checks its subscriptions.
    let id = second.webhook.webhook_id();
    b.expect_error(Route::Update(id), 409).await;
    let err = client
        .update_webhook(UpdateWebhook::new(id).target_url("https://example.com/u1"))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");

    // A webhook never conflicts with itself.
    b.expect_update(&first.webhook).await;
    let same = client
        .update_webhook(
            UpdateWebhook::new(first.webhook.webhook_id())
                .subscriptions(first.webhook.subscriptions.clone()),
        )
        .await
        .unwrap();
    assert_eq!(same, first.webhook);
}

pub async fn retries_on_injected_faults<B: Backend>(b: &B) {
    let client = b.client();
    let created = create(b, "https://example.com/retry", subscriptions())
        .await
        .unwrap()
        .webhook;
    let id = created.webhook_id();

    // Two 503s then success: a GET is retried.
    let before = b.request_count().await;
    b.fail_next(Route::Get(id), 503, 2).await;
    b.expect_get(&created).await;
    assert_eq!(client.send(&GetWebhook::new(id)).await.unwrap(), created);
    assert_eq!(b.request_count().await - before, 3);

    // A 503 on create is not retried: the webhook might exist.
    let before = b.request_count().await;
    b.fail_next(Route::Create, 503, 1).await;
    let err = client
        .create_webhook("https://example.com/retry-2", subscriptions())
        .await
        .unwrap_err();
    assert!(err.is_server_error());
    assert_eq!(b.request_count().await - before, 1);

    // A 429 on create is retried after Retry-After, and the create then succeeds.
    let before = b.request_count().await;
    b.fail_next(Route::Create, 429, 1).await;
    let created = create(b, "https://example.com/retry-3", subscriptions())
        .await
        .unwrap();
    assert_eq!(created.webhook.target_url, "https://example.com/retry-3");
    assert_eq!(b.request_count().await - before, 2);

    // A 502 on delete is retried; more failures than attempts gives the error.
    let before = b.request_count().await;
    b.fail_next(Route::Delete(id), 502, 10).await;
    let err = client.delete_webhook(id).await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 502);
    assert_eq!(
        b.request_count().await - before,
        4,
        "the default policy makes 4 attempts"
    );
}

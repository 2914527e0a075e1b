//! A DELETE whose first attempt deleted the webhook but whose answer was
//! lost (a 5xx after the work, a connection dropped after the work) is
//! retried, gets 404, and reports success: the caller asked for the
//! webhook to be gone and it is. A 404 on the first attempt stays an error.
//! Played by the fake's after-handling faults, in-process and over HTTP.

use attio_webhooks::{Client, EventType, Subscription, Transport, WebhookId};
use attio_webhooks_testkit::{FakeAttio, Fault, FaultRule};

async fn check<T: Transport + 'static>(fake: &FakeAttio, client: Client<T>) {
    for fault in [
        Fault::StatusAfterHandling { status: 503 },
        Fault::DropConnectionAfterHandling,
        Fault::status(503),
    ] {
        let created = client
            .create_webhook(
                "https://example.com/gone",
                vec![Subscription::new(EventType::NoteCreated)],
            )
            .await
            .unwrap();
        let id = created.webhook.webhook_id();
        fake.clear_requests();
        fake.inject(FaultRule::new(fault.clone()).method("DELETE"));
        client
            .delete_webhook(id)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert!(fake.webhooks().is_empty(), "{fault:?}: deleted");
        let deletes = fake
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count();
        assert_eq!(deletes, 2, "{fault:?}: one retry");
    }
    // Nothing ambiguous: the first answer is 404, and that is the answer.
    let err = client
        .delete_webhook(WebhookId::from_u128(404))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_succeeds_on_its_retry_in_process() {
    let fake = FakeAttio::new();
    check(&fake, fake.client()).await;
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_succeeds_on_its_retry_over_http() {
    let server = FakeAttio::start().await;
    check(server.fake(), server.client()).await;
}

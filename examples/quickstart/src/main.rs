//! The whole webhook lifecycle through `Client<HyperTransport>`, against the
//! testkit's fake Attio on loopback: no account, no network.
//!
//! ```sh
//! cargo run -p quickstart
//! ```
//!
//! To run the same against Attio itself, set `ATTIO_API_KEY` (a token with
//! the `webhook:read-write` scope) and `ATTIO_BASE_URL=https://api.attio.com`.

use attio_webhooks::operations::{ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    transport::HyperTransport, Client, Condition, EventType, Filter, Subscription,
};
use attio_webhooks_testkit::{FakeAttio, FakeServer};
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A fake Attio on 127.0.0.1 (or the real one, if asked).
    let (_server, base_url, token): (Option<FakeServer>, String, String) = match (
        std::env::var("ATTIO_BASE_URL"),
        std::env::var("ATTIO_API_KEY"),
    ) {
        (Ok(url), Ok(key)) => (None, url, key),
        _ => {
            let server = FakeAttio::start().await;
            let (url, token) = (server.base_url().to_owned(), server.token().to_owned());
            println!("1. started a fake Attio at {url}");
            (Some(server), url, token)
        }
    };

    // 2. A client over the default hyper transport.
    let client = Client::builder(token)
        .base_url(base_url)
        .build(HyperTransport::new()?)?;
    println!("2. client ready: {client:?}");

    // 3. Create a webhook: new people records, and every new note.
    let people = Filter::And(vec![Condition::equals("id.object_id", "people")]);
    let created = client
        .create_webhook(
            "https://example.com/attio-webhooks",
            vec![
                Subscription::new(EventType::RecordCreated).with_filter(people),
                Subscription::new(EventType::NoteCreated),
            ],
        )
        .await?;
    let id = created.webhook.webhook_id();
    println!(
        "3. created webhook {id} ({}, created {}); its {}-character signing secret is shown only now: {:?}",
        created.webhook.status,
        created.webhook.created_at,
        created.secret.expose().len(),
        created.secret,
    );

    // 4. Creating the same (target, event type, filter) again is a conflict.
    let again = client
        .create_webhook(
            "https://example.com/attio-webhooks",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .await;
    match again {
        Err(e) if e.is_conflict() => println!("4. a duplicate create was refused: {e}"),
        other => return Err(format!("expected a 409, got {other:?}").into()),
    }

    // 5. Read it back.
    let fetched = client.get_webhook(id).await?;
    println!(
        "5. fetched {} with {} subscriptions",
        fetched.target_url,
        fetched.subscriptions.len()
    );

    // 6. Point it somewhere else; only the target is sent.
    let updated = client
        .update_webhook(UpdateWebhook::new(id).target_url("https://example.com/attio-webhooks/v2"))
        .await?;
    println!("6. updated the target to {}", updated.target_url);

    // 7. List: one page, then every page as a stream.
    let page = client.list_webhooks(ListWebhooks::new().limit(10)).await?;
    let all: Vec<_> = client.list_all(50).try_collect().await?;
    println!(
        "7. listed {} webhook(s) on the first page, {} in all",
        page.len(),
        all.len()
    );

    // 8. Delete it; a second get is a 404.
    client.delete_webhook(id).await?;
    match client.get_webhook(id).await {
        Err(e) if e.is_not_found() => println!("8. deleted; get now says: {e}"),
        other => return Err(format!("expected a 404, got {other:?}").into()),
    }
    println!("done");
    Ok(())
}

//! A fixed number of create/get/update/delete cycles through the client
//! against the in-process fake, for counting instructions with callgrind
//! (a count that, unlike time, does not depend on what else the machine
//! is doing). The difference between two counts is the cost of the cycles
//! between them, start-up excluded:
//!
//! ```sh
//! cargo bench --bench cycle_instructions --no-run
//! B=$(ls -t target/release/deps/cycle_instructions-* | grep -v '\.d$' | head -1)
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B 1000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B 3000
//! # instructions per cycle = (count at 3000 - count at 1000) / 2000
//! ```

use attio_webhooks::operations::UpdateWebhook;
use attio_webhooks::{EventType, Subscription};
use attio_webhooks_testkit::FakeAttio;

fn main() {
    // `cargo bench` passes `--bench`; only a number given by hand counts.
    let cycles: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fake = FakeAttio::new();
    let client = fake.client();
    let subscriptions = vec![
        Subscription::new(EventType::RecordCreated),
        Subscription::new(EventType::NoteCreated),
    ];
    runtime.block_on(async {
        for _ in 0..cycles {
            let created = client
                .create_webhook("https://a.example/h", subscriptions.clone())
                .await
                .unwrap();
            let id = created.webhook.webhook_id();
            client.get_webhook(id).await.unwrap();
            client
                .update_webhook(UpdateWebhook::new(id).target_url("https://b.example/h"))
                .await
                .unwrap();
            client.delete_webhook(id).await.unwrap();
        }
    });
    println!("ran {cycles} create/get/update/delete cycles");
}

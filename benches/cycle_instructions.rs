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

mod common;

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
    let client = FakeAttio::new().client();
    let subscriptions = [
        Subscription::new(EventType::RecordCreated),
        Subscription::new(EventType::NoteCreated),
    ];
    runtime.block_on(async {
        for _ in 0..cycles {
            common::lifecycle(&client, &subscriptions).await;
        }
    });
    println!("ran {cycles} create/get/update/delete cycles");
}
